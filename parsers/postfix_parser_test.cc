#include "parsers/postfix_parser.h"

#include <string>

#include "gtest/gtest.h"
#include "parsers/syslog_line.h"

namespace pse {
namespace {

using E = EventType;
using M = SaslMethod;
using R = FailureReason;

// Frames a full syslog line and parses it.
PostfixEvent Parse(const std::string& line) {
  SyslogLineParser::Options o;
  o.initial_year = 2024;
  o.bsd_time_zone = absl::UTCTimeZone();
  SyslogLineParser framer(o);
  LogRecord r;
  EXPECT_EQ(framer.Parse(line, &r), SyslogLineParser::Result::kPostfix) << line;
  return ParsePostfix(r);
}

std::string Smtpd(const std::string& msg, const std::string& name = "postfix/submission") {
  return "Jul  5 12:43:39 mx " + name + "/smtpd[4242]: " + msg;
}

TEST(ClientPrefix, Shapes) {
  EXPECT_EQ(ParseClientPrefix("unknown[192.0.2.1]"), 18u);
  EXPECT_EQ(ParseClientPrefix("mail.example.org[2001:db8::1]: x"), 29u);
  EXPECT_EQ(ParseClientPrefix("unknown[192.0.2.1]:51234 rest"), 24u);
  EXPECT_EQ(ParseClientPrefix("h[2001:db8::1]:25"), 17u);
  EXPECT_EQ(ParseClientPrefix("[192.0.2.1]"), 0u);
  EXPECT_EQ(ParseClientPrefix("no bracket"), 0u);
  EXPECT_EQ(ParseClientPrefix("a b[1.2.3.4]"), 0u);
  EXPECT_EQ(ParseClientPrefix("h[1.2.3.4"), 0u);
}

TEST(Smtpd, ConnectAndDisconnect) {
  EXPECT_EQ(Parse(Smtpd("connect from unknown[192.0.2.1]")).type, E::kConnect);
  EXPECT_EQ(Parse(Smtpd("connect from h.example[2001:db8::7]:4711")).type, E::kConnect);
  PostfixEvent d =
      Parse(Smtpd("disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 rset=1 quit=1 commands=3/4"));
  EXPECT_EQ(d.type, E::kDisconnect);
  EXPECT_TRUE(d.has_auth_stats);
  EXPECT_EQ(d.auth_success, 0u);
  EXPECT_EQ(d.auth_total, 1u);
  d =
      Parse(Smtpd("disconnect from h[192.0.2.1] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 "
                  "quit=1 commands=8"));
  EXPECT_TRUE(d.has_auth_stats);
  EXPECT_EQ(d.auth_success, 1u);
  EXPECT_EQ(d.auth_total, 1u);
  d = Parse(Smtpd("disconnect from h[192.0.2.1] ehlo=1 auth=2/5 commands=3/6 notes=bare_lf"));
  EXPECT_EQ(d.auth_success, 2u);
  EXPECT_EQ(d.auth_total, 5u);
  d = Parse(Smtpd("disconnect from h[192.0.2.1]"));  // Postfix < 3.0: no statistics
  EXPECT_EQ(d.type, E::kDisconnect);
  EXPECT_FALSE(d.has_auth_stats);
  d = Parse(Smtpd("disconnect from h[192.0.2.1] commands=0/0"));
  EXPECT_FALSE(d.has_auth_stats);
}

TEST(Smtpd, SessionAborts) {
  struct Case {
    const char* msg;
    AbortKind kind;
    SmtpStage stage;
  } cases[] = {
      {"lost connection after AUTH from unknown[1.2.3.4]", AbortKind::kLostConnection,
       SmtpStage::kAuth},
      {"NOQUEUE: lost connection after AUTH from unknown[1.2.3.4]", AbortKind::kLostConnection,
       SmtpStage::kAuth},
      {"4Xk2Pj1c3Zz9sXK: lost connection after DATA (1234 bytes) from h[1.2.3.4]",
       AbortKind::kLostConnection, SmtpStage::kData},
      {"timeout after AUTH from unknown[1.2.3.4]:5555", AbortKind::kTimeout, SmtpStage::kAuth},
      {"too many errors after RCPT from unknown[1.2.3.4]", AbortKind::kTooManyErrors,
       SmtpStage::kRcpt},
      {"lost connection after END-OF-MESSAGE from h[::1]", AbortKind::kLostConnection,
       SmtpStage::kEndOfMessage},
      {"lost connection after UNKNOWN from h[::1]", AbortKind::kLostConnection,
       SmtpStage::kUnknownCommand},
      {"lost connection after WEIRD from h[::1]", AbortKind::kLostConnection, SmtpStage::kOther},
  };
  for (const Case& c : cases) {
    // The event's views point into the line: keep it alive while they are read.
    const std::string line = Smtpd(c.msg);
    PostfixEvent e = Parse(line);
    EXPECT_EQ(e.type, E::kSessionAbort) << c.msg;
    EXPECT_EQ(e.abort_kind, c.kind) << c.msg;
    EXPECT_EQ(e.stage, c.stage) << c.msg;
  }
}

TEST(Smtpd, SaslFailedBothForms) {
  struct Case {
    const char* msg;
    M method;
    R reason;
  } cases[] = {
      // <= 3.8: reason may be empty, with or without the trailing space.
      {"warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", M::kLogin,
       R::kBadCredentials},
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: ", M::kPlain,
       R::kUnspecified},
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed:", M::kPlain,
       R::kUnspecified},
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed", M::kPlain, R::kUnspecified},
      {"warning: unknown[192.0.2.1]: SASL login authentication failed: authentication failure",
       M::kLogin, R::kBadCredentials},
      {"warning: h[2001:db8::1]:587: SASL Cram-Md5 authentication failed: generic failure",
       M::kCramMd5, R::kBackendUnavailable},
      // >= 3.9: ", sasl_username=U" ends the reason.
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
       "sasl_username=bob",
       M::kPlain, R::kUnspecified},
      {"warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, "
       "sasl_username=a@b.example",
       M::kLogin, R::kBadCredentials},
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: transient failure (e.g., "
       "weak key), "
       "sasl_username=x",
       M::kPlain, R::kBackendUnavailable},
      {"warning: unknown[192.0.2.1]: SASL XYZZY authentication failed: Invalid authentication "
       "mechanism: 'XYZZY', "
       "sasl_username=(unavailable)",
       M::kOther, R::kMechanismUnsupported},
      {"warning: unknown[192.0.2.1]: SASL SCRAM-SHA-256 authentication failed: bad protocol / "
       "cancel",
       M::kScramSha256, R::kProtocolError},
  };
  for (const Case& c : cases) {
    // The event's views point into the line: keep it alive while they are read.
    const std::string line = Smtpd(c.msg);
    PostfixEvent e = Parse(line);
    EXPECT_EQ(e.type, E::kSaslFailed) << c.msg;
    EXPECT_EQ(e.method, c.method) << c.msg;
    EXPECT_EQ(e.reason, c.reason) << c.msg;
  }
}

