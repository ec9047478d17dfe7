// SessionState driven by events, without text: each test hands it the
// PostfixEvents a parser would produce and reads the metric values back.
// (state_test.cc covers the same rules end to end from log lines.)
#include <map>
#include <memory>
#include <string>

#include "exporter/metrics.h"
#include "exporter/service_table.h"
#include "exporter/state.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "testing/metric_values.h"

namespace pse {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000LL * kSecond;

class StateEventsTest : public ::testing::Test {
 protected:
  StateEventsTest() { Reset({}); }

  void Reset(const SessionState::Options& options) {
    state_.reset();
    metrics_.reset();
    registry_ = std::make_shared<prometheus::Registry>();
    table_ = std::make_unique<ServiceTable>();
    metrics_ = std::make_unique<Metrics>(registry_.get(), BuildInfo{"t", "t"});
    state_ = std::make_unique<SessionState>(options, table_.get(), metrics_.get());
    state_->AdvanceTime(kT0);
  }

  void At(int sec) { state_->AdvanceTime(kT0 + sec * kSecond); }
  void Send(const std::string& syslog_name, int64_t pid, const PostfixEvent& ev) {
    state_->Handle(table_->Resolve(syslog_name), pid, ev);
  }
  static PostfixEvent Ev(EventType type) {
    PostfixEvent e;
    e.type = type;
    return e;
  }
  static PostfixEvent Disconnect(uint32_t success, uint32_t total) {
    PostfixEvent e = Ev(EventType::kDisconnect);
    e.has_auth_stats = true;
    e.auth_success = success;
    e.auth_total = total;
    return e;
  }
  static PostfixEvent Failed(SaslMethod m, FailureReason r) {
    PostfixEvent e = Ev(EventType::kSaslFailed);
    e.method = m;
    e.reason = r;
    return e;
  }
  double Value(const std::string& name, const std::map<std::string, std::string>& labels) {
    return test::MetricValue(*registry_, name, labels);
  }
  double Svc(const std::string& family, const std::string& service) {
    return Value(family, {{"service", service}});
  }
  // Failures counted; 0 when the series does not exist (per-method series
  // appear on first use), -1 never.
  double Failures(const std::string& service, const std::string& method,
                  const std::string& reason) {
    double v = Value("postfix_smtpd_sasl_authentication_failures_total",
                     {{"service", service}, {"method", method}, {"reason", reason}});
    return v < 0 ? 0 : v;
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ServiceTable> table_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<SessionState> state_;
};

const char kSub[] = "postfix/submission";

TEST_F(StateEventsTest, ConnectOpensAndDisconnectClosesWithSuccesses) {
  Send(kSub, 10, Ev(EventType::kConnect));
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 1);
  Send(kSub, 10, Disconnect(1, 1));
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sasl_authentication_successes_total", "submission"), 1);
  EXPECT_EQ(state_->tracked(), 0u);
}

TEST_F(StateEventsTest, UnloggedFailuresAreDerivedOnceFromAuthStats) {
  Send(kSub, 10, Ev(EventType::kConnect));
  Send(kSub, 10, Failed(SaslMethod::kLogin, FailureReason::kBadCredentials));
  Send(kSub, 10, Disconnect(0, 3));
  EXPECT_EQ(Failures("submission", "LOGIN", "bad_credentials"), 1);
  // Two more attempts than were logged: Postfix refused them itself.
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 2);
}

TEST_F(StateEventsTest, LostConnectionAfterAuthMakesDerivedFailuresAborted) {
  Send(kSub, 10, Ev(EventType::kConnect));
  PostfixEvent lost = Ev(EventType::kSessionAbort);
  lost.abort_kind = AbortKind::kLostConnection;
  lost.stage = SmtpStage::kAuth;
  Send(kSub, 10, lost);
  Send(kSub, 10, Disconnect(0, 1));
  EXPECT_EQ(Failures("submission", "unknown", "aborted"), 1);
  EXPECT_EQ(Value("postfix_smtpd_connections_lost_total",
                  {{"service", "submission"}, {"after_stage", "AUTH"}}),
            1);
}

TEST_F(StateEventsTest, DisconnectWithoutSeenConnectDerivesNothing) {
  Send(kSub, 10, Disconnect(0, 2));
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_disconnects_total", "submission"), 1);
}

TEST_F(StateEventsTest, BackendNoteRefinesTheNextFailure) {
  Send(kSub, 10, Ev(EventType::kConnect));
  PostfixEvent note = Ev(EventType::kSaslBackendNote);
  note.reason = FailureReason::kUnknownAccount;
  Send(kSub, 10, note);
  Send(kSub, 10, Failed(SaslMethod::kPlain, FailureReason::kUnspecified));
  EXPECT_EQ(Failures("submission", "PLAIN", "unknown_account"), 1);
  EXPECT_EQ(Failures("submission", "PLAIN", "unspecified"), 0);
}

