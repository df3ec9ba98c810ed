// The server's side of the nurse's visit, against the real server binary in
// the demo world: a tablet's proposed plan change queued for the physician
// (once, however often it is pushed), signed and in the plan; vital signs
// scoring medium raising an alert and joining the NEWS2 trend, with the same
// visibility rules as the timeline; the new entries in the timeline; plan
// edits a tablet may and may not push.

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using test::call;

std::int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A signed-in tablet and its raw link to the server, for pushing hand-built
// operations as the tablet would.
struct Tablet {
  Tablet(const test::TempDir& dir, const test::ServerProcess& server, const std::string& userId,
         const std::string& deviceId)
      : id(deviceId),
        user(userId),
        device(dir.file(deviceId + ".db"), clock),
        link(mobile::ServerAddress::parse(server.url())) {
    test::signIn(device, server, userId, deviceId);
    link.setToken(*device.store().meta("device_token"));
  }

  // An operation of this tablet about `patient`, with a fresh id.
  sync::Operation operation(const std::string& patient, const std::string& entityType, const std::string& entityId) {
    sync::Operation op;
    op.set_id(id + ":" + std::to_string(9000 + ++counter));
    op.set_author_id(user);
    op.set_device_id(id);
    op.set_hlc(sync::makeHlc(nowMs(), 0));
    op.set_patient_id(patient);
    op.set_entity_type(entityType);
    op.set_entity_id(entityId);
    op.set_recorded_at(sync::formatRfc3339(nowMs()));
    return op;
  }

  sync::PushResponse push(const std::vector<sync::Operation>& ops) {
    sync::PushRequest request;
    request.set_protocol_version(sync::kProtocolVersion);
    request.set_device_id(id);
    for (const auto& op : ops) *request.add_operations() = op;
    return link.push(request);
  }

  std::string id;
  std::string user;
  int counter = 0;
  mobile::SystemClock clock;
  mobile::Device device;
  mobile::HttpTransport link;
};

// A set of vital signs as a tablet records it, with the NEWS2 it worked out.
sync::Operation vitalSigns(Tablet& tablet, const std::string& patient, const std::string& id, std::int64_t atMs,
                           int score, domain::News2Risk risk) {
  sync::Operation op = tablet.operation(patient, "vital_signs", id);
  domain::VitalSigns& v = *op.mutable_append()->mutable_vital_signs();
  v.set_id(id);
  v.set_patient_id(patient);
  v.set_author_id(tablet.user);
  v.set_observed_at(sync::formatRfc3339(atMs));
  v.set_respiratory_rate(22);
  v.set_spo2(95);
  v.set_on_oxygen(false);
  v.set_systolic_bp(105);
  v.set_pulse(95);
  v.set_consciousness(domain::ALERT);
  v.set_temperature_c(38.4);
  v.set_news2_score(score);
  v.set_news2_risk(risk);
  return op;
}

void requireOk(const test::HttpAnswer& answer) {
  INFO(answer.status << " " << answer.body);
  REQUIRE(answer.status == 200);
}

}  // namespace

