#pragma once
// Who may do what with a patient's record: every access decision of the
// server is made here, from the caller, the action and the patient's care
// context (role x organisation x care relationship x consent and blocks).
// Pure: no I/O, no clock; the caller gathers the context.
//
// The rules (docs/access-control.md has the full table):
// - A patient reads their own record and access log and manages their own
//   consent and blocks; nothing else.
// - An administrator manages accounts, never clinical data.
// - A practitioner needs a care relationship: membership of the patient's
//   care team, or for a coordinator, working in the patient's home
//   organisation.
// - Reading across organisations needs the patient's consent for the
//   reader's organisation.
// - A physician may break the glass with a stated reason: allowed, and
//   flagged for review.
// - Each action needs a role: coordinators build the plan, schedule visits
//   and manage the team, consent and blocks; nurses propose changes;
//   physicians sign or reject them.
// - A patient sets their own preferred language.
// - The schedule and board: a coordinator also sees the visits of patients
//   whose care team includes someone of their organisation (with consent).

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hemma/api.pb.h"

namespace hemma::server {

enum class Action {
  ReadRecord,   // patient, plan, team, visits, timeline
  WriteRecord,  // demographics, access notes (tablets and the web)
  EditPlan,     // goals, activities, responsibility, status
  ScheduleVisit,
  ManageCareTeam,
  ManageConsent,  // consents and blocks
  ProposeChange,
  DecideProposal,  // sign or reject
  ResolveConflict,
  ReadAccessLog,  // the patient's list of who read the record
  SyncPatient,    // a tablet pushing or pulling this patient's operations
  SendMessage,    // a message about the patient, between nurses and physicians
  SetLanguage,    // the patient's preferred language
  ReadSchedule,   // the patient's visits on the schedule and the board
};

const char* actionName(Action action);

// What a tablet's change of one field needs: a row per (entity type, field)
// of the merge rules (sync/src/merge_rules.cpp), with the same key: the
// field's name for writes, the set's name for set changes, "" for
// append-only entries. Deny by default: a field without a row is refused.
struct FieldAccess {
  std::string_view entityType;
  std::string_view field;
  Action action;
};

// The whole table, in declaration order.
std::span<const FieldAccess> fieldAccessRules();

// The action a change of `entityType`.`field` needs, or nullopt when no row
// names the pair (the change is refused).
std::optional<Action> actionForField(std::string_view entityType, std::string_view field);

// What the server knows of the patient relative to the caller.
struct CareContext {
  bool patientExists = false;
  std::string homeOrganisationId;
  bool inCareTeam = false;
  // The patient's consent to share with the caller's organisation is in force.
  bool consentForCallerOrganisation = false;
  // Someone of the caller's organisation is in the patient's care team
  // (gathered for coordinators only: their schedule spans organisations).
  bool organisationInCareTeam = false;
};

struct Decision {
  bool allowed = false;
  bool emergency = false;
  // Why not, naming the missing piece: "no care relationship with patient-7".
  std::string reason;
};

// `emergencyReason` is the stated reason for break-the-glass access, or
// empty. Emergency access only ever allows reading.
Decision decide(const api::Principal& caller, Action action, const std::string& patientId, const CareContext& context,
                const std::string& emergencyReason = {});

// Whether the caller may see entries written by `entryOrganisationId`
// (cross-organisation entries need consent), assuming decide() allowed the
// read.
bool mayReadEntryFrom(const api::Principal& caller, const CareContext& context, const std::string& entryOrganisationId,
                      bool emergency);

// Whether a protected identity's address and access notes are shown to the
// caller: only to those who go to the home (nurses in the care team), the
// coordinators of the home organisation who plan the visits, and the patient.
bool mayReadProtectedAddress(const api::Principal& caller, const CareContext& context);

}  // namespace hemma::server
