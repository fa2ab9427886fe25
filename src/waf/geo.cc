#include "waf/geo.h"

#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

namespace eg::waf {
namespace {

// Owns an MMDB_s; MMDB_close is only valid after a successful MMDB_open.
struct MmdbHandle {
  MMDB_s mmdb{};
  bool is_open = false;
  MmdbHandle() = default;
  MmdbHandle(const MmdbHandle&) = delete;
  MmdbHandle& operator=(const MmdbHandle&) = delete;
  ~MmdbHandle() {
    if (is_open) MMDB_close(&mmdb);
  }
};

// libmaxminddb's reason for a failed open is generic ("Error opening the specified MaxMind DB
// file"), and errno after it is not reliable, so the OS's reason is asked for again.
std::string file_open_reason(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  return MMDB_strerror(MMDB_FILE_OPEN_ERROR);
}

bool open_mmdb(const std::string& path, MmdbHandle& handle, std::string& error) {
  int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &handle.mmdb);
  if (status == MMDB_SUCCESS) {
    handle.is_open = true;
    return true;
  }
  if (status == MMDB_FILE_OPEN_ERROR) {
    error = "cannot open " + path + ": " + file_open_reason(path);
  } else if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
    error = "cannot open " + path + ": it is a directory, not an .mmdb file";
  } else if (status == MMDB_IO_ERROR) {
    error = "cannot read " + path + ": " + MMDB_strerror(status);
  } else {
    error = path + " is not a usable MaxMind DB (.mmdb) file: " + MMDB_strerror(status);
  }
  return false;
}

std::string_view database_type(const MMDB_s& mmdb) {
  return mmdb.metadata.database_type ? std::string_view(mmdb.metadata.database_type)
                                     : std::string_view();
}

bool type_mentions(const MMDB_s& mmdb, std::string_view word) {
  return database_type(mmdb).find(word) != std::string_view::npos;
}

// The first data record of the search tree, for databases whose type string does not say
// what they hold (custom or third-party builds). Depth-first from the left, so the IPv4 part
// of an IPv6 tree comes first; bounded so a large sparse tree cannot stall startup.
std::optional<MMDB_entry_s> first_data_record(const MMDB_s& mmdb) {
  constexpr size_t kMaxNodesVisited = 1 << 20;
  const uint32_t node_count = mmdb.metadata.node_count;
  std::vector<uint32_t> pending{0};
  size_t visited = 0;
  while (!pending.empty() && visited < kMaxNodesVisited) {
    uint32_t node_number = pending.back();
    pending.pop_back();
    ++visited;
    MMDB_search_node_s node;
    if (node_number >= node_count || MMDB_read_node(&mmdb, node_number, &node) != MMDB_SUCCESS)
      continue;
    if (node.left_record_type == MMDB_RECORD_TYPE_DATA) return node.left_record_entry;
    if (node.right_record_type == MMDB_RECORD_TYPE_DATA) return node.right_record_entry;
    // Right first onto the stack so the left subtree is explored first.
    if (node.right_record_type == MMDB_RECORD_TYPE_SEARCH_NODE)
      pending.push_back(static_cast<uint32_t>(node.right_record));
    if (node.left_record_type == MMDB_RECORD_TYPE_SEARCH_NODE)
      pending.push_back(static_cast<uint32_t>(node.left_record));
  }
  return std::nullopt;
}

bool record_has(MMDB_entry_s entry, const char* key, uint32_t type) {
  MMDB_entry_data_s data;
  const char* path[] = {key, nullptr};
  return MMDB_aget_value(&entry, &data, path) == MMDB_SUCCESS && data.has_data && data.type == type;
}

std::string describe_type(const MMDB_s& mmdb) {
  std::string_view type = database_type(mmdb);
  if (type.empty()) return "a database without a database_type";
  bool vowel = std::string_view("AEIOUaeiou").find(type.front()) != std::string_view::npos;
  return (vowel ? "an " : "a ") + std::string(type) + " database";
}

bool is_v4_mapped(const IpAddress& a) {
  for (int i = 0; i < 10; ++i)
    if (a.bytes[i] != 0) return false;
  return a.bytes[10] == 0xff && a.bytes[11] == 0xff;
}

// MMDB_lookup_sockaddr, rather than a hand-made 128-bit key, because it already looks an AF_INET
// address up where IPv6 trees keep IPv4 (::a.b.c.d, reached via the ipv4 start node), and refuses
// IPv6 in an IPv4 tree. Every failure is "not found": a lookup never fails a request.
std::optional<MMDB_entry_s> find(const MMDB_s& mmdb, const IpAddress& a) {
  sockaddr_storage storage{};
  if (!a.v6 || is_v4_mapped(a)) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, a.v6 ? &a.bytes[12] : &a.bytes[0], 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  }
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result =
      MMDB_lookup_sockaddr(&mmdb, reinterpret_cast<const sockaddr*>(&storage), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS || !result.found_entry) return std::nullopt;
  return result.entry;
}

