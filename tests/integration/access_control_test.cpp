// Access control against the real server binary on loopback, in the demo
// world (`hemma-server --demo`): every patient-scoped endpoint called as
// every role from both organisations, with and without a care relationship
// and consent, each attempt checked for allow or deny and for its audit
// entry; emergency access; protected identity; the proposal and sign-off
// flow; and bad input answered with a 4xx that names the field or reason.
//
// The expected decisions are written here from the rules as DESIGN.md
// ("Security and privacy") and access_policy.hpp state them, and from the
// demo world as demo_data.hpp describes it; they do not call the server's
// policy code.

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "hemma/api.pb.h"
#include "hemma/mobile/clock.hpp"
#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync.pb.h"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using test::call;
using test::HttpAnswer;

// ---------------------------------------------------------------------------
// The demo world, as far as the matrix needs it.

enum class Kind { Nurse, Physician, Coordinator, Administrator, Patient };

struct Caller {
  std::string user;
  Kind kind;
  std::string organisation;  // empty for patients
};

const std::vector<Caller> kCallers = {
    {"nurse-karin", Kind::Nurse, "org-norrby"},             // in the team of patient-01
    {"nurse-maria", Kind::Nurse, "org-soder"},              // in neither team
    {"physician-sara", Kind::Physician, "org-soder"},       // in both teams; patient-02 has no consent for soder
    {"physician-johan", Kind::Physician, "org-soder"},      // in neither team
    {"coordinator-lena", Kind::Coordinator, "org-norrby"},  // the patients' home organisation
    {"coordinator-rolf", Kind::Coordinator, "org-soder"},   // the other organisation
    {"admin-ada", Kind::Administrator, "org-norrby"},
    {"patient-01", Kind::Patient, ""},
    {"patient-02", Kind::Patient, ""},
};

const std::vector<std::string> kPatients = {"patient-01", "patient-02"};
const std::string kHomeOrganisation = "org-norrby";  // of patient-01 and patient-02
const std::map<std::string, std::set<std::string>> kCareTeam = {
    {"patient-01", {"nurse-karin", "nurse-olle", "physician-sara"}},
    {"patient-02", {"nurse-olle", "physician-sara"}},
};
const std::map<std::string, std::set<std::string>> kConsentFor = {
    {"patient-01", {"org-norrby", "org-soder"}},
    {"patient-02", {"org-norrby"}},
};

// What an endpoint needs of its caller.
enum class Need {
  Read,         // the record, timeline, team, consents, blocks, visits, proposals, conflicts
  WriteRecord,  // demographics and access notes
  EditPlan,
  ScheduleVisit,
  ManageCareTeam,
  ManageConsent,  // consents and blocks
  Propose,
  Decide,  // sign or reject a proposal
  ResolveConflict,
  ReadAccessLog,
  ReviewAudit,  // the organisation's audit log
  SendMessage,  // a message about the patient
  SetLanguage,  // the patient's preferred language
};

// The roles a practitioner needs for each kind of call: coordinators build
// the plan, schedule visits and manage team, consent and blocks; nurses
// propose changes; physicians sign or reject them; the clinical roles read
// and write the record and resolve sync conflicts.
bool roleMay(Kind kind, Need need) {
  const bool clinical = kind == Kind::Nurse || kind == Kind::Physician || kind == Kind::Coordinator;
  switch (need) {
    case Need::Read:
    case Need::WriteRecord:
    case Need::ResolveConflict:
    case Need::SetLanguage:
      return clinical;
    case Need::SendMessage:
      return kind == Kind::Nurse || kind == Kind::Physician;
    case Need::EditPlan:
    case Need::ScheduleVisit:
    case Need::ManageCareTeam:
    case Need::ManageConsent:
    case Need::ReadAccessLog:
      return kind == Kind::Coordinator;
    case Need::Propose:
      return kind == Kind::Nurse;
    case Need::Decide:
      return kind == Kind::Physician;
    case Need::ReviewAudit:
      return kind == Kind::Coordinator || kind == Kind::Administrator;
  }
  return false;
}

// The expected decision, from the rules.
bool expectAllowed(const Caller& caller, Need need, const std::string& patient) {
  // The audit log is reviewed per organisation, not per patient.
  if (need == Need::ReviewAudit) return roleMay(caller.kind, need);
  // A patient reads their own record and access log and manages their own
  // consent and blocks; nothing else, and nobody else's.
  if (caller.kind == Kind::Patient) {
    return caller.user == patient && (need == Need::Read || need == Need::ReadAccessLog ||
                                      need == Need::ManageConsent || need == Need::SetLanguage);
  }
  // Administrators manage accounts, never clinical data.
  if (caller.kind == Kind::Administrator) return false;
  if (!roleMay(caller.kind, need)) return false;
  // A care relationship: the care team, or a coordinator of the home organisation.
  const bool relationship = kCareTeam.at(patient).count(caller.user) > 0 ||
                            (caller.kind == Kind::Coordinator && caller.organisation == kHomeOrganisation);
  // Across organisations only with the patient's consent.
  const bool consented =
      caller.organisation == kHomeOrganisation || kConsentFor.at(patient).count(caller.organisation) > 0;
  return relationship && consented;
}

