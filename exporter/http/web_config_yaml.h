// Internal to the web config parser: turns yaml-cpp nodes into typed values
// the way Go's yaml.v2 decodes exporter-toolkit's structs (strict keys, any
// scalar into a string, YAML 1.1 booleans), with every error naming
// file:line:column and the dotted key ("tls_server_config.cert_file").
//
// Thread-safety: a reader is immutable after construction; it keeps a
// reference to `path`, which must outlive it.
// REQUIRES: callers catch YAML::Exception (node access can throw).

#ifndef PSE_EXPORTER_HTTP_WEB_CONFIG_YAML_H_
#define PSE_EXPORTER_HTTP_WEB_CONFIG_YAML_H_

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "yaml-cpp/yaml.h"

namespace pse {

class YamlFieldReader {
 public:
  explicit YamlFieldReader(const std::string& path) : path_(path) {}

  // InvalidArgument "path:line:col: key \"key\": message" (parts omitted
  // when the mark is null or the key empty).
  absl::Status Error(const YAML::Node& at, const std::string& key,
                     const std::string& message) const;
  absl::Status ErrorAt(const YAML::Mark& mark, const std::string& key,
                       const std::string& message) const;

  // A mapping (or null, meaning empty). Rejects duplicate keys and, when
  // `allowed` is given, unknown ones. `fields` receives (key node, value
  // node) pairs in file order.
  absl::Status Map(const YAML::Node& node, const std::string& key,
                   const std::set<std::string>* allowed,
                   std::vector<std::pair<YAML::Node, YAML::Node>>* fields) const;
  // Any scalar; null is "".
  absl::Status String(const YAML::Node& node, const std::string& key, std::string* out) const;
  // yes/no/on/off/true/false, unquoted; null is false.
  absl::Status Bool(const YAML::Node& node, const std::string& key, bool* out) const;
  // A list of scalars; null is empty.
  absl::Status StringList(const YAML::Node& node, const std::string& key,
                          std::vector<std::string>* out) const;

  // "parent.key", or "key" at the top.
  static std::string Child(const std::string& parent, const std::string& key);

 private:
  static std::string Kind(const YAML::Node& node);

  const std::string& path_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_WEB_CONFIG_YAML_H_
