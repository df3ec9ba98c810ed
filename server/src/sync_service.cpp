#include "hemma/server/sync_service.hpp"

#include <set>

#include "hemma/sync/hlc.hpp"
#include "hemma/sync/merge_rules.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::server {

namespace {

void checkVersion(std::uint32_t version) {
  if (version != sync::kProtocolVersion) {
    throw BadRequest("protocol_version: " + std::to_string(version) + " is not supported (this server speaks " +
                     std::to_string(sync::kProtocolVersion) + ")");
  }
}

}  // namespace

SyncService::SyncService(OperationLog& log, std::string serverDeviceId)
    : m_log(log), m_serverDeviceId(std::move(serverDeviceId)), m_clock(log.newestHlc()) {}

sync::PushResponse SyncService::push(const sync::PushRequest& request, std::int64_t nowMs, const PushFilter& allowed,
                                     const OperationLog::AuditFor& audit) {
  checkVersion(request.protocol_version());
  if (request.device_id().empty()) throw BadRequest("device_id: empty");
  if (static_cast<std::size_t>(request.operations_size()) > sync::kMaxPushOperations) {
    throw BadRequest("operations: " + std::to_string(request.operations_size()) + " in one push; at most " +
                     std::to_string(sync::kMaxPushOperations));
  }

  sync::PushResponse response;
  response.set_protocol_version(sync::kProtocolVersion);
  const sync::Hlc newestAccepted = sync::makeHlc(nowMs + sync::kMaxClockSkewMs, sync::kHlcCounterMask);

  std::vector<const sync::Operation*> valid;
  std::set<std::string> seen;
  // A resolution must name a conflict of the very field it writes: the
  // overwritten write it names is stored already or sent in this push.
  auto resolvesOwnField = [&](const sync::Operation& op) {
    const std::string& conflictId = op.write().resolves_conflict_id();
    const std::string loserId = conflictId.substr(std::min(conflictId.size(), sync::kConflictIdPrefix.size()));
    std::optional<sync::Operation> loser;
    for (const auto& sent : request.operations()) {
      if (sent.id() == loserId) loser = sent;
    }
    if (!loser) loser = m_log.operation(loserId);
    return loser && loser->has_write() && loser->patient_id() == op.patient_id() &&
           loser->entity_type() == op.entity_type() && loser->entity_id() == op.entity_id() &&
           loser->write().field() == op.write().field();
  };
  // A removal may only name adds of the same element of the same set. The
  // add may be in this very push, even if it is refused for now (a clock
  // too far ahead): an add-wins set takes a removal before its add.
  auto removesOwnAdds = [&](const sync::Operation& op) -> std::optional<std::string> {
    for (const auto& addId : op.set_remove().observed_add_ids()) {
      std::optional<sync::Operation> add;
      for (const auto& sent : request.operations()) {
        if (sent.id() == addId) add = sent;
      }
      if (!add) add = m_log.operation(addId);
      if (!add || !add->has_set_add() || add->patient_id() != op.patient_id() ||
          add->entity_type() != op.entity_type() || add->entity_id() != op.entity_id() ||
          add->set_add().set() != op.set_remove().set() || add->set_add().element() != op.set_remove().element()) {
        return "set_remove.observed_add_ids: " + addId + " is not an add of this element";
      }
    }
    return std::nullopt;
  };
  for (int i = 0; i < request.operations_size(); ++i) {
    const sync::Operation& op = request.operations(i);
    auto reject = [&](sync::OperationRejection::Code code, std::string reason) {
      auto& rejection = *response.add_rejections();
      rejection.set_operation_id(op.id());
      rejection.set_code(code);
      rejection.set_reason("operations[" + std::to_string(i) + "]." + reason);
    };
    if (const std::size_t size = op.ByteSizeLong(); size > sync::kMaxOperationBytes) {
      reject(sync::OperationRejection::INVALID,
             "operation: " + std::to_string(size) + " bytes; at most " + std::to_string(sync::kMaxOperationBytes));
    } else if (auto problem = sync::validateOperation(op)) {
      reject(sync::OperationRejection::INVALID, *problem);
    } else if (auto unruled = sync::checkPolicy(op)) {
      reject(sync::OperationRejection::INVALID, *unruled);
    } else if (!seen.insert(op.id()).second) {
      reject(sync::OperationRejection::INVALID, "id: appears twice in this push");
    } else if (op.has_write() && !op.write().resolves_conflict_id().empty() && !resolvesOwnField(op)) {
      reject(sync::OperationRejection::INVALID,
             "write.resolves_conflict_id: " + op.write().resolves_conflict_id() + " is not a conflict of this field");
    } else if (auto foreignAdd = op.has_set_remove() ? removesOwnAdds(op) : std::nullopt) {
      reject(sync::OperationRejection::INVALID, *foreignAdd);
    } else if (auto badBase = baseProblem(op, request)) {
      reject(sync::OperationRejection::INVALID, *badBase);
    } else if (op.device_id() != request.device_id()) {
      reject(sync::OperationRejection::FORBIDDEN, "device_id: differs from the pushing device " + request.device_id());
    } else if (op.hlc() > newestAccepted) {
      reject(sync::OperationRejection::CLOCK_SKEW, "hlc: " + sync::formatHlc(op.hlc()) + " is more than " +
                                                       std::to_string(sync::kMaxClockSkewMs / 1000) +
                                                       " s ahead of the server's clock");
    } else if (auto refused = allowed ? allowed(op) : std::nullopt) {
      reject(refused->code, refused->reason);
    } else {
      valid.push_back(&op);
    }
  }

  const auto results = m_log.append(valid, sync::formatRfc3339(nowMs), audit);
  {
    // The server's own writes must order after everything it has stored.
    std::lock_guard lock(m_clockMutex);
    for (const auto* op : valid) m_clock.observe(op->hlc(), nowMs);
  }
  for (std::size_t i = 0; i < valid.size(); ++i) {
    if (results[i].problem) {
      auto& rejection = *response.add_rejections();
      rejection.set_operation_id(valid[i]->id());
      rejection.set_code(sync::OperationRejection::INVALID);
      rejection.set_reason(*results[i].problem);
      continue;
    }
    auto& ack = *response.add_acks();
    ack.set_operation_id(valid[i]->id());
    ack.set_server_seq(results[i].seq);
    ack.set_duplicate(results[i].duplicate);
  }
  response.set_server_time_ms(nowMs);
  return response;
}

