#include "exporter/http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exporter/http/basic_auth.h"
#include "prometheus/text_serializer.h"

namespace pse {
namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kHtmlContentType[] = "text/html; charset=utf-8";
constexpr char kAllow[] = "GET, HEAD";
// Where Debian (and GnuTLS's default) keeps the system roots; Go verifies
// client certificates against them when no client_ca_file is given.
constexpr char kSystemTrustFile[] = "/etc/ssl/certs/ca-certificates.crt";

std::string HtmlEscape(absl::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// RFC 9110 content negotiation, reduced to the one question we ask: is gzip
// acceptable (q > 0), either by name or through "*"?
bool AcceptsGzip(const char* header) {
  if (header == nullptr) return false;
  double gzip_q = -1, star_q = -1;
  for (absl::string_view item : absl::StrSplit(header, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ';');
    std::string coding = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    double q = 1;
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        if (!absl::SimpleAtod(param.substr(2), &q)) q = 0;
      }
    }
    if (coding == "gzip" || coding == "x-gzip") gzip_q = q;
    if (coding == "*") star_q = q;
  }
  return gzip_q > 0 || (gzip_q < 0 && star_q > 0);
}

bool Gzip(absl::string_view in, int level, std::string* out) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  out->resize(deflateBound(&zs, in.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(&(*out)[0]);
  zs.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return false;
  out->resize(produced);
  return true;
}

std::string TlsPriorities(const TlsServerConfig& tls) {
  std::string p = "NORMAL:-VERS-ALL";
  for (int v = static_cast<int>(tls.max_version); v >= static_cast<int>(tls.min_version); --v) {
    absl::StrAppend(&p, ":+VERS-TLS1.", v - 10);
  }
  if (!tls.curve_preferences.empty()) {
    p += ":-GROUP-ALL";
    for (const std::string& curve : tls.curve_preferences) {
      if (curve == "CurveP256") p += ":+GROUP-SECP256R1";
      else if (curve == "CurveP384") p += ":+GROUP-SECP384R1";
      else if (curve == "CurveP521") p += ":+GROUP-SECP521R1";
      else if (curve == "X25519") p += ":+GROUP-X25519";
    }
  }
  if (tls.prefer_server_cipher_suites) p += ":%SERVER_PRECEDENCE";
  return p;
}

// Verifies the client's chain against the trust list libmicrohttpd loaded
// (MHD_OPTION_HTTPS_MEM_TRUST) for the TLS-client purpose, as Go does.
// Runs inside the handshake; a non-zero return aborts it.
int VerifyPeer(gnutls_session_t session, bool required) {
  unsigned int count = 0;
  if (gnutls_certificate_get_peers(session, &count) == nullptr || count == 0) {
    return required ? GNUTLS_E_NO_CERTIFICATE_FOUND : 0;
  }
  gnutls_typed_vdata_st purpose;
  std::memset(&purpose, 0, sizeof(purpose));
  purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
  purpose.data = reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT));
  unsigned int status = 0;
  int rc = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
  if (rc < 0 || status != 0) return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  return 0;
}
int VerifyRequiredPeer(gnutls_session_t session) { return VerifyPeer(session, true); }
int VerifyPeerIfGiven(gnutls_session_t session) { return VerifyPeer(session, false); }

absl::StatusOr<std::string> ReadWholeFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

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

}  // namespace

