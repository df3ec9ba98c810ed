#include "hemma/server/router.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>
#include <Poco/Util/Application.h>

#include <charconv>

#include "hemma/server/http_io.hpp"
#include "hemma/server/web_page.hpp"
#include "hemma/sync/protocol.hpp"

namespace hemma::server {

namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// Turns every failure into a clear answer: HttpError and BadRequest as 4xx
// naming the problem, anything else as a logged 500.
class ApiHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ApiHandler(const Services& services) : m_services(services) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) final {
    try {
      handle(request, response);
    } catch (const HttpError& e) {
      sendError(response, e.status(), e.what());
    } catch (const BadRequest& e) {
      sendError(response, 400, e.what());
    } catch (const NotFound& e) {
      sendError(response, 404, e.what());
    } catch (const std::exception& e) {
      Poco::Util::Application::instance().logger().error("%s %s failed: %s", request.getMethod(), request.getURI(),
                                                         std::string(e.what()));
      if (!response.sent()) sendError(response, 500, "internal error; the request was not applied");
    }
  }

 protected:
  virtual void handle(HTTPServerRequest& request, HTTPServerResponse& response) = 0;
  const Services& m_services;
};

class PushHandler final : public ApiHandler {
 public:
  using ApiHandler::ApiHandler;
  void handle(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const BodyFormat format = requestFormat(request);
    sync::PushRequest push;
    parseBody(readBody(request, sync::kMaxRequestBytes), format, push);
    sendMessage(response, m_services.sync.push(push, m_services.nowMs()), responseFormat(request, format));
  }
};

class PullHandler final : public ApiHandler {
 public:
  using ApiHandler::ApiHandler;
  void handle(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const BodyFormat format = requestFormat(request);
    sync::PullRequest pull;
    parseBody(readBody(request, sync::kMaxRequestBytes), format, pull);
    sendMessage(response, m_services.sync.pull(pull, m_services.nowMs()), responseFormat(request, format));
  }
};

std::uint64_t queryNumber(const Poco::URI::QueryParameters& params, const std::string& name, std::uint64_t fallback) {
  for (const auto& [key, value] : params) {
    if (key != name) continue;
    std::uint64_t number = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size()) {
      throw HttpError(400, name + ": \"" + value + "\" is not a non-negative whole number");
    }
    return number;
  }
  return fallback;
}

// GET /api/v1/operations?after=N&limit=M: the operation log as JSON, for
// operators and the demo page.
class OperationsHandler final : public ApiHandler {
 public:
  using ApiHandler::ApiHandler;
  void handle(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const auto params = Poco::URI(request.getURI()).getQueryParameters();
    sync::PullRequest pull;
    pull.set_protocol_version(sync::kProtocolVersion);
    pull.set_device_id("web");
    pull.set_after_seq(queryNumber(params, "after", 0));
    pull.set_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(queryNumber(params, "limit", 100), sync::kMaxPullPage)));
    sendMessage(response, m_services.sync.pull(pull, m_services.nowMs()), BodyFormat::Json);
  }
};

// GET /api/v1/conflicts?patient=ID&state=open|all
class ConflictsHandler final : public ApiHandler {
 public:
  using ApiHandler::ApiHandler;
  void handle(HTTPServerRequest& request, HTTPServerResponse& response) override {
    ConflictQuery query;
    for (const auto& [key, value] : Poco::URI(request.getURI()).getQueryParameters()) {
      if (key == "patient") {
        query.patientId = value;
      } else if (key == "state") {
        if (value != "open" && value != "all") throw HttpError(400, "state: \"" + value + "\" is not open or all");
        query.openOnly = value == "open";
      } else {
        throw HttpError(400, key + ": unknown query parameter (patient, state)");
      }
    }
    sendMessage(response, m_services.sync.conflicts(query), BodyFormat::Json);
  }
};

