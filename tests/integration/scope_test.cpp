// Scope against the real server binary in the demo world: a tablet holds only
// the patients its user has a care relationship with (and consent covers).
// Joining a care team brings the patient's whole history, leaving it or a
// withdrawn consent purges the patient, a pending note on a purged patient
// ends in the rejected list rather than vanishing, and a revoked tablet wipes
// itself at its next contact (and only then: other 401s wipe nothing).
//
// The demo world (server/src/demo_data.cpp): patient-01 lives in org-norrby,
// consents to org-norrby and org-soder, and has nurse-karin, nurse-olle
// (member) and physician-sara in its care team; nurse-maria (org-soder) is in
// the team of the regional patients (25-30) only; coordinator-lena is a
// coordinator of org-norrby.

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "hemma/api.pb.h"
#include "hemma/mobile/clock.hpp"
#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "support/api_client.hpp"
#include "support/demo_world.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace hemma;
using mobile::Device;
using mobile::HttpTransport;
using mobile::ServerAddress;

// One signed-in tablet and its link to the server.
struct Tablet {
  Tablet(const test::TempDir& dir, const test::ServerProcess& server, mobile::Clock& clock, const std::string& user,
         const std::string& deviceId)
      : device(dir.file(deviceId + ".db"), clock), link(ServerAddress::parse(server.url())) {
    test::signIn(device, server, user, deviceId);
  }
  mobile::SyncReport sync(mobile::SyncClient::Options options = {}) {
    options.sleep = [](std::chrono::milliseconds) {};
    return device.sync(link, options);
  }
  Device device;
  HttpTransport link;
};

// A transport that loses the answer to every `every`-th pull after the
// server acted on it, as a dropped connection would.
class LosingAnswers final : public mobile::Transport {
 public:
  LosingAnswers(mobile::Transport& inner, int every) : m_inner(inner), m_every(every) {}
  sync::PushResponse push(const sync::PushRequest& request) override { return m_inner.push(request); }
  sync::PullResponse pull(const sync::PullRequest& request) override {
    auto response = m_inner.pull(request);
    if (++pulls % m_every == 0) {
      ++lost;
      throw mobile::TransportError("answer lost");
    }
    return response;
  }
  void setToken(const std::string& token) override { m_inner.setToken(token); }
  int pulls = 0;
  int lost = 0;

 private:
  mobile::Transport& m_inner;
  int m_every;
};

std::string describe(const mobile::FieldValue& f) {
  return f.patientId + "|" + f.entityType + "|" + f.entityId + "|" + f.field + "|" + f.value + "|" +
         std::to_string(f.hlc) + "|" + f.opId + "|" + f.authorId + "|" + (f.merged ? "merged" : "");
}

std::vector<std::string> fieldsOf(Device& device, const std::string& patient) {
  std::vector<std::string> result;
  for (const auto& f : device.store().fields(patient)) result.push_back(describe(f));
  return result;
}

std::vector<std::string> notesOf(Device& device, const std::string& patient) {
  std::vector<std::string> result;
  for (const auto& note : device.notes(patient)) result.push_back(note.SerializeAsString());
  return result;
}

std::vector<std::string> conflictsOf(Device& device, const std::string& patient) {
  std::vector<std::string> result;
  for (const auto& conflict : device.conflicts(patient)) result.push_back(conflict.SerializeAsString());
  return result;
}

void requireOk(const test::HttpAnswer& answer, const std::string& what) {
  INFO(what << " -> " << answer.status << " " << answer.body);
  REQUIRE(answer.status == 200);
}

}  // namespace

