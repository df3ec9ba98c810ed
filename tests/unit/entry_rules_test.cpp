// Issue 10, class 5: entries a nurse must not make, refused by the one set
// of entry rules in sync/ (checkEntryRules, vitalSignRanges) and, on the
// tablet, at entry time with nothing stored in the outbox. The server's side
// is tests/integration/entry_rules_test.cpp.

#include "hemma/sync/entry_rules.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "hemma/mobile/device.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/time_format.hpp"

namespace {

using namespace hemma;
using Outcome = domain::TaskOutcome;

// --- The rules themselves, over a state in a map. ---

class MapState final : public sync::EntryState {
 public:
  std::map<sync::FieldLocation, std::string> fields;
  std::map<std::string, bool> team;  // practitioner -> member (unknown when absent)

  void set(const std::string& type, const std::string& id, const std::string& field, const std::string& value) {
    fields[{"patient-1", type, id, field}] = value;
  }
  std::optional<std::string> field(const sync::FieldLocation& at) override {
    const auto it = fields.find(at);
    return it == fields.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::optional<bool> inCareTeam(const std::string&, const std::string& practitioner) override {
    const auto it = team.find(practitioner);
    return it == team.end() ? std::nullopt : std::optional<bool>(it->second);
  }
};

const sync::EntryAuthor kKarin{"nurse-karin", domain::NURSE, "org-norrby"};

MapState world() {
  MapState state;
  state.set("visit", "v1", "scheduled_start", "2026-11-22T10:00:00.000Z");
  state.set("visit", "v1", "nurse_id", "nurse-karin");
  state.set("visit", "v1", "status", "PLANNED");
  state.set("visit", "v1", "activity_id", "act-1");
  state.set("care_plan_activity", "act-1", "text", "Medication administration");
  state.set("care_plan_activity", "act-1", "responsible_role", "NURSE");
  state.set("care_plan_activity", "act-1", "responsible_organisation_id", "org-norrby");
  state.set("care_plan_activity", "act-2", "text", "Vital signs with NEWS2");
  state.set("care_plan_activity", "act-2", "responsible_role", "NURSE");
  state.set("care_plan_activity", "act-3", "text", "Medical review");
  state.set("care_plan_activity", "act-3", "responsible_role", "PHYSICIAN");
  state.set("care_plan_activity", "act-3", "responsible_organisation_id", "org-soder");
  return state;
}

sync::Operation operation(const std::string& type, const std::string& id) {
  sync::Operation op;
  op.set_id("tablet-karin:1");
  op.set_author_id("nurse-karin");
  op.set_device_id("tablet-karin");
  op.set_hlc(sync::makeHlc(1'000'000, 0));
  op.set_patient_id("patient-1");
  op.set_entity_type(type);
  op.set_entity_id(id);
  op.set_recorded_at("2026-11-22T10:05:00Z");
  return op;
}

sync::Operation visitWrite(const std::string& visit, const std::string& field, const std::string& value) {
  sync::Operation op = operation("visit", visit);
  op.mutable_write()->set_field(field);
  op.mutable_write()->set_value(value);
  return op;
}

sync::Operation taskOutcome(const std::string& visit, const std::string& activity) {
  sync::Operation op = operation("task_outcome", "t1");
  auto& t = *op.mutable_append()->mutable_task_outcome();
  t.set_id("t1");
  t.set_patient_id("patient-1");
  t.set_visit_id(visit);
  t.set_activity_id(activity);
  t.set_author_id("nurse-karin");
  t.set_outcome(Outcome::DONE);
  t.set_recorded_at("2026-11-22T10:05:00Z");
  return op;
}

sync::Operation note(const std::string& visit, const std::string& amends) {
  sync::Operation op = operation("visit_note", "n1");
  auto& n = *op.mutable_append()->mutable_note();
  n.set_id("n1");
  n.set_patient_id("patient-1");
  n.set_visit_id(visit);
  n.set_author_id("nurse-karin");
  n.set_text("BP 128/95");
  n.set_written_at("2026-11-22T10:05:00Z");
  n.set_amends_note_id(amends);
  return op;
}

sync::Operation vitals(const std::string& visit) {
  sync::Operation op = operation("vital_signs", "s1");
  auto& v = *op.mutable_append()->mutable_vital_signs();
  v.set_id("s1");
  v.set_patient_id("patient-1");
  v.set_visit_id(visit);
  v.set_author_id("nurse-karin");
  v.set_observed_at("2026-11-22T10:05:00Z");
  v.set_respiratory_rate(16);
  v.set_spo2(97);
  v.set_systolic_bp(125);
  v.set_pulse(72);
  v.set_consciousness(domain::ALERT);
  v.set_temperature_c(36.8);
  v.set_news2_score(0);
  v.set_news2_risk(domain::NEWS2_LOW);
  return op;
}

std::string reason(const sync::Operation& op, MapState& state, const sync::EntryAuthor& author = kKarin) {
  const auto refusal = sync::checkEntryRules(op, author, state);
  return refusal ? refusal->reason : "";
}

bool forbidden(const sync::Operation& op, MapState& state) {
  const auto refusal = sync::checkEntryRules(op, kKarin, state);
  return refusal && refusal->kind == sync::EntryRefusal::Kind::Forbidden;
}

}  // namespace

TEST_CASE("entry rules (a): a tablet cannot create a visit, and only its nurse moves it forward") {
  MapState state = world();
  CHECK_THAT(reason(visitWrite("v-new", "status", "DONE"), state),
             Catch::Equals("write.field: visit.status: visit v-new of patient-1 does not exist; visits are scheduled "
                           "by a coordinator, not created from a tablet"));
  CHECK_THAT(reason(visitWrite("v-new", "scheduled_start", "2026-11-23T10:00:00Z"), state),
             Catch::Contains("does not exist"));
  CHECK(reason(visitWrite("v1", "status", "IN_PROGRESS"), state).empty());
  CHECK_THAT(reason(visitWrite("v1", "status", "DONE"), state),
             Catch::Contains("visit v1 cannot go from PLANNED to DONE"));
  CHECK_THAT(reason(visitWrite("v1", "status", "CANCELLED"), state), Catch::Contains("PLANNED to CANCELLED"));
  CHECK_THAT(reason(visitWrite("v1", "started_at", "2026-11-22T10:00:00Z"), state),
             Catch::Contains("visit v1 is PLANNED; started_at is written when it starts"));
  // Not her visit.
  const sync::EntryAuthor olle{"nurse-olle", domain::NURSE, "org-norrby"};
  CHECK_THAT(reason(visitWrite("v1", "status", "IN_PROGRESS"), state, olle),
             Catch::Contains("visit v1 is assigned to nurse-karin, not nurse-olle"));
  CHECK(sync::checkEntryRules(visitWrite("v1", "status", "IN_PROGRESS"), olle, state)->kind ==
        sync::EntryRefusal::Kind::Forbidden);

  // In one batch: started, then its start time, then ended.
  sync::PendingEntryState pending(state);
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"status", "IN_PROGRESS"}, {"started_at", "x"}, {"status", "DONE"}, {"ended_at", "y"}}) {
    const auto op = visitWrite("v1", field, value);
    INFO(field << "=" << value);
    CHECK_FALSE(sync::checkEntryRules(op, kKarin, pending));
    pending.add(op);
  }
  // Done is done: not back, not rescheduled.
  CHECK_THAT(reason(visitWrite("v1", "status", "IN_PROGRESS"), state).empty() ? "" : "", Catch::Equals(""));
  state.set("visit", "v1", "status", "DONE");
  CHECK_THAT(reason(visitWrite("v1", "status", "IN_PROGRESS"), state),
             Catch::Contains("visit v1 is DONE; a finished visit is not changed"));
  CHECK_THAT(reason(visitWrite("v1", "nurse_id", "nurse-olle"), state), Catch::Contains("visit v1 is DONE"));
}

