#include "parsers/postfix_event.h"

#include <cstring>

namespace pse {
namespace {

constexpr absl::string_view kMethodLabels[kSaslMethodCount] = {
    "PLAIN",  "LOGIN",   "CRAM-MD5",    "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "NTLM",
    "GSSAPI", "XOAUTH2", "OAUTHBEARER", "EXTERNAL",   "ANONYMOUS",   "other",         "unknown",
};

constexpr absl::string_view kReasonLabels[kFailureReasonCount] = {
    "bad_credentials", "unknown_account", "backend_unavailable", "mechanism_unsupported",
    "protocol_error",  "aborted",         "auth_unavailable",    "rate_limited",
    "unspecified",     "other",
};

constexpr absl::string_view kClientLimitLabels[kClientLimitCount] = {
    "connection_count", "connection_rate", "message_rate",
    "recipient_rate",   "newtls_rate",     "auth_rate",
};

constexpr absl::string_view kStageLabels[kSmtpStageCount] = {
    "CONNECT", "HELO",    "EHLO",           "STARTTLS", "AUTH",  "MAIL", "RCPT",
    "DATA",    "BDAT",    "END-OF-MESSAGE", "RSET",     "NOOP",  "VRFY", "ETRN",
    "QUIT",    "XCLIENT", "XFORWARD",       "UNKNOWN",  "other",
};

constexpr absl::string_view kRejectStageLabels[kRejectStageCount] = {
    "CONNECT", "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE", "BDAT", "VRFY", "ETRN", "other",
};

constexpr absl::string_view kRejectCategoryLabels[kRejectCategoryCount] = {
    "relay",  "rbl",    "helo", "sender", "recipient", "client",
    "policy", "milter", "size", "tls",    "other",
};

bool EqualsUpper(absl::string_view s, absl::string_view upper) {
  if (s.size() != upper.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

}  // namespace

absl::string_view SaslMethodLabel(SaslMethod m) { return kMethodLabels[static_cast<int>(m)]; }

SaslMethod ParseSaslMethod(absl::string_view name) {
  // Only the named IANA mechanisms get their own label; kOther and kUnknown
  // are never produced from text.
  for (int i = 0; i < static_cast<int>(SaslMethod::kOther); ++i) {
    if (EqualsUpper(name, kMethodLabels[i])) return static_cast<SaslMethod>(i);
  }
  return SaslMethod::kOther;
}

absl::string_view FailureReasonLabel(FailureReason r) { return kReasonLabels[static_cast<int>(r)]; }

absl::string_view ClientLimitLabel(ClientLimit l) {
  return kClientLimitLabels[static_cast<int>(l)];
}

absl::string_view SmtpStageLabel(SmtpStage s) { return kStageLabels[static_cast<int>(s)]; }

SmtpStage ParseSmtpStage(absl::string_view word) {
  for (int i = 0; i < static_cast<int>(SmtpStage::kOther); ++i) {
    if (word == kStageLabels[i]) return static_cast<SmtpStage>(i);
  }
  return SmtpStage::kOther;
}

absl::string_view RejectStageLabel(RejectStage s) {
  return kRejectStageLabels[static_cast<int>(s)];
}

RejectStage ParseRejectStage(absl::string_view where) {
  // Postfix writes the command in upper case (smtpd.c's state->where).
  if (where == "EHLO") return RejectStage::kHelo;
  for (int i = 0; i < static_cast<int>(RejectStage::kOther); ++i) {
    if (where == kRejectStageLabels[i]) return static_cast<RejectStage>(i);
  }
  return RejectStage::kOther;
}

absl::string_view RejectCategoryLabel(RejectCategory c) {
  return kRejectCategoryLabels[static_cast<int>(c)];
}

}  // namespace pse
