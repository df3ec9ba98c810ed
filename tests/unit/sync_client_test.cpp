// The device's sync client against a scripted transport: retries with back-off,
// sync state, rejections kept, clock-skew restamping.

#include <catch2/catch.hpp>
#include <deque>
#include <optional>

#include "hemma/mobile/device.hpp"
#include "hemma/sync/hlc.hpp"

namespace {

using namespace hemma;

class FixedClock final : public mobile::Clock {
 public:
  explicit FixedClock(std::int64_t now) : m_now(now) {}
  std::int64_t nowMs() override { return m_now; }
  std::int64_t m_now;
};

// Fails the first `failures` calls, then acknowledges every push (or rejects
// as told) and answers pulls with nothing.
class ScriptedTransport final : public mobile::Transport {
 public:
  int failures = 0;
  int calls = 0;
  std::int64_t serverTimeMs = 0;
  std::deque<sync::OperationRejection::Code> rejectCodes;
  std::vector<sync::PushRequest> pushes;

  sync::PushResponse push(const sync::PushRequest& request) override {
    if (calls++ < failures) throw mobile::TransportError("connection refused");
    pushes.push_back(request);
    sync::PushResponse response;
    response.set_server_time_ms(serverTimeMs);
    for (const auto& op : request.operations()) {
      if (!rejectCodes.empty()) {
        auto& rejection = *response.add_rejections();
        rejection.set_operation_id(op.id());
        rejection.set_code(rejectCodes.front());
        rejection.set_reason("scripted");
        rejectCodes.pop_front();
        continue;
      }
      auto& ack = *response.add_acks();
      ack.set_operation_id(op.id());
      ack.set_server_seq(static_cast<std::uint64_t>(pushes.size()));
    }
    return response;
  }
  // Pulls answer these pages in turn (then nothing), or throw `pullError`.
  std::deque<sync::PullResponse> pages;
  std::vector<sync::PullRequest> pullRequests;
  std::optional<mobile::ServerError> pullError;

  sync::PullResponse pull(const sync::PullRequest& request) override {
    pullRequests.push_back(request);
    if (pullError) throw *pullError;
    if (!pages.empty()) {
      auto page = pages.front();
      pages.pop_front();
      return page;
    }
    sync::PullResponse response;
    response.set_next_cursor(request.after_seq());
    response.set_server_time_ms(serverTimeMs);
    return response;
  }
};

// An operation written elsewhere, as the server sends it.
sync::Operation remoteNote(const std::string& patient, const std::string& id, std::uint64_t seq) {
  sync::Operation op;
  op.set_id("other:" + id);
  op.set_author_id("colleague");
  op.set_device_id("other");
  op.set_hlc(sync::makeHlc(1'700'000'000'000, 0) + seq);
  op.set_patient_id(patient);
  op.set_entity_type("visit_note");
  op.set_entity_id(op.id());
  op.set_recorded_at("2023-11-14T22:13:20Z");
  op.set_server_seq(seq);
  auto& note = *op.mutable_append()->mutable_note();
  note.set_id(op.id());
  note.set_patient_id(patient);
  note.set_author_id("colleague");
  note.set_text("note " + id);
  return op;
}

sync::Operation remoteWrite(const std::string& patient, const std::string& value, std::uint64_t seq) {
  sync::Operation op;
  op.set_id("other:w" + std::to_string(seq));
  op.set_author_id("colleague");
  op.set_device_id("other");
  op.set_hlc(sync::makeHlc(1'700'000'000'000, 0) + seq);
  op.set_patient_id(patient);
  op.set_entity_type("patient");
  op.set_entity_id(patient);
  op.set_recorded_at("2023-11-14T22:13:20Z");
  op.set_server_seq(seq);
  op.mutable_write()->set_field("access_notes");
  op.mutable_write()->set_value(value);
  return op;
}

}  // namespace

