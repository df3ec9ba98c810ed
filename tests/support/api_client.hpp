#pragma once
// Talking to the real server's REST API in tests: plain HTTP on loopback
// (one connection per call, so a test sees exactly what a client sends),
// logging in as a demo user, and reading the server's audit trail, either
// through GET /api/v1/audit or straight from its SQLite audit_log table.

#include <google/protobuf/message.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hemma/api.pb.h"

struct sqlite3;

namespace hemma::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpAnswer {
  int status = 0;
  std::string body;
  Headers headers;

  // The "error" of an error answer ({"error": "..."}), or "" when there is none.
  std::string error() const;
  // A response header, or "" when absent.
  std::string header(const std::string& name) const;
};

// One HTTP request to 127.0.0.1:`port`. An empty `token` sends no
// Authorization header; otherwise "Authorization: Bearer <token>". An empty
// `jsonBody` sends no body (Content-Length 0).
HttpAnswer call(int port, const std::string& method, const std::string& path, const std::string& token = {},
                const std::string& jsonBody = {}, const Headers& extraHeaders = {});

// Like call(), with a raw Authorization header value (or none when empty),
// a content type, and a Content-Length that may differ from the body sent
// (`declaredLength` >= 0), to test the server's limits.
HttpAnswer callRaw(int port, const std::string& method, const std::string& path, const std::string& authorization,
                   const std::string& body, const std::string& contentType = "application/json",
                   std::int64_t declaredLength = -1, const Headers& extraHeaders = {});

// POST /api/v1/login; returns the token. Throws std::runtime_error with the
// server's answer when it is not 200.
std::string login(int port, const std::string& username, const std::string& password = "demo");

// Parses a JSON answer into `message`; throws std::runtime_error naming the
// message type and the body when it does not parse.
void parseJson(const std::string& json, google::protobuf::Message& message);
template <typename Message>
Message parsed(const std::string& json) {
  Message message;
  parseJson(json, message);
  return message;
}
// The JSON of `message` in the API's mapping (lowerCamelCase names).
std::string toJson(const google::protobuf::Message& message);

// One row of the server's audit_log table.
struct AuditRow {
  std::int64_t seq = 0;
  std::string at;
  std::string userId;
  std::string organisationId;
  std::string patientId;
  std::string action;
  std::string outcome;
  bool emergency = false;
};

// Reads the audit_log table of a running server's SQLite database, read
// only, beside the server (SQLite's WAL lets both work at once).
class AuditReader {
 public:
  explicit AuditReader(const std::string& databasePath);
  ~AuditReader();
  AuditReader(const AuditReader&) = delete;
  AuditReader& operator=(const AuditReader&) = delete;

  // The newest seq, 0 when the log is empty.
  std::int64_t lastSeq();
  // The rows after `seq`, oldest first.
  std::vector<AuditRow> since(std::int64_t seq);
  std::int64_t count();
  // The whole entries (as stored in `body`, with `seq` set) whose action
  // starts with `actionPrefix` (e.g. "sync.push."), oldest first.
  std::vector<api::AuditEntry> entries(const std::string& actionPrefix);

 private:
  ::sqlite3* m_db = nullptr;
};

// GET /api/v1/audit with `query` (e.g. "?patient=patient-01"), as a
// coordinator or administrator; returns the JSON AuditList. Throws
// std::runtime_error when not 200.
std::string auditJson(int port, const std::string& token, const std::string& query = {});

}  // namespace hemma::test