TEST_CASE("entry rules (b): checklist answers only for the author's own activities or the visit's own") {
  MapState state = world();
  state.set("visit", "v1", "status", "IN_PROGRESS");
  CHECK(reason(taskOutcome("v1", "act-1"), state).empty());
  CHECK(reason(taskOutcome("v1", "act-2"), state).empty());
  CHECK_THAT(reason(taskOutcome("v1", "act-3"), state),
             Catch::Equals("append.task_outcome.activity_id: activity act-3 (Medical review) is the responsibility "
                           "of PHYSICIAN at org-soder, not of NURSE at org-norrby"));
  CHECK(forbidden(taskOutcome("v1", "act-3"), state));
  CHECK_THAT(reason(taskOutcome("v1", "act-9"), state), Catch::Contains("no activity act-9 in the plan"));
  // Another organisation's nurse activity is not hers either.
  state.set("care_plan_activity", "act-2", "responsible_organisation_id", "org-soder");
  CHECK_THAT(reason(taskOutcome("v1", "act-2"), state), Catch::Contains("NURSE at org-soder, not of NURSE"));
  // The coordinator scheduled this visit for the review: its own activity.
  state.set("visit", "v1", "activity_id", "act-3");
  CHECK(reason(taskOutcome("v1", "act-3"), state).empty());
}

