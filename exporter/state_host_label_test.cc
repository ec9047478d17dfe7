// The optional `host` label (ServiceTable::Options::host_label): which
// families get it, how its values are bounded, and that it survives the
// state file.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "exporter/service_table.h"
#include "exporter/state_file.h"
#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

std::string At(const std::string& host, int sec, const std::string& tag, const std::string& msg) {
  return "May 14 10:00:" + std::string(sec < 10 ? "0" : "") + std::to_string(sec) + " " + host +
         " " + tag + ": " + msg;
}

Pipeline::Options HostLabel(size_t max_hosts = 256) {
  Pipeline::Options o = test::PipelineHarness::WithState({});
  o.services.host_label = true;
  o.services.max_hosts = max_hosts;
  return o;
}

// One line of each kind that feeds a family with a `service` label.
void FeedEveryKind(test::PipelineHarness* h, const std::string& host, int pid) {
  const std::string smtpd = "postfix/smtpd[" + std::to_string(pid) + "]";
  h->Feed(At(host, 1, smtpd, "connect from a[192.0.2.1]"));
  h->Feed(At(host, 2, smtpd,
             "warning: a[192.0.2.1]: SASL LOGIN authentication failed: authentication failure"));
  h->Feed(At(host, 3, smtpd,
             "NOQUEUE: reject: RCPT from a[192.0.2.1]: 554 5.7.1 <x@example.net>: Relay access "
             "denied; from=<y@example.org> to=<x@example.net> proto=ESMTP helo=<a>"));
  h->Feed(At(host, 4, smtpd,
             "disconnect from a[192.0.2.1] ehlo=1 auth=0/1 rcpt=0/1 quit=1 commands=2/4"));
  h->Feed(At(host, 5, "postfix/smtp[" + std::to_string(pid + 1) + "]",
             "ABCDEF123: to=<x@example.net>, relay=mx.example.net[192.0.2.9]:25, delay=1, "
             "delays=0.1/0.1/0.4/0.4, dsn=2.0.0, status=sent (250 ok)"));
  h->Feed(At(host, 6, "postfix/master[1]",
             "warning: service \"smtp\" (25) has reached its process limit \"100\": new clients "
             "may experience noticeable delays"));
}

TEST(HostLabel, OffByDefaultNoSeriesHasAHostLabel) {
  test::PipelineHarness h;
  FeedEveryKind(&h, "mxa", 100);
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}}), 1);
  EXPECT_FALSE(absl::StrContains(h.Exposition(), "host=")) << h.Exposition();
}

TEST(HostLabel, EveryFamilyWithAServiceLabelGetsTheHost) {
  test::PipelineHarness h(HostLabel());
  FeedEveryKind(&h, "mxa", 100);
  FeedEveryKind(&h, "mxb", 200);
  for (const std::string host : {"mxa", "mxb"}) {
    const std::map<std::string, std::string> l = {{"service", "smtp"}, {"host", host}};
    EXPECT_EQ(h.Value("postfix_smtpd_connects_total", l), 1) << host;
    EXPECT_EQ(h.Value("postfix_smtpd_disconnects_total", l), 1) << host;
    EXPECT_EQ(h.Value("postfix_smtpd_relay_denied_total", l), 1) << host;
    EXPECT_EQ(h.Value("postfix_smtpd_sasl_authentication_failures_total",
                      {{"service", "smtp"},
                       {"host", host},
                       {"method", "LOGIN"},
                       {"reason", "bad_credentials"}}),
              1)
        << host;
    EXPECT_EQ(h.Value("postfix_master_process_limit_reached_total", l), 1) << host;
    EXPECT_EQ(h.Value("postfix_delivery_status_total", {{"service", "smtp"},
                                                        {"host", host},
                                                        {"transport", "smtp"},
                                                        {"status", "sent"},
                                                        {"dsn_class", "2"}}),
              1)
        << host;
  }
  // Every series with a `service` label has a `host` label, and no other does.
  const std::string text = h.Exposition();
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_EQ(absl::StrContains(line, "service=\""), absl::StrContains(line, "host=\"")) << line;
  }
}

TEST(HostLabel, SamePidOnTwoHostsIsTwoSessionsEachOnItsHost) {
  test::PipelineHarness h(HostLabel());
  h.Feed(At("mxa", 1, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  h.Feed(At("mxb", 2, "postfix/smtpd[100]", "connect from b[192.0.2.2]"));
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}, {"host", "mxa"}}), 1);
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}, {"host", "mxb"}}), 1);
  h.Feed(At("mxa", 3, "postfix/smtpd[100]", "disconnect from a[192.0.2.1] quit=1 commands=1"));
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}, {"host", "mxa"}}), 0);
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}, {"host", "mxb"}}), 1);
  EXPECT_EQ(h.Value("postfix_smtpd_sessions_max", {{"service", "smtp"}, {"host", "mxb"}}), 1);
}

