#include "waf/fields.h"

#include <algorithm>

#include "core/strings.h"
#include "waf/context.h"

namespace eg::waf {

namespace {

constexpr size_t kHeaderInspectBytes = 8 * 1024;  // Headers, Cookies, HeaderOrder (§3.3)
constexpr size_t kHeaderInspectCount = 200;

Oversize parse_oversize(const JNode& n, bool required) {
  if (!n.has("OversizeHandling")) {
    if (required) n.fail("missing required field OversizeHandling (CONTINUE, MATCH or NO_MATCH)");
    return Oversize::Continue;
  }
  auto v = n.choice("OversizeHandling", {"CONTINUE", "MATCH", "NO_MATCH"});
  return v == "MATCH" ? Oversize::Match : v == "NO_MATCH" ? Oversize::NoMatch : Oversize::Continue;
}

MatchScope parse_scope(const JNode& n) {
  auto v = n.choice("MatchScope", {"ALL", "KEY", "VALUE"});
  return v == "KEY" ? MatchScope::Key : v == "VALUE" ? MatchScope::Value : MatchScope::All;
}

Fallback parse_fallback(const JNode& n) {
  return n.choice("FallbackBehavior", {"MATCH", "NO_MATCH"}) == "MATCH" ? Fallback::Match
                                                                        : Fallback::NoMatch;
}

void parse_name_pattern(const JNode& pattern, std::string_view included, std::string_view excluded,
                        bool lower, FieldSpec& f) {
  auto key = pattern.single_key("of All, " + std::string(included) + ", " + std::string(excluded));
  if (key == "All") return;
  if (key != included && key != excluded)
    pattern.at(key).fail("is not one of All, " + std::string(included) + ", " +
                         std::string(excluded));
  f.excluded = key == excluded;
  for (const auto& n : pattern.items(key, 1, 199)) {
    std::string name = n.str();
    if (name.empty()) n.fail("must not be empty");
    f.names.push_back(lower ? to_lower(name) : name);
  }
}

}  // namespace

namespace {

// `[{"Priority": n, "Type": "..."}]` in priority order (unique priorities, at most 10), with
// NONE steps dropped. Text and pre-parse transformations share the shape, not the types.
template <typename T>
std::vector<T> parse_priority_list(const JNode& list, bool at_least_one,
                                   std::optional<T> (*parse)(std::string_view),
                                   std::string_view names) {
  auto items = list.items();
  if (at_least_one && items.empty())
    list.fail("needs at least one transformation (use {\"Priority\":0,\"Type\":\"NONE\"})");
  if (items.size() > 10)
    list.fail("has " + std::to_string(items.size()) + " transformations; AWS allows at most 10");
  std::vector<std::pair<int64_t, T>> by_priority;
  for (const auto& t : items) {
    t.only({"Priority", "Type"});
    int64_t priority = t.integer("Priority", 0, INT32_MAX);
    for (const auto& [p, _] : by_priority)
      if (p == priority)
        t.at("Priority")
            .fail("priority " + std::to_string(priority) +
                  " is used twice; transformation priorities must be unique");
    auto type = t.at("Type");
    auto parsed = parse(type.str());
    if (!parsed) type.fail(json_quoted(type.str()) + " is not one of " + std::string(names));
    by_priority.emplace_back(priority, *parsed);
  }
  std::sort(by_priority.begin(), by_priority.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<T> out;
  for (const auto& [_, t] : by_priority)
    if (t != T::NONE) out.push_back(t);
  return out;
}

}  // namespace

std::vector<Transform> parse_transforms(const JNode& list) {
  return parse_priority_list<Transform>(list, true, parse_transform, transform_names());
}

FieldSpec parse_field(const JNode& statement, const FieldParseOptions& o) {
  FieldSpec f;
  JNode ftm = statement.at("FieldToMatch");
  std::string kind = ftm.single_key("field (UriPath, QueryString, SingleHeader, ...)");
  JNode body = ftm.at(kind).object();
  if (kind == "UriPath")
    f.kind = FieldKind::UriPath;
  else if (kind == "QueryString")
    f.kind = FieldKind::QueryString;
  else if (kind == "Method")
    f.kind = FieldKind::Method;
  else if (kind == "AllQueryArguments")
    f.kind = FieldKind::AllQueryArguments;
  else if (kind == "SingleHeader" || kind == "SingleQueryArgument") {
    f.kind = kind == "SingleHeader" ? FieldKind::SingleHeader : FieldKind::SingleQueryArgument;
    body.only({"Name"});
    f.name = to_lower(body.str("Name"));
    if (f.name.empty() || f.name.size() > 64) body.at("Name").fail("must be 1 to 64 characters");
  } else if (kind == "Body") {
    f.kind = FieldKind::Body;
    body.only({"OversizeHandling"});
    f.oversize = parse_oversize(body, false);
  } else if (kind == "JsonBody") {
    f.kind = FieldKind::JsonBody;
    body.only({"MatchPattern", "MatchScope", "InvalidFallbackBehavior", "OversizeHandling"});
    JNode pattern = body.at("MatchPattern");
    auto pk = pattern.single_key("of All, IncludedPaths");
    if (pk == "IncludedPaths") {
      for (const auto& p : pattern.items("IncludedPaths", 1, 1000)) {
        std::string ptr = p.str();
        if (auto why = check_json_pointer(ptr); !why.empty()) p.fail(why);
        f.json.included_paths.push_back(ptr);
      }
    } else if (pk != "All") {
      pattern.at(pk).fail("is not one of All, IncludedPaths");
    }
    auto scope = parse_scope(body);
    f.json.scope = scope == MatchScope::Key     ? JsonScope::Key
                   : scope == MatchScope::Value ? JsonScope::Value
                                                : JsonScope::All;
    if (body.has("InvalidFallbackBehavior")) {
      auto v = body.choice("InvalidFallbackBehavior", {"MATCH", "NO_MATCH", "EVALUATE_AS_STRING"});
      f.json.fallback = v == "MATCH"      ? JsonInvalidFallback::Match
                        : v == "NO_MATCH" ? JsonInvalidFallback::NoMatch
                                          : JsonInvalidFallback::EvaluateAsString;
    }
    f.oversize = parse_oversize(body, false);
  } else if (kind == "Headers" || kind == "Cookies") {
    bool headers = kind == "Headers";
    f.kind = headers ? FieldKind::Headers : FieldKind::Cookies;
    body.only({"MatchPattern", "MatchScope", "OversizeHandling"});
    parse_name_pattern(body.at("MatchPattern"), headers ? "IncludedHeaders" : "IncludedCookies",
                       headers ? "ExcludedHeaders" : "ExcludedCookies", headers, f);
    f.scope = parse_scope(body);
    f.oversize = parse_oversize(body, true);
  } else if (kind == "HeaderOrder") {
    f.kind = FieldKind::HeaderOrder;
    body.only({"OversizeHandling"});
    f.oversize = parse_oversize(body, true);
  } else if (kind == "JA3Fingerprint" || kind == "JA4Fingerprint" || kind == "UriFragment") {
    f.kind = kind == "JA3Fingerprint"   ? FieldKind::JA3Fingerprint
             : kind == "JA4Fingerprint" ? FieldKind::JA4Fingerprint
                                        : FieldKind::UriFragment;
    body.only({"FallbackBehavior"});
    if (kind != "UriFragment" && !o.allow_ja3_ja4)
      ftm.at(kind).fail(
          kind +
          " can only be inspected by a ByteMatchStatement with PositionalConstraint EXACTLY");
    f.fallback = body.has("FallbackBehavior") ? parse_fallback(body) : Fallback::NoMatch;
    if (kind != "UriFragment" && !body.has("FallbackBehavior"))
      body.fail("missing required field FallbackBehavior (MATCH or NO_MATCH)");
  } else {
    ftm.at(kind).fail(
        "is not a FieldToMatch (UriPath, QueryString, SingleHeader, "
        "SingleQueryArgument, AllQueryArguments, Body, JsonBody, Method, Headers, "
        "Cookies, HeaderOrder, JA3Fingerprint, JA4Fingerprint, UriFragment)");
  }
  if (kind == "UriPath" || kind == "QueryString" || kind == "Method" || kind == "AllQueryArguments")
    body.only({});

  f.transforms = parse_transforms(statement.at("TextTransformations"));
  if (statement.has("PreParseTextTransformations")) {
    JNode pre = statement.at("PreParseTextTransformations");
    if (f.kind != FieldKind::SingleQueryArgument && f.kind != FieldKind::AllQueryArguments)
      pre.fail("applies only to SingleQueryArgument and AllQueryArguments");
    f.pre_parse = parse_priority_list<PreParseTransform>(pre, false, parse_pre_parse_transform,
                                                         pre_parse_transform_names());
  }
  // The interning key: everything that changes what is extracted.
  f.key = ftm.json().dump() + "|";
  for (auto t : f.transforms) f.key += std::string(transform_name(t)) + ",";
  f.key += "|";
  for (auto t : f.pre_parse) f.key += std::to_string(int(t)) + ",";
  return f;
}

// ---- extraction -----------------------------------------------------------------------

namespace {

void add_query_args(const FieldSpec& f, std::string_view query, FieldValues& out) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view arg = query.substr(start, amp - start);
    if (!arg.empty()) {
      size_t eq = arg.find('=');
      std::string_view name = arg.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : arg.substr(eq + 1);
      if (f.kind == FieldKind::AllQueryArguments || iequals(name, f.name))
        out.items.emplace_back(value);
    }
    start = amp + 1;
  }
}

bool name_selected(const FieldSpec& f, std::string_view name, bool case_insensitive) {
  if (f.names.empty()) return true;
  bool listed = false;
  for (const auto& n : f.names)
    if (case_insensitive ? iequals(n, name) : n == name) listed = true;
  return f.excluded ? !listed : listed;
}

void add_key_value(const FieldSpec& f, std::string_view key, std::string_view value,
                   FieldValues& out) {
  if (f.scope != MatchScope::Value) out.items.emplace_back(key);
  if (f.scope != MatchScope::Key) out.items.emplace_back(value);
}

FieldValues::Forced forced(Oversize o) {
  return o == Oversize::Match ? FieldValues::Forced::Match : FieldValues::Forced::NoMatch;
}

}  // namespace

