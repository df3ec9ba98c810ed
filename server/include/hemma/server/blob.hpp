#pragma once
// Bytes and protobuf messages in BLOB columns (Poco::Data), the one way every
// store writes and reads them.

#include <Poco/Data/LOB.h>
#include <google/protobuf/message_lite.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "hemma/sync/message_checks.hpp"

namespace hemma::server {

inline Poco::Data::BLOB toBlob(std::string_view bytes) {
  return Poco::Data::BLOB(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

inline Poco::Data::BLOB toBlob(const google::protobuf::MessageLite& message) {
  return toBlob(message.SerializeAsString());
}

inline std::string bytesOf(const Poco::Data::BLOB& blob) {
  return std::string(reinterpret_cast<const char*>(blob.rawContent()), blob.size());
}

// Parses a stored message (sync::parseStored: invalid UTF-8 written by an
// older build is read escaped); a blob that is not the wire format at all
// throws std::runtime_error naming `store` and the message type.
template <typename Message>
Message messageOf(const Poco::Data::BLOB& blob, std::string_view store) {
  Message message;
  if (!sync::parseStored(message, bytesOf(blob))) {
    throw std::runtime_error(std::string(store) + ": a stored " + message.GetTypeName() + " is corrupt");
  }
  return message;
}

}  // namespace hemma::server
