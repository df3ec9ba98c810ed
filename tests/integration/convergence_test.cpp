// The convergence property test (the most important test): in one process, a
// server core and several device cores make random operations during random
// offline periods, through a network that drops, duplicates, delays and
// reorders messages and loses responses after the server committed. After
// healing and a final sync round every replica is identical, every note is
// present exactly once, and every concurrent edit of a review field raised a
// conflict record.
//
// Seeded. HEMMA_CONVERGENCE_SCHEDULES (default 1000) and
// HEMMA_CONVERGENCE_SEED choose how many schedules and where to start; the
// seed of a failing schedule is printed so it can be replayed alone.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include "hemma/mobile/device.hpp"
#include "hemma/server/database.hpp"
#include "hemma/server/operation_log.hpp"
#include "hemma/server/sync_service.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/merge_rules.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/replica.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

std::uint64_t envNumber(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::stoull(value) : fallback;
}

// Simulated time shared by everyone; each device reads it with its own skew.
struct World {
  std::int64_t nowMs = 1'800'000'000'000;
};

class SkewedClock final : public mobile::Clock {
 public:
  SkewedClock(World& world, std::int64_t skewMs) : m_world(world), m_skewMs(skewMs) {}
  std::int64_t nowMs() override { return m_world.nowMs + m_skewMs; }

 private:
  World& m_world;
  std::int64_t m_skewMs;
};

// A hostile network in front of the server core. Pushes may be dropped
// before the server, answered and then lost, delivered twice, or held back
// and delivered later, after newer messages (the device sees a failure).
class LossyNetwork {
 public:
  LossyNetwork(server::SyncService& server, World& world, std::mt19937_64& rng)
      : m_server(server), m_world(world), m_rng(rng) {}

  bool hostile = true;

  sync::PushResponse push(const sync::PushRequest& request) {
    if (hostile) {
      switch (std::uniform_int_distribution<int>(0, 9)(m_rng)) {
        case 0:
          throw mobile::TransportError("request lost");
        case 1:
          m_server.push(request, m_world.nowMs);
          throw mobile::TransportError("response lost after the server committed");
        case 2:
          m_delayed.push_back(request);
          throw mobile::TransportError("request delayed");
        case 3:
          m_server.push(request, m_world.nowMs);
          break;  // delivered twice: the second answer is the one that arrives
        default:
          break;
      }
    }
    return m_server.push(request, m_world.nowMs);
  }

  sync::PullResponse pull(const sync::PullRequest& request) {
    if (hostile && std::uniform_int_distribution<int>(0, 9)(m_rng) == 0) {
      throw mobile::TransportError("pull lost");
    }
    auto response = m_server.pull(request, m_world.nowMs);
    if (hostile && std::uniform_int_distribution<int>(0, 19)(m_rng) == 0) {
      throw mobile::TransportError("pull response lost");
    }
    return response;
  }

  // Delivers held-back pushes, oldest or newest first at random (reordering).
  void deliverDelayed(bool all) {
    while (!m_delayed.empty()) {
      const bool newest = std::uniform_int_distribution<int>(0, 1)(m_rng) == 1;
      const sync::PushRequest request = newest ? m_delayed.back() : m_delayed.front();
      newest ? m_delayed.pop_back() : m_delayed.pop_front();
      m_server.push(request, m_world.nowMs);
      if (!all) return;
    }
  }

 private:
  server::SyncService& m_server;
  World& m_world;
  std::mt19937_64& m_rng;
  std::deque<sync::PushRequest> m_delayed;
};

class DeviceLink final : public mobile::Transport {
 public:
  explicit DeviceLink(LossyNetwork& network) : m_network(network) {}
  sync::PushResponse push(const sync::PushRequest& request) override { return m_network.push(request); }
  sync::PullResponse pull(const sync::PullRequest& request) override { return m_network.pull(request); }

 private:
  LossyNetwork& m_network;
};

struct SimDevice {
  std::unique_ptr<SkewedClock> clock;
  std::unique_ptr<mobile::Device> device;
  bool online = true;
};

