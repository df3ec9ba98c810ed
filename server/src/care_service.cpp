#include "hemma/server/care_service.hpp"

#include <Poco/UUIDGenerator.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "hemma/sync/entry_rules.hpp"
#include "hemma/sync/merge_rules.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::server {

namespace {

std::string newId(const std::string& prefix) {
  return prefix + "-" + Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
}

// Normalises an RFC 3339 time (so stored times compare as text), or throws
// naming the field.
std::string normalisedTime(const std::string& field, const std::string& value) {
  const auto ms = sync::parseRfc3339(value);
  if (!ms) throw BadRequest(field + ": not an RFC 3339 time");
  return sync::formatRfc3339(*ms);
}

void requireId(const std::string& field, const std::string& value) {
  if (value.empty()) throw BadRequest(field + ": empty");
  if (value.size() > sync::kMaxIdBytes) throw BadRequest(field + ": longer than 128 bytes");
}

bool isPractitioner(const api::Principal& caller) { return caller.patient_id().empty(); }

// The NEWS2 trend of a patient summary: this many latest points.
constexpr std::uint32_t kTrendPoints = 10;
// Alerts answered by one poll, at most.
constexpr std::uint32_t kAlertPage = 500;
constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
// A schedule covers at most this many days.
constexpr std::int64_t kMaxScheduleDays = 62;

// The author of a write made by the caller: a patient writes as
// "patient:<id>", like their audit entries.
std::string writerId(const api::Principal& caller) {
  return caller.patient_id().empty() ? caller.user_id() : "patient:" + caller.patient_id();
}

// Midnight UTC of a YYYY-MM-DD date, or nullopt.
std::optional<std::int64_t> parseDate(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto ms = sync::parseRfc3339(text + "T00:00:00Z");
  if (!ms || sync::formatRfc3339(*ms).substr(0, 10) != text) return std::nullopt;  // e.g. 2026-02-30
  return ms;
}

std::int64_t startOfDay(std::int64_t ms) { return ms - ((ms % kDayMs) + kDayMs) % kDayMs; }

std::string protectedText() { return "(protected identity)"; }

}  // namespace

CareContext CareService::context(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs) {
  CareContext context;
  const auto patient = m_domain.patient(patientId);
  if (!patient) return context;
  context.patientExists = true;
  context.homeOrganisationId = patient->homeOrganisationId;
  if (isPractitioner(caller)) {
    context.inCareTeam = m_domain.inCareTeam(patientId, caller.user_id());
    context.consentForCallerOrganisation =
        m_domain.consentActive(patientId, caller.organisation_id(), sync::formatRfc3339(nowMs));
    if (caller.role() == domain::COORDINATOR) {
      context.organisationInCareTeam = m_domain.organisationInCareTeam(patientId, caller.organisation_id());
    }
  }
  return context;
}

std::string CareService::organisationOf(const std::string& practitionerId) {
  const auto practitioner = m_domain.practitioner(practitionerId);
  return practitioner ? practitioner->organisation_id() : std::string();
}

void CareService::record(const api::Principal& caller, const std::string& action, const std::string& patientId,
                         const std::string& outcome, const std::string& purpose, bool emergency, std::int64_t nowMs) {
  api::AuditEntry entry;
  entry.set_user_id(caller.patient_id().empty() ? caller.user_id() : "patient:" + caller.patient_id());
  entry.set_organisation_id(caller.organisation_id());
  entry.set_unit_id(caller.unit_id());
  entry.set_device_id(caller.device_id());
  entry.set_patient_id(patientId);
  entry.set_action(action);
  entry.set_purpose(purpose);
  entry.set_outcome(outcome);
  entry.set_emergency(emergency);
  m_audit.append(std::move(entry), sync::formatRfc3339(nowMs));
}

CareService::Access CareService::require(const api::Principal& caller, Action action, const std::string& patientId,
                                         std::int64_t nowMs, const std::string& purpose,
                                         const std::string& emergencyReason) {
  const CareContext ctx = context(caller, patientId, nowMs);
  const Decision decision = decide(caller, action, patientId, ctx, emergencyReason);
  const std::string why = emergencyReason.empty() ? purpose : "emergency: " + emergencyReason;
  record(caller, actionName(action), patientId, decision.allowed ? "allowed" : "denied: " + decision.reason, why,
         decision.emergency || !emergencyReason.empty(), nowMs);
  if (!decision.allowed) {
    if (!ctx.patientExists) throw NotFound(decision.reason);
    throw Forbidden(decision.reason);
  }
  return {decision, ctx};
}

domain::Patient CareService::patientFields(const std::string& patientId) {
  domain::Patient patient;
  patient.set_id(patientId);
  for (const auto& row : m_log.fields(patientId, "patient")) {
    if (row.key.entityId != patientId) continue;
    if (row.key.field == "name") patient.set_name(row.value);
    if (row.key.field == "address") patient.set_address(row.value);
    if (row.key.field == "access_notes") patient.set_access_notes(row.value);
    if (row.key.field == "preferred_language") patient.set_preferred_language(row.value);
  }
  return patient;
}

void CareService::recordAccountEvent(const api::Principal& who, const std::string& action, const std::string& outcome,
                                     std::int64_t nowMs) {
  record(who, action, "", outcome, "", false, nowMs);
}

std::set<std::string> CareService::candidatePatients(const api::Principal& caller) {
  std::set<std::string> ids;
  if (!caller.patient_id().empty()) {
    ids.insert(caller.patient_id());
  } else if (caller.role() != domain::ADMINISTRATOR) {
    for (auto& id : m_domain.patientsOf(caller.user_id())) ids.insert(id);
    if (caller.role() == domain::COORDINATOR) {
      for (auto& id : m_domain.patientsAt(caller.organisation_id())) ids.insert(id);
    }
  }
  return ids;
}

api::PatientList CareService::patients(const api::Principal& caller, std::int64_t nowMs) {
  const std::set<std::string> ids = candidatePatients(caller);
  api::PatientList list;
  std::vector<api::AuditEntry> entries;
  for (const auto& id : ids) {
    const CareContext ctx = context(caller, id, nowMs);
    if (!decide(caller, Action::ReadRecord, id, ctx).allowed) continue;  // e.g. no consent across organisations
    auto& summary = *list.add_patients();
    summary.set_patient_id(id);
    summary.set_name(patientFields(id).name());
    summary.set_home_organisation_id(ctx.homeOrganisationId);
    EntryFilter filter(*this, caller, ctx, false, id);
    for (auto& point : m_log.news2(id, kTrendPoints)) {
      if (filter.author(point.authorId)) *summary.add_news2() = std::move(point.item);
    }
    api::AuditEntry entry;
    entry.set_user_id(caller.patient_id().empty() ? caller.user_id() : "patient:" + caller.patient_id());
    entry.set_organisation_id(caller.organisation_id());
    entry.set_unit_id(caller.unit_id());
    entry.set_patient_id(id);
    entry.set_action("patient.list");
    entry.set_outcome("allowed");
    entries.push_back(std::move(entry));
  }
  m_audit.append(std::move(entries), sync::formatRfc3339(nowMs));
  return list;
}

api::PatientRecord CareService::record(const api::Principal& caller, const std::string& patientId,
                                       const std::string& emergencyReason, std::int64_t nowMs) {
  const auto [decision, ctx] = require(caller, Action::ReadRecord, patientId, nowMs, "read record", emergencyReason);
  const auto registration = m_domain.patient(patientId);

  api::PatientRecord result;
  result.set_emergency_access(decision.emergency);
  result.set_home_organisation_id(registration->homeOrganisationId);
  domain::Patient& patient = *result.mutable_patient();
  patient = patientFields(patientId);
  patient.set_national_id(registration->nationalId);
  patient.set_protected_identity(registration->protectedIdentity);
  if (registration->protectedIdentity && !mayReadProtectedAddress(caller, ctx)) {
    patient.set_address(protectedText());
    patient.set_access_notes(protectedText());
  }

  *result.mutable_plan() = planOf(patientId);
  *result.mutable_care_team() = m_domain.careTeam(patientId);
  const api::VisitList scheduled = visitsOf(patientId);
  for (const auto& visit : scheduled.visits()) *result.add_visits() = visit;
  return result;
}

