#include "hemma/mobile/sync_client.hpp"

#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::mobile {

namespace {
// Rounds of "clock too far ahead, restamp, send again" before giving up.
constexpr int kMaxRestampRounds = 3;
}  // namespace

SyncClient::SyncClient(DeviceStore& store, Transport& transport, sync::HybridClock& clock, Clock& wallClock,
                       std::string deviceId, Options options)
    : m_store(store),
      m_transport(transport),
      m_clock(clock),
      m_wallClock(wallClock),
      m_deviceId(std::move(deviceId)),
      m_options(options) {}

SyncReport SyncClient::run() {
  SyncReport report;
  try {
    push(report);
    pull(report);
    report.ok = true;
    m_store.setMeta("last_sync_ok", sync::formatRfc3339(m_wallClock.nowMs()));
    m_store.setMeta("last_sync_error", "");
  } catch (const TransportError& e) {
    report.error = e.what();
  } catch (const ServerError& e) {
    report.error = "server answered " + std::to_string(e.status()) + ": " + e.what();
  }
  if (!report.ok) m_store.setMeta("last_sync_error", report.error);
  return report;
}

void SyncClient::learnServerTime(std::int64_t serverTimeMs) {
  if (serverTimeMs <= 0) return;
  m_clock.setOffset(serverTimeMs - m_wallClock.nowMs());
  m_store.setMeta("clock_offset", std::to_string(m_clock.offset()));
}

void SyncClient::push(SyncReport& report) {
  int restampRounds = 0;
  while (true) {
    auto ops = m_store.outbox(std::min(m_options.pushBatch, sync::kMaxPushOperations));
    if (ops.empty()) return;

    sync::PushRequest request;
    request.set_protocol_version(sync::kProtocolVersion);
    request.set_device_id(m_deviceId);
    for (auto& op : ops) *request.add_operations() = std::move(op);
    const sync::PushResponse response = m_transport.push(request);
    learnServerTime(response.server_time_ms());

    if (response.acks_size() + response.rejections_size() != request.operations_size()) {
      throw TransportError("push: the server answered for " +
                           std::to_string(response.acks_size() + response.rejections_size()) + " of " +
                           std::to_string(request.operations_size()) + " operations");
    }
    std::vector<sync::OperationAck> acks(response.acks().begin(), response.acks().end());
    m_store.acknowledge(acks);
    for (const auto& ack : acks) (ack.duplicate() ? report.duplicates : report.pushed)++;

    std::vector<sync::OperationRejection> refused;
    bool restamped = false;
    for (const auto& rejection : response.rejections()) {
      if (rejection.code() == sync::OperationRejection::CLOCK_SKEW && restampRounds < kMaxRestampRounds) {
        // Our clock ran ahead of the server's. The offset is corrected now;
        // stamp the operation again so it orders by the corrected time.
        for (auto op : request.operations()) {
          if (op.id() != rejection.operation_id()) continue;
          op.set_hlc(m_clock.now(m_wallClock.nowMs()));
          m_store.inTransaction([&] {
            m_store.restamp(op);
            m_store.setMeta("hlc", std::to_string(m_clock.last()));
          });
          restamped = true;
        }
      } else {
        refused.push_back(rejection);
      }
    }
    if (restamped) ++restampRounds;
    if (!refused.empty()) {
      m_store.reject(refused);
      report.rejected += refused.size();
    }
  }
}

void SyncClient::pull(SyncReport& report) {
  while (true) {
    sync::PullRequest request;
    request.set_protocol_version(sync::kProtocolVersion);
    request.set_device_id(m_deviceId);
    request.set_after_seq(m_store.cursor());
    request.set_limit(m_options.pullPage);
    sync::PullResponse response = m_transport.pull(request);
    learnServerTime(response.server_time_ms());

    std::vector<sync::Operation> ops(std::make_move_iterator(response.mutable_operations()->begin()),
                                     std::make_move_iterator(response.mutable_operations()->end()));
    sync::Hlc newest = 0;
    for (const auto& op : ops) newest = std::max<sync::Hlc>(newest, op.hlc());
    m_clock.observe(newest, m_wallClock.nowMs());
    report.pulled += m_store.inTransaction([&] {
      const std::size_t added = m_store.applyRemote(ops, response.next_cursor());
      m_store.setMeta("hlc", std::to_string(m_clock.last()));
      return added;
    });
    if (!response.has_more() || ops.empty()) return;
  }
}

}  // namespace hemma::mobile
