// The state file: its format, and that metrics and sessions survive a
// save / restore round trip exactly.
#include "exporter/state_file.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "exporter/metrics.h"
#include "exporter/pipeline.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

StateDocument SampleDoc() {
  StateDocument doc;
  doc.source = "file:/var/log/mail log";
  doc.sections["position"] = {"path=/var/log/mail.log", "offset=42"};
  doc.sections["empty"] = {};
  return doc;
}

TEST(StateFile, FormatParseRoundTrips) {
  absl::StatusOr<StateDocument> got = ParseState(FormatState(SampleDoc()));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->source, "file:/var/log/mail log");
  EXPECT_EQ(got->sections, SampleDoc().sections);
}

TEST(StateFile, AnyChangedByteIsCorrupt) {
  const std::string text = FormatState(SampleDoc());
  for (size_t i = 0; i < text.size(); ++i) {
    std::string edited = text;
    edited[i] = edited[i] == 'x' ? 'y' : 'x';
    EXPECT_FALSE(ParseState(edited).ok()) << "byte " << i;
  }
}

TEST(StateFile, TruncatedIsCorrupt) {
  const std::string text = FormatState(SampleDoc());
  for (size_t n = 0; n < text.size(); ++n) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseState(text.substr(0, n)).status())) << n;
  }
}

TEST(StateFile, OtherVersionIsFailedPrecondition) {
  std::string text = FormatState(SampleDoc());
  // Re-checksummed by formatting by hand is not possible from outside, so
  // build a version-2 header with a valid checksum through the same format.
  text.replace(0, text.find('\n'), "pse-state 2");
  const size_t end = text.rfind("end ");
  std::string body = text.substr(0, end);
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char sum[17];
  std::snprintf(sum, sizeof sum, "%016llx", static_cast<unsigned long long>(h));
  text = body + "end " + sum + "\n";
  EXPECT_TRUE(absl::IsFailedPrecondition(ParseState(text).status())) << ParseState(text).status();
}

TEST(StateFile, EscapeTokenRoundTripsAnyBytes) {
  for (const std::string& raw : {std::string(""), std::string("a b%c\n\t"),
                                 std::string("\xff\x00z", 3), std::string("[x]")}) {
    const std::string token = EscapeToken(raw);
    EXPECT_EQ(token.find_first_of(" \n"), std::string::npos);
    std::string back;
    ASSERT_TRUE(UnescapeToken(token, &back));
    EXPECT_EQ(back, raw);
  }
  std::string out;
  EXPECT_FALSE(UnescapeToken("%G1", &out));
  EXPECT_FALSE(UnescapeToken("ab%4", &out));
}

TEST(StateFile, SaveLoadAndMoveAside) {
  char tmpl[] = "/tmp/pse-state-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/state";
  EXPECT_TRUE(absl::IsNotFound(LoadStateFile(path).status()));
  ASSERT_TRUE(SaveStateFile(path, SampleDoc()).ok());
  absl::StatusOr<StateDocument> got = LoadStateFile(path);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->sections, SampleDoc().sections);
  absl::StatusOr<std::string> aside = MoveStateFileAside(path);
  ASSERT_TRUE(aside.ok());
  EXPECT_EQ(*aside, path + ".bad");
  EXPECT_TRUE(absl::IsNotFound(LoadStateFile(path).status()));
  std::system((std::string("rm -rf ") + tmpl).c_str());
}

// The pipeline's state after `lines`, saved and restored into a fresh one,
// gives the same exposition, and goes on counting the same afterwards.
class PipelineStateTest : public ::testing::Test {
 protected:
  static std::string L(int sec, int pid, const std::string& msg) {
    return test::PipelineHarness::Line(sec, "postfix/submission/smtpd", pid, msg);
  }
};

