#pragma once
// The tablet's core: one nurse's device, its store, its clock and its sync.
// This is the C++ API the tablet hosts (and hemma-device) drive.
//
// Not thread-safe: the host calls it from one thread (or serialises calls).
// Methods throw StoreError when the local database fails and
// std::invalid_argument for bad input, naming the field.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hemma/mobile/clock.hpp"
#include "hemma/mobile/device_store.hpp"
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
  std::string lastSuccess;   // RFC 3339, empty if never
  std::string lastError;     // empty after a successful sync
  int failedSyncs = 0;       // failed sync runs since the last success
  std::size_t heldPatients = 0;  // patients whose history the device holds
  std::string wipedAt;       // RFC 3339 when the revoked device wiped itself; empty if not
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
  // on a wiped database (use signIn).
  void enrol(std::string_view deviceId, std::string_view userId);
  bool enrolled();

  // Signs in online, once per tablet: logs the user in, registers this
  // device under `deviceId` and keeps the device's own token for every later
  // sync. Afterwards the tablet works offline. Throws TransportError /
  // ServerError (e.g. 401 "login: wrong username or password") and
  // std::invalid_argument when this database belongs to another device or
  // user. On a wiped database (a revoked device) it starts afresh; the
  // server refuses the revoked device id, so a new one is needed.
  api::Principal signIn(Transport& transport, const std::string& username, const std::string& password,
                        const std::string& deviceId);
  // The signed-in user (empty fields before sign-in).
  api::Principal user();

  // Records a visit note, offline: stored and queued for the server in one
  // transaction. `amendsNoteId` names an earlier note this one corrects.
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
  SyncStatus status();
  std::vector<RejectedOperation> rejected() { return m_store.rejected(); }

  DeviceStore& store() { return m_store; }

 private:
  sync::Operation newOperation(std::string_view patientId, std::string_view entityType, std::string_view entityId);
  // Checks `op`, then stores it with its outbox entry and the device's
  // counter and clock in one transaction. On failure nothing is kept and the
  // counter and clock are as before.
  void record(sync::Operation& op);
  const std::string& requireEnrolled();

  DeviceStore m_store;
  Clock& m_clock;
  sync::HybridClock m_hlc;
  std::string m_deviceId;
  std::string m_userId;
  std::uint64_t m_counter = 0;
  bool m_wiped = false;
};

}  // namespace hemma::mobile