TEST_F(StateEventsTest, BackendConnectErrorAndFatalCountOneBackendError) {
  Send(kSub, 10, Ev(EventType::kConnect));
  PostfixEvent note = Ev(EventType::kSaslBackendNote);
  note.backend_connect_error = true;
  note.reason = FailureReason::kBackendUnavailable;
  Send(kSub, 10, note);
  Send(kSub, 10, Ev(EventType::kFatalNoSaslMechanisms));
  EXPECT_EQ(Svc("postfix_smtpd_sasl_backend_errors_total", "submission"), 1);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
}

TEST_F(StateEventsTest, PidUnderAnotherSyslogNameIsANewProcess) {
  Send(kSub, 10, Ev(EventType::kConnect));
  Send("postfix/smtps", 10, Ev(EventType::kConnect));
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "smtps"), 1);
}

TEST_F(StateEventsTest, TwoNamesFoldedIntoOtherAreStillTwoProcesses) {
  // Both names are implausible labels, so both count under "other"; a pid
  // moving from one to the other is still a reused pid.
  Send("postfix/a b", 10, Ev(EventType::kConnect));
  Send("postfix/c d", 10, Ev(EventType::kConnect));
  EXPECT_EQ(Svc("postfix_smtpd_connects_total", "other"), 2);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "other"), 1);
}

TEST_F(StateEventsTest, MasterChildExitClosesOnlyItsOwnInstancesProcess) {
  Send("postfix-out/submission", 10, Ev(EventType::kConnect));
  PostfixEvent exit = Ev(EventType::kMasterChildExit);
  exit.number = 10;
  Send("postfix", 1, exit);  // another instance's master
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "postfix-out/submission"), 1);
  Send("postfix-out", 1, exit);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "postfix-out/submission"), 0);
}

TEST_F(StateEventsTest, PeakHoldsForTheWindowThenDecays) {
  SessionState::Options o;
  o.peak_window = absl::Seconds(60);
  Reset(o);
  for (int pid = 1; pid <= 5; ++pid) Send(kSub, pid, Ev(EventType::kConnect));
  for (int pid = 1; pid <= 5; ++pid) Send(kSub, pid, Disconnect(1, 1));
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 5);
  At(30);
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 5);
  At(62);
  EXPECT_EQ(Svc("postfix_smtpd_sessions_max", "submission"), 0);
}

TEST_F(StateEventsTest, IdleProcessIsEvictedAndItsSessionClosed) {
  SessionState::Options o;
  o.idle_timeout = absl::Seconds(100);
  Reset(o);
  Send(kSub, 10, Ev(EventType::kConnect));
  At(200);
  EXPECT_EQ(state_->tracked(), 0u);
  EXPECT_EQ(Svc("postfix_smtpd_sessions", "submission"), 0);
  EXPECT_EQ(Value("postfix_exporter_session_evictions_total", {{"reason", "idle_timeout"}}), 1);
}

TEST_F(StateEventsTest, CapacityEvictsTheLeastRecentlyActive) {
  SessionState::Options o;
  o.max_tracked_processes = 2;
  Reset(o);
  Send(kSub, 1, Ev(EventType::kConnect));
  Send(kSub, 2, Ev(EventType::kConnect));
  Send(kSub, 1, Ev(EventType::kSessionAbort));  // pid 1 active again
  Send(kSub, 3, Ev(EventType::kConnect));       // evicts pid 2
  EXPECT_EQ(state_->tracked(), 2u);
  EXPECT_EQ(Value("postfix_exporter_session_evictions_total", {{"reason", "capacity"}}), 1);
  // pid 2's disconnect no longer derives failures: its history is gone.
  Send(kSub, 2, Disconnect(0, 1));
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
}

TEST_F(StateEventsTest, RejectAndRelayDeniedCountWithoutASession) {
  PostfixEvent rej = Ev(EventType::kReject);
  rej.reply_code = 554;
  rej.relay_denied = true;
  Send("postfix", 7, rej);
  EXPECT_EQ(Svc("postfix_smtpd_relay_denied_total", "smtp"), 1);
  EXPECT_EQ(Value("postfix_smtpd_messages_rejected_total", {{"service", "smtp"}, {"code", "554"}}),
            1);
  EXPECT_EQ(state_->tracked(), 0u);
}

TEST_F(StateEventsTest, RejectsByStageAndCategoryWarningsApart) {
  PostfixEvent rej = Ev(EventType::kReject);
  rej.reply_code = 554;
  rej.relay_denied = true;
  rej.reject_stage = RejectStage::kRcpt;
  rej.reject_category = RejectCategory::kRelay;
  Send("postfix", 7, rej);
  PostfixEvent warn = rej;
  warn.type = EventType::kRejectWarning;
  warn.relay_denied = false;
  warn.reject_category = RejectCategory::kRecipient;
  Send("postfix", 7, warn);
  PostfixEvent bare = Ev(EventType::kReject);  // "bare <LF> received": no code
  bare.reject_stage = RejectStage::kData;
  Send("postfix", 7, bare);
  const auto labels = [](const char* stage, const char* category) {
    return std::map<std::string, std::string>{
        {"service", "smtp"}, {"stage", stage}, {"category", category}};
  };
  EXPECT_EQ(Value("postfix_smtpd_rejects_total", labels("RCPT", "relay")), 1);
  EXPECT_EQ(Value("postfix_smtpd_rejects_total", labels("DATA", "other")), 1);
  EXPECT_EQ(Value("postfix_smtpd_reject_warnings_total", labels("RCPT", "recipient")), 1);
  EXPECT_EQ(Value("postfix_smtpd_rejects_total", labels("RCPT", "recipient")), -1);  // none
  // The older families keep their meaning: warnings and code-less rejects
  // are not in them.
  EXPECT_EQ(Svc("postfix_smtpd_relay_denied_total", "smtp"), 1);
  EXPECT_EQ(Value("postfix_smtpd_messages_rejected_total", {{"service", "smtp"}, {"code", "554"}}),
            1);
}

