// The web's endpoints for physicians, coordinators and patients, against the
// real server binary in the demo world: messages, visits with who is coming,
// the schedule and the board across organisations, the access-log review,
// the patient's language and consent, and the plan editor. Each with its
// happy path, a denied attempt (audited) and bad input (400 naming the
// field).

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <set>

#include "hemma/api.pb.h"
#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/protocol.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using test::call;
using test::HttpAnswer;

void requireOk(const HttpAnswer& answer) {
  INFO(answer.status << " " << answer.body);
  REQUIRE(answer.status == 200);
}

void checkBad(const HttpAnswer& answer, const std::string& field) {
  INFO(answer.status << " " << answer.body);
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::StartsWith(field + ":"));
}

// The attempt was denied with 403 and audited as `action`, denied.
void checkDenied(test::AuditReader& audit, const std::function<HttpAnswer()>& attempt, const std::string& action) {
  const auto before = audit.lastSeq();
  const HttpAnswer answer = attempt();
  INFO(answer.status << " " << answer.body);
  CHECK(answer.status == 403);
  bool audited = false;
  for (const auto& row : audit.since(before)) {
    audited = audited || (row.action == action && row.outcome.rfind("denied", 0) == 0);
  }
  CHECK(audited);
}

const api::ScheduledVisit* findVisit(const google::protobuf::RepeatedPtrField<api::ScheduledVisit>& visits,
                                     const std::string& id) {
  for (const auto& visit : visits) {
    if (visit.visit().id() == id) return &visit;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("messages: a nurse writes to the physician, the reply goes back to her, and her tablet gets both") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string karin = test::login(port, "nurse-karin");
  const std::string sara = test::login(port, "physician-sara");
  const std::string lena = test::login(port, "coordinator-lena");

  auto answer = call(port, "POST", "/api/v1/patients/patient-01/messages", karin,
                     R"({"text": "Astrid is more breathless today"})");
  requireOk(answer);
  const auto sent = test::parsed<domain::Message>(answer.body);
  CHECK(sent.author_id() == "nurse-karin");
  CHECK(sent.recipient_id().empty());  // the responsible physician
  CHECK_FALSE(sent.sent_at().empty());

  answer = call(port, "POST", "/api/v1/patients/patient-01/messages", sara,
                R"({"text": "Start the oxygen, I call at noon", "inReplyTo": ")" + sent.id() + "\"}");
  requireOk(answer);
  const auto reply = test::parsed<domain::Message>(answer.body);
  CHECK(reply.recipient_id() == "nurse-karin");
  CHECK(reply.in_reply_to() == sent.id());

  const auto list =
      test::parsed<api::MessageList>(call(port, "GET", "/api/v1/patients/patient-01/messages", karin).body);
  REQUIRE(list.messages_size() == 2);
  CHECK(list.messages(0).id() == sent.id());
  CHECK(list.messages(1).id() == reply.id());

  // Both are sync entries: Karin's tablet receives them.
  mobile::SystemClock clock;
  mobile::Device tablet(dir.file("karin.db"), clock);
  test::signIn(tablet, server, "nurse-karin", "tablet-karin");
  mobile::HttpTransport link(mobile::ServerAddress::parse(server.url()));
  link.setToken(*tablet.store().meta("device_token"));
  sync::PullRequest pull;
  pull.set_protocol_version(sync::kProtocolVersion);
  pull.set_device_id("tablet-karin");
  std::set<std::string> pulled;
  for (;;) {
    const auto page = link.pull(pull);
    for (const auto& op : page.operations()) {
      if (op.entity_type() == "message") pulled.insert(op.append().message().id());
    }
    if (!page.has_more()) break;
    pull.set_after_seq(page.next_cursor());
  }
  CHECK(pulled == std::set<std::string>{sent.id(), reply.id()});

  // Coordinators do not write clinical messages; bad input names the field.
  checkDenied(
      audit, [&] { return call(port, "POST", "/api/v1/patients/patient-01/messages", lena, R"({"text": "hi"})"); },
      "message.send");
  checkBad(call(port, "POST", "/api/v1/patients/patient-01/messages", karin, R"({"text": ""})"), "text");
  checkBad(call(port, "POST", "/api/v1/patients/patient-01/messages", karin, R"({"text": "x", "inReplyTo": "nope"})"),
           "in_reply_to");
  checkBad(call(port, "POST", "/api/v1/patients/patient-01/messages", karin,
                R"({"text": "x", "recipientId": "physician-nobody"})"),
           "recipient_id");
  checkBad(call(port, "POST", "/api/v1/patients/patient-01/messages", karin,
                R"({"text": "x", "recipientId": "physician-johan"})"),
           "recipient_id");
  // A message of another patient is no reply here.
  checkBad(call(port, "POST", "/api/v1/patients/patient-03/messages", karin,
                R"({"text": "x", "inReplyTo": ")" + sent.id() + "\"}"),
           "in_reply_to");
}

