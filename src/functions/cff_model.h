// Private to the functions module: the name -> {value, multiValue} maps of CloudFront
// Functions events, read from a message and written as JSON; shared by the event builder
// and the result validator (which compares a result with what the function was shown).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace eg::functions::detail {

struct CffEntry {
  std::string value;
  std::optional<std::string> attributes;  // response cookies: everything after the first ';'
  bool operator==(const CffEntry&) const = default;
};
// Names in first-appearance order; a repeated name is one key with every occurrence.
using CffMap = std::vector<std::pair<std::string, std::vector<CffEntry>>>;

CffMap cff_query(std::string_view query);
// Lowercase names; Cookie / Set-Cookie and disallowed headers are left out (they are not
// shown as headers).
CffMap cff_headers(const std::vector<http::Header>& headers);
CffMap cff_request_cookies(const std::vector<http::Header>& headers);
CffMap cff_response_cookies(const std::vector<http::Header>& headers);

const std::vector<CffEntry>* find_entries(const CffMap& m, std::string_view name);
void append_cff_map(std::string& out, const CffMap& m);

}  // namespace eg::functions::detail
