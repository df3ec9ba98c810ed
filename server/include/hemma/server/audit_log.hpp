#pragma once
// The audit trail: every read, write, export and sign-off of patient data,
// allowed or denied, with who, which organisation and unit, which patient,
// what, why, the outcome and when; for an edit made offline, its own author
// and time. Append-only: the database refuses UPDATE and DELETE on it
// (triggers), and this class has no way to change an entry.
//
// Thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/server/database.hpp"

namespace hemma::server {

struct AuditQuery {
  std::string patientId;       // empty: any
  std::string organisationId;  // empty: any
  std::string userId;          // empty: any
  bool emergencyOnly = false;
  std::uint32_t limit = 500;
};

class AuditLog {
 public:
  explicit AuditLog(Database& db);

  // Appends entries in one transaction; `seq` and (if empty) `at` are set
  // here.
  void append(std::vector<api::AuditEntry> entries, const std::string& atRfc3339);
  void append(api::AuditEntry entry, const std::string& atRfc3339) { append(std::vector{std::move(entry)}, atRfc3339); }

  // Newest first.
  api::AuditList query(const AuditQuery& query);
  // For the patient: the allowed reads of their record by practitioners,
  // with unit and time, newest first.
  std::vector<api::AuditEntry> readsOf(const std::string& patientId, std::uint32_t limit);

 private:
  Database& m_db;
};

}  // namespace hemma::server
