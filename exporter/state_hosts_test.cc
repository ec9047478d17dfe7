// Session identity across hosts: one relayed log holds several Postfix hosts
// whose pids collide.
#include <string>

#include "exporter/state.h"
#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

std::string At(const std::string& host, int sec, const std::string& tag, const std::string& msg) {
  return "May 14 10:00:" + std::string(sec < 10 ? "0" : "") + std::to_string(sec) + " " + host +
         " " + tag + ": " + msg;
}

SessionState::Options ByHost() {
  SessionState::Options o;
  o.by_host = true;
  return o;
}

TEST(StateHosts, SamePidOnTwoHostsIsTwoSessions) {
  test::PipelineHarness h(ByHost());
  h.Feed(At("mxa", 1, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  h.Feed(At("mxb", 2, "postfix/smtpd[100]", "connect from b[192.0.2.2]"));
  // Keyed by pid alone, the second connect would end the first session as a
  // reused pid.
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 2);
  h.Feed(At("mxa", 3, "postfix/smtpd[100]",
            "disconnect from a[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3"));
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 1);
  h.Feed(At("mxb", 4, "postfix/smtpd[100]",
            "disconnect from b[192.0.2.2] ehlo=1 auth=1 quit=1 commands=3"));
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 0);
  EXPECT_EQ(h.Value("postfix_smtpd_disconnects_total", {{"service", "smtp"}}), 2);
}

TEST(StateHosts, SyslogFormsOfOneHostShareSessions) {
  // RFC 3164 with host and RFC 5424 with the same HOSTNAME are one process.
  test::PipelineHarness h(ByHost());
  h.Feed(At("mxa", 1, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  h.Feed(
      "<22>1 2024-05-14T10:00:02Z mxa postfix/smtpd 100 - - "
      "disconnect from a[192.0.2.1] ehlo=1 quit=1 commands=2");
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 0);
  EXPECT_EQ(h.Value("postfix_smtpd_disconnects_total", {{"service", "smtp"}}), 1);
}

TEST(StateHosts, MasterChildExitEndsOnlyItsHostsProcess) {
  test::PipelineHarness h(ByHost());
  h.Feed(At("mxa", 1, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  h.Feed(At("mxb", 2, "postfix/smtpd[100]", "connect from b[192.0.2.2]"));
  h.Feed(At("mxa", 3, "postfix/master[50]",
            "warning: process /usr/lib/postfix/sbin/smtpd pid 100 killed by signal 9"));
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 1);
}

TEST(StateHosts, OffByDefaultHostsShareOnePidSpace) {
  // One Postfix reaching us by two paths, one naming its host, one not.
  test::PipelineHarness h;
  h.Feed(At("mxa", 1, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  h.Feed(
      "<22>May 14 10:00:02 postfix/smtpd[100]: "
      "disconnect from a[192.0.2.1] ehlo=1 quit=1 commands=2");
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 0);
}

TEST(StateHosts, ProcessKey) {
  EXPECT_EQ(SessionState::ProcessKey("", 123), 123);
  EXPECT_EQ(SessionState::ProcessKey("mx", -1), -1);
  const int64_t a = SessionState::ProcessKey("mxa", 123);
  const int64_t b = SessionState::ProcessKey("mxb", 123);
  EXPECT_NE(a, b);
  EXPECT_GT(a, int64_t{0xffffffff});
  EXPECT_EQ(a & 0xffffffff, 123);
  EXPECT_EQ(SessionState::ProcessKey("mxa", 123), a);
}

}  // namespace
}  // namespace pse
