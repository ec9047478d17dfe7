// Tests of JournalSource on real journal files (see
// journal_source_test_support.h): where reading starts and resumes: the end
// or the head, cursor files and resume cursors, checkpoints, restarts,
// Reopen(), `once` and the batch bound.
#include <string>
#include <vector>

#include "exporter/sources/journal_source.h"
#include "exporter/sources/journal_source_test_support.h"
#include "gtest/gtest.h"

namespace pse {
namespace journal_test {
namespace {

TEST_F(JournalSourceTest, StartsAtEnd) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate(Options());
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  EXPECT_EQ(source->Poll(&sink), 0u);
  EXPECT_TRUE(sink.records.empty());
  EXPECT_TRUE(source->stats().up);
  EXPECT_TRUE(source->stats().idle);
  EXPECT_FALSE(source->AtEnd());

  // Appending to the journal file while the source has it open.
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix-more.log")));
}

TEST_F(JournalSourceTest, NothingSelectedAtStartThenPostfixLogs) {
  // Only cron and dovecot have logged so far: nothing selected exists.
  ASSERT_TRUE(ExportToJournal(
      FilterExport(Fixture("postfix.export"), "_SYSTEMD_UNIT=postfix", false), journal_file_));
  auto source = MustCreate(Options());
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  EXPECT_EQ(source->Poll(&sink), 0u);
  ASSERT_TRUE(ExportToJournal(
      ShiftExport(FilterExport(Fixture("postfix.export"), "_SYSTEMD_UNIT=postfix", true), 3600),
      journal_file_));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), kFirstSelected);
}

// Found by tests/reliability/journal_soak.py: killed before it read the first
// entry of an empty journal, the exporter had saved an empty position, and
// restarted at the end, losing every entry written meanwhile.
TEST_F(JournalSourceTest, EmptyJournalPositionResumesAtHead) {
  std::string position;
  {
    auto first = MustCreate(Options());  // the directory exists but is empty
    ASSERT_NE(first, nullptr);
    CollectingSink sink;
    EXPECT_EQ(first->Poll(&sink), 0u);
    position = first->CheckpointText();
  }
  EXPECT_EQ(position, kHeadPosition);
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.resume_cursor = position;
  auto second = MustCreate(o);
  ASSERT_NE(second, nullptr);
  CollectingSink sink;
  Drain(second.get(), &sink);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix.log")));
  EXPECT_EQ(second->CheckpointText(), second->cursor());
  EXPECT_EQ(second->stats().errors, 0u);
}

TEST_F(JournalSourceTest, NoEntryYetIsNotEnd) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate(Options());
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(source->Poll(&sink), 0u);
    source->Wait(absl::ZeroDuration());
    EXPECT_FALSE(source->AtEnd());
  }
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  source->Wait(absl::ZeroDuration());
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), kMoreSelected);
  ASSERT_TRUE(ExportToJournal(ShiftExport(Fixture("postfix-more.export"), 600), journal_file_));
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.records.size(), 2 * kMoreSelected);
  EXPECT_EQ(sink.records.back().timestamp_us, 1715680872000000 + 600 * 1000000LL);
}

TEST_F(JournalSourceTest, OnceReadsAllAndEnds) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.once = true;
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  EXPECT_FALSE(source->AtEnd());
  Drain(source.get(), &sink);
  EXPECT_TRUE(source->AtEnd());
  EXPECT_EQ(sink.records.size(), kFirstSelected);
  EXPECT_EQ(source->Poll(&sink), 0u);
  // Newest entry read: anvil's statistics line (the last selected entry).
  EXPECT_EQ(source->stats().newest_entry_us, 1715680845000000);
}

TEST_F(JournalSourceTest, BatchBoundsEntriesPerPoll) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.once = true;
  o.batch = 4;
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  EXPECT_EQ(source->Poll(&sink), 4u);
  EXPECT_FALSE(source->stats().idle);
  EXPECT_FALSE(source->AtEnd());
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix.log")));
}

