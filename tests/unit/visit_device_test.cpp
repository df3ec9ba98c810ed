// The nurse's visit on the device core, offline and in memory: today's
// visits, start and end, the checklist, vital signs with NEWS2 and
// escalation, medication, notes with amendments, proposals, messages, the
// history window and the offline unlock.

#include <catch2/catch.hpp>
#include <deque>

#include "hemma/mobile/device.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/time_format.hpp"

namespace {

using namespace hemma;
using Outcome = domain::TaskOutcome;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

class FixedClock final : public mobile::Clock {
 public:
  explicit FixedClock(std::int64_t now) : m_now(now) {}
  std::int64_t nowMs() override { return m_now; }
  std::int64_t m_now;
};

// A server in miniature: acknowledges every push in order (or rejects the
// ids in `reject`), pulls `pages` then nothing, signs nurse-karin in with
// password "demo", and answers the timeline it is given.
class FakeServer final : public mobile::Transport {
 public:
  std::uint64_t seq = 0;
  std::vector<std::string> reject;
  // Refused once each for a clock too far ahead, with this server time.
  std::vector<std::string> skewed;
  std::int64_t serverTimeMs = 0;
  std::deque<sync::PullResponse> pages;
  api::Timeline timelineAnswer;
  std::string token;
  std::string timelineToken;

  sync::PushResponse push(const sync::PushRequest& request) override {
    sync::PushResponse response;
    response.set_server_time_ms(serverTimeMs);
    for (const auto& op : request.operations()) {
      if (const auto it = std::find(skewed.begin(), skewed.end(), op.id()); it != skewed.end()) {
        skewed.erase(it);
        auto& r = *response.add_rejections();
        r.set_operation_id(op.id());
        r.set_code(sync::OperationRejection::CLOCK_SKEW);
        r.set_reason("scripted clock skew");
        continue;
      }
      if (std::find(reject.begin(), reject.end(), op.id()) != reject.end()) {
        auto& r = *response.add_rejections();
        r.set_operation_id(op.id());
        r.set_code(sync::OperationRejection::FORBIDDEN);
        r.set_reason("scripted refusal");
        continue;
      }
      auto& ack = *response.add_acks();
      ack.set_operation_id(op.id());
      ack.set_server_seq(++seq);
    }
    return response;
  }
  sync::PullResponse pull(const sync::PullRequest& request) override {
    if (!pages.empty()) {
      auto page = pages.front();
      pages.pop_front();
      return page;
    }
    sync::PullResponse response;
    response.set_next_cursor(request.after_seq());
    return response;
  }
  void setToken(const std::string& t) override { token = t; }
  api::LoginResponse login(const api::LoginRequest& request) override {
    if (request.username() != "nurse-karin" || request.password() != "demo") {
      throw mobile::ServerError(401, "login: wrong username or password");
    }
    api::LoginResponse response;
    response.set_token("user-token");
    response.mutable_principal()->set_user_id("nurse-karin");
    response.mutable_principal()->set_name("Karin Lund");
    response.mutable_principal()->set_role(domain::NURSE);
    return response;
  }
  api::RegisterDeviceResponse registerDevice(const api::RegisterDeviceRequest& request, const std::string&) override {
    api::RegisterDeviceResponse response;
    response.set_device_id(request.device_id());
    response.set_token("device-token");
    return response;
  }
  api::Timeline timeline(const std::string& patientId) override {
    timelineToken = token;
    api::Timeline answer = timelineAnswer;
    answer.set_patient_id(patientId);
    return answer;
  }
};

// 2026-11-22T00:00:00Z and 08:30 that day.
const std::int64_t kDay = *sync::parseRfc3339("2026-11-22T00:00:00Z");
const std::int64_t kMorning = kDay + 8 * 3600 * 1000 + 30 * 60 * 1000;

// A field write made elsewhere (the coordinator's plan), as the server sends it.
sync::Operation remoteWrite(std::uint64_t seq, const std::string& patient, const std::string& type,
                            const std::string& entity, const std::string& field, const std::string& value) {
  sync::Operation op;
  op.set_id("server:" + std::to_string(seq));
  op.set_author_id("coordinator-lena");
  op.set_device_id("server");
  op.set_hlc(sync::makeHlc(kDay - kDayMs, static_cast<std::uint32_t>(seq)));
  op.set_patient_id(patient);
  op.set_entity_type(type);
  op.set_entity_id(entity);
  op.set_recorded_at(sync::formatRfc3339(kDay - kDayMs));
  op.set_server_seq(seq);
  op.mutable_write()->set_field(field);
  op.mutable_write()->set_value(value);
  return op;
}

struct World {
  FixedClock clock{kMorning};
  mobile::Device device{":memory:", clock};
  std::vector<sync::Operation> plan;

