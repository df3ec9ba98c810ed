#include "hemma/server/router.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>
#include <Poco/Util/Application.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <vector>

#include "hemma/server/http_head.hpp"
#include "hemma/server/http_io.hpp"
#include "hemma/server/web_page.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/text.hpp"

namespace hemma::server {

namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// Why decoded request text (a path, a query name or value) cannot be taken as
// it is, or "": every text that may reach the audit trail is valid UTF-8 and
// free of control characters.
std::string textFault(const std::string& text) {
  if (!sync::isValidUtf8(text)) return "not valid UTF-8";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return "control character";
  }
  return {};
}

std::string percentDecoded(const std::string& text, const std::string& what) {
  std::string decoded;
  try {
    Poco::URI::decode(text, decoded, true);
  } catch (const Poco::SyntaxException&) {
    throw HttpError(400, what + ": not valid percent-encoding");
  }
  return decoded;
}

// The query's parameters, decoded; each may be given once, for a second copy
// could be read by a proxy or a cache in front as the one that counts.
Poco::URI::QueryParameters parseQuery(const std::string& raw) {
  Poco::URI::QueryParameters parameters;
  std::size_t start = 0;
  while (start <= raw.size()) {
    const auto end = std::min(raw.find('&', start), raw.size());
    const std::string part = raw.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    const auto equals = part.find('=');
    const std::string name = percentDecoded(part.substr(0, equals), "query");
    const std::string shown = "query " + printable(name);
    if (name.empty()) throw HttpError(400, "query: a parameter without a name");
    if (const auto fault = textFault(name); !fault.empty()) throw HttpError(400, shown + ": " + fault + " in the name");
    const std::string value =
        equals == std::string::npos ? std::string() : percentDecoded(part.substr(equals + 1), shown);
    if (const auto fault = textFault(value); !fault.empty()) throw HttpError(400, shown + ": " + fault);
    for (const auto& [known, ignored] : parameters) {
      if (known == name) throw HttpError(400, shown + ": given twice");
    }
    parameters.emplace_back(name, value);
  }
  return parameters;
}

// A sign-in is a username and a password: anything larger is refused
// before it is read.
constexpr std::size_t kMaxLoginBodyBytes = 4 * 1024;

// One request as a route sees it.
class Call {
 public:
  Call(const Services& s, HTTPServerRequest& in, HTTPServerResponse& out, std::vector<std::string> pathParams)
      : services(s), request(in), response(out), params(std::move(pathParams)), now(s.nowMs()) {
    std::string raw;
    try {
      raw = Poco::URI(request.getURI()).getRawQuery();
    } catch (const Poco::SyntaxException&) {
      throw HttpError(400, "query: not a valid URI query");
    }
    m_query = parseQuery(raw);
  }

  const Services& services;
  HTTPServerRequest& request;
  HTTPServerResponse& response;
  std::vector<std::string> params;  // the {} parts of the path, in order
  std::int64_t now;

  // The caller, from "Authorization: Bearer <token>"; 401 without one.
  const api::Principal& caller() {
    if (!m_caller) {
      const std::string header = request.get("Authorization", "");
      if (header.empty()) throw Unauthorized("Authorization: missing; log in at POST /api/v1/login");
      m_caller = services.auth.authenticate(header, now);
    }
    return *m_caller;
  }

  template <typename Message>
  Message body(std::size_t limit = sync::kMaxRequestBytes) {
    m_bodyRead = true;
    Message message;
    m_format = requestFormat(request);
    parseBody(m_rawBody ? *m_rawBody : readBody(request, limit), m_format, message);
    return message;
  }

  void send(const google::protobuf::Message& message) {
    closeIfBodyUnread();
    commitWork();
    sendMessage(response, message, responseFormat(request, m_format));
  }
  void sendPage(const std::string& contentType, const std::string& text) {
    closeIfBodyUnread();
    commitWork();
    sendText(response, contentType, text);
  }

