#include "hemma/sync/entry_rules.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace hemma::sync {

namespace {

// Wide enough for every reading of a living patient, however ill (an
// agonal respiratory rate of 3, SpO2 50 % in respiratory failure, a pulse of
// 20 in complete heart block); narrow enough to refuse a 0 typed for "not
// measured" and a probe's nonsense.
constexpr std::array kVitalSignRanges{
    VitalSignRange{"respiratory_rate", 3, 80, "/min"}, VitalSignRange{"spo2", 50, 100, "%"},
    VitalSignRange{"systolic_bp", 40, 300, "mmHg"},    VitalSignRange{"pulse", 20, 300, "/min"},
    VitalSignRange{"temperature_c", 25, 45, "°C"},
};

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::optional<std::string> checkOne(const std::string& prefix, std::string_view field, bool present, double value) {
  if (!present) return std::nullopt;
  const VitalSignRange& range = *vitalSignRange(field);
  if (std::isfinite(value) && value >= range.low && value <= range.high) return std::nullopt;
  return prefix + "." + std::string(field) + ": " + number(value) + " is outside " + number(range.low) + "-" +
         number(range.high) + " " + std::string(range.unit) + " (not a reading of a living patient)";
}

using Refusal = std::optional<EntryRefusal>;

Refusal invalid(std::string reason) { return EntryRefusal{EntryRefusal::Kind::Invalid, std::move(reason)}; }
Refusal forbidden(std::string reason) { return EntryRefusal{EntryRefusal::Kind::Forbidden, std::move(reason)}; }

// The visit as the rules see it.
struct VisitState {
  std::optional<std::string> status;
  std::optional<std::string> nurseId;
  std::optional<std::string> activityId;
  bool exists = false;
};

VisitState visitState(EntryState& state, const std::string& patientId, const std::string& visitId) {
  auto field = [&](const char* name) { return state.field({patientId, "visit", visitId, name}); };
  VisitState visit;
  visit.status = field("status");
  visit.nurseId = field("nurse_id");
  visit.activityId = field("activity_id");
  visit.exists = visit.status.has_value() || field("scheduled_start").has_value();
  return visit;
}

std::string statusOf(const VisitState& visit) { return visit.status.value_or("PLANNED"); }

// The nurse's own steps through a visit: one forward at a time.
int step(const std::string& status) {
  if (status == "PLANNED") return 0;
  if (status == "IN_PROGRESS") return 1;
  if (status == "DONE") return 2;
  return -1;
}

Refusal checkVisitWrite(const Operation& op, const EntryAuthor& author, EntryState& state, const std::string& where,
                        const std::string& field) {
  const VisitState visit = visitState(state, op.patient_id(), op.entity_id());
  const std::string name = "visit " + op.entity_id();
  if (!visit.exists) {
    return invalid(where + ": " + name + " of " + op.patient_id() +
                   " does not exist; visits are scheduled by a coordinator, not created from a tablet");
  }
  // The end time goes with the end: the one write a DONE visit still takes
  // (endVisit writes the status first), once.
  const bool endTime = field == "ended_at" && statusOf(visit) == "DONE" &&
                       !state.field({op.patient_id(), "visit", op.entity_id(), "ended_at"});
  if (auto closed = endTime ? std::nullopt : checkVisitOpen(op.entity_id(), visit.status)) {
    return invalid(where + ": " + *closed);
  }
  const bool nurseStep =
      field == "status" || field == "started_at" || field == "ended_at" || field == "completed_tasks";
  if (!nurseStep) return std::nullopt;  // scheduling: the access policy's ScheduleVisit right
  if (visit.nurseId.value_or("") != author.userId) {
    return forbidden(where + ": " + name + " is assigned to " +
                     (visit.nurseId && !visit.nurseId->empty() ? *visit.nurseId : std::string("no nurse")) + ", not " +
                     author.userId + "; only its nurse carries it out");
  }
  const std::string current = statusOf(visit);
  if (field == "status") {
    const std::string& next = op.write().value();
    if (step(next) != step(current) + 1) {
      return invalid(where + ": " + name + " cannot go from " + current + " to " + next +
                     " (a nurse moves a visit PLANNED -> IN_PROGRESS -> DONE)");
    }
  } else if (field == "started_at" && current != "IN_PROGRESS") {
    return invalid(where + ": " + name + " is " + current + "; started_at is written when it starts (IN_PROGRESS)");
  } else if (field == "ended_at" && current != "DONE") {
    return invalid(where + ": " + name + " is " + current + "; ended_at is written when it ends (DONE)");
  } else if (field == "completed_tasks" && current != "IN_PROGRESS") {
    return invalid(where + ": " + name + " is " + current + "; tasks are ticked while it is IN_PROGRESS");
  }
  return std::nullopt;
}

// The visit an entry is recorded at, and whether it is a note's amendment.
struct VisitLink {
  std::string visitId;
  std::string field;  // "append.vital_signs.visit_id"
  bool amendment = false;
};

std::optional<VisitLink> visitLinkOf(const AppendEntry& entry) {
  switch (entry.entry_case()) {
    case AppendEntry::kNote:
      if (entry.note().visit_id().empty()) return std::nullopt;
      return VisitLink{entry.note().visit_id(), "append.note.visit_id", !entry.note().amends_note_id().empty()};
    case AppendEntry::kObservation:
      if (entry.observation().visit_id().empty()) return std::nullopt;
      return VisitLink{entry.observation().visit_id(), "append.observation.visit_id", false};
    case AppendEntry::kVitalSigns:
      if (entry.vital_signs().visit_id().empty()) return std::nullopt;
      return VisitLink{entry.vital_signs().visit_id(), "append.vital_signs.visit_id", false};
    case AppendEntry::kTaskOutcome:
      return VisitLink{entry.task_outcome().visit_id(), "append.task_outcome.visit_id", false};
    case AppendEntry::kMedicationAdministration:
      if (entry.medication_administration().visit_id().empty()) return std::nullopt;
      return VisitLink{entry.medication_administration().visit_id(), "append.medication_administration.visit_id",
                       false};
    default:
      return std::nullopt;
  }
}

Refusal checkVisitEntry(const Operation& op, const VisitLink& link, EntryState& state) {
  const VisitState visit = visitState(state, op.patient_id(), link.visitId);
  const std::string name = "visit " + link.visitId;
  if (!visit.exists) return invalid(link.field + ": no " + name + " of " + op.patient_id());
  const std::string status = statusOf(visit);
  if (status == "IN_PROGRESS") return std::nullopt;
  if (status == "DONE" && link.amendment) return std::nullopt;
  if (status == "PLANNED") {
    return invalid(link.field + ": " + name +
                   " is PLANNED (not started); entries are recorded while it is IN_PROGRESS");
  }
  return invalid(link.field + ": " + name + " is " + status + "; entries after the end are refused" +
                 (status == "DONE" ? " (a note may amend an earlier note)" : ""));
}

Refusal checkTaskActivity(const Operation& op, const EntryAuthor& author, EntryState& state) {
  const domain::TaskOutcome& task = op.append().task_outcome();
  const std::string field = "append.task_outcome.activity_id";
  auto activity = [&](const char* name) {
    return state.field({op.patient_id(), "care_plan_activity", task.activity_id(), name});
  };
  const auto text = activity("text");
  const auto role = activity("responsible_role");
  const auto organisation = activity("responsible_organisation_id");
  if (!text && !role && !organisation) {
    return invalid(field + ": no activity " + task.activity_id() + " in the plan of " + op.patient_id());
  }
  // The visit the coordinator scheduled for this activity answers it,
  // whoever is responsible for it in general (the checklist's rule).
  if (visitState(state, op.patient_id(), task.visit_id()).activityId.value_or("") == task.activity_id()) {
    return std::nullopt;
  }
  // A tablet enrolled without an online sign-in does not know its user's
  // role; the server, which always does, decides then.
  if (author.role == domain::ROLE_UNSPECIFIED) return std::nullopt;
  const std::string authorRole = domain::Role_Name(author.role);
  const bool roleFits = role.value_or("") == authorRole;
  const bool organisationFits = organisation.value_or("").empty() || *organisation == author.organisationId;
  if (roleFits && organisationFits) return std::nullopt;
  std::string responsible = role && !role->empty() ? *role : std::string("no role");
  if (organisation && !organisation->empty()) responsible += " at " + *organisation;
  return forbidden(field + ": activity " + task.activity_id() + (text ? " (" + *text + ")" : std::string()) +
                   " is the responsibility of " + responsible + ", not of " + authorRole + " at " +
                   author.organisationId);
}

}  // namespace

