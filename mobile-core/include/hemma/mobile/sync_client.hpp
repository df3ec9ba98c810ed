#pragma once
// The device's side of the sync protocol: pushes the outbox in batches, then
// pulls what others wrote after its cursor, in pages.
//
// Safe to interrupt anywhere: the outbox is cleared only by acknowledgements,
// the cursor moves only with the operations it covers (one transaction), so
// the next run resumes where this one stopped, sending nothing twice that the
// server does not already recognise.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hemma/mobile/clock.hpp"
#include "hemma/mobile/device_store.hpp"
#include "hemma/mobile/transport.hpp"
#include "hemma/sync/hlc.hpp"

namespace hemma::mobile {

struct SyncReport {
  bool ok = false;
  std::size_t pushed = 0;                            // acknowledged, newly stored by the server
  std::size_t duplicates = 0;                        // acknowledged, the server had them already
  std::size_t rejected = 0;                          // refused by the server, kept in the store with the reason
  std::vector<sync::OperationRejection> rejections;  // those refusals, as the server gave them
  std::size_t pulled = 0;                            // operations received that were new to this device
  std::size_t purged = 0;                            // patients deleted from the device (they left the user's scope)
  std::size_t summarised = 0;                        // entries older than the history window summarised (Device::sync)
  bool wiped = false;             // the device was revoked: all its data is deleted, it syncs no more
  std::int64_t serverTimeMs = 0;  // the server's clock at the last answer of the run, 0 if it gave none
  int attempts = 0;               // rounds tried, 1 when the first one succeeded
  std::string error;              // why the run stopped, when !ok
};

class SyncClient {
 public:
  struct Options {
    std::size_t pushBatch = 1000;
    std::uint32_t pullPage = 2000;
    // A round that fails for want of an answer (TransportError) is tried
    // again up to `attempts` times in all, waiting `backoff`, then twice
    // that, and so on. Server errors (4xx/5xx) are not retried.
    int attempts = 3;
    std::chrono::milliseconds backoff{200};
    // How to wait between attempts; injected so tests need not sleep.
    // Empty means std::this_thread::sleep_for.
    std::function<void(std::chrono::milliseconds)> sleep;
  };

  // All references must outlive the client. `clock` is the device's hybrid
  // clock; its offset is corrected from the server's time at each exchange.
  SyncClient(DeviceStore& store, Transport& transport, sync::HybridClock& clock, Clock& wallClock, std::string deviceId,
             Options options);

  // One full round: push everything pending, then pull everything new, with
  // retries as the options say. Never throws for network or server errors:
  // they end up in the report and in the store's sync state
  // ("last_sync_ok", "last_sync_error", "sync_failures").
  //
  // A pull applies the server's scope changes in the page's transaction:
  // patients to purge are deleted (DeviceStore::purgePatient), patients whose
  // history arrived in full are held from then on.
  //
  // When the server answers 401 "device: revoked" (and only then: an expired
  // or garbled token is an ordinary error), the store is wiped
  // (DeviceStore::wipe) and the report says `wiped`. A wiped store is never
  // synced again: run() answers kWipedError at once.
  //
  // A run that completes is ok even when the server refused operations
  // (they are in the store's rejected list); "last_sync_error" then names
  // them (rejectedSummary()) until none is left, so the tablet never shows
  // "no error" while a refused operation waits for a person.
  SyncReport run();

  // "2 operation(s) refused by the server, kept on the tablet until
  // discarded or sent again: tab-r:1 (visit_note of patient-01): <reason>;
  // and 1 more", or "" when the rejected list is empty.
  static std::string rejectedSummary(DeviceStore& store);

  static constexpr const char* kWipedError = "device: revoked and wiped; sign in again on a new device id";

 private:
  void push(SyncReport& report);
  void pull(SyncReport& report);
  void learnServerTime(std::int64_t serverTimeMs);

  DeviceStore& m_store;
  Transport& m_transport;
  sync::HybridClock& m_clock;
  Clock& m_wallClock;
  std::string m_deviceId;
  Options m_options;
};

}  // namespace hemma::mobile
