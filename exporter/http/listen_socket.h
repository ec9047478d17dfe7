// Listen sockets for the HTTP server: parsing a listen address as Go's
// net.Listen spells it, and binding a non-blocking TCP socket to it.
//
//   "host:port"       a numeric address or a name; a name takes the first
//                     address the resolver returns, IPv4 preferred (as Go)
//   "[v6]:port"       an IPv6 literal
//   ":port"           every interface: IPv6 dual-stack when the kernel has
//                     IPv6, else IPv4
// Ports are numeric, 0..65535; port 0 lets the kernel pick one.
//
// Also raises the process's open-file soft limit when the configured
// connection budget would not fit in it (each connection costs one fd).
//
// Thread-safety: free functions without shared state; the returned socket
// belongs to the caller. Errors name the address as written.

#ifndef PSE_EXPORTER_HTTP_LISTEN_SOCKET_H_
#define PSE_EXPORTER_HTTP_LISTEN_SOCKET_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pse {

// Splits a listen address into host ("" for all interfaces) and port.
// InvalidArgument naming the address when it is malformed.
absl::Status ParseListenAddress(absl::string_view address, std::string* host, int* port);

struct BoundSocket {
  int fd = -1;   // listening, non-blocking, close-on-exec; caller closes it
  int port = 0;  // the actual port (differs from the requested one for 0)
};

// Parses, resolves, binds and listens. Errors: InvalidArgument (bad address,
// unresolvable host), Unavailable (port in use, socket/listen failure),
// PermissionDenied (privileged port), FailedPrecondition (address not local).
// Nothing is left open on error.
absl::StatusOr<BoundSocket> BindListenSocket(const std::string& address);

// Makes sure `needed` file descriptors fit under RLIMIT_NOFILE: when the soft
// limit is lower, raises it to the hard limit. FailedPrecondition (with both
// limits in the message) when even the hard limit is too low; the soft limit
// is raised as far as it goes anyway.
absl::Status EnsureFileLimit(size_t needed);

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_LISTEN_SOCKET_H_
