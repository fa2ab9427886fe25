#include "proxy/function_stage.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/http_date.h"
#include "core/log.h"
#include "logs/access_log.h"

namespace eg::proxy {

namespace {

constexpr std::string_view kS3Suffix = ".s3.amazonaws.com";

std::string_view short_cause(int status) {
  switch (status) {
    case 502:
      return "The function's result failed validation.";
    case 503:
      return "The function did not finish in time, or its worker failed.";
    default:
      return "The function failed while handling the request.";
  }
}

// Node lines are in Lambda's format "<time>\t<request id>\t<LEVEL>\t<message>": the level is
// the console method's (console.warn is WARN); other lines are INFO.
std::string_view console_level(std::string_view line) {
  size_t first = line.find('\t');
  size_t second = first == std::string_view::npos ? first : line.find('\t', first + 1);
  size_t third = second == std::string_view::npos ? second : line.find('\t', second + 1);
  if (third == std::string_view::npos) return "INFO";
  std::string_view level = line.substr(second + 1, third - second - 1);
  for (std::string_view known : {"INFO", "WARN", "ERROR", "DEBUG", "TRACE", "FATAL"})
    if (level == known) return known;
  return "INFO";
}

std::string iso_now() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms);
}

}  // namespace

functions::OriginInfo origin_info(const config::Origin& o) {
  functions::OriginInfo info;
  if (o.kind == config::OriginKind::Http) {
    info.kind = functions::OriginInfo::Kind::Custom;
    info.domain_name = o.host;
    info.port = o.port;
    info.protocol = o.https ? "https" : "http";
    info.keepalive_timeout_s =
        int(std::chrono::duration_cast<std::chrono::seconds>(o.keepalive_timeout).count());
    info.read_timeout_s =
        int(std::chrono::duration_cast<std::chrono::seconds>(o.read_timeout).count());
  } else {
    info.kind = functions::OriginInfo::Kind::S3;
    info.domain_name = o.name + std::string(kS3Suffix);
  }
  info.path = o.path_prefix;
  for (const auto& h : o.custom_headers)
    if (!h.secret.empty() || h.value.empty())
      continue;  // secrets are not shown to functions
    else
      info.custom_headers.push_back({h.name, h.value});
  return info;
}

std::optional<config::Origin> origin_from_info(const functions::OriginInfo& info,
                                               const config::Snapshot& snap, std::string& error) {
  if (!info.config_origin.empty()) {
    if (const config::Origin* o = snap.find_origin(info.config_origin)) return *o;
    std::string known;
    for (const auto& o : snap.origins) known += (known.empty() ? "" : ", ") + o.name;
    error = "no origin named \"" + info.config_origin + "\" (origins: " + known + ")";
    return std::nullopt;
  }
  if (info.kind == functions::OriginInfo::Kind::S3) {
    std::string_view domain = info.domain_name;
    std::string_view name = domain.substr(0, domain.find('.'));
    for (std::string_view candidate : {domain, name}) {
      const config::Origin* o = snap.find_origin(candidate);
      if (o && o->kind == config::OriginKind::Directory) {
        config::Origin chosen = *o;
        chosen.path_prefix = info.path;
        chosen.custom_headers.clear();
        for (const auto& h : info.custom_headers)
          chosen.custom_headers.push_back({h.name, h.value, {}});
        return chosen;
      }
    }
    std::string known;
    for (const auto& o : snap.origins)
      if (o.kind == config::OriginKind::Directory) known += (known.empty() ? "" : ", ") + o.name;
    error = "request.origin.s3.domainName \"" + info.domain_name +
            "\" names no directory origin of the config (directory origins: " +
            (known.empty() ? std::string("none") : known) + ")";
    return std::nullopt;
  }
  config::Origin o;
  o.name = info.domain_name;
  o.kind = config::OriginKind::Http;
  o.https = info.protocol == "https";
  o.host = info.domain_name;
  o.port = info.port;
  o.path_prefix = info.path;
  o.read_timeout = std::chrono::seconds(info.read_timeout_s);
  o.keepalive_timeout = std::chrono::seconds(info.keepalive_timeout_s);
  for (const auto& h : info.custom_headers) o.custom_headers.push_back({h.name, h.value, {}});
  return o;
}

http::Response function_failure_response(const functions::Failure& f, bool development,
                                         std::string_view request_id) {
  http::Response r;
  r.status = f.status;
  r.headers.add("Server", "edgeguard");
  r.headers.add("Content-Type", "text/plain; charset=utf-8");
  r.body = fmt::format("{} ERROR\nThe request could not be satisfied.\n{}\n", f.status,
                       development ? std::string_view(f.message) : short_cause(f.status));
  r.body +=
      "We can't connect to the server for this app or website at this time. There might be too "
      "much traffic or a configuration error. Try again later, or contact the app or website "
      "owner.\nGenerated by edgeguard\nRequest ID: ";
  r.body.append(request_id).append("\n");
  return r;
}

void log_function_output(logs::LogFile* log, std::string_view function, functions::EventType e,
                         std::string_view request_id, const std::vector<std::string>& lines,
                         const functions::Failure* failure) {
  if (lines.empty() && !failure) return;
  std::string out;
  auto line = [&](std::string_view level, std::string_view message) {
    nlohmann::json j = {{"timestamp", iso_now()}, {"requestId", request_id},
                        {"function", function},   {"eventType", functions::to_string(e)},
                        {"level", level},         {"message", message}};
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
  };
  for (const auto& l : lines) line(console_level(l), l);
  if (failure) line("ERROR", failure->message);
  if (log) {
    log->write(out);
    return;
  }
  for (const auto& l : lines) log::info("function {} {}: {}", function, request_id, l);
  if (failure) log::warn("function {} {}: {}", function, request_id, failure->message);
}

}  // namespace eg::proxy
