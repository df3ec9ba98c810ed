// Operation ids that never repeat across installations, and refused
// operations kept on the tablet until a person settles them: the id format,
// the store's rejected list and its settled record, and the device's epoch,
// discard and retry.

#include <catch2/catch.hpp>
#include <map>
#include <regex>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/sqlite_db.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/operation.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

class FixedClock final : public mobile::Clock {
 public:
  std::int64_t nowMs() override { return 1'764'000'000'000; }
};

sync::OperationRejection refusal(const std::string& id, sync::OperationRejection::Code code,
                                 const std::string& reason) {
  sync::OperationRejection r;
  r.set_operation_id(id);
  r.set_code(code);
  r.set_reason(reason);
  return r;
}

// A note as a device of `deviceId` records it, with the id given.
sync::Operation note(const std::string& id, const std::string& text, const std::string& patient = "patient-01") {
  sync::Operation op;
  op.set_id(id);
  op.set_device_id(id.substr(0, id.find(':')));
  op.set_author_id("nurse-karin");
  op.set_hlc(sync::makeHlc(1'764'000'000'000, 1));
  op.set_patient_id(patient);
  op.set_entity_type("visit_note");
  op.set_entity_id(id);
  op.set_recorded_at("2025-11-24T16:00:00.000Z");
  auto& n = *op.mutable_append()->mutable_note();
  n.set_id(id);
  n.set_patient_id(patient);
  n.set_author_id("nurse-karin");
  n.set_text(text);
  n.set_written_at(op.recorded_at());
  return op;
}

const std::regex kLocalEpochId("tab-r:l[0-9a-f]{16}:([0-9]+)");

}  // namespace

TEST_CASE("operation ids: with an epoch, and without one for the server's own") {
  CHECK(sync::makeOperationId("tab-r", "2", 7) == "tab-r:2:7");
  CHECK(sync::makeOperationId("tab-r", "l00ff", 1) == "tab-r:l00ff:1");
  CHECK(sync::makeOperationId("server", "", 3) == "server:3");
  CHECK(sync::makeOperationId("server", 3) == "server:3");
  CHECK(sync::isValidEpoch("1"));
  CHECK(sync::isValidEpoch("l0123456789abcdef"));
  CHECK_FALSE(sync::isValidEpoch(""));
  CHECK_FALSE(sync::isValidEpoch("2:1"));
  CHECK_FALSE(sync::isValidEpoch("L1"));
  CHECK_FALSE(sync::isValidEpoch(std::string(41, 'a')));
}

TEST_CASE("device store: a refusal keeps its code, reason and time until discarded, and the discard is kept") {
  mobile::DeviceStore store(":memory:");
  store.inTransaction([&] {
    store.recordLocal(note("tab-r:2:1", "Andra besöket."));
    store.recordLocal(note("tab-r:2:2", "Tredje besöket."));
  });
  store.reject({refusal("tab-r:2:1", sync::OperationRejection::INVALID, "id: already used by a different operation")},
               "2025-11-24T16:05:00.000Z");

  REQUIRE(store.rejectedCount() == 1);
  const auto rejected = store.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].operation.id() == "tab-r:2:1");
  CHECK(rejected[0].code == sync::OperationRejection::INVALID);
  CHECK(rejected[0].reason == "id: already used by a different operation");
  CHECK(rejected[0].rejectedAt == "2025-11-24T16:05:00.000Z");
  CHECK(store.outboxSize() == 1);
  CHECK(store.notes("patient-01").size() == 1);  // the refused note is not shown as the record

  // Unknown ids change nothing.
  CHECK_FALSE(store.inTransaction([&] { return store.discardRejected("tab-r:2:9", "nurse-karin", "x"); }));
  CHECK_FALSE(store.inTransaction([&] { return store.discardRejected("tab-r:2:2", "nurse-karin", "x"); }));
  CHECK(store.outboxSize() == 1);

  REQUIRE(store.inTransaction(
      [&] { return store.discardRejected("tab-r:2:1", "nurse-karin", "2025-11-24T16:10:00.000Z"); }));
  CHECK(store.rejected().empty());
  CHECK_FALSE(store.hasOperation("tab-r:2:1"));
  CHECK(store.outboxSize() == 1);
  const auto settled = store.settledRejections();
  REQUIRE(settled.size() == 1);
  CHECK(settled[0].operationId == "tab-r:2:1");
  CHECK(settled[0].action == "discarded");
  CHECK(settled[0].replacedBy.empty());
  CHECK(settled[0].settledBy == "nurse-karin");
  CHECK(settled[0].settledAt == "2025-11-24T16:10:00.000Z");
  CHECK(settled[0].code == sync::OperationRejection::INVALID);
  CHECK(settled[0].reason == "id: already used by a different operation");
  REQUIRE(settled[0].operation);
  CHECK(settled[0].operation->append().note().text() == "Andra besöket.");
  // Settled once: not again.
  CHECK_FALSE(store.inTransaction([&] { return store.discardRejected("tab-r:2:1", "nurse-karin", "x"); }));
}

