// Cross-site scripting detection: one pass over the input looking for the few things that
// make a browser run script, wherever the input lands (text, an attribute value, a URL):
//   - tags that execute or load content (<script, <iframe, <svg, <object, ...);
//   - event-handler attributes (onerror=, onload=, ...);
//   - script URLs (javascript:, vbscript:, data:text/html) where a URL value starts;
//   - CSS that runs code (expression(...), behavior/-moz-binding: url(...)).
// Browsers skip tabs, newlines and NULs inside a URL scheme and decode entities in
// attribute values, so the scheme matcher does too (&#106;avascript&colon;). Every check
// looks a bounded distance from its position, so the scan is linear. See
// docs/waf/detectors.md.
#include "waf/detect.h"
#include "waf/detect_internal.h"

namespace eg::waf {
namespace {

using namespace detect;  // byte classes and word tables (detect_internal.h)

// Elements that run script, load a document or plugin, or switch the parser into a
// context where attributes run script (svg, math). Sorted. SVG animation elements
// (animate, set) and XML event elements (handler, listener) act through attributes, so
// they count only with some: <set> alone is a placeholder in prose.
constexpr std::string_view kTags[] = {
    "animate",    "applet", "base",     "bgsound", "embed",   "frame", "frameset",
    "handler",    "iframe", "ilayer",   "import",  "isindex", "layer", "link",
    "listener",   "math",   "meta",     "object",  "script",  "set",   "style",
    "stylesheet", "svg",    "vmlframe", "xml",     "xss",
};
static_assert(detect::sorted_unique(kTags));

// Event-handler attribute names without their "on". An unlisted on*= still counts inside
// a tag the input opens; these count anywhere (x" onerror=alert(1) lands in an attribute).
// clang-format off
constexpr std::string_view kEvents[] = {
    "abort", "activate", "afterprint", "afterscriptexecute", "afterupdate", "animationend",
    "animationiteration", "animationstart", "auxclick", "beforeactivate", "beforecopy", "beforecut",
    "beforedeactivate", "beforeeditfocus", "beforepaste", "beforeprint", "beforescriptexecute",
    "beforeunload", "beforeupdate", "begin", "blur", "bounce", "canplay", "canplaythrough",
    "cellchange", "change", "click", "close", "contextmenu", "controlselect", "copy", "cuechange",
    "cut", "dataavailable", "datasetchanged", "datasetcomplete", "dblclick", "deactivate", "drag",
    "dragend", "dragenter", "dragleave", "dragover", "dragstart", "drop", "durationchange",
    "emptied", "end", "ended", "error", "errorupdate", "filterchange", "finish", "focus", "focusin",
    "focusout", "formchange", "forminput", "fullscreenchange", "hashchange", "help", "input",
    "invalid", "keydown", "keypress", "keyup", "layoutcomplete", "load", "loadeddata",
    "loadedmetadata", "loadend", "loadstart", "losecapture", "message", "mousedown", "mouseenter",
    "mouseleave", "mousemove", "mouseout", "mouseover", "mouseup", "mousewheel", "move", "moveend",
    "movestart", "pagehide", "pageshow", "paste", "pause", "play", "playing", "pointerdown",
    "pointerenter", "pointerleave", "pointermove", "pointerout", "pointerover", "pointerup",
    "popstate", "progress", "propertychange", "ratechange", "readystatechange", "repeat", "reset",
    "resize", "rowenter", "rowexit", "rowsdelete", "rowsinserted", "scroll", "search", "seek",
    "seeked", "seeking", "select", "selectionchange", "selectstart", "show", "stalled", "start",
    "storage", "submit", "suspend", "timeout", "timeupdate", "toggle", "touchcancel", "touchend",
    "touchmove", "touchstart", "transitionend", "unload", "urlflip", "volumechange", "waiting",
    "wheel", "zoom",
};
// clang-format on
static_assert(detect::sorted_unique(kEvents));

// How far a check may skip blanks, entities or comments between the letters it matches;
// what keeps the scan linear when such runs are long.
constexpr size_t kMaxGap = 64;

// One decoded character of an attribute value: a byte, or an HTML character reference
// (&#106; &#x6A; &colon; &Tab;). `next` is where the following one starts; a code point
// above ASCII decodes to 0x80.
struct Decoded {
  unsigned char c;
  size_t next;
};

Decoded decode_at(std::string_view in, size_t i) {
  const auto c = static_cast<unsigned char>(in[i]);
  if (c != '&' || i + 2 >= in.size()) return {c, i + 1};
  size_t j = i + 1;
  if (in[j] == '#') {
    ++j;
    const bool hex = j < in.size() && (in[j] | 0x20) == 'x';
    if (hex) ++j;
    uint32_t value = 0;
    size_t digits = 0;
    while (j < in.size() && digits < 12 &&
           (hex ? is_hex_digit(static_cast<unsigned char>(in[j]))
                : is_digit(static_cast<unsigned char>(in[j])))) {
      const auto d = static_cast<unsigned char>(in[j]);
      const uint32_t v = is_digit(d) ? d - '0' : (d | 0x20) - 'a' + 10;
      value = std::min<uint32_t>(value * (hex ? 16 : 10) + v, 0x110000);
      ++j, ++digits;
    }
    if (digits == 0) return {c, i + 1};
    if (j < in.size() && in[j] == ';') ++j;
    return {static_cast<unsigned char>(value < 0x80 ? value : 0x80), j};
  }
  struct Named {
    std::string_view name;
    unsigned char c;
  };
  static constexpr Named kNamed[] = {{"colon;", ':'}, {"tab;", '\t'},  {"newline;", '\n'},
                                     {"lpar;", '('},  {"rpar;", ')'},  {"quot;", '"'},
                                     {"apos;", '\''}, {"sol;", '/'},   {"lt;", '<'},
                                     {"gt;", '>'},    {"equals;", '='}};
  for (const Named& n : kNamed) {
    if (detect::has_word_at(in, j, n.name)) return {n.c, j + n.name.size()};
  }
  return {c, i + 1};
}

class XssScan {
 public:
  explicit XssScan(std::string_view in) : in_(in) {}

