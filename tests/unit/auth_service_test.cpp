// AuthService: password hashes, login and its lockout (per account and per
// client address, in the database, across a restart), sizes bounded before
// any work, token expiry, forgery and future dates, device registration,
// revocation and re-registration.

#include "hemma/server/auth_service.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include <catch2/catch.hpp>
#include <functional>
#include <sstream>

#include "hemma/sync/time_format.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using server::AuthService;
using server::AuthSettings;
using server::TooManyAttempts;
using server::Unauthorized;

constexpr std::int64_t kNow = 1'790'000'000'000;
const std::string kSecret = "an-hs256-secret-of-at-least-32-bytes!!";

AuthSettings fastSettings(const std::string& secret = kSecret) {
  AuthSettings settings;
  settings.jwtSecret = secret;
  settings.kdfIterations = 1000;
  return settings;
}

api::Principal nurse(const std::string& userId = "u-anna") {
  api::Principal principal;
  principal.set_user_id(userId);
  principal.set_name("Anna Nurse");
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

// The message of the Unauthorized that `call` throws; fails the test if it
// throws anything else or nothing.
std::string unauthorized(const std::function<void()>& call) {
  try {
    call();
  } catch (const Unauthorized& e) {
    return e.what();
  }
  FAIL("expected Unauthorized");
  return {};
}

std::string invalidArgument(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("expected std::invalid_argument");
  return {};
}

std::string base64UrlDecode(std::string text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  return std::string(std::istreambuf_iterator<char>(decoder), {});
}

std::string base64UrlEncode(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder << bytes;
  encoder.close();
  return out.str();
}

// Fast hashes and a per-address limit small enough to reach in a test.
AuthSettings throttleSettings() {
  AuthSettings settings = fastSettings();
  settings.maxFailures = 5;
  settings.maxFailuresPerAddress = 8;
  return settings;
}

constexpr std::int64_t kMinute = 60'000;

// A token signed with kSecret whose claims `edit` may change.
std::string tokenWith(const std::function<void(Poco::JWT::Token&)>& edit) {
  Poco::JWT::Token token;
  token.setType("JWT");
  token.payload().set("sub", std::string("u-anna"));
  token.payload().set("name", std::string("Anna Nurse"));
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

struct Fixture {
  test::TempDir dir;
  server::Database db{dir.file("auth.db")};
  AuthService auth{db, fastSettings()};

  Fixture() { auth.upsertAccount("anna", "correct horse", nurse()); }
  std::string loginToken(std::int64_t nowMs = kNow) {
    return auth.login(credentials("anna", "correct horse"), nowMs).token();
  }
};

}  // namespace

TEST_CASE("password hashes: format, salt, verification", "[auth]") {
  const std::string stored = server::hashPassword("secret password", 1000);
  CHECK(stored.rfind("pbkdf2-sha256$1000$", 0) == 0);
  // 16-byte salt and 32-byte hash in padded base64.
  const std::size_t saltStart = stored.find('$', stored.find('$') + 1) + 1;
  const std::size_t hashStart = stored.find('$', saltStart) + 1;
  CHECK(hashStart - saltStart - 1 == 24);
  CHECK(stored.size() - hashStart == 44);

  CHECK(server::verifyPassword("secret password", stored));
  CHECK_FALSE(server::verifyPassword("secret passworD", stored));
  CHECK_FALSE(server::verifyPassword("", stored));
  CHECK(server::hashPassword("secret password", 1000) != stored);
}

TEST_CASE("password hashes: the default iteration count", "[auth]") {
  const AuthSettings defaults;
  const std::string stored = server::hashPassword("secret password", defaults.kdfIterations);
  CHECK(stored.rfind("pbkdf2-sha256$120000$", 0) == 0);
  CHECK(server::verifyPassword("secret password", stored));
  CHECK_FALSE(server::verifyPassword("secret passwore", stored));
}

TEST_CASE("password hashes: malformed stored hashes never verify", "[auth]") {
  const std::string good = server::hashPassword("pw", 1000);
  const std::string salt = good.substr(19, 24);
  const std::string hash = good.substr(44);
  REQUIRE(server::verifyPassword("pw", "pbkdf2-sha256$1000$" + salt + "$" + hash));
  for (const std::string& stored : {
           std::string(),
           std::string("pw"),
           std::string("pbkdf2-sha256"),
           "pbkdf2-sha1$1000$" + salt + "$" + hash,
           "pbkdf2-sha256$$" + salt + "$" + hash,
           "pbkdf2-sha256$0$" + salt + "$" + hash,
           "pbkdf2-sha256$-1000$" + salt + "$" + hash,
           "pbkdf2-sha256$1000x$" + salt + "$" + hash,
           "pbkdf2-sha256$99999999999999999999$" + salt + "$" + hash,
           "pbkdf2-sha256$1000$$" + hash,
           "pbkdf2-sha256$1000$" + salt + "$",
           "pbkdf2-sha256$1000$" + salt + "$" + hash.substr(0, 40),
           "pbkdf2-sha256$1000$" + salt + "$" + hash + "AAAA",
           "pbkdf2-sha256$1000$" + salt + "$" + hash + "$",
           "pbkdf2-sha256$1000$!!!!" + salt.substr(4) + "$" + hash,
           "pbkdf2-sha256$1000$" + salt + "$" + hash.substr(0, 43) + "\n",
       }) {
    CAPTURE(stored);
    CHECK_FALSE(server::verifyPassword("pw", stored));
  }
  CHECK_THROWS_AS(server::hashPassword("pw", 0), std::invalid_argument);
}

TEST_CASE("auth settings: a short JWT secret is refused", "[auth]") {
  test::TempDir dir;
  server::Database db(dir.file("auth.db"));
  CHECK_THROWS_AS(AuthService(db, fastSettings(std::string(31, 'k'))), std::invalid_argument);
  CHECK_NOTHROW(AuthService(db, fastSettings(std::string(32, 'k'))));
}

TEST_CASE("login: the right password gives a token for the principal", "[auth]") {
  Fixture f;
  const api::LoginResponse response = f.auth.login(credentials("anna", "correct horse"), kNow);
  CHECK(response.principal().user_id() == "u-anna");
  CHECK(response.principal().role() == domain::NURSE);
  CHECK(response.expires_at() == hemma::sync::formatRfc3339(kNow + 8 * 3600 * 1000));

  const api::Principal principal = f.auth.authenticate(response.token(), kNow + 1000);
  CHECK(principal.user_id() == "u-anna");
  CHECK(principal.name() == "Anna Nurse");
  CHECK(principal.role() == domain::NURSE);
  CHECK(principal.organisation_id() == "org-1");
  CHECK(principal.unit_id() == "unit-1");
  CHECK(principal.device_id().empty());
  CHECK(f.auth.authenticate("Bearer " + response.token(), kNow).user_id() == "u-anna");

  CHECK(base64UrlDecode(response.token().substr(response.token().find('.') + 1,
                                                response.token().rfind('.') - response.token().find('.') - 1))
            .find("\"role\":\"NURSE\"") != std::string::npos);
}

TEST_CASE("login: a patient account", "[auth]") {
  Fixture f;
  api::Principal patient;
  patient.set_user_id("u-erik");
  patient.set_patient_id("p-erik");
  f.auth.upsertAccount("erik", "pw", patient);
  const api::Principal principal = f.auth.authenticate(f.auth.login(credentials("erik", "pw"), kNow).token(), kNow);
  CHECK(principal.patient_id() == "p-erik");
  CHECK(principal.role() == domain::ROLE_UNSPECIFIED);

  api::Principal incomplete;
  incomplete.set_user_id("u-x");
  CHECK(invalidArgument([&] { f.auth.upsertAccount("x", "pw", incomplete); }).find("patient_id") != std::string::npos);
  incomplete.set_role(domain::NURSE);
  CHECK(invalidArgument([&] { f.auth.upsertAccount("x", "pw", incomplete); }).find("organisation_id") !=
        std::string::npos);
}

TEST_CASE("login: wrong password and unknown user get the same answer", "[auth]") {
  Fixture f;
  const std::string wrongPassword = unauthorized([&] { f.auth.login(credentials("anna", "wrong"), kNow); });
  const std::string unknownUser = unauthorized([&] { f.auth.login(credentials("nobody", "correct horse"), kNow); });
  CHECK(wrongPassword == "login: wrong username or password");
  CHECK(unknownUser == wrongPassword);
}

TEST_CASE("login: locked out after 5 failures, open again after the window", "[auth]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    CHECK(unauthorized([&] { f.auth.login(credentials("anna", "wrong"), kNow + i * 1000); }) ==
          "login: wrong username or password");
  }
  const std::int64_t later = kNow + 60'000;
  try {
    f.auth.login(credentials("anna", "correct horse"), later);
    FAIL("expected TooManyAttempts");
  } catch (const TooManyAttempts& e) {
    CHECK(e.retryAfter() == std::chrono::seconds(15 * 60 - 60));
  }
  // Another username is not affected.
  f.auth.upsertAccount("bo", "pw", nurse("u-bo"));
  CHECK_NOTHROW(f.auth.login(credentials("bo", "pw"), later));

  // The window runs from the first failure.
  CHECK_THROWS_AS(f.auth.login(credentials("anna", "correct horse"), kNow + 15 * 60 * 1000 - 1), TooManyAttempts);
  CHECK_NOTHROW(f.auth.login(credentials("anna", "correct horse"), kNow + 15 * 60 * 1000));
}

