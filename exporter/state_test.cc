// SessionState tests: each feeds real-format lines through the pipeline and
// reads the resulting metric values back from the registry.
#include "exporter/state.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void Init(SessionState::Options so = {}) { h_ = std::make_unique<test::PipelineHarness>(so); }
  void SetUp() override { Init(); }

  // `sec` seconds after 12:00:00, syslog tag, pid, message.
  void Line(int sec, const std::string& name, int pid, const std::string& msg) {
    h_->Feed(test::PipelineHarness::Line(sec, name, pid, msg));
  }
  // Value of the sample with exactly these labels, or -1 if absent.
  double Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return h_->Value(name, labels);
  }
  // Failures counted; 0 when the series does not exist (per-method series
  // appear on first use).
  double Failures(const std::string& service, const std::string& method,
                  const std::string& reason) {
    double v = Value("postfix_smtpd_sasl_authentication_failures_total",
                     {{"service", service}, {"method", method}, {"reason", reason}});
    return v < 0 ? 0 : v;
  }
  double Svc(const std::string& name, const std::string& service) {
    return Value(name, {{"service", service}});
  }
  Pipeline* pipeline() { return h_->pipeline(); }

  std::unique_ptr<test::PipelineHarness> h_;
};

const char kSub[] = "postfix/submission/smtpd";

TEST_F(StateTest, ConnectDisconnectCountsSessionsAndSuccesses) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 1);
  Line(1, kSub, 10,
       "disconnect from a[192.0.2.1] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 "
       "commands=8");
  EXPECT_EQ(Svc("postfix_smtpd_connects_total", "submission"), 1);
  EXPECT_EQ(Svc("postfix_smtpd_disconnects_total", "submission"), 1);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sasl_authentication_successes_total", "submission"), 1);
  // Every reason of the seen service exists at 0 (with method "unknown").
  EXPECT_EQ(
      Value("postfix_smtpd_sasl_authentication_failures_total",
            {{"service", "submission"}, {"method", "unknown"}, {"reason", "bad_credentials"}}),
      0);
  EXPECT_EQ(
      Value("postfix_smtpd_sasl_authentication_failures_total",
            {{"service", "submission"}, {"method", "unknown"}, {"reason", "auth_unavailable"}}),
      0);
}

TEST_F(StateTest, LoggedFailureIsNotCountedAgainFromAuthStats) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "warning: a[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
  Line(2, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3");
  EXPECT_EQ(Failures("submission", "LOGIN", "bad_credentials"), 1);
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
  EXPECT_EQ(Failures("submission", "unknown", "aborted"), 0);
}

TEST_F(StateTest, UnloggedFailuresAreAuthUnavailable) {
  // AUTH before STARTTLS with smtpd_tls_auth_only: Postfix logs no warning.
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=0/2 quit=1 commands=2/4");
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 2);
}

TEST_F(StateTest, UnloggedFailureAfterLostConnectionIsAborted) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "lost connection after AUTH from a[192.0.2.1]");
  Line(1, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=0/1 commands=1/2");
  EXPECT_EQ(Failures("submission", "unknown", "aborted"), 1);
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
  EXPECT_EQ(Value("postfix_smtpd_connections_lost_total",
                  {{"service", "submission"}, {"after_stage", "AUTH"}}),
            1);
}

TEST_F(StateTest, TooManyErrorsAfterAuthIsAuthUnavailable) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "too many errors after AUTH from a[192.0.2.1]");
  Line(1, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=0/3 commands=1/4");
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 3);
}

TEST_F(StateTest, AbortedLineCountsOnce) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "warning: a[192.0.2.1]: SASL PLAIN authentication aborted");
  Line(1, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3");
  EXPECT_EQ(Failures("submission", "PLAIN", "aborted"), 1);
  EXPECT_EQ(Failures("submission", "unknown", "aborted"), 0);
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
}

TEST_F(StateTest, CyrusCompanionRefinesReason) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "warning: SASL authentication failure: user not found");
  Line(1, kSub, 10,
       "warning: a[192.0.2.1]: SASL PLAIN authentication failed: authentication failure");
  EXPECT_EQ(Failures("submission", "PLAIN", "unknown_account"), 1);
  EXPECT_EQ(Failures("submission", "PLAIN", "bad_credentials"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sasl_backend_errors_total", "submission"), 0);
}

TEST_F(StateTest, SaslauthdDownIsOneBackendErrorAndOneFailurePerAttempt) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  for (int i = 0; i < 2; ++i) {
    Line(1, kSub, 10,
         "warning: SASL authentication failure: cannot connect to saslauthd server: Connection "
         "refused");
    Line(1, kSub, 10, "warning: a[192.0.2.1]: SASL LOGIN authentication failed: generic failure");
  }
  Line(2, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=0/2 quit=1 commands=2/4");
  EXPECT_EQ(Failures("submission", "LOGIN", "backend_unavailable"), 2);
  EXPECT_EQ(Svc("postfix_smtpd_sasl_backend_errors_total", "submission"), 2);
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
}

TEST_F(StateTest, DovecotSocketWarningAndFatalAreOneBackendError) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10,
       "warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: Connection refused");
  Line(1, kSub, 10, "fatal: no SASL authentication mechanisms");
  EXPECT_EQ(Svc("postfix_smtpd_sasl_backend_errors_total", "submission"), 1);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);  // fatal ends the session
  // A fatal with no warning before it is one error too.
  Line(2, kSub, 11, "connect from a[192.0.2.1]");
  Line(3, kSub, 11, "fatal: no SASL authentication mechanisms");
  EXPECT_EQ(Svc("postfix_smtpd_sasl_backend_errors_total", "submission"), 2);
}

