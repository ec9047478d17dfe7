// SyslogAddress: one `--syslog.listen-address` value, parsed.
//
//   unixgram:///run/pse/log.sock   datagram unix socket (what syslog(3) and
//                                  Postfix write to /dev/log)
//   unix:///run/pse/log.sock       stream unix socket (rsyslog omuxsock,
//                                  systemd's syslog forwarding, logger -u -T)
//   udp://HOST:PORT, tcp://HOST:PORT   HOST is a name, an IPv4 address or
//                                  [v6]; an empty HOST means every address.
// Paths must be absolute. A value type with no state: thread-safe.
#ifndef PSE_EXPORTER_SOURCES_SYSLOG_ADDRESS_H_
#define PSE_EXPORTER_SOURCES_SYSLOG_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pse {

struct SyslogAddress {
  enum class Transport { kUnixgram, kUnix, kUdp, kTcp };
  Transport transport = Transport::kUnixgram;
  std::string path;  // unix transports
  std::string host;  // inet transports; empty = any
  int port = 0;      // inet transports; 0 = any free port (tests)

  bool is_unix() const {
    return transport == Transport::kUnixgram || transport == Transport::kUnix;
  }
  bool is_stream() const { return transport == Transport::kUnix || transport == Transport::kTcp; }
  // The metric label and URL scheme: "unixgram", "unix", "udp", "tcp".
  static absl::string_view TransportName(Transport t);
};

// Fails with a message naming what is wrong (scheme, path, port).
absl::StatusOr<SyslogAddress> ParseSyslogAddress(absl::string_view text);

// An octal file mode such as "0666" or "660" (at most 0777).
absl::StatusOr<unsigned> ParseSocketMode(absl::string_view text);

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_SYSLOG_ADDRESS_H_
