// Metrics: every metric family the exporter exports, with pre-resolved handles.
//
// Families are registered once in a prometheus::Registry. The per-line path
// never calls Family::Add for a known service: handles for a service (all
// method x reason, stage and common reply-code series, pre-created at 0) are
// resolved the first time a syslog_name is seen and then found by index.
//
// Thread-safety: one ingest thread calls everything here; HTTP threads only
// call Registry::Collect, which prometheus-cpp makes safe against concurrent
// Increment/Set (atomics) and Family::Add (family mutex).
#ifndef PSE_EXPORTER_METRICS_H_
#define PSE_EXPORTER_METRICS_H_

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "parsers/postfix_event.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pse {

struct BuildInfo {
  std::string version;
  std::string revision;
};

class Metrics {
 public:
  // Handles of one `service` label value.
  struct Service {
    std::string syslog_name;
    std::string label;
    prometheus::Counter* connects;
    prometheus::Counter* disconnects;
    prometheus::Gauge* sessions;
    prometheus::Gauge* sessions_max;
    prometheus::Counter* successes;
    prometheus::Counter* backend_errors;
    prometheus::Counter* relay_denied;
    prometheus::Counter* unrecognized;
    std::array<std::array<prometheus::Counter*, kFailureReasonCount>, kSaslMethodCount> failures;
    // Index kSaslMethodCount is sasl_method="none".
    std::array<prometheus::Counter*, kSaslMethodCount + 1> processed;
    std::array<prometheus::Counter*, kSmtpStageCount> lost;
    // Indexed by reply code - 200; created on first use (bounded: 400 codes).
    std::array<prometheus::Counter*, 400> rejected{};
  };

  // Most distinct services / master service names tracked; further ones share
  // the label value "other" so a misbehaving log cannot grow the series count.
  static constexpr size_t kMaxServices = 64;
  // Most syslog_names remembered for the name -> service lookup.
  static constexpr size_t kMaxSyslogNames = 1024;

  Metrics(prometheus::Registry* registry, const BuildInfo& build);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Index of the service for a syslog_name, creating its series on first use.
  int ServiceIndex(absl::string_view syslog_name);
  Service& service(int index) { return *services_[index]; }

  prometheus::Counter& Rejected(Service& s, uint16_t code);
  prometheus::Counter& ProcessLimitReached(absl::string_view master_service);

  // Exporter self metrics (never null after construction).
  prometheus::Counter* log_lines;
  prometheus::Counter* log_lines_malformed;
  prometheus::Gauge* log_last_timestamp;
  prometheus::Gauge* anvil_connection_count_max;
  prometheus::Gauge* source_up;
  prometheus::Counter* source_rotations;
  prometheus::Counter* source_truncations;
  prometheus::Counter* lines_too_long;
  prometheus::Counter* source_errors;
  prometheus::Gauge* journal_lag;
  prometheus::Counter* evictions_idle;
  prometheus::Counter* evictions_capacity;
  prometheus::Gauge* sessions_tracked;

 private:
  struct Families;
  int FindOrAddService(absl::string_view label, absl::string_view syslog_name);

  std::unique_ptr<Families> fam_;

  std::vector<std::unique_ptr<Service>> services_;
  absl::flat_hash_map<std::string, int> service_by_syslog_name_;
  absl::flat_hash_map<std::string, prometheus::Counter*> process_limit_;
  // One-entry cache: consecutive lines mostly come from the same syslog_name.
  std::string last_syslog_name_;
  int last_index_ = -1;
};

}  // namespace pse

#endif  // PSE_EXPORTER_METRICS_H_
