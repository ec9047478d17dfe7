#include "exporter/sources/position_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

SavedPosition Sample() {
  SavedPosition p;
  p.path = "/var/log/mail.log";
  p.dev = 2049;
  p.ino = 1234567;
  p.offset = 98765;
  p.hash = 0x0123456789abcdefull;
  return p;
}

void ExpectSame(const SavedPosition& a, const SavedPosition& b) {
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.dev, b.dev);
  EXPECT_EQ(a.ino, b.ino);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.hash, b.hash);
}

TEST(PositionTextTest, FormatThenParseRoundTrips) {
  const std::string text = FormatPosition(Sample());
  EXPECT_TRUE(absl::StrContains(text, "hash=fnv1a64:0123456789abcdef\n")) << text;
  absl::StatusOr<SavedPosition> p = ParsePosition(text);
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectSame(*p, Sample());
}

TEST(PositionTextTest, CommentsBlankLinesAndUnknownKeysAreIgnored) {
  absl::StatusOr<SavedPosition> p =
      ParsePosition("# saved\n\nfuture=1\n" + FormatPosition(Sample()) + "another=x\n");
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectSame(*p, Sample());
}

TEST(PositionTextTest, OtherPathIsParsedForTheCallerToReject) {
  SavedPosition other = Sample();
  other.path = "/var/log/other.log";
  absl::StatusOr<SavedPosition> p = ParsePosition(FormatPosition(other));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->path, "/var/log/other.log");
}

TEST(PositionTextTest, CorruptTextIsInvalidArgumentWithReason) {
  const std::string good = FormatPosition(Sample());
  struct {
    std::string text;
    const char* reason;
  } cases[] = {
      {"", "missing"},
      {"garbage\x01\x02 not a position\n", "without '='"},
      {absl::StrCat(good, "version=2\n"), "version"},
      {absl::StrCat(good, "inode=x\n"), "inode"},
      {absl::StrCat(good, "device=-1\n"), "device"},
      {absl::StrCat(good, "offset=12a\n"), "offset"},
      {absl::StrCat(good, "hash=0123456789abcdef\n"), "hash"},
      {absl::StrCat(good, "hash=fnv1a64:0\n"), "hash"},
      {absl::StrCat(good, "hash=fnv1a64:0123456789abcdeg\n"), "hash"},
      {"version=1\npath=/x\ndevice=1\ninode=2\noffset=3\n", "missing"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<SavedPosition> p = ParsePosition(c.text);
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(p.status())) << p.status();
    EXPECT_TRUE(absl::StrContains(p.status().message(), c.reason)) << p.status();
  }
}

class PositionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/position_test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/mail.log";
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove_all(dir_);
  }
  // (Re)writes the log and opens it for reading.
  void WriteLog(const std::string& text, int flags = O_TRUNC) {
    int w = open(log_.c_str(), O_WRONLY | O_CREAT | flags, 0644);
    ASSERT_GE(w, 0);
    ASSERT_EQ(write(w, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(w);
    if (fd_ < 0) fd_ = open(log_.c_str(), O_RDONLY);
    ASSERT_GE(fd_, 0);
  }

  std::string dir_, log_;
  int fd_ = -1;
};

TEST_F(PositionFileTest, SameFileMatches) {
  WriteLog("a1\na2\n");
  absl::StatusOr<SavedPosition> p = PositionOf(log_, fd_, 3);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->path, log_);
  EXPECT_EQ(p->offset, 3u);
  WriteLog("a3\n", O_APPEND);  // growing does not change the bytes before
  EXPECT_EQ(MatchPosition(*p, fd_), PositionMatch::kSameFile);
}

TEST_F(PositionFileTest, RewrittenSameInodeIsDetected) {
  WriteLog("a1\na2\n");
  absl::StatusOr<SavedPosition> p = PositionOf(log_, fd_, 6);
  ASSERT_TRUE(p.ok()) << p.status();
  WriteLog("b1\nb2\nb3\n");  // truncated and rewritten past the old offset
  EXPECT_EQ(MatchPosition(*p, fd_), PositionMatch::kRewritten);
  WriteLog("b1");  // shorter than the offset
  EXPECT_EQ(MatchPosition(*p, fd_), PositionMatch::kRewritten);
}

TEST_F(PositionFileTest, OtherInodeIsAnotherFile) {
  WriteLog("a1\n");
  absl::StatusOr<SavedPosition> p = PositionOf(log_, fd_, 3);
  ASSERT_TRUE(p.ok()) << p.status();
  p->ino += 1;
  EXPECT_EQ(MatchPosition(*p, fd_), PositionMatch::kOtherFile);
}

TEST_F(PositionFileTest, OffsetPastEndCannotBeSaved) {
  WriteLog("a1\n");
  EXPECT_FALSE(PositionOf(log_, fd_, 100).ok());
}

TEST_F(PositionFileTest, WriteThenReadRoundTripsWithoutTempFile) {
  const std::string pf = dir_ + "/mail.pos";
  ASSERT_TRUE(WritePositionFile(pf, Sample()).ok());
  EXPECT_FALSE(std::filesystem::exists(pf + ".tmp"));
  absl::StatusOr<SavedPosition> p = ReadPositionFile(pf);
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectSame(*p, Sample());
}

TEST_F(PositionFileTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(ReadPositionFile(dir_ + "/none").status()));
}

TEST_F(PositionFileTest, UsableChecksDirectoryAndKind) {
  EXPECT_TRUE(CheckPositionFileUsable(dir_ + "/mail.pos").ok());
  absl::Status no_dir = CheckPositionFileUsable(dir_ + "/no/such/pos");
  EXPECT_TRUE(absl::IsInvalidArgument(no_dir));
  EXPECT_TRUE(absl::StrContains(no_dir.message(), "does not exist")) << no_dir;
  ASSERT_EQ(mkdir((dir_ + "/sub").c_str(), 0755), 0);
  EXPECT_TRUE(absl::IsInvalidArgument(CheckPositionFileUsable(dir_ + "/sub")));
}

}  // namespace
}  // namespace pse
