#include "origin/ipranges_watch.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <ostream>
#include <sstream>

#include "aws/http_client.h"
#include "http/parser.h"
#include "origin/ipranges_sns.h"

namespace eg::origin {
namespace {

constexpr size_t kMaxBody = 256 * 1024;  // SNS messages are at most 256 KiB
// A whole request must arrive within this time: deliveries are handled one at a time, so a
// client trickling bytes must not hold the endpoint.
constexpr auto kRequestDeadline = std::chrono::seconds(10);

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Reply {
  int status = 200;
  std::string body;
};

bool parse_listen(const std::string& s, sockaddr_storage& addr, socklen_t& len) {
  std::string host, port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  char* end = nullptr;
  long p = strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p < 0 || p > 65535) return false;
  std::memset(&addr, 0, sizeof addr);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(p));
    len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(p));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

class Handler {
 public:
  Handler(WatchOptions& o, std::ostream& out, std::ostream& err) : o_(o), out_(out), err_(err) {
    if (o_.topic_arns.empty()) o_.topic_arns.push_back(std::string(kIpRangesTopicArn));
    if (o_.document_url_prefixes.empty())
      o_.document_url_prefixes.push_back("https://ip-ranges.amazonaws.com/");
    for (auto* list : {&o_.cert_url_prefixes, &o_.document_url_prefixes})
      for (auto& p : *list)
        if (p.empty() || p.back() != '/') p += '/';
  }

  Reply handle(const http::Request& req) {
    if (req.method != "POST") return {405, "POST SNS deliveries here\n"};
    SnsParse parsed = parse_sns_message(req.body);
    if (!parsed.message) return refuse(400, "not an SNS message: " + parsed.error);
    const SnsMessage& m = *parsed.message;
    bool topic_ok = false;
    for (const auto& t : o_.topic_arns) topic_ok = topic_ok || t == m.topic_arn;
    if (!topic_ok) return refuse(403, "topic " + m.topic_arn + " is not an accepted topic");
    std::vector<std::string> prefixes = o_.cert_url_prefixes;
    if (prefixes.empty()) {
      std::string region = topic_region(m.topic_arn);
      if (region.empty()) return refuse(403, "TopicArn " + m.topic_arn + " is not an SNS ARN");
      prefixes.push_back("https://sns." + region + ".amazonaws.com/");
    }
    if (!url_allowed(m.signing_cert_url, prefixes))
      return refuse(403, "SigningCertURL " + m.signing_cert_url + " is not under " + prefixes[0]);
    std::string pem, error;
    if (!certificate(m.signing_cert_url, pem, error))
      return refuse(403, "cannot fetch the signing certificate: " + error);
    if (!verify_sns_signature(m, pem, error)) return refuse(403, "signature refused: " + error);

    if (m.type == "SubscriptionConfirmation") {
      if (!url_allowed(m.subscribe_url, prefixes))
        return refuse(403, "SubscribeURL " + m.subscribe_url + " is not under " + prefixes[0]);
      aws::HttpClientRequest get;
      get.url = m.subscribe_url;
      aws::HttpClientOptions opts;
      opts.ca_file = o_.job.fetch.ca_file;
      aws::HttpResult r = aws::http_request(get, opts);
      if (!r.response || r.response->status != 200) {
        std::string why = r.response ? fmt::format("status {}", r.response->status) : r.error;
        return refuse(502, "confirming the subscription failed: " + why);
      }
      out_ << "watch: subscription to " << m.topic_arn << " confirmed" << std::endl;
      return {200, "subscription confirmed\n"};
    }
    if (m.type == "UnsubscribeConfirmation") {
      out_ << "watch: unsubscribed from " << m.topic_arn << std::endl;
      return {200, "noted\n"};
    }
    NotificationResult n = parse_notification_message(m.message, "Message");
    if (!n.notification) {
      std::string all;
      for (const auto& e : n.errors) all += (all.empty() ? "" : "; ") + e;
      return refuse(400, "not an ip-ranges change notification: " + all);
    }
    n.notification->source = "SNS delivery " + m.message_id;
    // Deliveries may arrive out of order, and a retry repeats one: only newer documents count.
    if (!last_sync_token_.empty() && older_or_same(n.notification->sync_token, last_sync_token_)) {
      out_ << "watch: synctoken " << n.notification->sync_token << " is not newer than "
           << last_sync_token_ << " (already applied); nothing to do" << std::endl;
      return {200, "already applied\n"};
    }
    if (o_.document_override.empty() && !url_allowed(n.notification->url, o_.document_url_prefixes))
      return refuse(403, "document url " + n.notification->url + " is not under " +
                             o_.document_url_prefixes[0]);
    SyncInput input;
    input.document = o_.document_override;
    input.notification = n.notification;
    std::ostringstream log, problems;
    SyncOutcome outcome = run_sync(o_.job, input, log, problems);
    out_ << log.str() << std::flush;
    if (outcome.exit_code != 0) {
      err_ << problems.str() << std::flush;
      return {500, "sync failed: " + problems.str()};
    }
    last_sync_token_ = outcome.sync_token;
    return {200, outcome.changed ? "applied\n" : "no change\n"};
  }