TEST_CASE("entry rules (c, d): entries at a visit need it IN_PROGRESS; after the end only a note's amendment") {
  MapState state = world();
  const std::string planned = "visit v1 is PLANNED (not started); entries are recorded while it is IN_PROGRESS";
  CHECK_THAT(reason(vitals("v1"), state), Catch::Equals("append.vital_signs.visit_id: " + planned));
  CHECK_THAT(reason(taskOutcome("v1", "act-1"), state), Catch::Equals("append.task_outcome.visit_id: " + planned));
  CHECK_THAT(reason(note("v1", ""), state), Catch::Equals("append.note.visit_id: " + planned));
  CHECK_THAT(reason(vitals("v-none"), state),
             Catch::Equals("append.vital_signs.visit_id: no visit v-none of patient-1"));
  // Not linked to a visit: no visit rule.
  CHECK(reason(vitals(""), state).empty());
  CHECK(reason(note("", ""), state).empty());

  state.set("visit", "v1", "status", "IN_PROGRESS");
  CHECK(reason(vitals("v1"), state).empty());
  CHECK(reason(note("v1", ""), state).empty());

  state.set("visit", "v1", "status", "DONE");
  CHECK_THAT(reason(taskOutcome("v1", "act-1"), state),
             Catch::Equals("append.task_outcome.visit_id: visit v1 is DONE; entries after the end are refused (a note "
                           "may amend an earlier note)"));
  CHECK_THAT(reason(vitals("v1"), state), Catch::Contains("visit v1 is DONE"));
  CHECK_THAT(reason(note("v1", ""), state), Catch::Contains("visit v1 is DONE"));
  CHECK(reason(note("v1", "n0"), state).empty());
  state.set("visit", "v1", "status", "CANCELLED");
  CHECK_THAT(reason(note("v1", "n0"), state), Catch::Contains("visit v1 is CANCELLED"));
}

TEST_CASE("entry rules (e): physiologically impossible vital signs are refused, from one table") {
  sync::Operation op = vitals("");
  CHECK_FALSE(sync::validateOperation(op));
  auto set = [&](auto change) {
    sync::Operation changed = op;
    change(*changed.mutable_append()->mutable_vital_signs());
    return sync::validateOperation(changed).value_or("");
  };
  CHECK(set([](auto& v) { v.set_respiratory_rate(0); }) ==
        "append.vital_signs.respiratory_rate: 0 is outside 3-80 /min (not a reading of a living patient)");
  CHECK(set([](auto& v) { v.set_spo2(0); }) ==
        "append.vital_signs.spo2: 0 is outside 50-100 % (not a reading of a living patient)");
  CHECK(set([](auto& v) { v.set_spo2(150); }) ==
        "append.vital_signs.spo2: 150 is outside 50-100 % (not a reading of a living patient)");
  CHECK(set([](auto& v) { v.set_systolic_bp(0); }) ==
        "append.vital_signs.systolic_bp: 0 is outside 40-300 mmHg (not a reading of a living patient)");
  CHECK(set([](auto& v) { v.set_pulse(0); }) ==
        "append.vital_signs.pulse: 0 is outside 20-300 /min (not a reading of a living patient)");
  CHECK(set([](auto& v) { v.set_temperature_c(24.5); }) ==
        "append.vital_signs.temperature_c: 24.5 is outside 25-45 °C (not a reading of a living patient)");
  CHECK(set([](auto& v) { v.set_temperature_c(45.5); }).find("temperature_c: 45.5 is outside") != std::string::npos);
  // The limits themselves are readings.
  CHECK(set([](auto& v) {
          v.set_respiratory_rate(3);
          v.set_spo2(50);
          v.set_systolic_bp(40);
          v.set_pulse(20);
          v.set_temperature_c(25);
        }).empty());
  // A message's attached vital signs too.
  sync::Operation message = operation("message", "m1");
  auto& m = *message.mutable_append()->mutable_message();
  m.set_id("m1");
  m.set_patient_id("patient-1");
  m.set_author_id("nurse-karin");
  m.set_text("Urgent");
  m.set_sent_at("2026-11-22T10:05:00Z");
  *m.mutable_vital_signs() = op.append().vital_signs();
  m.mutable_vital_signs()->set_pulse(0);
  CHECK(sync::validateOperation(message).value_or("").starts_with("append.message.vital_signs.pulse: 0 is outside"));
  REQUIRE(sync::vitalSignRange("spo2"));
  CHECK(sync::vitalSignRange("spo2")->high == 100);
  CHECK(sync::vitalSignRange("shoe_size") == nullptr);
}

