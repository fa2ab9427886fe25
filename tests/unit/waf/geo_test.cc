#include "waf/geo.h"

#include "waf/acl.h"
#include "waf/state.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace eg::waf {
namespace {

namespace fs = std::filesystem;

IpAddress ip(const char* text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

std::string country_of(const GeoDatabase& db, const char* address) {
  return db.lookup(ip(address)).country;
}

std::string subdivision_of(const GeoDatabase& db, const char* address) {
  return db.lookup(ip(address)).subdivision;
}

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The databases are written once per suite by tests/data/waf/make_mmdb.pl (MaxMind's own
// writer), so the tests read real MMDB files without shipping binaries in the repository.
class GeoMmdbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "eg-geo-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      setup_failure_ = "mkdtemp failed: " + std::string(std::strerror(errno));
      return;
    }
    dir_ = tmpl;
    std::string command =
        "perl " EG_SOURCE_DIR "/tests/data/waf/make_mmdb.pl '" + dir_.string() + "'";
    int status = std::system(command.c_str());
    int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (exit_code == 127) {
      skip_reason_ = "perl is not installed; it writes the test databases";
    } else if (exit_code == 2) {
      skip_reason_ =
          "MaxMind::DB::Writer is not installed (Debian package libmaxmind-db-writer-perl); it "
          "writes the test databases";
    } else if (exit_code != 0) {
      setup_failure_ = command + " failed with status " + std::to_string(status);
    }
  }

