#include "hemma/server/demo_data.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "hemma/sync/time_format.hpp"

namespace hemma::server {

namespace {

constexpr const char* kNorrby = "org-norrby";
constexpr const char* kSoder = "org-soder";

struct DemoPractitioner {
  const char* id;
  const char* name;
  const char* organisation;
  const char* unit;
  domain::Role role;
};

constexpr std::array kPractitioners{
    DemoPractitioner{"nurse-karin", "Karin Holm", kNorrby, "unit-norrby-north", domain::NURSE},
    DemoPractitioner{"nurse-olle", "Olle Berg", kNorrby, "unit-norrby-south", domain::NURSE},
    DemoPractitioner{"nurse-maria", "Maria Virtanen", kSoder, "unit-soder-palliative", domain::NURSE},
    DemoPractitioner{"physician-sara", "Sara Ek", kSoder, "unit-soder-physicians", domain::PHYSICIAN},
    DemoPractitioner{"physician-johan", "Johan Lund", kSoder, "unit-soder-physicians", domain::PHYSICIAN},
    DemoPractitioner{"coordinator-lena", "Lena Sjöberg", kNorrby, "unit-norrby-north", domain::COORDINATOR},
    DemoPractitioner{"coordinator-rolf", "Rolf Nieminen", kSoder, "unit-soder-physicians", domain::COORDINATOR},
    DemoPractitioner{"admin-ada", "Ada Strand", kNorrby, "unit-norrby-north", domain::ADMINISTRATOR},
};

constexpr std::array kFirstNames{"Astrid", "Bertil", "Cecilia", "Dagny",  "Einar",  "Frida", "Gunnar", "Hilma",
                                 "Ingvar", "Jenny",  "Kalle",   "Linnea", "Magnus", "Nora",  "Oskar",  "Pia",
                                 "Ragnar", "Signe",  "Tore",    "Ulla",   "Viktor", "Wilma", "Yngve",  "Åsa",
                                 "Aino",   "Eero",   "Helmi",   "Lauri",  "Saara",  "Veikko"};
constexpr std::array kLastNames{"Lindqvist", "Nyström", "Dahl", "Forsberg", "Hedlund", "Isaksson"};
constexpr std::array kStreets{"Björkvägen", "Storgatan", "Skolgatan", "Kyrkvägen", "Ängsvägen", "Sjövägen"};

domain::Organisation organisation(const char* id, const char* name, domain::Organisation::Kind kind,
                                  std::initializer_list<std::pair<const char*, const char*>> units) {
  domain::Organisation result;
  result.set_id(id);
  result.set_name(name);
  result.set_kind(kind);
  for (const auto& [unitId, unitName] : units) {
    auto& unit = *result.add_units();
    unit.set_id(unitId);
    unit.set_name(unitName);
  }
  return result;
}

// A set of vital signs with the NEWS2 the RCP 2017 chart gives it (on air,
// alert), for the demo's trend charts.
struct DemoVitals {
  int respiratoryRate;
  int spo2;
  int systolicBp;
  int pulse;
  double temperatureC;
  int score;
  domain::News2Risk risk;
  bool redParameter;
};

constexpr DemoVitals kSteady{16, 97, 130, 70, 37.0, 0, domain::NEWS2_LOW, false};     // all 0
constexpr DemoVitals kPulse92{16, 97, 130, 92, 37.0, 1, domain::NEWS2_LOW, false};    // pulse 1
constexpr DemoVitals kBreathing{21, 97, 130, 92, 37.0, 3, domain::NEWS2_LOW, false};  // RR 2, pulse 1
constexpr DemoVitals kFever{21, 97, 130, 92, 38.3, 4, domain::NEWS2_LOW, false};      // RR 2, pulse 1, temp 1
// RR 2, SpO2 1, systolic 1, pulse 1, temperature 1.
constexpr DemoVitals kMedium{22, 95, 105, 95, 38.4, 6, domain::NEWS2_MEDIUM, false};
// SpO2 90 % on air scores 0 on scale 2 (target 88-92 %).
constexpr DemoVitals kScale2{16, 90, 130, 70, 37.0, 0, domain::NEWS2_LOW, false};
// Pulse 135 alone: 3, a red parameter.
constexpr DemoVitals kRedPulse{16, 97, 130, 135, 37.0, 3, domain::NEWS2_LOW_MEDIUM, true};

struct DemoMedication {
  const char* name;
  const char* dose;
  const char* frequency;
};

constexpr std::array kMedications{DemoMedication{"Metoprolol", "50 mg", "twice daily"},
                                  DemoMedication{"Furosemide", "40 mg", "once daily"},
                                  DemoMedication{"Paracetamol", "1 g", "three times daily"}};

std::string twoDigits(int n) {
  std::string digits = std::to_string(n);
  if (n < 10) digits.insert(digits.begin(), '0');
  return digits;
}

}  // namespace

std::size_t loadDemoData(DomainStore& domain, AuthService& auth, SyncService& sync, std::int64_t nowMs) {
  if (domain.organisation(kNorrby)) return 0;

  domain.upsertOrganisation(organisation(kNorrby, "Norrby kommun", domain::Organisation::MUNICIPALITY,
                                         {{"unit-norrby-north", "Hemtjänst och hemsjukvård Norr"},
                                          {"unit-norrby-south", "Hemtjänst och hemsjukvård Syd"}}));
  domain.upsertOrganisation(
      organisation(kSoder, "Region Söder", domain::Organisation::REGION,
                   {{"unit-soder-physicians", "Hemsjukvårdsläkare"}, {"unit-soder-palliative", "Palliativt team"}}));
  for (const auto& p : kPractitioners) {
    domain::Practitioner practitioner;
    practitioner.set_id(p.id);
    practitioner.set_name(p.name);
    practitioner.set_organisation_id(p.organisation);
    practitioner.set_unit_id(p.unit);
    practitioner.set_role(p.role);
    domain.upsertPractitioner(practitioner);
    api::Principal principal;
    principal.set_user_id(p.id);
    principal.set_name(p.name);
    principal.set_role(p.role);
    principal.set_organisation_id(p.organisation);
    principal.set_unit_id(p.unit);
    auth.upsertAccount(p.id, kDemoPassword, principal);
  }

  const std::string today = sync::formatRfc3339(nowMs).substr(0, 10);
  std::size_t added = 0;
  for (int n = 1; n <= 30; ++n) {
    const std::string id = "patient-" + twoDigits(n);
    const bool regional = n >= 25;
    const char* home = regional ? kSoder : kNorrby;
    const std::string name = std::string(kFirstNames[n - 1]) + " " + kLastNames[n % kLastNames.size()];
    const std::string author = regional ? "coordinator-rolf" : "coordinator-lena";
    domain.upsertPatient(
        {id, "19" + twoDigits(20 + n) + "0" + std::to_string(n % 9 + 1) + "12-" + std::to_string(1000 + n * 37), home,
         n == 3});
    api::Principal patientLogin;
    patientLogin.set_user_id(id);
    patientLogin.set_name(name);
    patientLogin.set_patient_id(id);
    auth.upsertAccount(id, kDemoPassword, patientLogin);

    auto write = [&](const std::string& type, const std::string& entity, const std::string& field,
                     const std::string& value) { sync.writeField(author, id, type, entity, field, value, nowMs); };
    write("patient", id, "name", name);
    write("patient", id, "address",
          std::string(kStreets[n % kStreets.size()]) + " " + std::to_string(n * 3) +
              (regional ? ", Söderby" : ", Norrby"));
    write("patient", id, "access_notes",
          n % 2 ? "Key box by the door, code 4" + twoDigits(n) + "1" : "Ring twice; the patient opens herself");
    write("patient", id, "preferred_language", regional ? "fi" : (n % 5 == 0 ? "en" : "sv"));

    // The care team and consents.
    if (regional) {
      domain.addCareTeamMember(id, "nurse-maria", api::CareTeamMember::RESPONSIBLE_NURSE);
      domain.addCareTeamMember(id, "physician-johan", api::CareTeamMember::RESPONSIBLE_PHYSICIAN);
    } else {
      const char* nurse = n % 2 ? "nurse-karin" : "nurse-olle";
      domain.addCareTeamMember(id, nurse, api::CareTeamMember::RESPONSIBLE_NURSE);
      domain.addCareTeamMember(id, n % 3 || n == 3 ? "physician-sara" : "physician-johan",
                               api::CareTeamMember::RESPONSIBLE_PHYSICIAN);
      if (n == 1) domain.addCareTeamMember(id, "nurse-olle", api::CareTeamMember::MEMBER);
    }
    for (const char* organisation : {kNorrby, kSoder}) {
      if (n == 2 && organisation == kSoder) continue;  // Bertil shares with the municipality only
      api::Consent consent;
      consent.set_patient_id(id);
      consent.set_organisation_id(organisation);
      consent.set_valid_from(sync::formatRfc3339(nowMs - 30LL * 24 * 3600 * 1000));
      consent.set_recorded_by(author);
      domain.addConsent(consent);
    }

    // The plan: goals and activities with the organisation responsible.
    domain.setPlanHeader(id, home, domain::CarePlan::ACTIVE);
    write("care_plan_goal", id + "-goal-1", "text", "Stay safely at home with daily support");
    write("care_plan_goal", id + "-goal-2", "text", n % 2 ? "Stable blood pressure" : "Healed leg ulcer");
    write("care_plan_activity", id + "-act-1", "text", "Medication administration");
    write("care_plan_activity", id + "-act-1", "frequency", "twice daily");
    write("care_plan_activity", id + "-act-1", "responsible_organisation_id", home);
    write("care_plan_activity", id + "-act-1", "responsible_role", "NURSE");
    write("care_plan_activity", id + "-act-2", "text", "Vital signs with NEWS2");
    write("care_plan_activity", id + "-act-2", "frequency", "daily");
    write("care_plan_activity", id + "-act-2", "responsible_organisation_id", home);
    write("care_plan_activity", id + "-act-2", "responsible_role", "NURSE");
    write("care_plan_activity", id + "-act-3", "text", "Medical review");
    write("care_plan_activity", id + "-act-3", "frequency", "every four weeks");
    write("care_plan_activity", id + "-act-3", "responsible_organisation_id", kSoder);
    write("care_plan_activity", id + "-act-3", "responsible_role", "PHYSICIAN");

    const auto& medication = kMedications[n % kMedications.size()];
    write("medication", id + "-med-1", "name", medication.name);
    write("medication", id + "-med-1", "dose", medication.dose);
    write("medication", id + "-med-1", "frequency", medication.frequency);
    const bool scale2 = n == 7 || n == 26;
    if (scale2) write("care_plan", id, "spo2_scale_2", "true");

    // Today's and tomorrow's visits for the responsible nurse: the
    // municipality's rounds every 15 minutes from 07:15, the region's every
    // 20 minutes from 07:20.
    const std::int64_t visitOffsetMs = regional ? (n - 24) * 20LL * 60 * 1000 : n * 15LL * 60 * 1000;
    const char* nurse = regional ? "nurse-maria" : (n % 2 ? "nurse-karin" : "nurse-olle");

    // A few days of vital signs, as the nurse's tablet recorded them.
    auto vitals = [&](int number, std::int64_t atMs, const DemoVitals& v) {
      sync::AppendEntry entry;
      domain::VitalSigns& signs = *entry.mutable_vital_signs();
      signs.set_id(id + "-vitals-" + std::to_string(number));
      signs.set_patient_id(id);
      signs.set_author_id(nurse);
      signs.set_observed_at(sync::formatRfc3339(atMs));
      signs.set_respiratory_rate(v.respiratoryRate);
      signs.set_spo2(v.spo2);
      signs.set_on_oxygen(false);
      signs.set_spo2_scale_2(scale2);
      signs.set_systolic_bp(v.systolicBp);
      signs.set_pulse(v.pulse);
      signs.set_consciousness(domain::ALERT);
      signs.set_temperature_c(v.temperatureC);
      signs.set_news2_score(v.score);
      signs.set_news2_risk(v.risk);
      signs.set_red_parameter(v.redParameter);
      sync.appendEntry("vital_signs", signs.id(), nurse, id, std::move(entry), nowMs, atMs);
    };
    const std::int64_t morning = *sync::parseRfc3339(today + "T08:00:00Z") + n * 10LL * 60 * 1000;
    constexpr std::int64_t kDay = 24LL * 3600 * 1000;
    if (n == 5) {
      // Einar's NEWS2 rises over five days, to medium this morning.
      const DemoVitals rising[] = {kSteady, kPulse92, kBreathing, kFever, kMedium};
      for (int day = 0; day < 5; ++day) {
        vitals(day + 1, day == 4 ? std::min<std::int64_t>(morning, nowMs - 3600 * 1000) : morning - (4 - day) * kDay,
               rising[day]);
      }
    } else {
      for (int day = 0; day < 3; ++day) {
        const DemoVitals& v = scale2 ? kScale2 : (n == 10 && day == 2) ? kRedPulse : (n + day) % 3 ? kSteady : kPulse92;
        vitals(day + 1, morning - (3 - day) * kDay, v);
      }
    }
    for (int day = 0; day < 2; ++day) {
      const std::string visit = id + "-visit-" + std::to_string(day + 1);
      const auto startMs = *sync::parseRfc3339(today + "T07:00:00Z") + day * 24LL * 3600 * 1000 + visitOffsetMs;
      write("visit", visit, "scheduled_start", sync::formatRfc3339(startMs));
      write("visit", visit, "nurse_id", nurse);
      write("visit", visit, "activity_id", id + "-act-1");
      write("visit", visit, "status", "PLANNED");
    }
    // This morning's first visits are done already, in both organisations.
    if (n == 4 || n == 6 || n == 25) {
      const std::string visit = id + "-visit-1";
      const auto startMs = *sync::parseRfc3339(today + "T07:00:00Z") + visitOffsetMs;
      write("visit", visit, "started_at", sync::formatRfc3339(startMs));
      write("visit", visit, "ended_at", sync::formatRfc3339(startMs + 20LL * 60 * 1000));
      write("visit", visit, "status", "DONE");
      for (const char* activity : {"-act-1", "-act-2"}) {
        sync::AppendEntry entry;
        domain::TaskOutcome& outcome = *entry.mutable_task_outcome();
        outcome.set_id(visit + activity + "-outcome");
        outcome.set_patient_id(id);
        outcome.set_visit_id(visit);
        outcome.set_activity_id(id + activity);
        outcome.set_author_id(nurse);
        outcome.set_outcome(domain::TaskOutcome::DONE);
        outcome.set_recorded_at(sync::formatRfc3339(startMs + 15LL * 60 * 1000));
        sync.appendEntry("task_outcome", outcome.id(), nurse, id, std::move(entry), nowMs, startMs + 15LL * 60 * 1000);
      }
    }
    ++added;
  }
  return added;
}

}  // namespace hemma::server
