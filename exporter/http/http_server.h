// The exporter's HTTP endpoint: libmicrohttpd (plain HTTP and TLS via GnuTLS,
// one stack for both) in front of prometheus-cpp collectables.
//
// Routes (GET and HEAD only; any other method gets 405 with `Allow: GET,
// HEAD`; HEAD sends the GET headers and no body; unknown paths 404):
//   <telemetry_path>   exposition text, Content-Type
//                      `text/plain; version=0.0.4; charset=utf-8`, gzip when
//                      Accept-Encoding allows it
//   /                  small HTML landing page linking to the telemetry path
//   /-/healthy         200 "OK" while the server runs
//   /-/ready           200 when is_ready() returns true, else 503
//
// A scrape locks each collectable's weak_ptr, calls Collect() and serialises:
// no file, regex or lock work of its own beyond what the collectables do.
//
// With a web config (exporter-toolkit format, see web_config.h): TLS with the
// configured cert/key, version range, curves and client-certificate policy
// (enforced in the TLS handshake: a required certificate that is missing or
// does not verify fails the handshake, as in Go); a plain-HTTP request to a
// TLS listener is dropped without a response. Basic auth, when users are
// configured, guards every path (as exporter-toolkit does), answering 401 with
// `WWW-Authenticate: Basic`.
//
// Limits (a slow or hostile client cannot starve a scrape): at most
// max_connections connections over all listeners' threads; a connection idle
// for request_timeout is closed (libmicrohttpd's timeout is an inactivity
// timeout: a client trickling one byte per period keeps its slot until the
// connection limit stops further ones); the request line plus headers must fit
// in about max_header_bytes, else libmicrohttpd answers 431 (414 when the
// request line alone is too long) and closes. Idle connections cost no thread
// (epoll), so scrapes proceed while they sit open.
//
// Thread-safety: Start/Stop/destructor from one thread. Requests are served on
// libmicrohttpd's threads: is_ready and the collectables must be thread-safe.
// Lifetime: Stop() (or the destructor) returns after every request finished.

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
#include "exporter/http/web_config.h"
#include "prometheus/collectable.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace pse {

class BasicAuthenticator;

struct HttpOptions {
  // "host:port", "[v6]:port", ":port" (all interfaces; IPv6 dual-stack when
  // the kernel has IPv6, else IPv4), "localhost:port" (first address the
  // resolver returns, IPv4 preferred, as Go's net.Listen). Port 0 picks a free
  // port (see BoundPorts). Numeric ports only.
  std::vector<std::string> listen_addresses{":9154"};
  // Must start with '/'.
  std::string telemetry_path{"/metrics"};
  // Path of the exporter-toolkit web config; empty: plain HTTP, no auth.
  // Loaded (and fully validated) by Start().
  std::string web_config_file;
  // Connections over all threads of one listener (each listener has its own
  // budget). Beyond it new connections wait in the kernel backlog or are
  // closed.
  int max_connections = 64;
  // Inactivity timeout per connection; rounded up to whole seconds, min 1 s.
  absl::Duration request_timeout = absl::Seconds(10);
  // Approximate cap on request line + headers.
  size_t max_header_bytes = 16384;
  // Threads per listener. >1 lets a slow bcrypt (wrong password) or a big
  // scrape on one thread not delay requests on the others.
  int threads = 2;
  // gzip level for compressed responses (1 = fastest .. 9 = smallest).
  int gzip_level = 1;
  // Receives libmicrohttpd's own error messages (TLS handshake failures,
  // connection limit reached, ...). Null: they are dropped. Called from
  // server threads; must be thread-safe.
  std::function<void(absl::string_view)> error_log;
};

class HttpServer {
 public:
  // Binds every listen address and starts serving. Errors: InvalidArgument
  // naming a bad address, telemetry path or web config (message has file,
  // line and key); Unavailable/FailedPrecondition naming the address when a
  // bind fails (port in use, address not local). On error nothing is left
  // listening.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpOptions& options,
      std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
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

 private:
  struct Listener {
    std::string address;
    MHD_Daemon* daemon = nullptr;
    int port = 0;
  };

  HttpServer() = default;

  friend struct HttpServerCallbacks;  // libmicrohttpd's C callbacks

  absl::Status Listen(const std::string& address);
  // Returns an MHD_Result.
  int Handle(MHD_Connection* connection, absl::string_view url, absl::string_view method);
  std::string Scrape() const;

  HttpOptions options_;
  WebConfig web_config_;
  bool tls_ = false;
  std::string tls_priorities_;
  std::string tls_trust_pem_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  std::function<bool()> is_ready_;
  std::unique_ptr<BasicAuthenticator> authenticator_;
  std::string landing_page_;
  std::vector<Listener> listeners_;

  std::mutex log_mu_;
  std::string last_mhd_error_;  // for start-up failures
};

// Splits a listen address into host and port (exposed for tests).
absl::Status ParseListenAddress(absl::string_view address, std::string* host, int* port);

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_HTTP_SERVER_H_
