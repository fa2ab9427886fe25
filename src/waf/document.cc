#include "waf/document.h"

namespace eg::waf {

std::string json_quoted(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

void JNode::fail(std::string_view message) const {
  throw DocError((path_.empty() ? std::string("(document)") : path_) + ": " + std::string(message));
}

static std::string_view type_name(const nlohmann::json& j) {
  if (j.is_object()) return "an object";
  if (j.is_array()) return "an array";
  if (j.is_string()) return "a string";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  return "null";
}

static std::string member_path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

bool JNode::has(std::string_view key) const {
  return j_->is_object() && j_->contains(key) && !(*j_)[std::string(key)].is_null();
}

JNode JNode::object() const {
  if (!j_->is_object()) fail("must be an object, got " + std::string(type_name(*j_)));
  return *this;
}

JNode JNode::at(std::string_view key) const {
  object();
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null()) fail("missing required field " + std::string(key));
  return JNode(*it, member_path(path_, key));
}

JNode JNode::index(size_t i) const {
  return JNode((*j_)[i], path_ + "[" + std::to_string(i) + "]");
}

std::vector<JNode> JNode::items() const {
  if (!j_->is_array()) fail("must be an array, got " + std::string(type_name(*j_)));
  std::vector<JNode> out;
  out.reserve(j_->size());
  for (size_t i = 0; i < j_->size(); ++i) out.push_back(index(i));
  return out;
}

std::vector<JNode> JNode::items(std::string_view key, size_t min, size_t max) const {
  JNode a = at(key);
  auto v = a.items();
  if (v.size() < min || v.size() > max)
    a.fail("must have " +
           (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)) +
           " elements, got " + std::to_string(v.size()));
  return v;
}

std::string JNode::str() const {
  if (!j_->is_string()) fail("must be a string, got " + std::string(type_name(*j_)));
  return j_->get<std::string>();
}

std::string JNode::str(std::string_view key) const { return at(key).str(); }

std::string JNode::str_or(std::string_view key, std::string_view fallback) const {
  return has(key) ? at(key).str() : std::string(fallback);
}

int64_t JNode::integer(int64_t min, int64_t max) const {
  if (!j_->is_number_integer() && !j_->is_number_unsigned())
    fail("must be an integer, got " + (j_->is_number() ? j_->dump() : std::string(type_name(*j_))));
  int64_t v = j_->is_number_unsigned() && j_->get<uint64_t>() > uint64_t(INT64_MAX)
                  ? INT64_MAX
                  : j_->get<int64_t>();
  if (v < min || v > max)
    fail(std::to_string(v) + " is out of range (" + std::to_string(min) + " to " +
         std::to_string(max) + ")");
  return v;
}

int64_t JNode::integer(std::string_view key, int64_t min, int64_t max) const {
  return at(key).integer(min, max);
}

bool JNode::boolean(std::string_view key, bool fallback) const {
  if (!has(key)) return fallback;
  JNode n = at(key);
  if (!n.json().is_boolean()) n.fail("must be true or false");
  return n.json().get<bool>();
}

std::string JNode::choice(std::initializer_list<std::string_view> allowed) const {
  std::string v = str();
  for (auto a : allowed)
    if (v == a) return v;
  fail(json_quoted(v) + " is not one of " + join(allowed));
}

std::string JNode::choice(std::string_view key,
                          std::initializer_list<std::string_view> allowed) const {
  return at(key).choice(allowed);
}

std::string JNode::single_key(std::string_view what) const {
  object();
  if (j_->size() != 1)
    fail("must have exactly one " + std::string(what) + ", got " + std::to_string(j_->size()));
  return j_->begin().key();
}

void JNode::only(std::initializer_list<std::string_view> known) const {
  object();
  for (auto it = j_->begin(); it != j_->end(); ++it) {
    bool ok = false;
    for (auto k : known) ok = ok || it.key() == k;
    if (!ok)
      JNode(*it, member_path(path_, it.key()))
          .fail("unknown field (expected one of " + join(known) + ")");
  }
}

}  // namespace eg::waf