TEST_CASE(
    "visits: who is coming, reassigning, rescheduling and cancelling; the schedule and board across organisations") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string lena = test::login(port, "coordinator-lena");
  const std::string rolf = test::login(port, "coordinator-rolf");
  const std::string karin = test::login(port, "nurse-karin");
  const std::string patient = test::login(port, "patient-01");

  // The patient sees who is coming, and for what.
  auto record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", patient).body);
  REQUIRE(record.visits_size() == 2);
  CHECK(record.visits(0).nurse_name() == "Karin Holm");
  CHECK(record.visits(0).activity_id() == "patient-01-act-1");
  const auto visits = test::parsed<api::VisitList>(call(port, "GET", "/api/v1/patients/patient-01/visits", karin).body);
  REQUIRE(visits.visits_size() == 2);
  CHECK(visits.visits(1).nurse_name() == "Karin Holm");

  // Lena gives tomorrow's visit to Olle, at nine Swedish time.
  auto answer = call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-2", lena,
                     R"({"nurseId": "nurse-olle", "scheduledStart": "2030-01-15T09:00:00+01:00"})");
  requireOk(answer);
  auto visit = test::parsed<domain::Visit>(answer.body);
  CHECK(visit.nurse_id() == "nurse-olle");
  CHECK(visit.nurse_name() == "Olle Berg");
  CHECK(visit.scheduled_start() == "2030-01-15T08:00:00.000Z");
  CHECK(visit.status() == domain::Visit::PLANNED);
  record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", patient).body);
  CHECK(record.visits(1).nurse_name() == "Olle Berg");

  checkDenied(
      audit,
      [&] {
        return call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-1", karin,
                    R"({"status": "CANCELLED"})");
      },
      "visit.schedule");
  checkBad(
      call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-1", lena, R"({"nurseId": "nurse-maria"})"),
      "nurse_id");
  checkBad(call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-1", lena,
                R"({"scheduledStart": "tomorrow"})"),
           "scheduled_start");
  checkBad(call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-1", lena, "{}"), "body");
  answer = call(port, "PUT", "/api/v1/patients/patient-01/visits/no-such-visit", lena, R"({"status": "CANCELLED"})");
  CHECK(answer.status == 404);

  // A new visit names its activity; the answer says who is coming.
  answer =
      call(port, "POST", "/api/v1/patients/patient-01/visits", lena,
           R"({"nurseId": "nurse-karin", "scheduledStart": "2030-01-16T10:00:00Z", "activityId": "patient-01-act-2"})");
  requireOk(answer);
  visit = test::parsed<domain::Visit>(answer.body);
  CHECK(visit.activity_id() == "patient-01-act-2");
  CHECK(visit.nurse_name() == "Karin Holm");
  checkBad(call(port, "POST", "/api/v1/patients/patient-01/visits", lena,
                R"({"nurseId": "nurse-karin", "scheduledStart": "2030-01-16T10:00:00Z", "activityId": "act-x"})"),
           "activity_id");

  // Today's schedule for Lena: her organisation's patients, with names,
  // activity and checklist progress.
  auto schedule = test::parsed<api::Schedule>(call(port, "GET", "/api/v1/schedule", lena).body);
  const api::ScheduledVisit* first = findVisit(schedule.visits(), "patient-01-visit-1");
  REQUIRE(first);
  CHECK(first->patient_name() == "Astrid Nyström");
  CHECK(first->organisation_id() == "org-norrby");
  CHECK(first->organisation_name() == "Norrby kommun");
  CHECK(first->activity_text() == "Medication administration");
  CHECK(first->visit().nurse_name() == "Karin Holm");
  CHECK(first->tasks_total() == 2);  // the tablet's checklist: the two NURSE activities
  CHECK(first->tasks_done() == 0);
  const api::ScheduledVisit* done = findVisit(schedule.visits(), "patient-04-visit-1");
  REQUIRE(done);
  CHECK(done->visit().status() == domain::Visit::DONE);
  CHECK(done->tasks_done() == 2);
  CHECK(done->tasks_total() == 2);                                  // complete
  CHECK_FALSE(findVisit(schedule.visits(), "patient-25-visit-1"));  // the region's own patient
  CHECK_FALSE(findVisit(schedule.visits(), "patient-01-visit-2"));  // not today

  // Rolf (the region) sees his own patients and the municipality's patients
  // whose team includes the region, if they consent: not Bertil (patient-02).
  schedule = test::parsed<api::Schedule>(call(port, "GET", "/api/v1/schedule", rolf).body);
  CHECK(findVisit(schedule.visits(), "patient-25-visit-1"));
  CHECK(findVisit(schedule.visits(), "patient-01-visit-1"));
  CHECK_FALSE(findVisit(schedule.visits(), "patient-02-visit-1"));
  // A period by dates includes the last day.
  schedule =
      test::parsed<api::Schedule>(call(port, "GET", "/api/v1/schedule?from=2030-01-15&to=2030-01-15", lena).body);
  REQUIRE(schedule.visits_size() == 1);
  CHECK(schedule.visits(0).visit().id() == "patient-01-visit-2");
  CHECK(schedule.from() == "2030-01-15T00:00:00.000Z");
  CHECK(schedule.to() == "2030-01-16T00:00:00.000Z");

  checkBad(call(port, "GET", "/api/v1/schedule?from=yesterday", lena), "from");
  checkBad(call(port, "GET", "/api/v1/schedule?from=2030-01-15&to=2030-01-14", lena), "to");
  checkBad(call(port, "GET", "/api/v1/schedule?from=2030-02-30", lena), "from");
  checkDenied(
      audit, [&] { return call(port, "GET", "/api/v1/schedule", test::login(port, "admin-ada")); }, "schedule.read");

  // The board: done versus remaining per organisation, today.
  auto board = test::parsed<api::Board>(call(port, "GET", "/api/v1/board", rolf).body);
  REQUIRE(board.organisations_size() == 2);
  std::map<std::string, api::BoardColumn> columns;
  for (const auto& column : board.organisations()) columns[column.organisation_id()] = column;
  CHECK(columns["org-soder"].organisation_name() == "Region Söder");
  CHECK(columns["org-soder"].done() == 1);         // patient-25's first visit
  CHECK(columns["org-soder"].remaining() == 5);    // patients 26-30
  CHECK(columns["org-norrby"].done() == 2);        // patients 04 and 06
  CHECK(columns["org-norrby"].remaining() == 21);  // 01-24 but 02, 04, 06
  CHECK(columns["org-norrby"].visits_size() == 23);
  // A cancelled visit is no longer remaining.
  requireOk(
      call(port, "PUT", "/api/v1/patients/patient-01/visits/patient-01-visit-1", lena, R"({"status": "CANCELLED"})"));
  board = test::parsed<api::Board>(call(port, "GET", "/api/v1/board?date=" + board.date(), rolf).body);
  for (const auto& column : board.organisations()) {
    if (column.organisation_id() == "org-norrby") CHECK(column.remaining() == 20);
  }
  checkBad(call(port, "GET", "/api/v1/board?date=22/11", lena), "date");
  checkDenied(
      audit, [&] { return call(port, "GET", "/api/v1/board", patient); }, "schedule.read");
}