  World() {
    device.enrol("tablet-karin", "nurse-karin");
    auto w = [&](const std::string& patient, const std::string& type, const std::string& entity,
                 const std::string& field, const std::string& value) {
      plan.push_back(remoteWrite(plan.size() + 1, patient, type, entity, field, value));
    };
    for (const std::string p : {"patient-01", "patient-03"}) {
      w(p, "patient", p, "name", p == "patient-01" ? "Anna Berg" : "Cecilia Ek");
      w(p, "patient", p, "address", p == "patient-01" ? "Storgatan 3, Norrby" : "Kyrkvägen 9, Norrby");
      w(p, "patient", p, "access_notes", "Key box by the door, code 4011");
      w(p, "care_plan_activity", p + "-act-1", "text", "Medication administration");
      w(p, "care_plan_activity", p + "-act-1", "responsible_role", "NURSE");
      w(p, "care_plan_activity", p + "-act-2", "text", "Vital signs with NEWS2");
      w(p, "care_plan_activity", p + "-act-2", "responsible_role", "NURSE");
      w(p, "care_plan_activity", p + "-act-3", "text", "Medical review");
      w(p, "care_plan_activity", p + "-act-3", "responsible_role", "PHYSICIAN");
      w(p, "medication", p + "-med-1", "name", "Metoprolol");
      w(p, "medication", p + "-med-1", "dose", "50 mg");
    }
    // patient-03 at 08:00, patient-01 at 10:00 today; patient-01 tomorrow;
    // a colleague's visit today.
    auto visit = [&](const std::string& patient, const std::string& id, const std::string& at,
                     const std::string& nurse) {
      w(patient, "visit", id, "scheduled_start", at);
      w(patient, "visit", id, "nurse_id", nurse);
      w(patient, "visit", id, "activity_id", patient + "-act-1");
      w(patient, "visit", id, "status", "PLANNED");
    };
    visit("patient-01", "patient-01-visit-1", "2026-11-22T10:00:00Z", "nurse-karin");
    visit("patient-03", "patient-03-visit-1", "2026-11-22T08:00:00Z", "nurse-karin");
    visit("patient-01", "patient-01-visit-2", "2026-11-23T10:00:00Z", "nurse-karin");
    visit("patient-01", "patient-01-visit-olle", "2026-11-22T12:00:00Z", "nurse-olle");
    device.store().inTransaction([&] { device.store().applyRemote(plan, plan.size()); });
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

TEST_CASE("visits: today's visits of the signed-in nurse, in order, with what she needs at the door") {
  World world;
  const auto visits = world.device.visits();
  REQUIRE(visits.size() == 2);
  CHECK(visits[0].visit.id() == "patient-03-visit-1");
  CHECK(visits[1].visit.id() == "patient-01-visit-1");
  const auto& v = visits[1];
  CHECK(v.patientName == "Anna Berg");
  CHECK(v.address == "Storgatan 3, Norrby");
  CHECK(v.accessNotes == "Key box by the door, code 4011");
  CHECK(v.visit.status() == domain::Visit::PLANNED);
  CHECK(v.visit.activity_id() == "patient-01-act-1");
  CHECK(v.activityText == "Medication administration");
  CHECK(v.visit.started_at().empty());
  // The nurses' activities; the physician's review is not hers.
  REQUIRE(v.checklist.size() == 2);
  CHECK(v.checklist[0].activityId == "patient-01-act-1");
  CHECK(v.checklist[1].activityId == "patient-01-act-2");
  CHECK(v.checklist[1].text == "Vital signs with NEWS2");
  CHECK_FALSE(v.checklist[0].outcome);

  const auto tomorrow = world.device.visits("2026-11-23");
  REQUIRE(tomorrow.size() == 1);
  CHECK(tomorrow[0].visit.id() == "patient-01-visit-2");
  CHECK(world.device.visits("2026-11-24").empty());
  CHECK_THROWS_WITH(world.device.visits("22/11/2026"), Catch::Contains("date:"));
  CHECK_THROWS_WITH(world.device.visits("2026-13-01"), Catch::Contains("date:"));
}

TEST_CASE("visits: the checklist is the nurses' activities plus the visit's own, each once") {
  World world;
  auto& d = world.device;
  // A visit for the physician's review; an activity of no role.
  std::vector<sync::Operation> ops{
      remoteWrite(world.plan.size() + 1, "patient-01", "visit", "patient-01-visit-2", "activity_id",
                  "patient-01-act-3"),
      remoteWrite(world.plan.size() + 2, "patient-01", "care_plan_activity", "patient-01-act-4", "text", "Shopping")};
  d.store().inTransaction([&] { d.store().applyRemote(ops, world.plan.size() + 2); });

  const auto own = d.visit("patient-01-visit-2").checklist;
  REQUIRE(own.size() == 3);
  CHECK(own[0].activityId == "patient-01-act-1");
  CHECK(own[1].activityId == "patient-01-act-2");
  CHECK(own[2].activityId == "patient-01-act-3");
  CHECK(own[2].responsibleRole == "PHYSICIAN");
  // The visit's own activity is a nurse's one too: listed once.
  const auto nurses = d.visit("patient-01-visit-1").checklist;
  REQUIRE(nurses.size() == 2);
  CHECK(nurses[0].activityId == "patient-01-act-1");
  CHECK(nurses[1].activityId == "patient-01-act-2");
}

TEST_CASE("visits: start and end at the device's time; ending a visit not started is refused") {
  World world;
  CHECK_THROWS_WITH(world.device.endVisit("patient-01-visit-1"), Catch::Contains("was not started"));
  CHECK_THROWS_WITH(world.device.startVisit("no-such-visit"), Catch::Contains("no visit no-such-visit"));

  const auto started = world.device.startVisit("patient-01-visit-1");
  CHECK(started.visit.status() == domain::Visit::IN_PROGRESS);
  CHECK(started.visit.started_at() == sync::formatRfc3339(kMorning));
  CHECK(world.device.status().pending == 2);
  CHECK_THROWS_WITH(world.device.startVisit("patient-01-visit-1"), Catch::Contains("already started"));

  world.clock.m_now += 40 * 60 * 1000;
  const auto ended = world.device.endVisit("patient-01-visit-1");
  CHECK(ended.visit.status() == domain::Visit::DONE);
  CHECK(ended.visit.ended_at() == sync::formatRfc3339(kMorning + 40 * 60 * 1000));
  CHECK(ended.visit.started_at() == sync::formatRfc3339(kMorning));
  CHECK(world.device.status().pending == 4);
  CHECK_THROWS_WITH(world.device.startVisit("patient-01-visit-1"), Catch::Contains("DONE"));
  CHECK_THROWS_WITH(world.device.endVisit("patient-01-visit-1"), Catch::Contains("was not started"));
}

TEST_CASE("visits: checklist answers; a reason is required for not done and refused") {
  World world;
  auto& d = world.device;
  CHECK_THROWS_WITH(d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::REFUSED, ""),
                    Catch::Contains("task_outcome.reason: required when REFUSED"));
  CHECK_THROWS_WITH(d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::NOT_DONE),
                    Catch::Contains("task_outcome.reason: required when NOT_DONE"));
  CHECK_THROWS_WITH(d.recordTaskOutcome("patient-01-visit-1", "patient-09-act-1", Outcome::DONE),
                    Catch::Contains("task_outcome.activity_id"));
  CHECK_THROWS_WITH(d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::OUTCOME_UNSPECIFIED),
                    Catch::Contains("task_outcome.outcome"));
  CHECK(d.status().pending == 0);

