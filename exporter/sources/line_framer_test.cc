#include "exporter/sources/line_framer.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

using ::testing::ElementsAreArray;

class Lines : public RecordSink {
 public:
  void OnLine(absl::string_view line) override { got.emplace_back(line); }
  void OnRecord(const LogRecord&) override { ADD_FAILURE() << "framer delivered a record"; }
  std::vector<std::string> got;
};

// Feeds `chunks` one read() each, then flushes when asked.
struct Framed {
  std::vector<std::string> lines;
  uint64_t too_long = 0;
  uint64_t commit = 0;  // CommitOffset() before the flush
};

Framed Feed(const std::vector<std::string>& chunks, size_t max_line, bool flush) {
  LineFramer framer(max_line);
  Lines sink;
  Framed run;
  size_t delivered = 0;
  for (const std::string& c : chunks) {
    EXPECT_LE(c.size(), framer.read_room());
    std::memcpy(framer.read_buffer(), c.data(), c.size());
    delivered += framer.Frame(c.size(), &sink, &run.too_long);
  }
  run.commit = framer.CommitOffset();
  if (flush) delivered += framer.FlushPartial(&sink);
  EXPECT_EQ(delivered, sink.got.size());
  run.lines = sink.got;
  return run;
}

struct Case {
  const char* name;
  std::vector<std::string> chunks;
  size_t max_line;
  bool flush;
  std::vector<std::string> lines;
  uint64_t too_long;
  uint64_t commit;
};

TEST(LineFramerTest, Table) {
  const std::string x20(20, 'x');
  const std::vector<Case> cases = {
      {"OneLine", {"a\n"}, 16, false, {"a"}, 0, 2},
      {"PartialHeld", {"a\nb"}, 16, false, {"a"}, 0, 2},
      {"PartialCompletedLater", {"a\nb", "c\n"}, 16, false, {"a", "bc"}, 0, 5},
      {"PartialFlushed", {"a\nb"}, 16, true, {"a", "b"}, 0, 2},
      {"CrStripped", {"a\r\nb\n"}, 16, false, {"a", "b"}, 0, 5},
      {"OnlyOneCrStripped", {"a\r\r\n"}, 16, false, {"a\r"}, 0, 4},
      {"CrSplitAcrossReads", {"a\r", "\n"}, 16, false, {"a"}, 0, 3},
      {"EmptyLinesDropped", {"\n\r\n\na\n"}, 16, false, {"a"}, 0, 6},
      {"LeadingNulsSkipped", {std::string("\0\0\0a\n", 5)}, 16, false, {"a"}, 0, 5},
      {"NulHoleLongerThanCap", {std::string(100, '\0') + "a\n"}, 16, false, {"a"}, 0, 102},
      {"NulInsideLineKept", {std::string("a\0b\n", 4)}, 16, false, {std::string("a\0b", 3)}, 0, 4},
      {"LineAtCapDelivered",
       {std::string(16, 'y') + "\n"},
       16,
       false,
       {std::string(16, 'y')},
       0,
       17},
      {"LineOverCapSkipped", {"a\n" + x20 + "\nb\n"}, 16, false, {"a", "b"}, 1, 25},
      {"LongPartialSkippedAcrossReads",
       {"a\n" + x20, x20, "tail\nb\n"},
       16,
       false,
       {"a", "b"},
       1,
       49},
      {"LongPartialCommitsAtItsStart", {"a\n" + x20, "more"}, 16, false, {"a"}, 1, 2},
      {"LongPartialNotFlushed", {"a\n" + x20}, 16, true, {"a"}, 1, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Framed run = Feed(c.chunks, c.max_line, c.flush);
    EXPECT_THAT(run.lines, ElementsAreArray(c.lines));
    EXPECT_EQ(run.too_long, c.too_long);
    EXPECT_EQ(run.commit, c.commit);
  }
}

TEST(LineFramerTest, ResetDropsPartialAndSetsOffset) {
  LineFramer framer(16);
  Lines sink;
  uint64_t too_long = 0;
  std::memcpy(framer.read_buffer(), "a\npart", 6);
  framer.Frame(6, &sink, &too_long);
  framer.Reset(0);
  EXPECT_EQ(framer.offset(), 0u);
  EXPECT_EQ(framer.FlushPartial(&sink), 0u);
  std::memcpy(framer.read_buffer(), "b\n", 2);
  framer.Frame(2, &sink, &too_long);
  EXPECT_THAT(sink.got, ElementsAreArray({"a", "b"}));
  EXPECT_EQ(framer.CommitOffset(), 2u);
}

TEST(LineFramerTest, SkipRestOfLineCommitsAtLineStartUntilNewline) {
  LineFramer framer(16);
  Lines sink;
  uint64_t too_long = 0;
  framer.Reset(10);
  framer.SkipRestOfLine(7);
  EXPECT_EQ(framer.CommitOffset(), 7u);
  std::memcpy(framer.read_buffer(), "rest\nnew\n", 9);
  EXPECT_EQ(framer.Frame(9, &sink, &too_long), 1u);
  EXPECT_THAT(sink.got, ElementsAreArray({"new"}));
  EXPECT_EQ(framer.CommitOffset(), 19u);
  EXPECT_EQ(too_long, 0u);  // a skipped start is not an over-long line
}

TEST(LineFramerTest, ReadRoomIsAtLeastOneChunkWhateverIsHeld) {
  LineFramer framer(16);
  Lines sink;
  uint64_t too_long = 0;
  const size_t empty_room = framer.read_room();
  EXPECT_GE(empty_room, 64u * 1024);
  std::memcpy(framer.read_buffer(), "0123456789abcdef", 16);  // a held line at the cap
  framer.Frame(16, &sink, &too_long);
  EXPECT_EQ(framer.read_room(), empty_room - 16);
  EXPECT_GE(framer.read_room(), 64u * 1024);
}

}  // namespace
}  // namespace pse
