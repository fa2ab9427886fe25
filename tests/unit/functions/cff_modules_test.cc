// CloudFront Functions modules: crypto, querystring, Buffer, cloudfront (KVS, origin helpers),
// and the 1.0 String byte methods.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "functions/cff/cff.h"

namespace eg::functions {
namespace {

using json = nlohmann::json;

constexpr const char* kEvent = R"({"version":"1.0","context":{"eventType":"viewer-request"},
  "viewer":{"ip":"198.51.100.11"},"request":{"method":"GET","uri":"/","querystring":{},
  "headers":{},"cookies":{}}})";

// These tests are about what the modules do, not about time: a first call that compiles a
// regular expression on a loaded CI machine may take over CloudFront's 1 ms.
CffOptions unhurried() {
  CffOptions o;
  o.compute_budget = std::chrono::milliseconds(500);
  return o;
}

// Runs `body` (a handler body that returns a value) and gives back the value, as JSON.
json eval_in(const std::string& body, CffOptions options = unhurried()) {
  std::string error;
  auto script = CffScript::load("fns/modules.js",
                                "async function handler(event) {\n" + body + "\n}", options, error);
  if (!script) {
    ADD_FAILURE() << error;
    return json();
  }
  CffOutcome out = run_cff(*script, kEvent);
  if (!out.ok) {
    ADD_FAILURE() << out.error;
    return json();
  }
  return json::parse(out.result_json);
}

json eval_v1(const std::string& body) {
  CffOptions o = unhurried();
  o.version = CffRuntimeVersion::V1;
  std::string error;
  auto script =
      CffScript::load("fns/v1.js", "function handler(event) {\n" + body + "\n}", o, error);
  if (!script) {
    ADD_FAILURE() << error;
    return json();
  }
  CffOutcome out = run_cff(*script, kEvent);
  if (!out.ok) {
    ADD_FAILURE() << out.error;
    return json();
  }
  return json::parse(out.result_json);
}

