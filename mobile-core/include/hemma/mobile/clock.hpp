#pragma once
// The device's source of wall-clock time, behind an interface so tests can
// simulate tablets whose clocks are wrong and days spent offline.

#include <cstdint>

namespace hemma::mobile {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, as the device believes.
  virtual std::int64_t nowMs() = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t nowMs() override;
};

}  // namespace hemma::mobile
