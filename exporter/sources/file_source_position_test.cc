// FileSource position checkpoints: resuming exactly, across rotation and
// rewrites, and ignoring unusable position files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/sources/file_source.h"
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

class FileSourcePositionTest : public test::FileSourceFixture {};

TEST_F(FileSourcePositionTest, PositionFileResumesExactlyOnSameFile) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  Append(log_, "old\n");
  {
    auto src = MustCreate(o);
    Append(log_, "a1\na2\npart");
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "a2"));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  EXPECT_TRUE(absl::StrContains(Slurp(pos_), "path=" + log_));
  EXPECT_FALSE(std::filesystem::exists(pos_ + ".tmp"));
  // Written while the exporter was down.
  Append(log_, "ial\na3\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("partial", "a3"));
  EXPECT_TRUE(Logged("resuming"));
}

TEST_F(FileSourcePositionTest, PositionFileWinsOverFromBeginning) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  o.from_beginning = true;
  Append(log_, "a1\n");
  {
    auto src = MustCreate(o);
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  Append(log_, "a2\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2"));
}

TEST_F(FileSourcePositionTest, PositionFileAfterRotationReadsNewFileFromStart) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  Append(log_, "");
  {
    auto src = MustCreate(o);
    Append(log_, "a1\n");
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  // Rotated while down; the old file moved out of the directory.
  Rename(log_, dir_ + "/archived");
  Append(log_, "b1\nb2\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1", "b2"));
  EXPECT_TRUE(Logged("rotated"));
}

TEST_F(FileSourcePositionTest, PositionFileAfterRotationDrainsRotatedFileFirst) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  o.rotate_wait = absl::ZeroDuration();
  Append(log_, "");
  {
    auto src = MustCreate(o);
    Append(log_, "a1\n");
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  Append(log_, "a2\n");  // after the last checkpoint, before rotation
  Rename(log_, log_ + ".1");
  Append(log_, "b1\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2", "b1"));
  Append(log_, "b2\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b2"));
}

TEST_F(FileSourcePositionTest, PositionFileSameInodeRewrittenReadsFromStart) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  Append(log_, "");
  {
    auto src = MustCreate(o);
    Append(log_, "a1\na2\n");
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1", "a2"));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  // copytruncate while down, and the file grew past the old offset again.
  Truncate(log_);
  Append(log_, "b1\nb2\nb3\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("b1", "b2", "b3"));
}

TEST_F(FileSourcePositionTest, NoPositionFileYetStartsAtEnd) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  Append(log_, "old\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), IsEmpty());
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  ASSERT_TRUE(src->Checkpoint().ok());
  EXPECT_TRUE(std::filesystem::exists(pos_));
}

TEST_F(FileSourcePositionTest, CorruptPositionFileIgnored) {
  Append(pos_, "garbage\x01\x02 not a position\n");
  Append(log_, "old\n");
  FileSourceOptions o = Options();
  o.position_file = pos_;
  auto src = MustCreate(o);
  EXPECT_TRUE(Logged("warn: ignoring corrupt position file"));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());  // start at end
  Append(log_, "a1\n");
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
  // Checkpoint replaces the corrupt file with a good one.
  ASSERT_TRUE(src->Checkpoint().ok());
  src.reset();
  Append(log_, "a2\n");
  logged_.clear();
  src = MustCreate(o);
  EXPECT_FALSE(Logged("corrupt"));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2"));
}

TEST_F(FileSourcePositionTest, CorruptPositionFileWithFromBeginningReadsAll) {
  Append(pos_, "version=1\npath=" + log_ + "\ndevice=1\ninode=x\noffset=1\nhash=fnv1a64:0\n");
  Append(log_, "old\n");
  FileSourceOptions o = Options();
  o.position_file = pos_;
  o.from_beginning = true;
  auto src = MustCreate(o);
  EXPECT_TRUE(Logged("corrupt"));
  EXPECT_THAT(PollAll(src.get()), ElementsAre("old"));
}

TEST_F(FileSourcePositionTest, PositionFileForAnotherPathIgnored) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  Append(log_, "");
  {
    auto src = MustCreate(o);
    Append(log_, "a1\n");
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  const std::string other = dir_ + "/other.log";
  ASSERT_EQ(link(log_.c_str(), other.c_str()), 0);  // same inode, other name
  o.path = other;
  auto src = MustCreate(o);
  EXPECT_TRUE(Logged("written for"));
  EXPECT_THAT(PollAll(src.get()), IsEmpty());  // start at end
}

TEST_F(FileSourcePositionTest, CheckpointAtPartialLongLineResumesAtLineStart) {
  FileSourceOptions o = Options();
  o.position_file = pos_;
  o.max_line_bytes = 16;
  Append(log_, "");
  {
    auto src = MustCreate(o);
    Append(log_, "a1\n" + std::string(30, 'x'));
    EXPECT_THAT(PollAll(src.get()), ElementsAre("a1"));
    ASSERT_TRUE(src->Checkpoint().ok());
  }
  Append(log_, "xx\na2\n");
  auto src = MustCreate(o);
  EXPECT_THAT(PollAll(src.get()), ElementsAre("a2"));
  EXPECT_EQ(src->stats().lines_too_long, 1u);
}

// --- stdin and FIFOs -----------------------------------------------------

}  // namespace
}  // namespace pse
