#ifndef HEMMA_HEMMA_H
#define HEMMA_HEMMA_H
/*
 * The tablet hosts' C API (Android through JNI, iOS through Swift) over the
 * C++ core in hemma/mobile/. Pure C11; design notes: mobile-core/docs/c-api.md.
 *
 * Errors. Every call that can fail returns a hemma_status (HEMMA_OK or one of
 * the HEMMA_ERR_* codes) and takes a `hemma_error* err` last, which may be
 * NULL when the caller only wants the code. On success err->code is HEMMA_OK
 * and err->message is ""; on failure err->message names the field and the
 * reason ("note.text: empty"). Messages are NUL-terminated UTF-8, cut at a
 * character boundary when longer than the buffer. No C++ exception ever
 * crosses this API.
 *
 * Strings. Every `const char*` argument is NUL-terminated UTF-8 and is only
 * read during the call. Arguments documented as optional may be NULL; any
 * other NULL pointer fails with HEMMA_ERR_INVALID_ARGUMENT.
 *
 * Output buffers. Ids and values are copied into caller buffers whole or not
 * at all: when one does not fit, the call fails with
 * HEMMA_ERR_INVALID_ARGUMENT ("... buffer too small: needs N bytes") and
 * never truncates. Only the human-readable texts (error messages,
 * hemma_sync_status.last_error) are cut to fit.
 *
 * Threads. A hemma_device is used by one thread at a time (the host
 * serialises calls); different devices on different databases may be used
 * on different threads. hemma_news2_compute may be called from any number of
 * threads at once. Never open one database file with two hemma_devices.
 */

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors ------------------------------------------------ */

typedef int hemma_status;

enum {
  HEMMA_OK = 0,
  /* A bad argument or a call out of order, e.g. writing before sign-in, an
     empty note text, a buffer too small, a device id another tablet owns. */
  HEMMA_ERR_INVALID_ARGUMENT = 1,
  /* The tablet's local database failed (SQLite: disk full, unreadable
     file...). Nothing was half-written. */
  HEMMA_ERR_STORE = 2,
  /* The server gave no answer: no network, connection refused, timeout, a
     lost response. The server may or may not have acted; retrying is safe. */
  HEMMA_ERR_NETWORK = 3,
  /* The server answered with an error (4xx/5xx); hemma_error.http_status
     holds the HTTP status, e.g. 401 for a wrong password. */
  HEMMA_ERR_SERVER = 4,
  /* Anything else (out of memory, a bug). */
  HEMMA_ERR_INTERNAL = 5,
  /* The offline unlock refused: wrong username or password, no online
     sign-in yet, or locked after too many wrong attempts (until the next
     online sign-in). */
  HEMMA_ERR_UNLOCK = 6
};

#define HEMMA_ERROR_MESSAGE_CAPACITY 512

typedef struct hemma_error {
  int code;        /* HEMMA_OK or a HEMMA_ERR_* code, as returned */
  int http_status; /* the server's HTTP status for HEMMA_ERR_SERVER, else 0 */
  char message[HEMMA_ERROR_MESSAGE_CAPACITY];
} hemma_error;

/* ---- Sizes ------------------------------------------------------------- */

/* Ids (patient, visit, device, user) are at most 128 bytes. */
#define HEMMA_ID_CAPACITY 129
/* Note and operation ids are "<device id>:<epoch>:<counter>" (at most 128
   bytes; older ones "<device id>:<counter>"). A buffer this large always
   fits one. */
#define HEMMA_NOTE_ID_CAPACITY 160
/* Field values and note texts are at most 64 KiB. */
#define HEMMA_TEXT_CAPACITY (64 * 1024 + 1)

/* ---- The device -------------------------------------------------------- */

/* One tablet: its local database, its clock and its link to the server.
   Opaque; owned by the caller from hemma_device_open until
   hemma_device_close. */
typedef struct hemma_device hemma_device;

/* Opens (or creates) the tablet database at `db_path` and prepares the link
   to `server_url` ("http://host:port"); no network is used yet. On success
   *out is a new device the caller must close; on failure *out is NULL.
   Fails with HEMMA_ERR_INVALID_ARGUMENT for a malformed URL and
   HEMMA_ERR_STORE when the database cannot be opened. */
hemma_status hemma_device_open(const char* db_path, const char* server_url, hemma_device** out, hemma_error* err);

