#include "origin/ipranges_document.h"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <cctype>

#include "origin/ipranges_json.h"

namespace eg::origin {
namespace {

// Collects problems, listing the first kMaxListedErrors and counting the rest.
class Problems {
 public:
  void add(std::string message) {
    if (list_.size() < kMaxListedErrors)
      list_.push_back(std::move(message));
    else
      ++more_;
  }
  bool empty() const { return list_.empty(); }
  std::vector<std::string> take() {
    if (more_) list_.push_back(fmt::format("... and {} more problem(s)", more_));
    return std::move(list_);
  }

 private:
  std::vector<std::string> list_;
  size_t more_ = 0;
};

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "D" a digit, anything else itself.
bool matches_shape(std::string_view s, std::string_view shape) {
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (shape[i] == 'D' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return false;
  }
  return true;
}

// Region, service and border-group codes: what AWS uses, and nothing that could surprise a
// firewall script or a tag (letters, digits, '_', '-').
bool is_code(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A string member; nullptr (and a problem) when it is absent or of another type.
const std::string* string_member(const Json& obj, const char* key, const std::string& path,
                                 Problems& problems, bool required = true) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) problems.add(fmt::format("{}{}: missing", path, key));
    return nullptr;
  }
  if (!it->is_string()) {
    problems.add(fmt::format("{}{}: expected a string, found {}", path, key, describe(*it)));
    return nullptr;
  }
  return &it->get_ref<const std::string&>();
}

// Reads the document in one pass, straight into the model: no JSON tree is built (the
// tree, its maps and their destruction took most of `plan`'s time on a 2.6 MB document).
// Problems carry the same paths the tree walk would give.
class DocumentReader : public nlohmann::json_sax<Json> {
 public:
  Problems problems;
  Document doc;
  std::string syntax_error;
  bool saw_sync_token = false, saw_create_date = false, saw_prefixes = false;
  bool root_was_object = false;

