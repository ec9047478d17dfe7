// ReasonRefiner driven by events and log time: failures handed over as
// SessionState would, Dovecot verdicts as the pipeline would, and what is
// counted read back from the CountFn and the refiner's own metrics.
#include "exporter/reason_refiner.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exporter/metrics.h"
#include "exporter/service_table.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "testing/metric_values.h"

namespace pse {
namespace {

using R = FailureReason;
constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000LL * kSecond;

struct Counted {
  std::string service;
  SaslMethod method;
  R reason;
  std::string client;
  std::string user;
};

class ReasonRefinerTest : public ::testing::Test {
 protected:
  // Most tests are about matching, with Dovecot heard; the gate has its own.
  ReasonRefinerTest() { Reset(Heard()); }
  static ReasonRefiner::Options Heard() {
    ReasonRefiner::Options o;
    o.engaged_for = absl::InfiniteDuration();
    return o;
  }

  void Reset(const ReasonRefiner::Options& options) {
    counted_.clear();
    refiner_.reset();
    metrics_.reset();
    registry_ = std::make_shared<prometheus::Registry>();
    table_ = std::make_unique<ServiceTable>();
    metrics_ = std::make_unique<Metrics>(registry_.get(), BuildInfo{"t", "t"});
    refiner_ = std::make_unique<ReasonRefiner>(
        options, metrics_.get(),
        [this](ServiceId s, SaslMethod m, R r, absl::string_view c, absl::string_view u) {
          counted_.push_back({table_->syslog_name(s.name), m, r, std::string(c), std::string(u)});
        });
    refiner_->AdvanceTime(kT0);
  }

