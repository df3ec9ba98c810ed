#pragma once
// The entry rules: what a clinician may enter, given the state both the
// tablet and the server hold (a visit's status and nurse, the plan's
// responsibility per activity, the patient's care team). The tablet checks
// them when the nurse enters something, the server again when it is pushed,
// from the same code, so the two cannot disagree. docs/security.md ("Entry
// rules") lists them; rights by role stay in the server's access policy.
//
// Pure functions over the state an EntryState answers: no I/O of their own,
// thread-safe as far as the EntryState is.

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "hemma/domain.pb.h"
#include "hemma/sync.pb.h"
#include "hemma/sync/field_history.hpp"

namespace hemma::sync {

// The range a vital sign can take on a living patient. A reading outside it
// is a slip of the finger or a broken probe (a respiratory rate, SpO2,
// systolic pressure or pulse of 0 with the patient alert), never a value to
// score and escalate on. The one table of them: validateOperation() refuses
// a vital_signs entry outside it, and the tablet's NEWS2 refuses the input
// (mobile-core/docs/news2.md lists the ranges).
struct VitalSignRange {
  std::string_view field;  // the VitalSigns field, e.g. "respiratory_rate"
  double low;
  double high;
  std::string_view unit;  // "/min", "%", "mmHg", "°C"
};
std::span<const VitalSignRange> vitalSignRanges();
// The row for `field`; nullptr for a field without one.
const VitalSignRange* vitalSignRange(std::string_view field);
// "<prefix>.<field>: 0 is outside 4-60 /min (not a reading of a living
// patient)" for the first field outside its range, or nullopt.
std::optional<std::string> checkVitalSignRanges(const std::string& prefix, const domain::VitalSigns& vitals);

// Who enters the operation: the signed-in user.
struct EntryAuthor {
  std::string userId;
  // ROLE_UNSPECIFIED when this end does not know it (a tablet enrolled
  // without an online sign-in): the responsibility rule is then the server's.
  domain::Role role = domain::ROLE_UNSPECIFIED;
  std::string organisationId;
};

// What the rules read of the stored state. Each end answers from its own
// store; PendingEntryState adds what the same batch changed before.
class EntryState {
 public:
  virtual ~EntryState() = default;
  // The current value of a register field, or nullopt while it has none.
  virtual std::optional<std::string> field(const FieldLocation& location) = 0;
  // Whether `practitionerId` is in the patient's care team; nullopt when
  // this end does not know the team (then the rule is left to the server,
  // which always knows it).
  virtual std::optional<bool> inCareTeam(const std::string& patientId, const std::string& practitionerId) = 0;
};

// `base`'s state with the register writes of operations recorded on top of
// it (a batch checked operation by operation: starting a visit and then
// recording vital signs at it, in one push). Not thread-safe.
class PendingEntryState : public EntryState {
 public:
  explicit PendingEntryState(EntryState& base) : m_base(base) {}
  // Adds `op`'s effect (register writes only; entries change no state the
  // rules read). Later writes of a field replace earlier ones: the batch is
  // one author's, in the order made.
  void add(const Operation& op);
  std::optional<std::string> field(const FieldLocation& location) override;
  std::optional<bool> inCareTeam(const std::string& patientId, const std::string& practitionerId) override;

 private:
  EntryState& m_base;
  std::map<FieldLocation, std::string> m_written;
};

struct EntryRefusal {
  enum class Kind {
    Invalid,    // contradicts the stored state (no such visit, visit not started, ...)
    Forbidden,  // the state says this author may not (not her visit, not her activity)
  };
  Kind kind = Kind::Invalid;
  std::string reason;  // "field: reason", e.g. "append.vital_signs.visit_id: visit v1 is PLANNED; ..."
};

// Checks `op` (already well formed: validateOperation() and checkPolicy()
// passed) against the entry rules:
//  - visit writes (status, started_at, ended_at, scheduling fields) and
//    completed_tasks need a visit that exists (a status or scheduled_start
//    is stored): tablets never create visits;
//  - a DONE or CANCELLED visit changes no more;
//  - status, started_at, ended_at and completed_tasks are the assigned
//    nurse's (visit.nurse_id == author), and the status moves only forward,
//    PLANNED -> IN_PROGRESS -> DONE; started_at needs IN_PROGRESS, ended_at
//    DONE;
//  - an entry linked to a visit (task_outcome, vital_signs,
//    medication_administration, observation, a visit_note with a visit_id)
//    needs that visit IN_PROGRESS; after the end only a note amending an
//    earlier note is taken;
//  - a task_outcome answers an activity of the plan whose responsible role
//    (and organisation, when set) is the author's, or the visit's own
//    activity;
//  - a message goes only to a member of the patient's care team.
// Returns the first refusal, or nullopt.
std::optional<EntryRefusal> checkEntryRules(const Operation& op, const EntryAuthor& author, EntryState& state);

// Whether checkEntryRules() reads any state for `op` (a visit write, an
// entry linked to a visit, a task outcome, a message to someone); the rest
// is always accepted by it.
bool entryRulesConcern(const Operation& op);

// The visit-closed rule alone, for the server's schedule changes: refuses a
// change to a visit whose status is DONE or CANCELLED, naming the state.
std::optional<std::string> checkVisitOpen(const std::string& visitId, const std::optional<std::string>& status);

}  // namespace hemma::sync
