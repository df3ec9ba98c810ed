#pragma once
// A thin owner of a SQLite connection (C API) with cached prepared statements.
// Only the device's storage files include this header.
//
// Not thread-safe: one connection per thread. Errors throw StoreError with
// SQLite's message and the statement that failed.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hemma::mobile {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SqliteDb;

// A prepared statement, reset and cleared when the Query goes out of scope.
class Query {
 public:
  Query(SqliteDb& db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::string_view text);
  Query& bindBlob(int index, std::string_view bytes);
  Query& bind(int index, std::int64_t value);
  Query& bindNull(int index);

  // Steps once; true while a row is available.
  bool step();
  // Steps until done; for statements that return no rows.
  void run();
  // run(), then clears the bindings so the statement can be bound again.
  void runAndReset();

  std::int64_t int64(int column) const;
  std::string text(int column) const;
  bool isNull(int column) const;

 private:
  SqliteDb& m_db;
  sqlite3_stmt* m_stmt;
};

class SqliteDb {
 public:
  explicit SqliteDb(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  void exec(const std::string& sql);
  // A cached prepared statement for `sql`.
  Query query(std::string_view sql);
  std::int64_t changes() const { return sqlite3_changes64(m_db); }

  [[noreturn]] void fail(std::string_view what) const;

 private:
  sqlite3* m_db = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> m_statements;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back if destroyed before commit().
class Transaction {
 public:
  explicit Transaction(SqliteDb& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  SqliteDb& m_db;
  bool m_done = false;
};

}  // namespace hemma::mobile