std::optional<std::string> SyncService::baseProblem(const sync::Operation& op, const sync::PushRequest& request) {
  std::uint64_t baseHlc = 0;
  std::string baseId;
  std::string prefix;
  FieldKey key;
  if (op.has_write()) {
    baseHlc = op.write().base_hlc();
    baseId = op.write().base_operation_id();
    prefix = "write.base";
    key = {op.patient_id(), op.entity_type(), op.entity_id(), op.write().field()};
  } else if (op.has_append() && op.append().has_proposed_change()) {
    const domain::ProposedChange& change = op.append().proposed_change();
    baseHlc = change.base_hlc();
    baseId = change.base_operation_id();
    prefix = "append.proposed_change.base";
    key = {op.patient_id(), change.entity_type(), change.entity_id(), change.field()};
  }
  if (baseHlc == 0) return std::nullopt;  // the author saw the field empty
  const std::string name = key.entityType + "." + key.field + " of " + key.entityType + "/" + key.entityId;
  if (baseId.empty()) {
    // Made before protocol 4 (an outbox that waited for the upgrade): the
    // clock alone, which must be the field's current version. A retry of an
    // operation stored before is a duplicate, whatever the field holds now.
    const auto current = m_log.field(key);
    if ((current && current->hlc == baseHlc) || m_log.operation(op.id())) return std::nullopt;
    return prefix + "_operation_id: empty, and base_hlc " + sync::formatHlc(baseHlc) +
           " is not the current version of " + name + "; name the write the author saw";
  }
  std::optional<sync::Operation> base;
  for (const auto& sent : request.operations()) {
    if (sent.id() == baseId) base = sent;
  }
  if (!base) base = m_log.operation(baseId);
  if (!base || !base->has_write() || base->patient_id() != key.patientId || base->entity_type() != key.entityType ||
      base->entity_id() != key.entityId || base->write().field() != key.field) {
    return prefix + "_operation_id: " + baseId + " is not a write of " + name + " that the server holds";
  }
  if (base->hlc() != baseHlc) {
    return prefix + "_hlc: " + sync::formatHlc(baseHlc) + " is not the clock of " + baseId + " (" +
           sync::formatHlc(base->hlc()) + ")";
  }
  return std::nullopt;
}

sync::ConflictList SyncService::conflicts(const ConflictQuery& query) {
  sync::ConflictList list;
  for (auto& conflict : m_log.conflicts(query)) *list.add_conflicts() = std::move(conflict);
  return list;
}

sync::Operation SyncService::writeField(const std::string& authorId, const std::string& patientId,
                                        const std::string& entityType, const std::string& entityId,
                                        const std::string& field, const std::string& value, std::int64_t nowMs,
                                        const std::string& resolvesConflictId) {
  return writeOperations(authorId, patientId, {{entityType, entityId, field, value}}, nowMs, resolvesConflictId)
      .front();
}

std::vector<sync::Operation> SyncService::writeFields(const std::string& authorId, const std::string& patientId,
                                                      const std::vector<FieldChange>& changes, std::int64_t nowMs) {
  return writeOperations(authorId, patientId, changes, nowMs, {});
}

