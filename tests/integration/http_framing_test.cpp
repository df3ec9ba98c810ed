// Strict HTTP framing, JSON bodies and queries (issue 10, classes 6 and 1):
// raw bytes over a TCP socket to the real server. Every head a proxy could
// read differently from us is refused with 400 saying why, and the connection
// closes (a request pipelined after it is never answered); duplicate JSON keys
// and what RFC 8259 does not allow are refused before protobuf's lenient
// parser; invalid UTF-8 in the path, the query or a header is refused before
// anything is audited, so every audit read keeps answering.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/raw_http.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using namespace hemma;
using test::RawAnswer;
using test::RawConnection;

const std::string kHealth = "GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\n\r\n";

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

// Sends `head` with a health check pipelined behind it; returns everything
// the server sent before it closed.
std::string refusedWithPipeline(int port, const std::string& head) {
  RawConnection connection(port);
  REQUIRE(connection.send(head + kHealth));
  const auto all = connection.readUntilClosed(5s);
  REQUIRE(all);  // the server closed the connection
  return *all;
}

std::string post(const std::string& path, const std::string& body, const std::string& contentType = "application/json",
                 const std::string& token = {}) {
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: hemma\r\nContent-Type: " + contentType +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  return request + "\r\n" + body;
}

std::string get(const std::string& target, const std::string& token = {}, const std::string& extraHeaders = {}) {
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: hemma\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  return request + extraHeaders + "\r\n";
}

RawAnswer answerTo(int port, const std::string& request) {
  const auto answer = test::exchange(port, request, 10s);
  REQUIRE(answer);
  return *answer;
}

}  // namespace

