#include "hemma/sync/replica.hpp"

#include <algorithm>
#include <stdexcept>

#include "hemma/sync/merge_rules.hpp"

namespace hemma::sync {

namespace {

FieldLocation locate(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                     std::string_view field) {
  return FieldLocation{std::string(patientId), std::string(entityType), std::string(entityId), std::string(field)};
}

// Length-prefixed, so no value can be mistaken for a separator.
void put(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
  out += ' ';
}

void put(std::string& out, std::uint64_t number) {
  out += std::to_string(number);
  out += ' ';
}

void put(std::string& out, const FieldLocation& location) {
  put(out, location.patientId);
  put(out, location.entityType);
  put(out, location.entityId);
  put(out, location.field);
}

void put(std::string& out, const WriteVersion& write) {
  put(out, write.hlc);
  put(out, write.opId);
  put(out, write.baseHlc);
  put(out, write.baseOpId);
  put(out, write.authorId);
  put(out, write.value);
}

}  // namespace

bool Replica::apply(const Operation& op) {
  if (m_applied.contains(op.id())) return false;
  if (auto problem = checkPolicy(op)) throw std::invalid_argument(*problem);
  switch (op.change_case()) {
    case Operation::kAppend:
      applyAppend(op);
      break;
    case Operation::kWrite:
      applyWrite(op);
      break;
    case Operation::kSetAdd:
    case Operation::kSetRemove:
      applySet(op);
      break;
    case Operation::CHANGE_NOT_SET:
      break;  // refused by checkPolicy
  }
  m_applied.insert(op.id());
  return true;
}

void Replica::applyAppend(const Operation& op) {
  AppendRecord record{op.hlc(),       op.id(), op.author_id(), op.recorded_at(), op.entity_type(),
                      op.entity_id(), {},      op.append()};
  if (op.append().has_note()) record.amendsId = op.append().note().amends_note_id();
  if (op.append().has_observation()) record.amendsId = op.append().observation().amends_observation_id();
  m_entries[op.patient_id()].emplace(std::pair{op.hlc(), op.id()}, std::move(record));
}

void Replica::applyWrite(const Operation& op) {
  const FieldWrite& write = op.write();
  FieldLocation location = locate(op.patient_id(), op.entity_type(), op.entity_id(), write.field());
  auto it = m_fields.find(location);
  if (it == m_fields.end()) {
    // checkPolicy has accepted the pair, so the rule exists.
    const MergePolicy policy = *policyFor(op.entity_type(), write.field());
    FieldHistory history(location, policy);
    it = m_fields.emplace(std::move(location), Field{std::move(history)}).first;
  }
  Field& field = it->second;
  const FieldDelta delta = field.history.insert(writeVersionOf(op));
  for (const std::string& id : delta.conflictIdsRemoved) {
    if (!m_resolvedConflictIds.contains(id)) --field.unresolvedConflicts;
    m_conflictFields.erase(id);
  }
  for (const ConflictRecord& record : delta.conflictsAdded) {
    if (!m_resolvedConflictIds.contains(record.id)) ++field.unresolvedConflicts;
    m_conflictFields.emplace(record.id, &field);
  }
  if (!write.resolves_conflict_id().empty()) markResolved(write.resolves_conflict_id());
}

void Replica::markResolved(const std::string& conflictId) {
  if (!m_resolvedConflictIds.insert(conflictId).second) return;
  const auto it = m_conflictFields.find(conflictId);
  if (it != m_conflictFields.end()) --it->second->unresolvedConflicts;
}

void Replica::applySet(const Operation& op) {
  const bool isAdd = op.change_case() == Operation::kSetAdd;
  const std::string& name = isAdd ? op.set_add().set() : op.set_remove().set();
  AddWinsSet& set = m_sets[locate(op.patient_id(), op.entity_type(), op.entity_id(), name)];
  if (isAdd) {
    set.add(op.set_add().element(), op.id());
    return;
  }
  for (const std::string& addId : op.set_remove().observed_add_ids()) set.remove(op.set_remove().element(), addId);
}

bool Replica::contains(std::string_view opId) const { return m_applied.contains(std::string(opId)); }

std::optional<FieldState> Replica::field(std::string_view patientId, std::string_view entityType,
                                         std::string_view entityId, std::string_view field) const {
  const auto it = m_fields.find(locate(patientId, entityType, entityId, field));
  if (it == m_fields.end()) return std::nullopt;
  const WriteVersion& winner = *it->second.history.winner();
  return FieldState{winner.value, winner.hlc, winner.opId, winner.authorId, it->second.unresolvedConflicts > 0};
}

std::vector<WriteVersion> Replica::fieldHistory(std::string_view patientId, std::string_view entityType,
                                                std::string_view entityId, std::string_view field) const {
  const auto it = m_fields.find(locate(patientId, entityType, entityId, field));
  return it == m_fields.end() ? std::vector<WriteVersion>{} : it->second.history.writes();
}

std::vector<std::string> Replica::setMembers(std::string_view patientId, std::string_view entityType,
                                             std::string_view entityId, std::string_view set) const {
  const auto it = m_sets.find(locate(patientId, entityType, entityId, set));
  return it == m_sets.end() ? std::vector<std::string>{} : it->second.members();
}

std::vector<std::string> Replica::setLiveAddIds(std::string_view patientId, std::string_view entityType,
                                                std::string_view entityId, std::string_view set,
                                                std::string_view element) const {
  const auto it = m_sets.find(locate(patientId, entityType, entityId, set));
  return it == m_sets.end() ? std::vector<std::string>{} : it->second.liveAddIds(element);
}

std::vector<AppendRecord> Replica::appendEntries(std::string_view patientId) const {
  std::vector<AppendRecord> result;
  const auto it = m_entries.find(patientId);
  if (it == m_entries.end()) return result;
  result.reserve(it->second.size());
  for (const auto& [key, record] : it->second) result.push_back(record);
  return result;
}

void Replica::appendConflicts(const Field& field, std::vector<ConflictState>& out) const {
  for (const auto& [id, record] : field.history.conflicts()) out.push_back(ConflictState{record, isResolved(id)});
}

std::vector<ConflictState> Replica::conflicts() const {
  std::vector<ConflictState> result;
  result.reserve(m_conflictFields.size());
  for (const auto& [location, field] : m_fields) appendConflicts(field, result);
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) { return a.record.id < b.record.id; });
  return result;
}

