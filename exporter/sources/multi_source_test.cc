#include "exporter/sources/multi_source.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pse {
namespace {

// A scripted source: delivers its lines on the first Poll().
class FakeSource : public Source {
 public:
  FakeSource(std::vector<std::string> lines, std::string checkpoint, bool at_end)
      : lines_(std::move(lines)), checkpoint_(std::move(checkpoint)), at_end_(at_end) {}
  size_t Poll(RecordSink* sink) override {
    size_t n = 0;
    for (const auto& l : lines_) {
      sink->OnLine(l);
      ++n;
    }
    lines_.clear();
    return n;
  }
  void Wait(absl::Duration) override { ++waits; }
  bool AtEnd() const override { return at_end_; }
  absl::Status Checkpoint() override { return absl::OkStatus(); }
  std::string CheckpointText() override { return checkpoint_; }
  void Reopen() override { ++reopens; }
  SourceStats stats() const override {
    SourceStats s;
    s.up = true;
    s.errors = 2;
    return s;
  }
  std::string Describe() const override { return "fake:" + checkpoint_; }
  int waits = 0;
  int reopens = 0;

 private:
  std::vector<std::string> lines_;
  std::string checkpoint_;
  bool at_end_;
};

struct LineRecorder : RecordSink {
  std::vector<std::string> lines;
  void OnLine(absl::string_view line) override { lines.emplace_back(line); }
  void OnRecord(const LogRecord&) override {}
};

TEST(CompositeSource, PollsEveryChildIntoOneSink) {
  std::vector<std::unique_ptr<Source>> kids;
  kids.push_back(std::make_unique<FakeSource>(std::vector<std::string>{"a", "b"}, "pos", true));
  FakeSource borrowed(std::vector<std::string>{"c"}, "", false);
  auto* second = &borrowed;
  {
    CompositeSource s(std::move(kids), {&borrowed});
    LineRecorder r;
    EXPECT_EQ(s.Poll(&r), 3u);
    EXPECT_EQ(r.lines, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_FALSE(s.AtEnd());  // the second child never ends
    EXPECT_EQ(s.CheckpointText(), "pos");
    EXPECT_EQ(s.Describe(), "fake:pos+fake:");
    EXPECT_EQ(s.stats().errors, 4u);
    EXPECT_TRUE(s.stats().up);
    s.Wait(absl::Milliseconds(10));
    s.Reopen();
    EXPECT_EQ(second->waits, 1);
    EXPECT_EQ(second->reopens, 1);
  }
  // A borrowed child outlives the composite (the test would crash otherwise).
  EXPECT_EQ(borrowed.CheckpointText(), "");
}

}  // namespace
}  // namespace pse
