#pragma once
// The shared care plan as the web and integrations see it: patients (with
// their NEWS2 trend), plans, care teams, consent and blocks, visits, the
// schedule and board across organisations, messages, alerts, plan change
// proposals, the timeline, conflicts, the audit trail and its review. Every call takes the caller,
// decides access in one place (access_policy.hpp) and appends an audit entry
// for every attempt, allowed or denied. Changes to anything a tablet also
// holds are written as sync operations, so they reach the tablets.
//
// Thread-safe. Failures: Forbidden (403), NotFound (404), BadRequest (400),
// each naming what is wrong; a denied attempt is audited before it throws.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/server/access_policy.hpp"
#include "hemma/server/audit_log.hpp"
#include "hemma/server/domain_store.hpp"
#include "hemma/server/operation_log.hpp"
#include "hemma/server/sync_service.hpp"
#include "hemma/sync/entry_rules.hpp"

namespace hemma::server {

class Forbidden : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CareService {
 public:
  CareService(DomainStore& domain, OperationLog& log, SyncService& sync, AuditLog& audit)
      : m_domain(domain), m_log(log), m_sync(sync), m_audit(audit) {}

  // The caller's patients: care team memberships, a coordinator's home
  // organisation's patients, a patient's own record. Each with its NEWS2
  // trend (the latest 10 sets of vital signs the caller may see).
  api::PatientList patients(const api::Principal& caller, std::int64_t nowMs);
  // Every organisation with its units: names only, for any signed-in caller
  // (they label entries, consents and columns).
  api::OrganisationList organisations();
  // Vital signs scoring medium or high and urgent messages of the caller's
  // patients (as patients()) stored after `afterSeq`, at most 500 a call.
  // Practitioners with clinical roles only; each patient's alerts read is
  // audited.
  api::AlertList alerts(const api::Principal& caller, std::uint64_t afterSeq, std::int64_t nowMs);
  // `emergencyReason`: break the glass (physicians; flagged for review).
  api::PatientRecord record(const api::Principal& caller, const std::string& patientId,
                            const std::string& emergencyReason, std::int64_t nowMs);
  api::Timeline timeline(const api::Principal& caller, const std::string& patientId, const std::string& emergencyReason,
                         std::int64_t nowMs);

  // Writes the non-empty fields of `changes` (name, address, access notes,
  // preferred language).
  domain::Patient updatePatient(const api::Principal& caller, const std::string& patientId,
                                const domain::Patient& changes, std::int64_t nowMs);
  // The patient's own choice of language: "sv", "fi" or "en".
  domain::Patient setLanguage(const api::Principal& caller, const std::string& patientId, const std::string& language,
                              std::int64_t nowMs);
  // Sets the plan's responsibility and status, and writes each goal,
  // activity and medication given (a new one when its id is empty) and the
  // SpO2 scale when set.
  domain::CarePlan updatePlan(const api::Principal& caller, const std::string& patientId, const domain::CarePlan& plan,
                              std::int64_t nowMs);

