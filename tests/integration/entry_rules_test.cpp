// Issue 10, class 5, on the server: each entry a nurse must not make, pushed
// as a tampered (or older) tablet would push it, through the real server
// binary in the demo world, is rejected by id with the rule's reason; the
// coordinator's web changes of a finished visit are refused too. The tablet's
// side (refused at entry) is tests/unit/entry_rules_test.cpp.

#include <catch2/catch.hpp>
#include <chrono>
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

// A signed-in tablet (its device core for what a nurse does through the
// app) and its raw link for pushing hand-built operations.
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

  sync::Operation operation(const std::string& entityType, const std::string& entityId) {
    sync::Operation op;
    op.set_id(id + ":" + std::to_string(9000 + ++counter));
    op.set_author_id(user);
    op.set_device_id(id);
    op.set_hlc(sync::makeHlc(nowMs(), 0));
    op.set_patient_id("patient-01");
    op.set_entity_type(entityType);
    op.set_entity_id(entityId);
    op.set_recorded_at(sync::formatRfc3339(nowMs()));
    return op;
  }

  sync::Operation visitWrite(const std::string& visit, const std::string& field, const std::string& value) {
    sync::Operation op = operation("visit", visit);
    op.mutable_write()->set_field(field);
    op.mutable_write()->set_value(value);
    return op;
  }

  sync::Operation taskOutcome(const std::string& visit, const std::string& activity) {
    const std::string entryId = id + "-outcome-" + std::to_string(counter + 1);
    sync::Operation op = operation("task_outcome", entryId);
    auto& t = *op.mutable_append()->mutable_task_outcome();
    t.set_id(entryId);
    t.set_patient_id("patient-01");
    t.set_visit_id(visit);
    t.set_activity_id(activity);
    t.set_author_id(user);
    t.set_outcome(domain::TaskOutcome::DONE);
    t.set_recorded_at(op.recorded_at());
    return op;
  }

  sync::Operation vitals(const std::string& visit, int rr, int spo2, int systolic, int pulse) {
    const std::string entryId = id + "-vitals-" + std::to_string(counter + 1);
    sync::Operation op = operation("vital_signs", entryId);
    auto& v = *op.mutable_append()->mutable_vital_signs();
    v.set_id(entryId);
    v.set_patient_id("patient-01");
    v.set_visit_id(visit);
    v.set_author_id(user);
    v.set_observed_at(op.recorded_at());
    v.set_respiratory_rate(rr);
    v.set_spo2(spo2);
    v.set_on_oxygen(false);
    v.set_systolic_bp(systolic);
    v.set_pulse(pulse);
    v.set_consciousness(domain::ALERT);
    v.set_temperature_c(36.8);
    v.set_news2_score(0);
    v.set_news2_risk(domain::NEWS2_LOW);
    return op;
  }

  sync::Operation note(const std::string& visit, const std::string& text, const std::string& amends = {}) {
    const std::string entryId = id + "-note-" + std::to_string(counter + 1);
    sync::Operation op = operation("visit_note", entryId);
    auto& n = *op.mutable_append()->mutable_note();
    n.set_id(entryId);
    n.set_patient_id("patient-01");
    n.set_visit_id(visit);
    n.set_author_id(user);
    n.set_text(text);
    n.set_written_at(op.recorded_at());
    n.set_amends_note_id(amends);
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

// The one rejection of a push of one operation.
sync::OperationRejection refusal(const sync::PushResponse& response) {
  INFO(response.DebugString());
  REQUIRE(response.acks_size() == 0);
  REQUIRE(response.rejections_size() == 1);
  return response.rejections(0);
}

void requireAcked(const sync::PushResponse& response) {
  INFO(response.DebugString());
  REQUIRE(response.rejections_size() == 0);
}

}  // namespace

