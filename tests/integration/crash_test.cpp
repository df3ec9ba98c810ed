// Crash safety (DESIGN.md "Quality"): the server killed with SIGKILL in the
// middle of a sync loses no operation it acknowledged, and a device that dies
// between sending a batch and recording the acknowledgements sends it again
// harmlessly. Both end with every operation on the server exactly once, each
// with exactly one push audit entry (written in the transaction that stored
// the operation, so a kill cannot separate them).
//
// The server runs the demo world (it needs signed-in tablets): the tablets
// sign in as nurse-karin and nurse-olle and write every note for patient-01,
// who is in both care teams. An observer device signed in as nurse-olle
// pulls what the server holds; the demo world's own operations come before
// the test starts (their sequence numbers are at most `demoSeq`), so "the
// test's operations" are exactly those after it.

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/protocol.hpp"
#include "support/api_client.hpp"
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
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kTablets = 4;
// Fewer notes under AddressSanitizer, which runs several times slower; the
// kill points scale with the total.
#ifdef __SANITIZE_ADDRESS__
constexpr int kNotesPerTablet = 1000;
#else
constexpr int kNotesPerTablet = 3000;
#endif
constexpr int kWriteChunk = 100;  // notes a tablet writes between two syncs
constexpr std::size_t kPushBatch = 50;
constexpr auto kRequestTimeout = 3s;

// Databases in RAM (/dev/shm) where there is one. A SIGKILL ends the
// process, not the machine: what the server wrote before it died stays in the
// page cache and the next process reads it, whatever the fsync policy, so RAM
// loses nothing this test looks at. On disk the 12,000 one-note transactions
// (synchronous=FULL) would cost ~5 ms of fsync each and blow the time budget.
// Power loss is not what is tested here.

// Small push batches, so a kill finds acknowledged and unacknowledged
// batches side by side. One attempt per sync: the test retries itself, and
// after a kill the server comes back on another port.
SyncClient::Options smallBatches() {
  SyncClient::Options options;
  options.pushBatch = kPushBatch;
  options.attempts = 1;
  return options;
}

std::string noteText(const std::string& tablet, int i) {
  return "Besök " + std::to_string(i) + " av " + tablet + ": blodtryck 130/80, åt lunch, medicin given.";
}

// In both nurses' care teams (demo world), so in the observer's too.
constexpr const char* kPatient = "patient-01";

const char* userFor(int tablet) { return tablet % 2 == 0 ? "nurse-karin" : "nurse-olle"; }

// A device that only reads: signed in as nurse-olle, who sees patient-01.
// Its database is not used again; pulls go through its device token.
struct Observer {
  std::string deviceId;
  std::string token;
};

Observer signInObserver(const hemma::test::ServerProcess& server, const std::string& dbPath,
                        const std::string& deviceId) {
  SystemClock clock;
  Device device(dbPath, clock);
  hemma::test::signIn(device, server, "nurse-olle", deviceId);
  const auto token = device.store().meta("device_token");
  REQUIRE(token);
  return {deviceId, *token};
}

// What the observer may see, pulled page by page from the start of the log,
// and where the log ends (the last cursor: it moves past operations the
// observer may not see, too).
struct Pulled {
  std::vector<hemma::sync::Operation> ops;
  std::uint64_t lastSeq = 0;
  // The operations stored after `seq`: the test's own when `seq` is demoSeq.
  std::vector<hemma::sync::Operation> after(std::uint64_t seq) const {
    std::vector<hemma::sync::Operation> later;
    for (const auto& op : ops) {
      if (op.server_seq() > seq) later.push_back(op);
    }
    return later;
  }
};

// Bounded: at most 100 pages.
Pulled pullEverything(const std::string& url, const Observer& observer) {
  HttpTransport link(ServerAddress::parse(url), 10s);
  link.setToken(observer.token);
  hemma::sync::PullRequest request;
  request.set_protocol_version(hemma::sync::kProtocolVersion);
  request.set_device_id(observer.deviceId);
  request.set_limit(hemma::sync::kMaxPullPage);
  Pulled pulled;
  for (int page = 0; page < 100; ++page) {
    auto response = link.pull(request);
    for (auto& op : *response.mutable_operations()) pulled.ops.push_back(std::move(op));
    // A page may be empty when the server skipped what the observer may not
    // see; the cursor must move all the same.
    REQUIRE(response.next_cursor() >= request.after_seq());
    pulled.lastSeq = response.next_cursor();
    if (!response.has_more()) return pulled;
    REQUIRE(response.next_cursor() > request.after_seq());
    request.set_after_seq(response.next_cursor());
  }
  FAIL("pull did not finish in 100 pages");
  return pulled;
}

