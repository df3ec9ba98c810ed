#include "hemma/server/audit_log.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include "hemma/server/blob.hpp"
#include "hemma/sync/message_checks.hpp"

namespace hemma::server {

using namespace Poco::Data::Keywords;

namespace {

// An entry as stored. No stored row may make a read fail: one written by an
// older build with invalid UTF-8 is read with it escaped, and one that is
// not an entry at all is shown from its columns, marked as unreadable.
api::AuditEntry parseEntry(const Poco::Data::BLOB& body, Poco::Int64 seq) {
  api::AuditEntry entry;
  if (!sync::parseStored(entry, bytesOf(body))) {
    entry.Clear();
    entry.set_action("(unreadable audit entry)");
    entry.set_outcome("stored entry " + std::to_string(seq) + " could not be decoded");
  }
  entry.set_seq(static_cast<std::uint64_t>(seq));
  return entry;
}

}  // namespace

void AuditLog::migrate(Poco::Data::Session& s) {
  s << R"sql(
    CREATE TABLE IF NOT EXISTS audit_log(
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      user_id TEXT NOT NULL,
      organisation_id TEXT NOT NULL,
      patient_id TEXT NOT NULL,
      action TEXT NOT NULL,
      outcome TEXT NOT NULL,
      emergency INTEGER NOT NULL,
      body BLOB NOT NULL))sql",
      now;
  s << "CREATE INDEX IF NOT EXISTS audit_by_patient ON audit_log(patient_id, seq)", now;
  s << "CREATE INDEX IF NOT EXISTS audit_by_organisation ON audit_log(organisation_id, seq)", now;
  s << "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
       "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
      now;
  s << "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
       "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
      now;
  s << R"sql(
    CREATE TABLE IF NOT EXISTS audit_reviews(
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      organisation_id TEXT NOT NULL,
      body BLOB NOT NULL))sql",
      now;
  s << "CREATE INDEX IF NOT EXISTS audit_reviews_by_organisation ON audit_reviews(organisation_id, seq)", now;
  s << "CREATE TRIGGER IF NOT EXISTS audit_reviews_no_update BEFORE UPDATE ON audit_reviews "
       "BEGIN SELECT RAISE(ABORT, 'audit_reviews is append-only'); END",
      now;
  s << "CREATE TRIGGER IF NOT EXISTS audit_reviews_no_delete BEFORE DELETE ON audit_reviews "
       "BEGIN SELECT RAISE(ABORT, 'audit_reviews is append-only'); END",
      now;
}

AuditWriter::AuditWriter(Poco::Data::Session& session) : m_insert(session) {
  m_insert << "INSERT INTO audit_log(at, user_id, organisation_id, patient_id, action, outcome, emergency, body) "
              "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
      use(m_at), use(m_user), use(m_organisation), use(m_patient), use(m_action), use(m_outcome), use(m_emergency),
      use(m_body);
}

void AuditWriter::insert(api::AuditEntry& entry, const std::string& atRfc3339) {
  if (entry.at().empty()) entry.set_at(atRfc3339);
  // The audit records what was attempted, byte for byte where it can: text
  // that is not UTF-8 (a path, a header, a name) is kept escaped, so the
  // row stays readable for every review.
  sync::escapeInvalidStrings(entry);
  m_at = entry.at();
  m_user = entry.user_id();
  m_organisation = entry.organisation_id();
  m_patient = entry.patient_id();
  m_action = entry.action();
  m_outcome = entry.outcome();
  m_emergency = entry.emergency() ? 1 : 0;
  const std::string bytes = entry.SerializeAsString();
  m_body = Poco::Data::BLOB(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  m_insert.execute();
}

void AuditLog::append(std::vector<api::AuditEntry> entries, const std::string& atRfc3339) {
  if (entries.empty()) return;
  // Inside a unit of work the entries commit with the change they record.
  // Should it roll back, what was attempted is still recorded: denials as
  // they were, an allowed change as allowed but not applied.
  if (UnitOfWork* work = UnitOfWork::current(m_db)) {
    work->onRollback([this, entries, atRfc3339] {
      std::vector<api::AuditEntry> attempted = entries;
      for (auto& entry : attempted) {
        if (entry.outcome() == "allowed") entry.set_outcome("allowed; not applied");
      }
      append(std::move(attempted), atRfc3339);
    });
  }
  Transaction tx(m_db);
  AuditWriter writer(tx.session());
  for (auto& entry : entries) writer.insert(entry, atRfc3339);
  tx.commit();
}

api::AuditList AuditLog::query(const AuditQuery& q) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Int64> seqs;
  std::vector<Poco::Data::BLOB> bodies;
  std::string patient = q.patientId, organisation = q.organisationId, user = q.userId;
  int emergencyOnly = q.emergencyOnly ? 1 : 0;
  Poco::Int64 limit = q.limit;
  s << "SELECT seq, body FROM audit_log WHERE (? = '' OR patient_id = ?) AND (? = '' OR organisation_id = ?) "
       "AND (? = '' OR user_id = ?) AND (? = 0 OR emergency = 1) ORDER BY seq DESC LIMIT ?",
      into(seqs), into(bodies), use(patient), use(patient), use(organisation), use(organisation), use(user), use(user),
      use(emergencyOnly), use(limit), now;
  api::AuditList list;
  for (std::size_t i = 0; i < seqs.size(); ++i) *list.add_entries() = parseEntry(bodies[i], seqs[i]);
  return list;
}

