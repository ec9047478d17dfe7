#include "exporter/sources/file_source.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/source_file_fixture.h"
#include "testing/source_wait.h"

namespace pse {
namespace {

using test::WaitOrFail;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A rotate_wait that does not end during a test.
constexpr absl::Duration kLongRotateWait = absl::Hours(1);

class FileSourceTest : public test::FileSourceFixture {};

TEST_F(FileSourceTest, StartsAtEndByDefault) {
  Append(log_, "old1\nold2\n");
  auto src = MustCreate(Options());
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  Append(log_, "new1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("new1"));
  EXPECT_TRUE(src->stats().up);
  EXPECT_EQ(src->Describe(), "file:" + log_);
}

TEST_F(FileSourceTest, StartAtEndInMiddleOfLineSkipsItsRest) {
  Append(log_, "old1\nold-partial");
  auto src = MustCreate(Options());
  Append(log_, "-rest\nnew1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("new1"));
  EXPECT_EQ(src->stats().lines_too_long, 0u);
}

TEST_F(FileSourceTest, FromBeginningReadsWholeFile) {
  Append(log_, "old1\nold2\n");
  FileSourceOptions o = Options();
  o.from_beginning = true;
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("old1", "old2"));
  Append(log_, "new1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("new1"));
  EXPECT_FALSE(src->AtEnd());
}

TEST_F(FileSourceTest, Append) {
  Append(log_, "");
  auto src = MustCreate(Options());
  for (int i = 0; i < 100; ++i) {
    Append(log_, absl::StrCat("line ", i, "\n"));
    ASSERT_THAT(PollAll(src.get()), ElementsAre(absl::StrCat("line ", i)));
  }
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
}

TEST_F(FileSourceTest, PartialLineHeldUntilCompleted) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "first\nsec");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("first"));
  Append(log_, "ond");
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  Append(log_, "\nthird\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("second", "third"));
}

TEST_F(FileSourceTest, CrLfAndEmptyLines) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a\r\n\n\r\nb\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a", "b"));
}

TEST_F(FileSourceTest, RenameRotationWithLinesWrittenToOldFileAfterRename) {
  FileSourceOptions o = Options();
  o.rotate_wait = absl::ZeroDuration();
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));

  Rename(log_, log_ + ".1");
  Append(log_ + ".1", "a2\n");  // the writer still has the old file open
  // Renamed, not yet replaced: keep following the old inode.
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2"));
  EXPECT_TRUE(src->stats().up);
  Append(log_ + ".1", "a3\n");
  Append(log_, "b1\n");  // new file created and written
  Append(log_ + ".1", "a4\npartial-at-rotation");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a3", "a4", "partial-at-rotation", "b1"));
  EXPECT_EQ(src->stats().rotations, 1u);
  Append(log_, "b2\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b2"));
  EXPECT_EQ(src->stats().rotations, 1u);
}

TEST_F(FileSourceTest, RotatedAwayFileReadDuringRotateWait) {
  FileSourceOptions o = Options();
  o.rotate_wait = kLongRotateWait;
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a1\na2-");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  Rename(log_, log_ + ".1");
  Append(log_, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  // The writer has not reopened yet: its lines still land in the old file,
  // and the partial line there gets completed.
  Append(log_ + ".1", "end\na3\n");
  Append(log_, "b2\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2-end", "a3", "b2"));
  EXPECT_EQ(src->stats().rotations, 1u);
}

TEST_F(FileSourceTest, TwoRotationsBetweenPolls) {
  FileSourceOptions o = Options();
  o.rotate_wait = absl::ZeroDuration();
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a\n");
  Rename(log_, log_ + ".1");
  Append(log_, "b\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a", "b"));
  Rename(log_, log_ + ".2");
  Append(log_, "c\n");
  Rename(log_, log_ + ".3");
  Append(log_, "d\n");
  // "c" sat in a file that was renamed away before we looked: it is found in
  // the directory and read before the new file; "a" and "b" are not again.
  EXPECT_THAT(PollAll(src.get()), ElementsAre("c", "d"));
  EXPECT_EQ(src->stats().rotations, 3u);
}

