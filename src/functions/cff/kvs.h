// The KeyValueStore a 2.0 function reads through cf.kvs(): CloudFront's S3 import file
// ({"data":[{"key":"k","value":"v"}, ...]}), read once at load and immutable afterwards.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eg::functions {

class CffKvs {
 public:
  // Refuses what CloudFront's import refuses: not JSON, no data array, a key that is not a
  // 1-512 byte string, a value over 1 KB, a duplicate key, a file over 5 MB.
  static std::shared_ptr<const CffKvs> load(const std::string& path, std::string& error);

  const std::string* get(std::string_view key) const;
  size_t size() const { return values_.size(); }
  // {"creationDateTime":..,"lastUpdatedDateTime":..,"keyCount":..} (dates: the file's mtime).
  const std::string& meta_json() const { return meta_json_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> values_;
  std::string meta_json_;
};

}  // namespace eg::functions