domain::CarePlan CareService::planOf(const std::string& patientId) {
  domain::CarePlan plan = m_domain.planHeader(patientId);
  std::map<std::string, domain::Goal> goals;
  for (const auto& row : m_log.fields(patientId, "care_plan_goal")) {
    auto& goal = goals[row.key.entityId];
    goal.set_id(row.key.entityId);
    if (row.key.field == "text") goal.set_text(row.value);
  }
  for (auto& [id, goal] : goals) *plan.add_goals() = goal;
  std::map<std::string, domain::Activity> activities;
  for (const auto& row : m_log.fields(patientId, "care_plan_activity")) {
    auto& activity = activities[row.key.entityId];
    activity.set_id(row.key.entityId);
    if (row.key.field == "text") activity.set_text(row.value);
    if (row.key.field == "frequency") activity.set_frequency(row.value);
    if (row.key.field == "responsible_organisation_id") activity.set_responsible_organisation_id(row.value);
    if (row.key.field == "responsible_role") {
      domain::Role role = domain::ROLE_UNSPECIFIED;
      domain::Role_Parse(row.value, &role);
      activity.set_responsible_role(role);
    }
  }
  for (auto& [id, activity] : activities) *plan.add_activities() = activity;
  std::map<std::string, domain::Medication> medications;
  for (const auto& row : m_log.fields(patientId, "medication")) {
    auto& medication = medications[row.key.entityId];
    medication.set_id(row.key.entityId);
    if (row.key.field == "name") medication.set_name(row.value);
    if (row.key.field == "dose") medication.set_dose(row.value);
    if (row.key.field == "frequency") medication.set_frequency(row.value);
  }
  for (auto& [id, medication] : medications) *plan.add_medications() = medication;
  const auto scale2 = m_log.field({patientId, "care_plan", patientId, "spo2_scale_2"});
  plan.set_spo2_scale_2(scale2 && scale2->value == "true");
  return plan;
}

CareService::EntryFilter::EntryFilter(CareService& service, const api::Principal& caller, const CareContext& context,
                                      bool emergency, const std::string& patientId)
    : m_service(service), m_caller(caller), m_context(context), m_emergency(emergency) {
  const api::BlockList blocks = m_service.m_domain.blocks(patientId);
  for (const auto& block : blocks.blocks()) {
    if (block.lifted_at().empty()) m_blockedUnits.insert(block.unit_id());
  }
}

const domain::Practitioner* CareService::EntryFilter::author(const std::string& authorId) {
  auto it = m_authors.find(authorId);
  if (it == m_authors.end()) {
    it = m_authors.emplace(authorId, m_service.m_domain.practitioner(authorId).value_or(domain::Practitioner())).first;
  }
  const domain::Practitioner& author = it->second;
  if (!mayReadEntryFrom(m_caller, m_context, author.organisation_id(), m_emergency)) return nullptr;
  // A blocked unit's entries are read only inside that unit (or by the
  // patient, or in an emergency).
  if (m_blockedUnits.count(author.unit_id()) && m_caller.unit_id() != author.unit_id() &&
      m_caller.patient_id().empty() && !m_emergency) {
    return nullptr;
  }
  return &author;
}

std::string CareService::EntryFilter::organisationName(const std::string& organisationId) {
  auto it = m_organisationNames.find(organisationId);
  if (it == m_organisationNames.end()) {
    const auto organisation = m_service.m_domain.organisation(organisationId);
    it = m_organisationNames.emplace(organisationId, organisation ? organisation->name() : "").first;
  }
  return it->second;
}

api::Timeline CareService::timeline(const api::Principal& caller, const std::string& patientId,
                                    const std::string& emergencyReason, std::int64_t nowMs) {
  const auto [decision, ctx] = require(caller, Action::ReadRecord, patientId, nowMs, "read timeline", emergencyReason);
  EntryFilter filter(*this, caller, ctx, decision.emergency, patientId);

  api::Timeline timeline;
  timeline.set_patient_id(patientId);
  for (const auto& op : m_log.entries(patientId)) {
    const domain::Practitioner* author = filter.author(op.author_id());
    if (!author) continue;
    auto& entry = *timeline.add_entries();
    entry.set_operation_id(op.id());
    entry.set_organisation_id(author->organisation_id());
    entry.set_organisation_name(filter.organisationName(author->organisation_id()));
    entry.set_author_id(op.author_id());
    entry.set_author_name(author->name());
    entry.set_recorded_at(op.recorded_at());
    const sync::AppendEntry& append = op.append();
    switch (append.entry_case()) {
      case sync::AppendEntry::kNote:
        *entry.mutable_note() = append.note();
        break;
      case sync::AppendEntry::kObservation:
        *entry.mutable_observation() = append.observation();
        break;
      case sync::AppendEntry::kVitalSigns:
        *entry.mutable_vital_signs() = append.vital_signs();
        break;
      case sync::AppendEntry::kTaskOutcome:
        *entry.mutable_task_outcome() = append.task_outcome();
        break;
      case sync::AppendEntry::kMedicationAdministration:
        *entry.mutable_medication_administration() = append.medication_administration();
        break;
      case sync::AppendEntry::kMessage:
        *entry.mutable_message() = append.message();
        break;
      case sync::AppendEntry::kProposedChange:
        *entry.mutable_proposed_change() = append.proposed_change();
        break;
      case sync::AppendEntry::ENTRY_NOT_SET:
        break;
    }
  }
  return timeline;
}

domain::Patient CareService::updatePatient(const api::Principal& caller, const std::string& patientId,
                                           const domain::Patient& changes, std::int64_t nowMs) {
  const CareContext ctx = require(caller, Action::WriteRecord, patientId, nowMs, "update patient").context;
  const std::pair<const char*, std::string> fields[] = {{"name", changes.name()},
                                                        {"address", changes.address()},
                                                        {"access_notes", changes.access_notes()},
                                                        {"preferred_language", changes.preferred_language()}};
  for (const auto& [field, value] : fields) {
    if (!value.empty()) m_sync.writeField(caller.user_id(), patientId, "patient", patientId, field, value, nowMs);
  }
  // The answer shows no more than a read would: a protected identity's
  // address stays hidden from a writer who may not see it.
  domain::Patient patient = patientFields(patientId);
  const auto registration = m_domain.patient(patientId);
  if (registration && registration->protectedIdentity && !mayReadProtectedAddress(caller, ctx)) {
    patient.set_address(protectedText());
    patient.set_access_notes(protectedText());
  }
  return patient;
}

domain::CarePlan CareService::updatePlan(const api::Principal& caller, const std::string& patientId,
                                         const domain::CarePlan& plan, std::int64_t nowMs) {
  require(caller, Action::EditPlan, patientId, nowMs, "edit care plan");
  if (!plan.overall_responsible_organisation_id().empty() &&
      !m_domain.organisation(plan.overall_responsible_organisation_id())) {
    throw BadRequest("overall_responsible_organisation_id: no organisation " +
                     plan.overall_responsible_organisation_id());
  }
  std::vector<SyncService::FieldChange> writes;
  auto writeIfChanged = [&](const std::string& type, const std::string& id, const std::string& field,
                            const std::string& value) {
    if (value.empty()) return;
    const auto existing = m_log.field({patientId, type, id, field});
    if (existing && existing->value == value) return;
    writes.push_back({type, id, field, value});
  };
  for (int i = 0; i < plan.goals_size(); ++i) {
    const auto& goal = plan.goals(i);
    const std::string id = goal.id().empty() ? newId("goal") : goal.id();
    if (goal.id().empty() && goal.text().empty()) throw BadRequest("goals[" + std::to_string(i) + "].text: empty");
    writeIfChanged("care_plan_goal", id, "text", goal.text());
  }
  for (int i = 0; i < plan.activities_size(); ++i) {
    const auto& activity = plan.activities(i);
    const std::string id = activity.id().empty() ? newId("activity") : activity.id();
    if (activity.id().empty() && activity.text().empty()) {
      throw BadRequest("activities[" + std::to_string(i) + "].text: empty");
    }
    if (!activity.responsible_organisation_id().empty() &&
        !m_domain.organisation(activity.responsible_organisation_id())) {
      throw BadRequest("activities[" + std::to_string(i) + "].responsible_organisation_id: no organisation " +
                       activity.responsible_organisation_id());
    }
    writeIfChanged("care_plan_activity", id, "text", activity.text());
    writeIfChanged("care_plan_activity", id, "frequency", activity.frequency());
    writeIfChanged("care_plan_activity", id, "responsible_organisation_id", activity.responsible_organisation_id());
    if (activity.responsible_role() != domain::ROLE_UNSPECIFIED) {
      writeIfChanged("care_plan_activity", id, "responsible_role", domain::Role_Name(activity.responsible_role()));
    }
  }
  for (int i = 0; i < plan.medications_size(); ++i) {
    const auto& medication = plan.medications(i);
    const std::string id = medication.id().empty() ? newId(patientId + "-med") : medication.id();
    requireId("medications[" + std::to_string(i) + "].id", id);
    if (medication.id().empty() && medication.name().empty()) {
      throw BadRequest("medications[" + std::to_string(i) + "].name: empty");
    }
    writeIfChanged("medication", id, "name", medication.name());
    writeIfChanged("medication", id, "dose", medication.dose());
    writeIfChanged("medication", id, "frequency", medication.frequency());
  }
  if (plan.has_spo2_scale_2())
    writeIfChanged("care_plan", patientId, "spo2_scale_2", plan.spo2_scale_2() ? "true" : "false");
  // Everything is checked; now all of it is stored, or (on a database
  // failure) none of the synced part.
  if (!writes.empty()) m_sync.writeFields(caller.user_id(), patientId, writes, nowMs);
  const domain::CarePlan current = m_domain.planHeader(patientId);
  m_domain.setPlanHeader(patientId,
                         plan.overall_responsible_organisation_id().empty()
                             ? current.overall_responsible_organisation_id()
                             : plan.overall_responsible_organisation_id(),
                         plan.status() == domain::CarePlan::STATUS_UNSPECIFIED ? current.status() : plan.status());
  return planOf(patientId);
}

