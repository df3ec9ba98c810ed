// push_request: a tablet's PushRequest (protobuf bytes) through the sync
// library's validateOperation and the server's push path (CareService::push
// on a fresh copy of the demo world), as POST /api/v1/sync/push runs it.
//
// Input: one byte of options, then the PushRequest.
//   bits 0-1  the pushing tablet (nurse-karin, nurse-olle, nurse-maria,
//             physician-sara)
//   bit 2     set the request's and every operation's device_id to the tablet's
//   bit 3     set every operation's author_id to the tablet's user
//   bit 4     set protocol_version to the current one
// The options let mutated operations get past the identity checks into the
// merge rules, the access policy and storage.
//
// Invariants: no crash and nothing but a 4xx refusal; every operation is
// answered exactly once (acked or rejected); an operation validateOperation
// refuses is never acked; an acked operation is stored under its seq and can
// be pulled back; pushing the same request again acks the same operations,
// as duplicates, with the same seqs.

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "fuzz_server.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/protocol.hpp"

namespace {

using namespace hemma;

constexpr fuzz::Caller kTablets[] = {fuzz::Caller::NurseKarinTablet, fuzz::Caller::NurseOlleTablet,
                                     fuzz::Caller::NurseMariaTablet, fuzz::Caller::PhysicianSaraTablet};

// The push as the handler makes it: nullopt when refused as a whole (a 4xx).
std::optional<sync::PushResponse> push(fuzz::ServerWorld& world, const api::Principal& caller,
                                       const sync::PushRequest& request) {
  try {
    return world.care().push(caller, request, fuzz::kNowMs);
  } catch (const std::invalid_argument&) {  // BadRequest, NotFound: 400, 404
  } catch (const server::Forbidden&) {      // 403
  } catch (const std::exception& e) {
    fuzz::fail(std::string("push answered 500: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t options = data[0];
  sync::PushRequest request;
  if (!request.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;

  fuzz::ServerWorld world;
  const api::Principal& caller = world.principal(kTablets[options & 3]);
  if (options & 4) {
    request.set_device_id(caller.device_id());
    for (auto& op : *request.mutable_operations()) op.set_device_id(caller.device_id());
  }
  if (options & 8) {
    for (auto& op : *request.mutable_operations()) op.set_author_id(caller.user_id());
  }
  if (options & 16) request.set_protocol_version(sync::kProtocolVersion);

  // An id may be sent more than once; the server acks at most one of them,
  // which must be one validateOperation accepts.
  std::set<std::string> wellFormed;
  for (const auto& op : request.operations()) {
    if (!sync::validateOperation(op)) wellFormed.insert(op.id());
  }

  const auto response = push(world, caller, request);
  if (!response) return 0;

  if (response->acks_size() + response->rejections_size() != request.operations_size()) {
    fuzz::fail("push answered " + std::to_string(response->acks_size()) + " acks and " +
               std::to_string(response->rejections_size()) + " rejections for " +
               std::to_string(request.operations_size()) + " operations");
  }
  std::map<std::string, int> answers;
  for (const auto& op : request.operations()) answers[op.id()] += 0;
  for (const auto& ack : response->acks()) ++answers[ack.operation_id()];
  for (const auto& rejection : response->rejections()) ++answers[rejection.operation_id()];
  std::map<std::string, int> sent;
  for (const auto& op : request.operations()) ++sent[op.id()];
  if (answers != sent) fuzz::fail("push: the answers do not name each operation as often as it was sent");

  std::map<std::string, std::uint64_t> acked;
  for (const auto& ack : response->acks()) {
    if (!wellFormed.count(ack.operation_id())) {
      fuzz::fail("push acked " + ack.operation_id() + ", which validateOperation refuses wherever it is sent");
    }
    acked[ack.operation_id()] = ack.server_seq();
    const auto stored = world.log().after(ack.server_seq() - 1, 1);
    if (stored.size() != 1 || stored[0].id() != ack.operation_id() || stored[0].server_seq() != ack.server_seq()) {
      fuzz::fail("push acked " + ack.operation_id() + " as seq " + std::to_string(ack.server_seq()) +
                 ", but the log does not hold it there");
    }
    sync::PullRequest pull;
    pull.set_protocol_version(sync::kProtocolVersion);
    pull.set_device_id(caller.device_id());
    pull.set_after_seq(ack.server_seq() - 1);
    pull.set_limit(1);
    const auto page = world.sync().pull(pull, fuzz::kNowMs);
    if (page.operations_size() != 1 || page.operations(0).id() != ack.operation_id()) {
      fuzz::fail("push acked " + ack.operation_id() + ", but a pull after seq " + std::to_string(ack.server_seq() - 1) +
                 " does not return it");
    }
  }

  const auto again = push(world, caller, request);
  if (!again) fuzz::fail("push: the same request pushed again was refused as a whole");
  for (const auto& ack : again->acks()) {
    const auto first = acked.find(ack.operation_id());
    if (first == acked.end()) continue;
    if (!ack.duplicate() || ack.server_seq() != first->second) {
      fuzz::fail("push: " + ack.operation_id() + " pushed again is not acked as the duplicate of seq " +
                 std::to_string(first->second));
    }
    acked.erase(first);
  }
  if (!acked.empty()) fuzz::fail("push: " + acked.begin()->first + " acked once is not acked when pushed again");
  return 0;
}
