// Pipeline: the one place where the stages meet.
//
//   Source --lines/records--> Pipeline: SyslogLineParser -> ParsePostfix
//                                       -> SessionState -> Metrics
//
// It is the RecordSink that sources feed. It also copies a source's health
// counters into the exporter's self metrics (SyncSourceStats).
// Not thread-safe: the ingest thread owns it; HTTP threads read the registry.
#ifndef PSE_EXPORTER_PIPELINE_H_
#define PSE_EXPORTER_PIPELINE_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/metrics.h"
#include "exporter/source.h"
#include "exporter/state.h"
#include "parsers/syslog_line.h"

namespace pse {

class Pipeline : public RecordSink {
 public:
  struct Options {
    SyslogLineParser::Options syslog;
    SessionState::Options state;
  };

  Pipeline(const Options& options, Metrics* metrics);

  void OnLine(absl::string_view line) override;
  void OnRecord(const LogRecord& record) override;

  // Copies the cumulative counters of `stats` into the self metrics. `now`
  // is the wall clock, for the journal lag.
  void SyncSourceStats(const SourceStats& stats, absl::Time now);

  const SessionState& state() const { return state_; }

 private:
  void Process(const LogRecord& record);

  Metrics* metrics_;
  SyslogLineParser framer_;
  SessionState state_;
  int64_t newest_us_ = 0;
  SourceStats synced_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_PIPELINE_H_
