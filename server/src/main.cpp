// hemma-server: the Hemma server (Poco ServerApplication).

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IntValidator.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>
#include <Poco/UUIDGenerator.h>

#include <chrono>
#include <iostream>

#include "hemma/server/audit_log.hpp"
#include "hemma/server/auth_service.hpp"
#include "hemma/server/care_service.hpp"
#include "hemma/server/database.hpp"
#include "hemma/server/domain_store.hpp"
#include "hemma/server/demo_data.hpp"
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
    options.addOption(Option("kdf-iterations", "", "PBKDF2 iterations for new password hashes (hemma.kdf_iterations, "
                                                   "default 120000; lower only in tests)")
                          .argument("N")
                          .validator(new Poco::Util::IntValidator(1, 10'000'000))
                          .binding("hemma.kdf_iterations"));
    options.addOption(Option("demo", "", "load the demo data at start (hemma.demo, default false)")
                          .binding("hemma.demo")
                          .noArgument());
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
        "hemma.token_lifetime_seconds.");
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
    options.threads = config().getInt("hemma.threads", options.threads);
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

    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(options.bind, static_cast<Poco::UInt16>(options.port)));
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options.threads);
    params->setMaxQueued(1024);
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);
    Poco::Net::HTTPServer server(new hemma::server::Router({sync, care, auth, systemNowMs}), socket, params);
    server.start();
    std::cout << "hemma-server listening on http://" << options.bind << ":" << socket.address().port()
              << " (database " << options.database << ")" << std::endl;
    waitForTerminationRequest();
    server.stopAll(true);
    std::cout << "hemma-server stopped" << std::endl;
    return EXIT_OK;
  }

 private:
  bool m_helpShown = false;
};

}  // namespace

POCO_SERVER_MAIN(HemmaServer)