  bool run() {
    if (url_value_at(0, /*attribute=*/false)) return true;
    for (size_t i = 0; i < in_.size(); ++i) {
      const auto c = static_cast<unsigned char>(in_[i]);
      switch (c) {
        case '<':
          if (tag_at(i)) return true;
          break;
        case '>':
          in_tag_ = false;
          if (url_value_at(i + 1, false)) return true;
          break;
        case '=':
        case '"':
        case '\'':
        case '`':
          if (url_value_at(i + 1, true)) return true;
          break;
        case '(':
        case ',':
        case ';':
          if (url_value_at(i + 1, false)) return true;
          break;
        case ':':
          if (css_at(i) || url_value_at(i + 1, false)) return true;
          break;
        case 'o':
        case 'O':
          if (event_handler_at(i)) return true;
          break;
        case 'd':
        case 'D':
          // IE data binding renders a bound field as HTML: dataformatas=html.
          if (attribute_boundary(i) && detect::has_word_at(in_, i, "dataformatas") &&
              at(skip_blanks(i + 12)) == '=') {
            return true;
          }
          break;
        default:
          break;
      }
    }
    return false;
  }

 private:
  unsigned char at(size_t i) const {
    return i < in_.size() ? static_cast<unsigned char>(in_[i]) : 0;
  }

  // <script, </script, <svg/onload, <scr\0ipt, <x:script, <?import, <!ENTITY.
  bool tag_at(size_t i) {
    size_t j = i + 1;
    if (at(j) == '?') {
      return detect::has_word_at(in_, j + 1, "import") ||
             detect::has_word_at(in_, j + 1, "xml-stylesheet") ||
             detect::has_word_at(in_, j + 1, "xml:namespace");
    }
    if (at(j) == '!') {
      return detect::has_word_at(in_, j + 1, "entity") ||
             detect::has_word_at(in_, j + 1, "attlist");
    }
    const bool closing = at(j) == '/';
    if (closing) ++j;
    if (!is_alpha(at(j))) return false;
    char buffer[detect::kMaxWordLength];
    size_t length = 0;
    size_t name_start = 0;  // after a namespace prefix
    for (; j < in_.size() && j - i < kMaxGap; ++j) {
      const unsigned char c = at(j);
      if (c == 0) continue;  // <scr\0ipt> still reads as script to old parsers
      if (!is_alnum(c) && c != '-' && c != ':' && c != '_') break;
      if (c == ':') {
        name_start = length;
        continue;
      }
      if (length == sizeof buffer) return false;
      buffer[length++] = lower(c);
    }
    if (!closing) in_tag_ = true;
    const unsigned char after = at(j);
    if (j < in_.size() && !is_blank(after) && after != '/' && after != '>') return false;
    const std::string_view name(buffer + name_start, length - name_start);
    if (closing) return name == "script";
    if (detect::find_word<kTags>(name) == nullptr) return false;
    const bool acts_through_attributes =
        name == "animate" || name == "set" || name == "handler" || name == "listener";
    return !acts_through_attributes || (j < in_.size() && after != '>');
  }

  // Where an attribute name may start: after a blank, '/', a quote, or (in a tag) the
  // ':' of a namespace prefix.
  bool attribute_boundary(size_t i) const {
    if (i == 0) return true;
    const unsigned char before = at(i - 1);
    return is_blank(before) || before == '/' || before == '"' || before == '\'' || before == '`' ||
           (in_tag_ && before == ':');
  }

  size_t skip_blanks(size_t i) const {
    for (size_t gap = 0; gap < kMaxGap && i < in_.size() && is_blank(at(i)); ++gap) ++i;
    return i;
  }

  // on<event>= at an attribute boundary.
  bool event_handler_at(size_t i) {
    if ((at(i + 1) | 0x20) != 'n' || !attribute_boundary(i)) return false;
    size_t j = i + 2;
    const size_t name_start = j;
    while (j < in_.size() && j - name_start < detect::kMaxWordLength && is_alpha(at(j))) ++j;
    const std::string_view name = in_.substr(name_start, j - name_start);
    if (name.size() < 3 || at(skip_blanks(j)) != '=') return false;
    return detect::find_word<kEvents>(name) != nullptr || in_tag_;
  }

