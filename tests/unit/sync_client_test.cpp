// The device's sync client against a scripted transport: retries with back-off,
// sync state, rejections kept, clock-skew restamping.

#include <catch2/catch.hpp>

#include <deque>

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
  sync::PullResponse pull(const sync::PullRequest& request) override {
    sync::PullResponse response;
    response.set_next_cursor(request.after_seq());
    response.set_server_time_ms(serverTimeMs);
    return response;
  }
};

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
  CHECK(device.notes().size() == 2);  // the nurse still sees what she wrote
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
