#include "parsers/reject_reply.h"

#include <string>

#include "gtest/gtest.h"
#include "parsers/postfix_parser.h"
#include "parsers/syslog_line.h"

namespace pse {
namespace {

using C = RejectCategory;

PostfixEvent Parse(const std::string& msg) {
  SyslogLineParser::Options o;
  o.initial_year = 2024;
  o.bsd_time_zone = absl::UTCTimeZone();
  SyslogLineParser framer(o);
  LogRecord r;
  const std::string line = "Jul  5 12:43:39 mx postfix/smtpd[4242]: " + msg;
  EXPECT_EQ(framer.Parse(line, &r), SyslogLineParser::Result::kPostfix) << line;
  return ParsePostfix(r);
}

struct Case {
  const char* reply;  // after "CODE "
  C category;
};

// Postfix's own texts (smtpd_check.c, smtpd.c, default_rbl_reply).
TEST(RejectReply, PostfixTexts) {
  const Case cases[] = {
      {"5.7.1 <x@example.org>: Relay access denied; from=<a@b> to=<x@example.org> proto=ESMTP "
       "helo=<h>",
       C::kRelay},
      {"4.7.1 <x@example.org>: Relay access denied; to=<x@example.org> proto=SMTP", C::kRelay},
      {"5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
       "from=<> proto=SMTP",
       C::kRbl},
      {"5.7.1 Service unavailable; Sender address [a@spam.example] blocked using dbl.example; "
       "https://x/; from=<a@spam.example> proto=ESMTP helo=<h>",
       C::kRbl},
      {"5.5.2 <x y>: Helo command rejected: Invalid name; proto=SMTP helo=<x y>", C::kHelo},
      {"4.7.1 <h.example>: Helo command rejected: Host not found; from=<a@b> proto=ESMTP "
       "helo=<h.example>",
       C::kHelo},
      {"4.1.8 <a@nx.example>: Sender address rejected: Domain not found; from=<a@nx.example> "
       "proto=ESMTP helo=<h>",
       C::kSender},
      {"5.7.1 <a@b>: Sender address rejected: not owned by user bob; from=<a@b>", C::kSender},
      {"5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient "
       "table; from=<a@b> to=<nobody@example.org> proto=ESMTP helo=<h>",
       C::kRecipient},
      {"4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]; from=<a@b> "
       "proto=ESMTP helo=<h>",
       C::kClient},
      {"5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied; proto=SMTP", C::kClient},
      {"4.7.1 <x@example.org>: Recipient address rejected: Policy rejection not in whitelist; "
       "from=<a@b> to=<x@example.org> proto=ESMTP helo=<h>",
       C::kPolicy},
      {"4.2.0 <x@example.org>: Recipient address rejected: Greylisted, see "
       "http://postgrey.schweikert.ch/help/example.org.html; from=<a@b> to=<x@example.org>",
       C::kPolicy},
      {"4.3.5 <x@example.org>: Recipient address rejected: Server configuration problem; "
       "from=<a@b> to=<x@example.org>",
       C::kPolicy},
      {"5.3.4 Message size exceeds fixed limit; from=<a@b> proto=ESMTP helo=<h>", C::kSize},
      {"4.7.1 Session encryption is required; from=<a@b> proto=ESMTP helo=<h>", C::kTls},
      {"4.3.5 Server configuration error; from=<a@b> proto=ESMTP helo=<h>", C::kOther},
      {"4.3.0 <x@y>: Temporary lookup failure; from=<a@b> to=<x@y>", C::kOther},
      {"5.7.1 <x@y>: End-of-data rejected: no; from=<a@b> to=<x@y>", C::kOther},
      {"5.7.1 go away", C::kOther},
      {"", C::kOther},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyRejectReply(c.reply), c.category) << c.reply;
  }
}

// The object between '<' and '>' is the client's: a HELO name or a quoted
// local part can hold '>: ' and Postfix's phrases. It can make its own
// reject "other", never another category.
TEST(RejectReply, ClientTextCannotForgeACategory) {
  const Case cases[] = {
      // A HELO name forging "Relay access denied" (no trailer follows it) and
      // "Sender address" (ambiguous: the line could be a sender reject).
      {"4.7.1 <x>: Relay access denied>: Helo command rejected: Host not found; proto=SMTP "
       "helo=<x>: Relay access denied>",
       C::kHelo},
      {"5.7.1 <x>: Sender address rejected: y>: Helo command rejected: Access denied; proto=SMTP "
       "helo=<x>: Sender address rejected: y>",
       C::kOther},
      // A recipient forging "Policy rejection" under its own class.
      {"5.1.1 <x>: Recipient address rejected: Policy rejection@example.org>: Recipient address "
       "rejected: User unknown; to=<\"x>: Recipient address rejected: Policy "
       "rejection\"@example.org>",
       C::kOther},
      // A sender forging the rbl and size phrases: they only count at the start.
      {"5.7.1 <Service unavailable; x blocked using y>: Sender address rejected: Access denied; "
       "from=<a>",
       C::kSender},
      {"5.7.1 <Message size exceeds fixed limit>: Sender address rejected: Access denied; "
       "from=<a>",
       C::kSender},
      // A HELO name (the line's last field) with a phrase: no trailer after
      // it, so not Postfix's; with a forged trailer too, ambiguous.
      {"5.7.1 <v@remote.example>: Relay access denied; from=<s@b.example> to=<v@remote.example> "
       "proto=ESMTP helo=<y>: Recipient address rejected: User unknown>",
       C::kRelay},
      {"5.7.1 <v@remote.example>: Relay access denied; from=<s@b.example> to=<v@remote.example> "
       "proto=ESMTP helo=<y>: Recipient address rejected: User unknown; proto=ESMTP>",
       C::kOther},
      // A quoted recipient holding "Relay access denied;" (its internal form
      // in the reply): not followed by the trailer, so the reject is the
      // recipient check's.
      {"5.1.1 <x>: Relay access denied; @example.org>: Recipient address rejected: User unknown "
       "in local recipient table; from=<a@b.example> to=<\"x>: Relay access denied; "
       "\"@example.org> proto=ESMTP helo=<h.example>",
       C::kRecipient},
      // A custom access-map text without a class, and a forged one in the
      // trailer: "other", not "recipient".
      {"5.7.1 go away; from=<x>: Recipient address rejected: z> proto=ESMTP", C::kOther},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyRejectReply(c.reply), c.category) << c.reply;
  }
}

