// PostfixEvent: what one Postfix log line means to this exporter.
//
// A small value produced by PostfixParser from a LogRecord. The enums here are
// the bounded label vocabularies of the metrics (method, reason, stage), so
// they are defined once, with their label strings, and shared by the parser,
// the state and the metrics. string_view members point into the LogRecord's
// message and share its lifetime.
#ifndef PSE_PARSERS_POSTFIX_EVENT_H_
#define PSE_PARSERS_POSTFIX_EVENT_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace pse {

// SASL mechanism label values. Names are matched case-insensitively.
enum class SaslMethod : uint8_t {
  kPlain,
  kLogin,
  kCramMd5,
  kDigestMd5,
  kScramSha1,
  kScramSha256,
  kNtlm,
  kGssapi,
  kXoauth2,
  kOauthbearer,
  kExternal,
  kAnonymous,
  kOther,    // any other mechanism name
  kUnknown,  // not logged (derived from auth= statistics)
  kCount,
};
inline constexpr int kSaslMethodCount = static_cast<int>(SaslMethod::kCount);
absl::string_view SaslMethodLabel(SaslMethod m);
SaslMethod ParseSaslMethod(absl::string_view name);

// Failure reason label values (see docs/metrics.md for the raw-text mapping).
enum class FailureReason : uint8_t {
  kBadCredentials,
  kUnknownAccount,
  kBackendUnavailable,
  kMechanismUnsupported,
  kProtocolError,
  kAborted,
  kAuthUnavailable,
  kRateLimited,  // AUTH refused after "AUTH command rate limit exceeded"
  kUnspecified,
  kOther,
  kCount,
};
inline constexpr int kFailureReasonCount = static_cast<int>(FailureReason::kCount);
absl::string_view FailureReasonLabel(FailureReason r);

// SMTP stage of "lost connection after X", normalised to a bounded set.
enum class SmtpStage : uint8_t {
  kConnect,
  kHelo,
  kEhlo,
  kStarttls,
  kAuth,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kEndOfMessage,
  kRset,
  kNoop,
  kVrfy,
  kEtrn,
  kQuit,
  kXclient,
  kXforward,
  kUnknownCommand,  // Postfix's "UNKNOWN": a command it does not know
  kOther,
  kCount,
};
inline constexpr int kSmtpStageCount = static_cast<int>(SmtpStage::kCount);
absl::string_view SmtpStageLabel(SmtpStage s);
SmtpStage ParseSmtpStage(absl::string_view word);

// The SMTP command of a reject (Postfix's "where"), normalised to the
// bounded set of postfix_smtpd_rejects_total's `stage` label: EHLO is HELO,
// every other command is kOther.
enum class RejectStage : uint8_t {
  kConnect,
  kHelo,
  kMail,
  kRcpt,
  kData,
  kEndOfMessage,
  kBdat,
  kVrfy,
  kEtrn,
  kOther,
  kCount,
};
inline constexpr int kRejectStageCount = static_cast<int>(RejectStage::kCount);
absl::string_view RejectStageLabel(RejectStage s);
RejectStage ParseRejectStage(absl::string_view where);

// Why smtpd rejected: read from Postfix's fixed reply texts (see
// reject_reply.h), never from text a client chose.
enum class RejectCategory : uint8_t {
  kRelay,      // "<rcpt>: Relay access denied"
  kRbl,        // "Service unavailable; ... blocked using ..." (default_rbl_reply)
  kHelo,       // "<helo>: Helo command rejected: ..."
  kSender,     // "<sender>: Sender address rejected: ..."
  kRecipient,  // "<rcpt>: Recipient address rejected: ..."
  kClient,     // "Client host rejected: ...", "<name[addr]>: Client host rejected: ..."
  kPolicy,     // a policy service's verdict ("Policy rejection", its default action)
  kMilter,     // milter-reject
  kSize,       // "Message size exceeds fixed limit", DSN X.3.4
  kTls,        // "Session encryption is required", "Must issue a STARTTLS command first"
  kOther,
  kCount,
};
inline constexpr int kRejectCategoryCount = static_cast<int>(RejectCategory::kCount);
absl::string_view RejectCategoryLabel(RejectCategory c);

// Which smtpd_client_*_limit an anvil-driven warning reports.
enum class ClientLimit : uint8_t {
  kConnectionCount,  // "Connection concurrency limit exceeded"
  kConnectionRate,   // "Connection rate limit exceeded"
  kMessageRate,      // "Message delivery request rate limit exceeded"
  kRecipientRate,    // "Recipient address rate limit exceeded"
  kNewtlsRate,       // "New TLS session rate limit exceeded"
  kAuthRate,         // "AUTH command rate limit exceeded"
  kCount,
};
inline constexpr int kClientLimitCount = static_cast<int>(ClientLimit::kCount);
absl::string_view ClientLimitLabel(ClientLimit l);

