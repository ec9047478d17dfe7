#include "exporter/triage/top_series.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "testing/metric_values.h"

namespace pse {
namespace triage {
namespace {

constexpr char kName[] = "test_top_total";

std::map<std::string, double> Values(const prometheus::Registry& r) {
  return test::SeriesByLabel(r, kName);
}

struct Fixture {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& family =
      prometheus::BuildCounter().Name(kName).Help("t").Register(registry);
};

std::string Label(uint64_t key) { return absl::StrCat("k", key); }

TEST(TopSeries, SeriesAfterMinCountAndOtherSumsExactly) {
  Fixture f;
  TopSeries top(&f.family, "username", 2, 3);
  top.Add(1, 1, [] { return Label(1); });
  top.Add(1, 1, [] { return Label(1); });
  EXPECT_EQ(Values(f.registry), (std::map<std::string, double>{{"other", 2}}));
  auto change = top.Add(1, 1, [] { return Label(1); });
  EXPECT_TRUE(change.promoted);
  EXPECT_EQ(Values(f.registry), (std::map<std::string, double>{{"other", 2}, {"k1", 1}}));
  EXPECT_EQ(*top.LabelOf(1), "k1");
}

TEST(TopSeries, HeavierKeyDisplacesWeakestAndTotalHolds) {
  Fixture f;
  TopSeries top(&f.family, "username", 2, 1);
  double total = 0;
  std::map<std::string, double> last;
  // Keys 0..9, key k seen (k + 1) * 5 times, interleaved.
  for (int round = 0; round < 50; ++round) {
    for (uint64_t k = 0; k < 10; ++k) {
      if (round >= static_cast<int>((k + 1) * 5)) continue;
      auto change = top.Add(k, 1, [k] { return Label(k); });
      if (change.demoted) {
        EXPECT_EQ(top.LabelOf(change.demoted_key), nullptr);
      }
      total += 1;
      auto now = Values(f.registry);
      ASSERT_DOUBLE_EQ(test::SumOf(now), total);
      ASSERT_LE(now.size(), 3u);
      for (const auto& [label, v] : now) {
        auto before = last.find(label);
        if (before != last.end()) {
          ASSERT_GE(v, before->second) << label;
        }
      }
      last = now;
    }
  }
  EXPECT_TRUE(last.count("k9"));
  EXPECT_TRUE(last.count("k8"));
}

TEST(TopSeries, SaveRestore) {
  Fixture a;
  TopSeries ta(&a.family, "username", 2, 3);
  for (int i = 0; i < 5; ++i) ta.Add(7, 1, [] { return std::string("has space \xE2\x80\xA6"); });
  ta.Add(8, 1, [] { return Label(8); });
  ta.Add(8, 1, [] { return Label(8); });  // in the sketch, not yet a series
  std::vector<std::string> lines;
  ta.Save("fail", &lines);
  Fixture b;
  TopSeries tb(&b.family, "username", 2, 3);
  for (const std::string& line : lines) {
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    ASSERT_EQ(t[0], "fail");
    ASSERT_TRUE(tb.RestoreLine({t.begin() + 1, t.end()}, true)) << line;
  }
  EXPECT_EQ(tb.FinishRestore(true), std::vector<uint64_t>{7});
  EXPECT_EQ(Values(b.registry), Values(a.registry));
  // The sketch came back too: key 8's third occurrence earns its series.
  EXPECT_TRUE(ta.Add(8, 1, [] { return Label(8); }).promoted);
  EXPECT_TRUE(tb.Add(8, 1, [] { return Label(8); }).promoted);
  EXPECT_EQ(Values(b.registry), Values(a.registry));
  // Another configuration keeps only the total.
  Fixture c;
  TopSeries tc(&c.family, "username", 2, 3);
  for (const std::string& line : lines) {
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    ASSERT_TRUE(tc.RestoreLine({t.begin() + 1, t.end()}, false));
  }
  EXPECT_TRUE(tc.FinishRestore(false).empty());
  EXPECT_EQ(Values(c.registry), (std::map<std::string, double>{{"other", 7}}));
}

TEST(TopSeries, OneOffKeysStayOutOfTheSketch) {
  Fixture f;
  TopSeries top(&f.family, "username", 2, 2);
  // 10,000 names used once do not push out a name seen twice before them.
  top.Add(1, 1, [] { return Label(1); });
  top.Add(1, 1, [] { return Label(1); });
  EXPECT_NE(top.LabelOf(1), nullptr);
  top.Add(2, 1, [] { return Label(2); });
  top.Add(2, 1, [] { return Label(2); });
  for (uint64_t k = 100; k < 10100; ++k) top.Add(k * 0x9E3779B97F4A7C15ULL, 1, [] { return ""; });
  EXPECT_EQ(Values(f.registry),
            (std::map<std::string, double>{{"other", 10002}, {"k1", 1}, {"k2", 1}}));
  // A key seen twice in a row is admitted with both occurrences counted.
  top.Add(3, 1, [] { return Label(3); });
  // Guaranteed 2: not above the weakest series (2) yet.
  EXPECT_FALSE(top.Add(3, 1, [] { return Label(3); }).promoted);
  EXPECT_TRUE(top.Add(3, 1, [] { return Label(3); }).promoted);
}

TEST(TopSeries, RestoreRejectsGarbage) {
  Fixture f;
  TopSeries t(&f.family, "username", 2, 2);
  EXPECT_FALSE(t.RestoreLine({"series", "zz", "6162", "3"}, true));
  EXPECT_FALSE(t.RestoreLine({"series", "1f", "616", "3"}, true));
  EXPECT_FALSE(t.RestoreLine({"other"}, true));
  EXPECT_FALSE(t.RestoreLine({"bogus", "1"}, true));
}

}  // namespace
}  // namespace triage
}  // namespace pse
