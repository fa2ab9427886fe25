// Amazon SNS HTTP(S) deliveries: the JSON body, the string AWS signs, and the signature check
// (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) against the signing certificate.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::origin {

inline constexpr std::string_view kIpRangesTopicArn =
    "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged";

struct SnsMessage {
  std::string type;  // Notification, SubscriptionConfirmation, UnsubscribeConfirmation
  std::string message_id;
  std::string topic_arn;
  std::string subject;
  bool has_subject = false;
  std::string message;
  std::string timestamp;
  std::string token;
  std::string subscribe_url;
  std::string signature_version;  // "1" or "2"
  std::string signature;          // base64
  std::string signing_cert_url;
};

struct SnsParse {
  std::optional<SnsMessage> message;
  std::string error;
};

// Every field the type's signature covers must be present and a string.
SnsParse parse_sns_message(std::string_view body);

// The string to sign, as AWS documents it: "Name\nvalue\n" for each signed field in this
// order -- Notification: Message, MessageId, Subject (when present), Timestamp, TopicArn,
// Type; SubscriptionConfirmation and UnsubscribeConfirmation: Message, MessageId,
// SubscribeURL, Timestamp, Token, TopicArn, Type.
std::string sns_string_to_sign(const SnsMessage& m);

// Checks the signature with the certificate's public key (PEM), and that the certificate is
// within its validity period. error says which check failed.
bool verify_sns_signature(const SnsMessage& m, std::string_view certificate_pem,
                          std::string& error);

// "us-east-1" from "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"; "" if not an ARN.
std::string topic_region(std::string_view topic_arn);

// An https URL that starts with one of the prefixes (each ends with '/', so that the host
// cannot be extended: https://sns.us-east-1.amazonaws.com.evil.test/ does not match).
bool url_allowed(std::string_view url, const std::vector<std::string>& prefixes);

}  // namespace eg::origin
