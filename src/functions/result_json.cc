#include "functions/result_json.h"

#include <charconv>

#include "core/json_depth.h"
#include "core/strings.h"

namespace eg::functions::detail {

ParsedResult parse_result(std::string_view text, size_t max_bytes) {
  ParsedResult r;
  std::string_view t = text;
  while (!t.empty() &&
         (t.front() == ' ' || t.front() == '\n' || t.front() == '\r' || t.front() == '\t'))
    t.remove_prefix(1);
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
    t.remove_suffix(1);
  if (t.empty() || t == "undefined") {
    r.shape = ResultShape::Undefined;
    return r;
  }
  if (t.size() > max_bytes) {
    r.shape = ResultShape::TooLarge;
    return r;
  }
  if (json_too_deep(t, 64) != std::string_view::npos) {
    r.shape = ResultShape::TooDeep;
    return r;
  }
  r.value = Json::parse(t.begin(), t.end(), nullptr, /*allow_exceptions=*/false);
  if (r.value.is_discarded()) {
    r.shape = ResultShape::NotParsable;
  } else if (r.value.is_null()) {
    r.shape = ResultShape::Null;
  } else {
    r.shape = r.value.is_object() ? ResultShape::Object : ResultShape::Other;
  }
  return r;
}

std::string_view type_phrase(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::discarded:
      return "nothing";
    default:
      return "a number";
  }
}

std::string show(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

Failure Judge::fail(std::string_view detail, std::string_view aws) const {
  Failure f;
  f.status = 502;
  f.message.reserve(prefix.size() + detail.size() + aws.size() + 24);
  f.message += prefix;
  f.message += starts_with(detail, "returned ") ? " " : ": ";
  f.message += detail;
  if (!aws.empty()) {
    f.message += " [CloudFront: \"";
    f.message += aws;
    f.message += "\"]";
  }
  return f;
}

std::optional<long long> integer_value(const Json& v) {
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d >= -1e15 && d <= 1e15 && d == static_cast<double>(static_cast<long long>(d)))
      return static_cast<long long>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    long long n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return n;
  }
  return std::nullopt;
}

std::optional<Failure> judge_result_shape(const Judge& judge, std::string_view text,
                                          size_t max_bytes, ParsedResult& parsed,
                                          std::string_view hint, const ShapeTexts& texts) {
  parsed = parse_result(text, max_bytes);
  switch (parsed.shape) {
    case ResultShape::Object:
      return std::nullopt;
    case ResultShape::Undefined:
      return judge.fail(
          "returned undefined; " + std::string(hint) + std::string(texts.undefined_advice),
          texts.not_object);
    case ResultShape::Null:
      return judge.fail("returned null; " + std::string(hint), texts.not_object);
    case ResultShape::NotParsable:
      return judge.fail("returned a value that is not JSON", texts.not_parsable);
    case ResultShape::TooLarge:
      return judge.fail("returned " + std::to_string(text.size()) +
                            " bytes of JSON; the limit is " + std::to_string(max_bytes),
                        texts.too_large);
    case ResultShape::TooDeep:
      return judge.fail("returned JSON nested more than 64 levels deep", texts.not_parsable);
    case ResultShape::Other:
      break;
  }
  return judge.fail("returned " + std::string(type_phrase(parsed.value)) + " " +
                        show(parsed.value) + "; " + std::string(hint),
                    texts.not_object);
}

void set_response_body(http::Response& resp, std::string body) {
  resp.body = std::move(body);
  resp.framing = http::BodyFraming::ContentLength;
  resp.content_length = resp.body.size();
  resp.headers.remove("transfer-encoding");
  if (resp.headers.contains("content-length"))
    resp.headers.set("Content-Length", std::to_string(resp.body.size()));
}

}  // namespace eg::functions::detail
