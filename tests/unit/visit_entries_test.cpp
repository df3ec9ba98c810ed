// The append entries of the nurse's visit (protocol 3): what the sync library
// accepts and what it refuses, naming the field.

#include <catch2/catch.hpp>
#include <string>

#include "hemma/sync/merge_rules.hpp"
#include "hemma/sync/operation.hpp"

using namespace hemma;
using sync::checkPolicy;
using sync::Operation;
using sync::validateOperation;

namespace {

constexpr const char* kTime = "2026-11-22T09:15:00Z";

Operation base(const std::string& entityType) {
  Operation op;
  op.set_id("tab-1:7");
  op.set_device_id("tab-1");
  op.set_author_id("nurse-karin");
  op.set_hlc(1000);
  op.set_patient_id("patient-01");
  op.set_entity_type(entityType);
  op.set_entity_id("entry-1");
  op.set_recorded_at(kTime);
  return op;
}

Operation vitalSigns() {
  Operation op = base("vital_signs");
  auto& v = *op.mutable_append()->mutable_vital_signs();
  v.set_id("entry-1");
  v.set_patient_id("patient-01");
  v.set_visit_id("patient-01-visit-1");
  v.set_author_id("nurse-karin");
  v.set_observed_at(kTime);
  v.set_respiratory_rate(22);
  v.set_spo2(95);
  v.set_on_oxygen(false);
  v.set_systolic_bp(105);
  v.set_pulse(95);
  v.set_consciousness(domain::ALERT);
  v.set_temperature_c(38.4);
  v.set_news2_score(6);
  v.set_news2_risk(domain::NEWS2_MEDIUM);
  return op;
}

Operation taskOutcome(domain::TaskOutcome::Outcome outcome, const std::string& reason) {
  Operation op = base("task_outcome");
  auto& t = *op.mutable_append()->mutable_task_outcome();
  t.set_id("entry-1");
  t.set_patient_id("patient-01");
  t.set_visit_id("patient-01-visit-1");
  t.set_activity_id("patient-01-act-1");
  t.set_author_id("nurse-karin");
  t.set_outcome(outcome);
  t.set_reason(reason);
  t.set_recorded_at(kTime);
  return op;
}

Operation medication(bool given, const std::string& reason) {
  Operation op = base("medication_administration");
  auto& m = *op.mutable_append()->mutable_medication_administration();
  m.set_id("entry-1");
  m.set_patient_id("patient-01");
  m.set_visit_id("patient-01-visit-1");
  m.set_medication_id("patient-01-med-1");
  m.set_author_id("nurse-karin");
  m.set_given(given);
  m.set_dose("500 mg");
  m.set_reason(reason);
  m.set_administered_at(kTime);
  return op;
}

Operation message(const std::string& text) {
  Operation op = base("message");
  auto& m = *op.mutable_append()->mutable_message();
  m.set_id("entry-1");
  m.set_patient_id("patient-01");
  m.set_author_id("nurse-karin");
  m.set_text(text);
  m.set_urgent(true);
  m.set_sent_at(kTime);
  return op;
}

Operation proposal(const std::string& entityType, const std::string& field,
                   const std::string& entityId = "patient-01-act-1", const std::string& value = "three times daily") {
  Operation op = base("proposed_change");
  auto& c = *op.mutable_append()->mutable_proposed_change();
  c.set_id("entry-1");
  c.set_patient_id("patient-01");
  c.set_author_id("nurse-karin");
  c.set_entity_type(entityType);
  c.set_entity_id(entityId);
  c.set_field(field);
  c.set_proposed_value(value);
  c.set_proposed_at(kTime);
  return op;
}

}  // namespace

