#include "hemma/sync/operation.hpp"

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

}  // namespace

std::string makeOperationId(std::string_view deviceId, std::uint64_t counter) {
  std::string id(deviceId);
  id += ':';
  id += std::to_string(counter);
  return id;
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
        case AppendEntry::ENTRY_NOT_SET:
          return "append: no entry";
      }
      return "append: unknown entry";
    case Operation::kWrite:
      if (auto p = checkId("write.field", op.write().field())) return p;
      if (op.write().base_hlc() >= op.hlc()) return "write.base_hlc: not older than the write's hlc";
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
