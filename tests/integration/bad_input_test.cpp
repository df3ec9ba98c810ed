// Bad input to the real server gets a clear 4xx naming what is wrong, or a
// rejection by operation id with its reason; never a crash or a 500, and
// never a half-applied batch.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>

#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

struct Answer {
  int status;
  std::string body;
};

// `declaredLength` lets a test announce a body larger than it sends.
Answer send(int port, const std::string& method, const std::string& path, const std::string& body,
            const std::string& contentType = "application/json", std::int64_t declaredLength = -1,
            const std::string& token = {}) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentType(contentType);
  request.setContentLength64(declaredLength >= 0 ? declaredLength : static_cast<Poco::Int64>(body.size()));
  if (!token.empty()) request.set("Authorization", "Bearer " + token);
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::string answer;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
  return {static_cast<int>(response.getStatus()), answer};
}

std::int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

sync::Operation note(const std::string& device, int n, const std::string& text, std::int64_t atMs,
                     const std::string& patient = "patient-01") {
  sync::Operation op;
  op.set_id(device + ":" + std::to_string(n));
  op.set_author_id("nurse-karin");
  op.set_device_id(device);
  op.set_hlc(sync::makeHlc(atMs, 0));
  op.set_patient_id(patient);
  op.set_entity_type("visit_note");
  op.set_entity_id(op.id());
  op.set_recorded_at(sync::formatRfc3339(atMs));
  auto& n1 = *op.mutable_append()->mutable_note();
  n1.set_id(op.id());
  n1.set_patient_id(patient);
  n1.set_author_id("nurse-karin");
  n1.set_text(text);
  n1.set_written_at(op.recorded_at());
  return op;
}

sync::PushRequest pushOf(const std::string& device, std::vector<sync::Operation> ops) {
  sync::PushRequest request;
  request.set_protocol_version(sync::kProtocolVersion);
  request.set_device_id(device);
  for (auto& op : ops) *request.add_operations() = std::move(op);
  return request;
}

// The token of tablet "tab", signed in as nurse-karin.
std::string deviceToken(const test::ServerProcess& server, const test::TempDir& dir) {
  mobile::SystemClock clock;
  mobile::Device device(dir.file("tab.db"), clock);
  test::signIn(device, server, "nurse-karin", "tab");
  return *device.store().meta("device_token");
}

}  // namespace

TEST_CASE("malformed requests get a 4xx that names the problem, and the server keeps serving") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string token = deviceToken(server, dir);

  // Without a token nothing is read: the caller is told to log in.
  auto a = send(port, "POST", "/api/v1/sync/push", "\x08\xff\xff\xff", "application/x-protobuf");
  CHECK(a.status == 401);
  CHECK_THAT(a.body, Catch::Contains("Authorization: missing"));

  a = send(port, "POST", "/api/v1/sync/push", "\x08\xff\xff\xff", "application/x-protobuf", -1, token);
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("not a valid protobuf PushRequest"));

  a = send(port, "POST", "/api/v1/sync/push", "{\"protocolVersion\": \"one\"", "application/json", -1, token);
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("body: expected ',' or '}' in an object at byte 25"));
  a = send(port, "POST", "/api/v1/sync/push", "{\"protocolVersion\": \"one\"}", "application/json", -1, token);
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("not a valid JSON PushRequest"));

  a = send(port, "POST", "/api/v1/sync/push", "{\"protocolVersion\": 1, \"deviceId\": \"d\", \"colour\": 3}",
           "application/json", -1, token);
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("colour"));

  a = send(port, "POST", "/api/v1/sync/push", "{\"protocolVersion\": 7, \"deviceId\": \"tab\"}", "application/json", -1,
           token);
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("protocol_version: 7 is not supported"));

  a = send(port, "POST", "/api/v1/sync/pull", "{\"protocolVersion\": 1}", "application/json", -1, token);
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("device_id: empty"));

  a = send(port, "POST", "/api/v1/sync/push", "{}", "application/json",
           static_cast<std::int64_t>(sync::kMaxRequestBytes) + 1, token);
  CHECK(a.status == 413);
  CHECK_THAT(a.body, Catch::Contains("body:"));

  a = send(port, "POST", "/api/v1/sync/push", "<xml/>", "text/xml", -1, token);
  CHECK(a.status == 415);

  a = send(port, "GET", "/api/v1/sync/push", "");
  CHECK(a.status == 405);
  a = send(port, "GET", "/api/v1/nothing-here", "");
  CHECK(a.status == 404);
  a = send(port, "GET", "/api/v1/conflicts?state=closed", "", "application/json", -1, token);
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("closed") && Catch::Contains("is not open or all"));

  a = send(port, "GET", "/api/v1/health", "");
  CHECK(a.status == 200);
}