api::CareTeam CareService::careTeam(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs) {
  require(caller, Action::ReadRecord, patientId, nowMs, "read care team");
  return m_domain.careTeam(patientId);
}

api::CareTeam CareService::addCareTeamMember(const api::Principal& caller, const std::string& patientId,
                                             const api::CareTeamMember& member, std::int64_t nowMs) {
  require(caller, Action::ManageCareTeam, patientId, nowMs, "add care team member " + member.practitioner_id());
  requireId("practitioner_id", member.practitioner_id());
  if (!m_domain.practitioner(member.practitioner_id())) {
    throw BadRequest("practitioner_id: no practitioner " + member.practitioner_id());
  }
  m_domain.addCareTeamMember(patientId, member.practitioner_id(),
                             member.responsibility() == api::CareTeamMember::RESPONSIBILITY_UNSPECIFIED
                                 ? api::CareTeamMember::MEMBER
                                 : member.responsibility());
  return m_domain.careTeam(patientId);
}

api::CareTeam CareService::removeCareTeamMember(const api::Principal& caller, const std::string& patientId,
                                                const std::string& practitionerId, std::int64_t nowMs) {
  require(caller, Action::ManageCareTeam, patientId, nowMs, "remove care team member " + practitionerId);
  if (!m_domain.removeCareTeamMember(patientId, practitionerId)) {
    throw NotFound("practitioner " + practitionerId + ": not in the care team of " + patientId);
  }
  return m_domain.careTeam(patientId);
}

api::ConsentList CareService::consents(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs) {
  require(caller, Action::ReadRecord, patientId, nowMs, "read consents");
  return m_domain.consents(patientId);
}

api::Consent CareService::addConsent(const api::Principal& caller, const std::string& patientId,
                                     const api::Consent& consent, std::int64_t nowMs) {
  require(caller, Action::ManageConsent, patientId, nowMs, "record consent for " + consent.organisation_id());
  requireId("organisation_id", consent.organisation_id());
  if (!m_domain.organisation(consent.organisation_id())) {
    throw BadRequest("organisation_id: no organisation " + consent.organisation_id());
  }
  api::Consent stored;
  stored.set_patient_id(patientId);
  stored.set_organisation_id(consent.organisation_id());
  stored.set_valid_from(consent.valid_from().empty() ? sync::formatRfc3339(nowMs)
                                                     : normalisedTime("valid_from", consent.valid_from()));
  if (!consent.valid_until().empty()) {
    stored.set_valid_until(normalisedTime("valid_until", consent.valid_until()));
    if (stored.valid_until() <= stored.valid_from()) throw BadRequest("valid_until: not after valid_from");
  }
  stored.set_recorded_by(caller.patient_id().empty() ? caller.user_id() : "patient:" + caller.patient_id());
  stored.set_id(m_domain.addConsent(stored));
  return stored;
}

api::Consent CareService::withdrawConsent(const api::Principal& caller, const std::string& consentId,
                                          std::int64_t nowMs) {
  const auto consent = m_domain.consent(consentId);
  if (!consent) throw NotFound("consent " + consentId + ": no such consent");
  require(caller, Action::ManageConsent, consent->patient_id(), nowMs, "withdraw consent " + consentId);
  if (!m_domain.withdrawConsent(consentId, sync::formatRfc3339(nowMs))) {
    throw BadRequest("consent " + consentId + ": already withdrawn");
  }
  return *m_domain.consent(consentId);
}

api::BlockList CareService::blocks(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs) {
  require(caller, Action::ReadRecord, patientId, nowMs, "read blocks");
  return m_domain.blocks(patientId);
}

api::Block CareService::addBlock(const api::Principal& caller, const std::string& patientId, const api::Block& block,
                                 std::int64_t nowMs) {
  require(caller, Action::ManageConsent, patientId, nowMs, "block unit " + block.unit_id());
  requireId("unit_id", block.unit_id());
  bool unitKnown = false;
  for (const auto& organisation : m_domain.organisations()) {
    for (const auto& unit : organisation.units()) unitKnown = unitKnown || unit.id() == block.unit_id();
  }
  if (!unitKnown) throw BadRequest("unit_id: no unit " + block.unit_id());
  api::Block stored;
  stored.set_patient_id(patientId);
  stored.set_unit_id(block.unit_id());
  stored.set_created_at(sync::formatRfc3339(nowMs));
  stored.set_recorded_by(caller.patient_id().empty() ? caller.user_id() : "patient:" + caller.patient_id());
  stored.set_id(m_domain.addBlock(stored));
  return stored;
}

api::Block CareService::liftBlock(const api::Principal& caller, const std::string& blockId, std::int64_t nowMs) {
  const auto block = m_domain.block(blockId);
  if (!block) throw NotFound("block " + blockId + ": no such block");
  require(caller, Action::ManageConsent, block->patient_id(), nowMs, "lift block " + blockId);
  if (!m_domain.liftBlock(blockId, sync::formatRfc3339(nowMs)))
    throw BadRequest("block " + blockId + ": already lifted");
  return *m_domain.block(blockId);
}

api::VisitList CareService::visits(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs) {
  require(caller, Action::ReadRecord, patientId, nowMs, "read visits");
  return visitsOf(patientId);
}

api::VisitList CareService::visitsOf(const std::string& patientId) {
  std::map<std::string, domain::Visit> visits;
  for (const auto& row : m_log.fields(patientId, "visit")) {
    auto& visit = visits[row.key.entityId];
    visit.set_id(row.key.entityId);
    visit.set_patient_id(patientId);
    if (row.key.field == "nurse_id") visit.set_nurse_id(row.value);
    if (row.key.field == "scheduled_start") visit.set_scheduled_start(row.value);
    if (row.key.field == "started_at") visit.set_started_at(row.value);
    if (row.key.field == "ended_at") visit.set_ended_at(row.value);
    if (row.key.field == "activity_id") visit.set_activity_id(row.value);
    if (row.key.field == "status") {
      domain::Visit::Status status = domain::Visit::STATUS_UNSPECIFIED;
      domain::Visit::Status_Parse(row.value, &status);
      visit.set_status(status);
    }
  }
  std::vector<domain::Visit> ordered;
  for (auto& [id, visit] : visits) ordered.push_back(visit);
  std::sort(ordered.begin(), ordered.end(), [](const domain::Visit& a, const domain::Visit& b) {
    return a.scheduled_start() != b.scheduled_start() ? a.scheduled_start() < b.scheduled_start() : a.id() < b.id();
  });
  // Who is coming, by name, for the patient and the schedule.
  std::map<std::string, std::string> names;
  api::VisitList list;
  for (auto& visit : ordered) {
    if (!visit.nurse_id().empty()) {
      auto it = names.find(visit.nurse_id());
      if (it == names.end()) {
        const auto nurse = m_domain.practitioner(visit.nurse_id());
        it = names.emplace(visit.nurse_id(), nurse ? nurse->name() : "").first;
      }
      visit.set_nurse_name(it->second);
    }
    *list.add_visits() = std::move(visit);
  }
  return list;
}

