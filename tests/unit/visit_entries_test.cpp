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

Operation proposal(const std::string& entityType, const std::string& field) {
  Operation op = base("proposed_change");
  auto& c = *op.mutable_append()->mutable_proposed_change();
  c.set_id("entry-1");
  c.set_patient_id("patient-01");
  c.set_author_id("nurse-karin");
  c.set_entity_type(entityType);
  c.set_entity_id("patient-01-act-1");
  c.set_field(field);
  c.set_proposed_value("three times daily");
  c.set_proposed_at(kTime);
  return op;
}

}  // namespace

TEST_CASE("visit entries: well-formed entries pass validation and the merge rules") {
  for (const Operation& op : {vitalSigns(), taskOutcome(domain::TaskOutcome::DONE, ""),
                              taskOutcome(domain::TaskOutcome::REFUSED, "Patient declined"), medication(true, ""),
                              medication(false, "Patient asleep"), message("NEWS2 6"),
                              proposal("care_plan_activity", "frequency"), proposal("care_plan", "spo2_scale_2")}) {
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
  CHECK(validateOperation(op) == "append.vital_signs.spo2: 101 is outside 0-100");

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

TEST_CASE("visit entries: each entity type carries its own kind of entry") {
  Operation op = message("hello");
  op.set_entity_type("vital_signs");
  CHECK(checkPolicy(op) == "append.vital_signs: missing; entity_type vital_signs carries append.vital_signs");
  op.set_entity_type("proposed_change");
  CHECK(checkPolicy(op) ==
        "append.proposed_change: missing; entity_type proposed_change carries append.proposed_change");
}
