// Pipeline: the one place where the stages meet.
//
//   Source --lines/records--> Pipeline: SyslogLineParser -> ParsePostfix
//                                       -> ServiceTable (ids, once per record)
//                                       -> SessionState -> Metrics
//                                 Dovecot auth lines -> ReasonRefiner, which
//                                 holds SessionState's "unspecified" failures
//                                 for Dovecot's reason (reason_refiner.h)
//                                    ParseMailFlow -> MailMetrics, PostscreenSessions
//
// It is the RecordSink that sources feed. It also copies a source's health
// counters into the exporter's self metrics (SyncSourceStats).
// postfix_exporter_log_lines_total, the mail-flow histograms and triage's
// by-client counters are added once per batch of lines, by PublishCounts()
// (which SyncSourceStats calls), not per line: atomic updates per line were
// a measurable share of the ingest's CPU. The ingest loop calls
// SyncSourceStats under the lock after every Poll, so nothing that collects
// under that lock sees a count behind the lines read.
// Not thread-safe: the ingest thread owns it; HTTP threads read the registry.
#ifndef PSE_EXPORTER_PIPELINE_H_
#define PSE_EXPORTER_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/mail_metrics.h"
#include "exporter/metrics.h"
#include "exporter/postscreen_sessions.h"
#include "exporter/reason_refiner.h"
#include "exporter/service_table.h"
#include "exporter/source.h"
#include "exporter/state.h"
#include "exporter/state_file.h"
#include "exporter/triage/triage.h"
#include "parsers/reason_rules.h"
#include "parsers/syslog_line.h"

namespace pse {

class Pipeline : public RecordSink {
 public:
  struct Options {
    SyslogLineParser::Options syslog;
    SessionState::Options state;
    // The `service` (and optional `host`) label policy. With the host label
    // on, sessions are told apart by host too (state.by_host is implied):
    // a host's series must count only that host's processes.
    ServiceTable::Options services;
    // The operator's failure-reason rules (sasl.reason_rules), tried before
    // the built-in mapping; null: built-in only.
    std::shared_ptr<const ReasonRules> reason_rules;
    // A line stamped further than this past the wall clock is still counted,
    // but does not move log time: one line from 2099 must not freeze peaks,
    // idle expiry and postfix_exporter_log_last_timestamp_seconds.
    absl::Duration future_tolerance = absl::Hours(24);
    // Attack triage: top failing networks, distinct failing clients and
    // user names.
    Triage::Options triage;
    // Unspecified failures refined by Dovecot's auth log.
    ReasonRefiner::Options refiner;
  };

  Pipeline(const Options& options, Metrics* metrics);

  void OnLine(absl::string_view line) override;
  void OnRecord(const LogRecord& record) override;

  // Called by the ingest loop after each Poll with the wall clock: when no
  // line has come since the last call, log time for the held failures
  // (reason_refiner.h) moves on by the wall time since lines last came, so
  // an idle source still releases them after their wait.
  void Tick(absl::Time now);
  // The input has ended (--once): every held failure is counted now.
  void Flush();

  // Copies the cumulative counters of `stats` into the self metrics. `now`
  // is the wall clock, for the journal lag. Calls PublishCounts().
  void SyncSourceStats(const SourceStats& stats, absl::Time now);
  // Adds the lines read since the last call to postfix_exporter_log_lines_total,
  // the held histogram observations to their histograms and triage's counts
  // to its families (Triage::Publish).
  void PublishCounts();

  // Adds the "metrics", "sessions", "pipeline", "triage" and "refiner"
  // sections of the state file, and reads them back (on a fresh pipeline,
  // before any line; a file without "triage" or "refiner" starts those
  // from empty).
  // `collected`: the metrics registry's Collect() when the caller has it.
  void SaveState(StateDocument* doc,
                 const std::vector<prometheus::MetricFamily>* collected = nullptr) const;
  absl::Status RestoreState(const StateDocument& doc);

  const SessionState& state() const { return state_; }
  const ServiceTable& services() const { return services_; }
  const ReasonRefiner& refiner() const { return *refiner_; }

 private:
  void Process(const LogRecord& record);
  void ProcessDovecot(const LogRecord& record);
  static SessionState::Options StateOptions(const Options& options);
  // Moves log time to `ts` if it is later and not implausibly in the future.
  void Advance(int64_t ts);

  Metrics* metrics_;
  SyslogLineParser framer_;
  ServiceTable services_;
  SessionState state_;
  int64_t newest_us_ = 0;
  const int64_t future_tolerance_us_;
  const std::shared_ptr<const ReasonRules> reason_rules_;
  // Wall clock + tolerance, refreshed only when a timestamp passes it, so the
  // clock is not read per line.
  int64_t future_limit_us_ = 0;
  SourceStats synced_;
  // Delivery, queue, cleanup, bounce, TLS and postscreen families.
  std::unique_ptr<MailMetrics> mail_;
  // Concurrent postscreen sessions (postfix_postscreen_sessions[_max]).
  std::unique_ptr<PostscreenSessions> postscreen_;
  // Fed by state_'s failure counting; registers in the metrics' registry.
  // Null when --triage.enabled is false.
  std::unique_ptr<Triage> triage_;
  // With triage off: the state file's triage section, saved back as it was.
  std::vector<std::string> kept_triage_;
  // Holds state_'s unspecified failures; counts them through state_.
  std::unique_ptr<ReasonRefiner> refiner_;
  // Tick(): lines read since the last tick, and the wall time and log time
  // of the tick that last saw lines.
  bool lines_since_tick_ = false;
  // Lines read and not yet in postfix_exporter_log_lines_total.
  uint64_t unpublished_lines_ = 0;
  absl::Time tick_wall_ = absl::InfinitePast();
  int64_t tick_log_us_ = 0;
};

}  // namespace pse

#endif  // PSE_EXPORTER_PIPELINE_H_
