#include "hemma/server/entry_projection.hpp"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Statement.h>

#include "hemma/server/blob.hpp"
#include "hemma/server/field_store.hpp"
#include "hemma/sync/time_format.hpp"

namespace hemma::server {

using namespace Poco::Data::Keywords;

namespace {

template <typename Message>
Message fromBlob(const Poco::Data::BLOB& blob) {
  return messageOf<Message>(blob, "entry projection");
}

api::News2Point pointOf(const domain::VitalSigns& vitals) {
  api::News2Point point;
  point.set_vital_signs_id(vitals.id());
  point.set_at(vitals.observed_at());
  if (vitals.has_news2_score()) point.set_score(vitals.news2_score());
  point.set_risk(vitals.news2_risk());
  point.set_red_parameter(vitals.red_parameter());
  return point;
}

// The trend is ordered by its observed_at column as text: stored in UTC
// with milliseconds, a tablet's "+02:00" or second-only time still sorts by
// the instant. (validateOperation() has checked that the time parses.)
std::string normalisedTime(const std::string& rfc3339) {
  return sync::formatRfc3339(sync::parseRfc3339(rfc3339).value_or(0));
}

bool alarming(domain::News2Risk risk) { return risk == domain::NEWS2_MEDIUM || risk == domain::NEWS2_HIGH; }

void insertAlert(Poco::Data::Session& s, std::uint64_t seq, const sync::Operation& op, api::Alert alert) {
  alert.set_seq(seq);
  alert.set_patient_id(op.patient_id());
  alert.set_author_id(op.author_id());
  Poco::Int64 key = static_cast<Poco::Int64>(seq);
  std::string patient = op.patient_id(), author = op.author_id();
  auto body = toBlob(alert);
  s << "INSERT INTO alerts(seq, patient_id, author_id, body) VALUES(?, ?, ?, ?) ON CONFLICT(seq) DO NOTHING", use(key),
      use(patient), use(author), use(body), now;
}

void projectProposal(Poco::Data::Session& s, const domain::ProposedChange& change) {
  api::PlanChangeProposal proposal;
  proposal.set_id(change.id());
  proposal.set_patient_id(change.patient_id());
  proposal.set_proposer_id(change.author_id());
  proposal.set_entity_type(change.entity_type());
  proposal.set_entity_id(change.entity_id());
  proposal.set_field(change.field());
  proposal.set_proposed_value(change.proposed_value());
  const auto current =
      FieldStore::field(s, {change.patient_id(), change.entity_type(), change.entity_id(), change.field()});
  proposal.set_current_value(current ? current->value : "");
  proposal.set_reason(change.reason());
  proposal.set_status(api::PlanChangeProposal::PENDING);
  proposal.set_created_at(change.proposed_at());
  proposal.set_base_hlc(change.base_hlc());
  std::string id = proposal.id(), patient = proposal.patient_id(), created = proposal.created_at();
  int status = proposal.status();
  auto body = toBlob(proposal);
  // A proposal id is its entry's id, so a retried push cannot queue it twice.
  s << "INSERT INTO proposals(id, patient_id, status, created_at, body) VALUES(?, ?, ?, ?, ?) "
       "ON CONFLICT(id) DO NOTHING",
      use(id), use(patient), use(status), use(created), use(body), now;
}

void projectVitalSigns(Poco::Data::Session& s, std::uint64_t seq, const sync::Operation& op,
                       const domain::VitalSigns& vitals) {
  if (!vitals.amends_vital_signs_id().empty()) {
    // The corrected set replaces the one it amends in the trend.
    std::string patient = op.patient_id(), amended = vitals.amends_vital_signs_id();
    s << "DELETE FROM news2_points WHERE patient_id = ? AND vital_signs_id = ?", use(patient), use(amended), now;
  }
  Poco::Int64 key = static_cast<Poco::Int64>(seq);
  std::string at = normalisedTime(vitals.observed_at());
  std::string patient = op.patient_id(), author = op.author_id(), id = vitals.id();
  const api::News2Point point = pointOf(vitals);
  auto body = toBlob(point);
  s << "INSERT INTO news2_points(seq, patient_id, author_id, vital_signs_id, observed_at, body) "
       "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(seq) DO NOTHING",
      use(key), use(patient), use(author), use(id), use(at), use(body), now;
  if (!alarming(vitals.news2_risk())) return;
  api::Alert alert;
  alert.set_kind(api::Alert::NEWS2);
  *alert.mutable_news2() = point;
  alert.set_text("NEWS2 " + std::to_string(vitals.news2_score()) + " (" +
                 (vitals.news2_risk() == domain::NEWS2_HIGH ? "high" : "medium") + " risk)");
  alert.set_at(vitals.observed_at());
  insertAlert(s, seq, op, std::move(alert));
}

void projectMessage(Poco::Data::Session& s, std::uint64_t seq, const sync::Operation& op,
                    const domain::Message& message) {
  if (!message.urgent()) return;
  api::Alert alert;
  alert.set_kind(api::Alert::URGENT_MESSAGE);
  if (message.has_vital_signs()) *alert.mutable_news2() = pointOf(message.vital_signs());
  alert.set_text(message.text());
  alert.set_at(message.sent_at());
  insertAlert(s, seq, op, std::move(alert));
}

void projectTaskOutcome(Poco::Data::Session& s, const domain::TaskOutcome& outcome) {
  std::string patient = outcome.patient_id(), visit = outcome.visit_id(), activity = outcome.activity_id();
  s << "INSERT INTO visit_tasks(patient_id, visit_id, activity_id) VALUES(?, ?, ?) "
       "ON CONFLICT(patient_id, visit_id, activity_id) DO NOTHING",
      use(patient), use(visit), use(activity), now;
}

}  // namespace

void EntryProjection::migrate(Poco::Data::Session& s) {
  s << "CREATE TABLE IF NOT EXISTS proposals(id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, status INTEGER NOT NULL, "
       "created_at TEXT NOT NULL, body BLOB NOT NULL)",
      now;
  s << "CREATE INDEX IF NOT EXISTS proposals_by_patient ON proposals(patient_id, status)", now;
  s << "CREATE TABLE IF NOT EXISTS news2_points(seq INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, "
       "author_id TEXT NOT NULL, vital_signs_id TEXT NOT NULL, observed_at TEXT NOT NULL, body BLOB NOT NULL)",
      now;
  s << "CREATE INDEX IF NOT EXISTS news2_by_patient ON news2_points(patient_id, observed_at)", now;
  s << "CREATE TABLE IF NOT EXISTS alerts(seq INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, "
       "author_id TEXT NOT NULL, body BLOB NOT NULL)",
      now;
  s << "CREATE TABLE IF NOT EXISTS visit_tasks(patient_id TEXT NOT NULL, visit_id TEXT NOT NULL, "
       "activity_id TEXT NOT NULL, PRIMARY KEY(patient_id, visit_id, activity_id))",
      now;
}

std::optional<std::string> EntryProjection::clash(Poco::Data::Session& s, const sync::Operation& op) {
  if (!op.has_append() || !op.append().has_proposed_change()) return std::nullopt;
  std::string id = op.append().proposed_change().id();
  int count = 0;
  s << "SELECT count(*) FROM proposals WHERE id = ?", into(count), use(id), now;
  if (count == 0) return std::nullopt;
  return "append.proposed_change.id: a proposal " + id + " exists already; a new proposal needs an id of its own";
}

void EntryProjection::apply(Poco::Data::Session& s, const sync::Operation& op, std::uint64_t seq) {
  if (!op.has_append()) return;
  const sync::AppendEntry& entry = op.append();
  switch (entry.entry_case()) {
    case sync::AppendEntry::kProposedChange:
      projectProposal(s, entry.proposed_change());
      break;
    case sync::AppendEntry::kVitalSigns:
      projectVitalSigns(s, seq, op, entry.vital_signs());
      break;
    case sync::AppendEntry::kMessage:
      projectMessage(s, seq, op, entry.message());
      break;
    case sync::AppendEntry::kTaskOutcome:
      projectTaskOutcome(s, entry.task_outcome());
      break;
    default:
      break;
  }
}

std::vector<Authored<api::News2Point>> EntryProjection::news2(Poco::Data::Session& s, const std::string& patientId,
                                                              std::uint32_t limit) {
  std::vector<std::string> authors;
  std::vector<Poco::Data::BLOB> bodies;
  std::string patient = patientId;
  Poco::Int64 count = limit;
  s << "SELECT author_id, body FROM news2_points WHERE patient_id = ? ORDER BY observed_at DESC, seq DESC LIMIT ?",
      into(authors), into(bodies), use(patient), use(count), now;
  std::vector<Authored<api::News2Point>> points;
  for (std::size_t i = bodies.size(); i-- > 0;) {
    points.push_back({patientId, authors[i], fromBlob<api::News2Point>(bodies[i])});
  }
  return points;
}

std::vector<Authored<api::Alert>> EntryProjection::alertsAfter(Poco::Data::Session& s, std::uint64_t afterSeq,
                                                               std::uint32_t limit) {
  std::vector<std::string> patients, authors;
  std::vector<Poco::Data::BLOB> bodies;
  Poco::Int64 after = static_cast<Poco::Int64>(afterSeq);
  Poco::Int64 count = limit;
  s << "SELECT patient_id, author_id, body FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?", into(patients),
      into(authors), into(bodies), use(after), use(count), now;
  std::vector<Authored<api::Alert>> alerts;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    alerts.push_back({patients[i], authors[i], fromBlob<api::Alert>(bodies[i])});
  }
  return alerts;
}

std::map<std::string, std::set<std::string>> EntryProjection::answeredTasks(Poco::Data::Session& s,
                                                                            const std::string& patientId) {
  std::vector<std::string> visits, activities;
  std::string patient = patientId;
  s << "SELECT visit_id, activity_id FROM visit_tasks WHERE patient_id = ?", into(visits), into(activities),
      use(patient), now;
  std::map<std::string, std::set<std::string>> answered;
  for (std::size_t i = 0; i < visits.size(); ++i) answered[visits[i]].insert(activities[i]);
  return answered;
}

}  // namespace hemma::server
