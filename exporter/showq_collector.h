// ShowqCollector: the Postfix queue as `mailq` sees it, read from Postfix's
// showq service at scrape time.
//
// Each Collect() connects to the showq socket (public/showq under the queue
// directory), reads the whole listing and returns, with kumina's names, types
// and buckets:
//
//   postfix_showq_message_size_bytes{queue}   histogram  1e3 .. 1e9
//   postfix_showq_message_age_seconds{queue}  histogram  1e1 .. 1e8
//   postfix_up{path}                          gauge      1 read, 0 not
//
// `queue` is one of incoming, active, deferred, hold, maildrop (all five are
// always shown once a read succeeds), or `other`; a histogram's _count is the
// number of messages and its _sum their bytes. Both the binary attribute
// stream of Postfix >= 2.9 (NUL-terminated name, value; an empty name ends a
// message) and the older text listing are read.
//
// A scrape never fails and never waits longer than `timeout` for the queue:
// a missing socket, a permission error (the exporter's user needs the
// `postdrop` group), a timeout or a malformed listing gives postfix_up 0 and
// no histograms, and one log line per change of error (not one per scrape).
// Collect() runs on HTTP threads only; the ingest thread never waits for it.
//
// Thread-safety: Collect() may run on several threads at once.
#ifndef PSE_EXPORTER_SHOWQ_COLLECTOR_H_
#define PSE_EXPORTER_SHOWQ_COLLECTOR_H_

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace pse {

class ShowqCollector : public prometheus::Collectable {
 public:
  ShowqCollector(std::string path, absl::Duration timeout);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Exposed for tests: the families for one listing read at `now`.
  static absl::Status Parse(absl::string_view listing, absl::Time now,
                            std::vector<prometheus::MetricFamily>* out);

 private:
  // Reads the listing chunk by chunk into `sink` (so memory does not grow
  // with the queue); the error says what failed, for the log.
  absl::Status Read(const std::function<absl::Status(absl::string_view)>& sink) const;

  const std::string path_;
  const absl::Duration timeout_;
  mutable std::mutex mu_;
  mutable std::string last_error_;  // guarded by mu_: logged once per change
};

}  // namespace pse

#endif  // PSE_EXPORTER_SHOWQ_COLLECTOR_H_
