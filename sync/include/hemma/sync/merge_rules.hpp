#pragma once
// The merge rules: which policy merges each field, declared in one table
// (kMergeRules in merge_rules.cpp) instead of being decided at call sites.
//
// Pure functions over constant data: thread-safe, no allocation except for
// the error strings they return.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hemma/sync.pb.h"

namespace hemma::sync {

enum class MergePolicy {
  // Entries are only ever added (notes, observations, administrations); a
  // correction is a new entry that amends an earlier one. Never conflicts.
  AppendOnly,
  // The greatest write by (hlc, operation id) is the value; overwritten
  // values stay in the history but raise nothing.
  LastWriterWins,
  // Observed-remove set: an add concurrent with a remove wins.
  AddWinsSet,
  // Like LastWriterWins for the value, and a write that overwrites a value
  // its author had not seen raises a conflict record for a clinician.
  ReviewOnConflict,
};

std::string_view policyName(MergePolicy policy);

// One row of the table. Append-only entity types have an empty `field`: the
// whole entity is one entry. For sets, `field` is the set's name.
struct MergeRule {
  std::string_view entityType;
  std::string_view field;
  MergePolicy policy;
};

// The whole table, in declaration order.
std::span<const MergeRule> mergeRules();

// The policy for `entityType`.`field`, or nullopt when no rule names the pair
// (the server rejects such operations). Append-only types answer for the
// empty field: policyFor("visit_note", "") == AppendOnly.
std::optional<MergePolicy> policyFor(std::string_view entityType, std::string_view field);

// Whether the policy turns a concurrent overwrite into a conflict record
// (the "resolve" half of detect-then-resolve; detection is classify() in
// field_history.hpp).
constexpr bool raisesConflictRecords(MergePolicy policy) { return policy == MergePolicy::ReviewOnConflict; }

// "conflict:<loser operation id>": conflict ids are derived from the write
// that was overwritten unseen, so every replica names a conflict alike.
constexpr std::string_view kConflictIdPrefix = "conflict:";
std::string conflictIdFor(std::string_view loserOperationId);

// Checks that a rule covers what `op` changes and that the kind of change
// fits the policy (a write to an append-only type, a set_add to a register,
// a resolution on a field that cannot conflict are all refused). Returns the
// problem as "field: reason", e.g. "write.field: no merge rule for
// patient.shoe_size", or nullopt. Complements validateOperation(), which
// checks the operation's shape.
std::optional<std::string> checkPolicy(const Operation& op);

}  // namespace hemma::sync
