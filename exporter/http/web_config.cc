#include "exporter/http/web_config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "yaml-cpp/yaml.h"

namespace pse {
namespace {

// Go's tls.CipherSuites() names (the "secure" list of Go 1.19/1.20, which is
// what promtool in Debian 12 accepts; insecure suites are rejected there too).
constexpr const char* kGoCipherSuites[] = {
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
};

constexpr const char* kCurves[] = {"CurveP256", "CurveP384", "CurveP521",
                                   "X25519"};

absl::StatusOr<std::string> ReadFile(const std::string& file) {
  errno = 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(std::strerror(errno ? errno : ENOENT));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::DataLossError(std::strerror(errno ? errno : EIO));
  return out.str();
}

std::string JoinDir(const std::string& dir, const std::string& file) {
  if (file.empty() || file[0] == '/') return file;
  return dir + "/" + file;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Turns YAML nodes into typed values, with every error naming
// file:line:column and the dotted key.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  absl::Status Error(const YAML::Node& at, const std::string& key,
                     const std::string& message) const {
    return ErrorAt(at.Mark(), key, message);
  }

  absl::Status ErrorAt(const YAML::Mark& mark, const std::string& key,
                       const std::string& message) const {
    std::string where = path_;
    if (!mark.is_null()) {
      absl::StrAppend(&where, ":", mark.line + 1, ":", mark.column + 1);
    }
    if (key.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": key \"", key, "\": ", message));
  }

  // A mapping (or null, meaning empty). Rejects duplicate and unknown keys.
  // `fields` receives key -> (key node, value node) in file order.
  absl::Status Map(const YAML::Node& node, const std::string& key,
                   const std::set<std::string>* allowed,
                   std::vector<std::pair<YAML::Node, YAML::Node>>* fields) const {
    if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
    if (!node.IsMap()) {
      return Error(node, key, absl::StrCat("expected a mapping, got ", Kind(node)));
    }
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node k = it->first;  // by value: operator-> yields a temporary
      std::string child = Child(key, k.IsScalar() ? k.Scalar() : "?");
      if (!k.IsScalar() && !k.IsNull()) {
        return Error(k, child, "a key must be a scalar");
      }
      std::string name = k.IsScalar() ? k.Scalar() : "";
      if (!seen.insert(name).second) {
        return Error(k, child, "duplicate key (already set in this mapping)");
      }
      if (allowed != nullptr && allowed->count(name) == 0) {
        return Error(k, child,
                     absl::StrCat("unknown key; allowed: ", absl::StrJoin(*allowed, ", ")));
      }
      fields->emplace_back(it->first, it->second);
    }
    return absl::OkStatus();
  }

  // Go's yaml.v2 decodes any scalar into a string field; null is "".
  absl::Status String(const YAML::Node& node, const std::string& key,
                      std::string* out) const {
    if (node.IsNull()) {
      out->clear();
      return absl::OkStatus();
    }
    if (!node.IsScalar()) {
      return Error(node, key, absl::StrCat("expected a string, got ", Kind(node)));
    }
    *out = node.Scalar();
    return absl::OkStatus();
  }

  // YAML 1.1 booleans (yes/no/on/off/true/false), unquoted, as yaml.v2.
  absl::Status Bool(const YAML::Node& node, const std::string& key, bool* out) const {
    if (node.IsNull()) {
      *out = false;
      return absl::OkStatus();
    }
    bool value = false;
    if (!node.IsScalar() || node.Tag() == "!" || !YAML::convert<bool>::decode(node, value)) {
      return Error(node, key,
                   absl::StrCat("expected a boolean (true/false), got ",
                                node.IsScalar() ? "\"" + node.Scalar() + "\"" : Kind(node)));
    }
    *out = value;
    return absl::OkStatus();
  }

  absl::Status StringList(const YAML::Node& node, const std::string& key,
                          std::vector<std::string>* out) const {
    out->clear();
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsSequence()) {
      return Error(node, key, absl::StrCat("expected a list, got ", Kind(node)));
    }
    for (const YAML::Node& item : node) {
      std::string value;
      absl::Status s = String(item, key, &value);
      if (!s.ok()) return s;
      out->push_back(value);
    }
    return absl::OkStatus();
  }

  static std::string Child(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : absl::StrCat(parent, ".", key);
  }

  static std::string Kind(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Scalar:
        return absl::StrCat("\"", node.Scalar(), "\"");
      case YAML::NodeType::Null:
        return "null";
      default:
        return "nothing";
    }
  }

 private:
  const std::string& path_;
};

