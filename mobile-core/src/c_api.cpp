// The C API (hemma/hemma.h): each function checks its pointers, calls the C++
// device API, copies the answer out and turns every exception into a status
// and an error struct. No rule lives here; no exception leaves this file.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hemma/hemma.h"
#include "hemma/mobile/clock.hpp"
#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"
#include "hemma/mobile/news2.hpp"
#include "hemma/mobile/sqlite_db.hpp"
#include "hemma/mobile/transport.hpp"

namespace {

using hemma::mobile::ServerError;
using hemma::mobile::StoreError;
using hemma::mobile::TransportError;

// Forwards to the real transport and remembers how the last request failed.
// The sync client folds network and server failures into one report string;
// this keeps the kind (and the HTTP status) for hemma_sync_run's error code.
class FailureRecordingTransport final : public hemma::mobile::Transport {
 public:
  explicit FailureRecordingTransport(hemma::mobile::Transport& inner) : m_inner(inner) {}

  hemma::sync::PushResponse push(const hemma::sync::PushRequest& request) override {
    return recorded([&] { return m_inner.push(request); });
  }
  hemma::sync::PullResponse pull(const hemma::sync::PullRequest& request) override {
    return recorded([&] { return m_inner.pull(request); });
  }
  void setToken(const std::string& token) override { m_inner.setToken(token); }
  hemma::api::LoginResponse login(const hemma::api::LoginRequest& request) override {
    return recorded([&] { return m_inner.login(request); });
  }
  hemma::api::RegisterDeviceResponse registerDevice(const hemma::api::RegisterDeviceRequest& request,
                                                    const std::string& userToken) override {
    return recorded([&] { return m_inner.registerDevice(request, userToken); });
  }
  hemma::api::Timeline timeline(const std::string& patientId) override {
    return recorded([&] { return m_inner.timeline(patientId); });
  }

  void forget() {
    m_failure = HEMMA_OK;
    m_httpStatus = 0;
  }
  int failure() const { return m_failure; }
  int httpStatus() const { return m_httpStatus; }

 private:
  template <typename Fn>
  auto recorded(Fn&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const TransportError&) {
      m_failure = HEMMA_ERR_NETWORK;
      m_httpStatus = 0;
      throw;
    } catch (const ServerError& e) {
      m_failure = HEMMA_ERR_SERVER;
      m_httpStatus = e.status();
      throw;
    }
  }

  hemma::mobile::Transport& m_inner;
  int m_failure = HEMMA_OK;
  int m_httpStatus = 0;
};

}  // namespace

// Declaration order is construction order: the URL is checked before the
// database is opened, and the clock outlives the Device that refers to it.
struct hemma_device {
  hemma_device(const char* dbPath, const char* serverUrl)
      : http(hemma::mobile::ServerAddress::parse(serverUrl)), link(http), device(dbPath, clock) {}

  hemma::mobile::SystemClock clock;
  hemma::mobile::HttpTransport http;
  FailureRecordingTransport link;
  hemma::mobile::Device device;
};

struct hemma_note_list {
  std::vector<hemma::domain::VisitNote> notes;
};

struct hemma_visit_list {
  std::vector<hemma::mobile::VisitView> visits;
  std::vector<std::string> statuses;  // the status names the views point at
};

struct hemma_message_list {
  std::vector<hemma::domain::Message> messages;
};

// Refused operations flattened to the strings hemma_rejection points at.
struct RejectionC {
  std::string operationId, patientId, entityType, entityId, code, reason, rejectedAt, recordedAt, authorId, summary;
};

struct hemma_rejection_list {
  std::vector<RejectionC> rejections;
};

// Entries flattened to the strings hemma_history_entry points at.
struct HistoryEntryC {
  std::string id, kind, authorId, at, visitId, text;
  int news2Score = -1;
};

struct hemma_history {
  std::vector<hemma::mobile::HistorySummaryRow> summary;
  int summarisedNews2 = -1;
  std::string summarisedNews2At;
  std::vector<HistoryEntryC> entries;
};

