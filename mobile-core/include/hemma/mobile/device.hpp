#pragma once
// The tablet's core: one nurse's device, its store, its clock and its sync.
// This is the C++ API the tablet hosts (and hemma-device) drive.
//
// Not thread-safe: the host calls it from one thread (or serialises calls).
// Methods throw StoreError when the local database fails and
// std::invalid_argument for bad input, naming the field.

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hemma/mobile/clock.hpp"
#include "hemma/mobile/device_store.hpp"
#include "hemma/mobile/news2.hpp"
#include "hemma/mobile/sync_client.hpp"
#include "hemma/mobile/transport.hpp"
#include "hemma/sync/hlc.hpp"

namespace hemma::mobile {

struct SyncStatus {
  std::string deviceId;
  std::string userId;
  std::size_t pending = 0;   // local operations not yet acknowledged
  std::size_t rejected = 0;  // local operations the server refused
  std::uint64_t cursor = 0;
  std::string lastSuccess;       // RFC 3339, empty if never
  std::string lastError;         // empty after a successful sync
  int failedSyncs = 0;           // failed sync runs since the last success
  std::size_t heldPatients = 0;  // patients whose history the device holds
  std::string wipedAt;           // RFC 3339 when the revoked device wiped itself; empty if not
};

// One item of a visit's checklist: a plan activity for nurses (and the
// activity the visit is for), with this visit's latest answer for it.
struct ChecklistItem {
  std::string activityId;
  std::string text;
  std::string frequency;
  std::string responsibleRole;                 // "NURSE", "PHYSICIAN", ...
  std::optional<domain::TaskOutcome> outcome;  // none yet at this visit
};

// A visit on the nurse's list, with what she needs at the door.
struct VisitView {
  domain::Visit visit;  // id, patient, nurse, scheduled/started/ended times, status, activity
  std::string patientName;
  std::string address;
  std::string accessNotes;
  std::string activityText;  // the text of the activity the visit is for
  std::vector<ChecklistItem> checklist;
};

// What recordVitalSigns() stored: the entry, the score it carries, and the
// urgent message to the responsible physician when the score called for one.
struct VitalSignsRecord {
  domain::VitalSigns vitals;
  News2Result news2;
  std::optional<domain::Message> escalation;
};

// A patient's history on this device: a summary of the entries older than
// the history window (no longer held in full) and the entries it holds.
struct History {
  std::string patientId;
  int windowDays = 0;
  std::vector<HistorySummaryRow> summarised;
  // The newest summarised vital signs with a NEWS2 score, if any.
  std::optional<domain::VitalSigns> summarisedNews2;
  std::vector<StoredEntry> recent;  // oldest first
};

// The offline unlock refused: wrong username or password, too many failed
// attempts (locked until the next online sign-in), or no sign-in yet.
class UnlockRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The device was revoked and has wiped itself: it neither records nor syncs
// until someone signs in again under a new device id.
class DeviceWiped : public std::runtime_error {
 public:
  DeviceWiped() : std::runtime_error(SyncClient::kWipedError) {}
};

class Device {
 public:
  // Opens (or creates) the device database at `path`. `clock` must outlive
  // the Device.
  Device(const std::string& path, Clock& clock);

  // Registers this database to a device id and a user, once. Calling it again
  // with the same values is harmless; different values throw
  // std::invalid_argument (a tablet belongs to one user). Throws DeviceWiped
  // on a wiped database (use signIn). Offline: the database draws its own
  // id epoch (below).
  //
  // Operation ids are "<device id>:<epoch>:<counter>"
  // (sync::makeOperationId). The epoch is the registration number the
  // server issued at signIn(), or, for a database enrolled without one, an
  // epoch the database drew itself ("l" and 64 random bits in hex; also
  // drawn when a database from before epochs is opened). The counter counts
  // this database's operations. So two installations of one device id (a
  // reinstalled tablet) never make the same id.
  void enrol(std::string_view deviceId, std::string_view userId);
  bool enrolled();

  // Signs in online, once per tablet: logs the user in, registers this
  // device under `deviceId` and keeps the device's own token for every later
  // sync. Afterwards the tablet works offline. Throws TransportError /
  // ServerError (e.g. 401 "login: wrong username or password") and
  // std::invalid_argument when this database belongs to another device or
  // user. On a wiped database (a revoked device) it starts afresh; the
  // server refuses the revoked device id, so a new one is needed. Every
  // sign-in is a new registration: the server's new registration number
  // becomes the epoch of the operation ids made from then on (those already
  // made keep theirs), and the token of any other database registered
  // under the same device id stops working ("device: token replaced").
  api::Principal signIn(Transport& transport, const std::string& username, const std::string& password,
                        const std::string& deviceId);
  // The signed-in user (empty fields before sign-in).
  api::Principal user();

