#pragma once
// Authentication: passwords, login tokens, the tablets' own tokens and their
// revocation, and the brake on guessing passwords.
//
// Passwords are stored only as PBKDF2-HMAC-SHA256 hashes with a per-user
// random salt; comparisons are constant-time. Tokens are JWTs signed with
// HS256 under a secret from configuration. A login token expires; a device
// token lives until the device is revoked, which every request checks.
//
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "hemma/api.pb.h"
#include "hemma/server/database.hpp"
#include "hemma/server/login_throttle.hpp"

namespace hemma::server {

// The credentials or the token are not acceptable: 401. The message says why
// ("token: expired", "token: signature does not match", "device: revoked")
// without revealing whether a username exists.
class Unauthorized : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Too many failed logins for this username or from this address: 429. `retryAfter` says when to
// try again.
class TooManyAttempts : public std::runtime_error {
 public:
  TooManyAttempts(const std::string& message, std::chrono::seconds retryAfter, bool firstRefusal = true)
      : std::runtime_error(message), m_retryAfter(retryAfter), m_firstRefusal(firstRefusal) {}
  std::chrono::seconds retryAfter() const { return m_retryAfter; }
  // The first refusal of this lockout: the one the audit log records (later
  // ones would only let an anonymous caller grow the log).
  bool firstRefusal() const { return m_firstRefusal; }

 private:
  std::chrono::seconds m_retryAfter;
  bool m_firstRefusal;
};

struct AuthSettings {
  // HS256 key; at least 32 bytes.
  std::string jwtSecret;
  std::chrono::seconds loginTokenLifetime{8 * 3600};
  // PBKDF2 iterations for new hashes (stored per hash, so raising it later
  // keeps old hashes valid).
  int kdfIterations = 120'000;
  // Failed logins allowed per username, and per client address, within
  // `failureWindow` (login_throttle.hpp).
  int maxFailures = 5;
  int maxFailuresPerAddress = 50;
  std::chrono::seconds failureWindow{15 * 60};
  // Clock difference allowed between the server processes that share the
  // signing key: a token issued (iat) or valid from (nbf) later than this
  // ahead of this server's clock is refused.
  std::chrono::seconds maxClockSkew{60};
};

// A password hash as stored: "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>".
std::string hashPassword(const std::string& password, int iterations);
// Constant-time check of `password` against a stored hash.
bool verifyPassword(const std::string& password, const std::string& stored);

class AuthService {
 public:
  // Creates its tables (accounts, devices) if missing.
  AuthService(Database& db, AuthSettings settings);

  // Creates or replaces a login for a practitioner or a patient. `principal`
  // must carry user_id, and role+organisation for a practitioner or
  // patient_id for a patient.
  void upsertAccount(const std::string& username, const std::string& password, const api::Principal& principal);

  // Throws std::invalid_argument for a username or password over its size
  // limit (checked before any other work; the attempt still counts for the
  // address), Unauthorized for a wrong username or password (same message
  // for both) and TooManyAttempts while the username or the client address
  // (`clientAddress`, empty when unknown) is locked out.
  api::LoginResponse login(const api::LoginRequest& request, std::int64_t nowMs, const std::string& clientAddress = {});

  // Verifies a bearer token (login or device) and returns its principal.
  // Throws Unauthorized naming the problem.
  api::Principal authenticate(const std::string& token, std::int64_t nowMs);

  // Registers a tablet to the calling user (not a device token) and issues
  // its token and registration number (1, then one more at every
  // registration of the id; the tablet's operation ids carry it).
  // Registering the same device id again for the same user (a reinstall)
  // issues a new token, which replaces the old one, and the next number;
  // for another user, or a revoked id, it throws std::invalid_argument.
  api::RegisterDeviceResponse registerDevice(const api::Principal& user, const std::string& deviceId,
                                             std::int64_t nowMs);
  // Revokes a device: its token stops working at once. Returns false if no
  // such device.
  bool revokeDevice(const std::string& deviceId, std::int64_t nowMs);
  std::optional<api::Device> device(const std::string& deviceId);
  api::DeviceList devices(const std::string& userId);

 private:
  Database& m_db;
  AuthSettings m_settings;
  // Checked for unknown usernames, so that they take as long as known ones.
  std::string m_dummyHash;
  LoginThrottle m_throttle;
};

}  // namespace hemma::server
