// Tests of JournalSource on real journal files (see
// journal_source_test_support.h): journal files rotated, vacuumed or added,
// entries tied on boot ID + monotonic time across files, and journal
// directories missing, created, removed and recreated.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporter/sources/journal_source.h"
#include "exporter/sources/journal_source_test_support.h"
#include "gtest/gtest.h"

namespace pse {
namespace journal_test {
namespace {

TEST_F(JournalSourceTest, FollowsNewJournalFileInDirectory) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate(Options());
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  source->Poll(&sink);
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_dir_ + "/second.journal"));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix-more.log")));
}

TEST_F(JournalSourceTest, RotationIsFollowedWithoutLossOrRepeat) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.once = false;
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.records.size(), kMoreSelected);

  // journald's rotation: the active file is renamed to an archived name and
  // a new active file is started.
  fs::rename(journal_file_, journal_dir_ + "/remote@0000000000000001-0000000000000001.journal");
  const uint64_t rotations_before = source->stats().rotations;
  ASSERT_TRUE(ExportToJournal(ShiftExport(Fixture("postfix-more.export"), 600), journal_file_));
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.records.size(), 2 * kMoreSelected);
  EXPECT_EQ(sink.records[kMoreSelected].timestamp_us, 1715680860000000 + 600 * 1000000LL);
  EXPECT_GT(source->stats().rotations, rotations_before);
  EXPECT_TRUE(source->stats().up);
}

// Export text of one selected Postfix entry with the given timestamps (the
// boot ID of the fixtures); `n` goes into the message.
std::string TiedEntry(int n, int64_t realtime_us, int64_t monotonic_us) {
  return absl::StrCat("__REALTIME_TIMESTAMP=", realtime_us,
                      "\n__MONOTONIC_TIMESTAMP=", monotonic_us,
                      "\n_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n"
                      "_MACHINE_ID=9a8b7c6d5e4f30211203f4e5d6c7b8a9\n_HOSTNAME=mail\n"
                      "_SYSTEMD_UNIT=postfix@-.service\n_SYSTEMD_SLICE=system-postfix.slice\n"
                      "SYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=",
                      3000 + n, "\nMESSAGE=entry ", n, "\n\n");
}

// Each journal-remote file has its own seqnum ID, so sd-journal orders
// entries of two files by boot ID + monotonic time, then realtime. An entry
// that ties the one last read on boot ID + monotonic time but has an earlier
// realtime sorts before it; sd_journal_next() alone never returns it.
TEST_F(JournalSourceTest, TiedEntryInNewFileIsNotLost) {
  constexpr int64_t kRt = 1715680800000000;
  constexpr int64_t kMono = 10800000000;
  ASSERT_TRUE(
      ExportToJournal(absl::StrCat(TiedEntry(0, kRt, kMono), TiedEntry(1, kRt + 2000, kMono + 200)),
                      journal_file_));
  auto o = Options();
  o.resume_cursor = std::string(kHeadPosition);
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.Pids(), (std::vector<int64_t>{3000, 3001}));

  // A new file (a new seqnum ID) whose first entry ties entry 1 and sorts
  // before it.
  const std::string second = journal_dir_ + "/second.journal";
  ASSERT_TRUE(ExportToJournal(
      absl::StrCat(TiedEntry(2, kRt + 1500, kMono + 200), TiedEntry(3, kRt + 3000, kMono + 300)),
      second));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.Pids(), (std::vector<int64_t>{3000, 3001, 3002, 3003}));
  const uint64_t rotations = source->stats().rotations;
  EXPECT_GT(rotations, 0u);

  // An append to the other file that ties entry 3 (now the one last read)
  // and sorts before it: no file is added, the same re-read applies.
  ASSERT_TRUE(ExportToJournal(
      absl::StrCat(TiedEntry(4, kRt + 2500, kMono + 300), TiedEntry(5, kRt + 4000, kMono + 400)),
      journal_file_));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.Pids(), (std::vector<int64_t>{3000, 3001, 3002, 3003, 3004, 3005}));
  EXPECT_EQ(source->stats().errors, 0u);

  // Nothing new: polling again re-reads nothing.
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), 6u);

  // A restart from the saved position neither repeats nor loses.
  auto o2 = Options();
  o2.resume_cursor = source->CheckpointText();
  auto restarted = MustCreate(o2);
  ASSERT_NE(restarted, nullptr);
  CollectingSink sink2;
  Drain(restarted.get(), &sink2);
  EXPECT_TRUE(sink2.records.empty());
  ASSERT_TRUE(ExportToJournal(TiedEntry(6, kRt + 5000, kMono + 500), second));
  Drain(restarted.get(), &sink2);
  EXPECT_EQ(sink2.Pids(), (std::vector<int64_t>{3006}));
}

