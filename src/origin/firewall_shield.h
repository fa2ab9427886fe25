// The shield backend: the address set of edgeguard's own shield mode.
//
// A text file, one CIDR per line, '#' comments (the shield's `addresses: {file: PATH}`),
// written atomically (temporary file, fsync, mode 0644, rename), then the shield gateway is
// told to reload in place (POST /reload on its admin listener, bearer token from a file).
// The shield keeps one set: every desired set goes into the one file (a section each), and
// the current state is the file's prefixes. Nothing differs: nothing is written, no reload.
#pragma once
#include <string>
#include <vector>

#include "origin/ipranges_backend.h"

namespace eg::origin {

BackendSpec shield_backend_spec();

// The file's prefixes, normalised; `error` names the line that is not a CIDR.
bool parse_shield_file(const std::string& text, const std::string& path, std::vector<Prefix>& out,
                       std::string& error);
std::string render_shield_file(const DesiredState& desired);

}  // namespace eg::origin