const char* const kPatients[] = {"patient-a", "patient-b"};

struct SetKey {
  std::string patient, type, entity, set;
  auto operator<=>(const SetKey&) const = default;
};

// The state a device shows, in one canonical text.
std::string deviceState(mobile::Device& device, const std::set<SetKey>& sets) {
  std::ostringstream out;
  for (const auto& note : device.notes()) out << "note " << note.id() << " " << note.text() << "\n";
  for (const auto& f : device.store().fields()) {
    out << "field " << f.patientId << "/" << f.entityType << "/" << f.entityId << "/" << f.field << " = " << f.value
        << " @" << f.hlc << " " << f.opId << (f.merged ? " merged" : "") << "\n";
  }
  for (const auto& c : device.conflicts()) {
    out << "conflict " << c.id() << " " << c.overwritten().operation_id() << "->" << c.kept().operation_id()
        << (c.resolved_by_operation_id().empty() ? " open" : " resolved") << "\n";
  }
  for (const auto& key : sets) {
    out << "set " << key.patient << "/" << key.entity << "/" << key.set << ":";
    for (const auto& m : device.set(key.patient, key.type, key.entity, key.set).members) out << " " << m;
    out << "\n";
  }
  return out.str();
}

// The notes part of that text, from the reference model built from the
// server's log.
std::string replicaNotes(const sync::Replica& replica) {
  std::ostringstream out;
  std::vector<std::pair<std::pair<sync::Hlc, std::string>, std::string>> notes;
  for (const char* patient : kPatients) {
    for (const auto& entry : replica.appendEntries(patient)) {
      if (entry.entry.has_note()) notes.push_back({{entry.hlc, entry.opId}, entry.entry.note().text()});
    }
  }
  std::sort(notes.begin(), notes.end());
  for (const auto& [key, text] : notes) out << "note " << key.second << " " << text << "\n";
  return out.str();
}

struct ScheduleResult {
  std::size_t notes = 0;
  std::size_t conflicts = 0;
};