TEST_CASE("login: unknown usernames are locked out too", "[auth]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    CHECK_THROWS_AS(f.auth.login(credentials("nobody", "guess"), kNow), Unauthorized);
  }
  CHECK_THROWS_AS(f.auth.login(credentials("nobody", "guess"), kNow), TooManyAttempts);
}

TEST_CASE("login: a success resets the failure count", "[auth]") {
  Fixture f;
  for (int i = 0; i < 4; ++i) CHECK_THROWS_AS(f.auth.login(credentials("anna", "wrong"), kNow), Unauthorized);
  CHECK_NOTHROW(f.auth.login(credentials("anna", "correct horse"), kNow));
  for (int i = 0; i < 4; ++i) CHECK_THROWS_AS(f.auth.login(credentials("anna", "wrong"), kNow), Unauthorized);
  CHECK_NOTHROW(f.auth.login(credentials("anna", "correct horse"), kNow));
}

TEST_CASE("tokens: a login token expires", "[auth]") {
  Fixture f;
  const std::string token = f.loginToken();
  CHECK_NOTHROW(f.auth.authenticate(token, kNow + 8 * 3600 * 1000 - 1));
  CHECK(unauthorized([&] { f.auth.authenticate(token, kNow + 8 * 3600 * 1000); }) == "token: expired");
}