TEST(HostLabel, HostsPastTheCapAreOther) {
  test::PipelineHarness h(HostLabel(2));
  for (const std::string host : {"mxa", "mxb", "mxc", "mxd"}) {
    h.Feed(At(host, 1, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  }
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}, {"host", "mxa"}}), 1);
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}, {"host", "mxb"}}), 1);
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}, {"host", "other"}}), 2);
  EXPECT_EQ(h.LabelValues("postfix_smtpd_connects_total", "host").size(), 3u);
}

TEST(ServiceTableHosts, HostValuesAreSanitized) {
  ServiceTable::Options o;
  o.host_label = true;
  ServiceTable t(o);
  EXPECT_EQ(t.host(t.Resolve("postfix", "MX1.Example.NET").label), "mx1.example.net");
  EXPECT_EQ(t.host(t.Resolve("postfix", "2001:db8::1").label), "2001:db8::1");
  EXPECT_EQ(t.host(t.Resolve("postfix", "").label), "unknown");
  EXPECT_EQ(t.host(t.Resolve("postfix", "a\"b").label), "other");
  EXPECT_EQ(t.host(t.Resolve("postfix", "h\xc3\xa9").label), "other");
  EXPECT_EQ(t.host(t.Resolve("postfix", std::string(254, 'a')).label), "other");
  EXPECT_EQ(t.host(t.Resolve("postfix", std::string(253, 'a')).label), std::string(253, 'a'));
  // Same service, different hosts: different label ids, one name id.
  const ServiceId a = t.Resolve("postfix", "mxa");
  const ServiceId b = t.Resolve("postfix", "mxb");
  EXPECT_NE(a.label, b.label);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(t.label(a.label), "smtp");
}

TEST(ServiceTableHosts, OffTheHostIsIgnored) {
  ServiceTable t;
  const ServiceId a = t.Resolve("postfix", "mxa");
  const ServiceId b = t.Resolve("postfix", "mxb");
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(t.host(a.label), "");
}

// Saves `from` as the state file would and restores it into `to`.
bool Restart(test::PipelineHarness* from, test::PipelineHarness* to) {
  StateDocument doc;
  from->pipeline()->SaveState(&doc);
  absl::StatusOr<StateDocument> reread = ParseState(FormatState(doc));
  return reread.ok() && to->pipeline()->RestoreState(*reread).ok();
}

TEST(HostLabel, StateFileKeepsEachHostsSessions) {
  test::PipelineHarness first(HostLabel());
  first.Feed(At("mxa", 1, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  first.Feed(At("mxb", 2, "postfix/smtpd[100]", "connect from b[192.0.2.2]"));
  test::PipelineHarness second(HostLabel());
  ASSERT_TRUE(Restart(&first, &second));
  EXPECT_EQ(second.NonZero(), first.NonZero());
  second.Feed(At("mxb", 3, "postfix/smtpd[100]", "disconnect from b[192.0.2.2] quit=1 commands=1"));
  EXPECT_EQ(second.Value("postfix_smtpd_sessions", {{"service", "smtp"}, {"host", "mxa"}}), 1);
  EXPECT_EQ(second.Value("postfix_smtpd_sessions", {{"service", "smtp"}, {"host", "mxb"}}), 0);
  EXPECT_EQ(second.Value("postfix_smtpd_sessions_max", {{"service", "smtp"}, {"host", "mxa"}}), 1);
}

// A failure held for Dovecot's reason across a restart is still counted on
// the host that logged it.
TEST(HostLabel, StateFileKeepsTheHostOfHeldFailures) {
  test::PipelineHarness first(HostLabel());
  first.Feed(At("mxa", 1, "dovecot",
                "auth: passwd-file(alice,192.0.2.7): unknown user (given password: x)"));
  first.Feed(At("mxa", 2, "postfix/smtpd[100]", "connect from a[192.0.2.1]"));
  first.Feed(At("mxa", 3, "postfix/smtpd[100]",
                "warning: a[192.0.2.1]: SASL LOGIN authentication failed: (reason unavailable), "
                "sasl_username=bob"));
  ASSERT_EQ(first.pipeline()->refiner().held(), 1u);
  test::PipelineHarness second(HostLabel());
  ASSERT_TRUE(Restart(&first, &second));
  ASSERT_EQ(second.pipeline()->refiner().held(), 1u);
  second.Feed(
      At("mxa", 30, "postfix/smtpd[100]", "disconnect from a[192.0.2.1] quit=1 commands=1"));
  const std::map<std::string, std::string> on_mxa = {
      {"service", "smtp"}, {"host", "mxa"}, {"method", "LOGIN"}, {"reason", "unspecified"}};
  EXPECT_EQ(second.Value("postfix_smtpd_sasl_authentication_failures_total", on_mxa), 1);
}

}  // namespace
}  // namespace pse
