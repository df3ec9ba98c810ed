// UnitOfWork: an audit entry commits with the change it records, or the
// audit says the allowed change was not applied; denials survive a
// rollback; audit rows with invalid UTF-8, old or new, never break a read.

#include <Poco/Data/Session.h>

#include <catch2/catch.hpp>
#include <thread>

#include "hemma/server/audit_log.hpp"
#include "hemma/server/blob.hpp"
#include "hemma/server/database.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using namespace Poco::Data::Keywords;

api::AuditEntry entry(const std::string& action, const std::string& outcome) {
  api::AuditEntry e;
  e.set_user_id("coordinator-cecilia");
  e.set_organisation_id("org-kommun");
  e.set_patient_id("patient-01");
  e.set_action(action);
  e.set_outcome(outcome);
  return e;
}

int rows(server::Database& db, const std::string& table) {
  int count = 0;
  Poco::Data::Session s = db.session();
  s << "SELECT count(*) FROM " + table, into(count), now;
  return count;
}

struct Fixture {
  test::TempDir dir;
  server::Database db{dir.file("hemma.db")};
  server::AuditLog audit{db};
  Fixture() {
    Poco::Data::Session s = db.session();
    s << "CREATE TABLE changes(value TEXT NOT NULL)", now;
  }
  void change(const std::string& value) {
    std::string v = value;
    Poco::Data::Session s = db.session();
    s << "INSERT INTO changes(value) VALUES(?)", use(v), now;
  }
  std::vector<std::string> outcomes() {
    server::AuditQuery query;
    std::vector<std::string> result;
    const api::AuditList list = audit.query(query);
    for (const auto& e : list.entries()) result.insert(result.begin(), e.outcome());
    return result;
  }
};

}  // namespace

TEST_CASE("unit of work: the audit entry and the change commit together", "[unit_of_work]") {
  Fixture f;
  {
    server::UnitOfWork work(f.db);
    f.audit.append(entry("care_plan.write", "allowed"), "2026-12-01T10:00:00Z");
    f.change("dose 5 mg");
    CHECK(f.db.inUnitOfWork());
    work.commit();
  }
  CHECK_FALSE(f.db.inUnitOfWork());
  CHECK(rows(f.db, "changes") == 1);
  CHECK(f.outcomes() == std::vector<std::string>{"allowed"});
}

TEST_CASE("unit of work: a failed change leaves no allowed entry, but says it was not applied", "[unit_of_work]") {
  Fixture f;
  try {
    server::UnitOfWork work(f.db);
    f.audit.append(entry("care_plan.write", "allowed"), "2026-12-01T10:00:00Z");
    f.change("dose 5 mg");
    throw std::runtime_error("the change failed half way");
  } catch (const std::runtime_error&) {
  }
  CHECK(rows(f.db, "changes") == 0);
  CHECK(f.outcomes() == std::vector<std::string>{"allowed; not applied"});
}

TEST_CASE("unit of work: a denial inside it survives the rollback", "[unit_of_work]") {
  Fixture f;
  {
    server::UnitOfWork work(f.db);
    f.audit.append(entry("care_team.write", "denied: not in the care team"), "2026-12-01T10:00:00Z");
  }
  CHECK(f.outcomes() == std::vector<std::string>{"denied: not in the care team"});
}

TEST_CASE("unit of work: one per thread; other threads' stores are not in it", "[unit_of_work]") {
  Fixture f;
  server::UnitOfWork work(f.db);
  CHECK_THROWS_AS(server::UnitOfWork(f.db), std::logic_error);
  bool otherThreadInWork = true;
  std::thread([&] { otherThreadInWork = f.db.inUnitOfWork(); }).join();
  CHECK_FALSE(otherThreadInWork);
  work.rollback();
  CHECK_FALSE(work.open());
}

TEST_CASE("audit log: invalid UTF-8 in any field is stored escaped and every read succeeds", "[audit][utf8]") {
  Fixture f;
  api::AuditEntry bad = entry("record.read /api/v1/patients/\xff", "allowed");
  bad.set_purpose("emergency: \xc3\x28");
  f.audit.append(bad, "2026-12-01T10:00:00Z");
  server::AuditQuery query;
  const api::AuditList list = f.audit.query(query);
  REQUIRE(list.entries_size() == 1);
  CHECK(list.entries(0).action() == "record.read /api/v1/patients/\\xff");
  CHECK(list.entries(0).purpose() == "emergency: \\xc3(");
  query.emergencyOnly = true;
  CHECK_NOTHROW(f.audit.query(query));
  CHECK(f.audit.readsOf("patient-01", 10).size() == 0);
}

TEST_CASE("audit log: rows an older build stored with invalid UTF-8, or garbage, never fail a read", "[audit][utf8]") {
  Fixture f;
  {
    // What the build before this one stored for a header with a bad byte.
    api::AuditEntry old = entry("record.read", "allowed");
    old.set_purpose("emergency: \xff\xfe");
    old.set_emergency(true);
    Poco::Data::BLOB body = server::toBlob(old.SerializeAsString());
    Poco::Data::BLOB garbage = server::toBlob(std::string("\x0a\xff\xff\xff\xff\x0f", 6));
    Poco::Data::Session s = f.db.session();
    s << "INSERT INTO audit_log(at, user_id, organisation_id, patient_id, action, outcome, emergency, body) "
         "VALUES('2026-11-30T09:00:00Z', 'physician-per', 'org-region', 'patient-01', 'record.read', 'allowed', 1, ?)",
        use(body), now;
    s << "INSERT INTO audit_log(at, user_id, organisation_id, patient_id, action, outcome, emergency, body) "
         "VALUES('2026-11-30T09:01:00Z', 'physician-per', 'org-region', 'patient-01', 'record.read', 'allowed', 1, ?)",
        use(garbage), now;
  }
  server::AuditQuery query;
  query.emergencyOnly = true;
  const api::AuditList list = f.audit.query(query);
  REQUIRE(list.entries_size() == 2);
  CHECK(list.entries(0).action() == "(unreadable audit entry)");
  CHECK(list.entries(0).seq() == 2);
  CHECK(list.entries(1).purpose() == "emergency: \\xff\\xfe");
  CHECK(f.audit.readsOf("patient-01", 10).size() == 2);
}
