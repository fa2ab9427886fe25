// One run of the ip-ranges job: read the document (and the notification that announced it),
// check its MD5, select, plan against the backend, and apply when asked. `edgeguard
// ipranges plan|apply` and the SNS endpoint both go through here.
#pragma once
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "origin/ipranges_backend.h"
#include "origin/ipranges_document.h"
#include "origin/ipranges_fetch.h"
#include "origin/ipranges_selection.h"

namespace eg::origin {

struct SyncJob {
  Selection selection;
  std::vector<PortRange> ports;
  FirewallBackend* backend = nullptr;
  FetchOptions fetch;
  bool apply = false;
  bool allow_empty = false;  // apply an empty selection (it blocks everyone on the ports)
  bool summary = false;      // counts only, no prefix lists
};

struct SyncInput {
  std::string document;  // file or URL; empty: the notification's url
  std::optional<Notification> notification;
};

struct SyncOutcome {
  int exit_code = 1;  // 0 done (or nothing to do), 1 refused or failed
  bool changed = false;
  std::string sync_token;  // of the document that was read
};

SyncOutcome run_sync(const SyncJob& job, const SyncInput& input, std::ostream& out,
                     std::ostream& err);

// The plan as the user reads it (exposed for tests).
void print_plan(const DesiredState& desired, const Plan& plan, bool applied, bool summary,
                std::ostream& out);

}  // namespace eg::origin