// The same tie in a file that appears while the exporter is down: the
// saved position carries the tie group, so the restart reads the new entry
// once and repeats nothing.
TEST_F(JournalSourceTest, TiedEntryWrittenWhileDownIsReadOnce) {
  constexpr int64_t kRt = 1715680800000000;
  constexpr int64_t kMono = 10800000000;
  ASSERT_TRUE(ExportToJournal(
      absl::StrCat(TiedEntry(0, kRt, kMono + 200), TiedEntry(1, kRt + 2000, kMono + 200)),
      journal_file_));
  auto o = Options();
  o.resume_cursor = std::string(kHeadPosition);
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.Pids(), (std::vector<int64_t>{3000, 3001}));
  const std::string position = source->CheckpointText();
  EXPECT_TRUE(absl::StartsWith(position, absl::StrCat(source->cursor(), "\ntie=")));
  source.reset();

  ASSERT_TRUE(
      ExportToJournal(TiedEntry(2, kRt + 1500, kMono + 200), journal_dir_ + "/second.journal"));
  auto o2 = Options();
  o2.resume_cursor = position;
  auto restarted = MustCreate(o2);
  ASSERT_NE(restarted, nullptr);
  CollectingSink sink2;
  Drain(restarted.get(), &sink2);
  EXPECT_EQ(sink2.Pids(), (std::vector<int64_t>{3002}));
}

TEST_F(JournalSourceTest, VacuumedFileIsSurvived) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate(Options());
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.records.size(), kMoreSelected);

  // The file being read is deleted (journald --vacuum-*) and a new one starts.
  const uint64_t rotations_before = source->stats().rotations;
  ASSERT_TRUE(fs::remove(journal_file_));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), kMoreSelected);
  EXPECT_GT(source->stats().rotations, rotations_before);
  ASSERT_TRUE(ExportToJournal(ShiftExport(Fixture("postfix-more.export"), 600),
                              journal_dir_ + "/new.journal"));
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.records.size(), 2 * kMoreSelected);
  EXPECT_EQ(sink.records[kMoreSelected].timestamp_us, 1715680860000000 + 600 * 1000000LL);
  EXPECT_TRUE(source->stats().up);
}

TEST_F(JournalSourceTest, MissingDirectoryAtStartThenCreated) {
  auto o = Options();
  o.journal_path = dir_ / "later";
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  EXPECT_FALSE(source->stats().up);
  EXPECT_EQ(source->Poll(&sink), 0u);
  EXPECT_FALSE(source->stats().up);
  EXPECT_FALSE(source->AtEnd());
  EXPECT_EQ(source->stats().errors, 0u);  // waiting is not an error
  ASSERT_TRUE(fs::create_directory(o.journal_path));
  EXPECT_EQ(source->Poll(&sink), 0u);  // empty directory: open, nothing yet
  EXPECT_TRUE(source->stats().up);
  // Everything in a journal that appeared after start is new: read from its head.
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), o.journal_path + "/system.journal"));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix.log")));
}

TEST_F(JournalSourceTest, MissingDirectoryWithEntriesWhenItAppears) {
  auto o = Options();
  o.journal_path = dir_ / "later";
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  source->Poll(&sink);
  ASSERT_TRUE(fs::create_directory(o.journal_path));
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), o.journal_path + "/system.journal"));
  Drain(source.get(), &sink);
  EXPECT_TRUE(source->stats().up);
  EXPECT_EQ(sink.records.size(), kFirstSelected);
}

TEST_F(JournalSourceTest, DirectoryRemovedAndRecreatedIsReopened) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate(Options());
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  source->Poll(&sink);
  fs::remove_all(journal_dir_);
  EXPECT_EQ(source->Poll(&sink), 0u);
  EXPECT_FALSE(source->stats().up);
  ASSERT_TRUE(fs::create_directory(journal_dir_));
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  Drain(source.get(), &sink);
  EXPECT_TRUE(source->stats().up);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix-more.log")));
}

TEST_F(JournalSourceTest, MissingDirectoryWithOnceFails) {
  auto o = Options();
  o.journal_path = dir_ / "absent";
  o.once = true;
  auto source = JournalSource::Create(o);
  ASSERT_FALSE(source.ok());
  EXPECT_TRUE(absl::IsNotFound(source.status())) << source.status();
  EXPECT_NE(source.status().message().find(o.journal_path), absl::string_view::npos);
}

}  // namespace
}  // namespace journal_test
}  // namespace pse
