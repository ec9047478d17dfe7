#include "parsers/mail_flow.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "parsers/syslog_line.h"

namespace pse {
namespace {

using K = MailKind;
using S = DeliveryStatus;
using C = ConnectError;

// Frames "postfix/DAEMON[pid]: MSG" and parses it; `out` keeps the line alive.
MailFlowEvent Parse(const std::string& daemon, const std::string& msg, std::string* out) {
  SyslogLineParser::Options o;
  o.initial_year = 2024;
  o.bsd_time_zone = absl::UTCTimeZone();
  SyslogLineParser framer(o);
  *out = "Jul  5 12:43:39 mx postfix/" + daemon + "[4242]: " + msg;
  LogRecord r;
  EXPECT_EQ(framer.Parse(*out, &r), SyslogLineParser::Result::kPostfix) << *out;
  return ParseMailFlow(r);
}

struct DeliveryCase {
  const char* daemon;
  const char* msg;
  S status;
  char dsn_class;
  bool has_delays;
  const char* relay;
  C error;
};

TEST(MailFlow, DeliveryLines) {
  const DeliveryCase cases[] = {
      {"smtp",
       "3F2A81C0BD: to=<a@example.org>, relay=mx.example.org[192.0.2.9]:25, delay=1.2, "
       "delays=0.1/0.01/0.5/0.59, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)",
       S::kSent, '2', true, "mx.example.org[192.0.2.9]:25", C::kNone},
      {"lmtp",
       "3F2A81C0BD: to=<a@example.org>, orig_to=<b@example.org>, relay=h[private/dovecot-lmtp], "
       "delay=0.1, delays=0/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 <a> Saved)",
       S::kSent, '2', true, "h[private/dovecot-lmtp]", C::kNone},
      {"local",
       "3F2A81C0BD: to=<root@mx>, relay=local, delay=0.01, delays=0/0/0/0.01, dsn=2.0.0, "
       "status=sent (delivered to mailbox)",
       S::kSent, '2', true, "local", C::kNone},
      {"virtual",
       "3F2A81C0BD: to=<u@v.example>, relay=virtual, delay=0.02, delays=0.01/0/0/0.01, dsn=5.1.1, "
       "status=bounced (unknown user: \"u@v.example\")",
       S::kBounced, '5', true, "virtual", C::kNone},
      {"pipe",
       "3F2A81C0BD: to=<u@x>, relay=dovecot, delay=0.5, delays=0.1/0.01/0/0.39, dsn=2.0.0, "
       "status=sent (delivered via dovecot service)",
       S::kSent, '2', true, "dovecot", C::kNone},
      {"smtp",
       "3F2A81C0BD: to=<a@nx.example>, relay=none, delay=3, delays=0/0/3/0, dsn=4.4.3, "
       "status=deferred (Host or domain name not found. Name service error for name=nx.example "
       "type=MX: Host not found, try again)",
       S::kDeferred, '4', true, "none", C::kDns},
      {"smtp",
       "3F2A81C0BD: to=<a@example.org>, relay=r[192.0.2.9]:25, conn_use=2, delay=1e+02, "
       "delays=1e+02/0/0/0.1, dsn=4.7.1, status=deferred (host said: 451)",
       S::kDeferred, '4', true, "r[192.0.2.9]:25", C::kNone},
      {"error",
       "3F2A81C0BD: to=<a@example.org>, relay=none, delay=0, delays=0/0/0/0, dsn=5.0.0, "
       "status=bounced (User unknown)",
       S::kBounced, '5', true, "none", C::kNone},
      {"smtp",
       "3F2A81C0BD: to=<a@example.org>, relay=r[192.0.2.9]:25, delay=1, delays=1/0/0/0, dsn=5.1.1, "
       "status=undeliverable (host said: 550)",
       S::kUndeliverable, '5', true, "r[192.0.2.9]:25", C::kNone},
      // A quoted local part that imitates the fields after it is still the address.
      {"smtp",
       "3F2A81C0BD: to=<\"x>, relay=evil, delays=9/9/9/9, dsn=2.0.0, status=sent\"@d.example>, "
       "relay=r[192.0.2.9]:25, delay=1, delays=1/0/0/0, dsn=4.0.0, status=deferred (x)",
       S::kDeferred, '4', true, "r[192.0.2.9]:25", C::kNone},
  };
  for (const DeliveryCase& c : cases) {
    std::string line;
    MailFlowEvent ev = Parse(c.daemon, c.msg, &line);
    ASSERT_EQ(ev.kind, K::kDelivery) << c.msg;
    EXPECT_EQ(ev.status, c.status) << c.msg;
    EXPECT_EQ(ev.dsn_class, c.dsn_class) << c.msg;
    EXPECT_EQ(ev.has_delays, c.has_delays) << c.msg;
    EXPECT_EQ(ev.relay, c.relay) << c.msg;
    EXPECT_EQ(ev.connect_error, c.error) << c.msg;
  }
}

TEST(MailFlow, DelaysAreTheFourStages) {
  std::string line;
  MailFlowEvent ev = Parse("smtp",
                           "3F2A81C0BD: to=<a@b>, relay=r[192.0.2.9]:25, delay=1.2, "
                           "delays=0.1/0.01/0.5/0.59, dsn=2.0.0, status=sent (ok)",
                           &line);
  ASSERT_TRUE(ev.has_delays);
  EXPECT_DOUBLE_EQ(ev.delays[0], 0.1);
  EXPECT_DOUBLE_EQ(ev.delays[1], 0.01);
  EXPECT_DOUBLE_EQ(ev.delays[2], 0.5);
  EXPECT_DOUBLE_EQ(ev.delays[3], 0.59);
  // The attempt's identity leaves out the transmission stage.
  EXPECT_EQ(ev.attempt_delays, "0.1/0.01/0.5");
}

TEST(MailFlow, NotDeliveryLines) {
  for (const char* msg : {
           "3F2A81C0BD: to=<a@b>, relay=r[192.0.2.9]:25, delay=1, delays=1/0/0/0, dsn=2.0.0, "
           "status=deliverable (ok)",
           "3F2A81C0BD: host r[192.0.2.9] said: 450 try later (in reply to RCPT TO command)",
           "3F2A81C0BD: to=<a@b, relay=x, status=sent",
           "3F2A81C0BD: lost connection with r[192.0.2.9] while receiving the initial server "
           "greeting",
           "warning: something else",
       }) {
    std::string line;
    EXPECT_EQ(Parse("smtp", msg, &line).kind, K::kNone) << msg;
  }
}

TEST(MailFlow, Qmgr) {
  std::string line;
  MailFlowEvent ev =
      Parse("qmgr", "3F2A81C0BD: from=<a@b>, size=1234, nrcpt=3 (queue active)", &line);
  ASSERT_EQ(ev.kind, K::kQmgrInserted);
  EXPECT_EQ(ev.size, 1234);
  EXPECT_EQ(ev.nrcpt, 3);
  EXPECT_EQ(Parse("qmgr", "3F2A81C0BD: removed", &line).kind, K::kQmgrRemoved);
  EXPECT_EQ(Parse("qmgr", "3F2A81C0BD: from=<a@b>, status=expired, returned to sender", &line).kind,
            K::kQmgrExpired);
  // A sender address cannot fake the fields after it.
  EXPECT_EQ(
      Parse("qmgr", "3F2A81C0BD: from=<\"x>, size=1, nrcpt=1 (queue active)\"@b>, x", &line).kind,
      K::kNone);
  EXPECT_EQ(Parse("qmgr", "3F2A81C0BD: removed later", &line).kind, K::kNone);
}

TEST(MailFlow, CleanupAndBounce) {
  std::string line;
  EXPECT_EQ(Parse("cleanup", "3F2A81C0BD: message-id=<x@y>", &line).kind, K::kCleanupMessageId);
  EXPECT_EQ(
      Parse("cleanup", "3F2A81C0BD: reject: header Subject: x from h[192.0.2.1]; 5.7.1 no", &line)
          .kind,
      K::kCleanupReject);
  MailFlowEvent ev = Parse(
      "cleanup", "3F2A81C0BD: milter-reject: END-OF-MESSAGE from h[192.0.2.1]: 5.7.1 spam", &line);
  ASSERT_EQ(ev.kind, K::kCleanupMilter);
  EXPECT_EQ(ev.milter, MilterAction::kReject);
  EXPECT_EQ(
      Parse("cleanup", "3F2A81C0BD: milter-hold: END-OF-MESSAGE from h[1.2.3.4]: x", &line).milter,
      MilterAction::kHold);
  ev = Parse("bounce", "3F2A81C0BD: sender non-delivery notification: 4B1C2D3E4F", &line);
  ASSERT_EQ(ev.kind, K::kBounceNotice);
  EXPECT_EQ(ev.notice, BounceNotice::kNonDelivery);
  EXPECT_EQ(Parse("bounce", "3F2A81C0BD: sender delay notification: 4B1C2D3E4F", &line).notice,
            BounceNotice::kDelay);
  EXPECT_EQ(
      Parse("bounce", "3F2A81C0BD: postmaster delivery status notification: 4B1C2D", &line).notice,
      BounceNotice::kDeliveryStatus);
  EXPECT_EQ(Parse("bounce", "3F2A81C0BD: sender surprise notification: 4B1C", &line).kind,
            K::kNone);
}

TEST(MailFlow, ConnectErrors) {
  struct {
    const char* msg;
    C error;
    bool queue_id;
  } cases[] = {
      {"connect to mx.example[192.0.2.9]:25: Connection timed out", C::kTimeout, false},
      {"connect to mx.example[192.0.2.9]:25: Connection refused", C::kRefused, false},
      {"connect to mx.example[2001:db8::9]:25: No route to host", C::kNoRoute, false},
      {"connect to mx.example[192.0.2.9]:25: Network is unreachable", C::kNoRoute, false},
      {"3F2A81C0BD: connect to mx.example[192.0.2.9]:25: Connection refused", C::kRefused, true},
      {"SSL_connect error to mx.example[192.0.2.9]:25: -1", C::kTls, false},
      {"connect to mx.example[192.0.2.9]:25: server dropped connection without sending the "
       "initial SMTP greeting",
       C::kOther, false},
  };
  for (const auto& c : cases) {
    std::string line;
    MailFlowEvent ev = Parse("smtp", c.msg, &line);
    ASSERT_EQ(ev.kind, K::kConnectError) << c.msg;
    EXPECT_EQ(ev.connect_error, c.error) << c.msg;
    EXPECT_EQ(ev.has_queue_id, c.queue_id) << c.msg;
  }
  std::string line;
  // The local delivery agent connects to nothing.
  EXPECT_EQ(Parse("local", "connect to x[192.0.2.9]:25: Connection refused", &line).kind, K::kNone);
}

TEST(MailFlow, TlsBothDirections) {
  std::string line;
  MailFlowEvent ev = Parse("smtpd",
                           "Anonymous TLS connection established from unknown[192.0.2.1]: TLSv1.3 "
                           "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519",
                           &line);
  ASSERT_EQ(ev.kind, K::kTls);
  EXPECT_TRUE(ev.tls_inbound);
  EXPECT_EQ(ev.trust, TlsTrust::kAnonymous);
  EXPECT_EQ(ev.protocol, "TLSv1.3");
  EXPECT_EQ(ev.cipher, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(ev.secret_bits, "256");
  EXPECT_EQ(ev.algorithm_bits, "256");
  ev = Parse("smtp",
             "Verified TLS connection established to mx.example[192.0.2.9]:25: TLSv1.2 with cipher "
             "ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)",
             &line);
  ASSERT_EQ(ev.kind, K::kTls);
  EXPECT_FALSE(ev.tls_inbound);
  EXPECT_EQ(ev.trust, TlsTrust::kVerified);
  EXPECT_EQ(ev.protocol, "TLSv1.2");
  // A host name cannot stand in for the client part.
  EXPECT_EQ(Parse("smtpd",
                  "Anonymous TLS connection established from a b[192.0.2.1]: TLSv1.3 with cipher "
                  "X (1/1 bits)",
                  &line)
                .kind,
            K::kNone);
}

TEST(MailFlow, SmtpdFcrdns) {
  std::string line;
  EXPECT_EQ(Parse("smtpd",
                  "warning: hostname x.example does not resolve to address 192.0.2.1: Name or "
                  "service not known",
                  &line)
                .kind,
            K::kFcrdnsError);
  EXPECT_EQ(Parse("smtpd", "connect from x.example[192.0.2.1]", &line).kind, K::kNone);
}

TEST(MailFlow, Postscreen) {
  struct {
    const char* msg;
    PostscreenAction action;
  } cases[] = {
      {"PASS NEW [192.0.2.1]:5678", PostscreenAction::kPassNew},
      {"PASS OLD [192.0.2.1]:5678", PostscreenAction::kPassOld},
      {"DNSBL rank 3 for [192.0.2.1]:5678", PostscreenAction::kDnsblRank},
      {"PREGREET 11 after 0.08 from [192.0.2.1]:5678: EHLO x\\r\\n", PostscreenAction::kPregreet},
      {"HANGUP after 0.5 from [192.0.2.1]:5678 in tests after SMTP handshake",
       PostscreenAction::kHangup},
      {"COMMAND PIPELINING from [192.0.2.1]:5678 after EHLO: QUIT\\r\\n",
       PostscreenAction::kCommandPipelining},
      {"NON-SMTP COMMAND from [192.0.2.1]:5678 after CONNECT: GET / HTTP/1.1",
       PostscreenAction::kNonSmtpCommand},
      {"BARE NEWLINE from [192.0.2.1]:5678 after DATA", PostscreenAction::kBareNewline},
      {"DENYLISTED [192.0.2.1]:5678", PostscreenAction::kDenylisted},
      {"BLACKLISTED [192.0.2.1]:5678", PostscreenAction::kDenylisted},
      {"WHITELISTED [192.0.2.1]:5678", PostscreenAction::kAllowlisted},
      {"NOQUEUE: reject: CONNECT from [192.0.2.1]:5678: too many connections",
       PostscreenAction::kTooManyConnections},
      {"NOQUEUE: reject: CONNECT from [192.0.2.1]:5678: all server ports busy",
       PostscreenAction::kAllServerPortsBusy},
  };
  for (const auto& c : cases) {
    std::string line;
    MailFlowEvent ev = Parse("postscreen", c.msg, &line);
    ASSERT_EQ(ev.kind, K::kPostscreen) << c.msg;
    EXPECT_EQ(ev.postscreen, c.action) << c.msg;
  }
}

TEST(MailFlow, DelaysAreExactlyWhatStrtodReads) {
  // The plain "D.D" fast path must give the very doubles the general parser
  // gives (histogram sums are compared exactly elsewhere).
  for (const char* d : {"0.1/0.01/0.5/0.59", "12345.678901/0/7/0.3", "1e-3/2.5E2/0.000001/3.",
                        "1234567890/0.123456789012345/99/9999999999.99999"}) {
    std::string line;
    MailFlowEvent ev = Parse("smtp",
                             std::string("3F2A81C0BD: to=<a@b.example>, relay=r[192.0.2.1]:25, "
                                         "delay=1, delays=") +
                                 d + ", dsn=2.0.0, status=sent (ok)",
                             &line);
    ASSERT_TRUE(ev.has_delays) << d;
    std::vector<std::string> parts = absl::StrSplit(d, '/');
    for (int i = 0; i < 4; ++i) {
      double want;
      ASSERT_TRUE(absl::SimpleAtod(parts[i], &want)) << parts[i];
      EXPECT_EQ(ev.delays[i], want) << parts[i];
    }
  }
}

TEST(MailFlow, PostscreenSessions) {
  std::string line;
  MailFlowEvent ev = Parse("postscreen", "CONNECT from [192.0.2.1]:5678 to [192.0.2.2]:25", &line);
  EXPECT_EQ(ev.kind, K::kPostscreenConnect);
  EXPECT_EQ(ev.postscreen_client, "[192.0.2.1]:5678");
  ev = Parse("postscreen", "CONNECT from [2001:db8::1]:40000 to [2001:db8::2]:25", &line);
  EXPECT_EQ(ev.kind, K::kPostscreenConnect);
  EXPECT_EQ(ev.postscreen_client, "[2001:db8::1]:40000");
  ev = Parse("postscreen", "DISCONNECT [192.0.2.1]:5678", &line);
  EXPECT_EQ(ev.kind, K::kPostscreenDisconnect);
  EXPECT_EQ(ev.postscreen_client, "[192.0.2.1]:5678");
  ev = Parse("postscreen", "PASS NEW [192.0.2.1]:5678", &line);
  EXPECT_EQ(ev.kind, K::kPostscreen);
  EXPECT_EQ(ev.postscreen_client, "[192.0.2.1]:5678");
  ev = Parse("postscreen", "ALLOWLISTED [2001:db8::1]:40000", &line);
  EXPECT_EQ(ev.postscreen_client, "[2001:db8::1]:40000");
  // Verdicts that do not end a session name no client.
  ev = Parse("postscreen", "DNSBL rank 3 for [192.0.2.1]:5678", &line);
  EXPECT_EQ(ev.kind, K::kPostscreen);
  EXPECT_EQ(ev.postscreen_client, "");
  for (const char* bad : {
           "CONNECT from [192.0.2.1]:5678",
           "CONNECT from [192.0.2.1]:5678 to [192.0.2.2]:25 extra",
           "CONNECT from [x.example]:5678 to [192.0.2.2]:25",
           "CONNECT from [192.0.2.1]:123456 to [192.0.2.2]:25",
           "DISCONNECT [192.0.2.1]:5678 now",
           "DISCONNECT [192.0.2.1]",
           "CONNECT from [192.0.2.1]:5678 to [192.0.2.2]:",
       }) {
    EXPECT_EQ(Parse("postscreen", bad, &line).kind, K::kNone) << bad;
  }
  ev = Parse("postscreen", "PASS OLD [192.0.2.1]:5678 junk", &line);
  EXPECT_EQ(ev.kind, K::kPostscreen);
  EXPECT_EQ(ev.postscreen_client, "");
}

}  // namespace
}  // namespace pse
