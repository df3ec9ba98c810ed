#include "hemma/server/auth_service.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/String.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <string_view>
#include <vector>

#include "hemma/server/blob.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::server {

using namespace Poco::Data::Keywords;

namespace {

constexpr std::string_view kHashScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// Bounds what a stored hash can make the server compute.
constexpr int kMaxIterations = 10'000'000;
constexpr std::size_t kMaxSaltBytes = 64;
constexpr std::size_t kMinSecretBytes = 32;
constexpr std::size_t kJtiBytes = 16;
constexpr std::size_t kMaxTokenBytes = 8 * 1024;
constexpr std::size_t kMaxDeviceIdBytes = 128;
constexpr std::size_t kMaxUsernameBytes = 128;
constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr std::string_view kBearerPrefix = "Bearer ";
const char* const kWrongLogin = "login: wrong username or password";

std::string randomBytes(std::size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("random: RAND_bytes failed");
  }
  return bytes;
}

std::string base64Encode(std::string_view bytes) {
  // EVP_EncodeBlock writes a terminating NUL after the 4-character groups.
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool isBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Standard base64 with padding, in its one canonical form; nullopt for
// anything else.
std::optional<std::string> base64Decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  if (!std::all_of(text.begin(), text.end() - static_cast<std::ptrdiff_t>(padding), isBase64Char)) {
    return std::nullopt;
  }
  std::string out(text.size() / 4 * 3 + 1, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0 || static_cast<std::size_t>(written) < padding) return std::nullopt;
  out.resize(static_cast<std::size_t>(written) - padding);
  if (base64Encode(out) != text) return std::nullopt;
  return out;
}

