#include "hemma/server/http_front_end.hpp"

#include <Poco/Buffer.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Timestamp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace hemma::server {

namespace {

using Clock = std::chrono::steady_clock;

// A connection's socket, with the bytes a worker's Poco session had read past
// the request it answered put back in front: the next receive returns them
// first, so a pipelined request is not lost when the session is discarded.
class ConnectionSocketImpl final : public Poco::Net::StreamSocketImpl {
 public:
  explicit ConnectionSocketImpl(poco_socket_t fd) : StreamSocketImpl(fd) {}

  using StreamSocketImpl::receiveBytes;
  int receiveBytes(void* buffer, int length, int flags) override {
    if (m_prefix.empty() || (flags & MSG_PEEK) != 0 || length <= 0) {
      return StreamSocketImpl::receiveBytes(buffer, length, flags);
    }
    const auto n = std::min(m_prefix.size(), static_cast<std::size_t>(length));
    std::memcpy(buffer, m_prefix.data(), n);
    m_prefix.erase(0, n);
    return static_cast<int>(n);
  }

  // Only while no session reads the socket (the watcher's or one worker's).
  std::string& prefix() { return m_prefix; }

 private:
  std::string m_prefix;
};

struct Connection {
  Connection(int fd, std::string from)
      : impl(new ConnectionSocketImpl(fd)), socket(impl), address(std::move(from)), since(Clock::now()) {}

  ConnectionSocketImpl* impl;  // owned by `socket`
  Poco::Net::StreamSocket socket;
  std::string address;  // the client's IP address, for the per-address cap
  // Accepted, or last answered: the start of the idle timeout.
  Clock::time_point since;
  // The first byte of the request head being received: the header deadline.
  std::optional<Clock::time_point> headStarted;
  // Answered for the last time: what arrives is dropped until then (kLingerTime).
  std::optional<Clock::time_point> lingerUntil;
  std::size_t discarded = 0;
  int served = 0;

  int fd() const { return impl->sockfd(); }
};

std::string jsonString(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// After an answer that closes the connection, the watcher keeps reading and
// dropping what the client still sends (the rest of a refused body) for this
// long, or this much, before it closes: closing a socket with unread bytes
// resets it, and the reset can destroy the answer before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1024 * 1024;

// Reads and drops what has arrived; false once the client has closed (or the
// connection failed).
bool discardInput(int fd, std::size_t& discarded) {
  char scratch[16 * 1024];
  while (true) {
    const auto n = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (n > 0) {
      discarded += static_cast<std::size_t>(n);
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  }
}

// Answers a connection the watcher refuses, without waiting for anything (the
// answer is small and goes to the socket's send buffer), and ends the sending
// side. The caller lingers (kLingerTime) or closes.
void refuse(int fd, int status, const std::string& message, std::chrono::seconds retryAfter = {}) {
  const std::string body = "{\"error\":" + jsonString(message) + "}";
  std::string answer =
      "HTTP/1.1 " + std::to_string(status) + " " +
      Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status)) + "\r\n";
  if (retryAfter.count() > 0) answer += "Retry-After: " + std::to_string(retryAfter.count()) + "\r\n";
  answer += "Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
}

std::string addressOf(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  }
  return text;
}

std::string seconds(std::chrono::seconds s) { return std::to_string(s.count()) + " s"; }

}  // namespace

class HttpFrontEnd::Impl {
 public:
  Impl(Poco::Net::ServerSocket socket, Poco::Net::HTTPRequestHandlerFactory::Ptr factory, ConnectionLimits limits,
       HeadLimits headLimits)
      : m_listener(std::move(socket)),
        m_factory(std::move(factory)),
        m_limits(limits),
        m_headLimits(headLimits),
        m_params(new Poco::Net::HTTPServerParams) {
    // readBody (http_io.cpp) takes the body deadline from the params' timeout.
    m_params->setTimeout(Poco::Timespan(static_cast<long>(m_limits.bodyTimeout.count()), 0));
    m_params->setKeepAlive(true);
    m_params->setKeepAliveTimeout(Poco::Timespan(static_cast<long>(m_limits.keepAliveTimeout.count()), 0));
    m_params->setMaxKeepAliveRequests(m_limits.keepAliveRequests);
  }