TEST_F(FileSourceTest, CopyTruncate) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a1\na2\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "a2"));
  Truncate(log_);
  Append(log_, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  EXPECT_EQ(src->stats().truncations, 1u);
  Append(log_, "b2\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b2"));
  EXPECT_EQ(src->stats().truncations, 1u);
}

TEST_F(FileSourceTest, CopyTruncateWithNulPadding) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a1\na2\na3\n");  // 9 bytes
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "a2", "a3"));
  Truncate(log_);
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_EQ(src->stats().truncations, 1u);
  // A writer without O_APPEND continues at its old offset: bytes 0..8 are a
  // hole of NULs.
  WriteAt(log_, 9, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  Append(log_, "b2\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b2"));
  EXPECT_EQ(src->stats().lines_too_long, 0u);
}

TEST_F(FileSourceTest, NulPaddingLongerThanLineCapIsNotALongLine) {
  FileSourceOptions o = Options();
  o.max_line_bytes = 16;
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  Truncate(log_);
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  WriteAt(log_, 200000, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  EXPECT_EQ(src->stats().lines_too_long, 0u);
}

TEST_F(FileSourceTest, DeleteAndRecreate) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  Append(log_, "a2\n");
  ASSERT_EQ(unlink(log_.c_str()), 0);
  // The deleted file is read to its end, then closed.
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2"));
  EXPECT_FALSE(src->stats().up);
  EXPECT_TRUE(Logged("deleted"));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_FALSE(Logged("does not exist"));  // the deletion was logged once
  Append(log_, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  EXPECT_TRUE(src->stats().up);
  EXPECT_EQ(src->stats().rotations, 1u);
}

TEST_F(FileSourceTest, DeleteAndRecreateBetweenPolls) {
  FileSourceOptions o = Options();
  o.rotate_wait = absl::ZeroDuration();
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  Append(log_, "a2\n");
  ASSERT_EQ(unlink(log_.c_str()), 0);
  Append(log_, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2", "b1"));
  EXPECT_EQ(src->stats().rotations, 1u);
}

TEST_F(FileSourceTest, FileMissingAtStartThenCreated) {
  auto src = MustCreate(Options());
  EXPECT_FALSE(src->stats().up);
  EXPECT_TRUE(Logged("does not exist"));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  // Logged once, not per Poll.
  int missing_logs = 0;
  for (const auto& l : logged_) missing_logs += absl::StrContains(l, "does not exist") ? 1 : 0;
  EXPECT_EQ(missing_logs, 1);
  Append(log_, "a1\na2\n");
  // A file that appears later is read from its start.
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "a2"));
  EXPECT_TRUE(src->stats().up);
  EXPECT_EQ(src->stats().rotations, 0u);
  EXPECT_EQ(src->stats().errors, 0u);
}

TEST_F(FileSourceTest, OverLongLineSkippedAndCounted) {
  FileSourceOptions o = Options();
  o.max_line_bytes = 16;
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "short\n" + std::string(40, 'x') + "\n" + std::string(16, 'y') + "\nafter\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("short", std::string(16, 'y'), "after"));
  EXPECT_EQ(src->stats().lines_too_long, 1u);
}

TEST_F(FileSourceTest, OverLongLineArrivingInPiecesSkippedWhole) {
  FileSourceOptions o = Options();
  o.max_line_bytes = 16;
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "ok\n" + std::string(20, 'x'));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("ok"));
  EXPECT_EQ(src->stats().lines_too_long, 1u);
  Append(log_, std::string(100000, 'x'));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  Append(log_, "tail-of-long\nnext\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("next"));
  EXPECT_EQ(src->stats().lines_too_long, 1u);
}

TEST_F(FileSourceTest, ReadBudgetBoundsOnePoll) {
  FileSourceOptions o = Options();
  o.read_budget_bytes = 10;
  Append(log_, "");
  auto src = MustCreate(o);
  std::string all;
  for (int i = 0; i < 20; ++i) all += absl::StrCat("l", i, "\n");
  Append(log_, all);
  std::vector<std::string> got;
  int polls = 0;
  for (; polls < 100; ++polls) {
    src->Poll(&sink_);
    for (auto& l : sink_.Take()) got.push_back(l);
    if (got.size() == 20) break;
    ASSERT_TRUE(WaitOrFail(src.get()));  // budget left data: returns at once
  }
  EXPECT_GT(polls, 5);
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], absl::StrCat("l", i));
}

