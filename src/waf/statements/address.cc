// Statements about the client's address: IPSetReference, GeoMatch, AsnMatch. Each inspects
// the connection's address, or with a ForwardedIPConfig an address from a header.
#include <algorithm>
#include <cstring>

#include "core/strings.h"
#include "waf/state.h"
#include "waf/statements/statements.h"

namespace eg::waf {

ForwardedIpConfig parse_forwarded_ip(const JNode& n, bool with_position) {
  ForwardedIpConfig c;
  if (with_position)
    n.only({"HeaderName", "FallbackBehavior", "Position"});
  else
    n.only({"HeaderName", "FallbackBehavior"});
  JNode h = n.at("HeaderName");
  c.header = to_lower(h.str());
  if (c.header.empty() || c.header.size() > 255 ||
      !std::all_of(c.header.begin(), c.header.end(),
                   [](char ch) { return std::isalnum((unsigned char)ch) || ch == '-'; }))
    h.fail("must be 1 to 255 characters of A-Z, a-z, 0-9 and -");
  c.fallback_match = n.choice("FallbackBehavior", {"MATCH", "NO_MATCH"}) == "MATCH";
  if (with_position) {
    auto pos = n.choice("Position", {"FIRST", "LAST", "ANY"});
    c.position = pos == "FIRST"  ? ForwardedIpConfig::Position::First
                 : pos == "LAST" ? ForwardedIpConfig::Position::Last
                                 : ForwardedIpConfig::Position::Any;
  }
  return c;
}

namespace {

// The address(es) an address statement looks at, then a test on each (any wins).
template <typename Test>
class AddressStatement : public Statement {
 public:
  AddressStatement(std::optional<ForwardedIpConfig> fwd, Test t)
      : fwd_(std::move(fwd)), test_(std::move(t)) {}
  bool matches(EvalContext& ctx) const override {
    if (!fwd_) return test_(ctx, ctx.request.client_ip);
    ForwardedIps ips = ctx.forwarded_ips(*fwd_, true);
    // An absent header means the statement does not apply; a malformed one, the fallback.
    if (ips.status == ForwardedIps::Status::Absent) return false;
    if (ips.status == ForwardedIps::Status::Malformed) return fwd_->fallback_match;
    for (const auto& a : ips.addresses)
      if (test_(ctx, a)) return true;
    return false;
  }

 protected:
  std::optional<ForwardedIpConfig> fwd_;
  Test test_;
};

template <typename Test>
std::unique_ptr<Statement> make(std::optional<ForwardedIpConfig> fwd, Test t) {
  return std::make_unique<AddressStatement<Test>>(std::move(fwd), std::move(t));
}

// GeoMatch also labels every request it inspects with the country and region, match or not.
class GeoStatement : public Statement {
 public:
  GeoStatement(const GeoDatabase& db, std::vector<std::string> codes,
               std::optional<ForwardedIpConfig> fwd)
      : db_(db), codes_(std::move(codes)), fwd_(std::move(fwd)) {}

  bool matches(EvalContext& ctx) const override {
    IpAddress a = ctx.request.client_ip;
    if (fwd_) {
      ForwardedIps ips = ctx.forwarded_ips(*fwd_, false);
      if (ips.status == ForwardedIps::Status::Absent) return false;
      if (ips.status == ForwardedIps::Status::Malformed) return fwd_->fallback_match;
      a = ips.addresses.front();
    }
    GeoInfo g = db_.lookup(a);
    std::string prefix = fwd_ ? "awswaf:forwardedip:geo:" : "awswaf:clientip:geo:";
    ctx.pending_labels.push_back(prefix + "country:" + g.country);
    ctx.pending_labels.push_back(prefix + "region:" + g.country + "-" + g.subdivision);
    return std::find(codes_.begin(), codes_.end(), g.country) != codes_.end();
  }

 private:
  const GeoDatabase& db_;
  std::vector<std::string> codes_;
  std::optional<ForwardedIpConfig> fwd_;
};

}  // namespace

std::unique_ptr<Statement> parse_ip_set_reference(const JNode& body, Compiler& c, const Place&) {
  body.only({"ARN", "IPSetForwardedIPConfig"});
  std::shared_ptr<IpSetHandle> set = c.ip_set(body.at("ARN"));
  std::optional<ForwardedIpConfig> fwd;
  if (body.has("IPSetForwardedIPConfig"))
    fwd = parse_forwarded_ip(body.at("IPSetForwardedIPConfig"), true);
  return make(std::move(fwd), [set](EvalContext&, const IpAddress& a) { return set->contains(a); });
}

std::unique_ptr<Statement> parse_geo_match(const JNode& body, Compiler& c, const Place&) {
  body.only({"CountryCodes", "ForwardedIPConfig"});
  std::vector<std::string> codes;
  for (const auto& n : body.items("CountryCodes", 1, 50)) {
    std::string cc = n.str();
    if (cc.size() != 2 || !std::isupper((unsigned char)cc[0]) ||
        !std::isupper((unsigned char)cc[1]))
      n.fail(json_quoted(cc) + " is not an ISO 3166-1 alpha-2 country code (two capital letters)");
    codes.push_back(cc);
  }
  std::optional<ForwardedIpConfig> fwd;
  if (body.has("ForwardedIPConfig")) fwd = parse_forwarded_ip(body.at("ForwardedIPConfig"), false);
  return std::make_unique<GeoStatement>(c.geo(body), std::move(codes), std::move(fwd));
}

std::unique_ptr<Statement> parse_asn_match(const JNode& body, Compiler& c, const Place&) {
  body.only({"AsnList", "ForwardedIPConfig"});
  std::vector<uint32_t> asns;
  for (const auto& n : body.items("AsnList", 1, 100))
    asns.push_back(uint32_t(n.integer(0, 4294967295LL)));
  std::optional<ForwardedIpConfig> fwd;
  if (body.has("ForwardedIPConfig")) fwd = parse_forwarded_ip(body.at("ForwardedIPConfig"), false);
  const AsnDatabase* db = &c.asn(body);
  return make(std::move(fwd), [db, asns = std::move(asns)](EvalContext&, const IpAddress& a) {
    auto asn = db->lookup(a);
    return asn && std::find(asns.begin(), asns.end(), *asn) != asns.end();
  });
}

}  // namespace eg::waf
