#include "hemma/server/database.hpp"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/RandomStream.h>

#include <stdexcept>
#include <vector>

#include "hemma/server/audit_log.hpp"
#include "hemma/server/entry_projection.hpp"
#include "hemma/server/field_store.hpp"

namespace hemma::server {

using namespace Poco::Data::Keywords;

namespace {

constexpr int kMinSessions = 2;
constexpr int kMaxSessions = 64;

// The unit of work open on this thread (at most one).
thread_local UnitOfWork* t_unitOfWork = nullptr;

}  // namespace

Poco::Data::Session Database::session() {
  if (UnitOfWork* work = UnitOfWork::current(*this)) return work->m_session;
  return m_pool->get();
}

bool Database::inUnitOfWork() const { return UnitOfWork::current(*this) != nullptr; }

UnitOfWork* UnitOfWork::current(const Database& db) {
  return t_unitOfWork && &t_unitOfWork->m_db == &db ? t_unitOfWork : nullptr;
}

UnitOfWork::UnitOfWork(Database& db) : m_db(db), m_session(db.session()) {
  if (t_unitOfWork) throw std::logic_error("unit of work: one is already open on this thread");
  m_session << "BEGIN IMMEDIATE", now;
  m_open = true;
  t_unitOfWork = this;
}

UnitOfWork::~UnitOfWork() { rollback(); }

void UnitOfWork::commit() {
  if (!m_open) throw std::logic_error("unit of work: not open");
  m_session << "COMMIT", now;
  m_open = false;
  t_unitOfWork = nullptr;
  m_onRollback.clear();
}

void UnitOfWork::rollback() noexcept {
  if (!m_open) return;
  m_open = false;
  t_unitOfWork = nullptr;
  try {
    m_session << "ROLLBACK", now;
  } catch (const std::exception&) {
    // A failed statement may have ended the transaction already (SQLite
    // rolls back on some errors); either way nothing of it was stored.
  }
  auto actions = std::move(m_onRollback);
  for (auto& action : actions) {
    try {
      action();
    } catch (const std::exception&) {
      // Best effort: failing to record the attempt must not hide the
      // request's own error, which its answer still reports.
    }
  }
}

Transaction::Transaction(Database& db) : m_session(db.session()), m_own(!db.inUnitOfWork()) {
  if (m_own) m_session.begin();
}

Transaction::~Transaction() {
  if (!m_own || m_done) return;
  try {
    m_session.rollback();
  } catch (const std::exception&) {
    // Nothing of the transaction was stored.
  }
}

void Transaction::commit() {
  m_done = true;
  if (m_own) m_session.commit();
}

Database::Database(const std::string& path) : m_path(path) {
  Poco::Data::SQLite::Connector::registerConnector();
  m_pool =
      std::make_unique<Poco::Data::SessionPool>(Poco::Data::SQLite::Connector::KEY, path, kMinSessions, kMaxSessions);
  migrate();
}

void Database::migrate() {
  Poco::Data::Session s = session();
  // WAL lets pulls read while a push commits; FULL makes an acknowledged
  // operation survive a power cut, not only a crash of the process.
  s << "PRAGMA journal_mode=WAL", now;
  s << "PRAGMA synchronous=FULL", now;
  s << R"sql(
    CREATE TABLE IF NOT EXISTS operations(
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      op_id TEXT NOT NULL UNIQUE,
      patient_id TEXT NOT NULL,
      entity_type TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      author_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      hlc INTEGER NOT NULL,
      recorded_at TEXT NOT NULL,
      received_at TEXT NOT NULL,
      field TEXT,
      body BLOB NOT NULL))sql",
      now;
  s << "CREATE INDEX IF NOT EXISTS operations_by_patient ON operations(patient_id, seq)", now;
  s << "CREATE INDEX IF NOT EXISTS operations_by_field ON operations(patient_id, entity_type, entity_id, field) "
       "WHERE field IS NOT NULL",
      now;
  FieldStore::migrate(s);
  EntryProjection::migrate(s);
  AuditLog::migrate(s);
  s << "CREATE TABLE IF NOT EXISTS settings(name TEXT PRIMARY KEY, value TEXT NOT NULL)", now;
}

std::string Database::generatedSecret(const std::string& name) {
  Poco::Data::Session s = session();
  std::string key = name;
  std::vector<std::string> values;
  s << "SELECT value FROM settings WHERE name = ?", into(values), use(key), now;
  if (!values.empty()) return values.front();
  unsigned char bytes[32];
  Poco::RandomInputStream random;
  random.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  static const char* const kHex = "0123456789abcdef";
  std::string secret;
  for (unsigned char b : bytes) {
    secret += kHex[b >> 4];
    secret += kHex[b & 15];
  }
  s << "INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO NOTHING", use(key), use(secret), now;
  values.clear();
  s << "SELECT value FROM settings WHERE name = ?", into(values), use(key), now;
  return values.front();
}

}  // namespace hemma::server