TEST_F(FileSourceTest, WaitReturnsWhenDataIsAppended) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a1\n");
  ASSERT_TRUE(WaitOrFail(src.get()));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
}

TEST_F(FileSourceTest, WaitReturnsWhenMissingFileAppears) {
  auto src = MustCreate(Options());
  src->Wait(absl::Milliseconds(1));  // nothing there: returns on its timeout
  Append(log_, "a1\n");
  ASSERT_TRUE(WaitOrFail(src.get()));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
}

TEST_F(FileSourceTest, WaitReturnsOnRotationAndTruncation) {
  FileSourceOptions o = Options();
  o.rotate_wait = absl::ZeroDuration();
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a1\n");
  ASSERT_TRUE(WaitOrFail(src.get()));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  Rename(log_, log_ + ".1");
  Append(log_, "");  // new, still empty file
  ASSERT_TRUE(WaitOrFail(src.get()));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_EQ(src->stats().rotations, 1u);
  Append(log_, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  Truncate(log_);
  ASSERT_TRUE(WaitOrFail(src.get()));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_EQ(src->stats().truncations, 1u);
}

TEST_F(FileSourceTest, ReopenSameFileKeepsPosition) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a1\npart");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  src->Reopen();
  Append(log_, "ial\na2\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("partial", "a2"));
  EXPECT_EQ(src->stats().rotations, 0u);
  Append(log_, "a3\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a3"));
}

TEST_F(FileSourceTest, ReopenAfterRenameFollowsNewFile) {
  FileSourceOptions o = Options();
  o.rotate_wait = absl::ZeroDuration();
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  Rename(log_, log_ + ".1");
  Append(log_ + ".1", "a2\n");
  Append(log_, "b1\n");
  src->Reopen();
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2", "b1"));
  EXPECT_EQ(src->stats().rotations, 1u);
}

TEST_F(FileSourceTest, OnceReadsWholeFileThenAtEnd) {
  Append(log_, "a1\na2\nlast-without-newline");
  FileSourceOptions o = Options();
  o.once = true;
  auto src = MustCreate(o);
  EXPECT_FALSE(src->AtEnd());
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "a2", "last-without-newline"));
  EXPECT_TRUE(src->AtEnd());
  EXPECT_TRUE(WaitOrFail(src.get()));  // at end: returns at once
  EXPECT_EQ(src->Poll(&sink_), 0u);
}

TEST_F(FileSourceTest, OnceWithMissingFileFails) {
  FileSourceOptions o = Options();
  o.once = true;
  auto src = FileSource::Create(o);
  ASSERT_FALSE(src.ok());
  EXPECT_TRUE(absl::StrContains(src.status().message(), log_)) << src.status();
}

TEST_F(FileSourceTest, BadOptionsFail) {
  FileSourceOptions o = Options();
  o.position_file = dir_ + "/no/such/dir/pos";
  auto src = FileSource::Create(o);
  ASSERT_FALSE(src.ok());
  EXPECT_TRUE(absl::StrContains(src.status().message(), "does not exist")) << src.status();

  o = Options();
  o.path = "-";
  o.position_file = pos_;
  EXPECT_FALSE(FileSource::Create(o).ok());

  o = Options();
  o.path = "";
  EXPECT_FALSE(FileSource::Create(o).ok());

  o = Options();
  o.max_line_bytes = 0;
  EXPECT_FALSE(FileSource::Create(o).ok());
}

TEST_F(FileSourceTest, NotARegularFileCountsErrorAndWaits) {
  ASSERT_EQ(mkdir(log_.c_str(), 0755), 0);
  auto src = MustCreate(Options());
  EXPECT_FALSE(src->stats().up);
  EXPECT_EQ(src->stats().errors, 1u);
  EXPECT_TRUE(Logged("not a regular file"));
}

// --- Position file -------------------------------------------------------

