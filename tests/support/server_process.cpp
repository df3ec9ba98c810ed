#include "support/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>
#include <thread>

namespace hemma::test {

ServerProcess::ServerProcess(std::string database, std::vector<std::string> extraArgs)
    : m_database(std::move(database)) {
  // The server's output goes to a file beside its database, so it can keep
  // logging however long the test runs; the test reads the "listening" line
  // from there.
  const std::string logPath = m_database + ".log";
  const int logFd = open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (logFd < 0) throw std::runtime_error("cannot create " + logPath);
  std::vector<std::string> args = {HEMMA_SERVER_BINARY, "--port", "0", "--db", m_database};
  args.insert(args.end(), extraArgs.begin(), extraArgs.end());

  const auto startOffset = lseek(logFd, 0, SEEK_END);
  m_pid = fork();
  if (m_pid < 0) throw std::runtime_error("fork failed");
  if (m_pid == 0) {
    dup2(logFd, STDOUT_FILENO);
    dup2(logFd, STDERR_FILENO);
    close(logFd);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(logFd);

  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string output;
  std::smatch match;
  while (true) {
    std::ifstream log(logPath, std::ios::binary);
    log.seekg(startOffset);
    output.assign(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>());
    if (std::regex_search(output, match, listening)) break;
    int status = 0;
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      throw std::runtime_error("hemma-server exited at start; it printed: " + output);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill();
      throw std::runtime_error("hemma-server did not start in time; it printed: " + output);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  m_port = std::stoi(match[1]);
}

ServerProcess::~ServerProcess() {
  if (m_pid > 0) stop();
}

void ServerProcess::kill() {
  if (m_pid <= 0) return;
  ::kill(m_pid, SIGKILL);
  int status = 0;
  waitpid(m_pid, &status, 0);
  m_pid = -1;
}

int ServerProcess::stop() {
  if (m_pid <= 0) return 0;
  ::kill(m_pid, SIGTERM);
  int status = 0;
  waitpid(m_pid, &status, 0);
  m_pid = -1;
  return status;
}

}  // namespace hemma::test