// C entry points handed to libmicrohttpd.
struct HttpServerCallbacks {
  static MHD_Result Access(void* cls, MHD_Connection* connection, const char* url,
                           const char* method, const char* /*version*/,
                           const char* /*upload_data*/, size_t* upload_data_size,
                           void** request_state) {
    auto* server = static_cast<HttpServer*>(cls);
    if (*request_state == nullptr) {
      // First call, headers only. A GET/HEAD without a body is answered on
      // the next call, once libmicrohttpd has the whole request: answering
      // now would make it close the connection (no keep-alive). Anything
      // with a body, or another method, is answered now for exactly that
      // reason: the unwanted upload is never read, the connection closes.
      const bool bodyless_get =
          (absl::string_view(method) == MHD_HTTP_METHOD_GET ||
           absl::string_view(method) == MHD_HTTP_METHOD_HEAD) &&
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                      MHD_HTTP_HEADER_CONTENT_LENGTH) == nullptr &&
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                      MHD_HTTP_HEADER_TRANSFER_ENCODING) == nullptr;
      if (bodyless_get) {
        *request_state = server;  // any non-null marker
        return MHD_YES;
      }
    }
    *upload_data_size = 0;
    return static_cast<MHD_Result>(server->Handle(connection, url, method));
  }

  static void Notify(void* cls, MHD_Connection* connection, void** /*socket_context*/,
                     MHD_ConnectionNotificationCode code) {
    auto* server = static_cast<HttpServer*>(cls);
    if (code != MHD_CONNECTION_NOTIFY_STARTED || !server->tls_) return;
    const ClientAuthType mode = server->web_config_.tls.client_auth;
    if (mode == ClientAuthType::kNoClientCert) return;
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (info == nullptr || info->tls_session == nullptr) return;
    auto session = static_cast<gnutls_session_t>(info->tls_session);
    // The handshake has not started yet: libmicrohttpd only ever asks for a
    // certificate (GNUTLS_CERT_REQUEST); the Require* modes need REQUIRE so a
    // client without one fails the handshake, as with Go's crypto/tls.
    const bool required = mode == ClientAuthType::kRequireAnyClientCert ||
                          mode == ClientAuthType::kRequireAndVerifyClientCert;
    gnutls_certificate_server_set_request(session,
                                          required ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST);
    if (mode == ClientAuthType::kRequireAndVerifyClientCert) {
      gnutls_session_set_verify_function(session, &VerifyRequiredPeer);
    } else if (mode == ClientAuthType::kVerifyClientCertIfGiven) {
      gnutls_session_set_verify_function(session, &VerifyPeerIfGiven);
    }
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

  static void FreeString(void* cls) { delete static_cast<std::string*>(cls); }
};