TEST(Smtpd, UsernameCannotInjectReason) {
  // The client chose the username; only the text before the first
  // ", sasl_username=" is the reason.
  PostfixEvent e = Parse(
      Smtpd("warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
            "sasl_username=x, sasl_username=y generic failure"));
  EXPECT_EQ(e.reason, R::kUnspecified);
  e =
      Parse(Smtpd("warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: UGFzc3dvcmQ6, "
                  "sasl_username=SASL LOGIN authentication failed: generic failure"));
  EXPECT_EQ(e.type, E::kSaslFailed);
  EXPECT_EQ(e.method, M::kPlain);
  EXPECT_EQ(e.reason, R::kBadCredentials);
}

TEST(Smtpd, SaslAborted) {
  PostfixEvent e = Parse(Smtpd("warning: unknown[192.0.2.1]: SASL LOGIN authentication aborted"));
  EXPECT_EQ(e.type, E::kSaslAborted);
  EXPECT_EQ(e.method, M::kLogin);
  e = Parse(
      Smtpd("warning: unknown[192.0.2.1]: SASL plain authentication aborted, sasl_username=x"));
  EXPECT_EQ(e.type, E::kSaslAborted);
  EXPECT_EQ(e.method, M::kPlain);
}

TEST(Smtpd, BackendNotes) {
  PostfixEvent e =
      Parse(Smtpd("warning: SASL authentication failure: Password verification failed"));
  EXPECT_EQ(e.type, E::kSaslBackendNote);
  EXPECT_EQ(e.reason, R::kBadCredentials);
  EXPECT_FALSE(e.backend_connect_error);
  e =
      Parse(Smtpd("warning: SASL authentication failure: cannot connect to saslauthd server: No "
                  "such file or directory"));
  EXPECT_EQ(e.type, E::kSaslBackendNote);
  EXPECT_EQ(e.reason, R::kBackendUnavailable);
  EXPECT_TRUE(e.backend_connect_error);
  e =
      Parse(Smtpd("warning: SASL authentication problem: unable to open Berkeley db /etc/sasldb2: "
                  "No such file"));
  EXPECT_EQ(e.type, E::kSaslBackendNote);
  EXPECT_EQ(e.reason, R::kBackendUnavailable);
  EXPECT_FALSE(e.backend_connect_error);
  e = Parse(Smtpd(
      "warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: Connection refused"));
  EXPECT_EQ(e.type, E::kSaslBackendNote);
  EXPECT_TRUE(e.backend_connect_error);
  EXPECT_EQ(Parse(Smtpd("fatal: no SASL authentication mechanisms")).type,
            E::kFatalNoSaslMechanisms);
  EXPECT_EQ(Parse(Smtpd("fatal: open database /etc/postfix/x.db: No such file")).type, E::kFatal);
}

