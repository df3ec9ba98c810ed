#pragma once
// The device's HTTP/1.1 client (standalone Asio): protobuf bodies over one
// kept-alive connection, reopened after any failure.
//
// Not thread-safe. Every call gives up after the timeout with TransportError.

#include <chrono>
#include <memory>
#include <string>

#include "hemma/mobile/transport.hpp"

namespace hemma::mobile {

// "http://host:port" split into its parts; throws std::invalid_argument
// naming what is wrong.
struct ServerAddress {
  std::string host;
  std::string port;
  static ServerAddress parse(const std::string& url);
};

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(ServerAddress address, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpTransport() override;

  sync::PushResponse push(const sync::PushRequest& request) override;
  sync::PullResponse pull(const sync::PullRequest& request) override;
  void setToken(const std::string& token) override { m_token = token; }
  api::LoginResponse login(const api::LoginRequest& request) override;
  api::RegisterDeviceResponse registerDevice(const api::RegisterDeviceRequest& request,
                                             const std::string& userToken) override;
  api::Timeline timeline(const std::string& patientId) override;

 private:
  struct Connection;
  std::string post(const std::string& path, const std::string& body, const std::string& token);
  std::string request(const char* method, const std::string& path, const std::string& body, const std::string& token);

  ServerAddress m_address;
  std::chrono::milliseconds m_timeout;
  std::unique_ptr<Connection> m_connection;
  std::string m_token;
};

}  // namespace hemma::mobile