TEST_CASE("a tablet's proposed plan change is queued once for the physician, signed, and the plan shows it") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet olle(dir, server, "nurse-olle", "tablet-olle");
  REQUIRE(olle.device.sync(olle.link).ok);
  const auto frequency = olle.device.field("patient-01", "care_plan_activity", "patient-01-act-2", "frequency");
  REQUIRE(frequency);
  REQUIRE(frequency->value == "daily");

  const std::int64_t proposedAt = nowMs() - 60'000;
  sync::Operation op = olle.operation("patient-01", "proposed_change", "tablet-olle-proposal-1");
  domain::ProposedChange& change = *op.mutable_append()->mutable_proposed_change();
  change.set_id("tablet-olle-proposal-1");
  change.set_patient_id("patient-01");
  change.set_author_id("nurse-olle");
  change.set_entity_type("care_plan_activity");
  change.set_entity_id("patient-01-act-2");
  change.set_field("frequency");
  change.set_proposed_value("twice daily");
  change.set_reason("NEWS2 rising, checks twice a day");
  change.set_base_hlc(frequency->hlc);
  change.set_proposed_at(sync::formatRfc3339(proposedAt));

  auto response = olle.push({op});
  INFO(response.DebugString());
  REQUIRE(response.acks_size() == 1);
  CHECK_FALSE(response.acks(0).duplicate());
  // The answer to the push was lost: the tablet pushes again.
  response = olle.push({op});
  REQUIRE(response.acks_size() == 1);
  CHECK(response.acks(0).duplicate());

  const std::string sara = test::login(port, "physician-sara");
  auto queue = test::parsed<api::ProposalList>(call(port, "GET", "/api/v1/proposals", sara).body);
  int found = 0;
  for (const auto& proposal : queue.proposals()) {
    if (proposal.id() != "tablet-olle-proposal-1") continue;
    ++found;
    CHECK(proposal.patient_id() == "patient-01");
    CHECK(proposal.proposer_id() == "nurse-olle");
    CHECK(proposal.entity_type() == "care_plan_activity");
    CHECK(proposal.entity_id() == "patient-01-act-2");
    CHECK(proposal.field() == "frequency");
    CHECK(proposal.proposed_value() == "twice daily");
    CHECK(proposal.current_value() == "daily");
    CHECK(proposal.reason() == "NEWS2 rising, checks twice a day");
    CHECK(proposal.base_hlc() == frequency->hlc);
    CHECK(proposal.created_at() == sync::formatRfc3339(proposedAt));
    CHECK(proposal.status() == api::PlanChangeProposal::PENDING);
  }
  CHECK(found == 1);

  // The timeline shows it with its author and organisation.
  const auto timeline =
      test::parsed<api::Timeline>(call(port, "GET", "/api/v1/patients/patient-01/timeline", sara).body);
  bool inTimeline = false;
  for (const auto& entry : timeline.entries()) {
    if (!entry.has_proposed_change() || entry.proposed_change().id() != "tablet-olle-proposal-1") continue;
    inTimeline = true;
    CHECK(entry.author_id() == "nurse-olle");
    CHECK(entry.author_name() == "Olle Berg");
    CHECK(entry.organisation_id() == "org-norrby");
    CHECK(entry.organisation_name() == "Norrby kommun");
    CHECK(entry.recorded_at() == op.recorded_at());
  }
  CHECK(inTimeline);

  // Sara signs it; the plan carries the new frequency, and the tablet gets it.
  auto answer = call(port, "POST", "/api/v1/proposals/tablet-olle-proposal-1/sign", sara);
  requireOk(answer);
  CHECK(test::parsed<api::PlanChangeProposal>(answer.body).status() == api::PlanChangeProposal::SIGNED);
  const auto record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", sara).body);
  bool planChanged = false;
  for (const auto& activity : record.plan().activities()) {
    if (activity.id() == "patient-01-act-2") planChanged = activity.frequency() == "twice daily";
  }
  CHECK(planChanged);
  REQUIRE(olle.device.sync(olle.link).ok);
  CHECK(olle.device.field("patient-01", "care_plan_activity", "patient-01-act-2", "frequency")->value == "twice daily");

  // Pushed a third time after the decision, it stays signed and single.
  response = olle.push({op});
  REQUIRE(response.acks_size() == 1);
  CHECK(response.acks(0).duplicate());
  const auto all =
      test::parsed<api::ProposalList>(call(port, "GET", "/api/v1/patients/patient-01/proposals", sara).body);
  int copies = 0;
  for (const auto& proposal : all.proposals()) {
    if (proposal.id() != "tablet-olle-proposal-1") continue;
    ++copies;
    CHECK(proposal.status() == api::PlanChangeProposal::SIGNED);
  }
  CHECK(copies == 1);
}

TEST_CASE("what a tablet may push of the plan: proposals by nurses, the SpO2 scale only with the plan editor's role") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  Tablet lena(dir, server, "coordinator-lena", "tablet-lena");
  Tablet sara(dir, server, "physician-sara", "tablet-sara");

  auto scaleWrite = [](Tablet& tablet) {
    sync::Operation op = tablet.operation("patient-01", "care_plan", "patient-01");
    op.mutable_write()->set_field("spo2_scale_2");
    op.mutable_write()->set_value("true");
    return op;
  };
  // A nurse's tablet may not write the plan's SpO2 scale.
  auto response = karin.push({scaleWrite(karin)});
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(response.rejections(0).reason(), Catch::Contains("plan.edit"));
  // The home organisation's coordinator's may.
  response = lena.push({scaleWrite(lena)});
  REQUIRE(response.acks_size() == 1);
  const std::string lenaToken = test::login(port, "coordinator-lena");
  const auto record =
      test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", lenaToken).body);
  CHECK(record.plan().spo2_scale_2());

  // Proposals are the nurses': a physician's tablet may not push one.
  sync::Operation op = sara.operation("patient-01", "proposed_change", "tablet-sara-proposal-1");
  domain::ProposedChange& change = *op.mutable_append()->mutable_proposed_change();
  change.set_id("tablet-sara-proposal-1");
  change.set_patient_id("patient-01");
  change.set_author_id("physician-sara");
  change.set_entity_type("medication");
  change.set_entity_id("patient-01-med-1");
  change.set_field("dose");
  change.set_proposed_value("20 mg");
  change.set_proposed_at(sync::formatRfc3339(nowMs()));
  response = sara.push({op});
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(response.rejections(0).reason(), Catch::Contains("proposal.create"));
  const std::string saraToken = test::login(port, "physician-sara");
  const auto queue = test::parsed<api::ProposalList>(call(port, "GET", "/api/v1/proposals", saraToken).body);
  for (const auto& proposal : queue.proposals()) CHECK(proposal.id() != "tablet-sara-proposal-1");
}

