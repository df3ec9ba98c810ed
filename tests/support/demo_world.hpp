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

}  // namespace hemma::test