  d.startVisit("patient-01-visit-1");  // answers are given while the visit is in progress
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-2", Outcome::DONE);
  const auto refused =
      d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::REFUSED, "Wants to take it later");
  CHECK(refused.author_id() == "nurse-karin");
  CHECK(refused.recorded_at() == sync::formatRfc3339(kMorning));

  const auto view = d.visit("patient-01-visit-1");
  REQUIRE(view.checklist.size() == 2);
  REQUIRE(view.checklist[0].outcome);
  CHECK(view.checklist[0].outcome->outcome() == Outcome::REFUSED);
  CHECK(view.checklist[0].outcome->reason() == "Wants to take it later");
  REQUIRE(view.checklist[1].outcome);
  CHECK(view.checklist[1].outcome->outcome() == Outcome::DONE);

  // The latest answer at this visit counts; another visit's list is its own.
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::DONE);
  CHECK(d.visit("patient-01-visit-1").checklist[0].outcome->outcome() == Outcome::DONE);
  CHECK_FALSE(d.visit("patient-01-visit-2").checklist[0].outcome);
}

TEST_CASE("visits: vital signs are scored; normal ones raise nothing") {
  World world;
  world.device.startVisit("patient-01-visit-1");
  const auto record = world.device.recordVitalSigns("patient-01-visit-1", normalVitals());
  REQUIRE(record.vitals.has_news2_score());
  CHECK(record.vitals.news2_score() == 0);
  CHECK(record.vitals.news2_risk() == domain::NEWS2_LOW);
  CHECK(record.vitals.observed_at() == sync::formatRfc3339(kMorning));
  CHECK(record.vitals.respiratory_rate() == 16);
  CHECK(record.vitals.consciousness() == domain::ALERT);
  CHECK_FALSE(record.escalation);
  CHECK(world.device.messages("patient-01").empty());
  CHECK(world.device.status().pending == 3);  // the visit's start (status, started_at) and the vital signs
}

