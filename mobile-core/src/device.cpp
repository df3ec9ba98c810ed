#include "hemma/mobile/device.hpp"

#include <algorithm>
#include <stdexcept>

#include "hemma/sync/merge_rules.hpp"
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
  m_wiped = m_store.wipedAt().has_value();
}

void Device::enrol(std::string_view deviceId, std::string_view userId) {
  requireText("device_id", deviceId, sync::kMaxIdBytes);
  requireText("user_id", userId, sync::kMaxIdBytes);
  if (deviceId.find(':') != std::string_view::npos) throw std::invalid_argument("device_id: must not contain ':'");
  if (m_wiped) throw DeviceWiped();
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

api::Principal Device::signIn(Transport& transport, const std::string& username, const std::string& password,
                              const std::string& deviceId) {
  requireText("username", username, sync::kMaxIdBytes);
  requireText("password", password, 1024);
  requireText("device_id", deviceId, sync::kMaxIdBytes);
  if (enrolled() && m_deviceId != deviceId) {
    throw std::invalid_argument("device_id: this database already belongs to device " + m_deviceId);
  }
  api::LoginRequest login;
  login.set_username(username);
  login.set_password(password);
  const api::LoginResponse session = transport.login(login);
  if (enrolled() && m_userId != session.principal().user_id()) {
    throw std::invalid_argument("username: this tablet's database belongs to user " + m_userId);
  }
  api::RegisterDeviceRequest registration;
  registration.set_device_id(deviceId);
  const api::RegisterDeviceResponse device = transport.registerDevice(registration, session.token());
  if (m_wiped) {
    // A fresh start on a wiped database: the server accepted the new id.
    m_store.eraseMeta("wiped");
    m_wiped = false;
  }
  enrol(deviceId, session.principal().user_id());
  m_store.inTransaction([&] {
    m_store.setMeta("device_token", device.token());
    m_store.setMeta("principal", session.principal().SerializeAsString());
  });
  return session.principal();
}

api::Principal Device::user() {
  api::Principal principal;
  if (const auto stored = m_store.meta("principal")) principal.ParseFromString(*stored);
  return principal;
}

const std::string& Device::requireEnrolled() {
  if (!enrolled()) throw std::invalid_argument("device: not enrolled (no device id and user yet)");
  return m_deviceId;
}

sync::Operation Device::newOperation(std::string_view patientId, std::string_view entityType,
                                     std::string_view entityId) {
  if (m_wiped) throw DeviceWiped();
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

void Device::record(sync::Operation& op) {
  if (auto problem = sync::validateOperation(op)) throw std::invalid_argument(*problem);
  if (auto problem = sync::checkPolicy(op)) throw std::invalid_argument(*problem);
  m_store.inTransaction([&] {
    m_store.recordLocal(op);
    m_store.setMeta("op_counter", std::to_string(m_counter));
    m_store.setMeta("hlc", std::to_string(m_hlc.last()));
  });
}

namespace {

// Restores the device's counter and clock when recording an operation fails,
// so a refused operation leaves no gap and no future timestamp behind.
class Rollback {
 public:
  Rollback(std::uint64_t& counter, sync::HybridClock& clock)
      : m_counter(counter), m_clock(clock), m_savedCounter(counter), m_savedClock(clock) {}
  ~Rollback() {
    if (!m_done) {
      m_counter = m_savedCounter;
      m_clock = m_savedClock;
    }
  }
  void done() { m_done = true; }

 private:
  std::uint64_t& m_counter;
  sync::HybridClock& m_clock;
  std::uint64_t m_savedCounter;
  sync::HybridClock m_savedClock;
  bool m_done = false;
};

}  // namespace

domain::VisitNote Device::writeNote(std::string_view patientId, std::string_view visitId, std::string_view text,
                                    std::string_view amendsNoteId) {
  requireText("note.patient_id", patientId, sync::kMaxIdBytes);
  requireText("note.text", text, sync::kMaxTextBytes);
  if (visitId.size() > sync::kMaxIdBytes) throw std::invalid_argument("note.visit_id: too long");

  Rollback rollback(m_counter, m_hlc);
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
  record(op);
  rollback.done();
  return note;
}

sync::Operation Device::writeField(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                                   std::string_view field, std::string_view value) {
  const auto current = m_store.field(patientId, entityType, entityId, field);
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newOperation(patientId, entityType, entityId);
  auto& write = *op.mutable_write();
  write.set_field(std::string(field));
  write.set_value(std::string(value));
  write.set_base_hlc(current ? current->hlc : 0);
  record(op);
  rollback.done();
  return op;
}

sync::Operation Device::resolveConflict(std::string_view conflictId, std::string_view value) {
  const auto conflicts = m_store.conflicts();
  const auto it = std::find_if(conflicts.begin(), conflicts.end(),
                               [&](const sync::Conflict& c) { return c.id() == conflictId; });
  if (it == conflicts.end()) throw std::invalid_argument("conflict_id: no conflict " + std::string(conflictId) + " here");
  const auto current = m_store.field(it->patient_id(), it->entity_type(), it->entity_id(), it->field());
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newOperation(it->patient_id(), it->entity_type(), it->entity_id());
  auto& write = *op.mutable_write();
  write.set_field(it->field());
  write.set_value(std::string(value));
  write.set_base_hlc(current ? current->hlc : 0);
  write.set_resolves_conflict_id(std::string(conflictId));
  record(op);
  rollback.done();
  return op;
}

sync::Operation Device::addToSet(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                                 std::string_view setName, std::string_view element) {
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newOperation(patientId, entityType, entityId);
  op.mutable_set_add()->set_set(std::string(setName));
  op.mutable_set_add()->set_element(std::string(element));
  record(op);
  rollback.done();
  return op;
}

sync::Operation Device::removeFromSet(std::string_view patientId, std::string_view entityType,
                                      std::string_view entityId, std::string_view setName, std::string_view element) {
  const SetState state = m_store.set(patientId, entityType, entityId, setName);
  const auto live = state.liveAddIds.find(std::string(element));
  if (live == state.liveAddIds.end()) {
    throw std::invalid_argument("set_remove.element: " + std::string(element) + " is not in " + std::string(setName));
  }
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newOperation(patientId, entityType, entityId);
  auto& remove = *op.mutable_set_remove();
  remove.set_set(std::string(setName));
  remove.set_element(std::string(element));
  for (const auto& id : live->second) remove.add_observed_add_ids(id);
  record(op);
  rollback.done();
  return op;
}

std::vector<domain::VisitNote> Device::notes(std::string_view patientId) { return m_store.notes(patientId); }

SyncReport Device::sync(Transport& transport, SyncClient::Options options) {
  if (m_wiped) {
    SyncReport report;
    report.wiped = true;
    report.error = SyncClient::kWipedError;
    return report;
  }
  if (const auto token = m_store.meta("device_token")) transport.setToken(*token);
  SyncClient client(m_store, transport, m_hlc, m_clock, requireEnrolled(), options);
  SyncReport report = client.run();
  if (report.wiped) {
    // The store is empty now; so is what this object remembers of it.
    m_wiped = true;
    m_deviceId.clear();
    m_userId.clear();
    m_counter = 0;
    m_hlc = sync::HybridClock();
  }
  return report;
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
  status.heldPatients = m_store.heldPatients().size();
  status.wipedAt = m_store.wipedAt().value_or("");
  return status;
}

}  // namespace hemma::mobile