TEST_CASE("device store: a purge of the patient keeps refused operations, and settled ones without their content") {
  mobile::DeviceStore store(":memory:");
  store.inTransaction([&] {
    store.recordLocal(note("tab-r:2:1", "Refused, still waiting."));
    store.recordLocal(note("tab-r:2:2", "Refused, discarded."));
  });
  store.reject({refusal("tab-r:2:1", sync::OperationRejection::FORBIDDEN, "patient_id: no care relationship"),
                refusal("tab-r:2:2", sync::OperationRejection::FORBIDDEN, "patient_id: no care relationship")},
               "2025-11-24T16:05:00.000Z");
  store.inTransaction([&] { store.discardRejected("tab-r:2:2", "nurse-karin", "2025-11-24T16:06:00.000Z"); });

  store.inTransaction([&] { store.purgePatient("patient-01"); });

  const auto rejected = store.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].operation.append().note().text() == "Refused, still waiting.");
  const auto settled = store.settledRejections();
  REQUIRE(settled.size() == 1);
  CHECK(settled[0].operationId == "tab-r:2:2");
  CHECK(settled[0].settledBy == "nurse-karin");
  CHECK_FALSE(settled[0].operation.has_value());
}

TEST_CASE("device store: a rejected list from before codes were kept still opens, and reads its rows") {
  hemma::test::TempDir dir;
  const std::string path = dir.file("old.db");
  {
    mobile::SqliteDb db(path);
    db.exec("CREATE TABLE rejected(op_id TEXT PRIMARY KEY, reason TEXT NOT NULL);");
    db.exec("INSERT INTO rejected(op_id, reason) VALUES('tab-r:1', 'id: already used by a different operation');");
  }
  mobile::DeviceStore store(path);
  store.inTransaction([&] { store.recordLocal(note("tab-r:1", "Från förr.")); });
  const auto rejected = store.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].operation.id() == "tab-r:1");
  CHECK(rejected[0].code == sync::OperationRejection::CODE_UNSPECIFIED);
  CHECK(rejected[0].rejectedAt.empty());
  CHECK(rejected[0].reason == "id: already used by a different operation");
}

TEST_CASE("device: two enrolments of one device id never make the same operation id") {
  FixedClock clock;
  mobile::Device first(":memory:", clock);
  mobile::Device second(":memory:", clock);
  first.enrol("tab-r", "nurse-karin");
  second.enrol("tab-r", "nurse-karin");
  const auto a = first.writeNote("patient-01", "", "Första.");
  const auto b = second.writeNote("patient-01", "", "Andra.");
  std::smatch match;
  REQUIRE(std::regex_match(a.id(), match, kLocalEpochId));
  CHECK(match[1] == "1");
  REQUIRE(std::regex_match(b.id(), kLocalEpochId));
  CHECK(a.id() != b.id());
}

