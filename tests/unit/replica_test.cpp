#include "hemma/sync/replica.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hemma/sync/hlc.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/time_format.hpp"

using namespace hemma::sync;

namespace {

constexpr std::int64_t kStartMs = 1'795'000'000'000;

Operation base(const std::string& device, std::uint64_t counter, Hlc hlc, std::string patient, std::string type,
               std::string entity) {
  Operation op;
  op.set_id(makeOperationId(device, counter));
  op.set_device_id(device);
  op.set_author_id("author-" + device);
  op.set_hlc(hlc);
  op.set_patient_id(std::move(patient));
  op.set_entity_type(std::move(type));
  op.set_entity_id(std::move(entity));
  op.set_recorded_at(formatRfc3339(hlcMillis(hlc)));
  return op;
}

Operation fieldWrite(const std::string& device, std::uint64_t counter, Hlc hlc, Hlc baseHlc, std::string type,
                     std::string field, std::string value, std::string resolves = "") {
  Operation op = base(device, counter, hlc, "patient-1", std::move(type), "entity-1");
  FieldWrite* write = op.mutable_write();
  write->set_field(std::move(field));
  write->set_value(std::move(value));
  write->set_base_hlc(baseHlc);
  write->set_resolves_conflict_id(std::move(resolves));
  return op;
}

Operation note(const std::string& device, std::uint64_t counter, Hlc hlc, std::string noteId, std::string text,
               std::string amends = "") {
  Operation op = base(device, counter, hlc, "patient-1", "visit_note", noteId);
  auto* entry = op.mutable_append()->mutable_note();
  entry->set_id(std::move(noteId));
  entry->set_patient_id("patient-1");
  entry->set_author_id(op.author_id());
  entry->set_text(std::move(text));
  entry->set_written_at(op.recorded_at());
  entry->set_amends_note_id(std::move(amends));
  return op;
}

Operation setAdd(const std::string& device, std::uint64_t counter, Hlc hlc, std::string element) {
  Operation op = base(device, counter, hlc, "patient-1", "care_team", "patient-1");
  op.mutable_set_add()->set_set("members");
  op.mutable_set_add()->set_element(std::move(element));
  return op;
}

Operation setRemove(const std::string& device, std::uint64_t counter, Hlc hlc, std::string element,
                    const std::vector<std::string>& observed) {
  Operation op = base(device, counter, hlc, "patient-1", "care_team", "patient-1");
  op.mutable_set_remove()->set_set("members");
  op.mutable_set_remove()->set_element(std::move(element));
  for (const auto& id : observed) op.mutable_set_remove()->add_observed_add_ids(id);
  return op;
}

Hlc at(std::int64_t secondsAfterStart) { return makeHlc(kStartMs + secondsAfterStart * 1000, 0); }

// Devices editing offline against their own replica and syncing through a
// shared log now and then, the way the product works; returns the log.
std::vector<Operation> simulate(std::uint32_t seed, int devices, int steps, int entities) {
  struct Device {
    std::string id;
    HybridClock clock;
    Replica local;
    std::uint64_t counter = 0;
    std::vector<Operation> outbox;
    std::size_t cursor = 0;  // log entries already pulled
  };
  std::mt19937 random(seed);
  std::vector<Device> fleet(static_cast<std::size_t>(devices));
  for (int i = 0; i < devices; ++i) fleet[static_cast<std::size_t>(i)].id = "dev-" + std::to_string(i);
  std::vector<Operation> log;
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"patient", "address"}, {"patient", "access_notes"}, {"medication", "dose"}, {"care_plan_goal", "text"}};
  const std::vector<std::string> people = {"nurse-a", "nurse-b", "nurse-c"};

  for (int step = 0; step < steps; ++step) {
    Device& device = fleet[random() % fleet.size()];
    const std::int64_t now = kStartMs + step * 1000 + static_cast<std::int64_t>(random() % 5000);
    const Hlc hlc = device.clock.now(now);
    const std::uint64_t counter = ++device.counter;
    Operation op;
    switch (random() % 6) {
      case 0:
      case 1:
      case 2: {
        const auto& [type, field] = fields[random() % fields.size()];
        const std::string entity = "entity-" + std::to_string(random() % static_cast<std::uint32_t>(entities));
        const auto current = device.local.field("patient-1", type, entity, field);
        std::string resolves;
        if (current && current->merged && type != "patient") {
          for (const auto& state : device.local.fieldConflicts("patient-1", type, entity, field)) {
            if (!state.resolved) resolves = state.record.id;
          }
        }
        op = fieldWrite(device.id, counter, hlc, current ? current->hlc : 0, type, field,
                        device.id + " step " + std::to_string(step), resolves);
        op.set_entity_id(entity);
        break;
      }
      case 3:
        op = note(device.id, counter, hlc, "note-" + std::to_string(step), "visit " + std::to_string(step),
                  step > 0 && random() % 4 == 0 ? "note-" + std::to_string(random() % step) : "");
        break;
      case 4:
        op = setAdd(device.id, counter, hlc, people[random() % people.size()]);
        break;
      default: {
        const std::string& person = people[random() % people.size()];
        op = setRemove(device.id, counter, hlc, person,
                       device.local.setLiveAddIds("patient-1", "care_team", "patient-1", "members", person));
        break;
      }
    }
    REQUIRE_FALSE(validateOperation(op));
    device.local.apply(op);
    device.outbox.push_back(op);
    if (random() % 4 == 0) {  // sync: push the outbox, pull everything
      log.insert(log.end(), device.outbox.begin(), device.outbox.end());
      device.outbox.clear();
      for (; device.cursor < log.size(); ++device.cursor) {
        device.clock.observe(log[device.cursor].hlc(), now);
        device.local.apply(log[device.cursor]);
      }
    }
  }
  for (Device& device : fleet) log.insert(log.end(), device.outbox.begin(), device.outbox.end());
  return log;
}

}  // namespace

