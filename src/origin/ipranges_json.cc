#include "origin/ipranges_json.h"

namespace eg::origin {
namespace {

// Records the first syntax error: sax_parse reports it without throwing when the handler
// answers false.
class ErrorFinder : public nlohmann::json_sax<Json> {
 public:
  std::string error;
  size_t position = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool key(string_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception& e) override {
    position = pos;
    error = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    if (auto p = error.find("] "); p != std::string::npos) error = error.substr(p + 2);
    return false;
  }
};

}  // namespace

JsonParse parse_json(std::string_view bytes) {
  JsonParse out;
  // nlohmann takes a NUL byte as the end of the input and would ignore what follows; JSON
  // never holds a raw NUL (in a string it must be escaped), so there is nothing to lose.
  if (size_t nul = bytes.find('\0'); nul != std::string_view::npos) {
    out.error = "not JSON: a NUL byte at offset " + std::to_string(nul);
    out.value = nullptr;
    return out;
  }
  out.value = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!out.value.is_discarded()) return out;
  // Only a failed parse pays for the second pass that finds where and why.
  ErrorFinder finder;
  Json::sax_parse(bytes.begin(), bytes.end(), &finder);
  out.error = "not JSON: " + (finder.error.empty() ? std::string("invalid") : finder.error);
  out.value = nullptr;
  return out;
}

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case Json::value_t::string:
      return "the string " + json_quoted(v.get_ref<const std::string&>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "the number " + v.dump();
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    default:
      return "a value of another kind";
  }
}

std::string json_quoted(std::string_view s) {
  constexpr size_t kMax = 80;
  bool cut = s.size() > kMax;
  std::string shown(s.substr(0, kMax));
  // dump() escapes control characters and quotes; invalid UTF-8 is replaced, not thrown.
  std::string out = Json(shown).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

}  // namespace eg::origin
