#include "exporter/sources/syslog_framing.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pse {
namespace {

struct Recorder : SyslogFrameSink {
  std::vector<std::string> messages;
  uint64_t drops[kSyslogDropCount] = {};
  void OnMessage(absl::string_view m) override { messages.emplace_back(m); }
  void OnDrop(SyslogDrop r, uint64_t n) override { drops[static_cast<int>(r)] += n; }
  uint64_t drop(SyslogDrop r) const { return drops[static_cast<int>(r)]; }
};

// Feeds `data` one byte at a time: every split point must frame the same.
bool FeedBytewise(SyslogStreamFramer* f, const std::string& data, Recorder* r) {
  for (char c : data) {
    if (!f->Feed(absl::string_view(&c, 1), r)) return false;
  }
  return true;
}

TEST(SyslogFraming, NewlineFramingDetectedFromFirstByte) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  ASSERT_TRUE(f.Feed("<13>Nov 30 10:00:00 a: one\n<13>Nov 30 10:00:01 a: two\r\n", &r));
  EXPECT_EQ(f.mode(), SyslogStreamFramer::Mode::kNewline);
  EXPECT_EQ(r.messages,
            (std::vector<std::string>{"<13>Nov 30 10:00:00 a: one", "<13>Nov 30 10:00:01 a: two"}));
}

TEST(SyslogFraming, OctetCountingDetectedFromFirstByte) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  ASSERT_TRUE(f.Feed("11 <13>1 - a b11 <13>1 - - x", &r));
  EXPECT_EQ(f.mode(), SyslogStreamFramer::Mode::kOctetCounting);
  EXPECT_EQ(r.messages, (std::vector<std::string>{"<13>1 - a b", "<13>1 - - x"}));
}

TEST(SyslogFraming, OctetCountedMessageMayContainNewlines) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  ASSERT_TRUE(f.Feed("6 a\nb\nc\n", &r));
  EXPECT_EQ(r.messages, (std::vector<std::string>{"a\nb\nc"}));
}

TEST(SyslogFraming, SplitAtEveryByteFramesTheSame) {
  for (const std::string data : {"5 hello6 world!\n3 abc", "hello\nworld!\n\nabc\n"}) {
    SyslogStreamFramer f(1024, 16 * 1024);
    Recorder r;
    ASSERT_TRUE(FeedBytewise(&f, data, &r));
    f.Finish(&r);
    EXPECT_EQ(r.messages, (std::vector<std::string>{"hello", "world!", "abc"})) << data;
  }
}

TEST(SyslogFraming, NulEndsANewlineFramedMessage) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  ASSERT_TRUE(f.Feed(std::string("one\0two\n", 8), &r));
  EXPECT_EQ(r.messages, (std::vector<std::string>{"one", "two"}));
}

TEST(SyslogFraming, TooLongNewlineMessageSkippedToItsNewline) {
  SyslogStreamFramer f(16, 256);
  Recorder r;
  ASSERT_TRUE(f.Feed("short\n" + std::string(10, 'x'), &r));
  ASSERT_TRUE(f.Feed(std::string(30, 'y'), &r));
  ASSERT_TRUE(f.Feed(std::string(30, 'z') + "\nafter\n", &r));
  EXPECT_EQ(r.messages, (std::vector<std::string>{"short", "after"}));
  EXPECT_EQ(r.drop(SyslogDrop::kTooLong), 1u);
}

TEST(SyslogFraming, TooLongOctetCountSkippedWhenSmall) {
  SyslogStreamFramer f(16, 256);
  Recorder r;
  ASSERT_TRUE(f.Feed("20 " + std::string(20, 'x') + "5 after", &r));
  EXPECT_EQ(r.messages, (std::vector<std::string>{"after"}));
  EXPECT_EQ(r.drop(SyslogDrop::kTooLong), 1u);
}

TEST(SyslogFraming, OctetCountOf10GBRefused) {
  SyslogStreamFramer f(64 * 1024, 1 << 20);
  Recorder r;
  EXPECT_FALSE(f.Feed("10000000000 <13>1 - - - - - x", &r));
  EXPECT_EQ(r.drop(SyslogDrop::kTooLong), 1u);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_FALSE(f.InFrame());
}

TEST(SyslogFraming, OverlongCountHeaderIsUnparsable) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  EXPECT_FALSE(f.Feed("1234567890123456789012345 x", &r));
  EXPECT_EQ(r.drop(SyslogDrop::kUnparsable), 1u);
}

TEST(SyslogFraming, GarbageAfterCountIsUnparsable) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  ASSERT_TRUE(f.Feed("3 abc", &r));
  EXPECT_FALSE(f.Feed("<13>not counted\n", &r));
  EXPECT_EQ(r.messages, (std::vector<std::string>{"abc"}));
  EXPECT_EQ(r.drop(SyslogDrop::kUnparsable), 1u);
}

TEST(SyslogFraming, ZeroCountIsUnparsable) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  EXPECT_FALSE(f.Feed("0 ", &r));
  EXPECT_EQ(r.drop(SyslogDrop::kUnparsable), 1u);
}

TEST(SyslogFraming, HalfSentOctetFrameCountedAsTruncated) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  ASSERT_TRUE(f.Feed("100 <13>1 2024", &r));
  EXPECT_TRUE(f.InFrame());
  f.Finish(&r);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.drop(SyslogDrop::kTruncated), 1u);
}

TEST(SyslogFraming, UnterminatedNewlineMessageDeliveredAtEnd) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  ASSERT_TRUE(f.Feed("last words", &r));
  EXPECT_TRUE(r.messages.empty());
  f.Finish(&r);
  EXPECT_EQ(r.messages, (std::vector<std::string>{"last words"}));
}

TEST(SyslogFraming, HeldBytesBounded) {
  SyslogStreamFramer f(1024, 16 * 1024);
  Recorder r;
  // A peer that never sends a newline: its bytes are thrown away, not held.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(f.Feed(std::string(4096, 'a'), &r));
  EXPECT_EQ(r.drop(SyslogDrop::kTooLong), 1u);
  ASSERT_TRUE(f.Feed("\nok\n", &r));
  EXPECT_EQ(r.messages, (std::vector<std::string>{"ok"}));
}

}  // namespace
}  // namespace pse
