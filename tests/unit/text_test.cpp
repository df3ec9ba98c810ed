#include "hemma/sync/text.hpp"

#include <catch2/catch.hpp>
#include <string>

using hemma::sync::isValidUtf8;

TEST_CASE("isValidUtf8 accepts well-formed text of every sequence length") {
  CHECK(isValidUtf8(""));
  CHECK(isValidUtf8("Karin Lindqvist"));
  CHECK(
      isValidUtf8("S\xC3\xB6"
                  "der"));                     // ö, two bytes
  CHECK(isValidUtf8("\xE2\x82\xAC"));          // €, three bytes
  CHECK(isValidUtf8("\xF0\x9F\x98\x80"));      // U+1F600, four bytes
  CHECK(isValidUtf8("\xC2\x80"));              // U+0080, lowest two-byte
  CHECK(isValidUtf8("\xE0\xA0\x80"));          // U+0800, lowest three-byte
  CHECK(isValidUtf8("\xED\x9F\xBF"));          // U+D7FF, just below surrogates
  CHECK(isValidUtf8("\xEE\x80\x80"));          // U+E000, just above them
  CHECK(isValidUtf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF, the last
  CHECK(isValidUtf8(std::string("a\0b", 3)));  // NUL is valid UTF-8
}

TEST_CASE("isValidUtf8 refuses bytes that are not UTF-8") {
  CHECK_FALSE(isValidUtf8("\x80"));  // continuation without a lead
  CHECK_FALSE(isValidUtf8("\xBF"));
  CHECK_FALSE(isValidUtf8("abc\xFF"));  // never valid
  CHECK_FALSE(isValidUtf8("\xFE"));
  CHECK_FALSE(isValidUtf8("caf\xE9"));  // Latin-1 é
}

TEST_CASE("isValidUtf8 refuses truncated sequences, also at the end of the text") {
  CHECK_FALSE(isValidUtf8("\xC3"));
  CHECK_FALSE(isValidUtf8("\xE2\x82"));
  CHECK_FALSE(isValidUtf8("\xF0\x9F\x98"));
  CHECK_FALSE(
      isValidUtf8("\xC3"
                  "a"));  // lead followed by ASCII
  CHECK_FALSE(
      isValidUtf8("\xE2\x82"
                  "a"));
}

TEST_CASE("isValidUtf8 refuses overlong forms, surrogates and code points past U+10FFFF") {
  CHECK_FALSE(isValidUtf8("\xC0\xAF"));  // overlong '/'
  CHECK_FALSE(isValidUtf8("\xC1\xBF"));
  CHECK_FALSE(isValidUtf8("\xE0\x80\xAF"));  // overlong three-byte
  CHECK_FALSE(isValidUtf8("\xE0\x9F\xBF"));
  CHECK_FALSE(isValidUtf8("\xF0\x80\x80\xAF"));  // overlong four-byte
  CHECK_FALSE(isValidUtf8("\xF0\x8F\xBF\xBF"));
  CHECK_FALSE(isValidUtf8("\xED\xA0\x80"));      // U+D800, a lone high surrogate
  CHECK_FALSE(isValidUtf8("\xED\xBF\xBF"));      // U+DFFF
  CHECK_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(isValidUtf8("\xF5\x80\x80\x80"));
}
