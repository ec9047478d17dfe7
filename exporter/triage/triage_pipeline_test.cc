// Triage fed by whole log lines: every failure SessionState counts (logged
// or derived from auth=S/T) reaches it once, with its client and user name.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

using test::PipelineHarness;

constexpr char kByClient[] = "postfix_smtpd_sasl_failures_by_client_total";
constexpr char kFailures[] = "postfix_smtpd_sasl_authentication_failures_total";

// Sum of every sample of `family`, read from the exposition text.
double SumOf(PipelineHarness& h, const std::string& family) {
  double sum = 0;
  const std::string text = h.Exposition();
  const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (absl::string_view line : lines) {
    if (!absl::StartsWith(line, family + "{")) continue;
    double v = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) << line;
    sum += v;
  }
  return sum;
}

void Session(PipelineHarness& h, int sec, long pid, const std::string& client,
             const std::string& middle, const std::string& auth) {
  h.Feed(PipelineHarness::Line(sec, "postfix/submission/smtpd", pid, "connect from " + client));
  if (!middle.empty()) h.Feed(PipelineHarness::Line(sec, "postfix/submission/smtpd", pid, middle));
  h.Feed(PipelineHarness::Line(
      sec + 1, "postfix/submission/smtpd", pid,
      "disconnect from " + client + " ehlo=1 auth=" + auth + " quit=1 commands=2/3"));
}

TEST(TriagePipeline, DerivedAndLoggedFailuresEachCountedOnce) {
  PipelineHarness h;
  // Logged failure (3.9 form, with a user name), then derived ones only.
  Session(h, 0, 100, "unknown[192.0.2.7]",
          "warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: (reason unavailable), "
          "sasl_username=alice",
          "0/3");
  for (int i = 0; i < 6; ++i) {
    Session(h, 10 + i * 2, 200 + i, absl::StrCat("unknown[192.0.2.", 20 + i, "]"), "", "0/1");
  }
  h.pipeline()->SyncSourceStats(SourceStats{}, absl::Now());  // as the ingest loop does
  EXPECT_EQ(SumOf(h, kFailures), 9);
  EXPECT_EQ(SumOf(h, kByClient), 9);
  // 192.0.2.0/24 earned a series on its fifth failure.
  EXPECT_EQ(h.Value(kByClient, {{"client", "192.0.2.0/24"}}), 5);
  EXPECT_EQ(h.Value(kByClient, {{"client", "other"}}), 4);
  EXPECT_EQ(h.Value("postfix_smtpd_sasl_failing_clients"), 7);
  EXPECT_EQ(h.Value("postfix_smtpd_sasl_failing_usernames"), 1);
}

TEST(TriagePipeline, SuccessesAreNotFailures) {
  PipelineHarness h;
  Session(h, 0, 100, "h[198.51.100.1]", "", "1");
  EXPECT_EQ(h.Value(kByClient, {{"client", "other"}}), 0);
  EXPECT_EQ(h.Value("postfix_smtpd_sasl_failing_clients"), 0);
}

TEST(TriagePipeline, StateFileKeepsTriage) {
  PipelineHarness a;
  for (int i = 0; i < 8; ++i) {
    Session(a, i * 2, 300 + i, "unknown[2001:db8:5:6::9]",
            absl::StrCat("warning: unknown[2001:db8:5:6::9]: SASL PLAIN authentication failed: "
                         "x, sasl_username=u",
                         i),
            "0/1");
  }
  a.pipeline()->SyncSourceStats(SourceStats{}, absl::Now());
  StateDocument doc;
  a.pipeline()->SaveState(&doc);
  ASSERT_TRUE(doc.sections.count("triage"));
  PipelineHarness b;
  ASSERT_TRUE(b.pipeline()->RestoreState(doc).ok());
  for (const char* name :
       {"postfix_smtpd_sasl_failing_clients", "postfix_smtpd_sasl_failing_usernames"}) {
    EXPECT_EQ(b.Value(name), a.Value(name)) << name;
  }
  EXPECT_EQ(b.Value(kByClient, {{"client", "2001:db8:5:6::/64"}}), 4);
  EXPECT_EQ(b.Value(kByClient, {{"client", "other"}}), 4);
  EXPECT_EQ(b.Value("postfix_smtpd_sasl_failing_usernames"), 8);
  // A state file from before triage existed restores with zeros.
  doc.sections.erase("triage");
  PipelineHarness c;
  ASSERT_TRUE(c.pipeline()->RestoreState(doc).ok());
  EXPECT_EQ(c.Value(kByClient, {{"client", "other"}}), 0);
}

