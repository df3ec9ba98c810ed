// Regression tests for rules the server enforces on tablets' pushes and on
// sign-off, found in review: a resolution only resolves a conflict of its own
// field; a tablet edits the plan only if its user's role may; signing a
// proposal never silently overwrites a change made since it was proposed;
// an unread body is never run as a request.

#include <Poco/Net/SocketStream.h>
#include <Poco/Net/StreamSocket.h>

#include <catch2/catch.hpp>
#include <map>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/protocol.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

std::map<std::string, sync::OperationRejection> rejectionsById(const sync::PushResponse& response) {
  std::map<std::string, sync::OperationRejection> byId;
  for (const auto& r : response.rejections()) byId[r.operation_id()] = r;
  return byId;
}

}  // namespace

TEST_CASE("a tablet may resolve only a conflict of the field it writes, and may not edit the plan as a nurse") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  mobile::SystemClock clock;
  test::addToCareTeam(server, "patient-01", "coordinator-rolf");
  mobile::Device lena(dir.file("lena.db"), clock);
  test::signIn(lena, server, "coordinator-lena", "tablet-lena");
  mobile::Device rolf(dir.file("rolf.db"), clock);
  test::signIn(rolf, server, "coordinator-rolf", "tablet-rolf");
  mobile::Device olle(dir.file("olle.db"), clock);
  test::signIn(olle, server, "nurse-olle", "tablet-olle");
  mobile::HttpTransport lenaLink(mobile::ServerAddress::parse(server.url()));
  mobile::HttpTransport rolfLink(mobile::ServerAddress::parse(server.url()));
  mobile::HttpTransport olleLink(mobile::ServerAddress::parse(server.url()));

  // A real conflict on patient-01's dose, between its two plan editors.
  lena.writeField("patient-01", "medication", "med-1", "dose", "5 mg");
  REQUIRE(lena.sync(lenaLink).ok);
  REQUIRE(rolf.sync(rolfLink).ok);
  lena.writeField("patient-01", "medication", "med-1", "dose", "2.5 mg");
  rolf.writeField("patient-01", "medication", "med-1", "dose", "10 mg");
  REQUIRE(lena.sync(lenaLink).ok);
  REQUIRE(rolf.sync(rolfLink).ok);
  REQUIRE(olle.sync(olleLink).ok);
  REQUIRE(olle.conflicts("patient-01").size() == 1);
  const std::string conflictId = olle.conflicts("patient-01")[0].id();

  // Olle writes another patient's dose claiming to resolve patient-01's
  // conflict: refused by id, and the conflict stays open.
  sync::Operation sneaky;
  sneaky.set_id("tablet-olle:9001");
  sneaky.set_author_id("nurse-olle");
  sneaky.set_device_id("tablet-olle");
  sneaky.set_hlc(olle.conflicts("patient-01")[0].kept().hlc() + 1);
  sneaky.set_patient_id("patient-02");
  sneaky.set_entity_type("medication");
  sneaky.set_entity_id("med-9");
  sneaky.set_recorded_at("2026-01-01T00:00:00Z");
  sneaky.mutable_write()->set_field("dose");
  sneaky.mutable_write()->set_value("1 mg");
  sneaky.mutable_write()->set_resolves_conflict_id(conflictId);
  sync::PushRequest push;
  push.set_protocol_version(sync::kProtocolVersion);
  push.set_device_id("tablet-olle");
  *push.add_operations() = sneaky;
  // And a nurse's tablet writing the plan directly.
  sync::Operation planEdit = sneaky;
  planEdit.set_id("tablet-olle:9002");
  planEdit.set_patient_id("patient-01");
  planEdit.set_entity_type("care_plan_activity");
  planEdit.set_entity_id("patient-01-act-1");
  planEdit.mutable_write()->set_field("text");
  planEdit.mutable_write()->set_value("Stop all medication");
  planEdit.mutable_write()->clear_resolves_conflict_id();
  *push.add_operations() = planEdit;
  // The same id twice in one push.
  *push.add_operations() = planEdit;
  olleLink.setToken(*olle.store().meta("device_token"));
  const auto response = olleLink.push(push);
  CHECK(response.acks_size() == 0);
  auto byId = rejectionsById(response);
  REQUIRE(byId.count("tablet-olle:9001"));
  CHECK_THAT(byId["tablet-olle:9001"].reason(), Catch::Contains("is not a conflict of this field"));
  REQUIRE(response.rejections_size() == 3);
  CHECK(response.rejections(1).operation_id() == "tablet-olle:9002");
  CHECK(response.rejections(1).code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(response.rejections(1).reason(), Catch::Contains("plan.edit: not allowed for the role NURSE"));
  CHECK(response.rejections(2).operation_id() == "tablet-olle:9002");
  CHECK(response.rejections(2).reason() == "operations[2].id: appears twice in this push");

  // A set removal naming an add of another element is refused too. (Tasks
  // are ticked at Olle's own visit, in progress.)
  const std::string lenaToken = test::login(server.port(), "coordinator-lena");
  REQUIRE(test::call(server.port(), "POST", "/api/v1/patients/patient-01/visits", lenaToken,
                     R"({"id": "olle-visit", "nurseId": "nurse-olle", "scheduledStart": "2030-03-01T10:00:00Z"})")
              .status == 200);
  REQUIRE(olle.sync(olleLink).ok);
  olle.startVisit("olle-visit");
  const auto add = olle.addToSet("patient-01", "visit", "olle-visit", "completed_tasks", "medication");
  REQUIRE(olle.sync(olleLink).ok);
  sync::PushRequest removal;
  removal.set_protocol_version(sync::kProtocolVersion);
  removal.set_device_id("tablet-olle");
  sync::Operation remove = olle.addToSet("patient-01", "visit", "olle-visit", "completed_tasks", "wound care");
  remove.set_id("tablet-olle:9003");
  remove.mutable_set_remove()->set_set("completed_tasks");
  remove.mutable_set_remove()->set_element("wound care");
  remove.mutable_set_remove()->add_observed_add_ids(add.id());
  *removal.add_operations() = remove;
  const auto removed = olleLink.push(removal);
  REQUIRE(removed.rejections_size() == 1);
  CHECK_THAT(removed.rejections(0).reason(), Catch::Contains("is not an add of this element"));

  const std::string sara = test::login(server.port(), "physician-sara");
  const auto open = test::call(server.port(), "GET", "/api/v1/conflicts?patient=patient-01", sara);
  REQUIRE(open.status == 200);
  CHECK_THAT(open.body, Catch::Contains(conflictId));
}