TEST_CASE("ambiguous or malformed request heads are refused with 400 saying why, and the connection closes") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"));
  const int port = server.port();

  struct Case {
    std::string head;
    std::string reason;
  };
  const std::string login = "POST /api/v1/login HTTP/1.1\r\nHost: hemma\r\nContent-Type: application/json\r\n";
  const std::vector<Case> cases = {
      {login + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "Content-Length and Transfer-Encoding together"},
      {login + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
       "Content-Length and Transfer-Encoding together"},
      {login + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "Content-Length: given twice"},
      {login + "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}", "Content-Length: given twice"},
      {login + "Content-Length: +45\r\n\r\n", "Content-Length: \"+45\" is not a plain number of bytes"},
      {login + "Content-Length: -1\r\n\r\n", "Content-Length: \"-1\" is not a plain number of bytes"},
      {login + "Content-Length:  4 5\r\n\r\n", "Content-Length: \"4 5\" is not a plain number of bytes"},
      {login + "Content-Length: 0x10\r\n\r\n", "Content-Length: \"0x10\" is not a plain number of bytes"},
      {login + "Content-Length: 99999999999999999999\r\n\r\n", "Content-Length: \"99999999999999999999\" is too large"},
      {login + "Transfer-Encoding: xchunked\r\n\r\n", "Transfer-Encoding: \"xchunked\" is not supported"},
      {login + "Transfer-Encoding: chunked, identity\r\nContent-Length: 2\r\n\r\n{}",
       "Transfer-Encoding: \"chunked, identity\" is not supported"},
      {login + "Transfer-Encoding: identity\r\n\r\n", "Transfer-Encoding: \"identity\" is not supported"},
      {login + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding: given twice"},
      {"GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\nX-Folded: one\r\n two\r\n\r\n", "obsolete line folding"},
      {"GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\nX-Folded: one\r\n\ttwo\r\n\r\n", "obsolete line folding"},
      {"GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\nX(Bad): one\r\n\r\n", "header name \"X(Bad)\": not a token"},
      {"GET /api/v1/health HTTP/1.1\r\nHost : hemma\r\n\r\n", "header Host: space before the colon"},
      {"GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\nNo colon here\r\n\r\n", "has no colon"},
      {"GET /api/v1/health HTTP/1.1\nHost: hemma\n\n", "bare LF"},
      {"GET /api/v1/health HTTP/1.1\r\nHost: hemma\nX-A: b\r\n\r\n", "bare LF"},
      {"GET /api/v1/health\r\nHost: hemma\r\n\r\n", "request line: not METHOD SP target SP HTTP/1.x"},
      {"GET  /api/v1/health HTTP/1.1\r\nHost: hemma\r\n\r\n", "request line: not METHOD SP target SP HTTP/1.x"},
      {"GET /api/v1/health HTTP/2.0\r\nHost: hemma\r\n\r\n", "version \"HTTP/2.0\" is not HTTP/1.0 or HTTP/1.1"},
      {"GET /api/v1/health  HTTP/1.1\r\nHost: hemma\r\n\r\n", "version \" HTTP/1.1\" is not HTTP/1.0 or HTTP/1.1"},
      {"G(T /api/v1/health HTTP/1.1\r\nHost: hemma\r\n\r\n", "method \"G(T\" is not a token"},
      {"GET api/v1/health HTTP/1.1\r\nHost: hemma\r\n\r\n", "request target: \"api/v1/health\" is not a path"},
      {"GET /api/v1/health HTTP/1.1\r\n\r\n", "Host: missing (HTTP/1.1 requires it)"},
      {"GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\nHost: other\r\n\r\n", "Host: given twice"},
      {"GET /api/v1/me HTTP/1.1\r\nHost: hemma\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n",
       "Authorization: given twice"},
      {"GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\nX-A: one\x01two\r\n\r\n", "X-A: control character in the value"},
  };
  for (const auto& c : cases) {
    INFO(c.head);
    std::string all = refusedWithPipeline(port, c.head);
    for (auto pos = all.find("\\\""); pos != std::string::npos; pos = all.find("\\\"", pos)) all.erase(pos, 1);
    CHECK(all.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK_THAT(all, Catch::Contains(c.reason));
    CHECK_THAT(all, Catch::Contains("Connection: close"));
    CHECK(count(all, "\r\nContent-Length: ") == 1);  // the pipelined health check was not answered
  }

  // An HTTP/1.0 request needs no Host, and a well-formed pipeline is answered
  // in full, in order.
  CHECK(answerTo(port, "GET /api/v1/health HTTP/1.0\r\n\r\n").status == 200);
  RawConnection pipeline(port);
  REQUIRE(pipeline.send(kHealth + kHealth + get("/api/v1/nowhere")));
  CHECK(pipeline.readAnswer(5s).value_or(RawAnswer{}).status == 200);
  CHECK(pipeline.readAnswer(5s).value_or(RawAnswer{}).status == 200);
  CHECK(pipeline.readAnswer(5s).value_or(RawAnswer{}).status == 404);

  // A head over 16 KiB: 431.
  const std::string big =
      "GET /api/v1/health HTTP/1.1\r\nHost: hemma\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n";
  const auto tooLarge = answerTo(port, big);
  CHECK(tooLarge.status == 431);
  CHECK(tooLarge.reason == "Request Header Fields Too Large");
  CHECK(tooLarge.error() == "request head: more than 16384 bytes");
}

TEST_CASE("JSON bodies are strict: duplicate keys and what RFC 8259 does not allow are refused with 400") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));

  // The last of two equal keys would win in protobuf's parser: admin-ada.
  const auto before = audit.lastSeq();
  const auto twice =
      answerTo(port, post("/api/v1/login", R"({"username":"nurse-karin","username":"admin-ada","password":"demo"})"));
  CHECK(twice.status == 400);
  CHECK(twice.error() == "body: key \"username\" given twice in the top-level object");
  CHECK_THAT(twice.body, !Catch::Contains("token"));
  for (const auto& row : audit.since(before)) CHECK(row.outcome != "allowed");

  const std::string token = test::login(port, "nurse-karin");
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {R"({"username":"nurse-karin","password":"demo","extra":{"a":1,"a":2}})", "key \"a\" given twice in extra"},
      {R"({"username":"nurse-karin","user\u006eame":"admin-ada","password":"demo"})",
       "key \"username\" given twice in the top-level object"},
      {R"({"username":"nurse-karin","password":"demo",})", "a trailing comma before }"},
      {R"({"username":"nurse-karin","password":"demo","x":[1,2,]})", "a trailing comma before ]"},
      {R"({"username":"nurse-karin", /* who */ "password":"demo"})", "a comment (JSON has none)"},
      {"{\"username\":\"nurse-karin\", // who\n \"password\":\"demo\"}", "a comment (JSON has none)"},
      {R"({"username":NaN,"password":"demo"})", "\"NaN\" is not a JSON value"},
      {R"({"username":Infinity,"password":"demo"})", "\"Infinity\" is not a JSON value"},
      {R"({'username':'nurse-karin','password':'demo'})", "a single-quoted key"},
      {R"({"username":'nurse-karin',"password":"demo"})", "a single-quoted string"},
      {R"({"username":"nurse-karin","password":"demo","n":012})", "a number with a leading zero"},
      {R"({"username":"nurse-karin","password":"demo","n":1.})", "a number without digits after its point"},
      {"{\"username\":\"nurse-\xFF\",\"password\":\"demo\"}", "not valid UTF-8"},
      {"{\"username\":\"nurse-\xED\xA0\x80\",\"password\":\"demo\"}", "not valid UTF-8"},
      {R"({"username":"nurse-\ud800","password":"demo"})", "a \\u escape of a lone high surrogate"},
      {R"({"username":"nurse-\udc00","password":"demo"})", "a \\u escape of a lone low surrogate"},
      {"{\"username\":\"nurse-\tkarin\",\"password\":\"demo\"}", "a control character inside a string"},
      {R"({"username":"nurse-karin","password":"demo"} {})", "text after the JSON value"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto answer = answerTo(port, post("/api/v1/login", c.body));
    CHECK(answer.status == 400);
    CHECK_THAT(answer.error(), Catch::StartsWith("body: " + c.error));
  }

  // protobuf takes `device_id` and `deviceId` for the same field: a duplicate.
  const auto both =
      answerTo(port, post("/api/v1/devices", R"({"deviceId":"tab-x","device_id":"tab-y"})", "application/json", token));
  CHECK(both.status == 400);
  CHECK(both.error() == "body: key \"device_id\" given twice in the top-level object");

  // What is valid still signs in, escapes and all.
  const auto fine = answerTo(port, post("/api/v1/login", R"({"username":"nurse-\u006Barin","password":"demo"})"));
  CHECK(fine.status == 200);
}