TEST_CASE("visits: vital signs that call for escalation send an urgent message in the same transaction") {
  World world;
  world.device.startVisit("patient-01-visit-1");
  auto v = normalVitals();
  v.respiratoryRate = 25;  // 3
  v.spo2 = 93;             // 2 on scale 1
  v.pulse = 112;           // 2
  const auto record = world.device.recordVitalSigns("patient-01-visit-1", v);
  CHECK(record.news2.escalate);
  REQUIRE(record.vitals.has_news2_score());
  CHECK(record.vitals.news2_score() == 7);
  CHECK(record.vitals.news2_risk() == domain::NEWS2_HIGH);
  CHECK(record.vitals.red_parameter());
  REQUIRE(record.escalation);
  const auto& m = *record.escalation;
  CHECK(m.urgent());
  CHECK(m.recipient_id().empty());
  CHECK(m.author_id() == "nurse-karin");
  CHECK_THAT(m.text(), Catch::Contains("NEWS2 7 (high risk; a parameter scored 3)") &&
                           Catch::Contains("respiratory rate 25/min (3)") && Catch::Contains("SpO2 93 % (2)") &&
                           Catch::Contains("pulse 112/min (2)") && Catch::Contains("patient-01-visit-1"));
  CHECK(m.vital_signs().id() == record.vitals.id());
  CHECK(m.vital_signs().news2_score() == 7);
  CHECK(world.device.status().pending == 4);  // the visit's start, the vital signs and the message
  const auto messages = world.device.messages("patient-01");
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].id() == m.id());
  CHECK(world.device.store().entries("patient-01", "vital_signs").size() == 1);
}

TEST_CASE("visits: a missing input leaves NEWS2 unevaluated, never 0; a red parameter still escalates") {
  World world;
  world.device.startVisit("patient-01-visit-1");
  auto v = normalVitals();
  v.temperatureC.reset();
  auto record = world.device.recordVitalSigns("patient-01-visit-1", v);
  CHECK_FALSE(record.vitals.has_news2_score());
  CHECK(record.vitals.news2_risk() == domain::NEWS2_NOT_EVALUATED);
  CHECK_FALSE(record.escalation);

  v.consciousness = mobile::Consciousness::Voice;  // 3
  record = world.device.recordVitalSigns("patient-01-visit-1", v);
  CHECK_FALSE(record.vitals.has_news2_score());
  REQUIRE(record.escalation);
  CHECK_THAT(record.escalation->text(),
             Catch::Contains("missing temperatureC") && Catch::Contains("consciousness not alert (3)"));
}

TEST_CASE("visits: SpO2 scale 2 only when the plan says so; bad values are refused naming the field") {
  World world;
  world.device.startVisit("patient-01-visit-1");
  auto v = normalVitals();
  v.spo2 = 89;  // scale 1: 3; scale 2 on air: 0
  CHECK(world.device.recordVitalSigns("patient-01-visit-1", v).vitals.news2_score() == 3);
  world.device.writeField("patient-01", "care_plan", "patient-01", "spo2_scale_2", "true");
  const auto scaled = world.device.recordVitalSigns("patient-01-visit-1", v);
  CHECK(scaled.vitals.spo2_scale_2());
  CHECK(scaled.vitals.news2_score() == 0);

  const auto before = world.device.status().pending;
  v.spo2 = 104;
  CHECK_THROWS_WITH(world.device.recordVitalSigns("patient-01-visit-1", v), Catch::Contains("vitals.spo2"));
  CHECK_THROWS_AS(world.device.recordVitalSigns("patient-01-visit-1", mobile::VitalSigns{}), std::invalid_argument);
  CHECK_THROWS_WITH(world.device.recordVitalSigns("nope", normalVitals()), Catch::Contains("vital_signs.visit_id"));
  CHECK(world.device.status().pending == before);
}

TEST_CASE("visits: medication given with the plan's dose, or not given with a reason") {
  World world;
  auto& d = world.device;
  d.startVisit("patient-01-visit-1");
  const auto given = d.recordMedication("patient-01-visit-1", "patient-01-med-1", true);
  CHECK(given.given());
  CHECK(given.dose() == "50 mg");
  CHECK(given.administered_at() == sync::formatRfc3339(kMorning));
  CHECK_THROWS_WITH(d.recordMedication("patient-01-visit-1", "patient-01-med-1", false),
                    Catch::Contains("medication_administration.reason: required when not given"));
  CHECK_THROWS_WITH(d.recordMedication("patient-01-visit-1", "patient-01-med-9", true),
                    Catch::Contains("medication_administration.medication_id"));
  const auto skipped = d.recordMedication("patient-01-visit-1", "patient-01-med-1", false, "Patient asleep");
  CHECK_FALSE(skipped.given());
  CHECK(skipped.reason() == "Patient asleep");
  CHECK(d.store().visitEntries("patient-01-visit-1", "medication_administration").size() == 2);
}

