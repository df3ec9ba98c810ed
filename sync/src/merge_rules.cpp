#include "hemma/sync/merge_rules.hpp"

#include <array>

namespace hemma::sync {

namespace {

using enum MergePolicy;

// The one place that decides how each field merges. sync/docs/merge-rules.md
// explains the policies; add a row here (and there) for every new field.
constexpr std::array kMergeRules{
    // Ordinary facts where the latest edit is right.
    MergeRule{"patient", "name", LastWriterWins},
    MergeRule{"patient", "address", LastWriterWins},
    MergeRule{"patient", "access_notes", LastWriterWins},
    MergeRule{"patient", "preferred_language", LastWriterWins},
    MergeRule{"visit", "status", LastWriterWins},
    MergeRule{"visit", "scheduled_start", LastWriterWins},
    MergeRule{"visit", "started_at", LastWriterWins},
    MergeRule{"visit", "ended_at", LastWriterWins},
    MergeRule{"visit", "nurse_id", LastWriterWins},
    MergeRule{"visit", "activity_id", LastWriterWins},
    // Clinical values: never silently overwritten.
    MergeRule{"care_plan_goal", "text", ReviewOnConflict},
    MergeRule{"care_plan_activity", "text", ReviewOnConflict},
    MergeRule{"care_plan_activity", "frequency", ReviewOnConflict},
    MergeRule{"care_plan_activity", "responsible_organisation_id", ReviewOnConflict},
    MergeRule{"care_plan_activity", "responsible_role", ReviewOnConflict},
    MergeRule{"care_plan", "spo2_scale_2", ReviewOnConflict},
    MergeRule{"medication", "name", ReviewOnConflict},
    MergeRule{"medication", "dose", ReviewOnConflict},
    MergeRule{"medication", "frequency", ReviewOnConflict},
    // Memberships.
    MergeRule{"care_team", "members", AddWinsSet},
    MergeRule{"visit", "completed_tasks", AddWinsSet},
    // Entries that are only ever added.
    MergeRule{"visit_note", "", AppendOnly},
    MergeRule{"observation", "", AppendOnly},
    MergeRule{"medication_administration", "", AppendOnly},
    MergeRule{"vital_signs", "", AppendOnly},
    MergeRule{"task_outcome", "", AppendOnly},
    MergeRule{"message", "", AppendOnly},
    MergeRule{"proposed_change", "", AppendOnly},
};

// Which entry each append-only entity type carries.
struct AppendKind {
  std::string_view entityType;
  AppendEntry::EntryCase entry;
  std::string_view entryName;
};
constexpr std::array kAppendKinds{
    AppendKind{"visit_note", AppendEntry::kNote, "note"},
    AppendKind{"observation", AppendEntry::kObservation, "observation"},
    AppendKind{"vital_signs", AppendEntry::kVitalSigns, "vital_signs"},
    AppendKind{"task_outcome", AppendEntry::kTaskOutcome, "task_outcome"},
    AppendKind{"medication_administration", AppendEntry::kMedicationAdministration, "medication_administration"},
    AppendKind{"message", AppendEntry::kMessage, "message"},
    AppendKind{"proposed_change", AppendEntry::kProposedChange, "proposed_change"},
};

std::string qualified(std::string_view entityType, std::string_view field) {
  std::string name(entityType);
  name += '.';
  name += field;
  return name;
}

std::optional<std::string> checkAppend(const Operation& op) {
  const std::string& type = op.entity_type();
  if (policyFor(type, "") != AppendOnly) return "append: " + type + " is not an append-only entity type";
  for (const AppendKind& kind : kAppendKinds) {
    if (kind.entityType != type) continue;
    if (op.append().entry_case() == kind.entry) return std::nullopt;
    const std::string entry = "append." + std::string(kind.entryName);
    return entry + ": missing; entity_type " + type + " carries " + entry;
  }
  return "append: " + type + " has no entry kind";
}

std::optional<std::string> checkWrite(const Operation& op) {
  const std::string& type = op.entity_type();
  const FieldWrite& write = op.write();
  if (policyFor(type, "") == AppendOnly) return "write: " + type + " is append-only; send an append";
  const auto policy = policyFor(type, write.field());
  if (!policy) return "write.field: no merge rule for " + qualified(type, write.field());
  if (*policy == AddWinsSet) {
    return "write.field: " + qualified(type, write.field()) + " is a set; send set_add or set_remove";
  }
  if (!write.resolves_conflict_id().empty()) {
    if (!raisesConflictRecords(*policy)) {
      return "write.resolves_conflict_id: " + qualified(type, write.field()) + " is " +
             std::string(policyName(*policy)) + " and has no conflicts";
    }
    const std::string_view id = write.resolves_conflict_id();
    if (id.size() <= kConflictIdPrefix.size() || !id.starts_with(kConflictIdPrefix)) {
      return std::string("write.resolves_conflict_id: not a conflict id (\"conflict:<operation id>\")");
    }
  }
  return std::nullopt;
}

std::optional<std::string> checkSet(std::string_view kind, const Operation& op, const std::string& set) {
  const auto policy = policyFor(op.entity_type(), set);
  if (!policy) return std::string(kind) + ".set: no merge rule for " + qualified(op.entity_type(), set);
  if (*policy != AddWinsSet) return std::string(kind) + ".set: " + qualified(op.entity_type(), set) + " is not a set";
  return std::nullopt;
}

}  // namespace

std::string_view policyName(MergePolicy policy) {
  switch (policy) {
    case AppendOnly:
      return "append-only";
    case LastWriterWins:
      return "last-writer-wins";
    case AddWinsSet:
      return "add-wins set";
    case ReviewOnConflict:
      return "review-on-conflict";
  }
  return "unknown";
}

std::span<const MergeRule> mergeRules() { return kMergeRules; }

std::optional<MergePolicy> policyFor(std::string_view entityType, std::string_view field) {
  for (const MergeRule& rule : kMergeRules) {
    if (rule.entityType == entityType && rule.field == field) return rule.policy;
  }
  return std::nullopt;
}

std::string conflictIdFor(std::string_view loserOperationId) {
  std::string id(kConflictIdPrefix);
  id += loserOperationId;
  return id;
}

std::optional<std::string> checkPolicy(const Operation& op) {
  switch (op.change_case()) {
    case Operation::kAppend:
      return checkAppend(op);
    case Operation::kWrite:
      return checkWrite(op);
    case Operation::kSetAdd:
      return checkSet("set_add", op, op.set_add().set());
    case Operation::kSetRemove:
      return checkSet("set_remove", op, op.set_remove().set());
    case Operation::CHANGE_NOT_SET:
      return std::string("change: not set (append, write, set_add or set_remove)");
  }
  return std::string("change: unknown kind");
}

}  // namespace hemma::sync
