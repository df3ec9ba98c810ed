#include "hemma/mobile/http_transport.hpp"

#include <google/protobuf/util/json_util.h>

#include <asio.hpp>
#include <charconv>
#include <stdexcept>

namespace hemma::mobile {

namespace {

constexpr std::size_t kMaxResponseBytes = 256 * 1024 * 1024;

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string errorMessage(int status, const std::string& body) {
  sync::ErrorResponse error;
  if (google::protobuf::util::JsonStringToMessage(body, &error).ok() && !error.error().empty()) {
    return error.error();
  }
  return "HTTP " + std::to_string(status);
}

}  // namespace

ServerAddress ServerAddress::parse(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("server URL: must start with http:// (got \"" + url + "\")");
  std::string rest = url.substr(scheme.size());
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const auto colon = rest.rfind(':');
  ServerAddress address;
  address.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  address.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (address.host.empty()) throw std::invalid_argument("server URL: no host in \"" + url + "\"");
  int port = 0;
  const auto [end, ec] = std::from_chars(address.port.data(), address.port.data() + address.port.size(), port);
  if (ec != std::errc() || end != address.port.data() + address.port.size() || port <= 0 || port > 65535) {
    throw std::invalid_argument("server URL: port is not a number from 1 to 65535 in \"" + url + "\"");
  }
  return address;
}

struct HttpTransport::Connection {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  asio::streambuf input;
  bool open = false;