absl::Status ParseTlsVersion(const Reader& r, const YAML::Node& node,
                             const std::string& key, TlsVersion* out) {
  if (node.IsNull()) return absl::OkStatus();  // keeps the default, as Go
  std::string s;
  absl::Status st = r.String(node, key, &s);
  if (!st.ok()) return st;
  if (s == "TLS10") *out = TlsVersion::kTls10;
  else if (s == "TLS11") *out = TlsVersion::kTls11;
  else if (s == "TLS12") *out = TlsVersion::kTls12;
  else if (s == "TLS13") *out = TlsVersion::kTls13;
  else return r.Error(node, key, absl::StrCat("unknown TLS version: ", s,
                                              " (one of TLS10, TLS11, TLS12, TLS13)"));
  return absl::OkStatus();
}

absl::Status ParseClientAuth(const Reader& r, const YAML::Node& node,
                             const std::string& key, ClientAuthType* out) {
  std::string s;
  absl::Status st = r.String(node, key, &s);
  if (!st.ok()) return st;
  if (s.empty() || s == "NoClientCert") *out = ClientAuthType::kNoClientCert;
  else if (s == "RequestClientCert") *out = ClientAuthType::kRequestClientCert;
  else if (s == "RequireAnyClientCert" || s == "RequireClientCert")
    *out = ClientAuthType::kRequireAnyClientCert;
  else if (s == "VerifyClientCertIfGiven") *out = ClientAuthType::kVerifyClientCertIfGiven;
  else if (s == "RequireAndVerifyClientCert")
    *out = ClientAuthType::kRequireAndVerifyClientCert;
  else
    return r.Error(node, key,
                   absl::StrCat("invalid client_auth_type \"", s,
                                "\" (one of NoClientCert, RequestClientCert, "
                                "RequireAnyClientCert, VerifyClientCertIfGiven, "
                                "RequireAndVerifyClientCert)"));
  return absl::OkStatus();
}

// Checks cert and key the way tls.X509KeyPair does: both parse and match.
absl::Status CheckKeyPair(const std::string& cert_pem, const std::string& key_pem) {
  gnutls_certificate_credentials_t cred;
  if (gnutls_certificate_allocate_credentials(&cred) < 0) {
    return absl::ResourceExhaustedError("gnutls_certificate_allocate_credentials failed");
  }
  gnutls_datum_t cert{reinterpret_cast<unsigned char*>(const_cast<char*>(cert_pem.data())),
                      static_cast<unsigned>(cert_pem.size())};
  gnutls_datum_t key{reinterpret_cast<unsigned char*>(const_cast<char*>(key_pem.data())),
                     static_cast<unsigned>(key_pem.size())};
  int rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
  gnutls_certificate_free_credentials(cred);
  if (rc < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to load certificate/key pair: ", gnutls_strerror(rc)));
  }
  return absl::OkStatus();
}

// Re-encodes every certificate found in `pem`. Go's AppendCertsFromPEM
// silently skips what it cannot parse, so a file without certificates is not
// an error (promtool accepts it); it just trusts nothing.
void LoadCaCerts(const std::string& pem, std::string* out, int* count) {
  out->clear();
  *count = 0;
  gnutls_x509_crt_t* certs = nullptr;
  unsigned int n = 0;
  gnutls_datum_t data{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                      static_cast<unsigned>(pem.size())};
  if (gnutls_x509_crt_list_import2(&certs, &n, &data, GNUTLS_X509_FMT_PEM, 0) < 0) {
    return;
  }
  for (unsigned int i = 0; i < n; ++i) {
    gnutls_datum_t exported{nullptr, 0};
    if (gnutls_x509_crt_export2(certs[i], GNUTLS_X509_FMT_PEM, &exported) >= 0) {
      out->append(reinterpret_cast<const char*>(exported.data), exported.size);
      ++*count;
      gnutls_free(exported.data);
    }
    gnutls_x509_crt_deinit(certs[i]);
  }
  gnutls_free(certs);
}

