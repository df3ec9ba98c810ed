#include "hemma/server/http_head.hpp"

#include <catch2/catch.hpp>
#include <string>

using hemma::server::checkRequestHead;
using hemma::server::HeadCheck;
using State = HeadCheck::State;

namespace {

std::string refusal(const std::string& head) {
  const auto check = checkRequestHead(head);
  if (check.state != State::Refused) return "(not refused)";
  return std::to_string(check.status) + " " + check.reason;
}

}  // namespace

TEST_CASE("checkRequestHead waits for the empty line, then accepts a well-formed head") {
  CHECK(checkRequestHead("").state == State::Incomplete);
  CHECK(checkRequestHead("GET / HTTP/1.1\r\nHost: a\r\n").state == State::Incomplete);
  CHECK(checkRequestHead("GET / HTTP/1.1\r\nHost: a\r\n\r").state == State::Incomplete);
  const std::string head = "GET /api/v1/health?x=1 HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nAccept:  */* \r\n\r\n";
  const auto check = checkRequestHead(head + "GET / HTTP/1.1\r\n");
  REQUIRE(check.state == State::Valid);
  CHECK(check.headBytes == head.size());
  CHECK(checkRequestHead("\r\n\r\nGET / HTTP/1.0\r\n\r\n").state == State::Valid);
  CHECK(checkRequestHead("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n").state == State::Valid);
  CHECK(checkRequestHead("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0012\r\n\r\n").state == State::Valid);
  CHECK(checkRequestHead("GET /p HTTP/1.1\r\nHost: a\r\nX-Name: K\xC3\xA4rin\r\n\r\n").state == State::Valid);
}

TEST_CASE("checkRequestHead refuses ambiguous lengths and codings") {
  CHECK(refusal("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        "400 Content-Length and Transfer-Encoding together: the body's length is ambiguous");
  CHECK(refusal("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n") ==
        "400 content-length: given twice");
  CHECK(refusal("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n") ==
        "400 Content-Length: \"1 2\" is not a plain number of bytes");
  CHECK(refusal("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n") ==
        "400 Content-Length: \"\" is not a plain number of bytes");
  CHECK(refusal("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n") ==
        "400 Content-Length: \"1234567890123456789\" is too large");
  CHECK(refusal("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") ==
        "400 Transfer-Encoding: \"gzip, chunked\" is not supported (only exactly \"chunked\")");
  CHECK(refusal("POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        "400 Transfer-Encoding: not allowed in HTTP/1.0");
}

TEST_CASE("checkRequestHead refuses malformed lines as soon as it sees them") {
  CHECK(refusal("GET / HTTP/1.1\nHost: a\n") == "400 request head: a line ends with a bare LF (HTTP requires CRLF)");
  CHECK(refusal("GET / HTTP/1.1\r\nHost: a\rX\r\n\r\n") == "400 request head: a bare CR inside a line");
  CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\n  folded\r\n\r\n") ==
        "400 request head: obsolete line folding (a header line starts with a space or tab)");
  CHECK(refusal("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n") == "400 header Host: space before the colon");
  CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n") == "400 header name \"\": not a token");
  CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-A: \x7F\r\n\r\n") == "400 X-A: control character in the value");
  CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-A: \xE2\x82\r\n\r\n") == "400 X-A: not valid UTF-8");
  CHECK(refusal("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n") ==
        "400 request target: control character or space in \"/\\x01\"");
  CHECK(refusal("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n") ==
        "400 request line: version \"HTTP/1.1 extra\" is not HTTP/1.0 or HTTP/1.1");
  CHECK(refusal("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n") == "400 request target: \"http://a/\" is not a path");
  CHECK(refusal(std::string(40, 'G') + " / HTTP/1.1\r\nHost: a\r\n\r\n") ==
        "400 request line: method longer than 32 bytes");
  CHECK(refusal("GET / HTTP/1.1\r\nX-A: b\r\n\r\n") == "400 Host: missing (HTTP/1.1 requires it)");
  CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-Hemma-Emergency-Reason: a\r\nx-hemma-emergency-reason: b\r\n\r\n") ==
        "400 x-hemma-emergency-reason: given twice");
}

TEST_CASE("checkRequestHead refuses heads past its limits with 431") {
  hemma::server::HeadLimits limits;
  const std::string longHead = "GET / HTTP/1.1\r\nHost: a\r\nX-A: " + std::string(limits.maxHeadBytes, 'a');
  const auto unfinished = checkRequestHead(longHead, limits);
  CHECK(unfinished.state == State::Refused);
  CHECK(unfinished.status == 431);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": a\r\n";
  CHECK(refusal(many + "\r\n") == "431 request head: more than 100 header lines");
  CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-A: " + std::string(9000, 'a') + "\r\n\r\n") ==
        "431 X-A: value longer than 8192 bytes");
}
