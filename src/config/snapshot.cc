#include "config/snapshot.h"

#include <algorithm>

namespace eg::config {

const SecretVersion* Secret::current() const {
  for (const auto& v : versions)
    if (std::find(v.stages.begin(), v.stages.end(), "CURRENT") != v.stages.end()) return &v;
  return nullptr;
}

const Origin* Snapshot::find_origin(std::string_view name) const {
  auto it = origin_index.find(std::string(name));
  if (it == origin_index.end() || it->second >= origins.size()) return nullptr;
  return &origins[it->second];
}

const CustomErrorResponse* Snapshot::custom_error(int status) const {
  for (const auto& e : custom_error_responses)
    if (e.error_code == status) return &e;
  return nullptr;
}

}  // namespace eg::config
