// AWS managed rule groups (aws-formats.md §4) as RuleGroup documents of our own making. AWS
// does not publish their patterns; these follow the published descriptions rule by rule,
// with AWS's rule names and labels, so ACLs that reference them load and behave as users
// expect. IP reputation rules read IP sets the user supplies under well-known names.
#pragma once
#include <string>
#include <string_view>

namespace eg::waf {

struct ManagedGroup {
  std::string_view vendor, name, label_namespace;  // awswaf:managed:aws:<label_namespace>:
  std::string_view document;                       // RuleGroup JSON, SearchStrings as text
};

const ManagedGroup* find_managed_group(std::string_view vendor, std::string_view name);
std::string managed_group_names();  // "AWS/AWSManagedRulesCommonRuleSet, ..."

}  // namespace eg::waf
