#include "hemma/mobile/clock.hpp"

#include <chrono>

namespace hemma::mobile {

std::int64_t SystemClock::nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace hemma::mobile
