// Issue 10, class 4: classifying writes by the base operation's id. Two
// writes can carry the same hlc; a base of "hlc 30" cannot say which of them
// the author saw, (30, "x:1") can. Writes older than protocol 4 (no base id)
// keep the clock-only rule.

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "hemma/sync/field_history.hpp"
#include "hemma/sync/operation.hpp"
#include "hemma/sync/replica.hpp"

namespace {

using namespace hemma::sync;

WriteVersion write(std::string id, Hlc hlc, Hlc base, std::string baseId, std::string value) {
  return WriteVersion{hlc, std::move(id), base, std::move(value), "author", std::move(baseId)};
}

FieldHistory doseHistory() {
  return FieldHistory({"patient-1", "medication", "med-1", "dose"}, MergePolicy::ReviewOnConflict);
}

}  // namespace

TEST_CASE("base operation id: of two writes with the same hlc, only the one named was seen") {
  const WriteVersion x = write("x:1", 30, 0, "", "5 mg");
  const WriteVersion y = write("y:1", 30, 0, "", "10 mg");  // the greater of the two: "y:1" > "x:1"
  const WriteVersion sawX = write("z:1", 40, 30, "x:1", "7.5 mg");
  const WriteVersion sawY = write("z:1", 40, 30, "y:1", "7.5 mg");

  CHECK(sawWrite(sawX, x));
  CHECK_FALSE(sawWrite(sawX, y));
  CHECK(classify(y, sawX) == Ordering::Concurrent);
  CHECK(classify(sawX, y) == Ordering::Concurrent);
  CHECK(sawWrite(sawY, x));
  CHECK(sawWrite(sawY, y));
  CHECK(classify(y, sawY) == Ordering::Before);
  CHECK(classify(sawY, y) == Ordering::After);
}

TEST_CASE("base operation id: an hlc-only base of a write before protocol 4 counts both writes of that hlc as seen") {
  const WriteVersion y = write("y:1", 30, 0, "", "10 mg");
  const WriteVersion legacy = write("z:1", 40, 30, "", "7.5 mg");
  CHECK(sawWrite(legacy, y));
  CHECK(classify(y, legacy) == Ordering::Before);
}

TEST_CASE("base operation id: the value its author never saw raises a conflict record, in every arrival order") {
  std::vector<WriteVersion> writes{write("x:1", 30, 0, "", "5 mg"), write("y:1", 30, 0, "", "10 mg"),
                                   write("z:1", 40, 30, "x:1", "7.5 mg")};
  std::sort(writes.begin(), writes.end(), [](const auto& a, const auto& b) { return a.opId < b.opId; });
  int orders = 0;
  do {
    ++orders;
    FieldHistory history = doseHistory();
    for (const auto& w : writes) history.insert(w);
    REQUIRE(history.winner()->opId == "z:1");
    // y:1's 10 mg was overwritten by z:1, whose author saw only x:1; x:1 and
    // y:1 are concurrent with each other too (neither saw the other).
    REQUIRE(history.conflicts().count(conflictIdFor("y:1")) == 1);
    const ConflictRecord& record = history.conflicts().at(conflictIdFor("y:1"));
    CHECK(record.loser.value == "10 mg");
    CHECK(record.winner.value == "7.5 mg");
    CHECK(record.winner.baseOpId == "x:1");
    CHECK(history.conflicts().count(conflictIdFor("x:1")) == 1);
  } while (std::next_permutation(writes.begin(), writes.end(),
                                 [](const auto& a, const auto& b) { return a.opId < b.opId; }));
  CHECK(orders == 6);

  // Had z:1 named y:1, nothing of y:1 was lost.
  FieldHistory informed = doseHistory();
  informed.insert(write("x:1", 30, 0, "", "5 mg"));
  informed.insert(write("y:1", 30, 0, "", "10 mg"));
  informed.insert(write("z:1", 40, 30, "y:1", "7.5 mg"));
  CHECK(informed.conflicts().count(conflictIdFor("y:1")) == 0);
}

TEST_CASE("base operation id: carried by FieldWrite and kept by the replica") {
  auto op = [](std::string id, Hlc hlc, Hlc base, std::string baseId, std::string value) {
    Operation o;
    o.set_id(std::move(id));
    o.set_author_id("a");
    o.set_device_id(o.id().substr(0, o.id().find(':')));
    o.set_hlc(hlc);
    o.set_patient_id("patient-1");
    o.set_entity_type("medication");
    o.set_entity_id("med-1");
    o.set_recorded_at("2026-11-22T08:00:00Z");
    o.mutable_write()->set_field("dose");
    o.mutable_write()->set_value(std::move(value));
    o.mutable_write()->set_base_hlc(base);
    o.mutable_write()->set_base_operation_id(std::move(baseId));
    return o;
  };
  const Operation z = op("z:1", 40, 30, "x:1", "7.5 mg");
  CHECK(writeVersionOf(z).baseOpId == "x:1");
  CHECK_FALSE(validateOperation(z).has_value());
  // An id without its clock names no place in the order.
  CHECK(validateOperation(op("z:2", 40, 0, "x:1", "7.5 mg")) ==
        std::optional<std::string>("write.base_hlc: zero with a base_operation_id (the clock of the write named)"));

  Replica replica;
  replica.apply(op("x:1", 30, 0, "", "5 mg"));
  replica.apply(op("y:1", 30, 0, "", "10 mg"));
  replica.apply(z);
  const auto conflicts = replica.conflicts();
  CHECK(std::any_of(conflicts.begin(), conflicts.end(), [](const auto& c) {
    return c.record.id == conflictIdFor("y:1") && c.record.loser.value == "10 mg";
  }));
}