// The audit log's name for each kind of call.
std::string auditAction(Need need) {
  switch (need) {
    case Need::Read:
      return "record.read";
    case Need::WriteRecord:
      return "record.write";
    case Need::EditPlan:
      return "plan.edit";
    case Need::ScheduleVisit:
      return "visit.schedule";
    case Need::ManageCareTeam:
      return "care_team.manage";
    case Need::ManageConsent:
      return "consent.manage";
    case Need::Propose:
      return "proposal.create";
    case Need::Decide:
      return "proposal.decide";
    case Need::ResolveConflict:
      return "conflict.resolve";
    case Need::ReadAccessLog:
      return "access_log.read";
    case Need::ReviewAudit:
      return "audit.read";
    case Need::SendMessage:
      return "message.send";
    case Need::SetLanguage:
      return "language.set";
  }
  return "?";
}

std::string auditUser(const Caller& caller) {
  return caller.kind == Kind::Patient ? "patient:" + caller.user : caller.user;
}

bool startsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// ---------------------------------------------------------------------------
// Fixtures: things a call acts on (a consent to withdraw, a proposal to
// sign, an open conflict to resolve), made fresh so each allowed call really
// succeeds, without changing who may see the patient.

class World {
 public:
  World(const test::TempDir& dir, const test::ServerProcess& server)
      : m_dir(dir), m_server(server), m_port(server.port()) {
    for (const auto& caller : kCallers) m_tokens[caller.user] = test::login(m_port, caller.user);
    m_tokens["nurse-olle"] = test::login(m_port, "nurse-olle");
  }

  int port() const { return m_port; }
  const std::string& token(const std::string& user) const { return m_tokens.at(user); }

  HttpAnswer as(const std::string& user, const std::string& method, const std::string& path,
                const std::string& body = {}) const {
    return call(m_port, method, path, token(user), body);
  }

  // A setup call that must succeed; returns its JSON.
  std::string setup(const std::string& user, const std::string& method, const std::string& path,
                    const std::string& body = {}) const {
    const HttpAnswer answer = as(user, method, path, body);
    INFO("setup: " << method << " " << path << " as " << user << " -> " << answer.status << " " << answer.body);
    REQUIRE(answer.status == 200);
    return answer.body;
  }

  // An extra consent for the home organisation (which already has one), so
  // withdrawing it changes nobody's access.
  std::string newConsent(const std::string& patient) const {
    return test::parsed<api::Consent>(setup("coordinator-lena", "POST", "/api/v1/patients/" + patient + "/consents",
                                            R"({"organisationId": "org-norrby"})"))
        .id();
  }

  // A block of unit-soder-palliative, whose only member (nurse-maria) is in
  // neither team: it hides nothing the matrix reads. (Not Olle's unit: his
  // proposals would leave the others' queues, as his entries their
  // timelines.)
  std::string newBlock(const std::string& patient) const {
    return test::parsed<api::Block>(setup("coordinator-lena", "POST", "/api/v1/patients/" + patient + "/blocks",
                                          R"({"unitId": "unit-soder-palliative"})"))
        .id();
  }

  // A pending proposal by nurse-olle (in both care teams, not a matrix caller).
  std::string newProposal(const std::string& patient) const {
    return test::parsed<api::PlanChangeProposal>(
               setup("nurse-olle", "POST", "/api/v1/patients/" + patient + "/proposals", proposalBody(patient)))
        .id();
  }

  static std::string proposalBody(const std::string& patient) {
    return R"({"entityType": "care_plan_activity", "entityId": ")" + patient +
           R"(-act-2", "field": "frequency", "proposedValue": "daily", "reason": "matrix"})";
  }

  // nurse-olle back in the care team with the responsibility the demo gives him.
  static std::string olleMembership(const std::string& patient) {
    return std::string(R"({"practitionerId": "nurse-olle", "responsibility": ")") +
           (patient == "patient-01" ? "MEMBER" : "RESPONSIBLE_NURSE") + "\"}";
  }
  void ensureOlleInTeam(const std::string& patient) const {
    setup("coordinator-lena", "POST", "/api/v1/patients/" + patient + "/care-team", olleMembership(patient));
  }

  // An open sync conflict of `patient`: two tablets of coordinator-lena (the
  // plan's editor; a nurse's tablet may not write doses) change the same
  // dose concurrently. Reused until resolved.
  std::string openConflict(const std::string& patient) {
    auto& id = m_openConflict[patient];
    if (!id.empty()) return id;
    if (!m_tablets) m_tablets = std::make_unique<Tablets>(m_dir, m_server);
    Tablets& t = *m_tablets;
    const std::string n = std::to_string(++m_conflicts);
    REQUIRE(t.office.sync(t.officeLink).ok);
    REQUIRE(t.lena.sync(t.lenaLink).ok);
    t.office.writeField(patient, "medication", "med-acl", "dose", n + " mg");
    t.lena.writeField(patient, "medication", "med-acl", "dose", n + ".5 mg");
    const auto first = t.office.sync(t.officeLink);
    INFO("the office tablet: " << first.error);
    REQUIRE(first.ok);
    const auto second = t.lena.sync(t.lenaLink);
    INFO("lena's tablet: " << second.error);
    REQUIRE(second.ok);
    const auto open = test::parsed<sync::ConflictList>(
        setup("coordinator-lena", "GET", "/api/v1/conflicts?patient=" + patient + "&state=open"));
    INFO(test::toJson(open));
    REQUIRE(open.conflicts_size() == 1);
    id = open.conflicts(0).id();
    return id;
  }
  void conflictResolved(const std::string& patient) { m_openConflict[patient].clear(); }

 private:
  struct Tablets {
    Tablets(const test::TempDir& dir, const test::ServerProcess& server)
        : office(dir.file("tablet-office.db"), clock),
          lena(dir.file("tablet-lena.db"), clock),
          officeLink(mobile::ServerAddress::parse(server.url())),
          lenaLink(mobile::ServerAddress::parse(server.url())) {
      test::signIn(office, server, "coordinator-lena", "tablet-office");
      test::signIn(lena, server, "coordinator-lena", "tablet-lena");
      // A common starting value, so the next edits are concurrent ones.
      for (const auto& patient : kPatients) office.writeField(patient, "medication", "med-acl", "dose", "1 mg");
      REQUIRE(office.sync(officeLink).ok);
      REQUIRE(lena.sync(lenaLink).ok);
    }
    mobile::SystemClock clock;
    mobile::Device office;
    mobile::Device lena;
    mobile::HttpTransport officeLink;
    mobile::HttpTransport lenaLink;
  };

  const test::TempDir& m_dir;
  const test::ServerProcess& m_server;
  int m_port;
  std::map<std::string, std::string> m_tokens;
  std::map<std::string, std::string> m_openConflict;
  std::unique_ptr<Tablets> m_tablets;
  int m_conflicts = 0;
};

