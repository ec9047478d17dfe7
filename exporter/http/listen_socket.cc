#include "exporter/http/listen_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/fs_util.h"

namespace pse {
namespace {

// Closes the socket unless ownership was handed on.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

struct ResolvedAddress {
  sockaddr_storage addr;
  socklen_t len = 0;
  int family = AF_INET6;
};

void SetAnyAddress(int family, int port, ResolvedAddress* out) {
  std::memset(&out->addr, 0, sizeof(out->addr));
  out->family = family;
  if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out->addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_any;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in6);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&out->addr);
    in4->sin_family = AF_INET;
    in4->sin_addr.s_addr = htonl(INADDR_ANY);
    in4->sin_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in);
  }
}

absl::StatusOr<ResolvedAddress> Resolve(const std::string& address, const std::string& host,
                                        int port) {
  ResolvedAddress out;
  if (host.empty()) {
    SetAnyAddress(AF_INET6, port, &out);
    return out;
  }
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  if (rc != 0 || results == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("invalid listen address \"", address,
                                                   "\": cannot resolve host \"", host,
                                                   "\": ", gai_strerror(rc)));
  }
  // Go's net.Listen prefers IPv4 for a name that has both.
  const addrinfo* pick = results;
  for (const addrinfo* r = results; r != nullptr; r = r->ai_next) {
    if (r->ai_family == AF_INET) {
      pick = r;
      break;
    }
  }
  std::memcpy(&out.addr, pick->ai_addr, pick->ai_addrlen);
  out.len = pick->ai_addrlen;
  out.family = pick->ai_family;
  freeaddrinfo(results);
  return out;
}

int BoundPort(int fd, int fallback) {
  sockaddr_storage bound;
  socklen_t bound_len = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) return fallback;
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

}  // namespace

absl::Status ParseListenAddress(absl::string_view address, std::string* host, int* port) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid listen address \"", address, "\": ", why));
  };
  absl::string_view port_text;
  if (absl::StartsWith(address, "[")) {
    size_t close = address.find(']');
    if (close == absl::string_view::npos) return bad("missing ']'");
    if (close + 1 >= address.size() || address[close + 1] != ':') {
      return bad("missing port (expected [host]:port)");
    }
    *host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return bad("missing port (expected host:port or :port)");
    absl::string_view h = address.substr(0, colon);
    if (h.find(':') != absl::string_view::npos) {
      return bad("too many colons (write IPv6 addresses as [addr]:port)");
    }
    *host = std::string(h);
    port_text = address.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5) return bad("port must be a number 0-65535");
  int p = 0;
  for (char c : port_text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return bad("port must be a number 0-65535");
    }
    p = p * 10 + (c - '0');
  }
  if (p > 65535) return bad("port must be a number 0-65535");
  *port = p;
  return absl::OkStatus();
}

absl::StatusOr<BoundSocket> BindListenSocket(const std::string& address) {
  std::string host;
  int port = 0;
  absl::Status st = ParseListenAddress(address, &host, &port);
  if (!st.ok()) return st;
  absl::StatusOr<ResolvedAddress> resolved = Resolve(address, host, port);
  if (!resolved.ok()) return resolved.status();
  ResolvedAddress& a = *resolved;

  int fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 && host.empty() && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
    // No IPv6 in this kernel: all IPv4 interfaces instead.
    SetAnyAddress(AF_INET, port, &a);
    fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("listen tcp ", address, ": socket: ", ErrnoText(errno)));
  }
  FdCloser closer(fd);
  const int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (a.family == AF_INET6 && host.empty()) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&a.addr), a.len) != 0) {
    const int err = errno;
    std::string message = absl::StrCat("listen tcp ", address, ": bind: ", ErrnoText(err));
    if (err == EADDRINUSE) return absl::UnavailableError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::FailedPreconditionError(message);
  }
  if (listen(fd, SOMAXCONN) != 0) {
    return absl::UnavailableError(
        absl::StrCat("listen tcp ", address, ": listen: ", ErrnoText(errno)));
  }
  BoundSocket out;
  out.port = BoundPort(fd, port);
  out.fd = closer.release();
  return out;
}

absl::Status EnsureFileLimit(size_t needed) {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("getrlimit(RLIMIT_NOFILE): ", ErrnoText(errno)));
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed &&
      limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    return absl::FailedPreconditionError(
        absl::StrCat("open-file limit ", limit.rlim_cur, " (hard limit ", limit.rlim_max,
                     ") is below the ", needed,
                     " descriptors the HTTP connection budget may use; raise LimitNOFILE or "
                     "lower --web.max-connections"));
  }
  return absl::OkStatus();
}

}  // namespace pse
