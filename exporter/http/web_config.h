// Web configuration file (`--web.config.file`): the exporter-toolkit YAML
// format every official Prometheus exporter reads, so one file works for
// node_exporter and for us.
//
//   tls_server_config:      cert_file, key_file, client_auth_type,
//                           client_ca_file, min_version, max_version,
//                           cipher_suites, curve_preferences,
//                           prefer_server_cipher_suites
//   http_server_config:     http2, headers
//   basic_auth_users:       {user: bcrypt hash}
//
// The accepted language is what `promtool check web-config` (exporter-toolkit
// as shipped with Debian's Prometheus 2.42) accepts: strict keys (unknown or
// duplicate keys are errors), YAML 1.1 booleans, relative paths resolved
// against the directory of the config file, bcrypt hashes checked the way Go's
// bcrypt.Cost checks them, cert/key loaded as a pair, client CA file read.
// Differences, all documented on the fields below: cipher_suites are checked
// against Go's list and then ignored (GnuTLS picks suites from its NORMAL
// priority set); http2 is accepted and ignored (libmicrohttpd speaks HTTP/1.1
// only). Errors name the file, the line and column (yaml-cpp mark) and the
// dotted key.
//
// Parts: web_config_yaml.h (typed YAML access with file:line:key errors),
// web_config_tls.h (the tls_server_config section), tls_credentials.h
// (certificate checks); the http_server_config and basic_auth_users sections
// are parsed here.
//
// Thread-safety: plain value types and free functions; no shared state.
// REQUIRES: nothing; the functions never throw.

#ifndef PSE_EXPORTER_HTTP_WEB_CONFIG_H_
#define PSE_EXPORTER_HTTP_WEB_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pse {

// Go's tls.ClientAuthType values, by their exporter-toolkit names.
enum class ClientAuthType {
  kNoClientCert,                // default; no certificate requested
  kRequestClientCert,           // requested, not required, not verified
  kRequireAnyClientCert,        // required (alias "RequireClientCert"), not verified
  kVerifyClientCertIfGiven,     // requested; verified against the CA if sent
  kRequireAndVerifyClientCert,  // required and verified against the CA
};

// TLS protocol versions in the config's spelling (TLS10 .. TLS13).
enum class TlsVersion { kTls10 = 10, kTls11 = 11, kTls12 = 12, kTls13 = 13 };

struct TlsServerConfig {
  // True when any TLS key is set (exporter-toolkit's TLSConfig.IsEnabled);
  // then cert and key are mandatory and the listener speaks HTTPS only.
  bool enabled = false;
  // Absolute (or config-relative, resolved) paths as written, for messages.
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  // PEM contents, loaded and checked at parse time (a cert/key mismatch or a
  // missing file is a config error, as in promtool).
  std::string cert_pem;
  std::string key_pem;
  // Client CA certificates re-encoded as PEM; empty when client_ca_file is
  // unset, or when it holds no certificate (Go accepts such a file; then no
  // client certificate can verify). When client_ca_file is unset and a
  // verifying client_auth_type is set, Go verifies against the system roots;
  // so do we (the HTTP server loads the system trust store).
  std::string client_ca_pem;
  int client_ca_count = 0;
  ClientAuthType client_auth = ClientAuthType::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;  // exporter-toolkit default
  TlsVersion max_version = TlsVersion::kTls13;
  // Checked against Go's secure cipher suite names, then not used: GnuTLS
  // priority strings select by algorithm families, not by suite, so an exact
  // mapping is impossible. GnuTLS's NORMAL set applies.
  std::vector<std::string> cipher_suites;
  // CurveP256, CurveP384, CurveP521, X25519; mapped to GnuTLS groups.
  std::vector<std::string> curve_preferences;
  bool prefer_server_cipher_suites = true;  // -> %SERVER_PRECEDENCE
};

struct HttpServerConfig {
  // Accepted for compatibility and ignored: libmicrohttpd has no HTTP/2.
  bool http2 = true;
  // Extra response headers; only the names exporter-toolkit allows
  // (Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options,
  // X-XSS-Protection, Content-Security-Policy), with its value checks.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct WebConfig {
  std::string path;  // the file this came from (empty for defaults)
  TlsServerConfig tls;
  HttpServerConfig http;
  // user -> bcrypt hash (the hash as written; see BasicAuthenticator).
  std::map<std::string, std::string> basic_auth_users;
};

// Reads and validates `path`. Errors: NotFound for a missing file,
// Unavailable for another read failure (permissions, ...), OutOfRange above
// 16 MiB, InvalidArgument for anything in it; the message always starts
// with the path.
absl::StatusOr<WebConfig> LoadWebConfig(const std::string& path);

// Same, for text already in memory. `path` names the file in messages and its
// directory anchors relative cert/key/CA paths.
absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml, const std::string& path);

// Checks a bcrypt hash the way Go's bcrypt.Cost does (length, '$', major
// version, cost 4..31). Returns the problem, or OK.
absl::Status CheckBcryptHash(absl::string_view hash);

const char* ClientAuthTypeName(ClientAuthType type);

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_WEB_CONFIG_H_
