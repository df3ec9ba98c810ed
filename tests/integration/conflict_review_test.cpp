// Two tablets edit the same medication dose offline: those of patient-01's
// two plan editors (its home coordinator Lena, and Rolf of the region, whom
// she adds to the care team). The server keeps both values as a conflict
// record, lists it, and a physician's resolution syncs back to the tablets,
// which then drop their "merged" marker.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

std::string g_token;  // the web caller's bearer token for request()

std::pair<int, std::string> request(int port, const std::string& method, const std::string& path,
                                    const std::string& body = "") {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setContentType("application/json");
  if (!g_token.empty()) req.set("Authorization", "Bearer " + g_token);
  req.setContentLength64(static_cast<Poco::Int64>(body.size()));
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse response;
  std::string answer;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
  return {static_cast<int>(response.getStatus()), answer};
}

void webLogin(int port, const std::string& username) {
  g_token.clear();
  const auto [status, body] =
      request(port, "POST", "/api/v1/login", R"({"username":")" + username + R"(","password":"demo"})");
  REQUIRE(status == 200);
  api::LoginResponse login;
  REQUIRE(google::protobuf::util::JsonStringToMessage(body, &login).ok());
  g_token = login.token();
}

sync::ConflictList listConflicts(int port, const std::string& query) {
  const auto [status, body] = request(port, "GET", "/api/v1/conflicts" + query);
  INFO("GET /api/v1/conflicts" << query << ": " << body);
  REQUIRE(status == 200);
  sync::ConflictList list;
  REQUIRE(google::protobuf::util::JsonStringToMessage(body, &list).ok());
  return list;
}

}  // namespace

