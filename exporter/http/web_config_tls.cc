#include "exporter/http/web_config_tls.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "exporter/http/tls_credentials.h"
#include "exporter/util/fs_util.h"

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

constexpr const char* kCurves[] = {"CurveP256", "CurveP384", "CurveP521", "X25519"};

template <size_t N>
bool OneOf(const std::string& value, const char* const (&names)[N]) {
  for (const char* name : names) {
    if (value == name) return true;
  }
  return false;
}

std::string JoinDir(const std::string& dir, const std::string& file) {
  if (file.empty() || file[0] == '/') return file;
  return dir + "/" + file;
}

// The file's contents, or why not, without ReadSmallFile's "path: " prefix
// (the caller names the file its own way).
absl::StatusOr<std::string> ReadMaterial(const std::string& file) {
  absl::StatusOr<std::string> contents = ReadSmallFile(file);
  if (contents.ok()) return contents;
  absl::string_view reason = contents.status().message();
  absl::ConsumePrefix(&reason, file + ": ");
  return absl::Status(contents.status().code(), reason);
}

absl::Status ParseTlsVersion(const YamlFieldReader& r, const YAML::Node& node,
                             const std::string& key, TlsVersion* out) {
  if (node.IsNull()) return absl::OkStatus();  // keeps the default, as Go
  std::string s;
  absl::Status st = r.String(node, key, &s);
  if (!st.ok()) return st;
  if (s == "TLS10")
    *out = TlsVersion::kTls10;
  else if (s == "TLS11")
    *out = TlsVersion::kTls11;
  else if (s == "TLS12")
    *out = TlsVersion::kTls12;
  else if (s == "TLS13")
    *out = TlsVersion::kTls13;
  else
    return r.Error(
        node, key,
        absl::StrCat("unknown TLS version: ", s, " (one of TLS10, TLS11, TLS12, TLS13)"));
  return absl::OkStatus();
}

