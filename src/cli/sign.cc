// `edgeguard sign`: signs one request with SigV4 the way the AWS SDKs do (like awscurl),
// prints it, and with --send sends it and prints the response. With --verify FILE it checks
// a raw signed request instead (the origin side's verifier, from the command line).
#include <fstream>
#include <iostream>
#include <sstream>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "aws/sigv4.h"
#include "aws/sigv4_verify.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "http/parser.h"

namespace eg::cli {
namespace {

using aws::sigv4::HeaderField;

struct SignArgs {
  std::string service, region, method = "GET", url, body, body_file, date, profile;
  std::vector<std::string> headers;
  bool send = false, verbose = false, insecure = false;
  std::string ca_file;
  int timeout_ms = 30000;
  // --verify
  std::string verify_file;
  std::string error_shape = "s3";
  int max_skew_s = 300;
};


std::optional<aws::Credentials> load_credentials(const std::string& profile) {
  aws::ChainOptions opts;
  opts.profile = profile;
  auto chain = aws::make_default_chain(opts);
  auto r = chain->load();
  if (r.status != aws::ProviderResult::Status::kFound) {
    std::cerr << "edgeguard sign: " << r.message << "\n";
    return std::nullopt;
  }
  return r.credentials;
}

// The head with LF line ends (readable, and what the e2e tests parse); the body as it is.
void print_request(const std::string& wire, std::ostream& out) {
  size_t head_end = wire.find("\r\n\r\n");
  std::string head = wire.substr(0, head_end);
  std::string printable;
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r' && i + 1 < head.size() && head[i + 1] == '\n') continue;
    printable.push_back(head[i]);
  }
  // The body exactly as sent (no newline added): scripts compare it byte for byte.
  out << printable << "\n\n" << wire.substr(head_end + 4);
  out.flush();
}

int run_verify(const SignArgs& a) {
  std::string raw;
  if (a.verify_file == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    raw = ss.str();
  } else {
    std::ifstream in(a.verify_file, std::ios::binary);
    if (!in) {
      std::cerr << "edgeguard sign: cannot read " << a.verify_file << "\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    raw = ss.str();
  }
  http::RequestParser parser;
  http::Request req;
  size_t consumed = 0;
  if (parser.parse(raw, req, consumed) != http::ParseStatus::Done) {
    std::cerr << "edgeguard sign: " << a.verify_file << " is not a complete HTTP request"
              << (parser.error().message.empty() ? "" : ": " + parser.error().message) << "\n";
    return 1;
  }
  std::string body = raw.substr(consumed);
  if (req.framing == http::BodyFraming::ContentLength) body = body.substr(0, req.content_length);

  auto creds = load_credentials(a.profile);
  if (!creds) return 1;
  aws::sigv4::AccessKey key;
  key.access_key_id = creds->access_key_id;
  key.secret_access_key = creds->secret_access_key;
  key.session_token = creds->session_token;
  aws::sigv4::VerifierOptions opts;
  opts.service = a.service;
  opts.region = a.region;
  opts.max_skew = std::chrono::seconds(a.max_skew_s);
  opts.allow_unsigned_payload = a.service == "s3";
  aws::sigv4::Verifier verifier({key}, opts);

  auto now = std::chrono::system_clock::now();
  if (!a.date.empty()) now = *aws::sigv4::parse_amz_date(a.date);
  std::vector<HeaderField> headers;
  for (const auto& h : req.headers) headers.push_back({h.name, h.value});
  aws::sigv4::RequestView view{req.method, req.path, req.query, headers,
                               aws::sigv4::Payload::body(body)};
  auto result = verifier.verify(view, now);
  if (result.ok()) {
    std::cout << "OK: signature valid (access key " << result.access_key_id << ", "
              << (result.presigned ? "presigned query" : "Authorization header") << ")\n";
    return 0;
  }
  auto shape =
      a.error_shape == "json" ? aws::sigv4::ErrorShape::kJson : aws::sigv4::ErrorShape::kS3Xml;
  auto err = aws::sigv4::render_error(result, shape, "edgeguard-sign-verify");
  std::cout << "REFUSED: " << aws::sigv4::s3_error_code(result.failure) << " ("
            << aws::sigv4::json_error_type(result.failure) << "): " << result.message << "\n"
            << "HTTP " << err.status << "\n";
  for (const auto& [n, v] : err.headers) std::cout << n << ": " << v << "\n";
  std::cout << "\n" << err.body << "\n";
  return 1;
}

int run_sign(const SignArgs& a) {
  if (!a.verify_file.empty()) {
    if (a.service.empty() || a.region.empty()) {
      std::cerr << "edgeguard sign --verify: --service and --region are required\n";
      return 2;
    }
    if (!a.date.empty() && !aws::sigv4::parse_amz_date(a.date)) {
      std::cerr << "edgeguard sign: --date '" << a.date << "' is not YYYYMMDDTHHMMSSZ\n";
      return 2;
    }
    return run_verify(a);
  }
  if (a.url.empty()) {
    std::cerr << "edgeguard sign: --url is required\n";
    return 2;
  }
  std::string error;
  auto url = aws::parse_url(a.url, error);
  if (!url) {
    std::cerr << "edgeguard sign: --url: " << error << "\n";
    return 2;
  }
  aws::HttpClientRequest request;
  request.method = a.method;
  request.url = a.url;
  for (const auto& h : a.headers) {
    std::pair<std::string, std::string> parsed;
    if (!parse_header_arg(h, parsed, error)) {
      std::cerr << "edgeguard sign: " << error << "\n";
      return 2;
    }
    request.headers.push_back(std::move(parsed));
  }
  if (!a.body_file.empty()) {
    std::ifstream in(a.body_file, std::ios::binary);
    if (!in) {
      std::cerr << "edgeguard sign: cannot read --body-file " << a.body_file << "\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    request.body = ss.str();
  } else {
    request.body = a.body;
  }

  std::string service = a.service, region = a.region;
  if (service.empty() || region.empty()) {
    auto inferred = aws::sigv4::infer_service_region(url->host);
    if (!inferred) {
      std::cerr << "edgeguard sign: cannot tell the service and region from the host '" << url->host
                << "'; pass --service and --region\n";
      return 2;
    }
    if (service.empty()) service = inferred->service;
    if (region.empty()) region = inferred->region;
  }
  auto when = std::chrono::system_clock::now();
  if (!a.date.empty()) {
    auto t = aws::sigv4::parse_amz_date(a.date);
    if (!t) {
      std::cerr << "edgeguard sign: --date '" << a.date << "' is not YYYYMMDDTHHMMSSZ\n";
      return 2;
    }
    when = *t;
  }
  auto creds = load_credentials(a.profile);
  if (!creds) return 1;

  // Host comes from the URL unless given; it is signed like every other header.
  bool has_host = false;
  for (const auto& [n, v] : request.headers) has_host = has_host || iequals(n, "host");
  if (!has_host) request.headers.insert(request.headers.begin(), {"Host", url->host_header()});

  std::vector<HeaderField> view_headers;
  for (const auto& [n, v] : request.headers) view_headers.push_back({n, v});
  aws::sigv4::RequestView view{request.method, url->path, url->query, view_headers,
                               aws::sigv4::Payload::body(request.body)};
  auto params = aws::sigv4::params_for(service, region, when);
  params.keep_intermediates = a.verbose;
  aws::sigv4::SigningOutput out;
  if (!aws::sigv4::sign_request(view, *creds, params, out)) {
    std::cerr << "edgeguard sign: " << out.error << "\n";
    return 1;
  }
  std::array<HeaderField, 4> set;
  size_t n = out.headers(set);
  // Headers the signer sets replace any the user gave with the same name.
  std::erase_if(request.headers, [&](const auto& h) {
    for (size_t i = 0; i < n; ++i)
      if (iequals(h.first, set[i].name)) return true;
    return false;
  });
  for (size_t i = 0; i < n; ++i)
    request.headers.emplace_back(std::string(set[i].name), std::string(set[i].value));

  if (a.verbose) {
    std::cerr << "# credentials: " << creds->source << "\n# service " << service << ", region "
              << region << "\n# canonical request:\n"
              << out.canonical_request << "\n# string to sign:\n"
              << out.string_to_sign << "\n# signature: " << out.signature << "\n";
  }
  std::string wire = aws::serialize_request(request, *url);
  if (!a.send) {
    print_request(wire, std::cout);
    return 0;
  }
  if (a.verbose) print_request(wire, std::cerr);
  aws::HttpClientOptions opts;
  opts.verify_tls = !a.insecure;
  opts.ca_file = a.ca_file;
  opts.read_timeout = std::chrono::milliseconds(a.timeout_ms);
  auto res = aws::http_request(request, opts);
  if (!res.response) {
    std::cerr << "edgeguard sign: " << a.url << ": " << res.error << "\n";
    return 1;
  }
  const auto& r = *res.response;
  std::cout << "HTTP/1.1 " << r.status << " "
            << (r.reason.empty() ? std::string(http::reason_phrase(r.status)) : r.reason) << "\n";
  for (const auto& h : r.headers) std::cout << h.name << ": " << h.value << "\n";
  std::cout << "\n" << r.body;
  if (!r.body.empty() && r.body.back() != '\n') std::cout << "\n";
  std::cout.flush();
  if (r.status >= 400) {
    std::cerr << "edgeguard sign: the server answered " << r.status << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

Command add_sign_command(CLI::App& app) {
  auto a = std::make_shared<SignArgs>();
  auto* s = app.add_subcommand(
      "sign",
      "Sign one HTTP request with AWS SigV4 (like awscurl) and print it; --send sends it. "
      "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then the "
      "shared files (~/.aws/credentials, ~/.aws/config, AWS_PROFILE, credential_process)");
  s->add_option("--url", a->url, "Request URL (http:// or https://)");
  s->add_option("--method,-X", a->method, "HTTP method (default GET)");
  s->add_option("--service", a->service,
                "Signing name (lambda, execute-api, s3, ...); inferred from the host if omitted");
  s->add_option("--region", a->region, "Region; inferred from the host if omitted");
  s->add_option("-H,--header", a->headers,
                "Header 'Name: value' (repeatable); all are signed "
                "except user-agent, expect, x-amzn-trace-id");
  s->add_option("--body,-d", a->body, "Request body");
  s->add_option("--body-file", a->body_file, "Read the request body from a file");
  s->add_option("--date", a->date,
                "Signing time YYYYMMDDTHHMMSSZ (default now); with --verify, the time to "
                "verify at");
  s->add_option("--profile", a->profile,
                "Profile of the shared config files (default: "
                "AWS_PROFILE, then default)");
  s->add_flag("--send", a->send, "Send the signed request and print the response");
  s->add_flag("-v,--verbose", a->verbose,
              "Print the canonical request, string to sign and signature to stderr");
  s->add_option("--ca-file", a->ca_file, "CA bundle for https (default: the system's)");
  s->add_flag("--insecure,-k", a->insecure, "Do not verify the server's TLS certificate");
  s->add_option("--timeout-ms", a->timeout_ms, "Response timeout for --send")
      ->check(CLI::Range(1, 3600000));
  s->add_option("--verify", a->verify_file,
                "Verify the signature of a raw HTTP request read from FILE ('-': stdin) "
                "against the chain's credentials instead of signing");
  s->add_option("--error-shape", a->error_shape, "With --verify: s3 (XML) or json")
      ->check(CLI::IsMember({"s3", "json"}));
  s->add_option("--max-skew", a->max_skew_s, "With --verify: allowed clock skew in seconds")
      ->check(CLI::Range(0, 86400));
  return {s, [a] { return run_sign(*a); }};
}

}  // namespace eg::cli
