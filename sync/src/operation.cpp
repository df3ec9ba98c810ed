#include "hemma/sync/operation.hpp"

#include "hemma/sync/entry_rules.hpp"
#include "hemma/sync/merge_rules.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::sync {

namespace {

using Problem = std::optional<std::string>;

Problem checkId(std::string_view field, const std::string& value) {
  if (value.empty()) return std::string(field) + ": empty";
  if (value.size() > kMaxIdBytes) return std::string(field) + ": longer than " + std::to_string(kMaxIdBytes) + " bytes";
  return std::nullopt;
}

Problem checkText(std::string_view field, const std::string& value, bool required) {
  if (required && value.empty()) return std::string(field) + ": empty";
  if (value.size() > kMaxTextBytes) {
    return std::string(field) + ": longer than " + std::to_string(kMaxTextBytes) + " bytes";
  }
  return std::nullopt;
}

Problem checkTime(std::string_view field, const std::string& value) {
  if (!parseRfc3339(value)) return std::string(field) + ": not an RFC 3339 time";
  return std::nullopt;
}

Problem checkNote(const Operation& op, const domain::VisitNote& note) {
  if (auto p = checkId("append.note.id", note.id())) return p;
  if (note.id() != op.entity_id()) return "append.note.id: differs from entity_id";
  if (note.patient_id() != op.patient_id()) return "append.note.patient_id: differs from patient_id";
  if (note.author_id() != op.author_id()) return "append.note.author_id: differs from author_id";
  if (auto p = checkText("append.note.text", note.text(), true)) return p;
  if (auto p = checkTime("append.note.written_at", note.written_at())) return p;
  return std::nullopt;
}

Problem checkObservation(const Operation& op, const domain::Observation& obs) {
  if (auto p = checkId("append.observation.id", obs.id())) return p;
  if (obs.id() != op.entity_id()) return "append.observation.id: differs from entity_id";
  if (obs.patient_id() != op.patient_id()) return "append.observation.patient_id: differs from patient_id";
  if (auto p = checkId("append.observation.code", obs.code())) return p;
  if (auto p = checkTime("append.observation.observed_at", obs.observed_at())) return p;
  return std::nullopt;
}

// A base names the write the author saw by its clock and its id, or
// neither (the field was empty). The id alone names no place in the order.
Problem checkBase(const std::string& prefix, std::uint64_t baseHlc, const std::string& baseOperationId) {
  if (baseOperationId.empty()) return std::nullopt;
  if (auto p = checkId(prefix + "_operation_id", baseOperationId)) return p;
  if (baseHlc == 0) return prefix + "_hlc: zero with a base_operation_id (the clock of the write named)";
  return std::nullopt;
}

// What every entry repeats of its operation: its id, patient and author.
Problem checkHeader(const Operation& op, const std::string& prefix, const std::string& id, const std::string& patientId,
                    const std::string& authorId) {
  if (auto p = checkId(prefix + ".id", id)) return p;
  if (id != op.entity_id()) return prefix + ".id: differs from entity_id";
  if (patientId != op.patient_id()) return prefix + ".patient_id: differs from patient_id";
  if (authorId != op.author_id()) return prefix + ".author_id: differs from author_id";
  return std::nullopt;
}

template <typename T>
Problem checkRange(const std::string& field, bool present, T value, T low, T high) {
  if (!present) return std::nullopt;
  if (!(value >= low && value <= high)) {
    return field + ": " + std::to_string(value) + " is outside " + std::to_string(low) + "-" + std::to_string(high);
  }
  return std::nullopt;
}

Problem checkVitalSigns(const std::string& prefix, const domain::VitalSigns& v) {
  if (auto p = checkTime(prefix + ".observed_at", v.observed_at())) return p;
  // Physiologically possible values only (vitalSignRanges()).
  if (auto p = checkVitalSignRanges(prefix, v)) return p;
  if (auto p = checkRange(prefix + ".news2_score", v.has_news2_score(), v.news2_score(), 0, 20)) return p;
  if (!domain::Consciousness_IsValid(v.consciousness())) return prefix + ".consciousness: unknown value";
  if (!domain::News2Risk_IsValid(v.news2_risk())) return prefix + ".news2_risk: unknown value";
  if (v.has_news2_score() != (v.news2_risk() != domain::NEWS2_NOT_EVALUATED)) {
    return prefix + ".news2_risk: must be NEWS2_NOT_EVALUATED exactly when news2_score is unset";
  }
  if (v.has_news2_score()) {
    // The RCP's bands: alerts and the trend rest on the risk, so it must be
    // the one the score gives.
    const domain::News2Risk expected = v.news2_score() >= 7   ? domain::NEWS2_HIGH
                                       : v.news2_score() >= 5 ? domain::NEWS2_MEDIUM
                                       : v.red_parameter()    ? domain::NEWS2_LOW_MEDIUM
                                                              : domain::NEWS2_LOW;
    if (v.news2_risk() != expected) {
      return prefix + ".news2_risk: " + domain::News2Risk_Name(v.news2_risk()) + " does not match news2_score " +
             std::to_string(v.news2_score()) + (v.red_parameter() ? " with a red parameter" : "") + " (" +
             domain::News2Risk_Name(expected) + ")";
    }
  }
  if (!v.has_respiratory_rate() && !v.has_spo2() && !v.has_systolic_bp() && !v.has_pulse() &&
      v.consciousness() == domain::CONSCIOUSNESS_UNSPECIFIED && !v.has_temperature_c()) {
    return prefix + ": no measurement";
  }
  return std::nullopt;
}

Problem checkEntry(const Operation& op, const domain::VitalSigns& v) {
  if (auto p = checkHeader(op, "append.vital_signs", v.id(), v.patient_id(), v.author_id())) return p;
  return checkVitalSigns("append.vital_signs", v);
}

Problem checkEntry(const Operation& op, const domain::TaskOutcome& t) {
  if (auto p = checkHeader(op, "append.task_outcome", t.id(), t.patient_id(), t.author_id())) return p;
  if (auto p = checkId("append.task_outcome.visit_id", t.visit_id())) return p;
  if (auto p = checkId("append.task_outcome.activity_id", t.activity_id())) return p;
  if (t.outcome() == domain::TaskOutcome::OUTCOME_UNSPECIFIED || !domain::TaskOutcome::Outcome_IsValid(t.outcome())) {
    return "append.task_outcome.outcome: not DONE, NOT_DONE or REFUSED";
  }
  const bool needsReason = t.outcome() != domain::TaskOutcome::DONE;
  if (auto p = checkText("append.task_outcome.reason", t.reason(), needsReason)) {
    return needsReason && t.reason().empty()
               ? "append.task_outcome.reason: required when " + domain::TaskOutcome::Outcome_Name(t.outcome())
               : p;
  }
  return checkTime("append.task_outcome.recorded_at", t.recorded_at());
}

Problem checkEntry(const Operation& op, const domain::MedicationAdministration& m) {
  const std::string prefix = "append.medication_administration";
  if (auto p = checkHeader(op, prefix, m.id(), m.patient_id(), m.author_id())) return p;
  if (auto p = checkId(prefix + ".medication_id", m.medication_id())) return p;
  if (auto p = checkText(prefix + ".dose", m.dose(), false)) return p;
  if (!m.given() && m.reason().empty()) return prefix + ".reason: required when not given";
  if (auto p = checkText(prefix + ".reason", m.reason(), false)) return p;
  return checkTime(prefix + ".administered_at", m.administered_at());
}

Problem checkEntry(const Operation& op, const domain::Message& m) {
  if (auto p = checkHeader(op, "append.message", m.id(), m.patient_id(), m.author_id())) return p;
  if (!m.recipient_id().empty()) {
    if (auto p = checkId("append.message.recipient_id", m.recipient_id())) return p;
  }
  if (auto p = checkText("append.message.text", m.text(), true)) return p;
  if (auto p = checkTime("append.message.sent_at", m.sent_at())) return p;
  if (m.has_vital_signs()) return checkVitalSigns("append.message.vital_signs", m.vital_signs());
  return std::nullopt;
}

Problem checkEntry(const Operation& op, const domain::ProposedChange& c) {
  const std::string prefix = "append.proposed_change";
  if (auto p = checkHeader(op, prefix, c.id(), c.patient_id(), c.author_id())) return p;
  if (auto p = checkProposedChange(prefix + ".", c)) return p;
  if (auto p = checkBase(prefix + ".base", c.base_hlc(), c.base_operation_id())) return p;
  if (auto p = checkText(prefix + ".reason", c.reason(), false)) return p;
  return checkTime(prefix + ".proposed_at", c.proposed_at());
}

}  // namespace