TEST(RejectLines, StageCategoryAndKind) {
  PostfixEvent e = Parse(
      "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <x@example.org>: Relay access "
      "denied; from=<a@b> to=<x@example.org> proto=ESMTP helo=<h>");
  EXPECT_EQ(e.type, EventType::kReject);
  EXPECT_EQ(e.reject_stage, RejectStage::kRcpt);
  EXPECT_EQ(e.reject_category, C::kRelay);

  e = Parse(
      "3F2A81C0BD: reject: DATA from unknown[192.0.2.1]: 550 5.7.1 <x@y>: Data command rejected: "
      "Multi-recipient bounce; from=<> to=<x@y> proto=ESMTP helo=<h>");
  EXPECT_EQ(e.type, EventType::kReject);
  EXPECT_EQ(e.reject_stage, RejectStage::kData);
  EXPECT_EQ(e.reject_category, C::kOther);

  e = Parse(
      "NOQUEUE: reject: EHLO from unknown[192.0.2.1]: 504 5.5.2 <x>: Helo command rejected: need "
      "fully-qualified hostname; proto=ESMTP helo=<x>");
  EXPECT_EQ(e.reject_stage, RejectStage::kHelo);
  EXPECT_EQ(e.reject_category, C::kHelo);

  e = Parse(
      "NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 450 4.7.1 <x@y>: Recipient address "
      "rejected: Access denied; from=<> to=<x@y> proto=ESMTP helo=<h>");
  EXPECT_EQ(e.type, EventType::kRejectWarning);
  EXPECT_EQ(e.reject_stage, RejectStage::kRcpt);
  EXPECT_EQ(e.reject_category, C::kRecipient);
  EXPECT_FALSE(e.relay_denied);

  e = Parse(
      "3F2A81C0BD: milter-reject: END-OF-MESSAGE from h.example[192.0.2.1]: 5.7.1 Spam message "
      "rejected; from=<a@b> to=<x@y> proto=ESMTP helo=<h>");
  EXPECT_EQ(e.type, EventType::kIgnored);  // no 3-digit code: as before
  e = Parse(
      "3F2A81C0BD: milter-reject: END-OF-MESSAGE from h.example[192.0.2.1]: 550 5.7.1 Relay "
      "access denied; from=<a@b> to=<x@y> proto=ESMTP helo=<h>");
  EXPECT_EQ(e.type, EventType::kReject);
  EXPECT_EQ(e.reject_stage, RejectStage::kEndOfMessage);
  EXPECT_EQ(e.reject_category, C::kMilter);

  e = Parse(
      "NOQUEUE: reject: DATA from unknown[192.0.2.1]: bare <LF> received; from=<a@b> to=<x@y> "
      "proto=ESMTP helo=<h>");
  EXPECT_EQ(e.type, EventType::kReject);
  EXPECT_EQ(e.reply_code, 0);
  EXPECT_EQ(e.reject_stage, RejectStage::kData);
  EXPECT_EQ(e.reject_category, C::kOther);

  e = Parse(
      "NOQUEUE: reject: XYZZY from unknown[192.0.2.1]: 421 4.3.5 Server configuration error;");
  EXPECT_EQ(e.reject_stage, RejectStage::kOther);
}

}  // namespace
}  // namespace pse
