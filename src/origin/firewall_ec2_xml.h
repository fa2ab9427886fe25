// A small XML reader for EC2 Query API answers (DescribeSecurityGroupsResponse, Response/
// Errors/Error, ...). Elements, text, the five named entities, numeric character references,
// CDATA, comments and the XML declaration; attributes are skipped (EC2 puts nothing in them
// that edgeguard reads); no DTDs. Never throws; nesting is limited, so hostile input cannot
// exhaust the stack.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace eg::origin {

struct XmlElement {
  std::string name;  // local name: a namespace prefix ("ec2:item") is dropped
  std::string text;  // character data directly inside, entities decoded
  std::vector<XmlElement> children;

  const XmlElement* child(std::string_view name) const;  // first child of that name
  std::string child_text(std::string_view name) const;   // its text, "" when absent
  // The <item> children of the named child: EC2's list shape (<tagSet><item>...).
  std::vector<const XmlElement*> items(std::string_view list_name) const;
};

bool parse_xml(std::string_view text, XmlElement& root, std::string& error);

}  // namespace eg::origin
