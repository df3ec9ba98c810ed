#include "hemma/server/domain_store.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Nullable.h>
#include <Poco/UUIDGenerator.h>

#include "hemma/server/blob.hpp"

namespace hemma::server {

using namespace Poco::Data::Keywords;

namespace {

template <typename Message>
Message fromBlob(const Poco::Data::BLOB& blob) {
  return messageOf<Message>(blob, "domain store");
}

template <typename Message>
std::optional<Message> one(std::vector<Poco::Data::BLOB>& bodies) {
  if (bodies.empty()) return std::nullopt;
  return fromBlob<Message>(bodies.front());
}

}  // namespace

DomainStore::DomainStore(Database& db) : m_db(db) {
  Poco::Data::Session s = m_db.session();
  s << "CREATE TABLE IF NOT EXISTS organisations(id TEXT PRIMARY KEY, body BLOB NOT NULL)", now;
  s << "CREATE TABLE IF NOT EXISTS practitioners(id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, "
       "body BLOB NOT NULL)",
      now;
  s << "CREATE TABLE IF NOT EXISTS patients(id TEXT PRIMARY KEY, national_id TEXT NOT NULL UNIQUE, "
       "home_organisation_id TEXT NOT NULL, protected_identity INTEGER NOT NULL)",
      now;
  s << "CREATE TABLE IF NOT EXISTS care_team_members(patient_id TEXT NOT NULL, practitioner_id TEXT NOT NULL, "
       "responsibility INTEGER NOT NULL, PRIMARY KEY(patient_id, practitioner_id))",
      now;
  s << "CREATE INDEX IF NOT EXISTS care_team_by_practitioner ON care_team_members(practitioner_id)", now;
  s << "CREATE TABLE IF NOT EXISTS consents(id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, "
       "organisation_id TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, "
       "withdrawn_at TEXT NOT NULL, body BLOB NOT NULL)",
      now;
  s << "CREATE INDEX IF NOT EXISTS consents_by_patient ON consents(patient_id, organisation_id)", now;
  s << "CREATE TABLE IF NOT EXISTS blocks(id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, unit_id TEXT NOT NULL, "
       "lifted_at TEXT NOT NULL, body BLOB NOT NULL)",
      now;
  s << "CREATE TABLE IF NOT EXISTS care_plans(patient_id TEXT PRIMARY KEY, overall_organisation_id TEXT NOT NULL, "
       "status INTEGER NOT NULL)",
      now;
  // The proposals table is created with the operation log's (entry_projection.hpp): a tablet's proposal is
  // queued in the transaction that stores it.
}

std::string DomainStore::newId(const std::string& prefix) {
  return prefix + "-" + Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
}

void DomainStore::upsertOrganisation(const domain::Organisation& organisation) {
  Poco::Data::Session s = m_db.session();
  std::string id = organisation.id();
  auto body = toBlob(organisation);
  s << "INSERT INTO organisations(id, body) VALUES(?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body", use(id),
      use(body), now;
}

std::optional<domain::Organisation> DomainStore::organisation(const std::string& id) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string key = id;
  s << "SELECT body FROM organisations WHERE id = ?", into(bodies), use(key), now;
  return one<domain::Organisation>(bodies);
}

std::vector<domain::Organisation> DomainStore::organisations() {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  s << "SELECT body FROM organisations ORDER BY id", into(bodies), now;
  std::vector<domain::Organisation> result;
  for (const auto& body : bodies) result.push_back(fromBlob<domain::Organisation>(body));
  return result;
}

void DomainStore::upsertPractitioner(const domain::Practitioner& practitioner) {
  Poco::Data::Session s = m_db.session();
  std::string id = practitioner.id(), organisation = practitioner.organisation_id();
  auto body = toBlob(practitioner);
  s << "INSERT INTO practitioners(id, organisation_id, body) VALUES(?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
       "organisation_id = excluded.organisation_id, body = excluded.body",
      use(id), use(organisation), use(body), now;
}

std::optional<domain::Practitioner> DomainStore::practitioner(const std::string& id) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string key = id;
  s << "SELECT body FROM practitioners WHERE id = ?", into(bodies), use(key), now;
  return one<domain::Practitioner>(bodies);
}

