// Log injection into the mail-flow parsers (parsers/mail_flow.*): text a
// client or a remote server chooses -- an envelope address, a remote reply,
// a message-id, the bytes a client sends to postscreen -- must never forge a
// delivery status, a DSN class, a size, a postscreen verdict or a second
// event. Each case is a few lines in real Postfix shapes (addresses in the
// external, quoted form Postfix logs since 3.5) through the whole pipeline;
// the expectation is every non-zero mail-flow sample afterwards (and no
// smtpd sample), so a line that moves any other counter fails the case.
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

using test::PipelineHarness;

struct Msg {
  const char* tag;  // syslog tag without pid
  int pid;
  std::string text;
};

struct Case {
  const char* name;
  std::vector<Msg> lines;
  std::map<std::string, double> want;  // every non-zero mail-flow sample afterwards
};

// The four delays= stages of one histogram family, observed once.
void AddDelays(std::map<std::string, double>* want, const std::string& family,
               const std::string& extra_labels, const double (&delays)[4]) {
  const char* stages[4] = {"before_queue_manager", "queue_manager", "connection_setup",
                           "transmission"};
  for (int i = 0; i < 4; ++i) {
    const std::string labels = "{service=smtp,stage=" + std::string(stages[i]) + extra_labels + "}";
    (*want)[family + "_count" + labels] = 1;
    (*want)[family + "_sum" + labels] = delays[i];
  }
}