  // Skips blanks, controls and blank character references (&#9; &Tab;), as browsers do
  // before and inside a URL scheme. Returns the next decoded character.
  Decoded skip_url_blanks(size_t i) const {
    const size_t limit = i + kMaxGap;
    while (i < in_.size() && i < limit) {
      const Decoded d = decode_at(in_, i);
      if (!is_blank(d.c)) return d;
      i = d.next;
    }
    return {0, in_.size()};
  }

  // Whether a URL value starting at `i` (after optional blanks) has a scheme that runs
  // script. In an attribute value (after = or a quote) the scheme is enough; elsewhere,
  // so "JavaScript: The Good Parts" passes, something other than a blank must follow.
  bool url_value_at(size_t i, bool attribute) const {
    if (i >= in_.size()) return false;
    const Decoded first = skip_url_blanks(i);
    const char c = lower(first.c);
    if (c != 'j' && c != 'v' && c != 'l' && c != 'd') return false;
    static constexpr std::string_view kScripts[] = {"javascript", "vbscript", "livescript"};
    for (std::string_view scheme : kScripts) {
      size_t end = 0;
      if (scheme[0] == c && scheme_matches(first.next, scheme.substr(1), end)) {
        if (attribute) return true;
        return end < in_.size() && !is_blank(decode_at(in_, end).c);
      }
    }
    size_t end = 0;
    if (c == 'd' && scheme_matches(first.next, "ata", end)) return data_url_at(end);
    return false;
  }

  // The rest of a scheme's letters then ':', each possibly preceded by blanks or
  // encoded as a character reference. `end` is just past the ':'.
  bool scheme_matches(size_t i, std::string_view rest, size_t& end) const {
    for (char expected : rest) {
      const Decoded d = skip_url_blanks(i);
      if (lower(d.c) != expected) return false;
      i = d.next;
    }
    const Decoded colon = skip_url_blanks(i);
    if (colon.c != ':') return false;
    end = colon.next;
    return true;
  }

  // data: URLs of a type a browser renders as a document or runs as script.
  bool data_url_at(size_t i) const {
    for (size_t gap = 0; gap < kMaxGap && is_blank(at(i)); ++gap) ++i;
    static constexpr std::string_view kTypes[] = {"text/html", "text/xml", "text/javascript",
                                                  "image/svg", "application/"};
    for (std::string_view type : kTypes) {
      if (detect::has_word_at(in_, i, type)) return true;
    }
    return false;
  }

  // Skips blanks and /* */ comments in CSS, at most kMaxGap bytes.
  size_t skip_css_blanks(size_t i) const {
    const size_t limit = i + kMaxGap;
    while (i < in_.size() && i < limit) {
      if (is_blank(at(i))) {
        ++i;
      } else if (at(i) == '/' && at(i + 1) == '*') {
        const size_t close = in_.find("*/", i + 2);
        if (close == std::string_view::npos || close > limit) return in_.size();
        i = close + 2;
      } else {
        break;
      }
    }
    return i;
  }

  // Matches a lowercase word at i whose letters may be split by CSS comments
  // (expr/**/ession); returns the position after it, or npos.
  size_t css_word(size_t i, std::string_view word) const {
    for (size_t k = 0; k < word.size(); ++k) {
      if (k > 0) i = skip_css_blanks(i);
      if (lower(at(i)) != word[k]) return std::string_view::npos;
      ++i;
    }
    return i;
  }

  // '(' or its CSS escapes \28, \000028.
  bool css_open_paren(size_t i) const {
    i = skip_css_blanks(i);
    if (at(i) == '(') return true;
    if (at(i) != '\\') return false;
    size_t j = i + 1;
    while (at(j) == '0' && j - i < 6) ++j;
    return at(j) == '2' && at(j + 1) == '8';
  }

  // At a ':' in CSS: a value of expression(...) (old IE runs it), or behavior: url(...)
  // and (-moz-)binding: url(...), which load script.
  bool css_at(size_t colon) const {
    const size_t value = skip_css_blanks(colon + 1);
    const size_t after_expression = css_word(value, "expression");
    if (after_expression != std::string_view::npos && css_open_paren(after_expression)) {
      return true;
    }
    if (!detect::has_word_at(in_, value, "url") || !css_open_paren(value + 3)) return false;
    size_t end = colon;
    while (end > 0 && colon - end < kMaxGap && is_blank(at(end - 1))) --end;
    return ends_with_word(end, "behavior") || ends_with_word(end, "behaviour") ||
           ends_with_word(end, "binding");
  }

  bool ends_with_word(size_t end, std::string_view word) const {
    return end >= word.size() && detect::has_word_at(in_, end - word.size(), word);
  }

  std::string_view in_;
  bool in_tag_ = false;  // inside a tag the input opened: <x ... (any on*= counts)
};

}  // namespace

bool xss_match(std::string_view input) { return XssScan(input).run(); }

}  // namespace eg::waf
