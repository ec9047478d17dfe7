#include "exporter/triage/distinct_window.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pse {
namespace triage {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000 * kSecond;

uint64_t H(int i) { return HashBytes(absl::StrCat("value-", i)); }

TEST(DistinctWindow, EmptyIsZero) {
  DistinctWindow w({});
  EXPECT_EQ(w.Estimate(), 0.0);
  EXPECT_EQ(w.MemoryBytes(), 0u);  // nothing allocated until a value comes
}

TEST(DistinctWindow, SmallCountsAreNearExact) {
  DistinctWindow w({});
  for (int i = 0; i < 100; ++i) w.Add(H(i), kT0);
  for (int i = 0; i < 100; ++i) w.Add(H(i), kT0 + kSecond);  // repeats
  EXPECT_NEAR(w.Estimate(), 100.0, 2.0);
}

TEST(DistinctWindow, WithinTwoPercentAtOneMillion) {
  DistinctWindow w({});
  for (int i = 0; i < 1000000; ++i) w.Add(H(i), kT0 + i * 1000);  // 1000 s
  EXPECT_NEAR(w.Estimate(), 1e6, 2e4);
}

TEST(DistinctWindow, ValuesLeaveAfterTheWindow) {
  DistinctWindow::Options o;
  o.window_us = 3600 * kSecond;
  DistinctWindow w(o);
  for (int i = 0; i < 1000; ++i) w.Add(H(i), kT0);
  for (int i = 1000; i < 1500; ++i) w.Add(H(i), kT0 + 1800 * kSecond);
  w.Advance(kT0 + 3000 * kSecond);
  EXPECT_NEAR(w.Estimate(), 1500.0, 45.0);
  w.Advance(kT0 + 3601 * kSecond);  // the first thousand are out
  EXPECT_NEAR(w.Estimate(), 500.0, 15.0);
  w.Advance(kT0 + 7200 * kSecond);
  EXPECT_EQ(w.Estimate(), 0.0);
  EXPECT_EQ(w.MemoryBytes(), 0u);
}

// Slices leaving one at a time lower only the registers they held the
// maximum of; the estimate must equal one recomputed from the live slices
// (a restore recomputes everything), slice after slice.
TEST(DistinctWindow, SteadyExpiryMatchesARecompute) {
  DistinctWindow::Options o;
  o.precision = 8;  // few registers: slices often hold the same maximum
  DistinctWindow w(o);
  int next = 0;
  for (int slice = 0; slice < 80; ++slice) {
    const int64_t t = kT0 + slice * 120 * kSecond;
    // Busy and quiet slices, so maxima move between slices.
    const int n = slice % 7 == 0 ? 400 : (slice % 3 == 0 ? 0 : 25);
    for (int i = 0; i < n; ++i) w.Add(H(next++), t);
    w.Advance(t);
    DistinctWindow fresh(o);
    ASSERT_TRUE(fresh.Restore(w.Save()));
    ASSERT_EQ(w.Estimate(), fresh.Estimate()) << "slice " << slice;
  }
}

TEST(DistinctWindow, MemoryIsBounded) {
  DistinctWindow w({});
  // Three windows' worth of 2-minute slices, each with values in it.
  for (int slice = 0; slice < 90; ++slice) {
    for (int i = 0; i < 2000; ++i) w.Add(H(slice * 2000 + i), kT0 + slice * 120 * kSecond);
  }
  // 31 slices of 16 KiB at most, whatever the time span.
  EXPECT_LE(w.MemoryBytes(), 31u * 16384u);
}

TEST(DistinctWindow, SaveRestoreRoundTrip) {
  DistinctWindow a({});
  for (int i = 0; i < 50; ++i) a.Add(H(i), kT0);                              // sparse slice
  for (int i = 0; i < 20000; ++i) a.Add(H(100000 + i), kT0 + 600 * kSecond);  // dense
  DistinctWindow b({});
  ASSERT_TRUE(b.Restore(a.Save()));
  EXPECT_DOUBLE_EQ(b.Estimate(), a.Estimate());
  // Expiry continues after the restore.
  a.Advance(kT0 + 3601 * kSecond);
  b.Advance(kT0 + 3601 * kSecond);
  EXPECT_DOUBLE_EQ(b.Estimate(), a.Estimate());
  EXPECT_LT(b.Estimate(), 20500);
}

// Save() keeps each slice's text until the slice changes; a change after a
// save must show in the next one.
TEST(DistinctWindow, SaveAfterMoreValuesIncludesThem) {
  DistinctWindow a({});
  for (int i = 0; i < 50; ++i) a.Add(H(i), kT0);
  const std::vector<std::string> first = a.Save();
  EXPECT_EQ(a.Save(), first);                         // nothing changed
  for (int i = 50; i < 20000; ++i) a.Add(H(i), kT0);  // sparse turns dense
  DistinctWindow b({});
  ASSERT_TRUE(b.Restore(a.Save()));
  EXPECT_DOUBLE_EQ(b.Estimate(), a.Estimate());
  EXPECT_GT(b.Estimate(), 19000);
  // Expired slices drop their saved text with their registers.
  a.Advance(kT0 + 3601 * kSecond);
  EXPECT_EQ(a.Save().size(), 1u);  // only the cfg token
  EXPECT_EQ(a.MemoryBytes(), 0u);
}

TEST(DistinctWindow, RestoreWithOtherOptionsStartsEmpty) {
  DistinctWindow a({});
  for (int i = 0; i < 50; ++i) a.Add(H(i), kT0);
  DistinctWindow::Options o;
  o.precision = 12;
  DistinctWindow b(o);
  ASSERT_TRUE(b.Restore(a.Save()));
  EXPECT_EQ(b.Estimate(), 0.0);
}

TEST(HashBytes, ValuesAreFixed) {
  // A saved state holds registers indexed by these values: they may never
  // change (lengths 0, 3, 8, 12 and 16 cover the word and tail paths).
  EXPECT_EQ(HashBytes(""), 11286133854226296554ULL);
  EXPECT_EQ(HashBytes("abc"), 14571788608489823851ULL);
  EXPECT_EQ(HashBytes("user1234"), 13907981982313747842ULL);
  EXPECT_EQ(HashBytes("user12345678"), 11356014712670936642ULL);
  EXPECT_EQ(HashBytes(absl::string_view("\0\0\0\0\0\0\0\0\0\0\0\0\x0a\x01\x02\x03", 16)),
            14296346269158837331ULL);
}

// HashBytes as first written: a byte loop for the tail. The word-load tail
// must give the same value for every length.
uint64_t ByteLoopHash(absl::string_view bytes) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
  auto mix = [&h](uint64_t w) {
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
  };
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w = 0;
    for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];
    mix(w);
  }
  if (n > 0) {
    uint64_t w = 0;
    for (size_t i = n; i-- > 0;) w = (w << 8) | p[i];
    mix(w);
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

TEST(HashBytes, EveryLengthMatchesTheByteLoop) {
  std::string text;
  for (int n = 0; n <= 40; ++n) {
    EXPECT_EQ(HashBytes(text), ByteLoopHash(text)) << n;
    text += static_cast<char>(0x80 + n * 37);  // high bits set: no sign mix-ups
  }
  // The 16-byte form (client addresses) is the same function.
  const std::string addr = text.substr(3, 16);
  EXPECT_EQ(HashBytes16(reinterpret_cast<const uint8_t*>(addr.data())), HashBytes(addr));
  EXPECT_EQ(HashBytes16(reinterpret_cast<const uint8_t*>(addr.data())), ByteLoopHash(addr));
  // An IPv4 address (first eight bytes zero) takes the constant first word.
  const std::string v4("\0\0\0\0\0\0\0\0\0\0\0\0\xc0\x00\x02\x07", 16);
  EXPECT_EQ(HashBytes16(reinterpret_cast<const uint8_t*>(v4.data())), ByteLoopHash(v4));
}

TEST(DistinctWindow, AddsAcrossSlicesAndAfterRestore) {
  // Values in consecutive slices, then a restored copy carries on adding:
  // the estimate follows whichever slice log time is in.
  DistinctWindow::Options o;
  o.window_us = 60000000;  // 10 slices of 6 s
  o.buckets = 10;
  DistinctWindow a(o);
  for (int i = 0; i < 400; ++i) a.Add(H(i), kT0 + i * 100000);  // 40 s: 7 slices
  EXPECT_NEAR(a.Estimate(), 400, 12);
  DistinctWindow b(o);
  ASSERT_TRUE(b.Restore(a.Save()));
  EXPECT_EQ(b.Estimate(), a.Estimate());
  for (int i = 400; i < 500; ++i) {
    a.Add(H(i), kT0 + i * 100000);
    b.Add(H(i), kT0 + i * 100000);
  }
  EXPECT_EQ(b.Estimate(), a.Estimate());
  EXPECT_EQ(b.Save(), a.Save());
  // 50 s later only the last slices are live.
  EXPECT_TRUE(b.Advance(kT0 + 100 * 1000000));
  EXPECT_LT(b.Estimate(), a.Estimate());
}

TEST(DistinctWindow, RestoreRejectsGarbage) {
  DistinctWindow b({});
  EXPECT_FALSE(b.Restore({}));
  EXPECT_FALSE(b.Restore({"cfg:14:120000000:30", "12:x"}));
  EXPECT_FALSE(b.Restore({"cfg:14:120000000:30", "12:s99999999.3"}));
  EXPECT_FALSE(b.Restore({"cfg:14:120000000:30", "12:dabc"}));
}

}  // namespace
}  // namespace triage
}  // namespace pse