TEST_CASE("visit entries: well-formed entries pass validation and the merge rules") {
  for (const Operation& op :
       {vitalSigns(), taskOutcome(domain::TaskOutcome::DONE, ""),
        taskOutcome(domain::TaskOutcome::REFUSED, "Patient declined"), medication(true, ""),
        medication(false, "Patient asleep"), message("NEWS2 6"), proposal("care_plan_activity", "frequency"),
        proposal("care_plan", "spo2_scale_2", "patient-01", "true"),
        proposal("care_plan", "spo2_scale_2", "patient-01", "false")}) {
    INFO(op.entity_type());
    CHECK(validateOperation(op) == std::nullopt);
    CHECK(checkPolicy(op) == std::nullopt);
  }
}

TEST_CASE("visit entries: a not-done or refused task and a medication not given need a reason") {
  CHECK(validateOperation(taskOutcome(domain::TaskOutcome::NOT_DONE, "")) ==
        "append.task_outcome.reason: required when NOT_DONE");
  CHECK(validateOperation(taskOutcome(domain::TaskOutcome::REFUSED, "")) ==
        "append.task_outcome.reason: required when REFUSED");
  CHECK(validateOperation(taskOutcome(domain::TaskOutcome::OUTCOME_UNSPECIFIED, "")) ==
        "append.task_outcome.outcome: not DONE, NOT_DONE or REFUSED");
  CHECK(validateOperation(medication(false, "")) == "append.medication_administration.reason: required when not given");
}

TEST_CASE("visit entries: vital signs outside their ranges or with an inconsistent score are refused") {
  Operation op = vitalSigns();
  op.mutable_append()->mutable_vital_signs()->set_spo2(101);
  CHECK(validateOperation(op) ==
        "append.vital_signs.spo2: 101 is outside 50-100 % (not a reading of a living patient)");

  op = vitalSigns();
  op.mutable_append()->mutable_vital_signs()->set_temperature_c(50.0);
  CHECK(validateOperation(op).value_or("").starts_with("append.vital_signs.temperature_c: 50"));

  // A missing input means "not evaluated", never a score of 0.
  op = vitalSigns();
  op.mutable_append()->mutable_vital_signs()->clear_pulse();
  op.mutable_append()->mutable_vital_signs()->clear_news2_score();
  CHECK(validateOperation(op) ==
        "append.vital_signs.news2_risk: must be NEWS2_NOT_EVALUATED exactly when news2_score is unset");
  op.mutable_append()->mutable_vital_signs()->set_news2_risk(domain::NEWS2_NOT_EVALUATED);
  CHECK(validateOperation(op) == std::nullopt);

  Operation empty = base("vital_signs");
  auto& v = *empty.mutable_append()->mutable_vital_signs();
  v.set_id("entry-1");
  v.set_patient_id("patient-01");
  v.set_author_id("nurse-karin");
  v.set_observed_at(kTime);
  CHECK(validateOperation(empty) == "append.vital_signs: no measurement");
}

TEST_CASE("visit entries: the entry must repeat its operation's id, patient and author") {
  Operation op = message("hello");
  op.mutable_append()->mutable_message()->set_author_id("nurse-olle");
  CHECK(validateOperation(op) == "append.message.author_id: differs from author_id");
  op = message("hello");
  op.mutable_append()->mutable_message()->set_patient_id("patient-02");
  CHECK(validateOperation(op) == "append.message.patient_id: differs from patient_id");
  op = message("");
  CHECK(validateOperation(op) == "append.message.text: empty");
  op = message("hello");
  op.mutable_append()->mutable_message()->set_sent_at("yesterday");
  CHECK(validateOperation(op) == "append.message.sent_at: not an RFC 3339 time");
}

TEST_CASE("visit entries: a proposal names a field of the care plan") {
  CHECK(validateOperation(proposal("patient", "address")) ==
        "append.proposed_change.field: patient.address is not a field of the care plan");
  CHECK(validateOperation(proposal("care_plan_activity", "colour")) ==
        "append.proposed_change.field: care_plan_activity.colour is not a field of the care plan");
}

