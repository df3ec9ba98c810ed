// Sign-in hardening: failed logins throttled per account and per client
// address in the database (across a restart), sizes bounded before any
// work, and tokens dated in the future refused.

#include "hemma/server/login_throttle.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include <catch2/catch.hpp>
#include <functional>

#include "hemma/server/auth_service.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using server::AuthService;
using server::AuthSettings;
using server::TooManyAttempts;
using server::Unauthorized;

constexpr std::int64_t kNow = 1'790'000'000'000;
constexpr std::int64_t kMinute = 60'000;
const std::string kSecret = "an-hs256-secret-of-at-least-32-bytes!!";

AuthSettings settings() {
  AuthSettings s;
  s.jwtSecret = kSecret;
  s.kdfIterations = 1000;
  s.maxFailures = 5;
  s.maxFailuresPerAddress = 8;
  return s;
}

api::Principal nurse(const std::string& userId) {
  api::Principal principal;
  principal.set_user_id(userId);
  principal.set_name("A Nurse");
  principal.set_role(domain::NURSE);
  principal.set_organisation_id("org-1");
  principal.set_unit_id("unit-1");
  return principal;
}

api::LoginRequest credentials(const std::string& username, const std::string& password) {
  api::LoginRequest request;
  request.set_username(username);
  request.set_password(password);
  return request;
}

std::string tokenWith(const std::function<void(Poco::JWT::Token&)>& edit) {
  Poco::JWT::Token token;
  token.setType("JWT");
  token.payload().set("sub", std::string("u-anna"));
  token.payload().set("name", std::string("A Nurse"));
  token.payload().set("role", std::string("NURSE"));
  token.payload().set("org", std::string("org-1"));
  token.payload().set("unit", std::string("unit-1"));
  token.payload().set("patient_id", std::string());
  token.payload().set("jti", std::string("jti-1"));
  token.payload().set("iat", static_cast<Poco::Int64>(kNow / 1000));
  token.payload().set("exp", static_cast<Poco::Int64>(kNow / 1000 + 3600));
  edit(token);
  Poco::JWT::Signer signer(kSecret);
  return signer.sign(token, Poco::JWT::Signer::ALGO_HS256);
}

}  // namespace

TEST_CASE("login throttle: an address is locked out across accounts", "[auth][throttle]") {
  test::TempDir dir;
  server::Database db(dir.file("auth.db"));
  AuthService auth(db, settings());
  auth.upsertAccount("anna", "pw", nurse("u-anna"));
  // Eight wrong guesses for eight different names from one address: each is
  // under its account's limit, but the address reaches its own.
  for (int i = 0; i < 8; ++i) {
    CHECK_THROWS_AS(auth.login(credentials("guess-" + std::to_string(i), "x"), kNow, "192.0.2.7"), Unauthorized);
  }
  try {
    auth.login(credentials("anna", "pw"), kNow, "192.0.2.7");
    FAIL("the address should be locked out");
  } catch (const TooManyAttempts& e) {
    CHECK(e.retryAfter().count() > 0);
    CHECK(e.retryAfter().count() <= 15 * 60);
    CHECK(e.firstRefusal());
  }
  // Later refusals in the same window are not the first (not audited again).
  try {
    auth.login(credentials("anna", "pw"), kNow + 1000, "192.0.2.7");
    FAIL("still locked out");
  } catch (const TooManyAttempts& e) {
    CHECK_FALSE(e.firstRefusal());
  }
  // The same account from another address is not locked.
  CHECK_NOTHROW(auth.login(credentials("anna", "pw"), kNow, "192.0.2.8"));
  // After the window the address may try again.
  CHECK_NOTHROW(auth.login(credentials("anna", "pw"), kNow + 15 * kMinute + 1000, "192.0.2.7"));
}

TEST_CASE("login throttle: a lockout survives a restart", "[auth][throttle]") {
  test::TempDir dir;
  {
    server::Database db(dir.file("auth.db"));
    AuthService auth(db, settings());
    auth.upsertAccount("anna", "pw", nurse("u-anna"));
    for (int i = 0; i < 5; ++i) CHECK_THROWS_AS(auth.login(credentials("anna", "no"), kNow, "192.0.2.1"), Unauthorized);
  }
  // A new server process on the same database: the account is still locked,
  // from any address.
  server::Database db(dir.file("auth.db"));
  AuthService restarted(db, settings());
  CHECK_THROWS_AS(restarted.login(credentials("anna", "pw"), kNow + kMinute, "192.0.2.99"), TooManyAttempts);
  // A second process on the same database shares the count too.
  AuthService second(db, settings());
  CHECK_THROWS_AS(second.login(credentials("anna", "pw"), kNow + kMinute, "192.0.2.98"), TooManyAttempts);
}

