// GET /api/v1/organisations against the real server: every signed-in caller
// gets the organisations and units by name (the web labels entries, consents
// and board columns with them); without a token it is refused.

#include <catch2/catch.hpp>

#include "hemma/api.pb.h"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

using namespace hemma;

TEST_CASE("organisations: names and units for every signed-in caller, none without a token") {
  test::TempDir dir;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());

  for (const char* user : {"patient-01", "nurse-karin", "physician-sara", "coordinator-rolf", "admin-ada"}) {
    INFO(user);
    const auto answer = test::call(server.port(), "GET", "/api/v1/organisations", test::login(server.port(), user));
    REQUIRE(answer.status == 200);
    const auto list = test::parsed<api::OrganisationList>(answer.body);
    REQUIRE(list.organisations_size() == 2);
    CHECK(list.organisations(0).id() == "org-norrby");
    CHECK(list.organisations(0).name() == "Norrby kommun");
    CHECK(list.organisations(0).units_size() == 2);
    CHECK(list.organisations(1).id() == "org-soder");
    CHECK(list.organisations(1).name() == "Region Söder");
  }

  const auto anonymous = test::call(server.port(), "GET", "/api/v1/organisations");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.error() == "Authorization: missing; log in at POST /api/v1/login");
}
