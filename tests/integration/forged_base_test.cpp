// Issue 10, class 4: a tablet's proposed dose change, a coordinator's later
// change of the same dose, then the physician's signature. Against the real
// server binary in the demo world, through the real HTTP API and a real
// device core: a proposal whose base the server never stored is refused as
// INVALID naming the field, and signing an honest proposal over the later
// change keeps the coordinator's value in a conflict record for review
// instead of overwriting it unseen.

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using test::call;

std::int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A signed-in tablet and its raw link to the server.
struct Tablet {
  Tablet(const test::TempDir& dir, const test::ServerProcess& server, const std::string& userId,
         const std::string& deviceId)
      : id(deviceId),
        user(userId),
        device(dir.file(deviceId + ".db"), clock),
        link(mobile::ServerAddress::parse(server.url())) {
    test::signIn(device, server, userId, deviceId);
    link.setToken(*device.store().meta("device_token"));
  }

  // A proposed dose change as a tampered tablet would push it, with any base.
  sync::Operation proposal(const std::string& proposalId, const std::string& value, std::uint64_t baseHlc,
                           const std::string& baseOperationId) {
    sync::Operation op;
    op.set_id(id + ":" + std::to_string(9000 + ++counter));
    op.set_author_id(user);
    op.set_device_id(id);
    op.set_hlc(sync::makeHlc(nowMs(), 0));
    op.set_patient_id("patient-01");
    op.set_entity_type("proposed_change");
    op.set_entity_id(proposalId);
    op.set_recorded_at(sync::formatRfc3339(nowMs()));
    domain::ProposedChange& change = *op.mutable_append()->mutable_proposed_change();
    change.set_id(proposalId);
    change.set_patient_id("patient-01");
    change.set_author_id(user);
    change.set_entity_type("medication");
    change.set_entity_id("patient-01-med-1");
    change.set_field("dose");
    change.set_proposed_value(value);
    change.set_reason("Blood pressure low in the mornings");
    change.set_base_hlc(baseHlc);
    change.set_base_operation_id(baseOperationId);
    change.set_proposed_at(op.recorded_at());
    return op;
  }

  sync::PushResponse push(const std::vector<sync::Operation>& ops) {
    sync::PushRequest request;
    request.set_protocol_version(sync::kProtocolVersion);
    request.set_device_id(id);
    for (const auto& op : ops) *request.add_operations() = op;
    return link.push(request);
  }

  std::string id;
  std::string user;
  int counter = 0;
  mobile::SystemClock clock;
  mobile::Device device;
  mobile::HttpTransport link;
};

void requireOk(const test::HttpAnswer& answer) {
  INFO(answer.status << " " << answer.body);
  REQUIRE(answer.status == 200);
}

// The coordinator changes the dose on the web (PUT plan).
void coordinatorSetsDose(int port, const std::string& dose) {
  const std::string lena = test::login(port, "coordinator-lena");
  requireOk(call(port, "PUT", "/api/v1/patients/patient-01/plan", lena,
                 R"({"medications": [{"id": "patient-01-med-1", "dose": ")" + dose + R"("}]})"));
}

std::string currentDose(int port, const std::string& token) {
  const auto record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", token).body);
  for (const auto& medication : record.plan().medications()) {
    if (medication.id() == "patient-01-med-1") return medication.dose();
  }
  return "";
}

}  // namespace

TEST_CASE("a proposal whose base the server never stored for the field is refused as INVALID, naming the field") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet olle(dir, server, "nurse-olle", "tablet-olle");
  REQUIRE(olle.device.sync(olle.link).ok);
  const auto dose = olle.device.field("patient-01", "medication", "patient-01-med-1", "dose");
  REQUIRE(dose);

  // A base from the future: signing it would "see" every later change.
  const std::uint64_t forged = sync::makeHlc(nowMs() + 3'600'000, 0);
  auto response = olle.push({olle.proposal("forged-1", "2.5 mg", forged, dose->opId)});
  INFO(response.DebugString());
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).code() == sync::OperationRejection::INVALID);
  CHECK_THAT(response.rejections(0).reason(), Catch::Contains("append.proposed_change.base_hlc") &&
                                                  Catch::Contains("is not the clock of " + dose->opId));

  // A base naming a write of another field (the medication's name).
  const auto name = olle.device.field("patient-01", "medication", "patient-01-med-1", "name");
  REQUIRE(name);
  response = olle.push({olle.proposal("forged-2", "2.5 mg", name->hlc, name->opId)});
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).code() == sync::OperationRejection::INVALID);
  CHECK_THAT(response.rejections(0).reason(),
             Catch::Contains("append.proposed_change.base_operation_id: " + name->opId +
                             " is not a write of medication.dose of medication/patient-01-med-1"));

  // An invented clock without an id (the protocol 3 form) that is not the
  // field's current version.
  response = olle.push({olle.proposal("forged-3", "2.5 mg", dose->hlc + 7, "")});
  REQUIRE(response.rejections_size() == 1);
  CHECK(response.rejections(0).code() == sync::OperationRejection::INVALID);
  CHECK_THAT(response.rejections(0).reason(), Catch::Contains("medication.dose"));

  // Nothing reached the physician's queue.
  const std::string sara = test::login(server.port(), "physician-sara");
  const auto queue = test::parsed<api::ProposalList>(call(server.port(), "GET", "/api/v1/proposals", sara).body);
  for (const auto& proposal : queue.proposals()) CHECK(proposal.id().rfind("forged-", 0) != 0);
}

