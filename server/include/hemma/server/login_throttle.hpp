#pragma once
// The brake on guessing passwords: failed sign-ins counted per account and
// per client address, in the database, so a lockout survives a restart and
// holds across every server process on the same database.
//
// Each attempt is counted before its password is checked (so concurrent
// guesses cannot run past the limit); a success clears the account's count
// and takes back its own count for the address, but not the address's
// earlier failures (one known password must not reset a guessing address). Counts expire with their window; expired
// rows are deleted as new ones are written, so the table stays bounded by the keys seen in one window, and keys are
// bounded in size by the caller.
//
// Thread-safe: every call is one statement on its own session.

#include <chrono>
#include <cstdint>
#include <string>

#include "hemma/server/database.hpp"

namespace hemma::server {

struct ThrottleSettings {
  // Failed sign-ins allowed per account within `window`.
  int maxPerAccount = 5;
  // Failed sign-ins allowed per client address within `window`: higher, as
  // a ward's tablets may share one address behind a NAT.
  int maxPerAddress = 50;
  std::chrono::seconds window{15 * 60};
};

class LoginThrottle {
 public:
  // Creates its table if missing.
  LoginThrottle(Database& db, ThrottleSettings settings);

  struct Verdict {
    // 0 when the attempt may go on; else the seconds until the lockouts it
    // is under end.
    std::int64_t retryAfterS = 0;
    // The first attempt refused in this window (the one worth an audit
    // entry; later ones are only counted).
    bool firstRefusal = false;
  };
  // Counts one attempt for the account and the address (either may be
  // empty: not counted).
  Verdict countAttempt(const std::string& account, const std::string& address, std::int64_t nowMs);
  // A successful sign-in: the account's count starts again, and the attempt
  // no longer counts for the address (only failures lock an address out).
  void succeeded(const std::string& account, const std::string& address);
  // A new password: the account's count starts again.
  void clearAccount(const std::string& account);

  const ThrottleSettings& settings() const { return m_settings; }

 private:
  // The attempt count of `key` after counting one more, and its window's
  // start.
  std::pair<std::int64_t, std::int64_t> count(const std::string& key, std::int64_t nowMs);

  Database& m_db;
  ThrottleSettings m_settings;
};

}  // namespace hemma::server
