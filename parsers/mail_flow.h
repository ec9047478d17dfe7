// MailFlowEvent / ParseMailFlow: what a line says about the path of a message
// through Postfix once it is accepted: queue manager, cleanup, delivery agents
// (smtp, lmtp, local, virtual, pipe, error, retry, discard), bounce, the smtp
// client's connection errors, TLS handshakes of smtpd and smtp, and
// postscreen's verdicts.
//
// ParseMailFlow is pure and thread-safe, and independent of ParsePostfix: the
// pipeline calls both on every record, so the session events of smtpd keep
// their own meaning. A line of a daemon not listed here costs a few string
// comparisons. Everything it returns is bounded by construction (enums,
// numbers) except the string_views documented below, which the metrics layer
// still bounds (charset and a cap on distinct values) before they become
// labels. Text a client or a remote server chooses (addresses, HELO names,
// replies) is never returned: a delivery line is read left to right, and an
// address ends at the first '>' outside Postfix's quoting, so a recipient
// address cannot forge the relay, delays, dsn or status fields after it.
//
// The event's string_views point into record.message and share its lifetime.
#ifndef PSE_PARSERS_MAIL_FLOW_H_
#define PSE_PARSERS_MAIL_FLOW_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "parsers/log_record.h"

namespace pse {

enum class MailKind : uint8_t {
  kNone,              // not a mail-flow line
  kDelivery,          // QUEUEID: to=<..>, relay=R, ..., dsn=X.Y.Z, status=S
  kQmgrInserted,      // qmgr: QUEUEID: from=<..>, size=N, nrcpt=M (queue active)
  kQmgrRemoved,       // qmgr: QUEUEID: removed
  kQmgrExpired,       // qmgr: QUEUEID: from=<..>, status=expired, returned to sender
  kCleanupMessageId,  // cleanup: QUEUEID: message-id=...
  kCleanupReject,     // cleanup: QUEUEID: reject: ...
  kCleanupMilter,     // cleanup: QUEUEID: milter-reject|milter-discard|milter-hold: ...
  kBounceNotice,      // bounce: QUEUEID: sender non-delivery notification: NEWID
  kConnectError,      // smtp/lmtp: connect to H[A]:P: REASON, or a TLS handshake failure
  kTls,  // smtpd/smtp: T TLS connection established from|to H[A]: P with cipher C (S/A bits)
  kFcrdnsError,           // smtpd: warning: hostname H does not resolve to address A
  kPostscreen,            // postscreen: one of PostscreenAction
  kPostscreenConnect,     // postscreen: CONNECT from [A]:P to [A]:P (a session opens)
  kPostscreenDisconnect,  // postscreen: DISCONNECT [A]:P (a session it did not hand over ends)
};

enum class DeliveryStatus : uint8_t {
  kSent,
  kDeferred,
  kBounced,
  kExpired,
  kUndeliverable,
  kCount,
};
inline constexpr int kDeliveryStatusCount = static_cast<int>(DeliveryStatus::kCount);
absl::string_view DeliveryStatusLabel(DeliveryStatus s);

enum class ConnectError : uint8_t {
  kNone,
  kTimeout,  // Connection timed out
  kRefused,  // Connection refused
  kNoRoute,  // No route to host, Network is unreachable
  kTls,      // the TLS handshake with the server failed
  kDns,      // Host or domain name not found (in a delivery status)
  kOther,    // any other reason after "connect to H[A]:P: "
  kCount,
};
inline constexpr int kConnectErrorCount = static_cast<int>(ConnectError::kCount);
absl::string_view ConnectErrorLabel(ConnectError e);

enum class BounceNotice : uint8_t {
  kNonDelivery,     // "non-delivery notification"
  kDelay,           // "delay notification"
  kDeliveryStatus,  // "delivery status notification" (success DSN)
  kCount,
};
inline constexpr int kBounceNoticeCount = static_cast<int>(BounceNotice::kCount);
absl::string_view BounceNoticeLabel(BounceNotice n);

enum class MilterAction : uint8_t { kReject, kDiscard, kHold, kCount };
inline constexpr int kMilterActionCount = static_cast<int>(MilterAction::kCount);
absl::string_view MilterActionLabel(MilterAction a);

enum class PostscreenAction : uint8_t {
  kPassNew,
  kPassOld,
  kDnsblRank,
  kPregreet,
  kHangup,
  kCommandPipelining,
  kNonSmtpCommand,
  kBareNewline,
  kDenylisted,          // BLACKLISTED / DENYLISTED
  kAllowlisted,         // WHITELISTED / ALLOWLISTED
  kTooManyConnections,  // NOQUEUE: reject: CONNECT from ...: too many connections
  kAllServerPortsBusy,  // NOQUEUE: reject: CONNECT from ...: all server ports busy
  kCount,
};
inline constexpr int kPostscreenActionCount = static_cast<int>(PostscreenAction::kCount);
absl::string_view PostscreenActionLabel(PostscreenAction a);

enum class TlsTrust : uint8_t { kAnonymous, kUntrusted, kTrusted, kVerified, kCount };
inline constexpr int kTlsTrustCount = static_cast<int>(TlsTrust::kCount);
absl::string_view TlsTrustLabel(TlsTrust t);

struct MailFlowEvent {
  MailKind kind = MailKind::kNone;
  // kDelivery (and kQmgrExpired, as kExpired).
  DeliveryStatus status = DeliveryStatus::kSent;
  // First digit of dsn= ('2', '4', '5'); 0 when the line has none.
  char dsn_class = 0;
  bool has_delays = false;
  // delays=a/b/c/d: before the queue manager, in the queue manager,
  // connection setup, transmission.
  std::array<double, 4> delays{};
  // The relay= token, e.g. "mx.example[192.0.2.1]:25", "local",
  // "private/dovecot-lmtp", "dovecot" (pipe: the master.cf transport).
  absl::string_view relay;
  // kDelivery: the delivery failed for want of DNS, a connection or TLS
  // (kNone otherwise); kConnectError: the class.
  ConnectError connect_error = ConnectError::kNone;
  // kConnectError: the line had a queue id before "connect to".
  bool has_queue_id = false;
  // kQmgrInserted.
  int64_t size = 0;
  int64_t nrcpt = 0;
  BounceNotice notice = BounceNotice::kNonDelivery;
  MilterAction milter = MilterAction::kReject;
  PostscreenAction postscreen = PostscreenAction::kPassNew;
  // kPostscreenConnect, kPostscreenDisconnect, and kPostscreen for the
  // verdicts that name the client first (PASS, *LISTED): "[A]:P", the
  // client's address and port as postscreen read them from the socket, the
  // identity of one postscreen session. Never a label.
  absl::string_view postscreen_client;
  // kTls: inbound (smtpd) or outbound (smtp/lmtp); the other fields are the
  // words Postfix printed (OpenSSL's protocol and cipher names, bit counts).
  bool tls_inbound = false;
  TlsTrust trust = TlsTrust::kAnonymous;
  absl::string_view protocol;
  absl::string_view cipher;
  absl::string_view secret_bits;
  absl::string_view algorithm_bits;
  // kDelivery: the queue id and the raw "a/b/c" text of delays=a/b/c/d; with
  // the relay they identify one delivery attempt, whose recipients share
  // them. Not the transmission stage d: a recipient the server refuses at
  // RCPT is logged before the others' DATA ends, with a smaller d (seen on
  // Postfix 3.7 relaying to a server answering 250, 451 and 550 by recipient).
  absl::string_view queue_id;
  absl::string_view attempt_delays;
};

// Reads record.daemon and record.message.
MailFlowEvent ParseMailFlow(const LogRecord& record);

}  // namespace pse

#endif  // PSE_PARSERS_MAIL_FLOW_H_
