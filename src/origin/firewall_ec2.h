// The EC2 backend: security groups through the EC2 Query API (Version 2016-11-15), signed
// with SigV4 (src/aws), at a configurable endpoint.
//
// Groups are found by tag (edgeguard:ipranges=<name>, DescribeSecurityGroups with a tag
// filter); each carries edgeguard:set (all, global, regional) and edgeguard:index. Rules are
// spread over them as firewall_ec2_groups.h describes; apply revokes the stale rules first,
// then creates (CreateSecurityGroup with its tags) or adopts (CreateTags) the groups that
// are needed, then authorizes the missing rules (AuthorizeSecurityGroupIngress /
// RevokeSecurityGroupIngress, one call per group and batch).
#pragma once
#include "origin/ipranges_backend.h"

namespace eg::origin {

BackendSpec ec2_backend_spec();

}  // namespace eg::origin