namespace {

// Copies `text` into `dst` (capacity `cap` > 0), cut at a UTF-8 character
// boundary when it does not fit. For human-readable texts only.
void copyCut(char* dst, std::size_t cap, std::string_view text) noexcept {
  std::size_t n = std::min(text.size(), cap - 1);
  if (n < text.size()) {
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  }
  if (n > 0) std::memcpy(dst, text.data(), n);
  dst[n] = '\0';
}

hemma_status succeed(hemma_error* err) noexcept {
  if (err) {
    err->code = HEMMA_OK;
    err->http_status = 0;
    err->message[0] = '\0';
  }
  return HEMMA_OK;
}

hemma_status fail(hemma_error* err, int code, std::string_view message, int httpStatus = 0) noexcept {
  if (err) {
    err->code = code;
    err->http_status = httpStatus;
    copyCut(err->message, sizeof err->message, message);
  }
  return code;
}

// Maps the exception being handled to a status. Allocates nothing, so it
// cannot throw while reporting an out-of-memory failure.
hemma_status failWithCurrentException(hemma_error* err) noexcept {
  try {
    throw;
  } catch (const std::invalid_argument& e) {
    return fail(err, HEMMA_ERR_INVALID_ARGUMENT, e.what());
  } catch (const hemma::mobile::UnlockRefused& e) {
    return fail(err, HEMMA_ERR_UNLOCK, e.what());
  } catch (const StoreError& e) {
    return fail(err, HEMMA_ERR_STORE, e.what());
  } catch (const TransportError& e) {
    return fail(err, HEMMA_ERR_NETWORK, e.what());
  } catch (const ServerError& e) {
    char prefix[40];
    const int length = std::snprintf(prefix, sizeof prefix, "server answered %d: ", e.status());
    const hemma_status status = fail(err, HEMMA_ERR_SERVER, prefix, e.status());
    if (err && length > 0) {
      const auto used = static_cast<std::size_t>(length);
      copyCut(err->message + used, sizeof err->message - used, e.what());
    }
    return status;
  } catch (const std::bad_alloc&) {
    return fail(err, HEMMA_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(err, HEMMA_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(err, HEMMA_ERR_INTERNAL, "unknown error");
  }
}

// Runs `fn`; HEMMA_OK if it returns, the mapped failure if it throws.
template <typename Fn>
hemma_status guarded(hemma_error* err, Fn&& fn) noexcept {
  try {
    fn();
    return succeed(err);
  } catch (...) {
    return failWithCurrentException(err);
  }
}

void requireArg(const void* pointer, const char* name) {
  if (!pointer) throw std::invalid_argument(std::string(name) + ": NULL");
}

std::string_view optionalText(const char* text) { return text ? std::string_view(text) : std::string_view(); }

// Copies `value` whole into `dst`, or throws: ids are never truncated.
void copyWhole(char* dst, std::size_t cap, std::string_view value, const char* name) {
  if (value.size() >= cap) {
    throw std::invalid_argument(std::string(name) + ": buffer too small: needs " + std::to_string(value.size() + 1) +
                                " bytes");
  }
  // An empty view may have a null data(): memcpy must not see it.
  if (!value.empty()) std::memcpy(dst, value.data(), value.size());
  dst[value.size()] = '\0';
}

// For the fixed arrays of hemma_sync_status: the store only holds values
// that fit, so one that does not is a damaged store.
void copyStored(char* dst, std::size_t cap, std::string_view value, const char* name) {
  if (value.size() >= cap) throw StoreError(std::string("status.") + name + ": stored value is too long");
  copyWhole(dst, cap, value, name);
}

int scoreOrMissing(const std::optional<int>& score) { return score.value_or(-1); }

hemma_news2_risk toC(hemma::mobile::Risk risk) {
  using hemma::mobile::Risk;
  switch (risk) {
    case Risk::NotEvaluated:
      return HEMMA_RISK_NOT_EVALUATED;
    case Risk::Low:
      return HEMMA_RISK_LOW;
    case Risk::LowMedium:
      return HEMMA_RISK_LOW_MEDIUM;
    case Risk::Medium:
      return HEMMA_RISK_MEDIUM;
    case Risk::High:
      return HEMMA_RISK_HIGH;
  }
  throw std::logic_error("news2: unknown risk " + std::to_string(static_cast<int>(risk)));
}

// Checked before writing, like hemma_note_write: an entry stored but
// reported as failed would be recorded twice by a host that retries.
void requireIdBuffer(const char* idOut, std::size_t idCap) {
  if (idOut && idCap < HEMMA_NOTE_ID_CAPACITY) {
    throw std::invalid_argument("id_out: buffer too small: needs HEMMA_NOTE_ID_CAPACITY (" +
                                std::to_string(HEMMA_NOTE_ID_CAPACITY) + ") bytes");
  }
}

void copyId(char* idOut, std::size_t idCap, const std::string& id) {
  if (idOut) copyWhole(idOut, idCap, id, "id_out");
}

hemma::mobile::VitalSigns fromC(const hemma_vitals& in) {
  using hemma::mobile::Consciousness;
  hemma::mobile::VitalSigns vitals;
  if (in.has_respiratory_rate) vitals.respiratoryRate = in.respiratory_rate;
  if (in.has_spo2) vitals.spo2 = in.spo2;
  if (in.has_on_oxygen) vitals.onOxygen = in.on_oxygen;
  if (in.has_systolic_bp) vitals.systolicBp = in.systolic_bp;
  if (in.has_pulse) vitals.pulse = in.pulse;
  // news2() rejects values outside the enumerators, naming the field.
  if (in.has_consciousness) vitals.consciousness = static_cast<Consciousness>(in.consciousness);
  if (in.has_temperature_c) vitals.temperatureC = in.temperature_c;
  return vitals;
}

hemma_news2_result toC(const hemma::mobile::News2Result& result);

hemma_visit_list* visitList(std::vector<hemma::mobile::VisitView> visits) {
  auto list = std::make_unique<hemma_visit_list>();
  list->visits = std::move(visits);
  for (const auto& view : list->visits) {
    list->statuses.push_back(hemma::domain::Visit::Status_Name(view.visit.status()));
  }
  return list.release();
}

// One entry's text and score for hemma_history_entry.
template <typename Entry>
void describe(const Entry& e, HistoryEntryC& out) {
  if (e.has_note()) out.text = e.note().text();
  if (e.has_message()) out.text = e.message().text();
  if (e.has_task_outcome()) out.text = e.task_outcome().reason();
  if (e.has_medication_administration()) out.text = e.medication_administration().reason();
  if (e.has_proposed_change()) out.text = e.proposed_change().proposed_value();
  if (e.has_vital_signs() && e.vital_signs().has_news2_score()) out.news2Score = e.vital_signs().news2_score();
}

// One line of what a refused operation records.
std::string summaryOf(const hemma::sync::Operation& op) {
  const std::string where = op.entity_type() + "/" + op.entity_id();
  if (op.has_write()) return "field " + where + "." + op.write().field() + " = " + op.write().value();
  if (op.has_set_add()) return "add " + op.set_add().element() + " to " + where + "." + op.set_add().set();
  if (op.has_set_remove())
    return "remove " + op.set_remove().element() + " from " + where + "." + op.set_remove().set();
  HistoryEntryC text;
  describe(op.append(), text);
  return op.entity_type() + (text.text.empty() ? "" : ": " + text.text);
}

std::string kindOf(const hemma::api::TimelineEntry& e) {
  if (e.has_note()) return "visit_note";
  if (e.has_observation()) return "observation";
  if (e.has_vital_signs()) return "vital_signs";
  if (e.has_task_outcome()) return "task_outcome";
  if (e.has_medication_administration()) return "medication_administration";
  if (e.has_message()) return "message";
  if (e.has_proposed_change()) return "proposed_change";
  return "";
}

std::string visitOf(const hemma::api::TimelineEntry& e) {
  if (e.has_note()) return e.note().visit_id();
  if (e.has_observation()) return e.observation().visit_id();
  if (e.has_vital_signs()) return e.vital_signs().visit_id();
  if (e.has_task_outcome()) return e.task_outcome().visit_id();
  if (e.has_medication_administration()) return e.medication_administration().visit_id();
  return "";
}

}  // namespace

extern "C" {

hemma_status hemma_device_open(const char* db_path, const char* server_url, hemma_device** out, hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(out, "out");
    requireArg(db_path, "db_path");
    requireArg(server_url, "server_url");
    *out = new hemma_device(db_path, server_url);
  });
}

void hemma_device_close(hemma_device* dev) { delete dev; }

hemma_status hemma_device_sign_in(hemma_device* dev, const char* username, const char* password, const char* device_id,
                                  hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(username, "username");
    requireArg(password, "password");
    requireArg(device_id, "device_id");
    dev->device.signIn(dev->link, username, password, device_id);
  });
}

