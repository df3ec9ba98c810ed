#pragma once
// Starts the real hemma-server binary on a free loopback port and stops it.

#include <sys/types.h>

#include <string>
#include <vector>

namespace hemma::test {

class ServerProcess {
 public:
  // Starts `hemma-server --port 0 --db <database>` plus `extraArgs`, and
  // waits (up to 20 s) for its "listening on" line. Throws if it does not
  // come up, with what the server printed.
  explicit ServerProcess(std::string database, std::vector<std::string> extraArgs = {});
  // Stops the server with SIGTERM if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  pid_t pid() const { return m_pid; }

  // SIGKILL, as a crash: no clean shutdown.
  void kill();
  // SIGTERM and wait; returns the exit status.
  int stop();

 private:
  std::string m_database;
  pid_t m_pid = -1;
  int m_port = 0;
};

}  // namespace hemma::test
