// The nurse's visit against the real server: signed in online once, the
// whole visit done offline on the device core (and on the hemma-device
// binary from a script), then synced; the server and a colleague's tablet
// see every entry with its author and the times the offline tablet showed.

#include <sys/wait.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/time_format.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using hemma::mobile::Device;
using hemma::mobile::HttpTransport;
using hemma::mobile::ServerAddress;
using hemma::sync::formatRfc3339;
using Outcome = hemma::domain::TaskOutcome;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

// The tablet's clock during the visit: it starts 20 minutes ago (but never
// before today's UTC midnight) and moves one minute, or one second early
// in the day, per reading, so every entry has its own, past, time.
class VisitClock final : public hemma::mobile::Clock {
 public:
  VisitClock() {
    hemma::mobile::SystemClock system;
    const std::int64_t now = system.nowMs();
    const std::int64_t midnight = now - now % kDayMs;
    m_now = std::max(now - 20 * 60 * 1000, midnight);
    m_step = m_now - midnight < 60 * 60 * 1000 ? 1000 : 20 * 1000;
  }
  std::int64_t nowMs() override { return m_now += m_step; }
  std::int64_t m_now;
  std::int64_t m_step;
};

hemma::mobile::VitalSigns escalatingVitals() {
  hemma::mobile::VitalSigns v;
  v.respiratoryRate = 25;  // 3
  v.spo2 = 93;             // 2
  v.onOxygen = false;
  v.systolicBp = 118;
  v.pulse = 112;  // 2
  v.consciousness = hemma::mobile::Consciousness::Alert;
  v.temperatureC = 37.2;
  return v;
}

// The entry of `kind` with `id` on a device, or a failed test.
hemma::mobile::StoredEntry entryOn(Device& device, const std::string& patient, const std::string& kind,
                                   const std::string& id) {
  for (auto& e : device.store().entries(patient, kind)) {
    if (e.id == id) return e;
  }
  FAIL("no " << kind << " " << id << " on the device");
  return {};
}

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs hemma-device with `args` (already quoted for the shell), stdout and
// stderr together.
CommandResult runDevice(const std::string& args) {
  const std::string command = std::string("'") + HEMMA_DEVICE_BINARY + "' " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

}  // namespace