TEST_F(StateTest, RefusedDovecotSocketRefinesUnavailableReason) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10,
       "warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: Connection refused");
  Line(1, kSub, 10,
       "warning: a[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
       "sasl_username=u");
  EXPECT_EQ(Failures("submission", "PLAIN", "backend_unavailable"), 1);
  EXPECT_EQ(Failures("submission", "PLAIN", "unspecified"), 0);
}

TEST_F(StateTest, StaleCompanionDoesNotRefineALaterAttempt) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "warning: SASL authentication failure: user not found");
  Line(1, kSub, 10, "lost connection after AUTH from a[192.0.2.1]");
  Line(2, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=0/1 commands=1/2");
  Line(3, kSub, 10, "connect from a[192.0.2.1]");
  Line(4, kSub, 10,
       "warning: a[192.0.2.1]: SASL PLAIN authentication failed: authentication failure");
  EXPECT_EQ(Failures("submission", "PLAIN", "bad_credentials"), 1);
  EXPECT_EQ(Failures("submission", "PLAIN", "unknown_account"), 0);
}

TEST_F(StateTest, PidReuseClosesTheOldSession) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "connect from b[192.0.2.2]");  // no disconnect logged for the first
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 1);
  EXPECT_EQ(Svc("postfix_smtpd_connects_total", "submission"), 2);
}

TEST_F(StateTest, PidReusedByAnotherService) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, "postfix/smtps/smtpd", 10, "connect from b[192.0.2.2]");
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "smtps"), 1);
}

TEST_F(StateTest, FatalWithoutDisconnectClosesSession) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "fatal: open lock file /var/lib/postfix/master.lock: x");
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_disconnects_total", "submission"), 0);
}

TEST_F(StateTest, KilledSmtpdClosesSessionOfSameInstanceOnly) {
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(0, "postfix-out/smtpd", 11, "connect from a[192.0.2.1]");
  Line(1, "postfix/master", 1,
       "warning: process /usr/lib/postfix/sbin/smtpd pid 10 killed by signal 9");
  Line(1, "postfix/master", 1,
       "warning: process /usr/lib/postfix/sbin/smtpd pid 11 killed by signal 9");
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "postfix-out"), 1);  // another instance's master
  Line(2, "postfix-out/master", 2,
       "warning: process /usr/lib/postfix/sbin/smtpd pid 11 exit status 1");
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "postfix-out"), 0);
}

TEST_F(StateTest, InterleavedServicesAndPeaks) {
  // Gmail opens 5 sessions at once on submission while smtp has 2.
  for (int i = 0; i < 5; ++i)
    Line(0, kSub, 100 + i, "connect from gmail[209.85.0." + std::to_string(i) + "]");
  Line(0, "postfix/smtpd", 200, "connect from mx[198.51.100.1]");
  Line(0, "postfix/smtpd", 201, "connect from mx[198.51.100.2]");
  for (int i = 0; i < 5; ++i) {
    Line(1, kSub, 100 + i,
         "disconnect from gmail[209.85.0." + std::to_string(i) +
             "] ehlo=1 auth=1 quit=1 commands=3");
  }
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 5);
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "smtp"), 2);
  // Still inside the 60 s window: the peak stays, however often it is read.
  Line(59, kSub, 300, "connect from x[192.0.2.9]");
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 5);
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 5);
  // 61 s after the burst ended only the one open session remains.
  Line(62, kSub, 300, "disconnect from x[192.0.2.9] ehlo=1 quit=1 commands=2");
  Line(63, "postfix/qmgr", 5, "3F2A81C0BD: removed");
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 1);
  Line(130, "postfix/qmgr", 5, "3F2A81C0BD: removed");
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "smtp"), 2);  // still open
}