TEST_F(StateEventsTest, WithoutAuthStatsAQueuedMessageWithSaslMethodIsOneSuccess) {
  // Postfix 2.x: "disconnect from" carries no auth= statistics.
  PostfixEvent queued = Ev(EventType::kMessageQueued);
  queued.has_sasl_method = true;
  queued.method = SaslMethod::kPlain;
  Send(kSub, 10, Ev(EventType::kConnect));
  Send(kSub, 10, queued);
  Send(kSub, 10, queued);  // a second message in the same session
  Send(kSub, 10, Ev(EventType::kDisconnect));
  Send(kSub, 11, Ev(EventType::kConnect));
  Send(kSub, 11, Ev(EventType::kMessageQueued));  // no sasl_method=: not a login
  Send(kSub, 11, Ev(EventType::kDisconnect));
  EXPECT_EQ(Svc("postfix_smtpd_sasl_authentication_successes_total", "submission"), 1);
  EXPECT_EQ(Value("postfix_smtpd_messages_processed_total",
                  {{"service", "submission"}, {"sasl_method", "PLAIN"}}),
            2);
}

TEST_F(StateEventsTest, AuthStatsWinOverTheQueuedMessage) {
  PostfixEvent queued = Ev(EventType::kMessageQueued);
  queued.has_sasl_method = true;
  Send(kSub, 10, Ev(EventType::kConnect));
  Send(kSub, 10, queued);
  Send(kSub, 10, Disconnect(1, 1));
  EXPECT_EQ(Svc("postfix_smtpd_sasl_authentication_successes_total", "submission"), 1);
}

TEST_F(StateEventsTest, ClientLimitWarningsCountByLimit) {
  PostfixEvent limit = Ev(EventType::kClientLimitExceeded);
  limit.client_limit = ClientLimit::kConnectionCount;
  Send(kSub, 10, limit);
  Send(kSub, 11, limit);
  EXPECT_EQ(Value("postfix_smtpd_client_limit_exceeded_total",
                  {{"service", "submission"}, {"limit", "connection_count"}}),
            2);
  EXPECT_EQ(Value("postfix_smtpd_client_limit_exceeded_total",
                  {{"service", "submission"}, {"limit", "auth_rate"}}),
            0);
}

TEST_F(StateEventsTest, AuthRefusedAfterTheAuthRateLimitIsRateLimited) {
  PostfixEvent limit = Ev(EventType::kClientLimitExceeded);
  limit.client_limit = ClientLimit::kAuthRate;
  Send(kSub, 10, Ev(EventType::kConnect));
  Send(kSub, 10, limit);
  Send(kSub, 10, Disconnect(0, 1));
  EXPECT_EQ(Failures("submission", "unknown", "rate_limited"), 1);
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 0);
  // Another session of the same client, without the warning: not rate limited.
  Send(kSub, 11, Ev(EventType::kConnect));
  Send(kSub, 11, Disconnect(0, 1));
  EXPECT_EQ(Failures("submission", "unknown", "auth_unavailable"), 1);
}

TEST_F(StateEventsTest, OutboundSaslFailuresCountPerService) {
  Send("postfix", 20, Ev(EventType::kSmtpSaslFailure));
  Send("postfix", 21, Ev(EventType::kSmtpSaslFailure));
  EXPECT_EQ(Svc("postfix_smtp_sasl_authentication_failures_total", "smtp"), 2);
  EXPECT_EQ(state_->tracked(), 0u);
}

TEST_F(StateEventsTest, ANewServicePreCreatesOnlyItsBudget) {
  Send(kSub, 10, Ev(EventType::kConnect));
  int series = 0;
  for (const auto& fam : registry_->Collect()) {
    for (const auto& m : fam.metric) {
      for (const auto& l : m.label) {
        if (l.name == "service" && l.value == "submission") ++series;
      }
    }
  }
  EXPECT_EQ(series, Metrics::kPreCreatedPerService);
  EXPECT_LE(series, 40);
  // Every reason exists from the start, for alerts on rates.
  EXPECT_EQ(Failures("submission", "unknown", "backend_unavailable"), 0);
  // Per-method series appear on first use only.
  EXPECT_EQ(Value("postfix_smtpd_sasl_authentication_failures_total",
                  {{"service", "submission"}, {"method", "PLAIN"}, {"reason", "bad_credentials"}}),
            -1);
}

}  // namespace
}  // namespace pse
