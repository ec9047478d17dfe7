// The exporter's HTTP endpoint: libmicrohttpd (plain HTTP and TLS via GnuTLS,
// one stack for both) in front of the routes of routes.h (/metrics, landing
// page, /-/healthy, /-/ready, basic auth).
//
// This file wires the parts together; each has its own header:
//   listen_socket.h     listen address syntax, binding, the open-file limit
//   tls_session.h       TLS priorities, trust list, client-cert policy
//   routes.h            what each path answers (compression.h for gzip)
//   connection_table.h  who gets a connection slot, and for how long
//   web_config.h        the exporter-toolkit web config file
//
// Connection handling (a slow, silent or hostile client cannot starve a
// scrape): each listener admits max_connections open connections. A
// connection must complete its request headers (TLS handshake included)
// within read_header_timeout of being accepted, counted from accept, so
// trickling bytes does not extend it; a kept-alive connection must complete
// its next request within request_timeout of its last response. When a new
// connection arrives and every slot is taken, the oldest connection that has
// not yet completed a request is closed to make room (then a kept-alive one
// idle at least read_header_timeout); only when every slot holds a client
// being served (or served moments ago) is the newcomer closed instead. A
// request being served is limited by request_timeout of inactivity. The
// request line plus headers must fit in about max_header_bytes, else
// libmicrohttpd answers 431 (414 when the request line alone is too long)
// and closes. Idle connections cost no thread (epoll).
//
// With TLS a plain-HTTP request to a TLS listener is dropped without a
// response; a client-certificate failure fails the handshake (as in Go).
// HEAD sends the GET headers and no body. A GET/HEAD request that carries a
// body, and any other method, is answered at once and the connection closed
// without reading the body.
//
// Thread-safety: Start/Stop/destructor from one thread; the accessors from
// any thread. Requests are served on libmicrohttpd's threads: is_ready and
// the collectables must be thread-safe. Lifetime: Stop() (or the destructor)
// returns after every request finished.

#ifndef PSE_EXPORTER_HTTP_HTTP_SERVER_H_
#define PSE_EXPORTER_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/http/connection_table.h"
#include "exporter/http/listen_socket.h"
#include "exporter/http/tls_session.h"
#include "exporter/http/web_config.h"
#include "prometheus/collectable.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace pse {

class ConnectionGuard;
class Router;

struct HttpOptions {
  // See listen_socket.h for the syntax. Port 0 picks a free port (see
  // BoundPorts).
  std::vector<std::string> listen_addresses{":9154"};
  // Must start with '/'.
  std::string telemetry_path{"/metrics"};
  // Path of the exporter-toolkit web config; empty: plain HTTP, no auth.
  // Loaded (and fully validated) by Start().
  std::string web_config_file;
  // Open connections per listener. When full, a newcomer displaces the
  // oldest connection that has not completed a request yet (see above), so
  // this bounds memory and descriptors, not who gets served. Costs about
  // max_header_bytes + 4 KiB of memory and one descriptor per connection;
  // Start() raises the open-file soft limit to the hard limit when needed.
  int max_connections = 64;
  // Time from accept (TLS handshake included) to complete request headers.
  // Absolute: a client sending one byte a second is cut off all the same.
  // Short enough that silent connections do not pile up; long enough for a
  // TLS handshake over a slow link. Rounded to milliseconds, must be > 0.
  absl::Duration read_header_timeout = absl::Seconds(5);
  // While a request is served, a connection inactive this long is closed;
  // a kept-alive connection must complete its next request within this long
  // of its last response. Rounded up to whole seconds, min 1 s.
  absl::Duration request_timeout = absl::Seconds(10);
  // Approximate cap on request line + headers.
  size_t max_header_bytes = 16384;
  // Threads per listener. >1 lets a slow bcrypt (wrong password) or a big
  // scrape on one thread not delay requests on the others.
  int threads = 2;
  // gzip level for compressed responses (1 = fastest .. 9 = smallest).
  int gzip_level = 1;
  // Receives libmicrohttpd's own error messages (TLS handshake failures, ...)
  // and a warning when the open-file limit cannot hold max_connections.
  // Null: they are dropped. Called from server threads; must be thread-safe.
  std::function<void(absl::string_view)> error_log;
};

class HttpServer {
 public:
  // Binds every listen address and starts serving. Errors: InvalidArgument
  // naming a bad address, option, telemetry path or web config (message has
  // file, line and key); Unavailable/FailedPrecondition naming the address
  // when a bind fails (port in use, address not local). On error nothing is
  // left listening.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpOptions& options, std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
      std::function<bool()> is_ready);

  // Same, with a web config already loaded (LoadWebConfig); web_config_file
  // in `options` is then ignored.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpOptions& options, const WebConfig& web_config,
      std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
      std::function<bool()> is_ready);

  ~HttpServer();  // Stop()s.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Closes the listeners and waits for running requests. Idempotent.
  void Stop();

  // Actual port of each listener, in listen_addresses order.
  std::vector<int> BoundPorts() const;

  // True when serving HTTPS.
  bool tls() const { return tls_; }

  // bcrypt computations so far (0 without basic auth); for tests of the
  // verification cache.
  uint64_t bcrypt_calls() const;

  // Connection counters summed over the listeners (evictions, refusals,
  // timeouts; see connection_table.h).
  ConnectionStats connection_stats() const;

 private:
  struct Listener;

  HttpServer();

  friend struct HttpServerCallbacks;  // libmicrohttpd's C callbacks

  absl::Status Listen(const std::string& address);

  HttpOptions options_;
  WebConfig web_config_;
  bool tls_ = false;
  TlsListenerSettings tls_settings_;
  std::unique_ptr<Router> router_;
  std::vector<std::unique_ptr<Listener>> listeners_;

  std::mutex log_mu_;
  std::string last_mhd_error_;  // for start-up failures
};

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_HTTP_SERVER_H_