// The demo world as the observer sees it when the test starts: where it ends
// in the log, how many operations and notes of it the observer sees.
struct DemoWorld {
  std::uint64_t lastSeq = 0;
  std::size_t visible = 0;
  std::size_t notes = 0;
};

DemoWorld demoWorld(const std::string& url, const Observer& observer) {
  const auto pulled = pullEverything(url, observer);
  DemoWorld demo;
  demo.lastSeq = pulled.lastSeq;
  demo.visible = pulled.ops.size();
  for (const auto& op : pulled.ops) {
    if (op.has_append() && op.append().has_note()) ++demo.notes;
  }
  REQUIRE(demo.lastSeq > 0);  // the demo world is there
  return demo;
}

// How often each operation id occurs in `ops`.
std::map<std::string, int> countIds(const std::vector<hemma::sync::Operation>& ops) {
  std::map<std::string, int> counts;
  for (const auto& op : ops) ++counts[op.id()];
  return counts;
}

// The first few elements of `ids`, for a failure message.
template <typename Container>
std::string sample(const Container& ids, std::size_t n = 10) {
  std::ostringstream out;
  std::size_t shown = 0;
  for (const auto& id : ids) {
    if (shown++ == n) {
      out << " ...";
      break;
    }
    out << (shown > 1 ? ", " : "") << id;
  }
  return out.str();
}

// The audit trail is as durable as the operations: every operation stored
// has exactly one allowed push entry (action sync.push.<entity_type>, the
// operation id as purpose, its author and time), written in the transaction
// that stored it, whatever was killed when. `ops` are the test's operations
// as the server holds them; the result names those that do not, and audited
// ids that are not among them.
struct AuditCheck {
  std::vector<std::string> unaudited;      // no entry
  std::vector<std::string> auditedTwice;   // more than one
  std::vector<std::string> wrongEntry;     // not as the operation says
  std::vector<std::string> auditedUnseen;  // an allowed entry but not stored
  std::set<std::string> audited;           // ids with an allowed entry
};

AuditCheck checkPushAudit(const std::string& serverDb, const std::vector<hemma::sync::Operation>& ops) {
  std::map<std::string, std::vector<hemma::api::AuditEntry>> byId;
  hemma::test::AuditReader reader(serverDb);
  for (auto& entry : reader.entries("sync.push.")) {
    if (entry.outcome() == "allowed") byId[entry.purpose()].push_back(std::move(entry));
  }
  AuditCheck check;
  std::set<std::string> stored;
  for (const auto& op : ops) {
    stored.insert(op.id());
    const auto it = byId.find(op.id());
    if (it == byId.end()) {
      check.unaudited.push_back(op.id());
      continue;
    }
    if (it->second.size() != 1) check.auditedTwice.push_back(op.id());
    const auto& entry = it->second.front();
    if (entry.action() != "sync.push." + op.entity_type() || entry.original_author_id() != op.author_id() ||
        entry.original_time() != op.recorded_at() || entry.patient_id() != op.patient_id()) {
      check.wrongEntry.push_back(op.id());
    }
  }
  for (const auto& [id, entries] : byId) {
    check.audited.insert(id);
    if (!stored.count(id)) check.auditedUnseen.push_back(id);
  }
  return check;
}

std::set<std::string> outboxIds(Device& device) {
  std::set<std::string> ids;
  for (const auto& op : device.store().outbox(static_cast<std::size_t>(kNotesPerTablet) + 1)) ids.insert(op.id());
  return ids;
}

// One tablet: its own database, used by one thread at a time; what its
// thread saw is kept here and checked on the main thread after join (Catch2
// assertions are not thread-safe).
struct Tablet {
  std::string id;
  std::unique_ptr<Device> device;
  std::vector<hemma::domain::VisitNote> written;
  std::size_t acknowledged = 0;  // pushed + duplicates over all reports
  std::size_t duplicates = 0;
  std::size_t rejected = 0;
  std::size_t failedSyncs = 0;  // syncs cut off by a kill
  int syncs = 0;
  std::vector<std::string> unexpected;  // exceptions, or syncs that failed while the server was up
};

// Where the server currently listens, shared by the main thread (which
// kills and restarts it) and the tablet threads.
class ServerSlot {
 public:
  void publish(std::string url) {
    std::lock_guard lock(m_mutex);
    m_url = std::move(url);
    ++m_generation;
  }
  std::pair<int, std::string> current() {
    std::lock_guard lock(m_mutex);
    return {m_generation, m_url};
  }
  // Called just before the server of the current generation is killed.
  void killing(bool last) {
    std::lock_guard lock(m_mutex);
    m_killed = m_generation;
    if (last) m_over = true;
  }
  bool killed(int generation) {
    std::lock_guard lock(m_mutex);
    return m_killed >= generation;
  }
  // True after the last kill: no server will come back in phase 1.
  bool over() {
    std::lock_guard lock(m_mutex);
    return m_over;
  }