TEST_CASE("replica: applies an operation once and refuses fields without a rule") {
  Replica replica;
  const Operation op = fieldWrite("dev-a", 1, at(1), 0, "patient", "address", "Storgatan 1");
  CHECK(replica.apply(op));
  CHECK_FALSE(replica.apply(op));
  CHECK(replica.operationCount() == 1);
  CHECK(replica.contains("dev-a:1"));

  const Operation unknown = fieldWrite("dev-a", 2, at(2), 0, "patient", "shoe_size", "42");
  CHECK_THROWS_WITH(replica.apply(unknown), "write.field: no merge rule for patient.shoe_size");
  CHECK_FALSE(replica.contains("dev-a:2"));
}

TEST_CASE("replica: last-writer-wins fields show the latest write and never a merged marker") {
  Replica replica;
  replica.apply(fieldWrite("dev-b", 1, at(20), 0, "patient", "address", "Lillgatan 2"));
  replica.apply(fieldWrite("dev-a", 1, at(10), 0, "patient", "address", "Storgatan 1"));
  const auto address = replica.field("patient-1", "patient", "entity-1", "address");
  REQUIRE(address);
  CHECK(address->value == "Lillgatan 2");
  CHECK(address->opId == "dev-b:1");
  CHECK(address->authorId == "author-dev-b");
  CHECK(address->hlc == at(20));
  CHECK_FALSE(address->merged);
  CHECK(replica.conflicts().empty());
  CHECK(replica.fieldHistory("patient-1", "patient", "entity-1", "address").size() == 2);
  CHECK_FALSE(replica.field("patient-1", "patient", "entity-1", "name"));
}

TEST_CASE("replica: concurrent dose edits are merged, flagged, and resolved by a clinician") {
  Replica replica;
  replica.apply(fieldWrite("dev-a", 1, at(1), 0, "medication", "dose", "5 mg"));
  replica.apply(fieldWrite("dev-a", 2, at(10), at(1), "medication", "dose", "10 mg"));
  replica.apply(fieldWrite("dev-b", 1, at(20), at(1), "medication", "dose", "7.5 mg"));

  auto dose = replica.field("patient-1", "medication", "entity-1", "dose");
  REQUIRE(dose);
  CHECK(dose->value == "7.5 mg");
  CHECK(dose->merged);
  auto conflicts = replica.conflicts();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].record.id == "conflict:dev-a:2");
  CHECK(conflicts[0].record.loser.value == "10 mg");
  CHECK(conflicts[0].record.winner.value == "7.5 mg");
  CHECK_FALSE(conflicts[0].resolved);

  replica.apply(fieldWrite("dev-c", 1, at(30), at(20), "medication", "dose", "10 mg", "conflict:dev-a:2"));
  dose = replica.field("patient-1", "medication", "entity-1", "dose");
  CHECK(dose->value == "10 mg");
  CHECK_FALSE(dose->merged);
  conflicts = replica.conflicts();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].resolved);
}

