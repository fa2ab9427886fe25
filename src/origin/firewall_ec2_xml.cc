#include "origin/firewall_ec2_xml.h"

#include <fmt/core.h>

#include "core/strings.h"

namespace eg::origin {

const XmlElement* XmlElement::child(std::string_view n) const {
  for (const auto& c : children)
    if (c.name == n) return &c;
  return nullptr;
}

std::string XmlElement::child_text(std::string_view n) const {
  const XmlElement* c = child(n);
  return c ? c->text : std::string();
}

std::vector<const XmlElement*> XmlElement::items(std::string_view list_name) const {
  std::vector<const XmlElement*> out;
  if (const XmlElement* list = child(list_name))
    for (const auto& c : list->children)
      if (c.name == "item") out.push_back(&c);
  return out;
}

namespace {

constexpr int kMaxDepth = 64;

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool document(XmlElement& root, std::string& error) {
    skip_misc();
    if (!element(root, 0)) {
      error = error_;
      return false;
    }
    skip_misc();
    if (pos_ != s_.size()) {
      error = fmt::format("byte {}: content after the root element", pos_);
      return false;
    }
    return true;
  }

 private:
  bool fail(std::string msg) {
    if (error_.empty()) error_ = fmt::format("byte {}: {}", pos_, msg);
    return false;
  }
  bool starts(std::string_view t) const { return s_.substr(pos_, t.size()) == t; }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n'))
      ++pos_;
  }
  bool skip_past(std::string_view end) {
    size_t e = s_.find(end, pos_);
    if (e == std::string_view::npos) return fail(fmt::format("missing \"{}\"", end));
    pos_ = e + end.size();
    return true;
  }
  // Declarations, comments and whitespace around the root element.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<?")) {
        if (!skip_past("?>")) return;
      } else if (starts("<!--")) {
        if (!skip_past("-->")) return;
      } else {
        return;
      }
    }
  }
  static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  }
  bool name(std::string& out) {
    size_t start = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    if (pos_ == start) return fail("expected a name");
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }
  static std::string local(const std::string& n) {
    size_t colon = n.rfind(':');
    return colon == std::string::npos ? n : n.substr(colon + 1);
  }
  bool append_code_point(unsigned long cp, std::string& out) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return fail("bad character reference");
    eg::append_utf8(out, uint32_t(cp));
    return true;
  }
  bool entity(std::string& out) {
    size_t semi = s_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return fail("unterminated entity");
    std::string_view e = s_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (e == "amp") return out += '&', true;
    if (e == "lt") return out += '<', true;
    if (e == "gt") return out += '>', true;
    if (e == "quot") return out += '"', true;
    if (e == "apos") return out += '\'', true;
    if (e.size() >= 2 && e[0] == '#') {
      bool hex = e[1] == 'x';
      std::string_view digits = e.substr(hex ? 2 : 1);
      if (digits.empty()) return fail("bad character reference");
      unsigned long cp = 0;
      for (char c : digits) {
        int v = (c >= '0' && c <= '9')          ? c - '0'
                : hex && (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : hex && (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                : -1;
        if (v < 0) return fail("bad character reference");
        cp = cp * (hex ? 16 : 10) + unsigned(v);
        if (cp > 0x10FFFF) return fail("bad character reference");
      }
      return append_code_point(cp, out);
    }
    return fail("unknown entity &" + std::string(e) + ";");
  }
  bool element(XmlElement& el, int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    if (pos_ >= s_.size() || s_[pos_] != '<') return fail("expected an element");
    ++pos_;
    std::string qname;
    if (!name(qname)) return false;
    el.name = local(qname);
    // Attributes: name="value" or name='value', skipped.
    for (;;) {
      skip_space();
      if (pos_ >= s_.size()) return fail("unterminated start tag");
      if (starts("/>")) {
        pos_ += 2;
        return true;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      std::string attr;
      if (!name(attr)) return false;
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '=') return fail("expected '=' after an attribute name");
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\''))
        return fail("expected a quoted attribute value");
      char q = s_[pos_++];
      size_t end = s_.find(q, pos_);
      if (end == std::string_view::npos) return fail("unterminated attribute value");
      pos_ = end + 1;
    }
    // Content.
    for (;;) {
      if (pos_ >= s_.size()) return fail("unterminated element <" + qname + ">");
      char c = s_[pos_];
      if (c == '&') {
        if (!entity(el.text)) return false;
      } else if (c != '<') {
        el.text += c;
        ++pos_;
      } else if (starts("</")) {
        pos_ += 2;
        std::string closing;
        if (!name(closing)) return false;
        if (closing != qname) return fail("</" + closing + "> closes <" + qname + ">");
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '>') return fail("expected '>'");
        ++pos_;
        return true;
      } else if (starts("<!--")) {
        if (!skip_past("-->")) return false;
      } else if (starts("<![CDATA[")) {
        size_t start = pos_ + 9;
        size_t end = s_.find("]]>", start);
        if (end == std::string_view::npos) return fail("unterminated CDATA");
        el.text.append(s_.substr(start, end - start));
        pos_ = end + 3;
      } else if (starts("<?")) {
        if (!skip_past("?>")) return false;
      } else if (starts("<!")) {
        return fail("DTDs are not accepted");
      } else {
        el.children.emplace_back();
        if (!element(el.children.back(), depth + 1)) return false;
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

bool parse_xml(std::string_view text, XmlElement& root, std::string& error) {
  root = XmlElement{};
  Reader r(text);
  return r.document(root, error);
}

}  // namespace eg::origin
