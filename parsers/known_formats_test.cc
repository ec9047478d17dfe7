#include "parsers/known_formats.h"

#include <fstream>
#include <string>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "parsers/postfix_parser.h"
#include "parsers/syslog_line.h"
#include "re2/re2.h"

namespace pse {
namespace {

using E = EventType;

PostfixEvent ParseSmtpdMessage(const std::string& msg, const std::string& daemon = "smtpd") {
  SyslogLineParser::Options o;
  o.initial_year = 2024;
  o.bsd_time_zone = absl::UTCTimeZone();
  SyslogLineParser framer(o);
  LogRecord r;
  std::string line = "Jul  5 12:43:39 mx postfix/" + daemon + "[4242]: " + msg;
  EXPECT_EQ(framer.Parse(line, &r), SyslogLineParser::Result::kPostfix) << line;
  return ParsePostfix(r);
}

TEST(FormatToPattern, ConversionsMatchAnyTextAndLiteralsAreQuoted) {
  EXPECT_EQ(FormatToPattern("connect from %s"), "connect\\ from\\ .*");
  EXPECT_EQ(FormatToPattern("%s(%lu) 100%% [%.100s]"), ".*\\(.*\\)\\ 100\\%\\ \\[.*\\]");
  EXPECT_EQ(FormatToPattern("x %-5d y"), "x\\ .*\\ y");
}

// One line per msg_info()/msg_warn() format of smtpd and its libraries,
// Postfix 2.8 to 3.12, instantiated by tools/gen_known_formats.py.
TEST(KnownFormats, EveryGeneratedFormatIsKnownAndIgnored) {
  std::ifstream in(PSE_PARSERS_TESTDATA "/known_formats.tsv");
  ASSERT_TRUE(in.is_open());
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 2));
    ASSERT_EQ(f.size(), 3u) << line;
    ASSERT_EQ(f[1], "ignored") << line;
    EXPECT_TRUE(IsKnownSmtpdLine(f[2])) << f[0] << ": " << f[2];
    EXPECT_EQ(ParseSmtpdMessage(f[2]).type, E::kIgnored) << f[0] << ": " << f[2];
    ++n;
  }
  EXPECT_GT(n, 500);
}

// The formats that are parsed into events, one real line each (they are
// kept out of the known table so that a malformed one stays visible).
TEST(KnownFormats, ParsedFormats) {
  struct Case {
    const char* msg;
    E want;
  } cases[] = {
      {"connect from unknown[192.0.2.1]", E::kConnect},
      {"disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3", E::kDisconnect},
      {"3F2A81C0BD: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=bob", E::kMessageQueued},
      {"warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
       E::kSaslFailed},
      {"warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
       "sasl_username=x",
       E::kSaslFailed},
      {"warning: unknown[192.0.2.1]: SASL LOGIN authentication aborted", E::kSaslAborted},
      {"warning: SASL authentication failure: Password verification failed", E::kSaslBackendNote},
      {"warning: SASL authentication problem: unable to open Berkeley db", E::kSaslBackendNote},
      {"lost connection after AUTH from unknown[192.0.2.1]", E::kSessionAbort},
      {"NOQUEUE: lost connection after DATA (0 bytes) from unknown[192.0.2.1]", E::kSessionAbort},
      {"NOQUEUE: reject: RCPT from h[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; "
       "from=<c@d> to=<a@b> proto=ESMTP helo=<h>",
       E::kReject},
      // A reject without a reply code: only postfix_smtpd_rejects_total counts it.
      {"3F2A81C0BD: reject: DATA from h[192.0.2.1]: bare <LF> received; from=<c@d> proto=ESMTP "
       "helo=<h>",
       E::kReject},
      {"warning: Connection concurrency limit exceeded: 51 from h[192.0.2.1] for service smtp",
       E::kClientLimitExceeded},
      {"warning: AUTH command rate limit exceeded: 11 from h[192.0.2.1] for service submission",
       E::kClientLimitExceeded},
      {"fatal: no SASL authentication mechanisms", E::kFatalNoSaslMechanisms},
      {"warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: Connection refused",
       E::kSaslBackendNote},
      {"TLS connection established from h[192.0.2.1]: TLSv1 with cipher AES256-SHA (256/256 bits)",
       E::kIgnored},
      {"Anonymous TLS connection established from h[192.0.2.1]: TLSv1.3 with cipher "
       "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) "
       "server-digest SHA256",
       E::kIgnored},
      {"proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as 3F2A81C0BD; from=<a@b> to=<c@d> "
       "proto=ESMTP helo=<h>",
       E::kIgnored},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseSmtpdMessage(c.msg).type, c.want) << c.msg;
}

TEST(KnownFormats, LineNobodyKnowsIsUnrecognized) {
  for (const char* msg : {
           "something Postfix 9 might say",
           "warning: the flux capacitor is empty",
           "warning: unknown[192.0.2.1]: SASL PLAIN authentication exploded",
           "NOQUEUE: reject: DATA from h[192.0.2.1]: something else; from=<a@b>",
       }) {
    EXPECT_FALSE(IsKnownSmtpdLine(msg)) << msg;
    EXPECT_EQ(ParseSmtpdMessage(msg).type, E::kUnrecognized) << msg;
  }
}

}  // namespace
}  // namespace pse
