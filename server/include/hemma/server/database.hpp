#pragma once
// The server's database connection pool (Poco::Data): SQLite embedded by
// default; the same SQL runs on PostgreSQL.
//
// Thread-safe: each request takes its own session from the pool.

#include <Poco/Data/SessionPool.h>

#include <memory>
#include <string>

namespace hemma::server {

class Database {
 public:
  // `path` is the SQLite file; created with the schema if missing.
  explicit Database(const std::string& path);

  Poco::Data::Session session() { return m_pool->get(); }
  const std::string& path() const { return m_path; }

  // A random secret (64 hex digits) stored in the database under `name`,
  // created on first use: for deployments that configure none.
  std::string generatedSecret(const std::string& name);

 private:
  void migrate();

  std::string m_path;
  std::unique_ptr<Poco::Data::SessionPool> m_pool;
};

}  // namespace hemma::server