TEST_CASE("joining a patient's care team brings the patient's whole history, paged, despite lost answers") {
  test::TempDir dir;
  mobile::SystemClock clock;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, clock, "nurse-karin", "tablet-karin");
  Tablet maria(dir, server, clock, "nurse-maria", "tablet-maria");

  // Karin's history of patient-01: notes, an amendment and a field, synced.
  REQUIRE(karin.sync().ok);
  const auto first = karin.device.writeNote("patient-01", "", "Sår läker fint. Bytt förband.");
  karin.device.writeNote("patient-01", "", "Rättelse: förband byts i morgon", first.id());
  karin.device.writeField("patient-01", "patient", "patient-01", "access_notes", "Nyckel hos grannen");
  karin.device.writeNote("patient-05", "", "Another patient of Karin's");
  REQUIRE(karin.sync().ok);

  // Maria's tablet has her own patients, none of patient-01.
  REQUIRE(maria.sync().ok);
  CHECK(notesOf(maria.device, "patient-01").empty());
  CHECK(fieldsOf(maria.device, "patient-01").empty());
  CHECK_FALSE(fieldsOf(maria.device, "patient-25").empty());
  const auto cursorBefore = maria.device.status().cursor;
  CHECK(cursorBefore > 0);

  // Lena adds Maria to patient-01's team (patient-01 consents to org-soder).
  const std::string lena = test::login(server.port(), "coordinator-lena");
  requireOk(test::call(server.port(), "POST", "/api/v1/patients/patient-01/care-team", lena,
                       R"({"practitionerId": "nurse-maria"})"),
            "add nurse-maria");

  // Karin writes one more note after that; it comes by the ordinary pull.
  karin.device.writeNote("patient-01", "", "Efter Marias inträde");
  REQUIRE(karin.sync().ok);

  // Maria's next sync, in small pages whose answers are sometimes lost.
  LosingAnswers lossy(maria.link, 3);
  mobile::SyncClient::Options options;
  options.pullPage = 7;
  options.attempts = 100;
  options.sleep = [](std::chrono::milliseconds) {};
  mobile::SyncReport report;
  for (int run = 0; run < 10; ++run) {
    report = maria.device.sync(lossy, options);
    if (report.ok) break;
  }
  REQUIRE(report.ok);
  CHECK(lossy.lost > 0);
  CHECK(report.purged == 0);

  // Everything Karin's tablet holds of patient-01, byte for byte.
  REQUIRE(karin.sync().ok);
  CHECK(notesOf(maria.device, "patient-01").size() == 3);
  CHECK(notesOf(maria.device, "patient-01") == notesOf(karin.device, "patient-01"));
  CHECK(fieldsOf(maria.device, "patient-01") == fieldsOf(karin.device, "patient-01"));
  CHECK(conflictsOf(maria.device, "patient-01") == conflictsOf(karin.device, "patient-01"));
  CHECK(maria.device.field("patient-01", "patient", "patient-01", "access_notes")->value == "Nyckel hos grannen");
  CHECK(maria.device.field("patient-01", "visit", "patient-01-visit-1", "status"));
  // Karin's other patients stay off Maria's tablet.
  CHECK(notesOf(maria.device, "patient-05").empty());
  CHECK(fieldsOf(maria.device, "patient-05").empty());
  CHECK(maria.device.status().cursor > cursorBefore);

  // A further sync brings nothing twice.
  const auto again = maria.sync();
  REQUIRE(again.ok);
  CHECK(again.pulled == 0);
}

