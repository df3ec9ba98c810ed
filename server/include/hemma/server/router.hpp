#pragma once
// The handler factory is the router: it maps method and path to a thin
// handler that authenticates, parses, calls one service function and writes
// the answer. The route table in router.cpp is the API's index
// (docs/api.md describes each route).

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <cstdint>
#include <functional>

#include "hemma/server/auth_service.hpp"
#include "hemma/server/care_service.hpp"
#include "hemma/server/database.hpp"
#include "hemma/server/sync_service.hpp"

namespace hemma::server {

// The services the handlers call. All references outlive the router.
struct Services {
  SyncService& sync;
  CareService& care;
  AuthService& auth;
  // Wall-clock time in Unix milliseconds (injected so tests can skew it).
  std::function<std::int64_t()> nowMs;
  // The database the services share: a write route's unit of work.
  Database& database;
};

class Router final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Router(Services services) : m_services(std::move(services)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

 private:
  Services m_services;
};

}  // namespace hemma::server