 private:
  std::mutex m_mutex;
  std::string m_url;
  int m_generation = 0;
  int m_killed = 0;
  bool m_over = false;
};

// Phase 1: write all notes in chunks, syncing after each chunk with whatever
// server is up. While the server is down the tablet keeps writing offline, as
// a nurse would; when it is back, the tablet resumes. Once everything is
// written it keeps syncing until its outbox is empty or the last kill.
void writeAndSync(Tablet& tablet, ServerSlot& slot, std::atomic<int>& done, Clock::time_point deadline) {
  try {
    std::unique_ptr<HttpTransport> link;
    int linkGeneration = -1;
    bool online = false;
    int i = 0;
    while (true) {
      if (Clock::now() > deadline) {
        tablet.unexpected.push_back("ran out of time after writing " + std::to_string(i) + " notes");
        break;
      }
      if (i < kNotesPerTablet) {
        for (const int end = std::min(i + kWriteChunk, kNotesPerTablet); i < end; ++i) {
          tablet.written.push_back(tablet.device->writeNote(kPatient, "", noteText(tablet.id, i)));
        }
      } else if (slot.over() || tablet.device->store().outboxSize() == 0) {
        break;
      }
      const auto [generation, url] = slot.current();
      if (generation != linkGeneration) {
        link = std::make_unique<HttpTransport>(ServerAddress::parse(url), kRequestTimeout);
        linkGeneration = generation;
        online = true;
      }
      if (!online) {
        if (i >= kNotesPerTablet) std::this_thread::sleep_for(5ms);  // wait for the restart
        continue;
      }
      const SyncReport report = tablet.device->sync(*link, smallBatches());
      ++tablet.syncs;
      tablet.acknowledged += report.pushed + report.duplicates;
      tablet.duplicates += report.duplicates;
      tablet.rejected += report.rejected;
      if (!report.ok) {
        if (slot.killed(linkGeneration)) {
          ++tablet.failedSyncs;
          online = false;
        } else {
          tablet.unexpected.push_back("sync failed while the server was up: " + report.error);
        }
      }
    }
  } catch (const std::exception& e) {
    tablet.unexpected.push_back(std::string("exception: ") + e.what());
  }
  ++done;
}

// Phase 2: sync until the outbox is empty (bounded in attempts and time).
void syncToCompletion(Tablet& tablet, const std::string& url, Clock::time_point deadline) {
  try {
    HttpTransport link(ServerAddress::parse(url), kRequestTimeout);
    for (int attempt = 0; attempt < 20 && Clock::now() < deadline; ++attempt) {
      const SyncReport report = tablet.device->sync(link, smallBatches());
      ++tablet.syncs;
      tablet.acknowledged += report.pushed + report.duplicates;
      tablet.duplicates += report.duplicates;
      tablet.rejected += report.rejected;
      if (report.ok && tablet.device->store().outboxSize() == 0) return;
      if (!report.ok) tablet.unexpected.push_back("sync after restart failed: " + report.error);
    }
    tablet.unexpected.push_back(
        "outbox not empty after 20 syncs: " + std::to_string(tablet.device->store().outboxSize()) + " left");
  } catch (const std::exception& e) {
    tablet.unexpected.push_back(std::string("exception: ") + e.what());
  }
}

// Starts `hemma-device --db <db> --server <url> <command...>` as a child
// process, its output appended to `logPath`.
pid_t startDevice(const std::string& db, const std::string& url, const std::vector<std::string>& command,
                  const std::string& logPath) {
  const int logFd = open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  REQUIRE(logFd >= 0);
  std::vector<std::string> args = {HEMMA_DEVICE_BINARY, "--db", db, "--server", url};
  args.insert(args.end(), command.begin(), command.end());
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(logFd, STDOUT_FILENO);
    dup2(logFd, STDERR_FILENO);
    close(logFd);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(logFd);
  return pid;
}

