#include "hemma/server/demo_data.hpp"

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

constexpr std::array kFirstNames{"Astrid", "Bertil", "Cecilia", "Dagny", "Einar", "Frida", "Gunnar", "Hilma",
                                 "Ingvar", "Jenny", "Kalle", "Linnea", "Magnus", "Nora", "Oskar", "Pia",
                                 "Ragnar", "Signe", "Tore", "Ulla", "Viktor", "Wilma", "Yngve", "Åsa",
                                 "Aino", "Eero", "Helmi", "Lauri", "Saara", "Veikko"};
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
  domain.upsertOrganisation(organisation(kSoder, "Region Söder", domain::Organisation::REGION,
                                         {{"unit-soder-physicians", "Hemsjukvårdsläkare"},
                                          {"unit-soder-palliative", "Palliativt team"}}));
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
    domain.upsertPatient({id, "19" + twoDigits(20 + n) + "0" + std::to_string(n % 9 + 1) + "12-" +
                                  std::to_string(1000 + n * 37),
                          home, n == 3});
    api::Principal patientLogin;
    patientLogin.set_user_id(id);
    patientLogin.set_name(name);
    patientLogin.set_patient_id(id);
    auth.upsertAccount(id, kDemoPassword, patientLogin);

    auto write = [&](const std::string& type, const std::string& entity, const std::string& field,
                     const std::string& value) { sync.writeField(author, id, type, entity, field, value, nowMs); };
    write("patient", id, "name", name);
    write("patient", id, "address", std::string(kStreets[n % kStreets.size()]) + " " + std::to_string(n * 3) +
                                        (regional ? ", Söderby" : ", Norrby"));
    write("patient", id, "access_notes", n % 2 ? "Key box by the door, code 4" + twoDigits(n) + "1"
                                               : "Ring twice; the patient opens herself");
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

    // Today's and tomorrow's visits for the responsible nurse.
    const char* nurse = regional ? "nurse-maria" : (n % 2 ? "nurse-karin" : "nurse-olle");
    for (int day = 0; day < 2; ++day) {
      const std::string visit = id + "-visit-" + std::to_string(day + 1);
      const auto startMs = *sync::parseRfc3339(today + "T07:00:00Z") + day * 24LL * 3600 * 1000 + n * 15LL * 60 * 1000;
      write("visit", visit, "scheduled_start", sync::formatRfc3339(startMs));
      write("visit", visit, "nurse_id", nurse);
      write("visit", visit, "activity_id", id + "-act-1");
      write("visit", visit, "status", "PLANNED");
    }
    ++added;
  }
  return added;
}

}  // namespace hemma::server
