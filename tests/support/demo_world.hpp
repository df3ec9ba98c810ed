#pragma once
// Tests against the demo world (server/include/hemma/server/demo_data.hpp):
// starting the real server with it, and signing tablets in.

#include <string>
#include <vector>

#include "hemma/mobile/device.hpp"
#include "support/server_process.hpp"

namespace hemma::test {

// hemma-server flags for the demo world with a fast password hash (tests log
// in often; production keeps the default iterations).
std::vector<std::string> demoServerArgs();

// Signs `device` in as `username` (password "demo") and registers it as
// `deviceId`. Throws if the server refuses.
api::Principal signIn(mobile::Device& device, const ServerProcess& server, const std::string& username,
                      const std::string& deviceId);

// `coordinator` (the patient's home coordinator) adds `practitionerId` to
// the patient's care team over REST, as on the web. Adding coordinator-rolf
// to patient-01's team gives patient-01 a second plan editor, so two tablets
// may edit its plan concurrently. Throws if the server refuses.
void addToCareTeam(const ServerProcess& server, const std::string& patientId, const std::string& practitionerId,
                   const std::string& coordinator = "coordinator-lena");

}  // namespace hemma::test
