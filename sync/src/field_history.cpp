#include "hemma/sync/field_history.hpp"

#include <iterator>
#include <utility>

namespace hemma::sync {

WriteVersion writeVersionOf(const Operation& op) {
  const FieldWrite& write = op.write();
  return WriteVersion{op.hlc(), op.id(), write.base_hlc(), write.value(), op.author_id(), write.base_operation_id()};
}

bool sawWrite(const WriteVersion& later, const WriteVersion& earlier) {
  if (later.baseOpId.empty()) return later.baseHlc >= earlier.hlc;
  return !writeOrderLess(later.baseHlc, later.baseOpId, earlier.hlc, earlier.opId);
}

Ordering classify(const WriteVersion& write, const WriteVersion& other) {
  if (writeOrderLess(write, other)) return sawWrite(other, write) ? Ordering::Before : Ordering::Concurrent;
  return sawWrite(write, other) ? Ordering::After : Ordering::Concurrent;
}

Conflict toMessage(const ConflictRecord& record) {
  Conflict conflict;
  conflict.set_id(record.id);
  conflict.set_patient_id(record.location.patientId);
  conflict.set_entity_type(record.location.entityType);
  conflict.set_entity_id(record.location.entityId);
  conflict.set_field(record.location.field);
  auto side = [](const WriteVersion& write, ConflictSide& out) {
    out.set_operation_id(write.opId);
    out.set_value(write.value);
    out.set_author_id(write.authorId);
    out.set_hlc(write.hlc);
  };
  side(record.loser, *conflict.mutable_overwritten());
  side(record.winner, *conflict.mutable_kept());
  return conflict;
}

FieldHistory::FieldHistory(FieldLocation location, MergePolicy policy)
    : m_location(std::move(location)), m_policy(policy) {}

std::optional<ConflictRecord> FieldHistory::conflictBetween(const WriteVersion& earlier,
                                                            const WriteVersion& later) const {
  if (!raisesConflictRecords(m_policy) || classify(earlier, later) != Ordering::Concurrent) return std::nullopt;
  return ConflictRecord{conflictIdFor(earlier.opId), m_location, earlier, later};
}

FieldDelta FieldHistory::insert(WriteVersion write) {
  FieldDelta delta;
  const auto [it, inserted] = m_writes.insert(std::move(write));
  if (!inserted) return delta;
  delta.inserted = true;

  const auto next = std::next(it);
  if (it != m_writes.begin()) {
    const WriteVersion& pred = *std::prev(it);
    // pred's record, if any, paired it with its old successor, which now
    // follows the new write instead.
    const auto old = m_conflicts.find(conflictIdFor(pred.opId));
    if (old != m_conflicts.end()) {
      delta.conflictIdsRemoved.push_back(old->first);
      m_conflicts.erase(old);
    }
    if (auto record = conflictBetween(pred, *it)) delta.conflictsAdded.push_back(std::move(*record));
  }
  if (next != m_writes.end()) {
    if (auto record = conflictBetween(*it, *next)) delta.conflictsAdded.push_back(std::move(*record));
  } else {
    delta.winnerChanged = true;
    delta.winner = *it;
  }
  for (const ConflictRecord& record : delta.conflictsAdded) m_conflicts.emplace(record.id, record);
  return delta;
}

const WriteVersion* FieldHistory::winner() const { return m_writes.empty() ? nullptr : &*m_writes.rbegin(); }

}  // namespace hemma::sync
