#include "exporter/http/http_server.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "exporter/http/connection_guard.h"
#include "exporter/http/routes.h"

namespace pse {

struct HttpServer::Listener {
  HttpServer* server = nullptr;
  std::string address;
  MHD_Daemon* daemon = nullptr;
  int port = 0;
  std::unique_ptr<ConnectionGuard> guard;  // outlives `daemon`
};

namespace {

int ConnectionFd(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info != nullptr ? info->connect_fd : -1;
}

void FreeString(void* cls) { delete static_cast<std::string*>(cls); }

// Hands one response to libmicrohttpd; the body is moved, not copied.
MHD_Result Respond(MHD_Connection* connection, RouteResponse r) {
  auto* owned = new std::string(std::move(r.body));
  MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
      owned->size(), owned->data(), &FreeString, owned);
  if (response == nullptr) {
    delete owned;
    return MHD_NO;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  for (const auto& [name, value] : r.headers) {
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  MHD_Result result = MHD_queue_response(connection, r.status, response);
  MHD_destroy_response(response);
  return result;
}

}  // namespace

// C entry points handed to libmicrohttpd. `cls` is the Listener, except for
// Log (the server: it also runs before any listener exists).
struct HttpServerCallbacks {
  static MHD_Result Access(void* cls, MHD_Connection* connection, const char* url,
                           const char* method, const char* /*version*/, const char* /*upload_data*/,
                           size_t* upload_data_size, void** request_state) {
    auto* listener = static_cast<HttpServer::Listener*>(cls);
    if (*request_state == nullptr) {
      listener->guard->OnRequestStarted(ConnectionFd(connection));
      // First call, headers only. A GET/HEAD without a body is answered on
      // the next call, once libmicrohttpd has the whole request: answering
      // now would make it close the connection (no keep-alive). Anything
      // with a body, or another method, is answered now for exactly that
      // reason: the unwanted upload is never read, the connection closes.
      const absl::string_view m(method);
      const bool bodyless_get =
          (m == MHD_HTTP_METHOD_GET || m == MHD_HTTP_METHOD_HEAD) &&
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                      MHD_HTTP_HEADER_CONTENT_LENGTH) == nullptr &&
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                      MHD_HTTP_HEADER_TRANSFER_ENCODING) == nullptr;
      if (bodyless_get) {
        *request_state = listener;  // any non-null marker
        return MHD_YES;
      }
    }
    *upload_data_size = 0;
    RouteRequest request;
    request.method = method;
    request.path = url;
    request.authorization =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    request.accept_encoding =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    return Respond(connection, listener->server->router_->Route(request));
  }

  static void Completed(void* cls, MHD_Connection* connection, void** /*request_state*/,
                        MHD_RequestTerminationCode code) {
    if (code != MHD_REQUEST_TERMINATED_COMPLETED_OK) return;  // closing anyway
    static_cast<HttpServer::Listener*>(cls)->guard->OnRequestFinished(ConnectionFd(connection));
  }

  // STARTED runs after accept, before any byte is read (and before the TLS
  // handshake); CLOSED runs before libmicrohttpd closes the socket.
  static void Notify(void* cls, MHD_Connection* connection, void** /*socket_context*/,
                     MHD_ConnectionNotificationCode code) {
    auto* listener = static_cast<HttpServer::Listener*>(cls);
    const int fd = ConnectionFd(connection);
    if (fd < 0) return;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      listener->guard->OnClosed(fd);
      return;
    }
    HttpServer* server = listener->server;
    if (server->tls_) {
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
      if (info != nullptr) {
        ApplyClientAuthPolicy(info->tls_session, server->web_config_.tls.client_auth);
      }
    }
    listener->guard->OnAccepted(fd);
  }

  static void Log(void* cls, const char* format, va_list args) {
    auto* server = static_cast<HttpServer*>(cls);
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof(buf), format, args);
    if (n < 0) return;
    absl::string_view message(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
    message = absl::StripTrailingAsciiWhitespace(message);
    {
      std::lock_guard<std::mutex> lock(server->log_mu_);
      server->last_mhd_error_ = std::string(message);
    }
    if (server->options_.error_log) server->options_.error_log(message);
  }
};

