// time_and_hlc: RFC 3339 parsing and formatting (sync/time_format.hpp) and
// the hybrid logical clock's packing, formatting and ordering
// (sync/hlc.hpp).
//
// Input: the whole input is parsed as an RFC 3339 time; the same bytes, read
// as little-endian 64-bit words, drive formatting and a clock.
//
// Invariants:
// - a time parseRfc3339 accepts, formatted and parsed again, is the same
//   instant, and formatting is canonical (formatting that again changes
//   nothing);
// - every instant from year 0000 to 9999 formats to a text that parses back
//   to it;
// - an HLC unpacks and packs back to itself; formatHlc writes its physical
//   part as an RFC 3339 time that parses back to its milliseconds (years up
//   to 9999) and its counter after the last '+';
// - HybridClock::now() is greater than everything the clock issued or
//   observed; observe() never moves the clock back. Physical times and
//   remote HLCs stay in the range the server accepts (remote HLCs under
//   2^63, clock readings within +-2^46 ms), as the push's clock-skew check
//   guarantees.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "hemma/sync/hlc.hpp"
#include "hemma/sync/time_format.hpp"

namespace {

using namespace hemma;

// 9999-12-31T23:59:59.999Z and 0000-01-01T00:00:00.000Z.
constexpr std::int64_t kLastFormattable = 253'402'300'799'999;
constexpr std::int64_t kFirstFormattable = -62'167'219'200'000;
constexpr std::int64_t kClockRange = std::int64_t{1} << 46;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

std::uint64_t word(const std::uint8_t* data, std::size_t size, std::size_t index) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::size_t at = index * 8 + i;
    if (at < size) value |= static_cast<std::uint64_t>(data[at]) << (8 * i);
  }
  return value;
}

void checkFormatted(std::int64_t ms) {
  const std::string text = sync::formatRfc3339(ms);
  const auto back = sync::parseRfc3339(text);
  if (!back || *back != ms) {
    fail("formatRfc3339(" + std::to_string(ms) + ") = \"" + text + "\" parses back to " +
         (back ? std::to_string(*back) : "nothing"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto ms = sync::parseRfc3339(text)) {
    if (*ms >= kFirstFormattable && *ms <= kLastFormattable) {
      const std::string canonical = sync::formatRfc3339(*ms);
      const auto again = sync::parseRfc3339(canonical);
      if (!again || *again != *ms) {
        fail("\"" + std::string(text) + "\" is " + std::to_string(*ms) + " ms, formatted \"" + canonical +
             "\", which parses to " + (again ? std::to_string(*again) : "nothing"));
      }
      if (sync::formatRfc3339(*again) != canonical) fail("formatting \"" + canonical + "\" again changes it");
    }
  }

  const std::size_t words = (size + 7) / 8;
  for (std::size_t i = 0; i < words && i < 4; ++i) {
    const auto raw = static_cast<std::int64_t>(word(data, size, i));
    const std::int64_t span = kLastFormattable - kFirstFormattable + 1;
    checkFormatted(kFirstFormattable +
                   static_cast<std::int64_t>(static_cast<std::uint64_t>(raw) % static_cast<std::uint64_t>(span)));

    const sync::Hlc hlc = word(data, size, i);
    if (sync::makeHlc(sync::hlcMillis(hlc), sync::hlcCounter(hlc)) != hlc) {
      fail("HLC " + std::to_string(hlc) + " does not pack back from its millis and counter");
    }
    if (sync::hlcMillis(hlc) <= kLastFormattable) {
      const std::string formatted = sync::formatHlc(hlc);
      const auto plus = formatted.rfind('+');
      const auto millis = plus == std::string::npos ? std::nullopt : sync::parseRfc3339(formatted.substr(0, plus));
      if (!millis || *millis != sync::hlcMillis(hlc) ||
          formatted.substr(plus + 1) != std::to_string(sync::hlcCounter(hlc))) {
        fail("formatHlc(" + std::to_string(hlc) + ") = \"" + formatted + "\" does not read back");
      }
    }
  }

  // A clock driven by the input: each word is a reading or an observation.
  const auto bounded = [](std::uint64_t w) {
    return static_cast<std::int64_t>(w % static_cast<std::uint64_t>(2 * kClockRange)) - kClockRange;
  };
  sync::HybridClock clock(word(data, size, 0) >> 1, bounded(word(data, size, 1)));
  for (std::size_t i = 2; i < words && i < 64; ++i) {
    const std::uint64_t w = word(data, size, i);
    const sync::Hlc before = clock.last();
    const std::int64_t physical = bounded(w >> 2);
    if (w & 1) {
      const sync::Hlc remote = w >> 1;
      clock.observe(remote, physical);
      if (clock.last() < before || clock.last() < remote) fail("observe() moved the clock back");
    } else if (w & 2) {
      clock.setOffset(bounded(w >> 3));
    } else {
      const sync::Hlc issued = clock.now(physical);
      if (issued <= before) {
        fail("now(" + std::to_string(physical) + ") = " + std::to_string(issued) + " after " + std::to_string(before));
      }
    }
  }
  return 0;
}
