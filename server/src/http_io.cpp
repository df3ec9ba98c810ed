#include "hemma/server/http_io.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <istream>

#include "hemma/server/http_json.hpp"
#include "hemma/sync.pb.h"
#include "hemma/sync/message_checks.hpp"

namespace hemma::server {

namespace {

constexpr const char* kProtobufType = "application/x-protobuf";
constexpr const char* kJsonType = "application/json";

std::string lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// The media type of a Content-Type value, without its parameters
// ("application/json; charset=utf-8" -> "application/json").
std::string mediaType(const std::string& contentType) {
  std::string type = contentType.substr(0, contentType.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.erase(0, 1);
  return lowercase(type);
}

}  // namespace

BodyFormat requestFormat(const Poco::Net::HTTPServerRequest& request) {
  const std::string type = request.getContentType();
  const std::string media = mediaType(type);
  if (media == kProtobufType) return BodyFormat::Protobuf;
  if (media == kJsonType || type.empty()) return BodyFormat::Json;
  throw HttpError(415,
                  "Content-Type: \"" + type + "\" is not supported (use " + kJsonType + " or " + kProtobufType + ")");
}

BodyFormat responseFormat(const Poco::Net::HTTPServerRequest& request, BodyFormat fallback) {
  const std::string accept = request.get("Accept", "");
  if (accept.find(kProtobufType) != std::string::npos) return BodyFormat::Protobuf;
  if (accept.find(kJsonType) != std::string::npos) return BodyFormat::Json;
  return fallback;
}

std::string readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit) {
  if (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(limit)) {
    throw HttpError(
        413, "body: " + std::to_string(request.getContentLength64()) + " bytes; at most " + std::to_string(limit));
  }
  // A request with neither Content-Length nor chunked encoding has no body
  // (RFC 9112 section 6.3); Poco would read one until the client closes.
  if (!request.hasContentLength() && !request.getChunkedTransferEncoding()) return {};

  // The whole body has one deadline, the server's timeout: each wait for
  // bytes is given only what is left of it, so a client sending a byte now
  // and then cannot hold a worker longer.
  using Clock = std::chrono::steady_clock;
  const auto allowed = std::chrono::microseconds(request.serverParams().getTimeout().totalMicroseconds());
  const auto deadline = Clock::now() + allowed;
  auto* socketRequest = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
  const std::string late = "body: not received within " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(allowed).count()) + " s";

  std::string body;
  std::streambuf& in = *request.stream().rdbuf();
  char buffer[64 * 1024];
  try {
    while (true) {
      const std::streamsize ready = in.in_avail();
      if (ready > 0) {
        const auto n = in.sgetn(buffer, std::min<std::streamsize>(ready, sizeof buffer));
        body.append(buffer, static_cast<std::size_t>(n));
        if (body.size() > limit) throw HttpError(413, "body: more than " + std::to_string(limit) + " bytes");
        continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
      if (left.count() <= 0) throw HttpError(408, late);
      if (socketRequest) socketRequest->socket().setReceiveTimeout(Poco::Timespan(left.count()));
      if (in.sgetc() == std::char_traits<char>::eof()) break;
    }
  } catch (const Poco::TimeoutException&) {
    throw HttpError(408, late);
  } catch (const Poco::Exception& e) {
    throw HttpError(400, "body: " + e.displayText());
  }
  return body;
}

void parseBody(const std::string& body, BodyFormat format, google::protobuf::Message& message) {
  const std::string type = message.GetDescriptor()->name();
  if (format == BodyFormat::Protobuf) {
    if (!message.ParseFromString(body)) throw HttpError(400, "body: not a valid protobuf " + type);
    // Fields this server does not know are never stored nor passed on.
    if (const auto unknown = sync::findUnknownField(message)) throw HttpError(400, "body: " + *unknown);
    return;
  }
  if (body.empty()) throw HttpError(400, "body: empty; expected a JSON " + type);
  if (const auto fault = checkStrictJson(body)) throw HttpError(400, "body: " + *fault);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(body, &message, options);
  if (!status.ok()) {
    throw HttpError(400, "body: not a valid JSON " + type + ": " + std::string(status.message()));
  }
}

void sendMessage(Poco::Net::HTTPServerResponse& response, const google::protobuf::Message& message, BodyFormat format) {
  // Every message the API sends may carry patient data or a token: no cache
  // (a browser's, or a proxy's) may keep it.
  response.set("Cache-Control", "no-store");
  std::string body;
  if (format == BodyFormat::Protobuf) {
    message.SerializeToString(&body);
    sendText(response, kProtobufType, body);
    return;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(message, &body, options);
  sendText(response, kJsonType, body);
}

void sendError(Poco::Net::HTTPServerResponse& response, int status, const std::string& message) {
  sync::ErrorResponse error;
  error.set_error(message);
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(error, &body);
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  response.set("Cache-Control", "no-store");
  // The request body may be unread (refused before reading, or too large):
  // close the connection rather than parse its rest as the next request.
  response.setKeepAlive(false);
  response.setContentType(kJsonType);
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

void sendText(Poco::Net::HTTPServerResponse& response, const std::string& contentType, const std::string& body) {
  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  response.setContentType(contentType);
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

}  // namespace hemma::server
