// The C API against the real server: runs the C test program
// (tests/c/c_api_test.c) with the URL of a demo-world server, so the C host's
// sign-in, note and sync path is exercised end to end.

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

TEST_CASE("C API against the server: a C host signs in, writes a note and syncs it") {
  hemma::test::TempDir dir;
  hemma::test::ServerProcess server(dir.file("server.db"), hemma::test::demoServerArgs());
  const std::string command = std::string("'") + HEMMA_C_API_TEST_BINARY + "' '" + server.url() + "'";
  const int status = std::system(command.c_str());
  REQUIRE(status != -1);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