void extract_field(const FieldSpec& f, const Request& r, size_t body_limit, FieldValues& out) {
  switch (f.kind) {
    case FieldKind::UriPath:
      out.items.emplace_back(r.uri_path);
      return;
    case FieldKind::QueryString:
      out.items.emplace_back(r.query_string);
      return;
    case FieldKind::Method:
      out.items.emplace_back(r.method);
      return;
    case FieldKind::SingleHeader:
      for (const auto& h : r.headers)
        if (iequals(h.name, f.name)) out.items.emplace_back(h.value);
      return;
    case FieldKind::SingleQueryArgument:
    case FieldKind::AllQueryArguments: {
      if (f.pre_parse.empty()) {
        add_query_args(f, r.query_string, out);
        return;
      }
      std::string q(r.query_string), tmp;
      for (auto t : f.pre_parse) {
        apply_pre_parse_transform(t, q, tmp);
        q.swap(tmp);
      }
      add_query_args(f, out.own(std::move(q)), out);
      return;
    }
    case FieldKind::Body:
      if (r.body.size() > body_limit && f.oversize != Oversize::Continue) {
        out.forced = forced(f.oversize);
        return;
      }
      out.items.emplace_back(r.body.substr(0, body_limit));
      return;
    case FieldKind::JsonBody: {
      if (r.body.size() > body_limit && f.oversize != Oversize::Continue) {
        out.forced = forced(f.oversize);
        return;
      }
      auto res = inspect_json_body(r.body.substr(0, body_limit), f.json);
      if (res.outcome == JsonBodyResult::Outcome::Match)
        out.forced = FieldValues::Forced::Match;
      else if (res.outcome == JsonBodyResult::Outcome::NoMatch)
        out.forced = FieldValues::Forced::NoMatch;
      else
        for (auto& item : res.items) out.items.push_back(out.own(std::move(item)));
      return;
    }
    case FieldKind::Headers: {
      size_t bytes = 0, count = 0;
      for (const auto& h : r.headers) {
        bytes += h.name.size() + h.value.size() + 4;
        if (++count > kHeaderInspectCount || bytes > kHeaderInspectBytes) {
          if (f.oversize != Oversize::Continue) {
            out.items.clear();
            out.forced = forced(f.oversize);
          }
          return;
        }
        if (name_selected(f, h.name, true))
          add_key_value(
              f, f.scope == MatchScope::Value ? std::string_view() : out.own(to_lower(h.name)),
              h.value, out);
      }
      return;
    }
    case FieldKind::Cookies: {
      size_t bytes = 0, count = 0;
      for (const auto& h : r.headers) {
        if (!iequals(h.name, "cookie")) continue;
        for (auto part : split(h.value, ';')) {
          part = trim(part);
          if (part.empty()) continue;
          bytes += part.size() + 2;
          if (++count > kHeaderInspectCount || bytes > kHeaderInspectBytes) {
            if (f.oversize != Oversize::Continue) {
              out.items.clear();
              out.forced = forced(f.oversize);
            }
            return;
          }
          size_t eq = part.find('=');
          std::string_view name = trim(part.substr(0, eq));
          std::string_view value =
              eq == std::string_view::npos ? std::string_view() : trim(part.substr(eq + 1));
          if (name_selected(f, name, false)) add_key_value(f, name, value, out);
        }
      }
      return;
    }
    case FieldKind::HeaderOrder: {
      std::string order;
      for (const auto& h : r.headers) {
        if (!order.empty()) order += ':';
        order += to_lower(h.name);
        if (order.size() > kHeaderInspectBytes) {
          if (f.oversize != Oversize::Continue) {
            out.forced = forced(f.oversize);
            return;
          }
          order.resize(kHeaderInspectBytes);
          break;
        }
      }
      out.items.push_back(out.own(std::move(order)));
      return;
    }
    case FieldKind::JA3Fingerprint:
    case FieldKind::JA4Fingerprint:
    case FieldKind::UriFragment: {
      // A fragment never reaches a server; fingerprints exist only behind a TLS listener.
      std::string_view v = f.kind == FieldKind::JA3Fingerprint   ? r.ja3
                           : f.kind == FieldKind::JA4Fingerprint ? r.ja4
                                                                 : std::string_view();
      if (v.empty())
        out.forced = f.fallback == Fallback::Match ? FieldValues::Forced::Match
                                                   : FieldValues::Forced::NoMatch;
      else
        out.items.emplace_back(v);
      return;
    }
  }
}

