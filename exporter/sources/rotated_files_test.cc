#include "exporter/sources/rotated_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

RotatedFile File(const std::string& name, uint64_t ino, absl::Duration age_after_t0) {
  return RotatedFile{name, FileId{1, ino}, kT0 + age_after_t0};
}

std::vector<std::string> Names(const std::vector<RotatedFile>& files) {
  std::vector<std::string> out;
  for (const RotatedFile& f : files) out.push_back(f.name);
  return out;
}

TEST(RotatedFilesTest, CompressedNames) {
  for (const char* name : {"mail.log.2.gz", "mail.log.1.bz2", "mail.log.xz", "mail.log.3.zst",
                           "mail.log.lz4", "mail.log.1.Z"}) {
    EXPECT_TRUE(IsCompressedName(name)) << name;
  }
  for (const char* name : {"mail.log.1", "mail.log-20240101", "mail.log.old", "mail.log.z"}) {
    EXPECT_FALSE(IsCompressedName(name)) << name;
  }
}

TEST(RotatedFilesTest, WrittenBeforeIsMtimeThenName) {
  const absl::Duration s = absl::Seconds(1);
  // mtime decides when it differs, whatever the names say.
  EXPECT_TRUE(WrittenBefore(File("mail.log.1", 1, 0 * s), File("mail.log.2", 2, s), "mail.log"));
  // Equal mtimes: numbered suffixes count down, others sort up.
  EXPECT_TRUE(WrittenBefore(File("mail.log.2", 1, s), File("mail.log.1", 2, s), "mail.log"));
  EXPECT_TRUE(WrittenBefore(File("mail.log.10", 1, s), File("mail.log.9", 2, s), "mail.log"));
  EXPECT_TRUE(
      WrittenBefore(File("mail.log-20240101", 1, s), File("mail.log-20240102", 2, s), "mail.log"));
  EXPECT_FALSE(WrittenBefore(File("mail.log.1", 1, s), File("mail.log.1", 2, s), "mail.log"));
  // A file no longer in the directory compares by mtime only.
  EXPECT_FALSE(WrittenBefore(File("", 1, s), File("mail.log.1", 2, s), "mail.log"));
  EXPECT_FALSE(WrittenBefore(File("mail.log.1", 2, s), File("", 1, s), "mail.log"));
}

TEST(RotatedFilesTest, StartUpChoosesFilesWrittenAfterTheSavedOne) {
  const absl::Duration s = absl::Seconds(1);
  const std::vector<RotatedFile> listing = {
      File("mail.log.3", 3, 0 * s),  // older than the saved file
      File("mail.log.2", 2, 1 * s),  // the saved file
      File("mail.log.1", 1, 1 * s),  // same mtime, newer by name
      File("mail.log.0", 9, 2 * s),
  };
  EXPECT_THAT(Names(FilesAfter(listing, listing[1], FileId{1, 100}, "mail.log", nullptr)),
              ElementsAre("mail.log.1", "mail.log.0"));
}

TEST(RotatedFilesTest, CurrentFileIsNeverChosen) {
  const std::vector<RotatedFile> listing = {File("mail.log.2", 2, absl::ZeroDuration()),
                                            File("mail.log.1", 1, absl::Seconds(1))};
  EXPECT_THAT(FilesAfter(listing, listing[0], FileId{1, 1}, "mail.log", nullptr),
              ::testing::IsEmpty());
}

TEST(RotatedFilesTest, FollowingChoosesOnlyUnknownFilesNotOlderThanTheOldOne) {
  const absl::Duration s = absl::Seconds(1);
  const RotatedFile old = File("", 5, 10 * s);  // renamed away, name unknown
  const std::vector<RotatedFile> listing = {
      File("mail.log.4", 4, 1 * s),   // known from the last look
      File("mail.log.3", 3, 1 * s),   // unknown, but older: an archive put back
      File("mail.log.9", 7, 10 * s),  // unknown, same mtime as the old file
      File("mail.log.1", 6, 11 * s),  // unknown and newer
  };
  const std::set<FileId> known = {FileId{1, 4}};
  EXPECT_THAT(Names(FilesAfter(listing, old, FileId{1, 100}, "mail.log", &known)),
              ElementsAre("mail.log.9", "mail.log.1"));
}

TEST(RotatedFilesTest, ListingSkipsCompressedOtherNamesAndDirectories) {
  const char* base_dir = std::getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base_dir != nullptr ? base_dir : "/tmp", "/rotated.XXXXXX");
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  for (const char* name :
       {"mail.log", "mail.log.1", "mail.log.2.gz", "mail.log-20240101", "other.log", "mail.lo"}) {
    int fd = open((dir + "/" + name).c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  ASSERT_EQ(mkdir((dir + "/mail.log.d").c_str(), 0755), 0);
  EXPECT_THAT(Names(ListRotatedFiles(dir, "mail.log")),
              UnorderedElementsAre("mail.log.1", "mail.log-20240101"));
  EXPECT_THAT(ListRotatedFiles(dir + "/absent", "mail.log"), ::testing::IsEmpty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pse