hemma_status hemma_note_write(hemma_device* dev, const char* patient_id, const char* visit_id, const char* text,
                              const char* amends_note_id, char* note_id_out, size_t note_id_cap, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(text, "text");
    // Checked before writing: a note stored but reported as failed would be
    // written twice by a host that retries.
    if (note_id_out && note_id_cap < HEMMA_NOTE_ID_CAPACITY) {
      throw std::invalid_argument("note_id_out: buffer too small: needs HEMMA_NOTE_ID_CAPACITY (" +
                                  std::to_string(HEMMA_NOTE_ID_CAPACITY) + ") bytes");
    }
    const auto note = dev->device.writeNote(patient_id, optionalText(visit_id), text, optionalText(amends_note_id));
    if (note_id_out) copyWhole(note_id_out, note_id_cap, note.id(), "note_id_out");
  });
}

hemma_status hemma_notes_list(hemma_device* dev, const char* patient_id, hemma_note_list** out, hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(out, "out");
    auto list = std::make_unique<hemma_note_list>();
    list->notes = dev->device.notes(optionalText(patient_id));
    *out = list.release();
  });
}

size_t hemma_note_list_count(const hemma_note_list* list) { return list ? list->notes.size() : 0; }

bool hemma_note_list_get(const hemma_note_list* list, size_t index, hemma_note* out) {
  if (!list || !out || index >= list->notes.size()) return false;
  const auto& note = list->notes[index];
  out->id = note.id().c_str();
  out->patient_id = note.patient_id().c_str();
  out->visit_id = note.visit_id().c_str();
  out->author_id = note.author_id().c_str();
  out->text = note.text().c_str();
  out->written_at = note.written_at().c_str();
  out->amends_note_id = note.amends_note_id().c_str();
  return true;
}

