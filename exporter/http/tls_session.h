// TLS for the HTTP server, GnuTLS side: what libmicrohttpd needs to start a
// TLS listener from a loaded web config (priority string, trust list for
// client certificates), and the per-session client-certificate policy.
//
// Go's crypto/tls semantics are the model (the web config is exporter-
// toolkit's): the version range and curves become a GnuTLS priority string;
// cipher_suites are not mapped (see web_config.h). Client certificates:
//   NoClientCert                 none requested
//   RequestClientCert            requested, never verified
//   RequireAnyClientCert         required (handshake fails without), not verified
//   VerifyClientCertIfGiven      requested; verified when sent
//   RequireAndVerifyClientCert   required and verified
// Verification is against client_ca_file, or the system roots when that is
// unset (as Go), for the TLS-client key purpose; it runs inside the
// handshake, so a rejected client never reaches HTTP.
//
// Thread-safety: PrepareTls is a pure function of its input.
// ApplyClientAuthPolicy touches only the session it is given; call it from
// the thread that owns the session, before the handshake starts.

#ifndef PSE_EXPORTER_HTTP_TLS_SESSION_H_
#define PSE_EXPORTER_HTTP_TLS_SESSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "exporter/http/web_config.h"

namespace pse {

struct TlsListenerSettings {
  std::string priorities;  // GnuTLS priority string
  // PEM certificates that verify clients; empty when nothing is verified.
  std::string client_trust_pem;
};

// REQUIRES: web_config.tls.enabled. Errors (naming the web config file):
// InvalidArgument when min_version > max_version; FailedPrecondition when a
// verifying client_auth_type without client_ca_file finds no system roots.
absl::StatusOr<TlsListenerSettings> PrepareTls(const WebConfig& web_config);

// Sets how `session` (a gnutls_session_t, before its handshake) asks for and
// verifies the client certificate under `mode`.
void ApplyClientAuthPolicy(void* session, ClientAuthType mode);

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_TLS_SESSION_H_