TEST_CASE("visits: a note's amendment is listed with the note it amends") {
  World world;
  auto& d = world.device;
  d.startVisit("patient-01-visit-1");
  const auto note = d.writeNote("patient-01", "patient-01-visit-1", "BP 182/95");
  const auto amendment = d.writeNote("patient-01", "patient-01-visit-1", "Correction: BP 128/95", note.id());
  const auto notes = d.notes("patient-01");
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].amends_note_id().empty());
  CHECK(notes[1].id() == amendment.id());
  CHECK(notes[1].amends_note_id() == note.id());
  CHECK_THROWS_WITH(d.writeNote("patient-01", "", "x", "tablet-karin:999"), Catch::Contains("note.amends_note_id"));
  CHECK_THROWS_WITH(d.writeNote("patient-03", "", "x", note.id()), Catch::Contains("note.amends_note_id"));
}

TEST_CASE("visits: a proposal carries the version of the field the device shows") {
  World world;
  auto& d = world.device;
  const auto current = d.field("patient-01", "medication", "patient-01-med-1", "dose");
  REQUIRE(current);
  const auto proposal =
      d.proposeChange("patient-01", "medication", "patient-01-med-1", "dose", "25 mg", "Dizzy in the mornings");
  CHECK(proposal.base_hlc() == current->hlc);
  CHECK(proposal.proposed_value() == "25 mg");
  CHECK(proposal.author_id() == "nurse-karin");
  // A field not written yet: base 0.
  CHECK(d.proposeChange("patient-01", "medication", "patient-01-med-1", "frequency", "once daily", "Simpler")
            .base_hlc() == 0);
  CHECK_THROWS_WITH(d.proposeChange("patient-01", "medication", "patient-01-med-1", "dose", "25 mg", ""),
                    Catch::Contains("proposed_change.reason"));
  CHECK_THROWS_WITH(d.proposeChange("patient-01", "patient", "patient-01", "address", "x", "moved"),
                    Catch::Contains("proposed_change.field"));
  CHECK(d.store().entries("patient-01", "proposed_change").size() == 2);
}

TEST_CASE("visits: messages in both directions, oldest first, replies name a message here") {
  World world;
  auto& d = world.device;
  const auto mine = d.sendMessage("patient-01", "Could you call about her sleep?");
  CHECK(mine.recipient_id().empty());
  CHECK_FALSE(mine.urgent());

  // The physician's answer arrives by pull.
  sync::Operation answer;
  answer.set_id("web-sara:1");
  answer.set_author_id("physician-sara");
  answer.set_device_id("web-sara");
  answer.set_hlc(sync::makeHlc(kMorning + 60'000, 0));
  answer.set_patient_id("patient-01");
  answer.set_entity_type("message");
  answer.set_entity_id("msg-sara-1");
  answer.set_recorded_at(sync::formatRfc3339(kMorning + 60'000));
  answer.set_server_seq(1000);
  auto& m = *answer.mutable_append()->mutable_message();
  m.set_id("msg-sara-1");
  m.set_patient_id("patient-01");
  m.set_author_id("physician-sara");
  m.set_recipient_id("nurse-karin");
  m.set_text("I will call her this afternoon.");
  m.set_sent_at(answer.recorded_at());
  m.set_in_reply_to(mine.id());
  d.store().inTransaction([&] { d.store().applyRemote({answer}, 1000); });

  world.clock.m_now += 120'000;
  const auto reply = d.sendMessage("patient-01", "Thank you", "physician-sara", "msg-sara-1");
  const auto messages = d.messages("patient-01");
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].id() == mine.id());
  CHECK(messages[1].author_id() == "physician-sara");
  CHECK(messages[2].id() == reply.id());
  CHECK(messages[2].in_reply_to() == "msg-sara-1");
  CHECK(d.messages("patient-03").empty());

  CHECK_THROWS_WITH(d.sendMessage("patient-01", ""), Catch::Contains("message.text"));
  CHECK_THROWS_WITH(d.sendMessage("patient-01", "x", "", "nope"), Catch::Contains("message.in_reply_to"));
  CHECK_THROWS_WITH(d.sendMessage("patient-03", "x", "", "msg-sara-1"), Catch::Contains("message.in_reply_to"));
}

TEST_CASE("visits: an entry the server refuses leaves the lists and shows as rejected") {
  World world;
  auto& d = world.device;
  const auto message = d.sendMessage("patient-01", "Hello");
  d.startVisit("patient-01-visit-1");
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::DONE);
  FakeServer server;
  server.reject.push_back(message.id());
  REQUIRE(d.sync(server).ok);
  CHECK(d.messages("patient-01").empty());
  REQUIRE(d.rejected().size() == 1);
  CHECK(d.rejected()[0].operation.id() == message.id());
  CHECK(d.visit("patient-01-visit-1").checklist[0].outcome);
}

TEST_CASE("visits: an entry stamped again for a clock far ahead is stamped again in the lists") {
  World world;
  auto& d = world.device;
  world.clock.m_now += 3 * kDayMs;  // the tablet's clock runs three days fast
  const auto message = d.sendMessage("patient-01", "From the future");
  const auto before = d.store().entries("patient-01", "message").at(0).hlc;
  FakeServer server;
  server.serverTimeMs = kMorning;
  server.skewed.push_back(message.id());
  REQUIRE(d.sync(server).ok);
  const auto entries = d.store().entries("patient-01", "message");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].hlc < before);
  CHECK(sync::hlcMillis(entries[0].hlc) < kMorning + kDayMs);
  CHECK(d.status().pending == 0);
  // The author's time stays what the tablet showed.
  CHECK(entries[0].entry.message().sent_at() == message.sent_at());
}

