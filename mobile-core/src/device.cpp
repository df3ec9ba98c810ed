#include "hemma/mobile/device.hpp"

#include <stdexcept>

#include "hemma/sync/operation.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::mobile {

namespace {

std::uint64_t metaNumber(DeviceStore& store, std::string_view key) {
  const auto value = store.meta(key);
  return value && !value->empty() ? std::stoull(*value) : 0;
}

void requireText(std::string_view field, std::string_view value, std::size_t maxBytes) {
  if (value.empty()) throw std::invalid_argument(std::string(field) + ": empty");
  if (value.size() > maxBytes) {
    throw std::invalid_argument(std::string(field) + ": longer than " + std::to_string(maxBytes) + " bytes");
  }
}

}  // namespace

Device::Device(const std::string& path, Clock& clock) : m_store(path), m_clock(clock) {
  m_deviceId = m_store.meta("device_id").value_or("");
  m_userId = m_store.meta("user_id").value_or("");
  m_counter = metaNumber(m_store, "op_counter");
  const auto offset = m_store.meta("clock_offset");
  m_hlc = sync::HybridClock(metaNumber(m_store, "hlc"), offset && !offset->empty() ? std::stoll(*offset) : 0);
}

void Device::enrol(std::string_view deviceId, std::string_view userId) {
  requireText("device_id", deviceId, sync::kMaxIdBytes);
  requireText("user_id", userId, sync::kMaxIdBytes);
  if (deviceId.find(':') != std::string_view::npos) throw std::invalid_argument("device_id: must not contain ':'");
  if (enrolled()) {
    if (m_deviceId != deviceId || m_userId != userId) {
      throw std::invalid_argument("device_id: this database already belongs to device " + m_deviceId + " of user " +
                                  m_userId);
    }
    return;
  }
  m_store.inTransaction([&] {
    m_store.setMeta("device_id", deviceId);
    m_store.setMeta("user_id", userId);
  });
  m_deviceId = deviceId;
  m_userId = userId;
}

bool Device::enrolled() { return !m_deviceId.empty(); }

const std::string& Device::requireEnrolled() {
  if (!enrolled()) throw std::invalid_argument("device: not enrolled (no device id and user yet)");
  return m_deviceId;
}

sync::Operation Device::newOperation(std::string_view patientId, std::string_view entityType,
                                     std::string_view entityId) {
  sync::Operation op;
  const std::int64_t now = m_clock.nowMs();
  op.set_id(sync::makeOperationId(requireEnrolled(), ++m_counter));
  op.set_author_id(m_userId);
  op.set_device_id(m_deviceId);
  op.set_hlc(m_hlc.now(now));
  op.set_patient_id(std::string(patientId));
  op.set_entity_type(std::string(entityType));
  op.set_entity_id(std::string(entityId));
  op.set_recorded_at(sync::formatRfc3339(now));
  return op;
}

domain::VisitNote Device::writeNote(std::string_view patientId, std::string_view visitId, std::string_view text,
                                    std::string_view amendsNoteId) {
  requireText("note.patient_id", patientId, sync::kMaxIdBytes);
  requireText("note.text", text, sync::kMaxTextBytes);
  if (visitId.size() > sync::kMaxIdBytes) throw std::invalid_argument("note.visit_id: too long");

  const std::uint64_t counterBefore = m_counter;
  const sync::Hlc hlcBefore = m_hlc.last();
  try {
    sync::Operation op = newOperation(patientId, "visit_note", "");
    // The note's id is its operation's id: unique, and stable if resent.
    op.set_entity_id(op.id());
    domain::VisitNote& note = *op.mutable_append()->mutable_note();
    note.set_id(op.id());
    note.set_patient_id(std::string(patientId));
    note.set_visit_id(std::string(visitId));
    note.set_author_id(m_userId);
    note.set_text(std::string(text));
    note.set_written_at(op.recorded_at());
    note.set_amends_note_id(std::string(amendsNoteId));
    if (auto problem = sync::validateOperation(op)) throw std::invalid_argument(*problem);

    m_store.inTransaction([&] {
      m_store.recordLocal(op);
      m_store.setMeta("op_counter", std::to_string(m_counter));
      m_store.setMeta("hlc", std::to_string(m_hlc.last()));
    });
    return note;
  } catch (...) {
    m_counter = counterBefore;
    m_hlc = sync::HybridClock(hlcBefore, m_hlc.offset());
    throw;
  }
}

std::vector<domain::VisitNote> Device::notes(std::string_view patientId) { return m_store.notes(patientId); }

SyncReport Device::sync(Transport& transport, SyncClient::Options options) {
  SyncClient client(m_store, transport, m_hlc, m_clock, requireEnrolled(), options);
  return client.run();
}

SyncStatus Device::status() {
  SyncStatus status;
  status.deviceId = m_deviceId;
  status.userId = m_userId;
  status.pending = m_store.outboxSize();
  status.rejected = m_store.rejected().size();
  status.cursor = m_store.cursor();
  status.lastSuccess = m_store.meta("last_sync_ok").value_or("");
  status.lastError = m_store.meta("last_sync_error").value_or("");
  status.failedSyncs = static_cast<int>(metaNumber(m_store, "sync_failures"));
  return status;
}

}  // namespace hemma::mobile
