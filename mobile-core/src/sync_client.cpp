#include "hemma/mobile/sync_client.hpp"

#include <cstdlib>
#include <map>
#include <string_view>
#include <thread>

#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::mobile {

namespace {

// A page naming a patient by an empty or oversize id is refused whole
// before anything of it is stored: such an id would be held and then fail
// every read of that patient.
void requirePatientIds(const sync::PullResponse& response) {
  auto check = [](const std::string& field, const std::string& id) {
    if (id.empty() || id.size() > sync::kMaxIdBytes) {
      throw TransportError("pull: the server's page names a patient by an " +
                           std::string(id.empty() ? "empty" : "oversize") + " id in " + field);
    }
  };
  for (const auto& id : response.purge_patient_ids()) check("purge_patient_ids", id);
  for (const auto& id : response.scoped_patient_ids()) check("scoped_patient_ids", id);
  if (!response.backfill_patient_id().empty()) check("backfill_patient_id", response.backfill_patient_id());
}

// Rounds of "clock too far ahead, restamp, send again" before giving up.
constexpr int kMaxRestampRounds = 3;
// Clock offsets closer than this to the one in use are not worth storing.
constexpr std::int64_t kOffsetNoiseMs = 1000;
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
  if (m_store.wipedAt()) {
    report.wiped = true;
    report.error = kWipedError;
    return report;
  }
  std::chrono::milliseconds wait = m_options.backoff;
  bool revoked = false;
  while (true) {
    ++report.attempts;
    try {
      push(report);
      pull(report);
      report.ok = true;
      report.error.clear();
      break;
    } catch (const TransportError& e) {
      report.error = e.what();
    } catch (const ServerError& e) {
      report.error = "server answered " + std::to_string(e.status()) + ": " + e.what();
      revoked = e.status() == 401 && std::string_view(e.what()) == "device: revoked";
      break;
    }
    if (report.attempts >= m_options.attempts) break;
    if (m_options.sleep) {
      m_options.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    wait *= 2;
  }
  if (revoked) {
    // A lost or stolen tablet: nothing of the patients may stay on it.
    m_store.wipe(sync::formatRfc3339(m_wallClock.nowMs()));
    report.ok = false;
    report.wiped = true;
    report.error = kWipedError;
    return report;
  }
  m_store.inTransaction([&] {
    if (report.ok) {
      m_store.setMeta("last_sync_ok", sync::formatRfc3339(m_wallClock.nowMs()));
      m_store.setMeta("sync_failures", "0");
    } else {
      const auto failures = m_store.meta("sync_failures");
      m_store.setMeta("sync_failures", std::to_string((failures ? std::stoll(*failures) : 0) + 1));
    }
    m_store.setMeta("last_sync_error", report.ok ? rejectedSummary(m_store) : report.error);
  });
  return report;
}

std::string SyncClient::rejectedSummary(DeviceStore& store) {
  const auto rejected = store.rejected();
  if (rejected.empty()) return {};
  const RejectedOperation& first = rejected.front();
  std::string text =
      std::to_string(rejected.size()) +
      " operation(s) refused by the server, kept on the tablet until discarded or sent again: " + first.operation.id() +
      " (" + first.operation.entity_type() + " of " + first.operation.patient_id() + "): " + first.reason;
  if (rejected.size() > 1) text += "; and " + std::to_string(rejected.size() - 1) + " more";
  return text;
}

void SyncClient::learnServerTime(std::int64_t serverTimeMs) {
  if (serverTimeMs <= 0) return;
  const std::int64_t offset = serverTimeMs - m_wallClock.nowMs();
  const sync::Hlc ceiling = sync::makeHlc(serverTimeMs + sync::kMaxClockSkewMs, 0);
  // Offsets that differ by less than the round trip's noise change nothing
  // worth a commit.
  if (std::abs(offset - m_clock.offset()) < kOffsetNoiseMs && m_clock.last() <= ceiling) return;
  m_clock.setOffset(offset);
  m_store.inTransaction([&] {
    m_store.setMeta("clock_offset", std::to_string(m_clock.offset()));
    if (m_clock.last() <= ceiling) return;
    // The clock ran further ahead than the server tolerates. Wind it back to
    // the newest time the server has seen, and stamp the outbox operations
    // from the future again, in the order they were made, so they order by
    // the corrected time and no longer beat every later edit.
    m_clock = sync::HybridClock(m_store.newestSyncedHlc(), m_clock.offset());
    // A base naming an operation stamped again follows it to its new clock
    // (the server checks a base against the write it names).
    std::map<std::string, sync::Hlc> restamped;
    for (auto op : m_store.outboxAfter(ceiling)) {
      op.set_hlc(m_clock.now(m_wallClock.nowMs()));
      if (op.has_write()) {
        sync::FieldWrite& write = *op.mutable_write();
        if (const auto base = restamped.find(write.base_operation_id()); base != restamped.end()) {
          write.set_base_hlc(base->second);
        } else if (write.base_hlc() >= op.hlc()) {
          write.set_base_hlc(op.hlc() - 1);
          write.clear_base_operation_id();
        }
      }
      restamped[op.id()] = op.hlc();
      m_store.restamp(op);
    }
    m_store.setMeta("hlc", std::to_string(m_clock.last()));
  });
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

    if (response.acks_size() + response.rejections_size() != request.operations_size()) {
      throw TransportError("push: the server answered for " +
                           std::to_string(response.acks_size() + response.rejections_size()) + " of " +
                           std::to_string(request.operations_size()) + " operations");
    }
    std::vector<sync::OperationAck> acks(response.acks().begin(), response.acks().end());
    m_store.acknowledge(acks);
    for (const auto& ack : acks) (ack.duplicate() ? report.duplicates : report.pushed)++;
    // After the acks, so the newest acknowledged time bounds the rewind.
    learnServerTime(response.server_time_ms());
    if (response.server_time_ms() > 0) report.serverTimeMs = response.server_time_ms();

    std::vector<sync::OperationRejection> refused;
    bool skewed = false;
    for (const auto& rejection : response.rejections()) {
      if (rejection.code() == sync::OperationRejection::CLOCK_SKEW && restampRounds < kMaxRestampRounds) {
        skewed = true;  // learnServerTime stamped it again; it stays in the outbox.
      } else {
        refused.push_back(rejection);
      }
    }
    if (skewed) ++restampRounds;
    if (!refused.empty()) {
      m_store.reject(refused, sync::formatRfc3339(m_wallClock.nowMs()));
      report.rejected += refused.size();
      report.rejections.insert(report.rejections.end(), refused.begin(), refused.end());
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
    auto& scope = *request.mutable_scope();
    for (auto& id : m_store.heldPatients()) scope.add_held_patient_ids(std::move(id));
    const std::string backfillPatient = m_store.meta("backfill_patient").value_or("");
    const auto backfillSeq = m_store.meta("backfill_seq");
    if (!backfillPatient.empty()) {
      scope.set_backfill_patient_id(backfillPatient);
      scope.set_backfill_after_seq(backfillSeq && !backfillSeq->empty() ? std::stoull(*backfillSeq) : 0);
    }
    sync::PullResponse response = m_transport.pull(request);
    requirePatientIds(response);
    learnServerTime(response.server_time_ms());
    if (response.server_time_ms() > 0) report.serverTimeMs = response.server_time_ms();

    std::vector<sync::Operation> ops(std::make_move_iterator(response.mutable_operations()->begin()),
                                     std::make_move_iterator(response.mutable_operations()->end()));
    sync::Hlc newest = 0;
    for (const auto& op : ops) newest = std::max<sync::Hlc>(newest, op.hlc());
    m_clock.observe(newest, m_wallClock.nowMs());
    // The page, its cursor and the scope changes it brings: all or nothing.
    report.pulled += m_store.inTransaction([&] {
      for (const auto& id : response.purge_patient_ids()) {
        m_store.purgePatient(id);
        ++report.purged;
      }
      const std::size_t added = m_store.applyRemote(ops, response.next_cursor());
      m_store.hold({response.scoped_patient_ids().begin(), response.scoped_patient_ids().end()});
      m_store.setMeta("backfill_patient", response.backfill_patient_id());
      m_store.setMeta("backfill_seq", std::to_string(response.backfill_cursor()));
      m_store.setMeta("hlc", std::to_string(m_clock.last()));
      return added;
    });
    const bool progressed = !ops.empty() || response.next_cursor() != request.after_seq() ||
                            response.purge_patient_ids_size() > 0 || response.scoped_patient_ids_size() > 0 ||
                            response.backfill_patient_id() != scope.backfill_patient_id() ||
                            response.backfill_cursor() != scope.backfill_after_seq();
    if (!response.has_more() || !progressed) return;
  }
}

}  // namespace hemma::mobile