// Copies a code of `min_len`..`max_len` ASCII letters (and digits when `digits_allowed`: ISO
// 3166-2 subdivision codes have them, alpha-2 country codes do not), upper-cased, into `out`;
// leaves `out` untouched ("XX") when the database holds anything else, so labels stay well formed.
template <size_t N>
bool copy_code(MMDB_entry_s entry, const char* const* path, size_t min_len, size_t max_len,
               bool digits_allowed, char (&out)[N]) {
  static_assert(N >= 2);
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING)
    return false;
  size_t len = data.data_size;
  if (len < min_len || len > max_len || len >= N) return false;
  char code[N] = {};
  for (size_t i = 0; i < len; ++i) {
    char c = data.utf8_string[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    bool allowed = (c >= 'A' && c <= 'Z') || (digits_allowed && c >= '0' && c <= '9');
    if (!allowed) return false;
    code[i] = c;
  }
  std::memcpy(out, code, N);
  return true;
}

}  // namespace

struct GeoDatabase::Impl {
  MmdbHandle handle;
};

GeoDatabase::GeoDatabase() : impl_(std::make_unique<Impl>()) {}
GeoDatabase::~GeoDatabase() = default;

std::unique_ptr<GeoDatabase> GeoDatabase::open(const std::string& path, std::string& error) {
  std::unique_ptr<GeoDatabase> db(new GeoDatabase());
  MMDB_s& mmdb = db->impl_->handle.mmdb;
  if (!open_mmdb(path, db->impl_->handle, error)) return nullptr;
  if (type_mentions(mmdb, "Country") || type_mentions(mmdb, "City")) return db;
  // An ASN database's records could never carry a country; say so rather than probe.
  if (!type_mentions(mmdb, "ASN")) {
    if (auto record = first_data_record(mmdb)) {
      if (record_has(*record, "country", MMDB_DATA_TYPE_MAP) ||
          record_has(*record, "registered_country", MMDB_DATA_TYPE_MAP))
        return db;
    }
  }
  error = path + " is " + describe_type(mmdb) +
          "; geo_database needs a Country or City database (records with country.iso_code)";
  return nullptr;
}

GeoInfo GeoDatabase::lookup(const IpAddress& a) const {
  GeoInfo info;
  auto entry = find(impl_->handle.mmdb, a);
  if (!entry) return info;
  static constexpr const char* kCountry[] = {"country", "iso_code", nullptr};
  static constexpr const char* kRegisteredCountry[] = {"registered_country", "iso_code", nullptr};
  static constexpr const char* kSubdivision[] = {"subdivisions", "0", "iso_code", nullptr};
  if (!copy_code(*entry, kCountry, 2, 2, false, info.country))
    copy_code(*entry, kRegisteredCountry, 2, 2, false, info.country);
  copy_code(*entry, kSubdivision, 1, 3, true, info.subdivision);
  return info;
}

struct AsnDatabase::Impl {
  MmdbHandle handle;
};

AsnDatabase::AsnDatabase() : impl_(std::make_unique<Impl>()) {}
AsnDatabase::~AsnDatabase() = default;

std::unique_ptr<AsnDatabase> AsnDatabase::open(const std::string& path, std::string& error) {
  std::unique_ptr<AsnDatabase> db(new AsnDatabase());
  MMDB_s& mmdb = db->impl_->handle.mmdb;
  if (!open_mmdb(path, db->impl_->handle, error)) return nullptr;
  if (type_mentions(mmdb, "ASN")) return db;
  // GeoIP2-ISP and similar carry autonomous_system_number without saying ASN in their type.
  if (!type_mentions(mmdb, "Country") && !type_mentions(mmdb, "City")) {
    if (auto record = first_data_record(mmdb)) {
      if (record_has(*record, "autonomous_system_number", MMDB_DATA_TYPE_UINT32) ||
          record_has(*record, "autonomous_system_number", MMDB_DATA_TYPE_UINT16) ||
          record_has(*record, "autonomous_system_number", MMDB_DATA_TYPE_UINT64))
        return db;
    }
  }
  error = path + " is " + describe_type(mmdb) +
          "; asn_database needs an ASN database (records with autonomous_system_number)";
  return nullptr;
}

std::optional<uint32_t> AsnDatabase::lookup(const IpAddress& a) const {
  auto entry = find(impl_->handle.mmdb, a);
  if (!entry) return std::nullopt;
  MMDB_entry_data_s data;
  const char* path[] = {"autonomous_system_number", nullptr};
  if (MMDB_aget_value(&*entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT32:
      return data.uint32;
    case MMDB_DATA_TYPE_UINT16:
      return data.uint16;
    case MMDB_DATA_TYPE_UINT64:
      if (data.uint64 <= UINT32_MAX) return static_cast<uint32_t>(data.uint64);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace eg::waf
