#include "parsers/reason_rules.h"

#include "gtest/gtest.h"
#include "parsers/postfix_parser.h"
#include "parsers/syslog_line.h"

namespace pse {
namespace {

using R = FailureReason;

TEST(ReasonRules, FirstMatchingRuleWins) {
  absl::StatusOr<ReasonRules> rules = ReasonRules::Create({
      {"^LDAP server down", R::kBackendUnavailable},
      {"(?i)locked", R::kUnknownAccount},
      {"LDAP", R::kOther},
  });
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->size(), 3u);
  EXPECT_EQ(rules->Match("LDAP server down: timeout"), R::kBackendUnavailable);
  EXPECT_EQ(rules->Match("account LOCKED by LDAP"), R::kUnknownAccount);
  EXPECT_EQ(rules->Match("LDAP said no"), R::kOther);
  EXPECT_FALSE(rules->Match("authentication failure").has_value());
}

TEST(ReasonRules, BadPatternNamesIndexAndPattern) {
  absl::StatusOr<ReasonRules> rules =
      ReasonRules::Create({{"ok", R::kOther}, {"broken(", R::kOther}});
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rules.status().message().find("rule 1"), absl::string_view::npos) << rules.status();
  EXPECT_NE(rules.status().message().find("broken("), absl::string_view::npos) << rules.status();
}

TEST(ReasonRules, OutOfRangeReasonIsRejected) {
  EXPECT_FALSE(ReasonRules::Create({{"x", R::kCount}}).ok());
}

TEST(ReasonRules, RulesComeBeforeBuiltInMapping) {
  absl::StatusOr<ReasonRules> rules =
      ReasonRules::Create({{"^authentication failure$", R::kOther}});
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(ClassifyFailedReasonWithRules("authentication failure", &*rules), R::kOther);
  EXPECT_EQ(ClassifyFailedReasonWithRules("authentication failure", nullptr), R::kBadCredentials);
  // No rule matches: the built-in mapping.
  EXPECT_EQ(ClassifyFailedReasonWithRules("generic failure", &*rules), R::kBackendUnavailable);
}

TEST(ReasonRules, ParserAppliesRulesToRawReasonOnly) {
  absl::StatusOr<ReasonRules> rules = ReasonRules::Create(
      {{"^Account locked$", R::kUnknownAccount}, {"mallory", R::kBackendUnavailable}});
  ASSERT_TRUE(rules.ok());
  SyslogLineParser::Options o;
  o.initial_year = 2024;
  o.bsd_time_zone = absl::UTCTimeZone();
  SyslogLineParser framer(o);
  LogRecord r;
  ASSERT_EQ(framer.Parse("Jul  5 12:43:39 mx postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL "
                         "PLAIN authentication failed: Account locked, sasl_username=mallory",
                         &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(ParsePostfix(r, &*rules).reason, R::kUnknownAccount);
  EXPECT_EQ(ParsePostfix(r).reason, R::kOther);
}

}  // namespace
}  // namespace pse
