// The shared plan's writes and what tablets receive: a web update is stored
// whole or not at all, and a tablet gets only what its user may see.

#include <catch2/catch.hpp>

#include "hemma/api.pb.h"
#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;

}  // namespace

TEST_CASE("a plan update with one bad activity changes nothing") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  const std::string lena = test::login(server.port(), "coordinator-lena");

  const auto before = test::call(server.port(), "GET", "/api/v1/patients/patient-01", lena);
  REQUIRE(before.status == 200);
  const auto bad = test::call(server.port(), "PUT", "/api/v1/patients/patient-01/plan", lena,
                              R"({"goals": [{"text": "Walk to the letterbox every day"}],
                                  "activities": [{"id": "patient-01-act-1", "text": "Medication at 8 and 20"},
                                                 {"text": "Foot care", "responsibleOrganisationId": "org-nowhere"}]})");
  CHECK(bad.status == 400);
  CHECK(bad.error() == "activities[1].responsible_organisation_id: no organisation org-nowhere");
  const auto after = test::call(server.port(), "GET", "/api/v1/patients/patient-01", lena);
  REQUIRE(after.status == 200);
  CHECK(test::parsed<api::PatientRecord>(after.body).plan().SerializeAsString() ==
        test::parsed<api::PatientRecord>(before.body).plan().SerializeAsString());

  const auto good = test::call(server.port(), "PUT", "/api/v1/patients/patient-01/plan", lena,
                               R"({"goals": [{"text": "Walk to the letterbox every day"}],
                                   "activities": [{"id": "patient-01-act-1", "text": "Medication at 8 and 20"}]})");
  REQUIRE(good.status == 200);
  const auto plan = test::parsed<domain::CarePlan>(good.body);
  CHECK(plan.goals_size() == 3);
  bool renamed = false;
  for (const auto& activity : plan.activities()) renamed = renamed || activity.text() == "Medication at 8 and 20";
  CHECK(renamed);
}

TEST_CASE("a tablet receives neither a blocked unit's entries nor a protected address it does not need") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  mobile::SystemClock clock;
  mobile::Device karin(dir.file("karin.db"), clock);
  test::signIn(karin, server, "nurse-karin", "tablet-karin");
  mobile::Device olle(dir.file("olle.db"), clock);
  test::signIn(olle, server, "nurse-olle", "tablet-olle");
  mobile::Device sara(dir.file("sara.db"), clock);
  test::signIn(sara, server, "physician-sara", "tablet-sara");
  mobile::HttpTransport karinLink(mobile::ServerAddress::parse(server.url()));
  mobile::HttpTransport olleLink(mobile::ServerAddress::parse(server.url()));
  mobile::HttpTransport saraLink(mobile::ServerAddress::parse(server.url()));

  // Patient-01 blocks Karin's unit; then Karin writes a note.
  const std::string patient = test::login(server.port(), "patient-01");
  const auto block = test::call(server.port(), "POST", "/api/v1/patients/patient-01/blocks", patient,
                                R"({"unitId": "unit-norrby-north"})");
  REQUIRE(block.status == 200);
  karin.writeNote("patient-01", "", "Written in the blocked unit.");
  olle.writeNote("patient-01", "", "Written in the south unit.");
  REQUIRE(karin.sync(karinLink).ok);
  REQUIRE(olle.sync(olleLink).ok);
  REQUIRE(karin.sync(karinLink).ok);
  CHECK(karin.notes("patient-01").size() == 2);   // her own unit reads its entries
  REQUIRE(olle.notes("patient-01").size() == 1);  // Olle's unit does not
  CHECK(olle.notes("patient-01")[0].text() == "Written in the south unit.");

  // Patient-03 has a protected identity: the visiting nurse's tablet gets the
  // address, the physician's does not.
  REQUIRE(sara.sync(saraLink).ok);
  REQUIRE(karin.field("patient-03", "patient", "patient-03", "address"));
  CHECK_FALSE(sara.field("patient-03", "patient", "patient-03", "address"));
  CHECK(sara.field("patient-03", "patient", "patient-03", "name"));

  // And a PUT answer does not leak it either.
  const std::string physician = test::login(server.port(), "physician-sara");
  const auto put =
      test::call(server.port(), "PUT", "/api/v1/patients/patient-03", physician, R"({"preferredLanguage": "sv"})");
  REQUIRE(put.status == 200);
  CHECK(test::parsed<domain::Patient>(put.body).address() == "(protected identity)");
}
