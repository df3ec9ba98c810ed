#pragma once
// Operations: building their ids and checking their shape. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hemma/sync.pb.h"

namespace hemma::sync {

// "<deviceId>:<counter>": unique as long as device ids are, and stable across
// retries, which is what makes push idempotent.
std::string makeOperationId(std::string_view deviceId, std::uint64_t counter);

// Checks everything about `op` that does not need stored state. Returns the
// first problem as "field: reason" (e.g. "append.note.text: empty"), or
// nullopt when the operation is well formed.
std::optional<std::string> validateOperation(const Operation& op);

}  // namespace hemma::sync
