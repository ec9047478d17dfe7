// Tests of JournalSource on real journal files. The files are made from
// journal export format text with systemd-journal-remote, so no journald has
// to run: tests/fixtures/journal/*.export, converted at test time.
#include "exporter/sources/journal_source.h"

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
#include "gtest/gtest.h"

namespace pse {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = PSE_JOURNAL_FIXTURES;
// Selected entries of the fixtures under the default match (lines of the .log twins).
constexpr size_t kFirstSelected = 17;
constexpr size_t kMoreSelected = 6;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines;
}

// Moves every entry of an export text `seconds` later (realtime and
// monotonic), so one fixture yields any number of fresh batches.
std::string ShiftExport(const std::string& text, int64_t seconds) {
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
std::string FilterExport(const std::string& text, absl::string_view needle, bool keep) {
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
::testing::AssertionResult ExportToJournal(const std::string& export_text,
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

std::string Fixture(const std::string& name) { return ReadFile(kFixtures + "/" + name); }

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
void Drain(JournalSource* source, CollectingSink* sink) {
  for (int i = 0; i < 1000; ++i) {
    source->Poll(sink);
    if (source->stats().idle || source->AtEnd()) return;
  }
  ADD_FAILURE() << "source never became idle";
}

std::unique_ptr<JournalSource> MustCreate(const JournalSourceOptions& options) {
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

TEST_F(JournalSourceTest, DefaultMatchFindsDebianSliceAndRhelUnit) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto source = MustCreate([&] {
    auto o = Options();
    o.once = true;
    return o;
  }());
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->matches(), (std::vector<std::string>{"_SYSTEMD_SLICE=system-postfix.slice",
                                                         "_SYSTEMD_UNIT=postfix.service"}));
  CollectingSink sink;
  Drain(source.get(), &sink);
  // The .log twin holds exactly the entries the default match selects, as
  // RFC 3339 syslog lines: the same data for the file source.
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix.log")));
  ASSERT_EQ(sink.records.size(), kFirstSelected);
  EXPECT_EQ(sink.records.front().pid, 2001);  // postfix@-.service (Debian)
  EXPECT_EQ(sink.records.back().pid, 4010);   // postfix.service (RHEL)
  EXPECT_EQ(source->stats().errors, 0u);
}

TEST_F(JournalSourceTest, MoreFixtureMatchesItsLogTwin) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix-more.export"), journal_file_));
  CollectingSink sink;
  for (const Record& r : ReadOnce(Options())) sink.records.push_back(r);
  EXPECT_EQ(sink.AsLogLines(), Lines(Fixture("postfix-more.log")));
  EXPECT_EQ(sink.records.size(), kMoreSelected);
}

TEST_F(JournalSourceTest, RecordFieldsComeFromEntryFields) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  std::vector<Record> records = ReadOnce(Options());
  ASSERT_GE(records.size(), 3u);
  EXPECT_EQ(records[0].timestamp_us, 1715680800100123);
  EXPECT_EQ(records[0].syslog_name, "postfix/submission");
  EXPECT_EQ(records[0].daemon, "smtpd");
  EXPECT_EQ(records[0].pid, 2001);
  EXPECT_EQ(records[0].message, "connect from unknown[192.0.2.1]");
  EXPECT_EQ(records[1].timestamp_us, 1715680802250000);
  EXPECT_EQ(records[1].message,
            "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
  EXPECT_EQ(records[2].message,
            "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3");
}

TEST_F(JournalSourceTest, UnitOverrideSelectsOnlyThatUnit) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"postfix.service"};
  std::vector<Record> records = ReadOnce(o);
  std::vector<int64_t> pids;
  for (const Record& r : records) pids.push_back(r.pid);
  EXPECT_EQ(pids, (std::vector<int64_t>{4001, 4001, 4001, 4001, 4002, 4002, 4010}));
}

TEST_F(JournalSourceTest, UnitWithoutSuffixMeansService) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"postfix@-"};
  o.once = true;
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->matches(), std::vector<std::string>{"_SYSTEMD_UNIT=postfix@-.service"});
  CollectingSink sink;
  Drain(source.get(), &sink);
  EXPECT_EQ(sink.records.size(), 10u);
}

TEST_F(JournalSourceTest, SliceOverrideSelectsOnlyThatSlice) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.slice = "system-postfix";
  std::vector<Record> records = ReadOnce(o);
  ASSERT_EQ(records.size(), 10u);
  for (const Record& r : records) {
    EXPECT_GE(r.pid, 2001);
    EXPECT_LE(r.pid, 2005);
  }
}

TEST_F(JournalSourceTest, UnitsAndSliceAreOred) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"cron.service", "postfix.service"};
  o.slice = "system-postfix.slice";
  std::vector<Record> records = ReadOnce(o);
  // Everything Postfix logged, including postdrop run from a cron job.
  EXPECT_EQ(records.size(), kFirstSelected + 1);
}

