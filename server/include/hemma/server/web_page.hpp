#pragma once
// The web page served at "/", embedded at build time from server/web/.

namespace hemma::server {

extern const char* const kIndexPage;

}  // namespace hemma::server