std::vector<api::AuditEntry> AuditLog::readsOf(const std::string& patientId, std::uint32_t limit) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Int64> seqs;
  std::vector<Poco::Data::BLOB> bodies;
  std::string patient = patientId;
  Poco::Int64 max = limit;
  s << "SELECT seq, body FROM audit_log WHERE patient_id = ? AND outcome = 'allowed' "
       "AND action IN ('record.read', 'sync.pull') AND organisation_id <> '' ORDER BY seq DESC LIMIT ?",
      into(seqs), into(bodies), use(patient), use(max), now;
  std::vector<api::AuditEntry> result;
  for (std::size_t i = 0; i < seqs.size(); ++i) result.push_back(parseEntry(bodies[i], seqs[i]));
  return result;
}

api::AuditList AuditLog::sample(const std::string& organisationId, std::uint32_t size) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Int64> seqs;
  std::vector<Poco::Data::BLOB> bodies;
  std::string organisation = organisationId;
  Poco::Int64 limit = size;
  s << "SELECT seq, body FROM audit_log WHERE organisation_id = ? ORDER BY random() LIMIT ?", into(seqs), into(bodies),
      use(organisation), use(limit), now;
  api::AuditList list;
  for (std::size_t i = 0; i < seqs.size(); ++i) *list.add_entries() = parseEntry(bodies[i], seqs[i]);
  return list;
}

std::optional<std::uint64_t> AuditLog::firstForeign(const std::string& organisationId,
                                                    const std::vector<std::uint64_t>& seqs) {
  Poco::Data::Session s = m_db.session();
  std::string organisation = organisationId;
  Poco::Int64 seq = 0;
  int count = 0;
  Poco::Data::Statement check(s);
  check << "SELECT count(*) FROM audit_log WHERE seq = ? AND organisation_id = ?", into(count), use(seq),
      use(organisation);
  for (const auto wanted : seqs) {
    seq = static_cast<Poco::Int64>(wanted);
    check.execute();
    if (count == 0) return wanted;
  }
  return std::nullopt;
}

void AuditLog::addReview(api::AuditReview review) {
  sync::escapeInvalidStrings(review);
  Poco::Data::Session s = m_db.session();
  std::string id = review.id(), organisation = review.organisation_id();
  const std::string bytes = review.SerializeAsString();
  Poco::Data::BLOB body(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  s << "INSERT INTO audit_reviews(id, organisation_id, body) VALUES(?, ?, ?)", use(id), use(organisation), use(body),
      now;
}

api::AuditReviewList AuditLog::reviews(const std::string& organisationId, std::uint32_t limit) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string organisation = organisationId;
  Poco::Int64 max = limit;
  s << "SELECT body FROM audit_reviews WHERE organisation_id = ? ORDER BY seq DESC LIMIT ?", into(bodies),
      use(organisation), use(max), now;
  api::AuditReviewList list;
  for (const auto& body : bodies) {
    api::AuditReview review;
    if (sync::parseStored(review, bytesOf(body))) *list.add_reviews() = std::move(review);
  }
  return list;
}

}  // namespace hemma::server