domain::Visit CareService::scheduleVisit(const api::Principal& caller, const std::string& patientId,
                                         const domain::Visit& visit, std::int64_t nowMs) {
  require(caller, Action::ScheduleVisit, patientId, nowMs, "schedule visit");
  const std::string start = normalisedTime("scheduled_start", visit.scheduled_start());
  if (*sync::parseRfc3339(start) < nowMs) {
    throw BadRequest("scheduled_start: " + start + " is in the past (now " + sync::formatRfc3339(nowMs) +
                     "); a visit is scheduled for a time to come");
  }
  requireId("nurse_id", visit.nurse_id());
  const auto nurse = m_domain.practitioner(visit.nurse_id());
  if (!nurse || nurse->role() != domain::NURSE) throw BadRequest("nurse_id: no nurse " + visit.nurse_id());
  if (!m_domain.inCareTeam(patientId, visit.nurse_id())) {
    throw BadRequest("nurse_id: " + visit.nurse_id() + " is not in the care team of " + patientId);
  }
  if (!visit.activity_id().empty() && !m_log.field({patientId, "care_plan_activity", visit.activity_id(), "text"})) {
    throw BadRequest("activity_id: no activity " + visit.activity_id() + " in the plan of " + patientId);
  }
  const std::string id = visit.id().empty() ? newId("visit") : visit.id();
  requireId("id", id);
  // Scheduling makes a new visit; an existing one (perhaps done) is changed
  // only through its update, which keeps a done visit as it is.
  if (m_log.field({patientId, "visit", id, "status"})) {
    throw BadRequest("id: visit " + id + " of " + patientId + " already exists; update it instead");
  }
  std::vector<SyncService::FieldChange> writes = {
      {"visit", id, "scheduled_start", start},
      {"visit", id, "nurse_id", visit.nurse_id()},
      {"visit", id, "status", domain::Visit::Status_Name(domain::Visit::PLANNED)}};
  if (!visit.activity_id().empty()) writes.push_back({"visit", id, "activity_id", visit.activity_id()});
  m_sync.writeFields(caller.user_id(), patientId, writes, nowMs);
  domain::Visit stored;
  stored.set_id(id);
  stored.set_patient_id(patientId);
  stored.set_nurse_id(visit.nurse_id());
  stored.set_nurse_name(nurse->name());
  stored.set_scheduled_start(start);
  stored.set_status(domain::Visit::PLANNED);
  stored.set_activity_id(visit.activity_id());
  return stored;
}

api::PlanChangeProposal CareService::propose(const api::Principal& caller, const std::string& patientId,
                                             const api::PlanChangeProposal& proposal, std::int64_t nowMs) {
  require(caller, Action::ProposeChange, patientId, nowMs,
          "propose " + proposal.entity_type() + "." + proposal.field());
  const std::string& type = proposal.entity_type();
  if (type != "care_plan" && type != "care_plan_goal" && type != "care_plan_activity" && type != "medication") {
    throw BadRequest("entity_type: a proposal changes care_plan, care_plan_goal, care_plan_activity or medication");
  }
  requireId("entity_id", proposal.entity_id());
  if (type == "care_plan" && proposal.entity_id() != patientId) {
    throw BadRequest("entity_id: the care_plan of " + patientId + " is " + patientId);
  }
  if (!sync::policyFor(type, proposal.field())) {
    throw BadRequest("field: " + type + " has no field \"" + proposal.field() + "\"");
  }
  if (proposal.proposed_value().empty()) throw BadRequest("proposed_value: empty");
  if (proposal.proposed_value().size() > sync::kMaxTextBytes) throw BadRequest("proposed_value: too long");
  if (proposal.reason().size() > sync::kMaxTextBytes) throw BadRequest("reason: too long");
  // Made on the web, it is the same entry a tablet pushes: it syncs, shows
  // in the timeline, and the log's projection queues it.
  sync::AppendEntry entry;
  domain::ProposedChange& change = *entry.mutable_proposed_change();
  change.set_id(newId("proposal"));
  change.set_patient_id(patientId);
  change.set_author_id(caller.user_id());
  change.set_entity_type(type);
  change.set_entity_id(proposal.entity_id());
  change.set_field(proposal.field());
  change.set_proposed_value(proposal.proposed_value());
  change.set_reason(proposal.reason());
  const auto current = m_log.field({patientId, type, proposal.entity_id(), proposal.field()});
  change.set_base_hlc(current ? current->hlc : 0);
  change.set_base_operation_id(current ? current->opId : std::string());
  change.set_proposed_at(sync::formatRfc3339(nowMs));
  if (auto problem = sync::checkProposedChange("", change)) throw BadRequest(*problem);
  const std::string id = change.id();
  m_sync.appendEntry("proposed_change", id, caller.user_id(), patientId, std::move(entry), nowMs, nowMs);
  return *m_domain.proposal(id);
}

api::ProposalList CareService::proposalQueue(const api::Principal& caller, std::int64_t nowMs) {
  std::vector<std::string> patients;
  const api::PatientList mine = this->patients(caller, nowMs);
  for (const auto& summary : mine.patients()) patients.push_back(summary.patient_id());
  // A proposal is shown like its entry in the timeline: not from a blocked
  // unit, nor from another organisation without the patient's consent.
  std::map<std::string, EntryFilter> filters;
  api::ProposalList queued = m_domain.proposals(patients, true);
  api::ProposalList visible;
  for (auto& proposal : *queued.mutable_proposals()) {
    const std::string& patientId = proposal.patient_id();
    auto it = filters.find(patientId);
    if (it == filters.end()) {
      it = filters
               .emplace(std::piecewise_construct, std::forward_as_tuple(patientId),
                        std::forward_as_tuple(*this, caller, context(caller, patientId, nowMs), false, patientId))
               .first;
    }
    if (it->second.author(proposal.proposer_id())) *visible.add_proposals() = std::move(proposal);
  }
  return visible;
}

api::ProposalList CareService::proposals(const api::Principal& caller, const std::string& patientId,
                                         std::int64_t nowMs) {
  const auto [decision, ctx] = require(caller, Action::ReadRecord, patientId, nowMs, "read proposals");
  EntryFilter filter(*this, caller, ctx, decision.emergency, patientId);
  api::ProposalList all = m_domain.proposals({patientId}, false);
  api::ProposalList visible;
  for (auto& proposal : *all.mutable_proposals()) {
    if (filter.author(proposal.proposer_id())) *visible.add_proposals() = std::move(proposal);
  }
  return visible;
}

api::PlanChangeProposal CareService::decideProposal(const api::Principal& caller, const std::string& proposalId,
                                                    bool sign, const std::string& reason, std::int64_t nowMs) {
  auto proposal = m_domain.proposal(proposalId);
  if (!proposal) throw NotFound("proposal " + proposalId + ": no such proposal");
  const CareContext ctx = require(caller, Action::DecideProposal, proposal->patient_id(), nowMs,
                                  (sign ? "sign proposal " : "reject proposal ") + proposalId)
                              .context;
  // Decided only by someone who may see it (the queue's rule).
  EntryFilter filter(*this, caller, ctx, false, proposal->patient_id());
  if (!filter.author(proposal->proposer_id())) throw NotFound("proposal " + proposalId + ": no such proposal");
  if (proposal->status() != api::PlanChangeProposal::PENDING) {
    throw BadRequest("proposal " + proposalId + ": already " +
                     api::PlanChangeProposal::Status_Name(proposal->status()));
  }
  if (!sign && reason.empty()) throw BadRequest("reason: a rejection needs a reason");
  if (sign) {
    // Queued before the sync library checked proposals this closely, a
    // proposal may still wipe a field or write nothing: it can only be
    // rejected.
    domain::ProposedChange change;
    change.set_patient_id(proposal->patient_id());
    change.set_entity_type(proposal->entity_type());
    change.set_entity_id(proposal->entity_id());
    change.set_field(proposal->field());
    change.set_proposed_value(proposal->proposed_value());
    if (auto problem = sync::checkProposedChange("", change)) {
      throw BadRequest("proposal " + proposalId + ": cannot be signed (" + *problem + "); reject it");
    }
  }
  const api::PlanChangeProposal pending = *proposal;
  proposal->set_status(sign ? api::PlanChangeProposal::SIGNED : api::PlanChangeProposal::REJECTED);
  proposal->set_decided_by(caller.user_id());
  proposal->set_decision_reason(reason);
  proposal->set_decided_at(sync::formatRfc3339(nowMs));
  // Claim the decision first, so two physicians deciding at once cannot both
  // act; give it back if the plan write fails.
  if (!m_domain.claimProposal(*proposal)) throw BadRequest("proposal " + proposalId + ": already decided");
  if (sign) {
    // Written against the version the nurse saw, as the server holds it: a
    // change made since then raises a conflict record instead of being
    // overwritten unseen.
    std::uint64_t baseHlc = pending.base_hlc();
    std::string baseId;
    for (const auto& op : m_log.entries(pending.patient_id(), "proposed_change")) {
      if (op.append().proposed_change().id() == proposalId) baseId = op.append().proposed_change().base_operation_id();
    }
    if (baseHlc != 0 && baseId.empty()) {
      // Queued before the server checked bases (protocol 3): a clock the
      // server cannot tie to a write it holds counts as "saw nothing", so
      // whatever the field holds is kept in a conflict record for review.
      const auto current =
          m_log.field({pending.patient_id(), pending.entity_type(), pending.entity_id(), pending.field()});
      if (current && current->hlc == baseHlc) {
        baseId = current->opId;
      } else {
        baseHlc = 0;
      }
    }
    try {
      m_sync.writeFields(
          caller.user_id(), pending.patient_id(),
          {{pending.entity_type(), pending.entity_id(), pending.field(), pending.proposed_value(), baseHlc, baseId}},
          nowMs);
    } catch (...) {
      m_domain.updateProposal(pending);
      throw;
    }
  }
  return *proposal;
}

