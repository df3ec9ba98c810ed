#pragma once
// The server's log of operations: the shared history every device syncs from,
// and part of the audit trail. Operations are only ever appended.
//
// Thread-safe. Appends are serialised, so server sequence numbers become
// visible in order: a pull never skips an operation that commits later with
// a smaller number. This holds within one server process on SQLite; several
// servers over PostgreSQL will need a commit-ordered cursor.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/server/database.hpp"
#include "hemma/server/entry_projection.hpp"
#include "hemma/server/field_store.hpp"
#include "hemma/sync.pb.h"

namespace hemma::server {

struct AppendResult {
  std::uint64_t seq = 0;
  bool duplicate = false;
  // Set when the id is already stored with different content, or when a new
  // operation cannot be projected (EntryProjection::clash()); either way
  // nothing of it is stored.
  std::optional<std::string> problem;
};

class OperationLog {
 public:
  explicit OperationLog(Database& db) : m_db(db) {}

  // The audit entry of a newly stored operation (a push: who pushed it,
  // with its original author and time); its `at` defaults to receivedAt.
  using AuditFor = std::function<api::AuditEntry(const sync::Operation& op)>;

  // Stores the operations in one transaction (or as part of the calling
  // thread's UnitOfWork: durable when it commits); returns once they are
  // durable.
  // For each newly stored operation, the same transaction updates the
  // current field values (field_store.hpp) and what is derived from entries
  // (entry_projection.hpp: proposals, NEWS2 trend, alerts, visit tasks), and,
  // when `auditFor` is given, appends its audit entry to the audit log
  // (AuditWriter): an acknowledged operation always has its audit entry.
  // An operation whose id is already stored is not stored again (nor
  // audited again): its result is the original sequence number with
  // `duplicate` set. Throws Poco::Data::DataException if the database fails,
  // the audit insert included (nothing is stored).
  std::vector<AppendResult> append(const std::vector<const sync::Operation*>& ops, const std::string& receivedAt,
                                   const AuditFor& auditFor = {});

  // Up to `limit` operations with seq > `afterSeq`, in seq order, each with
  // server_seq set.
  std::vector<sync::Operation> after(std::uint64_t afterSeq, std::uint32_t limit);

  // Up to `limit` operations of one patient with `afterSeq` < seq <=
  // `throughSeq`, in seq order, each with server_seq set (a backfill).
  std::vector<sync::Operation> ofPatient(const std::string& patientId, std::uint64_t afterSeq, std::uint64_t throughSeq,
                                         std::uint32_t limit);

  // The newest clock value stored (0 when empty): the server's own clock
  // starts after it, so its writes order after everything it holds.
  std::uint64_t newestHlc();
  // The stored operation with this id, if any.
  std::optional<sync::Operation> operation(const std::string& id);

  // Conflict records raised by review-on-conflict fields.
  std::vector<sync::Conflict> conflicts(const ConflictQuery& query);
  std::optional<sync::Conflict> conflict(const std::string& id);
  // A field's current value, or nullopt if it was never written.
  std::optional<FieldRow> field(const FieldKey& key);
  // Every field of the patient's entities of one type, by entity then field.
  std::vector<FieldRow> fields(const std::string& patientId, const std::string& entityType);
  // The patient's append-only entries (notes, observations, vital signs,
  // checklist answers, medication given, messages, proposed changes), in
  // clock order; only those of `entityType` when it is not empty.
  std::vector<sync::Operation> entries(const std::string& patientId, const std::string& entityType = {});

  // The newest server sequence number (0 when empty).
  std::uint64_t newestSeq();
  // Derived from the entries as they were stored (entry_projection.hpp).
  std::vector<Authored<api::News2Point>> news2(const std::string& patientId, std::uint32_t limit);
  std::vector<Authored<api::Alert>> alertsAfter(std::uint64_t afterSeq, std::uint32_t limit);
  std::map<std::string, std::set<std::string>> answeredTasks(const std::string& patientId);
  // (patient id, visit id) of the visits scheduled to start in
  // [from, to) (RFC 3339 UTC as stored), by start time.
  std::vector<std::pair<std::string, std::string>> visitsStarting(const std::string& fromRfc3339,
                                                                  const std::string& toRfc3339);

 private:
  Database& m_db;
  std::mutex m_appendMutex;
};

}  // namespace hemma::server