std::string base64UrlEncode(std::string_view bytes) {
  std::string out = base64Encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

bool isBase64UrlPart(std::string_view part) {
  return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string pbkdf2(const std::string& password, const std::string& salt, int iterations) {
  if (password.size() > static_cast<std::size_t>(INT_MAX)) throw std::invalid_argument("password: too long");
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha256(), static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("password hash: PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t end = text.find(separator);
    parts.push_back(text.substr(0, end));
    if (end == std::string_view::npos) return parts;
    text.remove_prefix(end + 1);
  }
}

std::string hmacSha256(const std::string& key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), digest, &length) == nullptr) {
    throw std::runtime_error("token: HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::int64_t secondsOf(std::int64_t unixMillis) { return unixMillis / 1000 - (unixMillis % 1000 < 0 ? 1 : 0); }

// Claims: "sub" user id, "name", "role" (the domain.Role enum name, e.g.
// "NURSE"), "org", "unit", "patient_id", "dev" (device tokens only), "jti",
// "iat", "exp" (login tokens only), times in Unix seconds.
std::string issueToken(const std::string& secret, const api::Principal& principal, const std::string& jti,
                       std::int64_t issuedAtS, std::optional<std::int64_t> expiresAtS) {
  Poco::JWT::Token token;
  token.setType("JWT");
  token.setSubject(principal.user_id());
  Poco::JSON::Object& claims = token.payload();
  claims.set("name", principal.name());
  claims.set("role", domain::Role_Name(principal.role()));
  claims.set("org", principal.organisation_id());
  claims.set("unit", principal.unit_id());
  claims.set("patient_id", principal.patient_id());
  if (!principal.device_id().empty()) claims.set("dev", principal.device_id());
  token.setId(jti);
  claims.set("iat", static_cast<Poco::Int64>(issuedAtS));
  if (expiresAtS) claims.set("exp", static_cast<Poco::Int64>(*expiresAtS));
  Poco::JWT::Signer signer(secret);
  return signer.sign(token, Poco::JWT::Signer::ALGO_HS256);
}

std::optional<std::string> stringClaim(const Poco::JSON::Object& claims, const std::string& name) {
  if (!claims.has(name)) return std::nullopt;
  const Poco::Dynamic::Var value = claims.get(name);
  if (!value.isString()) return std::nullopt;
  return value.extract<std::string>();
}

std::optional<std::int64_t> integerClaim(const Poco::JSON::Object& claims, const std::string& name) {
  if (!claims.has(name)) return std::nullopt;
  const Poco::Dynamic::Var value = claims.get(name);
  if (!value.isInteger()) return std::nullopt;
  return value.convert<Poco::Int64>();
}

struct Claims {
  api::Principal principal;
  std::string jti;
  std::int64_t issuedAtS = 0;
  std::optional<std::int64_t> notBeforeS;
  std::optional<std::int64_t> expiresAtS;
};

// The claims of a token whose signature has been checked; nullopt if they
// are not what issueToken writes.
std::optional<Claims> readClaims(const std::string& jwt) {
  try {
    const Poco::JWT::Token token(jwt);
    if (token.getAlgorithm() != Poco::JWT::Signer::ALGO_HS256) return std::nullopt;
    const Poco::JSON::Object& claims = token.payload();
    const auto sub = stringClaim(claims, "sub");
    const auto name = stringClaim(claims, "name");
    const auto role = stringClaim(claims, "role");
    const auto org = stringClaim(claims, "org");
    const auto unit = stringClaim(claims, "unit");
    const auto patientId = stringClaim(claims, "patient_id");
    const auto jti = stringClaim(claims, "jti");
    const auto dev = stringClaim(claims, "dev");
    domain::Role roleValue = domain::ROLE_UNSPECIFIED;
    if (!sub || sub->empty() || !name || !role || !domain::Role_Parse(*role, &roleValue) || !org || !unit ||
        !patientId || !jti || jti->empty() || (claims.has("dev") && (!dev || dev->empty()))) {
      return std::nullopt;
    }
    Claims result;
    const auto issuedAt = integerClaim(claims, "iat");
    if (!issuedAt) return std::nullopt;
    result.issuedAtS = *issuedAt;
    if (claims.has("nbf")) {
      result.notBeforeS = integerClaim(claims, "nbf");
      if (!result.notBeforeS) return std::nullopt;
    }
    if (claims.has("exp")) {
      result.expiresAtS = integerClaim(claims, "exp");
      if (!result.expiresAtS) return std::nullopt;
    } else if (!dev) {
      return std::nullopt;  // a login token always expires
    }
    result.principal.set_user_id(*sub);
    result.principal.set_name(*name);
    result.principal.set_role(roleValue);
    result.principal.set_organisation_id(*org);
    result.principal.set_unit_id(*unit);
    result.principal.set_patient_id(*patientId);
    if (dev) result.principal.set_device_id(*dev);
    result.jti = *jti;
    return result;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

void validateDeviceId(const std::string& deviceId) {
  if (deviceId.empty()) throw std::invalid_argument("device_id: missing");
  if (deviceId.size() > kMaxDeviceIdBytes) throw std::invalid_argument("device_id: longer than 128 bytes");
  if (deviceId.find(':') != std::string::npos) throw std::invalid_argument("device_id: must not contain ':'");
}

void validateAccount(const std::string& username, const std::string& password, const api::Principal& principal) {
  if (username.empty()) throw std::invalid_argument("username: missing");
  if (username.size() > kMaxUsernameBytes) throw std::invalid_argument("username: longer than 128 bytes");
  if (password.empty()) throw std::invalid_argument("password: missing");
  if (principal.user_id().empty()) throw std::invalid_argument("principal.user_id: missing");
  if (!principal.device_id().empty()) throw std::invalid_argument("principal.device_id: must be empty for an account");
  if (!domain::Role_IsValid(principal.role())) throw std::invalid_argument("principal.role: unknown role");
  if (principal.role() == domain::ROLE_UNSPECIFIED) {
    if (principal.patient_id().empty()) {
      throw std::invalid_argument("principal.patient_id: missing (a principal without a role is a patient)");
    }
  } else if (principal.organisation_id().empty()) {
    throw std::invalid_argument("principal.organisation_id: missing for a practitioner");
  }
}

}  // namespace

std::string hashPassword(const std::string& password, int iterations) {
  if (iterations < 1 || iterations > kMaxIterations) {
    throw std::invalid_argument("kdf iterations: must be between 1 and " + std::to_string(kMaxIterations));
  }
  const std::string salt = randomBytes(kSaltBytes);
  std::string stored(kHashScheme);
  stored += '$';
  stored += std::to_string(iterations);
  stored += '$';
  stored += base64Encode(salt);
  stored += '$';
  stored += base64Encode(pbkdf2(password, salt, iterations));
  return stored;
}

bool verifyPassword(const std::string& password, const std::string& stored) {
  const std::vector<std::string_view> parts = split(stored, '$');
  if (parts.size() != 4 || parts[0] != kHashScheme) return false;
  int iterations = 0;
  const char* first = parts[1].data();
  const char* last = first + parts[1].size();
  const auto [end, error] = std::from_chars(first, last, iterations);
  if (error != std::errc() || end != last || iterations < 1 || iterations > kMaxIterations) return false;
  const std::optional<std::string> salt = base64Decode(parts[2]);
  const std::optional<std::string> expected = base64Decode(parts[3]);
  if (!salt || salt->empty() || salt->size() > kMaxSaltBytes || !expected || expected->size() != kHashBytes) {
    return false;
  }
  if (password.size() > static_cast<std::size_t>(INT_MAX)) return false;
  return constantTimeEquals(pbkdf2(password, *salt, iterations), *expected);
}

AuthService::AuthService(Database& db, AuthSettings settings)
    : m_db(db),
      m_settings(std::move(settings)),
      m_throttle(db,
                 ThrottleSettings{m_settings.maxFailures, m_settings.maxFailuresPerAddress, m_settings.failureWindow}) {
  if (m_settings.jwtSecret.size() < kMinSecretBytes) {
    throw std::invalid_argument("jwt secret: shorter than 32 bytes");
  }
  if (m_settings.kdfIterations < 1 || m_settings.kdfIterations > kMaxIterations) {
    throw std::invalid_argument("kdf iterations: must be between 1 and " + std::to_string(kMaxIterations));
  }
  if (m_settings.loginTokenLifetime.count() <= 0) throw std::invalid_argument("login token lifetime: not positive");
  if (m_settings.maxClockSkew.count() < 0) throw std::invalid_argument("max clock skew: negative");
  m_dummyHash = hashPassword(randomBytes(kSaltBytes), m_settings.kdfIterations);

  Poco::Data::Session s = m_db.session();
  s << R"sql(
    CREATE TABLE IF NOT EXISTS accounts(
      username TEXT PRIMARY KEY,
      password_hash TEXT NOT NULL,
      principal BLOB NOT NULL))sql",
      now;
  s << R"sql(
    CREATE TABLE IF NOT EXISTS devices(
      device_id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      registered_at TEXT NOT NULL,
      revoked_at TEXT,
      token_id TEXT NOT NULL,
      registration INTEGER NOT NULL DEFAULT 1))sql",
      now;
  // Databases from before registration numbers: each device id there was
  // registered at least once, and its tablet's ids so far have no epoch, so
  // the next registration is 2 and cannot meet them.
  auto hasRegistration = [&] {
    int count = 0;
    s << "SELECT count(*) FROM pragma_table_info('devices') WHERE name = 'registration'", into(count), now;
    return count > 0;
  };
  if (!hasRegistration()) {
    try {
      s << "ALTER TABLE devices ADD COLUMN registration INTEGER NOT NULL DEFAULT 1", now;
    } catch (const Poco::Exception&) {
      if (!hasRegistration()) throw;  // else another server process added it first
    }
  }
  s << "CREATE INDEX IF NOT EXISTS devices_by_user ON devices(user_id)", now;
}

void AuthService::upsertAccount(const std::string& username, const std::string& password,
                                const api::Principal& principal) {
  validateAccount(username, password, principal);
  std::string passwordHash = hashPassword(password, m_settings.kdfIterations);
  std::string name = username;
  Poco::Data::BLOB body = toBlob(principal.SerializeAsString());
  Poco::Data::Session s = m_db.session();
  s << "INSERT INTO accounts(username, password_hash, principal) VALUES(?, ?, ?) "
       "ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, principal = excluded.principal",
      use(name), use(passwordHash), use(body), now;
  // A new password lifts the account's lockout.
  m_throttle.clearAccount(username);
}

api::LoginResponse AuthService::login(const api::LoginRequest& request, std::int64_t nowMs,
                                      const std::string& clientAddress) {
  const std::string& username = request.username();
  // Sizes first, before any work: an oversize username is counted for its
  // address only, so it neither escapes the brake nor grows the table.
  const bool sized = username.size() <= kMaxUsernameBytes && request.password().size() <= kMaxPasswordBytes;
  const LoginThrottle::Verdict verdict = m_throttle.countAttempt(sized ? username : "", clientAddress, nowMs);
  if (verdict.retryAfterS > 0) {
    throw TooManyAttempts("login: too many failed attempts; try again later", std::chrono::seconds(verdict.retryAfterS),
                          verdict.firstRefusal);
  }
  if (username.size() > kMaxUsernameBytes) {
    throw std::invalid_argument("username: longer than " + std::to_string(kMaxUsernameBytes) + " bytes");
  }
  if (request.password().size() > kMaxPasswordBytes) {
    throw std::invalid_argument("password: longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }

  std::string passwordHash;
  Poco::Data::BLOB body;
  bool known = false;
  {
    Poco::Data::Session s = m_db.session();
    std::string name = username;
    std::vector<std::string> hashes;
    std::vector<Poco::Data::BLOB> bodies;
    s << "SELECT password_hash, principal FROM accounts WHERE username = ?", into(hashes), into(bodies), use(name), now;
    if (!hashes.empty()) {
      known = true;
      passwordHash = hashes.front();
      body = bodies.front();
    }
  }
  if (!known) {
    verifyPassword(request.password(), m_dummyHash);
    throw Unauthorized(kWrongLogin);
  }
  if (!verifyPassword(request.password(), passwordHash)) throw Unauthorized(kWrongLogin);
  m_throttle.succeeded(username, clientAddress);

  api::LoginResponse response;
  api::Principal& principal = *response.mutable_principal();
  if (!principal.ParseFromArray(body.rawContent(), static_cast<int>(body.size()))) {
    throw std::runtime_error("accounts: stored principal of " + username + " is corrupt");
  }
  const std::int64_t lifetimeMs = std::chrono::milliseconds(m_settings.loginTokenLifetime).count();
  const std::int64_t expiresAtS = secondsOf(nowMs + lifetimeMs);
  response.set_token(issueToken(m_settings.jwtSecret, principal, base64UrlEncode(randomBytes(kJtiBytes)),
                                secondsOf(nowMs), expiresAtS));
  response.set_expires_at(sync::formatRfc3339(expiresAtS * 1000));
  return response;
}

api::Principal AuthService::authenticate(const std::string& token, std::int64_t nowMs) {
  std::string_view jwt = token;
  if (Poco::icompare(std::string(jwt.substr(0, kBearerPrefix.size())), std::string(kBearerPrefix)) == 0) {
    jwt.remove_prefix(kBearerPrefix.size());
  }
  if (jwt.empty()) throw Unauthorized("token: missing");
  if (jwt.size() > kMaxTokenBytes) throw Unauthorized("token: malformed");
  const std::vector<std::string_view> parts = split(jwt, '.');
  if (parts.size() != 3 || !std::all_of(parts.begin(), parts.end(), isBase64UrlPart)) {
    throw Unauthorized("token: malformed");
  }
  // The signature is checked before anything in the token is parsed, and in
  // constant time (Poco's verifier compares with ==). Only HS256 is
  // computed, whatever the header claims, so "alg": "none" cannot pass.
  const std::string_view signedPart = jwt.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!constantTimeEquals(base64UrlEncode(hmacSha256(m_settings.jwtSecret, signedPart)), parts[2])) {
    throw Unauthorized("token: signature does not match");
  }
  std::optional<Claims> claims = readClaims(std::string(jwt));
  if (!claims) throw Unauthorized("token: malformed");
  if (claims->expiresAtS && nowMs >= *claims->expiresAtS * 1000) throw Unauthorized("token: expired");
  // Tokens come only from a server sharing the key; one dated ahead of this
  // clock by more than the allowed skew was not made by an honest one.
  const std::int64_t skewMs = std::chrono::milliseconds(m_settings.maxClockSkew).count();
  if (claims->issuedAtS * 1000 > nowMs + skewMs) throw Unauthorized("token: issued in the future (iat)");
  if (claims->notBeforeS && *claims->notBeforeS * 1000 > nowMs + skewMs) {
    throw Unauthorized("token: not valid yet (nbf)");
  }
  if (claims->principal.device_id().empty()) return std::move(claims->principal);

  std::string deviceId = claims->principal.device_id();
  std::vector<std::string> userIds, revokedAts, tokenIds;
  Poco::Data::Session s = m_db.session();
  s << "SELECT user_id, coalesce(revoked_at, ''), token_id FROM devices WHERE device_id = ?", into(userIds),
      into(revokedAts), into(tokenIds), use(deviceId), now;
  if (userIds.empty() || userIds.front() != claims->principal.user_id()) throw Unauthorized("device: unknown");
  if (!revokedAts.front().empty()) throw Unauthorized("device: revoked");
  if (tokenIds.front() != claims->jti) throw Unauthorized("device: token replaced");
  return std::move(claims->principal);
}

api::RegisterDeviceResponse AuthService::registerDevice(const api::Principal& user, const std::string& deviceId,
                                                        std::int64_t nowMs) {
  if (!user.device_id().empty()) throw std::invalid_argument("device: a device cannot register another device");
  if (user.user_id().empty()) throw std::invalid_argument("user_id: missing");
  validateDeviceId(deviceId);

  std::string id = deviceId;
  std::string userId = user.user_id();
  std::string registeredAt = sync::formatRfc3339(nowMs);
  std::string tokenId = base64UrlEncode(randomBytes(kJtiBytes));
  std::vector<Poco::Int64> applied;
  Poco::Data::Session s = m_db.session();
  // One statement, so two registrations of the same id cannot both win, and
  // each gets a registration number of its own: the row is never deleted
  // (a revoked id cannot register again), so no number is issued twice.
  s << "INSERT INTO devices(device_id, user_id, registered_at, revoked_at, token_id, registration) "
       "VALUES(?, ?, ?, NULL, ?, 1) "
       "ON CONFLICT(device_id) DO UPDATE SET registered_at = excluded.registered_at, token_id = excluded.token_id, "
       "registration = devices.registration + 1 "
       "WHERE devices.user_id = excluded.user_id AND devices.revoked_at IS NULL "
       "RETURNING registration",
      into(applied), use(id), use(userId), use(registeredAt), use(tokenId), now;
  if (applied.empty()) {
    std::vector<std::string> revokedAts;
    s << "SELECT coalesce(revoked_at, '') FROM devices WHERE device_id = ?", into(revokedAts), use(id), now;
    if (!revokedAts.empty() && !revokedAts.front().empty()) {
      throw std::invalid_argument("device_id: revoked; use a new device id");
    }
    throw std::invalid_argument("device_id: registered to another user");
  }

  api::Principal principal = user;
  principal.set_device_id(deviceId);
  api::RegisterDeviceResponse response;
  response.set_device_id(deviceId);
  response.set_token(issueToken(m_settings.jwtSecret, principal, tokenId, secondsOf(nowMs), std::nullopt));
  response.set_registration(static_cast<std::uint64_t>(applied.front()));
  return response;
}

bool AuthService::revokeDevice(const std::string& deviceId, std::int64_t nowMs) {
  std::string id = deviceId;
  std::string revokedAt = sync::formatRfc3339(nowMs);
  std::vector<std::string> found;
  Poco::Data::Session s = m_db.session();
  // Revoking twice keeps the first time.
  s << "UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE device_id = ? RETURNING device_id", into(found),
      use(revokedAt), use(id), now;
  return !found.empty();
}

std::optional<api::Device> AuthService::device(const std::string& deviceId) {
  std::string id = deviceId;
  std::vector<std::string> userIds, registeredAts, revokedAts;
  Poco::Data::Session s = m_db.session();
  s << "SELECT user_id, registered_at, coalesce(revoked_at, '') FROM devices WHERE device_id = ?", into(userIds),
      into(registeredAts), into(revokedAts), use(id), now;
  if (userIds.empty()) return std::nullopt;
  api::Device result;
  result.set_device_id(deviceId);
  result.set_user_id(userIds.front());
  result.set_registered_at(registeredAts.front());
  result.set_revoked_at(revokedAts.front());
  return result;
}

api::DeviceList AuthService::devices(const std::string& userId) {
  std::string user = userId;
  std::vector<std::string> deviceIds, registeredAts, revokedAts;
  Poco::Data::Session s = m_db.session();
  s << "SELECT device_id, registered_at, coalesce(revoked_at, '') FROM devices WHERE user_id = ? "
       "ORDER BY registered_at, device_id",
      into(deviceIds), into(registeredAts), into(revokedAts), use(user), now;
  api::DeviceList list;
  for (std::size_t i = 0; i < deviceIds.size(); ++i) {
    api::Device& item = *list.add_devices();
    item.set_device_id(deviceIds[i]);
    item.set_user_id(userId);
    item.set_registered_at(registeredAts[i]);
    item.set_revoked_at(revokedAts[i]);
  }
  return list;
}

}  // namespace hemma::server
