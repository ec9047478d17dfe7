#include "exporter/http/tls_credentials.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "absl/strings/str_cat.h"

namespace pse {
namespace {

gnutls_datum_t Datum(const std::string& s) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
          static_cast<unsigned>(s.size())};
}

}  // namespace

absl::Status CheckKeyPair(const std::string& cert_pem, const std::string& key_pem) {
  gnutls_certificate_credentials_t cred;
  if (gnutls_certificate_allocate_credentials(&cred) < 0) {
    return absl::ResourceExhaustedError("gnutls_certificate_allocate_credentials failed");
  }
  gnutls_datum_t cert = Datum(cert_pem);
  gnutls_datum_t key = Datum(key_pem);
  int rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
  gnutls_certificate_free_credentials(cred);
  if (rc < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to load certificate/key pair: ", gnutls_strerror(rc)));
  }
  return absl::OkStatus();
}

std::string ReencodeCaCertificates(const std::string& pem, int* count) {
  std::string out;
  *count = 0;
  gnutls_x509_crt_t* certs = nullptr;
  unsigned int n = 0;
  gnutls_datum_t data = Datum(pem);
  if (gnutls_x509_crt_list_import2(&certs, &n, &data, GNUTLS_X509_FMT_PEM, 0) < 0) return out;
  for (unsigned int i = 0; i < n; ++i) {
    gnutls_datum_t exported{nullptr, 0};
    if (gnutls_x509_crt_export2(certs[i], GNUTLS_X509_FMT_PEM, &exported) >= 0) {
      out.append(reinterpret_cast<const char*>(exported.data), exported.size);
      ++*count;
      gnutls_free(exported.data);
    }
    gnutls_x509_crt_deinit(certs[i]);
  }
  gnutls_free(certs);
  return out;
}

}  // namespace pse