struct Request {
  std::string path;
  std::string body;
};

struct Endpoint {
  std::string method;
  std::string route;  // as in the router's table, for messages
  Need need;
  // Makes what the call acts on; returns the request for `patient`.
  std::function<Request(World&, const std::string& patient)> prepare;
  // Restores the world after a call that answered `status`.
  std::function<void(World&, const std::string& patient, int status)> after = {};
};

std::vector<Endpoint> patientEndpoints() {
  const auto p = [](const std::string& patient) { return "/api/v1/patients/" + patient; };
  return {
      {"GET", "/api/v1/patients/{}", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id), ""};
       }},
      {"PUT", "/api/v1/patients/{}", Need::WriteRecord,
       [=](World&, const std::string& id) {
         return Request{p(id), R"({"preferredLanguage": "sv"})"};
       }},
      {"GET", "/api/v1/patients/{}/timeline", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/timeline", ""};
       }},
      {"PUT", "/api/v1/patients/{}/plan", Need::EditPlan,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/plan", R"({"status": "ACTIVE"})"};
       }},
      {"GET", "/api/v1/patients/{}/care-team", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/care-team", ""};
       }},
      {"POST", "/api/v1/patients/{}/care-team", Need::ManageCareTeam,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/care-team", World::olleMembership(id)};
       }},
      {"DELETE", "/api/v1/patients/{}/care-team/{}", Need::ManageCareTeam,
       [=](World& w, const std::string& id) {
         w.ensureOlleInTeam(id);
         return Request{p(id) + "/care-team/nurse-olle", ""};
       },
       [](World& w, const std::string& id, int) { w.ensureOlleInTeam(id); }},
      {"GET", "/api/v1/patients/{}/consents", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/consents", ""};
       }},
      {"POST", "/api/v1/patients/{}/consents", Need::ManageConsent,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/consents", R"({"organisationId": "org-norrby"})"};
       }},
      {"POST", "/api/v1/consents/{}/withdraw", Need::ManageConsent,
       [](World& w, const std::string& id) {
         return Request{"/api/v1/consents/" + w.newConsent(id) + "/withdraw", ""};
       }},
      {"GET", "/api/v1/patients/{}/blocks", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/blocks", ""};
       }},
      {"POST", "/api/v1/patients/{}/blocks", Need::ManageConsent,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/blocks", R"({"unitId": "unit-soder-palliative"})"};
       }},
      {"POST", "/api/v1/blocks/{}/lift", Need::ManageConsent,
       [](World& w, const std::string& id) {
         return Request{"/api/v1/blocks/" + w.newBlock(id) + "/lift", ""};
       }},
      {"GET", "/api/v1/patients/{}/visits", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/visits", ""};
       }},
      {"POST", "/api/v1/patients/{}/visits", Need::ScheduleVisit,
       [=](World&, const std::string& id) {
         const std::string nurse = id == "patient-01" ? "nurse-karin" : "nurse-olle";
         return Request{p(id) + "/visits",
                        R"({"scheduledStart": "2030-01-15T08:00:00Z", "nurseId": ")" + nurse + "\"}"};
       }},
      {"PUT", "/api/v1/patients/{}/visits/{}", Need::ScheduleVisit,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/visits/" + id + "-visit-2", R"({"status": "PLANNED"})"};
       }},
      {"GET", "/api/v1/patients/{}/messages", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/messages", ""};
       }},
      {"POST", "/api/v1/patients/{}/messages", Need::SendMessage,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/messages", R"({"text": "matrix"})"};
       }},
      {"PUT", "/api/v1/patients/{}/language", Need::SetLanguage,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/language", R"({"language": "sv"})"};
       }},
      {"GET", "/api/v1/patients/{}/proposals", Need::Read,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/proposals", ""};
       }},
      {"POST", "/api/v1/patients/{}/proposals", Need::Propose,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/proposals", World::proposalBody(id)};
       }},
      {"POST", "/api/v1/proposals/{}/sign", Need::Decide,
       [](World& w, const std::string& id) {
         return Request{"/api/v1/proposals/" + w.newProposal(id) + "/sign", ""};
       }},
      {"POST", "/api/v1/proposals/{}/reject", Need::Decide,
       [](World& w, const std::string& id) {
         return Request{"/api/v1/proposals/" + w.newProposal(id) + "/reject", R"({"reason": "not indicated"})"};
       }},
      {"GET", "/api/v1/conflicts?patient={}", Need::Read,
       [](World&, const std::string& id) {
         return Request{"/api/v1/conflicts?patient=" + id, ""};
       }},
      {"POST", "/api/v1/conflicts/{}/resolve", Need::ResolveConflict,
       [](World& w, const std::string& id) {
         return Request{"/api/v1/conflicts/" + w.openConflict(id) + "/resolve", R"({"value": "5 mg"})"};
       },
       [](World& w, const std::string& id, int status) {
         if (status == 200) w.conflictResolved(id);
       }},
      {"GET", "/api/v1/patients/{}/access-log", Need::ReadAccessLog,
       [=](World&, const std::string& id) {
         return Request{p(id) + "/access-log", ""};
       }},
      {"GET", "/api/v1/audit?patient={}", Need::ReviewAudit,
       [](World&, const std::string& id) {
         return Request{"/api/v1/audit?patient=" + id, ""};
       }},
  };
}

