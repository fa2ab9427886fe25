// WAFv2 text transformations (aws-formats.md §3.4) and the pre-parse transformations: the
// documented cases of each type, then what attackers send — broken escapes, truncated
// sequences, binary bytes — and chains whose order changes the result.
#include "waf/transform.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace eg::waf {
namespace {

using namespace std::string_literals;

std::string transformed(Transform t, std::string_view in) {
  std::string out = "stale contents that must be replaced";
  apply_transform(t, in, out);
  return out;
}

std::string chain(std::initializer_list<Transform> steps, std::string_view in) {
  std::string out = "stale";
  apply_transforms(std::span<const Transform>(steps.begin(), steps.size()), in, out);
  return out;
}

std::string pre_parse(PreParseTransform t, std::string_view query) {
  std::string out = "stale";
  apply_pre_parse_transform(t, query, out);
  return out;
}

std::string to_hex(std::string_view bytes) {
  std::string hex;
  char buffer[3];
  for (const unsigned char c : bytes) {
    std::snprintf(buffer, sizeof buffer, "%02x", c);
    hex += buffer;
  }
  return hex;
}

constexpr int kTransformCount = int(Transform::SHA256) + 1;

// --- names ---

TEST(TransformNames, EveryNameParsesBackToItsType) {
  for (int i = 0; i < kTransformCount; ++i) {
    const auto t = Transform(i);
    const auto name = transform_name(t);
    ASSERT_FALSE(name.empty());
    EXPECT_EQ(parse_transform(name), t) << name;
    EXPECT_NE(transform_names().find(name), std::string_view::npos) << name;
  }
  EXPECT_EQ(transform_name(Transform::URL_DECODE_UNI), "URL_DECODE_UNI");
  EXPECT_EQ(transform_name(Transform::SHA256), "SHA256");
  EXPECT_EQ(transform_names().substr(0, 28), "NONE, COMPRESS_WHITE_SPACE, ");
}

TEST(TransformNames, UnknownNamesAreRejected) {
  EXPECT_EQ(parse_transform("url_decode"), std::nullopt);  // AWS names are case-sensitive
  EXPECT_EQ(parse_transform("URL_DECODE "), std::nullopt);
  EXPECT_EQ(parse_transform(""), std::nullopt);
  EXPECT_EQ(parse_transform("SHA1"), std::nullopt);
  EXPECT_EQ(parse_transform("URLDECODE"), std::nullopt);
}

TEST(TransformNames, PreParseNamesParseBack) {
  for (const auto t :
       {PreParseTransform::NONE, PreParseTransform::URL_DECODE, PreParseTransform::URL_DECODE_UNI,
        PreParseTransform::COMBINE_DUPLICATE_QUERY_ARGS_BY_COMMA,
        PreParseTransform::REPLACE_SEMICOLONS_WITH_AMPERSANDS}) {
    EXPECT_EQ(parse_pre_parse_transform(pre_parse_transform_name(t)), t);
    EXPECT_NE(pre_parse_transform_names().find(pre_parse_transform_name(t)),
              std::string_view::npos);
  }
  EXPECT_EQ(parse_pre_parse_transform("LOWERCASE"), std::nullopt);  // text-only type
  EXPECT_EQ(parse_pre_parse_transform("none"), std::nullopt);
  EXPECT_EQ(parse_pre_parse_transform(""), std::nullopt);
}

// --- one test per type ---

TEST(TransformNone, CopiesEverything) {
  EXPECT_EQ(transformed(Transform::NONE, "a%41&lt;"), "a%41&lt;");
  EXPECT_EQ(transformed(Transform::NONE, ""), "");
  EXPECT_EQ(transformed(Transform::NONE, "\0\xff"s), "\0\xff"s);
}

TEST(TransformCompressWhiteSpace, MapsAwsWhitespaceToOneSpace) {
  EXPECT_EQ(transformed(Transform::COMPRESS_WHITE_SPACE, "a\f\t\n\r\v\xa0z"), "a z");
  EXPECT_EQ(transformed(Transform::COMPRESS_WHITE_SPACE, "select    *  from"), "select * from");
  EXPECT_EQ(transformed(Transform::COMPRESS_WHITE_SPACE, "  a  "), " a ");
  EXPECT_EQ(transformed(Transform::COMPRESS_WHITE_SPACE, "a\tb"), "a b");
  EXPECT_EQ(transformed(Transform::COMPRESS_WHITE_SPACE, ""), "");
  // NUL is not whitespace; other bytes pass.
  EXPECT_EQ(transformed(Transform::COMPRESS_WHITE_SPACE, "a\0  \xff"s), "a\0 \xff"s);
}

TEST(TransformHtmlEntityDecode, DecodesTheDocumentedEntities) {
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&quot;&lt;&gt;&nbsp;"), "\"<>\xa0");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&amp;"), "&");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#x3c;script&#x3E;"), "<script>");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#60;script&#62;"), "<script>");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#X0041;"), "A");
}