TEST(CffCrypto, HashesMatchKnownVectors) {
  json r = eval_in(R"(
const crypto = require('crypto');
return {
  md5: crypto.createHash('md5').update('').digest('hex'),
  sha1: crypto.createHash('sha1').update('abc').digest('hex'),
  sha256: crypto.createHash('sha256').update('a').update('bc').digest('hex'),
  b64: crypto.createHash('sha256').update('abc').digest('base64'),
  b64url: crypto.createHash('sha256').update('abc').digest('base64url'),
  raw: crypto.createHash('sha256').update('abc').digest().toString('hex'),
  utf8: crypto.createHash('md5').update('é').digest('hex'),
};)");
  EXPECT_EQ(r["md5"], "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(r["sha1"], "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(r["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(r["b64"], "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(r["b64url"], "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  EXPECT_EQ(r["raw"], r["sha256"]);  // 2.0: digest() is a Buffer
  EXPECT_EQ(r["utf8"], "66ddcd97cfdeabb2f6fb8a999b4bc76f") << "md5 of U+00E9 as UTF-8 (c3 a9)";
}

TEST(CffCrypto, HmacsMatchRfcVectors) {
  json r = eval_in(R"(
const crypto = require('crypto');
const data = 'what do ya want for nothing?';
return {
  md5: crypto.createHmac('md5', 'Jefe').update(data).digest('hex'),
  sha1: crypto.createHmac('sha1', 'Jefe').update(data).digest('hex'),
  sha256: crypto.createHmac('sha256', 'Jefe').update(data).digest('hex'),
  bufkey: crypto.createHmac('sha256', Buffer.from('4a656665', 'hex')).update(data).digest('hex'),
};)");
  EXPECT_EQ(r["md5"], "750c783e6ab0b503eaa86e310a5db738");           // RFC 2104
  EXPECT_EQ(r["sha1"], "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");  // RFC 2202 case 2
  EXPECT_EQ(r["sha256"],
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");  // RFC 4231
  EXPECT_EQ(r["bufkey"], r["sha256"]);
}

TEST(CffCrypto, UnsupportedAlgorithmAndDoubleDigestThrow) {
  json r = eval_in(R"(
const crypto = require('crypto');
const out = {};
try { crypto.createHash('sha512'); } catch (e) { out.alg = e.message; }
const h = crypto.createHash('md5'); h.digest('hex');
try { h.digest('hex'); } catch (e) { out.twice = e.message; }
return out;)");
  EXPECT_NE(r["alg"].get<std::string>().find("sha512"), std::string::npos);
  EXPECT_EQ(r["twice"], "Digest already called");
}

TEST(CffCrypto, V1DigestWithoutEncodingIsAByteString) {
  json r = eval_v1(R"(
var d = require('crypto').createHash('md5').update('').digest();
return {type: typeof d, length: d.length, first: d.charCodeAt(0)};)");
  EXPECT_EQ(r["type"], "string");
  EXPECT_EQ(r["length"], 16);
  EXPECT_EQ(r["first"], 0xd4);
}

TEST(CffQuerystring, ParseLikeNode) {
  json r = eval_in(R"(
const qs = require('querystring');
const p = qs.parse('a=1&b=x%20y&a=2&c=&d&e=%E2%82%AC&f=a+b&bad=%zz&&');
return {p, proto: Object.getPrototypeOf(p) === null,
        custom: qs.parse('x:1;y:2', ';', ':'), decode: qs.decode === qs.parse};)");
  EXPECT_EQ(r["p"]["a"], json::array({"1", "2"}));
  EXPECT_EQ(r["p"]["b"], "x y");
  EXPECT_EQ(r["p"]["c"], "");
  EXPECT_EQ(r["p"]["d"], "");
  EXPECT_EQ(r["p"]["e"], "€");
  EXPECT_EQ(r["p"]["f"], "a b");
  EXPECT_EQ(r["p"]["bad"], "%zz");
  EXPECT_EQ(r["p"].size(), 7u);
  EXPECT_TRUE(r["proto"]);
  EXPECT_EQ(r["custom"]["x"], "1");
  EXPECT_EQ(r["custom"]["y"], "2");
  EXPECT_TRUE(r["decode"]);
}

TEST(CffQuerystring, StringifyEscapeUnescapeLikeNode) {
  json r = eval_v1(R"(
var qs = require('querystring');
return {
  s: qs.stringify({foo: 'bar', baz: ['qux', 'quux'], corge: '', n: 1, t: true, o: {}, u: undefined}),
  sep: qs.stringify({w: 'x y', v: 'é&'}, ';', ':'),
  esc: qs.escape("a b&c/d~*'()!"),
  unesc: qs.unescape('a%20b%zz%C3%A9'),
  enc: qs.encode === qs.stringify
};)");
  EXPECT_EQ(r["s"], "foo=bar&baz=qux&baz=quux&corge=&n=1&t=true&o=&u=");
  EXPECT_EQ(r["sep"], "w:x%20y;v:%C3%A9%26");
  EXPECT_EQ(r["esc"], "a%20b%26c%2Fd~*'()!");
  EXPECT_EQ(r["unesc"], "a b%zzé");
  EXPECT_TRUE(r["enc"]);
}

TEST(CffBuffer, FromToStringInEveryEncoding) {
  json r = eval_in(R"(
const b = Buffer.from('héllo', 'utf8');
return {
  len: b.length, hex: b.toString('hex'), b64: b.toString('base64'),
  b64url: Buffer.from([0xfb, 0xff]).toString('base64url'),
  back: Buffer.from(b.toString('base64'), 'base64').toString(),
  fromHex: Buffer.from('68656c6c6f', 'hex').toString('utf8'),
  fromUrl: Buffer.from('-_8', 'base64url').toString('hex'),
  latin1: Buffer.from('é', 'latin1').toString('hex'),
  byteLength: Buffer.byteLength('€'), b64len: Buffer.byteLength('aGk=', 'base64'),
  sub: b.toString('utf8', 0, 1), isBuf: Buffer.isBuffer(b), isU8: b instanceof Uint8Array,
  json: JSON.stringify(Buffer.from('hi')),
};)");
  EXPECT_EQ(r["len"], 6);
  EXPECT_EQ(r["hex"], "68c3a96c6c6f");
  EXPECT_EQ(r["b64"], "aMOpbGxv");
  EXPECT_EQ(r["b64url"], "-_8");
  EXPECT_EQ(r["back"], "héllo");
  EXPECT_EQ(r["fromHex"], "hello");
  EXPECT_EQ(r["fromUrl"], "fbff");
  EXPECT_EQ(r["latin1"], "e9");
  EXPECT_EQ(r["byteLength"], 3);
  EXPECT_EQ(r["b64len"], 2);
  EXPECT_EQ(r["sub"], "h");
  EXPECT_TRUE(r["isBuf"]);
  EXPECT_TRUE(r["isU8"]);
  EXPECT_EQ(r["json"], R"({"type":"Buffer","data":[104,105]})");
}

TEST(CffBuffer, AllocConcatCompareEquals) {
  json r = eval_in(R"(
const a = Buffer.from('ab'), b = Buffer.from('abc');
const c = Buffer.concat([a, b]);
return {
  concat: c.toString(), concatLen: Buffer.concat([a, b], 3).toString(),
  alloc: Buffer.alloc(3).toString('hex'), fill: Buffer.alloc(5, 'ab').toString(),
  cmp: [Buffer.compare(a, b), Buffer.compare(b, a), Buffer.compare(a, Buffer.from('ab'))],
  eq: a.equals(Buffer.from('ab')), slice: c.slice(1, 3).toString(),
  sliceIsBuffer: Buffer.isBuffer(c.subarray(1)),
  invalidUtf8: Buffer.from([0xff, 0x41]).toString(),
  fromModule: require('buffer').Buffer === Buffer,
};)");
  EXPECT_EQ(r["concat"], "ababc");
  EXPECT_EQ(r["concatLen"], "aba");
  EXPECT_EQ(r["alloc"], "000000");
  EXPECT_EQ(r["fill"], "ababa");
  EXPECT_EQ(r["cmp"], json::array({-1, 1, 0}));
  EXPECT_TRUE(r["eq"]);
  EXPECT_EQ(r["slice"], "ba");
  EXPECT_TRUE(r["sliceIsBuffer"]);
  EXPECT_EQ(r["invalidUtf8"],
            "\xEF\xBF\xBD"
            "A");
  EXPECT_TRUE(r["fromModule"]);
}

TEST(CffBuffer, AbsentIn1) {
  json r = eval_v1("return {buffer: typeof Buffer};");
  EXPECT_EQ(r["buffer"], "undefined");
}

TEST(CffStringBytes, V1HasTheNonStandardByteMethodsAndV2DoesNot) {
  json r = eval_v1(R"(
return {
  toUTF8: 'é'.toUTF8().length, fromUTF8: '\u00c3\u00a9'.fromUTF8(), badUTF8: '\u00ff'.fromUTF8(),
  toBytes: 'abc'.toBytes(1), wide: '€'.toBytes(), hex: String.bytesFrom('6869', 'hex'),
  arr: String.bytesFrom([104, 105]), fromBytes: 'ab'.fromBytes(0, 1)
};)");
  EXPECT_EQ(r["toUTF8"], 2);
  EXPECT_EQ(r["fromUTF8"], "é");
  EXPECT_TRUE(r["badUTF8"].is_null());
  EXPECT_EQ(r["toBytes"], "bc");
  EXPECT_TRUE(r["wide"].is_null());
  EXPECT_EQ(r["hex"], "hi");
  EXPECT_EQ(r["arr"], "hi");
  EXPECT_EQ(r["fromBytes"], "a");
  EXPECT_EQ(eval_in("return {t: typeof ''.toUTF8};")["t"], "undefined");
}

class CffKvsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("cff_kvs_" + std::to_string(::getpid()) + ".json"))
                .string();
    write(R"({"data":[{"key":"greeting","value":"héllo"},{"key":"cfg","value":"{\"n\":3}"}]})");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  CffOptions options() const {
    CffOptions o = unhurried();
    o.kvs_file = path_;
    return o;
  }
  std::string path_;
};