TEST_CASE("entry rules (g): a message only to the care team, where this end knows the team") {
  MapState state = world();
  sync::Operation op = operation("message", "m1");
  auto& m = *op.mutable_append()->mutable_message();
  m.set_id("m1");
  m.set_patient_id("patient-1");
  m.set_author_id("nurse-karin");
  m.set_recipient_id("nurse-maria");
  m.set_text("Please call");
  m.set_sent_at("2026-11-22T10:05:00Z");
  CHECK(reason(op, state).empty());  // team unknown here: the server decides
  state.team["nurse-maria"] = false;
  CHECK(reason(op, state) == "append.message.recipient_id: nurse-maria is not in the care team of patient-1");
  CHECK(forbidden(op, state));
  state.team["nurse-maria"] = true;
  CHECK(reason(op, state).empty());
  m.set_recipient_id("");  // the responsible physician
  state.team.clear();
  CHECK(reason(op, state).empty());
}

// --- On the tablet: refused at entry, nothing in the outbox. ---

namespace {

class FixedClock final : public mobile::Clock {
 public:
  std::int64_t nowMs() override { return *sync::parseRfc3339("2026-11-22T08:30:00Z"); }
};

struct Tablet {
  FixedClock clock;
  mobile::Device device{":memory:", clock};
  std::uint64_t seq = 0;

  Tablet() {
    device.enrol("tablet-karin", "nurse-karin");
    api::Principal karin;
    karin.set_user_id("nurse-karin");
    karin.set_role(domain::NURSE);
    karin.set_organisation_id("org-norrby");
    device.store().inTransaction([&] { device.store().setMeta("principal", karin.SerializeAsString()); });
    for (const auto& [at, value] : world().fields) remote(at.entityType, at.entityId, at.field, value);
    remote("visit", "v2", "scheduled_start", "2026-11-23T10:00:00.000Z");  // tomorrow's
    remote("visit", "v2", "nurse_id", "nurse-karin");
    remote("visit", "v2", "status", "PLANNED");
    remote("medication", "med-1", "name", "Metoprolol");
    remote("medication", "med-1", "dose", "50 mg");
  }

  // A write made elsewhere, as the server sends it.
  void remote(const std::string& type, const std::string& id, const std::string& field, const std::string& value) {
    sync::Operation op;
    op.set_id("server:" + std::to_string(++seq));
    op.set_author_id("coordinator-lena");
    op.set_device_id("server");
    op.set_hlc(sync::makeHlc(1'000'000, static_cast<std::uint32_t>(seq)));
    op.set_patient_id("patient-1");
    op.set_entity_type(type);
    op.set_entity_id(id);
    op.set_recorded_at("2026-11-21T08:00:00Z");
    op.set_server_seq(seq);
    op.mutable_write()->set_field(field);
    op.mutable_write()->set_value(value);
    device.store().inTransaction([&] { device.store().applyRemote({op}, seq); });
  }
};

mobile::VitalSigns normalVitals() {
  mobile::VitalSigns v;
  v.respiratoryRate = 16;
  v.spo2 = 97;
  v.onOxygen = false;
  v.systolicBp = 125;
  v.pulse = 72;
  v.consciousness = mobile::Consciousness::Alert;
  v.temperatureC = 36.8;
  return v;
}

}  // namespace

