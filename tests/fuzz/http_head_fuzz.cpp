// http_head: a raw HTTP request (head and body) as a client sends it, read by
// Poco's request parser (HTTPRequest::read, as the server's session does) and
// answered by the router's real handlers on a fresh copy of the demo world.
//
// Input: the request bytes. Heads Poco refuses are what the server answers
// 400 to; a head it accepts goes to Router::createRequestHandler with the
// rest of the input as the body (at most Content-Length bytes).
//
// Invariants: no crash; every request the parser accepts is answered, with a
// 2xx, 3xx or 4xx, never a 5xx.

#include <Poco/Net/NetException.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hemma;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::istringstream wire(input);
  fuzz::MemoryRequest request;
  try {
    request.read(wire);
  } catch (const Poco::Exception&) {
    return 0;  // the server answers 400 without routing
  }
  std::string body;
  if (wire) {
    const auto at = static_cast<std::size_t>(wire.tellg());
    body = input.substr(std::min(at, input.size()));
  }
  // As Poco's HTTPServerRequestImpl: the body stream is sized from the head,
  // and a Content-Length that is not a number ends the connection there.
  if (!request.getChunkedTransferEncoding() && request.hasContentLength()) {
    Poco::Int64 length = 0;
    try {
      length = request.getContentLength64();
    } catch (const Poco::Exception&) {
      return 0;
    }
    if (length >= 0 && static_cast<std::uint64_t>(length) < body.size()) body.resize(static_cast<std::size_t>(length));
  }
  request.setBody(std::move(body));

  fuzz::ServerWorld world;
  world.serve(request);
  return 0;
}
