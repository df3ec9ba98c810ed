#include "hemma/mobile/device.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "hemma/sync/entry_rules.hpp"
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

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

std::string toHex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

std::string pbkdf2(const std::string& password, const std::string& salt, int iterations) {
  std::string key(32, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha256(), static_cast<int>(key.size()),
                        reinterpret_cast<unsigned char*>(key.data())) != 1) {
    throw std::runtime_error("unlock: PKCS5_PBKDF2_HMAC failed");
  }
  return key;
}

domain::Consciousness toDomain(Consciousness c) {
  switch (c) {
    case Consciousness::Alert:
      return domain::ALERT;
    case Consciousness::Confusion:
      return domain::NEW_CONFUSION;
    case Consciousness::Voice:
      return domain::VOICE;
    case Consciousness::Pain:
      return domain::PAIN;
    case Consciousness::Unresponsive:
      return domain::UNRESPONSIVE;
  }
  return domain::CONSCIOUSNESS_UNSPECIFIED;
}

domain::News2Risk toDomain(Risk risk) {
  switch (risk) {
    case Risk::NotEvaluated:
      return domain::NEWS2_NOT_EVALUATED;
    case Risk::Low:
      return domain::NEWS2_LOW;
    case Risk::LowMedium:
      return domain::NEWS2_LOW_MEDIUM;
    case Risk::Medium:
      return domain::NEWS2_MEDIUM;
    case Risk::High:
      return domain::NEWS2_HIGH;
  }
  return domain::NEWS2_NOT_EVALUATED;
}

std::string oneDecimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

// "respiratory rate 25/min (3), SpO2 91 % (2)": the parameters that scored,
// with the reading and its score.
std::string scoredParameters(const VitalSigns& v, const News2Scores& s) {
  std::string text;
  auto add = [&](const std::optional<int>& score, const std::string& what) {
    if (!score || *score == 0) return;
    if (!text.empty()) text += ", ";
    text += what + " (" + std::to_string(*score) + ")";
  };
  if (v.respiratoryRate) add(s.respiratoryRate, "respiratory rate " + std::to_string(*v.respiratoryRate) + "/min");
  if (v.spo2) add(s.spo2, "SpO2 " + std::to_string(*v.spo2) + " %");
  add(s.airOrOxygen, "on oxygen");
  if (v.systolicBp) add(s.systolicBp, "systolic BP " + std::to_string(*v.systolicBp) + " mmHg");
  if (v.pulse) add(s.pulse, "pulse " + std::to_string(*v.pulse) + "/min");
  if (v.consciousness) add(s.consciousness, "consciousness not alert");
  if (v.temperatureC) add(s.temperature, "temperature " + oneDecimal(*v.temperatureC) + " C");
  return text;
}

std::int64_t floorDay(std::int64_t ms) { return ms - ((ms % kDayMs) + kDayMs) % kDayMs; }

// An id epoch the tablet draws itself, for a database enrolled without a
// registration number from the server (enrol(), or a sign-in before
// protocol version 4): "l" and 64 random bits in hex. The letter keeps it
// apart from the server's numbers.
std::string drawLocalEpoch() {
  std::string bytes(8, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("device: no random bytes for an id epoch");
  }
  return "l" + toHex(bytes);
}

