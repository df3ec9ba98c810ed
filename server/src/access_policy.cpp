#include "hemma/server/access_policy.hpp"

#include <array>

namespace hemma::server {

namespace {

// Who may change each field from a tablet: the same rules as the web's
// calls (PUT plan needs EditPlan, PUT visits ScheduleVisit, ...). A test
// checks that every merge rule has a row here.
constexpr std::array kFieldAccess{
    // The record's facts and the visit as the nurse carries it out.
    FieldAccess{"patient", "name", Action::SyncPatient},
    FieldAccess{"patient", "address", Action::SyncPatient},
    FieldAccess{"patient", "access_notes", Action::SyncPatient},
    FieldAccess{"patient", "preferred_language", Action::SyncPatient},
    FieldAccess{"visit", "status", Action::SyncPatient},
    FieldAccess{"visit", "started_at", Action::SyncPatient},
    FieldAccess{"visit", "ended_at", Action::SyncPatient},
    FieldAccess{"visit", "completed_tasks", Action::SyncPatient},
    // Who goes when, and for what: the coordinator's schedule.
    FieldAccess{"visit", "scheduled_start", Action::ScheduleVisit},
    FieldAccess{"visit", "nurse_id", Action::ScheduleVisit},
    FieldAccess{"visit", "activity_id", Action::ScheduleVisit},
    // The plan and its medications: a nurse proposes, a coordinator edits
    // and a physician's signature writes them on the server.
    FieldAccess{"care_plan_goal", "text", Action::EditPlan},
    FieldAccess{"care_plan_activity", "text", Action::EditPlan},
    FieldAccess{"care_plan_activity", "frequency", Action::EditPlan},
    FieldAccess{"care_plan_activity", "responsible_organisation_id", Action::EditPlan},
    FieldAccess{"care_plan_activity", "responsible_role", Action::EditPlan},
    FieldAccess{"care_plan", "spo2_scale_2", Action::EditPlan},
    FieldAccess{"medication", "name", Action::EditPlan},
    FieldAccess{"medication", "dose", Action::EditPlan},
    FieldAccess{"medication", "frequency", Action::EditPlan},
    FieldAccess{"care_team", "members", Action::ManageCareTeam},
    // Entries written during a visit.
    FieldAccess{"visit_note", "", Action::SyncPatient},
    FieldAccess{"observation", "", Action::SyncPatient},
    FieldAccess{"medication_administration", "", Action::SyncPatient},
    FieldAccess{"vital_signs", "", Action::SyncPatient},
    FieldAccess{"task_outcome", "", Action::SyncPatient},
    FieldAccess{"message", "", Action::SyncPatient},
    FieldAccess{"proposed_change", "", Action::ProposeChange},
};

using domain::Role;

Decision allow(bool emergency = false) { return {true, emergency, {}}; }
Decision deny(std::string reason) { return {false, false, std::move(reason)}; }

bool isPatient(const api::Principal& caller) { return !caller.patient_id().empty(); }

// The roles each action needs, for practitioners.
bool roleMay(Role role, Action action) {
  switch (action) {
    case Action::ReadRecord:
      return role == domain::NURSE || role == domain::PHYSICIAN || role == domain::COORDINATOR;
    case Action::WriteRecord:
    case Action::SyncPatient:
    case Action::SetLanguage:
    case Action::ReadSchedule:
      return role == domain::NURSE || role == domain::PHYSICIAN || role == domain::COORDINATOR;
    case Action::EditPlan:
    case Action::ScheduleVisit:
    case Action::ManageCareTeam:
    case Action::ManageConsent:
    case Action::ReadAccessLog:
      return role == domain::COORDINATOR;
    case Action::ProposeChange:
      return role == domain::NURSE;
    case Action::SendMessage:
      return role == domain::NURSE || role == domain::PHYSICIAN;
    case Action::DecideProposal:
      return role == domain::PHYSICIAN;
    case Action::ResolveConflict:
      return role == domain::PHYSICIAN || role == domain::COORDINATOR || role == domain::NURSE;
  }
  return false;
}

}  // namespace

const char* actionName(Action action) {
  switch (action) {
    case Action::ReadRecord:
      return "record.read";
    case Action::WriteRecord:
      return "record.write";
    case Action::EditPlan:
      return "plan.edit";
    case Action::ScheduleVisit:
      return "visit.schedule";
    case Action::ManageCareTeam:
      return "care_team.manage";
    case Action::ManageConsent:
      return "consent.manage";
    case Action::ProposeChange:
      return "proposal.create";
    case Action::DecideProposal:
      return "proposal.decide";
    case Action::ResolveConflict:
      return "conflict.resolve";
    case Action::ReadAccessLog:
      return "access_log.read";
    case Action::SyncPatient:
      return "sync";
    case Action::SendMessage:
      return "message.send";
    case Action::SetLanguage:
      return "language.set";
    case Action::ReadSchedule:
      return "schedule.read";
  }
  return "unknown";
}

std::span<const FieldAccess> fieldAccessRules() { return kFieldAccess; }

std::optional<Action> actionForField(std::string_view entityType, std::string_view field) {
  for (const FieldAccess& rule : kFieldAccess) {
    if (rule.entityType == entityType && rule.field == field) return rule.action;
  }
  return std::nullopt;
}

Decision decide(const api::Principal& caller, Action action, const std::string& patientId, const CareContext& context,
                const std::string& emergencyReason) {
  if (!context.patientExists) return deny("patient " + patientId + ": no such patient");

  if (isPatient(caller)) {
    if (caller.patient_id() != patientId) return deny("a patient may only see their own record");
    if (action == Action::ReadRecord || action == Action::ReadAccessLog || action == Action::ManageConsent ||
        action == Action::SetLanguage) {
      return allow();
    }
    return deny(std::string(actionName(action)) + ": not for patients");
  }

  const Role role = caller.role();
  if (role == domain::ADMINISTRATOR) return deny("administrators have no access to clinical records");
  if (!roleMay(role, action)) {
    return deny(std::string(actionName(action)) + ": not allowed for the role " + domain::Role_Name(role));
  }

  const bool homeCoordinator = role == domain::COORDINATOR && caller.organisation_id() == context.homeOrganisationId;
  const bool organisationCoordinator =
      action == Action::ReadSchedule && role == domain::COORDINATOR && context.organisationInCareTeam;
  const bool relationship = context.inCareTeam || homeCoordinator || organisationCoordinator;
  const bool crossOrganisation = caller.organisation_id() != context.homeOrganisationId;
  const bool consented = !crossOrganisation || context.consentForCallerOrganisation;
  if (relationship && consented) return allow();

  if (!emergencyReason.empty()) {
    if (role != domain::PHYSICIAN) return deny("emergency access: only physicians may use it");
    if (action != Action::ReadRecord) return deny("emergency access: allows reading only");
    return allow(true);
  }
  if (!relationship) return deny("no care relationship with " + patientId);
  return deny("no consent from " + patientId + " to share with organisation " + caller.organisation_id());
}

bool mayReadEntryFrom(const api::Principal& caller, const CareContext& context, const std::string& entryOrganisationId,
                      bool emergency) {
  if (emergency || !caller.patient_id().empty()) return true;
  if (entryOrganisationId.empty() || entryOrganisationId == caller.organisation_id()) return true;
  return context.consentForCallerOrganisation;
}

bool mayReadProtectedAddress(const api::Principal& caller, const CareContext& context) {
  if (!caller.patient_id().empty()) return true;
  if (caller.role() == domain::NURSE) return context.inCareTeam;
  return caller.role() == domain::COORDINATOR && caller.organisation_id() == context.homeOrganisationId;
}

}  // namespace hemma::server
