// The standard process_* metrics, read from /proc/self on every Collect(),
// with the names, types and help texts of the Go client's process collector
// (so dashboards built for Go exporters work unchanged):
//
//   process_cpu_seconds_total          counter  user + system CPU
//   process_resident_memory_bytes      gauge
//   process_virtual_memory_bytes       gauge
//   process_virtual_memory_max_bytes   gauge    RLIMIT_AS (2^64-1 when unlimited, as Go)
//   process_open_fds                   gauge
//   process_max_fds                    gauge    RLIMIT_NOFILE soft limit
//   process_start_time_seconds         gauge    since the Unix epoch
//   process_threads                    gauge    not in the Go client (it has
//                                               go_threads); named like its siblings
//
// A collect reads /proc/self/stat and lists /proc/self/fd: a few syscalls, no
// lock shared with anything else. A metric that cannot be read is left out of
// that scrape rather than reported as 0.
//
// Thread-safety: Collect() is const and may run on several threads at once.

#ifndef PSE_EXPORTER_HTTP_PROCESS_METRICS_H_
#define PSE_EXPORTER_HTTP_PROCESS_METRICS_H_

#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace pse {

class ProcessCollector : public prometheus::Collectable {
 public:
  // Reads the boot time and the process start time once.
  ProcessCollector();

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double start_time_seconds_ = -1;  // <0: unknown
};

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_PROCESS_METRICS_H_
