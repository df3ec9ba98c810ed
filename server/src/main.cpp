// hemma-server: the Hemma server (Poco ServerApplication).

#include <Poco/Net/ServerSocket.h>
#include <Poco/UUIDGenerator.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IntValidator.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "hemma/server/audit_log.hpp"
#include "hemma/server/auth_service.hpp"
#include "hemma/server/care_service.hpp"
#include "hemma/server/database.hpp"
#include "hemma/server/demo_data.hpp"
#include "hemma/server/domain_store.hpp"
#include "hemma/server/http_front_end.hpp"
#include "hemma/server/operation_log.hpp"
#include "hemma/server/router.hpp"
#include "hemma/server/server_options.hpp"
#include "hemma/server/sync_service.hpp"

namespace {

using Poco::Util::Option;
using Poco::Util::OptionCallback;

std::int64_t systemNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class HemmaServer final : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override {
    ServerApplication::defineOptions(options);
    options.addOption(Option("help", "h", "show this text and exit")
                          .callback(OptionCallback<HemmaServer>(this, &HemmaServer::handleHelp)));
    options.addOption(Option("config", "c", "read settings from FILE (a .properties file; keys below)")
                          .argument("FILE")
                          .callback(OptionCallback<HemmaServer>(this, &HemmaServer::handleConfig)));
    options.addOption(Option("port", "p", "listen on PORT (hemma.port, default 8080; 0 picks a free port)")
                          .argument("PORT")
                          .validator(new Poco::Util::IntValidator(0, 65535))
                          .binding("hemma.port"));
    options.addOption(Option("bind", "b", "listen on ADDRESS (hemma.bind, default 127.0.0.1)")
                          .argument("ADDRESS")
                          .binding("hemma.bind"));
    options.addOption(Option("db", "d", "SQLite database FILE, created if missing (hemma.database, default hemma.db)")
                          .argument("FILE")
                          .binding("hemma.database"));
    options.addOption(Option("kdf-iterations", "",
                             "PBKDF2 iterations for new password hashes (hemma.kdf_iterations, "
                             "default 120000; lower only in tests)")
                          .argument("N")
                          .validator(new Poco::Util::IntValidator(1, 10'000'000))
                          .binding("hemma.kdf_iterations"));
    options.addOption(Option("demo", "", "load the demo data at start (hemma.demo, default false)")
                          .binding("hemma.demo")
                          .noArgument());
    const hemma::server::ConnectionLimits defaults;
    addNumberOption(options, "threads", "hemma.threads", "workers answering requests", defaults.threads, 1, 1024);
    addNumberOption(options, "max-connections", "hemma.max_connections", "open connections in all",
                    static_cast<int>(defaults.maxConnections), 1, 1'000'000);
    addNumberOption(options, "max-connections-per-address", "hemma.max_connections_per_address",
                    "open connections from one client address (raise it behind a proxy)",
                    static_cast<int>(defaults.maxConnectionsPerAddress), 1, 1'000'000);
    addNumberOption(options, "header-timeout", "hemma.header_timeout_seconds",
                    "seconds from a request head's first byte to its end, else 408",
                    static_cast<int>(defaults.headerTimeout.count()), 1, 3600);
    addNumberOption(options, "body-timeout", "hemma.body_timeout_seconds",
                    "seconds for a whole request body (else 408) and for writing an answer",
                    static_cast<int>(defaults.bodyTimeout.count()), 1, 3600);
    addNumberOption(options, "keep-alive-timeout", "hemma.keep_alive_timeout_seconds",
                    "seconds a connection may wait idle for its next request",
                    static_cast<int>(defaults.keepAliveTimeout.count()), 1, 3600);
    addNumberOption(options, "keep-alive-requests", "hemma.keep_alive_requests", "requests on one connection",
                    defaults.keepAliveRequests, 1, 1'000'000);
  }