TEST_CASE("tablet entry rules: a visit that does not exist cannot be written; the rules name field and rule") {
  Tablet t;
  auto& d = t.device;
  CHECK_THROWS_WITH(d.writeField("patient-1", "visit", "v-new", "status", "DONE"),
                    Catch::Contains("write.field: visit.status: visit v-new of patient-1 does not exist"));
  CHECK_THROWS_WITH(d.writeField("patient-1", "visit", "v1", "status", "DONE"),
                    Catch::Contains("cannot go from PLANNED to DONE"));
  CHECK(d.store().outboxSize() == 0);
}

TEST_CASE("tablet entry rules: nothing is recorded at a visit that was not started (tomorrow's)") {
  Tablet t;
  auto& d = t.device;
  CHECK_THROWS_WITH(d.recordVitalSigns("v2", normalVitals()),
                    Catch::Contains("append.vital_signs.visit_id: visit v2 is PLANNED (not started)"));
  CHECK_THROWS_WITH(d.recordTaskOutcome("v2", "act-1", Outcome::DONE),
                    Catch::Contains("append.task_outcome.visit_id: visit v2 is PLANNED"));
  CHECK_THROWS_WITH(d.recordMedication("v2", "med-1", true),
                    Catch::Contains("append.medication_administration.visit_id: visit v2 is PLANNED"));
  CHECK_THROWS_WITH(d.writeNote("patient-1", "v2", "Notes for tomorrow"), Catch::Contains("append.note.visit_id"));
  CHECK(d.store().outboxSize() == 0);
  CHECK(d.store().entries("patient-1").empty());
}

TEST_CASE("tablet entry rules: the physician's activity is not the nurse's to tick") {
  Tablet t;
  auto& d = t.device;
  d.startVisit("v1");
  const std::size_t before = d.store().outboxSize();
  CHECK_THROWS_WITH(d.recordTaskOutcome("v1", "act-3", Outcome::DONE),
                    Catch::Contains("append.task_outcome.activity_id: activity act-3 (Medical review) is the "
                                    "responsibility of PHYSICIAN at org-soder"));
  CHECK(d.store().outboxSize() == before);
  CHECK_NOTHROW(d.recordTaskOutcome("v1", "act-1", Outcome::DONE));
}

TEST_CASE("tablet entry rules: after the visit ended, answers are refused and a note may only amend") {
  Tablet t;
  auto& d = t.device;
  d.startVisit("v1");
  d.recordTaskOutcome("v1", "act-1", Outcome::DONE);
  const auto first = d.writeNote("patient-1", "v1", "BP 182/95");
  d.endVisit("v1");
  const std::size_t before = d.store().outboxSize();
  CHECK_THROWS_WITH(d.recordTaskOutcome("v1", "act-1", Outcome::REFUSED, "changed her mind"),
                    Catch::Contains("append.task_outcome.visit_id: visit v1 is DONE; entries after the end"));
  CHECK_THROWS_WITH(d.recordVitalSigns("v1", normalVitals()), Catch::Contains("visit v1 is DONE"));
  CHECK_THROWS_WITH(d.recordMedication("v1", "med-1", true), Catch::Contains("visit v1 is DONE"));
  CHECK_THROWS_WITH(d.writeNote("patient-1", "v1", "Late note"), Catch::Contains("visit v1 is DONE"));
  CHECK(d.store().outboxSize() == before);
  CHECK_NOTHROW(d.writeNote("patient-1", "v1", "Correction: BP 128/95", first.id()));
  // The visit itself stays done.
  CHECK_THROWS_WITH(d.startVisit("v1"), Catch::Contains("DONE"));
}

TEST_CASE("tablet entry rules: impossible vital signs are refused at entry and never escalate") {
  Tablet t;
  auto& d = t.device;
  d.startVisit("v1");
  const std::size_t before = d.store().outboxSize();
  mobile::VitalSigns zeros;
  zeros.respiratoryRate = 0;
  zeros.spo2 = 0;
  zeros.systolicBp = 0;
  zeros.pulse = 0;
  zeros.consciousness = mobile::Consciousness::Alert;
  CHECK_THROWS_WITH(d.recordVitalSigns("v1", zeros), Catch::Contains("vitals.respiratoryRate: 0 is outside 3-80 /min"));
  mobile::VitalSigns high = normalVitals();
  high.spo2 = 150;
  CHECK_THROWS_WITH(d.recordVitalSigns("v1", high), Catch::Contains("vitals.spo2: 150 is outside 50-100 %"));
  CHECK(d.store().outboxSize() == before);
  CHECK(d.messages("patient-1").empty());
}
