// The walking skeleton: a note written on an offline tablet reaches the real
// server when it comes up, and a second tablet pulls it byte for byte.

#include <catch2/catch.hpp>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/protocol.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using hemma::mobile::Device;
using hemma::mobile::HttpTransport;
using hemma::mobile::ServerAddress;
using hemma::mobile::SystemClock;

}  // namespace

TEST_CASE("a note written offline reaches a second tablet through the server byte for byte") {
  hemma::test::TempDir dir;
  SystemClock clock;
  Device nurse(dir.file("nurse.db"), clock);
  Device colleague(dir.file("colleague.db"), clock);
  std::string url;
  {
    // Signing in needs the network once.
    hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
    hemma::test::signIn(nurse, server, "nurse-karin", "tablet-a");
    hemma::test::signIn(colleague, server, "nurse-olle", "tablet-b");
    url = server.url();
  }

  // Server down: the note is kept, the sync fails and says why.
  const std::string text = "Blodtryck 130/80. Mår bra, åt frukost. \xF0\x9F\x8D\xB5 Nyckel i nyckelskåpet.";
  const auto written = nurse.writeNote("patient-01", "", text);  // of no visit: none was started
  {
    HttpTransport nowhere(ServerAddress::parse(url), std::chrono::seconds(5));
    hemma::mobile::SyncClient::Options options;
    options.sleep = [](std::chrono::milliseconds) {};
    const auto report = nurse.sync(nowhere, options);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.error, Catch::Contains("cannot connect"));
    CHECK(nurse.status().pending == 1);
    CHECK_THAT(nurse.status().lastError, Catch::Contains("cannot connect"));
  }

  // The server comes back (same database, another port).
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  HttpTransport toServer(ServerAddress::parse(server.url()));
  const auto pushed = nurse.sync(toServer);
  REQUIRE(pushed.ok);
  CHECK(pushed.pushed == 1);
  CHECK(nurse.status().pending == 0);
  CHECK(nurse.status().lastError.empty());

  HttpTransport colleagueLink(ServerAddress::parse(server.url()));
  const auto pulled = colleague.sync(colleagueLink);
  REQUIRE(pulled.ok);
  const auto notes = colleague.notes("patient-01");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].SerializeAsString() == written.SerializeAsString());
  CHECK(notes[0].text() == text);
  CHECK(notes[0].author_id() == "nurse-karin");
}

TEST_CASE("pushing the same batch twice stores it once") {
  hemma::test::TempDir dir;
  SystemClock clock;
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  Device nurse(dir.file("nurse.db"), clock);
  hemma::test::signIn(nurse, server, "nurse-karin", "tablet-a");
  HttpTransport link(ServerAddress::parse(server.url()));
  REQUIRE(nurse.sync(link).ok);  // the demo plan arrives first
  const std::size_t before = nurse.store().operationCount();
  for (int i = 0; i < 5; ++i) nurse.writeNote("patient-01", "", "note " + std::to_string(i));

  hemma::sync::PushRequest batch;
  batch.set_protocol_version(hemma::sync::kProtocolVersion);
  batch.set_device_id("tablet-a");
  for (auto& op : nurse.store().outbox(100)) *batch.add_operations() = op;

  link.setToken(*nurse.store().meta("device_token"));
  const auto first = link.push(batch);
  const auto second = link.push(batch);
  REQUIRE(first.acks_size() == 5);
  REQUIRE(second.acks_size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK_FALSE(first.acks(i).duplicate());
    CHECK(second.acks(i).duplicate());
    CHECK(second.acks(i).server_seq() == first.acks(i).server_seq());
  }

  // The device's own sync after the manual pushes: nothing new is stored.
  const auto report = nurse.sync(link);
  REQUIRE(report.ok);
  CHECK(report.pushed == 0);
  CHECK(report.duplicates == 5);

  // A second tablet sees the five notes once each.
  Device colleague(dir.file("colleague.db"), clock);
  hemma::test::signIn(colleague, server, "nurse-olle", "tablet-b");
  HttpTransport colleagueLink(ServerAddress::parse(server.url()));
  REQUIRE(colleague.sync(colleagueLink).ok);
  CHECK(colleague.notes("patient-01").size() == 5);
  CHECK(nurse.store().operationCount() == before + 5);
}