TEST_CASE("a sync that gets no answer is retried with growing waits, then succeeds") {
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");
  device.writeNote("p1", "", "hello");

  ScriptedTransport transport;
  transport.failures = 2;
  transport.serverTimeMs = clock.m_now;
  std::vector<long> waits;
  mobile::SyncClient::Options options;
  options.sleep = [&](std::chrono::milliseconds ms) { waits.push_back(static_cast<long>(ms.count())); };

  const auto report = device.sync(transport, options);
  CHECK(report.ok);
  CHECK(report.attempts == 3);
  CHECK(waits == std::vector<long>{200, 400});
  CHECK(report.pushed == 1);
  CHECK(device.status().pending == 0);
  CHECK(device.status().failedSyncs == 0);
  CHECK_FALSE(device.status().lastSuccess.empty());
}

TEST_CASE("a sync that never gets an answer keeps the outbox and records the failure") {
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");
  device.writeNote("p1", "", "hello");

  ScriptedTransport transport;
  transport.failures = 100;
  mobile::SyncClient::Options options;
  options.sleep = [](std::chrono::milliseconds) {};
  for (int run = 1; run <= 2; ++run) {
    const auto report = device.sync(transport, options);
    CHECK_FALSE(report.ok);
    CHECK(report.attempts == 3);
    CHECK(report.error == "connection refused");
    CHECK(device.status().failedSyncs == run);
  }
  CHECK(device.status().pending == 1);
  CHECK(device.status().lastError == "connection refused");
  CHECK(device.status().lastSuccess.empty());
}

TEST_CASE("a rejected operation leaves the outbox but is kept with its reason") {
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");
  device.writeNote("p1", "", "kept");
  device.writeNote("p1", "", "sent");

  ScriptedTransport transport;
  transport.rejectCodes = {sync::OperationRejection::FORBIDDEN};
  const auto report = device.sync(transport);
  CHECK(report.ok);
  CHECK(report.rejected == 1);
  CHECK(report.pushed == 1);
  CHECK(device.status().pending == 0);
  const auto rejected = device.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason == "scripted");
  CHECK(rejected[0].operation.append().note().text() == "kept");
  // The refused note is not part of the record; the nurse reads it, with the
  // reason, in the rejected list.
  REQUIRE(device.notes().size() == 1);
  CHECK(device.notes()[0].text() == "sent");
}

