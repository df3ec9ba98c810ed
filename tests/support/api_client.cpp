#include "support/api_client.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <google/protobuf/util/json_util.h>
#include <sqlite3.h>
#include <strings.h>

#include "hemma/api.pb.h"
#include "hemma/sync.pb.h"

namespace hemma::test {

std::string HttpAnswer::error() const {
  sync::ErrorResponse response;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(body, &response, options).ok()) return {};
  return response.error();
}

std::string HttpAnswer::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return {};
}

HttpAnswer callRaw(int port, const std::string& method, const std::string& path, const std::string& authorization,
                   const std::string& body, const std::string& contentType, std::int64_t declaredLength,
                   const Headers& extraHeaders) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!authorization.empty()) request.set("Authorization", authorization);
  for (const auto& [name, value] : extraHeaders) request.set(name, value);
  if (!body.empty() || declaredLength >= 0) request.setContentType(contentType);
  request.setContentLength64(declaredLength >= 0 ? declaredLength : static_cast<Poco::Int64>(body.size()));
  std::ostream& out = session.sendRequest(request);
  out << body;
  Poco::Net::HTTPResponse response;
  HttpAnswer answer;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), answer.body);
  answer.status = static_cast<int>(response.getStatus());
  for (const auto& [name, value] : response) answer.headers.emplace_back(name, value);
  return answer;
}

HttpAnswer call(int port, const std::string& method, const std::string& path, const std::string& token,
                const std::string& jsonBody, const Headers& extraHeaders) {
  return callRaw(port, method, path, token.empty() ? std::string() : "Bearer " + token, jsonBody, "application/json",
                 -1, extraHeaders);
}

void parseJson(const std::string& json, google::protobuf::Message& message) {
  const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  if (!status.ok()) {
    throw std::runtime_error("not a JSON " + message.GetDescriptor()->name() + " (" + std::string(status.message()) +
                             "): " + json.substr(0, 500));
  }
}

std::string toJson(const google::protobuf::Message& message) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

std::string login(int port, const std::string& username, const std::string& password) {
  api::LoginRequest request;
  request.set_username(username);
  request.set_password(password);
  const HttpAnswer answer = call(port, "POST", "/api/v1/login", {}, toJson(request));
  if (answer.status != 200) {
    throw std::runtime_error("login as " + username + ": " + std::to_string(answer.status) + " " + answer.body);
  }
  return parsed<api::LoginResponse>(answer.body).token();
}

std::string auditJson(int port, const std::string& token, const std::string& query) {
  const HttpAnswer answer = call(port, "GET", "/api/v1/audit" + query, token);
  if (answer.status != 200) {
    throw std::runtime_error("GET /api/v1/audit" + query + ": " + std::to_string(answer.status) + " " + answer.body);
  }
  return answer.body;
}

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw std::runtime_error("audit_log: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

std::string text(sqlite3_stmt* statement, int column) {
  const unsigned char* value = sqlite3_column_text(statement, column);
  return value ? reinterpret_cast<const char*>(value) : "";
}

}  // namespace

AuditReader::AuditReader(const std::string& databasePath) {
  if (sqlite3_open_v2(databasePath.c_str(), &m_db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    m_db = nullptr;
    throw std::runtime_error("audit_log: cannot open " + databasePath + ": " + message);
  }
  sqlite3_busy_timeout(m_db, 10'000);
}

AuditReader::~AuditReader() { sqlite3_close(m_db); }

std::int64_t AuditReader::lastSeq() {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(m_db, "SELECT coalesce(max(seq), 0) FROM audit_log", -1, &statement, nullptr) != SQLITE_OK) {
    fail(m_db, "prepare");
  }
  std::int64_t seq = 0;
  if (sqlite3_step(statement) == SQLITE_ROW) seq = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  return seq;
}

std::int64_t AuditReader::count() {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(m_db, "SELECT count(*) FROM audit_log", -1, &statement, nullptr) != SQLITE_OK) {
    fail(m_db, "prepare");
  }
  std::int64_t n = 0;
  if (sqlite3_step(statement) == SQLITE_ROW) n = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  return n;
}

std::vector<AuditRow> AuditReader::since(std::int64_t seq) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(m_db,
                         "SELECT seq, at, user_id, organisation_id, patient_id, action, outcome, emergency "
                         "FROM audit_log WHERE seq > ? ORDER BY seq",
                         -1, &statement, nullptr) != SQLITE_OK) {
    fail(m_db, "prepare");
  }
  sqlite3_bind_int64(statement, 1, seq);
  std::vector<AuditRow> rows;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    AuditRow row;
    row.seq = sqlite3_column_int64(statement, 0);
    row.at = text(statement, 1);
    row.userId = text(statement, 2);
    row.organisationId = text(statement, 3);
    row.patientId = text(statement, 4);
    row.action = text(statement, 5);
    row.outcome = text(statement, 6);
    row.emergency = sqlite3_column_int(statement, 7) != 0;
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(statement);
  if (step != SQLITE_DONE) fail(m_db, "read");
  return rows;
}

std::vector<api::AuditEntry> AuditReader::entries(const std::string& actionPrefix) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(m_db, "SELECT seq, body FROM audit_log WHERE substr(action, 1, ?) = ? ORDER BY seq", -1,
                         &statement, nullptr) != SQLITE_OK) {
    fail(m_db, "prepare");
  }
  sqlite3_bind_int64(statement, 1, static_cast<sqlite3_int64>(actionPrefix.size()));
  sqlite3_bind_text(statement, 2, actionPrefix.data(), static_cast<int>(actionPrefix.size()), SQLITE_TRANSIENT);
  std::vector<api::AuditEntry> result;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    api::AuditEntry entry;
    const std::int64_t seq = sqlite3_column_int64(statement, 0);
    if (!entry.ParseFromArray(sqlite3_column_blob(statement, 1), sqlite3_column_bytes(statement, 1))) {
      sqlite3_finalize(statement);
      throw std::runtime_error("audit_log: entry " + std::to_string(seq) + " is not an api.AuditEntry");
    }
    entry.set_seq(static_cast<std::uint64_t>(seq));
    result.push_back(std::move(entry));
  }
  sqlite3_finalize(statement);
  if (step != SQLITE_DONE) fail(m_db, "read");
  return result;
}

}  // namespace hemma::test