TEST_F(PipelineStateTest, RestoredPipelineContinuesExactly) {
  const std::vector<std::string> before = {
      L(0, 1, "connect from a[192.0.2.1]"),
      L(1, 2, "connect from b[192.0.2.2]"),
      L(2, 1, "warning: a[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
      L(3, 3, "connect from c[192.0.2.3]"),
      L(4, 3, "disconnect from c[192.0.2.3] ehlo=1 auth=1 quit=1 commands=3"),
  };
  const std::vector<std::string> after = {
      L(5, 1, "disconnect from a[192.0.2.1] ehlo=1 auth=0/2 quit=1 commands=2/3"),
      L(6, 2, "disconnect from b[192.0.2.2] ehlo=1 auth=1 quit=1 commands=3"),
      L(200, 4, "connect from d[192.0.2.4]"),
  };
  test::PipelineHarness whole;
  for (const auto& l : before) whole.Feed(l);
  for (const auto& l : after) whole.Feed(l);

  test::PipelineHarness first;
  for (const auto& l : before) first.Feed(l);
  StateDocument doc;
  first.pipeline()->SaveState(&doc);
  // Through the text format, as a restart would.
  absl::StatusOr<StateDocument> reread = ParseState(FormatState(doc));
  ASSERT_TRUE(reread.ok());

  test::PipelineHarness second;
  ASSERT_TRUE(second.pipeline()->RestoreState(*reread).ok());
  EXPECT_EQ(second.NonZero(), first.NonZero());
  for (const auto& l : after) second.Feed(l);
  EXPECT_EQ(second.NonZero(), whole.NonZero());
  EXPECT_EQ(second.Value("postfix_smtpd_sessions_max", {{"service", "submission"}}),
            whole.Value("postfix_smtpd_sessions_max", {{"service", "submission"}}));
  EXPECT_EQ(second.Value("postfix_exporter_log_lines_total"),
            whole.Value("postfix_exporter_log_lines_total"));
}

// Failures wait for Dovecot even before its first line.
Pipeline::Options DovecotHeard() {
  Pipeline::Options po = test::PipelineHarness::WithState({});
  po.refiner.engaged_for = absl::InfiniteDuration();
  return po;
}

// A failure held for Dovecot's reason is not counted yet when the state is
// saved: after the restart it is counted once, refined or not.
TEST_F(PipelineStateTest, HeldFailuresSurviveARestart) {
  const std::vector<std::string> before = {
      L(0, 1, "connect from a[192.0.2.1]"),
      L(1, 1,
        "warning: a[192.0.2.1]: SASL PLAIN authentication failed: (reason unavailable), "
        "sasl_username=alice"),
      L(1, 2, "connect from b[192.0.2.2]"),
      L(1, 2,
        "warning: b[192.0.2.2]: SASL PLAIN authentication failed: (reason unavailable), "
        "sasl_username=bob"),
      test::PipelineHarness::Line(1, "dovecot", 9,
                                  "auth: passwd-file(carol,192.0.2.3): unknown user"),
  };
  const std::vector<std::string> after = {
      test::PipelineHarness::Line(2, "dovecot", 9,
                                  "auth: passwd-file(alice,192.0.2.1): Password mismatch"),
      L(2, 3, "connect from c[192.0.2.3]"),
      L(2, 3,
        "warning: c[192.0.2.3]: SASL LOGIN authentication failed: (reason unavailable), "
        "sasl_username=carol"),
      L(3, 1, "disconnect from a[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3"),
      L(30, 4, "connect from d[192.0.2.4]"),  // bob's wait is over
  };
  test::PipelineHarness whole(DovecotHeard());
  for (const auto& l : before) whole.Feed(l);
  for (const auto& l : after) whole.Feed(l);

  test::PipelineHarness first(DovecotHeard());
  for (const auto& l : before) first.Feed(l);
  StateDocument doc;
  first.pipeline()->SaveState(&doc);
  absl::StatusOr<StateDocument> reread = ParseState(FormatState(doc));
  ASSERT_TRUE(reread.ok());
  test::PipelineHarness second(DovecotHeard());
  ASSERT_TRUE(second.pipeline()->RestoreState(*reread).ok());
  EXPECT_EQ(second.pipeline()->refiner().held(), 2u);
  EXPECT_EQ(second.pipeline()->refiner().verdicts(), 1u);
  for (const auto& l : after) second.Feed(l);
  EXPECT_EQ(second.NonZero(), whole.NonZero());
  const std::map<std::string, std::string> sub = {{"service", "submission"}};
  auto failures = [&](const std::string& method, const std::string& reason) {
    return second.Value("postfix_smtpd_sasl_authentication_failures_total",
                        {{"service", "submission"}, {"method", method}, {"reason", reason}});
  };
  EXPECT_EQ(failures("PLAIN", "bad_credentials"), 1);
  EXPECT_EQ(failures("PLAIN", "unspecified"), 1);
  EXPECT_EQ(failures("LOGIN", "unknown_account"), 1);
  // The disconnect's auth=0/1 knew its failure was logged (held, not lost).
  EXPECT_EQ(failures("unknown", "auth_unavailable"), 0);
  EXPECT_EQ(second.pipeline()->refiner().held(), 0u);
}

TEST_F(PipelineStateTest, MalformedSectionsAreRejected) {
  test::PipelineHarness h;
  StateDocument doc;
  EXPECT_FALSE(h.pipeline()->RestoreState(doc).ok());
  h.pipeline()->SaveState(&doc);
  doc.sections["sessions"].push_back("proc x");
  test::PipelineHarness h2;
  EXPECT_FALSE(h2.pipeline()->RestoreState(doc).ok());
  h.pipeline()->SaveState(&doc);
  doc.sections["refiner"].push_back("held x");
  test::PipelineHarness h3;
  EXPECT_FALSE(h3.pipeline()->RestoreState(doc).ok());
}

}  // namespace
}  // namespace pse