std::vector<sync::Operation> SyncService::writeOperations(const std::string& authorId, const std::string& patientId,
                                                          const std::vector<FieldChange>& changes, std::int64_t nowMs,
                                                          const std::string& resolvesConflictId) {
  std::vector<sync::Operation> ops(changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const FieldChange& change = changes[i];
    sync::Operation& op = ops[i];
    op = newOperation(authorId, patientId, change.entityType, change.entityId, nowMs, nowMs);
    auto& write = *op.mutable_write();
    write.set_field(change.field);
    write.set_value(change.value);
    std::uint64_t base = 0;
    std::string baseId;
    if (change.baseHlc) {
      base = *change.baseHlc;
      baseId = change.baseOperationId;
    } else {
      const auto current = m_log.field({patientId, change.entityType, change.entityId, change.field});
      base = current ? current->hlc : 0;
      baseId = current ? current->opId : std::string();
    }
    // The server's clock follows everything it stored, so a stored base is
    // older than the write; a base that is not names no write it holds.
    if (base >= op.hlc()) {
      base = op.hlc() - 1;
      baseId.clear();
    }
    write.set_base_hlc(base);
    write.set_base_operation_id(base == 0 ? std::string() : baseId);
    write.set_resolves_conflict_id(resolvesConflictId);
    const std::string where = changes.size() > 1 ? change.entityType + "." + change.field + ": " : "";
    if (auto problem = sync::validateOperation(op)) throw BadRequest(where + *problem);
    if (auto problem = sync::checkPolicy(op)) throw BadRequest(where + *problem);
  }
  std::vector<const sync::Operation*> pointers;
  for (const auto& op : ops) pointers.push_back(&op);
  const auto results = m_log.append(pointers, sync::formatRfc3339(nowMs));
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (results[i].problem) throw BadRequest(*results[i].problem);  // server ids are fresh: cannot happen
    ops[i].set_server_seq(results[i].seq);
  }
  return ops;
}

sync::Operation SyncService::newOperation(const std::string& authorId, const std::string& patientId,
                                          const std::string& entityType, const std::string& entityId,
                                          std::int64_t nowMs, std::int64_t recordedAtMs) {
  sync::Operation op;
  {
    std::lock_guard lock(m_clockMutex);
    op.set_id(sync::makeOperationId(m_serverDeviceId, ++m_counter));
    op.set_hlc(m_clock.now(nowMs));
  }
  op.set_author_id(authorId);
  op.set_device_id(m_serverDeviceId);
  op.set_patient_id(patientId);
  op.set_entity_type(entityType);
  op.set_entity_id(entityId);
  op.set_recorded_at(sync::formatRfc3339(recordedAtMs));
  return op;
}

sync::Operation SyncService::appendEntry(const std::string& entityType, const std::string& entryId,
                                         const std::string& authorId, const std::string& patientId,
                                         sync::AppendEntry entry, std::int64_t nowMs, std::int64_t recordedAtMs) {
  sync::Operation op = newOperation(authorId, patientId, entityType, entryId, nowMs, recordedAtMs);
  *op.mutable_append() = std::move(entry);
  if (auto problem = sync::validateOperation(op)) throw BadRequest(*problem);
  if (auto problem = sync::checkPolicy(op)) throw BadRequest(*problem);
  const auto results = m_log.append({&op}, sync::formatRfc3339(nowMs));
  if (results[0].problem) throw BadRequest(*results[0].problem);  // server ids are fresh: cannot happen
  op.set_server_seq(results[0].seq);
  return op;
}

sync::Conflict SyncService::resolveConflict(const std::string& conflictId, const sync::ResolveConflictRequest& request,
                                            std::int64_t nowMs) {
  if (request.author_id().empty()) throw BadRequest("author_id: empty");
  const auto conflict = m_log.conflict(conflictId);
  if (!conflict) throw NotFound("conflict " + conflictId + ": no such conflict");
  writeField(request.author_id(), conflict->patient_id(), conflict->entity_type(), conflict->entity_id(),
             conflict->field(), request.value(), nowMs, conflictId);
  return *m_log.conflict(conflictId);
}

sync::PullResponse SyncService::pull(const sync::PullRequest& request, std::int64_t nowMs, const PullFilter& visible) {
  checkVersion(request.protocol_version());
  if (request.device_id().empty()) throw BadRequest("device_id: empty");
  const std::uint32_t limit =
      request.limit() == 0 ? sync::kDefaultPullPage : std::min(request.limit(), sync::kMaxPullPage);

  sync::PullResponse response;
  response.set_protocol_version(sync::kProtocolVersion);
  auto ops = m_log.after(request.after_seq(), limit + 1);
  response.set_has_more(ops.size() > limit);
  if (ops.size() > limit) ops.pop_back();
  response.set_next_cursor(ops.empty() ? request.after_seq() : ops.back().server_seq());
  for (auto& op : ops) {
    if (!visible || visible(op)) *response.add_operations() = std::move(op);
  }
  response.set_server_time_ms(nowMs);
  return response;
}

}  // namespace hemma::server
