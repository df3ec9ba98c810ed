// A reinstalled tablet loses nothing: every registration of a device id gets
// a number of its own, the tablet's operation ids carry it, so the notes of
// both installations reach the server. A change the server refuses is named
// by `hemma-device sync` (exit status 3), listed by `hemma-device rejected`
// with its reason, and stays until a person sends it again or discards it.
// All through the real hemma-server and the hemma-device binary.

#include <sys/wait.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/hlc.hpp"
#include "hemma/sync/protocol.hpp"
#include "hemma/sync/time_format.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

struct CommandResult {
  int status = -1;
  std::string output;
};

std::string quoted(const std::string& text) { return "'" + text + "'"; }

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

// The notes of patient-01 on the server, by text, with their operation ids
// (the patient's timeline as nurse-karin reads it).
std::map<std::string, std::string> serverNotes(const test::ServerProcess& server) {
  const std::string token = test::login(server.port(), "nurse-karin");
  const auto answer = test::call(server.port(), "GET", "/api/v1/patients/patient-01/timeline", token);
  REQUIRE(answer.status == 200);
  const auto timeline = test::parsed<api::Timeline>(answer.body);
  std::map<std::string, std::string> notes;
  for (const auto& entry : timeline.entries()) {
    if (entry.has_note()) notes[entry.note().text()] = entry.operation_id();
  }
  return notes;
}

}  // namespace

TEST_CASE("reinstall: a second installation of the same device id keeps the notes of both") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const std::string online = "--server " + quoted(server.url());
  const std::string a = online + " --db " + quoted(dir.file("a.db"));
  const std::string b = online + " --db " + quoted(dir.file("b.db"));

  auto login = runDevice(a + " login nurse-karin tab-r --password demo");
  REQUIRE(login.status == 0);
  auto note = runDevice(a + " note patient-01 'Första installationen.'");
  REQUIRE(note.status == 0);
  CHECK_THAT(note.output, Catch::Contains("tab-r:1:1"));  // registration 1, operation 1
  auto sync = runDevice(a + " sync");
  INFO(sync.output);
  REQUIRE(sync.status == 0);

  // The tablet is reinstalled: a new, empty database, the same device id.
  login = runDevice(b + " login nurse-karin tab-r --password demo");
  REQUIRE(login.status == 0);
  note = runDevice(b + " note patient-01 'Andra installationen.'");
  REQUIRE(note.status == 0);
  CHECK_THAT(note.output, Catch::Contains("tab-r:2:1"));  // registration 2: a counter of its own
  sync = runDevice(b + " sync");
  INFO(sync.output);
  CHECK(sync.status == 0);
  CHECK_THAT(sync.output, Catch::Contains("pushed 1 (0 already on the server), rejected 0"));
  const auto status = runDevice(b + " status");
  CHECK_THAT(status.output, Catch::Contains("rejected:     0\n"));
  CHECK_THAT(status.output, Catch::Contains("last error:   none"));
  CHECK_THAT(runDevice(b + " rejected").output, Catch::Contains("0 refused change(s)"));

  auto notes = serverNotes(server);
  CHECK(notes["Första installationen."] == "tab-r:1:1");
  CHECK(notes["Andra installationen."] == "tab-r:2:1");

  // The first installation's token was replaced by the second's: it cannot
  // sync, says why, and keeps its note; signing in again (registration 3)
  // brings it back, and its note arrives too.
  REQUIRE(runDevice(a + " note patient-01 'Kvar i den gamla databasen.'").status == 0);
  sync = runDevice(a + " sync");
  CHECK(sync.status == 1);
  CHECK_THAT(sync.output, Catch::Contains("device: token replaced"));
  CHECK_THAT(sync.output, Catch::Contains("1 change(s) kept on the device"));
  REQUIRE(runDevice(a + " login nurse-karin tab-r --password demo").status == 0);
  note = runDevice(a + " note patient-01 'Efter ny inloggning.'");
  CHECK_THAT(note.output, Catch::Contains("tab-r:3:"));
  sync = runDevice(a + " sync");
  INFO(sync.output);
  CHECK(sync.status == 0);
  notes = serverNotes(server);
  CHECK(notes["Kvar i den gamla databasen."] == "tab-r:1:2");
  CHECK(notes.count("Efter ny inloggning."));
  CHECK(notes.count("Andra installationen."));

  // A reader of the patient pulls all four notes.
  mobile::SystemClock clock;
  mobile::Device reader(dir.file("reader.db"), clock);
  test::signIn(reader, server, "nurse-karin", "tab-reader");
  mobile::HttpTransport link(mobile::ServerAddress::parse(server.url()));
  REQUIRE(reader.sync(link).ok);
  std::map<std::string, std::string> pulled;
  for (const auto& n : reader.notes("patient-01")) pulled[n.text()] = n.id();
  CHECK(pulled["Första installationen."] == "tab-r:1:1");
  CHECK(pulled["Andra installationen."] == "tab-r:2:1");
  CHECK(pulled.count("Kvar i den gamla databasen."));
  CHECK(pulled.count("Efter ny inloggning."));
}

