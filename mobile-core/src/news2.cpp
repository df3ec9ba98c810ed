#include "hemma/mobile/news2.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "hemma/sync/entry_rules.hpp"

namespace hemma::mobile {

namespace {

[[noreturn]] void invalid(std::string_view field, const std::string& value, std::string_view why) {
  std::string message = "vitals.";
  message += field;
  message += ": ";
  message += value;
  message += " ";
  message += why;
  throw std::invalid_argument(message);
}

// "is outside 3-80 /min (...)", from the one table of ranges the server
// checks too (sync::vitalSignRanges()).
std::string outside(const sync::VitalSignRange& range) {
  std::ostringstream text;
  text << "is outside " << range.low << "-" << range.high << " " << range.unit
       << " (not a reading of a living patient)";
  return text.str();
}

void checkRange(std::string_view field, std::string_view syncField, const std::optional<int>& value) {
  const sync::VitalSignRange& range = *sync::vitalSignRange(syncField);
  if (value && (*value < range.low || *value > range.high)) invalid(field, std::to_string(*value), outside(range));
}

void validate(const VitalSigns& v, Spo2Scale scale) {
  checkRange("respiratoryRate", "respiratory_rate", v.respiratoryRate);
  checkRange("spo2", "spo2", v.spo2);
  checkRange("systolicBp", "systolic_bp", v.systolicBp);
  checkRange("pulse", "pulse", v.pulse);
  if (v.consciousness) {
    const int level = static_cast<int>(*v.consciousness);
    if (level < static_cast<int>(Consciousness::Alert) || level > static_cast<int>(Consciousness::Unresponsive)) {
      invalid("consciousness", std::to_string(level), "is not a level of consciousness");
    }
  }
  if (v.temperatureC) {
    const double t = *v.temperatureC;
    std::ostringstream text;
    text << t;
    if (!std::isfinite(t)) invalid("temperatureC", text.str(), "is not a finite number");
    const sync::VitalSignRange& range = *sync::vitalSignRange("temperature_c");
    if (t < range.low || t > range.high) invalid("temperatureC", text.str(), outside(range));
  }
  if (scale != Spo2Scale::Scale1 && scale != Spo2Scale::Scale2) {
    throw std::invalid_argument("scale: " + std::to_string(static_cast<int>(scale)) + " is not an SpO2 scale");
  }
}

int scoreRespiratoryRate(int rate) {
  if (rate <= 8) return 3;
  if (rate <= 11) return 1;
  if (rate <= 20) return 0;
  if (rate <= 24) return 2;
  return 3;
}

int scoreSpo2Scale1(int spo2) {
  if (spo2 <= 91) return 3;
  if (spo2 <= 93) return 2;
  if (spo2 <= 95) return 1;
  return 0;
}

// Empty when the score depends on onOxygen and that is not known.
std::optional<int> scoreSpo2Scale2(int spo2, std::optional<bool> onOxygen) {
  if (spo2 <= 83) return 3;
  if (spo2 <= 85) return 2;
  if (spo2 <= 87) return 1;
  if (spo2 <= 92) return 0;
  if (!onOxygen) return std::nullopt;
  if (!*onOxygen) return 0;  // 93 or more on air
  if (spo2 <= 94) return 1;
  if (spo2 <= 96) return 2;
  return 3;
}

int scoreSystolic(int systolic) {
  if (systolic <= 90) return 3;
  if (systolic <= 100) return 2;
  if (systolic <= 110) return 1;
  if (systolic <= 219) return 0;
  return 3;
}

int scorePulse(int pulse) {
  if (pulse <= 40) return 3;
  if (pulse <= 50) return 1;
  if (pulse <= 90) return 0;
  if (pulse <= 110) return 1;
  if (pulse <= 130) return 2;
  return 3;
}

// In whole tenths of a degree, so 36.0 and 36.1 are distinct integers.
int scoreTemperature(double celsius) {
  const long tenths = std::lround(celsius * 10.0);
  if (tenths <= 350) return 3;
  if (tenths <= 360) return 1;
  if (tenths <= 380) return 0;
  if (tenths <= 390) return 1;
  return 2;
}

}  // namespace

News2Result news2(const VitalSigns& vitals, Spo2Scale scale) {
  validate(vitals, scale);

  News2Result result;
  News2Scores& s = result.scores;
  if (vitals.respiratoryRate) s.respiratoryRate = scoreRespiratoryRate(*vitals.respiratoryRate);
  if (vitals.spo2) {
    s.spo2 =
        scale == Spo2Scale::Scale1 ? scoreSpo2Scale1(*vitals.spo2) : scoreSpo2Scale2(*vitals.spo2, vitals.onOxygen);
  }
  if (vitals.onOxygen) s.airOrOxygen = *vitals.onOxygen ? 2 : 0;
  if (vitals.systolicBp) s.systolicBp = scoreSystolic(*vitals.systolicBp);
  if (vitals.pulse) s.pulse = scorePulse(*vitals.pulse);
  if (vitals.consciousness) s.consciousness = *vitals.consciousness == Consciousness::Alert ? 0 : 3;
  if (vitals.temperatureC) s.temperature = scoreTemperature(*vitals.temperatureC);

  if (!vitals.respiratoryRate) result.missing.emplace_back("respiratoryRate");
  if (!vitals.spo2) result.missing.emplace_back("spo2");
  if (!vitals.onOxygen) result.missing.emplace_back("onOxygen");
  if (!vitals.systolicBp) result.missing.emplace_back("systolicBp");
  if (!vitals.pulse) result.missing.emplace_back("pulse");
  if (!vitals.consciousness) result.missing.emplace_back("consciousness");
  if (!vitals.temperatureC) result.missing.emplace_back("temperatureC");

  int known = 0;
  bool allScored = true;
  for (const std::optional<int>& score :
       {s.respiratoryRate, s.spo2, s.airOrOxygen, s.systolicBp, s.pulse, s.consciousness, s.temperature}) {
    if (!score) {
      allScored = false;
      continue;
    }
    known += *score;
    if (*score == 3) result.redParameter = true;
  }

  // A lower bound on the total is enough to know that escalation is due.
  result.escalate = result.redParameter || known >= 5;
  if (!allScored) return result;  // not evaluated: no total, never 0

  result.total = known;
  if (known >= 7) {
    result.risk = Risk::High;
  } else if (known >= 5) {
    result.risk = Risk::Medium;
  } else if (result.redParameter) {
    result.risk = Risk::LowMedium;
  } else {
    result.risk = Risk::Low;
  }
  return result;
}

std::string_view riskName(Risk risk) {
  switch (risk) {
    case Risk::NotEvaluated:
      return "not evaluated";
    case Risk::Low:
      return "low";
    case Risk::LowMedium:
      return "low-medium";
    case Risk::Medium:
      return "medium";
    case Risk::High:
      return "high";
  }
  return "unknown";
}

}  // namespace hemma::mobile