TEST_CASE("leaving a care team purges the patient; a pending note on it ends in the rejected list") {
  test::TempDir dir;
  mobile::SystemClock clock;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, clock, "nurse-karin", "tablet-karin");
  Tablet olle(dir, server, clock, "nurse-olle", "tablet-olle");
  REQUIRE(karin.sync().ok);
  REQUIRE(olle.sync().ok);

  // A note and a conflict of patient-01 on Olle's tablet: the dose, edited
  // concurrently by the patient's two plan editors.
  test::addToCareTeam(server, "patient-01", "coordinator-rolf");
  Tablet lenaTablet(dir, server, clock, "coordinator-lena", "tablet-lena");
  Tablet rolfTablet(dir, server, clock, "coordinator-rolf", "tablet-rolf");
  karin.device.writeNote("patient-01", "", "Karin's note");
  lenaTablet.device.writeField("patient-01", "medication", "med-1", "dose", "5 mg");
  rolfTablet.device.writeField("patient-01", "medication", "med-1", "dose", "10 mg");
  REQUIRE(karin.sync().ok);
  REQUIRE(lenaTablet.sync().ok);
  REQUIRE(rolfTablet.sync().ok);
  REQUIRE(olle.sync().ok);
  REQUIRE(olle.device.notes("patient-01").size() == 1);
  REQUIRE_FALSE(olle.device.conflicts("patient-01").empty());
  const auto otherFields = fieldsOf(olle.device, "patient-02");
  REQUIRE_FALSE(otherFields.empty());
  const auto otherNotesBefore = notesOf(olle.device, "patient-02");

  // Olle writes a note offline; meanwhile Lena takes him off the team.
  const auto pending = olle.device.writeNote("patient-01", "", "Written before I heard I was off the team");
  const std::string lena = test::login(server.port(), "coordinator-lena");
  requireOk(test::call(server.port(), "DELETE", "/api/v1/patients/patient-01/care-team/nurse-olle", lena),
            "remove nurse-olle");

  const auto report = olle.sync();
  REQUIRE(report.ok);
  CHECK(report.purged == 1);
  CHECK(report.rejected == 1);

  // Nothing of patient-01 that others wrote is left on the tablet.
  CHECK(fieldsOf(olle.device, "patient-01").empty());
  CHECK(olle.device.conflicts("patient-01").empty());
  const auto notes = olle.device.notes("patient-01");
  REQUIRE(notes.size() == 1);  // only his own, refused note
  CHECK(notes[0].SerializeAsString() == pending.SerializeAsString());
  // His unsynced note is not lost: rejected, with the server's reason.
  const auto rejected = olle.device.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].operation.id() == pending.id());
  CHECK(rejected[0].operation.append().note().text() == pending.text());
  CHECK_THAT(rejected[0].reason, Catch::Contains("no care relationship with patient-01"));
  // His other patients stay.
  CHECK(fieldsOf(olle.device, "patient-02") == otherFields);
  CHECK(notesOf(olle.device, "patient-02") == otherNotesBefore);
  CHECK(olle.device.status().pending == 0);

  // A second sync purges nothing more; back in the team, the history returns.
  const auto quiet = olle.sync();
  REQUIRE(quiet.ok);
  CHECK(quiet.purged == 0);
  requireOk(test::call(server.port(), "POST", "/api/v1/patients/patient-01/care-team", lena,
                       R"({"practitionerId": "nurse-olle", "responsibility": "MEMBER"})"),
            "add nurse-olle again");
  REQUIRE(olle.sync().ok);
  REQUIRE(karin.sync().ok);
  CHECK(fieldsOf(olle.device, "patient-01") == fieldsOf(karin.device, "patient-01"));
  CHECK(conflictsOf(olle.device, "patient-01") == conflictsOf(karin.device, "patient-01"));
  CHECK_FALSE(olle.device.conflicts("patient-01").empty());
  CHECK(olle.device.notes("patient-01").size() == 2);  // Karin's, and his own refused one
}

TEST_CASE("a withdrawn consent purges the patient from the other organisation's tablets") {
  test::TempDir dir;
  mobile::SystemClock clock;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, clock, "nurse-karin", "tablet-karin");
  Tablet sara(dir, server, clock, "physician-sara", "tablet-sara");
  REQUIRE(karin.sync().ok);
  karin.device.writeNote("patient-01", "", "Seen by Karin");
  REQUIRE(karin.sync().ok);
  REQUIRE(sara.sync().ok);
  REQUIRE(sara.device.notes("patient-01").size() == 1);
  REQUIRE_FALSE(fieldsOf(sara.device, "patient-01").empty());
  const auto otherFields = fieldsOf(sara.device, "patient-04");
  REQUIRE_FALSE(otherFields.empty());

  // patient-01 withdraws the consent for org-soder.
  const std::string patient = test::login(server.port(), "patient-01");
  const auto listed = test::call(server.port(), "GET", "/api/v1/patients/patient-01/consents", patient);
  requireOk(listed, "list consents");
  std::string consentId;
  const auto consents = test::parsed<api::ConsentList>(listed.body);
  for (const auto& consent : consents.consents()) {
    if (consent.organisation_id() == "org-soder" && consent.withdrawn_at().empty()) consentId = consent.id();
  }
  REQUIRE_FALSE(consentId.empty());
  requireOk(test::call(server.port(), "POST", "/api/v1/consents/" + consentId + "/withdraw", patient),
            "withdraw consent");

  const auto report = sara.sync();
  REQUIRE(report.ok);
  CHECK(report.purged == 1);
  CHECK(sara.device.notes("patient-01").empty());
  CHECK(fieldsOf(sara.device, "patient-01").empty());
  CHECK(sara.device.conflicts("patient-01").empty());
  CHECK(fieldsOf(sara.device, "patient-04") == otherFields);

  // Karin (org-norrby) keeps the patient.
  const auto karins = karin.sync();
  REQUIRE(karins.ok);
  CHECK(karins.purged == 0);
  CHECK(karin.device.notes("patient-01").size() == 1);
}

