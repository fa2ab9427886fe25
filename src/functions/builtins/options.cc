#include "functions/builtins/options.h"

namespace eg::functions::builtins {

std::string_view json_type_name(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "a mapping";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

OptionReader::OptionReader(std::string_view builtin, const nlohmann::json& options,
                           const std::filesystem::path& base_dir, std::string& error)
    : builtin_(builtin), options_(options), base_dir_(base_dir), error_(error) {
  error_.clear();
  if (!options_.is_object() && !options_.is_null())
    fail(std::string("options must be a mapping, got ") + std::string(json_type_name(options_)));
}

void OptionReader::allow_only(std::initializer_list<std::string_view> allowed) {
  if (!ok() || !options_.is_object()) return;
  for (const auto& [key, value] : options_.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (known) continue;
    std::string list;
    for (std::string_view a : allowed) {
      if (!list.empty()) list += ", ";
      list += a;
    }
    fail("unknown option '" + key + "' (allowed: " + list + ")");
    return;
  }
}

const nlohmann::json* OptionReader::get(std::string_view key) const {
  if (!ok() || !options_.is_object()) return nullptr;
  auto it = options_.find(std::string(key));
  return it == options_.end() ? nullptr : &*it;
}

bool OptionReader::read(std::string_view key, std::string& out) {
  const nlohmann::json* v = get(key);
  if (!v) return false;
  if (!v->is_string()) {
    fail(key, "expected a string, got " + std::string(json_type_name(*v)));
    return false;
  }
  out = v->get<std::string>();
  return true;
}

bool OptionReader::read(std::string_view key, bool& out) {
  const nlohmann::json* v = get(key);
  if (!v) return false;
  if (!v->is_boolean()) {
    fail(key, "expected true or false, got " + std::string(json_type_name(*v)));
    return false;
  }
  out = v->get<bool>();
  return true;
}

bool OptionReader::read(std::string_view key, int64_t& out, int64_t min, int64_t max) {
  const nlohmann::json* v = get(key);
  if (!v) return false;
  if (!v->is_number_integer()) {
    fail(key, "expected an integer, got " + std::string(json_type_name(*v)));
    return false;
  }
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    fail(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                  ", got " + std::to_string(n));
    return false;
  }
  out = n;
  return true;
}

bool OptionReader::read(std::string_view key, std::vector<std::string>& out) {
  const nlohmann::json* v = get(key);
  if (!v) return false;
  if (v->is_string()) {
    out = {v->get<std::string>()};
    return true;
  }
  if (!v->is_array()) {
    fail(key, "expected a string or a list of strings, got " + std::string(json_type_name(*v)));
    return false;
  }
  out.clear();
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& item = (*v)[i];
    if (!item.is_string()) {
      fail(key, "item " + std::to_string(i + 1) + ": expected a string, got " +
                    std::string(json_type_name(item)));
      return false;
    }
    out.push_back(item.get<std::string>());
  }
  return true;
}

bool OptionReader::read_path(std::string_view key, std::filesystem::path& out) {
  std::string text;
  if (!read(key, text)) return false;
  if (text.empty()) {
    fail(key, "expected a file path, got an empty string");
    return false;
  }
  std::filesystem::path p(text);
  out = p.is_absolute() || base_dir_.empty() ? p : base_dir_ / p;
  return true;
}

void OptionReader::fail(std::string_view key, std::string_view message) {
  if (!ok()) return;
  error_ = std::string(builtin_) + ": " + std::string(key) + ": " + std::string(message);
}

void OptionReader::fail(std::string_view message) {
  if (!ok()) return;
  error_ = std::string(builtin_) + ": " + std::string(message);
}

}  // namespace eg::functions::builtins