sync::ConflictList CareService::conflicts(const api::Principal& caller, const std::string& patientId, bool openOnly,
                                          std::int64_t nowMs) {
  if (!patientId.empty()) {
    require(caller, Action::ReadRecord, patientId, nowMs, "read conflicts");
    return m_sync.conflicts({patientId, openOnly});
  }
  // Every conflict of the caller's patients.
  sync::ConflictList all;
  const api::PatientList mine = patients(caller, nowMs);
  for (const auto& summary : mine.patients()) {
    sync::ConflictList some = m_sync.conflicts({summary.patient_id(), openOnly});
    for (auto& conflict : *some.mutable_conflicts()) *all.add_conflicts() = std::move(conflict);
  }
  return all;
}

sync::Conflict CareService::resolveConflict(const api::Principal& caller, const std::string& conflictId,
                                            const std::string& value, std::int64_t nowMs) {
  const auto conflict = m_log.conflict(conflictId);
  if (!conflict) throw NotFound("conflict " + conflictId + ": no such conflict");
  require(caller, Action::ResolveConflict, conflict->patient_id(), nowMs, "resolve " + conflictId);
  sync::ResolveConflictRequest request;
  request.set_value(value);
  request.set_author_id(caller.user_id());
  return m_sync.resolveConflict(conflictId, request, nowMs);
}

api::OrganisationList CareService::organisations() {
  api::OrganisationList list;
  for (auto& organisation : m_domain.organisations()) *list.add_organisations() = std::move(organisation);
  return list;
}

api::AccessLog CareService::accessLog(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs) {
  require(caller, Action::ReadAccessLog, patientId, nowMs, "read access log");
  api::AccessLog log;
  log.set_patient_id(patientId);
  std::map<std::string, domain::Organisation> organisations;
  for (auto& organisation : m_domain.organisations()) organisations[organisation.id()] = organisation;
  for (const auto& read : m_audit.readsOf(patientId, 500)) {
    auto& entry = *log.add_entries();
    entry.set_at(read.at());
    entry.set_organisation_id(read.organisation_id());
    entry.set_unit_id(read.unit_id());
    entry.set_emergency(read.emergency());
    const auto organisation = organisations.find(read.organisation_id());
    if (organisation == organisations.end()) continue;
    entry.set_organisation_name(organisation->second.name());
    for (const auto& unit : organisation->second.units()) {
      if (unit.id() == read.unit_id()) entry.set_unit_name(unit.name());
    }
  }
  return log;
}

api::AuditList CareService::audit(const api::Principal& caller, AuditQuery query, std::int64_t nowMs) {
  const bool mayReview =
      caller.patient_id().empty() && (caller.role() == domain::COORDINATOR || caller.role() == domain::ADMINISTRATOR);
  record(caller, "audit.read", query.patientId, mayReview ? "allowed" : "denied: only coordinators and administrators",
         "review access log", false, nowMs);
  if (!mayReview) throw Forbidden("audit: only coordinators and administrators review the audit log");
  query.organisationId = caller.organisation_id();
  return m_audit.query(query);
}

namespace {

// The entry rules' view of the server's store: field values from the
// operation log's projection, the care team from the domain store.
class ServerEntryState : public sync::EntryState {
 public:
  ServerEntryState(OperationLog& log, DomainStore& domain) : m_log(log), m_domain(domain) {}
  std::optional<std::string> field(const sync::FieldLocation& location) override {
    const auto row = m_log.field({location.patientId, location.entityType, location.entityId, location.field});
    return row ? std::optional<std::string>(row->value) : std::nullopt;
  }
  std::optional<bool> inCareTeam(const std::string& patientId, const std::string& practitionerId) override {
    return m_domain.inCareTeam(patientId, practitionerId);
  }

 private:
  OperationLog& m_log;
  DomainStore& m_domain;
};

}  // namespace

std::optional<SyncService::Refusal> CareService::entryRuleRefusal(const api::Principal& caller,
                                                                  const sync::Operation& op,
                                                                  sync::PendingEntryState& pending) {
  // A retried push acks what is stored, whatever the state is now.
  if (sync::entryRulesConcern(op) && !m_log.operation(op.id())) {
    const sync::EntryAuthor author{caller.user_id(), caller.role(), caller.organisation_id()};
    if (auto refusal = sync::checkEntryRules(op, author, pending)) {
      return SyncService::Refusal(refusal->kind == sync::EntryRefusal::Kind::Forbidden
                                      ? sync::OperationRejection::FORBIDDEN
                                      : sync::OperationRejection::INVALID,
                                  refusal->reason);
    }
  }
  // Later operations of the batch see this one (a visit started, then
  // vital signs at it).
  pending.add(op);
  return std::nullopt;
}

sync::PushResponse CareService::push(const api::Principal& caller, const sync::PushRequest& request,
                                     std::int64_t nowMs) {
  if (request.device_id().empty()) throw BadRequest("device_id: empty");
  if (caller.device_id().empty()) throw Forbidden("sync: needs a device token (register the tablet first)");
  if (request.device_id() != caller.device_id()) {
    throw Forbidden("device_id: " + request.device_id() + " is not the device this token belongs to");
  }
  std::map<std::pair<std::string, Action>, Decision> decisions;
  ServerEntryState stored(m_log, m_domain);
  sync::PendingEntryState pending(stored);
  auto allowed = [&](const sync::Operation& op) -> std::optional<SyncService::Refusal> {
    if (op.author_id() != caller.user_id()) return "author_id: " + op.author_id() + " is not this device's user";
    // The same rules as the web, field by field (fieldAccessRules()): a
    // tablet may not edit the plan, its medications, the schedule or the
    // team unless its user's role may.
    std::string field;
    if (op.has_write()) field = op.write().field();
    if (op.has_set_add()) field = op.set_add().set();
    if (op.has_set_remove()) field = op.set_remove().set();
    const std::string name = op.entity_type() + (field.empty() ? "" : "." + field);
    const std::string where = op.has_write()     ? "write.field: "
                              : op.has_append()  ? "entity_type: "
                              : op.has_set_add() ? "set_add.set: "
                                                 : "set_remove.set: ";
    const auto needed = actionForField(op.entity_type(), field);
    if (!needed) return where + name + ": no access rule; tablets may not change it";
    Action action = *needed;
    // Resolving a conflict the server recorded is the resolver's call, as on
    // the web; any other write names its field's rule.
    if (op.has_write() && !op.write().resolves_conflict_id().empty() &&
        m_log.conflict(op.write().resolves_conflict_id())) {
      action = Action::ResolveConflict;
    }
    const auto key = std::make_pair(op.patient_id(), action);
    auto it = decisions.find(key);
    if (it == decisions.end()) {
      it = decisions.emplace(key, decide(caller, action, op.patient_id(), context(caller, op.patient_id(), nowMs)))
               .first;
    }
    if (!it->second.allowed) {
      if (action == Action::SyncPatient) return "patient_id: " + it->second.reason;
      return where + name + " needs " + actionName(action) + ": " + it->second.reason;
    }
    return entryRuleRefusal(caller, op, pending);
  };
  // One audit entry per operation, with its own author and time.
  auto entryFor = [&](const sync::Operation& op, const std::string& outcome) {
    api::AuditEntry entry;
    entry.set_user_id(caller.user_id());
    entry.set_organisation_id(caller.organisation_id());
    entry.set_unit_id(caller.unit_id());
    entry.set_device_id(caller.device_id());
    entry.set_patient_id(op.patient_id());
    entry.set_action("sync.push." + op.entity_type());
    entry.set_purpose(op.id());
    entry.set_outcome(outcome);
    entry.set_original_author_id(op.author_id());
    entry.set_original_time(op.recorded_at());
    return entry;
  };
  // A newly stored operation's entry is written in the transaction that
  // stores it: no acknowledged operation is without its audit entry, even if
  // the server dies right after the commit (a retry acks it as a duplicate
  // and does not audit it again).
  sync::PushResponse response =
      m_sync.push(request, nowMs, allowed, [&](const sync::Operation& op) { return entryFor(op, "allowed"); });

  // A refusal stores nothing, so its entry has a transaction of its own,
  // after the push's: a crash in between loses the denied entry, never data.
  std::map<std::string, const sync::Operation*> byId;
  for (const auto& op : request.operations()) byId[op.id()] = &op;
  std::vector<api::AuditEntry> denied;
  for (const auto& rejection : response.rejections()) {
    if (rejection.code() == sync::OperationRejection::FORBIDDEN) {
      denied.push_back(entryFor(*byId[rejection.operation_id()], "denied: " + rejection.reason()));
    }
  }
  m_audit.append(std::move(denied), sync::formatRfc3339(nowMs));
  return response;
}