TEST_F(JournalSourceTest, OnlyPostfixAndDovecotIdentifiersBecomeRecords) {
  ASSERT_TRUE(ExportToJournal(Fixture("postfix.export"), journal_file_));
  auto o = Options();
  o.units = {"cron.service", "dovecot.service"};
  o.once = true;
  auto source = MustCreate(o);
  ASSERT_NE(source, nullptr);
  CollectingSink sink;
  Drain(source.get(), &sink);
  // CRON's entries are skipped; postdrop (a Postfix program) is not, nor are
  // Dovecot's (its auth failures refine Postfix's, reason_refiner.h).
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].syslog_name, "dovecot");
  EXPECT_EQ(sink.records[0].daemon, "");
  EXPECT_EQ(sink.records[0].message,
            "auth-worker(3105): pam(info@example.org,192.0.2.1): unknown user");
  EXPECT_EQ(sink.records[1].syslog_name, "postfix");
  EXPECT_EQ(sink.records[1].daemon, "postdrop");
  EXPECT_EQ(sink.records[2].syslog_name, "dovecot");
  EXPECT_EQ(source->stats().errors, 0u);
}

TEST_F(JournalSourceTest, IdentifierWithoutDaemonIsSkipped) {
  ASSERT_TRUE(
      ExportToJournal("__REALTIME_TIMESTAMP=1715680800000000\n__MONOTONIC_TIMESTAMP=1000\n"
                      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
                      "SYSLOG_IDENTIFIER=postfix\nMESSAGE=fatal: usage: postfix start\n\n"
                      "__REALTIME_TIMESTAMP=1715680801000000\n__MONOTONIC_TIMESTAMP=2000\n"
                      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
                      "MESSAGE=no identifier at all\n\n",
                      journal_file_));
  EXPECT_TRUE(ReadOnce(Options()).empty());
}

TEST_F(JournalSourceTest, PidFallsBackToPidFieldThenMinusOne) {
  ASSERT_TRUE(ExportToJournal(
      "__REALTIME_TIMESTAMP=1715680800000000\n__MONOTONIC_TIMESTAMP=1000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\n_PID=77\nMESSAGE=connect from unknown[192.0.2.1]\n\n"
      "__REALTIME_TIMESTAMP=1715680801000000\n__MONOTONIC_TIMESTAMP=2000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=x\nMESSAGE=no usable pid\n\n"
      "__REALTIME_TIMESTAMP=1715680802000000\n__MONOTONIC_TIMESTAMP=3000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=78\n\n",
      journal_file_));
  std::vector<Record> records = ReadOnce(Options());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].pid, 77);
  EXPECT_EQ(records[1].pid, -1);
  EXPECT_EQ(records[1].message, "no usable pid");
  // No MESSAGE: delivered empty, so the pipeline counts it as unparsable.
  EXPECT_EQ(records[2].pid, 78);
  EXPECT_EQ(records[2].message, "");
}

TEST_F(JournalSourceTest, BinaryMessageIsDeliveredByteExact) {
  // Export format stores non-text values as: name, '\n', 64-bit LE length, data, '\n'.
  const std::string message("warning: \xff\xfe bad bytes\0after NUL\nsecond line", 44);
  std::string text =
      "__REALTIME_TIMESTAMP=1715680800000000\n__MONOTONIC_TIMESTAMP=1000\n"
      "_BOOT_ID=3c5d4a0e8b1f4e6a9d2c7b8a1e0f5d6c\n_SYSTEMD_UNIT=postfix.service\n"
      "SYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=9\nMESSAGE\n";
  uint64_t n = message.size();
  for (int i = 0; i < 8; ++i) text.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  text += message + "\n\n";
  ASSERT_TRUE(ExportToJournal(text, journal_file_));
  std::vector<Record> records = ReadOnce(Options());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, message);
  EXPECT_EQ(records[0].message.size(), 44u);
}

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

TEST_F(JournalSourceTest, InvalidOptionsAreRejected) {
  auto o = Options();
  o.batch = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(JournalSource::Create(o).status()));
  o = Options();
  o.units = {"postfix.service", ""};
  EXPECT_TRUE(absl::IsInvalidArgument(JournalSource::Create(o).status()));
  o = Options();
  o.cursor_file = dir_ / "no/such/dir/cursor";
  auto bad_dir = JournalSource::Create(o);
  EXPECT_TRUE(absl::IsInvalidArgument(bad_dir.status()));
  EXPECT_NE(bad_dir.status().message().find(o.cursor_file), absl::string_view::npos);
}

TEST_F(JournalSourceTest, UnreadableCursorFileStopsStartUp) {
  auto o = Options();
  o.cursor_file = dir_ / "cursor";
  // A directory where the file should be: open() succeeds but read() fails
  // with EISDIR, which no permission bits (we run as root) can bypass.
  ASSERT_TRUE(fs::create_directory(o.cursor_file));
  auto source = JournalSource::Create(o);
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find(o.cursor_file), absl::string_view::npos)
      << source.status();
}

TEST_F(JournalSourceTest, Describe) {
  auto o = Options();
  auto dir_source = MustCreate(o);
  ASSERT_NE(dir_source, nullptr);
  EXPECT_EQ(dir_source->Describe(), "journal:" + journal_dir_);
  o.journal_path.clear();
  auto local = MustCreate(o);
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->Describe(), "journal:local");
}

TEST(LocalJournalAvailableTest, FalseWithoutJournalDirectories) {
  TempDir dir;
  EXPECT_FALSE(LocalJournalAvailable(dir / "run", dir / "var"));
  ASSERT_TRUE(fs::create_directory(dir / "var"));
  // sd_journal_open of the local journal works without journald running.
  EXPECT_TRUE(LocalJournalAvailable(dir / "run", dir / "var"));
}

}  // namespace
}  // namespace pse
