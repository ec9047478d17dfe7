// FileSourceFixture: the gtest fixture of the FileSource tests. Each test
// gets its own temporary directory with a log path (mail.log) and a
// position file path (mail.pos), helpers that write, rename and truncate
// files the way writers and logrotate do, and a sink that collects lines.
//
// Tests drive the source with Poll() (PollAll() polls until it is caught
// up); nothing sleeps. Not thread-safe.
#ifndef PSE_TESTING_SOURCE_FILE_FIXTURE_H_
#define PSE_TESTING_SOURCE_FILE_FIXTURE_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/sources/file_source.h"
#include "gtest/gtest.h"

namespace pse {
namespace test {

class CollectingSink : public RecordSink {
 public:
  void OnLine(absl::string_view line) override { lines.emplace_back(line); }
  void OnRecord(const LogRecord&) override { ++records; }
  std::vector<std::string> Take() { return std::exchange(lines, {}); }

  std::vector<std::string> lines;
  int records = 0;
};

class FileSourceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/file_source_test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/mail.log";
    pos_ = dir_ + "/mail.pos";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void Append(const std::string& path, absl::string_view data) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    close(fd);
  }
  // Writes at a fixed offset, like a writer without O_APPEND after a
  // copytruncate.
  static void WriteAt(const std::string& path, off_t offset, absl::string_view data) {
    int fd = open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(pwrite(fd, data.data(), data.size(), offset), static_cast<ssize_t>(data.size()));
    close(fd);
  }
  static void Truncate(const std::string& path) { ASSERT_EQ(truncate(path.c_str(), 0), 0); }
  static void Rename(const std::string& from, const std::string& to) {
    ASSERT_EQ(rename(from.c_str(), to.c_str()), 0);
  }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  FileSourceOptions Options() {
    FileSourceOptions o;
    o.path = log_;
    o.logger = [this](LogLevel level, absl::string_view msg) {
      logged_.push_back(absl::StrCat(LogLevelName(level), ": ", msg));
    };
    return o;
  }
  std::unique_ptr<FileSource> MustCreate(const FileSourceOptions& o) {
    auto s = FileSource::Create(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Polls until a Poll() delivers nothing (the default budget is far above
  // what these tests write, so that means "caught up").
  std::vector<std::string> PollAll(FileSource* src) {
    for (int i = 0; i < 1000; ++i) {
      const size_t before = sink_.lines.size();
      const size_t n = src->Poll(&sink_);
      EXPECT_EQ(n, sink_.lines.size() - before);
      if (n == 0) break;
    }
    return sink_.Take();
  }
  bool Logged(absl::string_view needle) const {
    for (const auto& l : logged_) {
      if (absl::StrContains(l, needle)) return true;
    }
    return false;
  }

  std::string dir_, log_, pos_;
  CollectingSink sink_;
  std::vector<std::string> logged_;
};

}  // namespace test
}  // namespace pse

#endif  // PSE_TESTING_SOURCE_FILE_FIXTURE_H_