TEST_CASE("concurrent dose edits raise a reviewable conflict; the resolution syncs to every tablet") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  mobile::SystemClock clock;
  test::addToCareTeam(server, "patient-01", "coordinator-rolf");
  mobile::Device anna(dir.file("anna.db"), clock);
  test::signIn(anna, server, "coordinator-lena", "tablet-anna");
  mobile::Device bo(dir.file("bo.db"), clock);
  test::signIn(bo, server, "coordinator-rolf", "tablet-bo");
  mobile::HttpTransport annaLink(mobile::ServerAddress::parse(server.url()));
  mobile::HttpTransport boLink(mobile::ServerAddress::parse(server.url()));

  // Both start from the same prescribed dose.
  anna.writeField("patient-01", "medication", "med-1", "dose", "5 mg");
  REQUIRE(anna.sync(annaLink).ok);
  REQUIRE(bo.sync(boLink).ok);
  REQUIRE(bo.field("patient-01", "medication", "med-1", "dose")->value == "5 mg");

  // Offline, each changes it without seeing the other's change.
  anna.writeField("patient-01", "medication", "med-1", "dose", "2.5 mg");
  bo.writeField("patient-01", "medication", "med-1", "dose", "10 mg");
  REQUIRE(anna.sync(annaLink).ok);
  REQUIRE(bo.sync(boLink).ok);
  REQUIRE(anna.sync(annaLink).ok);

  // Both tablets show the same value, marked merged, and the same record.
  const auto annaDose = anna.field("patient-01", "medication", "med-1", "dose");
  const auto boDose = bo.field("patient-01", "medication", "med-1", "dose");
  REQUIRE(annaDose);
  REQUIRE(boDose);
  CHECK(annaDose->value == boDose->value);
  CHECK(annaDose->value == "10 mg");  // Bo wrote later, so Bo's value is kept
  CHECK(annaDose->merged);
  CHECK(boDose->merged);
  REQUIRE(anna.conflicts().size() == 1);
  CHECK(anna.conflicts()[0].SerializeAsString() == bo.conflicts()[0].SerializeAsString());

  // The server lists it with both values and authors, to the physician.
  webLogin(server.port(), "physician-sara");
  auto open = listConflicts(server.port(), "?patient=patient-01");
  REQUIRE(open.conflicts_size() == 1);
  const auto& conflict = open.conflicts(0);
  CHECK(conflict.overwritten().value() == "2.5 mg");
  CHECK(conflict.overwritten().author_id() == "coordinator-lena");
  CHECK(conflict.kept().value() == "10 mg");
  CHECK(conflict.kept().author_id() == "coordinator-rolf");
  CHECK(conflict.id() == anna.conflicts()[0].id());
  CHECK(listConflicts(server.port(), "?patient=patient-04").conflicts_size() == 0);

  // Bad resolutions are refused with the reason.
  CHECK(request(server.port(), "POST", "/api/v1/conflicts/conflict:nope/resolve", R"({"value":"5 mg"})").first == 404);
  const auto badBody =
      request(server.port(), "POST", "/api/v1/conflicts/" + conflict.id() + "/resolve", R"({"value": 5})");
  CHECK(badBody.first == 400);
  CHECK_THAT(badBody.second, Catch::Contains("ResolveConflictRequest"));
  CHECK(request(server.port(), "GET", "/api/v1/conflicts?state=closed").first == 400);

  // The physician confirms 2.5 mg.
  const auto resolved =
      request(server.port(), "POST", "/api/v1/conflicts/" + conflict.id() + "/resolve", R"({"value":"2.5 mg"})");
  REQUIRE(resolved.first == 200);
  CHECK_THAT(resolved.second, Catch::Contains("resolvedByOperationId"));
  CHECK(listConflicts(server.port(), "").conflicts_size() == 0);
  CHECK(listConflicts(server.port(), "?state=all").conflicts_size() == 1);

  // The resolution is an operation: it reaches both tablets.
  REQUIRE(anna.sync(annaLink).ok);
  REQUIRE(bo.sync(boLink).ok);
  for (auto* device : {&anna, &bo}) {
    const auto dose = device->field("patient-01", "medication", "med-1", "dose");
    REQUIRE(dose);
    CHECK(dose->value == "2.5 mg");
    CHECK(dose->authorId == "physician-sara");
    CHECK_FALSE(dose->merged);
    REQUIRE(device->conflicts().size() == 1);
    CHECK_FALSE(device->conflicts()[0].resolved_by_operation_id().empty());
  }
}

TEST_CASE("sequential edits of a review field raise no conflict, and unknown fields are refused") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  mobile::SystemClock clock;
  test::addToCareTeam(server, "patient-01", "coordinator-rolf");
  mobile::Device anna(dir.file("anna.db"), clock);
  test::signIn(anna, server, "coordinator-lena", "tablet-anna");
  mobile::Device bo(dir.file("bo.db"), clock);
  test::signIn(bo, server, "coordinator-rolf", "tablet-bo");
  mobile::HttpTransport annaLink(mobile::ServerAddress::parse(server.url()));
  mobile::HttpTransport boLink(mobile::ServerAddress::parse(server.url()));

  anna.writeField("patient-01", "medication", "med-1", "dose", "5 mg");
  REQUIRE(anna.sync(annaLink).ok);
  REQUIRE(bo.sync(boLink).ok);
  bo.writeField("patient-01", "medication", "med-1", "dose", "7.5 mg");
  REQUIRE(bo.sync(boLink).ok);
  REQUIRE(anna.sync(annaLink).ok);
  CHECK(anna.field("patient-01", "medication", "med-1", "dose")->value == "7.5 mg");
  CHECK_FALSE(anna.field("patient-01", "medication", "med-1", "dose")->merged);
  CHECK(anna.conflicts().empty());
  webLogin(server.port(), "physician-sara");
  CHECK(listConflicts(server.port(), "?state=all").conflicts_size() == 0);

  CHECK_THROWS_WITH(anna.writeField("patient-01", "patient", "patient-01", "shoe_size", "42"),
                    Catch::Contains("no merge rule"));
}
