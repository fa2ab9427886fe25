// The EC2 Query API shapes the EC2 backend sends and reads (Version 2016-11-15): form
// parameters of Authorize/RevokeSecurityGroupIngress, the DescribeSecurityGroupsResponse,
// and the error answer <Response><Errors><Error><Code/><Message/></Error></Errors>.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "origin/firewall_ec2_groups.h"
#include "origin/firewall_ec2_xml.h"

namespace eg::origin {

inline constexpr const char* kNameTag = "edgeguard:ipranges";  // the allowlist's name
inline constexpr const char* kScopeTag = "edgeguard:set";      // all, global, regional
inline constexpr const char* kIndexTag = "edgeguard:index";    // 1, 2, 3...

// DescribeSecurityGroupsResponse -> groups; next_token "" on the last page.
bool parse_describe_security_groups(const XmlElement& root, std::vector<Ec2Group>& out,
                                    std::string& next_token, std::string& error);
// "<Code>: <Message>" of an EC2 error answer, or "" if `root` is not one.
std::string ec2_error_of(const XmlElement& root);

// The form parameters that grant or take away `rules`, one IpPermissions.N per protocol and
// port range: IpProtocol, FromPort, ToPort, IpRanges.M.CidrIp, Ipv6Ranges.M.CidrIpv6.
std::vector<std::pair<std::string, std::string>> ip_permission_params(
    const std::vector<Ec2Rule>& rules);

std::optional<int> ec2_int(const std::string& s);

}  // namespace eg::origin
