// A batched histogram ends up exactly as one observed value by value.
#include "exporter/histogram_batch.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "prometheus/client_metric.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace pse {
namespace {

const std::vector<double> kBounds = {0.5, 1, 10, 60};

prometheus::ClientMetric::Histogram Read(prometheus::Histogram* h) {
  return h->Collect().histogram;
}

TEST(HistogramBatch, SameBucketsAndSumAsObserve) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildHistogram().Name("h").Register(registry);
  prometheus::Histogram& direct = family.Add({{"k", "direct"}}, kBounds);
  HistogramBatch batch;
  BatchedHistogram* b = batch.Add(&family, {{"k", "held"}}, kBounds);
  prometheus::Histogram& held = family.Add({{"k", "held"}}, kBounds);  // the same series
  // Below the first bound, on every bound, between bounds, past the last.
  const std::vector<double> values = {0, 0.25, 0.5, 0.75, 1, 2, 10, 60, 61, 1e9, -1};
  for (double v : values) {
    direct.Observe(v);
    b->Observe(v);
  }
  EXPECT_EQ(Read(&held).sample_count, 0u) << "nothing shows before Publish";
  batch.Publish();
  for (int round = 0; round < 2; ++round) {
    const auto want = Read(&direct);
    const auto got = Read(&held);
    EXPECT_EQ(got.sample_count, want.sample_count);
    EXPECT_EQ(got.sample_sum, want.sample_sum);
    ASSERT_EQ(got.bucket.size(), want.bucket.size());
    for (size_t i = 0; i < want.bucket.size(); ++i) {
      EXPECT_EQ(got.bucket[i].cumulative_count, want.bucket[i].cumulative_count) << i;
    }
    // A second batch adds to the first; a batch without values adds nothing.
    direct.Observe(5);
    b->Observe(5);
    batch.Publish();
    batch.Publish();
  }
}

}  // namespace
}  // namespace pse
