#include "exporter/config.h"

#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pse {
namespace {

struct Opts {
  bool flag = false;
  std::string path = "/var/log/mail.log";
  std::vector<std::string> listen = {":9154"};
  absl::Duration window = absl::Seconds(60);
  int64_t max = 10;
  int64_t bytes = 65536;
  std::string level = "info";
  std::string telemetry = "/metrics";
  OptionSet set;
  Opts() {
    set.AddBool("postfix.logfile_from_beginning", &flag, "h");
    set.AddString("postfix.logfile_path", &path, "h");
    set.AddStringList("web.listen-address", &listen, "h");
    set.AddDuration("sessions.peak_window", &window, "h");
    set.AddInt("sessions.max_tracked", &max, 1, 100, "h");
    set.AddBytes("postfix.logfile_max_line_length", &bytes, 1024, 1 << 30, "h");
    set.AddEnum("log.level", &level, {"debug", "info"}, "h");
    set.AddString("config.file", &path, "h");
    set.AddString("web.telemetry-path", &telemetry, "h", [](absl::string_view v) {
      return !v.empty() && v[0] == '/' ? absl::OkStatus()
                                       : absl::InvalidArgumentError("must start with /");
    });
  }
  absl::Status Args(std::vector<const char*> a) {
    a.insert(a.begin(), "prog");
    return set.ParseArgs(static_cast<int>(a.size()), a.data());
  }
};

std::string WriteTemp(const std::string& text) {
  std::string path = ::testing::TempDir() + "/config_test_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yml";
  std::ofstream(path) << text;
  return path;
}

TEST(Config, FlagsOfEveryKind) {
  Opts o;
  ASSERT_TRUE(o.Args({"--postfix.logfile_from_beginning", "--postfix.logfile_path", "/x",
                      "--web.listen-address=:1", "--web.listen-address=[::1]:2",
                      "--sessions.peak_window=2m", "--sessions.max_tracked=50",
                      "--postfix.logfile_max_line_length=1MiB", "--log.level=debug"})
                  .ok());
  EXPECT_TRUE(o.flag);
  EXPECT_EQ(o.path, "/x");
  EXPECT_EQ(o.listen, (std::vector<std::string>{":1", "[::1]:2"}));
  EXPECT_EQ(o.window, absl::Minutes(2));
  EXPECT_EQ(o.max, 50);
  EXPECT_EQ(o.bytes, 1 << 20);
  EXPECT_EQ(o.level, "debug");
  ASSERT_TRUE(o.Args({"--no-postfix.logfile_from_beginning"}).ok());
  EXPECT_FALSE(o.flag);
}

TEST(Config, BadFlagsNameTheFlag) {
  Opts o;
  absl::Status st = o.Args({"--nope"});
  EXPECT_NE(st.message().find("unknown flag --nope"), std::string::npos) << st;
  st = o.Args({"--sessions.max_tracked=500"});
  EXPECT_NE(st.message().find("flag --sessions.max_tracked"), std::string::npos) << st;
  st = o.Args({"--sessions.peak_window=soon"});
  EXPECT_NE(st.message().find("--sessions.peak_window"), std::string::npos) << st;
  st = o.Args({"--log.level=loud"});
  EXPECT_NE(st.message().find("want one of debug, info"), std::string::npos) << st;
  st = o.Args({"--postfix.logfile_path"});
  EXPECT_NE(st.message().find("needs a value"), std::string::npos) << st;
  st = o.Args({"stray"});
  EXPECT_FALSE(st.ok());
}

TEST(Config, YamlFlatAndNestedKeysAndFlagsWin) {
  Opts o;
  ASSERT_TRUE(o.Args({"--sessions.max_tracked=7"}).ok());
  std::string path = WriteTemp(
      "postfix.logfile_path: /from/file\n"
      "sessions:\n"
      "  peak_window: 30s\n"
      "  max_tracked: 99\n"
      "web:\n"
      "  listen-address: [\":1\", \":2\"]\n");
  ASSERT_TRUE(o.set.LoadYamlFile(path).ok());
  EXPECT_EQ(o.path, "/from/file");
  EXPECT_EQ(o.window, absl::Seconds(30));
  EXPECT_EQ(o.max, 7);  // the flag wins
  EXPECT_EQ(o.listen, (std::vector<std::string>{":1", ":2"}));
}

TEST(Config, ValidatorsReportLikeEveryOtherBadValue) {
  Opts o;
  absl::Status st = o.Args({"--web.telemetry-path=metrics"});
  EXPECT_EQ(st.message(),
            "flag --web.telemetry-path: invalid value \"metrics\": must start with /");
  std::string path = WriteTemp("web:\n  telemetry-path: metrics\n");
  st = o.set.LoadYamlFile(path);
  EXPECT_EQ(st.message(),
            path + ":2: key \"web.telemetry-path\": invalid value \"metrics\": must start with /");
  path = WriteTemp("web: 5\n");
  st = o.set.LoadYamlFile(path);
  EXPECT_EQ(st.message(), path + ":1: key \"web\": want a mapping of web.* options");
}

TEST(Config, YamlErrorsNameFileLineAndKey) {
  Opts o;
  std::string path = WriteTemp("postfix.logfile_path: /x\nsessions:\n  peak_windw: 30s\n");
  absl::Status st = o.set.LoadYamlFile(path);
  EXPECT_EQ(st.message(), path + ":3: key \"sessions.peak_windw\": unknown key");
  path = WriteTemp("sessions.max_tracked: lots\n");
  st = o.set.LoadYamlFile(path);
  EXPECT_NE(st.message().find(path + ":1: key \"sessions.max_tracked\": invalid value \"lots\""),
            std::string::npos)
      << st;
  path = WriteTemp("sessions.peak_window: [1, 2]\n");
  st = o.set.LoadYamlFile(path);
  EXPECT_NE(st.message().find("want a single value"), std::string::npos) << st;
  path = WriteTemp("a: [unclosed\n");
  st = o.set.LoadYamlFile(path);
  EXPECT_NE(st.message().find("invalid YAML"), std::string::npos) << st;
  EXPECT_NE(st.message().find(path + ":"), std::string::npos) << st;
  st = o.set.LoadYamlFile("/nonexistent/x.yml");
  EXPECT_NE(st.message().find("/nonexistent/x.yml: cannot read"), std::string::npos) << st;
  path = WriteTemp("config.file: /x\n");
  EXPECT_FALSE(o.set.LoadYamlFile(path).ok());
}

TEST(Config, MappingListsComeFromTheFileWithFileLineAndKeyErrors) {
  std::vector<OptionSet::Mapping> rules;
  OptionSet set;
  set.AddMappingList(
      "sasl.reason_rules", &rules, {"match", "reason"}, "h", [](const OptionSet::Mapping& m) {
        return m.at("reason") == "bad_credentials" ? absl::OkStatus()
                                                   : absl::InvalidArgumentError("unknown reason");
      });
  std::string path = WriteTemp(
      "sasl:\n  reason_rules:\n    - match: 'LDAP: invalid'\n      reason: bad_credentials\n"
      "    - {match: x, reason: bad_credentials}\n");
  ASSERT_TRUE(set.LoadYamlFile(path).ok());
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].at("match"), "LDAP: invalid");

  path = WriteTemp(
      "sasl:\n  reason_rules:\n    - {match: x, reason: bad_credentials}\n"
      "    - {match: y, reason: nonsense}\n");
  absl::Status st = set.LoadYamlFile(path);
  EXPECT_EQ(st.message(), path + ":4: key \"sasl.reason_rules\": unknown reason") << st;
  path = WriteTemp("sasl.reason_rules:\n  - {match: y}\n");
  st = set.LoadYamlFile(path);
  EXPECT_NE(st.message().find(path + ":2: key \"sasl.reason_rules\": item without \"reason\""),
            std::string::npos)
      << st;
  path = WriteTemp("sasl.reason_rules:\n  - {match: y, reason: bad_credentials, extra: 1}\n");
  EXPECT_NE(set.LoadYamlFile(path).message().find("unknown item key \"extra\""), std::string::npos);
  path = WriteTemp("sasl.reason_rules: just-a-string\n");
  EXPECT_NE(set.LoadYamlFile(path).message().find("want a list of mappings"), std::string::npos);
  const char* argv[] = {"prog", "--sasl.reason_rules=x"};
  EXPECT_NE(set.ParseArgs(2, argv).message().find("can only be set in a config file"),
            std::string::npos);
}

}  // namespace
}  // namespace pse