void DomainStore::upsertPatient(const PatientRegistration& patient) {
  Poco::Data::Session s = m_db.session();
  std::string id = patient.id, nationalId = patient.nationalId, home = patient.homeOrganisationId;
  int protectedIdentity = patient.protectedIdentity ? 1 : 0;
  s << "INSERT INTO patients(id, national_id, home_organisation_id, protected_identity) VALUES(?, ?, ?, ?) "
       "ON CONFLICT(id) DO UPDATE SET national_id = excluded.national_id, "
       "home_organisation_id = excluded.home_organisation_id, protected_identity = excluded.protected_identity",
      use(id), use(nationalId), use(home), use(protectedIdentity), now;
}

std::optional<PatientRegistration> DomainStore::patient(const std::string& id) {
  Poco::Data::Session s = m_db.session();
  std::vector<std::string> nationalIds, homes;
  std::vector<int> protectedFlags;
  std::string key = id;
  s << "SELECT national_id, home_organisation_id, protected_identity FROM patients WHERE id = ?", into(nationalIds),
      into(homes), into(protectedFlags), use(key), now;
  if (nationalIds.empty()) return std::nullopt;
  return PatientRegistration{id, nationalIds[0], homes[0], protectedFlags[0] != 0};
}

void DomainStore::addCareTeamMember(const std::string& patientId, const std::string& practitionerId,
                                    api::CareTeamMember::Responsibility responsibility) {
  Poco::Data::Session s = m_db.session();
  std::string patient = patientId, practitioner = practitionerId;
  int kind = responsibility;
  s << "INSERT INTO care_team_members(patient_id, practitioner_id, responsibility) VALUES(?, ?, ?) "
       "ON CONFLICT(patient_id, practitioner_id) DO UPDATE SET responsibility = excluded.responsibility",
      use(patient), use(practitioner), use(kind), now;
}

bool DomainStore::removeCareTeamMember(const std::string& patientId, const std::string& practitionerId) {
  Poco::Data::Session s = m_db.session();
  std::string patient = patientId, practitioner = practitionerId;
  Poco::Data::Statement remove(s);
  remove << "DELETE FROM care_team_members WHERE patient_id = ? AND practitioner_id = ?", use(patient),
      use(practitioner);
  return remove.execute() > 0;
}

api::CareTeam DomainStore::careTeam(const std::string& patientId) {
  Poco::Data::Session s = m_db.session();
  std::vector<std::string> ids;
  std::vector<int> kinds;
  std::string patient = patientId;
  s << "SELECT practitioner_id, responsibility FROM care_team_members WHERE patient_id = ? ORDER BY practitioner_id",
      into(ids), into(kinds), use(patient), now;
  api::CareTeam team;
  team.set_patient_id(patientId);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto& member = *team.add_members();
    member.set_practitioner_id(ids[i]);
    member.set_responsibility(static_cast<api::CareTeamMember::Responsibility>(kinds[i]));
    if (const auto p = practitioner(ids[i])) {
      member.set_name(p->name());
      member.set_organisation_id(p->organisation_id());
      member.set_role(p->role());
    }
  }
  return team;
}

bool DomainStore::inCareTeam(const std::string& patientId, const std::string& practitionerId) {
  Poco::Data::Session s = m_db.session();
  int count = 0;
  std::string patient = patientId, practitioner = practitionerId;
  s << "SELECT count(*) FROM care_team_members WHERE patient_id = ? AND practitioner_id = ?", into(count), use(patient),
      use(practitioner), now;
  return count > 0;
}

std::vector<std::string> DomainStore::patientsOf(const std::string& practitionerId) {
  Poco::Data::Session s = m_db.session();
  std::vector<std::string> ids;
  std::string practitioner = practitionerId;
  s << "SELECT patient_id FROM care_team_members WHERE practitioner_id = ? ORDER BY patient_id", into(ids),
      use(practitioner), now;
  return ids;
}

std::vector<std::string> DomainStore::patientsAt(const std::string& organisationId) {
  Poco::Data::Session s = m_db.session();
  std::vector<std::string> ids;
  std::string organisation = organisationId;
  s << "SELECT id FROM patients WHERE home_organisation_id = ? ORDER BY id", into(ids), use(organisation), now;
  return ids;
}

std::vector<std::string> DomainStore::patientsServedBy(const std::string& organisationId) {
  Poco::Data::Session s = m_db.session();
  std::vector<std::string> ids;
  std::string organisation = organisationId;
  s << "SELECT DISTINCT m.patient_id FROM care_team_members m JOIN practitioners p ON p.id = m.practitioner_id "
       "WHERE p.organisation_id = ? ORDER BY m.patient_id",
      into(ids), use(organisation), now;
  return ids;
}