  bool null() override { return value("null"); }
  bool boolean(bool v) override { return value(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override {
    return value("the number " + std::to_string(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return value("the number " + std::to_string(v));
  }
  bool number_float(number_float_t, const string_t& raw) override {
    return value("the number " + raw);
  }
  bool binary(binary_t&) override { return value("binary data"); }
  bool string(string_t& v) override {
    if (skip_) return true;
    switch (where_) {
      case Where::Root:
        return value("the string " + json_quoted(v));
      case Where::TopValue:
        top_string(v);
        where_ = Where::TopObject;
        return true;
      case Where::Entry:
        if (field_) {
          field_->value = std::move(v);
          field_->state = State::String;
        }
        return true;
      default:
        return value("the string " + json_quoted(v));
    }
  }
  bool start_object(std::size_t) override {
    if (skip_) return ++skip_, true;
    switch (where_) {
      case Where::Root:
        where_ = Where::TopObject;
        root_was_object = true;
        return true;
      case Where::List:
        where_ = Where::Entry;
        entry_ = Fields{};
        return true;
      default:
        value("an object");
        skip_ = 1;
        return true;
    }
  }
  bool start_array(std::size_t) override {
    if (skip_) return ++skip_, true;
    if (where_ == Where::TopValue && list_) {
      where_ = Where::List;
      index_ = 0;
      return true;
    }
    value("an array");
    skip_ = 1;
    return true;
  }
  bool end_object() override {
    if (skip_) return end_skip();
    if (where_ == Where::Entry) {
      finish_entry();
      where_ = Where::List;
      ++index_;
    } else if (where_ == Where::TopObject) {
      where_ = Where::Done;
    }
    return true;
  }
  bool end_array() override {
    if (skip_) return end_skip();
    where_ = Where::TopObject;
    list_ = nullptr;
    return true;
  }
  bool key(string_t& k) override {
    if (skip_) return true;
    if (where_ == Where::TopObject) {
      where_ = Where::TopValue;
      key_ = std::move(k);
      list_ = nullptr;
      saw_sync_token = saw_sync_token || key_ == "syncToken";
      saw_create_date = saw_create_date || key_ == "createDate";
      if (key_ == "prefixes") {
        list_ = &doc.prefixes;
        version_ = IpVersion::V4;
        saw_prefixes = true;
      } else if (key_ == "ipv6_prefixes") {
        list_ = &doc.ipv6_prefixes;
        version_ = IpVersion::V6;
      }
      return true;
    }
    // Inside an entry.
    field_ = nullptr;
    const char* prefix_key = version_ == IpVersion::V4 ? "ip_prefix" : "ipv6_prefix";
    if (k == prefix_key) {
      field_ = &entry_.prefix, field_name_ = prefix_key;
    } else if (k == "region") {
      field_ = &entry_.region, field_name_ = "region";
    } else if (k == "service") {
      field_ = &entry_.service, field_name_ = "service";
    } else if (k == "network_border_group") {
      field_ = &entry_.nbg, field_name_ = "network_border_group";
    } else {
      field_name_ = nullptr;  // a key AWS may add later: ignored
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    syntax_error = e.what();
    if (auto p = syntax_error.find("] "); p != std::string::npos)
      syntax_error = syntax_error.substr(p + 2);
    return false;
  }

 private:
  enum class Where { Root, TopObject, TopValue, List, Entry, Done };
  enum class State { Absent, String, WrongType };
  struct Field {
    std::string value;
    State state = State::Absent;
  };
  struct Fields {
    Field prefix, region, service, nbg;
  };

  // The skipped value's place was settled when it started (value()).
  bool end_skip() {
    --skip_;
    return true;
  }
  // A value that is not what the place wants; `what` describes it.
  bool value(const std::string& what) {
    if (skip_) return true;
    switch (where_) {
      case Where::Root:
        problems.add(
            "expected an object with syncToken, createDate, prefixes and ipv6_prefixes, "
            "found " +
            what);
        where_ = Where::Done;
        return true;
      case Where::TopValue:
        if (key_ == "syncToken" || key_ == "createDate")
          problems.add(fmt::format("{}: expected a string, found {}", key_, what));
        else if (list_)
          problems.add(fmt::format("{}: expected an array, found {}", key_, what));
        break;
      case Where::List:
        problems.add(
            fmt::format("{}[{}]: expected an object, found {}", list_name(), index_, what));
        break;
      case Where::Entry:
        if (field_) {
          problems.add(fmt::format("{}[{}].{}: expected a string, found {}", list_name(), index_,
                                   field_name_, what));
          field_->state = State::WrongType;
          field_ = nullptr;
        }
        return true;
      default:
        return true;
    }
    after_value();
    return true;
  }
  // After a complete value (or a skipped object or array) in its place.
  void after_value() {
    if (where_ == Where::TopValue) {
      where_ = Where::TopObject;
      list_ = nullptr;
    } else if (where_ == Where::List) {
      ++index_;
    }
  }
  void top_string(const std::string& v) {
    if (key_ == "syncToken") {
      if (all_digits(v))
        doc.sync_token = v;
      else
        problems.add("syncToken: " + json_quoted(v) + " is not a number of seconds");
    } else if (key_ == "createDate") {
      if (matches_shape(v, "DDDD-DD-DD-DD-DD-DD"))
        doc.create_date = v;
      else
        problems.add("createDate: " + json_quoted(v) + " is not a date like 2026-08-22-15-17-05");
    } else if (list_) {
      problems.add(fmt::format("{}: expected an array, found the string {}", key_, json_quoted(v)));
    }
  }
  const char* list_name() const { return version_ == IpVersion::V4 ? "prefixes" : "ipv6_prefixes"; }
  void finish_entry() {
    const char* prefix_key = version_ == IpVersion::V4 ? "ip_prefix" : "ipv6_prefix";
    bool ok = true;
    RangeEntry e;
    if (entry_.prefix.state == State::String) {
      auto p = version_ == IpVersion::V4 ? parse_ipv4_prefix(entry_.prefix.value)
                                         : parse_ipv6_prefix(entry_.prefix.value);
      if (p) {
        e.prefix = *p;
      } else {
        problems.add(fmt::format("{}[{}].{}: {} is not {}", list_name(), index_, prefix_key,
                                 json_quoted(entry_.prefix.value),
                                 version_ == IpVersion::V4 ? "an IPv4 prefix" : "an IPv6 prefix"));
        ok = false;
      }
    } else {
      if (entry_.prefix.state == State::Absent)
        problems.add(fmt::format("{}[{}].{}: missing", list_name(), index_, prefix_key));
      ok = false;
    }
    struct Code {
      const char* key;
      Field* field;
      bool required;
    };
    for (Code c : {Code{"region", &entry_.region, true}, Code{"service", &entry_.service, true},
                   Code{"network_border_group", &entry_.nbg, false}}) {
      if (c.field->state == State::WrongType) {
        ok = false;
      } else if (c.field->state == State::Absent) {
        if (c.required) {
          problems.add(fmt::format("{}[{}].{}: missing", list_name(), index_, c.key));
          ok = false;
        }
      } else if (!is_code(c.field->value)) {
        problems.add(fmt::format("{}[{}].{}: {} is not a code (letters, digits, '_' and '-')",
                                 list_name(), index_, c.key, json_quoted(c.field->value)));
        ok = false;
      }
    }
    if (!ok) return;
    e.region = std::move(entry_.region.value);
    e.service = std::move(entry_.service.value);
    e.network_border_group = std::move(entry_.nbg.value);
    list_->push_back(std::move(e));
  }

  Where where_ = Where::Root;
  int skip_ = 0;  // depth inside a value being skipped
  std::string key_;
  std::vector<RangeEntry>* list_ = nullptr;
  IpVersion version_ = IpVersion::V4;
  size_t index_ = 0;
  Fields entry_;
  Field* field_ = nullptr;
  const char* field_name_ = nullptr;
};

}  // namespace

std::string md5_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_md5(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

DocumentResult parse_document(std::string_view bytes) {
  DocumentResult result;
  DocumentReader reader;
  bool parsed = Json::sax_parse(bytes.begin(), bytes.end(), &reader);
  if (!parsed || !reader.syntax_error.empty()) {
    result.errors.push_back("not JSON: " + (reader.syntax_error.empty() ? std::string("invalid")
                                                                        : reader.syntax_error));
    return result;
  }
  Problems& problems = reader.problems;
  // What is missing is only known at the end (a root that is not an object was said already).
  if (reader.root_was_object) {
    if (!reader.saw_sync_token) problems.add("syncToken: missing");
    if (!reader.saw_create_date) problems.add("createDate: missing");
    if (!reader.saw_prefixes) problems.add("prefixes: missing");
  }
  if (!problems.empty()) {
    result.errors = problems.take();
    return result;
  }
  Document doc = std::move(reader.doc);
  doc.md5 = md5_hex(bytes);
  doc.bytes = bytes.size();
  result.document = std::move(doc);
  return result;
}

namespace {

NotificationResult read_message(const Json& root, std::string_view where) {
  NotificationResult result;
  std::string path = where.empty() ? std::string() : std::string(where) + ".";
  if (!root.is_object()) {
    result.errors.push_back(
        fmt::format("{}expected the ip-ranges change message (an object with create-time, "
                    "synctoken, md5 and url), found {}",
                    where.empty() ? std::string() : std::string(where) + ": ", describe(root)));
    return result;
  }
  Problems problems;
  Notification n;
  if (const std::string* v = string_member(root, "create-time", path, problems)) {
    if (matches_shape(*v, "DDDD-DD-DD-DD-DD-DD") || matches_shape(*v, "DDDD-DD-DDTDD:DD:DD+DD:DD"))
      n.create_time = *v;
    else
      problems.add(
          fmt::format("{}create-time: {} is not a time like 2018-01-16-15-12-10 or "
                      "2018-01-16T15:12:10+00:00",
                      path, json_quoted(*v)));
  }
  if (const std::string* v = string_member(root, "synctoken", path, problems)) {
    if (all_digits(*v))
      n.sync_token = *v;
    else
      problems.add(
          fmt::format("{}synctoken: {} is not a number of seconds", path, json_quoted(*v)));
  }
  if (const std::string* v = string_member(root, "md5", path, problems)) {
    bool hex = v->size() == 32;
    for (char c : *v) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
    if (hex) {
      for (char c : *v) n.md5 += char(std::tolower(static_cast<unsigned char>(c)));
    } else {
      problems.add(
          fmt::format("{}md5: {} is not an MD5 digest (32 hex digits)", path, json_quoted(*v)));
    }
  }
  if (const std::string* v = string_member(root, "url", path, problems)) {
    if (v->rfind("https://", 0) == 0 || v->rfind("http://", 0) == 0)
      n.url = *v;
    else
      problems.add(fmt::format("{}url: {} is not an http(s) URL", path, json_quoted(*v)));
  }
  if (!problems.empty()) {
    result.errors = problems.take();
    return result;
  }
  n.source = "message";
  result.notification = std::move(n);
  return result;
}

}  // namespace

NotificationResult parse_notification_message(std::string_view message, std::string_view where) {
  JsonParse parsed = parse_json(message);
  if (!parsed.ok()) {
    NotificationResult result;
    result.errors.push_back((where.empty() ? std::string() : std::string(where) + ": ") +
                            parsed.error);
    return result;
  }
  return read_message(parsed.value, where);
}

NotificationResult parse_notification(std::string_view bytes) {
  NotificationResult result;
  JsonParse parsed = parse_json(bytes);
  if (!parsed.ok()) {
    result.errors.push_back(parsed.error);
    return result;
  }
  const Json& root = parsed.value;
  if (!root.is_object()) {
    result.errors.push_back(
        "expected an ip-ranges change message, an SNS notification or a "
        "Lambda event, found " +
        describe(root));
    return result;
  }
  auto fail = [&](std::string msg) {
    result.errors.push_back(std::move(msg));
    return result;
  };
  // The SNS body: Message holds the ip-ranges message as a JSON string.
  auto from_sns = [&](const Json& sns, const std::string& path, const char* source) {
    auto type = sns.find("Type");
    if (type != sns.end() && (!type->is_string() || *type != "Notification"))
      return fail(
          fmt::format("{}Type: expected \"Notification\", found {}", path, describe(*type)));
    auto msg = sns.find("Message");
    if (msg == sns.end()) return fail(path + "Message: missing");
    if (!msg->is_string())
      return fail(fmt::format("{}Message: expected the message as a JSON string, found {}", path,
                              describe(*msg)));
    NotificationResult inner =
        parse_notification_message(msg->get_ref<const std::string&>(), path + "Message");
    if (inner.notification) inner.notification->source = source;
    return inner;
  };
  if (auto records = root.find("Records"); records != root.end()) {
    if (!records->is_array() || records->empty())
      return fail("Records: expected a non-empty array, found " + describe(*records));
    const Json& first = (*records)[0];
    if (!first.is_object()) return fail("Records[0]: expected an object, found " + describe(first));
    auto sns = first.find("Sns");
    if (sns == first.end()) return fail("Records[0].Sns: missing (not an SNS event)");
    if (!sns->is_object())
      return fail("Records[0].Sns: expected an object, found " + describe(*sns));
    return from_sns(*sns, "Records[0].Sns.", "Lambda event");
  }
  if (root.contains("Message") || root.contains("Type")) return from_sns(root, "", "SNS envelope");
  return read_message(root, "");
}

std::optional<std::string> check_md5(const Document& d, const Notification& n) {
  if (d.md5 == n.md5) return std::nullopt;
  return fmt::format(
      "document refused: its MD5 is {} but the notification says {} (synctoken {}); the "
      "document changed since the notification or was altered on the way",
      d.md5, n.md5, n.sync_token);
}

}  // namespace eg::origin
