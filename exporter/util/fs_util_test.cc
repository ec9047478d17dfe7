#include "exporter/util/fs_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace pse {
namespace {

class FsUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pse-fs-util-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST(ParentDirectory, BareNameRootAndNested) {
  EXPECT_EQ(ParentDirectory("name"), ".");
  EXPECT_EQ(ParentDirectory("/name"), "/");
  EXPECT_EQ(ParentDirectory("/var/lib/x/state"), "/var/lib/x");
  EXPECT_EQ(ParentDirectory("rel/name"), "rel");
}

TEST(ErrnoText, AcceptsNegativeErrno) { EXPECT_EQ(ErrnoText(-ENOENT), ErrnoText(ENOENT)); }

TEST_F(FsUtilTest, WriteThenReadRoundTrips) {
  const std::string path = dir_ + "/pos";
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second, longer").ok());
  absl::StatusOr<std::string> got = ReadSmallFile(path);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "second, longer");
  // The temporary file does not outlive a successful write.
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);
}

TEST_F(FsUtilTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(ReadSmallFile(dir_ + "/absent").status()));
}

TEST_F(FsUtilTest, FileOverTheCapIsOutOfRange) {
  const std::string path = dir_ + "/big";
  ASSERT_TRUE(WriteFileAtomically(path, std::string(100, 'x')).ok());
  EXPECT_TRUE(absl::IsOutOfRange(ReadSmallFile(path, 99).status()));
  EXPECT_TRUE(ReadSmallFile(path, 100).ok());
}

TEST_F(FsUtilTest, WriteIntoMissingDirectoryFailsNamingThePath) {
  const std::string path = dir_ + "/no/such/dir/pos";
  absl::Status s = WriteFileAtomically(path, "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s;
}

TEST_F(FsUtilTest, NewFileGetsTheRequestedMode) {
  const std::string path = dir_ + "/state";
  mode_t old = umask(0);
  ASSERT_TRUE(WriteFileAtomically(path, "x", 0600).ok());
  umask(old);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace pse