TEST_CASE(
    "vital signs scoring medium raise an alert for the physician and join the NEWS2 trend, as visible as the entry") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string sara = test::login(port, "physician-sara");
  const std::string johan = test::login(port, "physician-johan");
  const std::string lena = test::login(port, "coordinator-lena");

  // The demo's alerts so far; polling from their end starts clean.
  auto alerts = test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts", sara).body);
  bool demoAlert = false;
  for (const auto& alert : alerts.alerts()) demoAlert = demoAlert || alert.patient_id() == "patient-05";
  CHECK(demoAlert);  // Einar's NEWS2 rose to medium this morning
  const std::uint64_t start = alerts.last_seq();
  REQUIRE(start > 0);
  alerts = test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts?after=" + std::to_string(start), sara).body);
  CHECK(alerts.alerts_size() == 0);
  CHECK(alerts.last_seq() == start);

  // Karin's tablet records eleven sets for patient-01: ten low, then one
  // medium (6), the newest.
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  const std::int64_t t0 = nowMs() - 11 * 3600'000LL;
  std::vector<sync::Operation> sets;
  for (int i = 0; i < 10; ++i) {
    sets.push_back(vitalSigns(karin, "patient-01", "karin-vitals-" + std::to_string(i), t0 + i * 3600'000LL, 2,
                              domain::NEWS2_LOW));
  }
  sets.push_back(vitalSigns(karin, "patient-01", "karin-vitals-medium", t0 + 10 * 3600'000LL, 6, domain::NEWS2_MEDIUM));
  auto pushed = karin.push(sets);
  INFO(pushed.DebugString());
  REQUIRE(pushed.acks_size() == 11);

  const auto before = audit.lastSeq();
  alerts = test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts?after=" + std::to_string(start), sara).body);
  REQUIRE(alerts.alerts_size() == 1);
  const api::Alert& alert = alerts.alerts(0);
  CHECK(alert.kind() == api::Alert::NEWS2);
  CHECK(alert.patient_id() == "patient-01");
  CHECK(alert.patient_name() == "Astrid Nyström");
  CHECK(alert.news2().vital_signs_id() == "karin-vitals-medium");
  CHECK(alert.news2().score() == 6);
  CHECK(alert.news2().risk() == domain::NEWS2_MEDIUM);
  CHECK(alert.author_id() == "nurse-karin");
  CHECK(alert.author_name() == "Karin Holm");
  CHECK(alert.seq() == pushed.acks(10).server_seq());
  CHECK(alerts.last_seq() >= alert.seq());
  // The read is audited, per patient.
  const auto entries = audit.since(before);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].userId == "physician-sara");
  CHECK(entries[0].action == "alert.read");
  CHECK(entries[0].patientId == "patient-01");
  CHECK(entries[0].outcome == "allowed");
  // The next poll has nothing new.
  CHECK(test::parsed<api::AlertList>(
            call(port, "GET", "/api/v1/alerts?after=" + std::to_string(alerts.last_seq()), sara).body)
            .alerts_size() == 0);
  // A physician outside the care team does not see it.
  const auto johans =
      test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts?after=" + std::to_string(start), johan).body);
  CHECK(johans.alerts_size() == 0);

  // The trend: the latest ten, oldest first, ending with the medium score.
  auto trendOf = [&](const std::string& token) {
    const auto list = test::parsed<api::PatientList>(call(port, "GET", "/api/v1/patients", token).body);
    for (const auto& summary : list.patients()) {
      if (summary.patient_id() == "patient-01") return summary;
    }
    FAIL("patient-01 not listed");
    return api::PatientSummary();
  };
  const auto summary = trendOf(sara);
  REQUIRE(summary.news2_size() == 10);
  CHECK(summary.news2(9).vital_signs_id() == "karin-vitals-medium");
  CHECK(summary.news2(9).score() == 6);
  CHECK(summary.news2(0).vital_signs_id() == "karin-vitals-1");
  for (int i = 1; i < summary.news2_size(); ++i) CHECK(summary.news2(i - 1).at() < summary.news2(i).at());

  // The timeline shows the set with its author, organisation and time.
  auto timeline = test::parsed<api::Timeline>(call(port, "GET", "/api/v1/patients/patient-01/timeline", sara).body);
  bool inTimeline = false;
  for (const auto& entry : timeline.entries()) {
    if (!entry.has_vital_signs() || entry.vital_signs().id() != "karin-vitals-medium") continue;
    inTimeline = true;
    CHECK(entry.author_name() == "Karin Holm");
    CHECK(entry.organisation_name() == "Norrby kommun");
    CHECK(entry.vital_signs().news2_score() == 6);
  }
  CHECK(inTimeline);

  // Patient-01 blocks Karin's unit: outside it, her entries are gone from
  // the physician's timeline, trend and alerts alike.
  requireOk(call(port, "POST", "/api/v1/patients/patient-01/blocks", lena, R"({"unitId": "unit-norrby-north"})"));
  CHECK(test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts?after=" + std::to_string(start), sara).body)
            .alerts_size() == 0);
  const api::PatientSummary trend = trendOf(sara);
  for (const auto& point : trend.news2()) CHECK(point.vital_signs_id().rfind("karin-vitals", 0) != 0);
  timeline = test::parsed<api::Timeline>(call(port, "GET", "/api/v1/patients/patient-01/timeline", sara).body);
  for (const auto& entry : timeline.entries()) CHECK(entry.author_id() != "nurse-karin");
}

