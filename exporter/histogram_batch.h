// HistogramBatch: histogram observations held in plain memory and added to
// their prometheus::Histogram once per batch of lines.
//
// prometheus-cpp's Histogram::Observe takes a mutex and makes two atomic
// additions; the delivery delay histograms take four observations per
// delivery line, a measurable share of the ingest's CPU. A BatchedHistogram
// sorts each value into its bucket (the bucket Observe would pick: the first
// bound >= value, or +Inf) and adds to a local count and sum; Publish() hands
// every histogram observed since the last call to ObserveMultiple.
//
// Until Publish() the registry does not show the held observations: the
// pipeline publishes with the line count (Pipeline::PublishCounts), under the
// ingest lock after every Poll. Sums are added per batch, so a sum may differ
// from value-by-value addition in the last bits of the double.
//
// Thread-safety: the ingest thread owns it. Handles stay valid for the
// batch's lifetime.
#ifndef PSE_EXPORTER_HISTOGRAM_BATCH_H_
#define PSE_EXPORTER_HISTOGRAM_BATCH_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "prometheus/family.h"
#include "prometheus/histogram.h"

namespace pse {

class BatchedHistogram {
 public:
  BatchedHistogram(prometheus::Histogram* histogram, const std::vector<double>& bounds,
                   std::vector<BatchedHistogram*>* queue);

  void Observe(double value);
  // Adds what was observed since the last call to the histogram.
  void Publish();

 private:
  prometheus::Histogram* histogram_;
  const std::vector<double>* bounds_;  // the histogram's, static
  std::vector<double> counts_;         // per bucket, +Inf last
  double sum_ = 0;
  bool queued_ = false;
  std::vector<BatchedHistogram*>* queue_;
};

class HistogramBatch {
 public:
  // The series `labels` of `family` (made with `bounds`, which must outlive
  // the batch), observed through the batch.
  BatchedHistogram* Add(prometheus::Family<prometheus::Histogram>* family,
                        const std::map<std::string, std::string>& labels,
                        const std::vector<double>& bounds);
  // Publishes every histogram observed since the last call.
  void Publish();

 private:
  std::deque<BatchedHistogram> histograms_;  // a deque: handles never move
  std::vector<BatchedHistogram*> queue_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_HISTOGRAM_BATCH_H_
