#pragma once
// A TCP connection to the real server that sends exactly the bytes a test
// gives it, for framing, slow clients and connection caps: what an HTTP
// client library would never send, and what an attacker would.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hemma::test {

// One answer as it came over the wire.
struct RawAnswer {
  int status = 0;
  std::string reason;  // the status line's reason phrase
  std::string head;    // the status line and the headers
  std::string body;

  // A header's value (case-insensitive name), or "" when absent.
  std::string header(std::string_view name) const;
  // The "error" of a JSON error body, or "".
  std::string error() const;
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:`port` from `sourceAddress` (any address in
  // 127.0.0.0/8 is this machine; a test of the per-address cap uses others
  // than 127.0.0.1). Throws std::runtime_error when the connect fails.
  explicit RawConnection(int port, const std::string& sourceAddress = "127.0.0.1");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes`; false when the server has closed or reset.
  bool send(std::string_view bytes);
  // Reads one answer (its head, then a Content-Length body), waiting at most
  // `timeout`; nullopt when none came whole in time or the connection closed.
  std::optional<RawAnswer> readAnswer(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads everything until the server closes, waiting at most `timeout`;
  // nullopt when it is still open then.
  std::optional<std::string> readUntilClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the server has closed (or reset) the connection, looking
  // without waiting. Bytes that arrived are kept for the next read.
  bool closedByServer();

  int fd() const { return m_fd; }

 private:
  // Waits up to `timeout` for bytes; appends them to m_pending. False on
  // timeout; sets m_closed at end of stream.
  bool fill(std::chrono::steady_clock::time_point deadline);

  int m_fd = -1;
  bool m_closed = false;
  std::string m_pending;  // read from the socket, not yet returned
};

// Sends `request` on a new connection and reads the answer (nullopt when
// none came within `timeout`).
std::optional<RawAnswer> exchange(int port, std::string_view request,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace hemma::test