TEST_CASE("replica: a resolution that arrives before its conflict still resolves it") {
  Replica replica;
  replica.apply(fieldWrite("dev-c", 1, at(30), at(20), "medication", "dose", "10 mg", "conflict:dev-a:2"));
  CHECK(replica.isResolved("conflict:dev-a:2"));
  CHECK(replica.conflicts().empty());
  replica.apply(fieldWrite("dev-b", 1, at(20), at(1), "medication", "dose", "7.5 mg"));
  replica.apply(fieldWrite("dev-a", 2, at(10), at(1), "medication", "dose", "10 mg"));
  replica.apply(fieldWrite("dev-a", 1, at(1), 0, "medication", "dose", "5 mg"));
  const auto conflicts = replica.conflicts();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].record.id == "conflict:dev-a:2");
  CHECK(conflicts[0].resolved);
  CHECK_FALSE(replica.field("patient-1", "medication", "entity-1", "dose")->merged);
}

TEST_CASE("replica: append-only entries are applied once and amendments keep the original") {
  Replica replica;
  const Operation first = note("dev-a", 1, at(1), "note-1", "Pain 6/10");
  CHECK(replica.apply(first));
  CHECK_FALSE(replica.apply(first));
  replica.apply(note("dev-a", 2, at(5), "note-2", "Pain 4/10, corrected", "note-1"));
  const auto entries = replica.appendEntries("patient-1");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].entry.note().text() == "Pain 6/10");
  CHECK(entries[1].amendsId == "note-1");
  CHECK(entries[1].opId == "dev-a:2");
  CHECK(replica.appendEntries("patient-2").empty());
}

TEST_CASE("replica: a care-team add concurrent with a remove wins") {
  Replica replica;
  replica.apply(setAdd("dev-a", 1, at(1), "nurse-a"));
  replica.apply(setAdd("dev-b", 1, at(2), "nurse-a"));
  replica.apply(setRemove("dev-c", 1, at(3), "nurse-a", {"dev-a:1"}));
  CHECK(replica.setMembers("patient-1", "care_team", "patient-1", "members") == std::vector<std::string>{"nurse-a"});
  replica.apply(setRemove("dev-c", 2, at(4), "nurse-a", {"dev-b:1"}));
  CHECK(replica.setMembers("patient-1", "care_team", "patient-1", "members").empty());
}

TEST_CASE("replica: fingerprints agree across shuffled arrival orders with duplicates") {
  const std::uint32_t seed = 7411;
  INFO("seed " << seed);
  const std::vector<Operation> log = simulate(seed, 5, 600, 2);
  Replica reference;
  for (const Operation& op : log) reference.apply(op);
  const std::string expected = reference.fingerprint();
  CHECK_FALSE(reference.conflicts().empty());  // the simulation does exercise conflicts
  CHECK(reference.operationCount() == 600);

  std::mt19937 random(seed);
  for (int round = 0; round < 10; ++round) {
    std::vector<Operation> arrivals = log;
    for (int i = 0; i < 100; ++i) arrivals.push_back(log[random() % log.size()]);
    std::shuffle(arrivals.begin(), arrivals.end(), random);
    Replica replica;
    for (const Operation& op : arrivals) replica.apply(op);
    INFO("round " << round);
    REQUIRE(replica.fingerprint() == expected);
  }
}

TEST_CASE("replica: fingerprints differ when the state differs") {
  Replica a;
  Replica b;
  a.apply(fieldWrite("dev-a", 1, at(1), 0, "patient", "address", "x"));
  b.apply(fieldWrite("dev-a", 1, at(1), 0, "patient", "address", "y"));
  CHECK(a.fingerprint() != b.fingerprint());
  CHECK(Replica{}.fingerprint().empty());
}

// Not a timed test (timings belong in benchmarks): run with
// `hemma_unit_tests "[.perf]"` to see how long 100k operations take.
TEST_CASE("replica: applying 100k operations", "[.perf]") {
  const std::vector<Operation> log = simulate(99, 8, 100'000, 2000);
  const auto start = std::chrono::steady_clock::now();
  Replica replica;
  for (const Operation& op : log) replica.apply(op);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  WARN("100k operations applied in " << elapsed.count() << " ms; fingerprint " << replica.fingerprint().size()
                                     << " bytes");
  CHECK(replica.operationCount() == 100'000);
}