// Gives an entry the id of the operation that now carries it.
void renameEntry(sync::AppendEntry& entry, const std::string& from, const std::string& to) {
  auto rename = [&](auto& e) {
    if (e.id() == from) e.set_id(to);
  };
  switch (entry.entry_case()) {
    case sync::AppendEntry::kNote:
      rename(*entry.mutable_note());
      break;
    case sync::AppendEntry::kObservation:
      rename(*entry.mutable_observation());
      break;
    case sync::AppendEntry::kVitalSigns:
      rename(*entry.mutable_vital_signs());
      break;
    case sync::AppendEntry::kTaskOutcome:
      rename(*entry.mutable_task_outcome());
      break;
    case sync::AppendEntry::kMedicationAdministration:
      rename(*entry.mutable_medication_administration());
      break;
    case sync::AppendEntry::kMessage:
      rename(*entry.mutable_message());
      break;
    case sync::AppendEntry::kProposedChange:
      rename(*entry.mutable_proposed_change());
      break;
    case sync::AppendEntry::ENTRY_NOT_SET:
      break;
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
  m_epoch = m_store.meta("id_epoch").value_or("");
  if (enrolled() && !m_wiped && !sync::isValidEpoch(m_epoch)) {
    // Enrolled before operation ids had an epoch: its ids so far are
    // "<device>:<n>", and another installation of the device id may have
    // used the same ones. From now on its ids carry an epoch of its own.
    m_epoch = drawLocalEpoch();
    m_store.inTransaction([&] { m_store.setMeta("id_epoch", m_epoch); });
  }
}

void Device::enrol(std::string_view deviceId, std::string_view userId) { enrolAs(deviceId, userId, {}); }

void Device::enrolAs(std::string_view deviceId, std::string_view userId, std::string_view epoch) {
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
  const std::string idEpoch = epoch.empty() ? drawLocalEpoch() : std::string(epoch);
  m_store.inTransaction([&] {
    m_store.setMeta("device_id", deviceId);
    m_store.setMeta("user_id", userId);
    m_store.setMeta("id_epoch", idEpoch);
  });
  m_deviceId = deviceId;
  m_userId = userId;
  m_epoch = idEpoch;
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
  // The registration's number keeps this installation's operation ids apart
  // from every earlier one of the device id (a reinstalled tablet starts
  // its counter again). A server that sends none: an epoch of our own.
  const std::string epoch = device.registration() > 0 ? std::to_string(device.registration()) : std::string();
  enrolAs(deviceId, session.principal().user_id(), epoch);
  // The offline unlock's hash: salted, slow, never the password itself.
  std::string salt(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1) {
    throw std::runtime_error("unlock: no random bytes for a salt");
  }
  const std::string hash = pbkdf2(password, salt, m_unlockIterations);
  m_store.inTransaction([&] {
    m_store.setMeta("device_token", device.token());
    m_store.setMeta("principal", session.principal().SerializeAsString());
    m_store.setMeta("unlock_username", username);
    m_store.setMeta("unlock_salt", toHex(salt));
    m_store.setMeta("unlock_iterations", std::to_string(m_unlockIterations));
    m_store.setMeta("unlock_hash", toHex(hash));
    m_store.setMeta("unlock_failures", "0");
    if (!epoch.empty()) m_store.setMeta("id_epoch", epoch);
  });
  if (!epoch.empty()) m_epoch = epoch;
  return session.principal();
}

api::Principal Device::user() {
  api::Principal principal;
  if (const auto stored = m_store.meta("principal")) principal.ParseFromString(*stored);
  return principal;
}

void Device::setUnlockIterations(int iterations) {
  if (iterations < 1000) throw std::invalid_argument("unlock.iterations: fewer than 1000");
  m_unlockIterations = iterations;
}

api::Principal Device::unlock(const std::string& username, const std::string& password) {
  if (m_wiped) throw DeviceWiped();
  const auto hash = m_store.meta("unlock_hash");
  const auto salt = m_store.meta("unlock_salt");
  if (!hash || !salt) throw UnlockRefused("unlock: no online sign-in on this tablet yet; sign in online first");
  const auto failures = static_cast<int>(metaNumber(m_store, "unlock_failures"));
  if (failures >= kMaxUnlockFailures) {
    throw UnlockRefused("unlock: locked after " + std::to_string(failures) +
                        " wrong attempts; sign in online again to unlock this tablet");
  }
  // The salt was stored as hex; turn it back into its bytes.
  std::string saltBytes;
  for (std::size_t i = 0; i + 1 < salt->size(); i += 2) {
    saltBytes += static_cast<char>(std::stoi(salt->substr(i, 2), nullptr, 16));
  }
  const int iterations = static_cast<int>(metaNumber(m_store, "unlock_iterations"));
  const std::string attempt = toHex(pbkdf2(password, saltBytes, iterations));
  const bool match = username == m_store.meta("unlock_username").value_or("") && attempt.size() == hash->size() &&
                     CRYPTO_memcmp(attempt.data(), hash->data(), attempt.size()) == 0;
  if (!match) {
    m_store.inTransaction([&] { m_store.setMeta("unlock_failures", std::to_string(failures + 1)); });
    const int left = kMaxUnlockFailures - failures - 1;
    if (left == 0) {
      throw UnlockRefused("unlock: wrong username or password; locked after " + std::to_string(kMaxUnlockFailures) +
                          " wrong attempts, sign in online again");
    }
    throw UnlockRefused("unlock: wrong username or password (" + std::to_string(left) + " attempt(s) left)");
  }
  if (failures != 0) m_store.inTransaction([&] { m_store.setMeta("unlock_failures", "0"); });
  return user();
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
  op.set_id(sync::makeOperationId(requireEnrolled(), m_epoch, ++m_counter));
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
  std::vector<sync::Operation> ops{op};
  recordAll(ops);
}

void Device::recordAll(std::vector<sync::Operation>& ops) {
  for (const auto& op : ops) {
    if (auto problem = sync::validateOperation(op)) throw std::invalid_argument(*problem);
    if (auto problem = sync::checkPolicy(op)) throw std::invalid_argument(*problem);
  }
  checkEntryRules(ops);
  m_store.inTransaction([&] {
    for (const auto& op : ops) m_store.recordLocal(op);
    m_store.setMeta("op_counter", std::to_string(m_counter));
    m_store.setMeta("hlc", std::to_string(m_hlc.last()));
  });
}

namespace {

// The entry rules' view of what this tablet holds. The care team is not
// synced to tablets: the server checks message recipients at push.
class DeviceEntryState : public sync::EntryState {
 public:
  explicit DeviceEntryState(DeviceStore& store) : m_store(store) {}
  std::optional<std::string> field(const sync::FieldLocation& at) override {
    const auto value = m_store.field(at.patientId, at.entityType, at.entityId, at.field);
    return value ? std::optional<std::string>(value->value) : std::nullopt;
  }
  std::optional<bool> inCareTeam(const std::string&, const std::string&) override { return std::nullopt; }

 private:
  DeviceStore& m_store;
};

}  // namespace

void Device::checkEntryRules(const std::vector<sync::Operation>& ops) {
  const api::Principal principal = user();
  const sync::EntryAuthor author{m_userId, principal.role(), principal.organisation_id()};
  DeviceEntryState stored(m_store);
  sync::PendingEntryState pending(stored);
  for (const auto& op : ops) {
    if (auto refusal = sync::checkEntryRules(op, author, pending)) throw std::invalid_argument(refusal->reason);
    pending.add(op);
  }
}

sync::Operation Device::newEntry(std::string_view patientId, std::string_view kind) {
  sync::Operation op = newOperation(patientId, kind, "");
  // The entry's id is its operation's id: unique, and stable if resent.
  op.set_entity_id(op.id());
  return op;
}

sync::Operation Device::newFieldWrite(std::string_view patientId, std::string_view entityType,
                                      std::string_view entityId, std::string_view field, std::string_view value) {
  const auto current = m_store.field(patientId, entityType, entityId, field);
  sync::Operation op = newOperation(patientId, entityType, entityId);
  auto& write = *op.mutable_write();
  write.set_field(std::string(field));
  write.set_value(std::string(value));
  write.set_base_hlc(current ? current->hlc : 0);
  write.set_base_operation_id(current ? current->opId : std::string());
  return op;
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
  if (!amendsNoteId.empty()) {
    const auto amended = m_store.entry(amendsNoteId);
    if (!amended || amended->kind != "visit_note" || amended->patientId != patientId) {
      throw std::invalid_argument("note.amends_note_id: no note " + std::string(amendsNoteId) + " of patient " +
                                  std::string(patientId) + " on this device");
    }
  }

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
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newFieldWrite(patientId, entityType, entityId, field, value);
  record(op);
  rollback.done();
  return op;
}

sync::Operation Device::resolveConflict(std::string_view conflictId, std::string_view value) {
  const auto conflicts = m_store.conflicts();
  const auto it =
      std::find_if(conflicts.begin(), conflicts.end(), [&](const sync::Conflict& c) { return c.id() == conflictId; });
  if (it == conflicts.end())
    throw std::invalid_argument("conflict_id: no conflict " + std::string(conflictId) + " here");
  const auto current = m_store.field(it->patient_id(), it->entity_type(), it->entity_id(), it->field());
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newOperation(it->patient_id(), it->entity_type(), it->entity_id());
  auto& write = *op.mutable_write();
  write.set_field(it->field());
  write.set_value(std::string(value));
  write.set_base_hlc(current ? current->hlc : 0);
  write.set_base_operation_id(current ? current->opId : std::string());
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

std::string Device::fieldText(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                              std::string_view field) {
  const auto value = m_store.field(patientId, entityType, entityId, field);
  return value ? value->value : std::string();
}

std::string Device::requireVisitPatient(std::string_view visitId, std::string_view what) {
  requireText(what, visitId, sync::kMaxIdBytes);
  const auto patient = m_store.visitPatient(visitId);
  if (!patient)
    throw std::invalid_argument(std::string(what) + ": no visit " + std::string(visitId) + " on this device");
  return *patient;
}

VisitView Device::visit(std::string_view visitId) {
  const std::string patient = requireVisitPatient(visitId, "visit_id");
  VisitView view;
  domain::Visit& v = view.visit;
  v.set_id(std::string(visitId));
  v.set_patient_id(patient);
  v.set_nurse_id(fieldText(patient, "visit", visitId, "nurse_id"));
  v.set_scheduled_start(fieldText(patient, "visit", visitId, "scheduled_start"));
  v.set_started_at(fieldText(patient, "visit", visitId, "started_at"));
  v.set_ended_at(fieldText(patient, "visit", visitId, "ended_at"));
  v.set_activity_id(fieldText(patient, "visit", visitId, "activity_id"));
  domain::Visit::Status status = domain::Visit::STATUS_UNSPECIFIED;
  domain::Visit::Status_Parse(fieldText(patient, "visit", visitId, "status"), &status);
  v.set_status(status);
  view.patientName = fieldText(patient, "patient", patient, "name");
  view.address = fieldText(patient, "patient", patient, "address");
  view.accessNotes = fieldText(patient, "patient", patient, "access_notes");
  view.activityText = fieldText(patient, "care_plan_activity", v.activity_id(), "text");

  const auto outcomes = m_store.visitEntries(visitId, "task_outcome");
  for (const auto& activityId : m_store.entityIds(patient, "care_plan_activity")) {
    ChecklistItem item;
    item.activityId = activityId;
    item.responsibleRole = fieldText(patient, "care_plan_activity", activityId, "responsible_role");
    if (item.responsibleRole != "NURSE" && activityId != v.activity_id()) continue;
    item.text = fieldText(patient, "care_plan_activity", activityId, "text");
    item.frequency = fieldText(patient, "care_plan_activity", activityId, "frequency");
    for (const auto& outcome : outcomes) {
      if (outcome.refId == activityId) item.outcome = outcome.entry.task_outcome();  // the latest wins
    }
    view.checklist.push_back(std::move(item));
  }
  return view;
}

std::vector<VisitView> Device::visits(std::string_view day) {
  requireEnrolled();
  std::int64_t start = 0;
  if (day.empty()) {
    start = floorDay(m_clock.nowMs() + m_hlc.offset());
  } else {
    const auto parsed = day.size() == 10 ? sync::parseRfc3339(std::string(day) + "T00:00:00Z") : std::nullopt;
    if (!parsed) throw std::invalid_argument("date: \"" + std::string(day) + "\" is not a day (YYYY-MM-DD)");
    start = *parsed;
  }
  std::vector<std::pair<std::int64_t, VisitView>> found;
  for (const auto& [patient, visitId] : m_store.visitsOf(m_userId)) {
    const auto at = sync::parseRfc3339(fieldText(patient, "visit", visitId, "scheduled_start"));
    if (!at || *at < start || *at >= start + kDayMs) continue;
    found.emplace_back(*at, visit(visitId));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.visit.id() < b.second.visit.id();
  });
  std::vector<VisitView> result;
  for (auto& [at, view] : found) result.push_back(std::move(view));
  return result;
}

VisitView Device::startVisit(std::string_view visitId) {
  const VisitView current = visit(visitId);
  const auto status = current.visit.status();
  if (status == domain::Visit::IN_PROGRESS) {
    throw std::invalid_argument("visit.status: visit " + std::string(visitId) + " was already started at " +
                                current.visit.started_at());
  }
  if (status == domain::Visit::DONE || status == domain::Visit::CANCELLED) {
    throw std::invalid_argument("visit.status: visit " + std::string(visitId) + " is " +
                                domain::Visit::Status_Name(status) + "; it cannot be started");
  }
  const std::string& patient = current.visit.patient_id();
  Rollback rollback(m_counter, m_hlc);
  std::vector<sync::Operation> ops;
  ops.push_back(newFieldWrite(patient, "visit", visitId, "status", "IN_PROGRESS"));
  ops.push_back(newFieldWrite(patient, "visit", visitId, "started_at", ops.front().recorded_at()));
  recordAll(ops);
  rollback.done();
  return visit(visitId);
}

VisitView Device::endVisit(std::string_view visitId) {
  const VisitView current = visit(visitId);
  if (current.visit.status() != domain::Visit::IN_PROGRESS) {
    throw std::invalid_argument("visit.status: visit " + std::string(visitId) + " was not started (status " +
                                domain::Visit::Status_Name(current.visit.status()) + "); start it before ending it");
  }
  const std::string& patient = current.visit.patient_id();
  Rollback rollback(m_counter, m_hlc);
  std::vector<sync::Operation> ops;
  ops.push_back(newFieldWrite(patient, "visit", visitId, "status", "DONE"));
  ops.push_back(newFieldWrite(patient, "visit", visitId, "ended_at", ops.front().recorded_at()));
  recordAll(ops);
  rollback.done();
  return visit(visitId);
}

domain::TaskOutcome Device::recordTaskOutcome(std::string_view visitId, std::string_view activityId,
                                              domain::TaskOutcome::Outcome outcome, std::string_view reason) {
  const std::string patient = requireVisitPatient(visitId, "task_outcome.visit_id");
  requireText("task_outcome.activity_id", activityId, sync::kMaxIdBytes);
  const auto activities = m_store.entityIds(patient, "care_plan_activity");
  if (std::find(activities.begin(), activities.end(), activityId) == activities.end()) {
    throw std::invalid_argument("task_outcome.activity_id: no activity " + std::string(activityId) +
                                " in the plan of patient " + patient + " on this device");
  }
  if (outcome == domain::TaskOutcome::OUTCOME_UNSPECIFIED || !domain::TaskOutcome::Outcome_IsValid(outcome)) {
    throw std::invalid_argument("task_outcome.outcome: not DONE, NOT_DONE or REFUSED");
  }
  if (outcome != domain::TaskOutcome::DONE && reason.empty()) {
    throw std::invalid_argument("task_outcome.reason: required when " + domain::TaskOutcome::Outcome_Name(outcome));
  }
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newEntry(patient, "task_outcome");
  domain::TaskOutcome& t = *op.mutable_append()->mutable_task_outcome();
  t.set_id(op.id());
  t.set_patient_id(patient);
  t.set_visit_id(std::string(visitId));
  t.set_activity_id(std::string(activityId));
  t.set_author_id(m_userId);
  t.set_outcome(outcome);
  t.set_reason(std::string(reason));
  t.set_recorded_at(op.recorded_at());
  record(op);
  rollback.done();
  return t;
}

VitalSignsRecord Device::recordVitalSigns(std::string_view visitId, const VitalSigns& vitals) {
  const std::string patient = requireVisitPatient(visitId, "vital_signs.visit_id");
  const bool scale2 = fieldText(patient, "care_plan", patient, "spo2_scale_2") == "true";
  VitalSignsRecord result;
  result.news2 = news2(vitals, scale2 ? Spo2Scale::Scale2 : Spo2Scale::Scale1);
  const News2Result& score = result.news2;

  Rollback rollback(m_counter, m_hlc);
  std::vector<sync::Operation> ops;
  ops.push_back(newEntry(patient, "vital_signs"));
  domain::VitalSigns& v = *ops.back().mutable_append()->mutable_vital_signs();
  v.set_id(ops.back().id());
  v.set_patient_id(patient);
  v.set_visit_id(std::string(visitId));
  v.set_author_id(m_userId);
  v.set_observed_at(ops.back().recorded_at());
  if (vitals.respiratoryRate) v.set_respiratory_rate(*vitals.respiratoryRate);
  if (vitals.spo2) v.set_spo2(*vitals.spo2);
  if (vitals.onOxygen) v.set_on_oxygen(*vitals.onOxygen);
  v.set_spo2_scale_2(scale2);
  if (vitals.systolicBp) v.set_systolic_bp(*vitals.systolicBp);
  if (vitals.pulse) v.set_pulse(*vitals.pulse);
  if (vitals.consciousness) v.set_consciousness(toDomain(*vitals.consciousness));
  if (vitals.temperatureC) v.set_temperature_c(*vitals.temperatureC);
  if (score.total) v.set_news2_score(*score.total);
  v.set_news2_risk(toDomain(score.risk));
  v.set_red_parameter(score.redParameter);
  result.vitals = v;

  if (score.escalate) {
    std::string text = "Urgent: NEWS2 ";
    if (score.total) {
      text += std::to_string(*score.total) + " (" + std::string(riskName(score.risk)) + " risk" +
              (score.redParameter ? "; a parameter scored 3)" : ")");
    } else {
      std::string missing;
      for (const auto name : score.missing) missing += (missing.empty() ? "" : ", ") + std::string(name);
      text += "incomplete (missing " + missing + ") but already calls for a response" +
              (score.redParameter ? " (a parameter scored 3)" : "");
    }
    const std::string name = fieldText(patient, "patient", patient, "name");
    text += " for " + (name.empty() ? patient : name + " (" + patient + ")") + " at visit " + std::string(visitId) +
            ". Scored: " + scoredParameters(vitals, score.scores) + ". Please assess.";
    ops.push_back(newEntry(patient, "message"));
    domain::Message& m = *ops.back().mutable_append()->mutable_message();
    m.set_id(ops.back().id());
    m.set_patient_id(patient);
    m.set_author_id(m_userId);
    m.set_text(text);
    m.set_urgent(true);
    m.set_sent_at(ops.back().recorded_at());
    *m.mutable_vital_signs() = result.vitals;
    result.escalation = m;
  }
  recordAll(ops);
  rollback.done();
  return result;
}

domain::MedicationAdministration Device::recordMedication(std::string_view visitId, std::string_view medicationId,
                                                          bool given, std::string_view reason) {
  const std::string patient = requireVisitPatient(visitId, "medication_administration.visit_id");
  requireText("medication_administration.medication_id", medicationId, sync::kMaxIdBytes);
  const auto name = m_store.field(patient, "medication", medicationId, "name");
  const auto dose = m_store.field(patient, "medication", medicationId, "dose");
  if (!name && !dose) {
    throw std::invalid_argument("medication_administration.medication_id: no medication " + std::string(medicationId) +
                                " in the plan of patient " + patient + " on this device");
  }
  if (!given && reason.empty())
    throw std::invalid_argument("medication_administration.reason: required when not given");
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newEntry(patient, "medication_administration");
  domain::MedicationAdministration& m = *op.mutable_append()->mutable_medication_administration();
  m.set_id(op.id());
  m.set_patient_id(patient);
  m.set_visit_id(std::string(visitId));
  m.set_medication_id(std::string(medicationId));
  m.set_author_id(m_userId);
  m.set_given(given);
  m.set_dose(dose ? dose->value : std::string());
  m.set_reason(std::string(reason));
  m.set_administered_at(op.recorded_at());
  record(op);
  rollback.done();
  return m;
}

domain::ProposedChange Device::proposeChange(std::string_view patientId, std::string_view entityType,
                                             std::string_view entityId, std::string_view field, std::string_view value,
                                             std::string_view reason) {
  requireText("proposed_change.patient_id", patientId, sync::kMaxIdBytes);
  requireText("proposed_change.entity_type", entityType, sync::kMaxIdBytes);
  requireText("proposed_change.entity_id", entityId, sync::kMaxIdBytes);
  requireText("proposed_change.field", field, sync::kMaxIdBytes);
  requireText("proposed_change.reason", reason, sync::kMaxTextBytes);
  const auto current = m_store.field(patientId, entityType, entityId, field);
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newEntry(patientId, "proposed_change");
  domain::ProposedChange& c = *op.mutable_append()->mutable_proposed_change();
  c.set_id(op.id());
  c.set_patient_id(std::string(patientId));
  c.set_author_id(m_userId);
  c.set_entity_type(std::string(entityType));
  c.set_entity_id(std::string(entityId));
  c.set_field(std::string(field));
  c.set_proposed_value(std::string(value));
  c.set_reason(std::string(reason));
  c.set_base_hlc(current ? current->hlc : 0);
  c.set_base_operation_id(current ? current->opId : std::string());
  c.set_proposed_at(op.recorded_at());
  record(op);
  rollback.done();
  return c;
}

domain::Message Device::sendMessage(std::string_view patientId, std::string_view text, std::string_view recipientId,
                                    std::string_view inReplyTo) {
  requireText("message.patient_id", patientId, sync::kMaxIdBytes);
  requireText("message.text", text, sync::kMaxTextBytes);
  if (recipientId.size() > sync::kMaxIdBytes) throw std::invalid_argument("message.recipient_id: too long");
  if (!inReplyTo.empty()) {
    const auto original = m_store.entry(inReplyTo);
    if (!original || original->kind != "message" || original->patientId != patientId) {
      throw std::invalid_argument("message.in_reply_to: no message " + std::string(inReplyTo) + " about patient " +
                                  std::string(patientId) + " on this device");
    }
  }
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = newEntry(patientId, "message");
  domain::Message& m = *op.mutable_append()->mutable_message();
  m.set_id(op.id());
  m.set_patient_id(std::string(patientId));
  m.set_author_id(m_userId);
  m.set_recipient_id(std::string(recipientId));
  m.set_text(std::string(text));
  m.set_sent_at(op.recorded_at());
  m.set_in_reply_to(std::string(inReplyTo));
  record(op);
  rollback.done();
  return m;
}

std::vector<domain::Message> Device::messages(std::string_view patientId) {
  std::vector<domain::Message> result;
  for (auto& e : m_store.entries(patientId, "message")) result.push_back(e.entry.message());
  return result;
}

void Device::setHistoryWindowDays(int days) {
  if (days < 1 || days > 3650) {
    throw std::invalid_argument("history_window_days: " + std::to_string(days) + " is outside 1-3650");
  }
  m_store.inTransaction([&] { m_store.setMeta("history_window_days", std::to_string(days)); });
}

int Device::historyWindowDays() {
  const auto days = metaNumber(m_store, "history_window_days");
  return days == 0 ? kDefaultHistoryWindowDays : static_cast<int>(days);
}

History Device::history(std::string_view patientId) {
  requireText("patient_id", patientId, sync::kMaxIdBytes);
  History h;
  h.patientId = std::string(patientId);
  h.windowDays = historyWindowDays();
  h.summarised = m_store.historySummary(patientId);
  h.summarisedNews2 = m_store.summarisedNews2(patientId);
  h.recent = m_store.entries(patientId);
  return h;
}

std::vector<api::TimelineEntry> Device::fetchHistory(Transport& transport, std::string_view patientId) {
  requireText("patient_id", patientId, sync::kMaxIdBytes);
  if (m_wiped) throw DeviceWiped();
  if (const auto token = m_store.meta("device_token")) transport.setToken(*token);
  const api::Timeline timeline = transport.timeline(std::string(patientId));
  std::vector<api::TimelineEntry> result;
  for (const auto& entry : timeline.entries()) {
    if (!m_store.hasOperation(entry.operation_id())) result.push_back(entry);
  }
  // The server lists its log in arrival order; an entry synced late was
  // still written when its author says.
  std::stable_sort(result.begin(), result.end(), [](const api::TimelineEntry& a, const api::TimelineEntry& b) {
    return a.recorded_at() < b.recorded_at();
  });
  return result;
}

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
    m_epoch.clear();
    m_hlc = sync::HybridClock();
    return report;
  }
  if (report.ok) {
    // The window is measured on the server's clock, the one entries' clocks
    // are corrected to: a tablet whose own clock runs weeks ahead must not
    // take this morning's entries for old ones.
    const std::int64_t now = report.serverTimeMs > 0 ? report.serverTimeMs : m_clock.nowMs() + m_hlc.offset();
    const std::int64_t cutoff = std::max<std::int64_t>(now - historyWindowDays() * kDayMs, 0);
    report.summarised = m_store.summariseBefore(sync::makeHlc(cutoff, 0), floorDay(now));
  }
  return report;
}

