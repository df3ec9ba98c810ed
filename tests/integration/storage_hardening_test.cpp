// What reaches storage is bounded and checked, against the real server:
// unknown protobuf fields are refused, every operation has a size limit of
// its own, a failed sign-in writes a bounded audit row and is throttled per
// client address in the database (across a restart), and a web write that
// fails after its access check leaves an audit row that says it was not
// applied, never a bare "allowed".

#include <google/protobuf/unknown_field_set.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "hemma/sync.pb.h"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

std::int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct Tablet {
  std::string id;
  std::string token;
};

Tablet signInTablet(const test::ServerProcess& server, const test::TempDir& dir, const std::string& id) {
  mobile::SystemClock clock;
  mobile::Device device(dir.file(id + ".db"), clock);
  test::signIn(device, server, "nurse-karin", id);
  return {*device.store().meta("device_id"), *device.store().meta("device_token")};
}

sync::Operation note(const Tablet& tablet, const std::string& opId, const std::string& text) {
  const std::int64_t at = nowMs();
  sync::Operation op;
  op.set_id(opId);
  op.set_author_id("nurse-karin");
  op.set_device_id(tablet.id);
  op.set_hlc(sync::makeHlc(at, 0));
  op.set_patient_id("patient-01");
  op.set_entity_type("visit_note");
  op.set_entity_id(op.id());
  op.set_recorded_at(sync::formatRfc3339(at));
  auto& n = *op.mutable_append()->mutable_note();
  n.set_id(op.id());
  n.set_patient_id("patient-01");
  n.set_author_id("nurse-karin");
  n.set_text(text);
  n.set_written_at(op.recorded_at());
  return op;
}

test::HttpAnswer push(int port, const Tablet& tablet, const std::vector<sync::Operation>& ops) {
  sync::PushRequest request;
  request.set_protocol_version(sync::kProtocolVersion);
  request.set_device_id(tablet.id);
  for (const auto& op : ops) *request.add_operations() = op;
  return test::callRaw(port, "POST", "/api/v1/sync/push", "Bearer " + tablet.token, request.SerializeAsString(),
                       "application/x-protobuf", -1, {{"Accept", "application/json"}});
}

}  // namespace

TEST_CASE("unknown protobuf fields are refused before storage, and an operation has a size limit") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const Tablet tablet = signInTablet(server, dir, "tab-unknown");
  test::AuditReader audit(dir.file("server.db"));

  // A note padded with a 1 MiB field this server does not know.
  sync::Operation padded = note(tablet, tablet.id + ":1", "BP 128/82");
  auto* body = padded.mutable_append()->mutable_note();
  body->GetReflection()->MutableUnknownFields(body)->AddLengthDelimited(1000, std::string(1 << 20, 'x'));
  const auto refused = push(server.port(), tablet, {padded, note(tablet, tablet.id + ":2", "fine")});
  CHECK(refused.status == 400);
  CHECK(refused.error() == "body: operations[0].append.note: unknown field 1000");
  // Nothing of the request was stored, not even its valid second operation.
  CHECK(audit.entries("sync.push").empty());

  // An operation over its own limit is rejected by id; the rest is stored.
  const auto mixed = push(
      server.port(), tablet,
      {note(tablet, tablet.id + ":3", std::string(300 * 1024, 'n')), note(tablet, tablet.id + ":4", "Slept well")});
  REQUIRE(mixed.status == 200);
  const auto response = test::parsed<sync::PushResponse>(mixed.body);
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).operation_id() == tablet.id + ":3");
  CHECK(response.rejections(0).code() == sync::OperationRejection::INVALID);
  CHECK_THAT(response.rejections(0).reason(),
             Catch::StartsWith("operations[0].operation: ") && Catch::EndsWith(" bytes; at most 262144"));
  REQUIRE(response.acks_size() == 1);
  CHECK(response.acks(0).operation_id() == tablet.id + ":4");
}

TEST_CASE("failed sign-ins: bounded in bytes, throttled per client address, across a restart") {
  test::TempDir dir;
  const std::string database = dir.file("server.db");
  auto server = std::make_unique<test::ServerProcess>(database, test::demoServerArgs());
  test::AuditReader audit(database);
  const std::int64_t before = audit.lastSeq();

  // A 5 MiB username is refused before it is read; a long one is refused
  // naming the limit; neither is kept in the audit log.
  auto answer = test::callRaw(server->port(), "POST", "/api/v1/login", "", "{\"username\":\"uuuu", "application/json",
                              5 * 1024 * 1024);
  CHECK(answer.status == 413);
  answer = test::call(server->port(), "POST", "/api/v1/login", "",
                      "{\"username\":\"" + std::string(200, 'u') + "\",\"password\":\"x\"}");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "username: longer than 128 bytes");
  for (const auto& row : audit.since(before)) {
    CHECK(row.userId.size() <= sync::kMaxIdBytes);
    CHECK(row.outcome.size() < 200);
  }

  // Guessing with a new name each time escapes the per-account brake, not
  // the per-address one (50 failures in 15 minutes; one done above).
  for (int i = 0; i < 49; ++i) {
    answer = test::call(server->port(), "POST", "/api/v1/login", "",
                        "{\"username\":\"guess-" + std::to_string(i) + "\",\"password\":\"x\"}");
    REQUIRE(answer.status == 401);
  }
  answer =
      test::call(server->port(), "POST", "/api/v1/login", "", "{\"username\":\"nurse-karin\",\"password\":\"demo\"}");
  CHECK(answer.status == 429);
  CHECK(std::stoi(answer.header("Retry-After")) > 0);
  const std::int64_t lockedAt = audit.lastSeq();
  // Refusals while locked out are counted, not each written to the log.
  for (int i = 0; i < 5; ++i) {
    CHECK(test::call(server->port(), "POST", "/api/v1/login", "", "{\"username\":\"x\",\"password\":\"y\"}").status ==
          429);
  }
  CHECK(audit.lastSeq() == lockedAt);

  // The lockout is in the database: a restarted server keeps it.
  server.reset();
  server = std::make_unique<test::ServerProcess>(database, test::demoServerArgs());
  answer =
      test::call(server->port(), "POST", "/api/v1/login", "", "{\"username\":\"nurse-karin\",\"password\":\"demo\"}");
  CHECK(answer.status == 429);
}

