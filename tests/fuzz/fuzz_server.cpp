#include "fuzz_server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Util/Application.h>
#include <google/protobuf/stubs/logging.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "hemma/server/demo_data.hpp"

namespace hemma::fuzz {

namespace {

namespace fs = std::filesystem;

constexpr const char* kJwtSecret = "fuzz-secret-of-at-least-thirty-two-bytes";

// The router logs a 500 through the application's logger; without an
// application that lookup itself would throw.
class FuzzApplication final : public Poco::Util::Application {};

struct Template {
  fs::path dir;
  fs::path file;
  api::Principal principals[kCallerCount];
  std::string authorizations[kCallerCount];
};

server::AuthSettings authSettings() {
  server::AuthSettings settings;
  settings.jwtSecret = kJwtSecret;
  // Cheap hashes: a login input must not cost 120,000 PBKDF2 rounds.
  settings.kdfIterations = 1;
  return settings;
}

struct CallerAccount {
  const char* user;
  bool tablet;
};
constexpr CallerAccount kAccounts[kCallerCount] = {
    {"nurse-karin", true},       {"nurse-olle", true},   {"nurse-maria", true},
    {"physician-sara", true},    {"nurse-karin", false}, {"physician-sara", false},
    {"coordinator-lena", false}, {"admin-ada", false},   {"patient-01", false},
};

fs::path scratchDir() {
  const fs::path shm = "/dev/shm";
  const fs::path base = fs::is_directory(shm) && access(shm.c_str(), W_OK) == 0 ? shm : fs::temp_directory_path();
  return base / ("hemma-fuzz-" + std::to_string(getpid()));
}

void removeScratch();

// Scratch folders of fuzz processes that crashed (an abort skips atexit).
void removeStaleScratch(const fs::path& base) {
  const std::string prefix = "hemma-fuzz-";
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(base, ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ignored);
  }
}

const Template& theTemplate() {
  static const Template* const made = [] {
    static Poco::Util::Application* const application = new FuzzApplication;
    (void)application;
    auto* t = new Template;
    t->dir = scratchDir();
    removeStaleScratch(t->dir.parent_path());
    fs::remove_all(t->dir);
    fs::create_directories(t->dir);
    std::atexit(removeScratch);
    t->file = t->dir / "template.db";
    server::Database database(t->file.string());
    server::OperationLog log(database);
    server::SyncService sync(log, "server-demo");
    server::DomainStore domain(database);
    server::AuditLog audit(database);
    server::AuthService auth(database, authSettings());
    server::loadDemoData(domain, auth, sync, kNowMs);
    for (std::size_t i = 0; i < kCallerCount; ++i) {
      api::LoginRequest login;
      login.set_username(kAccounts[i].user);
      login.set_password(server::kDemoPassword);
      const auto session = auth.login(login, kNowMs);
      std::string token = session.token();
      if (kAccounts[i].tablet) {
        token = auth.registerDevice(session.principal(), std::string(kAccounts[i].user) + "-tablet", kNowMs).token();
      }
      t->authorizations[i] = "Bearer " + token;
      t->principals[i] = auth.authenticate(t->authorizations[i], kNowMs);
    }
    return t;
  }();
  return *made;
}

void removeScratch() {
  std::error_code ignored;
  fs::remove_all(scratchDir(), ignored);
}

}  // namespace

ServerWorld::ServerWorld() {
  const Template& t = theTemplate();
  const fs::path work = t.dir / "work.db";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(work.string() + suffix);
  // libFuzzer's timeout alarm can interrupt the copy (sendfile): try again.
  for (int attempt = 1;; ++attempt) {
    std::error_code error;
    if (fs::copy_file(t.file, work, fs::copy_options::overwrite_existing, error)) break;
    if (error != std::errc::interrupted || attempt == 10)
      throw fs::filesystem_error("copy template", t.file, work, error);
  }
  m_database = std::make_unique<server::Database>(work.string());
  m_log = std::make_unique<server::OperationLog>(*m_database);
  m_sync = std::make_unique<server::SyncService>(*m_log, "server-fuzz");
  m_domain = std::make_unique<server::DomainStore>(*m_database);
  m_audit = std::make_unique<server::AuditLog>(*m_database);
  m_auth = std::make_unique<server::AuthService>(*m_database, authSettings());
  m_care = std::make_unique<server::CareService>(*m_domain, *m_log, *m_sync, *m_audit);
  m_router =
      std::make_unique<server::Router>(server::Services{*m_sync, *m_care, *m_auth, [] { return kNowMs; }, *m_database});
}

ServerWorld::~ServerWorld() = default;

int ServerWorld::serve(MemoryRequest& request) {
  MemoryResponse& response = request.memoryResponse();
  try {
    std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(m_router->createRequestHandler(request));
    if (!handler) fail(request.getMethod() + " " + request.getURI() + ": the router made no handler");
    handler->handleRequest(request, response);
  } catch (const std::exception& e) {
    fail(request.getMethod() + " " + request.getURI() + ": the handler threw " + e.what());
  }
  if (!response.sent()) fail(request.getMethod() + " " + request.getURI() + ": no answer was sent");
  const int status = static_cast<int>(response.getStatus());
  if (status >= 500) {
    fail(request.getMethod() + " " + request.getURI() + " answered " + std::to_string(status) + ": " + response.body());
  }
  return status;
}

const api::Principal& ServerWorld::principal(Caller caller) const {
  return theTemplate().principals[static_cast<std::size_t>(caller)];
}

const std::string& ServerWorld::authorization(Caller caller) const {
  return theTemplate().authorizations[static_cast<std::size_t>(caller)];
}

void quietProtobuf() { google::protobuf::SetLogHandler(nullptr); }

void fail(const std::string& what) {
  std::cerr << "fuzz invariant broken: " << what << std::endl;
  std::abort();
}

}  // namespace hemma::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hemma::fuzz::quietProtobuf();
  // The demo world's template is built here, not in the first input, so its
  // seconds are not taken for a slow input.
  const hemma::fuzz::ServerWorld warmUp;
  return 0;
}
