// The server's table of what a tablet's change of each field needs
// (fieldAccessRules() in server/src/access_policy.cpp) against the merge
// rules: every field that merges has a row, so a new field cannot slip
// past the push filter with only the care relationship.

#include <catch2/catch.hpp>

#include "hemma/server/access_policy.hpp"
#include "hemma/sync/merge_rules.hpp"

using hemma::server::Action;
using hemma::server::actionForField;

TEST_CASE("every merge rule has an access rule, and every access rule a merge rule") {
  for (const auto& rule : hemma::sync::mergeRules()) {
    INFO(rule.entityType << "." << rule.field);
    CHECK(actionForField(rule.entityType, rule.field));
  }
  for (const auto& access : hemma::server::fieldAccessRules()) {
    INFO(access.entityType << "." << access.field);
    CHECK(hemma::sync::policyFor(access.entityType, access.field));
  }
}

TEST_CASE(
    "the plan's medications need the plan editor, the schedule the scheduler, the visit itself the care relationship") {
  for (const char* field : {"name", "dose", "frequency"})
    CHECK(actionForField("medication", field) == Action::EditPlan);
  CHECK(actionForField("care_plan", "spo2_scale_2") == Action::EditPlan);
  CHECK(actionForField("care_plan_activity", "text") == Action::EditPlan);
  for (const char* field : {"nurse_id", "scheduled_start", "activity_id"}) {
    CHECK(actionForField("visit", field) == Action::ScheduleVisit);
  }
  for (const char* field : {"status", "started_at", "ended_at", "completed_tasks"}) {
    CHECK(actionForField("visit", field) == Action::SyncPatient);
  }
  CHECK(actionForField("patient", "access_notes") == Action::SyncPatient);
  CHECK(actionForField("vital_signs", "") == Action::SyncPatient);
  CHECK(actionForField("proposed_change", "") == Action::ProposeChange);
  CHECK(actionForField("care_team", "members") == Action::ManageCareTeam);
  // Deny by default.
  CHECK_FALSE(actionForField("patient", "shoe_size"));
  CHECK_FALSE(actionForField("visit", ""));
}
