#include "hemma/mobile/device_store.hpp"

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
  body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox(
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  op_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS rejected(
  op_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes(
  id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  hlc INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_patient ON notes(patient_id, hlc);
)sql";

std::string serialize(const google::protobuf::MessageLite& message) {
  std::string bytes;
  message.SerializeToString(&bytes);
  return bytes;
}

template <typename Message>
Message parse(const std::string& bytes, std::string_view what) {
  Message message;
  if (!message.ParseFromString(bytes)) throw StoreError("corrupt " + std::string(what) + " in the device store");
  return message;
}

}  // namespace

DeviceStore::DeviceStore(const std::string& path) : m_db(path) {
  // A clinician's note must survive a power cut once the app says it is saved.
  m_db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  m_db.exec(kSchema);
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

bool DeviceStore::storeOperation(const sync::Operation& op, bool local) {
  auto q = m_db.query(
      "INSERT INTO operations(id, server_seq, hlc, patient_id, body) VALUES(?, ?, ?, ?, ?) "
      "ON CONFLICT(id) DO NOTHING");
  q.bind(1, op.id());
  if (op.server_seq() == 0) {
    q.bindNull(2);
  } else {
    q.bind(2, static_cast<std::int64_t>(op.server_seq()));
  }
  q.bind(3, static_cast<std::int64_t>(op.hlc())).bind(4, op.patient_id()).bindBlob(5, serialize(op)).run();
  if (m_db.changes() == 0) {
    if (local) throw StoreError("operation " + op.id() + " is already stored");
    return false;  // Known already: our own operation coming back, or a page seen twice.
  }
  materialise(op);
  return true;
}

void DeviceStore::materialise(const sync::Operation& op) {
  if (op.change_case() == sync::Operation::kAppend && op.append().has_note()) {
    const auto& note = op.append().note();
    m_db.query("INSERT INTO notes(id, patient_id, hlc, body) VALUES(?, ?, ?, ?) ON CONFLICT(id) DO NOTHING")
        .bind(1, note.id())
        .bind(2, note.patient_id())
        .bind(3, static_cast<std::int64_t>(op.hlc()))
        .bindBlob(4, serialize(note))
        .run();
  }
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

std::vector<sync::Operation> DeviceStore::outbox(std::size_t limit) {
  std::vector<sync::Operation> ops;
  auto q = m_db.query(
      "SELECT o.body FROM outbox b JOIN operations o ON o.id = b.op_id ORDER BY b.position LIMIT ?");
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
    for (const auto& ack : acks) {
      m_db.query("DELETE FROM outbox WHERE op_id = ?").bind(1, ack.operation_id()).run();
      m_db.query("UPDATE operations SET server_seq = ? WHERE id = ?")
          .bind(1, static_cast<std::int64_t>(ack.server_seq()))
          .bind(2, ack.operation_id())
          .run();
    }
  });
}

void DeviceStore::reject(const std::vector<sync::OperationRejection>& rejections) {
  inTransaction([&] {
    for (const auto& rejection : rejections) {
      m_db.query("DELETE FROM outbox WHERE op_id = ?").bind(1, rejection.operation_id()).run();
      m_db.query("INSERT INTO rejected(op_id, reason) VALUES(?, ?) ON CONFLICT(op_id) DO UPDATE SET reason = excluded.reason")
          .bind(1, rejection.operation_id())
          .bind(2, rejection.reason())
          .run();
    }
  });
}

void DeviceStore::restamp(const sync::Operation& op) {
  m_db.query("UPDATE operations SET hlc = ?, body = ? WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(op.hlc()))
      .bindBlob(2, serialize(op))
      .bind(3, op.id())
      .run();
  m_db.query("UPDATE notes SET hlc = ? WHERE id = ?").bind(1, static_cast<std::int64_t>(op.hlc())).bind(2, op.entity_id()).run();
}

std::vector<RejectedOperation> DeviceStore::rejected() {
  std::vector<RejectedOperation> result;
  auto q = m_db.query("SELECT o.body, r.reason FROM rejected r JOIN operations o ON o.id = r.op_id ORDER BY o.hlc");
  while (q.step()) result.push_back({parse<sync::Operation>(q.text(0), "operation"), q.text(1)});
  return result;
}

std::uint64_t DeviceStore::newestSyncedHlc() {
  auto q = m_db.query("SELECT coalesce(max(hlc), 0) FROM operations WHERE server_seq IS NOT NULL");
  q.step();
  return static_cast<std::uint64_t>(q.int64(0));
}

std::vector<sync::Operation> DeviceStore::outboxAfter(std::uint64_t hlc) {
  std::vector<sync::Operation> ops;
  auto q = m_db.query(
      "SELECT o.body FROM outbox b JOIN operations o ON o.id = b.op_id WHERE o.hlc > ? ORDER BY b.position");
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

}  // namespace hemma::mobile
