#include "hemma/mobile/sqlite_db.hpp"

namespace hemma::mobile {

Query::~Query() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

Query& Query::bind(int index, std::string_view text) {
  // An empty view may have a null data(), which SQLite would bind as NULL;
  // an empty text is still text.
  const char* data = text.data() ? text.data() : "";
  if (sqlite3_bind_text(m_stmt, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK) {
    m_db.fail("bind");
  }
  return *this;
}

Query& Query::bindBlob(int index, std::string_view bytes) {
  if (sqlite3_bind_blob(m_stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT) != SQLITE_OK) {
    m_db.fail("bind");
  }
  return *this;
}

Query& Query::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(m_stmt, index, value) != SQLITE_OK) m_db.fail("bind");
  return *this;
}

Query& Query::bindNull(int index) {
  if (sqlite3_bind_null(m_stmt, index) != SQLITE_OK) m_db.fail("bind");
  return *this;
}

bool Query::step() {
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  m_db.fail(sqlite3_sql(m_stmt));
}

void Query::run() {
  while (step()) {
  }
}

void Query::runAndReset() {
  run();
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

std::int64_t Query::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }

std::string Query::text(int column) const {
  const void* data = sqlite3_column_blob(m_stmt, column);
  const int size = sqlite3_column_bytes(m_stmt, column);
  return data ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(size)) : std::string();
}

bool Query::isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }

SqliteDb::SqliteDb(const std::string& path) {
  const int rc =
      sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    sqlite3_close(m_db);
    throw StoreError("cannot open " + path + ": " + message);
  }
  sqlite3_busy_timeout(m_db, 5000);
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : m_statements) sqlite3_finalize(stmt);
  sqlite3_close(m_db);
}

void SqliteDb::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw StoreError("sqlite: " + message + " in: " + sql);
  }
}

Query SqliteDb::query(std::string_view sql) {
  auto it = m_statements.find(sql);
  if (it == m_statements.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      fail(sql);
    }
    it = m_statements.emplace(std::string(sql), stmt).first;
  }
  return Query(*this, it->second);
}

void SqliteDb::fail(std::string_view what) const {
  throw StoreError("sqlite: " + std::string(sqlite3_errmsg(m_db)) + " in: " + std::string(what));
}

Transaction::Transaction(SqliteDb& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!m_done) {
    try {
      m_db.exec("ROLLBACK");
    } catch (const StoreError&) {
      // The transaction is already gone (SQLite rolled it back on error).
    }
  }
}

void Transaction::commit() {
  m_db.exec("COMMIT");
  m_done = true;
}

}  // namespace hemma::mobile
