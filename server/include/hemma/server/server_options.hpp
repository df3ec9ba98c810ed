#pragma once
// The server's settings, from defaults, then the config file, then flags.

#include <string>

namespace hemma::server {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  // 0 picks a free port; the chosen one is printed on the "listening" line.
  int port = 8080;
  std::string database = "hemma.db";
  bool demo = false;
  int threads = 16;
};

}  // namespace hemma::server
