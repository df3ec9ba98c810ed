#include "hemma/sync/hlc.hpp"

#include <algorithm>

#include "hemma/sync/time_format.hpp"

namespace hemma::sync {

std::string formatHlc(Hlc hlc) { return formatRfc3339(hlcMillis(hlc)) + "+" + std::to_string(hlcCounter(hlc)); }

Hlc HybridClock::now(std::int64_t physicalMs) {
  const Hlc physical = makeHlc(std::max<std::int64_t>(physicalMs + m_offsetMs, 0), 0);
  // When the logical counter overflows it carries into the millisecond:
  // timestamps stay unique and ordered.
  m_last = std::max(physical, m_last + 1);
  return m_last;
}

void HybridClock::observe(Hlc remote, std::int64_t physicalMs) {
  const Hlc physical = makeHlc(std::max<std::int64_t>(physicalMs + m_offsetMs, 0), 0);
  m_last = std::max({m_last, remote, physical});
}

}  // namespace hemma::sync