void CareService::auditPull(const api::Principal& caller, const std::set<std::string>& patientIds, std::int64_t nowMs) {
  std::vector<api::AuditEntry> entries;
  for (const auto& patientId : patientIds) {
    api::AuditEntry entry;
    entry.set_user_id(caller.user_id());
    entry.set_organisation_id(caller.organisation_id());
    entry.set_unit_id(caller.unit_id());
    entry.set_device_id(caller.device_id());
    entry.set_patient_id(patientId);
    entry.set_action("sync.pull");
    entry.set_outcome("allowed");
    entries.push_back(std::move(entry));
  }
  m_audit.append(std::move(entries), sync::formatRfc3339(nowMs));
}

sync::PullResponse CareService::pull(const api::Principal& caller, const sync::PullRequest& request,
                                     std::int64_t nowMs) {
  if (request.device_id().empty()) throw BadRequest("device_id: empty");
  if (caller.device_id().empty()) throw Forbidden("sync: needs a device token (register the tablet first)");
  if (request.device_id() != caller.device_id()) {
    throw Forbidden("device_id: " + request.device_id() + " is not the device this token belongs to");
  }
  if (request.protocol_version() != sync::kProtocolVersion) {
    throw BadRequest("protocol_version: " + std::to_string(request.protocol_version()) +
                     " is not supported (this server speaks " + std::to_string(sync::kProtocolVersion) + ")");
  }
  const sync::DeviceScope& device = request.scope();
  if (static_cast<std::size_t>(device.held_patient_ids_size()) > sync::kMaxHeldPatients) {
    throw BadRequest("scope.held_patient_ids: " + std::to_string(device.held_patient_ids_size()) +
                     " patients; at most " + std::to_string(sync::kMaxHeldPatients));
  }
  std::set<std::string> held;
  for (const auto& id : device.held_patient_ids()) {
    requireId("scope.held_patient_ids[]", id);
    held.insert(id);
  }
  const std::uint32_t limit =
      request.limit() == 0 ? sync::kDefaultPullPage : std::min(request.limit(), sync::kMaxPullPage);

  // The user's scope, decided once for the whole page: the patients the user
  // may sync (care team memberships, a coordinator's home organisation).
  struct PatientScope {
    CareContext context;
    bool hideAddress = false;
    std::set<std::string> blockedUnits;
  };
  std::map<std::string, PatientScope> scope;
  {
    std::set<std::string> candidates;
    if (isPractitioner(caller) && caller.role() != domain::ADMINISTRATOR) {
      for (auto& id : m_domain.patientsOf(caller.user_id())) candidates.insert(id);
      if (caller.role() == domain::COORDINATOR) {
        for (auto& id : m_domain.patientsAt(caller.organisation_id())) candidates.insert(id);
      }
    }
    for (const auto& id : candidates) {
      PatientScope patient;
      patient.context = context(caller, id, nowMs);
      if (!decide(caller, Action::SyncPatient, id, patient.context).allowed) continue;
      const auto registration = m_domain.patient(id);
      patient.hideAddress =
          registration && registration->protectedIdentity && !mayReadProtectedAddress(caller, patient.context);
      const api::BlockList blocks = m_domain.blocks(id);
      for (const auto& block : blocks.blocks()) {
        if (block.lifted_at().empty() && block.unit_id() != caller.unit_id())
          patient.blockedUnits.insert(block.unit_id());
      }
      scope.emplace(id, std::move(patient));
    }
  }

  std::map<std::string, std::optional<domain::Practitioner>> authors;
  std::set<std::string> read;
  auto visible = [&](const sync::Operation& op) {
    const auto it = scope.find(op.patient_id());
    if (it == scope.end()) return false;
    const PatientScope& patient = it->second;
    // A protected identity's address and access notes reach only the
    // tablets of those who go to the home.
    if (patient.hideAddress && op.has_write() && op.entity_type() == "patient" &&
        (op.write().field() == "address" || op.write().field() == "access_notes")) {
      return false;
    }
    if (op.has_append()) {
      auto& author = authors[op.author_id()];
      if (!author) author = m_domain.practitioner(op.author_id()).value_or(domain::Practitioner());
      if (!mayReadEntryFrom(caller, patient.context, author->organisation_id(), false)) return false;
      if (patient.blockedUnits.count(author->unit_id())) return false;
    }
    read.insert(op.patient_id());
    return true;
  };

  // A client that keeps no scope state gets the ordinary pull, filtered.
  if (!request.has_scope()) {
    sync::PullResponse response = m_sync.pull(request, nowMs, visible);
    auditPull(caller, read, nowMs);
    return response;
  }

  sync::PullResponse response;
  response.set_protocol_version(sync::kProtocolVersion);
  // Held but out of scope: the device purges them.
  for (const auto& id : held) {
    if (!scope.count(id)) response.add_purge_patient_ids(id);
  }
  // In scope but not held: their history up to the cursor first, one
  // patient after another, continuing the backfill the device reports.
  std::uint32_t budget = limit;
  bool backfillDone = true;
  std::vector<std::string> missing;
  if (scope.count(device.backfill_patient_id()) && !held.count(device.backfill_patient_id())) {
    missing.push_back(device.backfill_patient_id());
  }
  for (const auto& [id, patient] : scope) {
    if (!held.count(id) && id != device.backfill_patient_id()) missing.push_back(id);
  }
  for (const auto& id : missing) {
    std::uint64_t from = id == device.backfill_patient_id() ? device.backfill_after_seq() : 0;
    auto ops = request.after_seq() == 0 || from >= request.after_seq()
                   ? std::vector<sync::Operation>()
                   : m_log.ofPatient(id, from, request.after_seq(), budget + 1);
    const bool complete = ops.size() <= budget;
    if (!complete) ops.resize(budget);
    for (auto& op : ops) {
      from = op.server_seq();
      if (visible(op)) *response.add_operations() = std::move(op);
    }
    budget -= static_cast<std::uint32_t>(ops.size());
    if (!complete) {
      response.set_backfill_patient_id(id);
      response.set_backfill_cursor(from);
      backfillDone = false;
      break;
    }
    response.add_scoped_patient_ids(id);
  }

  if (!backfillDone || budget == 0) {
    // The cursor waits until every patient new to the device has arrived.
    response.set_next_cursor(request.after_seq());
    response.set_has_more(true);
    response.set_server_time_ms(nowMs);
  } else {
    sync::PullRequest page = request;
    page.set_limit(budget);
    sync::PullResponse after = m_sync.pull(page, nowMs, visible);
    for (auto& op : *after.mutable_operations()) *response.add_operations() = std::move(op);
    response.set_next_cursor(after.next_cursor());
    response.set_has_more(after.has_more());
    response.set_server_time_ms(after.server_time_ms());
  }

  auditPull(caller, read, nowMs);
  return response;
}

void CareService::requireClinician(const api::Principal& caller, const std::string& action, std::int64_t nowMs) {
  const bool clinician =
      isPractitioner(caller) &&
      (caller.role() == domain::NURSE || caller.role() == domain::PHYSICIAN || caller.role() == domain::COORDINATOR);
  if (clinician) return;
  const std::string reason = action + ": only nurses, physicians and coordinators";
  record(caller, action, "", "denied: " + reason, "", false, nowMs);
  throw Forbidden(reason);
}

void CareService::requireAuditReviewer(const api::Principal& caller, const std::string& action, std::int64_t nowMs) {
  const bool mayReview =
      isPractitioner(caller) && (caller.role() == domain::COORDINATOR || caller.role() == domain::ADMINISTRATOR);
  record(caller, action, "", mayReview ? "allowed" : "denied: only coordinators and administrators",
         "review access log", false, nowMs);
  if (!mayReview) throw Forbidden(action + ": only coordinators and administrators review the audit log");
}

