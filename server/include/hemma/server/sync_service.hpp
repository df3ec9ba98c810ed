#pragma once
// The server's side of the sync protocol: validates pushed operations one by
// one, stores the valid ones durably, and serves pulls in pages. No HTTP here:
// the handlers parse and call, tests call it directly.
//
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

#include "hemma/server/operation_log.hpp"
#include "hemma/sync.pb.h"
#include "hemma/sync/hlc.hpp"

namespace hemma::server {

// The request as a whole is unacceptable (wrong protocol version, too many
// operations). Nothing was stored. The message names the field.
class BadRequest : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The named record does not exist.
class NotFound : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class SyncService {
 public:
  // `serverDeviceId` names the server when it writes operations itself
  // (conflict resolutions made on the web); unique per server process.
  SyncService(OperationLog& log, std::string serverDeviceId);

  // Every operation in the request is acknowledged (stored, or stored
  // before) or rejected with its reason. Acknowledged means durable.
  sync::PushResponse push(const sync::PushRequest& request, std::int64_t nowMs);
  sync::PullResponse pull(const sync::PullRequest& request, std::int64_t nowMs);

  sync::ConflictList conflicts(const ConflictQuery& query);
  // Records the clinician's confirmed value as an operation that resolves
  // the conflict and syncs to every device like any other. Throws NotFound
  // for an unknown id and BadRequest for an empty author.
  sync::Conflict resolveConflict(const std::string& conflictId, const sync::ResolveConflictRequest& request,
                                 std::int64_t nowMs);

 private:
  OperationLog& m_log;
  std::string m_serverDeviceId;
  std::mutex m_clockMutex;
  sync::HybridClock m_clock;
  std::uint64_t m_counter = 0;
};

}  // namespace hemma::server