TEST_F(JournalSourceTest, CursorRestartNeitherLosesNorRepeats) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.once = true;
  o.cursor_file = dir_ / "cursor";
  CollectingSink sink;
  {
    o.batch = 5;
    auto first = MustCreate(o);
    ASSERT_NE(first, nullptr);
    first->Poll(&sink);
    ASSERT_TRUE(first->Checkpoint().ok());
    EXPECT_EQ(ReadFile(o.cursor_file), first->cursor() + "\n");
  }
  EXPECT_EQ(sink.records.size(), 5u);
  {
    o.batch = 4096;
    auto second = MustCreate(o);
    ASSERT_NE(second, nullptr);
    Drain(second.get(), &sink);
    ASSERT_TRUE(second->Checkpoint().ok());
  }
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix.log")));

  // Written while the exporter is down; a following (not --once) restart
  // resumes after the saved entry, not at the end.
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  o.once = false;
  auto third = MustCreate(o);
  ASSERT_NE(third, nullptr);
  CollectingSink more;
  Drain(third.get(), &more);
  EXPECT_EQ(more.AsLogLines(), Lines(Fixture("postfix-more.log")));
  EXPECT_FALSE(fs::exists(o.cursor_file + ".tmp"));
}

TEST_F(JournalSourceTest, FirstCheckpointKeepsEntriesWrittenWhileDown) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.cursor_file = dir_ / "cursor";
  {
    auto first = MustCreate(o);
    ASSERT_NE(first, nullptr);
    CollectingSink sink;
    first->Poll(&sink);
    EXPECT_TRUE(sink.records.empty());  // started at the end
    ASSERT_TRUE(first->Checkpoint().ok());
    EXPECT_TRUE(fs::exists(o.cursor_file));
  }
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  auto second = MustCreate(o);
  ASSERT_NE(second, nullptr);
  CollectingSink sink;
  Drain(second.get(), &sink);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix-more.log")));
}

TEST_F(JournalSourceTest, CheckpointWithoutNewEntriesKeepsFile) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.once = true;
  o.cursor_file = dir_ / "cursor";
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  Drain(source.get(), &sink);
  ASSERT_TRUE(source->Checkpoint().ok());
  const std::string saved = ReadFile(o.cursor_file);
  EXPECT_EQ(saved, source->cursor() + "\n");
  // A second checkpoint with nothing new does not rewrite the file.
  WriteFile(o.cursor_file, "sentinel");
  ASSERT_TRUE(source->Checkpoint().ok());
  EXPECT_EQ(ReadFile(o.cursor_file), "sentinel");
}

TEST_F(JournalSourceTest, InvalidCursorFileIsLoggedAndIgnored) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.cursor_file = dir_ / "cursor";
  WriteFile(o.cursor_file, "this is not a cursor\n");
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->stats().errors, 1u);
  ASSERT_FALSE(log_.empty());
  EXPECT_NE(log_.back().find("this is not a cursor"), std::string::npos) << log_.back();
  CollectingSink sink;
  EXPECT_EQ(source->Poll(&sink), 0u);  // fell back to the end
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), kMoreSelected);
}

TEST_F(JournalSourceTest, ResumeCursorOptionWinsOverCursorFile) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.once = true;
  o.batch = 5;
  CollectingSink sink;
  std::string cursor;
  {
    auto first = MustCreate(o);
    ASSERT_NE(first, nullptr);
    first->Poll(&sink);
    cursor = first->cursor();
  }
  ASSERT_EQ(sink.records.size(), 5u);
  ASSERT_FALSE(cursor.empty());
  o.batch = 4096;
  o.cursor_file = dir_ / "cursor";
  WriteFile(o.cursor_file, "this is not a cursor\n");  // not read
  o.resume_cursor = cursor;
  auto second = MustCreate(o);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->stats().errors, 0u);
  Drain(second.get(), &sink);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix.log")));
  ASSERT_TRUE(second->Checkpoint().ok());  // the cursor file is still written
  EXPECT_EQ(ReadFile(o.cursor_file), second->cursor() + "\n");
}

TEST_F(JournalSourceTest, OversizedCursorFileIsLoggedAndIgnored) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.cursor_file = dir_ / "cursor";
  WriteFile(o.cursor_file, std::string(100 * 1024, 'x'));
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->stats().errors, 1u);
  CollectingSink sink;
  EXPECT_EQ(source->Poll(&sink), 0u);  // started at the end
}

TEST_F(JournalSourceTest, ReopenResumesAfterLastEntry) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate(Options());
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  Drain(source.get(), &sink);
  ASSERT_EQ(sink.records.size(), kMoreSelected);
  source->Reopen();
  EXPECT_TRUE(source->stats().up);
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), kMoreSelected);
  ASSERT_TRUE(ExportToJournal(ShiftExport(Fixture("postfix-more.export"), 600), journal_file_));
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), 2 * kMoreSelected);
}

}  // namespace
}  // namespace journal_test
}  // namespace pse