bool DomainStore::organisationInCareTeam(const std::string& patientId, const std::string& organisationId) {
  Poco::Data::Session s = m_db.session();
  int count = 0;
  std::string patient = patientId, organisation = organisationId;
  s << "SELECT count(*) FROM care_team_members m JOIN practitioners p ON p.id = m.practitioner_id "
       "WHERE m.patient_id = ? AND p.organisation_id = ?",
      into(count), use(patient), use(organisation), now;
  return count > 0;
}

std::string DomainStore::addConsent(api::Consent consent) {
  if (consent.id().empty()) consent.set_id(newId("consent"));
  Poco::Data::Session s = m_db.session();
  std::string id = consent.id(), patient = consent.patient_id(), organisation = consent.organisation_id(),
              from = consent.valid_from(), until = consent.valid_until(), withdrawn = consent.withdrawn_at();
  auto body = toBlob(consent);
  s << "INSERT INTO consents(id, patient_id, organisation_id, valid_from, valid_until, withdrawn_at, body) "
       "VALUES(?, ?, ?, ?, ?, ?, ?)",
      use(id), use(patient), use(organisation), use(from), use(until), use(withdrawn), use(body), now;
  return consent.id();
}

bool DomainStore::withdrawConsent(const std::string& consentId, const std::string& atRfc3339) {
  auto consent = this->consent(consentId);
  if (!consent || !consent->withdrawn_at().empty()) return false;
  consent->set_withdrawn_at(atRfc3339);
  Poco::Data::Session s = m_db.session();
  std::string id = consentId, at = atRfc3339;
  auto body = toBlob(*consent);
  s << "UPDATE consents SET withdrawn_at = ?, body = ? WHERE id = ?", use(at), use(body), use(id), now;
  return true;
}

api::ConsentList DomainStore::consents(const std::string& patientId) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string patient = patientId;
  s << "SELECT body FROM consents WHERE patient_id = ? ORDER BY valid_from, id", into(bodies), use(patient), now;
  api::ConsentList list;
  for (const auto& body : bodies) *list.add_consents() = fromBlob<api::Consent>(body);
  return list;
}

std::optional<api::Consent> DomainStore::consent(const std::string& consentId) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string id = consentId;
  s << "SELECT body FROM consents WHERE id = ?", into(bodies), use(id), now;
  return one<api::Consent>(bodies);
}

bool DomainStore::consentActive(const std::string& patientId, const std::string& organisationId,
                                const std::string& atRfc3339) {
  Poco::Data::Session s = m_db.session();
  int count = 0;
  std::string patient = patientId, organisation = organisationId, at = atRfc3339;
  s << "SELECT count(*) FROM consents WHERE patient_id = ? AND organisation_id = ? AND valid_from <= ? "
       "AND (valid_until = '' OR valid_until > ?) AND withdrawn_at = ''",
      into(count), use(patient), use(organisation), use(at), use(at), now;
  return count > 0;
}

std::string DomainStore::addBlock(api::Block block) {
  if (block.id().empty()) block.set_id(newId("block"));
  Poco::Data::Session s = m_db.session();
  std::string id = block.id(), patient = block.patient_id(), unit = block.unit_id(), lifted = block.lifted_at();
  auto body = toBlob(block);
  s << "INSERT INTO blocks(id, patient_id, unit_id, lifted_at, body) VALUES(?, ?, ?, ?, ?)", use(id), use(patient),
      use(unit), use(lifted), use(body), now;
  return block.id();
}

bool DomainStore::liftBlock(const std::string& blockId, const std::string& atRfc3339) {
  auto block = this->block(blockId);
  if (!block || !block->lifted_at().empty()) return false;
  block->set_lifted_at(atRfc3339);
  Poco::Data::Session s = m_db.session();
  std::string id = blockId, at = atRfc3339;
  auto body = toBlob(*block);
  s << "UPDATE blocks SET lifted_at = ?, body = ? WHERE id = ?", use(at), use(body), use(id), now;
  return true;
}

api::BlockList DomainStore::blocks(const std::string& patientId) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string patient = patientId;
  s << "SELECT body FROM blocks WHERE patient_id = ? ORDER BY id", into(bodies), use(patient), now;
  api::BlockList list;
  for (const auto& body : bodies) *list.add_blocks() = fromBlob<api::Block>(body);
  return list;
}