TEST_CASE("access-log review: a random sample of the organisation's entries, and an append-only record of the check") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string lena = test::login(port, "coordinator-lena");
  const std::string rolf = test::login(port, "coordinator-rolf");
  const std::string karin = test::login(port, "nurse-karin");
  // Some reads to sample: more than the default sample of ten.
  for (int round = 0; round < 4; ++round) {
    for (const char* patient : {"patient-01", "patient-03", "patient-05"}) {
      requireOk(call(port, "GET", std::string("/api/v1/patients/") + patient, karin));
    }
  }

  auto answer = call(port, "GET", "/api/v1/audit/sample?size=3", lena);
  requireOk(answer);
  const auto sample = test::parsed<api::AuditList>(answer.body);
  REQUIRE(sample.entries_size() == 3);
  std::set<std::uint64_t> seqs;
  for (const auto& entry : sample.entries()) {
    CHECK(entry.organisation_id() == "org-norrby");
    seqs.insert(entry.seq());
  }
  CHECK(seqs.size() == 3);
  CHECK(test::parsed<api::AuditList>(call(port, "GET", "/api/v1/audit/sample", lena).body).entries_size() == 10);

  std::string seqList;
  for (const auto seq : seqs) seqList += (seqList.empty() ? "" : ", ") + std::to_string(seq);
  answer = call(port, "POST", "/api/v1/audit/reviews", lena,
                R"({"entrySeqs": [)" + seqList + R"(], "finding": "concern", "note": "Karin read patient-05 twice"})");
  requireOk(answer);
  const auto review = test::parsed<api::AuditReview>(answer.body);
  CHECK(review.reviewer_id() == "coordinator-lena");
  CHECK(review.organisation_id() == "org-norrby");
  CHECK(review.entry_seqs_size() == 3);
  CHECK_FALSE(review.reviewed_at().empty());
  auto reviews = test::parsed<api::AuditReviewList>(call(port, "GET", "/api/v1/audit/reviews", lena).body);
  REQUIRE(reviews.reviews_size() == 1);
  CHECK(reviews.reviews(0).id() == review.id());
  CHECK(reviews.reviews(0).note() == "Karin read patient-05 twice");
  // Each organisation sees its own reviews.
  CHECK(test::parsed<api::AuditReviewList>(call(port, "GET", "/api/v1/audit/reviews", rolf).body).reviews_size() == 0);

  const std::string first = std::to_string(*seqs.begin());
  checkBad(call(port, "POST", "/api/v1/audit/reviews", lena, R"({"entrySeqs": [], "finding": "ok"})"), "entry_seqs");
  checkBad(call(port, "POST", "/api/v1/audit/reviews", lena, R"({"entrySeqs": [)" + first + R"(], "finding": "fine"})"),
           "finding");
  checkBad(
      call(port, "POST", "/api/v1/audit/reviews", lena, R"({"entrySeqs": [)" + first + R"(], "finding": "concern"})"),
      "note");
  // Rolf may not sign off on the municipality's entries.
  checkBad(call(port, "POST", "/api/v1/audit/reviews", rolf, R"({"entrySeqs": [)" + first + R"(], "finding": "ok"})"),
           "entry_seqs");
  checkBad(call(port, "GET", "/api/v1/audit/sample?size=0", lena), "size");
  checkBad(call(port, "GET", "/api/v1/audit/sample?size=101", lena), "size");
  checkDenied(
      audit, [&] { return call(port, "GET", "/api/v1/audit/sample", karin); }, "audit.sample");
  checkDenied(
      audit,
      [&] {
        return call(port, "POST", "/api/v1/audit/reviews", karin,
                    R"({"entrySeqs": [)" + first + R"(], "finding": "ok"})");
      },
      "audit.review");
  checkDenied(
      audit, [&] { return call(port, "GET", "/api/v1/audit/reviews", test::login(port, "patient-01")); },
      "audit.reviews.read");

  // The database itself refuses to change or delete a review.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.file("server.db").c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  CHECK(sqlite3_exec(db, "UPDATE audit_reviews SET organisation_id = 'x'", nullptr, nullptr, &error) != SQLITE_OK);
  CHECK_THAT(std::string(error ? error : ""), Catch::Contains("append-only"));
  sqlite3_free(error);
  error = nullptr;
  CHECK(sqlite3_exec(db, "DELETE FROM audit_reviews", nullptr, nullptr, &error) != SQLITE_OK);
  CHECK_THAT(std::string(error ? error : ""), Catch::Contains("append-only"));
  sqlite3_free(error);
  sqlite3_close(db);
  CHECK(test::parsed<api::AuditReviewList>(call(port, "GET", "/api/v1/audit/reviews", lena).body).reviews_size() == 1);
}

