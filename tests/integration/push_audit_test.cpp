// The audit trail of a push is as durable as the push itself: each newly
// stored operation's audit entry ("sync.push.<entity_type>", with its
// original author and time) is written in the transaction that stores the
// operation. If the audit insert fails, nothing of the push is stored and the
// server answers an error; after a push that succeeds, every acknowledged
// operation has exactly one entry, and a retried push (acked as duplicates)
// adds none.
//
// The failure is made real: the test adds a trigger to the running server's
// SQLite database that refuses push audit rows, the way a full disk or a
// broken audit table would refuse them.

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/sync/protocol.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using hemma::mobile::Device;
using hemma::mobile::HttpTransport;
using hemma::mobile::ServerAddress;
using hemma::mobile::ServerError;
using hemma::mobile::SystemClock;
using namespace std::chrono_literals;

// The server's database opened beside it, read-write, for what the test
// does to it and counts in it.
class Sql {
 public:
  explicit Sql(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(m_db, 10'000);
  }
  ~Sql() { sqlite3_close(m_db); }
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  // The single integer `sql` selects, with `text` bound to its parameter.
  std::int64_t count(const std::string& sql, const std::string& text = {}) {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(m_db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
    if (sqlite3_bind_parameter_count(statement) > 0) {
      sqlite3_bind_text(statement, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
    std::int64_t n = -1;
    if (sqlite3_step(statement) == SQLITE_ROW) n = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return n;
  }

 private:
  sqlite3* m_db = nullptr;
};

// The push audit entries, by operation id (their purpose).
std::map<std::string, std::vector<hemma::api::AuditEntry>> pushEntriesById(const std::string& serverDb) {
  hemma::test::AuditReader reader(serverDb);
  std::map<std::string, std::vector<hemma::api::AuditEntry>> byId;
  for (auto& entry : reader.entries("sync.push.")) byId[entry.purpose()].push_back(std::move(entry));
  return byId;
}

}  // namespace

TEST_CASE("a push whose audit entries cannot be written stores nothing; a stored push has one entry per operation") {
  hemma::test::TempDir dir(hemma::test::TempDir::InMemory);
  const std::string serverDb = dir.file("server.db");
  hemma::test::ServerProcess server(serverDb, hemma::test::demoServerArgs());
  SystemClock clock;
  Device nurse(dir.file("nurse.db"), clock);
  hemma::test::signIn(nurse, server, "nurse-karin", "tablet-a");

  // Notes and a proposed change (which the server also projects into the
  // physician's queue in the same transaction), for patient-01 of
  // nurse-karin's care team.
  for (int i = 0; i < 5; ++i) nurse.writeNote("patient-01", "", "Besök " + std::to_string(i) + ": allt väl.");
  const auto proposal =
      nurse.proposeChange("patient-01", "care_plan", "patient-01", "spo2_scale_2", "true", "KOL, mål 88-92 %");
  hemma::sync::PushRequest batch;
  batch.set_protocol_version(hemma::sync::kProtocolVersion);
  batch.set_device_id("tablet-a");
  for (auto& op : nurse.store().outbox(100)) *batch.add_operations() = op;
  REQUIRE(batch.operations_size() == 6);
  std::map<std::string, const hemma::sync::Operation*> sent;
  for (const auto& op : batch.operations()) sent[op.id()] = &op;

  HttpTransport link(ServerAddress::parse(server.url()), 10s);
  link.setToken(*nurse.store().meta("device_token"));
  Sql sql(serverDb);
  const auto operationsBefore = sql.count("SELECT count(*) FROM operations");
  const auto auditBefore = sql.count("SELECT count(*) FROM audit_log");

  SECTION("the audit insert fails: the push answers an error and nothing of it is stored") {
    sql.exec(
        "CREATE TRIGGER test_refuse_push_audit BEFORE INSERT ON audit_log WHEN NEW.action LIKE 'sync.push.%' "
        "BEGIN SELECT RAISE(ABORT, 'test: push audit refused'); END");
    int status = 0;
    try {
      link.push(batch);
    } catch (const ServerError& e) {
      status = e.status();
    }
    CHECK(status == 500);
    CHECK(sql.count("SELECT count(*) FROM operations") == operationsBefore);
    for (const auto& [id, op] : sent) CHECK(sql.count("SELECT count(*) FROM operations WHERE op_id = ?", id) == 0);
    CHECK(sql.count("SELECT count(*) FROM proposals WHERE id = ?", proposal.id()) == 0);
    CHECK(sql.count("SELECT count(*) FROM audit_log") == auditBefore);
    CHECK(pushEntriesById(serverDb).empty());

    // Once the audit log takes rows again, the same batch is stored whole,
    // as new operations (not duplicates of a half-stored push).
    sql.exec("DROP TRIGGER test_refuse_push_audit");
    const auto response = link.push(batch);
    CHECK(response.rejections_size() == 0);
    REQUIRE(response.acks_size() == 6);
    for (const auto& ack : response.acks()) CHECK_FALSE(ack.duplicate());
    CHECK(sql.count("SELECT count(*) FROM proposals WHERE id = ?", proposal.id()) == 1);
    const auto entries = pushEntriesById(serverDb);
    CHECK(entries.size() == 6);
    for (const auto& ack : response.acks()) {
      INFO(ack.operation_id());
      REQUIRE(entries.count(ack.operation_id()) == 1);
      CHECK(entries.at(ack.operation_id()).size() == 1);
    }
  }

  SECTION("every acknowledged operation has exactly one entry, and a retried push adds none") {
    // One operation of the batch claims another device: refused as
    // FORBIDDEN, stored nowhere, audited as denied.
    hemma::sync::PushRequest withForeign = batch;
    hemma::sync::Operation foreign = batch.operations(0);
    foreign.set_device_id("tablet-z");
    foreign.set_id("tablet-z:1");
    *withForeign.add_operations() = foreign;

    const auto first = link.push(withForeign);
    REQUIRE(first.acks_size() == 6);
    REQUIRE(first.rejections_size() == 1);
    CHECK(first.rejections(0).operation_id() == "tablet-z:1");
    CHECK(first.rejections(0).code() == hemma::sync::OperationRejection::FORBIDDEN);
    CHECK(sql.count("SELECT count(*) FROM operations WHERE op_id = ?", "tablet-z:1") == 0);
    CHECK(sql.count("SELECT count(*) FROM operations") == operationsBefore + 6);

    auto entries = pushEntriesById(serverDb);
    CHECK(entries.size() == 7);
    for (const auto& ack : first.acks()) {
      INFO(ack.operation_id());
      CHECK_FALSE(ack.duplicate());
      REQUIRE(entries.count(ack.operation_id()) == 1);
      REQUIRE(entries.at(ack.operation_id()).size() == 1);
      const auto& entry = entries.at(ack.operation_id()).front();
      const auto& op = *sent.at(ack.operation_id());
      CHECK(entry.action() == "sync.push." + op.entity_type());
      CHECK(entry.outcome() == "allowed");
      CHECK(entry.user_id() == "nurse-karin");
      CHECK(entry.device_id() == "tablet-a");
      CHECK(entry.patient_id() == "patient-01");
      CHECK(entry.original_author_id() == op.author_id());
      CHECK(entry.original_time() == op.recorded_at());
      CHECK_FALSE(entry.at().empty());
    }
    REQUIRE(entries.count("tablet-z:1") == 1);
    REQUIRE(entries.at("tablet-z:1").size() == 1);
    CHECK(entries.at("tablet-z:1").front().outcome().rfind("denied: ", 0) == 0);

    // The tablet never heard the answer and sends the batch again: every
    // operation is acked as a duplicate, and none is audited again.
    const auto retry = link.push(batch);
    REQUIRE(retry.acks_size() == 6);
    for (const auto& ack : retry.acks()) CHECK(ack.duplicate());
    const auto after = pushEntriesById(serverDb);
    CHECK(after.size() == 7);
    for (const auto& [id, list] : after) {
      INFO(id);
      CHECK(list.size() == 1);
    }
    CHECK(sql.count("SELECT count(*) FROM operations") == operationsBefore + 6);
  }
}