std::string describe(const HttpAnswer& answer) {
  return std::to_string(answer.status) + " " + answer.body.substr(0, 400);
}

}  // namespace

TEST_CASE("access-control matrix: every patient endpoint as every role, each attempt allowed or denied and audited") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  World world(dir, server);
  test::AuditReader audit(dir.file("server.db"));
  const auto endpoints = patientEndpoints();

  int allowed = 0, denied = 0, unauthenticated = 0;
  for (const auto& endpoint : endpoints) {
    for (const auto& patient : kPatients) {
      // Without a token: 401, naming the missing header.
      {
        const Request request = endpoint.prepare(world, patient);
        const HttpAnswer answer = call(world.port(), endpoint.method, request.path, {}, request.body);
        INFO(endpoint.method << " " << request.path << " without a token -> " << describe(answer));
        CHECK(answer.status == 401);
        CHECK_THAT(answer.error(), Catch::StartsWith("Authorization: missing"));
        CHECK(answer.header("WWW-Authenticate") == "Bearer");
        ++unauthenticated;
      }
      for (const auto& caller : kCallers) {
        const Request request = endpoint.prepare(world, patient);
        const std::int64_t before = audit.lastSeq();
        const HttpAnswer answer =
            call(world.port(), endpoint.method, request.path, world.token(caller.user), request.body);
        const auto entries = audit.since(before);
        const bool expected = expectAllowed(caller, endpoint.need, patient);
        INFO(endpoint.method << " " << endpoint.route << " (" << request.path << ") as " << caller.user << " on "
                             << patient << ": expected " << (expected ? "200" : "403") << ", got " << describe(answer));
        CHECK(answer.status == (expected ? 200 : 403));
        ++(expected ? allowed : denied);

        // Exactly one audit entry for the attempt, naming who, which patient,
        // what and the outcome; a denial's reason is the one the caller got.
        REQUIRE(entries.size() == 1);
        const auto& entry = entries.front();
        CHECK(entry.userId == auditUser(caller));
        CHECK(entry.organisationId == caller.organisation);
        CHECK(entry.patientId == patient);
        CHECK(entry.action == auditAction(endpoint.need));
        CHECK_FALSE(entry.emergency);
        CHECK_FALSE(entry.at.empty());
        if (expected) {
          CHECK(entry.outcome == "allowed");
        } else {
          CHECK(startsWith(entry.outcome, "denied"));
          if (endpoint.need != Need::ReviewAudit) CHECK(entry.outcome == "denied: " + answer.error());
        }
        if (endpoint.after) endpoint.after(world, patient, answer.status);
      }
    }
  }
  // 27 endpoints x 2 patients x 9 callers, and the same without a token.
  CHECK(endpoints.size() == 27);
  CHECK(allowed + denied == 27 * 2 * 9);
  CHECK(unauthenticated == 27 * 2);
  WARN("access matrix: " << allowed << " allowed, " << denied << " denied, " << unauthenticated << " without a token");

  // The lists follow the same rules: each caller's patient list and proposal
  // queue hold exactly the patients (of these two) the caller may read.
  for (const auto& caller : kCallers) {
    const auto list = test::parsed<api::PatientList>(world.setup(caller.user, "GET", "/api/v1/patients"));
    std::set<std::string> listed;
    for (const auto& summary : list.patients()) listed.insert(summary.patient_id());
    const auto queue = test::parsed<api::ProposalList>(world.setup(caller.user, "GET", "/api/v1/proposals"));
    std::set<std::string> queued;
    for (const auto& proposal : queue.proposals()) queued.insert(proposal.patient_id());
    for (const auto& patient : kPatients) {
      INFO(caller.user << " listing " << patient);
      const bool mayRead = expectAllowed(caller, Need::Read, patient);
      CHECK(listed.count(patient) == (mayRead ? 1u : 0u));
      // Olle's matrix proposals are pending on both patients.
      CHECK(queued.count(patient) == (mayRead ? 1u : 0u));
    }
    for (const auto& patient : queued) {
      INFO(caller.user << "'s queue holds " << patient);
      CHECK(listed.count(patient) == 1);
    }
  }
}

