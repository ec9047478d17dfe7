// Shared support for the JournalSource tests (journal_source_test.cc,
// journal_source_position_test.cc, journal_source_rotation_test.cc): real
// journal files made from journal export format text with
// systemd-journal-remote (PSE_JOURNAL_REMOTE), so no journald has to run;
// fixtures are tests/fixtures/journal/*.export (PSE_JOURNAL_FIXTURES).
//
// JournalSourceTest gives each test its own temporary journal directory,
// removed afterwards. Test-only; not thread-safe.
#ifndef PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_TEST_SUPPORT_H_
#define PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_TEST_SUPPORT_H_

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "exporter/sources/journal_source.h"
#include "gtest/gtest.h"

namespace pse {
namespace journal_test {

namespace fs = std::filesystem;

inline const std::string kFixtures = PSE_JOURNAL_FIXTURES;
// Selected entries of the fixtures under the default match (lines of the .log twins).
constexpr size_t kFirstSelected = 17;
constexpr size_t kMoreSelected = 6;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines;
}

// Moves every entry of an export text `seconds` later (realtime and
// monotonic), so one fixture yields any number of fresh batches.
inline std::string ShiftExport(const std::string& text, int64_t seconds) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    for (absl::string_view key : {"__REALTIME_TIMESTAMP=", "__MONOTONIC_TIMESTAMP="}) {
      if (absl::StartsWith(line, key)) {
        int64_t v = 0;
        EXPECT_TRUE(absl::SimpleAtoi(line.substr(key.size()), &v));
        out += absl::StrCat(key, v + seconds * 1000000, "\n");
        line = absl::string_view();
        break;
      }
    }
    if (line.data() != nullptr) absl::StrAppend(&out, line, "\n");
  }
  out.pop_back();  // StrSplit yields one more piece than there are newlines
  return out;
}

// The entries of an export text whose text contains (or, with keep=false,
// does not contain) `needle`.
inline std::string FilterExport(const std::string& text, absl::string_view needle, bool keep) {
  std::string out;
  for (absl::string_view entry : absl::StrSplit(text, "\n\n", absl::SkipWhitespace())) {
    if (absl::StrContains(entry, needle) == keep) absl::StrAppend(&out, entry, "\n\n");
  }
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pse-journal-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Converts export text into journal file `journal` (appending when it exists).
inline ::testing::AssertionResult ExportToJournal(const std::string& export_text,
                                                  const std::string& journal) {
  const std::string input = journal + ".export-input";
  const std::string errors = journal + ".stderr";
  WriteFile(input, export_text);
  const std::string cmd =
      absl::StrCat(PSE_JOURNAL_REMOTE, " --output=", journal, " - < ", input, " 2> ", errors);
  int rc = std::system(cmd.c_str());
  std::string err = ReadFile(errors);
  unlink(input.c_str());
  unlink(errors.c_str());
  if (rc != 0) {
    return ::testing::AssertionFailure() << cmd << " exited with " << rc << ": " << err;
  }
  return ::testing::AssertionSuccess();
}

inline std::string Fixture(const std::string& name) { return ReadFile(kFixtures + "/" + name); }

struct Record {
  int64_t timestamp_us;
  std::string syslog_name;
  std::string daemon;
  int64_t pid;
  std::string message;
};

class CollectingSink : public RecordSink {
 public:
  void OnLine(absl::string_view line) override { lines.emplace_back(line); }
  void OnRecord(const LogRecord& r) override {
    records.push_back(Record{r.timestamp_us, std::string(r.syslog_name), std::string(r.daemon),
                             r.pid, std::string(r.message)});
  }
  // The records as the syslog lines of the fixtures' .log twins.
  std::vector<std::string> AsLogLines() const {
    std::vector<std::string> out;
    for (const Record& r : records) {
      out.push_back(
          absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00",
                                        absl::FromUnixMicros(r.timestamp_us), absl::UTCTimeZone()),
                       " mail ", r.syslog_name, "/", r.daemon, "[", r.pid, "]: ", r.message));
    }
    return out;
  }
  std::vector<int64_t> Pids() const {
    std::vector<int64_t> out;
    for (const Record& r : records) out.push_back(r.pid);
    return out;
  }

  std::vector<std::string> lines;
  std::vector<Record> records;
};

// Polls until the source has nothing left (bounded: a bug must not hang).
inline void Drain(JournalSource* source, CollectingSink* sink) {
  for (int i = 0; i < 1000; ++i) {
    source->Poll(sink);
    if (source->stats().idle || source->AtEnd()) return;
  }
  ADD_FAILURE() << "source never became idle";
}

inline std::unique_ptr<JournalSource> MustCreate(const JournalSourceOptions& options) {
  auto source = JournalSource::Create(options);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return nullptr;
  return std::move(*source);
}

class JournalSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(PSE_JOURNAL_REMOTE))
        << PSE_JOURNAL_REMOTE << " missing: install systemd-journal-remote";
    journal_dir_ = dir_ / "journal";
    ASSERT_TRUE(fs::create_directory(journal_dir_));
    journal_file_ = journal_dir_ + "/remote.journal";
  }

  // Options for the test's journal directory; messages land in log_.
  JournalSourceOptions Options() {
    JournalSourceOptions o;
    o.journal_path = journal_dir_;
    o.logger = [this](LogLevel level, absl::string_view msg) {
      log_.push_back(absl::StrCat(LogLevelName(level), ": ", msg));
    };
    return o;
  }

  std::vector<Record> ReadOnce(JournalSourceOptions options) {
    options.once = true;
    auto source = MustCreate(options);
    CollectingSink sink;
    if (source == nullptr) return {};
    Drain(source.get(), &sink);
    EXPECT_TRUE(source->AtEnd());
    EXPECT_TRUE(sink.lines.empty());
    return sink.records;
  }

  TempDir dir_;
  std::string journal_dir_;
  std::string journal_file_;
  std::vector<std::string> log_;
};

}  // namespace journal_test
}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_TEST_SUPPORT_H_
