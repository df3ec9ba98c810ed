// Whole-message checks at the trust boundaries: unknown fields found by
// path, invalid UTF-8 escaped before storage, and rows stored with invalid
// UTF-8 by an older build still read.

#include "hemma/sync/message_checks.hpp"

#include <google/protobuf/unknown_field_set.h>

#include <catch2/catch.hpp>

#include "hemma/api.pb.h"
#include "hemma/sync.pb.h"
#include "hemma/sync/text.hpp"

namespace {

using namespace hemma;

sync::PushRequest pushWithNotes(int count) {
  sync::PushRequest request;
  request.set_protocol_version(4);
  request.set_device_id("tab-1");
  for (int i = 0; i < count; ++i) {
    sync::Operation& op = *request.add_operations();
    op.set_id("tab-1:" + std::to_string(i + 1));
    op.mutable_append()->mutable_note()->set_text("BP 128/82");
  }
  return request;
}

}  // namespace

TEST_CASE("unknown fields: found at any depth, with their path", "[message_checks]") {
  sync::PushRequest request = pushWithNotes(3);
  CHECK_FALSE(sync::findUnknownField(request));

  SECTION("at the top") {
    request.GetReflection()->MutableUnknownFields(&request)->AddVarint(99, 1);
    CHECK(sync::findUnknownField(request) == "unknown field 99");
  }
  SECTION("inside a note of the third operation") {
    auto* note = request.mutable_operations(2)->mutable_append()->mutable_note();
    note->GetReflection()->MutableUnknownFields(note)->AddLengthDelimited(1000, std::string(1 << 20, 'x'));
    CHECK(sync::findUnknownField(request) == "operations[2].append.note: unknown field 1000");
  }
  SECTION("after a round trip through the wire, as a server receives it") {
    auto* op = request.mutable_operations(1);
    op->GetReflection()->MutableUnknownFields(op)->AddFixed32(77, 5);
    sync::PushRequest received;
    REQUIRE(received.ParseFromString(request.SerializeAsString()));
    CHECK(sync::findUnknownField(received) == "operations[1]: unknown field 77");
  }
}

TEST_CASE("invalid UTF-8: escaped, valid text unchanged", "[message_checks]") {
  CHECK(sync::escapeInvalidUtf8("Åsa Öberg") == "Åsa Öberg");
  CHECK(sync::escapeInvalidUtf8("a\\b") == "a\\b");
  CHECK(sync::escapeInvalidUtf8("bad \xff byte") == "bad \\xff byte");
  CHECK(sync::escapeInvalidUtf8("\\ and \xc3") == "\\\\ and \\xc3");
  // An overlong slash and a lone surrogate are not UTF-8 either.
  CHECK(sync::escapeInvalidUtf8("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(sync::escapeInvalidUtf8("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  const std::string escaped = sync::escapeInvalidUtf8("x\xfe\xc3\xa5y");
  CHECK(escaped == "x\\xfeåy");
  CHECK(sync::isValidUtf8(escaped));
  CHECK(sync::escapeInvalidUtf8(escaped) == escaped);
}

TEST_CASE("invalid UTF-8: every string of a message is escaped, nested and repeated", "[message_checks]") {
  api::AuditEntry entry;
  entry.set_user_id("nurse-karin");
  entry.set_action("record.read /api/v1/patients/\xff\xfe");
  entry.set_purpose("emergency: \xc3(");
  CHECK(sync::escapeInvalidStrings(entry));
  CHECK(entry.user_id() == "nurse-karin");
  CHECK(entry.action() == "record.read /api/v1/patients/\\xff\\xfe");
  CHECK(entry.purpose() == "emergency: \\xc3(");
  CHECK_FALSE(sync::escapeInvalidStrings(entry));

  api::AuditList list;
  *list.add_entries() = entry;
  list.add_entries()->set_outcome("denied: \x80");
  CHECK(sync::escapeInvalidStrings(list));
  CHECK(list.entries(1).outcome() == "denied: \\x80");
  // The escaped message survives the wire, where the raw one would not.
  api::AuditList back;
  CHECK(back.ParseFromString(list.SerializeAsString()));
}

TEST_CASE("stored rows with invalid UTF-8 are read, escaped", "[message_checks]") {
  api::AuditEntry entry;
  entry.set_user_id("admin-\xff");
  entry.set_action("record.read");
  entry.set_seq(7);
  // What an older build stored: protobuf writes the bytes as they are.
  const std::string stored = entry.SerializeAsString();
  api::AuditEntry strict;
  REQUIRE_FALSE(strict.ParseFromString(stored));

  api::AuditEntry read;
  REQUIRE(sync::parseStored(read, stored));
  CHECK(read.user_id() == "admin-\\xff");
  CHECK(read.action() == "record.read");
  CHECK(read.seq() == 7);

  // Nested: an operation whose note text is bad.
  sync::Operation op;
  op.set_id("tab-1:1");
  op.mutable_append()->mutable_note()->set_text("ok \xe2\x82");
  sync::Operation readOp;
  REQUIRE(sync::parseStored(readOp, op.SerializeAsString()));
  CHECK(readOp.append().note().text() == "ok \\xe2\\x82");
  CHECK(readOp.id() == "tab-1:1");

  // Bytes that are not the wire format are refused, not invented.
  api::AuditEntry garbage;
  CHECK_FALSE(sync::parseStored(garbage, std::string("\x0a\xff\xff\xff\xff\x0f", 6)));
}