void hemma_note_list_free(hemma_note_list* list) { delete list; }

hemma_status hemma_field_write(hemma_device* dev, const char* patient_id, const char* entity_type,
                               const char* entity_id, const char* field, const char* value, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(entity_type, "entity_type");
    requireArg(entity_id, "entity_id");
    requireArg(field, "field");
    requireArg(value, "value");
    dev->device.writeField(patient_id, entity_type, entity_id, field, value);
  });
}

hemma_status hemma_field_get(hemma_device* dev, const char* patient_id, const char* entity_type, const char* entity_id,
                             const char* field, char* value_out, size_t value_cap, bool* found_out, bool* merged_out,
                             hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(entity_type, "entity_type");
    requireArg(entity_id, "entity_id");
    requireArg(field, "field");
    requireArg(value_out, "value_out");
    requireArg(found_out, "found_out");
    const auto current = dev->device.field(patient_id, entity_type, entity_id, field);
    copyWhole(value_out, value_cap, current ? std::string_view(current->value) : std::string_view(), "value_out");
    *found_out = current.has_value();
    if (merged_out) *merged_out = current && current->merged;
  });
}

hemma_status hemma_sync_run(hemma_device* dev, hemma_sync_report* out, hemma_error* err) {
  hemma::mobile::SyncReport report;
  const hemma_status status = guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(out, "out");
    dev->link.forget();
    report = dev->device.sync(dev->link);
    out->ok = report.ok;
    out->pushed = report.pushed;
    out->duplicates = report.duplicates;
    out->rejected = report.rejected;
    out->pulled = report.pulled;
    out->attempts = report.attempts;
  });
  if (status != HEMMA_OK || report.ok) return status;
  // The sync client only gives up on a transport or server failure, which
  // the link recorded; anything else would be a bug.
  const int code = dev->link.failure() != HEMMA_OK ? dev->link.failure() : HEMMA_ERR_INTERNAL;
  return fail(err, code, report.error, dev->link.httpStatus());
}