// A transport carrying the token of tablet "tab", signed in as nurse-karin.
std::unique_ptr<mobile::HttpTransport> signedInLink(const test::ServerProcess& server, const test::TempDir& dir) {
  auto link = std::make_unique<mobile::HttpTransport>(mobile::ServerAddress::parse(server.url()));
  link->setToken(deviceToken(server, dir));
  return link;
}

TEST_CASE("an invalid, forbidden or skewed operation is rejected by id with its reason; the rest is stored") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  auto linkOwner = signedInLink(server, dir);
  mobile::HttpTransport& link = *linkOwner;
  const std::int64_t now = nowMs();

  auto empty = note("tab", 1, "", now);
  auto good = note("tab", 2, "Fine today.", now);
  auto foreign = note("other-tab", 1, "Not mine to push.", now);
  auto future = note("tab", 3, "From a clock two hours ahead.", now + 2 * 3'600'000);
  auto badTime = note("tab", 4, "Bad time.", now);
  badTime.set_recorded_at("yesterday");
  auto notMine = note("tab", 5, "About a patient outside my care team.", now, "patient-02");
  auto impostor = note("tab", 6, "Written in another nurse's name.", now);
  impostor.set_author_id("nurse-olle");
  impostor.mutable_append()->mutable_note()->set_author_id("nurse-olle");
  const auto response = link.push(pushOf("tab", {empty, good, foreign, future, badTime, notMine, impostor}));

  REQUIRE(response.acks_size() == 1);
  CHECK(response.acks(0).operation_id() == "tab:2");
  REQUIRE(response.rejections_size() == 6);
  std::map<std::string, sync::OperationRejection> byId;
  for (const auto& r : response.rejections()) byId[r.operation_id()] = r;
  CHECK(byId["tab:1"].code() == sync::OperationRejection::INVALID);
  CHECK(byId["tab:1"].reason() == "operations[0].append.note.text: empty");
  CHECK(byId["other-tab:1"].code() == sync::OperationRejection::FORBIDDEN);
  CHECK(byId["tab:3"].code() == sync::OperationRejection::CLOCK_SKEW);
  CHECK_THAT(byId["tab:3"].reason(), Catch::Contains("ahead of the server's clock"));
  CHECK(byId["tab:4"].reason() == "operations[4].recorded_at: not an RFC 3339 time");
  CHECK(byId["tab:5"].code() == sync::OperationRejection::FORBIDDEN);
  CHECK(byId["tab:5"].reason() == "operations[5].patient_id: no care relationship with patient-02");
  CHECK(byId["tab:6"].code() == sync::OperationRejection::FORBIDDEN);
  CHECK_THAT(byId["tab:6"].reason(), Catch::Contains("author_id: nurse-olle is not this device's user"));

  // The same id with other content is refused, not silently ignored.
  auto changed = note("tab", 2, "Rewritten history.", now);
  const auto again = link.push(pushOf("tab", {changed}));
  REQUIRE(again.rejections_size() == 1);
  CHECK_THAT(again.rejections(0).reason(), Catch::Contains("already used by a different operation"));

  sync::PullRequest pull;
  pull.set_protocol_version(sync::kProtocolVersion);
  pull.set_device_id("tab");
  pull.set_limit(sync::kMaxPullPage);
  int notes = 0;
  const auto page = link.pull(pull);
  for (const auto& op : page.operations()) {
    if (op.device_id() != "tab") continue;  // the demo world's own entries
    ++notes;
    CHECK(op.append().note().text() == "Fine today.");
  }
  CHECK(notes == 1);
}

TEST_CASE("sync without a device token, or with another device's id, is refused") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  mobile::HttpTransport anonymous(mobile::ServerAddress::parse(server.url()));
  CHECK_THROWS_WITH(anonymous.push(pushOf("tab", {note("tab", 1, "hello", nowMs())})),
                    Catch::Contains("Authorization: missing"));
  anonymous.setToken("not-a-token");
  CHECK_THROWS_WITH(anonymous.push(pushOf("tab", {})), Catch::Contains("token: malformed"));

  auto link = signedInLink(server, dir);
  CHECK_THROWS_WITH(link->push(pushOf("other-tab", {})),
                    Catch::Contains("device_id: other-tab is not the device this token belongs to"));
}

TEST_CASE("a push over the batch limit is refused whole") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  auto linkOwner = signedInLink(server, dir);
  mobile::HttpTransport& link = *linkOwner;
  std::vector<sync::Operation> ops;
  for (int i = 1; i <= static_cast<int>(sync::kMaxPushOperations) + 1; ++i) ops.push_back(note("tab", i, "n", nowMs()));
  CHECK_THROWS_WITH(link.push(pushOf("tab", ops)), Catch::Contains("operations: 2001 in one push; at most 2000"));

  sync::PullRequest pull;
  pull.set_protocol_version(sync::kProtocolVersion);
  pull.set_device_id("tab");
  pull.set_limit(sync::kMaxPullPage);
  const auto page = link.pull(pull);
  for (const auto& op : page.operations()) CHECK(op.device_id() != "tab");
}