  void addNumberOption(Poco::Util::OptionSet& options, const std::string& flag, const std::string& key,
                       const std::string& what, int fallback, int low, int high) {
    options.addOption(Option(flag, "", what + " (" + key + ", default " + std::to_string(fallback) + ")")
                          .argument("N")
                          .validator(new Poco::Util::IntValidator(low, high))
                          .binding(key));
  }

  // A setting from the configuration, checked against [low, high].
  bool readNumber(const std::string& key, int low, int high, int& value) {
    value = config().getInt(key, value);
    if (value >= low && value <= high) return true;
    std::cerr << "hemma-server: " << key << ": " << value << " is not between " << low << " and " << high << "\n";
    return false;
  }

  bool readConnectionLimits(hemma::server::ConnectionLimits& limits) {
    int maxConnections = static_cast<int>(limits.maxConnections);
    int perAddress = static_cast<int>(limits.maxConnectionsPerAddress);
    int header = static_cast<int>(limits.headerTimeout.count());
    int body = static_cast<int>(limits.bodyTimeout.count());
    int keepAlive = static_cast<int>(limits.keepAliveTimeout.count());
    const bool ok = readNumber("hemma.threads", 1, 1024, limits.threads) &&
                    readNumber("hemma.max_connections", 1, 1'000'000, maxConnections) &&
                    readNumber("hemma.max_connections_per_address", 1, 1'000'000, perAddress) &&
                    readNumber("hemma.header_timeout_seconds", 1, 3600, header) &&
                    readNumber("hemma.body_timeout_seconds", 1, 3600, body) &&
                    readNumber("hemma.keep_alive_timeout_seconds", 1, 3600, keepAlive) &&
                    readNumber("hemma.keep_alive_requests", 1, 1'000'000, limits.keepAliveRequests);
    limits.maxConnections = static_cast<std::size_t>(maxConnections);
    limits.maxConnectionsPerAddress = static_cast<std::size_t>(perAddress);
    limits.headerTimeout = std::chrono::seconds(header);
    limits.bodyTimeout = std::chrono::seconds(body);
    limits.keepAliveTimeout = std::chrono::seconds(keepAlive);
    return ok;
  }

  // Every connection is a file descriptor: raise the soft limit as far as the
  // hard one allows, and keep the cap below it (with room for the database
  // and the listener), so the cap, not accept(), is what refuses.
  void fitConnectionsToDescriptors(hemma::server::ConnectionLimits& limits) {
    constexpr rlim_t kSpare = 64;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
    const rlim_t wanted = static_cast<rlim_t>(limits.maxConnections) + kSpare;
    if (files.rlim_cur < wanted && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = std::min(wanted, files.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &files);
      ::getrlimit(RLIMIT_NOFILE, &files);
    }
    if (files.rlim_cur < wanted && files.rlim_cur > kSpare) {
      limits.maxConnections = static_cast<std::size_t>(files.rlim_cur - kSpare);
      logger().warning("hemma.max_connections: lowered to %z, what the open-file limit allows", limits.maxConnections);
    }
  }

  void handleHelp(const std::string&, const std::string&) {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[OPTIONS]");
    help.setHeader(
        "The Hemma server: shared care plans, visits and notes for home care, and the sync hub for the nurses' "
        "tablets. Settings come from defaults, then the --config file, then flags.");
    help.setFooter(
        "On start it prints \"hemma-server listening on http://ADDRESS:PORT\" and serves until SIGINT or SIGTERM. "
        "Config file keys: hemma.port, hemma.bind, hemma.database, hemma.demo, hemma.threads, hemma.jwt_secret "
        "(HS256 key, at least 32 bytes; a random one is kept in the database when unset), hemma.kdf_iterations, "
        "hemma.token_lifetime_seconds, hemma.login_failures_per_account (default 5), "
        "hemma.login_failures_per_address (default 50), hemma.login_failure_window_seconds (default 900), and the "
        "connection settings above (hemma.threads, hemma.max_connections, "
        "hemma.max_connections_per_address, hemma.header_timeout_seconds, hemma.body_timeout_seconds, "
        "hemma.keep_alive_timeout_seconds, hemma.keep_alive_requests).");
    help.format(std::cout);
    m_helpShown = true;
    stopOptionsProcessing();
  }