TEST_CASE("emergency access: a physician breaks the glass with a reason, flagged in the audit and the access log") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string johan = test::login(port, "physician-johan");
  const std::string maria = test::login(port, "nurse-maria");
  const test::Headers emergency = {{"X-Hemma-Emergency-Reason", "unconscious at home, needs the medication list"}};

  // Without a reason: no care relationship.
  auto answer = call(port, "GET", "/api/v1/patients/patient-01", johan);
  CHECK(answer.status == 403);
  CHECK(answer.error() == "no care relationship with patient-01");

  // With a reason: allowed, flagged.
  auto before = audit.lastSeq();
  answer = call(port, "GET", "/api/v1/patients/patient-01", johan, {}, emergency);
  REQUIRE(answer.status == 200);
  const auto record = test::parsed<api::PatientRecord>(answer.body);
  CHECK(record.emergency_access());
  CHECK(record.patient().id() == "patient-01");
  auto entries = audit.since(before);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].userId == "physician-johan");
  CHECK(entries[0].patientId == "patient-01");
  CHECK(entries[0].action == "record.read");
  CHECK(entries[0].outcome == "allowed");
  CHECK(entries[0].emergency);

  // The organisation's review sees it with the reason.
  const std::string rolf = test::login(port, "coordinator-rolf");
  const auto flagged = test::parsed<api::AuditList>(test::auditJson(port, rolf, "?emergency=true"));
  REQUIRE(flagged.entries_size() >= 1);
  CHECK(flagged.entries(0).user_id() == "physician-johan");
  CHECK(flagged.entries(0).purpose() == "emergency: unconscious at home, needs the medication list");
  CHECK(flagged.entries(0).emergency());

  // The patient's access log shows the read, by unit, flagged.
  const std::string patient = test::login(port, "patient-01");
  answer = call(port, "GET", "/api/v1/patients/patient-01/access-log", patient);
  REQUIRE(answer.status == 200);
  const auto log = test::parsed<api::AccessLog>(answer.body);
  bool shown = false;
  for (const auto& read : log.entries()) {
    if (read.emergency() && read.organisation_id() == "org-soder" && read.unit_id() == "unit-soder-physicians") {
      shown = true;
      CHECK(read.organisation_name() == "Region Söder");
      CHECK(read.unit_name() == "Hemsjukvårdsläkare");
    }
  }
  CHECK(shown);

  // The emergency also overrides missing consent (patient-02 shares with the
  // municipality only), for reading: the timeline too.
  answer = call(port, "GET", "/api/v1/patients/patient-02/timeline", johan, {}, emergency);
  CHECK(answer.status == 200);
  // It allows reading only: a write with the header is still denied.
  answer = call(port, "PUT", "/api/v1/patients/patient-01", johan, R"({"preferredLanguage": "fi"})", emergency);
  CHECK(answer.status == 403);
  // An empty reason is no reason.
  answer = call(port, "GET", "/api/v1/patients/patient-01", johan, {}, {{"X-Hemma-Emergency-Reason", ""}});
  CHECK(answer.status == 403);

  // A nurse cannot break the glass; the attempt is denied and flagged.
  before = audit.lastSeq();
  answer = call(port, "GET", "/api/v1/patients/patient-01", maria, {}, emergency);
  CHECK(answer.status == 403);
  CHECK(answer.error() == "emergency access: only physicians may use it");
  entries = audit.since(before);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].userId == "nurse-maria");
  CHECK(entries[0].outcome == "denied: emergency access: only physicians may use it");
  CHECK(entries[0].emergency);
}

TEST_CASE("protected identity: the address is shown to the nurse who visits, not to the physician") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string hidden = "(protected identity)";

  const auto read = [&](const std::string& user) {
    const HttpAnswer answer = call(port, "GET", "/api/v1/patients/patient-03", test::login(port, user));
    INFO(user << " -> " << describe(answer));
    REQUIRE(answer.status == 200);
    return test::parsed<api::PatientRecord>(answer.body).patient();
  };
  const auto sara = read("physician-sara");
  CHECK(sara.protected_identity());
  CHECK(sara.address() == hidden);
  CHECK(sara.access_notes() == hidden);
  CHECK_FALSE(sara.name().empty());

  for (const std::string user : {"nurse-karin", "coordinator-lena", "patient-03"}) {
    INFO(user);
    const auto patient = read(user);
    CHECK(patient.protected_identity());
    CHECK(patient.address() != hidden);
    CHECK_THAT(patient.address(), Catch::EndsWith(", Norrby"));
    CHECK(patient.access_notes() != hidden);
  }

  // Writing to the record does not hand the address back either.
  const std::string saraToken = test::login(port, "physician-sara");
  const HttpAnswer written =
      call(port, "PUT", "/api/v1/patients/patient-03", saraToken, R"({"preferredLanguage": "sv"})");
  REQUIRE(written.status == 200);
  const auto afterWrite = test::parsed<domain::Patient>(written.body);
  CHECK(afterWrite.address() == hidden);
  CHECK(afterWrite.access_notes() == hidden);
  CHECK(afterWrite.preferred_language() == "sv");
}