std::optional<std::string> checkProposedChange(const std::string& prefix, const domain::ProposedChange& c) {
  if (auto p = checkId(prefix + "entity_type", c.entity_type())) return p;
  if (auto p = checkId(prefix + "entity_id", c.entity_id())) return p;
  if (auto p = checkId(prefix + "field", c.field())) return p;
  const bool planField = c.entity_type() == "care_plan" || c.entity_type() == "care_plan_goal" ||
                         c.entity_type() == "care_plan_activity" || c.entity_type() == "medication";
  const auto policy = policyFor(c.entity_type(), c.field());
  if (!planField || !policy || *policy == MergePolicy::AddWinsSet) {
    return prefix + "field: " + c.entity_type() + "." + c.field() + " is not a field of the care plan";
  }
  // The plan's own fields are one entity per patient: its id is the patient's.
  if (c.entity_type() == "care_plan" && c.entity_id() != c.patient_id()) {
    return prefix + "entity_id: the care_plan of " + c.patient_id() + " is " + c.patient_id() + ", not " +
           c.entity_id();
  }
  // Signing writes the value as it stands: an empty one would wipe the field.
  if (auto p = checkText(prefix + "proposed_value", c.proposed_value(), true)) return p;
  if (c.entity_type() == "care_plan" && c.field() == "spo2_scale_2" && c.proposed_value() != "true" &&
      c.proposed_value() != "false") {
    return prefix + "proposed_value: care_plan.spo2_scale_2 is \"true\" or \"false\", not \"" + c.proposed_value() +
           "\"";
  }
  return std::nullopt;
}

