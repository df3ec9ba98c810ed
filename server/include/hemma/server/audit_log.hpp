#pragma once
// The audit trail: every read, write, export and sign-off of patient data,
// allowed or denied, with who, which organisation and unit, which patient,
// what, why, the outcome and when; for an edit made offline, its own author
// and time. Append-only: the database refuses UPDATE and DELETE on it
// (triggers), and this class has no way to change an entry. The same holds
// for the record of reviews of the log.
//
// Thread-safe.

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <cstdint>
#include <optional>
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

// Writes audit entries inside a transaction the caller holds, on its
// session: an entry commits together with what it records, or neither does.
// OperationLog::append uses it so that a pushed operation and its audit
// entry are stored in the same transaction. One prepared insert, reused for
// every entry. Not thread-safe; lives no longer than the session.
class AuditWriter {
 public:
  explicit AuditWriter(Poco::Data::Session& session);
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Sets `at` to `atRfc3339` if it is empty, and inserts the entry. Throws
  // Poco::Data::DataException if the database refuses it (the caller rolls
  // back).
  void insert(api::AuditEntry& entry, const std::string& atRfc3339);

 private:
  std::string m_at, m_user, m_organisation, m_patient, m_action, m_outcome;
  int m_emergency = 0;
  Poco::Data::BLOB m_body;
  Poco::Data::Statement m_insert;
};

class AuditLog {
 public:
  explicit AuditLog(Database& db) : m_db(db) {}

  // Creates the tables and their append-only triggers if missing (run by
  // Database::migrate, so the log exists before anything writes to it).
  static void migrate(Poco::Data::Session& session);

  // Appends entries in a transaction of their own, or inside the thread's
  // UnitOfWork, where they commit with the change they record; should that
  // roll back, they are recorded after it all the same, an "allowed" outcome
  // as "allowed; not applied". `seq` and (if empty) `at` are set here.
  // Strings that are not valid UTF-8 are stored escapedly
  // (sync::escapeInvalidUtf8), so no entry can make a read fail.
  void append(std::vector<api::AuditEntry> entries, const std::string& atRfc3339);
  void append(api::AuditEntry entry, const std::string& atRfc3339) { append(std::vector{std::move(entry)}, atRfc3339); }

  // Newest first. A row no build of this server could decode is listed
  // as "(unreadable audit entry)" with its sequence number, never an error.
  api::AuditList query(const AuditQuery& query);
  // For the patient: the allowed reads of their record by practitioners,
  // with unit and time, newest first.
  std::vector<api::AuditEntry> readsOf(const std::string& patientId, std::uint32_t limit);

  // Up to `size` entries of the organisation, picked at random.
  api::AuditList sample(const std::string& organisationId, std::uint32_t size);
  // The first of `seqs` that is not an entry of the organisation, if any.
  std::optional<std::uint64_t> firstForeign(const std::string& organisationId, const std::vector<std::uint64_t>& seqs);

  // Checks of the log by its reviewers: append-only like the log itself.
  void addReview(api::AuditReview review);
  // The organisation's reviews, newest first.
  api::AuditReviewList reviews(const std::string& organisationId, std::uint32_t limit);

 private:
  Database& m_db;
};

}  // namespace hemma::server