TEST_CASE("login: an oversize username or password is refused before any work, and counted", "[auth][throttle]") {
  test::TempDir dir;
  server::Database db(dir.file("auth.db"));
  AuthService auth(db, settings());
  const std::string huge(5 * 1024 * 1024, 'a');
  try {
    auth.login(credentials(huge, "x"), kNow, "192.0.2.5");
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "username: longer than 128 bytes");
  }
  CHECK_THROWS_WITH(auth.login(credentials("anna", std::string(2000, 'p')), kNow, "192.0.2.5"),
                    "password: longer than 1024 bytes");
  // The oversize names do not escape the address's brake.
  for (int i = 0; i < 6; ++i)
    CHECK_THROWS_AS(auth.login(credentials(huge, "x"), kNow, "192.0.2.5"), std::invalid_argument);
  CHECK_THROWS_AS(auth.login(credentials(huge, "x"), kNow, "192.0.2.5"), TooManyAttempts);
  // Nothing of the huge name is kept: the table holds bounded keys only.
  Poco::Data::Session s = db.session();
  std::size_t longest = 0;
  s << "SELECT coalesce(max(length(key)), 0) FROM login_failures", Poco::Data::Keywords::into(longest),
      Poco::Data::Keywords::now;
  CHECK(longest < 200);
}

TEST_CASE("tokens: issued or valid from the future are refused", "[auth][tokens]") {
  test::TempDir dir;
  server::Database db(dir.file("auth.db"));
  AuthService auth(db, settings());
  CHECK_NOTHROW(auth.authenticate(tokenWith([](Poco::JWT::Token&) {}), kNow));
  const std::string futureIat =
      tokenWith([](Poco::JWT::Token& t) { t.payload().set("iat", static_cast<Poco::Int64>(kNow / 1000 + 3600)); });
  CHECK_THROWS_WITH(auth.authenticate(futureIat, kNow), "token: issued in the future (iat)");
  const std::string futureNbf =
      tokenWith([](Poco::JWT::Token& t) { t.payload().set("nbf", static_cast<Poco::Int64>(kNow / 1000 + 3600)); });
  CHECK_THROWS_WITH(auth.authenticate(futureNbf, kNow), "token: not valid yet (nbf)");
  // Within the allowed skew between servers (60 s) both are accepted.
  const std::string slightlyAhead = tokenWith([](Poco::JWT::Token& t) {
    t.payload().set("iat", static_cast<Poco::Int64>(kNow / 1000 + 30));
    t.payload().set("nbf", static_cast<Poco::Int64>(kNow / 1000 + 30));
  });
  CHECK_NOTHROW(auth.authenticate(slightlyAhead, kNow));
  const std::string noIat = tokenWith([](Poco::JWT::Token& t) { t.payload().remove("iat"); });
  CHECK_THROWS_WITH(auth.authenticate(noIat, kNow), "token: malformed");
}

TEST_CASE("login throttle: successful sign-ins from one address never lock it", "[auth][throttle]") {
  test::TempDir dir;
  server::Database db(dir.file("auth.db"));
  AuthService auth(db, settings());
  auth.upsertAccount("anna", "pw", nurse("u-anna"));
  // A ward behind one address signs in many times a shift.
  for (int i = 0; i < 30; ++i) CHECK_NOTHROW(auth.login(credentials("anna", "pw"), kNow + i, "192.0.2.20"));
  // Its failures still count: 8 wrong guesses lock it.
  for (int i = 0; i < 8; ++i) {
    CHECK_THROWS_AS(auth.login(credentials("guess-" + std::to_string(i), "x"), kNow + 100, "192.0.2.20"), Unauthorized);
  }
  CHECK_THROWS_AS(auth.login(credentials("anna", "pw"), kNow + 200, "192.0.2.20"), TooManyAttempts);
}