TEST_CASE("signing a proposal over a later change of the dose keeps the coordinator's value in a conflict record") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet olle(dir, server, "nurse-olle", "tablet-olle");
  REQUIRE(olle.device.sync(olle.link).ok);
  const auto seen = olle.device.field("patient-01", "medication", "patient-01-med-1", "dose");
  REQUIRE(seen);

  // The nurse proposes on the tablet; the device names the write she saw.
  const domain::ProposedChange proposed = olle.device.proposeChange(
      "patient-01", "medication", "patient-01-med-1", "dose", "2.5 mg", "Blood pressure low in the mornings");
  CHECK(proposed.base_hlc() == seen->hlc);
  CHECK(proposed.base_operation_id() == seen->opId);
  const auto sync = olle.device.sync(olle.link);
  INFO(sync.error);
  REQUIRE(sync.ok);
  REQUIRE(olle.device.rejected().empty());

  // Later, the coordinator changes the same dose on the web.
  coordinatorSetsDose(port, "10 mg");

  // The physician signs the nurse's proposal.
  const std::string sara = test::login(port, "physician-sara");
  requireOk(call(port, "POST", "/api/v1/proposals/" + proposed.id() + "/sign", sara));

  // The proposal's dose is the field's value, marked merged, and the
  // coordinator's 10 mg is kept for a clinician to confirm.
  CHECK(currentDose(port, sara) == "2.5 mg");
  const auto conflicts =
      test::parsed<sync::ConflictList>(call(port, "GET", "/api/v1/conflicts?patient=patient-01", sara).body);
  int found = 0;
  for (const auto& conflict : conflicts.conflicts()) {
    if (conflict.entity_type() != "medication" || conflict.field() != "dose") continue;
    ++found;
    CHECK(conflict.entity_id() == "patient-01-med-1");
    CHECK(conflict.overwritten().value() == "10 mg");
    CHECK(conflict.overwritten().author_id() == "coordinator-lena");
    CHECK(conflict.kept().value() == "2.5 mg");
    CHECK(conflict.kept().author_id() == "physician-sara");
    CHECK(conflict.resolved_by_operation_id().empty());
  }
  CHECK(found == 1);

  // The tablet learns both at its next sync: the value and the record.
  REQUIRE(olle.device.sync(olle.link).ok);
  const auto onTablet = olle.device.field("patient-01", "medication", "patient-01-med-1", "dose");
  REQUIRE(onTablet);
  CHECK(onTablet->value == "2.5 mg");
  CHECK(onTablet->merged);
  const auto tabletConflicts = olle.device.conflicts("patient-01");
  REQUIRE(tabletConflicts.size() == 1);
  CHECK(tabletConflicts[0].overwritten().value() == "10 mg");
}

TEST_CASE("signing a proposal nobody changed since writes it without a conflict") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  Tablet olle(dir, server, "nurse-olle", "tablet-olle");
  REQUIRE(olle.device.sync(olle.link).ok);
  const domain::ProposedChange proposed = olle.device.proposeChange(
      "patient-01", "medication", "patient-01-med-1", "dose", "2.5 mg", "Blood pressure low in the mornings");
  REQUIRE(olle.device.sync(olle.link).ok);
  const std::string sara = test::login(port, "physician-sara");
  requireOk(call(port, "POST", "/api/v1/proposals/" + proposed.id() + "/sign", sara));
  CHECK(currentDose(port, sara) == "2.5 mg");
  const auto conflicts =
      test::parsed<sync::ConflictList>(call(port, "GET", "/api/v1/conflicts?patient=patient-01", sara).body);
  for (const auto& conflict : conflicts.conflicts()) CHECK(conflict.field() != "dose");
}