TEST_CASE("visit workflow: a whole visit done offline reaches the server with the times the tablet showed") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  VisitClock clock;
  Device karin(dir.file("karin.db"), clock);
  karin.setUnlockIterations(1000);
  hemma::test::signIn(karin, server, "nurse-karin", "karin-tablet");
  HttpTransport online(ServerAddress::parse(server.url()));
  REQUIRE(karin.sync(online).ok);

  // The plan's medication, written by the coordinator's tablet unless the
  // demo world has it already.
  if (!karin.field("patient-01", "medication", "patient-01-med-1", "dose")) {
    hemma::mobile::SystemClock systemClock;
    Device lena(dir.file("lena.db"), systemClock);
    hemma::test::signIn(lena, server, "coordinator-lena", "lena-tablet");
    HttpTransport lenaLink(ServerAddress::parse(server.url()));
    lena.writeField("patient-01", "medication", "patient-01-med-1", "name", "Metoprolol");
    lena.writeField("patient-01", "medication", "patient-01-med-1", "dose", "50 mg");
    const auto report = lena.sync(lenaLink);
    REQUIRE(report.ok);
    REQUIRE(report.rejected == 0);
    REQUIRE(karin.sync(online).ok);
  }
  const std::string dose = karin.field("patient-01", "medication", "patient-01-med-1", "dose").value().value;

  // Offline from here on: nothing listens on port 9.
  HttpTransport offline(ServerAddress::parse("http://127.0.0.1:9"), std::chrono::seconds(5));
  CHECK_THROWS_AS(karin.unlock("nurse-karin", "wrong"), hemma::mobile::UnlockRefused);
  CHECK(karin.unlock("nurse-karin", "demo").user_id() == "nurse-karin");

  const auto today = karin.visits();
  const auto visitIt =
      std::find_if(today.begin(), today.end(), [](const auto& v) { return v.visit.id() == "patient-01-visit-1"; });
  REQUIRE(visitIt != today.end());
  const auto& planned = *visitIt;
  CHECK(planned.visit.status() == hemma::domain::Visit::PLANNED);
  CHECK_FALSE(planned.patientName.empty());
  CHECK_FALSE(planned.address.empty());
  CHECK_FALSE(planned.accessNotes.empty());
  CHECK(planned.visit.activity_id() == "patient-01-act-1");
  REQUIRE(planned.checklist.size() >= 2);
  for (std::size_t i = 1; i < today.size(); ++i) {
    CHECK(today[i - 1].visit.scheduled_start() <= today[i].visit.scheduled_start());
  }

  const auto started = karin.startVisit("patient-01-visit-1");
  CHECK_THROWS_WITH(karin.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::REFUSED),
                    Catch::Contains("task_outcome.reason"));
  const auto refused = karin.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::REFUSED,
                                               "Wants to take them after breakfast");
  const auto vitals = karin.recordVitalSigns("patient-01-visit-1", escalatingVitals());
  REQUIRE(vitals.escalation);
  CHECK(vitals.vitals.news2_score() == 7);
  const auto given = karin.recordMedication("patient-01-visit-1", "patient-01-med-1", true);
  CHECK(given.dose() == dose);
  const auto notGiven =
      karin.recordMedication("patient-01-visit-1", "patient-01-med-1", false, "Vomited the morning dose");
  const auto note = karin.writeNote("patient-01", "patient-01-visit-1", "Short of breath; BP 181/95.");
  const auto amendment =
      karin.writeNote("patient-01", "patient-01-visit-1", "Correction: BP 118/95, not 181/95.", note.id());
  const auto proposal = karin.proposeChange("patient-01", "care_plan_activity", "patient-01-act-2", "frequency",
                                            "twice daily", "NEWS2 7 today");
  const auto message = karin.sendMessage("patient-01", "Could you call me about her breathing?");
  const auto ended = karin.endVisit("patient-01-visit-1");
  CHECK(ended.visit.status() == hemma::domain::Visit::DONE);

  hemma::mobile::SyncClient::Options noWait;
  noWait.sleep = [](std::chrono::milliseconds) {};
  CHECK_FALSE(karin.sync(offline, noWait).ok);
  const auto pending = karin.status().pending;
  CHECK(pending == 13);

  // Back online.
  const std::string beforeSync = formatRfc3339(hemma::mobile::SystemClock().nowMs());
  const auto report = karin.sync(online);
  REQUIRE(report.ok);
  CHECK(report.pushed == pending);
  CHECK(report.rejected == 0);
  CHECK(karin.status().pending == 0);

  // A colleague's tablet pulls all of it from the server.
  hemma::mobile::SystemClock systemClock;
  Device olle(dir.file("olle.db"), systemClock);
  hemma::test::signIn(olle, server, "nurse-olle", "olle-tablet");
  HttpTransport olleLink(ServerAddress::parse(server.url()));
  REQUIRE(olle.sync(olleLink).ok);

  auto field = [&](const std::string& name) {
    const auto value = olle.field("patient-01", "visit", "patient-01-visit-1", name);
    REQUIRE(value);
    CHECK(value->authorId == "nurse-karin");
    return value->value;
  };
  CHECK(field("status") == "DONE");
  CHECK(field("started_at") == started.visit.started_at());
  CHECK(field("ended_at") == ended.visit.ended_at());
  CHECK(started.visit.started_at() < beforeSync);
  CHECK(ended.visit.ended_at() < beforeSync);
  CHECK(started.visit.started_at() < ended.visit.ended_at());

  const auto outcome = entryOn(olle, "patient-01", "task_outcome", refused.id()).entry.task_outcome();
  CHECK(outcome.author_id() == "nurse-karin");
  CHECK(outcome.outcome() == Outcome::REFUSED);
  CHECK(outcome.reason() == "Wants to take them after breakfast");
  CHECK(outcome.recorded_at() == refused.recorded_at());
  CHECK(refused.recorded_at() < beforeSync);

  const auto seenVitals = entryOn(olle, "patient-01", "vital_signs", vitals.vitals.id()).entry.vital_signs();
  CHECK(seenVitals.SerializeAsString() == vitals.vitals.SerializeAsString());
  CHECK(seenVitals.observed_at() < beforeSync);

  const auto escalation = entryOn(olle, "patient-01", "message", vitals.escalation->id()).entry.message();
  CHECK(escalation.urgent());
  CHECK(escalation.recipient_id().empty());
  CHECK(escalation.author_id() == "nurse-karin");
  CHECK(escalation.sent_at() == vitals.escalation->sent_at());
  CHECK_THAT(escalation.text(), Catch::Contains("NEWS2 7"));
  CHECK(escalation.vital_signs().id() == vitals.vitals.id());

  for (const auto& m : {given, notGiven}) {
    const auto seen = entryOn(olle, "patient-01", "medication_administration", m.id()).entry;
    CHECK(seen.medication_administration().SerializeAsString() == m.SerializeAsString());
    CHECK(seen.medication_administration().author_id() == "nurse-karin");
  }
  CHECK(notGiven.reason() == "Vomited the morning dose");

  const auto notes = olle.notes("patient-01");
  const auto amended =
      std::find_if(notes.begin(), notes.end(), [&](const auto& n) { return n.id() == amendment.id(); });
  REQUIRE(amended != notes.end());
  CHECK(amended->amends_note_id() == note.id());
  CHECK(amended->written_at() == amendment.written_at());

  const auto seenProposal = entryOn(olle, "patient-01", "proposed_change", proposal.id()).entry.proposed_change();
  CHECK(seenProposal.SerializeAsString() == proposal.SerializeAsString());
  CHECK(seenProposal.base_hlc() != 0);

  const auto messages = olle.messages("patient-01");
  const auto seenMessage =
      std::find_if(messages.begin(), messages.end(), [&](const auto& m) { return m.id() == message.id(); });
  REQUIRE(seenMessage != messages.end());
  CHECK(seenMessage->sent_at() == message.sent_at());

  // The server's own record, over REST, as the responsible physician.
  const std::string token = hemma::test::login(server.port(), "physician-sara");
  auto get = [&](const std::string& path) {
    const auto answer = hemma::test::call(server.port(), "GET", path, token);
    INFO(path << ": " << answer.body);
    REQUIRE(answer.status == 200);
    return answer.body;
  };
  const auto timeline = hemma::test::parsed<hemma::api::Timeline>(get("/api/v1/patients/patient-01/timeline"));
  // Every entry of the visit, by Karin, at the time her offline tablet showed.
  const std::map<std::string, std::string> expected = {
      {refused.id(), refused.recorded_at()},
      {vitals.vitals.id(), vitals.vitals.observed_at()},
      {vitals.escalation->id(), vitals.escalation->sent_at()},
      {given.id(), given.administered_at()},
      {notGiven.id(), notGiven.administered_at()},
      {note.id(), note.written_at()},
      {amendment.id(), amendment.written_at()},
      {proposal.id(), proposal.proposed_at()},
      {message.id(), message.sent_at()},
  };
  std::map<std::string, std::string> seen;
  for (const auto& entry : timeline.entries()) {
    if (!expected.count(entry.operation_id())) continue;
    CHECK(entry.author_id() == "nurse-karin");
    seen[entry.operation_id()] = entry.recorded_at();
    if (entry.operation_id() == vitals.vitals.id()) {
      REQUIRE(entry.has_vital_signs());
      CHECK(entry.vital_signs().news2_score() == 7);
    }
    if (entry.operation_id() == refused.id()) {
      REQUIRE(entry.has_task_outcome());
      CHECK(entry.task_outcome().reason() == "Wants to take them after breakfast");
    }
  }
  CHECK(seen == expected);

  // The escalation reaches the physician: as an urgent message and an alert.
  const auto serverMessages = hemma::test::parsed<hemma::api::MessageList>(get("/api/v1/patients/patient-01/messages"));
  bool urgentSeen = false;
  for (const auto& m : serverMessages.messages()) {
    if (m.id() != vitals.escalation->id()) continue;
    urgentSeen = true;
    CHECK(m.urgent());
    CHECK(m.author_id() == "nurse-karin");
    CHECK(m.sent_at() == vitals.escalation->sent_at());
    CHECK(m.vital_signs().news2_score() == 7);
  }
  CHECK(urgentSeen);
  const auto alerts = hemma::test::parsed<hemma::api::AlertList>(get("/api/v1/alerts"));
  bool alertSeen = false;
  for (const auto& alert : alerts.alerts()) {
    alertSeen = alertSeen || (alert.patient_id() == "patient-01" && alert.author_id() == "nurse-karin" &&
                              alert.kind() == hemma::api::Alert::URGENT_MESSAGE);
  }
  CHECK(alertSeen);

  // The proposal waits in the physician's queue under the same id.
  const auto queue = hemma::test::parsed<hemma::api::ProposalList>(get("/api/v1/proposals"));
  const auto queued = std::find_if(queue.proposals().begin(), queue.proposals().end(),
                                   [&](const auto& p) { return p.id() == proposal.id(); });
  REQUIRE(queued != queue.proposals().end());
  CHECK(queued->proposer_id() == "nurse-karin");
  CHECK(queued->proposed_value() == "twice daily");

  // The visit's times on the server.
  const auto visits = hemma::test::parsed<hemma::api::VisitList>(get("/api/v1/patients/patient-01/visits"));
  const auto serverVisit = std::find_if(visits.visits().begin(), visits.visits().end(),
                                        [](const auto& v) { return v.id() == "patient-01-visit-1"; });
  REQUIRE(serverVisit != visits.visits().end());
  CHECK(serverVisit->status() == hemma::domain::Visit::DONE);
  CHECK(serverVisit->started_at() == started.visit.started_at());
  CHECK(serverVisit->ended_at() == ended.visit.ended_at());
}