std::span<const VitalSignRange> vitalSignRanges() { return kVitalSignRanges; }

const VitalSignRange* vitalSignRange(std::string_view field) {
  for (const VitalSignRange& range : kVitalSignRanges) {
    if (range.field == field) return &range;
  }
  return nullptr;
}

std::optional<std::string> checkVitalSignRanges(const std::string& prefix, const domain::VitalSigns& v) {
  if (auto p = checkOne(prefix, "respiratory_rate", v.has_respiratory_rate(), v.respiratory_rate())) return p;
  if (auto p = checkOne(prefix, "spo2", v.has_spo2(), v.spo2())) return p;
  if (auto p = checkOne(prefix, "systolic_bp", v.has_systolic_bp(), v.systolic_bp())) return p;
  if (auto p = checkOne(prefix, "pulse", v.has_pulse(), v.pulse())) return p;
  return checkOne(prefix, "temperature_c", v.has_temperature_c(), v.temperature_c());
}

void PendingEntryState::add(const Operation& op) {
  if (!op.has_write()) return;
  m_written[{op.patient_id(), op.entity_type(), op.entity_id(), op.write().field()}] = op.write().value();
}

std::optional<std::string> PendingEntryState::field(const FieldLocation& location) {
  const auto it = m_written.find(location);
  if (it != m_written.end()) return it->second;
  return m_base.field(location);
}