TEST_CASE("a tablet whose clock runs an hour ahead is corrected and its skewed operation restamped") {
  const std::int64_t serverNow = 1'800'000'000'000;
  FixedClock clock(serverNow + 3'600'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");
  device.writeNote("p1", "", "written with a wrong clock");

  ScriptedTransport transport;
  transport.serverTimeMs = serverNow;
  transport.rejectCodes = {sync::OperationRejection::CLOCK_SKEW};
  const auto report = device.sync(transport);
  REQUIRE(report.ok);
  CHECK(report.rejected == 0);
  CHECK(report.pushed == 1);
  REQUIRE(transport.pushes.size() == 2);
  const auto resent = transport.pushes[1].operations(0);
  CHECK(resent.id() == transport.pushes[0].operations(0).id());
  CHECK(sync::hlcMillis(resent.hlc()) < serverNow + 1000);
  CHECK(sync::hlcMillis(transport.pushes[0].operations(0).hlc()) >= serverNow + 3'600'000);
  // The author's own time is kept for the audit trail.
  CHECK(resent.recorded_at() == transport.pushes[0].operations(0).recorded_at());

  // Later edits are stamped with the corrected clock, not an hour ahead.
  const auto later = device.writeNote("p1", "", "after the correction");
  CHECK(device.store().outbox(10).at(0).hlc() < sync::makeHlc(serverNow + 1000, 0));
}

TEST_CASE("a backfill's progress and the patients held are sent with every pull and stored with each page") {
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");

  ScriptedTransport transport;
  sync::PullResponse first;  // p1 arrives whole; p2's backfill is cut at seq 3
  *first.add_operations() = remoteNote("p1", "a", 1);
  *first.add_operations() = remoteNote("p2", "b", 3);
  first.add_scoped_patient_ids("p1");
  first.set_backfill_patient_id("p2");
  first.set_backfill_cursor(3);
  first.set_next_cursor(0);
  first.set_has_more(true);
  sync::PullResponse second;  // p2 complete, then the ordinary page
  *second.add_operations() = remoteNote("p2", "c", 5);
  *second.add_operations() = remoteNote("p2", "d", 9);
  second.add_scoped_patient_ids("p2");
  second.set_next_cursor(9);
  transport.pages = {first, second};

  const auto report = device.sync(transport);
  REQUIRE(report.ok);
  CHECK(report.pulled == 4);
  REQUIRE(transport.pullRequests.size() == 2);
  CHECK(transport.pullRequests[0].has_scope());
  CHECK(transport.pullRequests[0].scope().held_patient_ids_size() == 0);
  CHECK(transport.pullRequests[0].scope().backfill_patient_id().empty());
  CHECK(transport.pullRequests[1].scope().backfill_patient_id() == "p2");
  CHECK(transport.pullRequests[1].scope().backfill_after_seq() == 3);
  CHECK(transport.pullRequests[1].scope().held_patient_ids_size() == 1);
  CHECK(device.store().heldPatients() == std::vector<std::string>{"p1", "p2"});
  CHECK(device.status().cursor == 9);

  // The next run names both and no backfill.
  REQUIRE(device.sync(transport).ok);
  const auto& third = transport.pullRequests.back();
  CHECK(third.scope().held_patient_ids_size() == 2);
  CHECK(third.scope().backfill_patient_id().empty());
  CHECK(third.after_seq() == 9);
}

TEST_CASE("a purge deletes the patient's data but keeps the device's own refused and pending operations") {
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");
  // The remote notes are three years old: keep them in full.
  device.setHistoryWindowDays(3650);

  ScriptedTransport transport;
  sync::PullResponse page;
  *page.add_operations() = remoteNote("p1", "a", 1);
  *page.add_operations() = remoteWrite("p1", "key under the mat", 2);
  *page.add_operations() = remoteNote("p2", "b", 3);
  page.add_scoped_patient_ids("p1");
  page.add_scoped_patient_ids("p2");
  page.set_next_cursor(3);
  transport.pages = {page};
  REQUIRE(device.sync(transport).ok);
  REQUIRE(device.notes("p1").size() == 1);
  REQUIRE(device.field("p1", "patient", "p1", "access_notes"));

  // One local note is refused by the server, another waits in the outbox.
  device.writeNote("p1", "", "refused");
  transport.rejectCodes = {sync::OperationRejection::FORBIDDEN};
  sync::PullResponse purge;
  purge.add_purge_patient_ids("p1");
  purge.set_next_cursor(3);
  transport.pages = {purge};
  const auto report = device.sync(transport);
  REQUIRE(report.ok);
  CHECK(report.purged == 1);
  CHECK(report.rejected == 1);
  CHECK_FALSE(device.field("p1", "patient", "p1", "access_notes"));
  const auto notes = device.notes("p1");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].text() == "refused");
  CHECK(device.rejected().size() == 1);
  CHECK(device.notes("p2").size() == 1);
  CHECK(device.store().heldPatients() == std::vector<std::string>{"p2"});

  // A pending write survives a purge too (the store's own rule).
  device.writeNote("p2", "", "pending");
  device.store().inTransaction([&] { device.store().purgePatient("p2"); });
  REQUIRE(device.notes("p2").size() == 1);
  CHECK(device.notes("p2")[0].text() == "pending");
  CHECK(device.status().pending == 1);
}

