#pragma once
// The strict reading of an HTTP/1.x request head, before any handler sees it.
// Lenient framing is how requests get smuggled past a proxy (one reads a body
// where the other reads the next request), so anything a careful proxy and Poco
// could read differently is refused rather than guessed at.

#include <cstddef>
#include <string>
#include <string_view>

namespace hemma::server {

struct HeadLimits {
  // The whole head, request line to the empty line, in bytes (431 past it).
  std::size_t maxHeadBytes = 16 * 1024;
  // Header lines (431 past it; Poco's own parser stops at 100).
  std::size_t maxFields = 100;
  // One header name (Poco's own limit is 256) and one value (8192), 431 past.
  std::size_t maxNameBytes = 256;
  std::size_t maxValueBytes = 8192;
};

struct HeadCheck {
  enum class State {
    // No complete head yet: wait for more bytes (or for the deadline).
    Incomplete,
    // A complete head that may be handed to a handler; `headBytes` is its
    // length including the empty line.
    Valid,
    // Refused: answer `status` with `reason`, then close the connection.
    Refused,
  };
  State state = State::Incomplete;
  std::size_t headBytes = 0;
  int status = 0;
  std::string reason;
};

// Looks at the first bytes of a connection's next request. Refuses (400):
// a request line other than `METHOD SP target SP HTTP/1.0|1.1`; control
// characters in the target; bare LF or CR line endings; obsolete line folding;
// header names that are not tokens or have a space before the colon; control
// characters or invalid UTF-8 in a header value (naming the header);
// Content-Length with Transfer-Encoding; Content-Length that is not plain
// digits or given twice; Transfer-Encoding other than exactly `chunked`;
// Host, Authorization, Content-Type, Accept or X-Hemma-Emergency-Reason given
// twice; HTTP/1.1 without Host. Refuses (431) a head over `limits`. Empty lines
// before the request line are skipped, as RFC 9112 section 2.2 allows. Pure,
// thread-safe.
HeadCheck checkRequestHead(std::string_view bytes, const HeadLimits& limits = {});

// `text` as it may appear inside an error message: printable ASCII as is,
// every other byte as \xNN, so an echo of bad input is itself valid UTF-8.
std::string printable(std::string_view text);

}  // namespace hemma::server
