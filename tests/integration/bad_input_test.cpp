// Bad input to the real server gets a clear 4xx naming what is wrong, or a
// rejection by operation id with its reason; never a crash or a 500, and
// never a half-applied batch.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"
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
            const std::string& contentType = "application/json", std::int64_t declaredLength = -1) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentType(contentType);
  request.setContentLength64(declaredLength >= 0 ? declaredLength : static_cast<Poco::Int64>(body.size()));
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

sync::Operation note(const std::string& device, int n, const std::string& text, std::int64_t atMs) {
  sync::Operation op;
  op.set_id(device + ":" + std::to_string(n));
  op.set_author_id("nurse-1");
  op.set_device_id(device);
  op.set_hlc(sync::makeHlc(atMs, 0));
  op.set_patient_id("patient-1");
  op.set_entity_type("visit_note");
  op.set_entity_id(op.id());
  op.set_recorded_at(sync::formatRfc3339(atMs));
  auto& n1 = *op.mutable_append()->mutable_note();
  n1.set_id(op.id());
  n1.set_patient_id("patient-1");
  n1.set_author_id("nurse-1");
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

}  // namespace

TEST_CASE("malformed requests get a 4xx that names the problem, and the server keeps serving") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"));
  const int port = server.port();

  auto a = send(port, "POST", "/api/v1/sync/push", "\x08\xff\xff\xff", "application/x-protobuf");
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("not a valid protobuf PushRequest"));

  a = send(port, "POST", "/api/v1/sync/push", "{\"protocolVersion\": \"one\"");
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("not a valid JSON PushRequest"));

  a = send(port, "POST", "/api/v1/sync/push", "{\"protocolVersion\": 1, \"deviceId\": \"d\", \"colour\": 3}");
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("colour"));

  a = send(port, "POST", "/api/v1/sync/push", "{\"protocolVersion\": 7, \"deviceId\": \"d\"}");
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("protocol_version: 7 is not supported"));

  a = send(port, "POST", "/api/v1/sync/pull", "{\"protocolVersion\": 1}");
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("device_id: empty"));

  a = send(port, "POST", "/api/v1/sync/push", "{}", "application/json",
           static_cast<std::int64_t>(sync::kMaxRequestBytes) + 1);
  CHECK(a.status == 413);
  CHECK_THAT(a.body, Catch::Contains("body:"));

  a = send(port, "POST", "/api/v1/sync/push", "<xml/>", "text/xml");
  CHECK(a.status == 415);

  a = send(port, "GET", "/api/v1/sync/push", "");
  CHECK(a.status == 405);
  a = send(port, "GET", "/api/v1/nothing-here", "");
  CHECK(a.status == 404);
  a = send(port, "GET", "/api/v1/operations?after=-3", "");
  CHECK(a.status == 400);
  CHECK_THAT(a.body, Catch::Contains("after:"));

  a = send(port, "GET", "/api/v1/health", "");
  CHECK(a.status == 200);
}

TEST_CASE("an invalid, forbidden or skewed operation is rejected by id with its reason; the rest is stored") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"));
  mobile::HttpTransport link(mobile::ServerAddress::parse(server.url()));
  const std::int64_t now = nowMs();

  auto empty = note("tab", 1, "", now);
  auto good = note("tab", 2, "Fine today.", now);
  auto foreign = note("other-tab", 1, "Not mine to push.", now);
  auto future = note("tab", 3, "From a clock two hours ahead.", now + 2 * 3'600'000);
  auto badTime = note("tab", 4, "Bad time.", now);
  badTime.set_recorded_at("yesterday");
  const auto response = link.push(pushOf("tab", {empty, good, foreign, future, badTime}));

  REQUIRE(response.acks_size() == 1);
  CHECK(response.acks(0).operation_id() == "tab:2");
  REQUIRE(response.rejections_size() == 4);
  std::map<std::string, sync::OperationRejection> byId;
  for (const auto& r : response.rejections()) byId[r.operation_id()] = r;
  CHECK(byId["tab:1"].code() == sync::OperationRejection::INVALID);
  CHECK(byId["tab:1"].reason() == "operations[0].append.note.text: empty");
  CHECK(byId["other-tab:1"].code() == sync::OperationRejection::FORBIDDEN);
  CHECK(byId["tab:3"].code() == sync::OperationRejection::CLOCK_SKEW);
  CHECK_THAT(byId["tab:3"].reason(), Catch::Contains("ahead of the server's clock"));
  CHECK(byId["tab:4"].reason() == "operations[4].recorded_at: not an RFC 3339 time");

  // The same id with other content is refused, not silently ignored.
  auto changed = note("tab", 2, "Rewritten history.", now);
  const auto again = link.push(pushOf("tab", {changed}));
  REQUIRE(again.rejections_size() == 1);
  CHECK_THAT(again.rejections(0).reason(), Catch::Contains("already used by a different operation"));

  sync::PullRequest pull;
  pull.set_protocol_version(sync::kProtocolVersion);
  pull.set_device_id("observer");
  const auto stored = link.pull(pull);
  REQUIRE(stored.operations_size() == 1);
  CHECK(stored.operations(0).append().note().text() == "Fine today.");
}

TEST_CASE("a push over the batch limit is refused whole") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"));
  mobile::HttpTransport link(mobile::ServerAddress::parse(server.url()));
  std::vector<sync::Operation> ops;
  for (int i = 1; i <= static_cast<int>(sync::kMaxPushOperations) + 1; ++i) ops.push_back(note("tab", i, "n", nowMs()));
  CHECK_THROWS_WITH(link.push(pushOf("tab", ops)), Catch::Contains("operations: 2001 in one push; at most 2000"));

  sync::PullRequest pull;
  pull.set_protocol_version(sync::kProtocolVersion);
  pull.set_device_id("observer");
  CHECK(link.pull(pull).operations_size() == 0);
}
