#include "origin/ipranges_sns.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "core/base64.h"
#include "origin/ipranges_json.h"

namespace eg::origin {
namespace {

struct Field {
  const char* name;
  std::string SnsMessage::*member;
};

}  // namespace

SnsParse parse_sns_message(std::string_view body) {
  SnsParse r;
  JsonParse parsed = parse_json(body);
  if (!parsed.ok()) {
    r.error = parsed.error;
    return r;
  }
  const Json& root = parsed.value;
  if (!root.is_object()) {
    r.error = "expected an SNS message (a JSON object), found " + describe(root);
    return r;
  }
  SnsMessage m;
  auto get = [&](const char* key, std::string& into, bool required) {
    auto it = root.find(key);
    if (it == root.end()) {
      if (required && r.error.empty()) r.error = std::string(key) + ": missing";
      return false;
    }
    if (!it->is_string()) {
      if (r.error.empty())
        r.error = std::string(key) + ": expected a string, found " + describe(*it);
      return false;
    }
    into = it->get<std::string>();
    return true;
  };
  get("Type", m.type, true);
  if (!r.error.empty()) return r;
  bool notification = m.type == "Notification";
  bool confirmation = m.type == "SubscriptionConfirmation" || m.type == "UnsubscribeConfirmation";
  if (!notification && !confirmation) {
    r.error = "Type: " + json_quoted(m.type) +
              " is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation";
    return r;
  }
  get("MessageId", m.message_id, true);
  get("TopicArn", m.topic_arn, true);
  get("Message", m.message, true);
  get("Timestamp", m.timestamp, true);
  get("SignatureVersion", m.signature_version, true);
  get("Signature", m.signature, true);
  get("SigningCertURL", m.signing_cert_url, true);
  if (notification) {
    m.has_subject = get("Subject", m.subject, false);
  } else {
    get("Token", m.token, true);
    get("SubscribeURL", m.subscribe_url, true);
  }
  if (!r.error.empty()) return r;
  if (m.signature_version != "1" && m.signature_version != "2") {
    r.error = "SignatureVersion: " + json_quoted(m.signature_version) + " is not 1 or 2";
    return r;
  }
  r.message = std::move(m);
  return r;
}

std::string sns_string_to_sign(const SnsMessage& m) {
  std::string out;
  auto add = [&](std::string_view name, const std::string& value) {
    out.append(name);
    out += '\n';
    out += value;
    out += '\n';
  };
  add("Message", m.message);
  add("MessageId", m.message_id);
  if (m.type == "Notification") {
    if (m.has_subject) add("Subject", m.subject);
    add("Timestamp", m.timestamp);
  } else {
    add("SubscribeURL", m.subscribe_url);
    add("Timestamp", m.timestamp);
    add("Token", m.token);
  }
  add("TopicArn", m.topic_arn);
  add("Type", m.type);
  return out;
}

bool verify_sns_signature(const SnsMessage& m, std::string_view certificate_pem,
                          std::string& error) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(certificate_pem.data(), int(certificate_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_free);
  if (!cert) {
    error = "the signing certificate is not a PEM certificate";
    return false;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) >= 0 ||
      X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0) {
    error = "the signing certificate is not valid now (expired or not yet valid)";
    return false;
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    error = "the signing certificate does not hold an RSA key";
    return false;
  }
  auto decoded = base64_decode(m.signature);
  if (!decoded || decoded->empty()) {
    error = "Signature is not base64";
    return false;
  }
  const std::string& signature = *decoded;
  const EVP_MD* md = m.signature_version == "1" ? EVP_sha1() : EVP_sha256();
  std::string data = sns_string_to_sign(m);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  if (!ok) {
    error = "the signature does not match the message (SignatureVersion " + m.signature_version +
            ", " + (m.signature_version == "1" ? "SHA1withRSA" : "SHA256withRSA") + ")";
    return false;
  }
  return true;
}

std::string topic_region(std::string_view arn) {
  // arn:partition:sns:region:account:name
  if (arn.rfind("arn:", 0) != 0) return "";
  size_t p1 = arn.find(':', 4);
  if (p1 == std::string_view::npos || arn.substr(p1 + 1, 4) != "sns:") return "";
  size_t start = p1 + 5;
  size_t end = arn.find(':', start);
  if (end == std::string_view::npos || end == start) return "";
  std::string region(arn.substr(start, end - start));
  for (char c : region)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return "";
  return region;
}

bool url_allowed(std::string_view url, const std::vector<std::string>& prefixes) {
  if (url.rfind("https://", 0) != 0) return false;
  for (const auto& p : prefixes)
    if (!p.empty() && p.back() == '/' && url.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace eg::origin
