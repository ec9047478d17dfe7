// Log injection: text a client chooses (HELO name, MAIL FROM, RCPT TO, SASL
// user name, pipelined junk) must never make a line count as something it is
// not. Each case is a short session in real Postfix line shapes, driven
// through the whole pipeline; the expectation is the complete set of non-zero
// smtpd metrics afterwards, so a hostile line that moves any other counter
// fails the case.
//
// Where the client's text lands in a line (Postfix source, smtpd.c and
// smtpd_check.c):
//  - reply texts ("<%s>: Relay access denied", "<%s>: Recipient address
//    rejected: ...", "<%s>: Helo command rejected: ...") print the address
//    in Postfix's INTERNAL form: quotes removed, so a quoted local part
//    `"x>: y"@d` appears as `<x>: y@d>`; HELO names appear as sent;
//  - the from=<> and to=<> fields after the reply use the external (quoted)
//    form on Postfix >= 3.5 (info_log_address_format=external), internal
//    before; helo=<> is the HELO argument as sent (spaces allowed);
//  - sasl_username (>= 3.9) ends the SASL failure line; sasl_username and
//    sasl_sender (MAIL FROM AUTH=) follow sasl_method on client= lines;
//  - pipelined input follows "improper command pipelining after X from C: ",
//    a bad address follows "Illegal address syntax from C in X command: ".
//
// The cases with the reply's unquoted internal address form (Recipient/
// Sender...InReplyText, HeloNameInHeloRejectReply) were miscounted as relay
// denials before relay detection required relay control's X.7.1 status.
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

using test::PipelineHarness;

constexpr char kSmtp[] = "postfix/smtpd";
constexpr char kSub[] = "postfix/submission/smtpd";

struct Msg {
  const char* daemon;  // syslog tag without pid
  int pid;
  std::string text;
};

struct Case {
  const char* name;
  std::vector<Msg> lines;
  std::map<std::string, double> want;  // every non-zero metric afterwards
};

std::string Reject(const std::string& cmd_and_reply) { return "NOQUEUE: reject: " + cmd_and_reply; }