/* Closes the database and frees the device. NULL is allowed and does
   nothing. */
void hemma_device_close(hemma_device* dev);

/* Signs in online, once per tablet: logs `username` in and registers this
   tablet as `device_id` (at most 128 bytes, no ':'). Afterwards the tablet
   works offline; every later sync uses the device's own token. Signing in
   again with the same user and device id is harmless.
   Fails with HEMMA_ERR_NETWORK when the server is unreachable,
   HEMMA_ERR_SERVER (http_status 401) for a wrong username or password, and
   HEMMA_ERR_INVALID_ARGUMENT when this database belongs to another device
   or user. */
hemma_status hemma_device_sign_in(hemma_device* dev, const char* username, const char* password, const char* device_id,
                                  hemma_error* err);

/* Unlocks the tablet offline with the password of the last online sign-in,
   checked against a salted PBKDF2 hash stored then. Fails with
   HEMMA_ERR_UNLOCK for a wrong username or password (the message says how
   many attempts are left), before any sign-in, and after 5 wrong attempts in
   a row (locked until hemma_device_sign_in succeeds again). The host gates
   its screens on it; the other calls do not check it. */
hemma_status hemma_device_unlock(hemma_device* dev, const char* username, const char* password, hemma_error* err);

/* ---- Visit notes ------------------------------------------------------- */

/* Records a visit note offline: stored and queued for the server in one
   transaction. `visit_id` and `amends_note_id` (an earlier note this one
   corrects) are optional (NULL or ""). When `note_id_out` is not NULL the
   new note's id is copied there; `note_id_cap` must then be at least
   HEMMA_NOTE_ID_CAPACITY, checked before anything is written.
   Precondition: signed in, else HEMMA_ERR_INVALID_ARGUMENT. */
hemma_status hemma_note_write(hemma_device* dev, const char* patient_id, const char* visit_id, const char* text,
                              const char* amends_note_id, char* note_id_out, size_t note_id_cap, hemma_error* err);

/* One note. The strings belong to the list it came from and stay valid
   until hemma_note_list_free. */
typedef struct hemma_note {
  const char* id;
  const char* patient_id;
  const char* visit_id; /* "" if none */
  const char* author_id;
  const char* text;
  const char* written_at;     /* RFC 3339, the author's device time */
  const char* amends_note_id; /* "" if none */
} hemma_note;

/* A snapshot of notes, owned by the caller until hemma_note_list_free. It
   does not change when the device writes or syncs later. */
typedef struct hemma_note_list hemma_note_list;

/* The notes of `patient_id` on this tablet (all patients' if NULL or ""),
   oldest first (by hybrid-clock time). On failure *out is NULL. */
hemma_status hemma_notes_list(hemma_device* dev, const char* patient_id, hemma_note_list** out, hemma_error* err);
/* 0 for NULL. */
size_t hemma_note_list_count(const hemma_note_list* list);
/* Fills *out with note `index`; false (and *out untouched) when `index` is
   out of range or an argument is NULL. */
bool hemma_note_list_get(const hemma_note_list* list, size_t index, hemma_note* out);
/* NULL is allowed and does nothing. */
void hemma_note_list_free(hemma_note_list* list);

/* ---- Fields ------------------------------------------------------------ */

/* Writes a field (a patient's address, a visit's status, a dose...)
   offline. The (entity_type, field) pair must have a merge rule
   (sync/docs/merge-rules.md), else HEMMA_ERR_INVALID_ARGUMENT.
   Precondition: signed in. */
hemma_status hemma_field_write(hemma_device* dev, const char* patient_id, const char* entity_type,
                               const char* entity_id, const char* field, const char* value, hemma_error* err);

/* Reads a field's current value on this tablet. *found_out is false when the
   field was never written (value_out is then ""); *merged_out is true when
   an unresolved conflict exists for it and a person must confirm the value.
   `merged_out` is optional. The value is copied whole into value_out
   (HEMMA_TEXT_CAPACITY always suffices). */
hemma_status hemma_field_get(hemma_device* dev, const char* patient_id, const char* entity_type, const char* entity_id,
                             const char* field, char* value_out, size_t value_cap, bool* found_out, bool* merged_out,
                             hemma_error* err);

/* ---- Sync -------------------------------------------------------------- */

