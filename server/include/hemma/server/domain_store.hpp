#pragma once
// The server's own records, which tablets do not edit: organisations, units,
// practitioners, the patient registry (national id, protected identity, home
// organisation), care teams, consents, blocks, the care plan's header, and
// plan change proposals. Poco::Data on the server database.
//
// Thread-safe: every call takes its own session. Failures throw
// Poco::Data::DataException; writes are single statements or transactions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/domain.pb.h"
#include "hemma/server/database.hpp"

namespace hemma::server {

struct PatientRegistration {
  std::string id;
  std::string nationalId;
  std::string homeOrganisationId;
  bool protectedIdentity = false;
};

class DomainStore {
 public:
  explicit DomainStore(Database& db);

  void upsertOrganisation(const domain::Organisation& organisation);
  std::optional<domain::Organisation> organisation(const std::string& id);
  std::vector<domain::Organisation> organisations();

  void upsertPractitioner(const domain::Practitioner& practitioner);
  std::optional<domain::Practitioner> practitioner(const std::string& id);

  void upsertPatient(const PatientRegistration& patient);
  std::optional<PatientRegistration> patient(const std::string& id);

  // Care team membership; adding an existing member updates the
  // responsibility. Returns false from remove when not a member.
  void addCareTeamMember(const std::string& patientId, const std::string& practitionerId,
                         api::CareTeamMember::Responsibility responsibility);
  bool removeCareTeamMember(const std::string& patientId, const std::string& practitionerId);
  api::CareTeam careTeam(const std::string& patientId);
  bool inCareTeam(const std::string& patientId, const std::string& practitionerId);
  // Patients whose care team includes the practitioner.
  std::vector<std::string> patientsOf(const std::string& practitionerId);
  // Patients whose home organisation is `organisationId`.
  std::vector<std::string> patientsAt(const std::string& organisationId);
  // Patients whose care team includes someone of `organisationId`.
  std::vector<std::string> patientsServedBy(const std::string& organisationId);
  bool organisationInCareTeam(const std::string& patientId, const std::string& organisationId);

  std::string addConsent(api::Consent consent);
  bool withdrawConsent(const std::string& consentId, const std::string& atRfc3339);
  api::ConsentList consents(const std::string& patientId);
  std::optional<api::Consent> consent(const std::string& consentId);
  // In force at `atRfc3339`: started, not ended, not withdrawn.
  bool consentActive(const std::string& patientId, const std::string& organisationId, const std::string& atRfc3339);

  std::string addBlock(api::Block block);
  bool liftBlock(const std::string& blockId, const std::string& atRfc3339);
  api::BlockList blocks(const std::string& patientId);
  std::optional<api::Block> block(const std::string& blockId);

  // The plan's own fields; goals and activities are synced operations.
  void setPlanHeader(const std::string& patientId, const std::string& overallResponsibleOrganisationId,
                     domain::CarePlan::Status status);
  domain::CarePlan planHeader(const std::string& patientId);

  std::string addProposal(api::PlanChangeProposal proposal);
  void updateProposal(const api::PlanChangeProposal& proposal);
  // Stores `decided` (a decision on a pending proposal) only if the proposal
  // is still pending: false when someone decided it first.
  bool claimProposal(const api::PlanChangeProposal& decided);
  std::optional<api::PlanChangeProposal> proposal(const std::string& id);
  // Pending proposals of the given patients (all patients when empty list
  // and `all` is true).
  api::ProposalList proposals(const std::vector<std::string>& patientIds, bool pendingOnly);

 private:
  std::string newId(const std::string& prefix);

  Database& m_db;
};

}  // namespace hemma::server
