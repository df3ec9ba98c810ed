/*
 * The C API from C: compiles hemma/hemma.h as C11 and drives it as a tablet
 * host would.
 *
 *   hemma_c_api_test              offline checks only
 *   hemma_c_api_test <server url> also signs in as nurse-karin (password
 *                                 "demo") against a demo-world server,
 *                                 writes a note and syncs it, then does a
 *                                 whole visit to patient-01 and syncs it,
 *                                 then has a note refused and settles it
 *
 * Exits 0 when every check passes; otherwise prints file:line of the first
 * failed check and exits 1.
 */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hemma/hemma.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* Checks that `call` returns `expected` and that `err` agrees, printing the
   error message when it does not. */
#define CHECK_STATUS(call, expected, err)                                                                      \
  do {                                                                                                         \
    const hemma_status status_ = (call);                                                                       \
    if (status_ != (expected) || (err).code != (expected)) {                                                   \
      fprintf(stderr, "%s:%d: %s returned %d (err.code %d, \"%s\"), expected %d\n", __FILE__, __LINE__, #call, \
              status_, (err).code, (err).message, (expected));                                                 \
      exit(1);                                                                                                 \
    }                                                                                                          \
  } while (0)

static char g_dir[256];

/* Registered with atexit, so a failed check cleans up too. */
static void remove_temp_dir(void) {
  DIR* dir = opendir(g_dir);
  if (!dir) return;
  struct dirent* entry;
  char path[512];
  while ((entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", g_dir, entry->d_name);
    unlink(path);
  }
  closedir(dir);
  rmdir(g_dir);
}

static void make_temp_dir(void) {
  const char* base = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/hemma-c-api-XXXXXX", base && *base ? base : "/tmp");
  CHECK(mkdtemp(g_dir) != NULL);
  CHECK(atexit(remove_temp_dir) == 0);
}

static void path_in_temp_dir(char* out, size_t cap, const char* name) {
  const int n = snprintf(out, cap, "%s/%s", g_dir, name);
  CHECK(n > 0 && (size_t)n < cap);
}

static hemma_vitals medium_risk_vitals(void) {
  hemma_vitals v;
  memset(&v, 0, sizeof v);
  v.has_respiratory_rate = true;
  v.respiratory_rate = 22;
  v.has_spo2 = true;
  v.spo2 = 95;
  v.has_on_oxygen = true;
  v.on_oxygen = false;
  v.has_systolic_bp = true;
  v.systolic_bp = 105;
  v.has_pulse = true;
  v.pulse = 95;
  v.has_consciousness = true;
  v.consciousness = HEMMA_CONSCIOUSNESS_ALERT;
  v.has_temperature_c = true;
  v.temperature_c = 38.4;
  return v;
}

static void test_null_handles_are_safe(void) {
  hemma_device_close(NULL);
  hemma_note_list_free(NULL);
  CHECK(hemma_note_list_count(NULL) == 0);
  hemma_note note;
  CHECK(!hemma_note_list_get(NULL, 0, &note));
  hemma_rejection_list_free(NULL);
  CHECK(hemma_rejection_list_count(NULL) == 0);
  hemma_rejection rejection;
  CHECK(!hemma_rejection_list_get(NULL, 0, &rejection));
}

/* Offline: nothing refused yet; settling an unknown id names it. */
static void test_rejections_offline(void) {
  hemma_error err;
  hemma_device* dev = NULL;
  char path[512];
  path_in_temp_dir(path, sizeof path, "rejections-offline.db");
  CHECK_STATUS(hemma_device_open(path, "http://127.0.0.1:9", &dev, &err), HEMMA_OK, err);

  hemma_rejection_list* list = (hemma_rejection_list*)&err; /* must be reset */
  CHECK_STATUS(hemma_rejections_list(dev, &list, &err), HEMMA_OK, err);
  CHECK(list != NULL);
  CHECK(hemma_rejection_list_count(list) == 0);
  hemma_rejection rejection;
  CHECK(!hemma_rejection_list_get(list, 0, &rejection));
  hemma_rejection_list_free(list);

  CHECK_STATUS(hemma_rejection_discard(dev, "tab:1:1", &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "operation_id: no rejected operation tab:1:1") != NULL);
  char new_id[HEMMA_NOTE_ID_CAPACITY];
  CHECK_STATUS(hemma_rejection_retry(dev, "tab:1:1", new_id, sizeof new_id, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "operation_id") != NULL);
  CHECK_STATUS(hemma_rejection_retry(dev, "tab:1:1", new_id, 8, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "buffer too small") != NULL);
  CHECK_STATUS(hemma_rejection_discard(dev, NULL, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(hemma_rejections_list(NULL, &list, NULL) == HEMMA_ERR_INVALID_ARGUMENT);
  CHECK(list == NULL);
  hemma_device_close(dev);
}

static void test_open_failures(void) {
  hemma_error err;
  hemma_device* dev = (hemma_device*)&err; /* must be reset to NULL */
  char path[512];
  path_in_temp_dir(path, sizeof path, "tablet.db");

  CHECK_STATUS(hemma_device_open(NULL, "http://127.0.0.1:9", &dev, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(dev == NULL);
  CHECK(strstr(err.message, "db_path") != NULL);

  CHECK_STATUS(hemma_device_open(path, "ftp://example.org", &dev, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(dev == NULL);
  CHECK(strstr(err.message, "server URL") != NULL);

  path_in_temp_dir(path, sizeof path, "no-such-dir/tablet.db");
  CHECK_STATUS(hemma_device_open(path, "http://127.0.0.1:9", &dev, &err), HEMMA_ERR_STORE, err);
  CHECK(dev == NULL);
  CHECK(err.message[0] != '\0');

  /* NULL err: the status alone. */
  CHECK(hemma_device_open(path, "http://127.0.0.1:9", &dev, NULL) == HEMMA_ERR_STORE);
  CHECK(hemma_device_open(path, "http://127.0.0.1:9", NULL, NULL) == HEMMA_ERR_INVALID_ARGUMENT);
}

static void test_offline_device(void) {
  hemma_error err;
  hemma_device* dev = NULL;
  char path[512];
  path_in_temp_dir(path, sizeof path, "offline.db");
  memset(&err, 'x', sizeof err);
  CHECK_STATUS(hemma_device_open(path, "http://127.0.0.1:9", &dev, &err), HEMMA_OK, err);
  CHECK(dev != NULL);
  CHECK(err.message[0] == '\0');
  CHECK(err.http_status == 0);

  hemma_sync_status status;
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.pending == 0);
  CHECK(status.rejected == 0);
  CHECK(status.device_id[0] == '\0');
  CHECK(status.user_id[0] == '\0');
  CHECK(status.last_success[0] == '\0');

  /* Writing needs a signed-in tablet. */
  char note_id[HEMMA_NOTE_ID_CAPACITY];
  CHECK_STATUS(hemma_note_write(dev, "patient-01", NULL, "Mår bra.", NULL, note_id, sizeof note_id, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "not enrolled") != NULL);
  CHECK(hemma_note_write(dev, "patient-01", NULL, "Mår bra.", NULL, NULL, 0, NULL) == HEMMA_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(hemma_field_write(dev, "patient-01", "patient", "patient-01", "access_notes", "Kod 1234", &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  hemma_sync_report report;
  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_ERR_INVALID_ARGUMENT, err);

  /* An id buffer too small is refused before anything is written. */
  char small[8];
  CHECK_STATUS(hemma_note_write(dev, "patient-01", NULL, "Mår bra.", NULL, small, sizeof small, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "buffer too small") != NULL);

  CHECK_STATUS(hemma_note_write(dev, NULL, NULL, "text", NULL, NULL, 0, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "patient_id") != NULL);

  /* A success after a failure clears the error. */
  hemma_note_list* notes = NULL;
  CHECK_STATUS(hemma_notes_list(dev, "patient-01", &notes, &err), HEMMA_OK, err);
  CHECK(err.message[0] == '\0');
  CHECK(hemma_note_list_count(notes) == 0);
  hemma_note note;
  CHECK(!hemma_note_list_get(notes, 0, &note));
  hemma_note_list_free(notes);

  char value[HEMMA_TEXT_CAPACITY];
  bool found = true;
  bool merged = true;
  CHECK_STATUS(hemma_field_get(dev, "patient-01", "patient", "patient-01", "address", value, sizeof value, &found,
                               &merged, &err),
               HEMMA_OK, err);
  CHECK(!found);
  CHECK(!merged);
  CHECK(value[0] == '\0');

  /* Signing in needs the server; nothing listens on port 9. */
  CHECK_STATUS(hemma_device_sign_in(dev, "nurse-karin", "demo", "c-api-tablet", &err), HEMMA_ERR_NETWORK, err);
  CHECK(err.message[0] != '\0');
  CHECK(err.http_status == 0);
  CHECK(hemma_device_sign_in(dev, "nurse-karin", "demo", "c-api-tablet", NULL) == HEMMA_ERR_NETWORK);
  CHECK_STATUS(hemma_device_sign_in(dev, "nurse-karin", "demo", NULL, &err), HEMMA_ERR_INVALID_ARGUMENT, err);

  /* The visit calls need a signed-in tablet too, and check their pointers. */
  CHECK_STATUS(hemma_device_unlock(dev, "nurse-karin", "demo", &err), HEMMA_ERR_UNLOCK, err);
  CHECK(strstr(err.message, "sign in online first") != NULL);
  hemma_visit_list* visits = NULL;
  CHECK_STATUS(hemma_visits_list(dev, NULL, &visits, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(visits == NULL);
  CHECK_STATUS(hemma_visit_start(dev, "patient-01-visit-1", &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK_STATUS(hemma_visit_end(dev, NULL, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "visit_id") != NULL);
  CHECK_STATUS(hemma_task_record(dev, "v", "a", 7, "x", NULL, 0, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "task_outcome.outcome") != NULL);
  char small_id[8];
  CHECK_STATUS(hemma_message_send(dev, "patient-01", "Hej", NULL, NULL, small_id, sizeof small_id, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "buffer too small") != NULL);
  CHECK_STATUS(hemma_history_window_set(dev, 0, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "history_window_days") != NULL);
  CHECK_STATUS(hemma_history_window_set(dev, 60, &err), HEMMA_OK, err);
  hemma_history* history = NULL;
  CHECK_STATUS(hemma_history_get(dev, "patient-01", &history, &err), HEMMA_OK, err);
  CHECK(hemma_history_entry_count(history) == 0);
  CHECK(hemma_history_summary_count(history) == 0);
  const char* at = NULL;
  CHECK(hemma_history_summarised_news2(history, &at) == -1);
  CHECK(at != NULL && at[0] == '\0');
  hemma_history_free(history);
  hemma_message_list* messages = NULL;
  CHECK_STATUS(hemma_messages_list(dev, "patient-01", &messages, &err), HEMMA_OK, err);
  CHECK(hemma_message_list_count(messages) == 0);
  hemma_message_list_free(messages);
  CHECK(hemma_visit_list_count(NULL) == 0);
  hemma_visit_list_free(NULL);
  hemma_message_list_free(NULL);
  hemma_history_free(NULL);

  hemma_device_close(dev);
}

static void test_news2(void) {
  hemma_error err;
  hemma_news2_result result;
  hemma_vitals vitals = medium_risk_vitals();

  CHECK_STATUS(hemma_news2_compute(&vitals, HEMMA_SPO2_SCALE_1, &result, &err), HEMMA_OK, err);
  CHECK(result.total == 6);
  CHECK(result.risk == HEMMA_RISK_MEDIUM);
  CHECK(result.scores.respiratory_rate == 2);
  CHECK(result.scores.spo2 == 1);
  CHECK(result.scores.air_or_oxygen == 0);
  CHECK(result.scores.systolic_bp == 1);
  CHECK(result.scores.pulse == 1);
  CHECK(result.scores.consciousness == 0);
  CHECK(result.scores.temperature == 1);
  CHECK(!result.red_parameter);
  CHECK(result.escalate);

  /* A missing input: not evaluated, never 0; what is known still counts. */
  vitals.has_pulse = false;
  CHECK(hemma_news2_compute(&vitals, HEMMA_SPO2_SCALE_1, &result, NULL) == HEMMA_OK);
  CHECK(result.total == -1);
  CHECK(result.risk == HEMMA_RISK_NOT_EVALUATED);
  CHECK(result.scores.pulse == -1);
  CHECK(result.scores.respiratory_rate == 2);
  CHECK(result.escalate); /* 5 from the rest already */

  /* A red parameter alone. */
  vitals = medium_risk_vitals();
  vitals.respiratory_rate = 16;
  vitals.systolic_bp = 120;
  vitals.pulse = 70;
  vitals.temperature_c = 37.0;
  vitals.spo2 = 97;
  vitals.consciousness = HEMMA_CONSCIOUSNESS_CONFUSION;
  CHECK_STATUS(hemma_news2_compute(&vitals, HEMMA_SPO2_SCALE_1, &result, &err), HEMMA_OK, err);
  CHECK(result.total == 3);
  CHECK(result.risk == HEMMA_RISK_LOW_MEDIUM);
  CHECK(result.red_parameter);
  CHECK(result.escalate);

  /* Out of range: refused, naming the field; the result is untouched. */
  vitals = medium_risk_vitals();
  vitals.spo2 = 104;
  result.total = 42;
  CHECK_STATUS(hemma_news2_compute(&vitals, HEMMA_SPO2_SCALE_1, &result, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "vitals.spo2") != NULL);
  CHECK(result.total == 42);
  vitals = medium_risk_vitals();
  vitals.consciousness = 7;
  CHECK_STATUS(hemma_news2_compute(&vitals, HEMMA_SPO2_SCALE_1, &result, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "consciousness") != NULL);
  vitals = medium_risk_vitals();
  CHECK_STATUS(hemma_news2_compute(&vitals, 0, &result, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "spo2_scale") != NULL);
  CHECK(hemma_news2_compute(NULL, HEMMA_SPO2_SCALE_1, &result, NULL) == HEMMA_ERR_INVALID_ARGUMENT);
}

static void test_against_server(const char* url) {
  hemma_error err;
  hemma_device* dev = NULL;
  char path[512];
  path_in_temp_dir(path, sizeof path, "online.db");
  CHECK_STATUS(hemma_device_open(path, url, &dev, &err), HEMMA_OK, err);

  CHECK_STATUS(hemma_device_sign_in(dev, "nurse-karin", "wrong", "c-api-tablet", &err), HEMMA_ERR_SERVER, err);
  CHECK(err.http_status == 401);
  CHECK(strstr(err.message, "401") != NULL);
  CHECK_STATUS(hemma_device_sign_in(dev, "nurse-karin", "demo", "c-api-tablet", &err), HEMMA_OK, err);
  CHECK(err.http_status == 0);

  char note_id[HEMMA_NOTE_ID_CAPACITY];
  const char* text = "Blodtryck 130/80. Mår bra, åt frukost.";
  /* Before the first sync the tablet holds no visit: a note of no visit
     (one linked to a visit needs the visit started there). */
  CHECK_STATUS(hemma_note_write(dev, "patient-01", "", text, NULL, note_id, sizeof note_id, &err), HEMMA_OK, err);
  CHECK(strncmp(note_id, "c-api-tablet:", strlen("c-api-tablet:")) == 0);

  hemma_sync_status status;
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.pending == 1);
  CHECK(strcmp(status.device_id, "c-api-tablet") == 0);
  CHECK(strcmp(status.user_id, "nurse-karin") == 0);

  hemma_sync_report report;
  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_OK, err);
  CHECK(report.ok);
  CHECK(report.pushed == 1);
  CHECK(report.rejected == 0);
  CHECK(report.attempts == 1);
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.pending == 0);
  CHECK(status.last_success[0] != '\0');
  CHECK(status.last_error[0] == '\0');

  hemma_note_list* notes = NULL;
  CHECK_STATUS(hemma_notes_list(dev, "patient-01", &notes, &err), HEMMA_OK, err);
  bool seen = false;
  for (size_t i = 0; i < hemma_note_list_count(notes); ++i) {
    hemma_note note;
    CHECK(hemma_note_list_get(notes, i, &note));
    if (strcmp(note.id, note_id) != 0) continue;
    seen = true;
    CHECK(strcmp(note.text, text) == 0);
    CHECK(strcmp(note.author_id, "nurse-karin") == 0);
    CHECK(strcmp(note.visit_id, "") == 0);
    CHECK(strcmp(note.amends_note_id, "") == 0);
  }
  CHECK(seen);
  hemma_note_list_free(notes);

  const char* access = "Nyckel i nyckelskåpet, kod 4711";
  CHECK_STATUS(hemma_field_write(dev, "patient-01", "patient", "patient-01", "access_notes", access, &err), HEMMA_OK,
               err);
  char value[HEMMA_TEXT_CAPACITY];
  bool found = false;
  CHECK_STATUS(hemma_field_get(dev, "patient-01", "patient", "patient-01", "access_notes", value, sizeof value, &found,
                               NULL, &err),
               HEMMA_OK, err);
  CHECK(found);
  CHECK(strcmp(value, access) == 0);
  char tiny[4];
  CHECK_STATUS(hemma_field_get(dev, "patient-01", "patient", "patient-01", "access_notes", tiny, sizeof tiny, &found,
                               NULL, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "buffer too small") != NULL);
  CHECK_STATUS(hemma_field_write(dev, "patient-01", "patient", "patient-01", "shoe_size", "42", &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "merge rule") != NULL);

  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_OK, err);
  CHECK(report.pushed == 1);
  CHECK(report.rejected == 0);
  hemma_device_close(dev);

  /* The same tablet with the server out of reach: the run fails with
     NETWORK after its retries and the status says why. */
  CHECK_STATUS(hemma_device_open(path, "http://127.0.0.1:9", &dev, &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_note_write(dev, "patient-01", NULL, "Skrivet utan nät.", note_id, NULL, 0, &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_ERR_NETWORK, err);
  CHECK(!report.ok);
  CHECK(report.attempts == 3);
  CHECK(err.message[0] != '\0');
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.pending == 1);
  CHECK(status.failed_syncs == 1);
  CHECK(status.last_error[0] != '\0');
  hemma_device_close(dev);
}

/* A note the server refuses (no care relationship with the patient): the
   run completes, the status names the refusal, the list shows it with its
   reason until it is sent again (refused again, under a new id) and then
   discarded. */
static void test_rejection_against_server(const char* url) {
  hemma_error err;
  hemma_device* dev = NULL;
  char path[512];
  path_in_temp_dir(path, sizeof path, "rejections-online.db");
  CHECK_STATUS(hemma_device_open(path, url, &dev, &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_device_sign_in(dev, "nurse-karin", "demo", "c-api-refused-tablet", &err), HEMMA_OK, err);

  char note_id[HEMMA_NOTE_ID_CAPACITY];
  CHECK_STATUS(hemma_note_write(dev, "patient-02", NULL, "Fel patient.", NULL, note_id, sizeof note_id, &err), HEMMA_OK,
               err);
  /* "<device id>:<registration>:<counter>": this registration is the first. */
  CHECK(strcmp(note_id, "c-api-refused-tablet:1:1") == 0);

  hemma_sync_report report;
  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_OK, err);
  CHECK(report.ok);
  CHECK(report.rejected == 1);
  hemma_sync_status status;
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.rejected == 1);
  CHECK(status.pending == 0);
  CHECK(strstr(status.last_error, "1 operation(s) refused by the server") != NULL);
  CHECK(strstr(status.last_error, note_id) != NULL);

  hemma_rejection_list* list = NULL;
  CHECK_STATUS(hemma_rejections_list(dev, &list, &err), HEMMA_OK, err);
  CHECK(hemma_rejection_list_count(list) == 1);
  hemma_rejection r;
  CHECK(hemma_rejection_list_get(list, 0, &r));
  CHECK(strcmp(r.operation_id, note_id) == 0);
  CHECK(strcmp(r.patient_id, "patient-02") == 0);
  CHECK(strcmp(r.entity_type, "visit_note") == 0);
  CHECK(strcmp(r.code, "FORBIDDEN") == 0);
  CHECK(strstr(r.reason, "no care relationship") != NULL);
  CHECK(strcmp(r.author_id, "nurse-karin") == 0);
  CHECK(strstr(r.summary, "Fel patient.") != NULL);
  CHECK(r.rejected_at[0] != '\0');
  hemma_rejection_list_free(list);

  /* Sent again: a new id, queued; the server refuses it again. */
  char new_id[HEMMA_NOTE_ID_CAPACITY];
  CHECK_STATUS(hemma_rejection_retry(dev, note_id, new_id, sizeof new_id, &err), HEMMA_OK, err);
  CHECK(strcmp(new_id, "c-api-refused-tablet:1:2") == 0);
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.rejected == 0);
  CHECK(status.pending == 1);
  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_OK, err);
  CHECK(report.rejected == 1);
  CHECK_STATUS(hemma_rejections_list(dev, &list, &err), HEMMA_OK, err);
  CHECK(hemma_rejection_list_count(list) == 1);
  CHECK(hemma_rejection_list_get(list, 0, &r));
  CHECK(strcmp(r.operation_id, new_id) == 0);
  hemma_rejection_list_free(list);

  /* Discarded by the nurse: gone from the list and from the status. */
  CHECK_STATUS(hemma_rejection_discard(dev, new_id, &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_rejections_list(dev, &list, &err), HEMMA_OK, err);
  CHECK(hemma_rejection_list_count(list) == 0);
  hemma_rejection_list_free(list);
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.rejected == 0);
  CHECK(status.last_error[0] == '\0');
  CHECK_STATUS(hemma_rejection_discard(dev, new_id, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  hemma_device_close(dev);
}

/* A whole visit from C: signed in online once, then everything offline
   until the final sync. */
static void test_visit_against_server(const char* url) {
  hemma_error err;
  hemma_device* dev = NULL;
  char path[512];
  path_in_temp_dir(path, sizeof path, "visit.db");
  CHECK_STATUS(hemma_device_open(path, url, &dev, &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_device_sign_in(dev, "nurse-karin", "demo", "c-api-visit-tablet", &err), HEMMA_OK, err);
  hemma_sync_report report;
  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_OK, err);
  CHECK(report.pulled > 0);
  hemma_device_close(dev);

  /* Offline from here: nothing listens on port 9. */
  CHECK_STATUS(hemma_device_open(path, "http://127.0.0.1:9", &dev, &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_device_unlock(dev, "nurse-karin", "wrong", &err), HEMMA_ERR_UNLOCK, err);
  CHECK(strstr(err.message, "wrong username or password") != NULL);
  CHECK_STATUS(hemma_device_unlock(dev, "nurse-karin", "demo", &err), HEMMA_OK, err);

  hemma_visit_list* visits = NULL;
  CHECK_STATUS(hemma_visits_list(dev, NULL, &visits, &err), HEMMA_OK, err);
  size_t index = hemma_visit_list_count(visits);
  for (size_t i = 0; i < hemma_visit_list_count(visits); ++i) {
    hemma_visit v;
    CHECK(hemma_visit_list_get(visits, i, &v));
    if (strcmp(v.id, "patient-01-visit-1") == 0) index = i;
  }
  CHECK(index < hemma_visit_list_count(visits));
  hemma_visit visit;
  CHECK(hemma_visit_list_get(visits, index, &visit));
  CHECK(strcmp(visit.patient_id, "patient-01") == 0);
  CHECK(visit.patient_name[0] != '\0');
  CHECK(visit.address[0] != '\0');
  CHECK(visit.access_notes[0] != '\0');
  CHECK(strcmp(visit.status, "PLANNED") == 0);
  CHECK(visit.started_at[0] == '\0');
  CHECK(visit.checklist_count >= 2);
  hemma_checklist_item item;
  CHECK(hemma_visit_list_checklist_get(visits, index, 0, &item));
  CHECK(strcmp(item.activity_id, "patient-01-act-1") == 0);
  CHECK(item.outcome == HEMMA_OUTCOME_NONE);
  CHECK(!hemma_visit_list_checklist_get(visits, index, visit.checklist_count, &item));
  hemma_visit_list_free(visits);
  CHECK_STATUS(hemma_visits_list(dev, "22-11-2026", &visits, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "date") != NULL);

  CHECK_STATUS(hemma_visit_end(dev, "patient-01-visit-1", &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "not started") != NULL);
  CHECK_STATUS(hemma_visit_start(dev, "patient-01-visit-1", &err), HEMMA_OK, err);

  char id[HEMMA_NOTE_ID_CAPACITY];
  CHECK_STATUS(hemma_task_record(dev, "patient-01-visit-1", "patient-01-act-1", HEMMA_OUTCOME_REFUSED, NULL, id,
                                 sizeof id, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "task_outcome.reason") != NULL);
  CHECK_STATUS(hemma_task_record(dev, "patient-01-visit-1", "patient-01-act-1", HEMMA_OUTCOME_REFUSED,
                                 "Vill ta dem efter frukost", id, sizeof id, &err),
               HEMMA_OK, err);
  CHECK(strncmp(id, "c-api-visit-tablet:", strlen("c-api-visit-tablet:")) == 0);

  hemma_vitals vitals = medium_risk_vitals();
  vitals.respiratory_rate = 25; /* scores 3 */
  hemma_vitals_result vr;
  CHECK_STATUS(hemma_vitals_record(dev, "patient-01-visit-1", &vitals, &vr, &err), HEMMA_OK, err);
  CHECK(vr.escalated);
  CHECK(vr.news2.total >= 5);
  CHECK(vr.news2.red_parameter);
  CHECK(vr.vitals_id[0] != '\0');
  CHECK(vr.message_id[0] != '\0');
  hemma_vitals normal = medium_risk_vitals();
  normal.respiratory_rate = 16;
  normal.spo2 = 97;
  normal.pulse = 70;
  normal.temperature_c = 36.8;
  normal.systolic_bp = 125;
  CHECK_STATUS(hemma_vitals_record(dev, "patient-01-visit-1", &normal, &vr, &err), HEMMA_OK, err);
  CHECK(!vr.escalated);
  CHECK(vr.message_id[0] == '\0');
  hemma_vitals bad = normal;
  bad.spo2 = 104;
  CHECK_STATUS(hemma_vitals_record(dev, "patient-01-visit-1", &bad, &vr, &err), HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "spo2") != NULL);

  /* The medication of the plan (written here when the demo has none). */
  char dose[HEMMA_TEXT_CAPACITY];
  bool found = false;
  CHECK_STATUS(hemma_field_get(dev, "patient-01", "medication", "patient-01-med-1", "dose", dose, sizeof dose, &found,
                               NULL, &err),
               HEMMA_OK, err);
  if (!found) {
    CHECK_STATUS(hemma_field_write(dev, "patient-01", "medication", "patient-01-med-1", "dose", "50 mg", &err),
                 HEMMA_OK, err);
  }
  CHECK_STATUS(hemma_medication_record(dev, "patient-01-visit-1", "patient-01-med-1", true, NULL, id, sizeof id, &err),
               HEMMA_OK, err);
  CHECK_STATUS(hemma_medication_record(dev, "patient-01-visit-1", "patient-01-med-1", false, NULL, NULL, 0, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "reason") != NULL);
  CHECK_STATUS(hemma_medication_record(dev, "patient-01-visit-1", "no-such-med", true, NULL, NULL, 0, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "medication_id") != NULL);

  CHECK_STATUS(hemma_change_propose(dev, "patient-01", "care_plan_activity", "patient-01-act-2", "frequency",
                                    "twice daily", "NEWS2 rising", id, sizeof id, &err),
               HEMMA_OK, err);
  CHECK_STATUS(hemma_change_propose(dev, "patient-01", "care_plan_activity", "patient-01-act-2", "frequency",
                                    "twice daily", "", id, sizeof id, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK_STATUS(hemma_message_send(dev, "patient-01", "Ring mig om andningen", NULL, NULL, id, sizeof id, &err),
               HEMMA_OK, err);
  CHECK_STATUS(hemma_message_send(dev, "patient-01", "Svar", NULL, "no-such-message", NULL, 0, &err),
               HEMMA_ERR_INVALID_ARGUMENT, err);
  CHECK(strstr(err.message, "in_reply_to") != NULL);

  hemma_message_list* messages = NULL;
  CHECK_STATUS(hemma_messages_list(dev, "patient-01", &messages, &err), HEMMA_OK, err);
  CHECK(hemma_message_list_count(messages) == 2);
  hemma_message m;
  CHECK(hemma_message_list_get(messages, 0, &m));
  CHECK(m.urgent);
  CHECK(m.has_vital_signs);
  CHECK(m.news2_score >= 5);
  CHECK(m.recipient_id[0] == '\0');
  CHECK(strstr(m.text, "NEWS2") != NULL);
  CHECK(hemma_message_list_get(messages, 1, &m));
  CHECK(!m.urgent);
  CHECK(strcmp(m.id, id) == 0);
  CHECK(!hemma_message_list_get(messages, 2, &m));
  hemma_message_list_free(messages);

  CHECK_STATUS(hemma_visit_end(dev, "patient-01-visit-1", &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_visit_get(dev, "patient-01-visit-1", &visits, &err), HEMMA_OK, err);
  CHECK(hemma_visit_list_get(visits, 0, &visit));
  CHECK(strcmp(visit.status, "DONE") == 0);
  CHECK(visit.started_at[0] != '\0' && visit.ended_at[0] != '\0');
  CHECK(hemma_visit_list_checklist_get(visits, 0, 0, &item));
  CHECK(item.outcome == HEMMA_OUTCOME_REFUSED);
  CHECK(strcmp(item.reason, "Vill ta dem efter frukost") == 0);
  hemma_visit_list_free(visits);

  hemma_history* history = NULL;
  CHECK_STATUS(hemma_history_get(dev, "patient-01", &history, &err), HEMMA_OK, err);
  CHECK(hemma_history_entry_count(history) >= 7);
  hemma_history_entry entry;
  bool seen_vitals = false;
  for (size_t i = 0; i < hemma_history_entry_count(history); ++i) {
    CHECK(hemma_history_entry_get(history, i, &entry));
    if (strcmp(entry.kind, "vital_signs") == 0 && entry.news2_score >= 5) seen_vitals = true;
  }
  CHECK(seen_vitals);
  hemma_history_free(history);

  hemma_sync_status status;
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.pending >= 11);
  hemma_device_close(dev);

  /* Back online. */
  CHECK_STATUS(hemma_device_open(path, url, &dev, &err), HEMMA_OK, err);
  CHECK_STATUS(hemma_sync_run(dev, &report, &err), HEMMA_OK, err);
  CHECK(report.pushed >= 11);
  CHECK_STATUS(hemma_status_get(dev, &status, &err), HEMMA_OK, err);
  CHECK(status.pending == 0);
  /* The tablet holds everything of the server's timeline it may read. */
  CHECK_STATUS(hemma_history_fetch(dev, "patient-01", &history, &err), HEMMA_OK, err);
  CHECK(hemma_history_summary_count(history) == 0);
  hemma_history_free(history);
  CHECK_STATUS(hemma_history_fetch(dev, "no-such-patient", &history, &err), HEMMA_ERR_SERVER, err);
  CHECK(history == NULL);
  hemma_device_close(dev);
}

int main(int argc, char** argv) {
  make_temp_dir();
  test_null_handles_are_safe();
  test_open_failures();
  test_offline_device();
  test_news2();
  test_rejections_offline();
  if (argc > 1) test_against_server(argv[1]);
  if (argc > 1) test_visit_against_server(argv[1]);
  if (argc > 1) test_rejection_against_server(argv[1]);
  printf("c_api_test: all checks passed%s\n", argc > 1 ? " (with the server)" : " (offline)");
  return 0;
}
