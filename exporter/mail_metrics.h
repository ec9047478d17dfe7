// MailMetrics: the mail-flow families (delivery, queue manager, cleanup,
// bounce, smtp connection errors, TLS, postscreen), fed with MailFlowEvents.
//
// Two groups live here. The kumina/postfix_exporter 0.3.0 families keep that
// exporter's names, types, label names, buckets and meaning, with a `service`
// label added (docs/kumina-migration.md lists each family and every
// deliberate difference). This exporter's own families
// (postfix_delivery_status_total, postfix_delivery_delay_seconds, ...) follow
// the project's conventions.
//
// Series budget: nothing is pre-created. A series is made the first time a
// line needs it and its handle is then cached per `service` label id, so the
// per-line path does not call Family::Add for a known label combination.
// Label values are bounded: enums, the delivery daemon names ParseMailFlow
// dispatches on, and for the few words copied from a line (pipe relay = the
// master.cf transport, TLS protocol/cipher/bits) a charset check and a cap on
// distinct values, past which the value is "other".
//
// Counters and histograms are registered through Metrics::ExtraCounterFamily
// and ExtraHistogramFamily, so the state file saves them. Histogram
// observations are held in a HistogramBatch (histogram_batch.h) until
// Publish(), which the pipeline calls once per batch of lines.
//
// Thread-safety: as Metrics: one ingest thread calls Handle; HTTP threads
// only collect the registry.
#ifndef PSE_EXPORTER_MAIL_METRICS_H_
#define PSE_EXPORTER_MAIL_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "exporter/histogram_batch.h"
#include "exporter/metrics.h"
#include "parsers/log_record.h"
#include "parsers/mail_flow.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"

namespace pse {

class MailMetrics {
 public:
  // Most distinct values of a label copied from a line, per family.
  static constexpr size_t kMaxWordValues = 32;

  explicit MailMetrics(Metrics* metrics);
  ~MailMetrics();
  MailMetrics(const MailMetrics&) = delete;
  MailMetrics& operator=(const MailMetrics&) = delete;

  // `label_id`/`service` as ServiceTable resolved them for record.syslog_name.
  // REQUIRES: ev.kind != MailKind::kNone.
  void Handle(int label_id, const std::string& service, const std::string& host,
              const LogRecord& record, const MailFlowEvent& ev);
  // Adds the histogram observations held since the last call to the registry.
  void Publish() { batch_.Publish(); }

 private:
  struct PerService;
  struct Families;
  PerService& For(int label_id, const std::string& service, const std::string& host);
  void HandleDelivery(PerService& s, const LogRecord& record, const MailFlowEvent& ev);
  void HandleTls(PerService& s, const MailFlowEvent& ev);
  // A bounded label value for `word`: itself while it is plausible and fewer
  // than kMaxWordValues distinct values were seen in `seen`, else "other".
  static std::string Bounded(absl::string_view word, size_t max_len,
                             absl::flat_hash_map<std::string, bool>* seen);
  // Whether this delivery line starts a new attempt (first recipient of it).
  bool NewAttempt(const LogRecord& record, const MailFlowEvent& ev);

  Metrics* metrics_;
  std::unique_ptr<Families> fam_;
  std::vector<std::unique_ptr<PerService>> services_;
  absl::flat_hash_map<std::string, bool> pipe_relays_, ciphers_, bits_;
  // Last attempt key per delivery process id (bounded: cleared when large).
  absl::flat_hash_map<int64_t, uint64_t> last_attempt_;
  HistogramBatch batch_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_MAIL_METRICS_H_
