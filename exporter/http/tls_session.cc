#include "exporter/http/tls_session.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "exporter/util/fs_util.h"

namespace pse {
namespace {

// Where Debian (and GnuTLS's default) keeps the system roots; Go verifies
// client certificates against them when no client_ca_file is given.
constexpr char kSystemTrustFile[] = "/etc/ssl/certs/ca-certificates.crt";

std::string Priorities(const TlsServerConfig& tls) {
  std::string p = "NORMAL:-VERS-ALL";
  for (int v = static_cast<int>(tls.max_version); v >= static_cast<int>(tls.min_version); --v) {
    absl::StrAppend(&p, ":+VERS-TLS1.", v - 10);
  }
  if (!tls.curve_preferences.empty()) {
    p += ":-GROUP-ALL";
    for (const std::string& curve : tls.curve_preferences) {
      if (curve == "CurveP256")
        p += ":+GROUP-SECP256R1";
      else if (curve == "CurveP384")
        p += ":+GROUP-SECP384R1";
      else if (curve == "CurveP521")
        p += ":+GROUP-SECP521R1";
      else if (curve == "X25519")
        p += ":+GROUP-X25519";
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

}  // namespace

absl::StatusOr<TlsListenerSettings> PrepareTls(const WebConfig& web_config) {
  const TlsServerConfig& tls = web_config.tls;
  if (tls.min_version > tls.max_version) {
    return absl::InvalidArgumentError(
        absl::StrCat(web_config.path, ": tls_server_config: min_version TLS1",
                     static_cast<int>(tls.min_version) - 10, " is above max_version TLS1",
                     static_cast<int>(tls.max_version) - 10, ": no TLS version left to serve"));
  }
  TlsListenerSettings settings;
  settings.priorities = Priorities(tls);
  const bool verifies = tls.client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuthType::kRequireAndVerifyClientCert;
  if (!verifies) return settings;
  if (!tls.client_ca_file.empty()) {
    settings.client_trust_pem = tls.client_ca_pem;  // may be empty: trusts nothing
    return settings;
  }
  absl::StatusOr<std::string> system = ReadSmallFile(kSystemTrustFile);
  if (!system.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(web_config.path, ": tls_server_config: client_auth_type ",
                     ClientAuthTypeName(tls.client_auth),
                     " without client_ca_file verifies against the system roots, but ",
                     system.status().message()));
  }
  settings.client_trust_pem = std::move(*system);
  return settings;
}

void ApplyClientAuthPolicy(void* tls_session, ClientAuthType mode) {
  if (mode == ClientAuthType::kNoClientCert || tls_session == nullptr) return;
  auto session = static_cast<gnutls_session_t>(tls_session);
  // libmicrohttpd on its own only ever asks for a certificate
  // (GNUTLS_CERT_REQUEST); the Require* modes need REQUIRE so a client
  // without one fails the handshake, as with Go's crypto/tls.
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

}  // namespace pse