hemma_status hemma_status_get(hemma_device* dev, hemma_sync_status* out, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(out, "out");
    const auto status = dev->device.status();
    hemma_sync_status result{};
    result.pending = status.pending;
    result.rejected = status.rejected;
    result.failed_syncs = status.failedSyncs;
    copyStored(result.last_success, sizeof result.last_success, status.lastSuccess, "last_success");
    copyCut(result.last_error, sizeof result.last_error, status.lastError);
    copyStored(result.device_id, sizeof result.device_id, status.deviceId, "device_id");
    copyStored(result.user_id, sizeof result.user_id, status.userId, "user_id");
    *out = result;
  });
}

hemma_status hemma_news2_compute(const hemma_vitals* in, int spo2_scale, hemma_news2_result* out, hemma_error* err) {
  using namespace hemma::mobile;
  return guarded(err, [&] {
    requireArg(in, "in");
    requireArg(out, "out");
    if (spo2_scale != HEMMA_SPO2_SCALE_1 && spo2_scale != HEMMA_SPO2_SCALE_2) {
      throw std::invalid_argument("spo2_scale: " + std::to_string(spo2_scale) +
                                  " is neither HEMMA_SPO2_SCALE_1 nor HEMMA_SPO2_SCALE_2");
    }
    const News2Result result =
        news2(fromC(*in), spo2_scale == HEMMA_SPO2_SCALE_1 ? Spo2Scale::Scale1 : Spo2Scale::Scale2);
    *out = toC(result);
  });
}

hemma_status hemma_device_unlock(hemma_device* dev, const char* username, const char* password, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(username, "username");
    requireArg(password, "password");
    dev->device.unlock(username, password);
  });
}

hemma_status hemma_visits_list(hemma_device* dev, const char* day, hemma_visit_list** out, hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(out, "out");
    *out = visitList(dev->device.visits(optionalText(day)));
  });
}

hemma_status hemma_visit_get(hemma_device* dev, const char* visit_id, hemma_visit_list** out, hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(visit_id, "visit_id");
    requireArg(out, "out");
    *out = visitList({dev->device.visit(visit_id)});
  });
}

size_t hemma_visit_list_count(const hemma_visit_list* list) { return list ? list->visits.size() : 0; }

bool hemma_visit_list_get(const hemma_visit_list* list, size_t index, hemma_visit* out) {
  if (!list || !out || index >= list->visits.size()) return false;
  const auto& view = list->visits[index];
  const auto& v = view.visit;
  out->id = v.id().c_str();
  out->patient_id = v.patient_id().c_str();
  out->patient_name = view.patientName.c_str();
  out->address = view.address.c_str();
  out->access_notes = view.accessNotes.c_str();
  out->status = list->statuses[index].c_str();
  out->scheduled_start = v.scheduled_start().c_str();
  out->started_at = v.started_at().c_str();
  out->ended_at = v.ended_at().c_str();
  out->activity_id = v.activity_id().c_str();
  out->activity_text = view.activityText.c_str();
  out->checklist_count = view.checklist.size();
  return true;
}

