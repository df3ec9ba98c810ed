#include "hemma/server/login_throttle.hpp"

#include <Poco/Data/Session.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace hemma::server {

using namespace Poco::Data::Keywords;

LoginThrottle::LoginThrottle(Database& db, ThrottleSettings settings) : m_db(db), m_settings(settings) {
  if (m_settings.maxPerAccount < 1) throw std::invalid_argument("login throttle: max per account must be at least 1");
  if (m_settings.maxPerAddress < 1) throw std::invalid_argument("login throttle: max per address must be at least 1");
  if (m_settings.window.count() <= 0) throw std::invalid_argument("login throttle: window not positive");
  Poco::Data::Session s = m_db.session();
  s << R"sql(
    CREATE TABLE IF NOT EXISTS login_failures(
      key TEXT PRIMARY KEY,
      attempts INTEGER NOT NULL,
      window_start_ms INTEGER NOT NULL))sql",
      now;
  s << "CREATE INDEX IF NOT EXISTS login_failures_by_window ON login_failures(window_start_ms)", now;
}

std::pair<std::int64_t, std::int64_t> LoginThrottle::count(const std::string& key, std::int64_t nowMs) {
  const Poco::Int64 windowMs = std::chrono::milliseconds(m_settings.window).count();
  std::string k = key;
  Poco::Int64 at = nowMs;
  Poco::Int64 expired = nowMs - windowMs;
  std::vector<Poco::Int64> attempts, starts;
  Poco::Data::Session s = m_db.session();
  // One statement: two processes counting the same key cannot both read the
  // old count. A window that has passed starts again at this attempt.
  s << "INSERT INTO login_failures(key, attempts, window_start_ms) VALUES(?, 1, ?) "
       "ON CONFLICT(key) DO UPDATE SET "
       "attempts = CASE WHEN login_failures.window_start_ms <= ? THEN 1 ELSE login_failures.attempts + 1 END, "
       "window_start_ms = CASE WHEN login_failures.window_start_ms <= ? THEN excluded.window_start_ms "
       "ELSE login_failures.window_start_ms END "
       "RETURNING attempts, window_start_ms",
      into(attempts), into(starts), use(k), use(at), use(expired), use(expired), now;
  s << "DELETE FROM login_failures WHERE window_start_ms <= ?", use(expired), now;
  if (attempts.empty()) throw std::runtime_error("login throttle: the count of an attempt was not returned");
  return {attempts.front(), starts.front()};
}

LoginThrottle::Verdict LoginThrottle::countAttempt(const std::string& account, const std::string& address,
                                                   std::int64_t nowMs) {
  const std::int64_t windowMs = std::chrono::milliseconds(m_settings.window).count();
  std::int64_t retryAfterMs = 0;
  bool first = false;
  const auto check = [&](const std::string& key, int limit) {
    const auto [attempts, start] = count(key, nowMs);
    if (attempts <= limit) return;
    retryAfterMs = std::max(retryAfterMs, start + windowMs - nowMs);
    first = first || attempts == limit + 1;
  };
  if (!address.empty()) check("address:" + address, m_settings.maxPerAddress);
  if (!account.empty()) check("account:" + account, m_settings.maxPerAccount);
  if (retryAfterMs == 0) return {};
  return {std::max<std::int64_t>(1, (retryAfterMs + 999) / 1000), first};
}

void LoginThrottle::succeeded(const std::string& account, const std::string& address) {
  clearAccount(account);
  if (address.empty()) return;
  std::string k = "address:" + address;
  Poco::Data::Session s = m_db.session();
  s << "UPDATE login_failures SET attempts = attempts - 1 WHERE key = ? AND attempts > 0", use(k), now;
}

void LoginThrottle::clearAccount(const std::string& account) {
  std::string k = "account:" + account;
  Poco::Data::Session s = m_db.session();
  s << "DELETE FROM login_failures WHERE key = ?", use(k), now;
}

}  // namespace hemma::server
