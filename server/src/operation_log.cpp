#include "hemma/server/operation_log.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include "hemma/server/audit_log.hpp"
#include "hemma/server/blob.hpp"
#include "hemma/server/entry_projection.hpp"
#include "hemma/server/field_store.hpp"
#include "hemma/sync/message_checks.hpp"

namespace hemma::server {

using namespace Poco::Data::Keywords;

std::vector<AppendResult> OperationLog::append(const std::vector<const sync::Operation*>& ops,
                                               const std::string& receivedAt, const AuditFor& auditFor) {
  std::vector<AppendResult> results(ops.size());
  if (ops.empty()) return results;

  // Appends are serialised; inside a unit of work its write lock (taken at
  // its start) already does that, and waiting for the mutex while holding
  // it could deadlock with an append that waits for the lock.
  std::unique_lock lock(m_appendMutex, std::defer_lock);
  if (!m_db.inUnitOfWork()) lock.lock();
  Transaction tx(m_db);
  Poco::Data::Session& s = tx.session();

  std::string opId, patientId, entityType, entityId, authorId, deviceId, recordedAt, received = receivedAt;
  Poco::Nullable<std::string> field;
  Poco::Int64 hlc = 0;
  Poco::Data::BLOB body;
  Poco::Int64 seq = 0;
  Poco::Data::BLOB storedBody;

  Poco::Data::Statement insert(s);
  std::vector<Poco::Int64> insertedSeq;
  insert << "INSERT INTO operations(op_id, patient_id, entity_type, entity_id, author_id, device_id, hlc, "
            "recorded_at, received_at, field, body) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(op_id) DO NOTHING RETURNING seq",
      into(insertedSeq), use(opId), use(patientId), use(entityType), use(entityId), use(authorId), use(deviceId),
      use(hlc), use(recordedAt), use(received), use(field), use(body);
  Poco::Data::Statement lookup(s);
  lookup << "SELECT seq, body FROM operations WHERE op_id = ?", into(seq), into(storedBody), use(opId);
  // The audit entries go into the same transaction as the operations.
  std::optional<AuditWriter> audit;
  if (auditFor) audit.emplace(s);

  {
    std::string bytes;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const sync::Operation& op = *ops[i];
      opId = op.id();
      patientId = op.patient_id();
      entityType = op.entity_type();
      entityId = op.entity_id();
      authorId = op.author_id();
      deviceId = op.device_id();
      hlc = static_cast<Poco::Int64>(op.hlc());
      recordedAt = op.recorded_at();
      if (op.has_write()) {
        field = op.write().field();
      } else {
        field.clear();
      }
      // The log stores the operation as its author made it, without the
      // server's sequence number.
      if (op.server_seq() == 0) {
        op.SerializeToString(&bytes);
      } else {
        sync::Operation stored = op;
        stored.clear_server_seq();
        stored.SerializeToString(&bytes);
      }
      body = toBlob(bytes);
      // A new operation that cannot be projected is not stored; a retry of
      // a stored one is still a duplicate.
      const auto clash = EntryProjection::clash(s, op);
      insertedSeq.clear();
      if (!clash) insert.execute();
      if (!insertedSeq.empty()) {
        results[i].seq = static_cast<std::uint64_t>(insertedSeq.front());
        FieldStore::apply(s, op);
        EntryProjection::apply(s, op, results[i].seq);
        if (audit) {
          api::AuditEntry entry = auditFor(op);
          audit->insert(entry, receivedAt);
        }
        continue;
      }
      if (lookup.execute() == 0) {
        results[i].problem = clash.value_or("id: not stored");
        continue;
      }
      results[i].seq = static_cast<std::uint64_t>(seq);
      results[i].duplicate = true;
      if (bytesOf(storedBody) != bytes) results[i].problem = "id: already used by a different operation";
    }
    tx.commit();
  }
  return results;
}

std::vector<sync::Operation> OperationLog::after(std::uint64_t afterSeq, std::uint32_t limit) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Int64> seqs;
  std::vector<Poco::Data::BLOB> bodies;
  Poco::Int64 from = static_cast<Poco::Int64>(afterSeq);
  Poco::Int64 count = limit;
  s << "SELECT seq, body FROM operations WHERE seq > ? ORDER BY seq LIMIT ?", into(seqs), into(bodies), use(from),
      use(count), now;
  std::vector<sync::Operation> ops(seqs.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (!sync::parseStored(ops[i], bytesOf(bodies[i]))) {
      throw std::runtime_error("operation log: stored operation " + std::to_string(seqs[i]) + " is corrupt");
    }
    ops[i].set_server_seq(static_cast<std::uint64_t>(seqs[i]));
  }
  return ops;
}

