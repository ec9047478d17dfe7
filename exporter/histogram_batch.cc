#include "exporter/histogram_batch.h"

#include <algorithm>
#include <cstddef>

namespace pse {

BatchedHistogram::BatchedHistogram(prometheus::Histogram* histogram,
                                   const std::vector<double>& bounds,
                                   std::vector<BatchedHistogram*>* queue)
    : histogram_(histogram), bounds_(&bounds), counts_(bounds.size() + 1, 0.0), queue_(queue) {}

void BatchedHistogram::Observe(double value) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_->begin(), bounds_->end(), value) - bounds_->begin());
  counts_[bucket] += 1;
  sum_ += value;
  if (!queued_) {
    queued_ = true;
    queue_->push_back(this);
  }
}

void BatchedHistogram::Publish() {
  histogram_->ObserveMultiple(counts_, sum_);
  std::fill(counts_.begin(), counts_.end(), 0.0);
  sum_ = 0;
  queued_ = false;
}

BatchedHistogram* HistogramBatch::Add(prometheus::Family<prometheus::Histogram>* family,
                                      const std::map<std::string, std::string>& labels,
                                      const std::vector<double>& bounds) {
  histograms_.emplace_back(&family->Add(labels, bounds), bounds, &queue_);
  return &histograms_.back();
}

void HistogramBatch::Publish() {
  for (BatchedHistogram* h : queue_) h->Publish();
  queue_.clear();
}

}  // namespace pse