typedef struct hemma_sync_report {
  bool ok;
  size_t pushed;     /* acknowledged, newly stored by the server */
  size_t duplicates; /* acknowledged, the server had them already */
  size_t rejected;   /* refused by the server in this run, kept with the reason (hemma_rejections_list) */
  size_t pulled;     /* operations received that were new to this tablet */
  int attempts;      /* rounds tried, 1 when the first one succeeded */
} hemma_sync_report;

/* One full sync: push everything pending, then pull everything new. A round
   without an answer is retried (3 attempts in all, waiting 0.2 s, then
   0.4 s); server errors are not retried. Blocks until done. `out` is filled
   whenever the run happened, even when it failed (out->ok false: what was
   acknowledged before the failure stays acknowledged). A failed run returns
   HEMMA_ERR_NETWORK or HEMMA_ERR_SERVER with the reason in err; it is also
   kept in hemma_sync_status.last_error. A run that completes returns
   HEMMA_OK even when the server refused operations: out->rejected counts
   this run's refusals, and hemma_sync_status.rejected and .last_error name
   every refused operation still kept; the host must show them
   (hemma_rejections_list). Precondition: signed in. */
hemma_status hemma_sync_run(hemma_device* dev, hemma_sync_report* out, hemma_error* err);

typedef struct hemma_sync_status {
  size_t pending;        /* local changes not yet acknowledged by the server */
  size_t rejected;       /* local changes the server refused, kept until settled */
  int failed_syncs;      /* failed sync runs since the last success */
  char last_success[40]; /* RFC 3339, "" if never */
  /* Why the last run failed; after a run that completed, the refused
     operations still kept ("2 operation(s) refused by the server, ...: <id>
     (<entity> of <patient>): <reason>; and 1 more"); "" when neither. Cut
     to fit. */
  char last_error[HEMMA_ERROR_MESSAGE_CAPACITY];
  char device_id[HEMMA_ID_CAPACITY]; /* "" before sign-in */
  char user_id[HEMMA_ID_CAPACITY];   /* "" before sign-in */
} hemma_sync_status;

/* The tablet's sync state, from the local database only (no network). */
hemma_status hemma_status_get(hemma_device* dev, hemma_sync_status* out, hemma_error* err);

/* ---- Refused operations ------------------------------------------------- */

/* An operation the server refused. It stays on the tablet, out of the notes
   and fields it shows, until a person discards it or sends it again; no
   sync, purge or history window removes it (only the wipe of a revoked
   tablet). Strings belong to the list it came from. */
typedef struct hemma_rejection {
  const char* operation_id;
  const char* patient_id;
  const char* entity_type; /* "visit_note", "vital_signs", "visit", "medication", ... */
  const char* entity_id;
  const char* code;        /* "INVALID", "FORBIDDEN", "CLOCK_SKEW", or "REFUSED" when not kept */
  const char* reason;      /* the server's, naming the field: "id: already used by a different operation" */
  const char* rejected_at; /* RFC 3339, device time; "" when not kept */
  const char* recorded_at; /* RFC 3339, when the author made the change */
  const char* author_id;
  const char* summary; /* one line of what it records: "note: ...", "field visit/v-1.status = DONE" */
} hemma_rejection;

/* A snapshot of the refused operations, owned by the caller until
   hemma_rejection_list_free. */
typedef struct hemma_rejection_list hemma_rejection_list;

/* The refused operations kept on this tablet, oldest first. On failure *out
   is NULL. */
hemma_status hemma_rejections_list(hemma_device* dev, hemma_rejection_list** out, hemma_error* err);
size_t hemma_rejection_list_count(const hemma_rejection_list* list);
bool hemma_rejection_list_get(const hemma_rejection_list* list, size_t index, hemma_rejection* out);
void hemma_rejection_list_free(hemma_rejection_list* list);

/* Discards refused operation `operation_id`: it is never sent, and the
   tablet keeps a record of it (the operation, the reason, the signed-in
   user, the time). An id not in the list fails with
   HEMMA_ERR_INVALID_ARGUMENT ("operation_id: no rejected operation ..."). */
hemma_status hemma_rejection_discard(hemma_device* dev, const char* operation_id, hemma_error* err);

