// Tests of JournalSource on real journal files (see
// journal_source_test_support.h): which entries are selected and how they
// become records; options, Describe() and LocalJournalAvailable().
// Positions, cursors and restarts: journal_source_position_test.cc; rotation,
// tie groups and directories: journal_source_rotation_test.cc.
#include "exporter/sources/journal_source.h"

#include <string>
#include <vector>

#include "exporter/sources/journal_source_test_support.h"
#include "gtest/gtest.h"

namespace pse {
namespace journal_test {
namespace {

TEST_F(JournalSourceTest, DefaultMatchFindsDebianSliceAndRhelUnit) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate([&] {
    auto o = Options();
    o.once = true;
    return o;
  }());
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->matches(), (std::vector<std::string>{"_SYSTEMD_SLICE=system-postfix.slice",
                                                         "_SYSTEMD_UNIT=postfix.service"}));
  CollectingSink sink;
  Drain(source.get(), &sink);
  // The .log twin holds exactly the entries the default match selects, as
  // RFC 3339 syslog lines: the same data for the file source.
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix.log")));
  ASSERT_EQ(sink.records.size(), kFirstSelected);
  EXPECT_EQ(sink.records.front().pid, 2001);  // postfix@-.service (Debian)
  EXPECT_EQ(sink.records.back().pid, 4010);   // postfix.service (RHEL)
  EXPECT_EQ(source->stats().errors, 0u);
}

TEST_F(JournalSourceTest, MoreFixtureMatchesItsLogTwin) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  CollectingSink sink;
  for (const Record& r : ReadOnce(Options())) sink.records.push_back(r);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix-more.log")));
  EXPECT_EQ(sink.records.size(), kMoreSelected);
}

TEST_F(JournalSourceTest, RecordFieldsComeFromEntryFields) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  std::vector<Record> records = ReadOnce(Options());
  ASSERT_GE(records.size(), 3u);
  EXPECT_EQ(records[0].timestamp_us, 1715680800100123);
  EXPECT_EQ(records[0].syslog_name, "postfix/submission");
  EXPECT_EQ(records[0].daemon, "smtpd");
  EXPECT_EQ(records[0].pid, 2001);
  EXPECT_EQ(records[0].message, "connect from unknown[192.0.2.1]");
  EXPECT_EQ(records[1].timestamp_us, 1715680802250000);
  EXPECT_EQ(records[1].message,
            "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
  EXPECT_EQ(records[2].message,
            "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3");
}

TEST_F(JournalSourceTest, UnitOverrideSelectsOnlyThatUnit) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"postfix.service"};
  std::vector<Record> records = ReadOnce(o);
  std::vector<int64_t> pids;
  for (const Record& r : records) pids.push_back(r.pid);
  EXPECT_EQ(pids, (std::vector<int64_t>{4001, 4001, 4001, 4001, 4002, 4002, 4010}));
}

TEST_F(JournalSourceTest, UnitWithoutSuffixMeansService) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"postfix@-"};
  o.once = true;
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->matches(), std::vector<std::string>{"_SYSTEMD_UNIT=postfix@-.service"});
  CollectingSink sink;
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), 10u);
}

TEST_F(JournalSourceTest, SliceOverrideSelectsOnlyThatSlice) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.slice = "system-postfix";
  std::vector<Record> records = ReadOnce(o);
  ASSERT_EQ(records.size(), 10u);
  for (const Record& r : records) {
    EXPECT_GE(r.pid, 2001);
    EXPECT_LE(r.pid, 2005);
  }
}

TEST_F(JournalSourceTest, UnitsAndSliceAreOred) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"cron.service", "postfix.service"};
  o.slice = "system-postfix.slice";
  std::vector<Record> records = ReadOnce(o);
  // Everything Postfix logged, including postdrop run from a cron job.
  EXPECT_EQ(records.size(), kFirstSelected + 1);
}

TEST_F(JournalSourceTest, OnlyPostfixAndDovecotIdentifiersBecomeRecords) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"cron.service", "dovecot.service"};
  o.once = true;
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  Drain(source.get(), &sink);
  // CRON's entries are skipped; postdrop (a Postfix program) is not, nor are
  // Dovecot's (its auth failures refine Postfix's, reason_refiner.h).
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].syslog_name, "dovecot");
  EXPECT_EQ(sink.records[0].daemon, "");
  EXPECT_EQ(sink.records[0].message,
            "auth-worker(3105): pam(info@example.org,192.0.2.1): unknown user");
  EXPECT_EQ(sink.records[1].syslog_name, "postfix");
  EXPECT_EQ(sink.records[1].daemon, "postdrop");
  EXPECT_EQ(sink.records[2].syslog_name, "dovecot");
  EXPECT_EQ(source->stats().errors, 0u);
}

