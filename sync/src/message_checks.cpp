#include "hemma/sync/message_checks.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <vector>

#include "hemma/sync/text.hpp"

namespace hemma::sync {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

std::string join(const std::string& path, const std::string& name) { return path.empty() ? name : path + "." + name; }

std::optional<std::string> findUnknown(const Message& message, const std::string& path) {
  const Reflection* reflection = message.GetReflection();
  const UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    const std::string what = "unknown field " + std::to_string(unknown.field(0).number());
    return path.empty() ? what : path + ": " + what;
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        const auto found = findUnknown(reflection->GetRepeatedMessage(message, field, i),
                                       join(path, field->name() + "[" + std::to_string(i) + "]"));
        if (found) return found;
      }
    } else {
      const auto found = findUnknown(reflection->GetMessage(message, field), join(path, field->name()));
      if (found) return found;
    }
  }
  return std::nullopt;
}

// The length of the UTF-8 sequence at text[i] if it is valid, else 0.
std::size_t validSequenceAt(std::string_view text, std::size_t i) {
  for (std::size_t length = 1; length <= 4 && i + length <= text.size(); ++length) {
    if (isValidUtf8(text.substr(i, length))) return length;
  }
  return 0;
}

// Escapes invalid strings in wire bytes of a message of type `type`, field
// by field, without a strict parse (which is what refuses them). Returns
// false if the bytes are not the wire format.
bool repairWire(std::string& bytes, const Descriptor* type) {
  UnknownFieldSet fields;
  if (!fields.ParseFromString(bytes)) return false;
  bool changed = false;
  for (int i = 0; i < fields.field_count(); ++i) {
    UnknownField* field = fields.mutable_field(i);
    if (field->type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const FieldDescriptor* descriptor = type->FindFieldByNumber(field->number());
    if (!descriptor) continue;
    std::string* content = field->mutable_length_delimited();
    if (descriptor->type() == FieldDescriptor::TYPE_STRING) {
      if (!isValidUtf8(*content)) {
        *content = escapeInvalidUtf8(*content);
        changed = true;
      }
    } else if (descriptor->type() == FieldDescriptor::TYPE_MESSAGE) {
      std::string inner = *content;
      if (!repairWire(inner, descriptor->message_type())) return false;
      if (inner != *content) {
        *content = std::move(inner);
        changed = true;
      }
    }
  }
  if (changed) {
    bytes.clear();
    if (!fields.SerializeToString(&bytes)) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> findUnknownField(const Message& message) { return findUnknown(message, ""); }

std::string escapeInvalidUtf8(std::string_view text) {
  if (isValidUtf8(text)) return std::string(text);
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    const std::size_t length = validSequenceAt(text, i);
    if (length > 0) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    const auto byte = static_cast<unsigned char>(text[i]);
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
    ++i;
  }
  return out;
}

bool escapeInvalidStrings(Message& message) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  bool changed = false;
  for (const FieldDescriptor* field : fields) {
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (field->is_repeated()) {
        const int size = reflection->FieldSize(message, field);
        for (int i = 0; i < size; ++i) {
          const std::string value = reflection->GetRepeatedString(message, field, i);
          if (isValidUtf8(value)) continue;
          reflection->SetRepeatedString(&message, field, i, escapeInvalidUtf8(value));
          changed = true;
        }
      } else {
        const std::string value = reflection->GetString(message, field);
        if (isValidUtf8(value)) continue;
        reflection->SetString(&message, field, escapeInvalidUtf8(value));
        changed = true;
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        const int size = reflection->FieldSize(message, field);
        for (int i = 0; i < size; ++i) {
          changed = escapeInvalidStrings(*reflection->MutableRepeatedMessage(&message, field, i)) || changed;
        }
      } else {
        changed = escapeInvalidStrings(*reflection->MutableMessage(&message, field)) || changed;
      }
    }
  }
  return changed;
}

bool parseStored(Message& message, std::string_view bytes) {
  if (message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return true;
  std::string repaired(bytes);
  if (!repairWire(repaired, message.GetDescriptor())) return false;
  return message.ParseFromString(repaired);
}

}  // namespace hemma::sync