const FieldValues& EvalContext::field(const FieldSpec& f) {
  auto& slot = cache_[f.id];
  if (slot) return *slot;
  slot.emplace();
  extract_field(f, request, model.body_limit, *slot);
  if (!f.transforms.empty() && slot->forced == FieldValues::Forced::No) {
    std::string out;
    for (auto& item : slot->items) {
      apply_transforms(f.transforms, item, out);
      if (out != item) item = slot->own(std::move(out));
    }
  }
  return *slot;
}

ForwardedIps EvalContext::forwarded_ips(const ForwardedIpConfig& c, bool all) const {
  ForwardedIps r;
  const std::string* value = request.headers.find(c.header);
  if (!value) return r;
  auto parts = split(*value, ',');
  std::vector<std::string_view> picked;
  if (c.position == ForwardedIpConfig::Position::Any && all) {
    size_t from = parts.size() > 10 ? parts.size() - 10 : 0;  // ANY: at most the last 10
    picked.assign(parts.begin() + from, parts.end());
  } else if (!parts.empty()) {
    picked.push_back(c.position == ForwardedIpConfig::Position::Last ? parts.back()
                                                                     : parts.front());
  }
  for (auto p : picked) {
    auto ip = parse_ip(trim(p));
    if (!ip) {
      r.status = ForwardedIps::Status::Malformed;
      r.addresses.clear();
      return r;
    }
    r.addresses.push_back(*ip);
  }
  r.status = r.addresses.empty() ? ForwardedIps::Status::Malformed : ForwardedIps::Status::Ok;
  return r;
}

bool EvalContext::has_label(std::string_view label) const {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

}  // namespace eg::waf
