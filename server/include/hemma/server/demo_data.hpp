#pragma once
// Demo data for ci/demo: a few notes from the home-care team, written through
// the sync service like any device's, so the demo exercises the real path.

#include <cstdint>

#include "hemma/server/sync_service.hpp"

namespace hemma::server {

// Adds the demo records unless they are there already (idempotent: the
// operations have fixed ids). Returns how many were new.
std::size_t loadDemoData(SyncService& sync, std::int64_t nowMs);

}  // namespace hemma::server