SyncStatus Device::status() {
  SyncStatus status;
  status.deviceId = m_deviceId;
  status.userId = m_userId;
  status.pending = m_store.outboxSize();
  status.rejected = m_store.rejectedCount();
  status.cursor = m_store.cursor();
  status.lastSuccess = m_store.meta("last_sync_ok").value_or("");
  status.failedSyncs = static_cast<int>(metaNumber(m_store, "sync_failures"));
  // After a failed run, why it failed; otherwise what still waits for a
  // person: the refused operations (as of now, not of the last run).
  status.lastError =
      status.failedSyncs > 0 ? m_store.meta("last_sync_error").value_or("") : SyncClient::rejectedSummary(m_store);
  status.heldPatients = m_store.heldPatients().size();
  status.wipedAt = m_store.wipedAt().value_or("");
  return status;
}

void Device::discardRejected(std::string_view operationId) {
  if (m_wiped) throw DeviceWiped();
  const std::string at = sync::formatRfc3339(m_clock.nowMs());
  const bool found = m_store.inTransaction([&] { return m_store.discardRejected(operationId, m_userId, at); });
  if (!found) {
    throw std::invalid_argument("operation_id: no rejected operation " + std::string(operationId) + " on this device");
  }
}

sync::Operation Device::retryRejected(std::string_view operationId) {
  if (m_wiped) throw DeviceWiped();
  const auto found = m_store.rejectedOperation(operationId);
  if (!found) {
    throw std::invalid_argument("operation_id: no rejected operation " + std::string(operationId) + " on this device");
  }
  requireEnrolled();
  // The same change under a new id: the server stored nothing under the old
  // one, and a refusal for an id already used would only come again. An
  // entry's id is its operation's, so it moves with it. The author, the
  // clock and the author's time stay: it was written then.
  Rollback rollback(m_counter, m_hlc);
  sync::Operation op = found->operation;
  const std::string oldId = op.id();
  op.set_id(sync::makeOperationId(m_deviceId, m_epoch, ++m_counter));
  op.clear_server_seq();
  if (op.entity_id() == oldId) op.set_entity_id(op.id());
  if (op.has_append()) renameEntry(*op.mutable_append(), oldId, op.id());
  auto problem = sync::validateOperation(op);
  if (!problem) problem = sync::checkPolicy(op);
  if (problem) {
    throw std::invalid_argument("operation_id: " + oldId + " cannot be sent again as it is (" + *problem +
                                "); discard it and record the change anew");
  }
  const std::string at = sync::formatRfc3339(m_clock.nowMs());
  m_store.inTransaction([&] {
    m_store.replaceRejected(oldId, op, m_userId, at);
    m_store.setMeta("op_counter", std::to_string(m_counter));
  });
  rollback.done();
  return op;
}

}  // namespace hemma::mobile
