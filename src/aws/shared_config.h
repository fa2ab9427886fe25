// The AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials): an INI
// dialect. Sections are profiles ("[name]" in the credentials file; "[default]",
// "[profile name]" in the config file; other config sections such as [sso-session x] are
// skipped). Keys are case-insensitive; values run to the end of the line (no inline
// comments, as botocore's parser); indented lines after a key are nested settings
// ("s3 =\n  max_concurrent_requests = 10") and are skipped. A profile repeated in one file
// is merged, later keys winning. Errors name the file and the line.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace eg::aws {

enum class SharedConfigKind : uint8_t { kCredentials, kConfig };

struct SharedConfigSection {
  std::string profile;  // the profile name (without "profile ")
  int line = 0;         // line of the section header
  struct Entry {
    std::string key;  // lowercase
    std::string value;
    int line = 0;
  };
  std::vector<Entry> entries;

  const std::string* get(std::string_view key) const;  // last occurrence
  bool has(std::string_view key) const { return get(key) != nullptr; }
  int line_of(std::string_view key) const;  // 0 when absent
};

struct SharedConfigFile {
  std::string path;
  bool exists = false;
  std::vector<SharedConfigSection> profiles;
  const SharedConfigSection* profile(std::string_view name) const;
};

// Parses `text`; `path` is used in messages ("<path>:<line>: ...").
bool parse_shared_config(std::string_view text, std::string_view path, SharedConfigKind kind,
                         SharedConfigFile& out, std::string& error);
// Reads and parses `path`. A file that does not exist is not an error (out.exists = false);
// one that cannot be read is.
bool load_shared_config_file(const std::string& path, SharedConfigKind kind, SharedConfigFile& out,
                             std::string& error);

}  // namespace eg::aws