TEST_CASE("the patient's own view: language that persists, and consent given and withdrawn") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  test::AuditReader audit(dir.file("server.db"));
  const std::string astrid = test::login(port, "patient-01");
  const std::string bertil = test::login(port, "patient-02");

  auto answer = call(port, "PUT", "/api/v1/patients/patient-01/language", astrid, R"({"language": "fi"})");
  requireOk(answer);
  CHECK(test::parsed<domain::Patient>(answer.body).preferred_language() == "fi");
  auto record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", astrid).body);
  CHECK(record.patient().preferred_language() == "fi");
  checkBad(call(port, "PUT", "/api/v1/patients/patient-01/language", astrid, R"({"language": "de"})"), "language");
  checkBad(call(port, "PUT", "/api/v1/patients/patient-01/language", astrid, R"({"language": ""})"), "language");
  checkDenied(
      audit, [&] { return call(port, "PUT", "/api/v1/patients/patient-01/language", bertil, R"({"language": "en"})"); },
      "language.set");

  // Consent: Bertil shares with the region, then withdraws it again.
  const std::string sara = test::login(port, "physician-sara");
  CHECK(call(port, "GET", "/api/v1/patients/patient-02", sara).status == 403);
  answer = call(port, "POST", "/api/v1/patients/patient-02/consents", bertil, R"({"organisationId": "org-soder"})");
  requireOk(answer);
  const auto consent = test::parsed<api::Consent>(answer.body);
  CHECK(consent.recorded_by() == "patient:patient-02");
  CHECK(consent.organisation_id() == "org-soder");
  CHECK(call(port, "GET", "/api/v1/patients/patient-02", sara).status == 200);
  const auto consents =
      test::parsed<api::ConsentList>(call(port, "GET", "/api/v1/patients/patient-02/consents", bertil).body);
  bool listed = false;
  for (const auto& c : consents.consents()) listed = listed || c.id() == consent.id();
  CHECK(listed);
  checkDenied(
      audit, [&] { return call(port, "POST", "/api/v1/consents/" + consent.id() + "/withdraw", astrid); },
      "consent.manage");
  answer = call(port, "POST", "/api/v1/consents/" + consent.id() + "/withdraw", bertil);
  requireOk(answer);
  CHECK_FALSE(test::parsed<api::Consent>(answer.body).withdrawn_at().empty());
  CHECK(call(port, "GET", "/api/v1/patients/patient-02", sara).status == 403);
  checkBad(call(port, "POST", "/api/v1/patients/patient-02/consents", bertil, R"({"organisationId": "org-nowhere"})"),
           "organisation_id");
  answer = call(port, "POST", "/api/v1/consents/" + consent.id() + "/withdraw", bertil);
  CHECK(answer.status == 400);
  CHECK_THAT(answer.error(), Catch::Contains("already withdrawn"));

  // The patient sees who read the record.
  const auto log =
      test::parsed<api::AccessLog>(call(port, "GET", "/api/v1/patients/patient-02/access-log", bertil).body);
  bool regionRead = false;
  for (const auto& entry : log.entries()) regionRead = regionRead || entry.organisation_name() == "Region Söder";
  CHECK(regionRead);
}

