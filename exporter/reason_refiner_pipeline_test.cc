// The refiner in the pipeline: mixed Postfix and Dovecot log lines in, the
// failure counters out, each failure counted exactly once.
#include <algorithm>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

using test::PipelineHarness;

// Options under which failures wait for Dovecot even before its first
// line (these tests are about the order of lines, not about the gate).
Pipeline::Options DovecotHeard() {
  Pipeline::Options po = PipelineHarness::WithState({});
  po.refiner.engaged_for = absl::InfiniteDuration();
  return po;
}

std::string Smtpd(int sec, int pid, const std::string& msg) {
  return PipelineHarness::Line(sec, "postfix/submission/smtpd", pid, msg);
}
std::string Failed(int sec, int pid, const std::string& addr, const std::string& user) {
  std::string msg = "warning: h[" + addr + "]: SASL PLAIN authentication failed: ";
  msg += user.empty() ? "" : "(reason unavailable), sasl_username=" + user;
  return Smtpd(sec, pid, msg);
}

double Failures(PipelineHarness& h, const std::string& reason,
                const std::string& method = "PLAIN") {
  // A series not made yet (-1) has counted nothing.
  return std::max(0.0,
                  h.Value("postfix_smtpd_sasl_authentication_failures_total",
                          {{"service", "submission"}, {"method", method}, {"reason", reason}}));
}

// Dovecot 2.3 and 2.4 forms, through syslog and from its own log file
// (tag "auth", "auth-worker(N)"), refine Postfix's unspecified failures.
TEST(ReasonRefinerPipeline, DovecotFormsRefine) {
  PipelineHarness h;
  h.Feed(Smtpd(0, 1, "connect from h[192.0.2.1]"));
  h.Feed(PipelineHarness::Line(0, "dovecot", 50,
                               "auth: passwd-file(alice,192.0.2.1): Password mismatch"));
  h.Feed(Failed(2, 1, "192.0.2.1", "alice"));
  h.Feed("Jul  5 12:00:02 auth: Info: passwd-file(bob,192.0.2.1,<Hq3kZ2kS>): unknown user");
  h.Feed(Failed(4, 1, "192.0.2.1", "bob"));
  h.Feed(
      "Jul  5 12:00:05 mx dovecot: auth-worker(77): pam(carol,192.0.2.1): pam_authenticate() "
      "failed: Authentication failure (password mismatch?)");
  // Postfix before 3.9: no user name, an empty reason.
  h.Feed(Failed(6, 1, "192.0.2.1", ""));
  h.Feed("Jul  5 12:00:06 auth-worker(78): Info: sql(dave,192.0.2.1,<x>): user disabled");
  h.Feed(Failed(7, 1, "192.0.2.1", ""));
  h.Feed(Smtpd(8, 1, "disconnect from h[192.0.2.1] ehlo=1 auth=0/4 quit=1 commands=2/6"));
  EXPECT_EQ(Failures(h, "bad_credentials"), 2);
  EXPECT_EQ(Failures(h, "unknown_account"), 2);
  EXPECT_EQ(Failures(h, "unspecified"), 0);
  // The four were logged: the disconnect derives none.
  EXPECT_EQ(Failures(h, "auth_unavailable", "unknown"), 0);
  EXPECT_EQ(h.Value("postfix_smtpd_sasl_failures_refined_total", {{"reason", "bad_credentials"}}),
            2);
  EXPECT_EQ(h.Value("postfix_exporter_dovecot_auth_failures_total", {{"outcome", "matched"}}), 4);
}

