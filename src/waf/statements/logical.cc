// And, Or, Not, and LabelMatch (labels added by earlier rules, §3.7).
#include "waf/statements/statements.h"

namespace eg::waf {

namespace {

class AllOf : public Statement {
 public:
  explicit AllOf(std::vector<std::unique_ptr<Statement>> s, bool any)
      : s_(std::move(s)), any_(any) {}
  bool matches(EvalContext& ctx) const override {
    for (const auto& s : s_)
      if (s->matches(ctx) == any_) return any_;
    return !any_;
  }

 private:
  std::vector<std::unique_ptr<Statement>> s_;
  bool any_;
};

class Not : public Statement {
 public:
  explicit Not(std::unique_ptr<Statement> s) : s_(std::move(s)) {}
  bool matches(EvalContext& ctx) const override { return !s_->matches(ctx); }

 private:
  std::unique_ptr<Statement> s_;
};

// LABEL: the key is a label name with any number of its contiguous preceding namespaces,
// or a fully qualified label. NAMESPACE: the key (ending in ':') is a contiguous run of a
// label's namespaces. A key that is not fully qualified is looked for in any context; the
// ":"-boundaries keep "ns:a" from matching "xns:a".
class LabelMatch : public Statement {
 public:
  LabelMatch(std::string key, bool ns) : key_(std::move(key)), ns_(ns) {}
  bool matches(EvalContext& ctx) const override {
    for (const auto& l : ctx.labels)
      if (ns_ ? namespace_match(l) : label_match(l)) return true;
    return false;
  }

 private:
  bool label_match(std::string_view l) const {
    if (l == key_) return true;
    return l.size() > key_.size() && l.ends_with(key_) && l[l.size() - key_.size() - 1] == ':';
  }
  bool namespace_match(std::string_view l) const {
    size_t name_start = l.rfind(':');
    if (name_start == std::string_view::npos) return false;
    std::string_view namespaces = l.substr(0, name_start + 1);
    for (size_t at = namespaces.find(key_); at != std::string_view::npos;
         at = namespaces.find(key_, at + 1))
      if (at == 0 || namespaces[at - 1] == ':') return true;
    return false;
  }
  std::string key_;
  bool ns_;
};

std::vector<std::unique_ptr<Statement>> nested(const JNode& body, Compiler& c, const Place& p) {
  body.only({"Statements"});
  Place inner = p;
  inner.top_level = false;
  std::vector<std::unique_ptr<Statement>> out;
  for (const auto& n : body.items("Statements", 1, 100)) out.push_back(c.statement(n, inner));
  return out;
}

}  // namespace

std::unique_ptr<Statement> parse_and(const JNode& body, Compiler& c, const Place& p) {
  return std::make_unique<AllOf>(nested(body, c, p), false);
}

std::unique_ptr<Statement> parse_or(const JNode& body, Compiler& c, const Place& p) {
  return std::make_unique<AllOf>(nested(body, c, p), true);
}

std::unique_ptr<Statement> parse_not(const JNode& body, Compiler& c, const Place& p) {
  body.only({"Statement"});
  Place inner = p;
  inner.top_level = false;
  return std::make_unique<Not>(c.statement(body.at("Statement"), inner));
}

std::unique_ptr<Statement> parse_label_match(const JNode& body, Compiler&, const Place&) {
  body.only({"Scope", "Key"});
  bool ns = body.choice("Scope", {"LABEL", "NAMESPACE"}) == "NAMESPACE";
  JNode k = body.at("Key");
  std::string key = k.str();
  if (key.empty() || key.size() > 1024) k.fail("must be 1 to 1,024 characters");
  for (unsigned char ch : key)
    if (!std::isalnum(ch) && ch != '_' && ch != '-' && ch != ':')
      k.fail(json_quoted(key) + " may contain only A-Z, a-z, 0-9, _, - and :");
  if (ns && key.back() != ':') k.fail("a NAMESPACE key must end with ':' (e.g. \"" + key + ":\")");
  if (!ns && key.back() == ':') k.fail("a LABEL key must not end with ':' (use Scope NAMESPACE)");
  return std::make_unique<LabelMatch>(std::move(key), ns);
}

std::unique_ptr<Statement> parse_group_reference_misplaced(const JNode& body, Compiler&,
                                                           const Place&) {
  body.fail("a rule group reference can only be a rule's top-level statement in a web ACL");
}

}  // namespace eg::waf