TEST(Smtpd, Rejects) {
  PostfixEvent e =
      Parse(Smtpd("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <x@example.org>: Relay "
                  "access denied; "
                  "from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h>",
                  "postfix"));
  EXPECT_EQ(e.type, E::kReject);
  EXPECT_EQ(e.reply_code, 554);
  EXPECT_TRUE(e.relay_denied);
  e =
      Parse(Smtpd("NOQUEUE: reject: VRFY from unknown[192.0.2.1]: 454 4.7.1 <x@example.org>: Relay "
                  "access denied; "
                  "to=<x@example.org> proto=SMTP helo=<me>"));
  EXPECT_EQ(e.reply_code, 454);
  EXPECT_TRUE(e.relay_denied);
  e =
      Parse(Smtpd("4Xk2Pj1c3Zz9sXK: reject: RCPT from h[192.0.2.1]:4455: 554 5.7.1 "
                  "<x@example.org>: Relay access denied; "
                  "from=<> to=<x@example.org> proto=ESMTP helo=<h>"));
  EXPECT_TRUE(e.relay_denied);
  e =
      Parse(Smtpd("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <nobody@example.org>: "
                  "Recipient address "
                  "rejected: User unknown in local recipient table; from=<a@b> "
                  "to=<nobody@example.org> proto=ESMTP helo=<h>"));
  EXPECT_EQ(e.type, E::kReject);
  EXPECT_EQ(e.reply_code, 550);
  EXPECT_FALSE(e.relay_denied);
  e = Parse(
      Smtpd("NOQUEUE: reject: CONNECT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; "
            "Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<> proto=SMTP"));
  EXPECT_EQ(e.reply_code, 554);
  EXPECT_FALSE(e.relay_denied);
}

TEST(Smtpd, RelayDeniedCannotBeInjected) {
  // The recipient is the client's: a quoted local part may contain '>' and
  // Postfix's own text, but the text after the address's real end is not it.
  PostfixEvent e =
      Parse(Smtpd("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <\"x>: Relay access "
                  "denied; \"@example.org>: "
                  "Recipient address rejected: User unknown; from=<a@b> to=<\"x>: Relay access "
                  "denied; \"@example.org> "
                  "proto=ESMTP helo=<h>"));
  EXPECT_EQ(e.type, E::kReject);
  EXPECT_FALSE(e.relay_denied);
  e = Parse(
      Smtpd("NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.1.8 <a@b>: Sender address "
            "rejected: Domain not found; "
            "from=<Relay access denied> to=<x@y>: Relay access denied; proto=ESMTP helo=<h>"));
  EXPECT_FALSE(e.relay_denied);
  // A HELO name cannot forge a reject.
  e = Parse(Smtpd("connect from unknown[192.0.2.1]"));
  EXPECT_EQ(e.type, E::kConnect);
}