bool hemma_visit_list_checklist_get(const hemma_visit_list* list, size_t visit_index, size_t item_index,
                                    hemma_checklist_item* out) {
  if (!list || !out || visit_index >= list->visits.size()) return false;
  const auto& checklist = list->visits[visit_index].checklist;
  if (item_index >= checklist.size()) return false;
  const auto& item = checklist[item_index];
  out->activity_id = item.activityId.c_str();
  out->text = item.text.c_str();
  out->frequency = item.frequency.c_str();
  out->responsible_role = item.responsibleRole.c_str();
  out->outcome = item.outcome ? static_cast<int>(item.outcome->outcome()) : HEMMA_OUTCOME_NONE;
  out->reason = item.outcome ? item.outcome->reason().c_str() : "";
  out->recorded_at = item.outcome ? item.outcome->recorded_at().c_str() : "";
  return true;
}

void hemma_visit_list_free(hemma_visit_list* list) { delete list; }

hemma_status hemma_visit_start(hemma_device* dev, const char* visit_id, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(visit_id, "visit_id");
    dev->device.startVisit(visit_id);
  });
}

hemma_status hemma_visit_end(hemma_device* dev, const char* visit_id, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(visit_id, "visit_id");
    dev->device.endVisit(visit_id);
  });
}

hemma_status hemma_task_record(hemma_device* dev, const char* visit_id, const char* activity_id, int outcome,
                               const char* reason, char* id_out, size_t id_cap, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(visit_id, "visit_id");
    requireArg(activity_id, "activity_id");
    requireIdBuffer(id_out, id_cap);
    if (outcome != HEMMA_OUTCOME_DONE && outcome != HEMMA_OUTCOME_NOT_DONE && outcome != HEMMA_OUTCOME_REFUSED) {
      throw std::invalid_argument("task_outcome.outcome: " + std::to_string(outcome) +
                                  " is not HEMMA_OUTCOME_DONE, _NOT_DONE or _REFUSED");
    }
    const auto t = dev->device.recordTaskOutcome(
        visit_id, activity_id, static_cast<hemma::domain::TaskOutcome::Outcome>(outcome), optionalText(reason));
    copyId(id_out, id_cap, t.id());
  });
}

hemma_status hemma_vitals_record(hemma_device* dev, const char* visit_id, const hemma_vitals* in,
                                 hemma_vitals_result* out, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(visit_id, "visit_id");
    requireArg(in, "in");
    requireArg(out, "out");
    const auto record = dev->device.recordVitalSigns(visit_id, fromC(*in));
    hemma_vitals_result result{};
    copyWhole(result.vitals_id, sizeof result.vitals_id, record.vitals.id(), "vitals_id");
    result.news2 = toC(record.news2);
    result.escalated = record.escalation.has_value();
    if (record.escalation)
      copyWhole(result.message_id, sizeof result.message_id, record.escalation->id(), "message_id");
    *out = result;
  });
}

hemma_status hemma_medication_record(hemma_device* dev, const char* visit_id, const char* medication_id, bool given,
                                     const char* reason, char* id_out, size_t id_cap, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(visit_id, "visit_id");
    requireArg(medication_id, "medication_id");
    requireIdBuffer(id_out, id_cap);
    copyId(id_out, id_cap, dev->device.recordMedication(visit_id, medication_id, given, optionalText(reason)).id());
  });
}

hemma_status hemma_change_propose(hemma_device* dev, const char* patient_id, const char* entity_type,
                                  const char* entity_id, const char* field, const char* value, const char* reason,
                                  char* id_out, size_t id_cap, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(entity_type, "entity_type");
    requireArg(entity_id, "entity_id");
    requireArg(field, "field");
    requireArg(value, "value");
    requireArg(reason, "reason");
    requireIdBuffer(id_out, id_cap);
    copyId(id_out, id_cap, dev->device.proposeChange(patient_id, entity_type, entity_id, field, value, reason).id());
  });
}