TEST_CASE(
    "visit entries: a proposal must change something: a value, the patient's own plan, a scale of true or false") {
  CHECK(validateOperation(proposal("medication", "dose", "patient-01-med-1", "")) ==
        "append.proposed_change.proposed_value: empty");
  CHECK(validateOperation(proposal("care_plan", "spo2_scale_2", "patient-02", "true")) ==
        "append.proposed_change.entity_id: the care_plan of patient-01 is patient-01, not patient-02");
  CHECK(validateOperation(proposal("care_plan", "spo2_scale_2", "patient-01", "yes")) ==
        "append.proposed_change.proposed_value: care_plan.spo2_scale_2 is \"true\" or \"false\", not \"yes\"");
  CHECK(validateOperation(proposal("care_plan", "spo2_scale_2", "patient-01", "TRUE")).has_value());
  // The same check, without the entry's prefix, for the server's web calls.
  domain::ProposedChange change;
  change.set_patient_id("patient-01");
  change.set_entity_type("medication");
  change.set_entity_id("patient-01-med-1");
  change.set_field("dose");
  CHECK(sync::checkProposedChange("", change) == "proposed_value: empty");
  change.set_proposed_value("25 mg");
  CHECK(sync::checkProposedChange("", change) == std::nullopt);
}

TEST_CASE("visit entries: the NEWS2 risk must be the one the score gives (RCP bands)") {
  struct Case {
    int score;
    bool red;
    domain::News2Risk risk;
    bool valid;
  };
  const Case cases[] = {
      {0, false, domain::NEWS2_LOW, true},       {4, false, domain::NEWS2_LOW, true},
      {3, true, domain::NEWS2_LOW_MEDIUM, true}, {5, false, domain::NEWS2_MEDIUM, true},
      {6, true, domain::NEWS2_MEDIUM, true},     {7, false, domain::NEWS2_HIGH, true},
      {20, true, domain::NEWS2_HIGH, true},      {4, false, domain::NEWS2_LOW_MEDIUM, false},
      {3, true, domain::NEWS2_LOW, false},       {6, false, domain::NEWS2_LOW, false},
      {4, false, domain::NEWS2_MEDIUM, false},   {7, false, domain::NEWS2_MEDIUM, false},
      {9, false, domain::NEWS2_LOW, false},      {5, false, domain::NEWS2_HIGH, false},
  };
  for (const Case& c : cases) {
    Operation op = vitalSigns();
    auto& v = *op.mutable_append()->mutable_vital_signs();
    v.set_news2_score(c.score);
    v.set_red_parameter(c.red);
    v.set_news2_risk(c.risk);
    INFO(c.score << (c.red ? " red " : " ") << domain::News2Risk_Name(c.risk));
    const auto problem = validateOperation(op);
    CHECK(problem.has_value() != c.valid);
    if (problem) CHECK(problem->starts_with("append.vital_signs.news2_risk: "));
  }
  Operation op = vitalSigns();
  op.mutable_append()->mutable_vital_signs()->set_news2_risk(domain::NEWS2_LOW);
  CHECK(validateOperation(op) ==
        "append.vital_signs.news2_risk: NEWS2_LOW does not match news2_score 6 (NEWS2_MEDIUM)");
  // An escalation's attached set is checked alike.
  Operation escalation = message("NEWS2 6");
  *escalation.mutable_append()->mutable_message()->mutable_vital_signs() = op.append().vital_signs();
  CHECK(validateOperation(escalation).value_or("").starts_with("append.message.vital_signs.news2_risk: NEWS2_LOW"));
}

TEST_CASE("visit entries: each entity type carries its own kind of entry") {
  Operation op = message("hello");
  op.set_entity_type("vital_signs");
  CHECK(checkPolicy(op) == "append.vital_signs: missing; entity_type vital_signs carries append.vital_signs");
  op.set_entity_type("proposed_change");
  CHECK(checkPolicy(op) ==
        "append.proposed_change: missing; entity_type proposed_change carries append.proposed_change");
}