TEST(Smtpd, QueuedMessages) {
  PostfixEvent e = Parse(
      Smtpd("4Xk2Pj1c3Zz9sXK: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=bob"));
  EXPECT_EQ(e.type, E::kMessageQueued);
  EXPECT_TRUE(e.has_sasl_method);
  EXPECT_EQ(e.method, M::kPlain);
  e = Parse(Smtpd("3F2A81C0BD: client=mail.example.org[198.51.100.2]", "postfix"));
  EXPECT_EQ(e.type, E::kMessageQueued);
  EXPECT_FALSE(e.has_sasl_method);
  e = Parse(Smtpd("3F2A81C0BD: client=h[1.2.3.4]:999, sasl_method=login, sasl_username=x"));
  EXPECT_EQ(e.method, M::kLogin);
}

// The event's text fields point into the line, so each line is kept.
TEST(Smtpd, QueuedMessageSaslUsernameEndsAtTheNextField) {
  // smtpd.c writes sasl_sender, orig_queue_id and orig_client after it.
  const std::string later_fields = Smtpd(
      "4Xk2Pj1c3Zz9sXK: client=h[2001:db8::5]:4321, sasl_method=LOGIN, "
      "sasl_username=a b@example.org, sasl_sender=x@y, orig_queue_id=ABC");
  PostfixEvent e = Parse(later_fields);
  EXPECT_EQ(e.sasl_username, "a b@example.org");
  EXPECT_EQ(e.client_addr, "2001:db8::5");
  const std::string orig_fields = Smtpd(
      "4Xk2Pj1c3Zz9sXK: client=h[192.0.2.1], sasl_method=LOGIN, sasl_username=u, "
      "orig_queue_id=ABC, orig_client=x[1.2.3.4]");
  e = Parse(orig_fields);
  EXPECT_EQ(e.sasl_username, "u");
}

TEST(Smtpd, QueuedMessageSaslUsernamePresence) {
  const std::string with_user =
      Smtpd("4Xk2Pj1c3Zz9sXK: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=bob");
  PostfixEvent e = Parse(with_user);
  EXPECT_TRUE(e.has_sasl_method);
  EXPECT_TRUE(e.has_sasl_username);
  EXPECT_EQ(e.sasl_username, "bob");
  EXPECT_EQ(e.client_addr, "192.0.2.1");
  const std::string without_user = Smtpd("4Xk2Pj1c3Zz9sXK: client=h[192.0.2.1], sasl_method=PLAIN");
  e = Parse(without_user);
  EXPECT_TRUE(e.has_sasl_method);
  EXPECT_FALSE(e.has_sasl_username);
  EXPECT_EQ(e.sasl_username, "");
  const std::string no_sasl =
      Smtpd("4Xk2Pj1c3Zz9sXK: client=h[192.0.2.1], orig_queue_id=ABC, orig_client=x[1.2.3.4]");
  e = Parse(no_sasl);
  EXPECT_FALSE(e.has_sasl_method);
  EXPECT_FALSE(e.has_sasl_username);
}

TEST(Smtpd, ClientLimitWarnings) {
  struct Case {
    const char* msg;
    ClientLimit limit;
    int64_t n;
    const char* service;
  } cases[] = {
      {"warning: Connection concurrency limit exceeded: 51 from unknown[192.0.2.1] for service "
       "smtp",
       ClientLimit::kConnectionCount, 51, "smtp"},
      {"warning: Connection rate limit exceeded: 31 from h[2001:db8::1] for service submission",
       ClientLimit::kConnectionRate, 31, "submission"},
      {"warning: Message delivery request rate limit exceeded: 7 from h[192.0.2.1]:4711 for "
       "service smtps",
       ClientLimit::kMessageRate, 7, "smtps"},
      {"warning: Recipient address rate limit exceeded: 100 from h[192.0.2.1] for service smtp",
       ClientLimit::kRecipientRate, 100, "smtp"},
      {"warning: New TLS session rate limit exceeded: 9 from h[192.0.2.1] for service "
       "127.0.0.1:10025",
       ClientLimit::kNewtlsRate, 9, "127.0.0.1:10025"},
      {"warning: AUTH command rate limit exceeded: 11 from unknown[192.0.2.1] for service "
       "submission",
       ClientLimit::kAuthRate, 11, "submission"},
  };
  for (const Case& c : cases) {
    // The event's views point into the line: keep it alive while they are read.
    const std::string line = Smtpd(c.msg);
    PostfixEvent e = Parse(line);
    EXPECT_EQ(e.type, E::kClientLimitExceeded) << c.msg;
    EXPECT_EQ(e.client_limit, c.limit) << c.msg;
    EXPECT_EQ(e.number, c.n) << c.msg;
    EXPECT_EQ(e.limit_service, c.service) << c.msg;
  }
  EXPECT_EQ(ClientLimitLabel(ClientLimit::kConnectionCount), "connection_count");
  EXPECT_EQ(ClientLimitLabel(ClientLimit::kAuthRate), "auth_rate");
  // Broken shapes are drift, not a limit event.
  EXPECT_EQ(
      Parse(Smtpd("warning: AUTH command rate limit exceeded: x from h[1.2.3.4] for service s"))
          .type,
      E::kUnrecognized);
  EXPECT_EQ(
      Parse(Smtpd("warning: AUTH command rate limit exceeded: 1 from nowhere for service s")).type,
      E::kUnrecognized);
}