  ~Impl() { stop(); }

  void start() {
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_epoll < 0 || m_wake < 0) throw std::system_error(errno, std::generic_category(), "http front end");
    const int listenFd = m_listener.impl()->sockfd();
    ::fcntl(listenFd, F_SETFL, ::fcntl(listenFd, F_GETFL) | O_NONBLOCK);
    watch(listenFd, EPOLLIN);  // level-triggered: accept until EAGAIN, retry after EMFILE
    watch(m_wake, EPOLLIN);
    m_running = true;
    for (int i = 0; i < m_limits.threads; ++i) m_workers.emplace_back([this] { work(); });
    m_watcher = std::thread([this] { watchConnections(); });
  }

  void stop() {
    if (!m_running) return;
    m_running = false;
    {
      std::lock_guard lock(m_returnMutex);
      m_stopping = true;
    }
    wake();
    m_watcher.join();
    std::deque<std::unique_ptr<Connection>> queued;
    {
      std::lock_guard lock(m_jobMutex);
      queued.swap(m_jobs);
      // An answer in progress may finish, but a body still arriving is cut off.
      for (Connection* busy : m_busy) ::shutdown(busy->fd(), SHUT_RD);
    }
    m_jobReady.notify_all();
    for (auto& connection : queued) close(std::move(connection));
    for (auto& worker : m_workers) worker.join();
    m_workers.clear();
    ::close(m_epoll);
    ::close(m_wake);
  }

 private:
  void watch(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    }
  }

  void wake() {
    const std::uint64_t one = 1;
    (void)!::write(m_wake, &one, sizeof one);
  }

  // The watcher thread.
  void watchConnections() {
    std::vector<epoll_event> events(256);
    const int listenFd = m_listener.impl()->sockfd();
    bool acceptPaused = false;
    Clock::time_point acceptPausedUntil;
    while (true) {
      const int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), 250);
      {
        std::lock_guard lock(m_returnMutex);
        if (m_stopping) break;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == listenFd) {
          if (!acceptAll(listenFd)) {
            // Out of file descriptors: pause accepting (the timeouts below
            // free some) instead of spinning on a listener that stays ready.
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, listenFd, nullptr);
            acceptPaused = true;
            acceptPausedUntil = Clock::now() + std::chrono::milliseconds(200);
          }
        } else if (fd == m_wake) {
          std::uint64_t count = 0;
          (void)!::read(m_wake, &count, sizeof count);
          takeReturned();
        } else if (auto found = m_watched.find(fd); found != m_watched.end()) {
          inspect(found);
        }
      }
      if (acceptPaused && Clock::now() >= acceptPausedUntil) {
        acceptPaused = false;
        watch(listenFd, EPOLLIN);
      }
      expire();
    }
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, listenFd, nullptr);
    for (auto& [fd, connection] : m_watched) close(std::move(connection));
    m_watched.clear();
    std::vector<std::unique_ptr<Connection>> returned;
    {
      std::lock_guard lock(m_returnMutex);
      returned.swap(m_returned);
    }
    for (auto& connection : returned) close(std::move(connection));
  }

  // Accepts every pending connection; false when out of file descriptors.
  bool acceptAll(int listenFd) {
    while (true) {
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      const int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&address), &length, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          Poco::Logger::get("hemma.http").warning("accept: %s; pausing new connections", std::strerror(errno));
          return false;
        }
        return true;  // EAGAIN: nothing more to accept
      }
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      std::string from = addressOf(address);
      if (const std::string refused = admit(from); !refused.empty()) {
        // Not lingered over: a refused connection must cost nothing. What
        // the client sent already is dropped, so the close does not reset.
        std::size_t dropped = 0;
        (void)discardInput(fd, dropped);
        refuse(fd, 503, refused, m_limits.retryAfter);
        ::close(fd);
        continue;
      }
      auto connection = std::make_unique<Connection>(fd, std::move(from));
      watch(fd, EPOLLIN | EPOLLRDHUP | EPOLLET);
      m_watched.emplace(fd, std::move(connection));
    }
  }

  // Counts a new connection from `address`; returns why it is refused, or "".
  std::string admit(const std::string& address) {
    std::lock_guard lock(m_countMutex);
    if (m_open >= m_limits.maxConnections) {
      return "connections: the server has " + std::to_string(m_open) + " open (at most " +
             std::to_string(m_limits.maxConnections) + "); try again later";
    }
    std::size_t& fromAddress = m_perAddress[address];
    if (fromAddress >= m_limits.maxConnectionsPerAddress) {
      return "connections: " + std::to_string(fromAddress) + " open from " + address + " (at most " +
             std::to_string(m_limits.maxConnectionsPerAddress) + "); try again later";
    }
    ++fromAddress;
    ++m_open;
    return {};
  }

  void close(std::unique_ptr<Connection> connection) {
    {
      std::lock_guard lock(m_countMutex);
      --m_open;
      auto found = m_perAddress.find(connection->address);
      if (found != m_perAddress.end() && --found->second == 0) m_perAddress.erase(found);
    }
    connection->socket.close();
  }

  using Watched = std::map<int, std::unique_ptr<Connection>>;

  // Looks at what a watched connection has sent so far, without consuming it.
  void inspect(Watched::iterator found) {
    Connection& connection = *found->second;
    const int fd = found->first;
    if (connection.lingerUntil) {
      if (!discardInput(fd, connection.discarded) || connection.discarded > kLingerBytes) unwatchAndClose(found);
      return;
    }
    std::string bytes = connection.impl->prefix();
    const std::size_t want = m_headLimits.maxHeadBytes + 1;
    bool closed = false;
    if (bytes.size() < want) {
      std::string peeked(want - bytes.size(), '\0');
      const auto n = ::recv(fd, peeked.data(), peeked.size(), MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) {
        bytes.append(peeked.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        closed = true;
      }
    }
    const HeadCheck check = checkRequestHead(bytes, m_headLimits);
    if (check.state == HeadCheck::State::Incomplete) {
      if (closed) {
        unwatchAndClose(found);
      } else if (!bytes.empty() && !connection.headStarted) {
        connection.headStarted = Clock::now();
      }
      return;
    }
    if (check.state == HeadCheck::State::Refused) {
      refuse(fd, check.status, check.reason);
      lingerOver(found);
      return;
    }
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
    auto ready = std::move(found->second);
    m_watched.erase(found);
    {
      std::lock_guard lock(m_jobMutex);
      m_jobs.push_back(std::move(ready));
    }
    m_jobReady.notify_one();
  }

  // Keeps a connection that has had its last answer until the client has
  // read it: see kLingerTime.
  void lingerOver(Watched::iterator found) {
    found->second->lingerUntil = Clock::now() + kLingerTime;
    inspect(found);
  }

  void unwatchAndClose(Watched::iterator found) {
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, found->first, nullptr);
    auto connection = std::move(found->second);
    m_watched.erase(found);
    close(std::move(connection));
  }

  // Connections a worker has answered and kept alive: watched again, and
  // looked at at once, for a pipelined request may already be complete.
  void takeReturned() {
    std::vector<std::unique_ptr<Connection>> returned;
    {
      std::lock_guard lock(m_returnMutex);
      returned.swap(m_returned);
    }
    for (auto& connection : returned) {
      const int fd = connection->fd();
      connection->since = Clock::now();
      connection->headStarted.reset();
      connection->discarded = 0;
      watch(fd, EPOLLIN | EPOLLRDHUP | EPOLLET);
      auto [found, inserted] = m_watched.emplace(fd, std::move(connection));
      inspect(found);
    }
  }

  void expire() {
    const auto now = Clock::now();
    for (auto it = m_watched.begin(); it != m_watched.end();) {
      auto current = it++;
      const Connection& connection = *current->second;
      if (connection.lingerUntil) {
        if (now >= *connection.lingerUntil) unwatchAndClose(current);
      } else if (connection.headStarted) {
        if (now - *connection.headStarted >= m_limits.headerTimeout) {
          refuse(current->first, 408, "request head: not complete within " + seconds(m_limits.headerTimeout));
          lingerOver(current);
        }
      } else if (now - connection.since >= m_limits.keepAliveTimeout) {
        unwatchAndClose(current);
      }
    }
  }

  // A worker thread.
  void work() {
    while (true) {
      std::unique_ptr<Connection> connection;
      {
        std::unique_lock lock(m_jobMutex);
        m_jobReady.wait(lock, [this] { return !m_jobs.empty() || !m_running; });
        if (!m_running) return;
        connection = std::move(m_jobs.front());
        m_jobs.pop_front();
        m_busy.insert(connection.get());
      }
      const Outcome outcome = answer(*connection);
      {
        std::lock_guard lock(m_jobMutex);
        m_busy.erase(connection.get());
      }
      if (outcome != Outcome::Close) {
        if (outcome == Outcome::Linger) connection->lingerUntil = Clock::now() + kLingerTime;
        std::unique_lock lock(m_returnMutex);
        if (!m_stopping) {
          m_returned.push_back(std::move(connection));
          lock.unlock();
          wake();
          continue;
        }
      }
      close(std::move(connection));
    }
  }

  enum class Outcome {
    KeepAlive,  // back to the watcher for the next request
    Linger,     // answered for the last time: back to the watcher to linger
    Close,
  };

  // Reads and answers the one request whose head the watcher has seen whole.
  Outcome answer(Connection& connection) {
    try {
      const Poco::Timespan timeout(static_cast<long>(m_limits.bodyTimeout.count()), 0);
      connection.socket.setReceiveTimeout(timeout);
      connection.socket.setSendTimeout(timeout);
      Poco::Net::HTTPServerSession session(connection.socket, m_params);
      bool keepAlive = false;
      {
        Poco::Net::HTTPServerResponseImpl response(session);
        Poco::Net::HTTPServerRequestImpl request(response, session, m_params);
        response.setDate(Poco::Timestamp());
        response.setVersion(request.getVersion());
        ++connection.served;
        response.setKeepAlive(request.getKeepAlive() && connection.served < m_limits.keepAliveRequests);
        std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(m_factory->createRequestHandler(request));
        if (request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
          response.sendContinue();
        }
        handler->handleRequest(request, response);
        keepAlive = response.sent() && response.getKeepAlive();
      }
      Poco::Buffer<char> rest(0);
      session.drainBuffer(rest);
      session.detachSocket();
      if (!keepAlive) {
        // What the session had read past the request is dropped with the rest.
        connection.impl->prefix().clear();
        connection.socket.shutdownSend();
        return Outcome::Linger;
      }
      connection.impl->prefix().insert(0, rest.begin(), rest.size());
      return Outcome::KeepAlive;
    } catch (const Poco::Exception& e) {
      // A timeout, a reset, or a head Poco refuses although ours passed it.
      Poco::Logger::get("hemma.http").debug("connection from %s: %s", connection.address, e.displayText());
    } catch (const std::exception& e) {
      Poco::Logger::get("hemma.http").error("connection from %s: %s", connection.address, std::string(e.what()));
    }
    return Outcome::Close;
  }

  Poco::Net::ServerSocket m_listener;
  Poco::Net::HTTPRequestHandlerFactory::Ptr m_factory;
  const ConnectionLimits m_limits;
  const HeadLimits m_headLimits;
  Poco::Net::HTTPServerParams::Ptr m_params;

  int m_epoll = -1;
  int m_wake = -1;
  std::atomic<bool> m_running{false};
  std::thread m_watcher;
  std::vector<std::thread> m_workers;

  Watched m_watched;  // only the watcher thread touches it

  std::mutex m_jobMutex;
  std::condition_variable m_jobReady;
  std::deque<std::unique_ptr<Connection>> m_jobs;
  std::set<Connection*> m_busy;

  std::mutex m_returnMutex;
  bool m_stopping = false;
  std::vector<std::unique_ptr<Connection>> m_returned;

  std::mutex m_countMutex;
  std::size_t m_open = 0;
  std::map<std::string, std::size_t> m_perAddress;
};

HttpFrontEnd::HttpFrontEnd(Poco::Net::ServerSocket socket, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                           ConnectionLimits limits, HeadLimits headLimits)
    : m_impl(std::make_unique<Impl>(std::move(socket), std::move(factory), limits, headLimits)) {}

HttpFrontEnd::~HttpFrontEnd() = default;

void HttpFrontEnd::start() { m_impl->start(); }

void HttpFrontEnd::stop() { m_impl->stop(); }

}  // namespace hemma::server