enum class EventType : uint8_t {
  kIgnored,                  // not a daemon we read, or a recognised line of no interest
  kUnrecognized,             // an smtpd line no parser understood (format drift)
  kConnect,                  // smtpd: connect from
  kDisconnect,               // smtpd: disconnect from [stats]
  kSessionAbort,             // smtpd: lost connection | timeout | too many errors after X from
  kMessageQueued,            // smtpd: QUEUEID: client=...[, sasl_method=M]
  kSaslFailed,               // smtpd: SASL M authentication failed: REASON
  kSaslAborted,              // smtpd: SASL M authentication aborted
  kSaslBackendNote,          // smtpd: Cyrus "SASL authentication failure|problem:" or a
                             //        backend connect warning (Dovecot socket, saslauthd)
  kFatalNoSaslMechanisms,    // smtpd: fatal: no SASL authentication mechanisms
  kFatal,                    // smtpd: any other fatal:/panic: (the process exits)
  kReject,                   // smtpd: QUEUEID|NOQUEUE: reject|milter-reject: CMD from H[A]: ...
  kRejectWarning,            // smtpd: QUEUEID|NOQUEUE: reject_warning: CMD from H[A]: CODE ...
  kAnvilMaxConnectionCount,  // anvil: statistics: max connection count N for (...)
  kMasterProcessLimit,       // master: service "S" (...) has reached its process limit "N"
  kMasterChildExit,          // master: process .../smtpd pid N killed by signal|exit status
  kClientLimitExceeded,      // smtpd: warning: <X> limit exceeded: N from H[A] for service S
  kSmtpSaslFailure,          // smtp/lmtp: SASL authentication to a relay failed
};

enum class AbortKind : uint8_t { kLostConnection, kTimeout, kTooManyErrors };

struct PostfixEvent {
  EventType type = EventType::kIgnored;
  SaslMethod method = SaslMethod::kUnknown;           // kSaslFailed/Aborted, kMessageQueued
  bool has_sasl_method = false;                       // kMessageQueued: sasl_method= present
  bool has_sasl_username = false;                     // kMessageQueued: sasl_username= present
  FailureReason reason = FailureReason::kOther;       // kSaslFailed, kSaslBackendNote
  bool backend_connect_error = false;                 // kSaslBackendNote: backend unreachable
  bool has_auth_stats = false;                        // kDisconnect: auth=S[/T] present
  uint32_t auth_success = 0;                          // kDisconnect
  uint32_t auth_total = 0;                            // kDisconnect
  AbortKind abort_kind = AbortKind::kLostConnection;  // kSessionAbort
  SmtpStage stage = SmtpStage::kOther;                // kSessionAbort
  // kReject: 3-digit SMTP code; 0 for smtpd's code-less "bare <LF> received"
  // reject (3.9 and later), which only postfix_smtpd_rejects_total counts.
  uint16_t reply_code = 0;
  bool relay_denied = false;                       // kReject: "<rcpt>: Relay access denied"
  RejectStage reject_stage = RejectStage::kOther;  // kReject, kRejectWarning
  RejectCategory reject_category = RejectCategory::kOther;   // kReject, kRejectWarning
  ClientLimit client_limit = ClientLimit::kConnectionCount;  // kClientLimitExceeded
  // anvil count, master process limit, master child pid, client limit count
  int64_t number = 0;
  absl::string_view master_service;  // kMasterProcessLimit: master.cf name
  // kClientLimitExceeded: the service name after "for service " (master.cf
  // name, e.g. "smtp", "submission"); text Postfix chose, not the client.
  absl::string_view limit_service;
  // kSmtpSaslFailure: the queue id ("" when the line has none) and whether
  // the text came inside a recipient's delivery status. One failed
  // authentication is logged once per recipient of the message.
  absl::string_view queue_id;
  bool in_delivery_status = false;
  // kSaslFailed, kSaslAborted, kDisconnect, kMessageQueued: the client
  // address as logged between brackets ("192.0.2.7", "2001:db8::1",
  // "unknown").
  absl::string_view client_addr;
  // kSaslFailed, kSaslAborted: the name after ", sasl_username=" (Postfix
  // >= 3.9); "" when absent or "(unavailable)". kMessageQueued: the
  // authenticated user name. Never a label as it is (see triage/accounts.h).
  absl::string_view sasl_username;
};

}  // namespace pse

#endif  // PSE_PARSERS_POSTFIX_EVENT_H_
