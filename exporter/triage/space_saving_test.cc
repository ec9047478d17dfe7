#include "exporter/triage/space_saving.h"

#include <map>
#include <random>

#include "gtest/gtest.h"

namespace pse {
namespace triage {
namespace {

TEST(SpaceSaving, ExactWhileUnderCapacity) {
  SpaceSaving<int> s(4);
  for (int i = 0; i < 3; ++i) s.Add(1, 1);
  s.Add(2, 5);
  ASSERT_NE(s.Find(1), nullptr);
  EXPECT_EQ(s.Find(1)->count, 3u);
  EXPECT_EQ(s.Find(1)->error, 0u);
  EXPECT_EQ(s.Find(2)->count, 5u);
  EXPECT_EQ(s.Find(3), nullptr);
}

TEST(SpaceSaving, NewItemReplacesSmallestAndInheritsItsCount) {
  SpaceSaving<int> s(2);
  s.Add(1, 10);
  s.Add(2, 3);
  const auto& e = s.Add(3, 1);
  EXPECT_EQ(e.count, 4u);
  EXPECT_EQ(e.error, 3u);
  EXPECT_EQ(e.guaranteed(), 1u);
  EXPECT_EQ(s.Find(2), nullptr);
  EXPECT_EQ(s.Find(1)->count, 10u);
}

// The documented bounds, on a skewed stream with many one-off items.
TEST(SpaceSaving, ErrorBoundAndHeavyHittersHeld) {
  constexpr size_t kCapacity = 80;
  SpaceSaving<int> s(kCapacity);
  std::map<int, uint64_t> truth;
  std::mt19937 rng(7);
  uint64_t n = 0;
  for (int i = 0; i < 200000; ++i) {
    int key;
    if (i % 4 == 0) {
      key = static_cast<int>(rng() % 5);  // five heavy hitters, 5% each
    } else {
      key = 1000 + static_cast<int>(rng() % 100000);  // noise
    }
    s.Add(key, 1);
    ++truth[key];
    ++n;
  }
  for (const auto& e : s.entries()) {
    EXPECT_LE(e.guaranteed(), truth[e.key]);
    EXPECT_GE(e.count, truth[e.key]);
    EXPECT_LE(e.error, n / kCapacity);
  }
  for (int heavy = 0; heavy < 5; ++heavy) {
    ASSERT_NE(s.Find(heavy), nullptr) << heavy;
    EXPECT_GT(s.Find(heavy)->guaranteed(), truth[heavy] - n / kCapacity);
  }
}

// Repeats of one item (the last-slot shortcut) interleaved with evictions
// that reuse that item's slot for another: counts stay those of the map path.
TEST(SpaceSaving, RepeatsAndReusedSlotsCountLikeTheMap) {
  SpaceSaving<int> s(2);
  s.Add(1, 1);
  s.Add(1, 1);  // same slot as before
  s.Add(2, 5);
  s.Add(3, 1);  // evicts 1 (count 2): slot 0 now holds 3
  EXPECT_EQ(s.Find(1), nullptr);
  const auto& e = s.Add(1, 1);  // not the slot's old item: evicts 3 (count 3)
  EXPECT_EQ(e.key, 1);
  EXPECT_EQ(e.count, 4u);
  EXPECT_EQ(e.error, 3u);
  EXPECT_EQ(s.Find(3), nullptr);
  s.Add(1, 2);
  s.Add(1, 2);
  EXPECT_EQ(s.Find(1)->count, 8u);
  EXPECT_EQ(s.Find(2)->count, 5u);
  // The heap still puts the smallest first: a newcomer replaces 2.
  EXPECT_EQ(s.Add(4, 1).error, 5u);
  EXPECT_EQ(s.Find(2), nullptr);
  EXPECT_EQ(s.Find(1)->count, 8u);
}

TEST(SpaceSaving, HalveDecaysCounts) {
  SpaceSaving<int> s(2);
  s.Add(1, 9);
  s.Add(2, 4);
  s.Halve();
  EXPECT_EQ(s.Find(1)->count, 4u);
  EXPECT_EQ(s.Find(2)->count, 2u);
  // Heap order still holds: the smallest is replaced.
  s.Add(3, 1);
  EXPECT_EQ(s.Find(2), nullptr);
  EXPECT_EQ(s.Find(3)->count, 3u);
}

TEST(SpaceSaving, RestoreRebuildsTheHeap) {
  SpaceSaving<int> s(3);
  ASSERT_TRUE(s.Restore({1, 10, 0}));
  ASSERT_TRUE(s.Restore({2, 2, 1}));
  ASSERT_TRUE(s.Restore({3, 7, 0}));
  EXPECT_FALSE(s.Restore({4, 1, 0}));  // full
  s.Add(5, 1);
  EXPECT_EQ(s.Find(2), nullptr);
  EXPECT_EQ(s.Find(5)->error, 2u);
}

}  // namespace
}  // namespace triage
}  // namespace pse
