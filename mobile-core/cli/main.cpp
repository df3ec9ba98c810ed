// hemma-device: a command-line tablet. Each subcommand is one call of the
// device core's API (include/hemma/mobile/device.hpp).

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "hemma/mobile/device.hpp"
#include "hemma/mobile/http_transport.hpp"

namespace {

constexpr const char* kUsage = R"(Usage: hemma-device [OPTIONS] COMMAND [ARGS]

A command-line tablet: the Hemma device core with its own SQLite database.
Everything except `sync` works offline.

Commands:
  login USERNAME DEVICE_ID      sign in online once: log the user in and register this tablet
                                as DEVICE_ID (password from --password or $HEMMA_PASSWORD)
  note PATIENT_ID TEXT          record a visit note (offline; queued for the server)
       [--visit VISIT_ID] [--amends NOTE_ID]
  notes [PATIENT_ID]            list the visit notes on this device, oldest first
  set-field PATIENT_ID ENTITY_TYPE ENTITY_ID FIELD VALUE
                                change a field (e.g. medication med-1 dose "5 mg"); offline
  fields [PATIENT_ID]           list field values; "[merged]" marks an unresolved conflict
  conflicts [PATIENT_ID]        list conflict records (both values, authors)
  resolve CONFLICT_ID VALUE     confirm the value of a conflicted field
  sync                          push queued changes to the server, then pull new ones
  status                        device id, user, pending changes, last sync and error
  help                          show this text

Options:
  --db FILE        the device database (default: $HEMMA_DEVICE_DB or hemma-device.db)
  --server URL     the server (default: $HEMMA_SERVER or http://127.0.0.1:8080)
  --password PW    the password for `login` (default: $HEMMA_PASSWORD)
  -h, --help       show this text

Exit status: 0 on success, 1 when the command failed (e.g. the server was
unreachable; nothing is lost, run `sync` again), 2 for wrong usage.
)";

struct Arguments {
  std::string db;
  std::string server;
  std::vector<std::string> positional;
  std::optional<std::string> visit;
  std::optional<std::string> amends;
  std::optional<std::string> password;
};

[[noreturn]] void usageError(const std::string& message) {
  std::cerr << "hemma-device: " << message << "\nRun 'hemma-device --help' for usage.\n";
  std::exit(2);
}

std::string envOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

Arguments parseArguments(int argc, char** argv) {
  Arguments args;
  args.db = envOr("HEMMA_DEVICE_DB", "hemma-device.db");
  args.server = envOr("HEMMA_SERVER", "http://127.0.0.1:8080");
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
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
    } else if (arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1]))) {
      usageError("unknown option " + arg);
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

void expectArgs(const Arguments& args, std::size_t min, std::size_t max, const char* usage) {
  const std::size_t n = args.positional.size() - 1;
  if (n < min || n > max) usageError(std::string("usage: hemma-device ") + usage);
}

int run(const Arguments& args) {
  if (args.positional.empty()) usageError("no command given");
  const std::string& command = args.positional[0];
  if (command == "help") {
    std::cout << kUsage;
    return 0;
  }
  hemma::mobile::SystemClock clock;
  hemma::mobile::Device device(args.db, clock);

  if (command == "login") {
    expectArgs(args, 2, 2, "login USERNAME DEVICE_ID [--password PW]");
    const std::string password = args.password.value_or(envOr("HEMMA_PASSWORD", ""));
    if (password.empty()) usageError("login: no password (use --password or $HEMMA_PASSWORD)");
    hemma::mobile::HttpTransport transport(hemma::mobile::ServerAddress::parse(args.server));
    const auto user = device.signIn(transport, args.positional[1], password, args.positional[2]);
    std::cout << "signed in as " << user.name() << " (" << user.user_id() << ", "
              << hemma::domain::Role_Name(user.role()) << ", " << user.organisation_id() << "); this tablet is "
              << args.positional[2] << "\n";
    return 0;
  }
  if (command == "note") {
    expectArgs(args, 2, 2, "note PATIENT_ID TEXT [--visit VISIT_ID] [--amends NOTE_ID]");
    const auto note = device.writeNote(args.positional[1], args.visit.value_or(""), args.positional[2],
                                       args.amends.value_or(""));
    std::cout << "recorded note " << note.id() << " for patient " << note.patient_id() << " at "
              << note.written_at() << " (" << device.status().pending << " pending sync)\n";
    return 0;
  }
  if (command == "notes") {
    expectArgs(args, 0, 1, "notes [PATIENT_ID]");
    const auto notes = device.notes(args.positional.size() > 1 ? args.positional[1] : "");
    for (const auto& note : notes) {
      std::cout << note.written_at() << "  " << note.patient_id() << "  " << note.author_id() << "  " << note.id()
                << (note.amends_note_id().empty() ? "" : "  amends " + note.amends_note_id()) << "\n    "
                << note.text() << "\n";
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
    const auto fields = device.store().fields(args.positional.size() > 1 ? args.positional[1] : "");
    for (const auto& f : fields) {
      std::cout << f.patientId << "  " << f.entityType << "/" << f.entityId << "." << f.field << " = " << f.value
                << "  (" << f.authorId << ")" << (f.merged ? "  [merged]" : "") << "\n";
    }
    std::cout << fields.size() << " field(s)\n";
    return 0;
  }
  if (command == "conflicts") {
    expectArgs(args, 0, 1, "conflicts [PATIENT_ID]");
    const auto conflicts = device.conflicts(args.positional.size() > 1 ? args.positional[1] : "");
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
  if (command == "sync") {
    expectArgs(args, 0, 0, "sync");
    hemma::mobile::HttpTransport transport(hemma::mobile::ServerAddress::parse(args.server));
    const auto report = device.sync(transport);
    std::cout << "pushed " << report.pushed << " (" << report.duplicates << " already on the server), rejected "
              << report.rejected << ", pulled " << report.pulled << "\n";
    for (const auto& rejected : device.rejected()) {
      std::cout << "  rejected " << rejected.operation.id() << ": " << rejected.reason << "\n";
    }
    if (!report.ok) {
      std::cerr << "hemma-device: sync failed: " << report.error << " (" << device.status().pending
                << " change(s) kept on the device; run sync again)\n";
      return 1;
    }
    return 0;
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
              << "rejected:     " << s.rejected << "\n"
              << "cursor:       " << s.cursor << "\n"
              << "patients:     " << s.heldPatients << "\n"
              << "last success: " << (s.lastSuccess.empty() ? "never" : s.lastSuccess) << "\n"
              << "last error:   " << (s.lastError.empty() ? "none" : s.lastError) << "\n"
              << "failed syncs: " << s.failedSyncs << " since the last success\n";
    return 0;
  }
  usageError("unknown command " + command);
}

}  // namespace

int main(int argc, char** argv) {
  const Arguments args = parseArguments(argc, argv);
  try {
    return run(args);
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
