// pull_request: a tablet's PullRequest (protobuf bytes) served by the
// server's pull path (CareService::pull on a fresh copy of the demo world),
// as POST /api/v1/sync/pull runs it.
//
// Input: one byte of options, then the PullRequest.
//   bits 0-1  the pulling tablet (nurse-karin, nurse-olle, nurse-maria,
//             physician-sara)
//   bit 2     set device_id to the tablet's
//   bit 3     set protocol_version to the current one
//
// Invariants: no crash and nothing but a 4xx refusal; a page holds at most
// the limit asked for (the default when 0, capped at kMaxPullPage); every
// operation sent is well formed (validateOperation) and about a patient the
// answer does not also purge; purged patients are ones the device said it
// holds; the same pull answered twice gives the same answer.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "fuzz_server.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/protocol.hpp"

namespace {

using namespace hemma;

constexpr fuzz::Caller kTablets[] = {fuzz::Caller::NurseKarinTablet, fuzz::Caller::NurseOlleTablet,
                                     fuzz::Caller::NurseMariaTablet, fuzz::Caller::PhysicianSaraTablet};

std::optional<sync::PullResponse> pull(fuzz::ServerWorld& world, const api::Principal& caller,
                                       const sync::PullRequest& request) {
  try {
    return world.care().pull(caller, request, fuzz::kNowMs);
  } catch (const std::invalid_argument&) {  // BadRequest, NotFound: 400, 404
  } catch (const server::Forbidden&) {      // 403
  } catch (const std::exception& e) {
    fuzz::fail(std::string("pull answered 500: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t options = data[0];
  sync::PullRequest request;
  if (!request.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;

  fuzz::ServerWorld world;
  const api::Principal& caller = world.principal(kTablets[options & 3]);
  if (options & 4) request.set_device_id(caller.device_id());
  if (options & 8) request.set_protocol_version(sync::kProtocolVersion);

  const auto response = pull(world, caller, request);
  if (!response) return 0;

  const std::uint32_t limit =
      request.limit() == 0 ? sync::kDefaultPullPage : std::min(request.limit(), sync::kMaxPullPage);
  if (static_cast<std::uint32_t>(response->operations_size()) > limit) {
    fuzz::fail("pull sent " + std::to_string(response->operations_size()) + " operations; the limit is " +
               std::to_string(limit));
  }
  const std::set<std::string> held(request.scope().held_patient_ids().begin(),
                                   request.scope().held_patient_ids().end());
  const std::set<std::string> purged(response->purge_patient_ids().begin(), response->purge_patient_ids().end());
  for (const auto& id : purged) {
    if (!held.count(id)) fuzz::fail("pull purges " + id + ", which the device did not say it holds");
  }
  for (const auto& op : response->operations()) {
    if (const auto problem = sync::validateOperation(op)) {
      fuzz::fail("pull sent " + op.id() + ", which is not well formed: " + *problem);
    }
    if (purged.count(op.patient_id())) fuzz::fail("pull sends " + op.id() + " of a patient it purges");
  }

  const auto again = pull(world, caller, request);
  if (!again || again->SerializeAsString() != response->SerializeAsString()) {
    fuzz::fail("pull: the same request answered twice gives different answers");
  }
  return 0;
}