/* Sends refused operation `operation_id` again under a new id (the next of
   this installation), e.g. one refused with "id: already used by a
   different operation", or one whose cause is gone. It waits in the queue
   for the next hemma_sync_run; an entry gets the new id too. When
   `new_id_out` is not NULL the new id is copied there; `new_id_cap` must
   then be at least HEMMA_NOTE_ID_CAPACITY, checked first. Fails with
   HEMMA_ERR_INVALID_ARGUMENT for an id not in the list, or an operation
   invalid as it is (discard it and record the change anew). */
hemma_status hemma_rejection_retry(hemma_device* dev, const char* operation_id, char* new_id_out, size_t new_id_cap,
                                   hemma_error* err);

/* ---- NEWS2 ------------------------------------------------------------- */

/* ACVPU: alert scores 0, anything else 3. */
enum {
  HEMMA_CONSCIOUSNESS_ALERT = 0,
  HEMMA_CONSCIOUSNESS_CONFUSION = 1,
  HEMMA_CONSCIOUSNESS_VOICE = 2,
  HEMMA_CONSCIOUSNESS_PAIN = 3,
  HEMMA_CONSCIOUSNESS_UNRESPONSIVE = 4
};

/* Which SpO2 row of the chart to use. Scale 2 only for patients with
   hypercapnic respiratory failure whose care plan sets a target of
   88-92 %; take it from the plan, never from the reading. */
enum { HEMMA_SPO2_SCALE_1 = 1, HEMMA_SPO2_SCALE_2 = 2 };

/* One set of observations. A value counts only when its has_* flag is true
   ("not measured" otherwise). Accepted ranges, inclusive: respiratory rate
   0-80 /min, spo2 0-100 %, systolic 0-350 mmHg, pulse 0-300 /min,
   temperature 25.0-45.0 degrees C (finite), consciousness a
   HEMMA_CONSCIOUSNESS_* value. */
typedef struct hemma_vitals {
  bool has_respiratory_rate;
  int respiratory_rate;
  bool has_spo2;
  int spo2;
  bool has_on_oxygen;
  bool on_oxygen; /* true = supplemental oxygen, false = room air */
  bool has_systolic_bp;
  int systolic_bp;
  bool has_pulse;
  int pulse;
  bool has_consciousness;
  int consciousness;
  bool has_temperature_c;
  double temperature_c;
} hemma_vitals;

typedef enum hemma_news2_risk {
  HEMMA_RISK_NOT_EVALUATED = 0, /* an input is missing: never read as 0 */
  HEMMA_RISK_LOW = 1,
  HEMMA_RISK_LOW_MEDIUM = 2, /* total 0-4 but one parameter scored 3 */
  HEMMA_RISK_MEDIUM = 3,     /* total 5-6 */
  HEMMA_RISK_HIGH = 4        /* total 7 or more */
} hemma_news2_risk;

/* Per-parameter scores 0-3, or -1 when not scored because the input is
   missing. */
typedef struct hemma_news2_scores {
  int respiratory_rate;
  int spo2;
  int air_or_oxygen;
  int systolic_bp;
  int pulse;
  int consciousness;
  int temperature;
} hemma_news2_scores;

typedef struct hemma_news2_result {
  int total; /* 0-20, or -1 when any input is missing ("not evaluated") */
  hemma_news2_risk risk;
  hemma_news2_scores scores;
  bool red_parameter; /* some scored parameter scored 3 */
  /* An urgent clinical response is needed (total >= 5 or a red parameter);
     set even with inputs missing when what is known already requires it. */
  bool escalate;
} hemma_news2_result;

/* Scores `in` on the NEWS2 chart (mobile-core/docs/news2.md). `spo2_scale`
   is HEMMA_SPO2_SCALE_1 or HEMMA_SPO2_SCALE_2. Fails with
   HEMMA_ERR_INVALID_ARGUMENT naming the first value out of range
   ("vitals.spo2: 104 is not a percentage"); *out is then untouched. Pure:
   no device, no I/O. */
hemma_status hemma_news2_compute(const hemma_vitals* in, int spo2_scale, hemma_news2_result* out, hemma_error* err);

/* ---- The nurse's visit (all offline) ----------------------------------- */

/* Entry ids ("<device id>:<counter>") fit in HEMMA_NOTE_ID_CAPACITY. Every
   call below that takes `id_out` copies the new entry's id there when it is
   not NULL; `id_cap` must then be at least HEMMA_NOTE_ID_CAPACITY, checked
   before anything is written. Precondition for all: signed in. */