TEST_CASE("Content-Type is exactly JSON or protobuf, and a query parameter may be given once") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string body = R"({"username":"nurse-karin","password":"demo"})";

  for (const std::string type : {"application/json", "application/json; charset=utf-8", "Application/JSON"}) {
    INFO(type);
    CHECK(answerTo(port, post("/api/v1/login", body, type)).status == 200);
  }
  for (const std::string type : {"application/jsonp", "application/json-patch", "application/json-patch+json",
                                 "text/plain", "application/x-protobufx"}) {
    INFO(type);
    const auto answer = answerTo(port, post("/api/v1/login", body, type));
    CHECK(answer.status == 415);
    CHECK(answer.reason == "Unsupported Media Type");
    CHECK(answer.error() ==
          "Content-Type: \"" + type + "\" is not supported (use application/json or application/x-protobuf)");
  }
  api::LoginRequest login;
  login.set_username("nurse-karin");
  login.set_password("demo");
  CHECK(answerTo(port, post("/api/v1/login", login.SerializeAsString(), "application/x-protobuf")).status == 200);

  const std::string lena = test::login(port, "coordinator-lena");
  const auto twice = answerTo(port, get("/api/v1/audit?limit=1&limit=2", lena));
  CHECK(twice.status == 400);
  CHECK(twice.error() == "query limit: given twice");
  const auto once = answerTo(port, get("/api/v1/audit?limit=1", lena));
  CHECK(once.status == 200);
  CHECK(test::parsed<api::AuditList>(once.body).entries_size() == 1);
}

TEST_CASE("status lines carry their own reason phrase, and API answers are not cached") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string karin = test::login(port, "nurse-karin");

  struct Case {
    std::string request;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {get("/api/v1/me", karin), 200, "OK"},
      {post("/api/v1/login", "{"), 400, "Bad Request"},
      {get("/api/v1/me"), 401, "Unauthorized"},
      {get("/api/v1/patients/patient-02", karin), 403, "Forbidden"},
      {get("/api/v1/nowhere", karin), 404, "Not Found"},
      {"DELETE /api/v1/me HTTP/1.1\r\nHost: hemma\r\n\r\n", 405, "Method Not Allowed"},
      {post("/api/v1/login", "{}", "text/plain"), 415, "Unsupported Media Type"},
  };
  for (const auto& c : cases) {
    INFO(c.request);
    const auto answer = answerTo(port, c.request);
    CHECK(answer.status == c.status);
    CHECK(answer.reason == c.reason);
    CHECK(answer.header("Cache-Control") == "no-store");
  }
  const auto signedIn = answerTo(port, post("/api/v1/login", R"({"username":"nurse-karin","password":"demo"})"));
  CHECK(signedIn.status == 200);
  CHECK(signedIn.header("Cache-Control") == "no-store");
  const auto record = answerTo(port, get("/api/v1/patients/patient-01", karin));
  CHECK(record.status == 200);
  CHECK(record.header("Cache-Control") == "no-store");
}

