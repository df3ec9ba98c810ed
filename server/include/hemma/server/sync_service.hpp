#pragma once
// The server's side of the sync protocol: validates pushed operations one by
// one, stores the valid ones durably, and serves pulls in pages. No HTTP here:
// the handlers parse and call, tests call it directly.
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hemma/server/operation_log.hpp"
#include "hemma/sync.pb.h"
#include "hemma/sync/hlc.hpp"

namespace hemma::server {

// The request as a whole is unacceptable (wrong protocol version, too many
// operations). Nothing was stored. The message names the field.
class BadRequest : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The named record does not exist.
class NotFound : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class SyncService {
 public:
  // `serverDeviceId` names the server when it writes operations itself
  // (conflict resolutions made on the web); unique per server process.
  SyncService(OperationLog& log, std::string serverDeviceId);

  // Why a push filter refuses an operation: FORBIDDEN unless it names
  // another code (INVALID for an entry the stored state contradicts).
  struct Refusal {
    // A plain reason is FORBIDDEN, e.g. "patient_id: no care relationship
    // with patient-7".
    Refusal(std::string why) : reason(std::move(why)) {}  // NOLINT(google-explicit-constructor)
    Refusal(sync::OperationRejection::Code kind, std::string why) : code(kind), reason(std::move(why)) {}
    sync::OperationRejection::Code code = sync::OperationRejection::FORBIDDEN;
    std::string reason;
  };
  // Decides whether the caller may push `op`: nullopt, or why not. Called
  // last, in the request's order, only for operations that passed every
  // other check (so a filter may remember what it let through).
  using PushFilter = std::function<std::optional<Refusal>(const sync::Operation& op)>;
  // Decides whether the caller may receive `op`.
  using PullFilter = std::function<bool(const sync::Operation& op)>;

  // Every operation in the request is acknowledged (stored, or stored
  // before) or rejected with its reason. Acknowledged means durable.
  // A write's base (base_hlc, base_operation_id; a proposal's likewise) must
  // be a write of the same field that the server holds or the request
  // carries, at that clock: a base the server never stored is INVALID.
  // Operations the filter refuses are rejected with the filter's code. With `audit`,
  // each newly stored operation's audit entry is stored in the same
  // transaction as the operation (OperationLog::append).
  sync::PushResponse push(const sync::PushRequest& request, std::int64_t nowMs, const PushFilter& allowed = {},
                          const OperationLog::AuditFor& audit = {});
  // Operations the filter refuses are skipped; the cursor still moves past
  // them, so paging stays consistent.
  sync::PullResponse pull(const sync::PullRequest& request, std::int64_t nowMs, const PullFilter& visible = {});

  // A write made on the server (the web UI, a signed proposal): stamped by
  // the server's clock after everything it has stored, with the field's
  // current version as its base, and stored like any pushed operation.
  // Throws BadRequest naming the problem when the merge rules refuse it.
  sync::Operation writeField(const std::string& authorId, const std::string& patientId, const std::string& entityType,
                             const std::string& entityId, const std::string& field, const std::string& value,
                             std::int64_t nowMs, const std::string& resolvesConflictId = {});

  struct FieldChange {
    std::string entityType;
    std::string entityId;
    std::string field;
    std::string value;
    // The version the author saw (its clock and operation id); default: the
    // field's current version.
    std::optional<std::uint64_t> baseHlc = std::nullopt;
    std::string baseOperationId = {};
  };
  // Several writes by one author about one patient, all or none: every
  // change is checked before any is stored, and they are stored in one
  // transaction. Throws BadRequest naming the first bad change.
  std::vector<sync::Operation> writeFields(const std::string& authorId, const std::string& patientId,
                                           const std::vector<FieldChange>& changes, std::int64_t nowMs);

  // An append-only entry written on the server (a message sent on the web,
  // a proposal made there, demo history): `entry` names the author, patient
  // and id itself; stamped by the server's clock and stored like a pushed
  // one, with `recordedAtMs` as the author's time. Throws BadRequest naming
  // the problem when the entry is not valid.
  sync::Operation appendEntry(const std::string& entityType, const std::string& entryId, const std::string& authorId,
                              const std::string& patientId, sync::AppendEntry entry, std::int64_t nowMs,
                              std::int64_t recordedAtMs);

  sync::ConflictList conflicts(const ConflictQuery& query);
  // Records the clinician's confirmed value as an operation that resolves
  // the conflict and syncs to every device like any other. Throws NotFound
  // for an unknown id and BadRequest for an empty author.
  sync::Conflict resolveConflict(const std::string& conflictId, const sync::ResolveConflictRequest& request,
                                 std::int64_t nowMs);

 private:
  // A new operation of the server's own device: its next id and clock value,
  // the author's and patient's ids, and the entity it changes.
  sync::Operation newOperation(const std::string& authorId, const std::string& patientId, const std::string& entityType,
                               const std::string& entityId, std::int64_t nowMs, std::int64_t recordedAtMs);
  // Why `op`'s base is not a write of its field that the server holds (or
  // `request` carries), or nullopt.
  std::optional<std::string> baseProblem(const sync::Operation& op, const sync::PushRequest& request);
  std::vector<sync::Operation> writeOperations(const std::string& authorId, const std::string& patientId,
                                               const std::vector<FieldChange>& changes, std::int64_t nowMs,
                                               const std::string& resolvesConflictId);

  OperationLog& m_log;
  std::string m_serverDeviceId;
  std::mutex m_clockMutex;
  sync::HybridClock m_clock;
  std::uint64_t m_counter = 0;
};

}  // namespace hemma::server
