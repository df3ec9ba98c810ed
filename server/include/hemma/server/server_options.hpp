#pragma once
// The server's settings, from defaults, then the config file, then flags.

#include <chrono>
#include <cstddef>
#include <string>

namespace hemma::server {

// How the HTTP front end (http_front_end.hpp) treats connections. The
// defaults let 1,000 kept-alive tablets share a pool of 16 workers, and keep
// idle or slow clients from holding any worker at all.
struct ConnectionLimits {
  // Workers that parse and answer requests (hemma.threads).
  int threads = 16;
  // Open connections in all (hemma.max_connections) and from one client
  // address (hemma.max_connections_per_address); past either, a new
  // connection is answered 503 with Retry-After and closed at once. Behind a
  // proxy every connection comes from the proxy's address: raise the latter.
  std::size_t maxConnections = 4096;
  std::size_t maxConnectionsPerAddress = 256;
  // From the first byte of a request head to its empty line
  // (hemma.header_timeout_seconds); past it: 408 and close.
  std::chrono::seconds headerTimeout{10};
  // For a whole request body, and for writing an answer
  // (hemma.body_timeout_seconds); past it: 408 and close.
  std::chrono::seconds bodyTimeout{30};
  // A connection with no request in progress (new, or kept alive after an
  // answer) is closed quietly after this (hemma.keep_alive_timeout_seconds).
  std::chrono::seconds keepAliveTimeout{15};
  // Requests on one connection before the server closes it
  // (hemma.keep_alive_requests).
  int keepAliveRequests = 1000;
  // The Retry-After of a 503 refused for a cap.
  std::chrono::seconds retryAfter{5};
};

struct ServerOptions {
  std::string bind = "127.0.0.1";
  // 0 picks a free port; the chosen one is printed on the "listening" line.
  int port = 8080;
  std::string database = "hemma.db";
  bool demo = false;
  ConnectionLimits connections;
};

}  // namespace hemma::server
