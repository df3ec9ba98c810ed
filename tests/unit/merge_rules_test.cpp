#include "hemma/sync/merge_rules.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>

#include "hemma/sync/field_history.hpp"

using namespace hemma::sync;

namespace {

Operation writeOp(std::string entityType, std::string field, std::string resolves = "") {
  Operation op;
  op.set_id("dev-a:1");
  op.set_entity_type(std::move(entityType));
  op.mutable_write()->set_field(std::move(field));
  op.mutable_write()->set_value("x");
  op.mutable_write()->set_resolves_conflict_id(std::move(resolves));
  return op;
}

Operation setAddOp(std::string entityType, std::string set) {
  Operation op;
  op.set_entity_type(std::move(entityType));
  op.mutable_set_add()->set_set(std::move(set));
  op.mutable_set_add()->set_element("nurse-1");
  return op;
}

Operation noteOp(std::string entityType) {
  Operation op;
  op.set_entity_type(std::move(entityType));
  op.mutable_append()->mutable_note()->set_text("ok");
  return op;
}

WriteVersion version(std::string id, Hlc hlc, Hlc base) { return WriteVersion{hlc, std::move(id), base, "v", "a", ""}; }

}  // namespace

TEST_CASE("merge rules: the table gives each declared field its policy") {
  CHECK(policyFor("patient", "address") == MergePolicy::LastWriterWins);
  CHECK(policyFor("patient", "access_notes") == MergePolicy::LastWriterWins);
  CHECK(policyFor("visit", "status") == MergePolicy::LastWriterWins);
  CHECK(policyFor("medication", "dose") == MergePolicy::ReviewOnConflict);
  CHECK(policyFor("care_plan_goal", "text") == MergePolicy::ReviewOnConflict);
  CHECK(policyFor("care_plan_activity", "frequency") == MergePolicy::ReviewOnConflict);
  CHECK(policyFor("care_team", "members") == MergePolicy::AddWinsSet);
  CHECK(policyFor("visit", "completed_tasks") == MergePolicy::AddWinsSet);
  CHECK(policyFor("visit_note", "") == MergePolicy::AppendOnly);
  CHECK(policyFor("medication_administration", "") == MergePolicy::AppendOnly);
  CHECK_FALSE(policyFor("patient", "shoe_size"));
  CHECK_FALSE(policyFor("spaceship", "address"));
}

TEST_CASE("merge rules: the table names every (entity type, field) pair once") {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const MergeRule& rule : mergeRules()) CHECK(seen.emplace(rule.entityType, rule.field).second);
  CHECK(seen.size() >= 20);
}

TEST_CASE("merge rules: checkPolicy accepts changes that fit their field's policy") {
  CHECK_FALSE(checkPolicy(writeOp("patient", "address")));
  CHECK_FALSE(checkPolicy(writeOp("medication", "dose", "conflict:dev-b:4")));
  CHECK_FALSE(checkPolicy(setAddOp("care_team", "members")));
  CHECK_FALSE(checkPolicy(noteOp("visit_note")));
}

TEST_CASE("merge rules: checkPolicy names the field and the reason when it refuses") {
  CHECK(checkPolicy(writeOp("patient", "shoe_size")) == "write.field: no merge rule for patient.shoe_size");
  CHECK(checkPolicy(writeOp("visit_note", "text")) == "write: visit_note is append-only; send an append");
  CHECK(checkPolicy(writeOp("care_team", "members")) ==
        "write.field: care_team.members is a set; send set_add or set_remove");
  CHECK(checkPolicy(writeOp("patient", "address", "conflict:dev-b:4")) ==
        "write.resolves_conflict_id: patient.address is last-writer-wins and has no conflicts");
  CHECK(checkPolicy(writeOp("medication", "dose", "dev-b:4")) ==
        "write.resolves_conflict_id: not a conflict id (\"conflict:<operation id>\")");
  CHECK(checkPolicy(setAddOp("patient", "address")) == "set_add.set: patient.address is not a set");
  CHECK(checkPolicy(setAddOp("care_team", "leaders")) == "set_add.set: no merge rule for care_team.leaders");
  CHECK(checkPolicy(noteOp("patient")) == "append: patient is not an append-only entity type");
  CHECK(checkPolicy(noteOp("observation")) ==
        "append.observation: missing; entity_type observation carries append.observation");
  CHECK(checkPolicy(Operation{}) == "change: not set (append, write, set_add or set_remove)");
}

TEST_CASE("merge rules: classify tells seen overwrites from concurrent ones") {
  const auto a = version("dev-a:1", 10, 0);
  const auto seen = version("dev-b:1", 20, 10);
  const auto unseen = version("dev-b:1", 20, 5);
  CHECK(classify(a, seen) == Ordering::Before);
  CHECK(classify(seen, a) == Ordering::After);
  CHECK(classify(a, unseen) == Ordering::Concurrent);
  CHECK(classify(unseen, a) == Ordering::Concurrent);
  // Equal clocks: the operation id orders them, and neither saw the other.
  CHECK(classify(version("dev-a:1", 10, 0), version("dev-b:1", 10, 0)) == Ordering::Concurrent);
}

TEST_CASE("merge rules: only review-on-conflict raises records, and conflict ids derive from the loser") {
  CHECK(raisesConflictRecords(MergePolicy::ReviewOnConflict));
  CHECK_FALSE(raisesConflictRecords(MergePolicy::LastWriterWins));
  CHECK(conflictIdFor("dev-a:7") == "conflict:dev-a:7");
  CHECK(policyName(MergePolicy::AddWinsSet) == "add-wins set");
}
