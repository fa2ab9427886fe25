// `edgeguard secrets rotate|show|add`: the origin-verify secrets store and its zero-downtime
// rotation (docs/secrets.md).
//
// A rotation runs four steps, each printed as it happens:
//   create  a new random value staged PENDING in the store (an interrupted rotation's PENDING
//           version is reused);
//   set     every shield reloads (it now accepts CURRENT and PENDING) ...
//   test    ... a request to the shield with each accepted value must get 200 ...
//   set     ... and only then every edge reloads (it now sends PENDING);
//   finish  PENDING -> CURRENT -> PREVIOUS in the store, then shields and edges reload.
// The test runs between the two halves of "set" so that a value the shields refuse never
// reaches an edge.
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "aws/http_client.h"
#include "cli/commands.h"
#include "core/strings.h"
#include "origin/secret_store.h"

namespace eg::cli {
namespace {

using Clock = std::chrono::steady_clock;
using origin::SecretStore;
using origin::StoredVersion;

constexpr int kTestAttempts = 3;

struct SecretsArgs {
  std::string name;
  std::string store;
  std::vector<std::string> edge_admins;
  std::vector<std::string> shield_admins;
  std::string token_file;
  std::string test_url;
  std::string test_header = "X-Origin-Verify";
  std::string every;
  int count = 0;
  std::string drain = "2s";
  std::string timeout = "10s";
  std::string lock_wait = "30s";
  std::string ca_file;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

void say(const std::string& line) { std::cout << line << std::endl; }  // as it happens
void warn(const std::string& line) { std::cerr << "warning: " << line << std::endl; }

std::string utc_text(std::chrono::system_clock::time_point t) {
  time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string seconds_text(double s) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(s < 10 ? 1 : 0) << s << " s";
  return o.str();
}

std::string interval_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string stages_text(const StoredVersion& v) {
  std::string out;
  for (const auto& s : v.stages) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "-" : out;
}

// A response body in one line, shortened: reload errors are config errors (never values).
std::string body_excerpt(const std::string& body) {
  std::string s = body;
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  s = std::string(trim(s));
  if (s.size() > 600) s = s.substr(0, 600) + "...";
  return s;
}

// Everything a rotation needs, checked before the first step.
struct Plan {
  std::string name, store;
  std::vector<std::string> edges, shields;  // admin base URLs, no trailing slash
  std::string token;
  std::string test_url, test_header;
  std::chrono::milliseconds drain{0};
  std::chrono::milliseconds lock_wait{30'000};
  aws::HttpClientOptions http;
};

class Rotation {
 public:
  explicit Rotation(const Plan& p) : p_(p) {}