TEST(SmtpClient, OutboundSaslFailures) {
  auto Client = [](const std::string& daemon, const std::string& msg) {
    return Parse("Jul  5 12:43:39 mx postfix/" + daemon + "[77]: " + msg);
  };
  for (const char* msg : {
           "3F2A81C0BD: to=<a@example.org>, relay=relay.example[192.0.2.9]:587, delay=0.5, "
           "delays=0.1/0/0.4/0, dsn=4.7.8, status=deferred (SASL authentication failed; server "
           "relay.example[192.0.2.9] said: 535 5.7.8 Error: authentication failed: authentication "
           "failure)",
           "3F2A81C0BD: to=<a@example.org>, orig_to=<b@example.org>, relay=r[192.0.2.9]:25, "
           "delay=1, "
           "delays=1/0/0/0, dsn=5.7.8, status=bounced (SASL authentication failed; server "
           "r[192.0.2.9] "
           "said: 535 5.7.8 no)",
           "3F2A81C0BD: to=<a@example.org>, relay=r[192.0.2.9]:25, delay=1, delays=1/0/0/0, "
           "dsn=4.7.0, "
           "status=deferred (SASL authentication failed; cannot authenticate to server "
           "r[192.0.2.9]: "
           "no mechanism available)",
           "3F2A81C0BD: SASL authentication failed; server r[192.0.2.9] said: 535 5.7.8 no",
           "3F2A81C0BD: SASL [CACHED] authentication failed; server r[192.0.2.9] said: 535 5.7.8 "
           "no",
           "warning: SASL authentication failed; cannot authenticate to server r[192.0.2.9]: "
           "generic failure",
           "3F2A81C0BD: to=<a@b>, relay=r[192.0.2.9]:25, delay=1, delays=1/0/0/0, dsn=4.7.0, "
           "status=deferred (SASL authentication failed: server r[192.0.2.9] offered no compatible "
           "authentication mechanisms for this type of connection security)",
       }) {
    EXPECT_EQ(Client("smtp", msg).type, E::kSmtpSaslFailure) << msg;
    EXPECT_EQ(Client("lmtp", msg).type, E::kSmtpSaslFailure) << msg;
  }
  for (const char* msg : {
           "3F2A81C0BD: to=<a@example.org>, relay=r[192.0.2.9]:25, delay=1, delays=1/0/0/0, "
           "dsn=2.0.0, "
           "status=sent (250 2.0.0 Ok: queued as SASL authentication failed; x)",
           "3F2A81C0BD: to=<a@example.org>, relay=r[192.0.2.9]:25, delay=1, delays=1/0/0/0, "
           "dsn=4.4.1, "
           "status=deferred (connect to r[192.0.2.9]:25: Connection refused)",
           "connect to r[192.0.2.9]:25: Connection refused",
       }) {
    EXPECT_EQ(Client("smtp", msg).type, E::kIgnored) << msg;
  }
}

TEST(Smtpd, NoiseIsIgnoredNotUnrecognized) {
  for (const char* msg : {
           "Anonymous TLS connection established from unknown[192.0.2.1]: TLSv1.3 with cipher "
           "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS "
           "(2048 bits)",
           "warning: hostname x.example does not resolve to address 192.0.2.1: Name or service not "
           "known",
           "improper command pipelining after EHLO from unknown[192.0.2.1]: QUIT",
           "3F2A81C0BD: hold: header Subject: x from h[1.2.3.4]; from=<> to=<>",
           "discarding EHLO keywords: CHUNKING",
       }) {
    EXPECT_EQ(Parse(Smtpd(msg)).type, E::kIgnored) << msg;
  }
}

