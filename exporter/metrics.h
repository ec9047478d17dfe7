// Metrics: every metric family the exporter exports, with pre-resolved handles.
//
// Families are registered once in a prometheus::Registry. The per-line path
// never calls Family::Add for a known service: handles of a `service` label
// value (all method x reason, stage and common reply-code series, pre-created
// at 0) are made the first time a label id is used, and are then found by
// that id. Which label a line gets is ServiceTable's
// policy, not this class's.
//
// Thread-safety: one ingest thread calls everything here; HTTP threads only
// call Registry::Collect, which prometheus-cpp makes safe against concurrent
// Increment/Set (atomics) and Family::Add (family mutex).
#ifndef PSE_EXPORTER_METRICS_H_
#define PSE_EXPORTER_METRICS_H_

#include <array>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "parsers/postfix_event.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace pse {

// g->Set(v) unless g already holds v: a peak gauge is re-set on every
// session change but rarely moves, and a read costs far less than the
// atomic exchange of a store.
inline void SetIfChanged(prometheus::Gauge* g, double v) {
  if (g->Value() != v) g->Set(v);
}

struct BuildInfo {
  std::string version;
  std::string revision;
};

// `extra` plus service=`service` and, unless `host` is "", host=`host`: the
// labels of a per-service series.
std::map<std::string, std::string> SeriesLabels(
    const std::string& service, const std::string& host,
    std::initializer_list<std::pair<const std::string, std::string>> extra);

class Metrics {
 public:
  // Handles of one `service` label value (and `host` value, with the host
  // label).
  struct Service {
    std::string label;
    // "" without the host label: no `host` label at all.
    std::string host;
    // {service} or {host, service} plus `extra`: the labels of one series.
    std::map<std::string, std::string> Labels(
        std::initializer_list<std::pair<const std::string, std::string>> extra = {}) const {
      return SeriesLabels(label, host, extra);
    }
    prometheus::Counter* connects;
    prometheus::Counter* disconnects;
    prometheus::Gauge* sessions;
    prometheus::Gauge* sessions_max;
    prometheus::Counter* successes;
    prometheus::Counter* backend_errors;
    prometheus::Counter* relay_denied;
    prometheus::Counter* unrecognized;
    std::array<prometheus::Counter*, kClientLimitCount> client_limits;
    // The rest are created on first use through the accessors below.
    std::array<std::array<prometheus::Counter*, kFailureReasonCount>, kSaslMethodCount> failures{};
    // Index kSaslMethodCount is sasl_method="none".
    std::array<prometheus::Counter*, kSaslMethodCount + 1> processed{};
    std::array<prometheus::Counter*, kSmtpStageCount> lost{};
    // Indexed by reply code - 200 (bounded: 400 codes).
    std::array<prometheus::Counter*, 400> rejected{};
    // postfix_smtpd_rejects_total and postfix_smtpd_reject_warnings_total.
    using RejectGrid =
        std::array<std::array<prometheus::Counter*, kRejectCategoryCount>, kRejectStageCount>;
    RejectGrid rejects{};
    RejectGrid reject_warnings{};
    // postfix_smtp_sasl_authentication_failures_total: the smtp/lmtp
    // client of this service failing to authenticate to a relay.
    prometheus::Counter* smtp_sasl_failures = nullptr;
  };

  // Series made for a service when it is first seen (see the budget above).
  static constexpr int kPreCreatedPerService = 8 + kFailureReasonCount + kClientLimitCount;

  // Most master.cf service names in postfix_master_process_limit_reached_total;
  // further ones share the label value "other".
  static constexpr size_t kMaxMasterServices = 64;

  Metrics(prometheus::Registry* registry, const BuildInfo& build);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Handles of a ServiceTable label id, made on first use with `label` as
  // the value of the `service` label and `host` of the `host` label ("":
  // none), the table's label() and host() of that id.
  Service& service(int label_id, absl::string_view label, absl::string_view host = {}) {
    if (static_cast<size_t>(label_id) < services_.size() && services_[label_id]) {
      return *services_[label_id];
    }
    return AddService(label_id, label, host);
  }

  prometheus::Counter& Failures(Service& s, SaslMethod method, FailureReason reason);
  // `method` absent (no sasl_method= on the client= line) is sasl_method="none".
  prometheus::Counter& Processed(Service& s, bool has_method, SaslMethod method);
  prometheus::Counter& Lost(Service& s, SmtpStage stage);
  prometheus::Counter& SmtpSaslFailures(Service& s);
  // REQUIRES: 200 <= code <= 599 (the parser guarantees it).
  prometheus::Counter& Rejected(Service& s, uint16_t code);
  // postfix_smtpd_rejects_total (or, for a reject_warning line,
  // postfix_smtpd_reject_warnings_total) by stage and category.
  prometheus::Counter& Rejects(Service& s, bool warning, RejectStage stage,
                               RejectCategory category);
  // `host`: the `host` value of the line ("" without the host label).
  prometheus::Counter& ProcessLimitReached(absl::string_view master_service,
                                           absl::string_view host = {});

  // A counter family registered for another module (mail_metrics.h), kept
  // here so that SaveValues/RestoreValues carry it across restarts like
  // every other counter.
  prometheus::Family<prometheus::Counter>& ExtraCounterFamily(const std::string& name,
                                                              const std::string& help);
  // The same for a histogram family; every series of it uses `buckets`, so
  // its bucket counts and sum are carried too (a restart with other buckets
  // leaves the saved series out).
  prometheus::Family<prometheus::Histogram>& ExtraHistogramFamily(
      const std::string& name, const std::string& help,
      const prometheus::Histogram::BucketBoundaries& buckets);
  // The registry the families are in, for modules that add their own.
  prometheus::Registry* registry() const { return registry_; }

  // Every counter, gauge and histogram value (but build_info), as state-file lines,
  // from `collected` (this registry's Collect()) when the caller has it
  // already, else collected here.
  std::vector<std::string> SaveValues(
      const std::vector<prometheus::MetricFamily>* collected = nullptr) const;
  // Adds saved counter values and histogram observations and sets saved
  // gauges; call before any line is read. InvalidArgument for a malformed
  // line (nothing after it is restored).
  absl::Status RestoreValues(const std::vector<std::string>& lines);

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
  Service& AddService(int label_id, absl::string_view label, absl::string_view host);
  prometheus::Registry* registry_;
  std::unique_ptr<Families> fam_;

  std::vector<std::unique_ptr<Service>> services_;
  // By "HOST NAME" ("" host without the host label).
  absl::flat_hash_map<std::string, prometheus::Counter*> process_limit_;
  absl::flat_hash_map<std::string, bool> process_limit_names_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_METRICS_H_
