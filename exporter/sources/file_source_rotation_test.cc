// FileSource tests of rotations that happen while the source is not looking
// (between two Poll() calls, or while the exporter is down), and of the
// injected clock that measures rotate_wait and the open retry.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporter/sources/file_source.h"
#include "exporter/sources/position_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/source_clock.h"
#include "testing/source_file_fixture.h"
#include "testing/source_wait.h"

namespace pse {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

class FileSourceRotationTest : public test::FileSourceFixture {
 protected:
  // Lines "<tag><from>" .. "<tag><to - 1>", each with its newline.
  static std::string Numbered(const std::string& tag, int from, int to) {
    std::string out;
    for (int i = from; i < to; ++i) absl::StrAppend(&out, tag, i, "\n");
    return out;
  }
  static std::string Numbered(const std::string& tag, int n) { return Numbered(tag, 0, n); }
  static std::vector<std::string> Lines(const std::vector<std::string>& texts) {
    std::vector<std::string> out;
    for (const std::string& t : texts) {
      for (size_t start = 0, nl; (nl = t.find('\n', start)) != std::string::npos; start = nl + 1) {
        out.push_back(t.substr(start, nl - start));
      }
    }
    return out;
  }
  // logrotate without compression: mail.log.N -> mail.log.N+1, ...,
  // mail.log -> mail.log.1 (the writer then creates a new mail.log).
  void Rotate(int keep) {
    for (int i = keep - 1; i >= 1; --i) {
      const std::string from = absl::StrCat(log_, ".", i);
      if (access(from.c_str(), F_OK) == 0) Rename(from, absl::StrCat(log_, ".", i + 1));
    }
    Rename(log_, log_ + ".1");
  }
  // Whether this process holds a descriptor open on `path`.
  static bool HoldsOpen(const std::string& path) {
    DIR* d = opendir("/proc/self/fd");
    if (d == nullptr) return false;
    bool found = false;
    while (dirent* e = readdir(d)) {
      char target[PATH_MAX];
      const std::string link = absl::StrCat("/proc/self/fd/", e->d_name);
      const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n > 0 && std::string(target, n) == path) found = true;
    }
    closedir(d);
    return found;
  }
};

TEST_F(FileSourceRotationTest, NoRotatedFileIsSkippedTwoRotationsBetweenPolls) {
  Append(log_, "");
  auto src = MustCreate(Options());
  const std::string a = Numbered("a", 100), b = Numbered("b", 100), c = Numbered("c", 100);
  Append(log_, a);  // the exporter is not polling
  Rotate(5);
  Append(log_, b);
  Rotate(5);  // mail.log.1 -> mail.log.2, mail.log -> mail.log.1
  Append(log_, c);
  EXPECT_THAT(PollAll(src.get()), ElementsAreArray(Lines({a, b, c})));
  EXPECT_EQ(src->stats().rotations, 2u);
  Append(log_, "c100\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("c100"));
}

TEST_F(FileSourceRotationTest, NoRotatedFileIsSkippedThreeRotationsBetweenPolls) {
  FileSourceOptions o = Options();
  o.rotate_wait = absl::ZeroDuration();
  Append(log_, "");
  auto src = MustCreate(o);
  const std::string a = Numbered("a", 100), b = Numbered("b", 100), c = Numbered("c", 100),
                    d = Numbered("d", 100);
  Append(log_, a);
  Rotate(5);
  Append(log_, b);
  Rotate(5);
  Append(log_, c);
  Rotate(5);
  Append(log_, d);
  EXPECT_THAT(PollAll(src.get()), ElementsAreArray(Lines({a, b, c, d})));
  EXPECT_EQ(src->stats().rotations, 3u);
}

TEST_F(FileSourceRotationTest, NoRotatedFileIsSkippedAcrossRestart) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  Append(log_, "");
  const std::string a1 = Numbered("a", 0, 50), a2 = Numbered("a", 50, 100), b = Numbered("b", 100),
                    c = Numbered("c", 100);
  {
    auto src = MustCreate(o);
    Append(log_, a1);
    EXPECT_THAT(PollAll(src.get()), ElementsAreArray(Lines({a1})));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  // While the exporter is down: the rest of a, and two rotations.
  Append(log_, a2);
  Rotate(5);
  Append(log_, b);
  Rotate(5);
  Append(log_, c);
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAreArray(Lines({a2, b, c})));
  EXPECT_EQ(src->stats().rotations, 2u);
}

TEST_F(FileSourceRotationTest, RotatedFilesPresentAtStartAreNotRead) {
  Append(log_ + ".1", "old1\n");  // rotated before the exporter started
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a1\n");
  Rotate(5);  // the old mail.log.1 becomes mail.log.2: still old
  Append(log_, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "b1"));
  EXPECT_EQ(src->stats().rotations, 1u);
}