  std::string query(const std::string& name, const std::string& fallback = {}) const {
    for (const auto& [key, value] : m_query) {
      if (key == name) return value;
    }
    return fallback;
  }
  void allowQuery(std::initializer_list<const char*> names) const {
    for (const auto& [key, value] : m_query) {
      bool known = false;
      for (const char* name : names) known = known || key == name;
      if (!known) throw HttpError(400, key + ": unknown query parameter");
    }
  }
  std::uint32_t queryNumber(const std::string& name, std::uint32_t fallback) const {
    const std::string value = query(name);
    if (value.empty()) return fallback;
    std::uint32_t number = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size()) {
      throw HttpError(400, name + ": \"" + value + "\" is not a non-negative whole number");
    }
    return number;
  }
  bool openOnly() const {
    const std::string state = query("state", "open");
    if (state != "open" && state != "all") throw HttpError(400, "state: \"" + state + "\" is not open or all");
    return state == "open";
  }
  // Opens the request's unit of work: everything the route stores and
  // audits from here on commits together when the answer is sent, or not
  // at all (the audit then says "allowed; not applied").
  // The body is read first, so a slow client never holds the write lock.
  void beginWork() {
    const bool hasBody =
        request.hasContentLength() ? request.getContentLength64() > 0 : request.getChunkedTransferEncoding();
    if (hasBody) {
      m_rawBody = readBody(request, sync::kMaxRequestBytes);
      m_bodyRead = true;
    }
    m_work.emplace(services.database);
  }

  // Break-the-glass reason, from the X-Hemma-Emergency-Reason header.
  std::string emergencyReason() const { return request.get("X-Hemma-Emergency-Reason", ""); }

 private:
  // A body this route did not read must not be taken for the next request
  // on a kept-alive connection.
  void closeIfBodyUnread() {
    const bool hasBody =
        request.hasContentLength() ? request.getContentLength64() > 0 : request.getChunkedTransferEncoding();
    if (hasBody && !m_bodyRead) response.setKeepAlive(false);
  }

  // A write's audit entries and its changes commit together, before the
  // answer says it happened (UnitOfWork).
  void commitWork() {
    if (m_work && m_work->open()) m_work->commit();
  }

  bool m_bodyRead = false;
  Poco::URI::QueryParameters m_query;
  std::optional<api::Principal> m_caller;
  std::optional<UnitOfWork> m_work;
  std::optional<std::string> m_rawBody;
  BodyFormat m_format = BodyFormat::Json;
};

using RouteFn = void (*)(Call&);

// Runs a route and turns every failure into a clear answer: 4xx naming the
// problem, or a logged 500 that applied nothing.
class RouteHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  RouteHandler(const Services& services, RouteFn fn, bool open, bool atomic, std::vector<std::string> params)
      : m_services(services), m_fn(fn), m_open(open), m_atomic(atomic), m_params(std::move(params)) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    try {
      Call call(m_services, request, response, m_params);
      if (!m_open) call.caller();
      if (m_atomic) call.beginWork();
      m_fn(call);
    } catch (const HttpError& e) {
      sendError(response, e.status(), e.what());
    } catch (const NotFound& e) {
      sendError(response, 404, e.what());
    } catch (const BadRequest& e) {
      sendError(response, 400, e.what());
    } catch (const std::invalid_argument& e) {
      sendError(response, 400, e.what());
    } catch (const Unauthorized& e) {
      response.set("WWW-Authenticate", "Bearer");
      sendError(response, 401, e.what());
    } catch (const Forbidden& e) {
      sendError(response, 403, e.what());
    } catch (const TooManyAttempts& e) {
      response.set("Retry-After", std::to_string(e.retryAfter().count()));
      sendError(response, 429, e.what());
    } catch (const std::exception& e) {
      Poco::Util::Application::instance().logger().error("%s %s failed: %s", request.getMethod(), request.getURI(),
                                                         std::string(e.what()));
      if (!response.sent()) sendError(response, 500, "internal error; the request was not applied");
    }
  }

 private:
  const Services& m_services;
  RouteFn m_fn;
  bool m_open;
  bool m_atomic;
  std::vector<std::string> m_params;
};

class ErrorHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  ErrorHandler(int status, std::string message) : m_status(status), m_message(std::move(message)) {}
  void handleRequest(HTTPServerRequest&, HTTPServerResponse& response) override {
    sendError(response, m_status, m_message);
  }

 private:
  int m_status;
  std::string m_message;
};

struct Route {
  const char* method;
  const char* pattern;  // "{}" matches one path segment
  RouteFn fn;
  // Routes anyone may call; every other route authenticates the caller
  // before it reads the body.
  bool open = false;
  // A route that stores its operations and their audit entries in a
  // transaction of its own (a push) or writes nothing but its audit (a
  // pull). Every other authenticated route that changes something runs in
  // one UnitOfWork.
  bool ownTransaction = false;
};

