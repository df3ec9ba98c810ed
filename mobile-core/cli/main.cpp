// hemma-device: a command-line tablet. Each subcommand is one call of the
// device core's API (include/hemma/mobile/device.hpp).

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"

namespace {

constexpr const char* kUsage = R"(Usage: hemma-device [OPTIONS] COMMAND [ARGS]

A command-line tablet: the Hemma device core with its own SQLite database.
Everything except `login`, `sync` and `history --fetch` works offline.

Commands:
  login USERNAME DEVICE_ID      sign in online once: log the user in and register this tablet
                                as DEVICE_ID (password from --password or $HEMMA_PASSWORD)
  unlock USERNAME               unlock offline with the password of the last online sign-in
                                (--password or $HEMMA_PASSWORD); 5 wrong attempts in a row lock
                                the tablet until the next login
  note PATIENT_ID TEXT          record a visit note (offline; queued for the server)
       [--visit VISIT_ID] [--amends NOTE_ID]
  notes [PATIENT_ID]            list the visit notes on this device, oldest first
  set-field PATIENT_ID ENTITY_TYPE ENTITY_ID FIELD VALUE
                                change a field (e.g. medication med-1 dose "5 mg"); offline
  fields [PATIENT_ID]           list field values; "[merged]" marks an unresolved conflict
  conflicts [PATIENT_ID]        list conflict records (both values, authors)
  resolve CONFLICT_ID VALUE     confirm the value of a conflicted field
  sync                          push queued changes to the server, then pull new ones; then
                                summarise entries older than the history window. Names every
                                change the server refused and exits 3 while any is kept
  status                        device id, user, pending and refused changes, last sync and error
  rejected                      the changes the server refused, kept on this tablet until a
                                person settles them: id, patient, entity, code, reason, content
  rejected discard OP_ID        discard a refused change: never sent; kept on record with who
                                and when (see `rejected settled`)
  rejected retry OP_ID          send a refused change again under a new id (e.g. refused as
                                "id: already used by a different operation", or its cause is
                                gone); it waits in the queue for the next sync
  rejected settled              refused changes discarded or sent again earlier: who, when
  help                          show this text

The nurse's visit (offline):
  visits [DATE]                 the signed-in nurse's visits on DATE (YYYY-MM-DD, a UTC day;
                                default today), in order, with address, access notes and checklist
  start VISIT_ID                start a visit (status IN_PROGRESS, started_at now)
  end VISIT_ID                  end a started visit (status DONE, ended_at now)
  task VISIT_ID ACTIVITY_ID done|not-done|refused [--reason TEXT]
                                answer a checklist item; not-done and refused need --reason
  vitals VISIT_ID [--rr N] [--spo2 N] [--oxygen|--air] [--sbp N] [--pulse N]
         [--avpu A|C|V|P|U] [--temp X]
                                record vital signs; prints NEWS2 and its risk, and
                                "ESCALATED: urgent message to the responsible physician"
                                when the score calls for it (total >= 5 or a parameter at 3)
  med VISIT_ID MEDICATION_ID given|not-given [--reason TEXT]
                                record a medication given (the plan's dose) or not given
  propose PATIENT_ID ENTITY_TYPE ENTITY_ID FIELD VALUE --reason TEXT
                                propose a plan change for a physician to sign
  message PATIENT_ID TEXT [--to PRACTITIONER_ID] [--reply-to MESSAGE_ID]
                                message the responsible physician (or --to someone)
  messages PATIENT_ID           the messages about a patient, both directions, oldest first
  history PATIENT_ID [--fetch]  the summary of entries older than the history window and the
                                recent entries; --fetch also gets the older ones from the
                                server (online; not kept on the device)
  script FILE                   run one command per line from FILE (- for stdin), with
                                shell-like quoting and # comments; stops at the first failing
                                line, naming its number

Options:
  --db FILE        the device database (default: $HEMMA_DEVICE_DB or hemma-device.db)
  --server URL     the server (default: $HEMMA_SERVER or http://127.0.0.1:8080)
  --password PW    the password for `login` and `unlock` (default: $HEMMA_PASSWORD)
  --history-days N keep entries of the last N days in full (default 30; stored on the device)
  -h, --help       show this text

Exit status: 0 on success, 1 when the command failed (e.g. the server was
unreachable; nothing is lost, run `sync` again), 2 for wrong usage or bad input,
3 when `sync` ran but changes refused by the server are kept on the tablet (see
`rejected`).
)";

// Wrong usage: exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Arguments {
  std::string db;
  std::string server;
  std::vector<std::string> positional;
  std::optional<std::string> visit;
  std::optional<std::string> amends;
  std::optional<std::string> password;
  std::optional<std::string> reason;
  std::optional<std::string> to;
  std::optional<std::string> replyTo;
  std::optional<int> historyDays;
  bool fetch = false;
  hemma::mobile::VitalSigns vitals;
  bool help = false;
};