TEST_CASE("visits: purging a patient deletes her entries and history summary") {
  World world;
  auto& d = world.device;
  d.sendMessage("patient-01", "Hello");
  d.startVisit("patient-01-visit-1");
  d.recordVitalSigns("patient-01-visit-1", normalVitals());
  d.endVisit("patient-01-visit-1");
  d.startVisit("patient-03-visit-1");
  d.recordVitalSigns("patient-03-visit-1", normalVitals());
  d.endVisit("patient-03-visit-1");
  CHECK(d.store().entries("patient-03").size() == 1);
  FakeServer server;
  const auto report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 0);
  CHECK(d.store().entries("patient-03").size() == 1);
  // Forty days on, patient-01's old entries are summarised; a new one is held.
  world.clock.m_now += 40 * kDayMs;
  REQUIRE(d.sync(server).summarised == 3);
  d.startVisit("patient-01-visit-2");  // the first visit is done; entries go to the next
  d.recordVitalSigns("patient-01-visit-2", normalVitals());
  REQUIRE(d.sync(server).ok);
  REQUIRE(d.history("patient-01").summarised.size() == 2);
  REQUIRE(d.history("patient-01").summarisedNews2);

  d.store().inTransaction([&] { d.store().purgePatient("patient-01"); });
  const auto h = d.history("patient-01");
  CHECK(h.recent.empty());
  CHECK(h.summarised.empty());
  CHECK_FALSE(h.summarisedNews2);
  CHECK(d.history("patient-03").summarised.size() == 1);
}

TEST_CASE("visits: entries older than the history window are summarised after a sync and fetched on demand") {
  World world;
  auto& d = world.device;
  CHECK(d.historyWindowDays() == 30);
  CHECK_THROWS_WITH(d.setHistoryWindowDays(0), Catch::Contains("history_window_days"));
  auto high = normalVitals();
  high.respiratoryRate = 25;
  high.pulse = 135;
  d.startVisit("patient-01-visit-1");
  const auto oldVitals = d.recordVitalSigns("patient-01-visit-1", high);  // and its escalation
  d.writeNote("patient-01", "patient-01-visit-1", "Old note");
  d.endVisit("patient-01-visit-1");
  world.clock.m_now += kDayMs;
  d.startVisit("patient-01-visit-2");  // the first visit is done; entries go to the next
  d.recordVitalSigns("patient-01-visit-2", normalVitals());
  d.writeNote("patient-03", "", "Other patient");
  FakeServer server;
  auto report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 0);

  // 30 days after the first visit (plus a few hours): only its entries fall out.
  world.clock.m_now = kMorning + 30 * kDayMs + 4 * 3600 * 1000;
  report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 3);

  const auto h = d.history("patient-01");
  CHECK(h.windowDays == 30);
  REQUIRE(h.summarised.size() == 3);
  CHECK(h.summarised[0].kind == "message");
  CHECK(h.summarised[1].kind == "visit_note");
  CHECK(h.summarised[2].kind == "vital_signs");
  CHECK(h.summarised[2].count == 1);
  CHECK(h.summarised[2].oldest == sync::formatRfc3339(kMorning));
  REQUIRE(h.summarisedNews2);
  CHECK(h.summarisedNews2->id() == oldVitals.vitals.id());
  REQUIRE(h.recent.size() == 1);
  CHECK(h.recent[0].kind == "vital_signs");
  CHECK(d.notes("patient-01").empty());
  CHECK(d.messages("patient-01").empty());
  CHECK(d.history("patient-03").recent.size() == 1);
  // Fields stay: the visit is still on the list of its day.
  CHECK(d.visits("2026-11-22").size() == 2);

  // A page bringing a summarised entry again (a backfill) does not store it.
  sync::PullResponse page;
  sync::Operation again;
  again.set_id(oldVitals.vitals.id());
  again.set_author_id("nurse-karin");
  again.set_device_id("tablet-karin");
  again.set_hlc(sync::makeHlc(kMorning, 0));
  again.set_patient_id("patient-01");
  again.set_entity_type("vital_signs");
  again.set_entity_id(oldVitals.vitals.id());
  again.set_recorded_at(oldVitals.vitals.observed_at());
  again.set_server_seq(50);
  *again.mutable_append()->mutable_vital_signs() = oldVitals.vitals;
  *page.add_operations() = again;
  page.set_next_cursor(server.seq);
  server.pages.push_back(page);
  REQUIRE(d.sync(server).ok);
  CHECK(d.store().entries("patient-01", "vital_signs").size() == 1);
  CHECK(d.history("patient-01").summarised[2].count == 1);

  // On demand: the server's timeline, less what the device holds.
  api::TimelineEntry oldEntry;
  oldEntry.set_operation_id(oldVitals.vitals.id());
  *oldEntry.mutable_vital_signs() = oldVitals.vitals;
  oldEntry.set_recorded_at(oldVitals.vitals.observed_at());
  server.timelineAnswer.add_entries()->CopyFrom(oldEntry);
  api::TimelineEntry held;
  held.set_operation_id(h.recent[0].id);
  server.timelineAnswer.add_entries()->CopyFrom(held);
  // Synced late: after the others in the server's log, older than them all.
  api::TimelineEntry late;
  late.set_operation_id("other-tablet:1");
  late.set_recorded_at(sync::formatRfc3339(kMorning - 3 * kDayMs));
  late.mutable_note()->set_text("Written offline long ago");
  server.timelineAnswer.add_entries()->CopyFrom(late);
  d.store().setMeta("device_token", "device-token");
  const auto fetched = d.fetchHistory(server, "patient-01");
  REQUIRE(fetched.size() == 2);
  CHECK(fetched[0].note().text() == "Written offline long ago");
  CHECK(fetched[1].vital_signs().id() == oldVitals.vitals.id());
  CHECK(server.timelineToken == "device-token");
  CHECK(d.store().entries("patient-01", "vital_signs").size() == 1);  // not kept

  d.setHistoryWindowDays(90);
  CHECK(d.historyWindowDays() == 90);
}