TEST(TransformHtmlEntityDecode, SemicolonIsOptionalAndNamesIgnoreCase) {
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&lt"), "<");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&LT;&Gt"), "<>");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#65B"), "AB");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#x41x"), "Ax");
  // A name is the whole run of letters and digits: "&ltscript" is no entity.
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&ltscript"), "&ltscript");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&lt-x"), "<-x");
}

TEST(TransformHtmlEntityDecode, LeavesWhatIsNoEntity) {
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#xZZ;"), "&#xZZ;");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#;"), "&#;");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&unknown;"), "&unknown;");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&"), "&");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#"), "&#");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#x"), "&#x");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "a & b"), "a & b");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&&lt;"), "&<");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, ""), "");
}

TEST(TransformHtmlEntityDecode, NumericEntitiesKeepTheLowByte) {
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#0;"), "\0"s);
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#x100;"), "\0"s);
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#321;"), "A");  // 0x141
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#xFF;"), "\xff");
  // Overlong digit runs cannot overflow into something else.
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#00000000000000000000000065;"), "A");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "&#x000000000000000000000041;"), "A");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, "\xff&lt;\0"s), "\xff<\0"s);
}

TEST(TransformLowercase, AsciiOnly) {
  EXPECT_EQ(transformed(Transform::LOWERCASE, "SeLeCt * FROM"), "select * from");
  EXPECT_EQ(transformed(Transform::LOWERCASE, "\xc3\x84Z\0\xff"s), "\xc3\x84z\0\xff"s);
  EXPECT_EQ(transformed(Transform::LOWERCASE, "@[`{"), "@[`{");  // neighbours of the letter ranges
  EXPECT_EQ(transformed(Transform::LOWERCASE, ""), "");
}

TEST(TransformUppercase, AsciiOnly) {
  EXPECT_EQ(transformed(Transform::UPPERCASE, "select * from"), "SELECT * FROM");
  EXPECT_EQ(transformed(Transform::UPPERCASE, "\xe4z\0"s), "\xe4Z\0"s);
  EXPECT_EQ(transformed(Transform::UPPERCASE, "@[`{"), "@[`{");
  EXPECT_EQ(transformed(Transform::UPPERCASE, ""), "");
}

TEST(TransformCmdLine, DocumentedRules) {
  EXPECT_EQ(transformed(Transform::CMD_LINE, "c\\a\"t'^"), "cat");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "cmd   /c"), "cmd/c");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "exec (x)"), "exec(x)");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "a,b;c"), "a b c");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "a , ;  b"), "a b");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "CMD.EXE"), "cmd.exe");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "C:\\WINDOWS\\system32\\CMD.exe  /C \"dir\""),
            "c:windowssystem32cmd.exe/c dir");
}

TEST(TransformCmdLine, EdgeCases) {
  EXPECT_EQ(transformed(Transform::CMD_LINE, "a\t\r\nb"), "a b");  // shells split on these too
  EXPECT_EQ(transformed(Transform::CMD_LINE, " /bin"), "/bin");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "a ^ b"),
            "a b");  // a deleted byte keeps the space run
  EXPECT_EQ(transformed(Transform::CMD_LINE, "\"\"''"), "");
  EXPECT_EQ(transformed(Transform::CMD_LINE, "a\0B\xff"s), "a\0b\xff"s);
  EXPECT_EQ(transformed(Transform::CMD_LINE, ""), "");
}

TEST(TransformCmdLineWin, KeepsBackslashPathsDropsCaretEscapes) {
  EXPECT_EQ(transformed(Transform::CMD_LINE_WIN, "C:\\WINDOWS\\CMD.exe  /C \"dir\""),
            "c:\\windows\\cmd.exe/c dir");
  EXPECT_EQ(transformed(Transform::CMD_LINE_WIN, "p^o^w^e^r^s^h^e^l^l"), "powershell");
  EXPECT_EQ(transformed(Transform::CMD_LINE_WIN, "w'h'o\"am\"i,x"), "whoami x");
  EXPECT_EQ(transformed(Transform::CMD_LINE_WIN, ""), "");
}

TEST(TransformCmdLineUnix, DropsBackslashEscapesKeepsCaret) {
  EXPECT_EQ(transformed(Transform::CMD_LINE_UNIX, "c\\at \"/etc/pa''sswd\""), "cat/etc/passwd");
  EXPECT_EQ(transformed(Transform::CMD_LINE_UNIX, "a^b"), "a^b");
  EXPECT_EQ(transformed(Transform::CMD_LINE_UNIX, "W\\H\\O\\A\\M\\I;ID"), "whoami id");
  EXPECT_EQ(transformed(Transform::CMD_LINE_UNIX, ""), "");
}

