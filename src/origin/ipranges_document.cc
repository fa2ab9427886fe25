#include "origin/ipranges_document.h"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <cctype>

#include "origin/ipranges_json.h"
#include "origin/ipranges_json_reader.h"

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

// Reads one entry of `prefixes` or `ipv6_prefixes` (the reader is at its '{').
class EntryReader {
 public:
  EntryReader(JsonReader& json, Problems& problems, IpVersion version)
      : json_(json), problems_(problems), version_(version) {}

  void read(size_t index, std::vector<RangeEntry>& out) {
    const char* list = version_ == IpVersion::V4 ? "prefixes" : "ipv6_prefixes";
    const char* prefix_key = version_ == IpVersion::V4 ? "ip_prefix" : "ipv6_prefix";
    Field prefix, region, service, border_group;
    json_.begin_object();
    while (json_.next_key(key_)) {
      Field* f = key_ == prefix_key               ? &prefix
                 : key_ == "region"               ? &region
                 : key_ == "service"              ? &service
                 : key_ == "network_border_group" ? &border_group
                                                  : nullptr;
      if (!f) {
        json_.skip_value();  // a key AWS may add later
        continue;
      }
      if (json_.peek() == JsonReader::Kind::String) {
        json_.read_string(f->value);
        f->state = State::String;
      } else {
        std::string found = json_.describe_and_skip();
        problems_.add(
            fmt::format("{}[{}].{}: expected a string, found {}", list, index, key_, found));
        f->state = State::WrongType;
      }
    }
    if (json_.failed()) return;
    bool ok = true;
    RangeEntry e;
    if (prefix.state == State::String) {
      auto p = version_ == IpVersion::V4 ? parse_ipv4_prefix(prefix.value)
                                         : parse_ipv6_prefix(prefix.value);
      if (p) {
        e.prefix = *p;
      } else {
        problems_.add(fmt::format("{}[{}].{}: {} is not {}", list, index, prefix_key,
                                  json_quoted(prefix.value),
                                  version_ == IpVersion::V4 ? "an IPv4 prefix" : "an IPv6 prefix"));
        ok = false;
      }
    } else {
      if (prefix.state == State::Absent)
        problems_.add(fmt::format("{}[{}].{}: missing", list, index, prefix_key));
      ok = false;
    }
    struct Code {
      const char* key;
      Field* field;
      bool required;
    };
    for (Code c : {Code{"region", &region, true}, Code{"service", &service, true},
                   Code{"network_border_group", &border_group, false}}) {
      if (c.field->state == State::WrongType) {
        ok = false;
      } else if (c.field->state == State::Absent) {
        if (c.required) {
          problems_.add(fmt::format("{}[{}].{}: missing", list, index, c.key));
          ok = false;
        }
      } else if (!is_code(c.field->value)) {
        problems_.add(fmt::format("{}[{}].{}: {} is not a code (letters, digits, '_' and '-')",
                                  list, index, c.key, json_quoted(c.field->value)));
        ok = false;
      }
    }
    if (!ok) return;
    e.region = std::move(region.value);
    e.service = std::move(service.value);
    e.network_border_group = std::move(border_group.value);
    out.push_back(std::move(e));
  }

 private:
  enum class State { Absent, String, WrongType };
  struct Field {
    std::string value;
    State state = State::Absent;
  };
  JsonReader& json_;
  Problems& problems_;
  IpVersion version_;
  std::string key_;
};

void read_list(JsonReader& json, const std::string& key, IpVersion version, Problems& problems,
               std::vector<RangeEntry>& out) {
  if (json.peek() != JsonReader::Kind::Array) {
    std::string found = json.describe_and_skip();
    problems.add(fmt::format("{}: expected an array, found {}", key, found));
    return;
  }
  json.begin_array();
  EntryReader entry(json, problems, version);
  size_t index = 0;
  out.reserve(version == IpVersion::V4 ? 16384 : 8192);
  while (json.next_element()) {
    if (json.peek() == JsonReader::Kind::Object) {
      entry.read(index, out);
    } else {
      std::string found = json.describe_and_skip();
      problems.add(fmt::format("{}[{}]: expected an object, found {}", key, index, found));
    }
    ++index;
  }
}

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

// One pass over the bytes, straight into the model: no JSON tree (building, walking and
// freeing a tree took most of `plan`'s time on the 2.6 MB document).
DocumentResult parse_document(std::string_view bytes) {
  DocumentResult result;
  JsonReader json(bytes);
  Problems problems;
  Document doc;
  bool saw_sync_token = false, saw_create_date = false, saw_prefixes = false;
  JsonReader::Kind kind = json.peek();
  if (kind == JsonReader::Kind::Object) {
    json.begin_object();
    std::string key, value;
    while (json.next_key(key)) {
      if (key == "syncToken" || key == "createDate") {
        bool sync = key == "syncToken";
        (sync ? saw_sync_token : saw_create_date) = true;
        if (json.peek() != JsonReader::Kind::String) {
          std::string found = json.describe_and_skip();
          problems.add(fmt::format("{}: expected a string, found {}", key, found));
          continue;
        }
        json.read_string(value);
        if (sync && all_digits(value))
          doc.sync_token = value;
        else if (sync)
          problems.add("syncToken: " + json_quoted(value) + " is not a number of seconds");
        else if (matches_shape(value, "DDDD-DD-DD-DD-DD-DD"))
          doc.create_date = value;
        else
          problems.add("createDate: " + json_quoted(value) +
                       " is not a date like 2026-08-22-15-17-05");
      } else if (key == "prefixes") {
        saw_prefixes = true;
        read_list(json, key, IpVersion::V4, problems, doc.prefixes);
      } else if (key == "ipv6_prefixes") {
        read_list(json, key, IpVersion::V6, problems, doc.ipv6_prefixes);
      } else {
        json.skip_value();  // a key AWS may add later
      }
    }
    if (!json.failed()) {
      if (!saw_sync_token) problems.add("syncToken: missing");
      if (!saw_create_date) problems.add("createDate: missing");
      if (!saw_prefixes) problems.add("prefixes: missing");
    }
  } else if (kind != JsonReader::Kind::Invalid && kind != JsonReader::Kind::End) {
    std::string found = json.describe_and_skip();
    problems.add(
        "expected an object with syncToken, createDate, prefixes and ipv6_prefixes, found " +
        found);
  } else if (kind == JsonReader::Kind::End) {
    json.skip_value();  // records "expected a value" at the end of the input
  }
  if (!json.finish()) {
    result.errors.push_back("not JSON: " + json.error());
    return result;
  }
  if (!problems.empty()) {
    result.errors = problems.take();
    return result;
  }
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