hemma_status hemma_message_send(hemma_device* dev, const char* patient_id, const char* text, const char* recipient_id,
                                const char* in_reply_to, char* id_out, size_t id_cap, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(text, "text");
    requireIdBuffer(id_out, id_cap);
    copyId(id_out, id_cap,
           dev->device.sendMessage(patient_id, text, optionalText(recipient_id), optionalText(in_reply_to)).id());
  });
}

hemma_status hemma_messages_list(hemma_device* dev, const char* patient_id, hemma_message_list** out,
                                 hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(out, "out");
    auto list = std::make_unique<hemma_message_list>();
    list->messages = dev->device.messages(patient_id);
    *out = list.release();
  });
}

size_t hemma_message_list_count(const hemma_message_list* list) { return list ? list->messages.size() : 0; }

bool hemma_message_list_get(const hemma_message_list* list, size_t index, hemma_message* out) {
  if (!list || !out || index >= list->messages.size()) return false;
  const auto& m = list->messages[index];
  out->id = m.id().c_str();
  out->patient_id = m.patient_id().c_str();
  out->author_id = m.author_id().c_str();
  out->recipient_id = m.recipient_id().c_str();
  out->text = m.text().c_str();
  out->sent_at = m.sent_at().c_str();
  out->in_reply_to = m.in_reply_to().c_str();
  out->urgent = m.urgent();
  out->has_vital_signs = m.has_vital_signs();
  out->news2_score = m.has_vital_signs() && m.vital_signs().has_news2_score() ? m.vital_signs().news2_score() : -1;
  return true;
}

void hemma_message_list_free(hemma_message_list* list) { delete list; }

hemma_status hemma_history_window_set(hemma_device* dev, int days, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    dev->device.setHistoryWindowDays(days);
  });
}

hemma_status hemma_history_get(hemma_device* dev, const char* patient_id, hemma_history** out, hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(out, "out");
    const auto h = dev->device.history(patient_id);
    auto result = std::make_unique<hemma_history>();
    result->summary = h.summarised;
    if (h.summarisedNews2) {
      result->summarisedNews2 = h.summarisedNews2->news2_score();
      result->summarisedNews2At = h.summarisedNews2->observed_at();
    }
    for (const auto& e : h.recent) {
      HistoryEntryC entry{e.id, e.kind, e.authorId, e.at, e.visitId, "", -1};
      describe(e.entry, entry);
      result->entries.push_back(std::move(entry));
    }
    *out = result.release();
  });
}

hemma_status hemma_history_fetch(hemma_device* dev, const char* patient_id, hemma_history** out, hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(patient_id, "patient_id");
    requireArg(out, "out");
    auto result = std::make_unique<hemma_history>();
    for (const auto& e : dev->device.fetchHistory(dev->link, patient_id)) {
      HistoryEntryC entry{e.operation_id(), kindOf(e), e.author_id(), e.recorded_at(), visitOf(e), "", -1};
      describe(e, entry);
      result->entries.push_back(std::move(entry));
    }
    *out = result.release();
  });
}

size_t hemma_history_summary_count(const hemma_history* history) { return history ? history->summary.size() : 0; }

bool hemma_history_summary_get(const hemma_history* history, size_t index, hemma_history_summary* out) {
  if (!history || !out || index >= history->summary.size()) return false;
  const auto& row = history->summary[index];
  out->kind = row.kind.c_str();
  out->count = row.count;
  out->oldest = row.oldest.c_str();
  out->newest = row.newest.c_str();
  return true;
}

int hemma_history_summarised_news2(const hemma_history* history, const char** observed_at_out) {
  if (observed_at_out) *observed_at_out = history ? history->summarisedNews2At.c_str() : "";
  return history ? history->summarisedNews2 : -1;
}