TEST(TransformUrlDecode, DecodesPercentAndPlus) {
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%41%42c"), "ABc");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%3cscript%3E"), "<script>");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "a+b"), "a b");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%2B"), "+");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%00%ff"), "\0\xff"s);
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%2541"), "%41");  // one pass only
}

TEST(TransformUrlDecode, LeavesInvalidEscapes) {
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%G1"), "%G1");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%1G"), "%1G");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "a%4"), "a%4");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%"), "%");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "100%"), "100%");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%%41"), "%A");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "%u0041"), "%u0041");  // that is URL_DECODE_UNI's
  EXPECT_EQ(transformed(Transform::URL_DECODE, ""), "");
  EXPECT_EQ(transformed(Transform::URL_DECODE, "\0%\xff"s), "\0%\xff"s);
}

TEST(TransformUrlDecodeUni, DecodesMicrosoftPercentU) {
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u0041%U0042"), "AB");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u003cscript%u003E"), "<script>");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%41+%42"), "A B");  // and what URL_DECODE does
}

TEST(TransformUrlDecodeUni, FullWidthAsciiMapsOtherwiseHighByteDrops) {
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%uFF21"), "A");    // full-width A
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%uff01"), "!");    // first of the range
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%uFF5E"), "~");    // last of the range
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%uFF5F"), "_");    // past it: low byte
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%uFF00"), "\0"s);  // before it: low byte
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u0141"), "A");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u2215"), "\x15");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u201c"), "\x1c");  // no best-fit mapping
}

TEST(TransformUrlDecodeUni, LeavesInvalidEscapes) {
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u12"), "%u12");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u004"), "%u004");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%uZZZZ"), "%uZZZZ");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u%41"), "%uA");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%G1%4"), "%G1%4");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, "%u"), "%u");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, ""), "");
}

TEST(TransformBase64Decode, DecodesStrictBase64) {
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbG8="), "Hello");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbA=="), "Hell");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbG8h"), "Hello!");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbG8"), "Hello");  // padding may be left out
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbA"), "Hell");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "AP8="), "\0\xff"s);
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, ""), "");
}

TEST(TransformBase64Decode, LeavesWhatIsNotBase64) {
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGV sbG8="), "SGV sbG8=");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbG8*"), "SGVsbG8*");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsb"), "SGVsb");        // 5 chars: no bytes
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SG=sbG8="), "SG=sbG8=");  // '=' inside
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbG8==="), "SGVsbG8===");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "SGVsbA="), "SGVsbA=");  // padding too short
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "-_8="), "-_8=");        // URL-safe alphabet
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "=="), "==");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE, "QQ==\0"s), "QQ==\0"s);
}

TEST(TransformBase64DecodeExt, IgnoresWhatIsNotBase64) {
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "SGV sbG8="), "Hello");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "SG\nVs*bG8"), "Hello");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "SGVs.bA"), "Hell");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "-_8="), "\xfb\xff");  // URL-safe too
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "+/8="), "\xfb\xff");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "!!!"), "");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "Q"), "");  // a lone sextet is no byte
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, "Q\0\xffQ"s), "A");
  EXPECT_EQ(transformed(Transform::BASE64_DECODE_EXT, ""), "");
}

TEST(TransformHexDecode, DecodesHexPairs) {
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "5465737443617365"), "TestCase");
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "546573740043617365"), "Test\0Case"s);
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "4a4B"), "JK");
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "ff00"), "\xff\0"s);
  EXPECT_EQ(transformed(Transform::HEX_DECODE, ""), "");
}

TEST(TransformHexDecode, LeavesWhatIsNotHex) {
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "41 42"), "A B");
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "414"), "A4");  // an odd last digit stays
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "zz41"), "zzA");
  EXPECT_EQ(transformed(Transform::HEX_DECODE, "Z4142"), "ZAB");  // realigns after a stray byte
  EXPECT_EQ(transformed(Transform::HEX_DECODE,
                        "\xff"
                        "41"),
            "\xff"
            "A");
}