  // Unlocks the tablet offline with the password of the last online
  // sign-in, checked against a salted PBKDF2-HMAC-SHA256 hash stored then
  // (the password itself is never stored). Returns the user. Throws
  // UnlockRefused when there was no sign-in on this database, when the
  // username or password is wrong, and after kMaxUnlockFailures wrong
  // attempts in a row (then every attempt is refused until signIn()).
  // Unlocking gates the host's screens; the core does not enforce it.
  api::Principal unlock(const std::string& username, const std::string& password);
  static constexpr int kMaxUnlockFailures = 5;
  // PBKDF2 iterations for the hash stored at the next signIn() (default
  // 100000; tests lower it). At least 1000.
  void setUnlockIterations(int iterations);

  // The nurse's visits (nurse_id = the signed-in user) whose scheduled_start
  // falls on `day` ("YYYY-MM-DD", a UTC day; empty = today by the device's
  // clock corrected by the offset learned from the server, in UTC), ordered
  // by scheduled_start, each with the patient's
  // name, address, access notes and the visit's checklist. Offline.
  std::vector<VisitView> visits(std::string_view day = {});
  VisitView visit(std::string_view visitId);

  // Starts and ends a visit, offline: field writes of status IN_PROGRESS
  // and started_at, or DONE and ended_at, at the device's time, in one
  // transaction. Throws std::invalid_argument for a visit this device does
  // not hold, starting a visit that is not PLANNED, or ending one that is not
  // IN_PROGRESS ("visit.status: ... not started").
  VisitView startVisit(std::string_view visitId);
  VisitView endVisit(std::string_view visitId);

  // A checklist answer at a visit. `reason` is required for NOT_DONE and
  // REFUSED ("task_outcome.reason: required when REFUSED"); the activity
  // must be in the patient's plan on this device.
  domain::TaskOutcome recordTaskOutcome(std::string_view visitId, std::string_view activityId,
                                        domain::TaskOutcome::Outcome outcome, std::string_view reason = {});

  // Vital signs at a visit, with NEWS2 worked out here (SpO2 scale 2 only
  // when the plan's care_plan/<patient>/spo2_scale_2 is "true"). A missing
  // input leaves the score unset (NEWS2_NOT_EVALUATED), never 0. When the
  // result calls for escalation (News2Result::escalate), an urgent message
  // to the responsible physician, naming the score, the risk and the
  // parameters that raised it and carrying the vital signs, is stored in
  // the same transaction. Throws std::invalid_argument for values outside
  // the chart (news2()) or an unknown visit.
  VitalSignsRecord recordVitalSigns(std::string_view visitId, const VitalSigns& vitals);

  // A medication given, or not given with a reason, at a visit. The dose is
  // the medication's current `dose` field on this device. Throws
  // std::invalid_argument for a medication not in the patient's plan here, or
  // a missing reason when not given.
  domain::MedicationAdministration recordMedication(std::string_view visitId, std::string_view medicationId, bool given,
                                                    std::string_view reason = {});

  // A proposed change to one field of the plan, for a physician to sign.
  // Its base is the version of the field this device shows (0 if none).
  // `reason` is required.
  domain::ProposedChange proposeChange(std::string_view patientId, std::string_view entityType,
                                       std::string_view entityId, std::string_view field, std::string_view value,
                                       std::string_view reason);

  // A message about the patient to `recipientId` (empty: the responsible
  // physician), optionally replying to a message on this device.
  domain::Message sendMessage(std::string_view patientId, std::string_view text, std::string_view recipientId = {},
                              std::string_view inReplyTo = {});
  // Messages about the patient in both directions (others' arrive by sync),
  // oldest first.
  std::vector<domain::Message> messages(std::string_view patientId);

  // History window: append entries older than this many days (by their
  // clock, against the server's time of the sync, never the tablet's own
  // clock) are summarised after each successful sync and deleted here. An
  // entry recorded at a visit is kept until the visit is DONE or CANCELLED
  // and was scheduled before today. Default 30; 1 to 3650. Stored in the
  // database.
  void setHistoryWindowDays(int days);
  int historyWindowDays();
  static constexpr int kDefaultHistoryWindowDays = 30;
  History history(std::string_view patientId);
  // Fetches the patient's full timeline from the server (online, with the
  // device's token) and returns the entries this device does not hold,
  // oldest first by their recorded_at. Nothing of it is stored. Throws TransportError /
  // ServerError.
  std::vector<api::TimelineEntry> fetchHistory(Transport& transport, std::string_view patientId);

  // Records a visit note, offline: stored and queued for the server in one
  // transaction. `amendsNoteId` names an earlier note of the same patient on
  // this device that this one corrects (std::invalid_argument otherwise);
  // notes() lists both, the amendment with its amends_note_id.
  domain::VisitNote writeNote(std::string_view patientId, std::string_view visitId, std::string_view text,
                              std::string_view amendsNoteId = {});
  std::vector<domain::VisitNote> notes(std::string_view patientId = {});