TEST_CASE("urgent messages from a visit are alerts; alerts are for clinicians only; bad polls are refused") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string sara = test::login(port, "physician-sara");
  const std::uint64_t start = test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts", sara).body).last_seq();

  // An escalation: an urgent message with the vital signs attached.
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  sync::Operation op = karin.operation("patient-01", "message", "karin-escalation-1");
  domain::Message& message = *op.mutable_append()->mutable_message();
  message.set_id("karin-escalation-1");
  message.set_patient_id("patient-01");
  message.set_author_id("nurse-karin");
  message.set_text("NEWS2 7, please call");
  message.set_urgent(true);
  message.set_sent_at(sync::formatRfc3339(nowMs()));
  *message.mutable_vital_signs() =
      vitalSigns(karin, "patient-01", "karin-vitals-high", nowMs(), 7, domain::NEWS2_HIGH).append().vital_signs();
  // And a message that is not urgent: no alert.
  sync::Operation calm = karin.operation("patient-01", "message", "karin-message-2");
  domain::Message& note = *calm.mutable_append()->mutable_message();
  note = message;
  note.set_id("karin-message-2");
  note.set_urgent(false);
  note.clear_vital_signs();
  REQUIRE(karin.push({op, calm}).acks_size() == 2);

  const auto alerts =
      test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts?after=" + std::to_string(start), sara).body);
  REQUIRE(alerts.alerts_size() == 1);
  CHECK(alerts.alerts(0).kind() == api::Alert::URGENT_MESSAGE);
  CHECK(alerts.alerts(0).text() == "NEWS2 7, please call");
  CHECK(alerts.alerts(0).news2().score() == 7);
  CHECK(alerts.alerts(0).news2().risk() == domain::NEWS2_HIGH);

  // Patients and administrators get no alerts; the attempt is audited.
  for (const std::string user : {"admin-ada", "patient-01"}) {
    const auto before = audit.lastSeq();
    const auto answer = call(port, "GET", "/api/v1/alerts", test::login(port, user));
    INFO(user << ": " << answer.body);
    CHECK(answer.status == 403);
    CHECK_THAT(answer.error(), Catch::StartsWith("alert.read:"));
    bool audited = false;
    for (const auto& row : audit.since(before)) {
      audited = audited || (row.action == "alert.read" && row.outcome.rfind("denied", 0) == 0);
    }
    CHECK(audited);
  }
  auto answer = call(port, "GET", "/api/v1/alerts?after=-1", sara);
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("after:"));
  answer = call(port, "GET", "/api/v1/alerts?since=3", sara);
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("since:"));
}

TEST_CASE("a visit on the real device core reaches the physician: alert, escalation, proposal signed, reply") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string sara = test::login(port, "physician-sara");
  const std::uint64_t start = test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts", sara).body).last_seq();

  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  REQUIRE(karin.device.sync(karin.link).ok);
  karin.device.startVisit("patient-01-visit-1");
  mobile::VitalSigns vitals;
  vitals.respiratoryRate = 22;
  vitals.spo2 = 95;
  vitals.onOxygen = false;
  vitals.systolicBp = 105;
  vitals.pulse = 95;
  vitals.consciousness = mobile::Consciousness::Alert;
  vitals.temperatureC = 38.4;
  const auto recorded = karin.device.recordVitalSigns("patient-01-visit-1", vitals);
  REQUIRE(recorded.vitals.news2_score() == 6);
  REQUIRE(recorded.escalation);
  const auto proposal = karin.device.proposeChange("patient-01", "care_plan_activity", "patient-01-act-2", "frequency",
                                                   "twice daily", "NEWS2 6 at the morning visit");
  const auto synced = karin.device.sync(karin.link);
  INFO(synced.error);
  REQUIRE(synced.ok);

  // Sara sees the score and the escalation at her next poll.
  const auto alerts =
      test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts?after=" + std::to_string(start), sara).body);
  std::set<int> kinds;
  for (const auto& alert : alerts.alerts()) {
    CHECK(alert.patient_id() == "patient-01");
    CHECK(alert.author_name() == "Karin Holm");
    kinds.insert(alert.kind());
    if (alert.kind() == api::Alert::NEWS2) CHECK(alert.news2().vital_signs_id() == recorded.vitals.id());
    if (alert.kind() == api::Alert::URGENT_MESSAGE) CHECK(alert.text() == recorded.escalation->text());
  }
  CHECK(kinds == std::set<int>{api::Alert::NEWS2, api::Alert::URGENT_MESSAGE});
  // And the trend ends with it.
  const auto list = test::parsed<api::PatientList>(call(port, "GET", "/api/v1/patients", sara).body);
  for (const auto& summary : list.patients()) {
    if (summary.patient_id() != "patient-01") continue;
    REQUIRE(summary.news2_size() > 0);
    CHECK(summary.news2(summary.news2_size() - 1).vital_signs_id() == recorded.vitals.id());
    CHECK(summary.news2(summary.news2_size() - 1).risk() == domain::NEWS2_MEDIUM);
  }

  // The proposal is in her queue; she signs it and answers the escalation.
  const auto queue = test::parsed<api::ProposalList>(call(port, "GET", "/api/v1/proposals", sara).body);
  bool queued = false;
  for (const auto& p : queue.proposals()) queued = queued || p.id() == proposal.id();
  REQUIRE(queued);
  requireOk(call(port, "POST", "/api/v1/proposals/" + proposal.id() + "/sign", sara));
  requireOk(
      call(port, "POST", "/api/v1/patients/patient-01/messages", sara,
           R"({"text": "Paracetamol 1 g now, I come at two", "inReplyTo": ")" + recorded.escalation->id() + "\"}"));

  // Karin's tablet gets the signed plan and the reply.
  REQUIRE(karin.device.sync(karin.link).ok);
  CHECK(karin.device.field("patient-01", "care_plan_activity", "patient-01-act-2", "frequency")->value ==
        "twice daily");
  bool replied = false;
  for (const auto& message : karin.device.messages("patient-01")) {
    if (message.in_reply_to() != recorded.escalation->id()) continue;
    replied = true;
    CHECK(message.author_id() == "physician-sara");
    CHECK(message.recipient_id() == "nurse-karin");
  }
  CHECK(replied);
}

