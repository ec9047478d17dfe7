#include "exporter/sources/syslog_metrics.h"

#include <string>

#include "exporter/sources/syslog_address.h"

namespace pse {

SyslogMetrics::SyslogMetrics(prometheus::Registry* registry) {
  auto& rx = prometheus::BuildCounter()
                 .Name("postfix_exporter_syslog_messages_received_total")
                 .Help("Syslog messages received and handed to the parser, by listener transport.")
                 .Register(*registry);
  using T = SyslogAddress::Transport;
  for (T t : {T::kUnixgram, T::kUnix, T::kUdp, T::kTcp}) {
    received[static_cast<int>(t)] =
        &rx.Add({{"transport", std::string(SyslogAddress::TransportName(t))}});
  }
  auto& drop = prometheus::BuildCounter()
                   .Name("postfix_exporter_syslog_messages_dropped_total")
                   .Help(
                       "Syslog messages not handed to the parser, by reason: too_long "
                       "(over --syslog.max-message-size), unparsable (unreadable frame), "
                       "overrun (dropped by the kernel, receive queue full), truncated "
                       "(connection ended inside a frame).")
                   .Register(*registry);
  for (int d = 0; d < kSyslogDropCount; ++d) {
    dropped[d] = &drop.Add({{"reason", std::string(SyslogDropLabel(static_cast<SyslogDrop>(d)))}});
  }
  connections_open = &prometheus::BuildGauge()
                          .Name("postfix_exporter_syslog_connections_open")
                          .Help("Open stream (tcp, unix) syslog connections.")
                          .Register(*registry)
                          .Add({});
  auto& ref = prometheus::BuildCounter()
                  .Name("postfix_exporter_syslog_connections_closed_by_exporter_total")
                  .Help(
                      "Stream syslog connections the exporter refused or closed, by reason: "
                      "limit (--syslog.max-connections reached), idle (no data for "
                      "--syslog.idle-timeout), framing (a frame that cannot be read).")
                  .Register(*registry);
  const char* names[kRefusalCount] = {"limit", "idle", "framing"};
  for (int r = 0; r < kRefusalCount; ++r) refused[r] = &ref.Add({{"reason", names[r]}});
  echo_dropped = &prometheus::BuildCounter()
                      .Name("postfix_exporter_syslog_echo_lines_dropped_total")
                      .Help(
                          "--syslog.echo lines not written because standard output did not "
                          "take them (a reader that does not read, or none).")
                      .Register(*registry)
                      .Add({});
}

}  // namespace pse
