// hemma_sync_bench: the sync performance targets of DESIGN.md, measured in one
// run against the real hemma-server binary on loopback, each figure beside
// its target and, for the push, beside the cost of inserting the same rows
// into SQLite directly.
//
// The server runs the demo world, as sync needs signed-in tablets: the
// pushing and writing devices sign in as nurse-karin, the reading device as
// nurse-olle, and every note is for patient-01, in both care teams. Each
// device syncs the demo world's operations for its patients once before the
// clock starts, and the server's counts below are of the bench's own notes.
//
// A target missed is reported (MISS) but is not an error: the program exits 0.
// It exits 1 when the sync itself goes wrong (an error, a lost or extra note:
// the counts are checked after every phase) and 2 on a bad command line.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "sqlite_baseline.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using hemma::mobile::Device;
using hemma::mobile::HttpTransport;
using hemma::mobile::ServerAddress;
using hemma::mobile::SyncClient;
using hemma::mobile::SyncReport;
using hemma::mobile::SystemClock;
using hemma::mobile::Transport;
using hemma::test::ServerProcess;
using hemma::test::TempDir;
using SteadyClock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;

// DESIGN.md "Performance targets".
constexpr double kPushOpsPerSecond = 100'000;
constexpr double kPushOverBaseline = 2.0;
constexpr double kFirstPullSeconds = 0.5;
constexpr std::size_t kFirstPullRecords = 20'000;
constexpr double kIncrementalMs = 10;
constexpr std::size_t kIncrementalChanges = 100;
constexpr double kNoOpMs = 3;

// The client's defaults: the baseline commits in batches of the same size.
const SyncClient::Options kSyncOptions{};

// In the care teams of both demo nurses (server/include/hemma/server/demo_data.hpp).
constexpr const char* kPatient = "patient-01";
constexpr const char* kWriterUser = "nurse-karin";
constexpr const char* kReaderUser = "nurse-olle";

struct Settings {
  std::size_t notes = 10'000;
  std::size_t pull = kFirstPullRecords;
  int incrementalRuns = 7;
  int noOpRuns = 21;
};

// A functional failure: the sync lost, duplicated or refused something.
class BenchFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void expect(bool ok, const std::string& what) {
  if (!ok) throw BenchFailure(what);
}

void expectCount(std::string_view what, std::size_t actual, std::size_t expected) {
  expect(actual == expected,
         std::string(what) + ": " + std::to_string(actual) + ", expected " + std::to_string(expected));
}

void expectSyncOk(std::string_view what, const SyncReport& report) {
  expect(report.ok, std::string(what) + ": sync failed: " + report.error);
  expectCount(std::string(what) + ": operations rejected", report.rejected, 0);
}

// Wraps the real transport to split a sync's wall time: into its push and its
// pull (the client stores the last acknowledgement before its first pull),
// and into time spent waiting for the server's answers and time spent on the
// device.
class PhaseTimer final : public Transport {
 public:
  explicit PhaseTimer(Transport& inner) : m_inner(inner) {}

  void start() {
    m_start = SteadyClock::now();
    m_firstPull.reset();
    m_pushWaitMs = m_pullWaitMs = 0;
    m_pulledOperations = 0;
  }
  // Milliseconds from start() to the first pull: the push phase.
  double pushMs() const { return m_firstPull ? Ms(*m_firstPull - m_start).count() : 0; }
  // Milliseconds inside push() and pull() calls: HTTP round trips, including
  // the server's work and (de)serialising on both ends.
  double pushWaitMs() const { return m_pushWaitMs; }
  double pullWaitMs() const { return m_pullWaitMs; }
  // Operations the server sent since start(), new to the device or not.
  std::size_t pulledOperations() const { return m_pulledOperations; }

  // The device hands its token to the transport before it syncs.
  void setToken(const std::string& token) override { m_inner.setToken(token); }