  // Log time `ms` milliseconds after kT0.
  void At(int64_t ms) { refiner_->AdvanceTime(kT0 + ms * 1000); }
  void Fail(const std::string& client, const std::string& user = "",
            const std::string& service = "postfix/submission") {
    refiner_->Hold(table_->Resolve(service), SaslMethod::kPlain, client, user);
  }
  void Verdict(const std::string& client, const std::string& user, R reason) {
    refiner_->OnVerdict(client, user, reason);
  }
  std::vector<R> Reasons() const {
    std::vector<R> out;
    for (const Counted& c : counted_) out.push_back(c.reason);
    return out;
  }
  double Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return test::MetricValue(*registry_, name, labels);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ServiceTable> table_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ReasonRefiner> refiner_;
  std::vector<Counted> counted_;
};

// A log without Dovecot's auth lines holds nothing: each failure is
// counted at once. Once a verdict is read, failures wait for theirs, until
// Dovecot has been silent for engaged_for.
TEST_F(ReasonRefinerTest, HoldsOnlyWhileDovecotIsHeard) {
  Reset({});
  Fail("192.0.2.7", "alice");
  EXPECT_EQ(Reasons(), std::vector<R>{R::kUnspecified});
  EXPECT_EQ(refiner_->held(), 0u);
  Verdict("198.51.100.1", "bob", R::kUnknownAccount);  // Dovecot is heard
  Fail("192.0.2.7", "alice");
  EXPECT_EQ(refiner_->held(), 1u);
  Verdict("192.0.2.7", "alice", R::kBadCredentials);
  EXPECT_EQ(Reasons(), (std::vector<R>{R::kUnspecified, R::kBadCredentials}));
  At(3601 * 1000);  // an hour and a second without a verdict
  Fail("192.0.2.7", "alice");
  EXPECT_EQ(refiner_->held(), 0u);
  EXPECT_EQ(Reasons(), (std::vector<R>{R::kUnspecified, R::kBadCredentials, R::kUnspecified}));
}

// The usual order: Dovecot logs, then delays its reply by auth_failure_delay.
TEST_F(ReasonRefinerTest, VerdictFirstRefinesAtOnce) {
  Verdict("192.0.2.7", "alice", R::kBadCredentials);
  At(2000);
  Fail("192.0.2.7", "alice");
  ASSERT_EQ(counted_.size(), 1u);
  EXPECT_EQ(counted_[0].reason, R::kBadCredentials);
  EXPECT_EQ(counted_[0].service, "postfix/submission");
  EXPECT_EQ(counted_[0].method, SaslMethod::kPlain);
  EXPECT_EQ(counted_[0].user, "alice");
  EXPECT_EQ(refiner_->held(), 0u);
  EXPECT_EQ(refiner_->verdicts(), 0u);
  EXPECT_EQ(Value("postfix_smtpd_sasl_failures_refined_total", {{"reason", "bad_credentials"}}), 1);
  EXPECT_EQ(Value("postfix_exporter_dovecot_auth_failures_total", {{"outcome", "matched"}}), 1);
  // Nothing is counted again later.
  At(60000);
  EXPECT_EQ(counted_.size(), 1u);
}

// Two sources or journald interleaving: Postfix's line comes first and waits.
TEST_F(ReasonRefinerTest, FailureFirstIsHeldUntilTheVerdict) {
  Fail("192.0.2.7", "mallory");
  EXPECT_TRUE(counted_.empty());
  EXPECT_EQ(Value("postfix_exporter_sasl_failures_held"), 1);
  At(1500);
  Verdict("192.0.2.7", "mallory", R::kUnknownAccount);
  EXPECT_EQ(Reasons(), std::vector<R>{R::kUnknownAccount});
  EXPECT_EQ(Value("postfix_exporter_sasl_failures_held"), 0);
}

TEST_F(ReasonRefinerTest, UnmatchedFailureStaysUnspecifiedAfterTheWait) {
  Fail("192.0.2.7", "alice");
  At(3000);  // the wait is 3 s: still held at exactly 3 s
  EXPECT_TRUE(counted_.empty());
  At(3001);
  EXPECT_EQ(Reasons(), std::vector<R>{R::kUnspecified});
  EXPECT_EQ(Value("postfix_exporter_sasl_failures_unrefined_total", {{"cause", "expired"}}), 1);
  // A late verdict finds nothing and is not used twice.
  Verdict("192.0.2.7", "alice", R::kBadCredentials);
  EXPECT_EQ(counted_.size(), 1u);
  At(9000);
  EXPECT_EQ(Value("postfix_exporter_dovecot_auth_failures_total", {{"outcome", "unmatched"}}), 1);
}

TEST_F(ReasonRefinerTest, VerdictExpiresAfterItsWait) {
  Verdict("192.0.2.7", "alice", R::kBadCredentials);
  At(5001);
  EXPECT_EQ(refiner_->verdicts(), 0u);
  Fail("192.0.2.7", "alice");
  At(9000);
  EXPECT_EQ(Reasons(), std::vector<R>{R::kUnspecified});
}

// With sasl_username= the user must match too (case-insensitively: Dovecot
// lowercases by default); another user's verdict from the same address is
// left for that user.
TEST_F(ReasonRefinerTest, UserAndClientMatch) {
  Verdict("192.0.2.7", "bob", R::kUnknownAccount);
  Verdict("192.0.2.7", "alice", R::kBadCredentials);
  Verdict("198.51.100.1", "carol", R::kBadCredentials);
  Fail("192.0.2.7", "Alice");
  EXPECT_EQ(Reasons(), std::vector<R>{R::kBadCredentials});
  Fail("198.51.100.1", "bob");  // bob's verdict is for another address
  EXPECT_EQ(counted_.size(), 1u);
  Fail("192.0.2.7", "bob");
  EXPECT_EQ(Reasons(), (std::vector<R>{R::kBadCredentials, R::kUnknownAccount}));
  At(10000);
  EXPECT_EQ(Reasons(), (std::vector<R>{R::kBadCredentials, R::kUnknownAccount, R::kUnspecified}));
  EXPECT_EQ(counted_[2].client, "198.51.100.1");
}

// Older Postfix logs no user name: by address alone, in arrival order.
TEST_F(ReasonRefinerTest, ClientOnlyInArrivalOrder) {
  Verdict("192.0.2.7", "x", R::kUnknownAccount);
  Verdict("192.0.2.7", "y", R::kBadCredentials);
  Fail("192.0.2.7");
  Fail("192.0.2.7");
  Fail("192.0.2.7");
  EXPECT_EQ(Reasons(), (std::vector<R>{R::kUnknownAccount, R::kBadCredentials}));
  // The third waits, and takes the next verdict of that address.
  Verdict("203.0.113.5", "z", R::kBadCredentials);
  Verdict("192.0.2.7", "z", R::kBackendUnavailable);
  EXPECT_EQ(Reasons(),
            (std::vector<R>{R::kUnknownAccount, R::kBadCredentials, R::kBackendUnavailable}));
  // Held failures of one address are answered oldest first.
  Fail("192.0.2.9");
  At(1000);
  Fail("192.0.2.9");
  Verdict("192.0.2.9", "a", R::kBadCredentials);
  At(3500);  // the second held one expires later than the first
  EXPECT_EQ(counted_.size(), 4u);
  At(4001);
  EXPECT_EQ(Reasons().back(), R::kUnspecified);
}

TEST_F(ReasonRefinerTest, AddressesCompareAsBothLogsWriteThem) {
  Verdict("2001:DB8::1", "a", R::kBadCredentials);
  Fail("2001:db8::1", "a");
  Verdict("::ffff:192.0.2.1", "b", R::kBadCredentials);
  Fail("192.0.2.1", "b");
  EXPECT_EQ(Reasons(), (std::vector<R>{R::kBadCredentials, R::kBadCredentials}));
  // No address to match by: counted at once.
  Fail("unknown", "c");
  EXPECT_EQ(Reasons().back(), R::kUnspecified);
  EXPECT_EQ(Value("postfix_exporter_sasl_failures_unrefined_total", {{"cause", "no_client"}}), 1);
}

TEST_F(ReasonRefinerTest, CapsReleaseTheOldest) {
  ReasonRefiner::Options o = Heard();
  o.max_held = 2;
  o.max_verdicts = 2;
  Reset(o);
  Fail("192.0.2.1");
  Fail("192.0.2.2");
  Fail("192.0.2.3");  // the first one is counted unspecified to make room
  ASSERT_EQ(counted_.size(), 1u);
  EXPECT_EQ(counted_[0].client, "192.0.2.1");
  EXPECT_EQ(counted_[0].reason, R::kUnspecified);
  EXPECT_EQ(refiner_->held(), 2u);
  EXPECT_EQ(Value("postfix_exporter_sasl_failures_unrefined_total", {{"cause", "overflow"}}), 1);
  Verdict("198.51.100.1", "a", R::kBadCredentials);
  Verdict("198.51.100.2", "a", R::kBadCredentials);
  Verdict("198.51.100.3", "a", R::kBadCredentials);
  EXPECT_EQ(refiner_->verdicts(), 2u);
  EXPECT_EQ(Value("postfix_exporter_dovecot_auth_failures_total", {{"outcome", "dropped"}}), 1);
  Fail("198.51.100.1", "a");  // its verdict was dropped
  Fail("198.51.100.3", "a");
  EXPECT_EQ(Reasons().back(), R::kBadCredentials);
}

// Every failure handed over is counted exactly once, whatever the order.
TEST_F(ReasonRefinerTest, EachFailureCountedOnce) {
  int handed = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string client = "192.0.2." + std::to_string(i % 7);
    At(i * 300);
    if (i % 3 == 0) Verdict(client, "", i % 2 ? R::kBadCredentials : R::kUnknownAccount);
    if (i % 2 == 0) {
      Fail(client);
      ++handed;
    }
  }
  refiner_->Flush();
  EXPECT_EQ(static_cast<int>(counted_.size()), handed);
  EXPECT_EQ(refiner_->held(), 0u);
  EXPECT_EQ(refiner_->verdicts(), 0u);
}

TEST_F(ReasonRefinerTest, FlushCountsHeldAsUnspecified) {
  Fail("192.0.2.1", "a");
  Verdict("192.0.2.2", "b", R::kBadCredentials);
  refiner_->Flush();
  EXPECT_EQ(Reasons(), std::vector<R>{R::kUnspecified});
  EXPECT_EQ(refiner_->verdicts(), 0u);
}

// Held failures and verdicts survive a restart: nothing counted twice or lost.
TEST_F(ReasonRefinerTest, StateRoundTrip) {
  Verdict("192.0.2.7", "ali ce%", R::kBadCredentials);  // escaped in the file
  At(1000);
  Fail("198.51.100.2", "", "postfix-out/smtpd");
  refiner_->OnVerdict("203.0.113.1", "", R::kUnknownAccount);  // no user known
  const std::vector<std::string> saved = refiner_->Save(*table_);

  Reset({});
  ASSERT_TRUE(refiner_->Restore(saved, table_.get()).ok());
  EXPECT_EQ(refiner_->now_us(), kT0 + 1000 * 1000);
  EXPECT_EQ(refiner_->held(), 1u);
  EXPECT_EQ(refiner_->verdicts(), 2u);
  EXPECT_EQ(Value("postfix_exporter_sasl_failures_held"), 1);
  EXPECT_EQ(refiner_->Save(*table_), saved);
  EXPECT_TRUE(counted_.empty());
  Fail("192.0.2.7", "ali ce%");
  Verdict("198.51.100.2", "u", R::kUnknownAccount);
  ASSERT_EQ(counted_.size(), 2u);
  EXPECT_EQ(counted_[0].reason, R::kBadCredentials);
  EXPECT_EQ(counted_[1].reason, R::kUnknownAccount);
  EXPECT_EQ(counted_[1].service, "postfix-out/smtpd");
  EXPECT_EQ(counted_[1].method, SaslMethod::kPlain);
}

TEST_F(ReasonRefinerTest, RestoreRejectsMalformedLines) {
  for (const char* line :
       {"held 1 postfix 99 192.0.2.1 %", "held 1 postfix 0 % %", "verdict 1 192.0.2.1 a 99",
        "verdict x 192.0.2.1 a 0", "clock", "other 1"}) {
    Reset({});
    EXPECT_FALSE(refiner_->Restore({line}, table_.get()).ok()) << line;
  }
}

}  // namespace
}  // namespace pse