TEST_CASE("proposal and sign-off: a nurse proposes, the physician signs, the plan changes") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string olle = test::login(port, "nurse-olle");
  const std::string karin = test::login(port, "nurse-karin");
  const std::string sara = test::login(port, "physician-sara");
  const std::string johan = test::login(port, "physician-johan");

  auto answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
                     R"({"entityType": "care_plan_activity", "entityId": "patient-01-act-2", "field": "frequency",
                         "proposedValue": "twice daily", "reason": "NEWS2 rising"})");
  REQUIRE(answer.status == 200);
  const auto proposal = test::parsed<api::PlanChangeProposal>(answer.body);
  CHECK(proposal.status() == api::PlanChangeProposal::PENDING);
  CHECK(proposal.proposer_id() == "nurse-olle");
  CHECK(proposal.current_value() == "daily");
  CHECK(proposal.proposed_value() == "twice daily");
  const std::string id = proposal.id();
  REQUIRE_FALSE(id.empty());

  // It waits in the physician's queue.
  auto queue = test::parsed<api::ProposalList>(call(port, "GET", "/api/v1/proposals", sara).body);
  bool queued = false;
  for (const auto& p : queue.proposals()) queued = queued || p.id() == id;
  CHECK(queued);

  // Nurses do not sign; nor does a physician outside the care team.
  answer = call(port, "POST", "/api/v1/proposals/" + id + "/sign", karin);
  CHECK(answer.status == 403);
  CHECK_THAT(answer.error(), Catch::Contains("proposal.decide") && Catch::Contains("NURSE"));
  answer = call(port, "POST", "/api/v1/proposals/" + id + "/sign", johan);
  CHECK(answer.status == 403);
  CHECK(answer.error() == "no care relationship with patient-01");

  // Sara signs: audited, and the plan carries the new frequency.
  const auto before = audit.lastSeq();
  answer = call(port, "POST", "/api/v1/proposals/" + id + "/sign", sara);
  REQUIRE(answer.status == 200);
  const auto signed_ = test::parsed<api::PlanChangeProposal>(answer.body);
  CHECK(signed_.status() == api::PlanChangeProposal::SIGNED);
  CHECK(signed_.decided_by() == "physician-sara");
  CHECK_FALSE(signed_.decided_at().empty());
  const auto entries = audit.since(before);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].userId == "physician-sara");
  CHECK(entries[0].action == "proposal.decide");
  CHECK(entries[0].outcome == "allowed");
  CHECK(entries[0].patientId == "patient-01");

  answer = call(port, "GET", "/api/v1/patients/patient-01", karin);
  REQUIRE(answer.status == 200);
  const auto record = test::parsed<api::PatientRecord>(answer.body);
  bool found = false;
  for (const auto& activity : record.plan().activities()) {
    if (activity.id() != "patient-01-act-2") continue;
    found = true;
    CHECK(activity.frequency() == "twice daily");
    CHECK(activity.text() == "Vital signs with NEWS2");
  }
  CHECK(found);
  queue = test::parsed<api::ProposalList>(call(port, "GET", "/api/v1/proposals", sara).body);
  for (const auto& p : queue.proposals()) CHECK(p.id() != id);

  // Once decided, it stays decided.
  answer = call(port, "POST", "/api/v1/proposals/" + id + "/sign", sara);
  CHECK(answer.status == 400);
  CHECK(answer.error() == "proposal " + id + ": already SIGNED");
  answer = call(port, "POST", "/api/v1/proposals/" + id + "/reject", sara, R"({"reason": "changed my mind"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("already SIGNED"));

  // A rejection needs a reason; with one, the plan is left as it was.
  answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
                R"({"entityType": "care_plan_activity", "entityId": "patient-01-act-2", "field": "frequency",
                    "proposedValue": "hourly"})");
  REQUIRE(answer.status == 200);
  const std::string second = test::parsed<api::PlanChangeProposal>(answer.body).id();
  answer = call(port, "POST", "/api/v1/proposals/" + second + "/reject", sara, "{}");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "reason: a rejection needs a reason");
  answer = call(port, "POST", "/api/v1/proposals/" + second + "/reject", sara, R"({"reason": ""})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("reason:"));
  answer = call(port, "POST", "/api/v1/proposals/" + second + "/reject", sara, R"({"reason": "not indicated"})");
  REQUIRE(answer.status == 200);
  const auto rejected = test::parsed<api::PlanChangeProposal>(answer.body);
  CHECK(rejected.status() == api::PlanChangeProposal::REJECTED);
  CHECK(rejected.decision_reason() == "not indicated");
  const auto plan =
      test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", karin).body).plan();
  for (const auto& activity : plan.activities()) {
    if (activity.id() == "patient-01-act-2") CHECK(activity.frequency() == "twice daily");
  }

  // A proposal that names no real field is refused, naming the field.
  answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
                R"({"entityType": "care_plan_activity", "entityId": "patient-01-act-2", "field": "colour",
                    "proposedValue": "blue"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("field:"));
  answer =
      call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
           R"({"entityType": "visit", "entityId": "patient-01-visit-1", "field": "status", "proposedValue": "DONE"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("entity_type:"));
  answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
                R"({"entityType": "care_plan_activity", "entityId": "patient-01-act-2", "field": "frequency"})");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "proposed_value: empty");
}