  hemma::sync::PushResponse push(const hemma::sync::PushRequest& request) override {
    const auto start = SteadyClock::now();
    auto response = m_inner.push(request);
    m_pushWaitMs += Ms(SteadyClock::now() - start).count();
    return response;
  }
  hemma::sync::PullResponse pull(const hemma::sync::PullRequest& request) override {
    const auto start = SteadyClock::now();
    if (!m_firstPull) m_firstPull = start;
    auto response = m_inner.pull(request);
    m_pullWaitMs += Ms(SteadyClock::now() - start).count();
    m_pulledOperations += static_cast<std::size_t>(response.operations_size());
    return response;
  }

 private:
  Transport& m_inner;
  SteadyClock::time_point m_start;
  std::optional<SteadyClock::time_point> m_firstPull;
  double m_pushWaitMs = 0;
  double m_pullWaitMs = 0;
  std::size_t m_pulledOperations = 0;
};

struct TimedSync {
  SyncReport report;
  double ms = 0;
};

TimedSync timedSync(Device& device, Transport& transport) {
  const auto start = SteadyClock::now();
  SyncReport report = device.sync(transport, kSyncOptions);
  return {std::move(report), Ms(SteadyClock::now() - start).count()};
}

// A visit note of realistic size (about 200 bytes of UTF-8), different each
// time, all for one patient both nurses care for.
void writeNotes(Device& device, std::size_t count, std::size_t firstIndex) {
  for (std::size_t i = firstIndex; i < firstIndex + count; ++i) {
    device.writeNote(kPatient, "",  // of no visit: a note at a visit needs it started
                     "Besök " + std::to_string(i) +
                         ": blodtryck 130/80, puls 72. Åt frukost, tog morgonmedicin enligt lista. "
                         "Såret på vänster underben läker fint, nytt förband lagt. Nyckel i nyckelskåpet.");
  }
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// One line of the result table. `ratio` is measured / target; whether that
// passes depends on the direction of the target.
struct Row {
  std::string metric;
  std::string measured;
  std::string target;
  std::optional<double> ratio;
  std::optional<bool> pass;
};

Row atLeast(std::string metric, double measured, double target, std::string_view unit, int decimals) {
  return {std::move(metric), fixed(measured, decimals) + " " + std::string(unit),
          ">= " + fixed(target, decimals) + " " + std::string(unit), measured / target, measured >= target};
}

Row below(std::string metric, double measured, double target, std::string_view unit, int decimals) {
  return {std::move(metric), fixed(measured, decimals) + " " + std::string(unit),
          "< " + fixed(target, decimals) + " " + std::string(unit), measured / target, measured < target};
}

Row atMost(std::string metric, double measured, double target, std::string_view unit, int decimals) {
  return {std::move(metric), fixed(measured, decimals) + " " + std::string(unit),
          "<= " + fixed(target, decimals) + " " + std::string(unit), measured / target, measured <= target};
}

Row info(std::string metric, std::string measured) { return {std::move(metric), std::move(measured), "-", {}, {}}; }

double opsPerSecond(std::size_t ops, double ms) { return ms > 0 ? static_cast<double>(ops) * 1000.0 / ms : 0; }

// Signs `device` in to the demo world and syncs what the demo world holds
// for the user's patients (untimed), so that the timed syncs move only the
// bench's notes. Returns the operations that first sync received.
std::size_t signInAndCatchUp(Device& device, const ServerProcess& server, const std::string& username,
                             const std::string& deviceId) {
  hemma::test::signIn(device, server, username, deviceId);
  HttpTransport link(ServerAddress::parse(server.url()));
  const SyncReport report = device.sync(link, kSyncOptions);
  expectSyncOk(deviceId + ": first sync after sign-in", report);
  expectCount(deviceId + ": operations pushed by the first sync", report.pushed + report.duplicates, 0);
  return report.pulled;
}

// The server's operation log holds exactly `expected` operations beside the
// `before` it held when the bench started (the demo world's), all of them
// from `deviceId`.
void expectServerHolds(std::string_view what, const std::string& path, std::size_t before, const std::string& deviceId,
                       std::size_t expected) {
  expectCount(std::string(what) + ": operations on the server beside the demo world's",
              hemma::bench::countOperations(path) - before, expected);
  expectCount(std::string(what) + ": operations on the server from " + deviceId,
              hemma::bench::countOperations(path, deviceId), expected);
}

// 1 and 2: one device pushes `notes` notes to an empty server; the same rows
// go straight into SQLite for the baseline.
void benchPush(const Settings& settings, std::vector<Row>& rows) {
  TempDir dir;
  SystemClock clock;
  const std::string serverDb = dir.file("push-server.db");
  ServerProcess server(serverDb, hemma::test::demoServerArgs());
  const std::size_t demoOps = hemma::bench::countOperations(serverDb);
  Device device(dir.file("pusher.db"), clock);
  signInAndCatchUp(device, server, kWriterUser, "bench-pusher");
  writeNotes(device, settings.notes, 0);
  const auto ops = device.store().outbox(settings.notes + 1);
  expectCount("push: notes queued on the device", ops.size(), settings.notes);

  HttpTransport http(ServerAddress::parse(server.url()));
  PhaseTimer transport(http);
  transport.start();
  const TimedSync sync = timedSync(device, transport);
  expectSyncOk("push", sync.report);
  expectCount("push: operations acknowledged as new", sync.report.pushed, settings.notes);
  expectCount("push: operations still in the outbox", device.store().outboxSize(), 0);
  expectServerHolds("push", serverDb, demoOps, "bench-pusher", settings.notes);

  const auto baseline = hemma::bench::insertDirectly(ops, dir.file("baseline-device.db"),
                                                     dir.file("baseline-server.db"), kSyncOptions.pushBatch);
  expectCount("baseline: rows in the server-shaped table",
              hemma::bench::countOperations(dir.file("baseline-server.db")), settings.notes);

  const std::string n = std::to_string(settings.notes);
  const double pullPhaseMs = sync.ms - transport.pushMs();
  std::cout << "push: " << n << " notes in " << fixed(sync.ms, 1) << " ms\n"
            << "  push phase " << fixed(transport.pushMs(), 1) << " ms: " << fixed(transport.pushWaitMs(), 1)
            << " ms in HTTP round trips (server included), " << fixed(transport.pushMs() - transport.pushWaitMs(), 1)
            << " ms on the device (reading the outbox, storing acknowledgements)\n"
            << "  pull phase " << fixed(pullPhaseMs, 1) << " ms: the server sent back " << transport.pulledOperations()
            << " operations (the device's own), " << fixed(transport.pullWaitMs(), 1) << " ms in HTTP round trips, "
            << fixed(pullPhaseMs - transport.pullWaitMs(), 1) << " ms on the device\n";
  std::cout << "baseline: direct SQLite inserts, device " << fixed(baseline.deviceMs, 1) << " ms + server "
            << fixed(baseline.serverMs, 1) << " ms, " << kSyncOptions.pushBatch << " rows per transaction\n";

  rows.push_back(info("push " + n + " notes: device.sync()", fixed(sync.ms, 1) + " ms"));
  rows.push_back(atLeast("push " + n + " notes: throughput", opsPerSecond(settings.notes, sync.ms), kPushOpsPerSecond,
                         "ops/s", 0));
  rows.push_back(atLeast("  push phase alone: throughput", opsPerSecond(settings.notes, transport.pushMs()),
                         kPushOpsPerSecond, "ops/s", 0));
  rows.push_back(info(
      "baseline: direct SQLite, both ends",
      fixed(baseline.totalMs(), 1) + " ms, " + fixed(opsPerSecond(settings.notes, baseline.totalMs()), 0) + " ops/s"));
  rows.push_back(atMost("push: sync time / baseline time", sync.ms / baseline.totalMs(), kPushOverBaseline, "x", 2));
  rows.push_back(
      atMost("  push phase alone / baseline time", transport.pushMs() / baseline.totalMs(), kPushOverBaseline, "x", 2));
}

std::vector<std::string> noteIds(Device& device) {
  std::vector<std::string> ids;
  for (const auto& note : device.notes(kPatient)) ids.push_back(note.id());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// 3 and 4: a writer fills a fresh server; an empty device pulls everything;
// then 100 changes at a time go from the writer to the reader; then syncs
// with nothing to do.
void benchPull(const Settings& settings, std::vector<Row>& rows) {
  TempDir dir;
  SystemClock clock;
  const std::string serverDb = dir.file("pull-server.db");
  ServerProcess server(serverDb, hemma::test::demoServerArgs());
  const std::size_t demoOps = hemma::bench::countOperations(serverDb);
  Device writer(dir.file("writer.db"), clock);
  signInAndCatchUp(writer, server, kWriterUser, "bench-writer");
  Device reader(dir.file("reader.db"), clock);
  const std::size_t readerDemoOps = signInAndCatchUp(reader, server, kReaderUser, "bench-reader");
  const std::size_t readerNotesBefore = reader.notes().size();  // the demo world's, if any

  HttpTransport writerLink(ServerAddress::parse(server.url()));
  HttpTransport readerLink(ServerAddress::parse(server.url()));

  writeNotes(writer, settings.pull, 0);
  const SyncReport fill = writer.sync(writerLink, kSyncOptions);
  expectSyncOk("pull: filling the server", fill);
  expectCount("pull: filling the server: operations acknowledged as new", fill.pushed, settings.pull);
  expectServerHolds("pull", serverDb, demoOps, "bench-writer", settings.pull);

  const TimedSync first = timedSync(reader, readerLink);
  expectSyncOk("first pull", first.report);
  expectCount("first pull: operations received", first.report.pulled, settings.pull);
  expectCount("first pull: notes on the reader", reader.notes().size(), readerNotesBefore + settings.pull);
  expect(noteIds(reader) == noteIds(writer), "first pull: the reader's notes are not the writer's notes");

  std::vector<double> pushMs;
  std::vector<double> pullMs;
  std::size_t total = settings.pull;
  for (int run = 0; run < settings.incrementalRuns; ++run) {
    writeNotes(writer, kIncrementalChanges, total);
    total += kIncrementalChanges;
    const TimedSync push = timedSync(writer, writerLink);
    expectSyncOk("incremental push", push.report);
    expectCount("incremental push: operations acknowledged as new", push.report.pushed, kIncrementalChanges);
    const TimedSync pull = timedSync(reader, readerLink);
    expectSyncOk("incremental pull", pull.report);
    expectCount("incremental pull: operations received", pull.report.pulled, kIncrementalChanges);
    pushMs.push_back(push.ms);
    pullMs.push_back(pull.ms);
  }
  expectServerHolds("incremental", serverDb, demoOps, "bench-writer", total);
  expectCount("incremental: notes on the reader", reader.notes().size(), readerNotesBefore + total);

  std::vector<double> noOpMs;
  for (int run = 0; run < settings.noOpRuns; ++run) {
    const TimedSync idle = timedSync(reader, readerLink);
    expectSyncOk("no-op sync", idle.report);
    expect(idle.report.pushed + idle.report.duplicates + idle.report.pulled == 0,
           "no-op sync: moved operations with nothing to do");
    noOpMs.push_back(idle.ms);
  }
  expectCount("no-op: notes on the reader", reader.notes().size(), readerNotesBefore + total);

  const double pullTarget = kFirstPullSeconds * static_cast<double>(settings.pull) / kFirstPullRecords;
  const auto range = [](const std::vector<double>& ms) {
    const auto [low, high] = std::minmax_element(ms.begin(), ms.end());
    return "min " + fixed(*low, 2) + " ms, median " + fixed(median(ms), 2) + " ms, max " + fixed(*high, 2) + " ms";
  };
  std::cout << "first pull: " << settings.pull << " records in " << fixed(first.ms, 1) << " ms ("
            << fixed(opsPerSecond(settings.pull, first.ms), 0) << " records/s), into a device that held the "
            << readerDemoOps << " demo-world operations of its patients\n";
  std::cout << "incremental push of " << kIncrementalChanges << " (" << settings.incrementalRuns
            << " runs): " << range(pushMs) << "\n";
  std::cout << "incremental pull of " << kIncrementalChanges << " (" << settings.incrementalRuns
            << " runs): " << range(pullMs) << "\n";
  std::cout << "no-op sync (" << settings.noOpRuns << " runs): " << range(noOpMs) << "\n";

  std::string pullMetric = "first pull of " + std::to_string(settings.pull) + " records";
  if (settings.pull != kFirstPullRecords) pullMetric += " (target scaled)";
  rows.push_back(below(pullMetric, first.ms / 1000.0, pullTarget, "s", 3));
  rows.push_back(below("incremental sync, 100 changes: push", median(pushMs), kIncrementalMs, "ms", 2));
  rows.push_back(below("incremental sync, 100 changes: pull", median(pullMs), kIncrementalMs, "ms", 2));
  rows.push_back(below("no-op sync (median)", median(noOpMs), kNoOpMs, "ms", 2));
}

void printTable(const std::vector<Row>& rows) {
  const auto line = [](std::string_view metric, std::string_view measured, std::string_view target,
                       std::string_view ratio, std::string_view result) {
    std::printf("%-40.*s %24.*s %18.*s %8.*s  %.*s\n", static_cast<int>(metric.size()), metric.data(),
                static_cast<int>(measured.size()), measured.data(), static_cast<int>(target.size()), target.data(),
                static_cast<int>(ratio.size()), ratio.data(), static_cast<int>(result.size()), result.data());
  };
  std::printf("\n");
  line("metric", "measured", "target", "ratio", "result");
  line(std::string(40, '-'), std::string(24, '-'), std::string(18, '-'), std::string(8, '-'), "------");
  int missed = 0;
  for (const auto& row : rows) {
    const std::string ratio = row.ratio ? fixed(*row.ratio, 2) : "-";
    const std::string result = row.pass ? (*row.pass ? "PASS" : "MISS") : "";
    if (row.pass && !*row.pass) ++missed;
    line(row.metric, row.measured, row.target, ratio, result);
  }
  std::printf("\nratio = measured / target. %d target(s) missed; a miss is reported, not an error.\n", missed);
  std::fflush(stdout);
}

void usage(std::ostream& out) {
  out << "usage: hemma_sync_bench [--smoke] [--notes N] [--pull N]\n"
         "Measures Hemma's sync against the real hemma-server on loopback and prints each figure\n"
         "beside its DESIGN.md target.\n"
         "  --smoke    a tiny run (200 notes pushed, 400 records pulled, fewer repeats), for ctest\n"
         "  --notes N  notes pushed from one device (default 10000)\n"
         "  --pull N   records in the first pull into an empty device (default 20000)\n"
         "  --help     this text\n"
         "Exit status: 0 when every sync worked (targets missed or not), 1 on a functional\n"
         "error (a failed sync, a lost or extra note), 2 on a bad command line.\n";
}

std::size_t positiveNumber(std::string_view flag, const char* text) {
  if (!text) throw std::invalid_argument(std::string(flag) + ": needs a number");
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*text == '-' || end == text || *end != '\0' || value == 0 || value > 10'000'000) {
    throw std::invalid_argument(std::string(flag) + ": \"" + text + "\" is not a number from 1 to 10000000");
  }
  return static_cast<std::size_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        usage(std::cout);
        return 0;
      } else if (arg == "--smoke") {
        settings.notes = 200;
        settings.pull = 400;
        settings.incrementalRuns = 3;
        settings.noOpRuns = 5;
      } else if (arg == "--notes") {
        settings.notes = positiveNumber(arg, i + 1 < argc ? argv[++i] : nullptr);
      } else if (arg == "--pull") {
        settings.pull = positiveNumber(arg, i + 1 < argc ? argv[++i] : nullptr);
      } else {
        throw std::invalid_argument(std::string(arg) + ": unknown option");
      }
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "hemma_sync_bench: " << e.what() << "\n";
    usage(std::cerr);
    return 2;
  }

  try {
    std::vector<Row> rows;
    benchPush(settings, rows);
    benchPull(settings, rows);
    printTable(rows);
  } catch (const BenchFailure& e) {
    std::cerr << "hemma_sync_bench: FAILED: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "hemma_sync_bench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
