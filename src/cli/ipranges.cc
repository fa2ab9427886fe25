// `edgeguard ipranges plan|apply|watch`: origin allowlists kept in sync with AWS's published
// ip-ranges.json (docs/ipranges.md).
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "origin/ipranges_backend.h"
#include "origin/ipranges_sync.h"
#include "origin/ipranges_watch.h"

namespace eg::cli {
namespace {

struct IprangesArgs {
  std::string document;
  std::string notification;
  std::vector<std::string> services;
  std::vector<std::string> regions;
  bool no_global = false;
  bool split_global = false;
  int ip_version = 0;  // 0: both
  std::string ports = "80,443";
  std::string backend = "nftables";
  std::string ca_file;
  bool allow_empty = false;
  bool summary = false;
  origin::BackendOptions backend_options;  // filled from the flags below
  std::map<std::string, std::string> backend_flags;
  // watch
  std::string listen;
  std::vector<std::string> cert_url_prefixes;
  std::vector<std::string> topic_arns;
  std::vector<std::string> document_url_prefixes;
};

void add_selection_flags(CLI::App* sub, IprangesArgs& a) {
  sub->add_option("--service", a.services,
                  "Service code to allow, repeatable (default CLOUDFRONT_ORIGIN_FACING; ALL: every "
                  "service in the document)")
      ->delimiter(',');
  sub->add_option("--region", a.regions, "Region to allow, repeatable (default: every region)")
      ->delimiter(',');
  sub->add_flag("--no-global", a.no_global, "Leave out the GLOBAL ranges");
  sub->add_flag("--split-global", a.split_global,
                "Keep GLOBAL and regional ranges apart (separate sets or groups)");
  sub->add_option("--ip-version", a.ip_version, "4 or 6 (default: both)")
      ->check(CLI::IsMember({4, 6}));
  sub->add_option("--ports", a.ports, "TCP ports to open to the ranges: 80,443 or 8000-8080")
      ->capture_default_str();
  std::vector<std::string> names;
  for (const auto& b : origin::firewall_backends()) names.push_back(b.name);
  sub->add_option("--backend", a.backend, "Where the allowlist lives")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  sub->add_option("--ca-file", a.ca_file,
                  "PEM bundle trusted for https (document URL, EC2 endpoint, shield admin, SNS "
                  "certificates); default: the system store");
  sub->add_flag("--allow-empty", a.allow_empty,
                "Apply even when the selection is empty (refuses everyone on the ports)");
  sub->add_flag("--summary", a.summary, "Counts only, no list of added and removed entries");
  for (const auto& b : origin::firewall_backends())
    for (const auto& o : b.options) {
      auto* opt =
          sub->add_option("--" + o.name, a.backend_flags[o.name], o.help + " [" + b.name + "]");
      if (!o.default_value.empty()) opt->default_str(o.default_value);
      a.backend_flags[o.name] = "";
    }
}

// Backend flags given for another backend are a mistake worth saying.
int make_backend(CLI::App* sub, IprangesArgs& a, std::unique_ptr<origin::FirewallBackend>& out) {
  const origin::BackendSpec* spec = origin::find_backend(a.backend);
  if (!spec) {
    std::cerr << "edgeguard ipranges: unknown backend " << a.backend << "\n";
    return 2;
  }
  for (const auto& b : origin::firewall_backends()) {
    for (const auto& o : b.options) {
      bool given = sub->count("--" + o.name) > 0;
      if (b.name != spec->name) {
        if (given) {
          std::cerr << "edgeguard ipranges: --" << o.name << " belongs to the " << b.name
                    << " backend, and the backend is " << spec->name << "\n";
          return 2;
        }
        continue;
      }
      a.backend_options[o.name] = given ? a.backend_flags[o.name] : o.default_value;
    }
  }
  a.backend_options["ca-file"] = a.ca_file;
  std::string error;
  out = spec->make(a.backend_options, error);
  if (!out) {
    std::cerr << "edgeguard ipranges: " << error << "\n";
    return 2;
  }
  return 0;
}

int build_job(CLI::App* sub, IprangesArgs& a, origin::SyncJob& job,
              std::unique_ptr<origin::FirewallBackend>& backend) {
  std::string error;
  auto ports = origin::parse_ports(a.ports, &error);
  if (!ports) {
    std::cerr << "edgeguard ipranges: --" << error << "\n";
    return 2;
  }
  if (int rc = make_backend(sub, a, backend)) return rc;
  job.selection.services = a.services;
  job.selection.regions = a.regions;
  job.selection.include_global = !a.no_global;
  job.selection.split_global = a.split_global;
  job.selection.ipv4 = a.ip_version != 6;
  job.selection.ipv6 = a.ip_version != 4;
  job.ports = *ports;
  job.backend = backend.get();
  job.fetch.ca_file = a.ca_file;
  job.allow_empty = a.allow_empty;
  job.summary = a.summary;
  return 0;
}

int run_once(CLI::App* sub, IprangesArgs& a, bool apply) {
  std::signal(SIGPIPE, SIG_IGN);  // nft may exit before reading all of its script
  origin::SyncJob job;
  std::unique_ptr<origin::FirewallBackend> backend;
  if (int rc = build_job(sub, a, job, backend)) return rc;
  job.apply = apply;
  origin::SyncInput input;
  input.document = a.document;
  if (!a.notification.empty()) {
    std::string bytes, error;
    if (!origin::fetch_source(a.notification, job.fetch, bytes, error)) {
      std::cerr << "edgeguard ipranges: cannot read the notification: " << error << "\n";
      return 1;
    }
    origin::NotificationResult n = origin::parse_notification(bytes);
    if (!n.notification) {
      std::cerr << "edgeguard ipranges: " << a.notification
                << " is not an ip-ranges change notification:\n";
      for (const auto& e : n.errors) std::cerr << "  " << e << "\n";
      return 1;
    }
    input.notification = *n.notification;
  }
  if (input.document.empty() && !input.notification) {
    std::cerr << "edgeguard ipranges: --document FILE|URL is required (or --notification, whose "
                 "url is then fetched)\n";
    return 2;
  }
  return origin::run_sync(job, input, std::cout, std::cerr).exit_code;
}

int run_watch(CLI::App* sub, IprangesArgs& a) {
  std::signal(SIGPIPE, SIG_IGN);
  origin::WatchOptions w;
  if (int rc = build_job(sub, a, w.job, w.backend)) return rc;
  w.job.apply = true;
  w.listen = a.listen;
  w.cert_url_prefixes = a.cert_url_prefixes;
  w.topic_arns = a.topic_arns;
  w.document_url_prefixes = a.document_url_prefixes;
  w.document_override = a.document;
  return origin::run_watch(w, std::cout, std::cerr);
}

}  // namespace

Command add_ipranges_command(CLI::App& app) {
  auto* top = app.add_subcommand(
      "ipranges", "Origin allowlists from AWS ip-ranges.json: plan, apply, or watch SNS");
  top->require_subcommand(1);
  auto args = std::make_shared<IprangesArgs>();

  auto* plan = top->add_subcommand("plan", "Print the desired state and the difference to apply");
  auto* apply = top->add_subcommand("apply", "Apply only the difference (idempotent)");
  for (auto* sub : {plan, apply}) {
    sub->add_option("--document", args->document, "ip-ranges.json: a file or an http(s) URL");
    sub->add_option("--notification", args->notification,
                    "The SNS change notification (message, SNS envelope or Lambda event): the "
                    "document's MD5 must match it");
    add_selection_flags(sub, *args);
  }
  auto* watch = top->add_subcommand(
      "watch", "Receive SNS notifications over HTTP and apply each new document");
  watch->add_option("--listen", args->listen, "Address to listen on, e.g. 127.0.0.1:8088")
      ->required();
  watch->add_option("--sns-cert-url-prefix", args->cert_url_prefixes,
                    "Allowed prefix of SigningCertURL and SubscribeURL, repeatable (default: "
                    "https://sns.<topic region>.amazonaws.com/)");
  watch->add_option("--topic-arn", args->topic_arns,
                    "Accepted topic, repeatable (default: "
                    "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged)");
  watch->add_option("--document-url-prefix", args->document_url_prefixes,
                    "Allowed prefix of the notification's document url, repeatable (default: "
                    "https://ip-ranges.amazonaws.com/)");
  watch->add_option("--document", args->document,
                    "Fetch the document from here instead of the notification's url (its MD5 "
                    "must still match)");
  add_selection_flags(watch, *args);

  auto* p = plan;
  auto* ap = apply;
  auto* w = watch;
  return {top, [args, p, ap, w] {
            if (p->parsed()) return run_once(p, *args, false);
            if (ap->parsed()) return run_once(ap, *args, true);
            if (w->parsed()) return run_watch(w, *args);
            return 2;
          }};
}

}  // namespace eg::cli
