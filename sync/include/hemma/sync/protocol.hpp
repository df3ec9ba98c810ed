#pragma once
// The version and limits of the sync protocol (schemas/hemma/sync.proto).
//
// Changelog (keep in step with sync/docs/protocol.md):
//   1  Push a batch of operations, acknowledged or rejected one by one;
//      pull operations after a server sequence number, in pages.
//   2  Scope: the pull names the patients the device holds; the server
//      answers with patients to purge and sends the whole history of
//      patients new to the device's scope (backfill). Version 1 is refused.
//   3  The nurse's visit: append entries vital_signs, task_outcome,
//      medication_administration, message and proposed_change. Version 2
//      is refused.
//   4  Tablet operation ids carry an epoch (never repeat across
//      installations). A write's base names the write its author saw by id
//      (FieldWrite.base_operation_id, ProposedChange.base_operation_id), and
//      the server refuses a base it does not hold for that field; entries
//      are checked against the visit, plan and care team (entry_rules.hpp).
//      Version 3 is refused.

#include <cstddef>
#include <cstdint>

namespace hemma::sync {

constexpr std::uint32_t kProtocolVersion = 4;

// Limits, enforced by the server and respected by the device's client.
constexpr std::size_t kMaxPushOperations = 2000;
constexpr std::uint32_t kDefaultPullPage = 2000;
constexpr std::uint32_t kMaxPullPage = 5000;
constexpr std::size_t kMaxRequestBytes = 16 * 1024 * 1024;
constexpr std::size_t kMaxIdBytes = 128;
constexpr std::size_t kMaxTextBytes = 64 * 1024;
// One operation's encoded size: a note at its longest text fits with room
// to spare; a body padded past it (e.g. with unknown fields) is refused.
constexpr std::size_t kMaxOperationBytes = 256 * 1024;
// Patients a pull may name as held.
constexpr std::size_t kMaxHeldPatients = 20000;

// An operation stamped further than this ahead of the server's clock is
// rejected with CLOCK_SKEW; the device corrects its clock and stamps it again.
constexpr std::int64_t kMaxClockSkewMs = 5 * 60 * 1000;

}  // namespace hemma::sync
