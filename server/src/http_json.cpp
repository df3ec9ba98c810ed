#include "hemma/server/http_json.hpp"

#include <set>
#include <stdexcept>
#include <vector>

#include "hemma/server/http_head.hpp"
#include "hemma/sync/text.hpp"

namespace hemma::server {

namespace {

constexpr int kMaxDepth = 64;

class Fault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The name protobuf's JSON parser also accepts for a field: `field_name`
// and `fieldName` are the same field.
std::string jsonFieldName(const std::string& key) {
  std::string name;
  bool upper = false;
  for (const char c : key) {
    if (c == '_') {
      upper = true;
      continue;
    }
    name += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return name;
}

void appendUtf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

class StrictJson {
 public:
  explicit StrictJson(std::string_view text) : m_text(text) {}

  void check() {
    skipWhitespace();
    value(0);
    skipWhitespace();
    if (m_pos != m_text.size()) fail("text after the JSON value");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Fault(what + " at byte " + std::to_string(m_pos) + " (" + where() + ")");
  }

  std::string where() const {
    if (m_path.empty()) return "the top level";
    std::string path;
    for (const auto& part : m_path) {
      if (!path.empty() && part.front() != '[') path += '.';
      path += part;
    }
    return path;
  }

  bool atEnd() const { return m_pos >= m_text.size(); }
  char peek() const { return atEnd() ? '\0' : m_text[m_pos]; }

  void skipWhitespace() {
    while (!atEnd()) {
      const char c = m_text[m_pos];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++m_pos;
      } else if (c == '/') {
        fail("a comment (JSON has none)");
      } else {
        return;
      }
    }
  }

  void expect(char c, const char* what) {
    if (peek() != c) fail(std::string("expected ") + what);
    ++m_pos;
  }

  void value(int depth) {
    if (depth > kMaxDepth) fail("nested deeper than " + std::to_string(kMaxDepth));
    switch (peek()) {
      case '{':
        object(depth);
        return;
      case '[':
        array(depth);
        return;
      case '"':
        (void)string();
        return;
      case '\'':
        fail("a single-quoted string (JSON strings use double quotes)");
      case '\0':
        if (atEnd()) fail("the text ends where a value should be");
        fail("a NUL byte where a value should be");
      default:
        break;
    }
    const char c = peek();
    if (c == '-' || (c >= '0' && c <= '9')) {
      number();
      return;
    }
    for (const std::string_view word : {"true", "false", "null"}) {
      if (m_text.substr(m_pos, word.size()) == word) {
        m_pos += word.size();
        const char next = peek();
        if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9')) {
          fail("\"" + std::string(word) + printable(std::string_view(&next, 1)) + "...\" is not a JSON value");
        }
        return;
      }
    }
    std::size_t end = m_pos;
    while (end < m_text.size() && end - m_pos < 16 &&
           ((m_text[end] >= 'a' && m_text[end] <= 'z') || (m_text[end] >= 'A' && m_text[end] <= 'Z'))) {
      ++end;
    }
    if (end > m_pos) fail("\"" + std::string(m_text.substr(m_pos, end - m_pos)) + "\" is not a JSON value");
    fail("\"" + printable(m_text.substr(m_pos, 1)) + "\" cannot start a JSON value");
  }

  void object(int depth) {
    ++m_pos;  // {
    std::set<std::string> seen;
    skipWhitespace();
    if (peek() == '}') {
      ++m_pos;
      return;
    }
    while (true) {
      skipWhitespace();
      if (peek() == '}') fail("a trailing comma before }");
      if (peek() == '\'') fail("a single-quoted key (JSON keys use double quotes)");
      if (peek() != '"') fail("expected a key in double quotes");
      const std::string key = string();
      if (!seen.insert(jsonFieldName(key)).second) {
        const std::string in = m_path.empty() ? "the top-level object" : where();
        throw Fault("key \"" + printable(key) + "\" given twice in " + in);
      }
      skipWhitespace();
      expect(':', "':' after a key");
      skipWhitespace();
      m_path.push_back(key);
      value(depth + 1);
      m_path.pop_back();
      skipWhitespace();
      if (peek() == ',') {
        ++m_pos;
        continue;
      }
      expect('}', "',' or '}' in an object");
      return;
    }
  }

  void array(int depth) {
    ++m_pos;  // [
    skipWhitespace();
    if (peek() == ']') {
      ++m_pos;
      return;
    }
    for (std::size_t index = 0;; ++index) {
      skipWhitespace();
      if (peek() == ']') fail("a trailing comma before ]");
      m_path.push_back("[" + std::to_string(index) + "]");
      value(depth + 1);
      m_path.pop_back();
      skipWhitespace();
      if (peek() == ',') {
        ++m_pos;
        continue;
      }
      expect(']', "',' or ']' in an array");
      return;
    }
  }

  unsigned long hex4() {
    if (m_text.size() - m_pos < 4) fail("a \\u escape with fewer than four hex digits");
    unsigned long code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = m_text[m_pos++];
      code <<= 4;
      if (c >= '0' && c <= '9') {
        code |= static_cast<unsigned long>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        code |= static_cast<unsigned long>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        code |= static_cast<unsigned long>(c - 'A' + 10);
      } else {
        fail("a \\u escape with a character that is not a hex digit");
      }
    }
    return code;
  }

  // Reads a string and returns it unescaped.
  std::string string() {
    ++m_pos;  // "
    std::string out;
    while (true) {
      if (atEnd()) fail("a string without its closing quote");
      const auto c = static_cast<unsigned char>(m_text[m_pos]);
      if (c == '"') {
        ++m_pos;
        return out;
      }
      if (c < 0x20) fail("a control character inside a string (escape it)");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++m_pos;
        continue;
      }
      ++m_pos;
      const char escape = peek();
      ++m_pos;
      switch (escape) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned long code = hex4();
          if (code >= 0xDC00 && code <= 0xDFFF) fail("a \\u escape of a lone low surrogate");
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (m_text.substr(m_pos, 2) != "\\u") fail("a \\u escape of a lone high surrogate");
            m_pos += 2;
            const unsigned long low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("a \\u escape of a lone high surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          appendUtf8(out, code);
          break;
        }
        default:
          --m_pos;
          fail("\"\\" + printable(m_text.substr(m_pos, 1)) + "\" is not a JSON escape");
      }
    }
  }

  void digits(const char* what) {
    if (peek() < '0' || peek() > '9') fail(std::string("a number without digits ") + what);
    while (peek() >= '0' && peek() <= '9') ++m_pos;
  }

  void number() {
    if (peek() == '-') ++m_pos;
    if (peek() == '0') {
      ++m_pos;
      if (peek() >= '0' && peek() <= '9') fail("a number with a leading zero");
    } else {
      digits("before its point");
    }
    if (peek() == '.') {
      ++m_pos;
      digits("after its point");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++m_pos;
      if (peek() == '+' || peek() == '-') ++m_pos;
      digits("in its exponent");
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
  std::vector<std::string> m_path;
};

}  // namespace

std::optional<std::string> checkStrictJson(std::string_view text) {
  if (!sync::isValidUtf8(text)) return std::string("not valid UTF-8");
  try {
    StrictJson(text).check();
  } catch (const Fault& fault) {
    return std::string(fault.what());
  }
  return std::nullopt;
}

}  // namespace hemma::server
