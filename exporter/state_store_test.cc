// StateStore: snapshots are written in order, an older one never replaces a
// newer one, an unchanged state does not touch the disk, and a file that
// cannot be used is moved aside.
#include "exporter/state_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

class FakeSource : public Source {
 public:
  size_t Poll(RecordSink*) override { return 0; }
  void Wait(absl::Duration) override {}
  bool AtEnd() const override { return false; }
  absl::Status Checkpoint() override { return absl::OkStatus(); }
  std::string CheckpointText() override { return position; }
  void Reopen() override {}
  SourceStats stats() const override { return {}; }
  std::string Describe() const override { return "file:/var/log/mail.log"; }
  std::string position = "offset=1";
};

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pse-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/state";
    store_ = std::make_unique<StateStore>(path_, nullptr);
    store_->Attach(&source_, harness_.pipeline());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  StateStore::Snapshot Take() {
    std::lock_guard<std::mutex> lock(store_->mutex());
    return store_->TakeSnapshotLocked();
  }
  int64_t MTimeNs() {
    struct stat st;
    if (stat(path_.c_str(), &st) != 0) return -1;
    return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  }

  std::string dir_, path_;
  FakeSource source_;
  test::PipelineHarness harness_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(StateStoreTest, AnOlderSnapshotNeverReplacesANewerOne) {
  StateStore::Snapshot old_one = Take();
  source_.position = "offset=2";
  StateStore::Snapshot new_one = Take();
  ASSERT_TRUE(store_->Write(new_one).ok());
  ASSERT_TRUE(store_->Write(old_one).ok());
  absl::StatusOr<StateDocument> doc = LoadStateFile(path_);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->sections["position"], std::vector<std::string>{"offset=2"});
}

TEST_F(StateStoreTest, AnUnchangedStateIsNotWrittenAgain) {
  ASSERT_TRUE(store_->Save().ok());
  ASSERT_EQ(unlink(path_.c_str()), 0);
  ASSERT_TRUE(store_->Save().ok());
  EXPECT_EQ(MTimeNs(), -1) << "an identical snapshot was written again";
  source_.position = "offset=3";
  ASSERT_TRUE(store_->Save().ok());
  EXPECT_NE(MTimeNs(), -1);
}

double LinesRead(const std::vector<prometheus::MetricFamily>& families) {
  for (const auto& f : families) {
    if (f.name == "postfix_exporter_log_lines_total") return f.metric.at(0).counter.value;
  }
  return -1;
}

// "c postfix_exporter_log_lines_total N" of the state file's metrics section.
std::string SavedLinesRead(const std::string& path) {
  absl::StatusOr<StateDocument> doc = LoadStateFile(path);
  if (!doc.ok()) return std::string(doc.status().message());
  for (const std::string& line : doc->sections["metrics"]) {
    if (absl::StartsWith(line, "c postfix_exporter_log_lines_total ")) return line.substr(35);
  }
  return "none";
}

TEST_F(StateStoreTest, ScrapesWithinTheReuseTimeGetTheSavedAnswer) {
  absl::Time now = absl::FromUnixSeconds(1000000);
  SavingCollectable scrape(store_.get(), harness_.registry(), absl::Seconds(1),
                           [&now] { return now; });
  harness_.Feed(test::PipelineHarness::Line(0, "postfix/smtpd", 10, "connect from a[192.0.2.1]"));
  EXPECT_EQ(LinesRead(scrape.Collect()), 1);
  EXPECT_EQ(SavedLinesRead(path_), "1");
  harness_.Feed(test::PipelineHarness::Line(1, "postfix/smtpd", 10, "lost connection"));
  now += absl::Milliseconds(500);
  EXPECT_EQ(LinesRead(scrape.Collect()), 1) << "within 1 s: the saved answer";
  EXPECT_EQ(SavedLinesRead(path_), "1");
  now += absl::Milliseconds(600);
  EXPECT_EQ(LinesRead(scrape.Collect()), 2) << "past 1 s: collected and saved again";
  EXPECT_EQ(SavedLinesRead(path_), "2");
}

TEST_F(StateStoreTest, WithoutReuseEveryScrapeSaves) {
  SavingCollectable scrape(store_.get(), harness_.registry());
  for (int i = 1; i <= 3; ++i) {
    harness_.Feed(test::PipelineHarness::Line(i, "postfix/smtpd", 10, "connect from a[192.0.2.1]"));
    EXPECT_EQ(LinesRead(scrape.Collect()), i);
    EXPECT_EQ(SavedLinesRead(path_), absl::StrCat(i));
  }
}

TEST_F(StateStoreTest, LoadGivesTheDocumentOnlyForTheSameSource) {
  ASSERT_TRUE(store_->Save().ok());
  EXPECT_TRUE(store_->Load("file:/var/log/mail.log").has_value());
  EXPECT_FALSE(store_->Load("file:/var/log/other.log").has_value());
  EXPECT_EQ(access((path_ + ".bad").c_str(), F_OK), 0);
  EXPECT_NE(access(path_.c_str(), F_OK), 0);
}

TEST_F(StateStoreTest, CheckUsableNeedsAnExistingWritableDirectory) {
  EXPECT_TRUE(store_->CheckUsable().ok());
  EXPECT_FALSE(StateStore(dir_ + "/missing/state", nullptr).CheckUsable().ok());
  EXPECT_FALSE(StateStore(dir_, nullptr).CheckUsable().ok());
  EXPECT_TRUE(StateStore("", nullptr).CheckUsable().ok());
}

}  // namespace
}  // namespace pse
