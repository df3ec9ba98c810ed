#pragma once
// Reading requests and writing answers for the API handlers: bodies are
// protobuf (application/x-protobuf) or the proto3 JSON mapping
// (application/json) of the same messages; errors are always JSON
// {"error": "..."} naming what is wrong.

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <google/protobuf/message.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace hemma::server {

// An answer other than 200, with the message for the client.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), m_status(status) {}
  int status() const { return m_status; }

 private:
  int m_status;
};

enum class BodyFormat { Protobuf, Json };

// The format of the request body, from Content-Type: exactly application/json
// or application/x-protobuf, with any parameters ("; charset=utf-8"); none
// means JSON. Anything else (application/jsonp, application/json-patch+json)
// throws HttpError 415.
BodyFormat requestFormat(const Poco::Net::HTTPServerRequest& request);
// The format the client wants back, from Accept; defaults to `fallback`.
BodyFormat responseFormat(const Poco::Net::HTTPServerRequest& request, BodyFormat fallback);

// Reads the whole body; throws HttpError 413 past `limit` bytes, and 408 when
// it has not all arrived within the server's timeout
// (request.serverParams().getTimeout(), hemma.body_timeout_seconds) from the
// call. A request with neither Content-Length nor chunked encoding has none.
std::string readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit);

// Parses `body` into `message`; throws HttpError 400 naming the message type
// and, for JSON, what is wrong: the strict syntax check (http_json.hpp) runs
// first, so duplicate keys and what RFC 8259 does not allow are refused.
void parseBody(const std::string& body, BodyFormat format, google::protobuf::Message& message);

void sendMessage(Poco::Net::HTTPServerResponse& response, const google::protobuf::Message& message, BodyFormat format);
// Sends {"error": message} with `status` and its own reason phrase, and closes
// the connection afterwards (the request body may not have been read).
// sendMessage and sendError answers carry Cache-Control: no-store.
void sendError(Poco::Net::HTTPServerResponse& response, int status, const std::string& message);
void sendText(Poco::Net::HTTPServerResponse& response, const std::string& contentType, const std::string& body);

}  // namespace hemma::server
