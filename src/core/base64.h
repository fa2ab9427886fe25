// Standard base64 (RFC 4648 §4, with padding) over OpenSSL's EVP block coder.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace eg {

std::string base64_encode(std::string_view bytes);
// Line breaks and spaces are ignored; anything else out of the alphabet, or a length that is
// not a multiple of 4, is nullopt. "" decodes to "".
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace eg