// `hemma-device login USERNAME DEVICE_ID --password demo`, to the end.
void loginWithDeviceCli(const std::string& db, const std::string& url, const std::string& username,
                        const std::string& deviceId, const std::string& logPath) {
  const pid_t pid = startDevice(db, url, {"login", username, deviceId, "--password", "demo"}, logPath);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("hemma-device login failed; see " << logPath);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

// Runs `hemma-device --db <db> --server <url> sync` as a child process and
// SIGKILLs it after `delay` unless it finished first. Returns true when it
// was killed; a run that finished must have succeeded.
bool runDeviceSyncAndKill(const std::string& db, const std::string& url, std::chrono::milliseconds delay,
                          const std::string& logPath) {
  const pid_t pid = startDevice(db, url, {"sync"}, logPath);
  const auto killAt = Clock::now() + delay;
  int status = 0;
  while (Clock::now() < killAt) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      INFO("hemma-device sync exited by itself; see " << logPath);
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  ::kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  // It may have finished between the last look and the signal.
  if (WIFEXITED(status)) {
    REQUIRE(WEXITSTATUS(status) == 0);
    return false;
  }
  return true;
}

// True once the server holds more than `count` operations after the demo
// world's (`link` carries the observer's token). The cursor moves past an
// operation whether the observer may see it or not.
bool serverHoldsMoreThan(HttpTransport& link, const Observer& observer, std::uint64_t demoSeq, std::uint64_t count) {
  hemma::sync::PullRequest request;
  request.set_protocol_version(hemma::sync::kProtocolVersion);
  request.set_device_id(observer.deviceId);
  request.set_after_seq(demoSeq + count);
  request.set_limit(1);
  return link.pull(request).next_cursor() > request.after_seq();
}

}  // namespace