TEST_CASE("reinstall: a refused change makes sync exit 3 and is listed with its reason until discarded") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const std::string tablet = "--server " + quoted(server.url()) + " --db " + quoted(dir.file("tablet.db"));
  REQUIRE(runDevice(tablet + " login nurse-karin tab-s --password demo").status == 0);
  REQUIRE(runDevice(tablet + " note patient-01 'Rätt patient.'").status == 0);
  REQUIRE(runDevice(tablet + " note patient-02 'Fel patient.'").status == 0);

  auto sync = runDevice(tablet + " sync");
  INFO(sync.output);
  CHECK(sync.status == 3);
  CHECK_THAT(sync.output, Catch::Contains("pushed 1 (0 already on the server), rejected 1"));
  CHECK_THAT(sync.output, Catch::Contains("rejected tab-s:1:2 (visit_note/tab-s:1:2 of patient-02): "));
  CHECK_THAT(sync.output, Catch::Contains("no care relationship"));
  CHECK_THAT(sync.output, Catch::Contains("see `hemma-device rejected`"));

  auto status = runDevice(tablet + " status");
  CHECK_THAT(status.output, Catch::Contains("rejected:     1 (see hemma-device rejected)"));
  CHECK_THAT(status.output, Catch::Contains("last error:   1 operation(s) refused by the server"));
  CHECK_THAT(status.output, Catch::Contains("tab-s:1:2 (visit_note of patient-02)"));

  auto listed = runDevice(tablet + " rejected");
  INFO(listed.output);
  CHECK(listed.status == 0);
  CHECK_THAT(listed.output, Catch::Contains("tab-s:1:2  patient-02  visit_note/tab-s:1:2  FORBIDDEN  refused "));
  CHECK_THAT(listed.output, Catch::Contains("reason:  operations[1].patient_id: no care relationship with patient-02"));
  CHECK_THAT(listed.output, Catch::Contains("by nurse-karin: note: Fel patient."));
  CHECK_THAT(listed.output, Catch::Contains("1 refused change(s) kept on this tablet"));

  // Not sent again by itself, and still named by the next sync.
  sync = runDevice(tablet + " sync");
  CHECK(sync.status == 3);
  CHECK_THAT(sync.output, Catch::Contains("pushed 0 (0 already on the server), rejected 0"));
  CHECK_THAT(sync.output, Catch::Contains("rejected tab-s:1:2 (visit_note/tab-s:1:2 of patient-02): "));
  CHECK_THAT(runDevice(tablet + " rejected").output, Catch::Contains("1 refused change(s)"));

  auto wrong = runDevice(tablet + " rejected discard tab-s:1:9");
  CHECK(wrong.status == 2);
  CHECK_THAT(wrong.output, Catch::Contains("operation_id: no rejected operation tab-s:1:9 on this device"));
  CHECK(runDevice(tablet + " rejected frobnicate").status == 2);

  const auto discarded = runDevice(tablet + " rejected discard tab-s:1:2");
  INFO(discarded.output);
  CHECK(discarded.status == 0);
  CHECK_THAT(discarded.output, Catch::Contains("0 refused change(s) left"));
  CHECK_THAT(runDevice(tablet + " rejected").output, Catch::Contains("0 refused change(s)"));
  const auto settled = runDevice(tablet + " rejected settled");
  CHECK_THAT(settled.output, Catch::Contains("tab-s:1:2  patient-02  visit_note/tab-s:1:2  discarded by nurse-karin"));
  CHECK_THAT(settled.output,
             Catch::Contains("FORBIDDEN: operations[1].patient_id: no care relationship with patient-02"));
  status = runDevice(tablet + " status");
  CHECK_THAT(status.output, Catch::Contains("rejected:     0\n"));
  CHECK_THAT(status.output, Catch::Contains("last error:   none"));
  CHECK(runDevice(tablet + " sync").status == 0);

  const auto help = runDevice("--help");
  CHECK_THAT(help.output, Catch::Contains("rejected discard OP_ID"));
  CHECK_THAT(help.output, Catch::Contains("rejected retry OP_ID"));
}