TEST_F(FileSourceRotationTest, CompressedRotatedFileIsNotRead) {
  Append(log_, "");
  auto src = MustCreate(Options());
  Append(log_, "a1\n");
  Rotate(5);
  Append(log_, "b1\n");
  Rotate(5);
  Rename(log_ + ".1", log_ + ".1.gz");  // "b1" compressed before we looked
  Append(log_, "c1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "c1"));
}

TEST_F(FileSourceRotationTest, RotateWaitIsMeasuredOnTheClock) {
  test::FakeClock clock;
  FileSourceOptions o = Options();
  o.clock = clock.AsFunction();
  o.rotate_wait = absl::Seconds(5);
  Append(log_, "");
  auto src = MustCreate(o);
  Append(log_, "a1\nfinal-partial");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  Rename(log_, log_ + ".1");
  Append(log_, "b1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1"));
  clock.Advance(absl::Seconds(5) - absl::Milliseconds(1));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_TRUE(HoldsOpen(log_ + ".1"));
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(test::WaitOrFail(src.get()));  // the expiry is something to do
  // Nobody can complete the partial line any more: it is delivered as is.
  EXPECT_THAT(PollAll(src.get()), ElementsAre("final-partial"));
  EXPECT_FALSE(HoldsOpen(log_ + ".1"));
  Append(log_ + ".1", "too-late\n");
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
}

TEST_F(FileSourceRotationTest, FailedOpenIsRetriedAfterStatIntervalOnTheClock) {
  test::FakeClock clock;
  FileSourceOptions o = Options();
  o.clock = clock.AsFunction();
  o.stat_interval = absl::Seconds(10);
  ASSERT_EQ(mkdir(log_.c_str(), 0755), 0);  // fails to open as a log file
  auto src = MustCreate(o);
  EXPECT_EQ(src->stats().errors, 1u);
  ASSERT_EQ(rmdir(log_.c_str()), 0);
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  clock.Advance(absl::Seconds(10) - absl::Milliseconds(1));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  EXPECT_FALSE(src->stats().up);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  EXPECT_TRUE(src->stats().up);
  EXPECT_EQ(src->stats().errors, 1u);
}

// --- Checkpoint text -----------------------------------------------------

TEST_F(FileSourceRotationTest, CheckpointTextResumesLikeThePositionFile) {
  Append(log_, "");
  std::string text;
  {
    auto src = MustCreate(Options());
    Append(log_, "a1\npart");
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
    text = src->CheckpointText();
  }
  absl::StatusOr<SavedPosition> p = ParsePosition(text);
  ASSERT_TRUE(p.ok()) << p.status() << "\n" << text;
  EXPECT_EQ(p->path, log_);
  EXPECT_EQ(p->offset, 3u);  // the start of the held partial line
  Append(log_, "ial\na2\n");
  FileSourceOptions o = Options();
  o.resume_position_text = text;
  o.position_file = pos_;  // not read when a text is given
  Append(pos_, "garbage\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("partial", "a2"));
  EXPECT_FALSE(Logged("corrupt"));
  ASSERT_TRUE(src->Checkpoint().ok());  // still written to the file
  EXPECT_EQ(Slurp(pos_), src->CheckpointText());
}

TEST_F(FileSourceRotationTest, CorruptResumeTextIsIgnored) {
  Append(log_, "old\n");
  FileSourceOptions o = Options();
  o.resume_position_text = "not a position";
  auto src = MustCreate(o);
  EXPECT_TRUE(Logged("warn: ignoring corrupt resume position"));
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));  // started at the end
}

TEST_F(FileSourceRotationTest, ResumeTextWithStdinIsRejected) {
  FileSourceOptions o = Options();
  o.path = "-";
  o.resume_position_text = FormatPosition(SavedPosition{"-", 1, 2, 3, 4});
  EXPECT_FALSE(FileSource::Create(o).ok());
}

TEST_F(FileSourceRotationTest, CheckpointInsideUnfinishedRotatedFileLosesAndRepeatsNothing) {
  FileSourceOptions o = Options();
  o.read_budget_bytes = 10;
  Append(log_, "");
  const std::string a = Numbered("a", 10), b = Numbered("b", 10), c = Numbered("c", 10);
  std::vector<std::string> got;
  std::string text;
  {
    auto src = MustCreate(o);
    Append(log_, a);
    Rotate(5);
    Append(log_, b);
    Rotate(5);
    Append(log_, c);
    // Stop while the skipped generation "b" is half read.
    for (int i = 0; i < 100 && (got.empty() || got.back()[0] != 'b'); ++i) {
      src->Poll(&sink_);
      for (std::string& l : sink_.Take()) got.push_back(l);
    }
    ASSERT_FALSE(got.empty());
    ASSERT_EQ(got.back()[0], 'b');
    text = src->CheckpointText();
  }
  absl::StatusOr<SavedPosition> p = ParsePosition(text);
  ASSERT_TRUE(p.ok()) << p.status();
  struct stat st;
  ASSERT_EQ(stat((log_ + ".1").c_str(), &st), 0);  // where "b" is now
  EXPECT_EQ(p->ino, static_cast<uint64_t>(st.st_ino));

  o.resume_position_text = text;
  o.read_budget_bytes = 1 << 20;
  auto src = MustCreate(o);
  for (std::string& l : PollAll(src.get())) got.push_back(l);
  EXPECT_THAT(got, ElementsAreArray(Lines({a, b, c})));
}

}  // namespace
}  // namespace pse