TEST_CASE("a web write that fails after its access check is audited as not applied") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  test::AuditReader audit(dir.file("server.db"));
  const std::string lena = test::login(server.port(), "coordinator-lena");

  const std::int64_t before = audit.lastSeq();
  // Allowed (Lena edits her patients' plans), then refused by its content
  // half way: the first goal would be written, the second is empty.
  auto answer = test::call(server.port(), "PUT", "/api/v1/patients/patient-01/plan", lena,
                           R"({"goals":[{"text":"Walks to the letter box"},{"text":""}]})");
  REQUIRE(answer.status == 400);
  CHECK(answer.error() == "goals[1].text: empty");
  const auto rows = audit.since(before);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].patientId == "patient-01");
  CHECK(rows[0].outcome == "allowed; not applied");
  const std::string plan = test::call(server.port(), "GET", "/api/v1/patients/patient-01", lena).body;
  CHECK_THAT(plan, !Catch::Contains("Walks to the letter box"));

  // A write that succeeds has its "allowed" row, committed with it.
  const std::int64_t middle = audit.lastSeq();
  answer = test::call(server.port(), "PUT", "/api/v1/patients/patient-01/plan", lena,
                      R"({"goals":[{"text":"Walks to the letter box"}]})");
  REQUIRE(answer.status == 200);
  const auto after = audit.since(middle);
  REQUIRE(after.size() == 1);
  CHECK(after[0].outcome == "allowed");

  // A denied write keeps its denial.
  const std::string karin = test::login(server.port(), "nurse-karin");
  const std::int64_t beforeDenial = audit.lastSeq();
  answer = test::call(server.port(), "PUT", "/api/v1/patients/patient-01/plan", karin,
                      R"({"goals":[{"text":"Walks to the bus stop"}]})");
  CHECK(answer.status == 403);
  const auto denial = audit.since(beforeDenial);
  REQUIRE(denial.size() == 1);
  CHECK_THAT(denial[0].outcome, Catch::StartsWith("denied: "));
}

TEST_CASE("invalid UTF-8 in a JSON or protobuf body is refused, and every audit read still succeeds") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const Tablet tablet = signInTablet(server, dir, "tab-utf8");
  const std::string lena = test::login(server.port(), "coordinator-lena");

  // A note whose text is not UTF-8, pushed as protobuf: the strict parse
  // refuses the body.
  sync::Operation bad = note(tablet, tablet.id + ":1", "BP \xff\xfe 128/82");
  auto answer = push(server.port(), tablet, {bad});
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("body: "));

  // The same in JSON bodies: a sign-in name and a plan goal.
  answer =
      test::call(server.port(), "POST", "/api/v1/login", "", "{\"username\":\"nurse-\xc3\x28\",\"password\":\"x\"}");
  CHECK(answer.status == 400);
  answer = test::call(server.port(), "PUT", "/api/v1/patients/patient-01/plan", lena,
                      "{\"goals\":[{\"text\":\"Walks \xed\xa0\x80\"}]}");
  CHECK(answer.status == 400);

  // Every review of the log, and the patient's own access log, answer.
  const std::string ada = test::login(server.port(), "admin-ada");
  CHECK(test::call(server.port(), "GET", "/api/v1/audit", ada).status == 200);
  CHECK(test::call(server.port(), "GET", "/api/v1/audit?emergency=true", ada).status == 200);
  CHECK(test::call(server.port(), "GET", "/api/v1/audit?patient=patient-01", ada).status == 200);
  const std::string patient = test::login(server.port(), "patient-01");
  CHECK(test::call(server.port(), "GET", "/api/v1/patients/patient-01/access-log", patient).status == 200);
}

TEST_CASE("a new visit is scheduled for a time to come, and never over an existing visit") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const std::string lena = test::login(server.port(), "coordinator-lena");
  auto answer = test::call(server.port(), "POST", "/api/v1/patients/patient-01/visits", lena,
                           R"({"nurseId": "nurse-karin", "scheduledStart": "2020-01-15T08:00:00Z"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("scheduled_start: 2020-01-15T08:00:00.000Z is in the past"));
  // The demo's first visit of patient-01 exists: scheduling its id again
  // would set it back to PLANNED.
  answer =
      test::call(server.port(), "POST", "/api/v1/patients/patient-01/visits", lena,
                 R"({"id": "patient-01-visit-1", "nurseId": "nurse-karin", "scheduledStart": "2030-01-15T08:00:00Z"})");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "id: visit patient-01-visit-1 of patient-01 already exists; update it instead");
  answer = test::call(server.port(), "POST", "/api/v1/patients/patient-01/visits", lena,
                      R"({"id": "new-visit", "nurseId": "nurse-karin", "scheduledStart": "2030-01-15T08:00:00Z"})");
  CHECK(answer.status == 200);
}