TEST_CASE("device: a database from before epochs opens, keeps its queued ids and makes new ones with an epoch") {
  hemma::test::TempDir dir;
  const std::string path = dir.file("legacy.db");
  {
    mobile::DeviceStore store(path);
    store.inTransaction([&] {
      store.setMeta("device_id", "tab-r");
      store.setMeta("user_id", "nurse-karin");
      store.setMeta("op_counter", "1");
      store.recordLocal(note("tab-r:1", "Skrivet före uppgraderingen."));
    });
  }
  FixedClock clock;
  std::string epochId;
  {
    mobile::Device device(path, clock);
    const auto outbox = device.store().outbox(10);
    REQUIRE(outbox.size() == 1);
    CHECK(outbox[0].id() == "tab-r:1");
    const auto next = device.writeNote("patient-01", "", "Efter uppgraderingen.");
    std::smatch match;
    REQUIRE(std::regex_match(next.id(), match, kLocalEpochId));
    CHECK(match[1] == "2");
    epochId = next.id().substr(0, next.id().rfind(':'));
  }
  // The drawn epoch is stored: the next opening goes on with it.
  mobile::Device again(path, clock);
  const auto third = again.writeNote("patient-01", "", "Dagen efter.");
  CHECK(third.id() == epochId + ":3");
}

TEST_CASE("device: a refused operation is sent again under a new id, or discarded, and status names it meanwhile") {
  FixedClock clock;
  mobile::Device device(":memory:", clock);
  device.enrol("tab-r", "nurse-karin");
  const auto refusedNote = device.writeNote("patient-01", "", "Refused for its id.");
  const auto field = device.writeField("patient-01", "patient", "patient-01", "access_notes", "Kod 1234");
  CHECK(device.status().lastError.empty());
  device.store().reject(
      {refusal(refusedNote.id(), sync::OperationRejection::INVALID, "id: already used by a different operation"),
       refusal(field.id(), sync::OperationRejection::FORBIDDEN, "write.field: not allowed")},
      "2025-11-24T16:05:00.000Z");

  auto status = device.status();
  CHECK(status.rejected == 2);
  CHECK(status.pending == 0);
  CHECK_THAT(status.lastError, Catch::StartsWith("2 operation(s) refused by the server"));
  CHECK_THAT(status.lastError, Catch::Contains(refusedNote.id() + " (visit_note of patient-01)"));
  CHECK_THAT(status.lastError, Catch::Contains("and 1 more"));
  CHECK(device.notes("patient-01").empty());
  CHECK_FALSE(device.field("patient-01", "patient", "patient-01", "access_notes"));

  CHECK_THROWS_WITH(device.retryRejected("tab-r:nope:1"),
                    Catch::Contains("operation_id: no rejected operation tab-r:nope:1"));
  const auto retried = device.retryRejected(refusedNote.id());
  CHECK(retried.id() != refusedNote.id());
  CHECK(retried.entity_id() == retried.id());
  CHECK(retried.append().note().id() == retried.id());
  CHECK(retried.append().note().text() == "Refused for its id.");
  CHECK(retried.hlc() != 0);
  CHECK(retried.recorded_at() == refusedNote.written_at());
  // In the outbox, shown again as the record under its new id.
  const auto outbox = device.store().outbox(10);
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].id() == retried.id());
  const auto notes = device.notes("patient-01");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].id() == retried.id());
  // The next operation does not reuse the retried id's counter.
  const auto later = device.writeNote("patient-01", "", "Later.");
  CHECK(later.id() != retried.id());

  device.discardRejected(field.id());
  CHECK_THROWS_AS(device.discardRejected(field.id()), std::invalid_argument);
  status = device.status();
  CHECK(status.rejected == 0);
  CHECK(status.lastError.empty());
  const auto settled = device.settledRejections();
  REQUIRE(settled.size() == 2);
  std::map<std::string, mobile::SettledRejection> byId;
  for (const auto& s : settled) byId[s.operationId] = s;
  CHECK(byId.at(refusedNote.id()).action == "retried");
  CHECK(byId.at(refusedNote.id()).replacedBy == retried.id());
  CHECK(byId.at(field.id()).action == "discarded");
  CHECK(byId.at(field.id()).settledBy == "nurse-karin");
  CHECK(byId.at(field.id()).settledAt == "2025-11-24T16:00:00.000Z");
}
