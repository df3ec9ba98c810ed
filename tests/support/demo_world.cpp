#include "support/demo_world.hpp"

#include "hemma/mobile/http_transport.hpp"

namespace hemma::test {

std::vector<std::string> demoServerArgs() { return {"--demo", "--kdf-iterations", "1000"}; }

api::Principal signIn(mobile::Device& device, const ServerProcess& server, const std::string& username,
                      const std::string& deviceId) {
  mobile::HttpTransport transport(mobile::ServerAddress::parse(server.url()));
  return device.signIn(transport, username, "demo", deviceId);
}

}  // namespace hemma::test