TEST_CASE("only a revoked device wipes itself; expired tokens and other refusals keep everything") {
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");
  device.store().setMeta("device_token", "secret");
  device.writeNote("p1", "", "kept");

  ScriptedTransport transport;
  for (const auto& [status, message] : std::vector<std::pair<int, std::string>>{{401, "token: expired"},
                                                                                {401, "token: malformed"},
                                                                                {401, "device: token replaced"},
                                                                                {403, "device: revoked"},
                                                                                {401, "device: revoked (not quite)"}}) {
    transport.pullError = mobile::ServerError(status, message);
    const auto report = device.sync(transport);
    CHECK_FALSE(report.ok);
    CHECK_FALSE(report.wiped);
    CHECK(device.notes().size() == 1);
    CHECK(device.store().meta("device_token") == "secret");
  }

  transport.pullError = mobile::ServerError(401, "device: revoked");
  const auto report = device.sync(transport);
  CHECK_FALSE(report.ok);
  CHECK(report.wiped);
  CHECK(report.error == mobile::SyncClient::kWipedError);
  CHECK(device.notes().empty());
  CHECK(device.store().operationCount() == 0);
  CHECK_FALSE(device.store().meta("device_token"));
  CHECK_FALSE(device.store().meta("last_sync_error"));
  CHECK(device.status().wipedAt == "2027-01-15T08:00:00.000Z");
  CHECK(device.wiped());

  // No more contact with the server, no more writes.
  const std::size_t calls = transport.pullRequests.size();
  const auto again = device.sync(transport);
  CHECK(again.wiped);
  CHECK(transport.pullRequests.size() == calls);
  CHECK_THROWS_AS(device.writeNote("p1", "", "more"), mobile::DeviceWiped);
  CHECK_THROWS_AS(device.enrol("tab-2", "nurse"), mobile::DeviceWiped);
}

TEST_CASE("a refused field write stops showing as the field's value") {
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");
  ScriptedTransport transport;
  transport.serverTimeMs = clock.m_now;

  device.writeField("p1", "medication", "med-1", "dose", "5 mg");
  REQUIRE(device.sync(transport).ok);
  device.writeField("p1", "medication", "med-1", "dose", "500 mg");
  device.writeField("p1", "medication", "med-2", "dose", "1 g");
  transport.rejectCodes = {sync::OperationRejection::FORBIDDEN, sync::OperationRejection::FORBIDDEN};
  const auto report = device.sync(transport);
  REQUIRE(report.ok);
  CHECK(report.rejected == 2);

  const auto dose = device.field("p1", "medication", "med-1", "dose");
  REQUIRE(dose);
  CHECK(dose->value == "5 mg");
  CHECK_FALSE(device.field("p1", "medication", "med-2", "dose"));
  CHECK(device.rejected().size() == 2);

  // The next edit is based on what the record holds, and goes through.
  device.writeField("p1", "medication", "med-1", "dose", "2.5 mg");
  CHECK(device.store().outbox(10).at(0).write().base_hlc() == dose->hlc);
  REQUIRE(device.sync(transport).ok);
  CHECK(device.field("p1", "medication", "med-1", "dose")->value == "2.5 mg");
}

TEST_CASE("a page naming a patient by an empty id is refused whole, and every read still works") {
  // Found by the device_pull_response fuzz target
  // (tests/fuzz/regressions/device_pull_response/empty_scoped_patient_id).
  FixedClock clock(1'800'000'000'000);
  mobile::Device device(":memory:", clock);
  device.enrol("tab", "nurse");

  ScriptedTransport transport;
  sync::PullResponse page;
  *page.add_operations() = remoteNote("p1", "a", 1);
  page.add_scoped_patient_ids("p1");
  page.add_scoped_patient_ids("");
  page.set_next_cursor(1);
  transport.pages = {page};

  mobile::SyncClient::Options options;
  options.attempts = 1;
  options.sleep = [](std::chrono::milliseconds) {};
  bool refused = false;
  try {
    refused = !device.sync(transport, options).ok;
  } catch (const std::exception& e) {
    refused = std::string(e.what()).find("scoped_patient_ids") != std::string::npos;
  }
  CHECK(refused);
  // Nothing of the page was stored: no patient held, the cursor unmoved.
  CHECK(device.store().heldPatients().empty());
  CHECK(device.status().cursor == 0);
  CHECK(device.status().lastError.find("scoped_patient_ids") != std::string::npos);
}