std::string envOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

int wholeNumber(const std::string& option, const std::string& text) {
  int number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(option + ": \"" + text + "\" is not a whole number");
  }
  return number;
}

double decimalNumber(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size()) throw UsageError(option + ": \"" + text + "\" is not a number");
  return number;
}

hemma::mobile::Consciousness avpu(const std::string& text) {
  using hemma::mobile::Consciousness;
  if (text == "A") return Consciousness::Alert;
  if (text == "C") return Consciousness::Confusion;
  if (text == "V") return Consciousness::Voice;
  if (text == "P") return Consciousness::Pain;
  if (text == "U") return Consciousness::Unresponsive;
  throw UsageError("--avpu: \"" + text + "\" is not one of A, C, V, P, U");
}

// `words` are the arguments after the program name. `base` gives the
// defaults (the database and server of the command line, in a script).
Arguments parseArguments(const std::vector<std::string>& words, const Arguments& base) {
  Arguments args;
  args.db = base.db;
  args.server = base.server;
  args.password = base.password;
  args.historyDays = base.historyDays;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& arg = words[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= words.size()) throw UsageError(arg + " needs a value");
      return words[++i];
    };
    if (arg == "-h" || arg == "--help") {
      args.help = true;
    } else if (arg == "--db") {
      args.db = value();
    } else if (arg == "--server") {
      args.server = value();
    } else if (arg == "--visit") {
      args.visit = value();
    } else if (arg == "--amends") {
      args.amends = value();
    } else if (arg == "--password") {
      args.password = value();
    } else if (arg == "--reason") {
      args.reason = value();
    } else if (arg == "--to") {
      args.to = value();
    } else if (arg == "--reply-to") {
      args.replyTo = value();
    } else if (arg == "--history-days") {
      args.historyDays = wholeNumber(arg, value());
    } else if (arg == "--fetch") {
      args.fetch = true;
    } else if (arg == "--rr") {
      args.vitals.respiratoryRate = wholeNumber(arg, value());
    } else if (arg == "--spo2") {
      args.vitals.spo2 = wholeNumber(arg, value());
    } else if (arg == "--oxygen") {
      args.vitals.onOxygen = true;
    } else if (arg == "--air") {
      args.vitals.onOxygen = false;
    } else if (arg == "--sbp") {
      args.vitals.systolicBp = wholeNumber(arg, value());
    } else if (arg == "--pulse") {
      args.vitals.pulse = wholeNumber(arg, value());
    } else if (arg == "--avpu") {
      args.vitals.consciousness = avpu(value());
    } else if (arg == "--temp") {
      args.vitals.temperatureC = decimalNumber(arg, value());
    } else if (arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1]))) {
      throw UsageError("unknown option " + arg);
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

void expectArgs(const Arguments& args, std::size_t min, std::size_t max, const char* usage) {
  const std::size_t n = args.positional.size() - 1;
  if (n < min || n > max) throw UsageError(std::string("usage: hemma-device ") + usage);
}

std::string optionalArg(const Arguments& args, std::size_t index) {
  return args.positional.size() > index ? args.positional[index] : std::string();
}

// "10:00" of "2026-11-22T10:00:00.000Z".
std::string clockTime(const std::string& rfc3339) { return rfc3339.size() >= 16 ? rfc3339.substr(11, 5) : rfc3339; }

std::string outcomeName(hemma::domain::TaskOutcome::Outcome outcome) {
  return hemma::domain::TaskOutcome::Outcome_Name(outcome);
}

std::string news2Text(const hemma::domain::VitalSigns& v) {
  if (!v.has_news2_score()) return "NEWS2 not evaluated";
  std::string risk = hemma::domain::News2Risk_Name(v.news2_risk()).substr(6);  // "HIGH" of "NEWS2_HIGH"
  for (char& c : risk) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "NEWS2 " + std::to_string(v.news2_score()) + " (" + risk + " risk)";
}

std::string describe(const hemma::domain::VitalSigns& v) {
  std::string text = "vital signs:";
  if (v.has_respiratory_rate()) text += " RR " + std::to_string(v.respiratory_rate());
  if (v.has_spo2()) text += " SpO2 " + std::to_string(v.spo2()) + "%";
  if (v.has_on_oxygen()) text += v.on_oxygen() ? " on O2" : " air";
  if (v.has_systolic_bp()) text += " SBP " + std::to_string(v.systolic_bp());
  if (v.has_pulse()) text += " pulse " + std::to_string(v.pulse());
  if (v.consciousness() != hemma::domain::CONSCIOUSNESS_UNSPECIFIED) {
    text += " " + hemma::domain::Consciousness_Name(v.consciousness());
  }
  if (v.has_temperature_c()) {
    char temp[32];
    std::snprintf(temp, sizeof temp, " %.1f C", v.temperature_c());
    text += temp;
  }
  return text + "; " + news2Text(v);
}

std::string describe(const hemma::domain::Message& m) {
  return std::string(m.urgent() ? "URGENT message" : "message") + " to " +
         (m.recipient_id().empty() ? "the responsible physician" : m.recipient_id()) +
         (m.in_reply_to().empty() ? "" : " (reply to " + m.in_reply_to() + ")") + ": " + m.text();
}

// One line for any append entry (of the device, or of the server's timeline).
template <typename Entry>
std::string describeEntry(const Entry& e) {
  if (e.has_note()) {
    return "note" + (e.note().amends_note_id().empty() ? "" : " amending " + e.note().amends_note_id()) + ": " +
           e.note().text();
  }
  if (e.has_observation()) return "observation " + e.observation().code();
  if (e.has_vital_signs()) return describe(e.vital_signs());
  if (e.has_task_outcome()) {
    const auto& t = e.task_outcome();
    return "checklist " + t.activity_id() + " " + outcomeName(t.outcome()) +
           (t.reason().empty() ? "" : ": " + t.reason());
  }
  if (e.has_medication_administration()) {
    const auto& m = e.medication_administration();
    return "medication " + m.medication_id() + (m.given() ? " given " + m.dose() : " not given: " + m.reason());
  }
  if (e.has_message()) return describe(e.message());
  if (e.has_proposed_change()) {
    const auto& c = e.proposed_change();
    return "proposal " + c.entity_type() + "/" + c.entity_id() + "." + c.field() + " = " + c.proposed_value() + " (" +
           c.reason() + ")";
  }
  return "entry";
}

// One line for any operation: its entry, or the field or set it changes.
std::string describeOperation(const hemma::sync::Operation& op) {
  if (op.has_append()) return describeEntry(op.append());
  const std::string where = op.entity_type() + "/" + op.entity_id();
  if (op.has_write()) return "field " + where + "." + op.write().field() + " = " + op.write().value();
  if (op.has_set_add()) return "add " + op.set_add().element() + " to " + where + "." + op.set_add().set();
  if (op.has_set_remove()) {
    return "remove " + op.set_remove().element() + " from " + where + "." + op.set_remove().set();
  }
  return "change";
}

std::string codeName(hemma::sync::OperationRejection::Code code) {
  return code == hemma::sync::OperationRejection::CODE_UNSPECIFIED ? "REFUSED"
                                                                   : hemma::sync::OperationRejection::Code_Name(code);
}

void printRejected(const hemma::mobile::RejectedOperation& r) {
  const auto& op = r.operation;
  std::cout << op.id() << "  " << op.patient_id() << "  " << op.entity_type() << "/" << op.entity_id() << "  "
            << codeName(r.code) << (r.rejectedAt.empty() ? "" : "  refused " + r.rejectedAt) << "\n"
            << "    reason:  " << r.reason << "\n"
            << "    written: " << op.recorded_at() << " by " << op.author_id() << ": " << describeOperation(op) << "\n";
}

void printVisit(const hemma::mobile::VisitView& view) {
  const auto& v = view.visit;
  std::cout << clockTime(v.scheduled_start()) << "  " << v.id() << "  " << hemma::domain::Visit::Status_Name(v.status())
            << "  " << view.patientName << " (" << v.patient_id() << ")\n"
            << "    address: " << view.address << "\n"
            << "    access:  " << view.accessNotes << "\n"
            << "    for:     " << v.activity_id() << " " << view.activityText << "\n";
  if (!v.started_at().empty()) std::cout << "    started: " << v.started_at() << "\n";
  if (!v.ended_at().empty()) std::cout << "    ended:   " << v.ended_at() << "\n";
  std::cout << "    checklist:\n";
  for (const auto& item : view.checklist) {
    std::cout << "      [" << (item.outcome ? outcomeName(item.outcome->outcome()) : std::string(" ")) << "] "
              << item.activityId << "  " << item.text << (item.frequency.empty() ? "" : " (" + item.frequency + ")");
    if (item.outcome && !item.outcome->reason().empty()) std::cout << ": " << item.outcome->reason();
    std::cout << "\n";
  }
}

std::string passwordOf(const Arguments& args, const char* command) {
  const std::string password = args.password.value_or(envOr("HEMMA_PASSWORD", ""));
  if (password.empty()) throw UsageError(std::string(command) + ": no password (use --password or $HEMMA_PASSWORD)");
  return password;
}

int runScript(const Arguments& args);

int run(const Arguments& args) {
  if (args.help) {
    std::cout << kUsage;
    return 0;
  }
  if (args.positional.empty()) throw UsageError("no command given");
  const std::string& command = args.positional[0];
  if (command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "script") {
    expectArgs(args, 1, 1, "script FILE (or - for stdin)");
    return runScript(args);
  }
  hemma::mobile::SystemClock clock;
  hemma::mobile::Device device(args.db, clock);
  if (args.historyDays) device.setHistoryWindowDays(*args.historyDays);

  if (command == "login") {
    expectArgs(args, 2, 2, "login USERNAME DEVICE_ID [--password PW]");
    const std::string password = passwordOf(args, "login");
    hemma::mobile::HttpTransport transport(hemma::mobile::ServerAddress::parse(args.server));
    const auto user = device.signIn(transport, args.positional[1], password, args.positional[2]);
    std::cout << "signed in as " << user.name() << " (" << user.user_id() << ", "
              << hemma::domain::Role_Name(user.role()) << ", " << user.organisation_id() << "); this tablet is "
              << args.positional[2] << "\n";
    return 0;
  }
  if (command == "unlock") {
    expectArgs(args, 1, 1, "unlock USERNAME [--password PW]");
    const auto user = device.unlock(args.positional[1], passwordOf(args, "unlock"));
    std::cout << "unlocked offline: " << user.name() << " (" << user.user_id() << ")\n";
    return 0;
  }
  if (command == "note") {
    expectArgs(args, 2, 2, "note PATIENT_ID TEXT [--visit VISIT_ID] [--amends NOTE_ID]");
    const auto note =
        device.writeNote(args.positional[1], args.visit.value_or(""), args.positional[2], args.amends.value_or(""));
    std::cout << "recorded note " << note.id() << " for patient " << note.patient_id() << " at " << note.written_at()
              << (note.amends_note_id().empty() ? "" : ", amending " + note.amends_note_id()) << " ("
              << device.status().pending << " pending sync)\n";
    return 0;
  }
  if (command == "notes") {
    expectArgs(args, 0, 1, "notes [PATIENT_ID]");
    const auto notes = device.notes(optionalArg(args, 1));
    for (const auto& note : notes) {
      std::cout << note.written_at() << "  " << note.patient_id() << "  " << note.author_id() << "  " << note.id()
                << (note.amends_note_id().empty() ? "" : "  amends " + note.amends_note_id()) << "\n    " << note.text()
                << "\n";
    }
    std::cout << notes.size() << " note(s)\n";
    return 0;
  }
  if (command == "set-field") {
    expectArgs(args, 5, 5, "set-field PATIENT_ID ENTITY_TYPE ENTITY_ID FIELD VALUE");
    const auto op = device.writeField(args.positional[1], args.positional[2], args.positional[3], args.positional[4],
                                      args.positional[5]);
    std::cout << "recorded " << op.id() << ": " << args.positional[2] << "/" << args.positional[3] << "."
              << args.positional[4] << " = " << args.positional[5] << "\n";
    return 0;
  }
  if (command == "fields") {
    expectArgs(args, 0, 1, "fields [PATIENT_ID]");
    const auto fields = device.store().fields(optionalArg(args, 1));
    for (const auto& f : fields) {
      std::cout << f.patientId << "  " << f.entityType << "/" << f.entityId << "." << f.field << " = " << f.value
                << "  (" << f.authorId << ")" << (f.merged ? "  [merged]" : "") << "\n";
    }
    std::cout << fields.size() << " field(s)\n";
    return 0;
  }
  if (command == "conflicts") {
    expectArgs(args, 0, 1, "conflicts [PATIENT_ID]");
    const auto conflicts = device.conflicts(optionalArg(args, 1));
    for (const auto& c : conflicts) {
      std::cout << c.id() << "  " << c.patient_id() << "  " << c.entity_type() << "/" << c.entity_id() << "."
                << c.field() << (c.resolved_by_operation_id().empty() ? "  OPEN" : "  resolved") << "\n"
                << "    kept:        " << c.kept().value() << "  (" << c.kept().author_id() << ")\n"
                << "    overwritten: " << c.overwritten().value() << "  (" << c.overwritten().author_id() << ")\n";
    }
    std::cout << conflicts.size() << " conflict(s)\n";
    return 0;
  }
  if (command == "resolve") {
    expectArgs(args, 2, 2, "resolve CONFLICT_ID VALUE");
    const auto op = device.resolveConflict(args.positional[1], args.positional[2]);
    std::cout << "recorded " << op.id() << ": resolves " << args.positional[1] << " with " << args.positional[2]
              << "\n";
    return 0;
  }
  if (command == "visits") {
    expectArgs(args, 0, 1, "visits [DATE]");
    const auto visits = device.visits(optionalArg(args, 1));
    for (const auto& view : visits) printVisit(view);
    std::cout << visits.size() << " visit(s) for " << device.status().userId << " on "
              << (args.positional.size() > 1 ? args.positional[1] : "today") << " (UTC)\n";
    return 0;
  }
  if (command == "start" || command == "end") {
    expectArgs(args, 1, 1, command == "start" ? "start VISIT_ID" : "end VISIT_ID");
    const auto view = command == "start" ? device.startVisit(args.positional[1]) : device.endVisit(args.positional[1]);
    std::cout << (command == "start" ? "started " : "ended ") << view.visit.id() << " at "
              << (command == "start" ? view.visit.started_at() : view.visit.ended_at()) << " ("
              << hemma::domain::Visit::Status_Name(view.visit.status()) << ")\n";
    return 0;
  }
  if (command == "task") {
    expectArgs(args, 3, 3, "task VISIT_ID ACTIVITY_ID done|not-done|refused [--reason TEXT]");
    using Outcome = hemma::domain::TaskOutcome;
    const std::string& word = args.positional[3];
    const Outcome::Outcome outcome = word == "done"       ? Outcome::DONE
                                     : word == "not-done" ? Outcome::NOT_DONE
                                     : word == "refused"  ? Outcome::REFUSED
                                                          : Outcome::OUTCOME_UNSPECIFIED;
    if (outcome == Outcome::OUTCOME_UNSPECIFIED) {
      throw UsageError("task: \"" + word + "\" is not done, not-done or refused");
    }
    const auto t = device.recordTaskOutcome(args.positional[1], args.positional[2], outcome, args.reason.value_or(""));
    std::cout << "recorded " << t.id() << ": " << t.activity_id() << " " << outcomeName(t.outcome())
              << (t.reason().empty() ? "" : " (" + t.reason() + ")") << " at " << t.visit_id() << "\n";
    return 0;
  }
  if (command == "vitals") {
    expectArgs(args, 1, 1,
               "vitals VISIT_ID [--rr N] [--spo2 N] [--oxygen|--air] [--sbp N] [--pulse N] [--avpu A|C|V|P|U] "
               "[--temp X]");
    const auto record = device.recordVitalSigns(args.positional[1], args.vitals);
    std::cout << "recorded " << describe(record.vitals) << " (" << record.vitals.id() << ")\n";
    if (record.news2.total) {
      std::cout << "NEWS2: " << *record.news2.total << ", risk " << hemma::mobile::riskName(record.news2.risk)
                << (record.news2.redParameter ? " (a parameter scored 3)" : "") << "\n";
    } else {
      std::cout << "NEWS2: not evaluated; missing:";
      for (const auto name : record.news2.missing) std::cout << " " << name;
      std::cout << "\n";
    }
    if (record.escalation) {
      std::cout << "ESCALATED: urgent message to the responsible physician (" << record.escalation->id() << ")\n    "
                << record.escalation->text() << "\n";
    }
    return 0;
  }
  if (command == "med") {
    expectArgs(args, 3, 3, "med VISIT_ID MEDICATION_ID given|not-given [--reason TEXT]");
    const std::string& word = args.positional[3];
    if (word != "given" && word != "not-given") throw UsageError("med: \"" + word + "\" is not given or not-given");
    const auto m =
        device.recordMedication(args.positional[1], args.positional[2], word == "given", args.reason.value_or(""));
    std::cout << "recorded " << m.id() << ": " << m.medication_id()
              << (m.given() ? " given, " + m.dose() : " not given (" + m.reason() + ")") << "\n";
    return 0;
  }
  if (command == "propose") {
    expectArgs(args, 5, 5, "propose PATIENT_ID ENTITY_TYPE ENTITY_ID FIELD VALUE --reason TEXT");
    if (!args.reason) throw UsageError("propose: --reason TEXT is required");
    const auto c = device.proposeChange(args.positional[1], args.positional[2], args.positional[3], args.positional[4],
                                        args.positional[5], *args.reason);
    std::cout << "proposed " << c.id() << ": " << c.entity_type() << "/" << c.entity_id() << "." << c.field() << " = "
              << c.proposed_value() << " (for a physician to sign)\n";
    return 0;
  }
  if (command == "message") {
    expectArgs(args, 2, 2, "message PATIENT_ID TEXT [--to PRACTITIONER_ID] [--reply-to MESSAGE_ID]");
    const auto m =
        device.sendMessage(args.positional[1], args.positional[2], args.to.value_or(""), args.replyTo.value_or(""));
    std::cout << "recorded " << m.id() << ": " << describe(m) << "\n";
    return 0;
  }
  if (command == "messages") {
    expectArgs(args, 1, 1, "messages PATIENT_ID");
    const auto messages = device.messages(args.positional[1]);
    for (const auto& m : messages) {
      std::cout << m.sent_at() << "  " << m.author_id() << "  " << m.id() << "\n    " << describe(m) << "\n";
    }
    std::cout << messages.size() << " message(s)\n";
    return 0;
  }
  if (command == "history") {
    expectArgs(args, 1, 1, "history PATIENT_ID [--fetch]");
    const auto h = device.history(args.positional[1]);
    std::cout << "history of " << h.patientId << " (entries of the last " << h.windowDays << " days in full)\n";
    for (const auto& row : h.summarised) {
      std::cout << "  summarised: " << row.count << " " << row.kind << " from " << row.oldest << " to " << row.newest
                << "\n";
    }
    if (h.summarisedNews2) {
      std::cout << "  latest summarised " << news2Text(*h.summarisedNews2) << " at " << h.summarisedNews2->observed_at()
                << "\n";
    }
    for (const auto& e : h.recent) {
      std::cout << "  " << e.at << "  " << e.authorId << "  " << describeEntry(e.entry) << "\n";
    }
    std::cout << h.recent.size() << " recent entr" << (h.recent.size() == 1 ? "y" : "ies") << " on the device\n";
    if (args.fetch) {
      hemma::mobile::HttpTransport transport(hemma::mobile::ServerAddress::parse(args.server));
      const auto older = device.fetchHistory(transport, args.positional[1]);
      for (const auto& e : older) {
        std::cout << "  " << e.recorded_at() << "  " << e.author_id() << "  " << describeEntry(e) << "\n";
      }
      std::cout << older.size() << " entr" << (older.size() == 1 ? "y" : "ies")
                << " fetched from the server (not kept on the device)\n";
    }
    return 0;
  }
  if (command == "sync") {
    expectArgs(args, 0, 0, "sync");
    hemma::mobile::HttpTransport transport(hemma::mobile::ServerAddress::parse(args.server));
    const auto report = device.sync(transport);
    std::cout << "pushed " << report.pushed << " (" << report.duplicates << " already on the server), rejected "
              << report.rejected << ", pulled " << report.pulled;
    if (report.summarised) std::cout << ", summarised " << report.summarised << " older than the history window";
    std::cout << "\n";
    const auto rejected = device.rejected();
    for (const auto& r : rejected) {
      const auto& op = r.operation;
      std::cout << "  rejected " << op.id() << " (" << op.entity_type() << "/" << op.entity_id() << " of "
                << op.patient_id() << "): " << r.reason << "\n";
    }
    if (!report.ok) {
      std::cerr << "hemma-device: sync failed: " << report.error << " (" << device.status().pending
                << " change(s) kept on the device; run sync again)\n";
      return 1;
    }
    if (!rejected.empty()) {
      std::cerr << "hemma-device: the server refused " << rejected.size()
                << " change(s), kept on this tablet; see `hemma-device rejected`, then retry or discard each\n";
      return 3;
    }
    return 0;
  }
  if (command == "rejected") {
    const std::string action = optionalArg(args, 1);
    if (action.empty()) {
      expectArgs(args, 0, 0, "rejected [discard OP_ID | retry OP_ID | settled]");
      const auto rejected = device.rejected();
      for (const auto& r : rejected) printRejected(r);
      std::cout << rejected.size() << " refused change(s) kept on this tablet\n";
      return 0;
    }
    if (action == "discard") {
      expectArgs(args, 2, 2, "rejected discard OP_ID");
      device.discardRejected(args.positional[2]);
      std::cout << "discarded " << args.positional[2] << " (kept on record: `hemma-device rejected settled`); "
                << device.status().rejected << " refused change(s) left\n";
      return 0;
    }
    if (action == "retry") {
      expectArgs(args, 2, 2, "rejected retry OP_ID");
      const auto op = device.retryRejected(args.positional[2]);
      std::cout << "queued " << args.positional[2] << " again as " << op.id() << " (" << device.status().pending
                << " pending sync)\n";
      return 0;
    }
    if (action == "settled") {
      expectArgs(args, 1, 1, "rejected settled");
      const auto settled = device.settledRejections();
      for (const auto& r : settled) {
        std::cout << r.operationId << "  " << r.patientId << "  " << r.entityType << "/" << r.entityId << "  "
                  << r.action << (r.replacedBy.empty() ? "" : " as " + r.replacedBy) << " by " << r.settledBy << " at "
                  << r.settledAt << "\n"
                  << "    reason:  " << codeName(r.code) << ": " << r.reason << "\n";
        if (r.operation) std::cout << "    written: " << describeOperation(*r.operation) << "\n";
      }
      std::cout << settled.size() << " settled refusal(s)\n";
      return 0;
    }
    throw UsageError("rejected: \"" + action + "\" is not discard, retry or settled");
  }
  if (command == "status") {
    expectArgs(args, 0, 0, "status");
    const auto s = device.status();
    if (!s.wipedAt.empty()) {
      std::cout << "device:       wiped at " << s.wipedAt
                << " (revoked: nothing is kept; sign in again on a new device id)\n";
      return 0;
    }
    std::cout << "device:       " << (s.deviceId.empty() ? "(not enrolled)" : s.deviceId) << "\n"
              << "user:         " << s.userId << "\n"
              << "pending:      " << s.pending << "\n"
              << "rejected:     " << s.rejected << (s.rejected ? " (see hemma-device rejected)" : "") << "\n"
              << "cursor:       " << s.cursor << "\n"
              << "patients:     " << s.heldPatients << "\n"
              << "last success: " << (s.lastSuccess.empty() ? "never" : s.lastSuccess) << "\n"
              << "last error:   " << (s.lastError.empty() ? "none" : s.lastError) << "\n"
              << "failed syncs: " << s.failedSyncs << " since the last success\n";
    return 0;
  }
  throw UsageError("unknown command " + command);
}

// Splits one script line into words like a POSIX shell: 'single quotes' keep
// everything, "double quotes" allow \" and \\, a backslash outside quotes
// escapes the next character, and # at the start of a word begins a comment.
std::vector<std::string> splitLine(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool inWord = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\r') {
      if (inWord) words.push_back(std::move(word));
      word.clear();
      inWord = false;
    } else if (c == '#' && !inWord) {
      break;
    } else if (c == '\'') {
      const auto close = line.find('\'', i + 1);
      if (close == std::string::npos) throw UsageError("unterminated ' quote");
      word += line.substr(i + 1, close - i - 1);
      i = close;
      inWord = true;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() && (line[j + 1] == '"' || line[j + 1] == '\\')) ++j;
        word += line[j];
      }
      if (j >= line.size()) throw UsageError("unterminated \" quote");
      i = j;
      inWord = true;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) throw UsageError("a backslash at the end of the line");
      word += line[++i];
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push_back(std::move(word));
  return words;
}