TEST_CASE("the server killed with SIGKILL mid-sync loses no acknowledged operation") {
  const auto started = Clock::now();
  const unsigned seed = Catch::rngSeed() != 0 ? Catch::rngSeed() : std::random_device{}();
  INFO("seed " << seed << " (--rng-seed " << seed << " picks the same kill points; thread timing still varies)");
  std::mt19937 rng(seed);
  // The server is killed kKills times, each time once it holds a random
  // number of operations (rising through the run) plus a few random ms, so
  // the kills land inside pushes; between kills it restarts on the same file.
  constexpr int kKills = 3;
  constexpr std::uint64_t kTotal = kTablets * kNotesPerTablet;
  std::vector<std::uint64_t> killAfter;
  std::vector<std::chrono::milliseconds> extraDelay;
  for (int k = 0; k < kKills; ++k) {
    const std::uint64_t low = kTotal * (1 + 3 * k) / 12;  // 1/12..2/12, 4/12..5/12, 7/12..8/12
    killAfter.push_back(std::uniform_int_distribution<std::uint64_t>(low, low + kTotal / 12)(rng));
    extraDelay.emplace_back(std::uniform_int_distribution<int>(0, 15)(rng));
  }

  hemma::test::TempDir dir(hemma::test::TempDir::InMemory);
  SystemClock clock;
  const std::string serverDb = dir.file("server.db");
  // Every server process runs on this file, which keeps the accounts, the
  // registered devices and the token secret across the kills.
  auto crashing = std::make_unique<hemma::test::ServerProcess>(serverDb, hemma::test::demoServerArgs());
  std::vector<Tablet> tablets(kTablets);
  for (int t = 0; t < kTablets; ++t) {
    tablets[t].id = "tablet-" + std::to_string(t);
    tablets[t].device = std::make_unique<Device>(dir.file(tablets[t].id + ".db"), clock);
    hemma::test::signIn(*tablets[t].device, *crashing, userFor(t), tablets[t].id);
  }
  const Observer observer = signInObserver(*crashing, dir.file("observer.db"), "observer");
  const DemoWorld demo = demoWorld(crashing->url(), observer);

  // Phase 1: four tablets write and sync; the server dies under them,
  // comes back, dies again.
  std::size_t serverOpsAfterRestart = 0;
  std::vector<std::string> killLog;
  {
    ServerSlot slot;
    auto server = std::move(crashing);
    slot.publish(server->url());
    std::atomic<int> done{0};
    const auto deadline = Clock::now() + 120s;
    std::vector<std::thread> threads;
    for (auto& tablet : tablets) {
      threads.emplace_back(writeAndSync, std::ref(tablet), std::ref(slot), std::ref(done), deadline);
    }
    // Nothing here may throw while the threads run.
    std::string watchError;
    try {
      for (int k = 0; k < kKills; ++k) {
        if (k > 0) {
          server = std::make_unique<hemma::test::ServerProcess>(serverDb, hemma::test::demoServerArgs());
          slot.publish(server->url());
        }
        bool reached = false;
        {
          HttpTransport watcher(ServerAddress::parse(server->url()), kRequestTimeout);
          watcher.setToken(observer.token);
          const auto watchDeadline = Clock::now() + 60s;
          while (Clock::now() < watchDeadline && done.load() < kTablets) {
            if (serverHoldsMoreThan(watcher, observer, demo.lastSeq, killAfter[k])) {
              reached = true;
              break;
            }
            std::this_thread::sleep_for(2ms);
          }
        }
        std::this_thread::sleep_for(extraDelay[k]);
        slot.killing(k == kKills - 1);
        server->kill();
        killLog.push_back(
            "kill " + std::to_string(k + 1) + (reached ? " after " : " without reaching ") +
            std::to_string(killAfter[k]) + " ops + " + std::to_string(extraDelay[k].count()) + " ms at " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()) +
            " ms");
        if (!reached) {
          watchError = killLog.back();
          break;
        }
      }
    } catch (const std::exception& e) {
      watchError = e.what();
    }
    if (!slot.over()) {
      slot.killing(true);
      server->kill();
    }
    for (auto& thread : threads) thread.join();
    INFO(sample(killLog));
    CHECK(watchError.empty());
  }
  const auto phaseOneOver = Clock::now();  // the tablets finished writing offline

  // What each tablet holds as acknowledged: written, and gone from its outbox.
  std::map<std::string, const hemma::domain::VisitNote*> writtenById;
  std::set<std::string> acknowledged;
  std::size_t pending = 0;
  for (auto& tablet : tablets) {
    INFO(tablet.id << ": " << sample(tablet.unexpected, 3));
    REQUIRE(tablet.unexpected.empty());
    REQUIRE(tablet.written.size() == static_cast<std::size_t>(kNotesPerTablet));
    CHECK(tablet.rejected == 0);
    const auto outbox = outboxIds(*tablet.device);
    pending += outbox.size();
    std::size_t ackedHere = 0;
    for (const auto& note : tablet.written) {
      writtenById[note.id()] = &note;
      if (!outbox.count(note.id())) {
        acknowledged.insert(note.id());
        ++ackedHere;
      }
    }
    // Every outbox entry is a note this tablet wrote, and the acks the sync
    // reports counted are exactly the ones that left the outbox.
    CHECK(outbox.size() + ackedHere == tablet.written.size());
    CHECK(ackedHere == tablet.acknowledged);
  }
  REQUIRE(writtenById.size() == static_cast<std::size_t>(kTablets * kNotesPerTablet));
  // The last kill landed mid-run: some operations were acknowledged, some not.
  CHECK(acknowledged.size() > 0);
  CHECK(pending > 0);

  // Phase 2: a new server process on the same database file.
  std::vector<std::size_t> duplicatesBeforeRestart;
  std::size_t failedSyncs = 0;
  for (const auto& tablet : tablets) {
    duplicatesBeforeRestart.push_back(tablet.duplicates);
    failedSyncs += tablet.failedSyncs;
  }
  hemma::test::ServerProcess server(serverDb, hemma::test::demoServerArgs());
  {
    const auto pulled = pullEverything(server.url(), observer);
    // The demo world is as it was (not loaded twice).
    CHECK(pulled.ops.size() - pulled.after(demo.lastSeq).size() == demo.visible);
    const auto afterRestart = pulled.after(demo.lastSeq);
    serverOpsAfterRestart = afterRestart.size();
    const auto counts = countIds(afterRestart);
    std::vector<std::string> lost, duplicated, unknown, altered;
    for (const auto& id : acknowledged) {
      if (!counts.count(id)) lost.push_back(id);
    }
    for (const auto& [id, n] : counts) {
      if (n != 1) duplicated.push_back(id);
      if (!writtenById.count(id)) unknown.push_back(id);
    }
    for (const auto& op : afterRestart) {
      auto it = writtenById.find(op.id());
      if (it != writtenById.end() && op.append().note().SerializeAsString() != it->second->SerializeAsString()) {
        altered.push_back(op.id());
      }
    }
    INFO("acknowledged " << acknowledged.size() << ", on the server after restart " << afterRestart.size());
    INFO("lost: " << lost.size() << " [" << sample(lost) << "]");
    INFO("duplicated: " << duplicated.size() << " [" << sample(duplicated) << "]");
    INFO("unknown: " << unknown.size() << " [" << sample(unknown) << "]");
    INFO("altered: " << altered.size() << " [" << sample(altered) << "]");
    CHECK(lost.empty());
    CHECK(duplicated.empty());
    CHECK(unknown.empty());
    CHECK(altered.empty());
    CHECK(afterRestart.size() >= acknowledged.size());
  }

  // Every tablet syncs to completion against the new server.
  {
    const auto deadline = Clock::now() + 120s;
    std::vector<std::thread> threads;
    for (auto& tablet : tablets) threads.emplace_back(syncToCompletion, std::ref(tablet), server.url(), deadline);
    for (auto& thread : threads) thread.join();
  }
  std::size_t duplicatesReported = 0;
  for (auto& tablet : tablets) {
    INFO(tablet.id << ": " << sample(tablet.unexpected, 3));
    CHECK(tablet.unexpected.empty());
    CHECK(tablet.device->store().outboxSize() == 0);
    CHECK(tablet.device->rejected().empty());
    duplicatesReported += tablet.duplicates - duplicatesBeforeRestart[&tablet - tablets.data()];
  }
  // Operations the server stored whose acks died with it come back as
  // duplicates; nothing else may.
  CHECK(duplicatesReported == serverOpsAfterRestart - acknowledged.size());

  // Exactly 4 x 3,000 operations after the demo world's, each once, each as
  // written.
  const auto everything = pullEverything(server.url(), observer).after(demo.lastSeq);
  const auto counts = countIds(everything);
  std::vector<std::string> missing, duplicated;
  for (const auto& [id, note] : writtenById) {
    auto it = counts.find(id);
    if (it == counts.end()) {
      missing.push_back(id);
    } else if (it->second != 1) {
      duplicated.push_back(id);
    }
  }
  INFO("missing: " << missing.size() << " [" << sample(missing) << "]");
  INFO("duplicated: " << duplicated.size() << " [" << sample(duplicated) << "]");
  CHECK(everything.size() == static_cast<std::size_t>(kTablets * kNotesPerTablet));
  CHECK(counts.size() == everything.size());
  CHECK(missing.empty());
  CHECK(duplicated.empty());

  // Each of them has its one push audit entry: also those acknowledged
  // before a kill, and those stored just before a kill whose acks died
  // with the server (resent and acked as duplicates, not audited again).
  {
    const AuditCheck audit = checkPushAudit(serverDb, everything);
    std::vector<std::string> ackedUnaudited;
    for (const auto& id : acknowledged) {
      if (!audit.audited.count(id)) ackedUnaudited.push_back(id);
    }
    INFO("acknowledged before the restart without an audit entry: " << ackedUnaudited.size() << " ["
                                                                    << sample(ackedUnaudited) << "]");
    INFO("stored without an audit entry: " << audit.unaudited.size() << " [" << sample(audit.unaudited) << "]");
    INFO("audited more than once: " << audit.auditedTwice.size() << " [" << sample(audit.auditedTwice) << "]");
    INFO("audit entry not as the operation: " << audit.wrongEntry.size() << " [" << sample(audit.wrongEntry) << "]");
    INFO("audited but not stored: " << audit.auditedUnseen.size() << " [" << sample(audit.auditedUnseen) << "]");
    CHECK(ackedUnaudited.empty());
    CHECK(audit.unaudited.empty());
    CHECK(audit.auditedTwice.empty());
    CHECK(audit.wrongEntry.empty());
    CHECK(audit.auditedUnseen.empty());
  }

  // A fresh tablet (nurse-olle's, as the observer) pulls all 12,000 notes
  // beside the demo world, exactly once, byte for byte.
  Device fresh(dir.file("fresh.db"), clock);
  hemma::test::signIn(fresh, server, "nurse-olle", "tablet-fresh");
  HttpTransport freshLink(ServerAddress::parse(server.url()), 10s);
  const auto report = fresh.sync(freshLink);
  REQUIRE(report.ok);
  CHECK(report.pulled == demo.visible + static_cast<std::size_t>(kTablets * kNotesPerTablet));
  const auto notes = fresh.notes();
  CHECK(notes.size() == demo.notes + static_cast<std::size_t>(kTablets * kNotesPerTablet));
  std::set<std::string> seen;
  std::size_t differing = 0;
  std::size_t ours = 0;
  for (const auto& note : notes) {
    seen.insert(note.id());
    auto it = writtenById.find(note.id());
    if (it == writtenById.end()) continue;  // the demo world's
    ++ours;
    if (it->second->SerializeAsString() != note.SerializeAsString()) ++differing;
  }
  CHECK(seen.size() == notes.size());
  CHECK(ours == static_cast<std::size_t>(kTablets * kNotesPerTablet));
  CHECK(differing == 0);

  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::size_t duplicatesBetweenKills = 0;
  for (const auto size : duplicatesBeforeRestart) duplicatesBetweenKills += size;
  WARN("seed " << seed << ": " << sample(killLog) << "; " << failedSyncs << " syncs cut off, " << duplicatesBetweenKills
               << " duplicates between kills; writing done at "
               << duration_cast<milliseconds>(phaseOneOver - started).count() << " ms; " << acknowledged.size()
               << " acknowledged, " << pending << " pending, " << serverOpsAfterRestart
               << " on the server after restart, " << duplicatesReported << " duplicates on resync; total "
               << duration_cast<milliseconds>(Clock::now() - started).count() << " ms");
}