TEST_F(JournalSourceTest, IdentifierWithoutDaemonIsSkipped) {
  ASSERT_TRUE(
      ExportToJournal("__REALTIME_TIMESTAMP=1715680800000000\n__MONOTONIC_TIMESTAMP=1000\n"
                      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
                      "SYSLOG_IDENTIFIER=postfix\nMESSAGE=fatal: usage: postfix start\n\n"
                      "__REALTIME_TIMESTAMP=1715680801000000\n__MONOTONIC_TIMESTAMP=2000\n"
                      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
                      "MESSAGE=no identifier at all\n\n",
                      journal_file_));
  EXPECT_TRUE(ReadOnce(Options()).empty());
}

TEST_F(JournalSourceTest, PidFallsBackToPidFieldThenMinusOne) {
  ASSERT_TRUE(ExportToJournal(
      "__REALTIME_TIMESTAMP=1715680800000000\n__MONOTONIC_TIMESTAMP=1000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\n_PID=77\nMESSAGE=connect from unknown[192.0.2.1]\n\n"
      "__REALTIME_TIMESTAMP=1715680801000000\n__MONOTONIC_TIMESTAMP=2000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=x\nMESSAGE=no usable pid\n\n"
      "__REALTIME_TIMESTAMP=1715680802000000\n__MONOTONIC_TIMESTAMP=3000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=78\n\n",
      journal_file_));
  std::vector<Record> records = ReadOnce(Options());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].pid, 77);
  EXPECT_EQ(records[1].pid, -1);
  EXPECT_EQ(records[1].message, "no usable pid");
  // No MESSAGE: delivered empty, so the pipeline counts it as unparsable.
  EXPECT_EQ(records[2].pid, 78);
  EXPECT_EQ(records[2].message, "");
}

TEST_F(JournalSourceTest, BinaryMessageIsDeliveredByteExact) {
  // Export format stores non-text values as: name, '\n', 64-bit LE length, data, '\n'.
  const std::string message("warning: \xff\xfe bad bytes\0after NUL\nsecond line", 44);
  std::string text =
      "__REALTIME_TIMESTAMP=1715680800000000\n__MONOTONIC_TIMESTAMP=1000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=9\nMESSAGE\n";
  uint64_t n = message.size();
  for (int i = 0; i < 8; ++i) text.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  text += message + "\n\n";
  ASSERT_TRUE(ExportToJournal(text, journal_file_));
  std::vector<Record> records = ReadOnce(Options());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, message);
  EXPECT_EQ(records[0].message.size(), 44u);
}

TEST_F(JournalSourceTest, InvalidOptionsAreRejected) {
  auto o = Options();
  o.batch = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(JournalSource::Create(o).status()));
  o = Options();
  o.units = {"postfix.service", ""};
  EXPECT_TRUE(absl::IsInvalidArgument(JournalSource::Create(o).status()));
  o = Options();
  o.cursor_file = dir_ / "no/such/dir/cursor";
  auto bad_dir = JournalSource::Create(o);
  EXPECT_TRUE(absl::IsInvalidArgument(bad_dir.status()));
  EXPECT_NE(bad_dir.status().message().find(o.cursor_file), absl::string_view::npos);
}

TEST_F(JournalSourceTest, UnreadableCursorFileStopsStartUp) {
  auto o = Options();
  o.cursor_file = dir_ / "cursor";
  // A directory where the file should be: open() succeeds but read() fails
  // with EISDIR, which no permission bits (we run as root) can bypass.
  ASSERT_TRUE(fs::create_directory(o.cursor_file));
  auto source = JournalSource::Create(o);
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find(o.cursor_file), absl::string_view::npos)
      << source.status();
}

TEST_F(JournalSourceTest, Describe) {
  auto o = Options();
  auto dir_source = MustCreate(o);
  ASSERT_NE(dir_source, nullptr);
  EXPECT_EQ(dir_source->Describe(), "journal:" + journal_dir_);
  o.journal_path.clear();
  auto local = MustCreate(o);
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->Describe(), "journal:local");
}

TEST(LocalJournalAvailableTest, FalseWithoutJournalDirectories) {
  TempDir dir;
  EXPECT_FALSE(LocalJournalAvailable(dir / "run", dir / "var"));
  ASSERT_TRUE(fs::create_directory(dir / "var"));
  // sd_journal_open of the local journal works without journald running.
  EXPECT_TRUE(LocalJournalAvailable(dir / "run", dir / "var"));
}

}  // namespace
}  // namespace journal_test
}  // namespace pse
