#pragma once
// How the sync client reaches the server, behind an interface so tests can
// put a lossy, duplicating, reordering network (or the server core itself) in
// its place.

#include <stdexcept>
#include <string>

#include "hemma/api.pb.h"
#include "hemma/sync.pb.h"

namespace hemma::mobile {

// The request did not get an answer: no network, a refused connection, a
// timeout, a lost response. The server may or may not have acted on it.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server answered with an error (4xx/5xx); `status` is the HTTP status.
class ServerError : public std::runtime_error {
 public:
  ServerError(int status, const std::string& message) : std::runtime_error(message), m_status(status) {}
  int status() const { return m_status; }

 private:
  int m_status;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // All throw TransportError or ServerError on failure.
  virtual sync::PushResponse push(const sync::PushRequest& request) = 0;
  virtual sync::PullResponse pull(const sync::PullRequest& request) = 0;

  // The bearer token sent with every later request (the device's token).
  virtual void setToken(const std::string& token) { (void)token; }

  // Signing in (online, once per tablet): the user's login, then the
  // registration of this device under the login token. Transports that only
  // carry sync traffic (tests' in-memory networks) do not support them.
  virtual api::LoginResponse login(const api::LoginRequest& request) {
    (void)request;
    throw TransportError("login: not supported by this transport");
  }
  virtual api::RegisterDeviceResponse registerDevice(const api::RegisterDeviceRequest& request,
                                                     const std::string& userToken) {
    (void)request;
    (void)userToken;
    throw TransportError("device registration: not supported by this transport");
  }
  // GET /api/v1/patients/{id}/timeline with the token set by setToken().
  virtual api::Timeline timeline(const std::string& patientId) {
    (void)patientId;
    throw TransportError("timeline: not supported by this transport");
  }
};

}  // namespace hemma::mobile