TEST_CASE("visit workflow: old entries are summarised on the tablet and fetched from the server on demand") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());

  // Olle's tablet wrote a note 40 days ago (its clock says so) and syncs now.
  hemma::mobile::SystemClock systemClock;
  struct PastClock final : hemma::mobile::Clock {
    std::int64_t nowMs() override { return hemma::mobile::SystemClock().nowMs() - 40 * kDayMs; }
  } past;
  Device olle(dir.file("olle.db"), past);
  hemma::test::signIn(olle, server, "nurse-olle", "olle-tablet");
  const auto old = olle.writeNote("patient-01", "", "Forty days ago");
  HttpTransport olleLink(ServerAddress::parse(server.url()));
  const auto pushed = olle.sync(olleLink);
  REQUIRE(pushed.ok);
  REQUIRE(pushed.rejected == 0);

  Device karin(dir.file("karin.db"), systemClock);
  hemma::test::signIn(karin, server, "nurse-karin", "karin-tablet");
  const auto recent = karin.writeNote("patient-01", "", "Today");
  HttpTransport link(ServerAddress::parse(server.url()));
  const auto report = karin.sync(link);
  REQUIRE(report.ok);
  CHECK(report.summarised == 1);

  const auto history = karin.history("patient-01");
  REQUIRE(history.summarised.size() == 1);
  CHECK(history.summarised[0].kind == "visit_note");
  CHECK(history.summarised[0].count == 1);
  CHECK(history.summarised[0].oldest == old.written_at());
  const auto held =
      std::find_if(history.recent.begin(), history.recent.end(), [&](const auto& e) { return e.id == recent.id(); });
  CHECK(held != history.recent.end());
  for (const auto& note : karin.notes("patient-01")) CHECK(note.id() != old.id());

  // The next sync does not bring it back.
  REQUIRE(karin.sync(link).ok);
  CHECK(karin.history("patient-01").summarised[0].count == 1);

  // On demand, from the server with the tablet's own token; not kept.
  const auto fetched = karin.fetchHistory(link, "patient-01");
  const auto found =
      std::find_if(fetched.begin(), fetched.end(), [&](const auto& e) { return e.operation_id() == old.id(); });
  REQUIRE(found != fetched.end());
  CHECK(found->note().text() == "Forty days ago");
  CHECK(found->author_id() == "nurse-olle");
  for (const auto& e : fetched) CHECK(e.operation_id() != recent.id());
  CHECK(karin.history("patient-01").summarised[0].count == 1);
  for (const auto& note : karin.notes("patient-01")) CHECK(note.id() != old.id());
}