TEST_CASE("bad request bodies and unknown ids get a 4xx naming the field or the id") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string lena = test::login(port, "coordinator-lena");
  const std::string sara = test::login(port, "physician-sara");

  // Malformed JSON.
  auto answer = call(port, "POST", "/api/v1/login", {}, R"({"username": "nurse-karin", "password": )");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "body: the text ends where a value should be at byte 40 (password)");
  answer = call(port, "PUT", "/api/v1/patients/patient-01", lena, "{preferredLanguage: sv}");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "body: expected a key in double quotes at byte 1 (the top level)");
  answer = call(port, "PUT", "/api/v1/patients/patient-01", lena, "");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "body: empty; expected a JSON Patient");

  // Wrong types name the field.
  answer = call(port, "POST", "/api/v1/login", {}, R"({"username": 5, "password": "demo"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("username"));
  answer = call(port, "POST", "/api/v1/patients/patient-01/consents", lena, R"({"organisationId": ["org-soder"]})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("organisationId") || Catch::Contains("organisation_id"));
  answer = call(port, "PUT", "/api/v1/patients/patient-01/plan", lena, R"({"status": "SOMETIMES"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("status"));

  // Unknown fields are refused, not ignored.
  answer = call(port, "POST", "/api/v1/login", {}, R"({"username": "nurse-karin", "password": "demo", "colour": 3})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("colour"));
  answer = call(port, "PUT", "/api/v1/patients/patient-01", lena, R"({"shoeSize": "42"})");
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("shoeSize"));

  // Invalid values name the field.
  answer = call(port, "POST", "/api/v1/patients/patient-01/visits", lena,
                R"({"scheduledStart": "tomorrow morning", "nurseId": "nurse-karin"})");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "scheduled_start: not an RFC 3339 time");
  answer = call(port, "POST", "/api/v1/patients/patient-01/visits", lena,
                R"({"scheduledStart": "2030-01-15T08:00:00Z", "nurseId": "nurse-maria"})");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "nurse_id: nurse-maria is not in the care team of patient-01");
  answer = call(port, "POST", "/api/v1/patients/patient-01/consents", lena, R"({"organisationId": "org-nowhere"})");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "organisation_id: no organisation org-nowhere");
  answer = call(port, "POST", "/api/v1/patients/patient-01/blocks", lena, "{}");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "unit_id: empty");
  answer = call(port, "POST", "/api/v1/patients/patient-01/care-team", lena, R"({"practitionerId": "nurse-nobody"})");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "practitioner_id: no practitioner nurse-nobody");
  answer = call(port, "GET", "/api/v1/conflicts?patient=patient-01&state=closed", lena);
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("state:"));
  answer = call(port, "GET", "/api/v1/audit?limit=lots", lena);
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith("limit:"));
  answer = call(port, "GET", "/api/v1/audit?colour=red", lena);
  CHECK(answer.status == 400);
  CHECK(answer.error() == "colour: unknown query parameter");

  // Unknown ids: 404 naming the id (the unknown patient's attempt is audited).
  test::AuditReader audit(dir.file("server.db"));
  const auto before = audit.lastSeq();
  answer = call(port, "GET", "/api/v1/patients/patient-99", lena);
  CHECK(answer.status == 404);
  CHECK(answer.error() == "patient patient-99: no such patient");
  const auto entries = audit.since(before);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].patientId == "patient-99");
  CHECK(startsWith(entries[0].outcome, "denied"));
  answer = call(port, "PUT", "/api/v1/patients/patient-99/plan", lena, R"({"status": "ACTIVE"})");
  CHECK(answer.status == 404);
  CHECK_THAT(answer.error(), Catch::Contains("patient-99"));
  answer = call(port, "POST", "/api/v1/proposals/proposal-nope/sign", sara);
  CHECK(answer.status == 404);
  CHECK(answer.error() == "proposal proposal-nope: no such proposal");
  answer = call(port, "POST", "/api/v1/proposals/proposal-nope/reject", sara, R"({"reason": "r"})");
  CHECK(answer.status == 404);
  CHECK_THAT(answer.error(), Catch::Contains("proposal-nope"));
  answer = call(port, "POST", "/api/v1/consents/consent-nope/withdraw", lena);
  CHECK(answer.status == 404);
  CHECK(answer.error() == "consent consent-nope: no such consent");
  answer = call(port, "POST", "/api/v1/blocks/block-nope/lift", lena);
  CHECK(answer.status == 404);
  CHECK(answer.error() == "block block-nope: no such block");
  answer = call(port, "DELETE", "/api/v1/patients/patient-01/care-team/nurse-maria", lena);
  CHECK(answer.status == 404);
  CHECK(answer.error() == "practitioner nurse-maria: not in the care team of patient-01");
  // An unknown conflict is a 404 only after authentication.
  answer = call(port, "POST", "/api/v1/conflicts/conflict-nope/resolve", {}, R"({"value": "5 mg"})");
  CHECK(answer.status == 401);
  answer = call(port, "POST", "/api/v1/conflicts/conflict-nope/resolve", "not.a.token", R"({"value": "5 mg"})");
  CHECK(answer.status == 401);
  answer = call(port, "POST", "/api/v1/conflicts/conflict-nope/resolve", sara, R"({"value": "5 mg"})");
  CHECK(answer.status == 404);
  CHECK(answer.error() == "conflict conflict-nope: no such conflict");
  answer = call(port, "GET", "/api/v1/no-such-thing", lena);
  CHECK(answer.status == 404);
  answer = call(port, "PATCH", "/api/v1/patients/patient-01", lena, "{}");
  CHECK(answer.status == 405);

  // Oversize bodies: refused from the announced length, before reading it.
  answer = test::callRaw(port, "PUT", "/api/v1/patients/patient-01", "Bearer " + lena, "{}", "application/json",
                         16LL * 1024 * 1024 + 1);
  CHECK(answer.status == 413);
  CHECK(answer.error() == "body: 16777217 bytes; at most 16777216");
  answer = test::callRaw(port, "POST", "/api/v1/login", {}, "{}", "application/json", 1LL << 40);
  CHECK(answer.status == 413);
  CHECK_THAT(answer.error(), Catch::StartsWith("body:"));
  // A text field over its limit names the field.
  answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", test::login(port, "nurse-karin"),
                R"({"entityType": "care_plan_activity", "entityId": "patient-01-act-2", "field": "frequency",
                    "proposedValue": ")" +
                    std::string(70 * 1024, 'x') + "\"}");
  CHECK(answer.status == 400);
  CHECK(answer.error() == "proposed_value: too long");
  answer = test::callRaw(port, "PUT", "/api/v1/patients/patient-01", "Bearer " + lena, "<patient/>", "text/xml");
  CHECK(answer.status == 415);
  CHECK_THAT(answer.error(), Catch::StartsWith("Content-Type:"));

  // The server is still serving, and nothing above changed the record.
  answer = call(port, "GET", "/api/v1/health");
  CHECK(answer.status == 200);
  const auto record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", lena).body);
  CHECK(record.patient().preferred_language() == "sv");
}