std::optional<api::Block> DomainStore::block(const std::string& blockId) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string id = blockId;
  s << "SELECT body FROM blocks WHERE id = ?", into(bodies), use(id), now;
  return one<api::Block>(bodies);
}

void DomainStore::setPlanHeader(const std::string& patientId, const std::string& overallResponsibleOrganisationId,
                                domain::CarePlan::Status status) {
  Poco::Data::Session s = m_db.session();
  std::string patient = patientId, organisation = overallResponsibleOrganisationId;
  int code = status;
  s << "INSERT INTO care_plans(patient_id, overall_organisation_id, status) VALUES(?, ?, ?) "
       "ON CONFLICT(patient_id) DO UPDATE SET overall_organisation_id = excluded.overall_organisation_id, "
       "status = excluded.status",
      use(patient), use(organisation), use(code), now;
}

domain::CarePlan DomainStore::planHeader(const std::string& patientId) {
  Poco::Data::Session s = m_db.session();
  std::vector<std::string> organisations;
  std::vector<int> statuses;
  std::string patient = patientId;
  s << "SELECT overall_organisation_id, status FROM care_plans WHERE patient_id = ?", into(organisations),
      into(statuses), use(patient), now;
  domain::CarePlan plan;
  plan.set_id("plan-" + patientId);
  plan.set_patient_id(patientId);
  if (!organisations.empty()) {
    plan.set_overall_responsible_organisation_id(organisations[0]);
    plan.set_status(static_cast<domain::CarePlan::Status>(statuses[0]));
  } else {
    plan.set_status(domain::CarePlan::DRAFT);
  }
  return plan;
}

std::string DomainStore::addProposal(api::PlanChangeProposal proposal) {
  if (proposal.id().empty()) proposal.set_id(newId("proposal"));
  Poco::Data::Session s = m_db.session();
  std::string id = proposal.id(), patient = proposal.patient_id(), created = proposal.created_at();
  int status = proposal.status();
  auto body = toBlob(proposal);
  s << "INSERT INTO proposals(id, patient_id, status, created_at, body) VALUES(?, ?, ?, ?, ?)", use(id), use(patient),
      use(status), use(created), use(body), now;
  return proposal.id();
}

void DomainStore::updateProposal(const api::PlanChangeProposal& proposal) {
  Poco::Data::Session s = m_db.session();
  std::string id = proposal.id();
  int status = proposal.status();
  auto body = toBlob(proposal);
  s << "UPDATE proposals SET status = ?, body = ? WHERE id = ?", use(status), use(body), use(id), now;
}

bool DomainStore::claimProposal(const api::PlanChangeProposal& decided) {
  Poco::Data::Session s = m_db.session();
  std::string id = decided.id();
  int status = decided.status();
  int pending = api::PlanChangeProposal::PENDING;
  auto body = toBlob(decided);
  Poco::Data::Statement update(s);
  update << "UPDATE proposals SET status = ?, body = ? WHERE id = ? AND status = ?", use(status), use(body), use(id),
      use(pending);
  return update.execute() > 0;
}

std::optional<api::PlanChangeProposal> DomainStore::proposal(const std::string& id) {
  Poco::Data::Session s = m_db.session();
  std::vector<Poco::Data::BLOB> bodies;
  std::string key = id;
  s << "SELECT body FROM proposals WHERE id = ?", into(bodies), use(key), now;
  return one<api::PlanChangeProposal>(bodies);
}

api::ProposalList DomainStore::proposals(const std::vector<std::string>& patientIds, bool pendingOnly) {
  api::ProposalList list;
  Poco::Data::Session s = m_db.session();
  for (const auto& patientId : patientIds) {
    std::vector<Poco::Data::BLOB> bodies;
    std::string patient = patientId;
    int pending = api::PlanChangeProposal::PENDING;
    int onlyPending = pendingOnly ? 1 : 0;
    s << "SELECT body FROM proposals WHERE patient_id = ? AND (? = 0 OR status = ?) ORDER BY created_at, id",
        into(bodies), use(patient), use(onlyPending), use(pending), now;
    for (const auto& body : bodies) *list.add_proposals() = fromBlob<api::PlanChangeProposal>(body);
  }
  return list;
}

}  // namespace hemma::server