const std::vector<Case>& Cases() {
  static const std::vector<Case>* cases = new std::vector<Case>{
      // ---- "Relay access denied" where Postfix did not deny relaying ----
      {"RecipientQuotedLocalPartExternalForm",
       {{kSmtp, 20,
         Reject(
             "RCPT from unknown[192.0.2.1]: 550 5.1.1 <\"x>: Relay access denied; \"@example.org>: "
             "Recipient address rejected: User unknown in local recipient table; "
             "from=<a@b.example> "
             "to=<\"x>: Relay access denied; \"@example.org> proto=ESMTP helo=<h.example>")}},
       {{"smtpd_messages_rejected_total{code=550,service=smtp}", 1},
        {"smtpd_rejects_total{category=recipient,service=smtp,stage=RCPT}", 1}}},
      {"RecipientInternalFormInReplyText",
       // What Postfix really logs for RCPT TO:<"x>: Relay access denied; "@example.org>
       // to a local domain without that user: the reply shows the internal form.
       {{kSmtp, 20,
         Reject("RCPT from unknown[192.0.2.1]: 550 5.1.1 <x>: Relay access denied; @example.org>: "
                "Recipient address rejected: User unknown in local recipient table; "
                "from=<a@b.example> "
                "to=<\"x>: Relay access denied; \"@example.org> proto=ESMTP helo=<h.example>")}},
       {{"smtpd_messages_rejected_total{code=550,service=smtp}", 1},
        {"smtpd_rejects_total{category=recipient,service=smtp,stage=RCPT}", 1}}},
      {"HeloNameInHeloRejectReply",
       // HELO "x>: Relay access denied;" with reject_non_fqdn_helo_hostname
       // (delayed to RCPT by smtpd_delay_reject=yes).
       {{kSmtp, 20,
         Reject("RCPT from unknown[192.0.2.1]: 504 5.5.2 <x>: Relay access denied;>: Helo command "
                "rejected: need fully-qualified hostname; from=<a@b.example> to=<u@example.org> "
                "proto=ESMTP helo=<x>: Relay access denied;>")}},
       {{"smtpd_messages_rejected_total{code=504,service=smtp}", 1},
        {"smtpd_rejects_total{category=helo,service=smtp,stage=RCPT}", 1}}},
      {"SenderInternalFormInSenderRejectReply",
       {{kSmtp, 20,
         Reject("RCPT from unknown[192.0.2.1]: 450 4.1.8 <x>: Relay access denied; @nx.example>: "
                "Sender address rejected: Domain not found; from=<\"x>: Relay access denied; "
                "\"@nx.example> to=<u@example.org> proto=ESMTP helo=<h.example>")}},
       {{"smtpd_messages_rejected_total{code=450,service=smtp}", 1},
        {"smtpd_rejects_total{category=sender,service=smtp,stage=RCPT}", 1}}},
      {"HeloFieldAfterTheReply",
       {{kSmtp, 20,
         Reject(
             "RCPT from unknown[192.0.2.1]: 450 4.2.0 <u@example.org>: Recipient address rejected: "
             "Greylisted; from=<a@b.example> to=<u@example.org> proto=ESMTP "
             "helo=<x: Relay access denied;>")}},
       {{"smtpd_messages_rejected_total{code=450,service=smtp}", 1},
        {"smtpd_rejects_total{category=policy,service=smtp,stage=RCPT}", 1}}},
      {"ToFieldWithRelayTextAfterIt",
       {{kSmtp, 20,
         Reject(
             "RCPT from unknown[192.0.2.1]: 550 5.1.1 <n@example.org>: Recipient address rejected: "
             "User unknown in local recipient table; from=<a@b.example> "
             "to=<n@example.org>: Relay access denied; proto=ESMTP helo=<h>")}},
       {{"smtpd_messages_rejected_total{code=550,service=smtp}", 1},
        {"smtpd_rejects_total{category=other,service=smtp,stage=RCPT}", 1}}},
      {"SenderFieldWithRelayText",
       {{kSmtp, 20,
         Reject(
             "MAIL from unknown[192.0.2.1]: 553 5.7.1 <a@b.example>: Sender address rejected: not "
             "logged in; from=<\"y>: Relay access denied;\"@b.example> proto=ESMTP helo=<h>")}},
       {{"smtpd_messages_rejected_total{code=553,service=smtp}", 1},
        {"smtpd_rejects_total{category=sender,service=smtp,stage=MAIL}", 1}}},
      // ---- real relay denials still count, whatever the client wrote ----
      {"GenuineRelayDenialWithSpacesInLocalPart",
       {{kSmtp, 20,
         Reject(
             "RCPT from unknown[192.0.2.1]: 554 5.7.1 <a b@remote.example>: Relay access denied; "
             "from=<s@b.example> to=<\"a b\"@remote.example> proto=ESMTP helo=<h>")}},
       {{"smtpd_messages_rejected_total{code=554,service=smtp}", 1},
        {"smtpd_rejects_total{category=relay,service=smtp,stage=RCPT}", 1},
        {"smtpd_relay_denied_total{service=smtp}", 1}}},
      {"GenuineRelayDenialWithHostileHelo",
       {{kSmtp, 20,
         Reject("RCPT from unknown[192.0.2.1]: 554 5.7.1 <v@remote.example>: Relay access denied; "
                "from=<s@b.example> to=<v@remote.example> proto=ESMTP helo=<y>: Recipient address "
                "rejected: User unknown; SASL PLAIN authentication failed: generic failure>")}},
       {{"smtpd_messages_rejected_total{code=554,service=smtp}", 1},
        {"smtpd_rejects_total{category=relay,service=smtp,stage=RCPT}", 1},
        {"smtpd_relay_denied_total{service=smtp}", 1}}},
      {"GenuineDeferredRelayOnVrfy",
       {{kSmtp, 20,
         Reject("VRFY from unknown[192.0.2.1]: 454 4.7.1 <v@remote.example>: Relay access denied; "
                "to=<v@remote.example> proto=SMTP helo=<Relay access denied>")}},
       {{"smtpd_messages_rejected_total{code=454,service=smtp}", 1},
        {"smtpd_rejects_total{category=relay,service=smtp,stage=VRFY}", 1},
        {"smtpd_relay_denied_total{service=smtp}", 1}}},

      // ---- SASL user names ----
      {"UsernameRepeatsSaslUsernameAndBackendReason",
       {{kSub, 30, "connect from unknown[192.0.2.1]"},
        {kSub, 30,
         "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
         "sasl_username=a, sasl_username=b generic failure"},
        {kSub, 30, "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3"}},
       {{"smtpd_connects_total{service=submission}", 1},
        {"smtpd_disconnects_total{service=submission}", 1},
        {"smtpd_sasl_authentication_failures_total{method=PLAIN,reason=unspecified,service="
         "submission}",
         1}}},
      {"UsernameIsAWholeFailureLine",
       {{kSub, 30, "connect from unknown[192.0.2.1]"},
        {kSub, 30,
         "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: UGFzc3dvcmQ6, "
         "sasl_username=x: SASL LOGIN authentication failed: generic failure"},
        {kSub, 30, "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3"}},
       {{"smtpd_connects_total{service=submission}", 1},
        {"smtpd_disconnects_total{service=submission}", 1},
        {"smtpd_sasl_authentication_failures_total{method=PLAIN,reason=bad_credentials,service="
         "submission}",
         1}}},
      {"UsernameClaimsAbortAndStatistics",
       {{kSub, 30, "connect from unknown[192.0.2.1]"},
        {kSub, 30,
         "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: authentication failure, "
         "sasl_username=SASL LOGIN authentication aborted auth=0/9 commands=0/9"},
        {kSub, 30, "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3"}},
       {{"smtpd_connects_total{service=submission}", 1},
        {"smtpd_disconnects_total{service=submission}", 1},
        {"smtpd_sasl_authentication_failures_total{method=LOGIN,reason=bad_credentials,service="
         "submission}",
         1}}},
      {"UsernameClaimsSaslMechanismsFatal",
       {{kSub, 30, "connect from unknown[192.0.2.1]"},
        {kSub, 30,
         "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
         "sasl_username=fatal: no SASL authentication mechanisms"}},
       {{"smtpd_connects_total{service=submission}", 1},
        {"smtpd_sessions{service=submission}", 1},
        {"smtpd_sasl_authentication_failures_total{method=PLAIN,reason=unspecified,service="
         "submission}",
         1}}},
      {"ClientLineUsernameInjectsSaslMethod",
       {{kSub, 31,
         "4Xk2Pj1c3Zz9sXK: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=u, "
         "sasl_method=LOGIN"}},
       {{"smtpd_messages_processed_total{sasl_method=PLAIN,service=submission}", 1}}},
      {"ClientLineSaslSenderInjectsSaslMethod",
       {{kSub, 31,
         "3F2A81C0BD: client=unknown[192.0.2.1], sasl_method=login, sasl_username=u@example.org, "
         "sasl_sender=x, sasl_method=CRAM-MD5"}},
       {{"smtpd_messages_processed_total{sasl_method=LOGIN,service=submission}", 1}}},
      {"CyrusCompanionCarryingUsername",
       {{kSub, 32, "connect from unknown[192.0.2.1]"},
        {kSub, 32,
         "warning: SASL authentication failure: user: cannot connect to saslauthd "
         "server@example.org "
         "property: userPassword not found in sasldb"},
        {kSub, 32,
         "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: authentication failure"}},
       {{"smtpd_connects_total{service=submission}", 1},
        {"smtpd_sessions{service=submission}", 1},
        {"smtpd_sasl_authentication_failures_total{method=PLAIN,reason=unknown_account,service="
         "submission}",
         1}}},

      // ---- HELO names, addresses and pipelined junk in other lines ----
      {"HeloFieldHoldsAFailureLine",
       {{kSmtp, 40,
         Reject("RCPT from unknown[192.0.2.1]: 554 5.7.1 <v@remote.example>: Relay access denied; "
                "from=<s@b.example> to=<v@remote.example> proto=ESMTP "
                "helo=<unknown[192.0.2.1]: SASL PLAIN authentication failed: generic failure>")}},
       {{"smtpd_messages_rejected_total{code=554,service=smtp}", 1},
        {"smtpd_rejects_total{category=relay,service=smtp,stage=RCPT}", 1},
        {"smtpd_relay_denied_total{service=smtp}", 1}}},
      {"HeloRejectReplyHoldsAuthenticationFailed",
       {{kSmtp, 40,
         Reject(
             "RCPT from unknown[192.0.2.1]: 504 5.5.2 <a authentication failed: generic failure>: "
             "Helo command rejected: need fully-qualified hostname; from=<> to=<u@example.org> "
             "proto=SMTP helo=<a authentication failed: generic failure>")}},
       {{"smtpd_messages_rejected_total{code=504,service=smtp}", 1},
        {"smtpd_rejects_total{category=helo,service=smtp,stage=RCPT}", 1}}},
      {"IllegalAddressSyntaxWarning",
       {{kSmtp, 40,
         "warning: Illegal address syntax from unknown[192.0.2.1] in MAIL command: "
         "<unknown[192.0.2.1]: SASL PLAIN authentication failed: generic failure>"}},
       {}},
      {"NonSmtpCommandWarning",
       {{kSmtp, 40,
         "warning: non-SMTP command from unknown[192.0.2.1]: SASL PLAIN authentication failed: "
         "generic failure"}},
       {}},
      {"PipelinedJunkClaimsDisconnect",
       {{kSmtp, 41, "connect from unknown[192.0.2.1]"},
        {kSmtp, 41,
         "improper command pipelining after EHLO from unknown[192.0.2.1]: disconnect from "
         "unknown[192.0.2.1] ehlo=1 auth=0/7 commands=1/8"}},
       {{"smtpd_connects_total{service=smtp}", 1}, {"smtpd_sessions{service=smtp}", 1}}},
      {"RejectReplyClaimsDisconnectAndConnect",
       {{kSmtp, 42, "connect from unknown[192.0.2.1]"},
        {kSmtp, 42,
         Reject(
             "RCPT from unknown[192.0.2.1]: 550 5.1.1 <disconnect from unknown[192.0.2.1] ehlo=1 "
             "auth=0/3 commands=1/4@example.org>: Recipient address rejected: User unknown in "
             "local "
             "recipient table; from=<> to=<\"disconnect from unknown[192.0.2.1] ehlo=1 auth=0/3 "
             "commands=1/4\"@example.org> proto=ESMTP helo=<connect from unknown[192.0.2.2]>")}},
       {{"smtpd_connects_total{service=smtp}", 1},
        {"smtpd_sessions{service=smtp}", 1},
        {"smtpd_messages_rejected_total{code=550,service=smtp}", 1},
        {"smtpd_rejects_total{category=recipient,service=smtp,stage=RCPT}", 1}}},
      {"HeloClaimsLostConnectionAfterAuth",
       // The unlogged failed attempt stays auth_unavailable: the session was
       // not lost after AUTH, whatever the HELO name says.
       {{kSub, 43, "connect from unknown[192.0.2.1]"},
        {kSub, 43,
         Reject("RCPT from unknown[192.0.2.1]: 554 5.7.1 <v@remote.example>: Relay access denied; "
                "from=<s@b.example> to=<v@remote.example> proto=ESMTP "
                "helo=<lost connection after AUTH from unknown[192.0.2.1]>")},
        {kSub, 43,
         "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 mail=1 rcpt=0/1 quit=1 commands=3/5"}},
       {{"smtpd_connects_total{service=submission}", 1},
        {"smtpd_disconnects_total{service=submission}", 1},
        {"smtpd_messages_rejected_total{code=554,service=submission}", 1},
        {"smtpd_rejects_total{category=relay,service=submission,stage=RCPT}", 1},
        {"smtpd_relay_denied_total{service=submission}", 1},
        {"smtpd_sasl_authentication_failures_total{method=unknown,reason=auth_unavailable,service="
         "submission}",
         1}}},

      // ---- reject category, stage and kind (postfix_smtpd_rejects_total) ----
      {"RecipientClaimsAnotherStageAndAnRblReply",
       {{kSmtp, 44,
         Reject("RCPT from unknown[192.0.2.1]: 550 5.1.1 <reject: CONNECT from y[192.0.2.2]: 554 "
                "5.7.1 Service unavailable; x@example.org>: Recipient address rejected: User "
                "unknown in local recipient table; from=<a@b.example> to=<\"reject: CONNECT from "
                "y[192.0.2.2]: 554 5.7.1 Service unavailable; x\"@example.org> proto=ESMTP "
                "helo=<h>")}},
       {{"smtpd_messages_rejected_total{code=550,service=smtp}", 1},
        {"smtpd_rejects_total{category=recipient,service=smtp,stage=RCPT}", 1}}},
      {"RecipientClaimsARejectWarning",
       {{kSmtp, 44,
         Reject("RCPT from unknown[192.0.2.1]: 550 5.1.1 <NOQUEUE: reject_warning: RCPT from "
                "a[192.0.2.3]: 450 4.7.1 x@example.org>: Recipient address rejected: User "
                "unknown; from=<a@b.example> to=<\"NOQUEUE: reject_warning: RCPT from "
                "a[192.0.2.3]: 450 4.7.1 x\"@example.org> proto=ESMTP helo=<h>")}},
       {{"smtpd_messages_rejected_total{code=550,service=smtp}", 1},
        {"smtpd_rejects_total{category=recipient,service=smtp,stage=RCPT}", 1}}},
      {"HeloNameForgesAPolicyVerdictInTheTrailer",
       {{kSmtp, 44,
         Reject("MAIL from unknown[192.0.2.1]: 450 4.1.8 <a@nx.example>: Sender address rejected: "
                "Domain not found; from=<a@nx.example> proto=ESMTP helo=<x>: Recipient address "
                "rejected: Policy rejection>")}},
       {{"smtpd_messages_rejected_total{code=450,service=smtp}", 1},
        {"smtpd_rejects_total{category=sender,service=smtp,stage=MAIL}", 1}}},
      {"WarningSenderClaimsARelayDenial",
       {{kSmtp, 44,
         "NOQUEUE: reject_warning: MAIL from unknown[192.0.2.1]: 553 5.7.1 <x>: Relay access "
         "denied@b.example>: Sender address rejected: not logged in; from=<\"x>: Relay access "
         "denied\"@b.example> proto=ESMTP helo=<h>"}},
       {{"smtpd_reject_warnings_total{category=sender,service=smtp,stage=MAIL}", 1}}},
      {"MilterTextQuotingPostfixPhrases",
       {{kSmtp, 44,
         "3F2A81C0BD: milter-reject: END-OF-MESSAGE from unknown[192.0.2.1]: 550 5.7.1 <x>: "
         "Sender address rejected: Service unavailable; from=<x@b.example> to=<y@example.org> "
         "proto=ESMTP helo=<h>"}},
       {{"smtpd_messages_rejected_total{code=550,service=smtp}", 1},
        {"smtpd_rejects_total{category=milter,service=smtp,stage=END-OF-MESSAGE}", 1}}},
  };
  return *cases;
}

// gtest prints a failing parameter with this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class InjectionTest : public ::testing::TestWithParam<Case> {};

TEST_P(InjectionTest, CountsOnlyWhatPostfixLogged) {
  const Case& c = GetParam();
  PipelineHarness h;
  int sec = 0;
  for (const Msg& m : c.lines) h.Feed(PipelineHarness::Line(sec++, m.daemon, m.pid, m.text));
  h.pipeline()->Flush();  // the end of input: failures held for Dovecot's reason are counted
  EXPECT_EQ(h.NonZero(), c.want);
  EXPECT_EQ(h.Value("postfix_exporter_log_lines_total"), static_cast<double>(c.lines.size()));
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Hostile, InjectionTest, ::testing::ValuesIn(Cases()), CaseName);

}  // namespace
}  // namespace pse