  api::CareTeam careTeam(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  api::CareTeam addCareTeamMember(const api::Principal& caller, const std::string& patientId,
                                  const api::CareTeamMember& member, std::int64_t nowMs);
  api::CareTeam removeCareTeamMember(const api::Principal& caller, const std::string& patientId,
                                     const std::string& practitionerId, std::int64_t nowMs);

  api::ConsentList consents(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  api::Consent addConsent(const api::Principal& caller, const std::string& patientId, const api::Consent& consent,
                          std::int64_t nowMs);
  api::Consent withdrawConsent(const api::Principal& caller, const std::string& consentId, std::int64_t nowMs);
  api::BlockList blocks(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  api::Block addBlock(const api::Principal& caller, const std::string& patientId, const api::Block& block,
                      std::int64_t nowMs);
  api::Block liftBlock(const api::Principal& caller, const std::string& blockId, std::int64_t nowMs);

  api::VisitList visits(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  domain::Visit scheduleVisit(const api::Principal& caller, const std::string& patientId, const domain::Visit& visit,
                              std::int64_t nowMs);
  // Reassigns, reschedules or cancels a visit (the fields set in `update`).
  domain::Visit updateVisit(const api::Principal& caller, const std::string& patientId, const std::string& visitId,
                            const api::VisitUpdate& update, std::int64_t nowMs);
  // Visits starting in [from, to) of the patients whose schedule the caller
  // may read. `from` and `to` are RFC 3339 or YYYY-MM-DD (UTC; a date as
  // `to` includes that day); empty: today.
  api::Schedule schedule(const api::Principal& caller, const std::string& from, const std::string& to,
                         std::int64_t nowMs);
  // One day's visits per organisation, done and remaining. `date` is
  // YYYY-MM-DD (UTC); empty: today.
  api::Board board(const api::Principal& caller, const std::string& date, std::int64_t nowMs);

  // Messages about the patient, oldest first.
  api::MessageList messages(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  // Stored as a `message` entry by the caller, so it syncs to the tablets. A
  // reply goes to the author of the message it answers unless a recipient
  // is named; no recipient means the responsible physician.
  domain::Message sendMessage(const api::Principal& caller, const std::string& patientId,
                              const api::SendMessageRequest& request, std::int64_t nowMs);

  api::PlanChangeProposal propose(const api::Principal& caller, const std::string& patientId,
                                  const api::PlanChangeProposal& proposal, std::int64_t nowMs);
  // Pending proposals of the caller's patients (the physician's queue).
  api::ProposalList proposalQueue(const api::Principal& caller, std::int64_t nowMs);
  api::ProposalList proposals(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  // A signed proposal's value is written to the plan as the physician's
  // write; a rejection needs a reason.
  api::PlanChangeProposal decideProposal(const api::Principal& caller, const std::string& proposalId, bool sign,
                                         const std::string& reason, std::int64_t nowMs);

  sync::ConflictList conflicts(const api::Principal& caller, const std::string& patientId, bool openOnly,
                               std::int64_t nowMs);
  sync::Conflict resolveConflict(const api::Principal& caller, const std::string& conflictId, const std::string& value,
                                 std::int64_t nowMs);

  api::AccessLog accessLog(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  // Coordinators and administrators: their organisation's audit entries.
  api::AuditList audit(const api::Principal& caller, AuditQuery query, std::int64_t nowMs);
  // A random sample of them (1-100 entries) to check, and the checks made.
  api::AuditList auditSample(const api::Principal& caller, std::uint32_t size, std::int64_t nowMs);
  api::AuditReview addAuditReview(const api::Principal& caller, const api::AuditReview& review, std::int64_t nowMs);
  api::AuditReviewList auditReviews(const api::Principal& caller, std::int64_t nowMs);

  // A tablet's push, with its device token: each operation must be the
  // device's own, by its user, about a patient the user may sync; anything
  // else is rejected as FORBIDDEN by id. Every stored operation is audited
  // with its original author and time.
  sync::PushResponse push(const api::Principal& caller, const sync::PushRequest& request, std::int64_t nowMs);
  // A tablet's pull: only the operations of patients in the user's scope,
  // and of those only entries shared with the user's organisation. Patients
  // the device holds that left the scope are named for purging; patients in
  // scope the device does not hold yet get their history up to the cursor
  // first (a backfill, paged; the cursor waits until it is done); both only
  // for a request carrying the device's scope state. Audited once per
  // patient per page.
  sync::PullResponse pull(const api::Principal& caller, const sync::PullRequest& request, std::int64_t nowMs);

  // Account events (logins, failed logins, device registration and
  // revocation): audited like access to patient data, without a patient.
  void recordAccountEvent(const api::Principal& who, const std::string& action, const std::string& outcome,
                          std::int64_t nowMs);

  CareContext context(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs);
  std::string organisationOf(const std::string& practitionerId);

 private:
  // What require() decided, and the context it decided on.
  struct Access {
    Decision decision;
    CareContext context;
  };
  // Decides, audits, and throws Forbidden / NotFound when denied.
  Access require(const api::Principal& caller, Action action, const std::string& patientId, std::int64_t nowMs,
                 const std::string& purpose = {}, const std::string& emergencyReason = {});
  void record(const api::Principal& caller, const std::string& action, const std::string& patientId,
              const std::string& outcome, const std::string& purpose, bool emergency, std::int64_t nowMs);
  // One "sync.pull" audit entry per patient sent.
  void auditPull(const api::Principal& caller, const std::set<std::string>& patientIds, std::int64_t nowMs);
  // Which entries of one patient the caller sees (cross-organisation
  // entries need consent; a blocked unit's entries stay in the unit), with
  // their authors.
  class EntryFilter {
   public:
    EntryFilter(CareService& service, const api::Principal& caller, const CareContext& context, bool emergency,
                const std::string& patientId);
    // The entry's author when the caller may see the entry, else nullptr.
    const domain::Practitioner* author(const std::string& authorId);
    std::string organisationName(const std::string& organisationId);

   private:
    CareService& m_service;
    const api::Principal& m_caller;
    CareContext m_context;
    bool m_emergency;
    std::set<std::string> m_blockedUnits;
    std::map<std::string, domain::Practitioner> m_authors;
    std::map<std::string, std::string> m_organisationNames;
  };
  // The ids of the patients the caller has a care relationship with
  // (before consent): care teams, a coordinator's home organisation.
  std::set<std::string> candidatePatients(const api::Principal& caller);
  // A practitioner-only listing: audits and throws Forbidden for patients
  // and administrators.
  void requireClinician(const api::Principal& caller, const std::string& action, std::int64_t nowMs);
  void requireAuditReviewer(const api::Principal& caller, const std::string& action, std::int64_t nowMs);
  void auditEach(const api::Principal& caller, const std::string& action, const std::set<std::string>& patientIds,
                 std::int64_t nowMs);
  std::vector<api::ScheduledVisit> scheduledVisits(const api::Principal& caller, std::int64_t fromMs, std::int64_t toMs,
                                                   std::int64_t nowMs);
  domain::Patient patientFields(const std::string& patientId);
  domain::CarePlan planOf(const std::string& patientId);
  api::VisitList visitsOf(const std::string& patientId);
  // A pushed operation the entry rules refuse (sync/entry_rules.hpp), as
  // the caller's, against the stored state and the operations `pending`
  // holds from earlier in the push; a let-through operation is added to it.
  std::optional<SyncService::Refusal> entryRuleRefusal(const api::Principal& caller, const sync::Operation& op,
                                                       sync::PendingEntryState& pending);

  DomainStore& m_domain;
  OperationLog& m_log;
  SyncService& m_sync;
  AuditLog& m_audit;
};

}  // namespace hemma::server
