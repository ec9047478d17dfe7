#include "exporter/peak_window.h"

#include "gtest/gtest.h"

namespace pse {
namespace {

constexpr int64_t kS = 1000000;

TEST(PeakWindow, EmptyIsZero) {
  PeakWindow w(60 * kS);
  EXPECT_EQ(w.Max(0), 0);
}

TEST(PeakWindow, ValueInEffectAtWindowStartCounts) {
  PeakWindow w(60 * kS);
  w.Record(0, 3);
  EXPECT_EQ(w.Max(1000 * kS), 3);  // still 3 now: nothing changed it
}

TEST(PeakWindow, PeakExpiresAfterWindow) {
  PeakWindow w(60 * kS);
  w.Record(0, 1);
  w.Record(10 * kS, 5);
  w.Record(11 * kS, 2);
  EXPECT_EQ(w.Max(11 * kS), 5);
  EXPECT_EQ(w.Max(70 * kS), 5);  // 5 held until 11 s, inside [10, 70]
  EXPECT_EQ(w.Max(71 * kS), 2);
}

TEST(PeakWindow, ReadingDoesNotReset) {
  PeakWindow w(60 * kS);
  w.Record(0, 4);
  w.Record(1 * kS, 0);
  EXPECT_EQ(w.Max(2 * kS), 4);
  EXPECT_EQ(w.Max(2 * kS), 4);
}

TEST(PeakWindow, TransientValuesReplacedBeforeTheWindowDoNotCount) {
  // Five sessions close within one second; one opens much later. The
  // intermediate counts 4..1 lasted no time and ended long before.
  PeakWindow w(60 * kS);
  for (int v = 1; v <= 5; ++v) w.Record(0, v);
  for (int v = 4; v >= 0; --v) w.Record(1 * kS, v);
  w.Record(59 * kS, 1);
  w.Record(62 * kS, 0);
  EXPECT_EQ(w.Max(62 * kS), 1);
  EXPECT_EQ(w.Max(200 * kS), 0);
}

TEST(PeakWindow, SizeBoundedByLargestValue) {
  PeakWindow w(3600 * kS);
  for (int i = 0; i < 100000; ++i) w.Record(i, i % 10);
  EXPECT_LE(w.size(), 11u);
  EXPECT_EQ(w.Max(100000), 9);
}

}  // namespace
}  // namespace pse