void CareService::auditEach(const api::Principal& caller, const std::string& action,
                            const std::set<std::string>& patientIds, std::int64_t nowMs) {
  std::vector<api::AuditEntry> entries;
  for (const auto& patientId : patientIds) {
    api::AuditEntry entry;
    entry.set_user_id(caller.user_id());
    entry.set_organisation_id(caller.organisation_id());
    entry.set_unit_id(caller.unit_id());
    entry.set_device_id(caller.device_id());
    entry.set_patient_id(patientId);
    entry.set_action(action);
    entry.set_outcome("allowed");
    entries.push_back(std::move(entry));
  }
  m_audit.append(std::move(entries), sync::formatRfc3339(nowMs));
}

api::AlertList CareService::alerts(const api::Principal& caller, std::uint64_t afterSeq, std::int64_t nowMs) {
  // Sequence numbers are SQLite integers: a larger cursor would wrap to a
  // negative one and page from the start forever.
  constexpr auto kMaxSeq = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (afterSeq > kMaxSeq) {
    throw BadRequest("after: " + std::to_string(afterSeq) + " is larger than any sequence number (at most " +
                     std::to_string(kMaxSeq) + ")");
  }
  requireClinician(caller, "alert.read", nowMs);
  // Read the log's end first: every alert up to it is already stored (an
  // alert is stored with its entry), so the next poll misses none.
  const std::uint64_t newest = m_log.newestSeq();
  const auto rows = m_log.alertsAfter(afterSeq, kAlertPage);

  struct Reader {
    bool allowed = false;
    std::optional<EntryFilter> filter;
    std::string patientName;
  };
  std::map<std::string, Reader> readers;
  const std::set<std::string> mine = candidatePatients(caller);
  std::set<std::string> read;
  api::AlertList list;
  std::uint64_t last = std::max(afterSeq, newest);
  if (rows.size() == kAlertPage) last = rows.back().item.seq();
  for (const auto& row : rows) {
    if (row.item.seq() > last) break;
    if (!mine.count(row.patientId)) continue;
    auto it = readers.find(row.patientId);
    if (it == readers.end()) {
      Reader reader;
      const CareContext ctx = context(caller, row.patientId, nowMs);
      reader.allowed = decide(caller, Action::ReadRecord, row.patientId, ctx).allowed;
      if (reader.allowed) {
        reader.filter.emplace(*this, caller, ctx, false, row.patientId);
        reader.patientName = patientFields(row.patientId).name();
      }
      it = readers.emplace(row.patientId, std::move(reader)).first;
    }
    Reader& reader = it->second;
    if (!reader.allowed) continue;
    const domain::Practitioner* author = reader.filter->author(row.authorId);
    if (!author) continue;
    api::Alert& alert = *list.add_alerts();
    alert = row.item;
    alert.set_patient_name(reader.patientName);
    alert.set_author_name(author->name());
    read.insert(row.patientId);
  }
  list.set_last_seq(last);
  auditEach(caller, "alert.read", read, nowMs);
  return list;
}

api::MessageList CareService::messages(const api::Principal& caller, const std::string& patientId, std::int64_t nowMs) {
  const auto [decision, ctx] = require(caller, Action::ReadRecord, patientId, nowMs, "read messages");
  EntryFilter filter(*this, caller, ctx, decision.emergency, patientId);
  api::MessageList list;
  for (const auto& op : m_log.entries(patientId, "message")) {
    if (filter.author(op.author_id())) *list.add_messages() = op.append().message();
  }
  return list;
}

domain::Message CareService::sendMessage(const api::Principal& caller, const std::string& patientId,
                                         const api::SendMessageRequest& request, std::int64_t nowMs) {
  const CareContext ctx = require(caller, Action::SendMessage, patientId, nowMs, "send message").context;
  if (request.text().empty()) throw BadRequest("text: empty");
  if (request.text().size() > sync::kMaxTextBytes) throw BadRequest("text: too long");
  std::string recipient = request.recipient_id();
  if (!request.in_reply_to().empty()) {
    EntryFilter filter(*this, caller, ctx, false, patientId);
    std::optional<domain::Message> original;
    for (const auto& op : m_log.entries(patientId, "message")) {
      if (op.append().message().id() == request.in_reply_to() && filter.author(op.author_id())) {
        original = op.append().message();
      }
    }
    if (!original) throw BadRequest("in_reply_to: no message " + request.in_reply_to() + " about " + patientId);
    if (recipient.empty()) recipient = original->author_id();
  }
  if (!recipient.empty() && !m_domain.practitioner(recipient)) {
    throw BadRequest("recipient_id: no practitioner " + recipient);
  }
  // A message about the patient goes only to someone who cares for them.
  if (!recipient.empty() && !m_domain.inCareTeam(patientId, recipient)) {
    throw BadRequest("recipient_id: " + recipient + " is not in the care team of " + patientId);
  }
  sync::AppendEntry entry;
  domain::Message& message = *entry.mutable_message();
  message.set_id(newId("message"));
  message.set_patient_id(patientId);
  message.set_author_id(caller.user_id());
  message.set_recipient_id(recipient);
  message.set_text(request.text());
  message.set_urgent(request.urgent());
  message.set_sent_at(sync::formatRfc3339(nowMs));
  message.set_in_reply_to(request.in_reply_to());
  const domain::Message sent = message;
  m_sync.appendEntry("message", sent.id(), caller.user_id(), patientId, std::move(entry), nowMs, nowMs);
  return sent;
}

domain::Patient CareService::setLanguage(const api::Principal& caller, const std::string& patientId,
                                         const std::string& language, std::int64_t nowMs) {
  const CareContext ctx = require(caller, Action::SetLanguage, patientId, nowMs, "set language").context;
  if (language != "sv" && language != "fi" && language != "en") {
    throw BadRequest("language: \"" + language + "\" is not sv, fi or en");
  }
  m_sync.writeField(writerId(caller), patientId, "patient", patientId, "preferred_language", language, nowMs);
  domain::Patient patient = patientFields(patientId);
  const auto registration = m_domain.patient(patientId);
  if (registration && registration->protectedIdentity && !mayReadProtectedAddress(caller, ctx)) {
    patient.set_address(protectedText());
    patient.set_access_notes(protectedText());
  }
  return patient;
}

domain::Visit CareService::updateVisit(const api::Principal& caller, const std::string& patientId,
                                       const std::string& visitId, const api::VisitUpdate& update, std::int64_t nowMs) {
  require(caller, Action::ScheduleVisit, patientId, nowMs, "update visit " + visitId);
  if (!m_log.field({patientId, "visit", visitId, "scheduled_start"}) &&
      !m_log.field({patientId, "visit", visitId, "status"})) {
    throw NotFound("visit " + visitId + ": no such visit of " + patientId);
  }
  // The entry rule the tablets follow too: a finished visit stays as it was
  // done (who went, when, and its state).
  const auto status = m_log.field({patientId, "visit", visitId, "status"});
  if (auto closed = sync::checkVisitOpen(visitId, status ? std::optional<std::string>(status->value) : std::nullopt)) {
    throw BadRequest("status: " + *closed);
  }
  std::vector<SyncService::FieldChange> writes;
  if (!update.nurse_id().empty()) {
    const auto nurse = m_domain.practitioner(update.nurse_id());
    if (!nurse || nurse->role() != domain::NURSE) throw BadRequest("nurse_id: no nurse " + update.nurse_id());
    if (!m_domain.inCareTeam(patientId, update.nurse_id())) {
      throw BadRequest("nurse_id: " + update.nurse_id() + " is not in the care team of " + patientId);
    }
    writes.push_back({"visit", visitId, "nurse_id", update.nurse_id()});
  }
  if (!update.scheduled_start().empty()) {
    const std::string start = normalisedTime("scheduled_start", update.scheduled_start());
    if (*sync::parseRfc3339(start) < nowMs) {
      throw BadRequest("scheduled_start: " + start + " is in the past (now " + sync::formatRfc3339(nowMs) +
                       "); a visit is rescheduled to a time to come");
    }
    writes.push_back({"visit", visitId, "scheduled_start", start});
  }
  if (update.status() != domain::Visit::STATUS_UNSPECIFIED) {
    if (!domain::Visit::Status_IsValid(update.status())) throw BadRequest("status: unknown value");
    writes.push_back({"visit", visitId, "status", domain::Visit::Status_Name(update.status())});
  }
  if (writes.empty()) throw BadRequest("body: names no change (nurse_id, scheduled_start or status)");
  m_sync.writeFields(caller.user_id(), patientId, writes, nowMs);
  const api::VisitList visits = visitsOf(patientId);
  for (const auto& visit : visits.visits()) {
    if (visit.id() == visitId) return visit;
  }
  throw NotFound("visit " + visitId + ": no such visit of " + patientId);
}