TEST_F(CffKvsTest, GetInEveryFormatAndExists) {
  json r = eval_in(R"(
const kvs = require('cloudfront').kvs();
return {
  s: await kvs.get('greeting'), s2: await kvs.get('greeting', {format: 'string'}),
  j: await kvs.get('cfg', {format: 'json'}),
  b: (await kvs.get('greeting', {format: 'bytes'})).toString('hex'),
  yes: await kvs.exists('cfg'), no: await kvs.exists('nope'),
  count: (await kvs.meta()).keyCount,
};)",
                   options());
  EXPECT_EQ(r["s"], "héllo");
  EXPECT_EQ(r["s2"], "héllo");
  EXPECT_EQ(r["j"]["n"], 3);
  EXPECT_EQ(r["b"], "68c3a96c6c6f");
  EXPECT_TRUE(r["yes"]);
  EXPECT_FALSE(r["no"]);
  EXPECT_EQ(r["count"], 2);
}

TEST_F(CffKvsTest, MissingKeyRejectsAndCanBeCaught) {
  json r = eval_in(R"(
import cf from 'cloudfront';
const kvs = cf.kvs();
try { await kvs.get('missing'); return {caught: false}; }
catch (e) { return {caught: true, message: e.message}; })",
                   options());
  EXPECT_TRUE(r["caught"]);
  EXPECT_NE(r["message"].get<std::string>().find("missing"), std::string::npos);

  std::string error;
  auto s = CffScript::load(
      "fns/kvs.js",
      "async function handler(e) {\n  return await require('cloudfront').kvs().get('x');\n}",
      options(), error);
  ASSERT_TRUE(s) << error;
  CffOutcome out = run_cff(*s, kEvent);
  EXPECT_EQ(out.failure, CffFailure::Exception);
  EXPECT_NE(out.error.find("Key \"x\" not found"), std::string::npos) << out.error;
}

