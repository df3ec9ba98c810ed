#pragma once
// The tablet's SQLite store: the operations it knows, the outbox of local
// operations not yet acknowledged by the server, and the materialised records
// (visit notes) the nurse reads.
//
// A local change and its outbox entry are written in one transaction
// (recordLocal), so a crash can never leave one without the other. The store
// knows nothing of the network: the sync client reads the outbox.
//
// Not thread-safe: use one DeviceStore from one thread at a time.
// Every method throws StoreError when SQLite fails; nothing is half-written.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hemma/mobile/sqlite_db.hpp"
#include "hemma/sync.pb.h"
#include "hemma/sync/field_history.hpp"

namespace hemma::mobile {

// The current value of a field, with the "merged" marker: an unresolved
// conflict record exists for it.
struct FieldValue {
  std::string patientId;
  std::string entityType;
  std::string entityId;
  std::string field;
  std::string value;
  std::uint64_t hlc = 0;
  std::string opId;
  std::string authorId;
  bool merged = false;
};

// An add-wins set: its members, and per member the adds that still count
// (what a remove must name).
struct SetState {
  std::vector<std::string> members;
  std::map<std::string, std::vector<std::string>> liveAddIds;
};

// An append entry as the device holds it: a note, vital signs, a checklist
// answer, a medication given or not, a message, a proposal. `kind` is the
// operation's entity type; `at` the author's time for it (RFC 3339).
// `refId` is the activity of a task_outcome, the medication of a
// medication_administration, the message a message replies to; else empty.
struct StoredEntry {
  std::string id;
  std::string patientId;
  std::string kind;
  std::string visitId;
  std::string refId;
  std::string authorId;
  std::string at;
  std::uint64_t hlc = 0;
  sync::AppendEntry entry;
};

// Entries older than the history window that the device summarised and no
// longer holds in full: how many of one kind, the oldest and newest time.
struct HistorySummaryRow {
  std::string kind;
  std::size_t count = 0;
  std::string oldest;
  std::string newest;
};

// A rejected local operation: kept, with the server's reason, so the nurse
// can see it, until a person discards it or sends it again; never silently
// dropped.
struct RejectedOperation {
  sync::Operation operation;
  std::string reason;
  sync::OperationRejection::Code code = sync::OperationRejection::CODE_UNSPECIFIED;
  std::string rejectedAt;  // RFC 3339, device time; "" if refused before this was kept
};

// A refused operation a person settled: "discarded", or "retried" (sent
// again as `replacedBy`). `operation` is empty once its patient was purged.
struct SettledRejection {
  std::string operationId;
  std::string patientId;
  std::string entityType;
  std::string entityId;
  sync::OperationRejection::Code code = sync::OperationRejection::CODE_UNSPECIFIED;
  std::string reason;
  std::string rejectedAt;
  std::string action;
  std::string replacedBy;
  std::string settledBy;  // user id
  std::string settledAt;  // RFC 3339, device time
  std::optional<sync::Operation> operation;
};

class DeviceStore {
 public:
  // Opens or creates the store at `path` (":memory:" for tests).
  explicit DeviceStore(const std::string& path);

  // Key/value settings: device id, user, clock state, sync state.
  std::optional<std::string> meta(std::string_view key);
  void setMeta(std::string_view key, std::string_view value);
  void eraseMeta(std::string_view key);

  // Runs `fn` in one transaction: all of it is stored, or none.
  template <typename Fn>
  auto inTransaction(Fn&& fn) {
    Transaction tx(m_db);
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      tx.commit();
    } else {
      auto result = fn();
      tx.commit();
      return result;
    }
  }

  // Precondition for the next two: inside inTransaction().
  // Stores a local operation, its outbox entry and its effect.
  void recordLocal(const sync::Operation& op);
  // Stores operations pulled from the server (skipping ones already known,
  // e.g. this device's own) and advances the pull cursor to `cursor`.
  // Returns how many were new to this device.
  std::size_t applyRemote(const std::vector<sync::Operation>& ops, std::uint64_t cursor);

  // Scope (protocol version 2). The patients whose history up to the cursor
  // this device holds in full, sorted.
  std::vector<std::string> heldPatients();
  // Precondition for the next two: inside inTransaction().
  // Notes that the patients' history up to the cursor has arrived.
  void hold(const std::vector<std::string>& patientIds);
  // Deletes what the device holds of a patient who left the user's scope:
  // every operation, note, field, conflict and set entry, except the
  // device's own operations still in the outbox or in the rejected list (a
  // clinician's write is never silently lost); those stay, with their notes
  // and fields as they alone make them. Settled rejections of the patient
  // keep their record (id, reason, who, when) but lose the operation's
  // content. Returns how many operations went.
  std::size_t purgePatient(std::string_view patientId);

  // Deletes everything (every table, every setting, the device token) and
  // keeps only the setting "wiped" with `atRfc3339`: a revoked device. Deleted
  // content is overwritten (secure_delete) and the file compacted.
  void wipe(std::string_view atRfc3339);
  // When the store was wiped, or nullopt.
  std::optional<std::string> wipedAt() { return meta("wiped"); }

