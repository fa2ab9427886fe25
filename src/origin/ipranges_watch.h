// `edgeguard ipranges watch`: an HTTP endpoint for Amazon SNS deliveries from the
// AmazonIpSpaceChanged topic.
//
// Each POST is checked before anything else happens: the topic must be an accepted one, the
// SigningCertURL an https URL under an allowed prefix (default https://sns.<topic
// region>.amazonaws.com/), and the signature valid for the certificate found there (fetched
// over verified TLS, cached by URL). Then: SubscriptionConfirmation -> GET its SubscribeURL
// (same prefix rule); Notification -> the message is the ip-ranges change notice: its
// document is fetched (url under an allowed prefix), its MD5 checked, and the sync applied.
// Answers: 200 done (or nothing to do: an older synctoken than the last applied one), 400 not
// an SNS message, 403 refused (topic, certificate URL, signature), 500 the sync failed (SNS
// retries), 405 not a POST. One delivery at a time: the sync runs before the answer, so that
// a failure reaches SNS as a retry.
#pragma once
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "origin/ipranges_backend.h"
#include "origin/ipranges_sync.h"

namespace eg::origin {

struct WatchOptions {
  SyncJob job;  // selection, ports, fetch options; apply is forced on
  std::unique_ptr<FirewallBackend> backend;
  std::string listen;                          // "127.0.0.1:8088", "[::1]:8088"
  std::vector<std::string> cert_url_prefixes;  // empty: https://sns.<topic region>.amazonaws.com/
  std::vector<std::string> topic_arns;         // empty: kIpRangesTopicArn
  std::vector<std::string> document_url_prefixes;  // empty: https://ip-ranges.amazonaws.com/
  std::string document_override;                   // fetch here instead of the message's url
};

// Runs until SIGINT or SIGTERM; returns the exit code (2 for a bad --listen, 1 if it cannot
// listen, 0 after a signal).
int run_watch(WatchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace eg::origin