  void handleConfig(const std::string&, const std::string& value) { loadConfiguration(value, PRIO_DEFAULT); }

  int main(const std::vector<std::string>& args) override {
    if (m_helpShown) return EXIT_OK;
    if (!args.empty()) {
      std::cerr << "hemma-server: unexpected argument " << args.front() << " (see --help)\n";
      return EXIT_USAGE;
    }
    hemma::server::ServerOptions options;
    options.bind = config().getString("hemma.bind", options.bind);
    options.port = config().getInt("hemma.port", options.port);
    options.database = config().getString("hemma.database", options.database);
    options.demo = config().hasProperty("hemma.demo") &&
                   (config().getString("hemma.demo").empty() || config().getBool("hemma.demo"));
    if (!readConnectionLimits(options.connections)) return EXIT_CONFIG;
    if (options.port < 0 || options.port > 65535) {
      std::cerr << "hemma-server: hemma.port: " << options.port << " is not a port number\n";
      return EXIT_CONFIG;
    }

    hemma::server::Database database(options.database);
    hemma::server::OperationLog log(database);
    hemma::server::SyncService sync(log, "server-" + Poco::UUIDGenerator::defaultGenerator().createRandom().toString());
    hemma::server::DomainStore domain(database);
    hemma::server::AuditLog audit(database);
    hemma::server::AuthSettings authSettings;
    authSettings.jwtSecret = config().getString("hemma.jwt_secret", "");
    authSettings.kdfIterations = config().getInt("hemma.kdf_iterations", authSettings.kdfIterations);
    authSettings.loginTokenLifetime = std::chrono::seconds(
        config().getInt("hemma.token_lifetime_seconds", static_cast<int>(authSettings.loginTokenLifetime.count())));
    authSettings.maxFailures = config().getInt("hemma.login_failures_per_account", authSettings.maxFailures);
    authSettings.maxFailuresPerAddress =
        config().getInt("hemma.login_failures_per_address", authSettings.maxFailuresPerAddress);
    authSettings.failureWindow = std::chrono::seconds(
        config().getInt("hemma.login_failure_window_seconds", static_cast<int>(authSettings.failureWindow.count())));
    if (authSettings.jwtSecret.empty()) {
      authSettings.jwtSecret = database.generatedSecret("jwt_secret");
      logger().warning("hemma.jwt_secret is not configured; using a random secret kept in the database");
    }
    hemma::server::AuthService auth(database, authSettings);
    hemma::server::CareService care(domain, log, sync, audit);
    if (options.demo) {
      const auto added = hemma::server::loadDemoData(domain, auth, sync, systemNowMs());
      logger().information("demo data: %z patient(s) added; every demo password is \"%s\"", added,
                           std::string(hemma::server::kDemoPassword));
    }

    // A deep backlog: connections wait there only until the watcher accepts them.
    constexpr int kBacklog = 1024;
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(options.bind, static_cast<Poco::UInt16>(options.port)),
                                   kBacklog);
    fitConnectionsToDescriptors(options.connections);
    hemma::server::HttpFrontEnd server(socket, new hemma::server::Router({sync, care, auth, systemNowMs, database}),
                                       options.connections);
    server.start();
    std::cout << "hemma-server listening on http://" << options.bind << ":" << socket.address().port() << " (database "
              << options.database << ")" << std::endl;
    waitForTerminationRequest();
    server.stop();
    std::cout << "hemma-server stopped" << std::endl;
    return EXIT_OK;
  }

 private:
  bool m_helpShown = false;
};

}  // namespace

POCO_SERVER_MAIN(HemmaServer)