// Regressions of a review of what tablets may push.

namespace {

sync::Operation fieldWrite(Tablet& tablet, const std::string& patient, const std::string& entityType,
                           const std::string& entityId, const std::string& field, const std::string& value) {
  sync::Operation op = tablet.operation(patient, entityType, entityId);
  op.mutable_write()->set_field(field);
  op.mutable_write()->set_value(value);
  return op;
}

}  // namespace

TEST_CASE("a nurse's tablet may not write medications or reschedule visits; it may carry out its visit") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  Tablet lena(dir, server, "coordinator-lena", "tablet-lena");
  const std::string sara = test::login(port, "physician-sara");
  const auto before = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", sara).body);
  REQUIRE(before.plan().medications_size() == 1);
  REQUIRE(before.visits_size() >= 1);

  const std::string visit = "patient-01-visit-1";
  const std::vector<sync::Operation> refused = {
      fieldWrite(karin, "patient-01", "medication", "patient-01-med-1", "name", "Warfarin"),
      fieldWrite(karin, "patient-01", "medication", "patient-01-med-1", "dose", "500 mg"),
      fieldWrite(karin, "patient-01", "medication", "patient-01-med-1", "frequency", "hourly"),
      fieldWrite(karin, "patient-01", "visit", visit, "nurse_id", "nurse-olle"),
      fieldWrite(karin, "patient-01", "visit", visit, "scheduled_start", "2030-01-01T08:00:00Z"),
      fieldWrite(karin, "patient-01", "visit", visit, "activity_id", "patient-01-act-3"),
  };
  const char* needs[] = {"write.field: medication.name needs plan.edit",
                         "write.field: medication.dose needs plan.edit",
                         "write.field: medication.frequency needs plan.edit",
                         "write.field: visit.nurse_id needs visit.schedule",
                         "write.field: visit.scheduled_start needs visit.schedule",
                         "write.field: visit.activity_id needs visit.schedule"};
  auto response = karin.push(refused);
  INFO(response.DebugString());
  CHECK(response.acks_size() == 0);
  REQUIRE(response.rejections_size() == static_cast<int>(refused.size()));
  for (std::size_t i = 0; i < refused.size(); ++i) {
    CHECK(response.rejections(static_cast<int>(i)).code() == sync::OperationRejection::FORBIDDEN);
    CHECK_THAT(response.rejections(static_cast<int>(i)).reason(),
               Catch::Contains(needs[i]) && Catch::Contains("not allowed for the role NURSE"));
  }
  const auto after = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", sara).body);
  CHECK(after.plan().medications(0).SerializeAsString() == before.plan().medications(0).SerializeAsString());
  CHECK(after.visits(0).SerializeAsString() == before.visits(0).SerializeAsString());

  // A resolution naming an earlier write of the dose, with no conflict
  // recorded, is a plain write of the dose: refused as well.
  REQUIRE(karin.device.sync(karin.link).ok);
  const auto dose = karin.device.field("patient-01", "medication", "patient-01-med-1", "dose");
  REQUIRE(dose);
  sync::Operation fakeResolution = fieldWrite(karin, "patient-01", "medication", "patient-01-med-1", "dose", "500 mg");
  fakeResolution.mutable_write()->set_resolves_conflict_id("conflict:" + dose->opId);
  response = karin.push({fakeResolution});
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(response.rejections(0).reason(), Catch::Contains("medication.dose needs plan.edit"));

  // What the visit itself needs is the nurse's: its status and times, the
  // tasks done, the patient's facts, the entries.
  sync::Operation task = karin.operation("patient-01", "visit", visit);
  task.mutable_set_add()->set_set("completed_tasks");
  task.mutable_set_add()->set_element("patient-01-act-1");
  response =
      karin.push({fieldWrite(karin, "patient-01", "visit", visit, "status", "IN_PROGRESS"),
                  fieldWrite(karin, "patient-01", "visit", visit, "started_at", "2026-01-01T08:00:00Z"),
                  fieldWrite(karin, "patient-01", "patient", "patient-01", "access_notes", "Dog in the hall"), task});
  INFO(response.DebugString());
  CHECK(response.acks_size() == 4);

  // The home coordinator's tablet may reschedule and edit the medication.
  response = lena.push({fieldWrite(lena, "patient-01", "visit", visit, "nurse_id", "nurse-olle"),
                        fieldWrite(lena, "patient-01", "medication", "patient-01-med-1", "dose", "25 mg")});
  INFO(response.DebugString());
  CHECK(response.acks_size() == 2);
  const auto edited = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", sara).body);
  CHECK(edited.plan().medications(0).dose() == "25 mg");
  bool reassigned = false;
  for (const auto& v : edited.visits()) reassigned = reassigned || (v.id() == visit && v.nurse_id() == "nurse-olle");
  CHECK(reassigned);
}