TEST_F(CffKvsTest, BadFilesAndV1AreRefusedAtLoad) {
  std::string error;
  const std::string source = "function handler(e) { return e.request; }";
  write(R"({"data":[{"key":"a","value":"1"},{"key":"a","value":"2"}]})");
  EXPECT_FALSE(CffScript::load("fns/k.js", source, options(), error));
  EXPECT_NE(error.find("duplicate key"), std::string::npos) << error;
  write(R"({"data":[{"key":"a","value":")" + std::string(1025, 'v') + R"("}]})");
  EXPECT_FALSE(CffScript::load("fns/k.js", source, options(), error));
  EXPECT_NE(error.find("1 KB"), std::string::npos) << error;
  write("{not json");
  EXPECT_FALSE(CffScript::load("fns/k.js", source, options(), error));
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
  CffOptions o = options();
  o.version = CffRuntimeVersion::V1;
  EXPECT_FALSE(CffScript::load("fns/k.js", source, o, error));
  EXPECT_NE(error.find("cloudfront-js-2.0"), std::string::npos) << error;
}

TEST(CffCloudfront, KvsWithoutAStoreThrows) {
  std::string error;
  auto s = CffScript::load("fns/nokvs.js",
                           "async function handler(e) { require('cloudfront').kvs(); return 1; }",
                           {}, error);
  ASSERT_TRUE(s) << error;
  CffOutcome out = run_cff(*s, kEvent);
  EXPECT_EQ(out.failure, CffFailure::Exception);
  EXPECT_NE(out.error.find("no key value store"), std::string::npos) << out.error;
}

TEST(CffCloudfront, OriginHelpersAreRecorded) {
  std::string error;
  auto s = CffScript::load("fns/origin.js", R"(import cf from 'cloudfront';
function handler(event) {
  const uri = event.request.uri;
  if (uri === '/a') cf.updateRequestOrigin({domainName: 'a.example.com', originPath: '/v2',
                                            customHeaders: {'x-k': 'v'}, timeouts: {readTimeout: 10}});
  if (uri === '/b') cf.selectRequestOriginById('origin-b');
  if (uri === '/c') cf.createRequestOriginGroup({originIds: ['o1', 'o2'],
                                                 failoverCriteria: {statusCodes: [500, 502]}});
  return event.request;
})",
                           {}, error);
  ASSERT_TRUE(s) << error;
  auto event = [](const char* uri) {
    return std::string(R"({"request":{"method":"GET","uri":")") + uri + R"(","headers":{}}})";
  };
  CffOutcome a = run_cff(*s, event("/a"));
  ASSERT_TRUE(a.ok && a.origin) << a.error;
  EXPECT_EQ(a.origin->kind, OriginChange::Kind::Update);
  json params = json::parse(a.origin->params_json);
  EXPECT_EQ(params["domainName"], "a.example.com");
  EXPECT_EQ(params["originPath"], "/v2");
  EXPECT_EQ(params["timeouts"]["readTimeout"], 10);

  CffOutcome b = run_cff(*s, event("/b"));
  ASSERT_TRUE(b.ok && b.origin) << b.error;
  EXPECT_EQ(b.origin->kind, OriginChange::Kind::SelectById);
  EXPECT_EQ(b.origin->origin_id, "origin-b");

  CffOutcome c = run_cff(*s, event("/c"));
  ASSERT_TRUE(c.ok && c.origin) << c.error;
  EXPECT_EQ(c.origin->kind, OriginChange::Kind::CreateGroup);
  EXPECT_EQ(json::parse(c.origin->params_json)["originIds"], json::array({"o1", "o2"}));

  CffOutcome none = run_cff(*s, event("/"));
  ASSERT_TRUE(none.ok) << none.error;
  EXPECT_FALSE(none.origin);  // nothing carried over from the previous call
}

TEST(CffCloudfront, OriginHelpersCheckTheirArguments) {
  json r = eval_in(R"(
const cf = require('cloudfront');
const out = {};
try { cf.selectRequestOriginById(3); } catch (e) { out.select = e.name; }
try { cf.updateRequestOrigin('x'); } catch (e) { out.update = e.name; }
return out;)");
  EXPECT_EQ(r["select"], "TypeError");
  EXPECT_EQ(r["update"], "TypeError");
}

TEST(CffRequire, UnknownModulesAreNamedAndV1HasNoCloudfront) {
  json r = eval_in(R"(
const out = {};
for (const m of ['fs', 'http', 'child_process']) {
  try { require(m); } catch (e) { out[m] = e.message; }
}
return out;)");
  EXPECT_NE(r["fs"].get<std::string>().find("'fs'"), std::string::npos) << r["fs"];
  EXPECT_NE(r["http"].get<std::string>().find("'http'"), std::string::npos);
  json v1 = eval_v1(R"(
try { require('cloudfront'); return {ok: true}; } catch (e) { return {message: e.message}; })");
  EXPECT_NE(v1["message"].get<std::string>().find("cloudfront-js-1.0"), std::string::npos)
      << v1["message"];
}

}  // namespace
}  // namespace eg::functions