// A note as a tablet before epochs made it: id "<device>:<counter>".
sync::Operation legacyNote(const std::string& id, const std::string& text, std::int64_t atMs) {
  sync::Operation op;
  op.set_id(id);
  op.set_device_id(id.substr(0, id.find(':')));
  op.set_author_id("nurse-karin");
  op.set_hlc(sync::makeHlc(atMs, 0));
  op.set_patient_id("patient-01");
  op.set_entity_type("visit_note");
  op.set_entity_id(id);
  op.set_recorded_at(sync::formatRfc3339(atMs));
  auto& n = *op.mutable_append()->mutable_note();
  n.set_id(id);
  n.set_patient_id("patient-01");
  n.set_author_id("nurse-karin");
  n.set_text(text);
  n.set_written_at(op.recorded_at());
  return op;
}

TEST_CASE("reinstall: a database from before epochs clashes visibly, and its note arrives once sent again") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  mobile::SystemClock clock;
  const std::int64_t before = clock.nowMs() - 60'000;

  // The first installation, before epochs, pushed its note as "tab-old:1".
  {
    mobile::Device first(dir.file("first.db"), clock);
    test::signIn(first, server, "nurse-karin", "tab-old");
    mobile::HttpTransport link(mobile::ServerAddress::parse(server.url()));
    link.setToken(*first.store().meta("device_token"));
    sync::PushRequest push;
    push.set_protocol_version(sync::kProtocolVersion);
    push.set_device_id("tab-old");
    *push.add_operations() = legacyNote("tab-old:1", "Gamla installationen.", before);
    REQUIRE(link.push(push).acks_size() == 1);
  }
  // The second installation, also before epochs, was registered again and
  // queued its own "tab-old:1" (the bug): its database has no epoch.
  std::string token;
  {
    mobile::Device registration(dir.file("registration.db"), clock);
    test::signIn(registration, server, "nurse-karin", "tab-old");
    token = *registration.store().meta("device_token");
  }
  const std::string secondDb = dir.file("second.db");
  {
    mobile::DeviceStore store(secondDb);
    store.inTransaction([&] {
      store.setMeta("device_id", "tab-old");
      store.setMeta("user_id", "nurse-karin");
      store.setMeta("device_token", token);
      store.setMeta("op_counter", "1");
      store.setMeta("hlc", std::to_string(sync::makeHlc(before + 1000, 0)));
      store.recordLocal(legacyNote("tab-old:1", "Nya installationen.", before + 1000));
    });
  }

  const std::string tablet = "--server " + quoted(server.url()) + " --db " + quoted(secondDb);
  auto sync = runDevice(tablet + " sync");
  INFO(sync.output);
  CHECK(sync.status == 3);
  CHECK_THAT(sync.output, Catch::Contains("rejected tab-old:1 (visit_note/tab-old:1 of patient-01): "));
  CHECK_THAT(sync.output, Catch::Contains("id: already used by a different operation"));
  CHECK_THAT(runDevice(tablet + " rejected").output, Catch::Contains("note: Nya installationen."));

  // New work on the upgraded database gets an epoch of its own.
  const auto later = runDevice(tablet + " note patient-01 'Efter uppgraderingen.'");
  CHECK_THAT(later.output, Catch::Matches("(.|\n)*recorded note tab-old:l[0-9a-f]{16}:2 (.|\n)*"));

  const auto retried = runDevice(tablet + " rejected retry tab-old:1");
  INFO(retried.output);
  CHECK(retried.status == 0);
  CHECK_THAT(retried.output,
             Catch::Matches("queued tab-old:1 again as tab-old:l[0-9a-f]{16}:3 \\(2 pending sync\\)\n"));
  sync = runDevice(tablet + " sync");
  INFO(sync.output);
  CHECK(sync.status == 0);
  CHECK_THAT(sync.output, Catch::Contains("pushed 2 (0 already on the server), rejected 0"));
  CHECK_THAT(runDevice(tablet + " rejected settled").output, Catch::Contains("retried as tab-old:l"));

  const auto notes = serverNotes(server);
  CHECK(notes.at("Gamla installationen.") == "tab-old:1");
  CHECK_THAT(notes.at("Nya installationen."), Catch::Matches("tab-old:l[0-9a-f]{16}:3"));
  CHECK(notes.count("Efter uppgraderingen.") == 1);
}