// Today's visit at patient-01, recorded in full: started, both checklist
// answers, the dose given, ended.
void recordWholeVisit(mobile::Device& d) {
  d.startVisit("patient-01-visit-1");
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::DONE);
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-2", Outcome::DONE);
  d.recordMedication("patient-01-visit-1", "patient-01-med-1", true);
  d.endVisit("patient-01-visit-1");
}

void checkVisitHeld(mobile::Device& d) {
  const auto view = d.visit("patient-01-visit-1");
  CHECK(view.visit.status() == domain::Visit::DONE);
  REQUIRE(view.checklist.size() == 2);
  CHECK(view.checklist[0].outcome);
  CHECK(view.checklist[1].outcome);
  const auto doses = d.store().visitEntries("patient-01-visit-1", "medication_administration");
  REQUIRE(doses.size() == 1);
  CHECK(doses[0].entry.medication_administration().given());
}

TEST_CASE("history window: a tablet clock weeks ahead keeps today's visit and messages") {
  World world;
  auto& d = world.device;
  world.clock.m_now = kMorning + 60 * kDayMs;  // further ahead than the window
  recordWholeVisit(d);
  d.sendMessage("patient-01", "Dressing changed, wound looks clean");
  // As the real server does: every operation is refused once as too far
  // ahead, stamped again on the corrected clock and sent again.
  FakeServer server;
  server.serverTimeMs = kMorning + 3600 * 1000;
  for (const auto& op : d.store().outbox(100)) server.skewed.push_back(op.id());
  auto report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.serverTimeMs == server.serverTimeMs);
  CHECK(d.status().pending == 0);
  CHECK(report.summarised == 0);
  checkVisitHeld(d);
  CHECK(d.messages("patient-01").size() == 1);
  CHECK(d.history("patient-01").summarised.empty());
  // Today is the server's today, not the tablet's.
  CHECK(d.visits().size() == 2);

  // Recorded after the offset is known, stamped on the corrected clock.
  d.writeNote("patient-01", "", "Called the pharmacy");
  report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 0);
  CHECK(d.notes("patient-01").size() == 1);

  // A month later by the server's clock, all of it is old: summarised.
  world.clock.m_now += 31 * kDayMs;
  server.serverTimeMs += 31 * kDayMs;
  report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 5);
  CHECK(d.store().visitEntries("patient-01-visit-1", "medication_administration").empty());
  CHECK(d.messages("patient-01").empty());
  CHECK(d.notes("patient-01").empty());
}