TEST_CASE("entry rules at push (a): a tablet cannot create a visit, nor move another nurse's") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  Tablet olle(dir, server, "nurse-olle", "tablet-olle");

  auto r = refusal(karin.push({karin.visitWrite("visit-made-up", "status", "DONE")}));
  CHECK(r.code() == sync::OperationRejection::INVALID);
  CHECK(r.reason() ==
        "operations[0].write.field: visit.status: visit visit-made-up of patient-01 does not exist; "
        "visits are scheduled by a coordinator, not created from a tablet");
  // Karin's visit, moved by Olle.
  r = refusal(olle.push({olle.visitWrite("patient-01-visit-1", "status", "IN_PROGRESS")}));
  CHECK(r.code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(r.reason(), Catch::Contains("visit patient-01-visit-1 is assigned to nurse-karin, not nurse-olle"));
  // Straight to done.
  r = refusal(karin.push({karin.visitWrite("patient-01-visit-1", "status", "DONE")}));
  CHECK(r.code() == sync::OperationRejection::INVALID);
  CHECK_THAT(r.reason(), Catch::Contains("cannot go from PLANNED to DONE"));

  // The nurse's own steps, in one push: started, its time, ended, its time.
  requireAcked(karin.push({karin.visitWrite("patient-01-visit-1", "status", "IN_PROGRESS"),
                           karin.visitWrite("patient-01-visit-1", "started_at", sync::formatRfc3339(nowMs())),
                           karin.visitWrite("patient-01-visit-1", "status", "DONE"),
                           karin.visitWrite("patient-01-visit-1", "ended_at", sync::formatRfc3339(nowMs()))}));
  // Done is done.
  r = refusal(karin.push({karin.visitWrite("patient-01-visit-1", "status", "IN_PROGRESS")}));
  CHECK_THAT(r.reason(), Catch::Contains("visit patient-01-visit-1 is DONE; a finished visit is not changed"));
}

TEST_CASE("entry rules at push (b, c, d): answers only for her activities, only while the visit is in progress") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  REQUIRE(karin.device.sync(karin.link).ok);

  // d: tomorrow's visit was never started.
  auto r = refusal(karin.push({karin.vitals("patient-01-visit-2", 16, 97, 125, 72)}));
  CHECK(r.code() == sync::OperationRejection::INVALID);
  CHECK(r.reason() ==
        "operations[0].append.vital_signs.visit_id: visit patient-01-visit-2 is PLANNED (not started); "
        "entries are recorded while it is IN_PROGRESS");
  r = refusal(karin.push({karin.taskOutcome("patient-01-visit-2", "patient-01-act-1")}));
  CHECK_THAT(r.reason(), Catch::Contains("append.task_outcome.visit_id: visit patient-01-visit-2 is PLANNED"));

  karin.device.startVisit("patient-01-visit-1");
  REQUIRE(karin.device.sync(karin.link).ok);
  // b: the physician's Medical review is not the nurse's to tick.
  r = refusal(karin.push({karin.taskOutcome("patient-01-visit-1", "patient-01-act-3")}));
  CHECK(r.code() == sync::OperationRejection::FORBIDDEN);
  CHECK(r.reason() ==
        "operations[0].append.task_outcome.activity_id: activity patient-01-act-3 (Medical review) is "
        "the responsibility of PHYSICIAN at org-soder, not of NURSE at org-norrby");
  const auto firstNote = karin.note("patient-01-visit-1", "BP 182/95");
  requireAcked(karin.push({karin.taskOutcome("patient-01-visit-1", "patient-01-act-1"), firstNote}));

  karin.device.endVisit("patient-01-visit-1");
  REQUIRE(karin.device.sync(karin.link).ok);
  // c: after the end, answers and entries are refused; a note may amend.
  r = refusal(karin.push({karin.taskOutcome("patient-01-visit-1", "patient-01-act-1")}));
  CHECK(r.code() == sync::OperationRejection::INVALID);
  CHECK_THAT(r.reason(), Catch::Contains("append.task_outcome.visit_id: visit patient-01-visit-1 is DONE; entries "
                                         "after the end are refused (a note may amend an earlier note)"));
  r = refusal(karin.push({karin.vitals("patient-01-visit-1", 16, 97, 125, 72)}));
  CHECK_THAT(r.reason(), Catch::Contains("visit patient-01-visit-1 is DONE"));
  r = refusal(karin.push({karin.note("patient-01-visit-1", "Late note")}));
  CHECK_THAT(r.reason(), Catch::Contains("append.note.visit_id: visit patient-01-visit-1 is DONE"));
  requireAcked(karin.push({karin.note("patient-01-visit-1", "Correction: BP 128/95", firstNote.entity_id())}));

  // The board counts what was accepted: one answer at the visit.
  const auto timeline = test::parsed<api::Timeline>(
      call(server.port(), "GET", "/api/v1/patients/patient-01/timeline", test::login(server.port(), "nurse-karin"))
          .body);
  int outcomes = 0;
  for (const auto& entry : timeline.entries()) {
    if (entry.has_task_outcome() && entry.task_outcome().visit_id() == "patient-01-visit-1" &&
        entry.author_id() == "nurse-karin" && entry.task_outcome().id().rfind("tablet-karin", 0) == 0) {
      ++outcomes;
    }
  }
  CHECK(outcomes == 1);
}