std::optional<bool> PendingEntryState::inCareTeam(const std::string& patientId, const std::string& practitionerId) {
  return m_base.inCareTeam(patientId, practitionerId);
}

std::optional<std::string> checkVisitOpen(const std::string& visitId, const std::optional<std::string>& status) {
  if (status && (*status == "DONE" || *status == "CANCELLED")) {
    return "visit " + visitId + " is " + *status + "; a finished visit is not changed";
  }
  return std::nullopt;
}

bool entryRulesConcern(const Operation& op) {
  if (op.entity_type() == "visit") return true;
  if (!op.has_append()) return false;
  const AppendEntry& entry = op.append();
  return visitLinkOf(entry).has_value() || (entry.has_message() && !entry.message().recipient_id().empty());
}

std::optional<EntryRefusal> checkEntryRules(const Operation& op, const EntryAuthor& author, EntryState& state) {
  if (op.entity_type() == "visit") {
    if (op.has_write())
      return checkVisitWrite(op, author, state, "write.field: visit." + op.write().field(), op.write().field());
    if (op.has_set_add())
      return checkVisitWrite(op, author, state, "set_add.set: visit." + op.set_add().set(), op.set_add().set());
    if (op.has_set_remove()) {
      return checkVisitWrite(op, author, state, "set_remove.set: visit." + op.set_remove().set(),
                             op.set_remove().set());
    }
    return std::nullopt;
  }
  if (!op.has_append()) return std::nullopt;
  const AppendEntry& entry = op.append();
  if (const auto link = visitLinkOf(entry)) {
    if (auto refusal = checkVisitEntry(op, *link, state)) return refusal;
  }
  if (entry.has_task_outcome()) {
    if (auto refusal = checkTaskActivity(op, author, state)) return refusal;
  }
  if (entry.has_message() && !entry.message().recipient_id().empty()) {
    const std::string& recipient = entry.message().recipient_id();
    if (state.inCareTeam(op.patient_id(), recipient) == false) {
      return forbidden("append.message.recipient_id: " + recipient + " is not in the care team of " + op.patient_id());
    }
  }
  return std::nullopt;
}

}  // namespace hemma::sync