// The API. Each entry is one thin handler: authenticate, parse, call, answer.
const Route kRoutes[] = {
    // The web UI (server/web/, embedded at build time).
    {"GET", "/",
     [](Call& c) {
       const WebFile* page = findWebFile("index.html");
       if (!page) throw HttpError(404, "/: the web UI is not built into this server");
       for (const auto& [name, value] : kWebFileHeaders) c.response.set(name, value);
       c.sendPage(std::string(page->contentType), std::string(page->content));
     },
     true},
    {"GET", "/assets/{}",
     [](Call& c) {
       const WebFile* file = findWebFile("assets/" + c.params[0]);
       if (!file) throw HttpError(404, "/assets/" + c.params[0] + ": no such file");
       for (const auto& [name, value] : kWebFileHeaders) c.response.set(name, value);
       c.sendPage(std::string(file->contentType), std::string(file->content));
     },
     true},
    {"GET", "/api/v1/health",
     [](Call& c) {
       c.sendPage("application/json",
                  "{\"status\":\"ok\",\"protocolVersion\":" + std::to_string(sync::kProtocolVersion) + "}");
     },
     true},

    // Authentication and devices.
    {"POST", "/api/v1/login",
     [](Call& c) {
       const auto request = c.body<api::LoginRequest>(kMaxLoginBodyBytes);
       // The audit entry of a refused sign-in names at most a bounded
       // username: an anonymous caller cannot grow the log by its size.
       api::Principal who;
       if (request.username().size() <= sync::kMaxIdBytes) who.set_user_id(request.username());
       try {
         const auto session = c.services.auth.login(request, c.now, c.request.clientAddress().host().toString());
         c.services.care.recordAccountEvent(session.principal(), "login", "allowed", c.now);
         c.send(session);
       } catch (const TooManyAttempts& e) {
         if (e.firstRefusal()) c.services.care.recordAccountEvent(who, "login", "denied: locked out", c.now);
         throw;
       } catch (const std::exception& e) {
         c.services.care.recordAccountEvent(who, "login", std::string("denied: ") + e.what(), c.now);
         throw;
       }
     },
     true},
    {"GET", "/api/v1/me", [](Call& c) { c.send(c.caller()); }},
    {"GET", "/api/v1/organisations", [](Call& c) { c.send(c.services.care.organisations()); }},
    {"POST", "/api/v1/devices",
     [](Call& c) {
       const auto request = c.body<api::RegisterDeviceRequest>();
       const auto registered = c.services.auth.registerDevice(c.caller(), request.device_id(), c.now);
       c.services.care.recordAccountEvent(c.caller(), "device.register " + request.device_id(), "allowed", c.now);
       c.send(registered);
     }},
    {"GET", "/api/v1/devices", [](Call& c) { c.send(c.services.auth.devices(c.caller().user_id())); }},
    {"POST", "/api/v1/devices/{}/revoke",
     [](Call& c) {
       const auto& caller = c.caller();
       const auto device = c.services.auth.device(c.params[0]);
       if (!device) throw NotFound("device " + c.params[0] + ": no such device");
       // The device's own user may revoke it (a lost tablet), and so may an
       // administrator or coordinator of the user's organisation.
       const bool own = device->user_id() == caller.user_id() && caller.device_id().empty();
       const bool manager = (caller.role() == domain::ADMINISTRATOR || caller.role() == domain::COORDINATOR) &&
                            caller.patient_id().empty() && caller.device_id().empty() &&
                            c.services.care.organisationOf(device->user_id()) == caller.organisation_id();
       if (!own && !manager) {
         c.services.care.recordAccountEvent(caller, "device.revoke " + c.params[0], "denied: not yours", c.now);
         throw Forbidden("device " + c.params[0] + ": not yours to revoke");
       }
       c.services.auth.revokeDevice(c.params[0], c.now);
       c.services.care.recordAccountEvent(caller, "device.revoke " + c.params[0], "allowed", c.now);
       c.send(*c.services.auth.device(c.params[0]));
     }},

    // Sync (tablets, with their device token).
    {"POST", "/api/v1/sync/push",
     [](Call& c) {
       const auto request = c.body<sync::PushRequest>();
       c.send(c.services.care.push(c.caller(), request, c.now));
     },
     false, true},
    {"POST", "/api/v1/sync/pull",
     [](Call& c) {
       const auto request = c.body<sync::PullRequest>();
       c.send(c.services.care.pull(c.caller(), request, c.now));
     },
     false, true},

    // Patients and their shared plan.
    {"GET", "/api/v1/patients", [](Call& c) { c.send(c.services.care.patients(c.caller(), c.now)); }},
    {"GET", "/api/v1/patients/{}",
     [](Call& c) { c.send(c.services.care.record(c.caller(), c.params[0], c.emergencyReason(), c.now)); }},
    {"PUT", "/api/v1/patients/{}",
     [](Call& c) {
       const auto changes = c.body<domain::Patient>();
       c.send(c.services.care.updatePatient(c.caller(), c.params[0], changes, c.now));
     }},
    {"GET", "/api/v1/patients/{}/timeline",
     [](Call& c) { c.send(c.services.care.timeline(c.caller(), c.params[0], c.emergencyReason(), c.now)); }},
    {"PUT", "/api/v1/patients/{}/plan",
     [](Call& c) {
       const auto plan = c.body<domain::CarePlan>();
       c.send(c.services.care.updatePlan(c.caller(), c.params[0], plan, c.now));
     }},
    {"GET", "/api/v1/patients/{}/care-team",
     [](Call& c) { c.send(c.services.care.careTeam(c.caller(), c.params[0], c.now)); }},
    {"POST", "/api/v1/patients/{}/care-team",
     [](Call& c) {
       const auto member = c.body<api::CareTeamMember>();
       c.send(c.services.care.addCareTeamMember(c.caller(), c.params[0], member, c.now));
     }},
    {"DELETE", "/api/v1/patients/{}/care-team/{}",
     [](Call& c) { c.send(c.services.care.removeCareTeamMember(c.caller(), c.params[0], c.params[1], c.now)); }},
    {"GET", "/api/v1/patients/{}/consents",
     [](Call& c) { c.send(c.services.care.consents(c.caller(), c.params[0], c.now)); }},
    {"POST", "/api/v1/patients/{}/consents",
     [](Call& c) {
       const auto consent = c.body<api::Consent>();
       c.send(c.services.care.addConsent(c.caller(), c.params[0], consent, c.now));
     }},
    {"POST", "/api/v1/consents/{}/withdraw",
     [](Call& c) { c.send(c.services.care.withdrawConsent(c.caller(), c.params[0], c.now)); }},
    {"GET", "/api/v1/patients/{}/blocks",
     [](Call& c) { c.send(c.services.care.blocks(c.caller(), c.params[0], c.now)); }},
    {"POST", "/api/v1/patients/{}/blocks",
     [](Call& c) {
       const auto block = c.body<api::Block>();
       c.send(c.services.care.addBlock(c.caller(), c.params[0], block, c.now));
     }},
    {"POST", "/api/v1/blocks/{}/lift",
     [](Call& c) { c.send(c.services.care.liftBlock(c.caller(), c.params[0], c.now)); }},
    {"PUT", "/api/v1/patients/{}/language",
     [](Call& c) {
       const auto request = c.body<api::LanguageRequest>();
       c.send(c.services.care.setLanguage(c.caller(), c.params[0], request.language(), c.now));
     }},
    {"GET", "/api/v1/patients/{}/messages",
     [](Call& c) { c.send(c.services.care.messages(c.caller(), c.params[0], c.now)); }},
    {"POST", "/api/v1/patients/{}/messages",
     [](Call& c) {
       const auto request = c.body<api::SendMessageRequest>();
       c.send(c.services.care.sendMessage(c.caller(), c.params[0], request, c.now));
     }},
    {"GET", "/api/v1/alerts",
     [](Call& c) {
       c.allowQuery({"after"});
       std::uint64_t after = 0;
       const std::string text = c.query("after");
       if (!text.empty()) {
         const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), after);
         if (ec != std::errc() || end != text.data() + text.size()) {
           throw HttpError(400, "after: \"" + text + "\" is not a non-negative whole number");
         }
       }
       c.send(c.services.care.alerts(c.caller(), after, c.now));
     }},
    {"GET", "/api/v1/patients/{}/visits",
     [](Call& c) { c.send(c.services.care.visits(c.caller(), c.params[0], c.now)); }},
    {"POST", "/api/v1/patients/{}/visits",
     [](Call& c) {
       const auto visit = c.body<domain::Visit>();
       c.send(c.services.care.scheduleVisit(c.caller(), c.params[0], visit, c.now));
     }},

    {"PUT", "/api/v1/patients/{}/visits/{}",
     [](Call& c) {
       const auto update = c.body<api::VisitUpdate>();
       c.send(c.services.care.updateVisit(c.caller(), c.params[0], c.params[1], update, c.now));
     }},
    {"GET", "/api/v1/schedule",
     [](Call& c) {
       c.allowQuery({"from", "to"});
       c.send(c.services.care.schedule(c.caller(), c.query("from"), c.query("to"), c.now));
     }},
    {"GET", "/api/v1/board",
     [](Call& c) {
       c.allowQuery({"date"});
       c.send(c.services.care.board(c.caller(), c.query("date"), c.now));
     }},

    // Plan change proposals and sign-off.
    {"GET", "/api/v1/patients/{}/proposals",
     [](Call& c) { c.send(c.services.care.proposals(c.caller(), c.params[0], c.now)); }},
    {"POST", "/api/v1/patients/{}/proposals",
     [](Call& c) {
       const auto proposal = c.body<api::PlanChangeProposal>();
       c.send(c.services.care.propose(c.caller(), c.params[0], proposal, c.now));
     }},
    {"GET", "/api/v1/proposals", [](Call& c) { c.send(c.services.care.proposalQueue(c.caller(), c.now)); }},
    {"POST", "/api/v1/proposals/{}/sign",
     [](Call& c) { c.send(c.services.care.decideProposal(c.caller(), c.params[0], true, "", c.now)); }},
    {"POST", "/api/v1/proposals/{}/reject",
     [](Call& c) {
       const auto decision = c.body<api::DecisionRequest>();
       c.send(c.services.care.decideProposal(c.caller(), c.params[0], false, decision.reason(), c.now));
     }},

    // Sync conflicts for review.
    {"GET", "/api/v1/conflicts",
     [](Call& c) {
       c.allowQuery({"patient", "state"});
       c.send(c.services.care.conflicts(c.caller(), c.query("patient"), c.openOnly(), c.now));
     }},
    {"POST", "/api/v1/conflicts/{}/resolve",
     [](Call& c) {
       const auto resolution = c.body<sync::ResolveConflictRequest>();
       c.send(c.services.care.resolveConflict(c.caller(), c.params[0], resolution.value(), c.now));
     }},

    // Audit.
    {"GET", "/api/v1/patients/{}/access-log",
     [](Call& c) { c.send(c.services.care.accessLog(c.caller(), c.params[0], c.now)); }},
    {"GET", "/api/v1/audit",
     [](Call& c) {
       c.allowQuery({"patient", "user", "emergency", "limit"});
       AuditQuery query;
       query.patientId = c.query("patient");
       query.userId = c.query("user");
       query.emergencyOnly = c.query("emergency") == "true";
       query.limit = std::min<std::uint32_t>(c.queryNumber("limit", 200), 5000);
       c.send(c.services.care.audit(c.caller(), query, c.now));
     }},
    {"GET", "/api/v1/audit/sample",
     [](Call& c) {
       c.allowQuery({"size"});
       c.send(c.services.care.auditSample(c.caller(), c.queryNumber("size", 10), c.now));
     }},
    {"GET", "/api/v1/audit/reviews", [](Call& c) { c.send(c.services.care.auditReviews(c.caller(), c.now)); }},
    {"POST", "/api/v1/audit/reviews",
     [](Call& c) {
       const auto review = c.body<api::AuditReview>();
       c.send(c.services.care.addAuditReview(c.caller(), review, c.now));
     }},
};

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = path.find('/', start);
    parts.push_back(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

// Matches `path` against `pattern`; fills the {} segments into `params`.
bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
             std::vector<std::string>& params) {
  if (pattern.size() != path.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{}") {
      if (path[i].empty()) return false;
      params.push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Poco::Net::HTTPRequestHandler* Router::createRequestHandler(const HTTPServerRequest& request) {
  std::string path;
  try {
    Poco::URI::decode(Poco::URI(request.getURI()).getPath(), path);
  } catch (const Poco::Exception&) {
    return new ErrorHandler(400, "path: not a valid URI");
  }
  if (const auto fault = textFault(path); !fault.empty()) return new ErrorHandler(400, "path: " + fault);
  const auto parts = split(path);
  bool pathKnown = false;
  std::vector<std::string> params;
  for (const auto& route : kRoutes) {
    if (!matches(split(route.pattern), parts, params)) continue;
    pathKnown = true;
    if (request.getMethod() == route.method) {
      const bool atomic = request.getMethod() != "GET" && !route.open && !route.ownTransaction;
      return new RouteHandler(m_services, route.fn, route.open, atomic, params);
    }
  }
  if (pathKnown) return new ErrorHandler(405, request.getMethod() + " " + path + ": method not allowed");
  return new ErrorHandler(404, path + ": no such resource");
}

}  // namespace hemma::server