/* A checklist answer, as in domain.TaskOutcome. */
enum { HEMMA_OUTCOME_NONE = 0, HEMMA_OUTCOME_DONE = 1, HEMMA_OUTCOME_NOT_DONE = 2, HEMMA_OUTCOME_REFUSED = 3 };

/* One checklist item of a visit: a plan activity for nurses (and the
   activity the visit is for) with this visit's latest answer. Strings
   belong to the list it came from. */
typedef struct hemma_checklist_item {
  const char* activity_id;
  const char* text;
  const char* frequency;
  const char* responsible_role; /* "NURSE", ... */
  int outcome;                  /* HEMMA_OUTCOME_*; NONE when not answered at this visit */
  const char* reason;           /* "" if none */
  const char* recorded_at;      /* "" if not answered */
} hemma_checklist_item;

/* One visit of the nurse's list. Strings belong to the list it came from
   and stay valid until hemma_visit_list_free. */
typedef struct hemma_visit {
  const char* id;
  const char* patient_id;
  const char* patient_name;
  const char* address;
  const char* access_notes;
  const char* status;          /* "PLANNED", "IN_PROGRESS", "DONE", "CANCELLED" */
  const char* scheduled_start; /* RFC 3339 */
  const char* started_at;      /* "" if not started */
  const char* ended_at;        /* "" if not ended */
  const char* activity_id;
  const char* activity_text;
  size_t checklist_count;
} hemma_visit;

/* A snapshot of visits, owned by the caller until hemma_visit_list_free. */
typedef struct hemma_visit_list hemma_visit_list;

/* The signed-in nurse's visits scheduled on `day` ("YYYY-MM-DD", a UTC day;
   today by the device clock when NULL or ""), ordered by scheduled start.
   A malformed day fails with HEMMA_ERR_INVALID_ARGUMENT ("date: ..."). */
hemma_status hemma_visits_list(hemma_device* dev, const char* day, hemma_visit_list** out, hemma_error* err);
/* Visit `visit_id` alone (a list of one). Unknown id: HEMMA_ERR_INVALID_ARGUMENT. */
hemma_status hemma_visit_get(hemma_device* dev, const char* visit_id, hemma_visit_list** out, hemma_error* err);
size_t hemma_visit_list_count(const hemma_visit_list* list);
bool hemma_visit_list_get(const hemma_visit_list* list, size_t index, hemma_visit* out);
bool hemma_visit_list_checklist_get(const hemma_visit_list* list, size_t visit_index, size_t item_index,
                                    hemma_checklist_item* out);
void hemma_visit_list_free(hemma_visit_list* list);

/* Starts a PLANNED visit (status IN_PROGRESS, started_at = device time) or
   ends a started one (DONE, ended_at). Ending a visit that was not started,
   or starting one already started or done, fails with
   HEMMA_ERR_INVALID_ARGUMENT ("visit.status: ..."). */
hemma_status hemma_visit_start(hemma_device* dev, const char* visit_id, hemma_error* err);
hemma_status hemma_visit_end(hemma_device* dev, const char* visit_id, hemma_error* err);

/* Answers a checklist item: `outcome` is HEMMA_OUTCOME_DONE, _NOT_DONE or
   _REFUSED; `reason` (optional for DONE) is required for the others
   ("task_outcome.reason: required when REFUSED"). */
hemma_status hemma_task_record(hemma_device* dev, const char* visit_id, const char* activity_id, int outcome,
                               const char* reason, char* id_out, size_t id_cap, hemma_error* err);

typedef struct hemma_vitals_result {
  char vitals_id[HEMMA_NOTE_ID_CAPACITY];
  hemma_news2_result news2;
  /* The score called for escalation: an urgent message to the responsible
     physician, carrying the vital signs, was stored with them. */
  bool escalated;
  char message_id[HEMMA_NOTE_ID_CAPACITY]; /* "" when not escalated */
} hemma_vitals_result;

/* Records vital signs at a visit with NEWS2 worked out on the device (SpO2
   scale 2 only when the plan's spo2_scale_2 field is "true"); a missing
   input stores the score as not evaluated, never 0. When NEWS2 calls for
   escalation, the urgent message is stored in the same transaction. Values
   out of range fail like hemma_news2_compute; nothing is stored then. */
hemma_status hemma_vitals_record(hemma_device* dev, const char* visit_id, const hemma_vitals* in,
                                 hemma_vitals_result* out, hemma_error* err);