TEST_CASE("tokens: forged, tampered and garbage tokens are refused", "[auth]") {
  Fixture f;
  const std::string token = f.loginToken();

  SECTION("missing") {
    CHECK(unauthorized([&] { f.auth.authenticate("", kNow); }) == "token: missing");
    CHECK(unauthorized([&] { f.auth.authenticate("Bearer ", kNow); }) == "token: missing");
  }
  SECTION("signed with another secret") {
    test::TempDir otherDir;
    server::Database otherDb(otherDir.file("auth.db"));
    AuthService other(otherDb, fastSettings("another-secret-that-is-also-32-bytes-long"));
    other.upsertAccount("anna", "correct horse", nurse());
    const std::string forged = other.login(credentials("anna", "correct horse"), kNow).token();
    CHECK(unauthorized([&] { f.auth.authenticate(forged, kNow); }) == "token: signature does not match");
  }
  SECTION("payload changed") {
    const std::size_t first = token.find('.');
    const std::size_t last = token.rfind('.');
    std::string payload = base64UrlDecode(token.substr(first + 1, last - first - 1));
    const std::size_t role = payload.find("\"NURSE\"");
    REQUIRE(role != std::string::npos);
    payload.replace(role, 7, "\"ADMINISTRATOR\"");
    const std::string tampered = token.substr(0, first + 1) + base64UrlEncode(payload) + token.substr(last);
    CHECK(unauthorized([&] { f.auth.authenticate(tampered, kNow); }) == "token: signature does not match");
  }
  SECTION("signature changed") {
    std::string tampered = token;
    tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
    CHECK(unauthorized([&] { f.auth.authenticate(tampered, kNow); }) == "token: signature does not match");
  }
  SECTION("alg none") {
    const std::string header = base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
    const std::string unsignedToken = header + token.substr(token.find('.'), token.rfind('.') - token.find('.')) + ".";
    CHECK(unauthorized([&] { f.auth.authenticate(unsignedToken, kNow); }) == "token: malformed");
  }
  SECTION("garbage") {
    CHECK(unauthorized([&] { f.auth.authenticate("garbage", kNow); }) == "token: malformed");
    CHECK(unauthorized([&] { f.auth.authenticate("a.b", kNow); }) == "token: malformed");
    CHECK(unauthorized([&] { f.auth.authenticate("a.b.c.d", kNow); }) == "token: malformed");
    CHECK(unauthorized([&] { f.auth.authenticate("a b.c.d", kNow); }) == "token: malformed");
    CHECK(unauthorized([&] { f.auth.authenticate(token + " ", kNow); }) == "token: malformed");
  }
}