TEST(TransformMd5, RawBinaryDigest) {
  EXPECT_EQ(to_hex(transformed(Transform::MD5, "")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(to_hex(transformed(Transform::MD5, "abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(to_hex(transformed(Transform::MD5, "\0"s)), "93b885adfe0da089cdf634904fd59f71");
  EXPECT_EQ(to_hex(transformed(Transform::MD5, "\xff")), "00594fd4f42ba43fc1ca0427a0576295");
  EXPECT_EQ(transformed(Transform::MD5, "abc").size(), 16u);
}

TEST(TransformSha256, RawBinaryDigest) {
  EXPECT_EQ(to_hex(transformed(Transform::SHA256, "")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(transformed(Transform::SHA256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(transformed(Transform::SHA256, "\0"s)),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(transformed(Transform::SHA256, "abc").size(), 32u);
}

TEST(TransformReplaceComments, EachCommentBecomesOneSpace) {
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "UNION/**/SELECT"), "UNION SELECT");
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "a/*x*/b/*y*/c"), "a b c");
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "a/*x*//*y*/b"), "a  b");  // runs kept
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "a/*unterminated"), "a ");
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "a*/b"), "a*/b");  // a lone */ stays
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "a/*/b*/c"), "a c");
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "/* /* */ */"), "  */");  // no nesting
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "a/"), "a/");
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "/*"), " ");
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, "\0/*\xff*/\0"s), "\0 \0"s);
  EXPECT_EQ(transformed(Transform::REPLACE_COMMENTS, ""), "");
}

TEST(TransformRemoveCommentsChar, DropsCommentMarkers) {
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "UNION/**/SELECT"), "UNIONSELECT");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "a/*b*/c"), "abc");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "1--x"), "1x");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "a#b"), "ab");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "<!--x-->"), "x");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "a-b"), "a-b");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "--->"), "->");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "/*/"), "/");
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, "\0#\xff"s), "\0\xff"s);
  EXPECT_EQ(transformed(Transform::REMOVE_COMMENTS_CHAR, ""), "");
}

TEST(TransformEscapeSeqDecode, DecodesAnsiCEscapes) {
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\a\\b\\f\\n\\r\\t\\v\\\\\\?\\'\\\""),
            "\a\b\f\n\r\t\v\\?'\"");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\x41\\X42"), "AB");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\101"), "A");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\0"), "\0"s);
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\08"),
            "\0"
            "8"s);
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\1234"), "S4");   // three digits at most
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\777"), "\xff");  // wraps to one byte
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\0101"), "\b1");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\\\x41"), "\\x41");
}

TEST(TransformEscapeSeqDecode, LeavesInvalidEscapes) {
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\q"), "\\q");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\xZZ"), "\\xZZ");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\x4"), "\\x4");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\x4G"), "\\x4G");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "a\\"), "a\\");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\8"), "\\8");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\\xff\\\0"s), "\\\xff\\\0"s);
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, "\\q\\n"), "\\q\n");
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, ""), "");
}

TEST(TransformSqlHexDecode, DecodesHexLiterals) {
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0x414243"), "ABC");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "SELECT 0x414243 FROM t"), "SELECT ABC FROM t");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0X61"), "a");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0x41 0x42"), "A B");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "00x41"), "0A");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0x00ff"), "\0\xff"s);
}

TEST(TransformSqlHexDecode, LeavesWhatIsNoLiteral) {
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0x"), "0x");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0x4"), "0x4");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0x414"), "A4");  // the odd digit stays
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "0xZZ"), "0xZZ");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "x41"), "x41");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, "414243"), "414243");
  EXPECT_EQ(transformed(Transform::SQL_HEX_DECODE, ""), "");
}

TEST(TransformCssDecode, DecodesCssEscapes) {
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "ja\\vascript"), "javascript");  // AWS's example
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\41"), "A");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\41 bc"), "Abc");  // one space ends the escape
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\41  bc"), "A bc");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\41\tb"), "Ab");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\000041"), "A");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\0041"), "A");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\e9"), "\xe9");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\a"), "\n");  // 'a' is a hex digit
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\\\"), "\\");
}

TEST(TransformCssDecode, KeepsTheLastByteAndMapsFullWidth) {
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\FF21"), "A");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\ff5e"), "~");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\0ff21"), "A");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\00FF21"), "A");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\123456"), "V");    // 0x56
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\1234567"), "V7");  // six digits at most
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\0141"), "A");
}

TEST(TransformCssDecode, EdgeCases) {
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "a\\\nb"), "ab");  // line continuation
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "a\\"), "a");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\G"), "G");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, "\\\0\\\xff"s), "\0\xff"s);
  EXPECT_EQ(transformed(Transform::CSS_DECODE, ""), "");
}

TEST(TransformJsDecode, DecodesJavaScriptEscapes) {
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\u0041\\x42\\103"), "ABC");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\u003cscript\\u003e"), "<script>");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\a\\b\\f\\n\\r\\t\\v"), "\a\b\f\n\r\t\v");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\d\\\"\\'\\\\"), "d\"'\\");  // \C is C
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\0"), "\0"s);
}

TEST(TransformJsDecode, FullWidthAsciiMapsOtherwiseHighByteZeroed) {
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\uFF21\\uff5e"), "A~");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\u0141"), "A");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\uFF5F"), "_");
}

TEST(TransformJsDecode, OctalStaysOneByte) {
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\377"), "\xff");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\400"), " 0");  // \40 then '0'
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\18"),
            "\x01"
            "8");
}

