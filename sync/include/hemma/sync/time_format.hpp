#pragma once
// RFC 3339 UTC times, the form every time takes on the wire and in the audit
// trail ("2026-11-22T09:44:08.123Z").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hemma::sync {

std::string formatRfc3339(std::int64_t unixMillis);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)". Returns nullopt for
// anything else, so callers can name the field that is wrong.
std::optional<std::int64_t> parseRfc3339(std::string_view text);

}  // namespace hemma::sync
