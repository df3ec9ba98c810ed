#pragma once
// An in-memory materialisation of a set of operations under the merge rules:
// field values (with their history and conflict records), add-wins sets and
// append-only entries per patient.
//
// The state depends only on the set of operations applied, never on their
// order or on duplicates, which is the convergence property; fingerprint()
// makes it comparable. Used as the reference model in convergence tests and
// usable by server and device to materialise a patient's operations.
//
// Not thread-safe: one writer, or readers only. Movable, not copyable (it
// indexes its own nodes). Never reads a clock or does I/O.

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "hemma/sync.pb.h"
#include "hemma/sync/add_wins_set.hpp"
#include "hemma/sync/field_history.hpp"
#include "hemma/sync/hlc.hpp"

namespace hemma::sync {

// The current value of a last-writer-wins or review-on-conflict field.
struct FieldState {
  std::string value;
  Hlc hlc = 0;
  std::string opId;
  std::string authorId;
  // The field has a conflict record no clinician has resolved yet: show the
  // "merged" marker.
  bool merged = false;
};

// One append-only entry (visit note, observation, medication administration).
struct AppendRecord {
  Hlc hlc = 0;
  std::string opId;
  std::string authorId;
  std::string recordedAt;
  std::string entityType;
  std::string entityId;
  // The entry this one corrects (amends_note_id / amends_observation_id), or
  // empty. The amended entry stays in the list, readable.
  std::string amendsId;
  AppendEntry entry;
};

struct ConflictState {
  ConflictRecord record;
  bool resolved = false;
};

class Replica {
 public:
  Replica() = default;
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;
  Replica(Replica&&) = default;
  Replica& operator=(Replica&&) = default;

  // Applies `op` once: returns false, changing nothing, when an operation with
  // that id was already applied. Throws std::invalid_argument with
  // checkPolicy()'s reason when no merge rule accepts the operation; nothing
  // is changed then. Callers validate the operation's shape beforehand
  // (validateOperation). A write whose resolves_conflict_id is set marks that
  // conflict resolved, even if this replica has not seen the conflict yet,
  // and is otherwise an ordinary write of its field.
  bool apply(const Operation& op);

  bool contains(std::string_view opId) const;
  std::size_t operationCount() const { return m_applied.size(); }

  // nullopt when the field has never been written.
  std::optional<FieldState> field(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                                  std::string_view field) const;

  // Every write to the field in the total order, overwritten values included.
  std::vector<WriteVersion> fieldHistory(std::string_view patientId, std::string_view entityType,
                                         std::string_view entityId, std::string_view field) const;

  // Sorted members; empty for a set never touched.
  std::vector<std::string> setMembers(std::string_view patientId, std::string_view entityType,
                                      std::string_view entityId, std::string_view set) const;

  // The add ids a remove of `element` must name (SetRemove.observed_add_ids).
  std::vector<std::string> setLiveAddIds(std::string_view patientId, std::string_view entityType,
                                         std::string_view entityId, std::string_view set,
                                         std::string_view element) const;

  // The patient's entries ordered by (hlc, op id).
  std::vector<AppendRecord> appendEntries(std::string_view patientId) const;

  // Every current conflict record, ordered by id.
  std::vector<ConflictState> conflicts() const;
  // The field's current conflict records, ordered by id.
  std::vector<ConflictState> fieldConflicts(std::string_view patientId, std::string_view entityType,
                                            std::string_view entityId, std::string_view field) const;
  bool isResolved(std::string_view conflictId) const;

  // A canonical serialisation of the materialised state (field values and
  // merged markers, conflicts with their resolved flags, set members, append
  // entries). Equal for two replicas iff they materialised the same state.
  std::string fingerprint() const;

 private:
  using SetLocation = FieldLocation;  // `field` names the set

  struct Field {
    FieldHistory history;
    std::size_t unresolvedConflicts = 0;  // keeps the merged marker O(1)
  };

  void applyAppend(const Operation& op);
  void applyWrite(const Operation& op);
  void applySet(const Operation& op);
  void markResolved(const std::string& conflictId);
  void appendConflicts(const Field& field, std::vector<ConflictState>& out) const;

  std::unordered_set<std::string> m_applied;
  std::map<FieldLocation, Field> m_fields;
  // Current conflict id -> its field (std::map nodes do not move).
  std::unordered_map<std::string, Field*> m_conflictFields;
  std::map<SetLocation, AddWinsSet> m_sets;
  // patient id -> (hlc, op id) -> entry
  std::map<std::string, std::map<std::pair<Hlc, std::string>, AppendRecord>, std::less<>> m_entries;
  std::set<std::string, std::less<>> m_resolvedConflictIds;
};

}  // namespace hemma::sync
