#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace hemma::test {

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string RawAnswer::header(std::string_view name) const {
  const std::string wanted = lowercase(name) + ":";
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const auto end = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, end == std::string::npos ? std::string::npos : end - pos - 2);
    if (lowercase(line.substr(0, wanted.size())) == wanted) {
      std::string value = line.substr(wanted.size());
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
    pos = end;
  }
  return {};
}

std::string RawAnswer::error() const {
  const std::string key = "\"error\":\"";
  const auto start = body.find(key);
  if (start == std::string::npos) return {};
  std::string text;
  for (std::size_t i = start + key.size(); i < body.size() && body[i] != '"'; ++i) {
    if (body[i] == '\\' && i + 1 < body.size()) ++i;
    text += body[i];
  }
  return text;
}

RawConnection::RawConnection(int port, const std::string& sourceAddress) {
  m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in source{};
  source.sin_family = AF_INET;
  ::inet_pton(AF_INET, sourceAddress.c_str(), &source.sin_addr);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);
  if (::bind(m_fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0 ||
      ::connect(m_fd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
    const std::string why = std::strerror(errno);
    ::close(m_fd);
    throw std::runtime_error("connect from " + sourceAddress + " to port " + std::to_string(port) + ": " + why);
  }
}

RawConnection::~RawConnection() {
  if (m_fd >= 0) ::close(m_fd);
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline) {
  if (m_closed) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  pollfd ready{m_fd, POLLIN, 0};
  if (::poll(&ready, 1, static_cast<int>(std::max<long>(0, left.count()))) <= 0) return false;
  char buffer[16 * 1024];
  const auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
  if (n <= 0) {
    m_closed = true;
    return false;
  }
  m_pending.append(buffer, static_cast<std::size_t>(n));
  return true;
}

std::optional<RawAnswer> RawConnection::readAnswer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t headEnd = std::string::npos;
  while ((headEnd = m_pending.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  RawAnswer answer;
  answer.head = m_pending.substr(0, headEnd);
  const auto firstSpace = answer.head.find(' ');
  const auto secondSpace = answer.head.find(' ', firstSpace + 1);
  const auto lineEnd = answer.head.find("\r\n");
  if (firstSpace == std::string::npos) return std::nullopt;
  answer.status = std::atoi(answer.head.substr(firstSpace + 1, 3).c_str());
  if (secondSpace != std::string::npos && secondSpace < lineEnd) {
    answer.reason = answer.head.substr(secondSpace + 1, lineEnd - secondSpace - 1);
  }
  const std::string length = answer.header("Content-Length");
  const std::size_t bodyBytes = length.empty() ? 0 : std::stoul(length);
  while (m_pending.size() < headEnd + 4 + bodyBytes) {
    if (!fill(deadline)) return std::nullopt;
  }
  answer.body = m_pending.substr(headEnd + 4, bodyBytes);
  m_pending.erase(0, headEnd + 4 + bodyBytes);
  return answer;
}

std::optional<std::string> RawConnection::readUntilClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m_closed) {
    if (!fill(deadline) && !m_closed) return std::nullopt;
  }
  std::string all;
  all.swap(m_pending);
  return all;
}

bool RawConnection::closedByServer() {
  while (!m_closed && fill(std::chrono::steady_clock::now())) {
  }
  return m_closed;
}

std::optional<RawAnswer> exchange(int port, std::string_view request, std::chrono::milliseconds timeout) {
  RawConnection connection(port);
  if (!connection.send(request)) return std::nullopt;
  return connection.readAnswer(timeout);
}

}  // namespace hemma::test
