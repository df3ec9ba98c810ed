#pragma once
// The server's database connection pool (Poco::Data): SQLite embedded by
// default; the same SQL runs on PostgreSQL.
//
// Thread-safe: each request takes its own session from the pool.

#include <Poco/Data/SessionPool.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hemma::server {

class UnitOfWork;

class Database {
 public:
  // `path` is the SQLite file; created with the schema if missing.
  explicit Database(const std::string& path);

  // A session from the pool, or, while a UnitOfWork on this database is
  // open on the calling thread, that unit of work's session: every store a
  // request touches then runs in its one transaction.
  Poco::Data::Session session();
  // True while a UnitOfWork on this database is open on the calling thread.
  bool inUnitOfWork() const;
  const std::string& path() const { return m_path; }

  // A random secret (64 hex digits) stored in the database under `name`,
  // created on first use: for deployments that configure none.
  std::string generatedSecret(const std::string& name);

 private:
  void migrate();

  std::string m_path;
  std::unique_ptr<Poco::Data::SessionPool> m_pool;
};

// One transaction shared by every store a request touches, so that an
// audit entry commits together with the change it records, or neither does.
// While it is open on a thread, Database::session() on that thread returns
// its session, and a store's own Transaction joins it instead of beginning
// another. It takes the write lock at once (BEGIN IMMEDIATE), so a unit of
// work never fails half way for a lock a later statement needed.
//
// Not thread-safe: it belongs to the thread that opened it; one at a time
// per thread. Destroyed without commit(), it rolls back, then runs what was
// registered with onRollback() (outside any transaction).
class UnitOfWork {
 public:
  explicit UnitOfWork(Database& db);
  ~UnitOfWork();
  UnitOfWork(const UnitOfWork&) = delete;
  UnitOfWork& operator=(const UnitOfWork&) = delete;

  // Makes everything durable. Throws Poco::Data::DataException if the
  // database refuses (then nothing was stored).
  void commit();
  // Undoes everything, then runs the onRollback() actions. No-op once
  // committed or rolled back.
  void rollback() noexcept;
  bool open() const { return m_open; }
  // Something to do if this unit of work is rolled back, e.g. record that an
  // allowed write was not applied.
  void onRollback(std::function<void()> action) { m_onRollback.push_back(std::move(action)); }

  // The unit of work open on this thread for `db`, or nullptr.
  static UnitOfWork* current(const Database& db);

 private:
  friend class Database;
  Database& m_db;
  Poco::Data::Session m_session;
  bool m_open = false;
  std::vector<std::function<void()>> m_onRollback;
};

// A store's transaction: its own on a pool session, or, inside a
// UnitOfWork, a part of that one (commit() then leaves the committing to the
// unit of work, and an exception rolls the whole unit back).
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Poco::Data::Session& session() { return m_session; }
  void commit();

 private:
  Poco::Data::Session m_session;
  bool m_own;
  bool m_done = false;
};

}  // namespace hemma::server
