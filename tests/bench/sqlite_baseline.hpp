#pragma once
// The benchmark's yardstick: the operation rows a push carries, inserted
// straight into SQLite on both ends with the durability of the real stores
// (WAL, synchronous=FULL) and one transaction per sync batch. No protobuf on
// the hot path, no HTTP, no sync logic: the least it can cost to store them.
//
// The two schemas mirror the operations tables of mobile-core's DeviceStore
// and the server's Database; keep them in step when those change.
//
// Throws std::runtime_error naming the SQLite statement that failed.

#include <cstddef>
#include <string>
#include <vector>

#include "hemma/sync.pb.h"

namespace hemma::bench {

struct BaselineTimes {
  double deviceMs = 0;  // the rows into a device-shaped operations table
  double serverMs = 0;  // the same rows into a server-shaped operations table
  double totalMs() const { return deviceMs + serverMs; }
};

// Creates fresh databases at `devicePath` and `serverPath` (untimed), then
// times the inserts of `ops` in transactions of `batch` rows on each.
// Serialising the rows happens before the clock starts.
BaselineTimes insertDirectly(const std::vector<sync::Operation>& ops, const std::string& devicePath,
                             const std::string& serverPath, std::size_t batch);

// `SELECT count(*) FROM operations` in the SQLite file at `path`, opened read
// only (the server may be running: WAL lets us read beside it).
std::size_t countOperations(const std::string& path);

// The same, only the operations made on device `deviceId` (the server's
// device_id column).
std::size_t countOperations(const std::string& path, const std::string& deviceId);

}  // namespace hemma::bench
