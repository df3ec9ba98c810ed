// The walking skeleton: a note written on an offline tablet reaches the real
// server when it comes up, and a second tablet pulls it byte for byte.

#include <catch2/catch.hpp>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/protocol.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using hemma::mobile::Device;
using hemma::mobile::HttpTransport;
using hemma::mobile::ServerAddress;
using hemma::mobile::SystemClock;

std::uint16_t unusedPort() {
  // A port nobody listens on: start a server, note its port, stop it.
  hemma::test::TempDir dir;
  hemma::test::ServerProcess probe(dir.file("probe.db"));
  return static_cast<std::uint16_t>(probe.port());
}

}  // namespace

TEST_CASE("a note written offline reaches a second tablet through the server byte for byte") {
  hemma::test::TempDir dir;
  SystemClock clock;
  Device nurse(dir.file("nurse.db"), clock);
  nurse.enrol("tablet-a", "nurse-karin");
  Device colleague(dir.file("colleague.db"), clock);
  colleague.enrol("tablet-b", "nurse-olle");

  const std::string text = "Blodtryck 130/80. Mår bra, åt frukost. \xF0\x9F\x8D\xB5 Nyckel i nyckelskåpet.";
  const auto written = nurse.writeNote("patient-1", "visit-7", text);

  // Server down: the sync fails, and the note stays queued on the tablet.
  {
    HttpTransport nowhere(ServerAddress::parse("http://127.0.0.1:" + std::to_string(unusedPort())),
                          std::chrono::seconds(5));
    const auto report = nurse.sync(nowhere);
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.error, Catch::Contains("cannot connect"));
    CHECK(nurse.status().pending == 1);
    CHECK_THAT(nurse.status().lastError, Catch::Contains("cannot connect"));
  }

  hemma::test::ServerProcess server(dir.file("server.db"));
  HttpTransport toServer(ServerAddress::parse(server.url()));
  const auto pushed = nurse.sync(toServer);
  REQUIRE(pushed.ok);
  CHECK(pushed.pushed == 1);
  CHECK(nurse.status().pending == 0);
  CHECK(nurse.status().lastError.empty());

  HttpTransport colleagueLink(ServerAddress::parse(server.url()));
  const auto pulled = colleague.sync(colleagueLink);
  REQUIRE(pulled.ok);
  CHECK(pulled.pulled == 1);
  const auto notes = colleague.notes("patient-1");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].SerializeAsString() == written.SerializeAsString());
  CHECK(notes[0].text() == text);
  CHECK(notes[0].author_id() == "nurse-karin");
}

TEST_CASE("pushing the same batch twice stores it once") {
  hemma::test::TempDir dir;
  SystemClock clock;
  Device nurse(dir.file("nurse.db"), clock);
  nurse.enrol("tablet-a", "nurse-karin");
  for (int i = 0; i < 5; ++i) nurse.writeNote("patient-1", "", "note " + std::to_string(i));

  hemma::sync::PushRequest batch;
  batch.set_protocol_version(hemma::sync::kProtocolVersion);
  batch.set_device_id("tablet-a");
  for (auto& op : nurse.store().outbox(100)) *batch.add_operations() = op;

  hemma::test::ServerProcess server(dir.file("server.db"));
  HttpTransport link(ServerAddress::parse(server.url()));
  const auto first = link.push(batch);
  const auto second = link.push(batch);
  REQUIRE(first.acks_size() == 5);
  REQUIRE(second.acks_size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK_FALSE(first.acks(i).duplicate());
    CHECK(second.acks(i).duplicate());
    CHECK(second.acks(i).server_seq() == first.acks(i).server_seq());
  }

  hemma::sync::PullRequest pull;
  pull.set_protocol_version(hemma::sync::kProtocolVersion);
  pull.set_device_id("observer");
  const auto all = link.pull(pull);
  CHECK(all.operations_size() == 5);
  CHECK_FALSE(all.has_more());

  // The device's own sync after the manual pushes: nothing new is stored.
  const auto report = nurse.sync(link);
  REQUIRE(report.ok);
  CHECK(report.pushed == 0);
  CHECK(report.duplicates == 5);
  CHECK(link.pull(pull).operations_size() == 5);
}