TEST_CASE("visit workflow: a tablet clock weeks ahead keeps today's visit after syncing") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  // Further ahead than the history window.
  struct AheadClock final : hemma::mobile::Clock {
    std::int64_t nowMs() override { return hemma::mobile::SystemClock().nowMs() + 60 * kDayMs; }
  } ahead;
  Device karin(dir.file("karin.db"), ahead);
  hemma::test::signIn(karin, server, "nurse-karin", "karin-tablet");
  HttpTransport link(ServerAddress::parse(server.url()));
  REQUIRE(karin.sync(link).ok);

  // Today is the server's today, not the tablet's.
  const auto today = karin.visits();
  REQUIRE(std::any_of(today.begin(), today.end(), [](const auto& v) { return v.visit.id() == "patient-01-visit-1"; }));
  karin.startVisit("patient-01-visit-1");
  const auto answer = karin.recordTaskOutcome("patient-01-visit-1", "patient-01-act-1", Outcome::DONE);
  const auto vitals = karin.recordVitalSigns("patient-01-visit-1", escalatingVitals());
  REQUIRE(vitals.escalation);
  karin.endVisit("patient-01-visit-1");

  const auto report = karin.sync(link);
  REQUIRE(report.ok);
  CHECK(report.rejected == 0);
  CHECK(karin.status().pending == 0);
  const auto view = karin.visit("patient-01-visit-1");
  CHECK(view.visit.status() == hemma::domain::Visit::DONE);
  REQUIRE_FALSE(view.checklist.empty());
  REQUIRE(view.checklist[0].outcome);
  CHECK(view.checklist[0].outcome->id() == answer.id());
  CHECK(entryOn(karin, "patient-01", "vital_signs", vitals.vitals.id()).entry.vital_signs().news2_score() == 7);
  CHECK(entryOn(karin, "patient-01", "message", vitals.escalation->id()).entry.message().urgent());
  for (const auto& row : karin.history("patient-01").summarised) {
    CHECK(row.kind != "task_outcome");
    CHECK(row.kind != "vital_signs");
  }
}