namespace {

sync::Operation proposalEntry(Tablet& tablet, const std::string& patient, const std::string& id,
                              const std::string& entityType, const std::string& entityId, const std::string& field,
                              const std::string& value) {
  sync::Operation op = tablet.operation(patient, "proposed_change", id);
  domain::ProposedChange& change = *op.mutable_append()->mutable_proposed_change();
  change.set_id(id);
  change.set_patient_id(patient);
  change.set_author_id(tablet.user);
  change.set_entity_type(entityType);
  change.set_entity_id(entityId);
  change.set_field(field);
  change.set_proposed_value(value);
  change.set_reason("review");
  change.set_proposed_at(sync::formatRfc3339(nowMs()));
  return op;
}

bool queued(int port, const std::string& token, const std::string& path, const std::string& proposalId) {
  const auto answer = call(port, "GET", path, token);
  INFO(path << ": " << answer.body);
  REQUIRE(answer.status == 200);
  const auto list = test::parsed<api::ProposalList>(answer.body);
  for (const auto& proposal : list.proposals()) {
    if (proposal.id() == proposalId) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a proposal that would wipe a field or change nothing is refused, on tablets, on the web and at signing") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");

  const std::vector<sync::Operation> bad = {
      proposalEntry(karin, "patient-01", "p-empty", "medication", "patient-01-med-1", "dose", ""),
      proposalEntry(karin, "patient-01", "p-other-plan", "care_plan", "patient-02", "spo2_scale_2", "true"),
      proposalEntry(karin, "patient-01", "p-scale", "care_plan", "patient-01", "spo2_scale_2", "maybe"),
  };
  const char* fields[] = {"append.proposed_change.proposed_value: empty",
                          "append.proposed_change.entity_id: the care_plan of patient-01 is patient-01",
                          "append.proposed_change.proposed_value: care_plan.spo2_scale_2 is \"true\" or \"false\""};
  auto response = karin.push(bad);
  INFO(response.DebugString());
  CHECK(response.acks_size() == 0);
  REQUIRE(response.rejections_size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(response.rejections(i).code() == sync::OperationRejection::INVALID);
    CHECK_THAT(response.rejections(i).reason(), Catch::Contains(fields[i]));
  }
  response =
      karin.push({proposalEntry(karin, "patient-01", "p-good", "care_plan", "patient-01", "spo2_scale_2", "true")});
  CHECK(response.acks_size() == 1);

  // The web's proposals alike.
  const std::string karinToken = test::login(port, "nurse-karin");
  auto answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", karinToken,
                     R"({"entityType": "care_plan", "entityId": "patient-01", "field": "spo2_scale_2",
                         "proposedValue": "yes please"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("proposed_value: care_plan.spo2_scale_2 is \"true\" or \"false\""));
  answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", karinToken,
                R"({"entityType": "care_plan", "entityId": "patient-01", "field": "spo2_scale_2",
                    "proposedValue": "false"})");
  CHECK(answer.status == 200);

  // A proposal queued before these checks (as an older server stored it):
  // it cannot be signed, only rejected.
  api::PlanChangeProposal old;
  old.set_id("proposal-from-before");
  old.set_patient_id("patient-01");
  old.set_proposer_id("nurse-karin");
  old.set_entity_type("medication");
  old.set_entity_id("patient-01-med-1");
  old.set_field("dose");
  old.set_status(api::PlanChangeProposal::PENDING);
  old.set_created_at("2026-01-01T08:00:00.000Z");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("server.db").c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* insert = nullptr;
    REQUIRE(sqlite3_prepare_v2(db,
                               "INSERT INTO proposals(id, patient_id, status, created_at, body) VALUES(?, ?, ?, ?, ?)",
                               -1, &insert, nullptr) == SQLITE_OK);
    const std::string body = old.SerializeAsString();
    sqlite3_bind_text(insert, 1, old.id().c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, old.patient_id().c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(insert, 3, old.status());
    sqlite3_bind_text(insert, 4, old.created_at().c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(insert, 5, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    CHECK(sqlite3_step(insert) == SQLITE_DONE);
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }
  const std::string sara = test::login(port, "physician-sara");
  REQUIRE(queued(port, sara, "/api/v1/proposals", "proposal-from-before"));
  answer = call(port, "POST", "/api/v1/proposals/proposal-from-before/sign", sara);
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("cannot be signed (proposed_value: empty)"));
  const auto record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", sara).body);
  CHECK_FALSE(record.plan().medications(0).dose().empty());
  answer = call(port, "POST", "/api/v1/proposals/proposal-from-before/reject", sara, R"({"reason": "empty dose"})");
  CHECK(answer.status == 200);
}

