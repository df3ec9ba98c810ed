#include "hemma/sync/hlc.hpp"

#include <catch2/catch.hpp>

#include "hemma/sync/time_format.hpp"

using namespace hemma::sync;

TEST_CASE("hlc packs milliseconds and counter so that packed order is pair order") {
  const Hlc a = makeHlc(1'700'000'000'000, 5);
  CHECK(hlcMillis(a) == 1'700'000'000'000);
  CHECK(hlcCounter(a) == 5);
  CHECK(makeHlc(1000, 65535) < makeHlc(1001, 0));
}

TEST_CASE("hlc issues increasing timestamps even when the wall clock stands still or goes back") {
  HybridClock clock;
  const Hlc first = clock.now(1000);
  const Hlc second = clock.now(1000);
  const Hlc third = clock.now(900);
  CHECK(first < second);
  CHECK(second < third);
  CHECK(hlcMillis(third) == 1000);
}

TEST_CASE("hlc orders local events after an observed remote timestamp") {
  HybridClock clock;
  clock.observe(makeHlc(5000, 7), 1000);
  CHECK(clock.now(1000) == makeHlc(5000, 8));
}

TEST_CASE("hlc offset corrects a clock that runs ahead") {
  HybridClock clock(0, -3'600'000);
  CHECK(hlcMillis(clock.now(10'000'000)) == 6'400'000);
}

TEST_CASE("RFC 3339 times round-trip and bad ones are refused") {
  CHECK(formatRfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(parseRfc3339("2026-11-22T09:44:08.123Z") == 1'795'340'648'123);
  CHECK(parseRfc3339(formatRfc3339(1'795'340'648'123)) == 1'795'340'648'123);
  CHECK(parseRfc3339("2026-11-22T10:44:08.123+01:00") == 1'795'340'648'123);
  CHECK_FALSE(parseRfc3339("2026-11-22 09:44:08Z"));
  CHECK_FALSE(parseRfc3339("2026-02-30T09:44:08Z"));
  CHECK_FALSE(parseRfc3339("yesterday"));
  CHECK_FALSE(parseRfc3339("2026-11-22T09:44:08.123"));
}