TEST(TransformJsDecode, PartialEscapes) {
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\u00G1"), "u00G1");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\u004"), "u004");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\x4"), "x4");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\xZZ"), "xZZ");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\U0041"), "U0041");  // only lowercase u
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\u{41}"), "u{41}");  // that is JS_DECODE_EXT's
  EXPECT_EQ(transformed(Transform::JS_DECODE, "a\\"), "a\\");
  EXPECT_EQ(transformed(Transform::JS_DECODE, "\\\0\\\xff"s), "\0\xff"s);
  EXPECT_EQ(transformed(Transform::JS_DECODE, ""), "");
}

TEST(TransformJsDecodeExt, AddsCodePointEscapes) {
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{41}\\u{0042}\\u{000043}"), "ABC");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{FF21}"), "A");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{1F641}"), "A");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u0041\\x42\\n"), "AB\n");  // and JS_DECODE's
}

TEST(TransformJsDecodeExt, LeavesInvalidCodePointEscapesAsJsDecodeWould) {
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{110000}"), "u{110000}");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{}"), "u{}");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{1234567}"), "u{1234567}");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{41"), "u{41");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{"), "u{");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, "\\u{4G}"), "u{4G}");
  EXPECT_EQ(transformed(Transform::JS_DECODE_EXT, ""), "");
}

TEST(TransformNormalizePath, DocumentedRules) {
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/a//b/./c/../d"), "/a/b/d");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/dir/foo//bar"), "/dir/foo/bar");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(
      transformed(Transform::NORMALIZE_PATH, "/./.././../../../../../../../x/../etc/./passwd"),
      "/etc/passwd");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/dir/./sub/../subsub/../x/../"), "/dir/");
}

TEST(TransformNormalizePath, RelativePathsKeepLeadingBackReferences) {
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "dir/../foo"), "foo");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "dir/../../foo"), "../foo");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "dir/./.././../../foo/bar/.."), "../../foo");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "dir//.//..//.//..//..//foo//bar//"),
            "../../foo/bar/");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "a/b/c/d/../../.."), "a");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, ".."), "..");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "../../"), "../../");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "./.."), "..");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "../."), "..");
}

TEST(TransformNormalizePath, EdgeCases) {
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, ""), "");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "x"), "x");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "."), "");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "./"), "");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/"), "/");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "//"), "/");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/.."), "/");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/a/.."), "/");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/a/."), "/a");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/a/b/"), "/a/b/");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/...//a"), "/.../a");       // "..." is a name
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/a\\..\\b"), "/a\\..\\b");  // not a separator
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH, "/a\0/../\xff"s), "/\xff");
}

TEST(TransformNormalizePathWin, BackslashesAreSeparators) {
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH_WIN, "\\a\\..\\b"), "/b");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH_WIN, "C:\\x\\..\\y"), "C:/y");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH_WIN, "/a\\b/../c"), "/a/c");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH_WIN, "\\\\srv\\\\share\\.\\f"), "/srv/share/f");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH_WIN, "..\\..\\x\\"), "../../x/");
  EXPECT_EQ(transformed(Transform::NORMALIZE_PATH_WIN, ""), "");
}

TEST(TransformNulls, RemoveAndReplace) {
  EXPECT_EQ(transformed(Transform::REMOVE_NULLS, "a\0b\0\0"s), "ab");
  EXPECT_EQ(transformed(Transform::REMOVE_NULLS, "\xff\0"s), "\xff");
  EXPECT_EQ(transformed(Transform::REMOVE_NULLS, ""), "");
  EXPECT_EQ(transformed(Transform::REPLACE_NULLS, "a\0b\0\0"s), "a b  ");
  EXPECT_EQ(transformed(Transform::REPLACE_NULLS, "\xff"), "\xff");
  EXPECT_EQ(transformed(Transform::REPLACE_NULLS, ""), "");
}

TEST(TransformUtf8ToUnicode, MultiByteSequencesBecomePercentU) {
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xc3\xa9"), "%u00e9");      // é
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xe2\x82\xac"), "%u20ac");  // €
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xef\xbc\x9c"), "%uff1c");  // full-width <
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xf0\x9f\x98\x80"), "%u1f600");  // emoji
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xf4\x8f\xbf\xbf"), "%u10ffff");
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE,
                        "a\xc3\xa9"
                        "b"),
            "a%u00e9b");
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "plain ascii\0"s), "plain ascii\0"s);
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, ""), "");
}

TEST(TransformUtf8ToUnicode, InvalidBytesPassUnchanged) {
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xff"), "\xff");
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\x80"), "\x80");
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xc3"), "\xc3");                  // truncated
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xe2\x82"), "\xe2\x82");          // truncated
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xc0\xaf"), "\xc0\xaf");          // overlong /
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xed\xa0\x80"), "\xed\xa0\x80");  // surrogate
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xf4\x90\x80\x80"), "\xf4\x90\x80\x80");
  EXPECT_EQ(transformed(Transform::UTF8_TO_UNICODE, "\xc3\xc3\xa9"), "\xc3%u00e9");  // resyncs
}