TEST_CASE("the plan editor: goals, activities, responsibility, medications and the SpO2 scale; proposals of each") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const int port = server.port();
  const std::string lena = test::login(port, "coordinator-lena");
  const std::string olle = test::login(port, "nurse-olle");
  const std::string sara = test::login(port, "physician-sara");

  // The demo plan has a medication; patient-07's plan scores SpO2 on scale 2.
  auto record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", lena).body);
  REQUIRE(record.plan().medications_size() == 1);
  CHECK(record.plan().medications(0).id() == "patient-01-med-1");
  CHECK_FALSE(record.plan().medications(0).name().empty());
  CHECK_FALSE(record.plan().spo2_scale_2());
  CHECK(test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-07", lena).body)
            .plan()
            .spo2_scale_2());

  auto answer = call(port, "PUT", "/api/v1/patients/patient-01/plan", lena, R"({
      "overallResponsibleOrganisationId": "org-soder",
      "goals": [{"text": "Walk to the letter box"}],
      "activities": [{"id": "patient-01-act-3", "responsibleRole": "NURSE", "frequency": "weekly"},
                     {"text": "Wound care", "frequency": "every other day",
                      "responsibleOrganisationId": "org-norrby", "responsibleRole": "NURSE"}],
      "medications": [{"id": "patient-01-med-1", "dose": "25 mg"},
                      {"name": "Omeprazol", "dose": "20 mg", "frequency": "once daily"}],
      "spo2Scale2": true})");
  requireOk(answer);
  const auto plan = test::parsed<domain::CarePlan>(answer.body);
  CHECK(plan.overall_responsible_organisation_id() == "org-soder");
  CHECK(plan.spo2_scale_2());
  CHECK(plan.goals_size() == 3);
  CHECK(plan.activities_size() == 4);
  REQUIRE(plan.medications_size() == 2);
  for (const auto& medication : plan.medications()) {
    if (medication.id() == "patient-01-med-1") {
      CHECK(medication.dose() == "25 mg");
    } else {
      CHECK(medication.name() == "Omeprazol");
      CHECK(medication.id().rfind("patient-01-med-", 0) == 0);
    }
  }
  for (const auto& activity : plan.activities()) {
    if (activity.id() == "patient-01-act-3") {
      CHECK(activity.frequency() == "weekly");
      CHECK(activity.responsible_role() == domain::NURSE);
      CHECK(activity.text() == "Medical review");
    }
  }
  checkBad(call(port, "PUT", "/api/v1/patients/patient-01/plan", lena, R"({"medications": [{"dose": "1 mg"}]})"),
           "medications[0].name");
  checkBad(call(port, "PUT", "/api/v1/patients/patient-01/plan", lena,
                R"({"activities": [{"id": "patient-01-act-1", "responsibleOrganisationId": "org-x"}]})"),
           "activities[0].responsible_organisation_id");

  // Nurses propose changes to any part of the plan; the physician signs.
  answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
                R"({"entityType": "care_plan", "entityId": "patient-01", "field": "spo2_scale_2",
                    "proposedValue": "false", "reason": "No longer on the COPD target"})");
  requireOk(answer);
  const auto proposal = test::parsed<api::PlanChangeProposal>(answer.body);
  CHECK(proposal.current_value() == "true");
  answer = call(port, "POST", "/api/v1/patients/patient-01/proposals", olle,
                R"({"entityType": "medication", "entityId": "patient-01-med-1", "field": "dose",
                    "proposedValue": "50 mg"})");
  requireOk(answer);
  CHECK(test::parsed<api::PlanChangeProposal>(answer.body).current_value() == "25 mg");
  checkBad(
      call(
          port, "POST", "/api/v1/patients/patient-01/proposals", olle,
          R"({"entityType": "care_plan", "entityId": "patient-02", "field": "spo2_scale_2", "proposedValue": "true"})"),
      "entity_id");
  requireOk(call(port, "POST", "/api/v1/proposals/" + proposal.id() + "/sign", sara));
  record = test::parsed<api::PatientRecord>(call(port, "GET", "/api/v1/patients/patient-01", lena).body);
  CHECK_FALSE(record.plan().spo2_scale_2());
}