TEST_F(StateTest, IdleTimeoutClosesLeakedSessions) {
  SessionState::Options o;
  o.idle_timeout = absl::Minutes(10);
  Init(o);
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(599, "postfix/qmgr", 5, "x: removed");
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 1);
  Line(700, "postfix/qmgr", 5, "x: removed");
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Value("postfix_exporter_session_evictions_total", {{"reason", "idle_timeout"}}), 1);
}

TEST_F(StateTest, CapacityBoundsTrackedProcesses) {
  SessionState::Options o;
  o.max_tracked_processes = 100;
  Init(o);
  for (int i = 0; i < 1000; ++i) Line(0, kSub, 1000 + i, "connect from a[192.0.2.1]");
  EXPECT_EQ(pipeline()->state().tracked(), 100u);
  EXPECT_EQ(Value("postfix_exporter_sessions_tracked"), 100);
  EXPECT_EQ(Value("postfix_exporter_session_evictions_total", {{"reason", "capacity"}}), 900);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 100);
  EXPECT_EQ(Svc("postfix_smtpd_connects_total", "submission"), 1000);
}

TEST_F(StateTest, EvictedSessionDoesNotCountLoggedFailuresTwice) {
  SessionState::Options o;
  o.max_tracked_processes = 16;
  Init(o);
  Line(0, kSub, 10, "connect from a[192.0.2.1]");
  Line(1, kSub, 10, "warning: a[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
  for (int i = 0; i < 16; ++i)
    Line(2, kSub, 100 + i, "connect from b[192.0.2.2]");  // evicts pid 10
  EXPECT_EQ(Value("postfix_exporter_session_evictions_total", {{"reason", "capacity"}}), 1);
  Line(3, kSub, 10, "disconnect from a[192.0.2.1] ehlo=1 auth=1/2 quit=1 commands=3/4");
  EXPECT_EQ(Failures("submission", "LOGIN", "bad_credentials"), 1);
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sasl_authentication_successes_total", "submission"), 1);
}

TEST_F(StateTest, RejectsRelayAndQueued) {
  const char kSmtp[] = "postfix/smtpd";
  Line(0, kSmtp, 20,
       "NOQUEUE: reject: RCPT from u[192.0.2.5]: 554 5.7.1 <x@example.org>: Relay access denied; "
       "from=<a@b> to=<x@example.org> proto=ESMTP helo=<h>");
  Line(0, kSmtp, 20,
       "NOQUEUE: reject: RCPT from u[192.0.2.5]: 550 5.1.1 <n@example.net>: Recipient address "
       "rejected: "
       "User unknown; from=<a@b> to=<n@example.net> proto=ESMTP helo=<h>");
  Line(0, kSub, 21, "3F2A81C0BD: client=u[192.0.2.6], sasl_method=PLAIN, sasl_username=bob");
  Line(0, kSmtp, 22, "3F2A81C0BE: client=u[192.0.2.7]");
  EXPECT_EQ(Svc("postfix_smtpd_relay_denied_total", "smtp"), 1);
  EXPECT_EQ(Value("postfix_smtpd_messages_rejected_total", {{"service", "smtp"}, {"code", "554"}}),
            1);
  EXPECT_EQ(Value("postfix_smtpd_messages_rejected_total", {{"service", "smtp"}, {"code", "550"}}),
            1);
  EXPECT_EQ(Value("postfix_smtpd_messages_processed_total",
                  {{"service", "submission"}, {"sasl_method", "PLAIN"}}),
            1);
  EXPECT_EQ(Value("postfix_smtpd_messages_processed_total",
                  {{"service", "smtp"}, {"sasl_method", "none"}}),
            1);
}

TEST_F(StateTest, AnvilMasterAndSelfMetrics) {
  Line(0, "postfix/anvil", 3,
       "statistics: max connection count 7 for (smtp:192.0.2.1) at Jul  5 12:00:00");
  Line(0, "postfix/master", 1,
       "warning: service \"submission\" (587) has reached its process limit \"4\": "
       "new clients may experience noticeable delays");
  Line(0, kSub, 9, "an smtpd line from the future");
  pipeline()->OnLine("not a log line");
  pipeline()->OnLine("Jul  5 12:00:05 mx dovecot[7]: auth: ok");
  EXPECT_EQ(Value("postfix_anvil_connection_count_max"), 7);
  EXPECT_EQ(Value("postfix_master_process_limit_reached_total", {{"service", "submission"}}), 1);
  EXPECT_EQ(Svc("postfix_exporter_smtpd_lines_unrecognized_total", "submission"), 1);
  EXPECT_EQ(Value("postfix_exporter_log_lines_total"), 5);
  EXPECT_EQ(Value("postfix_exporter_log_lines_malformed_total"), 1);
  EXPECT_EQ(Value("postfix_exporter_log_last_timestamp_seconds"),
            1720180805);  // 2024-07-05 12:00:05Z
}

}  // namespace
}  // namespace pse
