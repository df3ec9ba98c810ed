#include "hemma/server/field_store.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Statement.h>

#include "hemma/server/blob.hpp"
#include "hemma/sync/field_history.hpp"
#include "hemma/sync/merge_rules.hpp"
#include "hemma/sync/message_checks.hpp"

namespace hemma::server {

using namespace Poco::Data::Keywords;

void FieldStore::migrate(Poco::Data::Session& s) {
  s << R"sql(
    CREATE TABLE IF NOT EXISTS field_values(
      patient_id TEXT NOT NULL,
      entity_type TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      field TEXT NOT NULL,
      value TEXT NOT NULL,
      hlc INTEGER NOT NULL,
      op_id TEXT NOT NULL,
      author_id TEXT NOT NULL,
      merged INTEGER NOT NULL,
      PRIMARY KEY(patient_id, entity_type, entity_id, field)))sql",
      now;
  s << R"sql(
    CREATE TABLE IF NOT EXISTS conflicts(
      id TEXT PRIMARY KEY,
      patient_id TEXT NOT NULL,
      entity_type TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      field TEXT NOT NULL,
      resolved_by TEXT,
      body BLOB NOT NULL))sql",
      now;
  // The schedule finds visits by their start time.
  s << "CREATE INDEX IF NOT EXISTS visits_by_start ON field_values(value) "
       "WHERE entity_type = 'visit' AND field = 'scheduled_start'",
      now;
  s << "CREATE INDEX IF NOT EXISTS conflicts_by_field ON conflicts(patient_id, entity_type, entity_id, field)", now;
  s << "CREATE TABLE IF NOT EXISTS resolutions(conflict_id TEXT PRIMARY KEY, op_id TEXT NOT NULL)", now;
}

void FieldStore::apply(Poco::Data::Session& s, const sync::Operation& op) {
  if (!op.has_write()) return;
  const auto& write = op.write();
  const auto policy = sync::policyFor(op.entity_type(), write.field());
  if (!policy || (*policy != sync::MergePolicy::LastWriterWins && *policy != sync::MergePolicy::ReviewOnConflict)) {
    return;
  }
  std::string resolves = write.resolves_conflict_id();
  std::string opId = op.id();
  if (!resolves.empty()) {
    s << "INSERT INTO resolutions(conflict_id, op_id) VALUES(?, ?) ON CONFLICT DO NOTHING", use(resolves), use(opId),
        now;
    s << "UPDATE conflicts SET resolved_by = ? WHERE id = ? AND resolved_by IS NULL", use(opId), use(resolves), now;
  }

  sync::FieldLocation location{op.patient_id(), op.entity_type(), op.entity_id(), write.field()};
  sync::FieldHistory history(location, *policy);
  std::vector<Poco::Data::BLOB> bodies;
  s << "SELECT body FROM operations WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ?",
      into(bodies), use(location.patientId), use(location.entityType), use(location.entityId), use(location.field), now;
  for (const auto& body : bodies) {
    sync::Operation stored;
    if (!sync::parseStored(stored, bytesOf(body)))
      throw std::runtime_error("field store: a stored operation is corrupt");
    history.insert(sync::writeVersionOf(stored));
  }

  s << "DELETE FROM conflicts WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ?",
      use(location.patientId), use(location.entityType), use(location.entityId), use(location.field), now;
  int open = 0;
  for (const auto& [id, record] : history.conflicts()) {
    sync::Conflict conflict = sync::toMessage(record);
    std::string conflictId = id;
    std::vector<std::string> resolvedBy;
    s << "SELECT op_id FROM resolutions WHERE conflict_id = ?", into(resolvedBy), use(conflictId), now;
    Poco::Nullable<std::string> resolved;
    if (resolvedBy.empty()) {
      ++open;
    } else {
      conflict.set_resolved_by_operation_id(resolvedBy.front());
      resolved = resolvedBy.front();
    }
    const auto body = toBlob(conflict.SerializeAsString());
    s << "INSERT INTO conflicts(id, patient_id, entity_type, entity_id, field, resolved_by, body) "
         "VALUES(?, ?, ?, ?, ?, ?, ?)",
        use(conflictId), use(location.patientId), use(location.entityType), use(location.entityId), use(location.field),
        use(resolved), useRef(body), now;
  }

  const sync::WriteVersion& winner = *history.winner();
  std::string value = winner.value, winnerOp = winner.opId, author = winner.authorId;
  Poco::Int64 hlc = static_cast<Poco::Int64>(winner.hlc);
  int merged = open > 0 ? 1 : 0;
  s << "INSERT INTO field_values(patient_id, entity_type, entity_id, field, value, hlc, op_id, author_id, merged) "
       "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(patient_id, entity_type, entity_id, field) DO UPDATE SET "
       "value = excluded.value, hlc = excluded.hlc, op_id = excluded.op_id, author_id = excluded.author_id, "
       "merged = excluded.merged",
      use(location.patientId), use(location.entityType), use(location.entityId), use(location.field), use(value),
      use(hlc), use(winnerOp), use(author), use(merged), now;
}

