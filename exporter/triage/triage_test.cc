#include "exporter/triage/triage.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "testing/metric_values.h"

namespace pse {
namespace {

constexpr char kByClient[] = "postfix_smtpd_sasl_failures_by_client_total";
constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000 * kSecond;

// Every client="..." series of the by-client family, once `t` published
// what it counted.
std::map<std::string, double> ByClient(Triage* t, const prometheus::Registry& r) {
  t->Publish();
  return test::SeriesByLabel(r, kByClient);
}

Triage::Options Small() {
  Triage::Options o;
  o.top_clients = 2;
  o.min_count = 3;
  return o;
}

TEST(Triage, OnlyOtherAtStart) {
  prometheus::Registry r;
  Triage t(Small(), &r);
  EXPECT_EQ(ByClient(&t, r), (std::map<std::string, double>{{"other", 0}}));
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_clients"), 0);
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_usernames"), 0);
}

TEST(Triage, NetworkGetsSeriesAfterMinCount) {
  prometheus::Registry r;
  Triage t(Small(), &r);
  t.AdvanceTime(kT0);
  t.OnFailures("192.0.2.7", "", 1);
  t.OnFailures("192.0.2.8", "", 1);
  EXPECT_EQ(ByClient(&t, r).size(), 1u);  // below min_count: only "other"
  t.OnFailures("192.0.2.9", "", 1);       // third failure of 192.0.2.0/24
  t.OnFailures("192.0.2.10", "", 2);
  auto got = ByClient(&t, r);
  // The series counts from the failure that earned it; the two before stay
  // in other.
  EXPECT_EQ(got, (std::map<std::string, double>{{"other", 2}, {"192.0.2.0/24", 3}}));
}

// Failures are counted per call and reach the counters once per batch.
TEST(Triage, CountersMoveOnPublish) {
  prometheus::Registry r;
  Triage::Options o = Small();
  o.min_count = 1;
  Triage t(o, &r);
  t.OnFailures("unknown", "", 2);
  t.OnFailures("192.0.2.1", "", 1);  // earns a series at once
  t.OnFailures("192.0.2.1", "", 3);
  EXPECT_EQ(test::SeriesByLabel(r, kByClient),
            (std::map<std::string, double>{{"other", 0}, {"192.0.2.0/24", 1}}));
  t.Publish();
  EXPECT_EQ(test::SeriesByLabel(r, kByClient),
            (std::map<std::string, double>{{"other", 2}, {"192.0.2.0/24", 4}}));
  t.Publish();  // nothing new: nothing added
  EXPECT_EQ(test::SumOf(test::SeriesByLabel(r, kByClient)), 6);
}

TEST(Triage, UnknownAddressGoesToOther) {
  prometheus::Registry r;
  Triage t(Small(), &r);
  t.OnFailures("unknown", "", 4);
  t.OnFailures("", "", 1);
  EXPECT_EQ(ByClient(&t, r), (std::map<std::string, double>{{"other", 5}}));
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_clients"), 0);
}

TEST(Triage, SeriesAlwaysSumToTotalAndNeverDecrease) {
  prometheus::Registry r;
  Triage t(Small(), &r);
  std::map<std::string, double> last;
  double total = 0;
  // Waves of attackers from different networks, heavier each time.
  for (int wave = 0; wave < 6; ++wave) {
    t.AdvanceTime(kT0 + wave * 600 * kSecond);
    for (int i = 0; i < 10 * (wave + 1); ++i) {
      t.OnFailures(absl::StrCat("10.", wave, ".0.", i % 200), "", 1);
      t.OnFailures(absl::StrCat("198.51.", i, ".1"), "", 1);  // one-offs
      total += 2;
      auto now = ByClient(&t, r);
      ASSERT_DOUBLE_EQ(test::SumOf(now), total);
      ASSERT_LE(now.size(), 3u);  // K + 1
      for (const auto& [client, value] : now) {
        auto before = last.find(client);
        if (before != last.end()) {
          ASSERT_GE(value, before->second) << client;
        }
      }
      last = now;
    }
  }
  // The two heaviest recent waves hold the series.
  auto got = ByClient(&t, r);
  EXPECT_TRUE(got.count("10.5.0.0/24")) << absl::StrCat(got.size());
  EXPECT_TRUE(got.count("10.4.0.0/24"));
}

TEST(Triage, IPv6UsesItsOwnPrefixLength) {
  prometheus::Registry r;
  Triage::Options o = Small();
  o.client_prefix_v6 = 48;
  o.min_count = 1;
  Triage t(o, &r);
  t.OnFailures("2001:db8:1:2::5", "", 1);
  t.OnFailures("2001:db8:1:3::5", "", 1);
  EXPECT_EQ(ByClient(&t, r), (std::map<std::string, double>{{"other", 0}, {"2001:db8:1::/48", 2}}));
}

TEST(Triage, DistinctClientsAndUsernames) {
  prometheus::Registry r;
  Triage t(Small(), &r);
  t.AdvanceTime(kT0);
  for (int i = 0; i < 300; ++i) {
    t.OnFailures(absl::StrCat("203.0.", i / 100, ".", i % 100), absl::StrCat("user", i % 40), 1);
  }
  t.OnFailures("203.0.0.1", "(unavailable)", 1);  // not a user name
  t.Publish();
  EXPECT_NEAR(test::MetricValue(r, "postfix_smtpd_sasl_failing_clients"), 300, 6);
  EXPECT_NEAR(test::MetricValue(r, "postfix_smtpd_sasl_failing_usernames"), 40, 1);
  t.AdvanceTime(kT0 + 3700 * kSecond);  // the window has passed
  t.Publish();
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_clients"), 0);
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_usernames"), 0);
}

TEST(Triage, GaugesMoveOnlyWhenPublished) {
  prometheus::Registry r;
  Triage t(Small(), &r);
  t.OnFailures("192.0.2.1", "alice", 1);
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_clients"), 0);
  t.Publish();
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_clients"), 1);
  EXPECT_EQ(test::MetricValue(r, "postfix_smtpd_sasl_failing_usernames"), 1);
}

TEST(Triage, SaveRestoreKeepsSeriesSketchAndWindows) {
  prometheus::Registry r1;
  Triage a(Small(), &r1);
  a.AdvanceTime(kT0);
  for (int i = 0; i < 20; ++i) a.OnFailures("192.0.2.1", absl::StrCat("u", i), 1);
  for (int i = 0; i < 7; ++i) a.OnFailures(absl::StrCat("198.51.100.", i), "", 1);
  a.Publish();
  EXPECT_EQ(test::MetricValue(r1, "postfix_smtpd_sasl_failing_usernames"), 20);
  prometheus::Registry r2;
  Triage b(Small(), &r2);
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  EXPECT_EQ(ByClient(&b, r2), ByClient(&a, r1));
  EXPECT_EQ(test::MetricValue(r2, "postfix_smtpd_sasl_failing_usernames"),
            test::MetricValue(r1, "postfix_smtpd_sasl_failing_usernames"));
  // Counting goes on where it stopped.
  a.OnFailures("192.0.2.1", "", 1);
  b.OnFailures("192.0.2.1", "", 1);
  EXPECT_EQ(ByClient(&b, r2), ByClient(&a, r1));
}

TEST(Triage, RestoreWithOtherPrefixLengthKeepsTheTotal) {
  prometheus::Registry r1;
  Triage a(Small(), &r1);
  for (int i = 0; i < 20; ++i) a.OnFailures("192.0.2.1", "", 1);
  prometheus::Registry r2;
  Triage::Options o = Small();
  o.client_prefix_v4 = 16;
  Triage b(o, &r2);
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  EXPECT_EQ(ByClient(&b, r2), (std::map<std::string, double>{{"other", 20}}));
}

TEST(Triage, RestoreRejectsGarbage) {
  prometheus::Registry r;
  Triage t(Small(), &r);
  EXPECT_FALSE(t.Restore({"series 192.0.2.1/24 3"}).ok());
  EXPECT_FALSE(t.Restore({"bogus"}).ok());
  EXPECT_FALSE(t.Restore({"users"}).ok());
}

TEST(Triage, AccountsAreRestoredThroughTheTriageSection) {
  Triage::Options o = Small();
  o.top_usernames = 2;
  o.username_key = triage::UsernameLabeler::RandomKey();
  prometheus::Registry r1;
  Triage a(o, &r1);
  for (int i = 0; i < 9; ++i) a.OnFailures("192.0.2.1", "root", 1);
  o.username_key = triage::UsernameLabeler::RandomKey();  // the next start's key
  prometheus::Registry r2;
  Triage b(o, &r2);
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  const auto& labeler = a.accounts()->labeler();
  const std::string root = labeler.Label("root", labeler.Identity("root"));
  EXPECT_EQ(
      test::MetricValue(r2, "postfix_smtpd_sasl_failures_by_username_total", {{"username", root}}),
      7);  // from the third failure (min_count 3) on
  // A state saved with the accounts on restores without them.
  prometheus::Registry r3;
  Triage c(Small(), &r3);
  EXPECT_TRUE(c.Restore(a.Save()).ok());
  EXPECT_EQ(c.accounts(), nullptr);
}

}  // namespace
}  // namespace pse
