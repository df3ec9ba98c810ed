// http_head: the first bytes of a connection, as the server's HTTP front end
// sees them: the strict head check (server/http_head.hpp,
// checkRequestHead) on what the watcher peeks (at most maxHeadBytes + 1
// bytes); a head it passes is then parsed by Poco (HTTPRequest::read, as the
// worker's HTTPServerRequestImpl does) and answered by the router's real
// handlers on a fresh copy of the demo world, with the rest of the input as
// the body (at most Content-Length bytes).
//
// Input: the bytes the client sent.
//
// Invariants: no crash; a refusal is a 400 or 431 whose reason is non-empty,
// valid UTF-8 text; no head still "incomplete" once the watcher has peeked
// more than the head limit; a valid head is a prefix of the input ending in
// CRLF CRLF, and is valid again when checked alone; Poco reads every head the
// check passes, and sees neither both Content-Length and chunked framing nor a
// Content-Length it cannot read (the two parsers must agree, or a proxy and
// the server could frame a request differently); every such request is
// answered, with a 2xx, 3xx or 4xx, never a 5xx.

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_server.hpp"
#include "hemma/server/http_head.hpp"
#include "hemma/sync/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hemma;
  using State = server::HeadCheck::State;
  const server::HeadLimits limits;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string peeked = input.substr(0, limits.maxHeadBytes + 1);
  const server::HeadCheck check = server::checkRequestHead(peeked, limits);

  if (check.state == State::Incomplete) {
    if (peeked.size() > limits.maxHeadBytes) {
      fuzz::fail("http head: still incomplete after " + std::to_string(peeked.size()) + " bytes");
    }
    return 0;
  }
  if (check.state == State::Refused) {
    if (check.status != 400 && check.status != 431) {
      fuzz::fail("http head: refused with status " + std::to_string(check.status));
    }
    if (check.reason.empty() || !sync::isValidUtf8(check.reason)) {
      fuzz::fail("http head: the refusal's reason is empty or not UTF-8: " + server::printable(check.reason));
    }
    return 0;
  }

  if (check.headBytes == 0 || check.headBytes > peeked.size() ||
      peeked.compare(check.headBytes - 4, 4, "\r\n\r\n") != 0) {
    fuzz::fail("http head: valid head of " + std::to_string(check.headBytes) +
               " bytes is not a prefix ending CRLF CRLF");
  }
  const std::string head = input.substr(0, check.headBytes);
  const server::HeadCheck alone = server::checkRequestHead(head, limits);
  if (alone.state != State::Valid || alone.headBytes != check.headBytes) {
    fuzz::fail("http head: the valid head checked alone is not valid: " + server::printable(head));
  }

  std::istringstream wire(head);
  fuzz::MemoryRequest request;
  try {
    request.read(wire);
  } catch (const Poco::Exception& e) {
    fuzz::fail("http head: Poco refuses a head the strict check passed (" + e.displayText() +
               "): " + server::printable(head));
  }
  std::string body = input.substr(check.headBytes);
  if (request.hasContentLength()) {
    if (request.getChunkedTransferEncoding()) {
      fuzz::fail("http head: Poco sees Content-Length and chunked in a valid head: " + server::printable(head));
    }
    Poco::Int64 length = 0;
    try {
      length = request.getContentLength64();
    } catch (const Poco::Exception& e) {
      fuzz::fail("http head: Poco cannot read the Content-Length of a valid head: " + server::printable(head));
    }
    if (length < 0) fuzz::fail("http head: negative Content-Length in a valid head: " + server::printable(head));
    if (static_cast<std::uint64_t>(length) < body.size()) body.resize(static_cast<std::size_t>(length));
  }
  request.setBody(std::move(body));

  fuzz::ServerWorld world;
  world.serve(request);
  return 0;
}