TEST_CASE("visit workflow: hemma-device runs a visit from a script file, offline, then syncs it") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  const std::string db = quoted(dir.file("karin.db"));
  const std::string online = "--db " + db + " --server " + server.url();
  const std::string offline = "--db " + db + " --server http://127.0.0.1:9";

  auto login = runDevice(online + " login nurse-karin karin-cli --password demo");
  REQUIRE(login.status == 0);
  REQUIRE(runDevice(online + " sync").status == 0);

  const std::string script = dir.file("visit.txt");
  {
    std::ofstream out(script);
    out << "# Karin's visit to patient-03, offline\n"
           "visits\n"
           "\n"
           "start patient-03-visit-1\n"
           "task patient-03-visit-1 patient-03-act-1 refused --reason \"Wants it after breakfast\"\n"
           "vitals patient-03-visit-1 --rr 25 --spo2 93 --air --sbp 118 --pulse 112 --avpu A --temp 38.4\n"
           "set-field patient-03 patient patient-03 access_notes 'Key with the neighbour'   # a fact of the home\n"
           "med patient-03-visit-1 patient-03-med-1 given\n"
           "med patient-03-visit-1 patient-03-med-1 not-given --reason 'Patient asleep'\n"
           "note patient-03 'Short of breath, physician alerted' --visit patient-03-visit-1\n"
           "propose patient-03 care_plan_activity patient-03-act-2 frequency \"twice daily\" --reason \"NEWS2 "
           "rising\"\n"
           "message patient-03 \"Please call me about the breathing\"\n"
           "end patient-03-visit-1\n"
           "messages patient-03\n";
  }
  const auto run = runDevice(offline + " script " + quoted(script));
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("Cecilia") && Catch::Contains("access:"));
  CHECK_THAT(run.output, Catch::Contains("NEWS2: 8, risk high"));
  CHECK_THAT(run.output, Catch::Contains("ESCALATED: urgent message to the responsible physician"));
  CHECK_THAT(run.output, Catch::Contains("patient-03-med-1 given, 50 mg"));  // the demo plan's Metoprolol
  CHECK_THAT(run.output, Catch::Contains("2 message(s)"));

  // A failing line stops the script and is named; later lines do not run.
  const std::string bad = dir.file("bad.txt");
  {
    std::ofstream out(bad);
    out << "messages patient-03\n"
           "# the visit is done\n"
           "end patient-03-visit-1\n"
           "note patient-03 'never written'\n";
  }
  const auto failed = runDevice(offline + " script " + quoted(bad));
  CHECK(failed.status == 2);
  CHECK_THAT(failed.output, Catch::Contains("line 3: visit.status"));
  CHECK_THAT(failed.output, !Catch::Contains("never written"));
  {
    std::ofstream out(bad);
    out << "messages patient-03   # fine\n"
           "message patient-03 \"never sent\n";
  }
  const auto unterminated = runDevice(offline + " script " + quoted(bad));
  CHECK(unterminated.status == 2);
  CHECK_THAT(unterminated.output, Catch::Contains("line 2: unterminated \" quote"));
  const auto missing = runDevice(offline + " script " + quoted(dir.file("no-such-script.txt")));
  CHECK(missing.status == 1);
  CHECK_THAT(missing.output, Catch::Contains("cannot read"));
  const auto usage = runDevice(offline + " vitals patient-03-visit-1 --avpu X");
  CHECK(usage.status == 2);
  CHECK_THAT(usage.output, Catch::Contains("--avpu"));
  const auto help = runDevice("--help");
  CHECK(help.status == 0);
  for (const char* command : {"visits [DATE]", "start VISIT_ID", "end VISIT_ID", "task VISIT_ID", "vitals VISIT_ID",
                              "med VISIT_ID", "propose PATIENT_ID", "message PATIENT_ID", "messages PATIENT_ID",
                              "history PATIENT_ID", "unlock USERNAME", "script FILE"}) {
    CHECK_THAT(help.output, Catch::Contains(command));
  }

  const auto synced = runDevice(online + " sync");
  INFO(synced.output);
  REQUIRE(synced.status == 0);

  const auto window = runDevice(online + " --history-days 0 history patient-03");
  CHECK(window.status == 2);
  CHECK_THAT(window.output, Catch::Contains("history_window_days"));
  const auto history = runDevice(online + " --history-days 60 history patient-03 --fetch");
  INFO(history.output);
  CHECK(history.status == 0);
  CHECK_THAT(history.output, Catch::Contains("entries of the last 60 days in full"));
  CHECK_THAT(history.output, Catch::Contains("REFUSED: Wants it after breakfast"));
  CHECK_THAT(history.output, Catch::Contains("fetched from the server"));

  // Karin's second tablet pulls what the first one did.
  hemma::mobile::SystemClock clock;
  HttpTransport link(ServerAddress::parse(server.url()));
  Device karin2(dir.file("karin2.db"), clock);
  hemma::test::signIn(karin2, server, "nurse-karin", "karin-second-tablet");
  REQUIRE(karin2.sync(link).ok);
  const auto messages = karin2.messages("patient-03");
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].urgent());
  CHECK(messages[0].author_id() == "nurse-karin");
  CHECK(karin2.visit("patient-03-visit-1").visit.status() == hemma::domain::Visit::DONE);
  CHECK(karin2.visit("patient-03-visit-1").checklist[0].outcome->outcome() == Outcome::REFUSED);
  CHECK(karin2.store().entries("patient-03", "medication_administration").size() == 2);
  CHECK(karin2.store().entries("patient-03", "proposed_change").size() == 1);
}
