#include "hemma/sync/field_history.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace hemma::sync;

namespace {

const FieldLocation kDose{"patient-1", "medication", "med-1", "dose"};
const FieldLocation kAddress{"patient-1", "patient", "patient-1", "address"};

WriteVersion write(std::string id, Hlc hlc, Hlc base, std::string value = "") {
  if (value.empty()) value = "value of " + id;
  return WriteVersion{hlc, std::move(id), base, std::move(value), "author of " + std::to_string(hlc), ""};
}

std::vector<std::string> idsOf(const std::map<std::string, ConflictRecord>& conflicts) {
  std::vector<std::string> ids;
  for (const auto& [id, record] : conflicts) ids.push_back(id);
  return ids;
}

// The definition, computed in one pass over the sorted writes.
std::map<std::string, ConflictRecord> expectedConflicts(std::vector<WriteVersion> writes, const FieldLocation& at) {
  std::sort(writes.begin(), writes.end(), [](const auto& a, const auto& b) { return writeOrderLess(a, b); });
  std::map<std::string, ConflictRecord> result;
  for (std::size_t i = 1; i < writes.size(); ++i) {
    if (writes[i].baseHlc < writes[i - 1].hlc) {
      const std::string id = conflictIdFor(writes[i - 1].opId);
      result.emplace(id, ConflictRecord{id, at, writes[i - 1], writes[i]});
    }
  }
  return result;
}

// Applies deltas to a copy kept outside the history, so the test checks the
// deltas as well as the history's own state.
struct DeltaMirror {
  std::map<std::string, ConflictRecord> conflicts;
  std::optional<WriteVersion> winner;

  void apply(const FieldDelta& delta) {
    for (const auto& id : delta.conflictIdsRemoved) REQUIRE(conflicts.erase(id) == 1);
    for (const auto& record : delta.conflictsAdded) REQUIRE(conflicts.emplace(record.id, record).second);
    if (delta.winnerChanged) winner = delta.winner;
  }
};

// The six-write story from sync/docs/merge-rules.md.
std::vector<WriteVersion> doseStory() {
  return {
      write("a:1", 10, 0, "5 mg"),     // first prescription
      write("b:1", 20, 10, "10 mg"),   // saw a:1
      write("c:1", 25, 10, "7.5 mg"),  // saw a:1, not b:1: b:1 lost unseen
      write("a:2", 30, 25, "5 mg"),    // saw c:1
      write("d:1", 30, 20, "2 mg"),    // same hlc, orders after a:2, saw only b:1
      write("e:1", 40, 30, "2.5 mg"),  // saw d:1
  };
}

}  // namespace

TEST_CASE("field history: last writer wins by hlc, ties broken by operation id") {
  FieldHistory history(kAddress, MergePolicy::LastWriterWins);
  auto delta = history.insert(write("dev-a:1", 10, 0, "Storgatan 1"));
  CHECK(delta.winnerChanged);
  CHECK(delta.winner->value == "Storgatan 1");

  delta = history.insert(write("dev-b:1", 10, 0, "Lillgatan 2"));
  CHECK(delta.winnerChanged);
  CHECK(history.winner()->opId == "dev-b:1");

  delta = history.insert(write("dev-0:1", 10, 0, "Mellangatan 3"));
  CHECK_FALSE(delta.winnerChanged);
  CHECK(history.winner()->value == "Lillgatan 2");
}

TEST_CASE("field history: a stale write is kept in the history but does not win") {
  FieldHistory history(kAddress, MergePolicy::LastWriterWins);
  history.insert(write("dev-a:2", 50, 10, "new"));
  const auto delta = history.insert(write("dev-b:1", 20, 0, "stale"));
  CHECK(delta.inserted);
  CHECK_FALSE(delta.winnerChanged);
  CHECK(history.winner()->value == "new");
  CHECK(history.size() == 2);
  CHECK(history.writes().front().value == "stale");
}

TEST_CASE("field history: last-writer-wins fields never raise conflict records") {
  FieldHistory history(kAddress, MergePolicy::LastWriterWins);
  history.insert(write("dev-a:1", 10, 0));
  const auto delta = history.insert(write("dev-b:1", 20, 0));
  CHECK(delta.conflictsAdded.empty());
  CHECK(history.conflicts().empty());
}

TEST_CASE("field history: sequential edits of a review-on-conflict field raise nothing") {
  FieldHistory history(kDose, MergePolicy::ReviewOnConflict);
  history.insert(write("a:1", 10, 0));
  history.insert(write("b:1", 20, 10));
  history.insert(write("a:2", 30, 20));
  CHECK(history.conflicts().empty());
  CHECK(history.winner()->opId == "a:2");
}

TEST_CASE("field history: concurrent edits raise exactly one record holding both values") {
  FieldHistory history(kDose, MergePolicy::ReviewOnConflict);
  history.insert(write("a:1", 10, 0, "5 mg"));
  history.insert(write("b:1", 20, 10, "10 mg"));
  const auto delta = history.insert(write("c:1", 25, 10, "7.5 mg"));

  REQUIRE(delta.conflictsAdded.size() == 1);
  const ConflictRecord& record = delta.conflictsAdded.front();
  CHECK(record.id == "conflict:b:1");
  CHECK(record.location == kDose);
  CHECK(record.loser.value == "10 mg");
  CHECK(record.loser.opId == "b:1");
  CHECK(record.loser.authorId == "author of 20");
  CHECK(record.winner.value == "7.5 mg");
  CHECK(record.winner.opId == "c:1");
  CHECK(record.winner.hlc == 25);
  CHECK(idsOf(history.conflicts()) == std::vector<std::string>{"conflict:b:1"});
  CHECK(history.winner()->value == "7.5 mg");
}