/* A medication given (with the plan's current dose) or not given; `reason`
   is required when not given. A medication not in the patient's plan on
   this tablet fails with HEMMA_ERR_INVALID_ARGUMENT. */
hemma_status hemma_medication_record(hemma_device* dev, const char* visit_id, const char* medication_id, bool given,
                                     const char* reason, char* id_out, size_t id_cap, hemma_error* err);

/* Proposes a change of one plan field for a physician to sign; the base is
   the version of the field this tablet shows. `reason` is required. */
hemma_status hemma_change_propose(hemma_device* dev, const char* patient_id, const char* entity_type,
                                  const char* entity_id, const char* field, const char* value, const char* reason,
                                  char* id_out, size_t id_cap, hemma_error* err);

/* Sends a message about a patient to `recipient_id` (optional: NULL or ""
   means the responsible physician), optionally replying to a message on
   this tablet (`in_reply_to`). */
hemma_status hemma_message_send(hemma_device* dev, const char* patient_id, const char* text, const char* recipient_id,
                                const char* in_reply_to, char* id_out, size_t id_cap, hemma_error* err);

typedef struct hemma_message {
  const char* id;
  const char* patient_id;
  const char* author_id;
  const char* recipient_id; /* "" = the responsible physician */
  const char* text;
  const char* sent_at;
  const char* in_reply_to; /* "" if none */
  bool urgent;
  bool has_vital_signs; /* an escalation carries them */
  int news2_score;      /* of the attached vital signs; -1 when none or not evaluated */
} hemma_message;

typedef struct hemma_message_list hemma_message_list;

/* Messages about the patient in both directions, oldest first. */
hemma_status hemma_messages_list(hemma_device* dev, const char* patient_id, hemma_message_list** out, hemma_error* err);
size_t hemma_message_list_count(const hemma_message_list* list);
bool hemma_message_list_get(const hemma_message_list* list, size_t index, hemma_message* out);
void hemma_message_list_free(hemma_message_list* list);

/* ---- History window ----------------------------------------------------- */

/* Keep entries of the last `days` days (1-3650; default 30) in full; older
   ones are summarised after each successful sync and deleted here. Stored
   in the tablet's database. */
hemma_status hemma_history_window_set(hemma_device* dev, int days, hemma_error* err);

/* Entries older than the window that the tablet summarised: how many of one
   kind ("vital_signs", "visit_note", "message", ...), oldest and newest. */
typedef struct hemma_history_summary {
  const char* kind;
  size_t count;
  const char* oldest;
  const char* newest;
} hemma_history_summary;

/* One append entry. `text` is its free text: a note's or message's text,
   a checklist or medication reason, a proposal's value; "" otherwise. */
typedef struct hemma_history_entry {
  const char* id;
  const char* kind; /* the entity type: "visit_note", "vital_signs", "task_outcome", ... */
  const char* author_id;
  const char* at;       /* RFC 3339, the author's time */
  const char* visit_id; /* "" if none */
  const char* text;
  int news2_score; /* vital signs only; -1 otherwise or when not evaluated */
} hemma_history_entry;

typedef struct hemma_history hemma_history;

/* The patient's history on this tablet: the summary of older entries, the
   newest summarised NEWS2, and the entries held in full (oldest first). */
hemma_status hemma_history_get(hemma_device* dev, const char* patient_id, hemma_history** out, hemma_error* err);
/* Online: the patient's entries on the server that this tablet does not
   hold (e.g. older than the window), oldest first, fetched with the
   tablet's token and not kept. The summary of the result is empty.
   Fails with HEMMA_ERR_NETWORK / HEMMA_ERR_SERVER. */
hemma_status hemma_history_fetch(hemma_device* dev, const char* patient_id, hemma_history** out, hemma_error* err);
size_t hemma_history_summary_count(const hemma_history* history);
bool hemma_history_summary_get(const hemma_history* history, size_t index, hemma_history_summary* out);
/* The newest summarised NEWS2 score and its time; -1 and "" when none. */
int hemma_history_summarised_news2(const hemma_history* history, const char** observed_at_out);
size_t hemma_history_entry_count(const hemma_history* history);
bool hemma_history_entry_get(const hemma_history* history, size_t index, hemma_history_entry* out);
void hemma_history_free(hemma_history* history);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HEMMA_HEMMA_H */