  // Runs the queued asynchronous work for at most `timeout`; on expiry closes
  // the socket (cancelling the work) and throws.
  void run(std::chrono::milliseconds timeout, const char* what) {
    io.restart();
    io.run_for(timeout);
    if (!io.stopped()) {
      asio::error_code ignored;
      socket.close(ignored);
      io.run();
      open = false;
      throw TransportError(std::string(what) + ": timed out after " + std::to_string(timeout.count()) + " ms");
    }
  }
};

HttpTransport::HttpTransport(ServerAddress address, std::chrono::milliseconds timeout)
    : m_address(std::move(address)), m_timeout(timeout), m_connection(std::make_unique<Connection>()) {}

HttpTransport::~HttpTransport() = default;

std::string HttpTransport::post(const std::string& path, const std::string& body, const std::string& token) {
  return request("POST", path, body, token);
}

std::string HttpTransport::request(const char* method, const std::string& path, const std::string& body,
                                   const std::string& token) {
  Connection& c = *m_connection;
  for (int attempt = 0;; ++attempt) {
    const bool reused = c.open;
    asio::error_code ec;
    if (!c.open) {
      c.input.consume(c.input.size());
      asio::ip::tcp::resolver resolver(c.io);
      asio::ip::tcp::resolver::results_type endpoints;
      resolver.async_resolve(m_address.host, m_address.port,
                             [&](const asio::error_code& e, asio::ip::tcp::resolver::results_type r) {
                               ec = e;
                               endpoints = std::move(r);
                             });
      c.run(m_timeout, "resolve");
      if (ec) throw TransportError("cannot resolve " + m_address.host + ": " + ec.message());
      asio::async_connect(c.socket, endpoints,
                          [&](const asio::error_code& e, const asio::ip::tcp::endpoint&) { ec = e; });
      c.run(m_timeout, "connect");
      if (ec) {
        c.socket.close();
        throw TransportError("cannot connect to " + m_address.host + ":" + m_address.port + ": " + ec.message());
      }
      c.socket.set_option(asio::ip::tcp::no_delay(true));
      c.open = true;
    }

    const std::string head = std::string(method) + " " + path + " HTTP/1.1\r\nHost: " + m_address.host + ":" +
                             m_address.port +
                             "\r\nContent-Type: application/x-protobuf\r\nAccept: application/x-protobuf" +
                             (token.empty() ? std::string() : "\r\nAuthorization: Bearer " + token) +
                             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    const std::array<asio::const_buffer, 2> request{asio::buffer(head), asio::buffer(body)};
    asio::async_write(c.socket, request, [&](const asio::error_code& e, std::size_t) { ec = e; });
    c.run(m_timeout, "send");
    std::size_t headerBytes = 0;
    if (!ec) {
      asio::async_read_until(c.socket, c.input, "\r\n\r\n", [&](const asio::error_code& e, std::size_t n) {
        ec = e;
        headerBytes = n;
      });
      c.run(m_timeout, "receive");
    }
    if (ec) {
      asio::error_code ignored;
      c.socket.close(ignored);
      c.open = false;
      // A kept-alive connection the server has since closed: try once more on
      // a new one. Push and pull are idempotent, so a repeat is harmless.
      if (reused && attempt == 0) continue;
      throw TransportError("no answer from " + m_address.host + ":" + m_address.port + ": " + ec.message());
    }

    std::string headers(asio::buffers_begin(c.input.data()),
                        asio::buffers_begin(c.input.data()) + static_cast<std::ptrdiff_t>(headerBytes));
    c.input.consume(headerBytes);
    int status = 0;
    if (headers.rfind("HTTP/1.", 0) != 0 || headers.size() < 12 ||
        std::from_chars(headers.data() + 9, headers.data() + 12, status).ec != std::errc()) {
      c.socket.close();
      c.open = false;
      throw TransportError("malformed HTTP response from the server");
    }
    const std::string lowered = lower(headers);
    std::size_t length = 0;
    if (const auto at = lowered.find("\r\ncontent-length:"); at != std::string::npos) {
      std::size_t pos = at + 17;
      while (pos < lowered.size() && lowered[pos] == ' ') ++pos;
      std::from_chars(lowered.data() + pos, lowered.data() + lowered.size(), length);
    }
    if (length > kMaxResponseBytes) {
      c.socket.close();
      c.open = false;
      throw TransportError("response of " + std::to_string(length) + " bytes is larger than the device accepts");
    }
    if (c.input.size() < length) {
      asio::async_read(c.socket, c.input, asio::transfer_exactly(length - c.input.size()),
                       [&](const asio::error_code& e, std::size_t) { ec = e; });
      c.run(m_timeout, "receive");
      if (ec) {
        c.socket.close();
        c.open = false;
        throw TransportError("response cut short: " + ec.message());
      }
    }
    std::string responseBody(asio::buffers_begin(c.input.data()),
                             asio::buffers_begin(c.input.data()) + static_cast<std::ptrdiff_t>(length));
    c.input.consume(length);
    if (lowered.find("\r\nconnection: close") != std::string::npos) {
      c.socket.close();
      c.open = false;
    }
    if (status != 200) throw ServerError(status, errorMessage(status, responseBody));
    return responseBody;
  }
}

sync::PushResponse HttpTransport::push(const sync::PushRequest& request) {
  sync::PushResponse response;
  if (!response.ParseFromString(post("/api/v1/sync/push", request.SerializeAsString(), m_token))) {
    throw TransportError("push: the server's answer is not a PushResponse");
  }
  return response;
}

sync::PullResponse HttpTransport::pull(const sync::PullRequest& request) {
  sync::PullResponse response;
  if (!response.ParseFromString(post("/api/v1/sync/pull", request.SerializeAsString(), m_token))) {
    throw TransportError("pull: the server's answer is not a PullResponse");
  }
  return response;
}

api::LoginResponse HttpTransport::login(const api::LoginRequest& request) {
  api::LoginResponse response;
  if (!response.ParseFromString(post("/api/v1/login", request.SerializeAsString(), ""))) {
    throw TransportError("login: the server's answer is not a LoginResponse");
  }
  return response;
}

api::RegisterDeviceResponse HttpTransport::registerDevice(const api::RegisterDeviceRequest& request,
                                                          const std::string& userToken) {
  api::RegisterDeviceResponse response;
  if (!response.ParseFromString(post("/api/v1/devices", request.SerializeAsString(), userToken))) {
    throw TransportError("device registration: the server's answer is not a RegisterDeviceResponse");
  }
  return response;
}

api::Timeline HttpTransport::timeline(const std::string& patientId) {
  // Ids are plain, but a path must never be built from raw input.
  std::string escaped;
  for (const char c : patientId) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '~';
    if (plain) {
      escaped += c;
    } else {
      static constexpr char kDigits[] = "0123456789ABCDEF";
      const auto byte = static_cast<unsigned char>(c);
      escaped += '%';
      escaped += kDigits[byte >> 4];
      escaped += kDigits[byte & 15];
    }
  }
  api::Timeline response;
  if (!response.ParseFromString(request("GET", "/api/v1/patients/" + escaped + "/timeline", "", m_token))) {
    throw TransportError("timeline: the server's answer is not a Timeline");
  }
  return response;
}

}  // namespace hemma::mobile