  // 0 rotated; 1 stopped at a step that failed (said why).
  int run() {
    auto started = Clock::now();
    say("rotate " + p_.name + " in " + p_.store);
    std::string error;
    auto lock = origin::StoreLock::acquire(p_.store, p_.lock_wait, error);
    if (!lock) return fail(error);

    // create
    auto store = read();
    if (!store) return 1;
    if (!store->has(p_.name)) return fail(no_such_secret(*store));
    auto current = store->find_stage(p_.name, origin::kStageCurrent);
    auto value = origin::random_secret_value();
    if (!value) return fail("create: the random generator (OpenSSL RAND_bytes) failed");
    std::string id = origin::make_version_id(std::chrono::system_clock::now());
    auto pending = store->stage_pending(p_.name, id, *value, error);
    if (!pending) return fail("create: " + error);
    if (pending->reused) {
      say("create: version " + pending->id +
          " is already PENDING (left by an interrupted rotation); reusing it");
    } else {
      if (!origin::write_store_file(p_.store, *store, error)) return fail("create: " + error);
      say("create: new version " + pending->id + " staged PENDING");
    }
    std::string kept = "the store keeps CURRENT " + (current ? current->id : "(none)") +
                       " and PENDING " + pending->id +
                       "; rerun `edgeguard secrets rotate` to resume (it reuses PENDING)";

    // set, first half: shields accept CURRENT and PENDING
    for (const auto& s : p_.shields)
      if (!reload("set", "shield", s, error))
        return fail(error + "; the edges were not told; " + kept);

    // test
    if (!p_.test_url.empty()) {
      std::vector<std::pair<std::string, StoredVersion>> accepted;
      if (current) accepted.emplace_back("CURRENT", *current);
      if (auto pv = store->find_stage(p_.name, origin::kStagePending))
        accepted.emplace_back("PENDING", *pv);
      for (const auto& [stage, v] : accepted)
        if (!test_value(stage, v, error))
          return fail(error + "; the edges were not told (they still send the old value); " + kept);
      check_refusal();
    } else {
      say("test: skipped (no --test-url); the edges are told without a check");
    }

    // set, second half: edges send PENDING
    for (const auto& e : p_.edges)
      if (!reload("set", "edge", e, error))
        return fail(error + "; the shields accept both values, so every edge keeps working; " +
                    kept);
    if (p_.drain.count() > 0) {
      say("set: waiting " + interval_text(p_.drain) +
          " for requests already on their way with the old value");
      std::this_thread::sleep_for(p_.drain);
    }

    // finish
    store = read();  // a hand edit made meanwhile is kept, not overwritten
    if (!store) return 1;
    auto now_pending = store->find_stage(p_.name, origin::kStagePending);
    if (!now_pending || now_pending->id != pending->id)
      return fail("finish: the PENDING version of " + p_.name + " changed to " +
                  (now_pending ? now_pending->id : std::string("(none)")) + " in " + p_.store +
                  " while this rotation ran (expected " + pending->id + "); nothing finished");
    auto finished = store->finish(p_.name, error);
    if (!finished) return fail("finish: " + error);
    if (!origin::write_store_file(p_.store, *store, error)) return fail("finish: " + error);
    say("finish: " + finished->current + " is CURRENT" +
        (finished->previous ? ", " + *finished->previous + " is PREVIOUS" : "") +
        (finished->dropped ? ", " + *finished->dropped + " dropped" : ""));
    bool all = true;
    for (const auto& [role, list] : {std::pair{"shield", &p_.shields}, {"edge", &p_.edges}}) {
      for (const auto& admin : *list) {
        if (reload("finish", role, admin, error)) continue;
        std::cerr << error << std::endl;
        all = false;
      }
    }
    if (!all)
      return fail(
          "finish: the store is rotated but not every gateway reloaded (see above); reload "
          "them (POST /reload or SIGHUP): a shield that did not reload still accepts the old "
          "value, an edge that did not reload already sends the new one");
    double took = std::chrono::duration<double>(Clock::now() - started).count();
    say("rotated " + p_.name + ": CURRENT is " + finished->current + " (" + seconds_text(took) +
        ")");
    return 0;
  }

 private:
  int fail(const std::string& why) {
    std::cerr << "edgeguard secrets rotate: " << why << std::endl;
    return 1;
  }

  std::optional<SecretStore> read() {
    auto r = origin::read_store_file(p_.store);
    for (const auto& w : r.warnings) warn(w + "; rewriting it now");
    for (const auto& e : r.errors) std::cerr << e << "\n";
    if (!r.store)
      std::cerr << "edgeguard secrets rotate: the store cannot be read; nothing changed"
                << std::endl;
    return std::move(r.store);
  }

  std::string no_such_secret(const SecretStore& store) {
    std::string names;
    for (const auto& n : store.names()) names += (names.empty() ? "" : ", ") + n;
    return "no secret '" + p_.name + "' in " + p_.store +
           " (it holds: " + (names.empty() ? std::string("nothing") : names) +
           "); `edgeguard secrets add` creates one";
  }

  bool reload(const char* step, const char* role, const std::string& admin, std::string& error) {
    aws::HttpClientRequest req;
    req.method = "POST";
    req.url = admin + "/reload";
    if (!p_.token.empty()) req.headers.push_back({"Authorization", "Bearer " + p_.token});
    aws::HttpResult r = aws::http_request(req, p_.http);
    std::string what = std::string(step) + ": " + role + " " + admin;
    if (!r.response) {
      error = what + ": reload failed: " + r.error;
      return false;
    }
    if (r.response->status != 200) {
      error = what + ": reload refused: " + std::to_string(r.response->status) + " " +
              body_excerpt(r.response->body) +
              (r.response->status == 401 ? " (check --token-file)" : "");
      return false;
    }
    say(what + ": " + body_excerpt(r.response->body));
    return true;
  }