TEST_CASE("a proposal id is used once: another entry with a queued proposal's id is refused, a retry is not") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  Tablet olle(dir, server, "nurse-olle", "tablet-olle");

  const sync::Operation first = proposalEntry(karin, "patient-01", "shared-proposal-id", "care_plan_activity",
                                              "patient-01-act-2", "frequency", "twice daily");
  auto response = karin.push({first});
  REQUIRE(response.acks_size() == 1);
  // A retry of the same operation is a duplicate, as always.
  response = karin.push({first});
  REQUIRE(response.acks_size() == 1);
  CHECK(response.acks(0).duplicate());

  // Another tablet's entry with the same proposal id: refused, not stored.
  const sync::Operation second =
      proposalEntry(olle, "patient-01", "shared-proposal-id", "medication", "patient-01-med-1", "dose", "1000 mg");
  response = olle.push({second});
  INFO(response.DebugString());
  CHECK(response.acks_size() == 0);
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).code() == sync::OperationRejection::INVALID);
  CHECK_THAT(response.rejections(0).reason(),
             Catch::StartsWith("append.proposed_change.id: a proposal shared-proposal-id exists already"));
  // Two in one push: the first is queued, the second refused.
  const sync::Operation a =
      proposalEntry(olle, "patient-01", "twice-in-one-push", "medication", "patient-01-med-1", "dose", "25 mg");
  const sync::Operation b = proposalEntry(olle, "patient-01", "twice-in-one-push", "medication", "patient-01-med-1",
                                          "frequency", "once daily");
  response = olle.push({a, b});
  REQUIRE(response.acks_size() == 1);
  CHECK(response.acks(0).operation_id() == a.id());
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).operation_id() == b.id());

  const std::string sara = test::login(port, "physician-sara");
  const auto timeline =
      test::parsed<api::Timeline>(call(port, "GET", "/api/v1/patients/patient-01/timeline", sara).body);
  int entries = 0;
  for (const auto& entry : timeline.entries()) {
    if (entry.has_proposed_change() &&
        (entry.proposed_change().id() == "shared-proposal-id" || entry.proposed_change().id() == "twice-in-one-push")) {
      ++entries;
    }
  }
  CHECK(entries == 2);  // neither refused entry is stored
  const auto all =
      test::parsed<api::ProposalList>(call(port, "GET", "/api/v1/patients/patient-01/proposals", sara).body);
  for (const auto& proposal : all.proposals()) {
    if (proposal.id() == "shared-proposal-id") CHECK(proposal.proposer_id() == "nurse-karin");
    if (proposal.id() == "twice-in-one-push") CHECK(proposal.field() == "dose");
  }
}

TEST_CASE("proposals are listed like timeline entries: not from a unit the patient blocked") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");  // unit-norrby-north
  REQUIRE(karin
              .push({proposalEntry(karin, "patient-01", "karin-north-proposal", "care_plan_activity",
                                   "patient-01-act-2", "frequency", "twice daily")})
              .acks_size() == 1);
  const std::string sara = test::login(port, "physician-sara");
  CHECK(queued(port, sara, "/api/v1/proposals", "karin-north-proposal"));
  CHECK(queued(port, sara, "/api/v1/patients/patient-01/proposals", "karin-north-proposal"));

  const std::string astrid = test::login(port, "patient-01");
  requireOk(call(port, "POST", "/api/v1/patients/patient-01/blocks", astrid, R"({"unitId": "unit-norrby-north"})"));
  CHECK_FALSE(queued(port, sara, "/api/v1/proposals", "karin-north-proposal"));
  CHECK_FALSE(queued(port, sara, "/api/v1/patients/patient-01/proposals", "karin-north-proposal"));
  const auto sign = call(port, "POST", "/api/v1/proposals/karin-north-proposal/sign", sara);
  CHECK(sign.status == 404);
  // Inside the blocked unit, and for the patient, it is still there.
  CHECK(queued(port, test::login(port, "coordinator-lena"), "/api/v1/patients/patient-01/proposals",
               "karin-north-proposal"));
  CHECK(queued(port, astrid, "/api/v1/patients/patient-01/proposals", "karin-north-proposal"));
}

TEST_CASE("vital signs whose NEWS2 risk does not match the score are refused; the trend orders by the instant") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  const std::string sara = test::login(port, "physician-sara");
  const std::uint64_t start = test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts", sara).body).last_seq();

  // Score 7 is high risk; a tablet claiming low raises no alert: refused.
  sync::Operation understated = vitalSigns(karin, "patient-01", "understated", nowMs(), 7, domain::NEWS2_LOW);
  sync::Operation overstated = vitalSigns(karin, "patient-01", "overstated", nowMs(), 2, domain::NEWS2_LOW_MEDIUM);
  auto response = karin.push({understated, overstated});
  INFO(response.DebugString());
  CHECK(response.acks_size() == 0);
  REQUIRE(response.rejections_size() == 2);
  CHECK(response.rejections(0).code() == sync::OperationRejection::INVALID);
  CHECK_THAT(response.rejections(0).reason(),
             Catch::Contains("append.vital_signs.news2_risk: NEWS2_LOW does not match news2_score 7 (NEWS2_HIGH)"));
  CHECK_THAT(response.rejections(1).reason(),
             Catch::Contains("append.vital_signs.news2_risk: NEWS2_LOW_MEDIUM does not match news2_score 2"));
  CHECK(test::parsed<api::AlertList>(call(port, "GET", "/api/v1/alerts?after=" + std::to_string(start), sara).body)
            .alerts_size() == 0);

  // Two sets whose times, as written, sort the wrong way round as text:
  // 10:00+02:00 is 08:00 UTC, before 09:00Z.
  sync::Operation earlier = vitalSigns(karin, "patient-01", "earlier", nowMs(), 6, domain::NEWS2_MEDIUM);
  earlier.mutable_append()->mutable_vital_signs()->set_observed_at("2030-01-01T10:00:00+02:00");
  sync::Operation later = vitalSigns(karin, "patient-01", "later", nowMs(), 6, domain::NEWS2_MEDIUM);
  later.mutable_append()->mutable_vital_signs()->set_observed_at("2030-01-01T09:00:00Z");
  REQUIRE(karin.push({later, earlier}).acks_size() == 2);
  const auto patients = test::parsed<api::PatientList>(call(port, "GET", "/api/v1/patients", sara).body);
  bool found = false;
  for (const auto& summary : patients.patients()) {
    if (summary.patient_id() != "patient-01") continue;
    found = true;
    const int n = summary.news2_size();
    REQUIRE(n >= 2);
    CHECK(summary.news2(n - 2).vital_signs_id() == "earlier");
    CHECK(summary.news2(n - 1).vital_signs_id() == "later");
  }
  CHECK(found);
}