namespace {

// Builds and queues one response; `body` may be moved into libmicrohttpd.
MHD_Result Respond(MHD_Connection* connection, unsigned int status, std::string body,
                   const char* content_type,
                   const std::vector<std::pair<std::string, std::string>>& extra_headers,
                   std::initializer_list<std::pair<const char*, const char*>> headers = {}) {
  auto* owned = new std::string(std::move(body));
  MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
      owned->size(), owned->data(), &HttpServerCallbacks::FreeString, owned);
  if (response == nullptr) {
    delete owned;
    return MHD_NO;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  for (const auto& [name, value] : headers) MHD_add_response_header(response, name, value);
  for (const auto& [name, value] : extra_headers) {
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
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
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be at least 1");
  if (options.gzip_level < 1 || options.gzip_level > 9) {
    return absl::InvalidArgumentError("gzip_level must be 1..9");
  }

  std::unique_ptr<HttpServer> server(new HttpServer());
  server->options_ = options;
  server->web_config_ = web_config;
  server->collectables_ = std::move(collectables);
  server->is_ready_ = std::move(is_ready);
  server->tls_ = web_config.tls.enabled;
  if (!web_config.basic_auth_users.empty()) {
    server->authenticator_ = std::make_unique<BasicAuthenticator>(web_config.basic_auth_users);
  }

  if (server->tls_) {
    const TlsServerConfig& tls = web_config.tls;
    if (tls.min_version > tls.max_version) {
      return absl::InvalidArgumentError(absl::StrCat(
          web_config.path, ": tls_server_config: min_version TLS1", static_cast<int>(tls.min_version) - 10,
          " is above max_version TLS1", static_cast<int>(tls.max_version) - 10,
          ": no TLS version left to serve"));
    }
    server->tls_priorities_ = TlsPriorities(tls);
    const bool verifies = tls.client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
                          tls.client_auth == ClientAuthType::kRequireAndVerifyClientCert;
    if (verifies) {
      if (!tls.client_ca_file.empty()) {
        server->tls_trust_pem_ = tls.client_ca_pem;  // may be empty: trusts nothing
      } else {
        absl::StatusOr<std::string> system = ReadWholeFile(kSystemTrustFile);
        if (!system.ok()) {
          return absl::FailedPreconditionError(absl::StrCat(
              web_config.path, ": tls_server_config: client_auth_type ",
              ClientAuthTypeName(tls.client_auth),
              " without client_ca_file verifies against the system roots, but ",
              system.status().message()));
        }
        server->tls_trust_pem_ = std::move(*system);
      }
    }
  }

  const std::string path = HtmlEscape(options.telemetry_path);
  server->landing_page_ = absl::StrCat(
      "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">"
      "<title>Postfix SASL Exporter</title></head>\n<body>\n"
      "<h1>Postfix SASL Exporter</h1>\n"
      "<p>Prometheus exporter for Postfix SMTP AUTH (SASL) metrics.</p>\n<ul>\n"
      "<li><a href=\"", path, "\">", path, "</a></li>\n"
      "<li><a href=\"/-/healthy\">/-/healthy</a></li>\n"
      "<li><a href=\"/-/ready\">/-/ready</a></li>\n"
      "</ul>\n</body>\n</html>\n");

  for (const std::string& address : options.listen_addresses) {
    absl::Status st = server->Listen(address);
    if (!st.ok()) return st;  // the destructor stops what already runs
  }
  return server;
}

absl::Status HttpServer::Listen(const std::string& address) {
  std::string host;
  int port = 0;
  absl::Status st = ParseListenAddress(address, &host, &port);
  if (!st.ok()) return st;

  sockaddr_storage addr;
  std::memset(&addr, 0, sizeof(addr));
  socklen_t addr_len = 0;
  int family = AF_INET6;
  if (host.empty()) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_any;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    addr_len = sizeof(sockaddr_in6);
  } else {
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
    const addrinfo* pick = results;
    for (const addrinfo* r = results; r != nullptr; r = r->ai_next) {
      if (r->ai_family == AF_INET) {
        pick = r;
        break;
      }
    }
    std::memcpy(&addr, pick->ai_addr, pick->ai_addrlen);
    addr_len = pick->ai_addrlen;
    family = pick->ai_family;
    freeaddrinfo(results);
  }

  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 && host.empty() && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
    // No IPv6 in this kernel: all IPv4 interfaces instead.
    family = AF_INET;
    std::memset(&addr, 0, sizeof(addr));
    auto* in4 = reinterpret_cast<sockaddr_in*>(&addr);
    in4->sin_family = AF_INET;
    in4->sin_addr.s_addr = htonl(INADDR_ANY);
    in4->sin_port = htons(static_cast<uint16_t>(port));
    addr_len = sizeof(sockaddr_in);
    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("listen tcp ", address, ": socket: ", std::strerror(errno)));
  }
  FdCloser closer(fd);
  const int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (family == AF_INET6 && host.empty()) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    const int err = errno;
    std::string message = absl::StrCat("listen tcp ", address, ": bind: ", std::strerror(err));
    if (err == EADDRINUSE) return absl::UnavailableError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::FailedPreconditionError(message);
  }
  if (listen(fd, SOMAXCONN) != 0) {
    return absl::UnavailableError(
        absl::StrCat("listen tcp ", address, ": listen: ", std::strerror(errno)));
  }
  sockaddr_storage bound;
  socklen_t bound_len = sizeof(bound);
  int bound_port = port;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    bound_port = bound.ss_family == AF_INET6
                     ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  // Start-up options. Timeouts and limits are what keep slow clients from
  // starving scrapes; see the header.
  const unsigned int timeout_s = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(options_.request_timeout, absl::Seconds(1)))));
  const unsigned int threads =
      static_cast<unsigned int>(std::min(options_.threads, options_.max_connections));
  // The per-connection pool holds the read buffer (request line + headers)
  // and the response header; leave room for the latter.
  const size_t pool = options_.max_header_bytes + 4096;
  std::vector<MHD_OptionItem> items;
  // The logger must come first, or earlier options log to stderr.
  items.push_back({MHD_OPTION_EXTERNAL_LOGGER,
                   reinterpret_cast<intptr_t>(&HttpServerCallbacks::Log), this});
  items.push_back({MHD_OPTION_LISTEN_SOCKET, fd, nullptr});
  items.push_back({MHD_OPTION_CONNECTION_LIMIT, options_.max_connections, nullptr});
  items.push_back({MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(timeout_s), nullptr});
  items.push_back({MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(pool), nullptr});
  if (threads > 1) {
    items.push_back({MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(threads), nullptr});
  }
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (tls_) {
    flags |= MHD_USE_TLS;
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0,
                     const_cast<char*>(web_config_.tls.key_pem.c_str())});
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0,
                     const_cast<char*>(web_config_.tls.cert_pem.c_str())});
    items.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(tls_priorities_.c_str())});
    if (!tls_trust_pem_.empty()) {
      items.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(tls_trust_pem_.c_str())});
    }
    items.push_back({MHD_OPTION_NOTIFY_CONNECTION,
                     reinterpret_cast<intptr_t>(&HttpServerCallbacks::Notify), this});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});

  {
    std::lock_guard<std::mutex> lock(log_mu_);
    last_mhd_error_.clear();
  }
  MHD_Daemon* daemon =
      MHD_start_daemon(flags, 0, nullptr, nullptr, &HttpServerCallbacks::Access, this,
                       MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  if (daemon == nullptr) {
    // Some libmicrohttpd versions close a passed-in listen socket when start
    // fails, others do not; close it only if it is still ours.
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) closer.release();
    std::lock_guard<std::mutex> lock(log_mu_);
    return absl::UnavailableError(absl::StrCat(
        "listen tcp ", address, ": cannot start HTTP",
        tls_ ? "S (check the TLS settings in " + web_config_.path + ")" : "", " server",
        last_mhd_error_.empty() ? "" : ": " + last_mhd_error_));
  }
  closer.release();  // libmicrohttpd closes the listen socket in MHD_stop_daemon
  listeners_.push_back({address, daemon, bound_port});
  return absl::OkStatus();
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  for (Listener& l : listeners_) {
    if (l.daemon != nullptr) {
      MHD_stop_daemon(l.daemon);
      l.daemon = nullptr;
    }
  }
}