  aws::HttpResult probe(const std::string& value) {
    aws::HttpClientRequest req;
    req.method = "GET";
    req.url = p_.test_url;
    req.headers.push_back({p_.test_header, value});
    return aws::http_request(req, p_.http);
  }

  bool test_value(const std::string& stage, const StoredVersion& v, std::string& error) {
    std::string what =
        "test: " + p_.test_url + " with " + p_.test_header + " = " + stage + " (" + v.id + ")";
    std::string got;
    for (int attempt = 1; attempt <= kTestAttempts; ++attempt) {
      aws::HttpResult r = probe(v.value);
      if (r.response && r.response->status == 200) {
        say(what + ": 200");
        return true;
      }
      got = r.response ? std::to_string(r.response->status) + " " + r.response->reason : r.error;
      if (attempt < kTestAttempts) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    error = what + ": " + got + " (expected 200, " + std::to_string(kTestAttempts) + " attempts)";
    return false;
  }

  // A shield that also admits a value nobody holds is not checking anything: say so.
  void check_refusal() {
    auto bogus = origin::random_secret_value();
    if (!bogus) return;
    aws::HttpResult r = probe(*bogus);
    if (r.response && r.response->status == 200)
      warn("test: " + p_.test_url + " also answered 200 to a value it should refuse; is " +
           "--test-url the shield (with origin_verify on " + p_.test_header + ")?");
    else if (r.response)
      say("test: a value outside the store is refused (" + std::to_string(r.response->status) +
          ")");
  }

  const Plan& p_;
};

bool read_token(const std::string& file, std::string& token, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot read the admin token file " + file;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  token = std::string(trim(ss.str()));
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) {
    error = "the admin token file " + file + " is empty";
    return false;
  }
  return true;
}

// Checks the flags; 0 ok, 2 bad usage (said why).
int make_plan(const SecretsArgs& a, Plan& p) {
  auto usage = [](const std::string& why) {
    std::cerr << "edgeguard secrets rotate: " << why << std::endl;
    return 2;
  };
  p.name = a.name;
  p.store = a.store;
  if (!origin::valid_secret_name(a.name))
    return usage("invalid secret name '" + a.name +
                 "' (letters, digits and /_+=.@- only, up to 128 characters)");
  if (a.shield_admins.empty() || a.edge_admins.empty())
    return usage(
        "give every shield (--shield-admin URL) and every edge (--edge-admin URL): the gateways "
        "read the store only when they reload, and the order of those reloads is what keeps "
        "every request accepted");
  for (const auto* list : {&a.shield_admins, &a.edge_admins}) {
    for (std::string url : *list) {
      std::string error;
      if (!aws::parse_url(url, error)) return usage("admin URL '" + url + "': " + error);
      while (!url.empty() && url.back() == '/') url.pop_back();
      (list == &a.shield_admins ? p.shields : p.edges).push_back(url);
    }
  }
  if (!a.test_url.empty()) {
    std::string error;
    if (!aws::parse_url(a.test_url, error)) return usage("--test-url: " + error);
  }
  p.test_url = a.test_url;
  p.test_header = a.test_header;
  if (a.test_header.empty() || a.test_header.find_first_of(" \t:\r\n") != std::string::npos)
    return usage("--test-header: '" + a.test_header + "' is not a header name");
  if (a.drain == "0") {
    p.drain = std::chrono::milliseconds(0);
  } else if (auto d = origin::parse_interval(a.drain)) {
    p.drain = *d;
  } else {
    return usage("--drain: expected a duration like 2s or 500ms (or 0), found '" + a.drain + "'");
  }
  if (auto w = origin::parse_interval(a.lock_wait))
    p.lock_wait = *w;
  else if (a.lock_wait == "0")
    p.lock_wait = std::chrono::milliseconds(0);
  else
    return usage("--lock-wait: expected a duration like 30s (or 0), found '" + a.lock_wait + "'");
  auto t = origin::parse_interval(a.timeout);
  if (!t) return usage("--timeout: expected a duration like 10s, found '" + a.timeout + "'");
  p.http.connect_timeout = std::min(*t, std::chrono::milliseconds(5000));
  p.http.read_timeout = *t;
  p.http.max_response_bytes = 1 << 20;
  p.http.ca_file = a.ca_file;
  return 0;
}

// The next rotation: an interval after the last one this process ran, and not before the
// CURRENT version is an interval old (so a restarted scheduler does not rotate early). A
// CURRENT version of unknown age (an id written by hand) is due now.
Clock::time_point next_due(const Plan& p, std::chrono::milliseconds every,
                           std::optional<Clock::time_point> last_start) {
  auto due = Clock::now();
  if (last_start) due = std::max(due, *last_start + every);
  auto r = origin::read_store_file(p.store);
  if (r.store) {
    if (auto cur = r.store->find_stage(p.name, origin::kStageCurrent)) {
      if (auto created = origin::version_created(cur->id)) {
        auto age = std::chrono::system_clock::now() - *created;
        if (age < every)
          due = std::max(due,
                         Clock::now() + std::chrono::duration_cast<Clock::duration>(every - age));
      }
    }
  }
  return due;
}

int run_rotate(const SecretsArgs& a) {
  Plan p;
  if (int rc = make_plan(a, p)) return rc;
  if (!a.token_file.empty()) {
    std::string error;
    if (!read_token(a.token_file, p.token, error)) {
      std::cerr << "edgeguard secrets rotate: " << error << std::endl;
      return 1;
    }
  }
  if (a.every.empty()) {
    if (a.count > 0) {
      std::cerr << "edgeguard secrets rotate: --count needs --every" << std::endl;
      return 2;
    }
    return Rotation(p).run();
  }
  auto every = origin::parse_interval(a.every);
  if (!every) {
    std::cerr << "edgeguard secrets rotate: --every: expected a duration like 10s, 15m, 24h or "
                 "30d, found '"
              << a.every << "'" << std::endl;
    return 2;
  }

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  say("schedule: rotate " + p.name + " every " + interval_text(*every) +
      (a.count > 0 ? ", " + std::to_string(a.count) + " times" : ""));
  int done = 0, failed = 0;
  std::optional<Clock::time_point> last_start;
  while (!g_stop && (a.count == 0 || done < a.count)) {
    auto due = next_due(p, *every, last_start);
    auto wait = due - Clock::now();
    if (wait > std::chrono::seconds(1)) {
      auto when = std::chrono::system_clock::now() +
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(wait);
      say("schedule: next rotation at " + utc_text(when));
    }
    while (!g_stop && Clock::now() < due)
      std::this_thread::sleep_for(
          std::min<Clock::duration>(due - Clock::now(), std::chrono::milliseconds(200)));
    if (g_stop) break;
    last_start = Clock::now();
    if (Rotation(p).run() != 0) {
      ++failed;
      say("schedule: rotation failed; the next attempt follows the schedule");
    }
    ++done;
  }
  say("schedule: stopped after " + std::to_string(done) + " rotation" + (done == 1 ? "" : "s") +
      (failed ? " (" + std::to_string(failed) + " failed)" : ""));
  return failed ? 1 : 0;
}

int run_show(const SecretsArgs& a) {
  auto r = origin::read_store_file(a.store);
  for (const auto& w : r.warnings) warn(w);
  for (const auto& e : r.errors) std::cerr << e << "\n";
  if (!r.store) return 1;
  std::vector<std::string> names = r.store->names();
  if (!a.name.empty()) {
    if (!r.store->has(a.name)) {
      std::cerr << "edgeguard secrets show: no secret '" << a.name << "' in " << a.store << "\n";
      return 1;
    }
    names = {a.name};
  }
  for (const auto& n : names) {
    std::cout << n << "\n";
    size_t w = 2;
    auto versions = r.store->versions(n);
    for (const auto& v : versions) w = std::max(w, v.id.size());
    for (const auto& v : versions) {
      auto created = origin::version_created(v.id);
      std::cout << "  " << std::left << std::setw(static_cast<int>(w)) << v.id << "  "
                << std::setw(16) << stages_text(v) << "  created "
                << (created ? utc_text(*created) : std::string("unknown")) << "\n";
    }
  }
  if (names.empty()) std::cout << "(no secrets in " << a.store << ")\n";
  return 0;
}

int run_add(const SecretsArgs& a) {
  auto fail = [](const std::string& why) {
    std::cerr << "edgeguard secrets add: " << why << std::endl;
    return 1;
  };
  if (!origin::valid_secret_name(a.name)) {
    std::cerr << "edgeguard secrets add: invalid secret name '" << a.name
              << "' (letters, digits and /_+=.@- only, up to 128 characters)\n";
    return 2;
  }
  std::string error;
  auto lock = origin::StoreLock::acquire(a.store, std::chrono::seconds(30), error);
  if (!lock) return fail(error);
  auto r = origin::read_store_file(a.store, /*missing_ok=*/true);
  for (const auto& w : r.warnings) warn(w + "; rewriting it now");
  for (const auto& e : r.errors) std::cerr << e << "\n";
  if (!r.store) return 1;
  auto value = origin::random_secret_value();
  if (!value) return fail("the random generator (OpenSSL RAND_bytes) failed");
  std::string id = origin::make_version_id(std::chrono::system_clock::now());
  if (!r.store->add_secret(a.name, id, *value, error)) return fail(error + " in " + a.store);
  if (!origin::write_store_file(a.store, *r.store, error)) return fail(error);
  say("added " + a.name + " to " + a.store + ": version " + id + " is CURRENT");
  return 0;
}

}  // namespace

Command add_secrets_command(CLI::App& app) {
  auto args = std::make_shared<SecretsArgs>();
  auto* top = app.add_subcommand(
      "secrets", "Origin-verify secrets: rotate without downtime, list versions (docs/secrets.md)");
  top->require_subcommand(1);

  auto* rotate = top->add_subcommand(
      "rotate",
      "Rotate a secret in four steps: create PENDING, set (shields, then test, then edges), "
      "finish (PENDING -> CURRENT -> PREVIOUS)");
  rotate->add_option("name", args->name, "Secret name in the store")->required();
  rotate->add_option("--store", args->store, "The secrets store file (the gateways' secrets.file)")
      ->required();
  rotate
      ->add_option("--edge-admin", args->edge_admins,
                   "Admin URL of an edge gateway (http://HOST:PORT), repeatable")
      ->allow_extra_args(false);
  rotate
      ->add_option("--shield-admin", args->shield_admins,
                   "Admin URL of a shield gateway, repeatable")
      ->allow_extra_args(false);
  rotate->add_option("--token-file", args->token_file,
                     "File holding the admin bearer token (the same for every gateway)");
  rotate->add_option("--test-url", args->test_url,
                     "A URL on the shield itself: each accepted value must get 200 there before "
                     "an edge is told");
  rotate->add_option("--test-header", args->test_header, "The origin-verify header name")
      ->capture_default_str();
  rotate->add_option("--every", args->every,
                     "Keep running and rotate on this schedule: 10s, 15m, 24h, 30d...");
  rotate->add_option("--count", args->count, "With --every: stop after N rotations")
      ->check(CLI::PositiveNumber);
  rotate
      ->add_option("--drain", args->drain,
                   "Wait after the edges switch before the old value stops being accepted")
      ->capture_default_str();
  rotate->add_option("--timeout", args->timeout, "Per admin call and test request")
      ->capture_default_str();
  rotate
      ->add_option("--lock-wait", args->lock_wait,
                   "How long to wait for another rotation of the same store to finish")
      ->capture_default_str();
  rotate->add_option("--ca-file", args->ca_file, "PEM bundle trusted for https admin/test URLs");

  auto* show = top->add_subcommand(
      "show", "List secrets, version ids, stages and creation times (never values)");
  show->add_option("name", args->name, "Only this secret");
  show->add_option("--store", args->store, "The secrets store file")->required();

  auto* add = top->add_subcommand(
      "add", "Add a secret with a random 32-character CURRENT value (creates the store if absent)");
  add->add_option("name", args->name, "Secret name")->required();
  add->add_option("--store", args->store, "The secrets store file")->required();

  return {top, [args, rotate, show, add]() {
            if (rotate->parsed()) return run_rotate(*args);
            if (show->parsed()) return run_show(*args);
            if (add->parsed()) return run_add(*args);
            return 2;
          }};
}

}  // namespace eg::cli