TEST(TriagePipeline, DisabledExportsNoTriageAndKeepsItsState) {
  PipelineHarness a;
  for (int i = 0; i < 6; ++i) {
    Session(a, i * 2, 400 + i, "unknown[198.51.100.3]",
            "warning: unknown[198.51.100.3]: SASL LOGIN authentication failed: x, "
            "sasl_username=bob",
            "0/1");
  }
  a.pipeline()->SyncSourceStats(SourceStats{}, absl::Now());
  StateDocument doc;
  a.pipeline()->SaveState(&doc);
  ASSERT_TRUE(doc.sections.count("triage"));
  const std::vector<std::string> saved = doc.sections["triage"];

  Pipeline::Options off = PipelineHarness::WithState({});
  off.triage.enabled = false;
  PipelineHarness b(off);
  ASSERT_TRUE(b.pipeline()->RestoreState(doc).ok());
  // The failures are still counted; no triage family is exported.
  Session(b, 20, 500, "unknown[198.51.100.3]", "", "0/2");
  b.pipeline()->SyncSourceStats(SourceStats{}, absl::Now());
  EXPECT_EQ(SumOf(b, kFailures), 8);
  const std::string text = b.Exposition();
  EXPECT_EQ(text.find("by_client"), std::string::npos);
  EXPECT_EQ(text.find("failing_clients"), std::string::npos);
  EXPECT_EQ(text.find("failing_usernames"), std::string::npos);
  // Its section goes back to the state file unchanged, for when it is
  // turned on again.
  StateDocument again;
  b.pipeline()->SaveState(&again);
  EXPECT_EQ(again.sections["triage"], saved);
  PipelineHarness c;
  ASSERT_TRUE(c.pipeline()->RestoreState(again).ok());
  EXPECT_EQ(c.Value(kByClient, {{"client", "198.51.100.0/24"}}), 2);
  // With no section to keep, none is written.
  PipelineHarness d(off);
  StateDocument empty;
  d.pipeline()->SaveState(&empty);
  EXPECT_EQ(empty.sections.count("triage"), 0u);
}

Pipeline::Options WithAccounts(bool plain) {
  Pipeline::Options po;
  po.syslog.initial_year = 2024;
  po.syslog.bsd_time_zone = absl::UTCTimeZone();
  po.triage.top_usernames = 2;
  po.triage.min_count = 2;
  po.triage.plain_usernames = plain;
  po.triage.username_key = triage::UsernameLabeler::KeyFromSecret("pipeline test key 0123");
  return po;
}

constexpr char kByUser[] = "postfix_smtpd_sasl_failures_by_username_total";
constexpr char kMessagesByUser[] = "postfix_smtpd_sasl_messages_by_username_total";

TEST(TriagePipeline, AccountsAreOffByDefault) {
  PipelineHarness h;
  EXPECT_EQ(h.Exposition().find("by_username"), std::string::npos);
  EXPECT_EQ(h.Exposition().find("username_clients"), std::string::npos);
}

TEST(TriagePipeline, AccountsFromFailureAndClientLines) {
  PipelineHarness h(WithAccounts(/*plain=*/true));
  for (int i = 0; i < 3; ++i) {
    Session(h, i * 2, 100 + i, absl::StrCat("unknown[192.0.2.", i, "]"),
            absl::StrCat("warning: unknown[192.0.2.", i,
                         "]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, "
                         "sasl_username=admin"),
            "0/1");
  }
  Session(h, 10, 110, "unknown[192.0.2.9]", "", "0/1");  // no name: not in the family
  for (int i = 0; i < 4; ++i) {
    h.Feed(
        PipelineHarness::Line(20 + i, "postfix/submission/smtpd", 200 + i,
                              absl::StrCat("4Xk2Pj1c3Zz9sX", i, ": client=h[198.51.100.", i,
                                           "], sasl_method=PLAIN, sasl_username=carol@example.org, "
                                           "sasl_sender=x@example.org")));
  }
  // Unauthenticated mail counts nowhere here.
  h.Feed(PipelineHarness::Line(30, "postfix/smtpd", 300, "3F2A81C0BD: client=h[203.0.113.1]"));
  h.pipeline()->SyncSourceStats(SourceStats{}, absl::Now());
  EXPECT_EQ(h.Value(kByUser, {{"username", "admin"}}), 2);
  EXPECT_EQ(h.Value(kByUser, {{"username", "other"}}), 1);
  EXPECT_EQ(h.Value(kMessagesByUser, {{"username", "carol@example.org"}}), 3);
  EXPECT_EQ(h.Value(kMessagesByUser, {{"username", "other"}}), 1);
  // Counted from its series on: the 2nd..4th messages, three addresses.
  EXPECT_EQ(h.Value("postfix_smtpd_sasl_username_clients", {{"username", "carol@example.org"}}), 3);
  EXPECT_EQ(h.Value("postfix_smtpd_sasl_username_clients", {{"username", "admin"}}), 0);
}

TEST(TriagePipeline, AccountsHashedByDefaultAndKeptInState) {
  PipelineHarness a(WithAccounts(/*plain=*/false));
  for (int i = 0; i < 3; ++i) {
    a.Feed(PipelineHarness::Line(i, "postfix/submission/smtpd", 200 + i,
                                 absl::StrCat("4Xk2Pj1c3Zz9sX", i, ": client=h[198.51.100.", i,
                                              "], sasl_method=PLAIN, sasl_username=carol")));
  }
  a.pipeline()->SyncSourceStats(SourceStats{}, absl::Now());
  EXPECT_EQ(a.Exposition().find("carol"), std::string::npos);
  const triage::UsernameLabeler labeler(WithAccounts(false).triage.username_key, false);
  const std::string label = labeler.Label("carol", labeler.Identity("carol"));
  EXPECT_EQ(a.Value(kMessagesByUser, {{"username", label}}), 2);
  StateDocument doc;
  a.pipeline()->SaveState(&doc);
  PipelineHarness b(WithAccounts(/*plain=*/false));
  ASSERT_TRUE(b.pipeline()->RestoreState(doc).ok());
  EXPECT_EQ(b.Value(kMessagesByUser, {{"username", label}}), 2);
  EXPECT_EQ(b.Value("postfix_smtpd_sasl_username_clients", {{"username", label}}), 2);
}

}  // namespace
}  // namespace pse