ScheduleResult runSchedule(std::uint64_t seed, const std::filesystem::path& dir) {
  std::mt19937_64 rng(seed);
  auto chance = [&](int percent) { return std::uniform_int_distribution<int>(0, 99)(rng) < percent; };
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };

  World world;
  const auto dbPath = dir / ("server-" + std::to_string(seed) + ".db");
  server::Database database(dbPath.string());
  server::OperationLog log(database);
  server::SyncService service(log, "server-sim");
  LossyNetwork network(service, world, rng);
  DeviceLink link(network);

  const int deviceCount = 5;
  std::vector<SimDevice> devices(deviceCount);
  for (int i = 0; i < deviceCount; ++i) {
    // Most clocks are a little off; now and then one runs an hour ahead.
    std::int64_t skew = std::uniform_int_distribution<std::int64_t>(-90'000, 90'000)(rng);
    if (chance(10)) skew = 3'600'000;
    devices[i].clock = std::make_unique<SkewedClock>(world, skew);
    devices[i].device = std::make_unique<mobile::Device>(":memory:", *devices[i].clock);
    devices[i].device->enrol("dev" + std::to_string(i), "user" + std::to_string(i));
  }

  std::map<std::string, std::string> notesWritten;  // id -> text
  std::set<SetKey> sets;
  mobile::SyncClient::Options once;
  once.attempts = 1;
  once.pushBatch = 1 + pick(8);
  once.pullPage = static_cast<std::uint32_t>(1 + pick(8));

  const int steps = 20 + static_cast<int>(pick(40));
  for (int step = 0; step < steps; ++step) {
    world.nowMs += static_cast<std::int64_t>(pick(120'000));
    SimDevice& sim = devices[pick(deviceCount)];
    mobile::Device& device = *sim.device;
    const std::string patient = kPatients[pick(2)];
    const int action = static_cast<int>(pick(100));
    if (action < 10) {
      sim.online = !sim.online;
    } else if (action < 35) {
      if (sim.online) device.sync(link, once);
    } else if (action < 55) {
      const auto note = device.writeNote(patient, "", "note " + std::to_string(step));
      notesWritten[note.id()] = note.text();
    } else if (action < 70) {
      device.writeField(patient, "medication", "med-" + std::to_string(pick(2)), "dose",
                        std::to_string(pick(20)) + " mg");
    } else if (action < 78) {
      device.writeField(patient, "patient", patient, "address", "Street " + std::to_string(pick(50)));
    } else if (action < 88) {
      const SetKey key{patient, "care_team", "team-" + patient, "members"};
      sets.insert(key);
      const std::string member = "nurse-" + std::to_string(pick(4));
      const auto state = device.set(key.patient, key.type, key.entity, key.set);
      if (state.liveAddIds.count(member) && chance(50)) {
        device.removeFromSet(key.patient, key.type, key.entity, key.set, member);
      } else {
        device.addToSet(key.patient, key.type, key.entity, key.set, member);
      }
    } else if (action < 93) {
      for (const auto& conflict : device.conflicts(patient)) {
        if (!conflict.resolved_by_operation_id().empty()) continue;
        device.resolveConflict(conflict.id(), conflict.overwritten().value());
        break;
      }
    } else {
      network.deliverDelayed(chance(30));
    }
  }

  // Heal: everything held back arrives, the network turns reliable, every
  // device comes online and syncs; the second round spreads the last pushes.
  world.nowMs += 60'000;
  network.deliverDelayed(true);
  network.hostile = false;
  for (int round = 0; round < 2; ++round) {
    for (auto& sim : devices) {
      const auto report = sim.device->sync(link, once);
      INFO("device " << sim.device->status().deviceId << ": " << report.error);
      REQUIRE(report.ok);
    }
  }

  // The reference: the merge rules applied to the server's whole log.
  sync::Replica reference;
  std::vector<sync::Operation> all;
  sync::PullRequest pull;
  pull.set_protocol_version(sync::kProtocolVersion);
  pull.set_device_id("observer");
  pull.set_limit(sync::kMaxPullPage);
  while (true) {
    auto page = service.pull(pull, world.nowMs);
    for (const auto& op : page.operations()) {
      reference.apply(op);
      all.push_back(op);
    }
    pull.set_after_seq(page.next_cursor());
    if (!page.has_more()) break;
  }

  // Every note written is on the server exactly once.
  std::map<std::string, int> noteCount;
  for (const auto& op : all) {
    if (op.has_append()) ++noteCount[op.id()];
  }
  for (const auto& [id, text] : notesWritten) {
    INFO("note " << id);
    REQUIRE(noteCount[id] == 1);
  }
  REQUIRE(noteCount.size() == notesWritten.size());

  // Every replica shows the same state, and it is the reference's.
  const std::string expected = deviceState(*devices[0].device, sets);
  for (auto& sim : devices) {
    auto& device = *sim.device;
    INFO("device " << device.status().deviceId);
    CHECK(device.status().pending == 0);
    std::string refused;
    for (const auto& rejected : device.rejected()) refused += rejected.operation.id() + ": " + rejected.reason + "; ";
    INFO("rejected: " << refused);
    CHECK(device.rejected().empty());
    CHECK(device.store().operationCount() == all.size());
    REQUIRE(deviceState(device, sets) == expected);
    REQUIRE(device.notes().size() == notesWritten.size());
    for (const auto& note : device.notes()) REQUIRE(notesWritten.at(note.id()) == note.text());
  }
  const std::string referenceNotes = replicaNotes(reference);
  REQUIRE(expected.substr(0, referenceNotes.size()) == referenceNotes);

  // Fields and conflicts agree with the reference model.
  auto& first = *devices[0].device;
  for (const auto& f : first.store().fields()) {
    const auto ref = reference.field(f.patientId, f.entityType, f.entityId, f.field);
    REQUIRE(ref);
    CHECK(ref->value == f.value);
    CHECK(ref->opId == f.opId);
    CHECK(ref->merged == f.merged);
  }
  std::set<std::string> referenceConflicts;
  for (const auto& c : reference.conflicts()) referenceConflicts.insert(c.record.id + (c.resolved ? "+" : "-"));
  std::set<std::string> deviceConflicts;
  for (const auto& c : first.conflicts()) {
    deviceConflicts.insert(c.id() + (c.resolved_by_operation_id().empty() ? "-" : "+"));
  }
  CHECK(deviceConflicts == referenceConflicts);
  server::ConflictQuery everyConflict;
  everyConflict.openOnly = false;
  std::set<std::string> serverConflicts;
  const sync::ConflictList serverList = service.conflicts(everyConflict);
  for (const auto& c : serverList.conflicts()) {
    serverConflicts.insert(c.id() + (c.resolved_by_operation_id().empty() ? "-" : "+"));
  }
  CHECK(serverConflicts == referenceConflicts);
  for (const auto& key : sets) {
    CHECK(first.set(key.patient, key.type, key.entity, key.set).members ==
          reference.setMembers(key.patient, key.type, key.entity, key.set));
  }

  // Every concurrent edit of a review field raised a conflict record: for
  // the writes of one field in (hlc, id) order, a write whose author had not
  // seen the write before it overwrote that write unseen.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::vector<const sync::Operation*>> writes;
  for (const auto& op : all) {
    if (!op.has_write()) continue;
    if (sync::policyFor(op.entity_type(), op.write().field()) != sync::MergePolicy::ReviewOnConflict) continue;
    writes[{op.patient_id(), op.entity_type(), op.entity_id(), op.write().field()}].push_back(&op);
  }
  std::size_t expectedConflicts = 0;
  for (auto& [field, ops] : writes) {
    std::sort(ops.begin(), ops.end(), [](const sync::Operation* a, const sync::Operation* b) {
      return a->hlc() != b->hlc() ? a->hlc() < b->hlc() : a->id() < b->id();
    });
    for (std::size_t i = 1; i < ops.size(); ++i) {
      // The author saw the write before when the base is at or after it: by
      // (hlc, id) when the base names its operation (protocol 4), by hlc
      // alone otherwise.
      const auto& base = ops[i]->write();
      const bool saw = base.base_operation_id().empty() ? base.base_hlc() >= ops[i - 1]->hlc()
                                                        : std::make_pair(base.base_hlc(), base.base_operation_id()) >=
                                                              std::make_pair(ops[i - 1]->hlc(), ops[i - 1]->id());
      if (saw) continue;
      ++expectedConflicts;
      const std::string id = sync::conflictIdFor(ops[i - 1]->id());
      INFO("concurrent edit " << ops[i - 1]->id() << " then " << ops[i]->id());
      CHECK((serverConflicts.count(id + "-") + serverConflicts.count(id + "+")) == 1);
    }
  }
  CHECK(serverConflicts.size() == expectedConflicts);
  std::filesystem::remove(dbPath);
  return {notesWritten.size(), expectedConflicts};
}

}  // namespace

TEST_CASE("convergence: random offline edits through a lossy network converge with nothing lost") {
  const std::uint64_t schedules = envNumber("HEMMA_CONVERGENCE_SCHEDULES", 1000);
  const std::uint64_t firstSeed = envNumber("HEMMA_CONVERGENCE_SEED", 20261122);
  // Databases in memory-backed storage when there is some: fsyncs there are free.
  test::TempDir dir(test::TempDir::InMemory);
  std::size_t notes = 0, conflicts = 0;
  for (std::uint64_t seed = firstSeed; seed < firstSeed + schedules; ++seed) {
    INFO("schedule seed " << seed << " (replay: HEMMA_CONVERGENCE_SEED=" << seed << " HEMMA_CONVERGENCE_SCHEDULES=1)");
    const auto result = runSchedule(seed, dir.path());
    notes += result.notes;
    conflicts += result.conflicts;
  }
  CHECK(notes > 0);
  CHECK(conflicts > 0);  // the schedules do exercise concurrent review edits
  std::cout << "convergence: " << schedules << " schedules from seed " << firstSeed << ", " << notes << " notes, "
            << conflicts << " conflict records checked\n";
}