// Postfix's line first (another source, or interleaving): held, then refined
// when Dovecot's arrives; never counted before.
TEST(ReasonRefinerPipeline, PostfixFirstWaitsInLogTime) {
  PipelineHarness h(DovecotHeard());
  h.Feed(Failed(0, 1, "192.0.2.1", "alice"));
  h.Feed(Failed(0, 2, "192.0.2.2", "bob"));
  EXPECT_EQ(Failures(h, "unspecified"), 0);
  EXPECT_EQ(h.Value("postfix_exporter_sasl_failures_held"), 2);
  h.Feed(
      PipelineHarness::Line(1, "dovecot", 50, "auth: passwd-file(alice,192.0.2.1): unknown user"));
  EXPECT_EQ(Failures(h, "unknown_account"), 1);
  // bob's verdict never comes: unspecified once log time passes the wait.
  h.Feed(PipelineHarness::Line(3, "cron", 5, "x"));
  EXPECT_EQ(Failures(h, "unspecified"), 0);
  h.Feed(PipelineHarness::Line(4, "cron", 5, "x"));
  EXPECT_EQ(Failures(h, "unspecified"), 1);
  EXPECT_EQ(h.Value("postfix_exporter_sasl_failures_held"), 0);
}

// Only "unspecified" waits: a reason Postfix (or a Cyrus companion) gave is
// counted at once, and a Dovecot verdict does not change it.
TEST(ReasonRefinerPipeline, OtherReasonsAreNeverHeld) {
  PipelineHarness h;
  h.Feed(PipelineHarness::Line(0, "dovecot", 50, "auth: passwd-file(a,192.0.2.1): unknown user"));
  h.Feed(Smtpd(1, 1,
               "warning: h[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, "
               "sasl_username=a"));
  h.Feed(Smtpd(1, 1,
               "warning: h[192.0.2.1]: SASL PLAIN authentication failed: authentication "
               "failure"));
  EXPECT_EQ(Failures(h, "bad_credentials", "LOGIN"), 1);
  EXPECT_EQ(Failures(h, "bad_credentials"), 1);
  EXPECT_EQ(h.Value("postfix_exporter_sasl_failures_held"), 0);
  EXPECT_EQ(h.Value("postfix_smtpd_sasl_failures_refined_total", {{"reason", "unknown_account"}}),
            0);
}

// An idle source: Tick() moves the wait on by wall time; a tick right after
// lines only notes where log time stood.
TEST(ReasonRefinerPipeline, IdleTickReleasesHeldFailures) {
  PipelineHarness h(DovecotHeard());
  const absl::Time t = absl::FromUnixSeconds(2000000000);
  h.Feed(Failed(0, 1, "192.0.2.1", "alice"));
  h.pipeline()->Tick(t);
  h.pipeline()->Tick(t + absl::Seconds(2));
  EXPECT_EQ(Failures(h, "unspecified"), 0);
  h.pipeline()->Tick(t + absl::Seconds(4));
  EXPECT_EQ(Failures(h, "unspecified"), 1);
  // Lines again: the next tick re-anchors instead of releasing.
  h.Feed(Failed(1, 1, "192.0.2.1", "bob"));
  h.pipeline()->Tick(t + absl::Seconds(60));
  EXPECT_EQ(Failures(h, "unspecified"), 1);
  h.pipeline()->Flush();
  EXPECT_EQ(Failures(h, "unspecified"), 2);
}

// Triage sees each failure once, when it is counted.
TEST(ReasonRefinerPipeline, TriageSeesEachFailureOnce) {
  PipelineHarness h(DovecotHeard());
  for (int i = 0; i < 20; ++i) {
    h.Feed(Failed(i, 1, "192.0.2.1", "u" + std::to_string(i)));
    if (i % 2 == 0) {
      h.Feed(PipelineHarness::Line(
          i, "dovecot", 50,
          "auth: passwd-file(u" + std::to_string(i) + ",192.0.2.1): Password mismatch"));
    }
  }
  h.pipeline()->Flush();
  EXPECT_EQ(Failures(h, "bad_credentials"), 10);
  EXPECT_EQ(Failures(h, "unspecified"), 10);
  double by_client = 0;
  for (const std::string& c :
       h.LabelValues("postfix_smtpd_sasl_failures_by_client_total", "client")) {
    by_client += h.Value("postfix_smtpd_sasl_failures_by_client_total", {{"client", c}});
  }
  EXPECT_EQ(by_client, 20);
}

}  // namespace
}  // namespace pse
