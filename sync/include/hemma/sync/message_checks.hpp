#pragma once
// Checks and repairs of whole protobuf messages, by reflection, for every
// place a message crosses a trust boundary: a body from outside (unknown
// fields are not stored), a text about to be stored (always valid UTF-8), a
// row stored by an older build (it must never make a read fail).
//
// Pure functions; thread-safe on distinct messages.

#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>

namespace hemma::sync {

// The path of the first unknown field in `message` or any message inside
// it, e.g. "operations[2].append.note: unknown field 1000", or nullopt when
// there is none. Fields of a newer schema are unknown too: a peer speaks
// the protocol version it announced.
std::optional<std::string> findUnknownField(const google::protobuf::Message& message);

// `text` with every byte that is not part of valid UTF-8 written as "\xNN",
// and a backslash written as "\\" only when something was escaped (valid
// text is returned unchanged, so escaping twice changes nothing more).
std::string escapeInvalidUtf8(std::string_view text);

// Replaces every string field of `message` (and of the messages inside it)
// that is not valid UTF-8 by escapeInvalidUtf8 of it. Returns true if any
// was replaced.
bool escapeInvalidStrings(google::protobuf::Message& message);

// Parses stored bytes into `message`. Bytes a strict parse refuses only
// because a string field holds invalid UTF-8 (rows written before every
// input was checked) are read with those strings escaped. Returns false only
// for bytes that are not the wire format at all.
bool parseStored(google::protobuf::Message& message, std::string_view bytes);

}  // namespace hemma::sync
