#include "hemma/sync/add_wins_set.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

using namespace hemma::sync;

using Members = std::vector<std::string>;

TEST_CASE("add-wins set: members are sorted and adds are idempotent") {
  AddWinsSet set;
  CHECK(set.add("nurse-b", "dev-a:1"));
  CHECK(set.add("nurse-a", "dev-a:2"));
  CHECK_FALSE(set.add("nurse-a", "dev-a:2"));
  CHECK_FALSE(set.add("nurse-a", "dev-b:1"));  // already a member
  CHECK(set.members() == Members{"nurse-a", "nurse-b"});
  CHECK(set.contains("nurse-a"));
  CHECK_FALSE(set.contains("nurse-c"));
}

TEST_CASE("add-wins set: a remove takes away only the adds it observed") {
  AddWinsSet set;
  set.add("nurse-a", "dev-a:1");
  set.add("nurse-a", "dev-b:1");  // concurrent with the remove below
  CHECK_FALSE(set.remove("nurse-a", "dev-a:1"));
  CHECK(set.contains("nurse-a"));
  CHECK(set.liveAddIds("nurse-a") == Members{"dev-b:1"});
  CHECK(set.remove("nurse-a", "dev-b:1"));
  CHECK_FALSE(set.contains("nurse-a"));
  CHECK(set.members().empty());
}

TEST_CASE("add-wins set: a remove arriving before the add it observed still removes it") {
  AddWinsSet set;
  CHECK_FALSE(set.remove("task-1", "dev-a:1"));
  CHECK_FALSE(set.add("task-1", "dev-a:1"));
  CHECK_FALSE(set.contains("task-1"));
  CHECK(set.add("task-1", "dev-c:9"));  // a later add brings it back
  CHECK(set.members() == Members{"task-1"});
}

TEST_CASE("add-wins set: every order of concurrent adds and removes gives the same members") {
  // dev-a added nurse-a twice; dev-b removed it having seen only the first
  // add; dev-c removed nurse-b having seen its only add; dev-d re-added nurse-b.
  const std::vector<std::function<void(AddWinsSet&)>> ops = {
      [](AddWinsSet& s) { s.add("nurse-a", "a:1"); },    [](AddWinsSet& s) { s.add("nurse-a", "a:2"); },
      [](AddWinsSet& s) { s.remove("nurse-a", "a:1"); }, [](AddWinsSet& s) { s.add("nurse-b", "a:3"); },
      [](AddWinsSet& s) { s.remove("nurse-b", "a:3"); }, [](AddWinsSet& s) { s.add("nurse-c", "b:1"); },
      [](AddWinsSet& s) { s.remove("nurse-c", "b:1"); },
  };
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  int permutations = 0;
  do {
    AddWinsSet set;
    for (std::size_t i : order) ops[i](set);
    for (std::size_t i : order) ops[i](set);  // duplicates change nothing
    INFO("permutation " << permutations);
    REQUIRE(set.members() == Members{"nurse-a"});
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 5040);
}