int runScript(const Arguments& args) {
  const std::string& file = args.positional[1];
  std::ifstream input;
  if (file != "-") {
    input.open(file);
    if (!input) throw std::runtime_error("script: cannot read " + file);
  }
  std::istream& in = file == "-" ? std::cin : input;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = "line " + std::to_string(number) + ": ";
    int status = 0;
    try {
      const auto words = splitLine(line);
      if (words.empty()) continue;
      std::cout << "> " << line << "\n" << std::flush;
      const Arguments lineArgs = parseArguments(words, args);
      if (!lineArgs.positional.empty() && lineArgs.positional[0] == "script") {
        throw UsageError("script: a script cannot run another script");
      }
      status = run(lineArgs);
    } catch (const UsageError& e) {
      std::cerr << "hemma-device: " << where << e.what() << "\n";
      return 2;
    } catch (const std::invalid_argument& e) {
      std::cerr << "hemma-device: " << where << e.what() << "\n";
      return 2;
    } catch (const hemma::mobile::ServerError& e) {
      std::cerr << "hemma-device: " << where << "the server answered " << e.status() << ": " << e.what() << "\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "hemma-device: " << where << e.what() << "\n";
      return 1;
    }
    if (status != 0) {
      std::cerr << "hemma-device: " << where << "failed (exit status " << status << "); stopping\n";
      return status;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments defaults;
  defaults.db = envOr("HEMMA_DEVICE_DB", "hemma-device.db");
  defaults.server = envOr("HEMMA_SERVER", "http://127.0.0.1:8080");
  try {
    return run(parseArguments(std::vector<std::string>(argv + 1, argv + argc), defaults));
  } catch (const UsageError& e) {
    std::cerr << "hemma-device: " << e.what() << "\nRun 'hemma-device --help' for usage.\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "hemma-device: " << e.what() << "\n";
    return 2;
  } catch (const hemma::mobile::ServerError& e) {
    std::cerr << "hemma-device: the server answered " << e.status() << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "hemma-device: " << e.what() << "\n";
    return 1;
  }
}