std::string makeOperationId(std::string_view deviceId, std::string_view epoch, std::uint64_t counter) {
  std::string id(deviceId);
  id += ':';
  if (!epoch.empty()) {
    id += epoch;
    id += ':';
  }
  id += std::to_string(counter);
  return id;
}

std::string makeOperationId(std::string_view deviceId, std::uint64_t counter) {
  return makeOperationId(deviceId, {}, counter);
}

bool isValidEpoch(std::string_view epoch) {
  constexpr std::size_t kMaxEpochBytes = 40;
  if (epoch.empty() || epoch.size() > kMaxEpochBytes) return false;
  for (const char c : epoch) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

std::optional<std::string> validateOperation(const Operation& op) {
  if (auto p = checkId("id", op.id())) return p;
  if (auto p = checkId("device_id", op.device_id())) return p;
  if (op.id().size() <= op.device_id().size() || op.id().compare(0, op.device_id().size(), op.device_id()) != 0 ||
      op.id()[op.device_id().size()] != ':') {
    return "id: must start with \"<device_id>:\"";
  }
  if (auto p = checkId("author_id", op.author_id())) return p;
  if (op.hlc() == 0) return "hlc: zero";
  if (auto p = checkId("patient_id", op.patient_id())) return p;
  if (auto p = checkId("entity_type", op.entity_type())) return p;
  if (auto p = checkId("entity_id", op.entity_id())) return p;
  if (auto p = checkTime("recorded_at", op.recorded_at())) return p;

  switch (op.change_case()) {
    case Operation::kAppend:
      switch (op.append().entry_case()) {
        case AppendEntry::kNote:
          return checkNote(op, op.append().note());
        case AppendEntry::kObservation:
          return checkObservation(op, op.append().observation());
        case AppendEntry::kVitalSigns:
          return checkEntry(op, op.append().vital_signs());
        case AppendEntry::kTaskOutcome:
          return checkEntry(op, op.append().task_outcome());
        case AppendEntry::kMedicationAdministration:
          return checkEntry(op, op.append().medication_administration());
        case AppendEntry::kMessage:
          return checkEntry(op, op.append().message());
        case AppendEntry::kProposedChange:
          return checkEntry(op, op.append().proposed_change());
        case AppendEntry::ENTRY_NOT_SET:
          return "append: no entry";
      }
      return "append: unknown entry";
    case Operation::kWrite:
      if (auto p = checkId("write.field", op.write().field())) return p;
      if (op.write().base_hlc() >= op.hlc()) return "write.base_hlc: not older than the write's hlc";
      if (auto p = checkBase("write.base", op.write().base_hlc(), op.write().base_operation_id())) return p;
      return checkText("write.value", op.write().value(), false);
    case Operation::kSetAdd:
      if (auto p = checkId("set_add.set", op.set_add().set())) return p;
      return checkId("set_add.element", op.set_add().element());
    case Operation::kSetRemove:
      if (auto p = checkId("set_remove.set", op.set_remove().set())) return p;
      return checkId("set_remove.element", op.set_remove().element());
    case Operation::CHANGE_NOT_SET:
      return "change: not set (append, write, set_add or set_remove)";
  }
  return "change: unknown kind";
}

}  // namespace hemma::sync
