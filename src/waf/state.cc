#include "waf/state.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/request_id.h"

namespace eg::waf {

IpSetHandle::IpSetHandle() : lock_token_(new_uuid()) {
  matchers_.push_back(std::make_unique<IpSetMatcher>());
  matcher_.store(matchers_.back().get());
}

IpSetHandle::~IpSetHandle() = default;

std::vector<IpSetEntry> IpSetHandle::entries() const {
  std::lock_guard lk(mu_);
  return entries_;
}

std::string IpSetHandle::canonical() const {
  std::vector<std::string> parts;
  {
    std::lock_guard lk(mu_);
    for (const auto& e : entries_) parts.push_back(e.text + "@" + std::to_string(e.expires_ms));
  }
  std::sort(parts.begin(), parts.end());
  std::string out = v6 ? "v6:" : "v4:";
  for (const auto& p : parts) out += p + ",";
  return out;
}

std::string IpSetHandle::lock_token() const {
  std::lock_guard lk(mu_);
  return lock_token_;
}

void IpSetHandle::rebuild_locked() {
  std::vector<IpPrefix> prefixes;
  prefixes.reserve(entries_.size());
  for (const auto& e : entries_) prefixes.push_back(e.prefix);
  matchers_.push_back(std::make_unique<IpSetMatcher>(prefixes));
  matcher_.store(matchers_.back().get(), std::memory_order_release);
  lock_token_ = new_uuid();
}

void IpSetHandle::persist_locked() const {
  if (source_file.empty()) return;
  nlohmann::json set = {
      {"Name", name}, {"Id", id}, {"ARN", arn}, {"IPAddressVersion", v6 ? "IPV6" : "IPV4"}};
  if (!description.empty()) set["Description"] = description;
  nlohmann::json addresses = nlohmann::json::array(), expiry = nlohmann::json::object();
  for (const auto& e : entries_) {
    addresses.push_back(e.text);
    if (e.expires_ms) expiry[e.text] = e.expires_ms;
  }
  set["Addresses"] = addresses;
  // Not an AWS field: when each temporary address leaves the set (ms since the epoch).
  if (!expiry.empty()) set["EdgeguardExpiry"] = expiry;
  nlohmann::json doc = envelope ? nlohmann::json{{"IPSet", set}, {"LockToken", lock_token_}} : set;
  std::string tmp = source_file + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << doc.dump(2) << "\n";
    if (!f.flush()) return;
  }
  std::rename(tmp.c_str(), source_file.c_str());
}

IpSetHandle::UpdateStatus IpSetHandle::update(const std::vector<IpSetEntry>& entries,
                                              const std::string* lock_token,
                                              const std::string* new_description,
                                              std::string& error) {
  for (const auto& e : entries)
    if (e.prefix.address.v6 != v6) {
      error = e.text + " is an " + (v6 ? "IPv4" : "IPv6") + " address; IP set " + name + " holds " +
              (v6 ? "IPV6" : "IPV4") + " addresses only";
      return UpdateStatus::Invalid;
    }
  std::lock_guard lk(mu_);
  if (lock_token && *lock_token != lock_token_) return UpdateStatus::Stale;
  entries_ = entries;
  if (new_description) description = *new_description;
  rebuild_locked();
  persist_locked();
  return UpdateStatus::Ok;
}

bool IpSetHandle::add(std::string_view cidr, int64_t expires_ms, std::string& error) {
  auto p = parse_prefix(cidr);
  if (!p.prefix) {
    error = p.error;
    return false;
  }
  if (p.prefix->address.v6 != v6) {
    error = std::string(cidr) + ": IP set " + name + " holds " + (v6 ? "IPV6" : "IPV4") +
            " addresses only";
    return false;
  }
  std::lock_guard lk(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const IpSetEntry& e) { return e.text == cidr; });
  if (it != entries_.end())
    it->expires_ms = expires_ms;
  else
    entries_.push_back(IpSetEntry{std::string(cidr), *p.prefix, expires_ms});
  rebuild_locked();
  persist_locked();
  return true;
}

bool IpSetHandle::remove(std::string_view cidr) {
  std::lock_guard lk(mu_);
  auto before = entries_.size();
  std::erase_if(entries_, [&](const IpSetEntry& e) { return e.text == cidr; });
  if (entries_.size() == before) return false;
  rebuild_locked();
  persist_locked();
  return true;
}

bool IpSetHandle::expire(int64_t now_ms) {
  std::lock_guard lk(mu_);
  auto before = entries_.size();
  std::erase_if(entries_,
                [&](const IpSetEntry& e) { return e.expires_ms && e.expires_ms <= now_ms; });
  if (entries_.size() == before) return false;
  rebuild_locked();
  persist_locked();
  return true;
}

std::shared_ptr<IpSetHandle> WafState::adopt_ip_set(std::shared_ptr<IpSetHandle> loaded) {
  std::lock_guard lk(mu_);
  auto& slot = ip_sets_[loaded->arn];
  if (slot && slot->canonical() == loaded->canonical() && slot->v6 == loaded->v6) {
    slot->description = loaded->description;
    slot->source_file = loaded->source_file;
    return slot;
  }
  slot = std::move(loaded);
  return slot;
}

std::shared_ptr<IpSetHandle> WafState::find_ip_set(std::string_view key) const {
  std::lock_guard lk(mu_);
  for (const auto& [arn, h] : ip_sets_)
    if (arn == key || h->name == key || h->id == key) return h;
  return nullptr;
}

std::vector<std::shared_ptr<IpSetHandle>> WafState::ip_sets() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<IpSetHandle>> out;
  for (const auto& [_, h] : ip_sets_) out.push_back(h);
  return out;
}

std::shared_ptr<RateLimiter> WafState::rate_limiter(const std::string& key,
                                                    const RateLimiterOptions& o) {
  std::lock_guard lk(mu_);
  auto& slot = limiters_[key];
  if (auto existing = slot.lock()) return existing;
  std::erase_if(limiters_, [](const auto& kv) { return kv.second.expired(); });
  auto made = std::make_shared<RateLimiter>(o);
  limiters_[key] = made;
  return made;
}

void WafState::tick(int64_t now_ms) {
  for (const auto& h : ip_sets()) h->expire(now_ms);
}

}  // namespace eg::waf
