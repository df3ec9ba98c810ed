#include "support/demo_world.hpp"

#include <stdexcept>

#include "hemma/mobile/http_transport.hpp"
#include "support/api_client.hpp"

namespace hemma::test {

std::vector<std::string> demoServerArgs() { return {"--demo", "--kdf-iterations", "1000"}; }

api::Principal signIn(mobile::Device& device, const ServerProcess& server, const std::string& username,
                      const std::string& deviceId) {
  mobile::HttpTransport transport(mobile::ServerAddress::parse(server.url()));
  return device.signIn(transport, username, "demo", deviceId);
}

void addToCareTeam(const ServerProcess& server, const std::string& patientId, const std::string& practitionerId,
                   const std::string& coordinator) {
  const std::string token = login(server.port(), coordinator);
  const HttpAnswer answer = call(server.port(), "POST", "/api/v1/patients/" + patientId + "/care-team", token,
                                 R"({"practitionerId": ")" + practitionerId + R"("})");
  if (answer.status != 200) {
    throw std::runtime_error("adding " + practitionerId + " to the care team of " + patientId + ": " +
                             std::to_string(answer.status) + " " + answer.body);
  }
}

}  // namespace hemma::test