TEST_CASE("tokens: missing, garbage, forged, from another server or expired get a 401 naming why") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  // A second server with its own secret and two-second tokens.
  const std::string config = dir.file("short-tokens.properties");
  std::ofstream(config) << "hemma.token_lifetime_seconds = 2\n";
  std::vector<std::string> args = test::demoServerArgs();
  args.insert(args.end(), {"--config", config});
  test::ServerProcess other(dir.file("other.db"), args);

  const std::string karin = test::login(port, "nurse-karin");
  const std::string path = "/api/v1/patients/patient-01";
  REQUIRE(call(port, "GET", path, karin).status == 200);

  const auto expect401 = [&](int serverPort, const std::string& authorization, const std::string& reason) {
    const HttpAnswer answer = test::callRaw(serverPort, "GET", path, authorization, {});
    INFO("Authorization: " << authorization.substr(0, 60) << " -> " << describe(answer));
    CHECK(answer.status == 401);
    CHECK(answer.error() == reason);
    CHECK(answer.header("WWW-Authenticate") == "Bearer");
  };
  expect401(port, "", "Authorization: missing; log in at POST /api/v1/login");
  expect401(port, "Bearer", "token: malformed");
  expect401(port, "Bearer garbage", "token: malformed");
  expect401(port, "Bearer a.b", "token: malformed");
  expect401(port, "Bearer " + std::string(8000, 'a') + ".b.c", "token: signature does not match");
  expect401(port, "Basic bnVyc2Uta2FyaW46ZGVtbw==", "token: malformed");
  // A request head over the server's 16 KiB limit is refused (431) before
  // it is parsed, and the server keeps serving.
  const HttpAnswer huge = test::callRaw(port, "GET", path, "Bearer " + std::string(20000, 'a') + ".b.c", {});
  CHECK(huge.status == 431);
  CHECK(call(port, "GET", path, karin).status == 200);

  // A payload changed after signing: one character of the claims flipped.
  const auto firstDot = karin.find('.');
  const auto secondDot = karin.find('.', firstDot + 1);
  REQUIRE(secondDot != std::string::npos);
  std::string forged = karin;
  char& c = forged[firstDot + 1 + (secondDot - firstDot) / 2];
  c = c == 'A' ? 'B' : 'A';
  expect401(port, "Bearer " + forged, "token: signature does not match");
  // The signature cut off, or alg "none".
  expect401(port, "Bearer " + karin.substr(0, secondDot + 1), "token: malformed");
  const std::string none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0" + karin.substr(firstDot, secondDot - firstDot) + ".";
  const HttpAnswer unsigned_ = test::callRaw(port, "GET", path, "Bearer " + none, {});
  CHECK(unsigned_.status == 401);
  CHECK_THAT(unsigned_.error(), Catch::StartsWith("token: "));

  // Signed by another server's secret.
  expect401(other.port(), "Bearer " + karin, "token: signature does not match");

  // Expired: the other server's token works, then not after its lifetime.
  const std::string shortLived = test::login(other.port(), "nurse-karin");
  REQUIRE(call(other.port(), "GET", path, shortLived).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  expect401(other.port(), "Bearer " + shortLived, "token: expired");
}

TEST_CASE("login: wrong passwords are 401, and the sixth attempt for a username within the window is 429") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string wrong = R"({"username": "nurse-maria", "password": "guess"})";

  auto answer = call(port, "POST", "/api/v1/login", {}, R"({"username": "nobody", "password": "demo"})");
  CHECK(answer.status == 401);
  CHECK(answer.error() == "login: wrong username or password");
  answer = call(port, "POST", "/api/v1/login", {}, R"({"username": "nurse-maria"})");
  CHECK(answer.status == 401);
  for (int attempt = 2; attempt <= 5; ++attempt) {
    answer = call(port, "POST", "/api/v1/login", {}, wrong);
    INFO("attempt " << attempt);
    CHECK(answer.status == 401);
    CHECK(answer.error() == "login: wrong username or password");
  }
  answer = call(port, "POST", "/api/v1/login", {}, wrong);
  CHECK(answer.status == 429);
  CHECK(answer.error() == "login: too many failed attempts; try again later");
  CHECK_FALSE(answer.header("Retry-After").empty());
  // Locked even with the right password; other users are not affected.
  answer = call(port, "POST", "/api/v1/login", {}, R"({"username": "nurse-maria", "password": "demo"})");
  CHECK(answer.status == 429);
  CHECK_NOTHROW(test::login(port, "nurse-karin"));
}
