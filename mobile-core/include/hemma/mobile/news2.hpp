#pragma once
// NEWS2: the Royal College of Physicians' National Early Warning Score 2
// (2017), worked out on the tablet from one set of vital signs so the nurse
// sees it at once. Pure: no I/O, no clock, no global state. Design notes and
// the chart it follows: mobile-core/docs/news2.md.
//
// Thread safety: news2() and riskName() read only their arguments and
// constant data; any number of threads may call them at the same time.

#include <optional>
#include <string_view>
#include <vector>

namespace hemma::mobile {

// AVPU with new Confusion added (ACVPU). Alert scores 0, anything else 3.
enum class Consciousness { Alert, Confusion, Voice, Pain, Unresponsive };

// Which SpO2 row of the chart to use. Scale2 is only for patients with
// hypercapnic respiratory failure whose care plan sets a target of 88-92 %;
// the caller takes it from the plan, never from the reading.
enum class Spo2Scale { Scale1, Scale2 };

// One set of observations. An empty optional means "not measured". Units and
// accepted ranges (inclusive; anything else makes news2() throw):
//   respiratoryRate  breaths per minute          0-80
//   spo2             oxygen saturation, %        0-100
//   onOxygen         true = supplemental oxygen, false = room air
//   systolicBp       systolic blood pressure, mmHg  0-350
//   pulse            beats per minute            0-300
//   consciousness    one of Consciousness
//   temperatureC     degrees Celsius             25.0-45.0, finite
// Whole-number measurements are ints: the chart has no bands between them.
struct VitalSigns {
  std::optional<int> respiratoryRate;
  std::optional<int> spo2;
  std::optional<bool> onOxygen;
  std::optional<int> systolicBp;
  std::optional<int> pulse;
  std::optional<Consciousness> consciousness;
  std::optional<double> temperatureC;
};

// Overall clinical risk. LowMedium is the RCP's "red score": aggregate 0-4
// but one parameter scored 3, which calls for an urgent ward-based response.
enum class Risk { NotEvaluated, Low, LowMedium, Medium, High };

// Each parameter's score, 0-3; empty = not scored because the input is
// missing (for Scale 2 SpO2 of 93 % or more, also when onOxygen is missing:
// that score depends on it).
struct News2Scores {
  std::optional<int> respiratoryRate;
  std::optional<int> spo2;
  std::optional<int> airOrOxygen;  // 2 on oxygen, 0 on air
  std::optional<int> systolicBp;
  std::optional<int> pulse;
  std::optional<int> consciousness;
  std::optional<int> temperature;
};

struct News2Result {
  News2Scores scores;
  // The aggregate, 0-20. Empty when any input is missing: "not evaluated",
  // never 0.
  std::optional<int> total;
  // NotEvaluated exactly when total is empty. Otherwise: total >= 7 High,
  // 5-6 Medium, 0-4 with a parameter scoring 3 LowMedium, else Low.
  Risk risk = Risk::NotEvaluated;
  // Some scored parameter scored 3. Known even when others are missing.
  bool redParameter = false;
  // An urgent clinical response is needed: total >= 5 or redParameter.
  // With inputs missing it is still set when what is known already
  // requires it: a red parameter, or present scores summing to 5 or more
  // (scores are never negative, so the total could only be higher).
  bool escalate = false;
  // The VitalSigns field names of the missing inputs ("respiratoryRate",
  // "spo2", "onOxygen", "systolicBp", "pulse", "consciousness",
  // "temperatureC"), in that order. The views point at string literals and
  // stay valid for the life of the program.
  std::vector<std::string_view> missing;
};

// Scores one set of vital signs on the NEWS2 chart.
//
// Temperature is first rounded to the nearest tenth of a degree (halves away
// from zero), then compared in whole tenths, so the chart's edges are exact:
// 36.0 scores 1 and 36.1 scores 0; 36.04 counts as 36.0, 36.06 as 36.1.
//
// Throws std::invalid_argument, naming the field, when a present value is out
// of the ranges above, e.g. "vitals.spo2: 104 is not a percentage",
// "vitals.temperatureC: nan is not a finite number"; also for a
// Consciousness or Spo2Scale value outside its enumerators. Fields are
// checked in declaration order, then the scale; the first bad one is
// reported. Nothing is scored if anything is invalid.
News2Result news2(const VitalSigns& vitals, Spo2Scale scale);

// "not evaluated", "low", "low-medium", "medium", "high"; "unknown" for a
// value outside the enumerators.
std::string_view riskName(Risk risk);

}  // namespace hemma::mobile