TEST_CASE("signing a proposal after the field changed keeps the change as a conflict record") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string olle = test::login(port, "nurse-olle");
  const std::string lena = test::login(port, "coordinator-lena");
  const std::string sara = test::login(port, "physician-sara");

  const auto proposed = test::call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
                                   R"({"entityType": "care_plan_activity", "entityId": "patient-01-act-2",
                                       "field": "frequency", "proposedValue": "twice daily",
                                       "reason": "NEWS2 rising"})");
  REQUIRE(proposed.status == 200);
  const auto proposal = test::parsed<api::PlanChangeProposal>(proposed.body);

  // Meanwhile the coordinator changes the same frequency.
  REQUIRE(test::call(
              port, "PUT", "/api/v1/patients/patient-01/plan", lena,
              R"json({"activities": [{"id": "patient-01-act-2", "frequency": "four times daily (after a fall)"}]})json")
              .status == 200);

  const auto signed_ = test::call(port, "POST", "/api/v1/proposals/" + proposal.id() + "/sign", sara);
  REQUIRE(signed_.status == 200);
  // A second decision, by anyone, is refused.
  CHECK(
      test::call(port, "POST", "/api/v1/proposals/" + proposal.id() + "/reject", sara, R"({"reason": "no"})").status ==
      400);

  const auto conflicts = test::call(port, "GET", "/api/v1/conflicts?patient=patient-01", sara);
  REQUIRE(conflicts.status == 200);
  const auto list = test::parsed<sync::ConflictList>(conflicts.body);
  REQUIRE(list.conflicts_size() == 1);
  CHECK(list.conflicts(0).field() == "frequency");
  CHECK(list.conflicts(0).overwritten().value() == "four times daily (after a fall)");
  CHECK(list.conflicts(0).kept().value() == "twice daily");
}

TEST_CASE("a body a route does not read is not run as the next request, and a bad query escape is a 400") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const std::string token = test::login(server.port(), "nurse-karin");

  const std::string smuggled =
      "GET /api/v1/patients/patient-01/timeline HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
  socket.setReceiveTimeout(Poco::Timespan(5, 0));
  Poco::Net::SocketStream stream(socket);
  stream << "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " << token
         << "\r\nContent-Length: " << smuggled.size() << "\r\n\r\n"
         << smuggled << std::flush;
  std::string everything;
  char buffer[4096];
  try {
    while (true) {
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) break;
      everything.append(buffer, static_cast<std::size_t>(n));
    }
  } catch (const Poco::TimeoutException&) {
    // The server kept the connection open: the test below tells.
  }
  std::size_t responses = 0;
  for (auto at = everything.find("HTTP/1.1 "); at != std::string::npos; at = everything.find("HTTP/1.1 ", at + 1)) {
    ++responses;
  }
  CHECK(responses == 1);
  CHECK_THAT(everything, Catch::Contains("nurse-karin"));

  const auto bad = test::call(server.port(), "GET", "/api/v1/health?x=%zz");
  CHECK(bad.status == 400);
  CHECK_THAT(bad.error(), Catch::Contains("query"));
}