TEST_CASE("a revoked tablet wipes itself at its next contact; other refusals wipe nothing") {
  test::TempDir dir;
  mobile::SystemClock clock;
  test::ServerProcess server(dir.file("server.db"), test::demoServerArgs());
  Tablet karin(dir, server, clock, "nurse-karin", "tablet-karin");
  REQUIRE(karin.sync().ok);
  karin.device.writeNote("patient-01", "", "Before the tablet was lost");
  REQUIRE(karin.sync().ok);
  REQUIRE(karin.device.notes().size() == 1);
  const std::string token = *karin.device.store().meta("device_token");

  SECTION("a garbled token is an ordinary error") {
    karin.device.store().setMeta("device_token", token.substr(0, token.size() - 4) + "AAAA");
    const auto report = karin.sync();
    CHECK_FALSE(report.ok);
    CHECK_FALSE(report.wiped);
    CHECK_THAT(report.error, Catch::Contains("401"));
    CHECK(karin.device.notes().size() == 1);
    CHECK(karin.device.status().wipedAt.empty());
    karin.device.store().setMeta("device_token", token);
    CHECK(karin.sync().ok);
  }

  SECTION("a replaced token is an ordinary error") {
    // The same device id signed in again from another database: the old
    // token is no longer the device's latest one.
    Device other(dir.file("other.db"), clock);
    test::signIn(other, server, "nurse-karin", "tablet-karin");
    const auto report = karin.sync();
    CHECK_FALSE(report.ok);
    CHECK_FALSE(report.wiped);
    CHECK_THAT(report.error, Catch::Contains("device: token replaced"));
    CHECK(karin.device.notes().size() == 1);
    CHECK(karin.device.store().meta("device_token") == token);
  }

  SECTION("revoked: wiped, and it stays so") {
    karin.device.writeNote("patient-01", "", "Written after the tablet was lost");
    const std::string login = test::login(server.port(), "nurse-karin");
    requireOk(test::call(server.port(), "POST", "/api/v1/devices/tablet-karin/revoke", login), "revoke");

    const auto report = karin.sync();
    CHECK_FALSE(report.ok);
    CHECK(report.wiped);
    CHECK(report.error == "device: revoked and wiped; sign in again on a new device id");
    CHECK(karin.device.notes().empty());
    CHECK(karin.device.store().fields().empty());
    CHECK(karin.device.store().operationCount() == 0);
    CHECK(karin.device.store().outboxSize() == 0);
    CHECK_FALSE(karin.device.store().meta("device_token"));
    CHECK_FALSE(karin.device.store().meta("principal"));
    CHECK_FALSE(karin.device.store().meta("cursor"));
    const auto status = karin.device.status();
    CHECK_FALSE(status.wipedAt.empty());
    CHECK(status.deviceId.empty());

    // Further writes and syncs fail with the clear error, without the server.
    CHECK_THROWS_WITH(karin.device.writeNote("patient-01", "", "more"),
                      "device: revoked and wiped; sign in again on a new device id");
    CHECK_THROWS_AS(karin.device.writeField("patient-01", "patient", "patient-01", "access_notes", "x"),
                    mobile::DeviceWiped);
    const auto again = karin.sync();
    CHECK_FALSE(again.ok);
    CHECK(again.wiped);
    CHECK(again.error == report.error);

    // Reopened from disk, it is still wiped.
    {
      Device reopened(dir.file("tablet-karin.db"), clock);
      CHECK(reopened.wiped());
      CHECK(reopened.notes().empty());
      CHECK_THROWS_AS(reopened.writeNote("patient-01", "", "more"), mobile::DeviceWiped);
    }

    // The revoked id cannot come back; a new one starts afresh.
    CHECK_THROWS(test::signIn(karin.device, server, "nurse-karin", "tablet-karin"));
    CHECK(karin.device.wiped());
    test::signIn(karin.device, server, "nurse-karin", "tablet-karin-2");
    CHECK_FALSE(karin.device.wiped());
    REQUIRE(karin.sync().ok);
    CHECK(karin.device.notes("patient-01").size() == 1);  // the synced note, from the server
  }
}
