#include "hemma/server/http_io.hpp"

#include <Poco/StreamCopier.h>
#include <google/protobuf/util/json_util.h>

#include <istream>

#include "hemma/sync.pb.h"

namespace hemma::server {

namespace {

constexpr const char* kProtobufType = "application/x-protobuf";
constexpr const char* kJsonType = "application/json";

bool startsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

BodyFormat requestFormat(const Poco::Net::HTTPServerRequest& request) {
  const std::string type = request.getContentType();
  if (startsWith(type, kProtobufType)) return BodyFormat::Protobuf;
  if (startsWith(type, kJsonType) || type.empty()) return BodyFormat::Json;
  throw HttpError(415, "Content-Type: " + type + " is not supported (use " + kJsonType + " or " + kProtobufType + ")");
}

BodyFormat responseFormat(const Poco::Net::HTTPServerRequest& request, BodyFormat fallback) {
  const std::string accept = request.get("Accept", "");
  if (accept.find(kProtobufType) != std::string::npos) return BodyFormat::Protobuf;
  if (accept.find(kJsonType) != std::string::npos) return BodyFormat::Json;
  return fallback;
}

std::string readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit) {
  if (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(limit)) {
    throw HttpError(413, "body: " + std::to_string(request.getContentLength64()) + " bytes; at most " +
                             std::to_string(limit));
  }
  std::string body;
  std::istream& in = request.stream();
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    body.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (body.size() > limit) throw HttpError(413, "body: more than " + std::to_string(limit) + " bytes");
  }
  return body;
}

void parseBody(const std::string& body, BodyFormat format, google::protobuf::Message& message) {
  const std::string type = message.GetDescriptor()->name();
  if (format == BodyFormat::Protobuf) {
    if (!message.ParseFromString(body)) throw HttpError(400, "body: not a valid protobuf " + type);
    return;
  }
  if (body.empty()) throw HttpError(400, "body: empty; expected a JSON " + type);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(body, &message, options);
  if (!status.ok()) {
    throw HttpError(400, "body: not a valid JSON " + type + ": " + std::string(status.message()));
  }
}

void sendMessage(Poco::Net::HTTPServerResponse& response, const google::protobuf::Message& message,
                 BodyFormat format) {
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
  response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  // The request body may be unread (refused before reading, or too large):
  // close the connection rather than parse its rest as the next request.
  response.setKeepAlive(false);
  response.setContentType(kJsonType);
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

void sendText(Poco::Net::HTTPServerResponse& response, const std::string& contentType, const std::string& body) {
  response.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
  response.setContentType(contentType);
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

}  // namespace hemma::server