// POST /api/v1/conflicts/{id}/resolve with ResolveConflictRequest
class ResolveConflictHandler final : public ApiHandler {
 public:
  ResolveConflictHandler(const Services& services, std::string conflictId)
      : ApiHandler(services), m_conflictId(std::move(conflictId)) {}
  void handle(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const BodyFormat format = requestFormat(request);
    sync::ResolveConflictRequest resolve;
    parseBody(readBody(request, sync::kMaxRequestBytes), format, resolve);
    sendMessage(response, m_services.sync.resolveConflict(m_conflictId, resolve, m_services.nowMs()),
                responseFormat(request, format));
  }

 private:
  std::string m_conflictId;
};

class HealthHandler final : public ApiHandler {
 public:
  using ApiHandler::ApiHandler;
  void handle(HTTPServerRequest&, HTTPServerResponse& response) override {
    sendText(response, "application/json",
             "{\"status\":\"ok\",\"protocolVersion\":" + std::to_string(sync::kProtocolVersion) + "}");
  }
};

class PageHandler final : public ApiHandler {
 public:
  using ApiHandler::ApiHandler;
  void handle(HTTPServerRequest&, HTTPServerResponse& response) override {
    sendText(response, "text/html; charset=utf-8", kIndexPage);
  }
};

class ErrorHandler final : public ApiHandler {
 public:
  ErrorHandler(const Services& services, int status, std::string message)
      : ApiHandler(services), m_status(status), m_message(std::move(message)) {}
  void handle(HTTPServerRequest&, HTTPServerResponse&) override { throw HttpError(m_status, m_message); }

 private:
  int m_status;
  std::string m_message;
};

}  // namespace

Poco::Net::HTTPRequestHandler* Router::createRequestHandler(const HTTPServerRequest& request) {
  const std::string path = Poco::URI(request.getURI()).getPath();
  const std::string& method = request.getMethod();
  struct Route {
    const char* method;
    const char* path;
    Poco::Net::HTTPRequestHandler* (*make)(const Services&);
  };
  static const Route kRoutes[] = {
      {"POST", "/api/v1/sync/push", [](const Services& s) -> Poco::Net::HTTPRequestHandler* { return new PushHandler(s); }},
      {"POST", "/api/v1/sync/pull", [](const Services& s) -> Poco::Net::HTTPRequestHandler* { return new PullHandler(s); }},
      {"GET", "/api/v1/operations", [](const Services& s) -> Poco::Net::HTTPRequestHandler* { return new OperationsHandler(s); }},
      {"GET", "/api/v1/conflicts", [](const Services& s) -> Poco::Net::HTTPRequestHandler* { return new ConflictsHandler(s); }},
      {"GET", "/api/v1/health", [](const Services& s) -> Poco::Net::HTTPRequestHandler* { return new HealthHandler(s); }},
      {"GET", "/", [](const Services& s) -> Poco::Net::HTTPRequestHandler* { return new PageHandler(s); }},
  };
  // /api/v1/conflicts/{id}/resolve
  const std::string conflictsPrefix = "/api/v1/conflicts/";
  const std::string resolveSuffix = "/resolve";
  if (path.size() > conflictsPrefix.size() + resolveSuffix.size() && path.rfind(conflictsPrefix, 0) == 0 &&
      path.compare(path.size() - resolveSuffix.size(), resolveSuffix.size(), resolveSuffix) == 0) {
    if (method != "POST") return new ErrorHandler(m_services, 405, method + " " + path + ": method not allowed");
    const std::string id = path.substr(conflictsPrefix.size(), path.size() - conflictsPrefix.size() - resolveSuffix.size());
    return new ResolveConflictHandler(m_services, id);
  }
  bool pathKnown = false;
  for (const auto& route : kRoutes) {
    if (path != route.path) continue;
    pathKnown = true;
    if (method == route.method) return route.make(m_services);
  }
  if (pathKnown) return new ErrorHandler(m_services, 405, method + " " + path + ": method not allowed");
  return new ErrorHandler(m_services, 404, path + ": no such resource");
}

}  // namespace hemma::server
