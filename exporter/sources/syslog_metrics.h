// SyslogMetrics: the syslog receiver's own health metrics, registered once
// at start-up and incremented through pre-resolved handles.
//
//   postfix_exporter_syslog_messages_received_total{transport}  delivered messages
//   postfix_exporter_syslog_messages_dropped_total{reason}      too_long,
//       unparsable, overrun (kernel queue overflow, SO_RXQ_OVFL), truncated
//   postfix_exporter_syslog_connections_open                    stream peers now
//   postfix_exporter_syslog_connections_closed_by_exporter_total{reason}  limit, idle (closed
//       after the idle timeout), framing (closed on a frame that cannot be read)
//   postfix_exporter_syslog_echo_lines_dropped_total            --syslog.echo lines
//       not written because standard output did not take them
// Label values are the fixed sets above, all created at 0.
// These counters are not kept in the state file: they describe this
// process's sockets, which start afresh with it.
//
// Thread-safety: the handles are prometheus-cpp counters (atomic); the
// registry outlives this struct.
#ifndef PSE_EXPORTER_SOURCES_SYSLOG_METRICS_H_
#define PSE_EXPORTER_SOURCES_SYSLOG_METRICS_H_

#include "exporter/sources/syslog_framing.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pse {

struct SyslogMetrics {
  enum Refusal { kRefusedLimit, kRefusedIdle, kRefusedFraming, kRefusalCount };

  explicit SyslogMetrics(prometheus::Registry* registry);

  prometheus::Counter* received[4];  // by SyslogAddress::Transport
  prometheus::Counter* dropped[kSyslogDropCount];
  prometheus::Gauge* connections_open;
  prometheus::Counter* refused[kRefusalCount];
  prometheus::Counter* echo_dropped;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_SYSLOG_METRICS_H_
