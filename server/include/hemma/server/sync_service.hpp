#pragma once
// The server's side of the sync protocol: validates pushed operations one by
// one, stores the valid ones durably, and serves pulls in pages. No HTTP here:
// the handlers parse and call, tests call it directly.
//
// Thread-safe.

#include <cstdint>
#include <stdexcept>

#include "hemma/server/operation_log.hpp"
#include "hemma/sync.pb.h"

namespace hemma::server {

// The request as a whole is unacceptable (wrong protocol version, too many
// operations). Nothing was stored. The message names the field.
class BadRequest : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class SyncService {
 public:
  explicit SyncService(OperationLog& log) : m_log(log) {}

  // Every operation in the request is acknowledged (stored, or stored
  // before) or rejected with its reason. Acknowledged means durable.
  sync::PushResponse push(const sync::PushRequest& request, std::int64_t nowMs);
  sync::PullResponse pull(const sync::PullRequest& request, std::int64_t nowMs);

 private:
  OperationLog& m_log;
};

}  // namespace hemma::server
