#pragma once
// The strict JSON syntax check every JSON request body passes before protobuf's
// parser (JsonStringToMessage) sees it. That parser is lenient: the last of two
// equal keys wins (so `{"username":"nurse-karin","username":"admin-ada"}` signs
// in as admin-ada), and it accepts what RFC 8259 does not.

#include <optional>
#include <string>
#include <string_view>

namespace hemma::server {

// Why `text` is not one strict RFC 8259 JSON value, or nullopt when it is.
// Refused: a key given twice in one object at any depth (compared after
// unescaping, and after protobuf's mapping of `field_name` to `fieldName`, for
// both name the same field); trailing commas; comments; NaN, Infinity and
// other bare words; single quotes; leading zeros and other malformed numbers;
// control characters in strings; invalid UTF-8; \u escapes that leave a
// surrogate unpaired; text after the value; nesting deeper than 64. The reason
// names the key and where it is (e.g. `key "username" given twice in the
// top-level object`). Pure, thread-safe.
std::optional<std::string> checkStrictJson(std::string_view text);

}  // namespace hemma::server