TEST_CASE("devices: a registered tablet authenticates with its own token", "[auth]") {
  Fixture f;
  const api::Principal user = f.auth.authenticate(f.loginToken(), kNow);
  const api::RegisterDeviceResponse registered = f.auth.registerDevice(user, "tablet-1", kNow);
  CHECK(registered.device_id() == "tablet-1");

  // A device token does not expire with the login.
  const api::Principal device = f.auth.authenticate(registered.token(), kNow + 30LL * 24 * 3600 * 1000);
  CHECK(device.device_id() == "tablet-1");
  CHECK(device.user_id() == "u-anna");
  CHECK(device.role() == domain::NURSE);
  CHECK(device.organisation_id() == "org-1");

  const std::optional<api::Device> stored = f.auth.device("tablet-1");
  REQUIRE(stored);
  CHECK(stored->user_id() == "u-anna");
  CHECK(stored->registered_at() == hemma::sync::formatRfc3339(kNow));
  CHECK(stored->revoked_at().empty());
  CHECK_FALSE(f.auth.device("tablet-2"));

  f.auth.registerDevice(user, "tablet-2", kNow + 1);
  const api::DeviceList list = f.auth.devices("u-anna");
  REQUIRE(list.devices_size() == 2);
  CHECK(list.devices(0).device_id() == "tablet-1");
  CHECK(list.devices(1).device_id() == "tablet-2");
  CHECK(f.auth.devices("u-bo").devices_size() == 0);
}

TEST_CASE("devices: revoking stops the token at once", "[auth]") {
  Fixture f;
  const api::Principal user = f.auth.authenticate(f.loginToken(), kNow);
  const std::string token = f.auth.registerDevice(user, "tablet-1", kNow).token();
  CHECK(f.auth.revokeDevice("tablet-1", kNow + 1000));
  CHECK(unauthorized([&] { f.auth.authenticate(token, kNow + 2000); }) == "device: revoked");
  CHECK(f.auth.device("tablet-1")->revoked_at() == hemma::sync::formatRfc3339(kNow + 1000));
  // Revoking again keeps the first time.
  CHECK(f.auth.revokeDevice("tablet-1", kNow + 5000));
  CHECK(f.auth.device("tablet-1")->revoked_at() == hemma::sync::formatRfc3339(kNow + 1000));
  CHECK_FALSE(f.auth.revokeDevice("no-such-tablet", kNow));

  CHECK(invalidArgument([&] { f.auth.registerDevice(user, "tablet-1", kNow + 3000); }) ==
        "device_id: revoked; use a new device id");
}

