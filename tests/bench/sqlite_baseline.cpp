#include "sqlite_baseline.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace hemma::bench {

namespace {

// As mobile-core/src/device_store.cpp creates it.
constexpr const char* kDeviceSchema = R"sql(
CREATE TABLE operations(
  id TEXT PRIMARY KEY,
  server_seq INTEGER,
  hlc INTEGER NOT NULL,
  patient_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  field TEXT,
  body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX operations_by_field ON operations(patient_id, entity_type, entity_id, field)
  WHERE field IS NOT NULL;
)sql";

// As server/src/database.cpp creates it.
constexpr const char* kServerSchema = R"sql(
CREATE TABLE operations(
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
  body BLOB NOT NULL);
CREATE INDEX operations_by_patient ON operations(patient_id, seq);
CREATE INDEX operations_by_field ON operations(patient_id, entity_type, entity_id, field)
  WHERE field IS NOT NULL;
)sql";

constexpr const char* kDurability = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";

class Connection {
 public:
  Connection(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
      const std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
      sqlite3_close(m_db);
      throw std::runtime_error("baseline: cannot open " + path + ": " + message);
    }
  }
  ~Connection() { sqlite3_close(m_db); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("baseline: " + message + " in: " + sql);
    }
  }
  [[noreturn]] void fail(std::string_view what) const {
    throw std::runtime_error("baseline: " + std::string(sqlite3_errmsg(m_db)) + " in: " + std::string(what));
  }
  sqlite3* handle() const { return m_db; }

 private:
  sqlite3* m_db = nullptr;
};

class Statement {
 public:
  Statement(Connection& db, const char* sql) : m_db(db) {
    if (sqlite3_prepare_v2(db.handle(), sql, -1, &m_stmt, nullptr) != SQLITE_OK) db.fail(sql);
  }
  ~Statement() { sqlite3_finalize(m_stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& text(int index, std::string_view value) {
    check(sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC));
    return *this;
  }
  Statement& blob(int index, std::string_view value) {
    check(sqlite3_bind_blob(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC));
    return *this;
  }
  Statement& int64(int index, std::int64_t value) {
    check(sqlite3_bind_int64(m_stmt, index, value));
    return *this;
  }
  Statement& null(int index) {
    check(sqlite3_bind_null(m_stmt, index));
    return *this;
  }
  // Steps once and resets; returns the first column of a row, if any.
  std::int64_t run() {
    const int rc = sqlite3_step(m_stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) m_db.fail(sqlite3_sql(m_stmt));
    const std::int64_t first = rc == SQLITE_ROW ? sqlite3_column_int64(m_stmt, 0) : 0;
    sqlite3_reset(m_stmt);
    return first;
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) m_db.fail(sqlite3_sql(m_stmt));
  }

  Connection& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

// One operation as the stores keep it: the columns plus the serialised body.
struct Row {
  const sync::Operation* op;
  std::string deviceBody;  // the device stores the operation as it made it
  std::string serverBody;  // the server stores it without server_seq
};

using Ms = std::chrono::duration<double, std::milli>;

// Runs `insertOne` for every row, committing every `batch` rows, and returns
// the wall time in milliseconds.
template <typename InsertOne>
double timeBatches(Connection& db, const std::vector<Row>& rows, std::size_t batch, InsertOne insertOne) {
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t first = 0; first < rows.size(); first += batch) {
    db.exec("BEGIN IMMEDIATE");
    const std::size_t end = std::min(rows.size(), first + batch);
    for (std::size_t i = first; i < end; ++i) insertOne(rows[i]);
    db.exec("COMMIT");
  }
  return Ms(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

BaselineTimes insertDirectly(const std::vector<sync::Operation>& ops, const std::string& devicePath,
                             const std::string& serverPath, std::size_t batch) {
  if (batch == 0) throw std::invalid_argument("baseline: batch must be at least 1");
  std::vector<Row> rows;
  rows.reserve(ops.size());
  for (const auto& op : ops) {
    sync::Operation stored = op;
    stored.clear_server_seq();
    rows.push_back({&op, op.SerializeAsString(), stored.SerializeAsString()});
  }
  const std::string receivedAt = "2026-01-01T00:00:00.000Z";
  constexpr int kCreate = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

  BaselineTimes times;
  {
    Connection db(devicePath, kCreate);
    db.exec(kDurability);
    db.exec(kDeviceSchema);
    Statement insert(db,
                     "INSERT INTO operations(id, server_seq, hlc, patient_id, entity_type, entity_id, field, body) "
                     "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    times.deviceMs = timeBatches(db, rows, batch, [&](const Row& row) {
      insert.text(1, row.op->id())
          .null(2)
          .int64(3, static_cast<std::int64_t>(row.op->hlc()))
          .text(4, row.op->patient_id())
          .text(5, row.op->entity_type())
          .text(6, row.op->entity_id());
      if (row.op->has_write()) {
        insert.text(7, row.op->write().field());
      } else {
        insert.null(7);
      }
      insert.blob(8, row.deviceBody).run();
    });
  }
  {
    Connection db(serverPath, kCreate);
    db.exec(kDurability);
    db.exec(kServerSchema);
    Statement insert(db,
                     "INSERT INTO operations(op_id, patient_id, entity_type, entity_id, author_id, device_id, hlc, "
                     "recorded_at, received_at, field, body) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    times.serverMs = timeBatches(db, rows, batch, [&](const Row& row) {
      const sync::Operation& op = *row.op;
      insert.text(1, op.id())
          .text(2, op.patient_id())
          .text(3, op.entity_type())
          .text(4, op.entity_id())
          .text(5, op.author_id())
          .text(6, op.device_id())
          .int64(7, static_cast<std::int64_t>(op.hlc()))
          .text(8, op.recorded_at())
          .text(9, receivedAt);
      if (op.has_write()) {
        insert.text(10, op.write().field());
      } else {
        insert.null(10);
      }
      insert.blob(11, row.serverBody).run();
    });
  }
  return times;
}

std::size_t countOperations(const std::string& path) {
  Connection db(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  Statement count(db, "SELECT count(*) FROM operations");
  return static_cast<std::size_t>(count.run());
}

std::size_t countOperations(const std::string& path, const std::string& deviceId) {
  Connection db(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  Statement count(db, "SELECT count(*) FROM operations WHERE device_id = ?");
  return static_cast<std::size_t>(count.text(1, deviceId).run());
}

}  // namespace hemma::bench