TEST_CASE("field history: a write landing between two others re-pairs their conflict") {
  FieldHistory history(kDose, MergePolicy::ReviewOnConflict);
  history.insert(write("a:1", 10, 0));
  history.insert(write("b:1", 30, 0));  // did not see a:1
  REQUIRE(idsOf(history.conflicts()) == std::vector<std::string>{"conflict:a:1"});

  // n:1 did not see a:1 either, and b:1 did not see n:1.
  const auto delta = history.insert(write("n:1", 20, 5));
  CHECK(delta.conflictIdsRemoved == std::vector<std::string>{"conflict:a:1"});
  REQUIRE(delta.conflictsAdded.size() == 2);
  CHECK(delta.conflictsAdded[0].id == "conflict:a:1");
  CHECK(delta.conflictsAdded[0].winner.opId == "n:1");
  CHECK(delta.conflictsAdded[1].id == "conflict:n:1");
  CHECK(delta.conflictsAdded[1].winner.opId == "b:1");
  CHECK_FALSE(delta.winnerChanged);

  // m:1 saw n:1: n:1 was replaced knowingly, and it is m:1 that b:1 overwrote unseen.
  FieldHistory seen(kDose, MergePolicy::ReviewOnConflict);
  seen.insert(write("n:1", 20, 0));
  seen.insert(write("b:1", 30, 10));
  REQUIRE(idsOf(seen.conflicts()) == std::vector<std::string>{"conflict:n:1"});
  const auto moved = seen.insert(write("m:1", 25, 20));
  CHECK(moved.conflictIdsRemoved == std::vector<std::string>{"conflict:n:1"});
  REQUIRE(moved.conflictsAdded.size() == 1);
  CHECK(moved.conflictsAdded[0].id == "conflict:m:1");
  CHECK(idsOf(seen.conflicts()) == std::vector<std::string>{"conflict:m:1"});
}

TEST_CASE("field history: inserting a write twice is a no-op") {
  FieldHistory history(kDose, MergePolicy::ReviewOnConflict);
  history.insert(write("a:1", 10, 0));
  history.insert(write("b:1", 20, 0));
  const auto delta = history.insert(write("a:1", 10, 0));
  CHECK_FALSE(delta.inserted);
  CHECK_FALSE(delta.winnerChanged);
  CHECK(delta.conflictsAdded.empty());
  CHECK(delta.conflictIdsRemoved.empty());
  CHECK(history.size() == 2);
  CHECK(history.conflicts().size() == 1);
}

TEST_CASE("field history: the dose story raises the same two records in every arrival order") {
  std::vector<WriteVersion> story = doseStory();
  const auto expected = expectedConflicts(story, kDose);
  REQUIRE(idsOf(expected) == std::vector<std::string>{"conflict:a:2", "conflict:b:1"});
  CHECK(expected.at("conflict:a:2").winner.opId == "d:1");
  CHECK(expected.at("conflict:b:1").winner.opId == "c:1");

  std::vector<std::size_t> order(story.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  int permutations = 0;
  do {
    FieldHistory history(kDose, MergePolicy::ReviewOnConflict);
    DeltaMirror mirror;
    for (std::size_t i : order) mirror.apply(history.insert(story[i]));
    INFO("permutation " << permutations);
    REQUIRE(history.conflicts() == expected);
    REQUIRE(mirror.conflicts == expected);
    REQUIRE(history.winner()->opId == "e:1");
    REQUIRE(mirror.winner->opId == "e:1");
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 720);
}

TEST_CASE("field history: random shuffles of 200 writes with duplicates converge to the definition") {
  const std::uint32_t seed = 20261122;
  std::mt19937 random(seed);
  for (int round = 0; round < 20; ++round) {
    std::vector<WriteVersion> writes;
    for (int i = 0; i < 200; ++i) {
      const Hlc hlc = 1 + random() % 120;  // many equal clocks on purpose
      const Hlc base = random() % 3 == 0 ? hlc - 1 : random() % hlc;
      writes.push_back(write("dev-" + std::to_string(random() % 5) + ":" + std::to_string(i), hlc, base));
    }
    const auto expected = expectedConflicts(writes, kDose);
    const WriteVersion expectedWinner = *std::max_element(
        writes.begin(), writes.end(), [](const auto& a, const auto& b) { return writeOrderLess(a, b); });

    std::vector<WriteVersion> arrivals = writes;
    for (int i = 0; i < 40; ++i) arrivals.push_back(writes[random() % writes.size()]);
    std::shuffle(arrivals.begin(), arrivals.end(), random);

    FieldHistory history(kDose, MergePolicy::ReviewOnConflict);
    DeltaMirror mirror;
    for (const auto& w : arrivals) mirror.apply(history.insert(w));
    INFO("seed " << seed << " round " << round);
    REQUIRE(history.size() == writes.size());
    REQUIRE(history.conflicts() == expected);
    REQUIRE(mirror.conflicts == expected);
    REQUIRE(*history.winner() == expectedWinner);
    REQUIRE(*mirror.winner == expectedWinner);
  }
}