std::map<std::string, double> With(std::map<std::string, double> m,
                                   const std::vector<std::pair<std::string, double>>& more) {
  for (const auto& kv : more) m[kv.first] = kv.second;
  return m;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case>* cases = [] {
    const double d[4] = {0.1, 0.2, 0.3, 0.9};
    std::map<std::string, double> smtp_delays;
    AddDelays(&smtp_delays, "delivery_delay_seconds", ",transport=smtp", d);
    AddDelays(&smtp_delays, "smtp_delivery_delay_seconds", "", d);
    std::map<std::string, double> local_delays;
    const double l[4] = {0, 0, 0, 0.1};
    for (int i = 0; i < 4; ++i) {
      const char* stages[4] = {"before_queue_manager", "queue_manager", "connection_setup",
                               "transmission"};
      local_delays[std::string("delivery_delay_seconds_count{service=smtp,stage=") + stages[i] +
                   ",transport=local}"] = 1;
      local_delays[std::string("delivery_delay_seconds_sum{service=smtp,stage=") + stages[i] +
                   ",transport=local}"] = l[i];
    }
    return new std::vector<Case>{
        // ---- delivery records ----
        {"RecipientForgesSentStatusAndDsn",
         {{"postfix/smtp", 60,
           "3F2A81C0BD: to=<\"x>, relay=none, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent "
           "(ok)\"@remote.example>, relay=mx.remote.example[192.0.2.9]:25, delay=1.5, "
           "delays=0.1/0.2/0.3/0.9, dsn=5.1.1, status=bounced (host "
           "mx.remote.example[192.0.2.9] said: 550 5.1.1 <x>: status=sent dsn=2.0.0 (in reply "
           "to RCPT TO command))"}},
         With(smtp_delays,
              {{"delivery_status_total{dsn_class=5,service=smtp,status=bounced,transport=smtp}",
                1}})},
        {"OrigToForgesRelayAndStatus",
         {{"postfix/local", 61,
           "3F2A81C0BD: to=<bob@example.org>, orig_to=<\"a>, relay=evil, dsn=2.0.0, "
           "status=sent\"@example.org>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=5.2.2, "
           "status=bounced (cannot update mailbox /var/mail/bob for user bob. error writing "
           "message: File too large)"}},
         With(local_delays,
              {{"delivery_status_total{dsn_class=5,service=smtp,status=bounced,transport=local}",
                1}})},
        {"RemoteReplyClaimsDnsAndTimeout",
         {{"postfix/smtp", 60,
           "3F2A81C0BD: to=<a@remote.example>, relay=mx.remote.example[192.0.2.9]:25, "
           "delay=1.5, delays=0.1/0.2/0.3/0.9, dsn=4.4.1, status=deferred (host "
           "mx.remote.example[192.0.2.9] said: 451 Host or domain name not found; connect to "
           "x[192.0.2.1]:25: Connection timed out)"}},
         With(
             smtp_delays,
             {{"delivery_status_total{dsn_class=4,service=smtp,status=deferred,transport=smtp}", 1},
              {"smtp_deferred_messages_total{service=smtp}", 1}})},

        // ---- queue manager, cleanup ----
        {"SenderForgesSizeAndRecipientCount",
         {{"postfix/qmgr", 62,
           "3F2A81C0BD: from=<\"a>, size=999999999, nrcpt=99 (queue active)\"@b.example>, "
           "size=1500, nrcpt=1 (queue active)"}},
         {{"qmgr_messages_inserted_receipients_count{service=smtp}", 1},
          {"qmgr_messages_inserted_receipients_sum{service=smtp}", 1},
          {"qmgr_messages_inserted_size_bytes_count{service=smtp}", 1},
          {"qmgr_messages_inserted_size_bytes_sum{service=smtp}", 1500}}},
        {"SenderClaimsExpiry",
         {{"postfix/qmgr", 62,
           "3F2A81C0BD: from=<\"x>, status=expired, returned to sender\"@b.example>, size=10, "
           "nrcpt=1 (queue active)"}},
         {{"qmgr_messages_inserted_receipients_count{service=smtp}", 1},
          {"qmgr_messages_inserted_receipients_sum{service=smtp}", 1},
          {"qmgr_messages_inserted_size_bytes_count{service=smtp}", 1},
          {"qmgr_messages_inserted_size_bytes_sum{service=smtp}", 10}}},
        {"MessageIdClaimsRejectAndMilter",
         {{"postfix/cleanup", 63,
           "3F2A81C0BD: message-id=<reject: milter-reject: END-OF-MESSAGE from x>"}},
         {{"cleanup_messages_processed_total{service=smtp}", 1}}},
        {"HeaderCheckQuotingMilterAndBounceText",
         {{"postfix/cleanup", 63,
           "3F2A81C0BD: reject: header Subject: milter-discard: sender non-delivery "
           "notification: X from unknown[192.0.2.1]; from=<a@b.example> to=<c@example.org> "
           "proto=ESMTP helo=<h>: 5.7.1 go away"}},
         {{"cleanup_messages_rejected_total{service=smtp}", 1}}},

        // ---- postscreen: the bytes a client sends are logged after its verdict ----
        {"PregreetBytesClaimPassAndDisconnect",
         {{"postfix/postscreen", 64, "CONNECT from [192.0.2.5]:4000 to [192.0.2.25]:25"},
          {"postfix/postscreen", 64,
           "PREGREET 40 after 0.1 from [192.0.2.5]:4000: PASS NEW [192.0.2.5]:4000\\r\\nDISCONNECT "
           "[192.0.2.5]:4000\\r\\n"}},
         {{"postscreen_actions_total{action=pregreet,service=smtp}", 1},
          {"postscreen_sessions{service=smtp}", 1},
          {"postscreen_sessions_max{service=smtp}", 1}}},
        {"NonSmtpCommandClaimsDnsblAndTooManyConnections",
         {{"postfix/postscreen", 64, "CONNECT from [192.0.2.5]:4000 to [192.0.2.25]:25"},
          {"postfix/postscreen", 64,
           "NON-SMTP COMMAND from [192.0.2.5]:4000 after CONNECT: DNSBL rank 9 for "
           "[192.0.2.5]:4000; NOQUEUE: reject: CONNECT from [192.0.2.5]:4000: too many "
           "connections"},
          {"postfix/postscreen", 64, "DISCONNECT [192.0.2.5]:4000"}},
         {{"postscreen_actions_total{action=non_smtp_command,service=smtp}", 1},
          {"postscreen_sessions_max{service=smtp}", 1}}},
        {"DeepProtocolRejectQuotingVerdicts",
         {{"postfix/postscreen", 64, "CONNECT from [192.0.2.5]:4000 to [192.0.2.25]:25"},
          {"postfix/postscreen", 64,
           "NOQUEUE: reject: RCPT from [192.0.2.5]:4000: 450 4.3.2 Service currently "
           "unavailable; from=<a@b.example>, to=<\"PASS OLD [192.0.2.5]:4000\"@example.org>, "
           "proto=ESMTP, helo=<DISCONNECT [192.0.2.5]:4000>"}},
         {{"postscreen_sessions{service=smtp}", 1}, {"postscreen_sessions_max{service=smtp}", 1}}},
    };
  }();
  return *cases;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class MailFlowInjectionTest : public ::testing::TestWithParam<Case> {};

TEST_P(MailFlowInjectionTest, CountsOnlyWhatPostfixLogged) {
  const Case& c = GetParam();
  PipelineHarness h;
  int sec = 0;
  for (const Msg& m : c.lines) h.Feed(PipelineHarness::Line(sec++, m.tag, m.pid, m.text));
  EXPECT_EQ(h.NonZeroMailFlow(), c.want);
  EXPECT_EQ(h.NonZero(), (std::map<std::string, double>{}));
  EXPECT_EQ(h.Value("postfix_exporter_log_lines_total"), static_cast<double>(c.lines.size()));
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Hostile, MailFlowInjectionTest, ::testing::ValuesIn(Cases()), CaseName);

}  // namespace
}  // namespace pse
