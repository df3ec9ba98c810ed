#include "hemma/mobile/device_store.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "hemma/sync/merge_rules.hpp"
#include "hemma/sync/message_checks.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::mobile {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operations(
  id TEXT PRIMARY KEY,
  server_seq INTEGER,
  hlc INTEGER NOT NULL,
  patient_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  field TEXT,
  body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS operations_by_field ON operations(patient_id, entity_type, entity_id, field)
  WHERE field IS NOT NULL;
CREATE TABLE IF NOT EXISTS field_values(
  patient_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  hlc INTEGER NOT NULL,
  op_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  merged INTEGER NOT NULL,
  PRIMARY KEY(patient_id, entity_type, entity_id, field)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conflicts(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  field TEXT NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS conflicts_by_field ON conflicts(patient_id, entity_type, entity_id, field);
CREATE TABLE IF NOT EXISTS resolutions(
  conflict_id TEXT PRIMARY KEY,
  op_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS set_adds(
  add_op_id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  set_name TEXT NOT NULL,
  element TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS set_adds_by_set ON set_adds(patient_id, entity_type, entity_id, set_name, element);
CREATE TABLE IF NOT EXISTS set_removed_adds(
  add_op_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS outbox(
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  op_id TEXT NOT NULL UNIQUE);
-- Local operations the server refused: with its code
-- (sync.OperationRejection.Code), reason and when (device time, RFC 3339).
CREATE TABLE IF NOT EXISTS rejected(
  op_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  code INTEGER NOT NULL DEFAULT 0,
  rejected_at TEXT NOT NULL DEFAULT '');
-- Refused operations a person settled: discarded (the operation is kept
-- here and never sent) or sent again under a new id (replaced_by). Only a
-- wipe deletes these rows; a purge of the patient drops the body alone.
CREATE TABLE IF NOT EXISTS settled_rejections(
  op_id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  code INTEGER NOT NULL,
  reason TEXT NOT NULL,
  rejected_at TEXT NOT NULL,
  action TEXT NOT NULL,
  replaced_by TEXT NOT NULL,
  settled_by TEXT NOT NULL,
  settled_at TEXT NOT NULL,
  body BLOB);
CREATE TABLE IF NOT EXISTS notes(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  hlc INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_patient ON notes(patient_id, hlc);
CREATE TABLE IF NOT EXISTS held_patients(
  patient_id TEXT PRIMARY KEY) WITHOUT ROWID;
-- Every append entry the device shows (notes too), by kind (the entity
-- type): what the visit's lists, messages and history are queries on.
-- op_id: the operation that carries it. ref_id: the activity (task_outcome),
-- medication (medication_administration) or message replied to (message).
CREATE TABLE IF NOT EXISTS entries(
  id TEXT PRIMARY KEY,
  op_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  visit_id TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  at TEXT NOT NULL,
  hlc INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_patient ON entries(patient_id, kind, hlc);
CREATE INDEX IF NOT EXISTS entries_by_visit ON entries(visit_id, kind, ref_id, hlc);
CREATE INDEX IF NOT EXISTS entries_by_hlc ON entries(hlc);
-- What the device no longer holds in full of entries older than its history
-- window: per patient and kind, how many, the oldest and newest time.
CREATE TABLE IF NOT EXISTS history_summary(
  patient_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  count INTEGER NOT NULL,
  oldest TEXT NOT NULL,
  newest TEXT NOT NULL,
  PRIMARY KEY(patient_id, kind)) WITHOUT ROWID;
-- The newest summarised vital signs that had a NEWS2, per patient.
CREATE TABLE IF NOT EXISTS history_news2(
  patient_id TEXT PRIMARY KEY,
  hlc INTEGER NOT NULL,
  body BLOB NOT NULL) WITHOUT ROWID;
-- Ids of summarised entries, so a page that brings one again does not count
-- or store it twice.
CREATE TABLE IF NOT EXISTS summarised_entries(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL) WITHOUT ROWID;
)sql";

// Every table, for a wipe.
constexpr const char* kTables[] = {"meta",
                                   "operations",
                                   "field_values",
                                   "conflicts",
                                   "resolutions",
                                   "set_adds",
                                   "set_removed_adds",
                                   "outbox",
                                   "rejected",
                                   "notes",
                                   "held_patients",
                                   "entries",
                                   "history_summary",
                                   "history_news2",
                                   "summarised_entries",
                                   "settled_rejections"};

std::string serialize(const google::protobuf::MessageLite& message) {
  std::string bytes;
  message.SerializeToString(&bytes);
  return bytes;
}

// A row an older build stored with invalid UTF-8 is read with it escaped
// (sync::parseStored): no stored row may make a read fail.
template <typename Message>
Message parse(const std::string& bytes, std::string_view what) {
  Message message;
  if (!sync::parseStored(message, bytes)) throw StoreError("corrupt " + std::string(what) + " in the device store");
  return message;
}

// What the entries table indexes of an append entry.
struct EntryIndex {
  std::string id;
  std::string visitId;
  std::string refId;
  std::string authorId;
  std::string at;
};

EntryIndex indexOf(const sync::AppendEntry& entry) {
  switch (entry.entry_case()) {
    case sync::AppendEntry::kNote: {
      const auto& e = entry.note();
      return {e.id(), e.visit_id(), e.amends_note_id(), e.author_id(), e.written_at()};
    }
    case sync::AppendEntry::kObservation: {
      const auto& e = entry.observation();
      return {e.id(), e.visit_id(), e.amends_observation_id(), e.author_id(), e.observed_at()};
    }
    case sync::AppendEntry::kVitalSigns: {
      const auto& e = entry.vital_signs();
      return {e.id(), e.visit_id(), e.amends_vital_signs_id(), e.author_id(), e.observed_at()};
    }
    case sync::AppendEntry::kTaskOutcome: {
      const auto& e = entry.task_outcome();
      return {e.id(), e.visit_id(), e.activity_id(), e.author_id(), e.recorded_at()};
    }
    case sync::AppendEntry::kMedicationAdministration: {
      const auto& e = entry.medication_administration();
      return {e.id(), e.visit_id(), e.medication_id(), e.author_id(), e.administered_at()};
    }
    case sync::AppendEntry::kMessage: {
      const auto& e = entry.message();
      return {e.id(), "", e.in_reply_to(), e.author_id(), e.sent_at()};
    }
    case sync::AppendEntry::kProposedChange: {
      const auto& e = entry.proposed_change();
      return {e.id(), "", e.entity_id(), e.author_id(), e.proposed_at()};
    }
    case sync::AppendEntry::ENTRY_NOT_SET:
      break;
  }
  return {};
}

constexpr const char* kEntryColumns = "id, patient_id, kind, visit_id, ref_id, author_id, at, hlc, body";

bool hasColumn(SqliteDb& db, std::string_view table, std::string_view column) {
  auto q = db.query("SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  q.bind(1, table).bind(2, column);
  return q.step();
}

sync::OperationRejection::Code rejectionCode(std::int64_t value) {
  return sync::OperationRejection::Code_IsValid(static_cast<int>(value))
             ? static_cast<sync::OperationRejection::Code>(value)
             : sync::OperationRejection::CODE_UNSPECIFIED;
}

StoredEntry readEntry(const Query& q) {
  return {q.text(0),
          q.text(1),
          q.text(2),
          q.text(3),
          q.text(4),
          q.text(5),
          q.text(6),
          static_cast<std::uint64_t>(q.int64(7)),
          parse<sync::AppendEntry>(q.text(8), "entry")};
}

}  // namespace

DeviceStore::DeviceStore(const std::string& path) : m_db(path) {
  // A clinician's note must survive a power cut once the app says it is saved.
  // secure_delete: a purged patient's or a wiped device's data is
  // overwritten, not only unlinked.
  m_db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;");
  m_db.exec(kSchema);
  // Databases from before refusals kept their code and time: theirs read
  // as CODE_UNSPECIFIED and "".
  if (!hasColumn(m_db, "rejected", "code")) {
    m_db.exec(
        "ALTER TABLE rejected ADD COLUMN code INTEGER NOT NULL DEFAULT 0; "
        "ALTER TABLE rejected ADD COLUMN rejected_at TEXT NOT NULL DEFAULT ''");
  }
}

std::optional<std::string> DeviceStore::meta(std::string_view key) {
  auto q = m_db.query("SELECT value FROM meta WHERE key = ?");
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

void DeviceStore::setMeta(std::string_view key, std::string_view value) {
  m_db.query("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .bind(1, key)
      .bind(2, value)
      .run();
}

void DeviceStore::eraseMeta(std::string_view key) { m_db.query("DELETE FROM meta WHERE key = ?").bind(1, key).run(); }

bool DeviceStore::storeOperation(const sync::Operation& op, bool local) {
  if (!local && op.has_append()) {
    // Summarised already (older than the history window): not kept again.
    auto q = m_db.query("SELECT 1 FROM summarised_entries WHERE id = ?");
    q.bind(1, op.entity_id());
    if (q.step()) return false;
  }
  auto q = m_db.query(
      "INSERT INTO operations(id, server_seq, hlc, patient_id, entity_type, entity_id, field, body) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING");
  q.bind(1, op.id());
  if (op.server_seq() == 0) {
    q.bindNull(2);
  } else {
    q.bind(2, static_cast<std::int64_t>(op.server_seq()));
  }
  q.bind(3, static_cast<std::int64_t>(op.hlc()))
      .bind(4, op.patient_id())
      .bind(5, op.entity_type())
      .bind(6, op.entity_id());
  if (op.has_write()) {
    q.bind(7, op.write().field());
  } else {
    q.bindNull(7);
  }
  q.bindBlob(8, serialize(op)).run();
  if (m_db.changes() == 0) {
    if (local) throw StoreError("operation " + op.id() + " is already stored");
    return false;  // Known already: our own operation coming back, or a page seen twice.
  }
  materialise(op);
  return true;
}

void DeviceStore::materialise(const sync::Operation& op) {
  switch (op.change_case()) {
    case sync::Operation::kAppend:
      materialiseEntry(op);
      if (op.append().has_note()) {
        const auto& note = op.append().note();
        m_db.query("INSERT INTO notes(id, patient_id, hlc, body) VALUES(?, ?, ?, ?) ON CONFLICT(id) DO NOTHING")
            .bind(1, note.id())
            .bind(2, note.patient_id())
            .bind(3, static_cast<std::int64_t>(op.hlc()))
            .bindBlob(4, serialize(note))
            .run();
      }
      return;
    case sync::Operation::kWrite:
      materialiseWrite(op);
      return;
    case sync::Operation::kSetAdd:
      m_db.query(
              "INSERT INTO set_adds(add_op_id, patient_id, entity_type, entity_id, set_name, element) "
              "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(add_op_id) DO NOTHING")
          .bind(1, op.id())
          .bind(2, op.patient_id())
          .bind(3, op.entity_type())
          .bind(4, op.entity_id())
          .bind(5, op.set_add().set())
          .bind(6, op.set_add().element())
          .run();
      return;
    case sync::Operation::kSetRemove:
      for (const auto& addId : op.set_remove().observed_add_ids()) {
        m_db.query("INSERT INTO set_removed_adds(add_op_id) VALUES(?) ON CONFLICT DO NOTHING").bind(1, addId).run();
      }
      return;
    case sync::Operation::CHANGE_NOT_SET:
      return;
  }
}

void DeviceStore::materialiseEntry(const sync::Operation& op) {
  const EntryIndex index = indexOf(op.append());
  if (index.id.empty()) return;
  m_db.query(
          "INSERT INTO entries(id, op_id, patient_id, kind, visit_id, ref_id, author_id, at, hlc, body) "
          "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING")
      .bind(1, index.id)
      .bind(2, op.id())
      .bind(3, op.patient_id())
      .bind(4, op.entity_type())
      .bind(5, index.visitId)
      .bind(6, index.refId)
      .bind(7, index.authorId)
      .bind(8, index.at)
      .bind(9, static_cast<std::int64_t>(op.hlc()))
      .bindBlob(10, serialize(op.append()))
      .run();
}

void DeviceStore::materialiseWrite(const sync::Operation& op, bool recordResolution) {
  const auto& write = op.write();
  const auto policy = sync::policyFor(op.entity_type(), write.field());
  if (!policy || (*policy != sync::MergePolicy::LastWriterWins && *policy != sync::MergePolicy::ReviewOnConflict)) {
    return;  // The server refuses such operations; nothing to show.
  }
  if (recordResolution && !write.resolves_conflict_id().empty()) {
    m_db.query("INSERT INTO resolutions(conflict_id, op_id) VALUES(?, ?) ON CONFLICT DO NOTHING")
        .bind(1, write.resolves_conflict_id())
        .bind(2, op.id())
        .run();
  }

  // Rebuild the field from all its writes: few per field, and the result
  // then depends only on which writes are here, not on their arrival order.
  sync::FieldLocation location{op.patient_id(), op.entity_type(), op.entity_id(), write.field()};
  sync::FieldHistory history(location, *policy);
  {
    // Writes the server refused are not part of the record: they show in
    // the rejected list only.
    auto q = m_db.query(
        "SELECT body FROM operations WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ? "
        "AND id NOT IN (SELECT op_id FROM rejected)");
    q.bind(1, location.patientId).bind(2, location.entityType).bind(3, location.entityId).bind(4, location.field);
    while (q.step()) {
      const auto stored = parse<sync::Operation>(q.text(0), "operation");
      history.insert(sync::writeVersionOf(stored));
    }
  }

  m_db.query("DELETE FROM conflicts WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ?")
      .bind(1, location.patientId)
      .bind(2, location.entityType)
      .bind(3, location.entityId)
      .bind(4, location.field)
      .run();
  bool merged = false;
  for (const auto& [id, record] : history.conflicts()) {
    sync::Conflict conflict = sync::toMessage(record);
    auto q = m_db.query("SELECT op_id FROM resolutions WHERE conflict_id = ?");
    q.bind(1, id);
    if (q.step()) {
      conflict.set_resolved_by_operation_id(q.text(0));
    } else {
      merged = true;
    }
    m_db.query("INSERT INTO conflicts(id, patient_id, entity_type, entity_id, field, body) VALUES(?, ?, ?, ?, ?, ?)")
        .bind(1, id)
        .bind(2, location.patientId)
        .bind(3, location.entityType)
        .bind(4, location.entityId)
        .bind(5, location.field)
        .bindBlob(6, serialize(conflict))
        .run();
  }

  if (!history.winner()) {
    m_db.query("DELETE FROM field_values WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ?")
        .bind(1, location.patientId)
        .bind(2, location.entityType)
        .bind(3, location.entityId)
        .bind(4, location.field)
        .run();
    return;
  }
  const sync::WriteVersion& winner = *history.winner();
  m_db.query(
          "INSERT INTO field_values(patient_id, entity_type, entity_id, field, value, hlc, op_id, author_id, merged) "
          "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(patient_id, entity_type, entity_id, field) DO UPDATE SET "
          "value = excluded.value, hlc = excluded.hlc, op_id = excluded.op_id, author_id = excluded.author_id, "
          "merged = excluded.merged")
      .bind(1, location.patientId)
      .bind(2, location.entityType)
      .bind(3, location.entityId)
      .bind(4, location.field)
      .bind(5, winner.value)
      .bind(6, static_cast<std::int64_t>(winner.hlc))
      .bind(7, winner.opId)
      .bind(8, winner.authorId)
      .bind(9, std::int64_t{merged ? 1 : 0})
      .run();

  // A resolution may name a conflict of another field's history that is
  // already stored: mark it too.
  if (!write.resolves_conflict_id().empty()) {
    auto q = m_db.query("SELECT patient_id, entity_type, entity_id, field FROM conflicts WHERE id = ?");
    q.bind(1, write.resolves_conflict_id());
    if (q.step()) {
      const sync::FieldLocation other{q.text(0), q.text(1), q.text(2), q.text(3)};
      if (other.field != location.field || other.entityId != location.entityId ||
          other.entityType != location.entityType || other.patientId != location.patientId) {
        refreshMergedFlag(other);
      }
    }
  }
}

void DeviceStore::refreshMergedFlag(const sync::FieldLocation& location) {
  std::int64_t open = 0;
  {
    auto q = m_db.query(
        "SELECT c.body, r.op_id FROM conflicts c LEFT JOIN resolutions r ON r.conflict_id = c.id "
        "WHERE c.patient_id = ? AND c.entity_type = ? AND c.entity_id = ? AND c.field = ?");
    q.bind(1, location.patientId).bind(2, location.entityType).bind(3, location.entityId).bind(4, location.field);
    std::vector<sync::Conflict> updated;
    while (q.step()) {
      auto conflict = parse<sync::Conflict>(q.text(0), "conflict");
      if (q.isNull(1)) {
        ++open;
      } else if (conflict.resolved_by_operation_id().empty()) {
        conflict.set_resolved_by_operation_id(q.text(1));
        updated.push_back(conflict);
      }
    }
    for (const auto& conflict : updated) {
      m_db.query("UPDATE conflicts SET body = ? WHERE id = ?")
          .bindBlob(1, serialize(conflict))
          .bind(2, conflict.id())
          .run();
    }
  }
  m_db.query(
          "UPDATE field_values SET merged = ? WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ?")
      .bind(1, std::int64_t{open > 0 ? 1 : 0})
      .bind(2, location.patientId)
      .bind(3, location.entityType)
      .bind(4, location.entityId)
      .bind(5, location.field)
      .run();
}

std::optional<FieldValue> DeviceStore::field(std::string_view patientId, std::string_view entityType,
                                             std::string_view entityId, std::string_view field) {
  auto q = m_db.query(
      "SELECT value, hlc, op_id, author_id, merged FROM field_values "
      "WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ?");
  q.bind(1, patientId).bind(2, entityType).bind(3, entityId).bind(4, field);
  if (!q.step()) return std::nullopt;
  return FieldValue{std::string(patientId),
                    std::string(entityType),
                    std::string(entityId),
                    std::string(field),
                    q.text(0),
                    static_cast<std::uint64_t>(q.int64(1)),
                    q.text(2),
                    q.text(3),
                    q.int64(4) != 0};
}

std::vector<FieldValue> DeviceStore::fields(std::string_view patientId) {
  std::vector<FieldValue> result;
  auto q = patientId.empty()
               ? m_db.query(
                     "SELECT patient_id, entity_type, entity_id, field, value, hlc, op_id, author_id, merged "
                     "FROM field_values ORDER BY patient_id, entity_type, entity_id, field")
               : m_db.query(
                     "SELECT patient_id, entity_type, entity_id, field, value, hlc, op_id, author_id, merged "
                     "FROM field_values WHERE patient_id = ? ORDER BY patient_id, entity_type, entity_id, field");
  if (!patientId.empty()) q.bind(1, patientId);
  while (q.step()) {
    result.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), static_cast<std::uint64_t>(q.int64(5)),
                      q.text(6), q.text(7), q.int64(8) != 0});
  }
  return result;
}

std::vector<sync::Conflict> DeviceStore::conflicts(std::string_view patientId) {
  std::vector<sync::Conflict> result;
  auto q = patientId.empty() ? m_db.query("SELECT body FROM conflicts ORDER BY id")
                             : m_db.query("SELECT body FROM conflicts WHERE patient_id = ? ORDER BY id");
  if (!patientId.empty()) q.bind(1, patientId);
  while (q.step()) result.push_back(parse<sync::Conflict>(q.text(0), "conflict"));
  return result;
}

SetState DeviceStore::set(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                          std::string_view setName) {
  SetState state;
  auto q = m_db.query(
      "SELECT a.element, a.add_op_id FROM set_adds a LEFT JOIN set_removed_adds r ON r.add_op_id = a.add_op_id "
      "WHERE a.patient_id = ? AND a.entity_type = ? AND a.entity_id = ? AND a.set_name = ? AND r.add_op_id IS NULL "
      "ORDER BY a.element, a.add_op_id");
  q.bind(1, patientId).bind(2, entityType).bind(3, entityId).bind(4, setName);
  while (q.step()) {
    std::string element = q.text(0);
    if (state.members.empty() || state.members.back() != element) state.members.push_back(element);
    state.liveAddIds[element].push_back(q.text(1));
  }
  return state;
}

void DeviceStore::recordLocal(const sync::Operation& op) {
  storeOperation(op, true);
  m_db.query("INSERT INTO outbox(op_id) VALUES(?)").bind(1, op.id()).run();
}

std::size_t DeviceStore::applyRemote(const std::vector<sync::Operation>& ops, std::uint64_t cursor) {
  std::size_t added = 0;
  for (const auto& op : ops) added += storeOperation(op, false) ? 1 : 0;
  setMeta("cursor", std::to_string(cursor));
  return added;
}

std::vector<std::string> DeviceStore::heldPatients() {
  std::vector<std::string> result;
  auto q = m_db.query("SELECT patient_id FROM held_patients ORDER BY patient_id");
  while (q.step()) result.push_back(q.text(0));
  return result;
}

void DeviceStore::hold(const std::vector<std::string>& patientIds) {
  auto q = m_db.query("INSERT INTO held_patients(patient_id) VALUES(?) ON CONFLICT DO NOTHING");
  for (const auto& id : patientIds) q.bind(1, id).runAndReset();
}

std::size_t DeviceStore::purgePatient(std::string_view patientId) {
  // The device's own operations still waiting (outbox) or refused (rejected)
  // are kept; everything else of the patient goes, and what the kept ones
  // show is derived again from them alone.
  constexpr const char* kKept = "(SELECT op_id FROM outbox UNION SELECT op_id FROM rejected)";
  std::vector<sync::Operation> kept;
  {
    auto q = m_db.query(std::string("SELECT body FROM operations WHERE patient_id = ? AND id IN ") + kKept +
                        " ORDER BY hlc, id");
    q.bind(1, patientId);
    while (q.step()) kept.push_back(parse<sync::Operation>(q.text(0), "operation"));
  }
  m_db.query("DELETE FROM set_removed_adds WHERE add_op_id IN (SELECT add_op_id FROM set_adds WHERE patient_id = ?)")
      .bind(1, patientId)
      .run();
  m_db.query("DELETE FROM set_adds WHERE patient_id = ?").bind(1, patientId).run();
  m_db.query(
          "DELETE FROM resolutions WHERE conflict_id IN (SELECT id FROM conflicts WHERE patient_id = ?1) "
          "OR op_id IN (SELECT id FROM operations WHERE patient_id = ?1)")
      .bind(1, patientId)
      .run();
  m_db.query("DELETE FROM conflicts WHERE patient_id = ?").bind(1, patientId).run();
  m_db.query("DELETE FROM field_values WHERE patient_id = ?").bind(1, patientId).run();
  m_db.query("DELETE FROM notes WHERE patient_id = ?").bind(1, patientId).run();
  for (const char* table : {"entries", "history_summary", "history_news2", "summarised_entries"}) {
    m_db.query(std::string("DELETE FROM ") + table + " WHERE patient_id = ?").bind(1, patientId).run();
  }
  m_db.query(std::string("DELETE FROM operations WHERE patient_id = ? AND id NOT IN ") + kKept)
      .bind(1, patientId)
      .run();
  const std::size_t purged = static_cast<std::size_t>(m_db.changes());
  // What a person settled stays on record (who, when, why), without the
  // patient's data.
  m_db.query("UPDATE settled_rejections SET body = NULL WHERE patient_id = ?").bind(1, patientId).run();
  m_db.query("DELETE FROM held_patients WHERE patient_id = ?").bind(1, patientId).run();
  for (const auto& op : kept) materialise(op);
  return purged;
}

void DeviceStore::wipe(std::string_view atRfc3339) {
  inTransaction([&] {
    for (const char* table : kTables) m_db.exec(std::string("DELETE FROM ") + table);
    setMeta("wiped", atRfc3339);
  });
  // Nothing of the old pages left in the write-ahead log or the free list.
  m_db.exec("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
}

std::vector<sync::Operation> DeviceStore::outbox(std::size_t limit) {
  std::vector<sync::Operation> ops;
  auto q = m_db.query("SELECT o.body FROM outbox b JOIN operations o ON o.id = b.op_id ORDER BY b.position LIMIT ?");
  q.bind(1, static_cast<std::int64_t>(limit));
  while (q.step()) ops.push_back(parse<sync::Operation>(q.text(0), "operation"));
  return ops;
}

std::size_t DeviceStore::outboxSize() {
  auto q = m_db.query("SELECT count(*) FROM outbox");
  q.step();
  return static_cast<std::size_t>(q.int64(0));
}

void DeviceStore::acknowledge(const std::vector<sync::OperationAck>& acks) {
  inTransaction([&] {
    std::vector<std::uint64_t> seqs;
    seqs.reserve(acks.size());
    {
      auto dequeue = m_db.query("DELETE FROM outbox WHERE op_id = ?");
      for (const auto& ack : acks) dequeue.bind(1, ack.operation_id()).runAndReset();
    }
    {
      auto note = m_db.query("UPDATE operations SET server_seq = ? WHERE id = ?");
      for (const auto& ack : acks) {
        note.bind(1, static_cast<std::int64_t>(ack.server_seq())).bind(2, ack.operation_id()).runAndReset();
        seqs.push_back(ack.server_seq());
      }
    }
    // When the acknowledged operations are the very next ones in the
    // server's log, the device has everything up to the last of them: move
    // the cursor on, so the next pull does not fetch its own writes back.
    std::sort(seqs.begin(), seqs.end());
    std::uint64_t cursor = this->cursor();
    const std::uint64_t before = cursor;
    for (const std::uint64_t seq : seqs) {
      if (seq == cursor + 1) {
        cursor = seq;
      } else if (seq > cursor) {
        break;
      }
    }
    if (cursor != before) setMeta("cursor", std::to_string(cursor));
  });
}

void DeviceStore::reject(const std::vector<sync::OperationRejection>& rejections, std::string_view atRfc3339) {
  inTransaction([&] {
    for (const auto& rejection : rejections) {
      m_db.query("DELETE FROM outbox WHERE op_id = ?").bind(1, rejection.operation_id()).run();
      m_db.query(
              "INSERT INTO rejected(op_id, reason, code, rejected_at) VALUES(?, ?, ?, ?) ON CONFLICT(op_id) DO UPDATE "
              "SET reason = excluded.reason, code = excluded.code, rejected_at = excluded.rejected_at")
          .bind(1, rejection.operation_id())
          .bind(2, rejection.reason())
          .bind(3, static_cast<std::int64_t>(rejection.code()))
          .bind(4, atRfc3339)
          .run();
      // Take the refused change out of what the device shows as the record;
      // it stays readable in the rejected list.
      auto q = m_db.query("SELECT body FROM operations WHERE id = ?");
      q.bind(1, rejection.operation_id());
      if (!q.step()) continue;
      const auto op = parse<sync::Operation>(q.text(0), "operation");
      if (op.has_append()) {
        m_db.query("DELETE FROM notes WHERE id = ?").bind(1, op.entity_id()).run();
        m_db.query("DELETE FROM entries WHERE op_id = ?").bind(1, op.id()).run();
      } else if (op.has_write()) {
        m_db.query("DELETE FROM resolutions WHERE op_id = ?").bind(1, op.id()).run();
        materialiseWrite(op, false);
      }
    }
  });
}

void DeviceStore::restamp(const sync::Operation& op) {
  m_db.query("UPDATE operations SET hlc = ?, body = ? WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(op.hlc()))
      .bindBlob(2, serialize(op))
      .bind(3, op.id())
      .run();
  m_db.query("UPDATE notes SET hlc = ? WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(op.hlc()))
      .bind(2, op.entity_id())
      .run();
  m_db.query("UPDATE entries SET hlc = ? WHERE op_id = ?")
      .bind(1, static_cast<std::int64_t>(op.hlc()))
      .bind(2, op.id())
      .run();
  // A restamped field write may change which write wins.
  if (op.has_write()) materialiseWrite(op);
}

std::vector<RejectedOperation> DeviceStore::rejected() {
  std::vector<RejectedOperation> result;
  auto q = m_db.query(
      "SELECT o.body, r.reason, r.code, r.rejected_at FROM rejected r JOIN operations o ON o.id = r.op_id "
      "ORDER BY o.hlc, o.id");
  while (q.step()) {
    result.push_back({parse<sync::Operation>(q.text(0), "operation"), q.text(1), rejectionCode(q.int64(2)), q.text(3)});
  }
  return result;
}

std::size_t DeviceStore::rejectedCount() {
  auto q = m_db.query("SELECT count(*) FROM rejected r JOIN operations o ON o.id = r.op_id");
  q.step();
  return static_cast<std::size_t>(q.int64(0));
}

std::optional<RejectedOperation> DeviceStore::rejectedOperation(std::string_view opId) {
  auto q = m_db.query(
      "SELECT o.body, r.reason, r.code, r.rejected_at FROM rejected r JOIN operations o ON o.id = r.op_id "
      "WHERE r.op_id = ?");
  q.bind(1, opId);
  if (!q.step()) return std::nullopt;
  return RejectedOperation{parse<sync::Operation>(q.text(0), "operation"), q.text(1), rejectionCode(q.int64(2)),
                           q.text(3)};
}

bool DeviceStore::settleRejected(std::string_view opId, std::string_view action, std::string_view replacedBy,
                                 std::string_view byUserId, std::string_view atRfc3339) {
  const auto found = rejectedOperation(opId);
  if (!found) return false;
  const sync::Operation& op = found->operation;
  m_db.query(
          "INSERT INTO settled_rejections(op_id, patient_id, entity_type, entity_id, code, reason, rejected_at, "
          "action, replaced_by, settled_by, settled_at, body) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, op.id())
      .bind(2, op.patient_id())
      .bind(3, op.entity_type())
      .bind(4, op.entity_id())
      .bind(5, static_cast<std::int64_t>(found->code))
      .bind(6, found->reason)
      .bind(7, found->rejectedAt)
      .bind(8, action)
      .bind(9, replacedBy)
      .bind(10, byUserId)
      .bind(11, atRfc3339)
      .bindBlob(12, serialize(op))
      .run();
  m_db.query("DELETE FROM rejected WHERE op_id = ?").bind(1, op.id()).run();
  m_db.query("DELETE FROM operations WHERE id = ?").bind(1, op.id()).run();
  // Entries and field values left the record when it was refused; what a
  // refused set change still shows goes now.
  if (op.has_set_add()) {
    m_db.query("DELETE FROM set_adds WHERE add_op_id = ?").bind(1, op.id()).run();
  } else if (op.has_set_remove()) {
    // The adds it removed count again, unless another removal still held
    // here removed them too.
    std::vector<std::string> stillRemoved;
    auto q = m_db.query(
        "SELECT body FROM operations WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field IS NULL");
    q.bind(1, op.patient_id()).bind(2, op.entity_type()).bind(3, op.entity_id());
    while (q.step()) {
      const auto other = parse<sync::Operation>(q.text(0), "operation");
      if (!other.has_set_remove()) continue;
      for (const auto& id : other.set_remove().observed_add_ids()) stillRemoved.push_back(id);
    }
    for (const auto& addId : op.set_remove().observed_add_ids()) {
      if (std::find(stillRemoved.begin(), stillRemoved.end(), addId) != stillRemoved.end()) continue;
      m_db.query("DELETE FROM set_removed_adds WHERE add_op_id = ?").bind(1, addId).run();
    }
  }
  return true;
}

bool DeviceStore::discardRejected(std::string_view opId, std::string_view byUserId, std::string_view atRfc3339) {
  return settleRejected(opId, "discarded", "", byUserId, atRfc3339);
}

bool DeviceStore::replaceRejected(std::string_view opId, const sync::Operation& replacement, std::string_view byUserId,
                                  std::string_view atRfc3339) {
  if (!settleRejected(opId, "retried", replacement.id(), byUserId, atRfc3339)) return false;
  recordLocal(replacement);
  return true;
}

std::vector<SettledRejection> DeviceStore::settledRejections() {
  std::vector<SettledRejection> result;
  auto q = m_db.query(
      "SELECT op_id, patient_id, entity_type, entity_id, code, reason, rejected_at, action, replaced_by, settled_by, "
      "settled_at, body FROM settled_rejections ORDER BY settled_at, op_id");
  while (q.step()) {
    SettledRejection row;
    row.operationId = q.text(0);
    row.patientId = q.text(1);
    row.entityType = q.text(2);
    row.entityId = q.text(3);
    row.code = rejectionCode(q.int64(4));
    row.reason = q.text(5);
    row.rejectedAt = q.text(6);
    row.action = q.text(7);
    row.replacedBy = q.text(8);
    row.settledBy = q.text(9);
    row.settledAt = q.text(10);
    if (!q.isNull(11)) row.operation = parse<sync::Operation>(q.text(11), "operation");
    result.push_back(std::move(row));
  }
  return result;
}

std::uint64_t DeviceStore::newestSyncedHlc() {
  auto q = m_db.query("SELECT coalesce(max(hlc), 0) FROM operations WHERE server_seq IS NOT NULL");
  q.step();
  return static_cast<std::uint64_t>(q.int64(0));
}

std::vector<sync::Operation> DeviceStore::outboxAfter(std::uint64_t hlc) {
  std::vector<sync::Operation> ops;
  auto q =
      m_db.query("SELECT o.body FROM outbox b JOIN operations o ON o.id = b.op_id WHERE o.hlc > ? ORDER BY b.position");
  q.bind(1, static_cast<std::int64_t>(hlc));
  while (q.step()) ops.push_back(parse<sync::Operation>(q.text(0), "operation"));
  return ops;
}

std::uint64_t DeviceStore::cursor() {
  const auto value = meta("cursor");
  return value ? std::stoull(*value) : 0;
}

std::vector<domain::VisitNote> DeviceStore::notes(std::string_view patientId) {
  std::vector<domain::VisitNote> result;
  auto q = patientId.empty() ? m_db.query("SELECT body FROM notes ORDER BY hlc, id")
                             : m_db.query("SELECT body FROM notes WHERE patient_id = ? ORDER BY hlc, id");
  if (!patientId.empty()) q.bind(1, patientId);
  while (q.step()) result.push_back(parse<domain::VisitNote>(q.text(0), "note"));
  return result;
}

std::size_t DeviceStore::operationCount() {
  auto q = m_db.query("SELECT count(*) FROM operations");
  q.step();
  return static_cast<std::size_t>(q.int64(0));
}

bool DeviceStore::hasOperation(std::string_view id) {
  auto q = m_db.query("SELECT 1 FROM operations WHERE id = ?");
  q.bind(1, id);
  return q.step();
}

std::vector<StoredEntry> DeviceStore::entries(std::string_view patientId, std::string_view kind) {
  std::vector<StoredEntry> result;
  auto q = m_db.query(std::string("SELECT ") + kEntryColumns +
                      " FROM entries WHERE (?1 = '' OR patient_id = ?1) AND (?2 = '' OR kind = ?2) ORDER BY hlc, id");
  q.bind(1, patientId).bind(2, kind);
  while (q.step()) result.push_back(readEntry(q));
  return result;
}

std::vector<StoredEntry> DeviceStore::visitEntries(std::string_view visitId, std::string_view kind) {
  std::vector<StoredEntry> result;
  auto q = m_db.query(std::string("SELECT ") + kEntryColumns +
                      " FROM entries WHERE visit_id = ? AND kind = ? ORDER BY hlc, id");
  q.bind(1, visitId).bind(2, kind);
  while (q.step()) result.push_back(readEntry(q));
  return result;
}

std::optional<StoredEntry> DeviceStore::entry(std::string_view id) {
  auto q = m_db.query(std::string("SELECT ") + kEntryColumns + " FROM entries WHERE id = ?");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return readEntry(q);
}

std::optional<std::string> DeviceStore::visitPatient(std::string_view visitId) {
  auto q = m_db.query("SELECT patient_id FROM field_values WHERE entity_type = 'visit' AND entity_id = ? LIMIT 1");
  q.bind(1, visitId);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

std::vector<std::string> DeviceStore::entityIds(std::string_view patientId, std::string_view entityType) {
  std::vector<std::string> result;
  auto q = m_db.query(
      "SELECT DISTINCT entity_id FROM field_values WHERE (?1 = '' OR patient_id = ?1) AND entity_type = ?2 "
      "ORDER BY entity_id");
  q.bind(1, patientId).bind(2, entityType);
  while (q.step()) result.push_back(q.text(0));
  return result;
}

std::vector<std::pair<std::string, std::string>> DeviceStore::visitsOf(std::string_view nurseId) {
  std::vector<std::pair<std::string, std::string>> result;
  auto q = m_db.query(
      "SELECT patient_id, entity_id FROM field_values WHERE entity_type = 'visit' AND field = 'nurse_id' "
      "AND value = ? ORDER BY patient_id, entity_id");
  q.bind(1, nurseId);
  while (q.step()) result.emplace_back(q.text(0), q.text(1));
  return result;
}

std::size_t DeviceStore::summariseBefore(std::uint64_t hlc, std::int64_t keepVisitsFromMs) {
  return inTransaction([&] {
    // An entry's clock says when it was recorded only as well as the
    // recording tablet knew the time; the visit it belongs to says whether
    // the nurse may still need it (the checklist, the doses given).
    std::map<std::string, bool> visitOver;
    auto isVisitOver = [&](const StoredEntry& e) {
      const auto known = visitOver.find(e.visitId);
      if (known != visitOver.end()) return known->second;
      const auto status = field(e.patientId, "visit", e.visitId, "status");
      const auto start = field(e.patientId, "visit", e.visitId, "scheduled_start");
      const auto startMs = start ? sync::parseRfc3339(start->value) : std::nullopt;
      const bool over =
          status && (status->value == "DONE" || status->value == "CANCELLED") && startMs && *startMs < keepVisitsFromMs;
      visitOver.emplace(e.visitId, over);
      return over;
    };
    // Entries older than the window whose operation the server has stored
    // (not waiting in the outbox, not refused), of no visit or of one over.
    std::vector<std::pair<StoredEntry, std::string>> old;
    {
      auto q = m_db.query(
          "SELECT e.id, e.patient_id, e.kind, e.visit_id, e.ref_id, e.author_id, e.at, e.hlc, e.body, e.op_id "
          "FROM entries e JOIN operations o ON o.id = e.op_id WHERE e.hlc < ? AND o.server_seq IS NOT NULL "
          "AND e.op_id NOT IN (SELECT op_id FROM outbox UNION SELECT op_id FROM rejected) ORDER BY e.hlc, e.id");
      q.bind(1, static_cast<std::int64_t>(hlc));
      while (q.step()) old.emplace_back(readEntry(q), q.text(9));
    }
    std::erase_if(old, [&](const auto& candidate) {
      const StoredEntry& e = candidate.first;
      return !e.visitId.empty() && !isVisitOver(e);
    });
    for (const auto& [e, opId] : old) {
      m_db.query(
              "INSERT INTO history_summary(patient_id, kind, count, oldest, newest) VALUES(?1, ?2, 1, ?3, ?3) "
              "ON CONFLICT(patient_id, kind) DO UPDATE SET count = count + 1, "
              "oldest = min(oldest, excluded.oldest), newest = max(newest, excluded.newest)")
          .bind(1, e.patientId)
          .bind(2, e.kind)
          .bind(3, e.at)
          .run();
      if (e.entry.has_vital_signs() && e.entry.vital_signs().has_news2_score()) {
        m_db.query(
                "INSERT INTO history_news2(patient_id, hlc, body) VALUES(?, ?, ?) ON CONFLICT(patient_id) DO UPDATE "
                "SET hlc = excluded.hlc, body = excluded.body WHERE excluded.hlc > history_news2.hlc")
            .bind(1, e.patientId)
            .bind(2, static_cast<std::int64_t>(e.hlc))
            .bindBlob(3, serialize(e.entry.vital_signs()))
            .run();
      }
      m_db.query("INSERT INTO summarised_entries(id, patient_id) VALUES(?, ?) ON CONFLICT DO NOTHING")
          .bind(1, e.id)
          .bind(2, e.patientId)
          .run();
      m_db.query("DELETE FROM entries WHERE id = ?").bind(1, e.id).run();
      m_db.query("DELETE FROM notes WHERE id = ?").bind(1, e.id).run();
      m_db.query("DELETE FROM operations WHERE id = ?").bind(1, opId).run();
    }
    return old.size();
  });
}

std::vector<HistorySummaryRow> DeviceStore::historySummary(std::string_view patientId) {
  std::vector<HistorySummaryRow> result;
  auto q = m_db.query("SELECT kind, count, oldest, newest FROM history_summary WHERE patient_id = ? ORDER BY kind");
  q.bind(1, patientId);
  while (q.step()) result.push_back({q.text(0), static_cast<std::size_t>(q.int64(1)), q.text(2), q.text(3)});
  return result;
}

std::optional<domain::VitalSigns> DeviceStore::summarisedNews2(std::string_view patientId) {
  auto q = m_db.query("SELECT body FROM history_news2 WHERE patient_id = ?");
  q.bind(1, patientId);
  if (!q.step()) return std::nullopt;
  return parse<domain::VitalSigns>(q.text(0), "vital signs");
}

}  // namespace hemma::mobile