  // The oldest `limit` outbox operations, in the order they were made.
  std::vector<sync::Operation> outbox(std::size_t limit);
  std::size_t outboxSize();
  // Removes acknowledged operations from the outbox and notes their server
  // sequence numbers. One transaction.
  void acknowledge(const std::vector<sync::OperationAck>& acks);
  // Moves rejected operations out of the outbox into the rejected list, with
  // their code, reason and `atRfc3339`, and out of the notes and fields the
  // device shows (set changes excepted, until settled). One transaction.
  void reject(const std::vector<sync::OperationRejection>& rejections, std::string_view atRfc3339);
  // Replaces an outbox operation by a restamped copy (same id, new clock).
  void restamp(const sync::Operation& op);
  // The rejected list, oldest (by clock) first.
  std::vector<RejectedOperation> rejected();
  std::size_t rejectedCount();
  std::optional<RejectedOperation> rejectedOperation(std::string_view opId);
  // Precondition for the next two: inside inTransaction(). Each settles a
  // rejected operation by a person's decision: it leaves the rejected list
  // and the operations, with what a refused set change still showed, and a
  // row of settledRejections() keeps it with who and when. Return false
  // (and change nothing) when `opId` is not in the rejected list.
  // Discarded: never sent again.
  bool discardRejected(std::string_view opId, std::string_view byUserId, std::string_view atRfc3339);
  // Sent again as `replacement` (a new id; recordLocal()).
  bool replaceRejected(std::string_view opId, const sync::Operation& replacement, std::string_view byUserId,
                       std::string_view atRfc3339);
  // Oldest settled first.
  std::vector<SettledRejection> settledRejections();

  std::uint64_t cursor();
  // The newest clock value among operations the server has stored (pulled or
  // acknowledged); 0 if none.
  std::uint64_t newestSyncedHlc();
  // Outbox operations stamped later than `hlc`, in the order they were made.
  std::vector<sync::Operation> outboxAfter(std::uint64_t hlc);

  // Visit notes, oldest first; all patients when `patientId` is empty.
  std::vector<domain::VisitNote> notes(std::string_view patientId = {});
  std::size_t operationCount();
  bool hasOperation(std::string_view id);

  // Append entries of every kind, oldest (by clock) first; of one patient
  // (all when empty) and one kind (all when empty). Rejected ones are not
  // here (they show in rejected()).
  std::vector<StoredEntry> entries(std::string_view patientId, std::string_view kind = {});
  // The entries of one kind recorded at a visit, oldest first.
  std::vector<StoredEntry> visitEntries(std::string_view visitId, std::string_view kind);
  std::optional<StoredEntry> entry(std::string_view id);

  // The patient a visit belongs to, if the device holds any of its fields.
  std::optional<std::string> visitPatient(std::string_view visitId);
  // The ids of the entities of `entityType` the device holds a field of,
  // sorted; all patients when `patientId` is empty.
  std::vector<std::string> entityIds(std::string_view patientId, std::string_view entityType);
  // (patient id, visit id) of the visits whose nurse_id is `nurseId`.
  std::vector<std::pair<std::string, std::string>> visitsOf(std::string_view nurseId);

  // History window. Summarises and deletes the append entries stamped
  // before `hlc` that the server has stored (never one still in the outbox
  // or rejected): their operations and entries go, the per-patient, per-kind
  // counts and times (and the newest NEWS2) stay. An entry recorded at a
  // visit stays until that visit is DONE or CANCELLED and its
  // scheduled_start is before `keepVisitsFromMs` (the start of today): a
  // visit whose status or start is unknown here keeps its entries. Fields,
  // sets and conflicts are untouched, and so is the pull cursor, so the
  // server does not send them again; if it does (a backfill) they are not
  // stored again. One transaction. Returns how many entries were summarised.
  std::size_t summariseBefore(std::uint64_t hlc, std::int64_t keepVisitsFromMs);
  std::vector<HistorySummaryRow> historySummary(std::string_view patientId);
  // The newest summarised vital signs that had a NEWS2 score.
  std::optional<domain::VitalSigns> summarisedNews2(std::string_view patientId);

  // Materialised fields, sets and conflicts, as the merge rules make them.
  std::optional<FieldValue> field(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                                  std::string_view field);
  // All fields (of one patient, or all when empty), ordered by location.
  std::vector<FieldValue> fields(std::string_view patientId = {});
  // Conflict records, open and resolved, ordered by id.
  std::vector<sync::Conflict> conflicts(std::string_view patientId = {});
  SetState set(std::string_view patientId, std::string_view entityType, std::string_view entityId,
               std::string_view setName);

 private:
  // Rebuilds the field `op` writes from its writes that the server has not
  // refused; records `op`'s resolution first when `recordResolution`.
  void materialiseWrite(const sync::Operation& op, bool recordResolution = true);
  void refreshMergedFlag(const sync::FieldLocation& location);
  // Returns false when the operation was known already.
  bool storeOperation(const sync::Operation& op, bool local);
  bool settleRejected(std::string_view opId, std::string_view action, std::string_view replacedBy,
                      std::string_view byUserId, std::string_view atRfc3339);
  void materialise(const sync::Operation& op);
  void materialiseEntry(const sync::Operation& op);

  SqliteDb m_db;
};

}  // namespace hemma::mobile