TEST_F(FileSourceTest, StdinPipeReadToEofThenAtEnd) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  FileSourceOptions o = Options();
  o.path = "-";
  o.stdin_fd = p[0];
  auto src = MustCreate(o);
  EXPECT_EQ(src->Describe(), "stdin");
  EXPECT_THAT(PollAll(src.get()), IsEmpty());  // empty pipe: must not block
  EXPECT_FALSE(src->AtEnd());
  ASSERT_EQ(write(p[1], "a1\na2-", 6), 6);
  ASSERT_TRUE(WaitOrFail(src.get()));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  ASSERT_EQ(write(p[1], "end\nlast", 8), 8);
  close(p[1]);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2-end", "last"));
  EXPECT_TRUE(src->AtEnd());
  EXPECT_FALSE(src->stats().up);
  src.reset();
  // Not ours to close.
  EXPECT_EQ(fcntl(p[0], F_GETFD), 0);
  close(p[0]);
}

// A FIFO in the test directory and options that follow it.
class FifoTest : public FileSourceTest {
 protected:
  void SetUp() override {
    FileSourceTest::SetUp();
    fifo_ = dir_ + "/fifo";
    ASSERT_EQ(mkfifo(fifo_.c_str(), 0600), 0);
  }
  FileSourceOptions FifoOptions() {
    FileSourceOptions o = Options();
    o.path = fifo_;
    return o;
  }
  std::string fifo_;
};

TEST_F(FifoTest, FifoReopensWhenWritersGoAway) {
  const std::string& fifo = fifo_;
  FileSourceOptions o = FifoOptions();
  auto src = MustCreate(o);
  EXPECT_TRUE(src->stats().up);
  EXPECT_THAT(PollAll(src.get()), IsEmpty());  // no writer yet: not the end
  EXPECT_FALSE(src->AtEnd());

  int w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(w, 0);
  ASSERT_EQ(write(w, "a1\na2", 5), 5);
  ASSERT_TRUE(WaitOrFail(src.get()));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  close(w);
  ASSERT_TRUE(WaitOrFail(src.get()));  // hang-up is something to do
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2"));
  EXPECT_FALSE(src->AtEnd());
  EXPECT_TRUE(src->stats().up);

  w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // needs our reader open
  ASSERT_GE(w, 0);
  ASSERT_EQ(write(w, "b1\n", 3), 3);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  close(w);
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_FALSE(src->AtEnd());
}

class ScopedIgnoreSigpipe {
 public:
  ScopedIgnoreSigpipe() : old_(signal(SIGPIPE, SIG_IGN)) {}
  ~ScopedIgnoreSigpipe() { signal(SIGPIPE, old_); }

 private:
  sighandler_t old_;
};

// Writers come and go while the source reopens the FIFO after each hang-up:
// a line written between one writer's hang-up and the reopen must not be
// dropped with the old descriptor (CI once lost half a log this way).
TEST_F(FifoTest, FifoLosesNoLineAcrossManyShortLivedWriters) {
  const std::string& fifo = fifo_;
  FileSourceOptions o = FifoOptions();
  auto src = MustCreate(o);
  const ScopedIgnoreSigpipe no_sigpipe;
  constexpr int kWriters = 5000;
  std::thread writers([&fifo] {
    for (int i = 0; i < kWriters; ++i) {
      int w = -1;
      while ((w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK)) < 0 && errno == ENXIO) {
        std::this_thread::yield();  // the reader is between descriptors
      }
      if (w < 0) return;
      // EPIPE (the reader closed under the writer) is a lost line; the
      // count below catches it.
      const std::string line = absl::StrCat("w", i, "\n");
      (void)!write(w, line.data(), line.size());
      close(w);
    }
  });
  std::vector<std::string> got;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (got.size() < kWriters && absl::Now() < deadline) {
    src->Poll(&sink_);
    for (std::string& l : sink_.Take()) got.push_back(std::move(l));
  }
  writers.join();
  for (std::string& l : PollAll(src.get())) got.push_back(std::move(l));
  ASSERT_EQ(got.size(), static_cast<size_t>(kWriters));
  for (int i = 0; i < kWriters; ++i) EXPECT_EQ(got[i], absl::StrCat("w", i));
}

TEST_F(FifoTest, FifoOnceEndsWhenWriterGoesAway) {
  const std::string& fifo = fifo_;
  FileSourceOptions o = FifoOptions();
  o.once = true;
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_FALSE(src->AtEnd());
  int w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(w, 0);
  ASSERT_EQ(write(w, "a1\na2", 5), 5);
  close(w);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "a2"));
  EXPECT_TRUE(src->AtEnd());
}

}  // namespace
}  // namespace pse