TEST_CASE("alerts after a cursor beyond any sequence number are refused, naming after") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string sara = test::login(port, "physician-sara");
  for (const char* after : {"9223372036854775808", "18446744073709551615"}) {
    const auto answer = call(port, "GET", std::string("/api/v1/alerts?after=") + after, sara);
    INFO(answer.body);
    CHECK(answer.status == 400);
    CHECK_THAT(answer.error(),
               Catch::StartsWith("after: " + std::string(after) + " is larger than any sequence number"));
  }
  const auto last = call(port, "GET", "/api/v1/alerts?after=9223372036854775807", sara);
  REQUIRE(last.status == 200);
  CHECK(test::parsed<api::AlertList>(last.body).alerts_size() == 0);
}

TEST_CASE("a pushed message goes only to someone in the patient's care team") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  auto messageTo = [&](const std::string& id, const std::string& recipient) {
    sync::Operation op = karin.operation("patient-01", "message", id);
    domain::Message& m = *op.mutable_append()->mutable_message();
    m.set_id(id);
    m.set_patient_id("patient-01");
    m.set_author_id("nurse-karin");
    m.set_recipient_id(recipient);
    m.set_text("About Astrid's breathing");
    m.set_sent_at(sync::formatRfc3339(nowMs()));
    return op;
  };
  const auto response = karin.push({messageTo("to-maria", "nurse-maria"), messageTo("to-nobody", "no-such-user"),
                                    messageTo("to-sara", "physician-sara"), messageTo("to-physician", "")});
  INFO(response.DebugString());
  REQUIRE(response.rejections_size() == 2);
  CHECK(response.rejections(0).code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(response.rejections(0).reason(),
             Catch::Contains("append.message.recipient_id: nurse-maria is not in the care team of patient-01"));
  CHECK_THAT(response.rejections(1).reason(), Catch::Contains("append.message.recipient_id: no-such-user"));
  CHECK(response.acks_size() == 2);
}

TEST_CASE("the schedule's checklist counts are the tablet's: nurse activities and the visit's own") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  const std::string lena = test::login(port, "coordinator-lena");
  auto outcome = [&](const std::string& visit, const std::string& activity) {
    const std::string id = visit + "-" + activity + "-outcome";
    sync::Operation op = karin.operation("patient-01", "task_outcome", id);
    domain::TaskOutcome& t = *op.mutable_append()->mutable_task_outcome();
    t.set_id(id);
    t.set_patient_id("patient-01");
    t.set_visit_id(visit);
    t.set_activity_id(activity);
    t.set_author_id("nurse-karin");
    t.set_outcome(domain::TaskOutcome::DONE);
    t.set_recorded_at(sync::formatRfc3339(nowMs()));
    return op;
  };
  // A visit for the physician's activity (act-3) has it on its checklist too.
  requireOk(call(port, "POST", "/api/v1/patients/patient-01/visits", lena,
                 R"({"id": "review-visit", "nurseId": "nurse-karin", "scheduledStart": "2030-03-01T10:00:00Z",
                     "activityId": "patient-01-act-3"})"));
  requireOk(call(port, "POST", "/api/v1/patients/patient-01/visits", lena,
                 R"({"id": "round-visit", "nurseId": "nurse-karin", "scheduledStart": "2030-03-01T12:00:00Z",
                     "activityId": "patient-01-act-1"})"));
  // Answers are given at a visit in progress.
  REQUIRE(karin.device.sync(karin.link).ok);
  karin.device.startVisit("round-visit");
  karin.device.startVisit("review-visit");
  REQUIRE(karin.device.sync(karin.link).ok);
  // At the round, both nurse tasks; the review there is the physician's, not hers.
  const auto pushed =
      karin.push({outcome("round-visit", "patient-01-act-1"), outcome("round-visit", "patient-01-act-2"),
                  outcome("round-visit", "patient-01-act-3"), outcome("review-visit", "patient-01-act-3")});
  INFO(pushed.DebugString());
  REQUIRE(pushed.acks_size() == 3);
  REQUIRE(pushed.rejections_size() == 1);
  CHECK(pushed.rejections(0).code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(pushed.rejections(0).reason(),
             Catch::Contains("append.task_outcome.activity_id: activity patient-01-act-3 (Medical review) is the "
                             "responsibility of PHYSICIAN"));

  const auto schedule =
      test::parsed<api::Schedule>(call(port, "GET", "/api/v1/schedule?from=2030-03-01&to=2030-03-01", lena).body);
  std::map<std::string, api::ScheduledVisit> byId;
  for (const auto& v : schedule.visits()) byId[v.visit().id()] = v;
  REQUIRE(byId.count("round-visit"));
  REQUIRE(byId.count("review-visit"));
  CHECK(byId["round-visit"].tasks_total() == 2);
  CHECK(byId["round-visit"].tasks_done() == 2);
  CHECK(byId["review-visit"].tasks_total() == 3);
  CHECK(byId["review-visit"].tasks_done() == 1);

  // The tablet's checklist for the same visits, item for item.
  REQUIRE(karin.device.sync(karin.link).ok);
  CHECK(karin.device.visit("round-visit").checklist.size() == 2);
  CHECK(karin.device.visit("review-visit").checklist.size() == 3);
}