TEST_CASE("history window: a tablet clock weeks behind keeps today's finished visit") {
  World world;
  auto& d = world.device;
  world.clock.m_now = kMorning - 60 * kDayMs;
  // Started (as the server last told the tablet) and worked on offline.
  d.store().inTransaction([&] {
    d.store().applyRemote(
        {remoteWrite(world.plan.size() + 1, "patient-01", "visit", "patient-01-visit-1", "status", "IN_PROGRESS")},
        world.plan.size() + 1);
  });
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::DONE);
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-2", Outcome::DONE);
  d.recordMedication("patient-01-visit-1", "patient-01-med-1", true);
  // The visit is marked done on the server (by the coordinator).
  FakeServer server;
  server.serverTimeMs = kMorning + 3600 * 1000;
  sync::PullResponse page;
  *page.add_operations() =
      remoteWrite(world.plan.size() + 2, "patient-01", "visit", "patient-01-visit-1", "status", "DONE");
  page.set_next_cursor(world.plan.size() + 2);
  server.pages.push_back(page);
  const auto report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(d.status().pending == 0);
  // The entries' clocks say two months ago, older than the window; the
  // visit is today's.
  const auto answers = d.store().visitEntries("patient-01-visit-1", "task_outcome");
  REQUIRE(answers.size() == 2);
  CHECK(sync::hlcMillis(answers[0].hlc) < kMorning - 30 * kDayMs);
  CHECK(report.summarised == 0);
  checkVisitHeld(d);

  // Once the day is over, the finished visit's old entries go.
  world.clock.m_now += kDayMs;
  server.serverTimeMs += kDayMs;
  REQUIRE(d.sync(server).summarised == 3);
  CHECK(d.store().visitEntries("patient-01-visit-1", "task_outcome").empty());
}

TEST_CASE("history window: entries of a visit not finished stay however old they are") {
  World world;
  auto& d = world.device;
  d.startVisit("patient-01-visit-1");
  d.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::DONE);
  d.recordMedication("patient-01-visit-1", "patient-01-med-1", true);
  d.sendMessage("patient-01", "Hello");
  FakeServer server;
  REQUIRE(d.sync(server).ok);

  world.clock.m_now += 40 * kDayMs;
  auto report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 1);  // the message, of no visit
  CHECK(d.messages("patient-01").empty());
  CHECK(d.visit("patient-01-visit-1").checklist[0].outcome);
  CHECK(d.store().visitEntries("patient-01-visit-1", "medication_administration").size() == 1);

  // Cancelled later (by the coordinator): then they follow the window.
  sync::PullResponse page;
  auto cancelled =
      remoteWrite(world.plan.size() + 1, "patient-01", "visit", "patient-01-visit-1", "status", "CANCELLED");
  cancelled.set_hlc(sync::makeHlc(world.clock.m_now, 0));
  *page.add_operations() = cancelled;
  page.set_next_cursor(world.plan.size() + 1);
  server.pages.push_back(page);
  report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 2);
  CHECK_FALSE(d.visit("patient-01-visit-1").checklist[0].outcome);
}

TEST_CASE("history window: a tablet clock near 1970 without a server time summarises nothing") {
  World world;
  auto& d = world.device;
  world.clock.m_now = 1000;
  d.sendMessage("patient-01", "Hello");
  FakeServer server;  // gives no server time
  const auto report = d.sync(server);
  REQUIRE(report.ok);
  CHECK(report.summarised == 0);
  CHECK(d.messages("patient-01").size() == 1);
}

TEST_CASE("visits: offline unlock with the password of the online sign-in; locked after repeated failures") {
  FixedClock clock{kMorning};
  mobile::Device device(":memory:", clock);
  FakeServer server;
  CHECK_THROWS_AS(device.unlock("nurse-karin", "demo"), mobile::UnlockRefused);
  device.setUnlockIterations(1000);
  CHECK_THROWS_WITH(device.setUnlockIterations(10), Catch::Contains("unlock.iterations"));
  device.signIn(server, "nurse-karin", "demo", "tablet-karin");
  CHECK(device.store().meta("unlock_hash").value_or("").size() == 64);
  CHECK(device.store().meta("unlock_hash").value_or("").find("demo") == std::string::npos);
  CHECK(device.unlock("nurse-karin", "demo").user_id() == "nurse-karin");

  CHECK_THROWS_WITH(device.unlock("nurse-karin", "wrong"), Catch::Contains("wrong username or password"));
  CHECK_THROWS_WITH(device.unlock("nurse-olle", "demo"), Catch::Contains("wrong username or password"));
  // A success in between starts the count again.
  CHECK(device.unlock("nurse-karin", "demo").name() == "Karin Lund");
  for (int i = 0; i < mobile::Device::kMaxUnlockFailures; ++i) {
    CHECK_THROWS_AS(device.unlock("nurse-karin", "wrong"), mobile::UnlockRefused);
  }
  CHECK_THROWS_WITH(device.unlock("nurse-karin", "demo"), Catch::Contains("locked"));
  // Online again: unlocked.
  device.signIn(server, "nurse-karin", "demo", "tablet-karin");
  CHECK(device.unlock("nurse-karin", "demo").user_id() == "nurse-karin");
}