TEST_CASE(
    "invalid UTF-8 in the path, the query or a header is refused before it is audited; audit reads still answer") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string johan = test::login(port, "physician-johan");
  const std::string lena = test::login(port, "coordinator-lena");

  struct Case {
    std::string request;
    std::string error;
  };
  const std::string reason = "X-Hemma-Emergency-Reason: ";
  const std::vector<Case> cases = {
      {get("/api/v1/patients/patient-01%FF", johan, reason + "unconscious\r\n"), "path: not valid UTF-8"},
      {get("/api/v1/patients/patient-01\xC3\x28", johan, reason + "unconscious\r\n"), "path: not valid UTF-8"},
      {get("/api/v1/patients/patient-01%ED%A0%80", johan, reason + "unconscious\r\n"), "path: not valid UTF-8"},
      {get("/api/v1/patients/patient-01%0A", johan, reason + "unconscious\r\n"), "path: control character"},
      {get("/api/v1/patients/patient-01", johan, reason + "unconscious \xFF\xFE\r\n"),
       "X-Hemma-Emergency-Reason: not valid UTF-8"},
      {get("/api/v1/patients/patient-01", johan, reason + "unconscious \xC0\xAF\r\n"),
       "X-Hemma-Emergency-Reason: not valid UTF-8"},
      {get("/api/v1/audit?patient=patient-01%C3%28", lena), "query patient: not valid UTF-8"},
      {get("/api/v1/audit?user=%00", lena), "query user: control character"},
      {get("/api/v1/audit?%FF=1", lena), "query \\xFF: not valid UTF-8 in the name"},
      {get("/api/v1/audit?patient=%ZZ", lena), "query patient: not valid percent-encoding"},
      {"GET /api/v1/me HTTP/1.1\r\nHost: hemma\r\nAuthorization: Bearer \xFF\r\n\r\n",
       "Authorization: not valid UTF-8"},
      {"GET /api/v1/me HTTP/1.1\r\nHost: hemma\r\nAccept: application/\xFF\r\n\r\n", "Accept: not valid UTF-8"},
      {"POST /api/v1/login HTTP/1.1\r\nHost: hemma\r\nContent-Type: application/json\xFF\r\nContent-Length: "
       "2\r\n\r\n{}",
       "Content-Type: not valid UTF-8"},
  };
  const auto before = audit.lastSeq();
  for (const auto& c : cases) {
    INFO(c.request);
    const auto answer = answerTo(port, c.request);
    CHECK(answer.status == 400);
    CHECK(answer.error() == c.error);
  }
  // Nothing of it reached the audit trail.
  CHECK(audit.lastSeq() == before);

  // A real emergency read after the attempts, then every audit read answers.
  const auto emergency = answerTo(port, get("/api/v1/patients/patient-01", johan, reason + "unconscious at home\r\n"));
  REQUIRE(emergency.status == 200);
  const auto all = answerTo(port, get("/api/v1/audit", lena));
  CHECK(all.status == 200);
  const std::string rolf = test::login(port, "coordinator-rolf");
  const auto flagged = answerTo(port, get("/api/v1/audit?emergency=true", rolf));
  REQUIRE(flagged.status == 200);
  const auto list = test::parsed<api::AuditList>(flagged.body);
  REQUIRE(list.entries_size() >= 1);
  CHECK(list.entries(0).purpose() == "emergency: unconscious at home");
  const std::string patient = test::login(port, "patient-01");
  const auto accessLog = answerTo(port, get("/api/v1/patients/patient-01/access-log", patient));
  CHECK(accessLog.status == 200);
}