  static void TearDownTestSuite() {
    if (!dir_.empty()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  void SetUp() override {
    if (!setup_failure_.empty()) GTEST_FAIL() << setup_failure_;
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  }

  static std::string path(const char* name) { return (dir_ / name).string(); }

  static std::unique_ptr<GeoDatabase> open_geo(const char* name) {
    std::string error;
    auto db = GeoDatabase::open(path(name), error);
    EXPECT_NE(db, nullptr) << error;
    return db;
  }

  static std::unique_ptr<AsnDatabase> open_asn(const char* name) {
    std::string error;
    auto db = AsnDatabase::open(path(name), error);
    EXPECT_NE(db, nullptr) << error;
    return db;
  }

  static inline fs::path dir_;
  static inline std::string skip_reason_;
  static inline std::string setup_failure_;
};

TEST_F(GeoMmdbTest, CityDatabaseGivesCountryAndFirstSubdivisionForIpv4) {
  auto db = open_geo("country.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(country_of(*db, "192.0.2.1"), "US");
  EXPECT_EQ(subdivision_of(*db, "192.0.2.1"), "WA");
  EXPECT_EQ(country_of(*db, "198.51.100.254"), "DE");
  EXPECT_EQ(subdivision_of(*db, "198.51.100.254"), "BE");
}

// The test tree has no ::ffff:0:0/96 alias, so IPv4 data sits only at ::a.b.c.d: these pass
// only if IPv4 is looked up there, however the address arrived.
TEST_F(GeoMmdbTest, Ipv4InIpv6TreeIsFoundWhateverFormTheAddressCameIn) {
  auto db = open_geo("country.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(country_of(*db, "::ffff:192.0.2.9"), "US");  // parse_ip makes it plain IPv4

  IpAddress mapped;  // an IPv4-mapped address kept in IPv6 form by some other producer
  mapped.v6 = true;
  mapped.bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1};
  EXPECT_STREQ(db->lookup(mapped).country, "DE");
}

TEST_F(GeoMmdbTest, Ipv6NetworkWithoutSubdivisionIsCountryAndXX) {
  auto db = open_geo("country.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(country_of(*db, "2001:db8:1::5"), "JP");
  EXPECT_EQ(subdivision_of(*db, "2001:db8:1:ffff::1"), "XX");
}

TEST_F(GeoMmdbTest, UnknownAddressesAreXX) {
  auto db = open_geo("country.mmdb");
  ASSERT_NE(db, nullptr);
  for (const char* address : {"10.0.0.1", "192.0.3.1", "2001:db8:2::1", "::1"}) {
    GeoInfo info = db->lookup(ip(address));
    EXPECT_STREQ(info.country, "XX") << address;
    EXPECT_STREQ(info.subdivision, "XX") << address;
  }
}

TEST_F(GeoMmdbTest, RegisteredCountryStandsInWhenCountryIsAbsent) {
  auto db = open_geo("country.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(country_of(*db, "203.0.113.77"), "FR");
  EXPECT_EQ(subdivision_of(*db, "203.0.113.77"), "XX");
}

TEST_F(GeoMmdbTest, AsnDatabaseGivesNumberOrNothing) {
  auto db = open_asn("asn.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->lookup(ip("192.0.2.200")), 64500u);
  EXPECT_EQ(db->lookup(ip("2001:db8:1::42")), 64501u);
  EXPECT_EQ(db->lookup(ip("198.51.100.1")), std::nullopt);
  EXPECT_EQ(db->lookup(ip("2001:db8:2::1")), std::nullopt);
}

// One database serves every worker thread of a snapshot at once.
TEST_F(GeoMmdbTest, ConcurrentLookupsAllGetTheirOwnAnswers) {
  auto geo = open_geo("country.mmdb");
  auto asn = open_asn("asn.mmdb");
  ASSERT_NE(geo, nullptr);
  ASSERT_NE(asn, nullptr);
  const IpAddress us = ip("192.0.2.3"), de = ip("198.51.100.3"), jp = ip("2001:db8:1::3");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        switch ((i + t) % 3) {
          case 0:
            if (std::string(geo->lookup(us).subdivision) != "WA" || asn->lookup(us) != 64500u)
              ++wrong;
            break;
          case 1:
            if (std::string(geo->lookup(de).subdivision) != "BE" || asn->lookup(de)) ++wrong;
            break;
          default:
            if (std::string(geo->lookup(jp).country) != "JP" || asn->lookup(jp) != 64501u) ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(GeoMmdbTest, AsnDatabaseIsRefusedAsGeoDatabaseNamingBoth) {
  std::string error;
  EXPECT_EQ(GeoDatabase::open(path("asn.mmdb"), error), nullptr);
  EXPECT_NE(error.find(path("asn.mmdb") +
                       " is a GeoLite2-ASN database; geo_database needs a Country or City"),
            std::string::npos)
      << error;
}

TEST_F(GeoMmdbTest, CityDatabaseIsRefusedAsAsnDatabase) {
  std::string error;
  EXPECT_EQ(AsnDatabase::open(path("country.mmdb"), error), nullptr);
  EXPECT_NE(error.find(path("country.mmdb") +
                       " is a GeoLite2-City database; asn_database needs an ASN database"),
            std::string::npos)
      << error;
}

// A database whose type names neither Country, City nor ASN is judged by its records.
TEST_F(GeoMmdbTest, UntypedDatabaseIsJudgedByItsRecords) {
  auto db = open_geo("location-v4.mmdb");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(country_of(*db, "192.0.2.1"), "CA");
  EXPECT_EQ(country_of(*db, "2001:db8:1::1"), "XX");  // IPv6 in an IPv4-only tree

  std::string error;
  EXPECT_EQ(AsnDatabase::open(path("location-v4.mmdb"), error), nullptr);
  EXPECT_NE(error.find("is an Example-Location database; asn_database needs an ASN database"),
            std::string::npos)
      << error;
}

TEST_F(GeoMmdbTest, MissingFileIsRefusedWithPathAndReason) {
  std::string error;
  std::string missing = path("no-such.mmdb");
  EXPECT_EQ(GeoDatabase::open(missing, error), nullptr);
  EXPECT_EQ(error, "cannot open " + missing + ": No such file or directory");
  error.clear();
  EXPECT_EQ(AsnDatabase::open(missing, error), nullptr);
  EXPECT_EQ(error, "cannot open " + missing + ": No such file or directory");
}

TEST_F(GeoMmdbTest, RandomBytesAreRefusedAsNotAnMmdbFile) {
  std::mt19937 random(20240601);
  std::vector<char> noise(4096);
  for (char& c : noise) c = static_cast<char>(random());
  std::string corrupt = path("random.mmdb");
  write_bytes(corrupt, noise);

  std::string error;
  EXPECT_EQ(GeoDatabase::open(corrupt, error), nullptr);
  EXPECT_NE(error.find(corrupt + " is not a usable MaxMind DB (.mmdb) file: "), std::string::npos)
      << error;
  error.clear();
  EXPECT_EQ(AsnDatabase::open(corrupt, error), nullptr);
  EXPECT_NE(error.find(corrupt + " is not a usable MaxMind DB (.mmdb) file: "), std::string::npos)
      << error;
}

TEST_F(GeoMmdbTest, TruncatedDatabaseIsRefused) {
  std::vector<char> bytes = read_bytes(path("country.mmdb"));
  ASSERT_GT(bytes.size(), 100u);
  bytes.resize(bytes.size() / 2);  // the metadata lives at the end
  std::string truncated = path("truncated.mmdb");
  write_bytes(truncated, bytes);

  std::string error;
  EXPECT_EQ(GeoDatabase::open(truncated, error), nullptr);
  EXPECT_NE(error.find(truncated + " is not a usable MaxMind DB (.mmdb) file: "), std::string::npos)
      << error;
}

bool well_formed_code(const char* code, size_t min_len, size_t max_len, bool digits_allowed) {
  size_t len = std::strlen(code);
  if (len < min_len || len > max_len) return false;
  for (size_t i = 0; i < len; ++i) {
    bool digit = code[i] >= '0' && code[i] <= '9';
    if (!((code[i] >= 'A' && code[i] <= 'Z') || (digits_allowed && digit))) return false;
  }
  return true;
}

// A database damaged after its metadata was written (bad disk, half-finished copy) may still
// open; lookups in it must neither crash nor produce a label that is not a code.
TEST_F(GeoMmdbTest, DamagedTreeAndDataStillGiveWellFormedAnswers) {
  const std::vector<char> original = read_bytes(path("country.mmdb"));
  static constexpr std::string_view kMetadataMarker = "\xab\xcd\xefMaxMind.com";
  auto marker =
      std::search(original.begin(), original.end(), kMetadataMarker.begin(), kMetadataMarker.end());
  ASSERT_NE(marker, original.end());
  const size_t damageable = static_cast<size_t>(marker - original.begin());

  const char* addresses[] = {"192.0.2.1",     "198.51.100.1", "203.0.113.1", "10.1.2.3",
                             "2001:db8:1::1", "2001:db8::1",  "::1",         "ffff::1"};
  std::mt19937 random(7);
  int opened = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<char> bytes = original;
    for (int i = 0; i < 16; ++i) bytes[random() % damageable] = static_cast<char>(random());
    std::string damaged = path("damaged.mmdb");
    write_bytes(damaged, bytes);
    std::string error;
    auto db = GeoDatabase::open(damaged, error);
    if (!db) {
      EXPECT_FALSE(error.empty());
      continue;
    }
    ++opened;
    for (const char* address : addresses) {
      GeoInfo info = db->lookup(ip(address));
      EXPECT_TRUE(well_formed_code(info.country, 2, 2, false)) << address << " round " << round;
      EXPECT_TRUE(well_formed_code(info.subdivision, 1, 3, true)) << address << " round " << round;
    }
  }
  EXPECT_GT(opened, 0) << "no damaged database opened, so lookups were never exercised";
}

// GeoMatch and AsnMatch in a web ACL, on the same databases: the geo labels are added to every
// request the statement inspects, matched or not, and a later rule can use them.
TEST_F(GeoMmdbTest, GeoAndAsnStatementsInAWebAcl) {
  AclInput in;
  in.web_acl = {"acl.json", R"({
    "Name": "geo", "DefaultAction": {"Allow": {}},
    "Rules": [
      {"Name": "eu", "Priority": 0, "Action": {"Count": {}},
       "Statement": {"GeoMatchStatement": {"CountryCodes": ["DE", "FR"]}},
       "VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "eu"}},
      {"Name": "block-wa", "Priority": 1, "Action": {"Block": {}},
       "Statement": {"LabelMatchStatement": {"Scope": "LABEL", "Key": "awswaf:clientip:geo:region:US-WA"}},
       "VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "wa"}},
      {"Name": "asn", "Priority": 2, "Action": {"Block": {}},
       "Statement": {"AsnMatchStatement": {"AsnList": [64501]}},
       "VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "asn"}}]})"};
  in.geo_database = path("country.mmdb");
  in.asn_database = path("asn.mmdb");
  in.challenge_key = std::string(32, 'k');
  auto loaded = load_acl(in, std::make_shared<WafState>());
  ASSERT_TRUE(loaded.acl) << loaded.error;
  http::Headers headers;
  auto verdict = [&](const char* ip) {
    Request r{*parse_ip(ip), "GET", "/", "", headers, "", {}, {}, "t", false, 1};
    return loaded.acl->evaluate(r);
  };
  auto has = [](const Verdict& v, std::string_view l) {
    return std::find(v.labels.begin(), v.labels.end(), l) != v.labels.end();
  };
  Verdict us = verdict("192.0.2.10");  // US, WA, AS64500
  EXPECT_EQ(us.action, Action::Block);
  EXPECT_EQ(us.terminating_rule, "block-wa");
  EXPECT_TRUE(has(us, "awswaf:clientip:geo:country:US"));
  EXPECT_TRUE(has(us, "awswaf:clientip:geo:region:US-WA"));
  Verdict de = verdict("198.51.100.10");  // DE: counted by the geo rule, allowed
  EXPECT_EQ(de.action, Action::Allow);
  ASSERT_EQ(de.counted.size(), 1u);
  EXPECT_TRUE(has(de, "awswaf:clientip:geo:country:DE"));
  Verdict jp = verdict("2001:db8:1::5");  // JP, AS64501
  EXPECT_EQ(jp.terminating_rule, "asn");
  EXPECT_TRUE(has(jp, "awswaf:clientip:geo:region:JP-XX"));
  Verdict unknown = verdict("10.1.2.3");
  EXPECT_EQ(unknown.action, Action::Allow);
  EXPECT_TRUE(has(unknown, "awswaf:clientip:geo:country:XX"));

  in.geo_database.clear();
  auto refused = load_acl(in, std::make_shared<WafState>());
  EXPECT_FALSE(refused.acl);
  EXPECT_NE(refused.error.find("Rules[0].Statement.GeoMatchStatement: needs a geo database"),
            std::string::npos)
      << refused.error;
}

}  // namespace
}  // namespace eg::waf