std::vector<sync::Operation> OperationLog::ofPatient(const std::string& patientId, std::uint64_t afterSeq,
                                                     std::uint64_t throughSeq, std::uint32_t limit) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Int64> seqs;
  std::vector<Poco::Data::BLOB> bodies;
  std::string patient = patientId;
  Poco::Int64 from = static_cast<Poco::Int64>(afterSeq);
  Poco::Int64 through = static_cast<Poco::Int64>(throughSeq);
  Poco::Int64 count = limit;
  s << "SELECT seq, body FROM operations WHERE patient_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
      into(seqs), into(bodies), use(patient), use(from), use(through), use(count), now;
  std::vector<sync::Operation> ops(seqs.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (!sync::parseStored(ops[i], bytesOf(bodies[i]))) {
      throw std::runtime_error("operation log: stored operation " + std::to_string(seqs[i]) + " is corrupt");
    }
    ops[i].set_server_seq(static_cast<std::uint64_t>(seqs[i]));
  }
  return ops;
}

std::vector<sync::Conflict> OperationLog::conflicts(const ConflictQuery& query) {
  Poco::Data::Session s = m_db.session();
  return FieldStore::conflicts(s, query);
}

std::optional<sync::Conflict> OperationLog::conflict(const std::string& id) {
  Poco::Data::Session s = m_db.session();
  return FieldStore::conflict(s, id);
}

std::optional<FieldRow> OperationLog::field(const FieldKey& key) {
  Poco::Data::Session s = m_db.session();
  return FieldStore::field(s, key);
}

std::vector<FieldRow> OperationLog::fields(const std::string& patientId, const std::string& entityType) {
  Poco::Data::Session s = m_db.session();
  return FieldStore::fields(s, patientId, entityType);
}

std::vector<sync::Operation> OperationLog::entries(const std::string& patientId, const std::string& entityType) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Int64> seqs;
  std::vector<Poco::Data::BLOB> bodies;
  std::string patient = patientId, type = entityType;
  s << "SELECT seq, body FROM operations WHERE patient_id = ? AND entity_type IN ('visit_note', 'observation', "
       "'vital_signs', 'task_outcome', 'medication_administration', 'message', 'proposed_change') "
       "AND (? = '' OR entity_type = ?) ORDER BY hlc, op_id",
      into(seqs), into(bodies), use(patient), use(type), use(type), now;
  std::vector<sync::Operation> ops(seqs.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (!sync::parseStored(ops[i], bytesOf(bodies[i]))) {
      throw std::runtime_error("operation log: stored operation " + std::to_string(seqs[i]) + " is corrupt");
    }
    ops[i].set_server_seq(static_cast<std::uint64_t>(seqs[i]));
  }
  return ops;
}

std::uint64_t OperationLog::newestHlc() {
  Poco::Data::Session s = m_db.session();
  Poco::Int64 hlc = 0;
  s << "SELECT coalesce(max(hlc), 0) FROM operations", into(hlc), now;
  return static_cast<std::uint64_t>(hlc);
}

std::optional<sync::Operation> OperationLog::operation(const std::string& id) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Int64> seqs;
  std::vector<Poco::Data::BLOB> bodies;
  std::string key = id;
  s << "SELECT seq, body FROM operations WHERE op_id = ?", into(seqs), into(bodies), use(key), now;
  if (seqs.empty()) return std::nullopt;
  sync::Operation op;
  if (!sync::parseStored(op, bytesOf(bodies[0]))) {
    throw std::runtime_error("operation log: stored operation " + std::to_string(seqs[0]) + " is corrupt");
  }
  op.set_server_seq(static_cast<std::uint64_t>(seqs[0]));
  return op;
}

}  // namespace hemma::server

namespace hemma::server {

std::uint64_t OperationLog::newestSeq() {
  Poco::Data::Session s = m_db.session();
  Poco::Int64 seq = 0;
  s << "SELECT coalesce(max(seq), 0) FROM operations", into(seq), now;
  return static_cast<std::uint64_t>(seq);
}

std::vector<Authored<api::News2Point>> OperationLog::news2(const std::string& patientId, std::uint32_t limit) {
  Poco::Data::Session s = m_db.session();
  return EntryProjection::news2(s, patientId, limit);
}

std::vector<Authored<api::Alert>> OperationLog::alertsAfter(std::uint64_t afterSeq, std::uint32_t limit) {
  Poco::Data::Session s = m_db.session();
  return EntryProjection::alertsAfter(s, afterSeq, limit);
}

std::map<std::string, std::set<std::string>> OperationLog::answeredTasks(const std::string& patientId) {
  Poco::Data::Session s = m_db.session();
  return EntryProjection::answeredTasks(s, patientId);
}

std::vector<std::pair<std::string, std::string>> OperationLog::visitsStarting(const std::string& fromRfc3339,
                                                                              const std::string& toRfc3339) {
  Poco::Data::Session s = m_db.session();
  std::vector<std::string> patients, visits;
  std::string from = fromRfc3339, to = toRfc3339;
  s << "SELECT patient_id, entity_id FROM field_values WHERE entity_type = 'visit' AND field = 'scheduled_start' "
       "AND value >= ? AND value < ? ORDER BY value, patient_id, entity_id",
      into(patients), into(visits), use(from), use(to), now;
  std::vector<std::pair<std::string, std::string>> result;
  for (std::size_t i = 0; i < patients.size(); ++i) result.emplace_back(patients[i], visits[i]);
  return result;
}

}  // namespace hemma::server