TEST_CASE("devices: registering again replaces the old token", "[auth]") {
  Fixture f;
  const api::Principal user = f.auth.authenticate(f.loginToken(), kNow);
  const std::string first = f.auth.registerDevice(user, "tablet-1", kNow).token();
  const std::string second = f.auth.registerDevice(user, "tablet-1", kNow + 1000).token();
  CHECK(unauthorized([&] { f.auth.authenticate(first, kNow + 2000); }) == "device: token replaced");
  CHECK(f.auth.authenticate(second, kNow + 2000).device_id() == "tablet-1");
}

TEST_CASE("devices: another user's tablet, a tablet registering, bad ids", "[auth]") {
  Fixture f;
  const api::Principal anna = f.auth.authenticate(f.loginToken(), kNow);
  const std::string token = f.auth.registerDevice(anna, "tablet-1", kNow).token();

  f.auth.upsertAccount("bo", "pw", nurse("u-bo"));
  const api::Principal bo = f.auth.authenticate(f.auth.login(credentials("bo", "pw"), kNow).token(), kNow);
  CHECK(invalidArgument([&] { f.auth.registerDevice(bo, "tablet-1", kNow); }) ==
        "device_id: registered to another user");
  CHECK(f.auth.authenticate(token, kNow).user_id() == "u-anna");

  const api::Principal device = f.auth.authenticate(token, kNow);
  CHECK(invalidArgument([&] { f.auth.registerDevice(device, "tablet-9", kNow); }) ==
        "device: a device cannot register another device");

  CHECK(invalidArgument([&] { f.auth.registerDevice(anna, "", kNow); }).rfind("device_id:", 0) == 0);
  CHECK(invalidArgument([&] { f.auth.registerDevice(anna, std::string(129, 'x'), kNow); }).rfind("device_id:", 0) == 0);
  CHECK(invalidArgument([&] { f.auth.registerDevice(anna, "tablet:1", kNow); }).rfind("device_id:", 0) == 0);
  CHECK_NOTHROW(f.auth.registerDevice(anna, std::string(128, 'x'), kNow));
}

TEST_CASE("login throttle: an address is locked out across accounts", "[auth][throttle]") {
  test::TempDir dir;
  server::Database db(dir.file("auth.db"));
  AuthService auth(db, throttleSettings());
  auth.upsertAccount("anna", "pw", nurse());
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
    AuthService auth(db, throttleSettings());
    auth.upsertAccount("anna", "pw", nurse());
    for (int i = 0; i < 5; ++i) CHECK_THROWS_AS(auth.login(credentials("anna", "no"), kNow, "192.0.2.1"), Unauthorized);
  }
  // A new server process on the same database: the account is still locked,
  // from any address.
  server::Database db(dir.file("auth.db"));
  AuthService restarted(db, throttleSettings());
  CHECK_THROWS_AS(restarted.login(credentials("anna", "pw"), kNow + kMinute, "192.0.2.99"), TooManyAttempts);
  // A second process on the same database shares the count too.
  AuthService second(db, throttleSettings());
  CHECK_THROWS_AS(second.login(credentials("anna", "pw"), kNow + kMinute, "192.0.2.98"), TooManyAttempts);
}

TEST_CASE("login: an oversize username or password is refused before any work, and counted", "[auth][throttle]") {
  test::TempDir dir;
  server::Database db(dir.file("auth.db"));
  AuthService auth(db, throttleSettings());
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
  AuthService auth(db, throttleSettings());
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
  AuthService auth(db, throttleSettings());
  auth.upsertAccount("anna", "pw", nurse());
  // A ward behind one address signs in many times a shift.
  for (int i = 0; i < 30; ++i) CHECK_NOTHROW(auth.login(credentials("anna", "pw"), kNow + i, "192.0.2.20"));
  // Its failures still count: 8 wrong guesses lock it.
  for (int i = 0; i < 8; ++i) {
    CHECK_THROWS_AS(auth.login(credentials("guess-" + std::to_string(i), "x"), kNow + 100, "192.0.2.20"), Unauthorized);
  }
  CHECK_THROWS_AS(auth.login(credentials("anna", "pw"), kNow + 200, "192.0.2.20"), TooManyAttempts);
}
