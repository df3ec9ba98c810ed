#pragma once
// The demo world, used by ci/demo, the integration tests and the browser
// tests: a municipality (Norrby kommun) and a region (Region Söder) with
// units, nurses, physicians, coordinators and an administrator, and 30
// patients with care plans, care teams, consents and scheduled visits.
// Every account's password is "demo". Written through the same services as
// everything else (patient fields and plans are sync operations, so tablets
// receive them).
//
// Fixed ids the tests rely on (see docs/demo.md for the whole cast):
// - patient-01 Astrid: team nurse-karin (responsible nurse), nurse-olle,
//   physician-sara (responsible physician); consent for both organisations.
// - patient-02 Bertil: team nurse-olle, physician-sara; consent for Norrby
//   only, so the region's physician is denied.
// - patient-03 Cecilia: protected identity; team nurse-karin, physician-sara;
//   consent for both.
// - patient-25..30: home organisation Region Söder (palliative team).

#include <cstddef>
#include <cstdint>

#include "hemma/server/auth_service.hpp"
#include "hemma/server/domain_store.hpp"
#include "hemma/server/sync_service.hpp"

namespace hemma::server {

constexpr const char* kDemoPassword = "demo";

// Loads the demo world unless it is there already (checks for the
// municipality). Returns the number of patients added.
std::size_t loadDemoData(DomainStore& domain, AuthService& auth, SyncService& sync, std::int64_t nowMs);

}  // namespace hemma::server
