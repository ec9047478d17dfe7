#include "exporter/triage/username_label.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace pse {
namespace triage {
namespace {

const SipKey kKey = UsernameLabeler::KeyFromSecret("0123456789abcdef-test-key");

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(UsernameLabeler, HashLabelIsStableAndShaped) {
  const UsernameLabeler a(kKey, false);
  const UsernameLabeler b(kKey, false);
  const std::string label = a.Label("alice", a.Identity("alice"));
  EXPECT_EQ(label, b.Label("alice", b.Identity("alice")));
  ASSERT_EQ(label.size(), 18u);
  EXPECT_EQ(label.substr(0, 2), "h:");
  EXPECT_EQ(label.find_first_not_of("0123456789abcdef", 2), std::string::npos) << label;
  EXPECT_EQ(label.find("alice"), std::string::npos);
  EXPECT_NE(a.Identity("alice"), a.Identity("alice2"));
}

TEST(UsernameLabeler, HashDependsOnTheKey) {
  const UsernameLabeler a(kKey, false);
  const UsernameLabeler b(UsernameLabeler::KeyFromSecret("another secret of 16+ bytes"), false);
  EXPECT_NE(a.Label("alice", a.Identity("alice")), b.Label("alice", b.Identity("alice")));
  EXPECT_NE(a.Fingerprint(), b.Fingerprint());
  EXPECT_NE(a.Fingerprint(), UsernameLabeler(kKey, true).Fingerprint());
}

TEST(UsernameLabeler, KnownLabel) {
  // Pins the derivation: a label an operator computed last year must still
  // match this year's build.
  const UsernameLabeler a(UsernameLabeler::KeyFromSecret("0123456789abcdef"), false);
  EXPECT_EQ(a.Label("alice@example.org", a.Identity("alice@example.org")), "h:00e5f47b6a9de80b");
}

TEST(UsernameLabeler, PlainKeepsCleanNames) {
  const UsernameLabeler p(kKey, true);
  EXPECT_EQ(p.Label("alice@example.org", p.Identity("alice@example.org")), "alice@example.org");
  EXPECT_EQ(p.Label("a \"b\" \\c", 0), "a \"b\" \\c");  // the serializer escapes these
}

TEST(SanitizeUsername, ReplacesControlAndInvalidUtf8) {
  EXPECT_EQ(SanitizeUsername("a\nb", 64),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUsername("a\x7f", 64), "a\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUsername("\xff"
                             "x",
                             64),
            "\xEF\xBF\xBD"
            "x");
  EXPECT_EQ(SanitizeUsername("\xC0\xAF", 64), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(SanitizeUsername("\xED\xA0\x80", 64),                           // a surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUsername("j\xC3\xBCrgen", 64), "j\xC3\xBCrgen");  // valid UTF-8 stays
  EXPECT_EQ(SanitizeUsername("\xC2\x85", 64), "\xEF\xBF\xBD");        // C1 control (NEL)
}

TEST(SanitizeUsername, CapsLengthAtCharacterBoundary) {
  EXPECT_EQ(SanitizeUsername(std::string(100, 'x'), 64), std::string(64, 'x'));
  // 63 ASCII bytes then a 2-byte character: it does not fit whole.
  EXPECT_EQ(SanitizeUsername(std::string(63, 'x') + "\xC3\xBC", 64), std::string(63, 'x'));
}

TEST(SanitizeUsername, OtherIsReserved) {
  EXPECT_EQ(SanitizeUsername("other", 64), "(other)");
  const UsernameLabeler p(kKey, true);
  EXPECT_EQ(p.Label("other", p.Identity("other")), "(other)");
  EXPECT_EQ(p.Identity("other"), p.Identity("(other)"));
}

TEST(UsernameLabeler, PlainIdentityFollowsTheLabel) {
  const UsernameLabeler p(kKey, true);
  // Two names that sanitise alike are one series, never two with one label.
  EXPECT_EQ(p.Identity("a\x01"), p.Identity("a\x02"));
  EXPECT_EQ(p.Identity(std::string(70, 'y')), p.Identity(std::string(64, 'y')));
  EXPECT_NE(p.Identity("a"), p.Identity("b"));
  const std::string label = p.Label("a\x01", p.Identity("a\x01"));
  EXPECT_EQ(label, "a\xEF\xBF\xBD");
}

TEST(UsernameLabeler, ReadKeyFile) {
  const std::string good = WriteFile("key_good", "0123456789abcdef\n");
  auto key = UsernameLabeler::ReadKeyFile(good);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, UsernameLabeler::KeyFromSecret("0123456789abcdef\n"));
  auto shorter = UsernameLabeler::ReadKeyFile(WriteFile("key_short", "0123456789abcde"));
  ASSERT_FALSE(shorter.ok());
  EXPECT_NE(shorter.status().message().find("key_short holds 15 bytes"), std::string::npos)
      << shorter.status();
  auto missing = UsernameLabeler::ReadKeyFile(::testing::TempDir() + "/no_such_key");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no_such_key"), std::string::npos);
}

TEST(UsernameLabeler, RandomKeysDiffer) {
  EXPECT_NE(UsernameLabeler::RandomKey(), UsernameLabeler::RandomKey());
}

}  // namespace
}  // namespace triage
}  // namespace pse