absl::Status ParseTls(const Reader& r, const YAML::Node& node, const std::string& dir,
                      TlsServerConfig* tls) {
  static const std::set<std::string> kAllowed = {
      "cert_file",     "key_file",          "client_auth_type",
      "client_ca_file", "cipher_suites",    "curve_preferences",
      "min_version",   "max_version",       "prefer_server_cipher_suites"};
  const std::string section = "tls_server_config";
  std::vector<std::pair<YAML::Node, YAML::Node>> fields;
  absl::Status st = r.Map(node, section, &kAllowed, &fields);
  if (!st.ok()) return st;

  std::string client_auth_raw;
  YAML::Mark client_ca_mark = YAML::Mark::null_mark();
  YAML::Mark cert_mark = YAML::Mark::null_mark();
  YAML::Mark key_mark = YAML::Mark::null_mark();
  for (const auto& [k, v] : fields) {
    const std::string name = k.Scalar();
    const std::string key = Reader::Child(section, name);
    if (name == "cert_file") {
      st = r.String(v, key, &tls->cert_file);
      cert_mark = v.Mark();
    } else if (name == "key_file") {
      st = r.String(v, key, &tls->key_file);
      key_mark = v.Mark();
    } else if (name == "client_ca_file") {
      st = r.String(v, key, &tls->client_ca_file);
      client_ca_mark = v.Mark();
    } else if (name == "client_auth_type") {
      st = r.String(v, key, &client_auth_raw);
      if (st.ok()) st = ParseClientAuth(r, v, key, &tls->client_auth);
    } else if (name == "min_version") {
      st = ParseTlsVersion(r, v, key, &tls->min_version);
    } else if (name == "max_version") {
      st = ParseTlsVersion(r, v, key, &tls->max_version);
    } else if (name == "prefer_server_cipher_suites") {
      st = r.Bool(v, key, &tls->prefer_server_cipher_suites);
    } else if (name == "cipher_suites") {
      st = r.StringList(v, key, &tls->cipher_suites);
      for (size_t i = 0; st.ok() && i < tls->cipher_suites.size(); ++i) {
        bool known = false;
        for (const char* c : kGoCipherSuites) known |= tls->cipher_suites[i] == c;
        if (!known) {
          st = r.Error(v[i], key, absl::StrCat("unknown cipher: ", tls->cipher_suites[i]));
        }
      }
    } else if (name == "curve_preferences") {
      st = r.StringList(v, key, &tls->curve_preferences);
      for (size_t i = 0; st.ok() && i < tls->curve_preferences.size(); ++i) {
        bool known = false;
        for (const char* c : kCurves) known |= tls->curve_preferences[i] == c;
        if (!known) {
          st = r.Error(v[i], key,
                       absl::StrCat("unknown curve: ", tls->curve_preferences[i],
                                    " (one of CurveP256, CurveP384, CurveP521, X25519)"));
        }
      }
    }
    if (!st.ok()) return st;
  }

  // exporter-toolkit's IsEnabled: any of these switches TLS on.
  tls->enabled = !tls->cert_file.empty() || !tls->key_file.empty() ||
                 !tls->client_ca_file.empty() || !client_auth_raw.empty();
  if (!tls->enabled) return absl::OkStatus();

  const YAML::Mark section_mark = node.Mark();
  if (tls->cert_file.empty()) {
    return r.ErrorAt(section_mark, Reader::Child(section, "cert_file"),
                     "missing cert_file (required when TLS is configured)");
  }
  if (tls->key_file.empty()) {
    return r.ErrorAt(section_mark, Reader::Child(section, "key_file"),
                     "missing key_file (required when TLS is configured)");
  }
  tls->cert_file = JoinDir(dir, tls->cert_file);
  tls->key_file = JoinDir(dir, tls->key_file);
  tls->client_ca_file = JoinDir(dir, tls->client_ca_file);

  absl::StatusOr<std::string> cert = ReadFile(tls->cert_file);
  if (!cert.ok()) {
    return r.ErrorAt(cert_mark, Reader::Child(section, "cert_file"),
                     absl::StrCat("cannot read \"", tls->cert_file, "\": ", cert.status().message()));
  }
  absl::StatusOr<std::string> key = ReadFile(tls->key_file);
  if (!key.ok()) {
    return r.ErrorAt(key_mark, Reader::Child(section, "key_file"),
                     absl::StrCat("cannot read \"", tls->key_file, "\": ", key.status().message()));
  }
  st = CheckKeyPair(*cert, *key);
  if (!st.ok()) {
    return r.ErrorAt(cert_mark, Reader::Child(section, "cert_file"),
                     absl::StrCat(st.message(), " (cert_file \"", tls->cert_file,
                                  "\", key_file \"", tls->key_file, "\")"));
  }
  tls->cert_pem = std::move(*cert);
  tls->key_pem = std::move(*key);

  if (!tls->client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(tls->client_ca_file);
    if (!ca.ok()) {
      return r.ErrorAt(client_ca_mark, Reader::Child(section, "client_ca_file"),
                       absl::StrCat("cannot read \"", tls->client_ca_file,
                                    "\": ", ca.status().message()));
    }
    LoadCaCerts(*ca, &tls->client_ca_pem, &tls->client_ca_count);
    if (tls->client_auth == ClientAuthType::kNoClientCert) {
      return r.ErrorAt(client_ca_mark, Reader::Child(section, "client_ca_file"),
                       "client CA's have been configured without a client auth policy "
                       "(set client_auth_type)");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHeader(const Reader& r, const YAML::Node& at, const std::string& key,
                         const std::string& name, const std::string& value) {
  static const std::set<std::string> kAllowed = {
      "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
      "X-XSS-Protection", "Content-Security-Policy"};
  if (kAllowed.count(name) == 0) {
    return r.Error(at, key,
                   absl::StrCat("HTTP header \"", name, "\" can not be configured; allowed: ",
                                absl::StrJoin(kAllowed, ", ")));
  }
  if (name == "X-Frame-Options" && value != "deny" && value != "sameorigin") {
    return r.Error(at, key,
                   absl::StrCat("invalid value for X-Frame-Options: \"", value,
                                "\" (one of deny, sameorigin)"));
  }
  if (name == "X-Content-Type-Options" && value != "nosniff") {
    return r.Error(at, key,
                   absl::StrCat("invalid value for X-Content-Type-Options: \"", value,
                                "\" (must be nosniff)"));
  }
  // Header injection: a value is one line.
  if (value.find_first_of("\r\n") != std::string::npos) {
    return r.Error(at, key, "header value must not contain a line break");
  }
  return absl::OkStatus();
}

absl::Status ParseHttp(const Reader& r, const YAML::Node& node, HttpServerConfig* http) {
  static const std::set<std::string> kAllowed = {"http2", "headers"};
  const std::string section = "http_server_config";
  std::vector<std::pair<YAML::Node, YAML::Node>> fields;
  absl::Status st = r.Map(node, section, &kAllowed, &fields);
  if (!st.ok()) return st;
  for (const auto& [k, v] : fields) {
    const std::string name = k.Scalar();
    const std::string key = Reader::Child(section, name);
    if (name == "http2") {
      st = r.Bool(v, key, &http->http2);
    } else if (name == "headers") {
      std::vector<std::pair<YAML::Node, YAML::Node>> headers;
      st = r.Map(v, key, nullptr, &headers);
      for (size_t i = 0; st.ok() && i < headers.size(); ++i) {
        std::string header = headers[i].first.IsScalar() ? headers[i].first.Scalar() : "";
        std::string hkey = Reader::Child(key, header);
        std::string value;
        st = r.String(headers[i].second, hkey, &value);
        if (st.ok()) st = CheckHeader(r, headers[i].first, hkey, header, value);
        if (st.ok()) http->headers.emplace_back(header, value);
      }
    }
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status ParseUsers(const Reader& r, const YAML::Node& node,
                        std::map<std::string, std::string>* users) {
  const std::string section = "basic_auth_users";
  std::vector<std::pair<YAML::Node, YAML::Node>> fields;
  absl::Status st = r.Map(node, section, nullptr, &fields);
  if (!st.ok()) return st;
  for (const auto& [k, v] : fields) {
    std::string user = k.IsScalar() ? k.Scalar() : "";
    std::string key = Reader::Child(section, user);
    std::string hash;
    st = r.String(v, key, &hash);
    if (!st.ok()) return st;
    st = CheckBcryptHash(hash);
    if (!st.ok()) return r.Error(v.IsNull() ? k : v, key, std::string(st.message()));
    (*users)[user] = hash;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckBcryptHash(absl::string_view hash) {
  // Mirrors golang.org/x/crypto/bcrypt Cost(): the salt and digest are not
  // decoded there, so neither are they here (a malformed tail simply never
  // verifies).
  if (hash.size() < 59) {
    return absl::InvalidArgumentError(
        "not a bcrypt hash: too short (generate one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)");
  }
  if (hash[0] != '$') {
    return absl::InvalidArgumentError(
        absl::StrCat("not a bcrypt hash: must start with '$', starts with '",
                     hash.substr(0, 1), "'"));
  }
  if (hash[1] > '2') {
    return absl::InvalidArgumentError(
        absl::StrCat("bcrypt algorithm version '", hash.substr(1, 1),
                     "' is newer than the supported version '2'"));
  }
  size_t n = hash[2] != '$' ? 4 : 3;
  absl::string_view cost_text = hash.substr(n, 2);
  int cost = 0;
  bool ok = !cost_text.empty();
  size_t i = 0;
  bool negative = false;
  if (ok && (cost_text[0] == '+' || cost_text[0] == '-')) {
    negative = cost_text[0] == '-';
    i = 1;
    ok = cost_text.size() > 1;
  }
  for (; ok && i < cost_text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(cost_text[i]))) ok = false;
    else cost = cost * 10 + (cost_text[i] - '0');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a bcrypt hash: bad cost \"", cost_text, "\""));
  }
  if (negative) cost = -cost;
  if (cost < 4 || cost > 31) {
    return absl::InvalidArgumentError(
        absl::StrCat("bcrypt cost ", cost, " is outside the allowed range (4,31)"));
  }
  return absl::OkStatus();
}

const char* ClientAuthTypeName(ClientAuthType type) {
  switch (type) {
    case ClientAuthType::kNoClientCert:
      return "NoClientCert";
    case ClientAuthType::kRequestClientCert:
      return "RequestClientCert";
    case ClientAuthType::kRequireAnyClientCert:
      return "RequireAnyClientCert";
    case ClientAuthType::kVerifyClientCertIfGiven:
      return "VerifyClientCertIfGiven";
    case ClientAuthType::kRequireAndVerifyClientCert:
      return "RequireAndVerifyClientCert";
  }
  return "?";
}

absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml, const std::string& path) {
  Reader r(path);
  WebConfig config;
  config.path = path;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return r.ErrorAt(e.mark, "", absl::StrCat("invalid YAML: ", e.msg));
  }
  try {
    static const std::set<std::string> kAllowed = {"tls_server_config", "http_server_config",
                                                   "basic_auth_users"};
    std::vector<std::pair<YAML::Node, YAML::Node>> fields;
    absl::Status st = r.Map(root, "", &kAllowed, &fields);
    if (!st.ok()) return st;
    const std::string dir = DirName(path);
    for (const auto& [k, v] : fields) {
      const std::string name = k.Scalar();
      if (name == "tls_server_config") st = ParseTls(r, v, dir, &config.tls);
      else if (name == "http_server_config") st = ParseHttp(r, v, &config.http);
      else if (name == "basic_auth_users") st = ParseUsers(r, v, &config.basic_auth_users);
      if (!st.ok()) return st;
    }
  } catch (const YAML::Exception& e) {
    return r.ErrorAt(e.mark, "", absl::StrCat("invalid web config: ", e.msg));
  }
  return config;
}

absl::StatusOr<WebConfig> LoadWebConfig(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno ? errno : ENOENT;
    std::string message = absl::StrCat(path, ": cannot read web config: ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::InvalidArgumentError(message);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseWebConfig(text.str(), path);
}

}  // namespace pse
