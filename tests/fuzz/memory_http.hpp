#pragma once
// A Poco server request and response in memory, so a fuzz target can run the
// router's real handlers without a socket. The request is filled like any
// Poco::Net::HTTPRequest (set*, or read() from a stream holding a request
// head); its body is a string. The response keeps the status, the headers
// and the body written.
//
// Not thread-safe; one request per pair.

#include <Poco/AutoPtr.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketAddress.h>

#include <sstream>
#include <string>

namespace hemma::fuzz {

class MemoryResponse final : public Poco::Net::HTTPServerResponse {
 public:
  void sendContinue() override {}
  std::ostream& send() override;
  void sendFile(const std::string& path, const std::string& mediaType) override;
  void sendBuffer(const void* buffer, std::size_t length) override;
  void redirect(const std::string& uri, HTTPStatus status = HTTP_FOUND) override;
  void requireAuthentication(const std::string& realm) override;
  bool sent() const override { return m_sent; }

  std::string body() const { return m_body.str(); }

 private:
  bool m_sent = false;
  std::ostringstream m_body;
};

class MemoryRequest final : public Poco::Net::HTTPServerRequest {
 public:
  MemoryRequest();

  // The body the handler reads from stream().
  void setBody(std::string body);

  std::istream& stream() override { return m_body; }
  const Poco::Net::SocketAddress& clientAddress() const override { return m_client; }
  const Poco::Net::SocketAddress& serverAddress() const override { return m_server; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return *m_params; }
  Poco::Net::HTTPServerResponse& response() const override { return m_response; }
  bool secure() const override { return false; }

  MemoryResponse& memoryResponse() { return m_response; }

 private:
  std::istringstream m_body;
  Poco::Net::SocketAddress m_client;
  Poco::Net::SocketAddress m_server;
  Poco::AutoPtr<Poco::Net::HTTPServerParams> m_params;
  mutable MemoryResponse m_response;
};

}  // namespace hemma::fuzz
