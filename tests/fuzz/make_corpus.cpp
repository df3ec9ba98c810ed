// hemma_fuzz_corpus DIR: writes the fuzz targets' seed corpora into
// DIR/<target>/, every seed a valid input: the requests and answers of
// nurse-karin's tablet (a real device core) syncing with the demo world's
// server in memory while she works through a visit, and hand-written JSON
// bodies, HTTP requests and times. Deterministic: the clock is fixed.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz_server.hpp"
#include "hemma/mobile/device.hpp"
#include "hemma/sync/protocol.hpp"

namespace {

using namespace hemma;
namespace fs = std::filesystem;

fs::path gRoot;

void writeSeed(const std::string& target, const std::string& name, const std::string& bytes) {
  const fs::path dir = gRoot / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string withOptions(std::uint8_t options, const std::string& bytes) {
  return std::string(1, static_cast<char>(options)) + bytes;
}

std::string page(const std::string& bytes) {
  if (bytes.size() > 0xffff) throw std::runtime_error("a pull page seed is over 64 KiB");
  std::string framed;
  framed += static_cast<char>(bytes.size() & 0xff);
  framed += static_cast<char>(bytes.size() >> 8);
  return framed + bytes;
}

class FixedClock final : public mobile::Clock {
 public:
  std::int64_t nowMs() override { return fuzz::kNowMs; }
};

// The tablet's link to the server in memory; keeps what went over it.
class RecordingLink final : public mobile::Transport {
 public:
  RecordingLink(fuzz::ServerWorld& world, const api::Principal& caller) : m_world(world), m_caller(caller) {}

  std::vector<sync::PushRequest> pushes;
  std::vector<sync::PullRequest> pulls;
  std::vector<sync::PullResponse> pages;

  sync::PushResponse push(const sync::PushRequest& request) override {
    pushes.push_back(request);
    return m_world.care().push(m_caller, request, fuzz::kNowMs);
  }
  sync::PullResponse pull(const sync::PullRequest& request) override {
    pulls.push_back(request);
    pages.push_back(m_world.care().pull(m_caller, request, fuzz::kNowMs));
    return pages.back();
  }

 private:
  fuzz::ServerWorld& m_world;
  const api::Principal& m_caller;
};

void syncSeeds() {
  fuzz::ServerWorld world;
  const api::Principal& karin = world.principal(fuzz::Caller::NurseKarinTablet);
  RecordingLink link(world, karin);
  FixedClock clock;
  mobile::Device device(":memory:", clock);
  device.enrol(karin.device_id(), karin.user_id());
  mobile::SyncClient::Options options;
  options.attempts = 1;
  options.pullPage = 40;

  auto synced = [&](const std::string& what) {
    const auto report = device.sync(link, options);
    if (!report.ok) throw std::runtime_error(what + ": sync failed: " + report.error);
    if (report.rejected) throw std::runtime_error(what + ": the server rejected an operation");
  };
  synced("first sync");

  // Each step of the visit is one push.
  const std::vector<std::pair<std::string, std::function<void()>>> steps = {
      {"note", [&] { device.writeNote("patient-01", "", "Slept well, eats breakfast on her own"); }},
      {"start_visit", [&] { device.startVisit("patient-03-visit-2"); }},
      {"vital_signs",
       [&] {
         mobile::VitalSigns vitals;
         vitals.respiratoryRate = 16;
         vitals.spo2 = 96;
         vitals.onOxygen = false;
         vitals.systolicBp = 128;
         vitals.pulse = 72;
         vitals.consciousness = mobile::Consciousness::Alert;
         vitals.temperatureC = 36.8;
         device.recordVitalSigns("patient-03-visit-2", vitals);
       }},
      {"escalating_vital_signs",
       [&] {
         mobile::VitalSigns vitals;
         vitals.respiratoryRate = 26;
         vitals.spo2 = 90;
         vitals.onOxygen = true;
         vitals.systolicBp = 95;
         vitals.pulse = 125;
         vitals.consciousness = mobile::Consciousness::Alert;
         vitals.temperatureC = 39.2;
         device.recordVitalSigns("patient-03-visit-2", vitals);
       }},
      {"task_outcome",
       [&] { device.recordTaskOutcome("patient-03-visit-2", "patient-03-act-2", domain::TaskOutcome::DONE); }},
      {"medication", [&] { device.recordMedication("patient-03-visit-2", "patient-03-med-1", true); }},
      {"medication_not_given",
       [&] { device.recordMedication("patient-03-visit-2", "patient-03-med-1", false, "Asleep; try at noon"); }},
      {"note_at_visit", [&] { device.writeNote("patient-03", "patient-03-visit-2", "Wound dressing changed"); }},
      {"proposal",
       [&] {
         device.proposeChange("patient-03", "medication", "patient-03-med-1", "dose", "5 mg", "Dizzy in the mornings");
       }},
      {"message", [&] { device.sendMessage("patient-03", "Could you call her daughter?"); }},
      {"field_write",
       [&] { device.writeField("patient-03", "patient", "patient-03", "access_notes", "Key in box 12"); }},
      {"two_notes",
       [&] {
         device.writeNote("patient-01", "", "First of two");
         device.writeNote("patient-01", "", "Second of two");
       }},
  };
  for (const auto& [name, step] : steps) {
    const std::size_t before = link.pushes.size();
    try {
      step();
    } catch (const std::exception& e) {
      std::cerr << "hemma_fuzz_corpus: skipping " << name << ": " << e.what() << "\n";
      continue;
    }
    synced(name);
    if (link.pushes.size() == before) throw std::runtime_error(name + ": nothing was pushed");
    const std::string bytes = link.pushes.back().SerializeAsString();
    writeSeed("push_request", name, withOptions(0, bytes));
    writeSeed("push_request", name + "_forced", withOptions(0x1c, bytes));
  }

  for (std::size_t i = 0; i < link.pulls.size() && i < 12; ++i) {
    writeSeed("pull_request", "karin_" + std::to_string(i), withOptions(0, link.pulls[i].SerializeAsString()));
  }
  const fuzz::Caller others[] = {fuzz::Caller::NurseOlleTablet, fuzz::Caller::NurseMariaTablet,
                                 fuzz::Caller::PhysicianSaraTablet};
  for (std::uint8_t i = 0; i < 3; ++i) {
    sync::PullRequest request;
    request.set_protocol_version(sync::kProtocolVersion);
    request.set_device_id(world.principal(others[i]).device_id());
    request.set_limit(20);
    request.mutable_scope();
    writeSeed("pull_request", "first_of_tablet_" + std::to_string(i + 1),
              withOptions(static_cast<std::uint8_t>(i + 1), request.SerializeAsString()));
    request.mutable_scope()->add_held_patient_ids("patient-01");
    request.mutable_scope()->add_held_patient_ids("patient-02");
    request.set_after_seq(100);
    writeSeed("pull_request", "held_of_tablet_" + std::to_string(i + 1),
              withOptions(static_cast<std::uint8_t>(i + 1), request.SerializeAsString()));
  }

  std::size_t written = 0;
  for (std::size_t i = 0; i < link.pages.size() && written < 16; ++i) {
    const std::string bytes = link.pages[i].SerializeAsString();
    if (bytes.size() > 8 * 1024) continue;
    writeSeed("device_pull_response", "page_" + std::to_string(i), page(bytes));
    ++written;
  }
  if (link.pages.size() >= 2) {
    writeSeed("device_pull_response", "two_pages",
              page(link.pages[0].SerializeAsString()) + page(link.pages[1].SerializeAsString()));
  }
  sync::PullResponse purge;
  purge.set_protocol_version(sync::kProtocolVersion);
  purge.set_next_cursor(link.pages.back().next_cursor());
  purge.add_purge_patient_ids("patient-01");
  purge.set_server_time_ms(fuzz::kNowMs);
  writeSeed("device_pull_response", "purge", page(purge.SerializeAsString()));
}

struct ApiSeed {
  const char* name;
  std::uint8_t route;   // json_api_fuzz.cpp kRoutes
  std::uint8_t caller;  // fuzz::Caller; 15: none; +128: protobuf body
  std::uint8_t ids;     // bits 0-2, 3-5: kIds
  std::string body;
};

void apiSeeds(const fuzz::ServerWorld& world) {
  const auto c = [](fuzz::Caller caller) { return static_cast<std::uint8_t>(caller); };
  const std::string version = std::to_string(sync::kProtocolVersion);
  const ApiSeed seeds[] = {
      {"login", 0, 15, 0, R"({"username":"nurse-karin","password":"demo"})"},
      {"login_wrong", 0, 15, 0, R"({"username":"admin-ada","password":"nope"})"},
      {"patient_update", 1, c(fuzz::Caller::CoordinatorLena), 0,
       R"({"address":"Storgatan 3, Norrby","accessNotes":"Ring twice"})"},
      {"patient_name", 1, c(fuzz::Caller::NurseKarin), 0, R"({"name":"Astrid Lind","preferredLanguage":"sv"})"},
      {"plan_update", 2, c(fuzz::Caller::CoordinatorLena), 0,
       R"({"status":"ACTIVE","goals":[{"text":"Walk to the shop"}],"activities":[{"id":"patient-01-act-1","text":"Medication administration","frequency":"twice daily","responsibleRole":"NURSE"}],"medications":[{"name":"Paracetamol","dose":"500 mg","frequency":"08:00"}],"spo2Scale2":false})"},
      {"visit_schedule", 3, c(fuzz::Caller::CoordinatorLena), 0,
       R"({"scheduledStart":"2026-11-29T09:00:00Z","nurseId":"nurse-karin","activityId":"patient-01-act-1"})"},
      {"visit_update", 4, c(fuzz::Caller::CoordinatorLena), 0 | (4 << 3),
       R"({"nurseId":"nurse-olle","scheduledStart":"2026-11-28T10:00:00Z"})"},
      {"proposal", 5, c(fuzz::Caller::NurseKarin), 0,
       R"({"entityType":"medication","entityId":"patient-01-med-1","field":"dose","proposedValue":"250 mg","reason":"Nausea"})"},
      {"proposal_reject", 6, c(fuzz::Caller::PhysicianSara), 128, "proposal-1\n{\"reason\":\"Not now\"}"},
      {"consent", 7, c(fuzz::Caller::CoordinatorLena), 1,
       R"({"organisationId":"org-soder","validFrom":"2026-11-28T00:00:00Z","validUntil":"2027-11-28T00:00:00Z"})"},
      {"message", 8, c(fuzz::Caller::NurseKarin), 0, R"({"text":"Her cough is worse","urgent":true})"},
      {"message_to", 8, c(fuzz::Caller::PhysicianSara), 0, R"({"text":"I will call","recipientId":"nurse-karin"})"},
      {"care_team", 9, c(fuzz::Caller::CoordinatorLena), 0,
       R"({"practitionerId":"nurse-maria","responsibility":"MEMBER"})"},
      {"block", 10, c(fuzz::Caller::Patient01), 0, R"({"unitId":"unit-norrby-south"})"},
      {"language", 11, c(fuzz::Caller::Patient01), 0, R"({"language":"fi"})"},
      {"conflict_resolve", 12, c(fuzz::Caller::PhysicianSara), 128, "conflict:x\n{\"value\":\"5 mg\"}"},
      {"audit_review", 13, c(fuzz::Caller::AdminAda), 0, R"({"entrySeqs":["1"],"finding":"ok","note":"checked"})"},
      {"device", 14, c(fuzz::Caller::NurseKarin), 0, R"({"deviceId":"tab-new"})"},
      {"push_json", 15, c(fuzz::Caller::NurseKarinTablet), 0,
       R"({"protocolVersion":)" + version +
           R"(,"deviceId":"nurse-karin-tablet","operations":[{"id":"nurse-karin-tablet:900","authorId":"nurse-karin","deviceId":"nurse-karin-tablet","hlc":"117692989440000000","patientId":"patient-01","entityType":"visit_note","entityId":"nurse-karin-tablet:900","recordedAt":"2026-11-28T07:59:00Z","append":{"note":{"id":"nurse-karin-tablet:900","patientId":"patient-01","authorId":"nurse-karin","text":"hello"}}}]})"},
      {"pull_json", 16, c(fuzz::Caller::NurseKarinTablet), 0,
       R"({"protocolVersion":)" + version +
           R"(,"deviceId":"nurse-karin-tablet","afterSeq":"0","limit":10,"scope":{}})"},
      {"audit_query", 17, c(fuzz::Caller::AdminAda), 0, "patient=patient-01&limit=5"},
      {"audit_emergency", 17, c(fuzz::Caller::CoordinatorLena), 0, "emergency=true&user=physician-sara"},
      {"audit_sample", 18, c(fuzz::Caller::AdminAda), 0, "size=3"},
      {"schedule", 19, c(fuzz::Caller::CoordinatorLena), 0, "from=2026-11-28&to=2026-11-30"},
      {"board", 20, c(fuzz::Caller::CoordinatorLena), 0, "date=2026-11-28"},
      {"alerts", 21, c(fuzz::Caller::PhysicianSara), 0, "after=0"},
      {"conflicts", 22, c(fuzz::Caller::PhysicianSara), 0, "patient=patient-01&state=all"},
      {"record_emergency", 23, c(fuzz::Caller::PhysicianSara), 1, "Unconscious at home, no consent reachable"},
      {"timeline", 24, c(fuzz::Caller::NurseKarin), 0, ""},
      {"access_log", 25, c(fuzz::Caller::Patient01), 0, ""},
      {"sign", 26, c(fuzz::Caller::PhysicianSara), 128, "proposal-1\n"},
      {"care_team_remove", 27, c(fuzz::Caller::CoordinatorLena), 0 | (5 << 3), ""},
      {"revoke", 30, c(fuzz::Caller::NurseKarin), 7, ""},
  };
  for (const auto& seed : seeds) {
    std::string bytes;
    bytes += static_cast<char>(seed.route);
    bytes += static_cast<char>(seed.caller);
    bytes += static_cast<char>(seed.ids);
    bytes += seed.body;
    writeSeed("json_api", seed.name, bytes);
  }

  const std::string karin = world.authorization(fuzz::Caller::NurseKarin);
  const std::string tablet = world.authorization(fuzz::Caller::NurseKarinTablet);
  const std::string login = R"({"username":"nurse-karin","password":"demo"})";
  const std::string heads[][2] = {
      {"health", "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
      {"index", "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\nConnection: keep-alive\r\n\r\n"},
      {"login", "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(login.size()) + "\r\n\r\n" + login},
      {"patients", "GET /api/v1/patients HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + karin + "\r\n\r\n"},
      {"record", "GET /api/v1/patients/patient-01 HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + karin +
                     "\r\nAccept: application/json\r\n\r\n"},
      {"audit_query", "GET /api/v1/audit?patient=patient-01&limit=2 HTTP/1.1\r\nHost: localhost\r\nAuthorization: " +
                          karin + "\r\n\r\n"},
      {"pull_protobuf", "POST /api/v1/sync/pull HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + tablet +
                            "\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"},
      {"http10", "GET /api/v1/health HTTP/1.0\r\n\r\n"},
      {"chunked",
       "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
       "Content-Type: application/json\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n"},
      {"unknown", "DELETE /api/v1/nothing/here HTTP/1.1\r\nHost: localhost\r\n\r\n"},
      {"pipelined", "GET /api/v1/health HTTP/1.1\r\nHost: a\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"leading_crlf", "\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"refused_length_and_chunked",
       "POST /api/v1/login HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"refused_two_lengths",
       "POST /api/v1/login HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
       "Content-Length: 3\r\n\r\n{}"},
      {"refused_folding", "GET /api/v1/me HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer\r\n x\r\n\r\n"},
  };
  for (const auto& [name, bytes] : heads) writeSeed("http_head", name, bytes);
}

void timeSeeds() {
  const char* times[] = {
      "2026-11-22T09:44:08.123Z",   "2026-11-22T09:44:08Z",        "2026-11-22t09:44:08z",
      "2026-11-22T09:44:08+02:00",  "2026-11-22T09:44:08.5-05:30", "2024-02-29T23:59:60Z",
      "0000-01-01T00:00:00Z",       "9999-12-31T23:59:59.999999Z", "1970-01-01T00:00:00.000Z",
      "2026-11-22T09:44:08.123Z+3",
  };
  int n = 0;
  for (const char* text : times) writeSeed("time_and_hlc", "time_" + std::to_string(n++), text);
  std::string words;
  for (std::uint64_t w : {std::uint64_t{117'692'989'440'000'000ULL}, std::uint64_t{0}, std::uint64_t{65535},
                          std::uint64_t{117'692'989'440'000'001ULL}, std::uint64_t{1ULL << 62}}) {
    for (int i = 0; i < 8; ++i) words += static_cast<char>((w >> (8 * i)) & 0xff);
  }
  writeSeed("time_and_hlc", "clock_words", words);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: hemma_fuzz_corpus DIR   (writes DIR/<target>/<seed>)\n";
    return 2;
  }
  gRoot = argv[1];
  try {
    syncSeeds();
    fuzz::ServerWorld world;
    apiSeeds(world);
    timeSeeds();
  } catch (const std::exception& e) {
    std::cerr << "hemma_fuzz_corpus: " << e.what() << "\n";
    return 1;
  }
  for (const auto& entry : fs::directory_iterator(gRoot)) {
    std::size_t files = 0, bytes = 0;
    for (const auto& seed : fs::directory_iterator(entry.path())) {
      ++files;
      bytes += fs::file_size(seed.path());
    }
    std::cout << entry.path().filename().string() << ": " << files << " seeds, " << bytes << " bytes\n";
  }
  return 0;
}
