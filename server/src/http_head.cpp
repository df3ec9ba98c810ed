#include "hemma/server/http_head.hpp"

#include <array>
#include <cstdio>

#include "hemma/sync/text.hpp"

namespace hemma::server {

namespace {

constexpr std::size_t kMaxMethodBytes = 32;  // Poco's own limit

bool isTokenChar(unsigned char c) {
  // RFC 9110 tchar: "!#$%&'*+-.^_`|~", digits and letters.
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

HeadCheck refuse(int status, std::string reason) {
  HeadCheck check;
  check.state = HeadCheck::State::Refused;
  check.status = status;
  check.reason = std::move(reason);
  return check;
}

std::string_view trimWhitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The headers a handler reads as one value; a second copy could be read
// differently by a proxy in front, so it is refused.
constexpr std::array<std::string_view, 7> kSingleHeaders = {
    "host",         "content-length", "transfer-encoding",       "authorization",
    "content-type", "accept",         "x-hemma-emergency-reason"};

HeadCheck checkRequestLine(std::string_view line, bool& http11) {
  const auto firstSpace = line.find(' ');
  if (firstSpace == std::string_view::npos || firstSpace == 0) {
    return refuse(400, "request line: not METHOD SP target SP HTTP/1.x");
  }
  const std::string_view method = line.substr(0, firstSpace);
  if (method.size() > kMaxMethodBytes) {
    return refuse(400, "request line: method longer than " + std::to_string(kMaxMethodBytes) + " bytes");
  }
  for (const char c : method) {
    if (!isTokenChar(static_cast<unsigned char>(c))) {
      return refuse(400, "request line: method \"" + printable(method) + "\" is not a token");
    }
  }
  const auto secondSpace = line.find(' ', firstSpace + 1);
  if (secondSpace == std::string_view::npos || secondSpace == firstSpace + 1) {
    return refuse(400, "request line: not METHOD SP target SP HTTP/1.x");
  }
  const std::string_view target = line.substr(firstSpace + 1, secondSpace - firstSpace - 1);
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) {
      return refuse(400, "request target: control character or space in \"" + printable(target) + "\"");
    }
  }
  if (target.front() != '/') return refuse(400, "request target: \"" + printable(target) + "\" is not a path");
  const std::string_view version = line.substr(secondSpace + 1);
  if (version == "HTTP/1.1") {
    http11 = true;
  } else if (version == "HTTP/1.0") {
    http11 = false;
  } else {
    return refuse(400, "request line: version \"" + printable(version) + "\" is not HTTP/1.0 or HTTP/1.1");
  }
  return {};
}

bool isPlainDigits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F) {
      out += c;
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      out += escaped;
    }
  }
  return out;
}

HeadCheck checkRequestHead(std::string_view bytes, const HeadLimits& limits) {
  std::size_t start = 0;
  while (bytes.substr(start, 2) == "\r\n") start += 2;

  const auto terminator = bytes.find("\r\n\r\n", start);
  const std::size_t scanEnd = terminator == std::string_view::npos ? bytes.size() : terminator;
  for (std::size_t i = start; i < scanEnd; ++i) {
    if (bytes[i] == '\n' && (i == start || bytes[i - 1] != '\r')) {
      return refuse(400, "request head: a line ends with a bare LF (HTTP requires CRLF)");
    }
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] != '\n') {
      return refuse(400, "request head: a bare CR inside a line");
    }
  }
  if (terminator == std::string_view::npos) {
    if (bytes.size() >= limits.maxHeadBytes) {
      return refuse(431, "request head: more than " + std::to_string(limits.maxHeadBytes) + " bytes");
    }
    return {};
  }
  const std::size_t headBytes = terminator + 4;
  if (headBytes > limits.maxHeadBytes) {
    return refuse(431, "request head: more than " + std::to_string(limits.maxHeadBytes) + " bytes");
  }

  const std::string_view head = bytes.substr(start, terminator + 2 - start);  // every line with its CRLF
  const auto lineEnd = head.find("\r\n");
  bool http11 = false;
  if (auto line = checkRequestLine(head.substr(0, lineEnd), http11); line.state == HeadCheck::State::Refused) {
    return line;
  }

  std::array<std::size_t, kSingleHeaders.size()> counts{};
  std::string_view contentLength;
  std::string_view transferEncoding;
  std::size_t fields = 0;
  for (std::size_t pos = lineEnd + 2; pos < head.size();) {
    const auto end = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (++fields > limits.maxFields) {
      return refuse(431, "request head: more than " + std::to_string(limits.maxFields) + " header lines");
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return refuse(400, "request head: obsolete line folding (a header line starts with a space or tab)");
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return refuse(400, "request head: header line \"" + printable(line.substr(0, 64)) + "\" has no colon");
    }
    const std::string_view name = line.substr(0, colon);
    if (name.empty()) return refuse(400, "header name \"\": not a token");
    if (name.size() > limits.maxNameBytes) {
      return refuse(431, "request head: a header name longer than " + std::to_string(limits.maxNameBytes) + " bytes");
    }
    if (name.back() == ' ' || name.back() == '\t') {
      return refuse(400, "header " + printable(trimWhitespace(name)) + ": space before the colon");
    }
    for (const char c : name) {
      if (!isTokenChar(static_cast<unsigned char>(c))) {
        return refuse(400, "header name \"" + printable(name) + "\": not a token");
      }
    }
    const std::string_view value = trimWhitespace(line.substr(colon + 1));
    if (value.size() > limits.maxValueBytes) {
      return refuse(431, std::string(name) + ": value longer than " + std::to_string(limits.maxValueBytes) + " bytes");
    }
    for (const char c : value) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
        return refuse(400, std::string(name) + ": control character in the value");
      }
    }
    if (!sync::isValidUtf8(value)) return refuse(400, std::string(name) + ": not valid UTF-8");
    for (std::size_t k = 0; k < kSingleHeaders.size(); ++k) {
      if (!equalsIgnoringCase(name, kSingleHeaders[k])) continue;
      if (++counts[k] > 1) return refuse(400, std::string(name) + ": given twice");
      if (k == 1) contentLength = value;
      if (k == 2) transferEncoding = value;
    }
  }

  const bool hasContentLength = counts[1] > 0;
  const bool hasTransferEncoding = counts[2] > 0;
  if (hasContentLength && !isPlainDigits(contentLength)) {
    return refuse(400, "Content-Length: \"" + printable(contentLength) + "\" is not a plain number of bytes");
  }
  if (hasContentLength && contentLength.size() > 18) {
    return refuse(400, "Content-Length: \"" + printable(contentLength) + "\" is too large");
  }
  if (hasTransferEncoding && !equalsIgnoringCase(transferEncoding, "chunked")) {
    return refuse(
        400, "Transfer-Encoding: \"" + printable(transferEncoding) + "\" is not supported (only exactly \"chunked\")");
  }
  if (hasTransferEncoding && !http11) return refuse(400, "Transfer-Encoding: not allowed in HTTP/1.0");
  if (hasContentLength && hasTransferEncoding) {
    return refuse(400, "Content-Length and Transfer-Encoding together: the body's length is ambiguous");
  }
  if (http11 && counts[0] == 0) return refuse(400, "Host: missing (HTTP/1.1 requires it)");

  HeadCheck check;
  check.state = HeadCheck::State::Valid;
  check.headBytes = headBytes;
  return check;
}

}  // namespace hemma::server
