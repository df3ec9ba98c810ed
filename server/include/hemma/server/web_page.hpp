#pragma once
// The web UI: every file under server/web/, embedded in the binary at build
// time (server/cmake/embed_web_files.cmake), served at "/" (index.html) and
// "/assets/<name>". Immutable static data; safe from any thread.

#include <string_view>
#include <utility>

namespace hemma::server {

struct WebFile {
  std::string_view path;  // relative to server/web/, e.g. "assets/app.js"
  std::string_view contentType;
  std::string_view content;
};

// The embedded file at `path`, or nullptr when there is none.
const WebFile* findWebFile(std::string_view path);

// Headers sent with every web file. The page loads scripts, styles and data
// from this server only and runs no inline script, so an injected tag in
// patient data cannot run.
inline constexpr std::pair<const char*, const char*> kWebFileHeaders[] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
     "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-cache"},
};

}  // namespace hemma::server
