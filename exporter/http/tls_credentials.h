// GnuTLS checks of TLS material named in a web config, done once at load
// time so a bad file is a configuration error with file and key, not a
// failed start or handshake later: the server certificate and key must parse
// and match (Go's tls.X509KeyPair), and the client CA file is re-encoded to
// the certificates it really holds (Go's AppendCertsFromPEM).
//
// Thread-safety: pure functions.

#ifndef PSE_EXPORTER_HTTP_TLS_CREDENTIALS_H_
#define PSE_EXPORTER_HTTP_TLS_CREDENTIALS_H_

#include <string>

#include "absl/status/status.h"

namespace pse {

// OK when `cert_pem` and `key_pem` load as a matching pair; InvalidArgument
// with GnuTLS's reason otherwise.
absl::Status CheckKeyPair(const std::string& cert_pem, const std::string& key_pem);

// Every certificate in `pem`, re-encoded as PEM, and how many there are. What
// does not parse is skipped, as Go does: a file without certificates is not
// an error (promtool accepts it); it just trusts nothing.
std::string ReencodeCaCertificates(const std::string& pem, int* count);

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_TLS_CREDENTIALS_H_