std::vector<api::ScheduledVisit> CareService::scheduledVisits(const api::Principal& caller, std::int64_t fromMs,
                                                              std::int64_t toMs, std::int64_t nowMs) {
  requireClinician(caller, "schedule.read", nowMs);
  std::set<std::string> candidates = candidatePatients(caller);
  if (caller.role() == domain::COORDINATOR) {
    for (auto& id : m_domain.patientsServedBy(caller.organisation_id())) candidates.insert(id);
  }
  // What the schedule shows of each patient, gathered once.
  struct PatientView {
    bool allowed = false;
    std::string name;
    std::string homeOrganisationId;
    domain::CarePlan plan;
    std::map<std::string, domain::Visit> visits;
    std::map<std::string, std::set<std::string>> answeredTasks;  // by visit
  };
  std::map<std::string, PatientView> views;
  std::map<std::string, std::string> organisationNames;
  for (const auto& organisation : m_domain.organisations()) organisationNames[organisation.id()] = organisation.name();

  std::vector<api::ScheduledVisit> result;
  std::set<std::string> read;
  for (const auto& [patientId, visitId] :
       m_log.visitsStarting(sync::formatRfc3339(fromMs), sync::formatRfc3339(toMs))) {
    if (!candidates.count(patientId)) continue;
    auto it = views.find(patientId);
    if (it == views.end()) {
      PatientView view;
      const CareContext ctx = context(caller, patientId, nowMs);
      view.allowed = decide(caller, Action::ReadSchedule, patientId, ctx).allowed;
      if (view.allowed) {
        view.name = patientFields(patientId).name();
        view.homeOrganisationId = ctx.homeOrganisationId;
        view.plan = planOf(patientId);
        const api::VisitList visits = visitsOf(patientId);
        for (const auto& visit : visits.visits()) view.visits[visit.id()] = visit;
        view.answeredTasks = m_log.answeredTasks(patientId);
      }
      it = views.emplace(patientId, std::move(view)).first;
    }
    const PatientView& view = it->second;
    const auto visit = view.visits.find(visitId);
    if (!view.allowed || visit == view.visits.end()) continue;
    api::ScheduledVisit& scheduled = result.emplace_back();
    *scheduled.mutable_visit() = visit->second;
    scheduled.set_patient_name(view.name);
    std::string organisationId = view.homeOrganisationId;
    // The tablet's checklist (mobile-core Device::visit()): the plan's
    // nurse activities and the visit's own activity; done counts those of
    // them answered at the visit.
    const auto answeredIt = view.answeredTasks.find(visitId);
    std::uint32_t total = 0, done = 0;
    for (const auto& activity : view.plan.activities()) {
      const bool own = activity.id() == visit->second.activity_id();
      if (own) {
        scheduled.set_activity_text(activity.text());
        if (!activity.responsible_organisation_id().empty()) organisationId = activity.responsible_organisation_id();
      }
      if (!own && activity.responsible_role() != domain::NURSE) continue;
      ++total;
      if (answeredIt != view.answeredTasks.end() && answeredIt->second.count(activity.id())) ++done;
    }
    scheduled.set_organisation_id(organisationId);
    scheduled.set_organisation_name(organisationNames[organisationId]);
    scheduled.set_tasks_done(done);
    scheduled.set_tasks_total(total);
    read.insert(patientId);
  }
  auditEach(caller, "schedule.read", read, nowMs);
  return result;
}

api::Schedule CareService::schedule(const api::Principal& caller, const std::string& from, const std::string& to,
                                    std::int64_t nowMs) {
  auto parse = [](const std::string& field, const std::string& text, bool end) -> std::int64_t {
    if (const auto date = parseDate(text)) return end ? *date + kDayMs : *date;
    const auto time = sync::parseRfc3339(text);
    if (!time) throw BadRequest(field + ": \"" + text + "\" is not an RFC 3339 time or a YYYY-MM-DD date");
    return *time;
  };
  const std::int64_t fromMs = from.empty() ? startOfDay(nowMs) : parse("from", from, false);
  const std::int64_t toMs = to.empty() ? startOfDay(fromMs) + kDayMs : parse("to", to, true);
  if (toMs <= fromMs) throw BadRequest("to: not after from");
  if (toMs - fromMs > kMaxScheduleDays * kDayMs) {
    throw BadRequest("to: the period is longer than " + std::to_string(kMaxScheduleDays) + " days");
  }
  api::Schedule schedule;
  schedule.set_from(sync::formatRfc3339(fromMs));
  schedule.set_to(sync::formatRfc3339(toMs));
  for (auto& visit : scheduledVisits(caller, fromMs, toMs, nowMs)) *schedule.add_visits() = std::move(visit);
  return schedule;
}

api::Board CareService::board(const api::Principal& caller, const std::string& date, std::int64_t nowMs) {
  std::int64_t dayMs = startOfDay(nowMs);
  if (!date.empty()) {
    const auto parsed = parseDate(date);
    if (!parsed) throw BadRequest("date: \"" + date + "\" is not a YYYY-MM-DD date");
    dayMs = *parsed;
  }
  api::Board board;
  board.set_date(sync::formatRfc3339(dayMs).substr(0, 10));
  std::map<std::string, api::BoardColumn*> columns;
  for (const auto& organisation : m_domain.organisations()) {
    api::BoardColumn& column = *board.add_organisations();
    column.set_organisation_id(organisation.id());
    column.set_organisation_name(organisation.name());
    columns[organisation.id()] = &column;
  }
  for (auto& scheduled : scheduledVisits(caller, dayMs, dayMs + kDayMs, nowMs)) {
    const auto it = columns.find(scheduled.organisation_id());
    if (it == columns.end()) continue;
    api::BoardColumn& column = *it->second;
    const auto status = scheduled.visit().status();
    if (status == domain::Visit::DONE) column.set_done(column.done() + 1);
    if (status == domain::Visit::PLANNED || status == domain::Visit::IN_PROGRESS) {
      column.set_remaining(column.remaining() + 1);
    }
    *column.add_visits() = std::move(scheduled);
  }
  return board;
}

api::AuditList CareService::auditSample(const api::Principal& caller, std::uint32_t size, std::int64_t nowMs) {
  if (size < 1 || size > 100) throw BadRequest("size: " + std::to_string(size) + " is not between 1 and 100");
  requireAuditReviewer(caller, "audit.sample", nowMs);
  return m_audit.sample(caller.organisation_id(), size);
}

api::AuditReview CareService::addAuditReview(const api::Principal& caller, const api::AuditReview& review,
                                             std::int64_t nowMs) {
  requireAuditReviewer(caller, "audit.review", nowMs);
  if (review.entry_seqs().empty()) throw BadRequest("entry_seqs: empty");
  if (review.entry_seqs_size() > 100) throw BadRequest("entry_seqs: more than 100 entries");
  if (review.finding() != "ok" && review.finding() != "concern") {
    throw BadRequest("finding: \"" + review.finding() + "\" is not ok or concern");
  }
  if (review.finding() == "concern" && review.note().empty()) throw BadRequest("note: required for a concern");
  if (review.note().size() > sync::kMaxTextBytes) throw BadRequest("note: too long");
  const std::vector<std::uint64_t> seqs(review.entry_seqs().begin(), review.entry_seqs().end());
  if (const auto foreign = m_audit.firstForeign(caller.organisation_id(), seqs)) {
    throw BadRequest("entry_seqs: " + std::to_string(*foreign) + " is not an entry of organisation " +
                     caller.organisation_id());
  }
  api::AuditReview stored;
  stored.set_id(newId("review"));
  stored.set_reviewer_id(caller.user_id());
  stored.set_organisation_id(caller.organisation_id());
  stored.set_reviewed_at(sync::formatRfc3339(nowMs));
  *stored.mutable_entry_seqs() = review.entry_seqs();
  stored.set_finding(review.finding());
  stored.set_note(review.note());
  m_audit.addReview(stored);
  return stored;
}

api::AuditReviewList CareService::auditReviews(const api::Principal& caller, std::int64_t nowMs) {
  requireAuditReviewer(caller, "audit.reviews.read", nowMs);
  return m_audit.reviews(caller.organisation_id(), 500);
}

}  // namespace hemma::server
