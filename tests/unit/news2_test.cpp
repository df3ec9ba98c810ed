#include "hemma/mobile/news2.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace hemma::mobile;

namespace {

// Every parameter present and scoring 0.
VitalSigns normal() {
  VitalSigns v;
  v.respiratoryRate = 16;
  v.spo2 = 97;
  v.onOxygen = false;
  v.systolicBp = 130;
  v.pulse = 70;
  v.consciousness = Consciousness::Alert;
  v.temperatureC = 37.0;
  return v;
}

VitalSigns vitals(int rr, int spo2, bool oxygen, int systolic, int pulse, Consciousness c, double temp) {
  VitalSigns v;
  v.respiratoryRate = rr;
  v.spo2 = spo2;
  v.onOxygen = oxygen;
  v.systolicBp = systolic;
  v.pulse = pulse;
  v.consciousness = c;
  v.temperatureC = temp;
  return v;
}

struct IntCase {
  int value;
  int score;
};

struct TempCase {
  double value;
  int score;
};

// The message of the std::invalid_argument that news2 throws, or "" if none.
std::string thrown(const VitalSigns& v, Spo2Scale scale = Spo2Scale::Scale1) {
  try {
    news2(v, scale);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// --- Band boundaries: both sides of every edge, plus the range limits. ---

TEST_CASE("news2 respiration rate bands") {
  const std::vector<IntCase> cases = {
      {3, 3}, {8, 3}, {9, 1}, {11, 1}, {12, 0}, {20, 0}, {21, 2}, {24, 2}, {25, 3}, {80, 3},
  };
  for (const IntCase& c : cases) {
    CAPTURE(c.value);
    VitalSigns v = normal();
    v.respiratoryRate = c.value;
    const News2Result r = news2(v, Spo2Scale::Scale1);
    CHECK(r.scores.respiratoryRate == c.score);
    CHECK(r.total == c.score);
  }
}

TEST_CASE("news2 SpO2 scale 1 bands, the same on air and on oxygen") {
  const std::vector<IntCase> cases = {
      {50, 3}, {91, 3}, {92, 2}, {93, 2}, {94, 1}, {95, 1}, {96, 0}, {100, 0},
  };
  for (const bool oxygen : {false, true}) {
    for (const IntCase& c : cases) {
      CAPTURE(oxygen, c.value);
      VitalSigns v = normal();
      v.spo2 = c.value;
      v.onOxygen = oxygen;
      const News2Result r = news2(v, Spo2Scale::Scale1);
      CHECK(r.scores.spo2 == c.score);
      CHECK(r.scores.airOrOxygen == (oxygen ? 2 : 0));
      CHECK(r.total == c.score + (oxygen ? 2 : 0));
    }
  }
}

TEST_CASE("news2 SpO2 scale 2 bands on air") {
  const std::vector<IntCase> cases = {
      {50, 3}, {83, 3}, {84, 2}, {85, 2}, {86, 1}, {87, 1},  {88, 0},
      {92, 0}, {93, 0}, {94, 0}, {96, 0}, {97, 0}, {100, 0},
  };
  for (const IntCase& c : cases) {
    CAPTURE(c.value);
    VitalSigns v = normal();
    v.spo2 = c.value;
    v.onOxygen = false;
    const News2Result r = news2(v, Spo2Scale::Scale2);
    CHECK(r.scores.spo2 == c.score);
    CHECK(r.scores.airOrOxygen == 0);
    CHECK(r.total == c.score);
  }
}

TEST_CASE("news2 SpO2 scale 2 bands on oxygen") {
  const std::vector<IntCase> cases = {
      {50, 3}, {83, 3}, {84, 2}, {85, 2}, {86, 1}, {87, 1}, {88, 0},
      {92, 0}, {93, 1}, {94, 1}, {95, 2}, {96, 2}, {97, 3}, {100, 3},
  };
  for (const IntCase& c : cases) {
    CAPTURE(c.value);
    VitalSigns v = normal();
    v.spo2 = c.value;
    v.onOxygen = true;
    const News2Result r = news2(v, Spo2Scale::Scale2);
    CHECK(r.scores.spo2 == c.score);
    CHECK(r.scores.airOrOxygen == 2);
    CHECK(r.total == c.score + 2);
  }
}

TEST_CASE("news2 systolic blood pressure bands") {
  const std::vector<IntCase> cases = {
      {40, 3}, {90, 3}, {91, 2}, {100, 2}, {101, 1}, {110, 1}, {111, 0}, {219, 0}, {220, 3}, {300, 3},
  };
  for (const IntCase& c : cases) {
    CAPTURE(c.value);
    VitalSigns v = normal();
    v.systolicBp = c.value;
    const News2Result r = news2(v, Spo2Scale::Scale1);
    CHECK(r.scores.systolicBp == c.score);
    CHECK(r.total == c.score);
  }
}

TEST_CASE("news2 pulse bands") {
  const std::vector<IntCase> cases = {
      {20, 3}, {40, 3}, {41, 1}, {50, 1}, {51, 0}, {90, 0}, {91, 1}, {110, 1}, {111, 2}, {130, 2}, {131, 3}, {300, 3},
  };
  for (const IntCase& c : cases) {
    CAPTURE(c.value);
    VitalSigns v = normal();
    v.pulse = c.value;
    const News2Result r = news2(v, Spo2Scale::Scale1);
    CHECK(r.scores.pulse == c.score);
    CHECK(r.total == c.score);
  }
}

TEST_CASE("news2 consciousness: alert scores 0, new confusion, voice, pain, unresponsive 3") {
  const std::vector<std::pair<Consciousness, int>> cases = {
      {Consciousness::Alert, 0}, {Consciousness::Confusion, 3},    {Consciousness::Voice, 3},
      {Consciousness::Pain, 3},  {Consciousness::Unresponsive, 3},
  };
  for (const auto& [level, score] : cases) {
    CAPTURE(static_cast<int>(level));
    VitalSigns v = normal();
    v.consciousness = level;
    const News2Result r = news2(v, Spo2Scale::Scale1);
    CHECK(r.scores.consciousness == score);
    CHECK(r.total == score);
  }
}

TEST_CASE("news2 temperature bands, compared in tenths of a degree") {
  const std::vector<TempCase> cases = {
      {25.0, 3},
      {35.0, 3},
      {35.1, 1},
      {36.0, 1},
      {36.1, 0},
      {38.0, 0},
      {38.1, 1},
      {39.0, 1},
      {39.1, 2},
      {45.0, 2},
      // Readings with more digits are rounded to the nearest tenth first.
      {35.04, 3},
      {35.06, 1},
      {36.04, 1},
      {36.06, 0},
      {38.04, 0},
      {38.06, 1},
      {39.04, 1},
      {39.06, 2},
      // Halves round away from zero (x.x5 * 10 is exactly x.5 in binary here).
      {35.05, 1},
      {36.05, 0},
      {38.05, 1},
      {39.05, 2},
  };
  for (const TempCase& c : cases) {
    CAPTURE(c.value);
    VitalSigns v = normal();
    v.temperatureC = c.value;
    const News2Result r = news2(v, Spo2Scale::Scale1);
    CHECK(r.scores.temperature == c.score);
    CHECK(r.total == c.score);
  }
}

TEST_CASE("news2 air or oxygen: oxygen scores 2, air 0, on both scales") {
  for (const Spo2Scale scale : {Spo2Scale::Scale1, Spo2Scale::Scale2}) {
    VitalSigns v = normal();
    v.spo2 = 90;  // scores 3 on scale 1, 0 on scale 2, on air or oxygen alike
    v.onOxygen = false;
    CHECK(news2(v, scale).scores.airOrOxygen == 0);
    v.onOxygen = true;
    CHECK(news2(v, scale).scores.airOrOxygen == 2);
  }
}

// --- The cases from the issue. ---

TEST_CASE("news2 issue case: all normal scores 0, low") {
  const News2Result r = news2(vitals(16, 97, false, 130, 70, Consciousness::Alert, 37.0), Spo2Scale::Scale1);
  CHECK(r.total == 0);
  CHECK(r.risk == Risk::Low);
  CHECK_FALSE(r.redParameter);
  CHECK_FALSE(r.escalate);
  CHECK(r.missing.empty());
}

TEST_CASE("news2 issue case: scores 6, medium") {
  const News2Result r = news2(vitals(22, 95, false, 105, 95, Consciousness::Alert, 38.4), Spo2Scale::Scale1);
  CHECK(r.scores.respiratoryRate == 2);
  CHECK(r.scores.spo2 == 1);
  CHECK(r.scores.airOrOxygen == 0);
  CHECK(r.scores.systolicBp == 1);
  CHECK(r.scores.pulse == 1);
  CHECK(r.scores.consciousness == 0);
  CHECK(r.scores.temperature == 1);
  CHECK(r.total == 6);
  CHECK(r.risk == Risk::Medium);
  CHECK_FALSE(r.redParameter);
  CHECK(r.escalate);
}

TEST_CASE("news2 issue case: scores 9, high") {
  const News2Result r = news2(vitals(22, 93, false, 98, 112, Consciousness::Alert, 38.4), Spo2Scale::Scale1);
  CHECK(r.total == 9);
  CHECK(r.risk == Risk::High);
  CHECK_FALSE(r.redParameter);
  CHECK(r.escalate);
}

TEST_CASE("news2 issue case: scale 2, SpO2 97 on oxygen scores 5, medium") {
  VitalSigns v = normal();
  v.spo2 = 97;
  v.onOxygen = true;
  const News2Result r = news2(v, Spo2Scale::Scale2);
  CHECK(r.scores.spo2 == 3);
  CHECK(r.scores.airOrOxygen == 2);
  CHECK(r.total == 5);
  CHECK(r.risk == Risk::Medium);
  CHECK(r.redParameter);
  CHECK(r.escalate);
  // The same reading on scale 1 is only the oxygen's 2.
  CHECK(news2(v, Spo2Scale::Scale1).total == 2);
}

TEST_CASE("news2 issue case: pulse 135 alone scores 3, low-medium red score") {
  VitalSigns v = normal();
  v.pulse = 135;
  const News2Result r = news2(v, Spo2Scale::Scale1);
  CHECK(r.scores.pulse == 3);
  CHECK(r.total == 3);
  CHECK(r.risk == Risk::LowMedium);
  CHECK(r.redParameter);
  CHECK(r.escalate);
}

// --- Risk edges. ---

TEST_CASE("news2 risk follows the aggregate, and a higher band beats the red score") {
  VitalSigns v = normal();
  v.respiratoryRate = 22;  // 2
  v.pulse = 95;            // 1
  v.temperatureC = 38.5;   // 1
  CHECK(news2(v, Spo2Scale::Scale1).total == 4);
  CHECK(news2(v, Spo2Scale::Scale1).risk == Risk::Low);
  CHECK_FALSE(news2(v, Spo2Scale::Scale1).escalate);

  v.systolicBp = 105;  // +1 = 5
  CHECK(news2(v, Spo2Scale::Scale1).risk == Risk::Medium);
  v.spo2 = 94;  // +1 = 6
  CHECK(news2(v, Spo2Scale::Scale1).risk == Risk::Medium);
  v.spo2 = 93;  // 2 instead of 1 = 7
  CHECK(news2(v, Spo2Scale::Scale1).total == 7);
  CHECK(news2(v, Spo2Scale::Scale1).risk == Risk::High);

  VitalSigns red = normal();
  red.consciousness = Consciousness::Confusion;  // 3
  red.pulse = 95;                                // 1
  CHECK(news2(red, Spo2Scale::Scale1).risk == Risk::LowMedium);
  red.temperatureC = 38.5;  // 5
  CHECK(news2(red, Spo2Scale::Scale1).risk == Risk::Medium);
  CHECK(news2(red, Spo2Scale::Scale1).redParameter);
}

TEST_CASE("news2 risk names") {
  CHECK(riskName(Risk::NotEvaluated) == "not evaluated");
  CHECK(riskName(Risk::Low) == "low");
  CHECK(riskName(Risk::LowMedium) == "low-medium");
  CHECK(riskName(Risk::Medium) == "medium");
  CHECK(riskName(Risk::High) == "high");
}

// --- Missing inputs. ---

TEST_CASE("news2 with an input missing is not evaluated, never 0, but scores what it has") {
  VitalSigns v = normal();
  v.temperatureC.reset();
  const News2Result r = news2(v, Spo2Scale::Scale1);
  CHECK_FALSE(r.total.has_value());
  CHECK(r.risk == Risk::NotEvaluated);
  CHECK(r.missing == std::vector<std::string_view>{"temperatureC"});
  CHECK_FALSE(r.scores.temperature.has_value());
  CHECK(r.scores.respiratoryRate == 0);
  CHECK(r.scores.spo2 == 0);
  CHECK(r.scores.airOrOxygen == 0);
  CHECK(r.scores.systolicBp == 0);
  CHECK(r.scores.pulse == 0);
  CHECK(r.scores.consciousness == 0);
  CHECK_FALSE(r.redParameter);
  CHECK_FALSE(r.escalate);
}

TEST_CASE("news2 with nothing measured lists every field as missing") {
  const News2Result r = news2(VitalSigns{}, Spo2Scale::Scale1);
  CHECK_FALSE(r.total.has_value());
  CHECK(r.risk == Risk::NotEvaluated);
  CHECK(r.missing == std::vector<std::string_view>{"respiratoryRate", "spo2", "onOxygen", "systolicBp", "pulse",
                                                   "consciousness", "temperatureC"});
  CHECK_FALSE(r.escalate);
}

TEST_CASE("news2 with an input missing still flags a red parameter and escalates") {
  VitalSigns v = normal();
  v.pulse = 135;
  v.systolicBp.reset();
  const News2Result r = news2(v, Spo2Scale::Scale1);
  CHECK_FALSE(r.total.has_value());
  CHECK(r.risk == Risk::NotEvaluated);
  CHECK(r.scores.pulse == 3);
  CHECK(r.redParameter);
  CHECK(r.escalate);
  CHECK(r.missing == std::vector<std::string_view>{"systolicBp"});
}

TEST_CASE("news2 with an input missing escalates when the known scores already reach 5") {
  VitalSigns v = normal();
  v.respiratoryRate = 22;  // 2
  v.spo2 = 93;             // 2
  v.pulse = 95;            // 1
  v.temperatureC.reset();
  const News2Result r = news2(v, Spo2Scale::Scale1);
  CHECK_FALSE(r.total.has_value());
  CHECK(r.risk == Risk::NotEvaluated);
  CHECK_FALSE(r.redParameter);
  CHECK(r.escalate);

  v.pulse = 70;  // known scores 4
  CHECK_FALSE(news2(v, Spo2Scale::Scale1).escalate);
}

TEST_CASE("news2 scale 2 SpO2 of 93 or more cannot be scored without knowing air or oxygen") {
  VitalSigns v = normal();
  v.onOxygen.reset();
  v.spo2 = 95;
  News2Result r = news2(v, Spo2Scale::Scale2);
  CHECK_FALSE(r.scores.spo2.has_value());
  CHECK_FALSE(r.scores.airOrOxygen.has_value());
  CHECK_FALSE(r.total.has_value());
  CHECK(r.missing == std::vector<std::string_view>{"onOxygen"});

  // Below 93 the scale 2 score is the same on air and oxygen.
  v.spo2 = 85;
  r = news2(v, Spo2Scale::Scale2);
  CHECK(r.scores.spo2 == 2);
  CHECK_FALSE(r.total.has_value());

  // Scale 1 never depends on it.
  v.spo2 = 95;
  CHECK(news2(v, Spo2Scale::Scale1).scores.spo2 == 1);
}

// --- Invalid inputs. ---

TEST_CASE("news2 rejects values out of physiological range, naming the field") {
  VitalSigns v = normal();
  v.spo2 = 104;
  CHECK(thrown(v) == "vitals.spo2: 104 is outside 50-100 % (not a reading of a living patient)");
  v.spo2 = -1;
  CHECK(thrown(v) == "vitals.spo2: -1 is outside 50-100 % (not a reading of a living patient)");
  v.spo2 = 0;
  CHECK(thrown(v) == "vitals.spo2: 0 is outside 50-100 % (not a reading of a living patient)");

  v = normal();
  v.respiratoryRate = -1;
  CHECK(thrown(v) == "vitals.respiratoryRate: -1 is outside 3-80 /min (not a reading of a living patient)");
  v.respiratoryRate = 81;
  CHECK(thrown(v) == "vitals.respiratoryRate: 81 is outside 3-80 /min (not a reading of a living patient)");

  v = normal();
  v.systolicBp = -5;
  CHECK(thrown(v) == "vitals.systolicBp: -5 is outside 40-300 mmHg (not a reading of a living patient)");
  v.systolicBp = 301;
  CHECK(thrown(v) == "vitals.systolicBp: 301 is outside 40-300 mmHg (not a reading of a living patient)");

  v = normal();
  v.pulse = -1;
  CHECK(thrown(v) == "vitals.pulse: -1 is outside 20-300 /min (not a reading of a living patient)");
  v.pulse = 301;
  CHECK(thrown(v) == "vitals.pulse: 301 is outside 20-300 /min (not a reading of a living patient)");

  v = normal();
  v.temperatureC = 24.9;
  CHECK(thrown(v) == "vitals.temperatureC: 24.9 is outside 25-45 °C (not a reading of a living patient)");
  v.temperatureC = 45.1;
  CHECK(thrown(v) == "vitals.temperatureC: 45.1 is outside 25-45 °C (not a reading of a living patient)");
  v.temperatureC = -37.0;
  CHECK(thrown(v) == "vitals.temperatureC: -37 is outside 25-45 °C (not a reading of a living patient)");
  v.temperatureC = std::numeric_limits<double>::quiet_NaN();
  CHECK(thrown(v).rfind("vitals.temperatureC: ", 0) == 0);
  CHECK(thrown(v).find("is not a finite number") != std::string::npos);
  v.temperatureC = std::numeric_limits<double>::infinity();
  CHECK(thrown(v) == "vitals.temperatureC: inf is not a finite number");

  v = normal();
  v.consciousness = static_cast<Consciousness>(9);
  CHECK(thrown(v) == "vitals.consciousness: 9 is not a level of consciousness");

  CHECK(thrown(normal(), static_cast<Spo2Scale>(5)) == "scale: 5 is not an SpO2 scale");
}

TEST_CASE("news2 range limits themselves are accepted") {
  CHECK(thrown(vitals(3, 50, false, 40, 20, Consciousness::Alert, 25.0)).empty());
  CHECK(thrown(vitals(80, 100, true, 300, 300, Consciousness::Unresponsive, 45.0)).empty());
}

TEST_CASE("news2 reports an invalid field even when others are missing") {
  VitalSigns v;
  v.pulse = 400;
  CHECK_THROWS_AS(news2(v, Spo2Scale::Scale2), std::invalid_argument);
  CHECK(thrown(v, Spo2Scale::Scale2) == "vitals.pulse: 400 is outside 20-300 /min (not a reading of a living patient)");
}