absl::Status ParseClientAuth(const YamlFieldReader& r, const YAML::Node& node,
                             const std::string& key, ClientAuthType* out) {
  std::string s;
  absl::Status st = r.String(node, key, &s);
  if (!st.ok()) return st;
  if (s.empty() || s == "NoClientCert")
    *out = ClientAuthType::kNoClientCert;
  else if (s == "RequestClientCert")
    *out = ClientAuthType::kRequestClientCert;
  else if (s == "RequireAnyClientCert" || s == "RequireClientCert")
    *out = ClientAuthType::kRequireAnyClientCert;
  else if (s == "VerifyClientCertIfGiven")
    *out = ClientAuthType::kVerifyClientCertIfGiven;
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

// Where each file key was written, for messages about the file's contents.
struct FileMarks {
  YAML::Mark cert = YAML::Mark::null_mark();
  YAML::Mark key = YAML::Mark::null_mark();
  YAML::Mark client_ca = YAML::Mark::null_mark();
};

// Reads, checks and stores cert, key and client CA. REQUIRES: tls->enabled.
absl::Status LoadMaterial(const YamlFieldReader& r, const std::string& section,
                          const FileMarks& marks, TlsServerConfig* tls) {
  absl::StatusOr<std::string> cert = ReadMaterial(tls->cert_file);
  if (!cert.ok()) {
    return r.ErrorAt(
        marks.cert, YamlFieldReader::Child(section, "cert_file"),
        absl::StrCat("cannot read \"", tls->cert_file, "\": ", cert.status().message()));
  }
  absl::StatusOr<std::string> key = ReadMaterial(tls->key_file);
  if (!key.ok()) {
    return r.ErrorAt(marks.key, YamlFieldReader::Child(section, "key_file"),
                     absl::StrCat("cannot read \"", tls->key_file, "\": ", key.status().message()));
  }
  absl::Status st = CheckKeyPair(*cert, *key);
  if (!st.ok()) {
    return r.ErrorAt(marks.cert, YamlFieldReader::Child(section, "cert_file"),
                     absl::StrCat(st.message(), " (cert_file \"", tls->cert_file, "\", key_file \"",
                                  tls->key_file, "\")"));
  }
  tls->cert_pem = std::move(*cert);
  tls->key_pem = std::move(*key);

  if (tls->client_ca_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> ca = ReadMaterial(tls->client_ca_file);
  if (!ca.ok()) {
    return r.ErrorAt(
        marks.client_ca, YamlFieldReader::Child(section, "client_ca_file"),
        absl::StrCat("cannot read \"", tls->client_ca_file, "\": ", ca.status().message()));
  }
  tls->client_ca_pem = ReencodeCaCertificates(*ca, &tls->client_ca_count);
  if (tls->client_auth == ClientAuthType::kNoClientCert) {
    return r.ErrorAt(marks.client_ca, YamlFieldReader::Child(section, "client_ca_file"),
                     "client CA's have been configured without a client auth policy "
                     "(set client_auth_type)");
  }
  return absl::OkStatus();
}

}  // namespace

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

absl::Status ParseTlsServerConfig(const YamlFieldReader& r, const YAML::Node& node,
                                  const std::string& dir, TlsServerConfig* tls) {
  static const std::set<std::string> kAllowed = {
      "cert_file",      "key_file",      "client_auth_type",
      "client_ca_file", "cipher_suites", "curve_preferences",
      "min_version",    "max_version",   "prefer_server_cipher_suites"};
  const std::string section = "tls_server_config";
  std::vector<std::pair<YAML::Node, YAML::Node>> fields;
  absl::Status st = r.Map(node, section, &kAllowed, &fields);
  if (!st.ok()) return st;

  std::string client_auth_raw;
  FileMarks marks;
  for (const auto& [k, v] : fields) {
    const std::string name = k.Scalar();
    const std::string key = YamlFieldReader::Child(section, name);
    if (name == "cert_file") {
      st = r.String(v, key, &tls->cert_file);
      marks.cert = v.Mark();
    } else if (name == "key_file") {
      st = r.String(v, key, &tls->key_file);
      marks.key = v.Mark();
    } else if (name == "client_ca_file") {
      st = r.String(v, key, &tls->client_ca_file);
      marks.client_ca = v.Mark();
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
        if (!OneOf(tls->cipher_suites[i], kGoCipherSuites)) {
          st = r.Error(v[i], key, absl::StrCat("unknown cipher: ", tls->cipher_suites[i]));
        }
      }
    } else if (name == "curve_preferences") {
      st = r.StringList(v, key, &tls->curve_preferences);
      for (size_t i = 0; st.ok() && i < tls->curve_preferences.size(); ++i) {
        if (!OneOf(tls->curve_preferences[i], kCurves)) {
          st = r.Error(v[i], key,
                       absl::StrCat("unknown curve: ", tls->curve_preferences[i],
                                    " (one of CurveP256, CurveP384, CurveP521, X25519)"));
        }
      }
    }
    if (!st.ok()) return st;
  }

  tls->enabled = !tls->cert_file.empty() || !tls->key_file.empty() ||
                 !tls->client_ca_file.empty() || !client_auth_raw.empty();
  if (!tls->enabled) return absl::OkStatus();

  if (tls->cert_file.empty()) {
    return r.ErrorAt(node.Mark(), YamlFieldReader::Child(section, "cert_file"),
                     "missing cert_file (required when TLS is configured)");
  }
  if (tls->key_file.empty()) {
    return r.ErrorAt(node.Mark(), YamlFieldReader::Child(section, "key_file"),
                     "missing key_file (required when TLS is configured)");
  }
  tls->cert_file = JoinDir(dir, tls->cert_file);
  tls->key_file = JoinDir(dir, tls->key_file);
  tls->client_ca_file = JoinDir(dir, tls->client_ca_file);
  return LoadMaterial(r, section, marks, tls);
}

}  // namespace pse