TEST(TransformRemoveWhitespace, DropsWhitespaceAndNbsp) {
  EXPECT_EQ(transformed(Transform::REMOVE_WHITESPACE, "a b\tc\nd\re\ff\vg\xa0h"), "abcdefgh");
  EXPECT_EQ(transformed(Transform::REMOVE_WHITESPACE, "un ion sel ect"), "unionselect");
  EXPECT_EQ(transformed(Transform::REMOVE_WHITESPACE, "\0 \xff"s), "\0\xff"s);
  EXPECT_EQ(transformed(Transform::REMOVE_WHITESPACE, " \t "), "");
  EXPECT_EQ(transformed(Transform::REMOVE_WHITESPACE, ""), "");
}

TEST(TransformTrim, TrimsEitherOrBothEnds) {
  const std::string padded = " \t\n\r\f\va b \t";
  EXPECT_EQ(transformed(Transform::TRIM, padded), "a b");
  EXPECT_EQ(transformed(Transform::TRIM_LEFT, padded), "a b \t");
  EXPECT_EQ(transformed(Transform::TRIM_RIGHT, padded), " \t\n\r\f\va b");
  for (const auto t : {Transform::TRIM, Transform::TRIM_LEFT, Transform::TRIM_RIGHT}) {
    EXPECT_EQ(transformed(t, "   "), "") << transform_name(t);
    EXPECT_EQ(transformed(t, ""), "") << transform_name(t);
    EXPECT_EQ(transformed(t, "x"), "x") << transform_name(t);
    // NBSP and NUL are not whitespace to trim (ModSecurity's isspace).
    EXPECT_EQ(transformed(t, "\xa0x\0"s), "\xa0x\0"s) << transform_name(t);
  }
}

