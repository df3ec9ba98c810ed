#pragma once
// Text checks shared by every place bytes become stored text: the server's HTTP
// layer and storage, and the tablet's core. Every stored text must be valid UTF-8,
// so a read can never fail on a row someone else wrote.

#include <string_view>

namespace hemma::sync {

// True if `text` is well-formed UTF-8 as RFC 3629 defines it: no overlong forms,
// no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
// sequence. The empty string is valid. NUL and other control characters are valid
// UTF-8; callers that must refuse them check separately. Pure, thread-safe.
bool isValidUtf8(std::string_view text);

}  // namespace hemma::sync