TEST(Smtpd, UnrecognizedShapes) {
  for (const char* msg : {
           "something Postfix 9 might say",
           "warning: unknown[192.0.2.1]: SASL PLAIN authentication exploded",
           "connect from nowhere",
           "disconnect from",
           // Not a line any Postfix writes (it was counted as noise while
           // every warning was; now only known warnings are).
           "warning: unknown[192.0.2.1]: hostname mismatch",
       }) {
    EXPECT_EQ(Parse(Smtpd(msg)).type, E::kUnrecognized) << msg;
  }
}

TEST(OtherDaemons, AnvilAndMaster) {
  PostfixEvent e = Parse(
      "Jul  5 12:43:39 mx postfix/anvil[99]: statistics: max connection count 5 for "
      "(submission:192.0.2.1) at Jul  5 12:40:00");
  EXPECT_EQ(e.type, E::kAnvilMaxConnectionCount);
  EXPECT_EQ(e.number, 5);
  e = Parse(
      "Jul  5 12:43:39 mx postfix/anvil[99]: statistics: max connection rate 3/60s for "
      "(smtp:192.0.2.1) at Jul  5 12:40:00");
  EXPECT_EQ(e.type, E::kIgnored);
  e = Parse(
      "Jul  5 12:43:39 mx postfix/master[1]: warning: service \"submission\" (587) has reached its "
      "process limit "
      "\"100\": new clients may experience noticeable delays");
  EXPECT_EQ(e.type, E::kMasterProcessLimit);
  EXPECT_EQ(e.master_service, "submission");
  EXPECT_EQ(e.number, 100);
  e = Parse(
      "Jul  5 12:43:39 mx postfix/master[1]: warning: process /usr/lib/postfix/sbin/smtpd pid 4242 "
      "killed by signal 9");
  EXPECT_EQ(e.type, E::kMasterChildExit);
  EXPECT_EQ(e.number, 4242);
  e = Parse(
      "Jul  5 12:43:39 mx postfix/master[1]: warning: process /usr/libexec/postfix/smtpd pid 77 "
      "exit status 1");
  EXPECT_EQ(e.type, E::kMasterChildExit);
  e = Parse(
      "Jul  5 12:43:39 mx postfix/master[1]: warning: process /usr/lib/postfix/sbin/qmgr pid 77 "
      "exit status 1");
  EXPECT_EQ(e.type, E::kIgnored);
  e = Parse("Jul  5 12:43:39 mx postfix/qmgr[5]: 3F2A81C0BD: removed");
  EXPECT_EQ(e.type, E::kIgnored);
}

// Who failed: the address between brackets and the >= 3.9 user name.
TEST(Smtpd, FailureClientAndUsername) {
  struct Case {
    std::string msg;
    E type;
    const char* addr;
    const char* user;
  } cases[] = {
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
       "sasl_username=bob",
       E::kSaslFailed, "192.0.2.1", "bob"},
      {"warning: h.example[2001:db8::7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
       E::kSaslFailed, "2001:db8::7", ""},
      {"warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x, "
       "sasl_username=(unavailable)",
       E::kSaslFailed, "192.0.2.1", ""},
      // The name is everything after the first ", sasl_username=".
      {"warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x, "
       "sasl_username=a, sasl_username=b",
       E::kSaslFailed, "192.0.2.1", "a, sasl_username=b"},
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed, sasl_username=eve",
       E::kSaslFailed, "192.0.2.1", "eve"},
      {"warning: unknown[192.0.2.9]: SASL plain authentication aborted, sasl_username=x",
       E::kSaslAborted, "192.0.2.9", "x"},
      {"disconnect from unknown[198.51.100.3]:4711 ehlo=1 auth=0/1 commands=1/2", E::kDisconnect,
       "198.51.100.3", ""},
  };
  for (const Case& c : cases) {
    // The event's views point into the line: keep it alive while they are read.
    const std::string line = Smtpd(c.msg);
    PostfixEvent e = Parse(line);
    EXPECT_EQ(e.type, c.type) << c.msg;
    EXPECT_EQ(e.client_addr, c.addr) << c.msg;
    EXPECT_EQ(e.sasl_username, c.user) << c.msg;
  }
}

}  // namespace
}  // namespace pse