namespace {

absl::Status CheckOptions(const HttpOptions& options) {
  if (options.telemetry_path.empty() || options.telemetry_path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid telemetry path \"", options.telemetry_path, "\": must start with '/'"));
  }
  if (options.listen_addresses.empty()) {
    return absl::InvalidArgumentError("no listen address given");
  }
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be at least 1");
  }
  if (options.read_header_timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("read_header_timeout must be at least 1ms");
  }
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be at least 1");
  if (options.gzip_level < 1 || options.gzip_level > 9) {
    return absl::InvalidArgumentError("gzip_level must be 1..9");
  }
  return absl::OkStatus();
}

unsigned int WholeSeconds(absl::Duration d) {
  return static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)))));
}

}  // namespace

HttpServer::HttpServer() = default;

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpOptions& options, std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
    std::function<bool()> is_ready) {
  WebConfig web_config;
  if (!options.web_config_file.empty()) {
    absl::StatusOr<WebConfig> loaded = LoadWebConfig(options.web_config_file);
    if (!loaded.ok()) return loaded.status();
    web_config = std::move(*loaded);
  }
  return Start(options, web_config, std::move(collectables), std::move(is_ready));
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpOptions& options, const WebConfig& web_config,
    std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
    std::function<bool()> is_ready) {
  absl::Status st = CheckOptions(options);
  if (!st.ok()) return st;

  std::unique_ptr<HttpServer> server(new HttpServer());
  server->options_ = options;
  server->web_config_ = web_config;
  server->tls_ = web_config.tls.enabled;
  if (server->tls_) {
    absl::StatusOr<TlsListenerSettings> tls = PrepareTls(web_config);
    if (!tls.ok()) return tls.status();
    server->tls_settings_ = std::move(*tls);
  }
  RouterOptions routes;
  routes.telemetry_path = options.telemetry_path;
  routes.gzip_level = options.gzip_level;
  routes.basic_auth_users = web_config.basic_auth_users;
  routes.extra_headers = web_config.http.headers;
  server->router_ =
      std::make_unique<Router>(std::move(routes), std::move(collectables), std::move(is_ready));

  // Per listener: every admitted connection, the one spare slot a newcomer
  // uses while it displaces another, the listen socket, and per thread an
  // epoll fd and a wake-up pipe; plus what the rest of the process holds.
  const size_t per_listener =
      static_cast<size_t>(options.max_connections) + 2 + 3 * static_cast<size_t>(options.threads);
  st = EnsureFileLimit(per_listener * options.listen_addresses.size() + 64);
  if (!st.ok() && options.error_log) options.error_log(st.message());

  for (const std::string& address : options.listen_addresses) {
    st = server->Listen(address);
    if (!st.ok()) return st;  // the destructor stops what already runs
  }
  return server;
}

