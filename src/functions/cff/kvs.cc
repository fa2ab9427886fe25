#include "functions/cff/kvs.h"

#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/http_date.h"

namespace eg::functions {

namespace {
constexpr size_t kMaxFileBytes = 5u << 20;
constexpr size_t kMaxKeyBytes = 512;
constexpr size_t kMaxValueBytes = 1024;

}  // namespace

std::shared_ptr<const CffKvs> CffKvs::load(const std::string& path, std::string& error) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    error = path + ": cannot read the key value store file";
    return nullptr;
  }
  if (static_cast<size_t>(st.st_size) > kMaxFileBytes) {
    error = path + ": " + std::to_string(st.st_size) +
            " bytes; a key value store import file is at most 5 MB";
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    error = path + ": not valid JSON";
    return nullptr;
  }
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array()) {
    error = path + ": expected {\"data\": [{\"key\": ..., \"value\": ...}, ...]}";
    return nullptr;
  }
  auto kvs = std::make_shared<CffKvs>();
  const auto& data = doc["data"];
  for (size_t i = 0; i < data.size(); ++i) {
    const auto& item = data[i];
    const std::string where = path + ": data[" + std::to_string(i) + "]";
    if (!item.is_object() || !item.contains("key") || !item["key"].is_string() ||
        !item.contains("value") || !item["value"].is_string()) {
      error = where + ": expected {\"key\": string, \"value\": string}";
      return nullptr;
    }
    std::string key = item["key"].get<std::string>();
    std::string value = item["value"].get<std::string>();
    if (key.empty() || key.size() > kMaxKeyBytes) {
      error = where + ".key: " + std::to_string(key.size()) + " bytes; keys are 1 to 512 bytes";
      return nullptr;
    }
    if (value.size() > kMaxValueBytes) {
      error = where + ".value: " + std::to_string(value.size()) + " bytes; values are at most 1 KB";
      return nullptr;
    }
    if (!kvs->values_.emplace(key, std::move(value)).second) {
      error = where + ".key: duplicate key \"" + key + "\"";
      return nullptr;
    }
  }
  nlohmann::json meta = {
      {"creationDateTime", format_iso8601(int64_t(st.st_ctime) * 1000, false)},
      {"lastUpdatedDateTime", format_iso8601(int64_t(st.st_mtime) * 1000, false)},
      {"keyCount", kvs->values_.size()}};
  kvs->meta_json_ = meta.dump();
  return kvs;
}

const std::string* CffKvs::get(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

}  // namespace eg::functions
