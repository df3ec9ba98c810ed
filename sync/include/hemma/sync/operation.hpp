#pragma once
// Operations: building their ids and checking their shape. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hemma/sync.pb.h"

namespace hemma::sync {

// The one place operation ids are formatted. An id is stable across retries,
// which is what makes push idempotent, and never repeats:
//   "<deviceId>:<epoch>:<counter>" for a tablet: `epoch` names one
//     installation of the device id (the registration number the server
//     issues at every POST /api/v1/devices, or an id the tablet drew itself,
//     see mobile-core's Device), `counter` counts its operations from 1;
//   "<deviceId>:<counter>" when `epoch` is empty: the server's own
//     operations, and tablets before protocol version 4.
// Device ids never contain ':' (both ends refuse them) and epochs are
// [0-9a-z]+, so the two forms cannot collide.
std::string makeOperationId(std::string_view deviceId, std::string_view epoch, std::uint64_t counter);
std::string makeOperationId(std::string_view deviceId, std::uint64_t counter);

// An epoch as makeOperationId takes it: 1 to 40 characters of [0-9a-z].
bool isValidEpoch(std::string_view epoch);

// Checks what a proposed change of the care plan proposes, so that signing
// it writes a meaningful value: a field of the plan (care_plan,
// care_plan_goal, care_plan_activity, medication) that is not a set; for
// care_plan, the patient's own plan (entity_id == patient_id); a non-empty
// value, "true" or "false" for care_plan.spo2_scale_2. Returns the problem
// as "<prefix><field>: reason" (prefix e.g. "append.proposed_change."), or
// nullopt. validateOperation() applies it to every proposed_change entry;
// the server applies it again before signing.
std::optional<std::string> checkProposedChange(const std::string& prefix, const domain::ProposedChange& change);

// Checks everything about `op` that does not need stored state. Returns the
// first problem as "field: reason" (e.g. "append.note.text: empty"), or
// nullopt when the operation is well formed.
std::optional<std::string> validateOperation(const Operation& op);

}  // namespace hemma::sync
