#pragma once
// The writes to one field, kept in the total order of writes, with the
// field's winner and its conflict records maintained incrementally.
//
// Detect, then resolve: classify() says how two writes relate (one saw the
// other, or they are concurrent); the field's MergePolicy decides what a
// concurrent pair means (nothing for last-writer-wins, a conflict record for
// review-on-conflict). sync/docs/merge-rules.md has a worked example.

#include <compare>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hemma/sync.pb.h"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/merge_rules.hpp"

namespace hemma::sync {

// One write to a field, as FieldWrite carried it.
struct WriteVersion {
  Hlc hlc = 0;
  std::string opId;
  // HLC of the value the author saw when editing; 0 if the field was empty.
  Hlc baseHlc = 0;
  std::string value;
  std::string authorId;
  // The id of the write the author saw (FieldWrite.base_operation_id, since
  // protocol 4); empty if the field was empty or the write is older than
  // version 4. With it, (baseHlc, baseOpId) is one place in the order of
  // writes, so two writes with the same hlc are told apart.
  std::string baseOpId;

  friend bool operator==(const WriteVersion&, const WriteVersion&) = default;
};

// The write `op` carries, as a field's history keeps it. Precondition:
// op.has_write().
WriteVersion writeVersionOf(const Operation& op);

// The total order of writes: by hlc, then by operation id. The winner of a
// field is its greatest write.
constexpr bool writeOrderLess(Hlc aHlc, std::string_view aId, Hlc bHlc, std::string_view bId) {
  return aHlc != bHlc ? aHlc < bHlc : aId < bId;
}
inline bool writeOrderLess(const WriteVersion& a, const WriteVersion& b) {
  return writeOrderLess(a.hlc, a.opId, b.hlc, b.opId);
}

enum class Ordering {
  Before,      // `write` precedes `other`, and other's author had seen it
  After,       // `write` follows `other`, and write's author had seen it
  Concurrent,  // the later of the two was written without seeing the earlier
};

// Whether `later`'s author had seen `earlier` (which precedes it in the
// total order). With a base operation id, the base is the place
// (baseHlc, baseOpId) in the order and the author saw every write up to and
// including it; without one (writes older than protocol 4) the base is an
// hlc only and the author saw every write with an hlc up to it, so of two
// writes with the same hlc both count as seen.
bool sawWrite(const WriteVersion& later, const WriteVersion& earlier);

// How `write` relates to `other` (two different writes to the same field):
// the later one in the total order either saw the earlier one (sawWrite) or
// is concurrent with it.
Ordering classify(const WriteVersion& write, const WriteVersion& other);

// Where a field lives.
struct FieldLocation {
  std::string patientId;
  std::string entityType;
  std::string entityId;
  std::string field;

  friend auto operator<=>(const FieldLocation&, const FieldLocation&) = default;
};

// Raised when `loser` was overwritten by `winner`, the write directly after it
// in the total order, whose author had not seen it. `winner` is what replaced
// the lost value, not necessarily the field's current value.
struct ConflictRecord {
  std::string id;  // conflictIdFor(loser.opId)
  FieldLocation location;
  WriteVersion loser;
  WriteVersion winner;

  friend bool operator==(const ConflictRecord&, const ConflictRecord&) = default;
};

// The record as the wire and the stores carry it (sync.proto Conflict),
// without a resolution.
Conflict toMessage(const ConflictRecord& record);

// What one insert changed. Conflicts are removed before they are added: a
// conflict id may appear in both lists when its winner changed.
struct FieldDelta {
  bool inserted = false;  // false: that write was already there (no-op)
  bool winnerChanged = false;
  std::optional<WriteVersion> winner;  // the new winner, when winnerChanged
  std::vector<ConflictRecord> conflictsAdded;
  std::vector<std::string> conflictIdsRemoved;
};

// Not thread-safe; copyable and movable. The final state (winner, conflicts)
// depends only on the set of writes inserted, never on their order.
class FieldHistory {
 public:
  FieldHistory(FieldLocation location, MergePolicy policy);

  // Adds a write in O(log k) for k writes; the delta is computed from the
  // new write's neighbours only. A write is identified by (hlc, opId):
  // operations are immutable, so one id always carries one hlc.
  // Precondition: the policy is LastWriterWins or ReviewOnConflict.
  FieldDelta insert(WriteVersion write);

  // The greatest write, or nullptr while the field has none. Valid until the
  // next insert.
  const WriteVersion* winner() const;

  // Current conflict records by id (empty for last-writer-wins fields).
  const std::map<std::string, ConflictRecord>& conflicts() const { return m_conflicts; }

  // Every write, in the total order.
  std::vector<WriteVersion> writes() const { return {m_writes.begin(), m_writes.end()}; }
  std::size_t size() const { return m_writes.size(); }

  const FieldLocation& location() const { return m_location; }
  MergePolicy policy() const { return m_policy; }

 private:
  struct Less {
    bool operator()(const WriteVersion& a, const WriteVersion& b) const { return writeOrderLess(a, b); }
  };

  // The record for the adjacent pair (earlier, later), if the policy raises one.
  std::optional<ConflictRecord> conflictBetween(const WriteVersion& earlier, const WriteVersion& later) const;

  FieldLocation m_location;
  MergePolicy m_policy;
  std::set<WriteVersion, Less> m_writes;
  std::map<std::string, ConflictRecord> m_conflicts;
};

}  // namespace hemma::sync