// Long escape-free runs are crossed differently from short ones: both must decode the same.
TEST(TransformLongRuns, EscapesAfterLongPlainRunsStillDecode) {
  const std::string a(40, 'a');
  const std::string b(17, 'b');
  EXPECT_EQ(transformed(Transform::URL_DECODE, a + "%41" + b + "+" + a + "+x%4"),
            a + "A" + b + " " + a + " x%4");
  EXPECT_EQ(transformed(Transform::URL_DECODE_UNI, a + "%u0041" + b + "%42" + a + "%u"),
            a + "A" + b + "B" + a + "%u");
  EXPECT_EQ(transformed(Transform::HTML_ENTITY_DECODE, a + "&lt;" + b + "&#65" + a + "&"),
            a + "<" + b + "A" + a + "&");
  EXPECT_EQ(transformed(Transform::JS_DECODE, a + "\\x41" + b + "\\n" + a + "\\"),
            a + "A" + b + "\n" + a + "\\");
  EXPECT_EQ(transformed(Transform::CSS_DECODE, a + "\\41 " + b + "\\G" + a + "\\"),
            a + "A" + b + "G" + a);
  EXPECT_EQ(transformed(Transform::ESCAPE_SEQ_DECODE, a + "\\x41" + b + "\\q" + a + "\\"),
            a + "A" + b + "\\q" + a + "\\");
  EXPECT_EQ(transformed(Transform::REMOVE_NULLS, a + "\0"s + b + "\0"s), a + b);
  EXPECT_EQ(transformed(Transform::REPLACE_NULLS, "\0"s + a + "\0"s), " " + a + " ");
  EXPECT_EQ(transformed(Transform::LOWERCASE, "ABCDEFGHIJKLMNOPQRSTUVWXYZ@[\xc1\xdaZ"),
            "abcdefghijklmnopqrstuvwxyz@[\xc1\xdaz");
  EXPECT_EQ(transformed(Transform::UPPERCASE, "abcdefghijklmnopqrstuvwxyz`{\xe1\xfaz"),
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ`{\xe1\xfaZ");
}

// --- chains ---

TEST(TransformChain, OrderChangesTheResult) {
  EXPECT_EQ(chain({Transform::URL_DECODE, Transform::LOWERCASE}, "%41"), "a");
  EXPECT_EQ(chain({Transform::LOWERCASE, Transform::URL_DECODE}, "%41"), "A");
  EXPECT_EQ(chain({Transform::URL_DECODE, Transform::HTML_ENTITY_DECODE}, "%26lt%3B"), "<");
  EXPECT_EQ(chain({Transform::HTML_ENTITY_DECODE, Transform::URL_DECODE}, "%26lt%3B"), "&lt;");
}

TEST(TransformChain, RepeatedDecodingUndoesDoubleEncoding) {
  EXPECT_EQ(chain({Transform::URL_DECODE}, "%253Cscript%253E"), "%3Cscript%3E");
  EXPECT_EQ(chain({Transform::URL_DECODE, Transform::URL_DECODE}, "%253Cscript%253E"), "<script>");
}

TEST(TransformChain, ResultLandsInOutForEveryLength) {
  // Odd and even numbers of steps end in different buffers internally.
  EXPECT_EQ(chain({Transform::URL_DECODE}, "%26LT%3BSCRIPT"), "&LT;SCRIPT");
  EXPECT_EQ(chain({Transform::URL_DECODE, Transform::HTML_ENTITY_DECODE}, "%26LT%3BSCRIPT"),
            "<SCRIPT");
  EXPECT_EQ(chain({Transform::URL_DECODE, Transform::HTML_ENTITY_DECODE, Transform::LOWERCASE},
                  "%26LT%3BSCRIPT"),
            "<script");
  EXPECT_EQ(chain({Transform::URL_DECODE, Transform::HTML_ENTITY_DECODE, Transform::LOWERCASE,
                   Transform::COMPRESS_WHITE_SPACE},
                  "%26LT%3BSCRIPT%20%20x"),
            "<script x");
  EXPECT_EQ(chain({Transform::LOWERCASE, Transform::HTML_ENTITY_DECODE, Transform::URL_DECODE},
                  "%26LT%3BSCRIPT"),
            "&lt;script");
}

TEST(TransformChain, NoneStepsAreSkipped) {
  EXPECT_EQ(chain({}, "A%41"), "A%41");
  EXPECT_EQ(chain({Transform::NONE}, "A%41"), "A%41");
  EXPECT_EQ(chain({Transform::NONE, Transform::NONE}, "A%41"), "A%41");
  EXPECT_EQ(chain({Transform::NONE, Transform::URL_DECODE, Transform::NONE, Transform::LOWERCASE,
                   Transform::NONE},
                  "A%41"),
            "aa");
}

TEST(TransformChain, CallerScratchIsReusedAcrossCalls) {
  std::string out;
  std::string scratch;
  const Transform steps[] = {Transform::URL_DECODE, Transform::LOWERCASE};
  apply_transforms(steps, "%41BC", out, scratch);
  EXPECT_EQ(out, "abc");
  apply_transforms(steps, "X", out, scratch);  // shorter: nothing of the last value is left
  EXPECT_EQ(out, "x");
  const Transform three[] = {Transform::URL_DECODE, Transform::LOWERCASE, Transform::MD5};
  apply_transforms(three, "%41", out, scratch);
  EXPECT_EQ(to_hex(out), "0cc175b9c0f1b6a831c399e269772661");  // md5("a")
}

// Untrusted bytes of every kind through every type and random chains: nothing may read out of
// bounds (the sanitizer build checks it), and outputs stay within the sizes the types allow.
TEST(TransformRobustness, RandomInputsThroughEveryType) {
  static const std::string alphabet =
      "%uUxX\\&#;0123456789abcdefABCDEFGz/.*-<>!+= \t\n{}'\"^,(\xa0\xc3\xa9\xf0\xff\x80"s + '\0';
  std::mt19937 random(20240601);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<size_t> length(0, 160);
  std::uniform_int_distribution<int> type(0, kTransformCount - 1);
  std::string in;
  std::string out;
  for (int round = 0; round < 3000; ++round) {
    in.clear();
    for (size_t n = length(random); n > 0; --n) in.push_back(alphabet[pick(random)]);
    for (int i = 0; i < kTransformCount; ++i) {
      const auto t = Transform(i);
      apply_transform(t, in, out);
      if (t == Transform::MD5) {
        ASSERT_EQ(out.size(), 16u);
      } else if (t == Transform::SHA256) {
        ASSERT_EQ(out.size(), 32u);
      } else if (t == Transform::UTF8_TO_UNICODE) {
        ASSERT_LE(out.size(), in.size() * 3) << transform_name(t);
      } else {
        ASSERT_LE(out.size(), in.size()) << transform_name(t);
      }
    }
    std::vector<Transform> steps(size_t(round % 6));
    for (auto& step : steps) step = Transform(type(random));
    apply_transforms(steps, in, out);
    std::string expected(in);
    std::string next;
    for (const auto step : steps) {
      apply_transform(step, expected, next);
      expected.swap(next);
    }
    ASSERT_EQ(out, expected) << "round " << round;
  }
}

// --- pre-parse transformations ---

TEST(PreParseTransform, NoneCopies) {
  EXPECT_EQ(pre_parse(PreParseTransform::NONE, "a=%41&b"), "a=%41&b");
  EXPECT_EQ(pre_parse(PreParseTransform::NONE, ""), "");
}

TEST(PreParseTransform, UrlDecodeRunsBeforeTheSplit) {
  // An encoded '&' becomes a separator: the argument parser then sees two arguments.
  EXPECT_EQ(pre_parse(PreParseTransform::URL_DECODE, "a=%41%26b=1"), "a=A&b=1");
  EXPECT_EQ(pre_parse(PreParseTransform::URL_DECODE, "q=a+b%G1"), "q=a b%G1");
  EXPECT_EQ(pre_parse(PreParseTransform::URL_DECODE, "q=%u0041"), "q=%u0041");
}

TEST(PreParseTransform, UrlDecodeUni) {
  EXPECT_EQ(pre_parse(PreParseTransform::URL_DECODE_UNI, "q=%u0041%uFF1C%41"), "q=A<A");
  EXPECT_EQ(pre_parse(PreParseTransform::URL_DECODE_UNI, "q=%u004"), "q=%u004");
}

TEST(PreParseTransform, CombineDuplicateArgsByComma) {
  constexpr auto kCombine = PreParseTransform::COMBINE_DUPLICATE_QUERY_ARGS_BY_COMMA;
  EXPECT_EQ(pre_parse(kCombine, "a=1&b=2&a=3"), "a=1,3&b=2");
  EXPECT_EQ(pre_parse(kCombine, "z=1&a=2&z=3&a=4"), "z=1,3&a=2,4");  // first appearance order
  EXPECT_EQ(pre_parse(kCombine, "x=1&y=2"), "x=1&y=2");
  EXPECT_EQ(pre_parse(kCombine, "a=1&A=2"), "a=1&A=2");  // names compare byte for byte
  EXPECT_EQ(pre_parse(kCombine, "a&a=1"), "a=,1");
  EXPECT_EQ(pre_parse(kCombine, "flag"), "flag");
  EXPECT_EQ(pre_parse(kCombine, "a=1&a=&a=3"), "a=1,,3");
  EXPECT_EQ(pre_parse(kCombine, "a=b=c&a=d"), "a=b=c,d");
  EXPECT_EQ(pre_parse(kCombine, "a=1&&b=2&"), "a=1&b=2");
  EXPECT_EQ(pre_parse(kCombine, "=1&=2"), "=1,2");
  EXPECT_EQ(pre_parse(kCombine, "&&"), "");
  EXPECT_EQ(pre_parse(kCombine, ""), "");
  EXPECT_EQ(pre_parse(kCombine, "a=\0&a=\xff"s), "a=\0,\xff"s);
}

TEST(PreParseTransform, CombineHandlesManyDuplicates) {
  std::string query;
  std::string expected = "a=";
  for (int i = 0; i < 5000; ++i) {
    query += (i ? "&a=" : "a=") + std::to_string(i % 10);
    expected += (i ? "," : "") + std::to_string(i % 10);
  }
  query += "&b=x";
  EXPECT_EQ(pre_parse(PreParseTransform::COMBINE_DUPLICATE_QUERY_ARGS_BY_COMMA, query),
            expected + "&b=x");
}

TEST(PreParseTransform, ReplaceSemicolonsWithAmpersands) {
  constexpr auto kReplace = PreParseTransform::REPLACE_SEMICOLONS_WITH_AMPERSANDS;
  EXPECT_EQ(pre_parse(kReplace, "a=1;b=2;;"), "a=1&b=2&&");
  EXPECT_EQ(pre_parse(kReplace, "a=%3B"), "a=%3B");  // an encoded one is data
  EXPECT_EQ(pre_parse(kReplace, ""), "");
}

TEST(PreParseTransform, ChainsApplyInOrder) {
  constexpr auto kCombine = PreParseTransform::COMBINE_DUPLICATE_QUERY_ARGS_BY_COMMA;
  constexpr auto kReplace = PreParseTransform::REPLACE_SEMICOLONS_WITH_AMPERSANDS;
  std::string out = "stale";
  const PreParseTransform replace_then_combine[] = {kReplace, kCombine};
  apply_pre_parse_transforms(replace_then_combine, "a=1;a=2", out);
  EXPECT_EQ(out, "a=1,2");
  const PreParseTransform combine_then_replace[] = {kCombine, kReplace};
  apply_pre_parse_transforms(combine_then_replace, "a=1;a=2", out);
  EXPECT_EQ(out, "a=1&a=2");
  const PreParseTransform decode_replace_combine[] = {PreParseTransform::URL_DECODE,
                                                      PreParseTransform::NONE, kReplace, kCombine};
  apply_pre_parse_transforms(decode_replace_combine, "a=1%3Ba=2&b=3", out);
  EXPECT_EQ(out, "a=1,2&b=3");
  apply_pre_parse_transforms({}, "a=1;a=2", out);
  EXPECT_EQ(out, "a=1;a=2");
}

}  // namespace
}  // namespace eg::waf
