#include "exporter/sources/syslog_address.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pse {

absl::string_view SyslogAddress::TransportName(Transport t) {
  switch (t) {
    case Transport::kUnixgram:
      return "unixgram";
    case Transport::kUnix:
      return "unix";
    case Transport::kUdp:
      return "udp";
    case Transport::kTcp:
      return "tcp";
  }
  return "unknown";
}

absl::StatusOr<unsigned> ParseSocketMode(absl::string_view text) {
  unsigned mode = 0;
  bool octal = !text.empty() && text.size() <= 4;
  for (char c : text) {
    if (c < '0' || c > '7') octal = false;
    mode = mode * 8 + static_cast<unsigned>(c - '0');
  }
  if (!octal || mode > 0777) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": want an octal mode such as 0660"));
  }
  return mode;
}

absl::StatusOr<SyslogAddress> ParseSyslogAddress(absl::string_view text) {
  const size_t sep = text.find("://");
  if (sep == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text,
                     "\": want unixgram:///path, unix:///path, udp://host:port or "
                     "tcp://host:port"));
  }
  const absl::string_view scheme = text.substr(0, sep);
  const absl::string_view rest = text.substr(sep + 3);
  SyslogAddress a;
  if (scheme == "unixgram" || scheme == "unix") {
    a.transport =
        scheme == "unix" ? SyslogAddress::Transport::kUnix : SyslogAddress::Transport::kUnixgram;
    // sun_path holds 108 bytes including the terminating NUL.
    if (rest.empty() || rest[0] != '/' || rest.size() > 107) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\": the socket path must be absolute and under 108 bytes"));
    }
    a.path = std::string(rest);
    return a;
  }
  if (scheme != "udp" && scheme != "tcp") {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\": unknown scheme \"", scheme,
                                                   "\" (want unixgram, unix, udp or tcp)"));
  }
  a.transport = scheme == "udp" ? SyslogAddress::Transport::kUdp : SyslogAddress::Transport::kTcp;
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\": missing :port"));
  }
  absl::string_view host = rest.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  } else if (absl::StrContains(host, ':')) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": write an IPv6 address in brackets"));
  }
  int port;
  if (!absl::SimpleAtoi(rest.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\": bad port"));
  }
  a.host = std::string(host);
  a.port = port;
  return a;
}

}  // namespace pse