TEST_CASE("a device killed mid-sync resends its outbox idempotently") {
  hemma::test::TempDir dir(hemma::test::TempDir::InMemory);
  SystemClock clock;
  const std::string path = dir.file("nurse.db");
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  HttpTransport link(ServerAddress::parse(server.url()), kRequestTimeout);
  const Observer observer = signInObserver(server, dir.file("observer.db"), "observer");
  const DemoWorld demo = demoWorld(server.url(), observer);

  auto nurse = std::make_unique<Device>(path, clock);
  hemma::test::signIn(*nurse, server, "nurse-karin", "tablet-a");
  std::map<std::string, std::string> written;  // note id -> serialized note
  for (int i = 0; i < 20; ++i) {
    const auto note = nurse->writeNote(kPatient, "", noteText("tablet-a", i));
    written[note.id()] = note.SerializeAsString();
  }
  // An ordinary sync first: history the crash must not disturb.
  const auto first = nurse->sync(link, smallBatches());
  REQUIRE(first.ok);
  REQUIRE(first.pushed == 20);
  for (int i = 20; i < 140; ++i) {
    const auto note = nurse->writeNote(kPatient, "", noteText("tablet-a", i));
    written[note.id()] = note.SerializeAsString();
  }
  REQUIRE(nurse->store().outboxSize() == 120);

  // The device sends its next batch, the server stores it and answers, and
  // the device dies before it records the acknowledgements.
  hemma::sync::PushRequest batch;
  batch.set_protocol_version(hemma::sync::kProtocolVersion);
  batch.set_device_id("tablet-a");
  for (auto& op : nurse->store().outbox(kPushBatch)) *batch.add_operations() = op;
  link.setToken(*nurse->store().meta("device_token"));
  const auto lostAnswer = link.push(batch);
  REQUIRE(lostAnswer.acks_size() == static_cast<int>(kPushBatch));
  std::map<std::string, std::uint64_t> seqOfLostAck;
  for (const auto& ack : lostAnswer.acks()) {
    CHECK_FALSE(ack.duplicate());
    seqOfLostAck[ack.operation_id()] = ack.server_seq();
  }
  nurse.reset();

  // The device comes back from its database file: the batch is still queued.
  nurse = std::make_unique<Device>(path, clock);
  CHECK(nurse->status().deviceId == "tablet-a");
  CHECK(nurse->store().outboxSize() == 120);
  // It keeps working: a note written after the restart gets a fresh id.
  for (int i = 140; i < 150; ++i) {
    const auto note = nurse->writeNote(kPatient, "", noteText("tablet-a", i));
    CHECK(written.count(note.id()) == 0);
    written[note.id()] = note.SerializeAsString();
  }

  const auto report = nurse->sync(link, smallBatches());
  REQUIRE(report.ok);
  CHECK(report.duplicates == kPushBatch);
  CHECK(report.pushed == 120 - kPushBatch + 10);
  CHECK(report.rejected == 0);
  CHECK(nurse->store().outboxSize() == 0);
  CHECK(nurse->rejected().empty());

  // The server holds each operation once, the resent ones where they were.
  const auto everything = pullEverything(server.url(), observer).after(demo.lastSeq);
  CHECK(everything.size() == written.size());
  const auto counts = countIds(everything);
  CHECK(counts.size() == everything.size());
  std::size_t differing = 0;
  for (const auto& op : everything) {
    auto it = written.find(op.id());
    if (it == written.end() || it->second != op.append().note().SerializeAsString()) ++differing;
    auto lost = seqOfLostAck.find(op.id());
    if (lost != seqOfLostAck.end()) CHECK(op.server_seq() == lost->second);
  }
  CHECK(differing == 0);
  // One push audit entry each: the resent batch, acked as duplicates, is
  // not audited again.
  {
    const AuditCheck audit = checkPushAudit(dir.file("server.db"), everything);
    INFO("stored without an audit entry: " << sample(audit.unaudited));
    INFO("audited more than once: " << sample(audit.auditedTwice));
    CHECK(audit.unaudited.empty());
    CHECK(audit.auditedTwice.empty());
    CHECK(audit.wrongEntry.empty());
    CHECK(audit.auditedUnseen.empty());
  }

  // And a second device (nurse-olle's, as the observer) sees each note once,
  // beside the demo world.
  Device colleague(dir.file("colleague.db"), clock);
  hemma::test::signIn(colleague, server, "nurse-olle", "tablet-b");
  const auto pulled = colleague.sync(link);
  REQUIRE(pulled.ok);
  CHECK(pulled.pulled == demo.visible + written.size());
  CHECK(colleague.notes().size() == demo.notes + written.size());
  std::size_t colleagueDiffering = 0;
  for (const auto& note : colleague.notes()) {
    auto it = written.find(note.id());
    if (it != written.end() && it->second != note.SerializeAsString()) ++colleagueDiffering;
  }
  CHECK(colleagueDiffering == 0);
}

