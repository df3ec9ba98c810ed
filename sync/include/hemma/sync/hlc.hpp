#pragma once
// Hybrid logical clock (Kulkarni et al., 2014), packed into 64 bits: physical
// milliseconds since the Unix epoch in the upper 48 bits, a logical counter in
// the lower 16. Packed values compare like the (millis, counter) pairs.
//
// The clock never reads a wall clock: the caller passes physical time in, so
// tests can simulate devices whose clocks are wrong by hours.

#include <cstdint>
#include <string>

namespace hemma::sync {

using Hlc = std::uint64_t;

constexpr int kHlcCounterBits = 16;
constexpr std::uint64_t kHlcCounterMask = (std::uint64_t{1} << kHlcCounterBits) - 1;

constexpr Hlc makeHlc(std::int64_t millis, std::uint32_t counter) {
  return (static_cast<std::uint64_t>(millis) << kHlcCounterBits) | (counter & kHlcCounterMask);
}
constexpr std::int64_t hlcMillis(Hlc hlc) { return static_cast<std::int64_t>(hlc >> kHlcCounterBits); }
constexpr std::uint32_t hlcCounter(Hlc hlc) { return static_cast<std::uint32_t>(hlc & kHlcCounterMask); }

// "2026-11-22T09:44:08.123Z+3": the physical part as RFC 3339, then the counter.
std::string formatHlc(Hlc hlc);

// Not thread-safe: one clock per replica, used under the replica's lock.
class HybridClock {
 public:
  // `offsetMs` is added to every physical reading. A device learns it from the
  // server's time at each sync, so a tablet whose clock runs hours ahead stops
  // stamping its edits hours into the future.
  explicit HybridClock(Hlc last = 0, std::int64_t offsetMs = 0) : m_last(last), m_offsetMs(offsetMs) {}

  // A timestamp for a local event, greater than every timestamp this clock has
  // issued or observed.
  Hlc now(std::int64_t physicalMs);

  // Merges a timestamp received from another replica, so the next local event
  // orders after it.
  void observe(Hlc remote, std::int64_t physicalMs);

  // Sets the correction applied to physical readings (server time minus local
  // time, measured at the last sync).
  void setOffset(std::int64_t offsetMs) { m_offsetMs = offsetMs; }
  std::int64_t offset() const { return m_offsetMs; }
  Hlc last() const { return m_last; }

 private:
  Hlc m_last;
  std::int64_t m_offsetMs;
};

}  // namespace hemma::sync
