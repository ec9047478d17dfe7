#include "exporter/triage/accounts.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "testing/metric_values.h"

namespace pse {
namespace triage {
namespace {

constexpr char kFailures[] = "postfix_smtpd_sasl_failures_by_username_total";
constexpr char kMessages[] = "postfix_smtpd_sasl_messages_by_username_total";
constexpr char kClients[] = "postfix_smtpd_sasl_username_clients";
constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000 * kSecond;

// label value -> sample value of one family.
std::map<std::string, double> Family(const prometheus::Registry& r, const std::string& name) {
  return test::SeriesByLabel(r, name);
}

AccountTriage::Options Opts(bool plain = false) {
  AccountTriage::Options o;
  o.top_usernames = 2;
  o.min_count = 3;
  o.key = UsernameLabeler::KeyFromSecret("accounts-test-key-0123");
  o.plain = plain;
  return o;
}

std::string LabelOf(const AccountTriage& a, absl::string_view name) {
  return a.labeler().Label(name, a.labeler().Identity(name));
}

TEST(AccountTriage, TopFailingNamesHashedAndOtherSumsExactly) {
  prometheus::Registry r;
  AccountTriage a(Opts(), &r);
  a.AdvanceTime(kT0);
  double total = 0;
  for (int i = 0; i < 200; ++i) {
    a.OnFailures("admin", 1);  // the sprayed names
    a.OnFailures("info", 1);
    a.OnFailures(absl::StrCat("guess", i), 2);  // one-offs
    total += 4;
    ASSERT_DOUBLE_EQ(test::SumOf(Family(r, kFailures)), total);
  }
  auto got = Family(r, kFailures);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[LabelOf(a, "admin")], 198);  // from its third failure on
  EXPECT_EQ(got[LabelOf(a, "info")], 198);
  for (const auto& [label, v] : got) {
    EXPECT_TRUE(label == "other" || label.substr(0, 2) == "h:") << label;
  }
  // Names with a series are tracked in the clients family (no logins yet).
  EXPECT_EQ(Family(r, kClients),
            (std::map<std::string, double>{{LabelOf(a, "admin"), 0}, {LabelOf(a, "info"), 0}}));
}

TEST(AccountTriage, PlainLabelsAreSanitised) {
  prometheus::Registry r;
  AccountTriage a(Opts(/*plain=*/true), &r);
  for (int i = 0; i < 3; ++i) a.OnFailures("bob\n}", 1);
  EXPECT_EQ(Family(r, kFailures),
            (std::map<std::string, double>{{"other", 2}, {"bob\xEF\xBF\xBD}", 1}}));
}

TEST(AccountTriage, MessagesByNameAndDistinctClients) {
  prometheus::Registry r;
  AccountTriage a(Opts(/*plain=*/true), &r);
  a.AdvanceTime(kT0);
  // alice sends from one address, the stolen mallory from 40 networks.
  for (int i = 0; i < 60; ++i) {
    a.OnMessage("192.0.2.10", "alice");
    a.OnMessage(absl::StrCat("198.51.", i % 40, ".7"), "mallory");
    a.OnMessage("192.0.2.11", absl::StrCat("once", i));
  }
  a.PublishGauges();
  auto messages = Family(r, kMessages);
  EXPECT_EQ(messages["alice"], 58);
  EXPECT_EQ(messages["mallory"], 58);
  EXPECT_EQ(messages["other"], 64);
  auto clients = Family(r, kClients);
  EXPECT_EQ(clients["alice"], 1);
  // Counted from the series on (the third message): all 40 seen since.
  EXPECT_NEAR(clients["mallory"], 40, 2);
  EXPECT_EQ(clients.size(), 2u);
  // The window passes: nothing recent.
  a.AdvanceTime(kT0 + 3601 * kSecond);
  a.PublishGauges();
  clients = Family(r, kClients);
  EXPECT_EQ(clients["alice"], 0);
  EXPECT_EQ(clients["mallory"], 0);
  a.OnMessage("203.0.113.1", "mallory");
  a.PublishGauges();
  EXPECT_EQ(Family(r, kClients)["mallory"], 1);
}

TEST(AccountTriage, DemotedNameLeavesTheClientsFamily) {
  prometheus::Registry r;
  AccountTriage::Options o = Opts(true);
  o.top_usernames = 1;
  o.min_count = 1;
  AccountTriage a(o, &r);
  a.OnMessage("192.0.2.1", "first");
  a.OnMessage("192.0.2.1", "first");  // a name is admitted on its second use
  EXPECT_TRUE(Family(r, kClients).count("first"));
  for (int i = 0; i < 5; ++i) a.OnMessage("192.0.2.2", "second");
  auto clients = Family(r, kClients);
  EXPECT_FALSE(clients.count("first"));
  EXPECT_TRUE(clients.count("second"));
  // Still tracked while the failures family holds it.
  for (int i = 0; i < 3; ++i) a.OnFailures("second", 1);
  for (int i = 0; i < 9; ++i) a.OnMessage("192.0.2.3", "third");
  EXPECT_TRUE(Family(r, kClients).count("second"));
}

TEST(AccountTriage, StateRoundTripKeepsKeySeriesAndWindows) {
  prometheus::Registry r1;
  AccountTriage::Options o = Opts();
  o.key = UsernameLabeler::RandomKey();  // as without a key file
  AccountTriage a(o, &r1);
  a.AdvanceTime(kT0);
  for (int i = 0; i < 10; ++i) {
    a.OnFailures("root", 1);
    a.OnMessage(absl::StrCat("192.0.2.", i), "carol");
  }
  a.PublishGauges();
  prometheus::Registry r2;
  AccountTriage::Options o2 = Opts();
  o2.key = UsernameLabeler::RandomKey();  // the next run's: replaced by the saved one
  AccountTriage b(o2, &r2);
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  for (const char* f : {kFailures, kMessages, kClients}) {
    EXPECT_EQ(Family(r2, f), Family(r1, f)) << f;
  }
  EXPECT_EQ(Family(r2, kClients)[LabelOf(a, "carol")], 8);
  // Counting goes on under the same labels.
  a.OnMessage("192.0.2.99", "carol");
  b.OnMessage("192.0.2.99", "carol");
  a.PublishGauges();
  b.PublishGauges();
  for (const char* f : {kFailures, kMessages, kClients}) {
    EXPECT_EQ(Family(r2, f), Family(r1, f)) << f;
  }
  EXPECT_EQ(AccountTriage::SavedKey(a.Save()).value(), o.key);
}

TEST(AccountTriage, AnotherKeyFileKeepsOnlyTheTotals) {
  prometheus::Registry r1;
  AccountTriage::Options o = Opts();
  o.key_from_file = true;
  AccountTriage a(o, &r1);
  for (int i = 0; i < 10; ++i) a.OnFailures("root", 1);
  EXPECT_FALSE(AccountTriage::SavedKey(a.Save()).ok());  // a file's key is never saved
  prometheus::Registry r2;
  o.key = UsernameLabeler::KeyFromSecret("a different key file content");
  AccountTriage b(o, &r2);
  ASSERT_TRUE(b.Restore(a.Save()).ok());
  EXPECT_EQ(Family(r2, kFailures), (std::map<std::string, double>{{"other", 10}}));
  EXPECT_TRUE(Family(r2, kClients).empty());
}

TEST(AccountTriage, RestoreRejectsGarbage) {
  prometheus::Registry r;
  AccountTriage a(Opts(), &r);
  EXPECT_FALSE(a.Restore({"key 12"}).ok());
  EXPECT_FALSE(a.Restore({"fail series x"}).ok());
  EXPECT_FALSE(a.Restore({"whatever"}).ok());
}

}  // namespace
}  // namespace triage
}  // namespace pse