std::vector<ConflictState> Replica::fieldConflicts(std::string_view patientId, std::string_view entityType,
                                                   std::string_view entityId, std::string_view field) const {
  std::vector<ConflictState> result;
  const auto it = m_fields.find(locate(patientId, entityType, entityId, field));
  if (it != m_fields.end()) appendConflicts(it->second, result);
  return result;
}

bool Replica::isResolved(std::string_view conflictId) const { return m_resolvedConflictIds.contains(conflictId); }

std::string Replica::fingerprint() const {
  std::string out;
  for (const auto& [location, field] : m_fields) {
    out += "field ";
    put(out, location);
    put(out, *field.history.winner());
    put(out, field.history.size());
    out += field.unresolvedConflicts > 0 ? "merged\n" : "clean\n";
  }
  for (const ConflictState& state : conflicts()) {
    out += "conflict ";
    put(out, state.record.id);
    put(out, state.record.location);
    put(out, state.record.loser);
    put(out, state.record.winner);
    out += state.resolved ? "resolved\n" : "open\n";
  }
  for (const auto& [location, set] : m_sets) {
    out += "set ";
    put(out, location);
    for (const std::string& member : set.members()) put(out, member);
    out += '\n';
  }
  for (const auto& [patientId, entries] : m_entries) {
    for (const auto& [key, record] : entries) {
      out += "entry ";
      put(out, patientId);
      put(out, record.hlc);
      put(out, record.opId);
      put(out, record.authorId);
      put(out, record.recordedAt);
      put(out, record.entityType);
      put(out, record.entityId);
      put(out, record.amendsId);
      put(out, record.entry.SerializeAsString());
      out += '\n';
    }
  }
  return out;
}

}  // namespace hemma::sync
