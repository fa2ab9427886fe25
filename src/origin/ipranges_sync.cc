#include "origin/ipranges_sync.h"

#include <fmt/core.h>
#include <fmt/ostream.h>

#include <ostream>

namespace eg::origin {
namespace {

void print_normalisation(const DesiredState& d, std::ostream& out) {
  size_t host = 0, dup = 0, contained = 0, after = 0;
  std::vector<std::string> examples;
  for (const auto& s : d.sets) {
    host += s.normalisation.host_bits_cleared;
    dup += s.normalisation.duplicates;
    contained += s.normalisation.contained;
    after += s.prefixes.size();
    for (const auto& e : s.normalisation.examples)
      if (examples.size() < 5) examples.push_back(e);
  }
  out << fmt::format("desired: {} entries selected, {} prefixes after normalisation",
                     d.selected_entries, after);
  if (host + dup + contained == 0) {
    out << " (nothing to merge)\n";
  } else {
    out << fmt::format(
        " ({} duplicate(s) and {} contained prefix(es) merged, {} with host bits "
        "set cleared)\n",
        dup, contained, host);
    for (const auto& e : examples) out << "  normalised: " << e << "\n";
  }
  for (const auto& s : d.sets)
    out << fmt::format("  set {}: {} prefixes\n", s.name, s.prefixes.size());
}

}  // namespace

void print_plan(const DesiredState& desired, const Plan& plan, bool applied, bool summary,
                std::ostream& out) {
  out << "backend: " << plan.backend << "\n";
  for (const auto& line : plan.current) out << "current: " << line << "\n";
  for (const auto& a : plan.actions) out << (applied ? "done: " : "to do: ") << a << "\n";
  for (const auto& c : plan.changes) {
    if (!c.changes()) {
      out << fmt::format("{}: {} entries, no change\n", c.target, c.before);
      continue;
    }
    out << fmt::format("{}: {} -> {} (+{} -{})", c.target, c.before, c.after, c.added.size(),
                       c.removed.size());
    for (const auto& n : c.notes) out << "; " << n;
    out << "\n";
    if (summary) continue;
    for (const auto& a : c.added) out << "  + " << a << "\n";
    for (const auto& r : c.removed) out << "  - " << r << "\n";
  }
  size_t added = plan.added(), removed = plan.removed();
  if (!plan.has_changes()) {
    out << fmt::format("no change: the {} already holds the desired state ({} prefixes)\n",
                       plan.backend, desired.prefix_count());
  } else if (applied) {
    out << fmt::format("applied: {} added, {} removed, {} other change(s)\n", added, removed,
                       plan.actions.size());
  } else {
    out << fmt::format(
        "plan: {} to add, {} to remove, {} other change(s); `edgeguard ipranges "
        "apply` with the same flags makes them\n",
        added, removed, plan.actions.size());
  }
}

SyncOutcome run_sync(const SyncJob& job, const SyncInput& input, std::ostream& out,
                     std::ostream& err) {
  SyncOutcome outcome;
  std::string source = input.document;
  if (source.empty() && input.notification) source = input.notification->url;
  if (input.notification)
    out << fmt::format("notification ({}): synctoken {}, created {}, md5 {}, url {}\n",
                       input.notification->source, input.notification->sync_token,
                       input.notification->create_time, input.notification->md5,
                       input.notification->url);

  job.backend->prefetch();
  std::string bytes, error;
  if (!fetch_source(source, job.fetch, bytes, error)) {
    err << "edgeguard ipranges: cannot read the document: " << error << "\n";
    return outcome;
  }
  DocumentResult parsed = parse_document(bytes);
  if (!parsed.document) {
    err << "edgeguard ipranges: " << source << " is not a valid ip-ranges document:\n";
    for (const auto& e : parsed.errors) err << "  " << e << "\n";
    return outcome;
  }
  const Document& doc = *parsed.document;
  outcome.sync_token = doc.sync_token;
  out << fmt::format(
      "document {}: syncToken {}, created {}, md5 {}, {} IPv4 and {} IPv6 prefixes\n", source,
      doc.sync_token, doc.create_date, doc.md5, doc.prefixes.size(), doc.ipv6_prefixes.size());
  if (input.notification) {
    if (auto mismatch = check_md5(doc, *input.notification)) {
      err << "edgeguard ipranges: " << *mismatch << "\n";
      return outcome;
    }
    out << "md5 matches the notification\n";
  }

  SelectResult selected = select_ranges(doc, job.selection, job.ports);
  if (!selected.state) {
    for (const auto& e : selected.errors) err << "edgeguard ipranges: " << e << "\n";
    return outcome;
  }
  DesiredState& desired = *selected.state;
  desired.document_line = fmt::format("document syncToken {}, created {}, md5 {}", doc.sync_token,
                                      doc.create_date, doc.md5);
  out << "selection: " << desired.description << "\n";
  print_normalisation(desired, out);
  if (desired.prefix_count() == 0) {
    out << "warning: the selection is empty: applied, it would refuse every address on the ports\n";
    if (job.apply && !job.allow_empty) {
      err << "edgeguard ipranges: refusing to apply an empty selection (--allow-empty applies it "
             "anyway)\n";
      return outcome;
    }
  }

  Plan plan;
  bool ok = job.apply ? job.backend->apply(desired, plan, error)
                      : job.backend->plan(desired, plan, error);
  if (!ok) {
    err << "edgeguard ipranges: " << error << "\n";
    return outcome;
  }
  print_plan(desired, plan, job.apply, job.summary, out);
  outcome.changed = job.apply && plan.has_changes();
  outcome.exit_code = 0;
  return outcome;
}

}  // namespace eg::origin
