#include "exporter/http/web_config_yaml.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pse {

absl::Status YamlFieldReader::Error(const YAML::Node& at, const std::string& key,
                                    const std::string& message) const {
  return ErrorAt(at.Mark(), key, message);
}

absl::Status YamlFieldReader::ErrorAt(const YAML::Mark& mark, const std::string& key,
                                      const std::string& message) const {
  std::string where = path_;
  if (!mark.is_null()) absl::StrAppend(&where, ":", mark.line + 1, ":", mark.column + 1);
  if (key.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
  return absl::InvalidArgumentError(absl::StrCat(where, ": key \"", key, "\": ", message));
}

absl::Status YamlFieldReader::Map(const YAML::Node& node, const std::string& key,
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
    if (!k.IsScalar() && !k.IsNull()) return Error(k, child, "a key must be a scalar");
    std::string name = k.IsScalar() ? k.Scalar() : "";
    if (!seen.insert(name).second) {
      return Error(k, child, "duplicate key (already set in this mapping)");
    }
    if (allowed != nullptr && allowed->count(name) == 0) {
      return Error(k, child, absl::StrCat("unknown key; allowed: ", absl::StrJoin(*allowed, ", ")));
    }
    fields->emplace_back(it->first, it->second);
  }
  return absl::OkStatus();
}

absl::Status YamlFieldReader::String(const YAML::Node& node, const std::string& key,
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

absl::Status YamlFieldReader::Bool(const YAML::Node& node, const std::string& key,
                                   bool* out) const {
  if (node.IsNull()) {
    *out = false;
    return absl::OkStatus();
  }
  bool value = false;
  // A quoted scalar carries the "!" tag: yaml.v2 refuses "yes" in quotes.
  if (!node.IsScalar() || node.Tag() == "!" || !YAML::convert<bool>::decode(node, value)) {
    return Error(node, key,
                 absl::StrCat("expected a boolean (true/false), got ",
                              node.IsScalar() ? "\"" + node.Scalar() + "\"" : Kind(node)));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status YamlFieldReader::StringList(const YAML::Node& node, const std::string& key,
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

std::string YamlFieldReader::Child(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : absl::StrCat(parent, ".", key);
}

std::string YamlFieldReader::Kind(const YAML::Node& node) {
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

}  // namespace pse