  // Writes a field (address, visit status, activity text, dose...), offline.
  // The base is the version this device shows now, so the merge can tell an
  // informed overwrite from a concurrent one. The (entity type, field) pair
  // must have a merge rule (sync/docs/merge-rules.md).
  sync::Operation writeField(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                             std::string_view field, std::string_view value);
  // Confirms the value of a conflicted field: a write of `value` that marks
  // conflict `conflictId` resolved everywhere once synced.
  sync::Operation resolveConflict(std::string_view conflictId, std::string_view value);
  // Adds to or removes from an add-wins set (care team, completed tasks).
  sync::Operation addToSet(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                           std::string_view setName, std::string_view element);
  // Removes the adds of `element` this device has seen; an add made
  // elsewhere at the same time survives. Throws std::invalid_argument if
  // `element` is not a member here.
  sync::Operation removeFromSet(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                                std::string_view setName, std::string_view element);

  std::optional<FieldValue> field(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                                  std::string_view field) {
    return m_store.field(patientId, entityType, entityId, field);
  }
  std::vector<sync::Conflict> conflicts(std::string_view patientId = {}) { return m_store.conflicts(patientId); }
  SetState set(std::string_view patientId, std::string_view entityType, std::string_view entityId,
               std::string_view setName) {
    return m_store.set(patientId, entityType, entityId, setName);
  }

  // A revoked device wipes itself here (SyncReport::wiped); afterwards every
  // write throws DeviceWiped and sync answers SyncClient::kWipedError without
  // contacting the server.
  SyncReport sync(Transport& transport, SyncClient::Options options = {});
  bool wiped() { return m_wiped; }
  // lastError: why the last run failed, or, after a run that completed,
  // the operations the server refused that are still in the rejected list
  // (SyncClient::rejectedSummary), "" when none.
  SyncStatus status();

  // Operations the server refused, with its code and reason, oldest first.
  // Each stays here (and out of the notes and fields the tablet shows)
  // until a person settles it with one of the two calls below; nothing else
  // removes it but a wipe of a revoked device.
  std::vector<RejectedOperation> rejected() { return m_store.rejected(); }
  // Discards a refused operation: it is never sent, and a record of it
  // (the operation, the reason, the signed-in user and the device time)
  // stays in settledRejections(). Throws std::invalid_argument for an id
  // not in the rejected list.
  void discardRejected(std::string_view operationId);
  // Sends a refused operation again under a new id (this installation's
  // epoch, the next counter): the fix for a refusal because its id was
  // already used, and for one whose cause was removed meanwhile (e.g. the
  // nurse joined the care team). An entry gets the new id too; the author,
  // clock and times stay. Returns the new operation, now in the outbox; the
  // old id goes to settledRejections() as retried. Throws
  // std::invalid_argument for an id not in the rejected list, or when the
  // operation is invalid as it is (then discard it and record it anew).
  sync::Operation retryRejected(std::string_view operationId);
  std::vector<SettledRejection> settledRejections() { return m_store.settledRejections(); }

  DeviceStore& store() { return m_store; }

 private:
  sync::Operation newOperation(std::string_view patientId, std::string_view entityType, std::string_view entityId);
  // Checks `op`, then stores it with its outbox entry and the device's
  // counter and clock in one transaction. On failure nothing is kept and the
  // counter and clock are as before.
  void record(sync::Operation& op);
  // The entry rules (sync/entry_rules.hpp) for `ops` in order, against what
  // this tablet holds: throws std::invalid_argument naming the field and the
  // rule, before anything is stored.
  void checkEntryRules(const std::vector<sync::Operation>& ops);
  // The same for several operations, all in one transaction.
  void recordAll(std::vector<sync::Operation>& ops);
  sync::Operation newEntry(std::string_view patientId, std::string_view kind);
  sync::Operation newFieldWrite(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                                std::string_view field, std::string_view value);
  std::string requireVisitPatient(std::string_view visitId, std::string_view what);
  std::string fieldText(std::string_view patientId, std::string_view entityType, std::string_view entityId,
                        std::string_view field);
  const std::string& requireEnrolled();
  void enrolAs(std::string_view deviceId, std::string_view userId, std::string_view epoch);

  DeviceStore m_store;
  Clock& m_clock;
  sync::HybridClock m_hlc;
  std::string m_deviceId;
  std::string m_userId;
  std::string m_epoch;  // of this installation's operation ids; "" before enrolment
  std::uint64_t m_counter = 0;
  bool m_wiped = false;
  int m_unlockIterations = 100000;
};

}  // namespace hemma::mobile
