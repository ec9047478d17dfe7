// Internal to the web config parser: the `tls_server_config` section. Knows
// exporter-toolkit's vocabulary (Go's cipher suite names, curve names, TLS
// versions, client auth types), resolves cert/key/CA paths against the config
// file's directory and loads the files (tls_credentials.h checks them).
//
// TLS is on when any of cert_file, key_file, client_ca_file or
// client_auth_type is set (exporter-toolkit's IsEnabled); then cert_file and
// key_file are required, and client_ca_file needs a client_auth_type.
//
// Thread-safety: pure function of its inputs and the files it reads.
// REQUIRES: callers catch YAML::Exception.

#ifndef PSE_EXPORTER_HTTP_WEB_CONFIG_TLS_H_
#define PSE_EXPORTER_HTTP_WEB_CONFIG_TLS_H_

#include <string>

#include "absl/status/status.h"
#include "exporter/http/web_config.h"
#include "exporter/http/web_config_yaml.h"
#include "yaml-cpp/yaml.h"

namespace pse {

// Fills `tls` from `node` (a mapping, or null for defaults). `dir` anchors
// relative paths. Errors name file, line and dotted key.
absl::Status ParseTlsServerConfig(const YamlFieldReader& reader, const YAML::Node& node,
                                  const std::string& dir, TlsServerConfig* tls);

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_WEB_CONFIG_TLS_H_