std::vector<sync::Conflict> FieldStore::conflicts(Poco::Data::Session& s, const ConflictQuery& query) {
  std::vector<Poco::Data::BLOB> bodies;
  std::vector<Poco::Nullable<std::string>> resolvedBy;
  std::string patient = query.patientId;
  int all = query.openOnly ? 0 : 1;
  s << "SELECT body, resolved_by FROM conflicts WHERE (? = '' OR patient_id = ?) AND (? = 1 OR resolved_by IS NULL) "
       "ORDER BY id",
      into(bodies), into(resolvedBy), use(patient), use(patient), use(all), now;
  std::vector<sync::Conflict> result(bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    sync::parseStored(result[i], bytesOf(bodies[i]));
    if (!resolvedBy[i].isNull()) result[i].set_resolved_by_operation_id(resolvedBy[i].value());
  }
  return result;
}

std::optional<sync::Conflict> FieldStore::conflict(Poco::Data::Session& s, const std::string& id) {
  std::vector<Poco::Data::BLOB> bodies;
  std::vector<Poco::Nullable<std::string>> resolvedBy;
  std::string key = id;
  s << "SELECT body, resolved_by FROM conflicts WHERE id = ?", into(bodies), into(resolvedBy), use(key), now;
  if (bodies.empty()) return std::nullopt;
  sync::Conflict conflict;
  sync::parseStored(conflict, bytesOf(bodies[0]));
  if (!resolvedBy[0].isNull()) conflict.set_resolved_by_operation_id(resolvedBy[0].value());
  return conflict;
}

std::optional<FieldRow> FieldStore::field(Poco::Data::Session& s, const FieldKey& key) {
  std::vector<std::string> values, opIds, authors;
  std::vector<Poco::Int64> hlcs;
  std::vector<int> merged;
  std::string patient = key.patientId, type = key.entityType, entity = key.entityId, field = key.field;
  s << "SELECT value, hlc, op_id, author_id, merged FROM field_values "
       "WHERE patient_id = ? AND entity_type = ? AND entity_id = ? AND field = ?",
      into(values), into(hlcs), into(opIds), into(authors), into(merged), use(patient), use(type), use(entity),
      use(field), now;
  if (values.empty()) return std::nullopt;
  return FieldRow{key, values[0], static_cast<std::uint64_t>(hlcs[0]), opIds[0], authors[0], merged[0] != 0};
}

std::vector<FieldRow> FieldStore::fields(Poco::Data::Session& s, const std::string& patientId,
                                         const std::string& entityType) {
  std::vector<std::string> entities, fields, values, opIds, authors;
  std::vector<Poco::Int64> hlcs;
  std::vector<int> merged;
  std::string patient = patientId, type = entityType;
  s << "SELECT entity_id, field, value, hlc, op_id, author_id, merged FROM field_values "
       "WHERE patient_id = ? AND entity_type = ? ORDER BY entity_id, field",
      into(entities), into(fields), into(values), into(hlcs), into(opIds), into(authors), into(merged), use(patient),
      use(type), now;
  std::vector<FieldRow> rows;
  for (std::size_t i = 0; i < entities.size(); ++i) {
    rows.push_back({{patientId, entityType, entities[i], fields[i]},
                    values[i],
                    static_cast<std::uint64_t>(hlcs[i]),
                    opIds[i],
                    authors[i],
                    merged[i] != 0});
  }
  return rows;
}

}  // namespace hemma::server