 private:
  static bool older_or_same(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return a.size() < b.size();  // both all digits, no leading zeros
    return a <= b;
  }

  Reply refuse(int status, std::string why) {
    err_ << "watch: " << status << ": " << why << std::endl;
    return {status, why + "\n"};
  }

  bool certificate(const std::string& url, std::string& pem, std::string& error) {
    if (auto it = certs_.find(url); it != certs_.end()) {
      pem = it->second;
      return true;
    }
    aws::HttpClientRequest get;
    get.url = url;
    aws::HttpClientOptions opts;
    opts.ca_file = o_.job.fetch.ca_file;
    opts.max_response_bytes = 64 * 1024;
    aws::HttpResult r = aws::http_request(get, opts);
    if (!r.response) {
      error = r.error;
      return false;
    }
    if (r.response->status != 200) {
      error = fmt::format("status {}", r.response->status);
      return false;
    }
    pem = r.response->body;
    if (certs_.size() > 64) certs_.clear();
    certs_[url] = pem;
    return true;
  }

  WatchOptions& o_;
  std::ostream& out_;
  std::ostream& err_;
  std::map<std::string, std::string> certs_;
  std::string last_sync_token_;
};

// Reads one request (head and body) with a deadline. false: answer `reply` (or nothing, when
// the peer went away).
bool read_request(int fd, http::Request& req, Reply& reply) {
  std::string buf;
  http::ParserLimits limits;
  limits.max_body_bytes = kMaxBody;
  http::RequestParser parser(limits);
  size_t consumed = 0;
  char chunk[16384];
  const auto deadline = std::chrono::steady_clock::now() + kRequestDeadline;
  auto more = [&]() {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, int(left.count())) <= 0) return false;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, size_t(n));
    return true;
  };
  for (;;) {
    auto st = parser.parse(buf, req, consumed);
    if (st == http::ParseStatus::Done) break;
    if (st == http::ParseStatus::Error) {
      reply = {parser.error().status, parser.error().message + "\n"};
      return false;
    }
    if (!more()) {
      reply.status = 0;
      return false;
    }
  }
  std::string rest = buf.substr(consumed);
  if (req.framing == http::BodyFraming::ContentLength) {
    while (rest.size() < req.content_length) {
      buf.clear();
      if (!more()) {
        reply.status = 0;
        return false;
      }
      rest += buf;
    }
    req.body = rest.substr(0, req.content_length);
  } else if (req.framing == http::BodyFraming::Chunked) {
    http::ChunkedDecoder decoder(kMaxBody);
    for (;;) {
      size_t used = 0;
      auto st = decoder.feed(rest, used, req.body);
      rest.erase(0, used);
      if (st == http::ParseStatus::Done) break;
      if (st == http::ParseStatus::Error) {
        reply = {decoder.error().status, decoder.error().message + "\n"};
        return false;
      }
      buf.clear();
      if (!more()) {
        reply.status = 0;
        return false;
      }
      rest += buf;
    }
  }
  return true;
}

void send_reply(int fd, const Reply& r) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      r.status, http::reason_phrase(r.status), r.body.size(), r.body);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += size_t(n);
  }
}

}  // namespace

int run_watch(WatchOptions& options, std::ostream& out, std::ostream& err) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!parse_listen(options.listen, addr, len)) {
    err << "edgeguard ipranges watch: --listen " << options.listen
        << " is not host:port with a numeric address (127.0.0.1:8088, [::1]:8088)\n";
    return 2;
  }
  options.job.backend = options.backend.get();
  options.job.apply = true;
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 16) != 0) {
    err << "edgeguard ipranges watch: cannot listen on " << options.listen << ": "
        << strerror(errno) << "\n";
    if (fd >= 0) close(fd);
    return 1;
  }
  sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  uint16_t port =
      ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  Handler handler(options, out, err);
  out << "watch: listening on port " << port << " for SNS deliveries ("
      << (options.topic_arns.empty() ? std::string(kIpRangesTopicArn) : options.topic_arns[0])
      << ")" << std::endl;
  while (!g_stop) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 250);
    if (ready <= 0) continue;
    int client = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    http::Request req;
    Reply reply;
    if (read_request(client, req, reply)) reply = handler.handle(req);
    if (reply.status != 0) send_reply(client, reply);
    shutdown(client, SHUT_RDWR);
    close(client);
  }
  close(fd);
  out << "watch: stopped" << std::endl;
  return 0;
}

}  // namespace eg::origin