TEST_CASE("a device process killed with SIGKILL mid-sync resends its outbox idempotently") {
  const unsigned seed = Catch::rngSeed() != 0 ? Catch::rngSeed() : std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  hemma::test::TempDir dir(hemma::test::TempDir::InMemory);
  SystemClock clock;
  const std::string path = dir.file("nurse.db");
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  const Observer observer = signInObserver(server, dir.file("observer.db"), "observer");
  const DemoWorld demo = demoWorld(server.url(), observer);
  // Signed in by the real CLI, as a nurse would.
  loginWithDeviceCli(path, server.url(), "nurse-karin", "tablet-a", dir.file("device.log"));

  // Rounds of: write notes, start a real `hemma-device sync`, SIGKILL it
  // a random few ms in (start-up, push, recording acks or pulling).
  constexpr int kRounds = 6;
  constexpr int kNotesPerRound = 500;
  std::map<std::string, std::string> written;  // note id -> serialized note
  int killed = 0;
  for (int round = 0; round < kRounds; ++round) {
    {
      Device nurse(path, clock);
      for (int i = 0; i < kNotesPerRound; ++i) {
        const int n = round * kNotesPerRound + i;
        const auto note = nurse.writeNote(kPatient, "", noteText("tablet-a", n));
        written[note.id()] = note.SerializeAsString();
      }
    }
    // A whole sync of the backlog takes some 20-100 ms here (more under
    // load; the first one also pulls the demo world): most runs die, some
    // finish.
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(2, 80)(rng));
    if (runDeviceSyncAndKill(path, server.url(), delay, dir.file("device.log"))) ++killed;
  }
  // Ids stay unique across the kills (the counter survives with the note).
  REQUIRE(written.size() == static_cast<std::size_t>(kRounds * kNotesPerRound));
  CHECK(killed > 0);

  // What survived the kills: the server holds some, the device's outbox the
  // rest, and nothing the device counts as acknowledged is missing. (The
  // server may still be committing a push whose sender was just killed, so
  // this is a lower bound of what it holds when the resync starts.)
  const auto beforeResync = pullEverything(server.url(), observer).after(demo.lastSeq);
  const auto onServer = countIds(beforeResync);
  CHECK(onServer.size() == beforeResync.size());
  Device nurse(path, clock);
  std::set<std::string> queued;
  for (const auto& op : nurse.store().outbox(written.size() + 1)) queued.insert(op.id());
  std::size_t ackedButMissing = 0;
  std::size_t storedButQueued = 0;
  for (const auto& [id, bytes] : written) {
    if (!queued.count(id) && !onServer.count(id)) ++ackedButMissing;
    if (queued.count(id) && onServer.count(id)) ++storedButQueued;
  }
  CHECK(ackedButMissing == 0);

  // The next sync resends what the kills left queued: what the server had
  // stored already comes back as duplicates, the rest is stored once.
  HttpTransport link(ServerAddress::parse(server.url()), kRequestTimeout);
  const auto report = nurse.sync(link, smallBatches());
  REQUIRE(report.ok);
  CHECK(report.duplicates + report.pushed == queued.size());
  CHECK(report.duplicates >= storedButQueued);
  CHECK(report.rejected == 0);
  CHECK(nurse.store().outboxSize() == 0);
  CHECK(nurse.rejected().empty());

  const auto everything = pullEverything(server.url(), observer).after(demo.lastSeq);
  const auto counts = countIds(everything);
  CHECK(everything.size() == written.size());
  CHECK(counts.size() == everything.size());
  std::size_t differing = 0;
  for (const auto& op : everything) {
    auto it = written.find(op.id());
    if (it == written.end() || it->second != op.append().note().SerializeAsString()) ++differing;
  }
  CHECK(differing == 0);
  // One push audit entry each, whichever sync stored it and however often
  // it was resent.
  {
    const AuditCheck audit = checkPushAudit(dir.file("server.db"), everything);
    INFO("stored without an audit entry: " << sample(audit.unaudited));
    INFO("audited more than once: " << sample(audit.auditedTwice));
    CHECK(audit.unaudited.empty());
    CHECK(audit.auditedTwice.empty());
    CHECK(audit.wrongEntry.empty());
    CHECK(audit.auditedUnseen.empty());
  }
  WARN("seed " << seed << ": " << killed << " of " << kRounds << " device syncs killed; " << beforeResync.size()
               << " of " << written.size() << " on the server before the resync, " << storedButQueued
               << " of them stored but unacknowledged on the device; the resync found " << report.duplicates
               << " duplicates and stored " << report.pushed);
}