absl::Status HttpServer::Listen(const std::string& address) {
  absl::StatusOr<BoundSocket> socket = BindListenSocket(address);
  if (!socket.ok()) return socket.status();
  const int fd = socket->fd;

  auto listener = std::make_unique<Listener>();
  listener->server = this;
  listener->address = address;
  listener->port = socket->port;
  ConnectionLimits limits;
  limits.max_connections = static_cast<size_t>(options_.max_connections);
  limits.read_header_timeout = absl::Trunc(options_.read_header_timeout, absl::Milliseconds(1));
  limits.idle_timeout = absl::Seconds(WholeSeconds(options_.request_timeout));
  listener->guard = std::make_unique<ConnectionGuard>(limits);

  const unsigned int threads =
      static_cast<unsigned int>(std::min(options_.threads, options_.max_connections));
  // The per-connection pool holds the read buffer (request line + headers)
  // and the response header; leave room for the latter.
  const size_t pool = options_.max_header_bytes + 4096;
  std::vector<MHD_OptionItem> items;
  // The logger must come first, or earlier options log to stderr.
  items.push_back(
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&HttpServerCallbacks::Log), this});
  items.push_back({MHD_OPTION_LISTEN_SOCKET, fd, nullptr});
  // One above the budget: a newcomer must be accepted to be seen, and then
  // displaces another connection (ConnectionGuard). At this hard limit
  // libmicrohttpd stops accepting until a connection closes.
  items.push_back({MHD_OPTION_CONNECTION_LIMIT, options_.max_connections + 1, nullptr});
  items.push_back({MHD_OPTION_CONNECTION_TIMEOUT,
                   static_cast<intptr_t>(WholeSeconds(options_.request_timeout)), nullptr});
  items.push_back({MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(pool), nullptr});
  items.push_back({MHD_OPTION_NOTIFY_CONNECTION,
                   reinterpret_cast<intptr_t>(&HttpServerCallbacks::Notify), listener.get()});
  items.push_back({MHD_OPTION_NOTIFY_COMPLETED,
                   reinterpret_cast<intptr_t>(&HttpServerCallbacks::Completed), listener.get()});
  if (threads > 1) {
    items.push_back({MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(threads), nullptr});
  }
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (tls_) {
    flags |= MHD_USE_TLS;
    items.push_back(
        {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(web_config_.tls.key_pem.c_str())});
    items.push_back(
        {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(web_config_.tls.cert_pem.c_str())});
    items.push_back(
        {MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(tls_settings_.priorities.c_str())});
    if (!tls_settings_.client_trust_pem.empty()) {
      items.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0,
                       const_cast<char*>(tls_settings_.client_trust_pem.c_str())});
    }
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});

  {
    std::lock_guard<std::mutex> lock(log_mu_);
    last_mhd_error_.clear();
  }
  listener->daemon =
      MHD_start_daemon(flags, 0, nullptr, nullptr, &HttpServerCallbacks::Access, listener.get(),
                       MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  if (listener->daemon == nullptr) {
    // Some libmicrohttpd versions close a passed-in listen socket when start
    // fails, others do not; close it only if it is still ours.
    if (!(fcntl(fd, F_GETFD) == -1 && errno == EBADF)) close(fd);
    std::lock_guard<std::mutex> lock(log_mu_);
    return absl::UnavailableError(
        absl::StrCat("listen tcp ", address, ": cannot start HTTP",
                     tls_ ? "S (check the TLS settings in " + web_config_.path + ")" : "",
                     " server", last_mhd_error_.empty() ? "" : ": " + last_mhd_error_));
  }
  // From here libmicrohttpd owns the listen socket (closed by MHD_stop_daemon).
  listeners_.push_back(std::move(listener));
  return absl::OkStatus();
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  for (auto& l : listeners_) {
    if (l->daemon != nullptr) {
      MHD_stop_daemon(l->daemon);
      l->daemon = nullptr;
    }
  }
}

std::vector<int> HttpServer::BoundPorts() const {
  std::vector<int> ports;
  for (const auto& l : listeners_) ports.push_back(l->port);
  return ports;
}

uint64_t HttpServer::bcrypt_calls() const { return router_ ? router_->bcrypt_calls() : 0; }

ConnectionStats HttpServer::connection_stats() const {
  ConnectionStats sum;
  for (const auto& l : listeners_) {
    ConnectionStats s = l->guard->stats();
    sum.open += s.open;
    sum.accepted += s.accepted;
    sum.evicted += s.evicted;
    sum.refused += s.refused;
    sum.header_timeouts += s.header_timeouts;
    sum.idle_timeouts += s.idle_timeouts;
  }
  return sum;
}

}  // namespace pse