TEST_CASE("entry rules at push (e): physiologically impossible vital signs are refused, not escalated") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  REQUIRE(karin.device.sync(karin.link).ok);
  karin.device.startVisit("patient-01-visit-1");
  REQUIRE(karin.device.sync(karin.link).ok);

  auto r = refusal(karin.push({karin.vitals("patient-01-visit-1", 0, 0, 0, 0)}));
  CHECK(r.code() == sync::OperationRejection::INVALID);
  CHECK(r.reason() ==
        "operations[0].append.vital_signs.respiratory_rate: 0 is outside 3-80 /min (not a reading of "
        "a living patient)");
  r = refusal(karin.push({karin.vitals("patient-01-visit-1", 16, 0, 125, 72)}));
  CHECK_THAT(r.reason(), Catch::Contains("append.vital_signs.spo2: 0 is outside 50-100 %"));
  r = refusal(karin.push({karin.vitals("patient-01-visit-1", 16, 97, 0, 72)}));
  CHECK_THAT(r.reason(), Catch::Contains("append.vital_signs.systolic_bp: 0 is outside 40-300 mmHg"));
  r = refusal(karin.push({karin.vitals("patient-01-visit-1", 16, 97, 125, 0)}));
  CHECK_THAT(r.reason(), Catch::Contains("append.vital_signs.pulse: 0 is outside 20-300 /min"));
  r = refusal(karin.push({karin.vitals("patient-01-visit-1", 16, 150, 125, 72)}));
  CHECK_THAT(r.reason(), Catch::Contains("append.vital_signs.spo2: 150 is outside 50-100 %"));
  requireAcked(karin.push({karin.vitals("patient-01-visit-1", 16, 97, 125, 72)}));
}

TEST_CASE("entry rules at push (g): a message only to the patient's care team") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  REQUIRE(karin.device.sync(karin.link).ok);
  // Entered offline on the tablet (it does not hold the care team), refused
  // at the push with the reason, and kept in the tablet's rejected list.
  const auto message = karin.device.sendMessage("patient-01", "Please call about Anna", "nurse-maria");
  karin.device.sync(karin.link);
  const auto rejected = karin.device.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].operation.id() == message.id());
  CHECK_THAT(rejected[0].reason, Catch::Contains("append.message.recipient_id: nurse-maria is not in the care team "
                                                 "of patient-01"));
}

TEST_CASE("entry rules on the web (f): a finished visit is not reassigned; none is rescheduled into the past") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet karin(dir, server, "nurse-karin", "tablet-karin");
  REQUIRE(karin.device.sync(karin.link).ok);
  karin.device.startVisit("patient-01-visit-1");
  karin.device.endVisit("patient-01-visit-1");
  REQUIRE(karin.device.sync(karin.link).ok);

  const std::string lena = test::login(port, "coordinator-lena");
  auto answer =
      call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-1", lena, R"({"nurseId": "nurse-olle"})");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "status: visit patient-01-visit-1 is DONE; a finished visit is not changed");
  answer =
      call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-1", lena, R"({"status": "CANCELLED"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("is DONE"));

  answer = call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-2", lena,
                R"({"scheduledStart": "2020-01-01T08:00:00Z"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("scheduled_start: 2020-01-01T08:00:00.000Z is in the past"));
  // Forward is fine, and so is reassigning a visit not yet done.
  answer = call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-2", lena,
                R"({"scheduledStart": "2030-01-01T08:00:00Z", "nurseId": "nurse-olle"})");
  INFO(answer.body);
  CHECK(answer.status == 200);
}
