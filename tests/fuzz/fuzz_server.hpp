#pragma once
// The server of the fuzz targets: the real services on a SQLite file in
// memory-backed storage, holding the demo world. The demo world is built once
// per process into a template file (with cheap password hashes); each input
// gets a fresh copy, so an input's effect never leaks into the next one and a
// crash replays from its input file alone.
//
// Not thread-safe: libFuzzer runs one input at a time.

#include <cstdint>
#include <memory>
#include <string>

#include "hemma/api.pb.h"
#include "hemma/server/audit_log.hpp"
#include "hemma/server/auth_service.hpp"
#include "hemma/server/care_service.hpp"
#include "hemma/server/database.hpp"
#include "hemma/server/domain_store.hpp"
#include "hemma/server/operation_log.hpp"
#include "hemma/server/router.hpp"
#include "hemma/server/sync_service.hpp"
#include "memory_http.hpp"

namespace hemma::fuzz {

// The server's clock in every fuzz run: the demo world is scheduled around it.
constexpr std::int64_t kNowMs = 1'795'860'000'000;  // 2026-11-28T08:00:00Z

// The signed-in callers an input can choose from. Tablets are registered as
// "<user>-tablet"; every demo password is "demo".
enum class Caller : std::uint8_t {
  NurseKarinTablet,
  NurseOlleTablet,
  NurseMariaTablet,
  PhysicianSaraTablet,
  NurseKarin,
  PhysicianSara,
  CoordinatorLena,
  AdminAda,
  Patient01,
  Count,
};
constexpr std::size_t kCallerCount = static_cast<std::size_t>(Caller::Count);

// One fresh server: the template database copied, every service opened on it.
class ServerWorld {
 public:
  ServerWorld();
  ~ServerWorld();
  ServerWorld(const ServerWorld&) = delete;
  ServerWorld& operator=(const ServerWorld&) = delete;

  // The caller's principal as the server authenticates its token.
  const api::Principal& principal(Caller caller) const;
  // "Bearer <token>" for the caller, valid at kNowMs.
  const std::string& authorization(Caller caller) const;

  server::Database& database() { return *m_database; }
  server::OperationLog& log() { return *m_log; }
  server::SyncService& sync() { return *m_sync; }
  server::CareService& care() { return *m_care; }
  server::AuthService& auth() { return *m_auth; }
  server::Router& router() { return *m_router; }

  // Runs `request` through the router's handler, as the HTTP server does,
  // and returns the status answered. Fails when the handler throws, answers
  // nothing or answers 5xx: every bad request must get a 4xx naming why.
  int serve(MemoryRequest& request);

 private:
  std::unique_ptr<server::Database> m_database;
  std::unique_ptr<server::OperationLog> m_log;
  std::unique_ptr<server::SyncService> m_sync;
  std::unique_ptr<server::DomainStore> m_domain;
  std::unique_ptr<server::AuditLog> m_audit;
  std::unique_ptr<server::AuthService> m_auth;
  std::unique_ptr<server::CareService> m_care;
  std::unique_ptr<server::Router> m_router;
};

// Requests with invalid UTF-8 in a string are refused by the protobuf
// parser; its log line for each would drown libFuzzer's output. The targets
// linking this library get it from LLVMFuzzerInitialize, defined here, which
// also builds the demo world's template before the first input.
void quietProtobuf();

// Aborts with `what` on stderr: a broken invariant, which libFuzzer keeps as
// a crash.
[[noreturn]] void fail(const std::string& what);

}  // namespace hemma::fuzz
