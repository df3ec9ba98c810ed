// json_api: the JSON API's request bodies and queries through the router's
// real handlers (hemma::server::Router on a fresh copy of the demo world),
// in memory, without a socket.
//
// Input: three bytes of options, then the body.
//   byte 0  the route (kRoutes below); a GET route takes the body as its
//           query string, GET /api/v1/patients/{} as the emergency reason
//   byte 1  bits 0-3: the caller (fuzz::Caller; past the last: no
//           Authorization header); bit 7: the body is protobuf, not JSON
//   byte 2  bits 0-2: the first path parameter, bits 3-5: the second
//           (kIds); bit 7: the first is the body up to its first newline
//
// Invariants: every answer is sent and is 2xx or 4xx, never 5xx; after the
// request, the audit review (GET /api/v1/audit as the administrator and as
// the coordinator) and the patient's own access log still answer 200.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_server.hpp"

namespace {

using namespace hemma;

struct Route {
  const char* method;
  const char* path;  // {} is a path parameter; a trailing ? takes the query from the body
};

constexpr Route kRoutes[] = {
    {"POST", "/api/v1/login"},
    {"PUT", "/api/v1/patients/{}"},
    {"PUT", "/api/v1/patients/{}/plan"},
    {"POST", "/api/v1/patients/{}/visits"},
    {"PUT", "/api/v1/patients/{}/visits/{}"},
    {"POST", "/api/v1/patients/{}/proposals"},
    {"POST", "/api/v1/proposals/{}/reject"},
    {"POST", "/api/v1/patients/{}/consents"},
    {"POST", "/api/v1/patients/{}/messages"},
    {"POST", "/api/v1/patients/{}/care-team"},
    {"POST", "/api/v1/patients/{}/blocks"},
    {"PUT", "/api/v1/patients/{}/language"},
    {"POST", "/api/v1/conflicts/{}/resolve"},
    {"POST", "/api/v1/audit/reviews"},
    {"POST", "/api/v1/devices"},
    {"POST", "/api/v1/sync/push"},
    {"POST", "/api/v1/sync/pull"},
    {"GET", "/api/v1/audit?"},
    {"GET", "/api/v1/audit/sample?"},
    {"GET", "/api/v1/schedule?"},
    {"GET", "/api/v1/board?"},
    {"GET", "/api/v1/alerts?"},
    {"GET", "/api/v1/conflicts?"},
    {"GET", "/api/v1/patients/{}"},
    {"GET", "/api/v1/patients/{}/timeline"},
    {"GET", "/api/v1/patients/{}/access-log"},
    {"POST", "/api/v1/proposals/{}/sign"},
    {"DELETE", "/api/v1/patients/{}/care-team/{}"},
    {"POST", "/api/v1/consents/{}/withdraw"},
    {"POST", "/api/v1/blocks/{}/lift"},
    {"POST", "/api/v1/devices/{}/revoke"},
};
constexpr std::size_t kRouteCount = sizeof kRoutes / sizeof kRoutes[0];

constexpr const char* kIds[] = {"patient-01",         "patient-02",  "patient-03",     "patient-25",
                                "patient-01-visit-1", "nurse-karin", "physician-sara", "nurse-karin-tablet"};

int serve(fuzz::ServerWorld& world, const std::string& method, const std::string& uri, fuzz::Caller caller,
          const std::string& body, bool protobuf, const std::string& emergencyReason = {}) {
  fuzz::MemoryRequest request;
  request.setMethod(method);
  request.setURI(uri);
  if (caller != fuzz::Caller::Count) request.set("Authorization", world.authorization(caller));
  if (!emergencyReason.empty()) request.set("X-Hemma-Emergency-Reason", emergencyReason);
  if (!body.empty()) {
    request.setContentType(protobuf ? "application/x-protobuf" : "application/json");
    request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    request.setBody(body);
  }
  return world.serve(request);
}

void requireOk(fuzz::ServerWorld& world, const std::string& uri, fuzz::Caller caller) {
  const int status = serve(world, "GET", uri, caller, "", false);
  if (status != 200) fuzz::fail("after the input, GET " + uri + " answered " + std::to_string(status));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const Route& route = kRoutes[data[0] % kRouteCount];
  const auto callerIndex = static_cast<std::size_t>(data[1] & 15);
  const auto caller = static_cast<fuzz::Caller>(callerIndex <= fuzz::kCallerCount ? callerIndex : fuzz::kCallerCount);
  const bool protobuf = data[1] & 128;
  std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::string first = kIds[data[2] & 7];
  std::string second = kIds[(data[2] >> 3) & 7];
  if (data[2] & 128) {
    const auto newline = body.find('\n');
    first = body.substr(0, newline);
    body = newline == std::string::npos ? std::string() : body.substr(newline + 1);
  }

  std::string uri = route.path;
  std::string emergencyReason;
  for (const std::string* param : {&first, &second}) {
    const auto at = uri.find("{}");
    if (at != std::string::npos) uri.replace(at, 2, *param);
  }
  const std::string method = route.method;
  if (method == "GET") {
    if (!uri.empty() && uri.back() == '?') {
      uri += body;
    } else {
      emergencyReason = body;
    }
    body.clear();
  }

  fuzz::ServerWorld world;
  serve(world, method, uri, caller, body, protobuf, emergencyReason);

  requireOk(world, "/api/v1/audit", fuzz::Caller::AdminAda);
  requireOk(world, "/api/v1/audit?emergency=true", fuzz::Caller::CoordinatorLena);
  requireOk(world, "/api/v1/patients/patient-01/access-log", fuzz::Caller::Patient01);
  return 0;
}
