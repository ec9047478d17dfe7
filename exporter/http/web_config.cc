#include "exporter/http/web_config.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "exporter/http/web_config_tls.h"
#include "exporter/http/web_config_yaml.h"
#include "exporter/util/fs_util.h"
#include "yaml-cpp/yaml.h"

namespace pse {
namespace {

absl::Status CheckHeader(const YamlFieldReader& r, const YAML::Node& at, const std::string& key,
                         const std::string& name, const std::string& value) {
  static const std::set<std::string> kAllowed = {"Strict-Transport-Security",
                                                 "X-Content-Type-Options", "X-Frame-Options",
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

absl::Status ParseHttp(const YamlFieldReader& r, const YAML::Node& node, HttpServerConfig* http) {
  static const std::set<std::string> kAllowed = {"http2", "headers"};
  const std::string section = "http_server_config";
  std::vector<std::pair<YAML::Node, YAML::Node>> fields;
  absl::Status st = r.Map(node, section, &kAllowed, &fields);
  if (!st.ok()) return st;
  for (const auto& [k, v] : fields) {
    const std::string name = k.Scalar();
    const std::string key = YamlFieldReader::Child(section, name);
    if (name == "http2") {
      st = r.Bool(v, key, &http->http2);
    } else if (name == "headers") {
      std::vector<std::pair<YAML::Node, YAML::Node>> headers;
      st = r.Map(v, key, nullptr, &headers);
      for (size_t i = 0; st.ok() && i < headers.size(); ++i) {
        std::string header = headers[i].first.IsScalar() ? headers[i].first.Scalar() : "";
        std::string hkey = YamlFieldReader::Child(key, header);
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

absl::Status ParseUsers(const YamlFieldReader& r, const YAML::Node& node,
                        std::map<std::string, std::string>* users) {
  const std::string section = "basic_auth_users";
  std::vector<std::pair<YAML::Node, YAML::Node>> fields;
  absl::Status st = r.Map(node, section, nullptr, &fields);
  if (!st.ok()) return st;
  for (const auto& [k, v] : fields) {
    std::string user = k.IsScalar() ? k.Scalar() : "";
    std::string key = YamlFieldReader::Child(section, user);
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
    return absl::InvalidArgumentError(absl::StrCat(
        "not a bcrypt hash: must start with '$', starts with '", hash.substr(0, 1), "'"));
  }
  if (hash[1] > '2') {
    return absl::InvalidArgumentError(absl::StrCat("bcrypt algorithm version '", hash.substr(1, 1),
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
    if (!absl::ascii_isdigit(static_cast<unsigned char>(cost_text[i])))
      ok = false;
    else
      cost = cost * 10 + (cost_text[i] - '0');
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

absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml, const std::string& path) {
  YamlFieldReader r(path);
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
    const std::string dir = ParentDirectory(path);
    for (const auto& [k, v] : fields) {
      const std::string name = k.Scalar();
      if (name == "tls_server_config")
        st = ParseTlsServerConfig(r, v, dir, &config.tls);
      else if (name == "http_server_config")
        st = ParseHttp(r, v, &config.http);
      else if (name == "basic_auth_users")
        st = ParseUsers(r, v, &config.basic_auth_users);
      if (!st.ok()) return st;
    }
  } catch (const YAML::Exception& e) {
    return r.ErrorAt(e.mark, "", absl::StrCat("invalid web config: ", e.msg));
  }
  return config;
}

absl::StatusOr<WebConfig> LoadWebConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) {
    absl::string_view reason = text.status().message();
    absl::ConsumePrefix(&reason, path + ": ");
    return absl::Status(text.status().code(),
                        absl::StrCat(path, ": cannot read web config: ", reason));
  }
  return ParseWebConfig(*text, path);
}

}  // namespace pse
