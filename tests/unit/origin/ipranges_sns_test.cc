#include "origin/ipranges_sns.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

namespace eg::origin {
namespace {

// A throwaway RSA key and a self-signed certificate valid from now - 1 h to now + `days`.
struct Signer {
  EVP_PKEY* key = nullptr;
  std::string cert_pem;

  explicit Signer(long valid_seconds = 86400) {
    key = EVP_RSA_gen(2048);
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), valid_seconds);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("sns.amazonaws.com"), -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    cert_pem.assign(data, size_t(n));
    BIO_free(bio);
    X509_free(x);
  }
  ~Signer() { EVP_PKEY_free(key); }

  std::string sign(const std::string& data, bool sha1) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, sha1 ? EVP_sha1() : EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                   data.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(data.data()), data.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    std::string b64(4 * ((sig.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                    reinterpret_cast<const unsigned char*>(sig.data()), int(sig.size()));
    return b64;
  }
};

SnsMessage notification() {
  auto r = parse_sns_message(R"({
    "Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    "TopicArn": "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged",
    "Subject": "IP Space Changed",
    "Message": "{\"create-time\":\"2026-08-22-15-17-05\",\"synctoken\":\"1787411825\",\"md5\":\"6a45316e8bc9463c9e926d5d37836d33\",\"url\":\"https://ip-ranges.amazonaws.com/ip-ranges.json\"}",
    "Timestamp": "2026-08-22T15:17:30.123Z", "SignatureVersion": "1", "Signature": "AAAA",
    "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
    "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"})");
  EXPECT_TRUE(r.message) << r.error;
  return *r.message;
}

TEST(Sns, StringToSignAsDocumented) {
  SnsMessage m = notification();
  EXPECT_EQ(sns_string_to_sign(m),
            "Message\n" + m.message +
                "\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
                "Subject\nIP Space Changed\nTimestamp\n2026-08-22T15:17:30.123Z\nTopicArn\n"
                "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged\nType\nNotification\n");
  m.has_subject = false;
  EXPECT_EQ(sns_string_to_sign(m).find("Subject"), std::string::npos);
  auto c =
      parse_sns_message(R"({"Type": "SubscriptionConfirmation", "MessageId": "id", "Token": "tok",
    "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "You have chosen to subscribe",
    "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok",
    "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "2", "Signature": "AAAA",
    "SigningCertURL": "https://sns.us-east-1.amazonaws.com/c.pem"})");
  ASSERT_TRUE(c.message) << c.error;
  EXPECT_EQ(sns_string_to_sign(*c.message),
            "Message\nYou have chosen to subscribe\nMessageId\nid\nSubscribeURL\n"
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok\n"
            "Timestamp\n2026-01-01T00:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:1:t\n"
            "Type\nSubscriptionConfirmation\n");
}

TEST(Sns, VerifiesVersion1And2AndRefusesTampering) {
  Signer signer;
  for (const char* version : {"1", "2"}) {
    SnsMessage m = notification();
    m.signature_version = version;
    m.signature = signer.sign(sns_string_to_sign(m), m.signature_version == "1");
    std::string e;
    EXPECT_TRUE(verify_sns_signature(m, signer.cert_pem, e)) << version << ": " << e;
    SnsMessage tampered = m;
    tampered.message[10] ^= 1;
    EXPECT_FALSE(verify_sns_signature(tampered, signer.cert_pem, e));
    EXPECT_NE(e.find("does not match"), std::string::npos);
    SnsMessage other_version = m;
    other_version.signature_version = m.signature_version == "1" ? "2" : "1";
    EXPECT_FALSE(verify_sns_signature(other_version, signer.cert_pem, e));
  }
  Signer other;
  SnsMessage m = notification();
  m.signature = signer.sign(sns_string_to_sign(m), true);
  std::string e;
  EXPECT_FALSE(verify_sns_signature(m, other.cert_pem, e));
  EXPECT_FALSE(verify_sns_signature(m, "not a certificate", e));
  EXPECT_NE(e.find("not a PEM certificate"), std::string::npos);
  Signer expired(-60);
  m.signature = expired.sign(sns_string_to_sign(m), true);
  EXPECT_FALSE(verify_sns_signature(m, expired.cert_pem, e));
  EXPECT_NE(e.find("not valid now"), std::string::npos);
}

TEST(Sns, ParseErrors) {
  EXPECT_NE(parse_sns_message("{}").error.find("Type: missing"), std::string::npos);
  EXPECT_NE(parse_sns_message(R"({"Type": "Other"})").error.find("is not Notification"),
            std::string::npos);
  EXPECT_NE(parse_sns_message(R"({"Type": "Notification", "MessageId": 5})")
                .error.find("MessageId: expected a string, found the number 5"),
            std::string::npos);
  EXPECT_NE(parse_sns_message("nope").error.find("not JSON"), std::string::npos);
}

TEST(Sns, TopicRegionAndUrlPrefixes) {
  EXPECT_EQ(topic_region("arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"), "us-east-1");
  EXPECT_EQ(topic_region("arn:aws-cn:sns:cn-north-1:1:t"), "cn-north-1");
  EXPECT_EQ(topic_region("arn:aws:sqs:us-east-1:1:t"), "");
  EXPECT_EQ(topic_region("nonsense"), "");
  std::vector<std::string> p = {"https://sns.us-east-1.amazonaws.com/"};
  EXPECT_TRUE(
      url_allowed("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem", p));
  EXPECT_FALSE(url_allowed("https://sns.us-east-1.amazonaws.com.evil.test/x.pem", p));
  EXPECT_FALSE(url_allowed("https://sns.us-east-1.amazonaws.com@evil.test/x.pem", p));
  EXPECT_FALSE(url_allowed("http://sns.us-east-1.amazonaws.com/x.pem",
                           {"http://sns.us-east-1.amazonaws.com/"}));
  EXPECT_FALSE(url_allowed("https://evil.test/", {"https://evil.test"}));  // prefix must end in '/'
}

}  // namespace
}  // namespace eg::origin
