#include "memory_http.hpp"

namespace hemma::fuzz {

std::ostream& MemoryResponse::send() {
  m_sent = true;
  return m_body;
}

void MemoryResponse::sendFile(const std::string& path, const std::string& mediaType) {
  (void)path;
  setContentType(mediaType);
  m_sent = true;
}

void MemoryResponse::sendBuffer(const void* buffer, std::size_t length) {
  m_body.write(static_cast<const char*>(buffer), static_cast<std::streamsize>(length));
  m_sent = true;
}

void MemoryResponse::redirect(const std::string& uri, HTTPStatus status) {
  set("Location", uri);
  setStatus(status);
  m_sent = true;
}

void MemoryResponse::requireAuthentication(const std::string& realm) {
  set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
  setStatus(HTTP_UNAUTHORIZED);
  m_sent = true;
}

MemoryRequest::MemoryRequest()
    : m_client("127.0.0.1", 40000), m_server("127.0.0.1", 8080), m_params(new Poco::Net::HTTPServerParams) {}

void MemoryRequest::setBody(std::string body) { m_body.str(std::move(body)); }

}  // namespace hemma::fuzz
