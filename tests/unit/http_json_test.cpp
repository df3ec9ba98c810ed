#include "hemma/server/http_json.hpp"

#include <catch2/catch.hpp>
#include <string>

using hemma::server::checkStrictJson;

namespace {

std::string fault(const std::string& text) { return checkStrictJson(text).value_or("(accepted)"); }

}  // namespace

TEST_CASE("checkStrictJson accepts RFC 8259 JSON") {
  for (const std::string text : {
           R"({})",
           R"([])",
           R"("x")",
           R"(0)",
           R"(-0.5e+10)",
           R"(true)",
           R"(null)",
           R"( {"a": [1, 2, {"b": "c\n\u00e4\ud83d\ude00"}], "A": false, "a_b": 1, "x": {"a": 1}} )",
           "{\"name\":\"K\xC3\xA4rin\"}",
       }) {
    INFO(text);
    CHECK_FALSE(checkStrictJson(text));
  }
}

TEST_CASE("checkStrictJson refuses duplicate keys at any depth, naming the key and where it is") {
  CHECK(fault(R"({"a":1,"a":2})") == "key \"a\" given twice in the top-level object");
  CHECK(fault(R"({"x":[{"ok":1},{"b":1,"b":1}]})") == "key \"b\" given twice in x[1]");
  CHECK(fault(R"({"x":{"y":{"c":1,"\u0063":2}}})") == "key \"c\" given twice in x.y");
  CHECK(fault(R"({"deviceId":"a","device_id":"b"})") == "key \"device_id\" given twice in the top-level object");
}

TEST_CASE("checkStrictJson refuses what protobuf's parser would let through") {
  CHECK(fault(R"({"a":1,})") == "a trailing comma before } at byte 7 (the top level)");
  CHECK(fault(R"({"a":[1,]})") == "a trailing comma before ] at byte 8 (a)");
  CHECK(fault(R"({"a":1 /* c */})") == "a comment (JSON has none) at byte 7 (the top level)");
  CHECK(fault(R"({"a":NaN})") == "\"NaN\" is not a JSON value at byte 5 (a)");
  CHECK(fault(R"({"a":-Infinity})") == "a number without digits before its point at byte 6 (a)");
  CHECK(fault(R"({"a":'b'})") == "a single-quoted string (JSON strings use double quotes) at byte 5 (a)");
  CHECK(fault(R"({"a":01})") == "a number with a leading zero at byte 6 (a)");
  CHECK(fault(R"({"a":1e})") == "a number without digits in its exponent at byte 7 (a)");
  CHECK(fault(R"({"a":+1})") == "\"+\" cannot start a JSON value at byte 5 (a)");
  CHECK(fault(R"({"a":truex})") == "\"truex...\" is not a JSON value at byte 9 (a)");
  CHECK(fault("{\"a\":\"\xC3\"}") == "not valid UTF-8");
  CHECK(fault(R"({"a":"\ud800x"})") == "a \\u escape of a lone high surrogate at byte 12 (a)");
  CHECK(fault(R"({"a":"\udfff"})") == "a \\u escape of a lone low surrogate at byte 12 (a)");
  CHECK(fault(R"({"a":"\x41"})") == "\"\\x\" is not a JSON escape at byte 7 (a)");
  CHECK(fault("{\"a\":\"\x01\"}") == "a control character inside a string (escape it) at byte 6 (a)");
  CHECK(fault(R"({"a":1} x)") == "text after the JSON value at byte 8 (the top level)");
  CHECK(fault(R"({"a":1)") == "expected ',' or '}' in an object at byte 6 (the top level)");
  CHECK(fault("") == "the text ends where a value should be at byte 0 (the top level)");
  CHECK_THAT(fault(std::string(100, '[') + std::string(100, ']')),
             Catch::StartsWith("nested deeper than 64 at byte 65 ([0][0]"));
}