size_t hemma_history_entry_count(const hemma_history* history) { return history ? history->entries.size() : 0; }

bool hemma_history_entry_get(const hemma_history* history, size_t index, hemma_history_entry* out) {
  if (!history || !out || index >= history->entries.size()) return false;
  const auto& e = history->entries[index];
  out->id = e.id.c_str();
  out->kind = e.kind.c_str();
  out->author_id = e.authorId.c_str();
  out->at = e.at.c_str();
  out->visit_id = e.visitId.c_str();
  out->text = e.text.c_str();
  out->news2_score = e.news2Score;
  return true;
}

void hemma_history_free(hemma_history* history) { delete history; }

hemma_status hemma_rejections_list(hemma_device* dev, hemma_rejection_list** out, hemma_error* err) {
  if (out) *out = nullptr;
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(out, "out");
    auto list = std::make_unique<hemma_rejection_list>();
    for (const auto& r : dev->device.rejected()) {
      const auto& op = r.operation;
      list->rejections.push_back({op.id(), op.patient_id(), op.entity_type(), op.entity_id(),
                                  r.code == hemma::sync::OperationRejection::CODE_UNSPECIFIED
                                      ? std::string("REFUSED")
                                      : hemma::sync::OperationRejection::Code_Name(r.code),
                                  r.reason, r.rejectedAt, op.recorded_at(), op.author_id(), summaryOf(op)});
    }
    *out = list.release();
  });
}

size_t hemma_rejection_list_count(const hemma_rejection_list* list) { return list ? list->rejections.size() : 0; }

bool hemma_rejection_list_get(const hemma_rejection_list* list, size_t index, hemma_rejection* out) {
  if (!list || !out || index >= list->rejections.size()) return false;
  const auto& r = list->rejections[index];
  out->operation_id = r.operationId.c_str();
  out->patient_id = r.patientId.c_str();
  out->entity_type = r.entityType.c_str();
  out->entity_id = r.entityId.c_str();
  out->code = r.code.c_str();
  out->reason = r.reason.c_str();
  out->rejected_at = r.rejectedAt.c_str();
  out->recorded_at = r.recordedAt.c_str();
  out->author_id = r.authorId.c_str();
  out->summary = r.summary.c_str();
  return true;
}

void hemma_rejection_list_free(hemma_rejection_list* list) { delete list; }

hemma_status hemma_rejection_discard(hemma_device* dev, const char* operation_id, hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(operation_id, "operation_id");
    dev->device.discardRejected(operation_id);
  });
}

hemma_status hemma_rejection_retry(hemma_device* dev, const char* operation_id, char* new_id_out, size_t new_id_cap,
                                   hemma_error* err) {
  return guarded(err, [&] {
    requireArg(dev, "dev");
    requireArg(operation_id, "operation_id");
    requireIdBuffer(new_id_out, new_id_cap);
    const auto op = dev->device.retryRejected(operation_id);
    copyId(new_id_out, new_id_cap, op.id());
  });
}

}  // extern "C"

namespace {

hemma_news2_result toC(const hemma::mobile::News2Result& result) {
  hemma_news2_result c{};
  c.total = scoreOrMissing(result.total);
  c.risk = toC(result.risk);
  c.scores.respiratory_rate = scoreOrMissing(result.scores.respiratoryRate);
  c.scores.spo2 = scoreOrMissing(result.scores.spo2);
  c.scores.air_or_oxygen = scoreOrMissing(result.scores.airOrOxygen);
  c.scores.systolic_bp = scoreOrMissing(result.scores.systolicBp);
  c.scores.pulse = scoreOrMissing(result.scores.pulse);
  c.scores.consciousness = scoreOrMissing(result.scores.consciousness);
  c.scores.temperature = scoreOrMissing(result.scores.temperature);
  c.red_parameter = result.redParameter;
  c.escalate = result.escalate;
  return c;
}

}  // namespace