std::vector<int> HttpServer::BoundPorts() const {
  std::vector<int> ports;
  for (const Listener& l : listeners_) ports.push_back(l.port);
  return ports;
}

uint64_t HttpServer::bcrypt_calls() const {
  return authenticator_ ? authenticator_->bcrypt_calls() : 0;
}

std::string HttpServer::Scrape() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& weak : collectables_) {
    std::shared_ptr<prometheus::Collectable> collectable = weak.lock();
    if (!collectable) continue;
    std::vector<prometheus::MetricFamily> more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

int HttpServer::Handle(MHD_Connection* connection, absl::string_view url,
                       absl::string_view method) {
  const auto& extra = web_config_.http.headers;
  if (authenticator_ != nullptr &&
      !authenticator_->CheckHeader(
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))) {
    return Respond(connection, MHD_HTTP_UNAUTHORIZED, "Unauthorized\n", kTextContentType, extra,
                   {{MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic"}});
  }
  if (method != MHD_HTTP_METHOD_GET && method != MHD_HTTP_METHOD_HEAD) {
    return Respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n",
                   kTextContentType, extra, {{MHD_HTTP_HEADER_ALLOW, kAllow}});
  }
  if (url == options_.telemetry_path) {
    std::string body;
    try {
      body = Scrape();
    } catch (const std::exception& e) {
      return Respond(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                     absl::StrCat("error collecting metrics: ", e.what(), "\n"),
                     kTextContentType, extra);
    }
    if (AcceptsGzip(MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
      std::string compressed;
      if (Gzip(body, options_.gzip_level, &compressed)) {
        return Respond(connection, MHD_HTTP_OK, std::move(compressed), kMetricsContentType, extra,
                       {{MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip"},
                        {MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING}});
      }
    }
    return Respond(connection, MHD_HTTP_OK, std::move(body), kMetricsContentType, extra,
                   {{MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING}});
  }
  if (url == "/") {
    return Respond(connection, MHD_HTTP_OK, landing_page_, kHtmlContentType, extra);
  }
  if (url == "/-/healthy") {
    return Respond(connection, MHD_HTTP_OK, "OK\n", kTextContentType, extra);
  }
  if (url == "/-/ready") {
    if (!is_ready_ || is_ready_()) {
      return Respond(connection, MHD_HTTP_OK, "OK\n", kTextContentType, extra);
    }
    return Respond(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "Not ready\n", kTextContentType,
                   extra);
  }
  return Respond(connection, MHD_HTTP_NOT_FOUND, "404 page not found\n", kTextContentType, extra);
}

}  // namespace pse
