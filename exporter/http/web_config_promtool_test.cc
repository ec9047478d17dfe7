// Web config tests that need external tools: certificates generated with
// openssl, and `promtool check web-config` as the reference parser. Label
// integration; a missing tool fails the test, naming it.

#include "absl/strings/str_cat.h"
#include "exporter/http/web_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_util.h"

namespace pse {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

// A real bcrypt hash (cost 10) of "test"; promtool checks its format.
constexpr char kHash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = test::MissingTools({"openssl"});
    ASSERT_TRUE(missing.empty()) << missing;
    have_pki_ = test::MakeTestPki(dir_.path());
  }
  std::string Write(const std::string& yaml) { return dir_.Write("web.yml", yaml); }

  TempDir dir_;
  bool have_pki_ = false;
};

struct Case {
  const char* name;
  const char* yaml;
  bool valid;
};

// Each case is checked against our parser and, when promtool is installed,
// against `promtool check web-config`: both must agree with `valid`.
const Case kCases[] = {
    {"empty", "", true},
    {"tls_basic", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n", true},
    {"tls_null", "tls_server_config: null\n", true},
    {"tls_all_keys",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
     "  min_version: TLS12\n  max_version: TLS13\n"
     "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n"
     "  curve_preferences: [X25519, CurveP256]\n  prefer_server_cipher_suites: false\n",
     true},
    {"legacy_require_client_cert",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  client_auth_type: RequireClientCert\n",
     true},
    {"verify_without_ca",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  client_auth_type: RequireAndVerifyClientCert\n",
     true},
    {"unknown_key",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  foo: 1\n", false},
    {"unknown_top_key", "rate_limit:\n  burst: 1\n", false},
    {"bad_client_auth",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  client_auth_type: requireandverifyclientcert\n",
     false},
    {"ca_without_auth",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_ca_file: "
     "ca.pem\n",
     false},
    {"missing_cert_file", "tls_server_config:\n  cert_file: nope.pem\n  key_file: server.key\n",
     false},
    {"missing_ca_file",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: nope.pem\n",
     false},
    {"key_is_cert", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.pem\n", false},
    {"mismatched_key", "tls_server_config:\n  cert_file: server.pem\n  key_file: client.key\n",
     false},
    {"only_key", "tls_server_config:\n  key_file: server.key\n", false},
    {"only_auth_type", "tls_server_config:\n  client_auth_type: NoClientCert\n", false},
    {"bad_tls_version",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  min_version: TLS14\n",
     false},
    {"tls10",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  min_version: TLS10\n  max_version: TLS11\n",
     true},
    {"insecure_cipher",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
     false},
    {"cipher_not_list",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  cipher_suites: TLS_AES_128_GCM_SHA256\n",
     false},
    {"bad_curve",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  curve_preferences: [CurveP999]\n",
     false},
    {"http2_yes", "http_server_config:\n  http2: yes\n", true},
    {"http2_quoted", "http_server_config:\n  http2: \"yes\"\n", false},
    {"headers_ok",
     "http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n"
     "    Strict-Transport-Security: max-age=31536000\n    X-Content-Type-Options: nosniff\n",
     true},
    {"header_not_allowed", "http_server_config:\n  headers:\n    X-Foo: bar\n", false},
    {"header_bad_value", "http_server_config:\n  headers:\n    X-Frame-Options: DENY\n", false},
    {"user_ok", "basic_auth_users:\n  alice: HASH\n", true},
    {"user_numeric_name", "basic_auth_users:\n  1: HASH\n", true},
    {"user_not_bcrypt", "basic_auth_users:\n  alice: secret\n", false},
    {"user_null_hash", "basic_auth_users:\n  alice:\n", false},
    {"user_cost_3",
     "basic_auth_users:\n  alice: $2y$03$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi\n",
     false},
    {"user_version_3",
     "basic_auth_users:\n  alice: $3y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi\n",
     false},
    {"user_duplicate", "basic_auth_users:\n  alice: HASH\n  alice: HASH\n", false},
    {"users_list", "basic_auth_users:\n  - alice\n", false},
    {"top_list", "- a\n", false},
    {"tls_scalar", "tls_server_config: 5\n", false},
    {"bad_yaml", "tls_server_config:\n  cert_file: [\n", false},
};

TEST_F(WebConfigTest, AgreesWithPromtool) {
  const std::string missing = test::MissingTools({"promtool"});
  ASSERT_TRUE(missing.empty()) << missing;
  ASSERT_TRUE(have_pki_) << "openssl is needed to generate the test certificates";
  for (const Case& c : kCases) {
    std::string yaml = c.yaml;
    for (size_t pos; (pos = yaml.find("HASH")) != std::string::npos;) yaml.replace(pos, 4, kHash);
    std::string path = Write(yaml);
    absl::StatusOr<WebConfig> ours = LoadWebConfig(path);
    EXPECT_EQ(ours.ok(), c.valid) << c.name << ": " << ours.status();
    test::CommandResult promtool = test::Run({"promtool", "check", "web-config", path});
    EXPECT_EQ(promtool.exit_code == 0, c.valid)
        << c.name << ": promtool says " << promtool.out << promtool.err;
  }
}

TEST_F(WebConfigTest, ParsesValuesAndResolvesRelativePaths) {
  ASSERT_TRUE(have_pki_);
  std::string path = Write(absl::StrCat(
      "tls_server_config:\n  cert_file: server.pem\n  key_file: ", dir_.path(),
      "/server.key\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n"
      "  min_version: TLS13\n  curve_preferences: [X25519]\n"
      "http_server_config:\n  http2: false\n  headers:\n    X-Content-Type-Options: nosniff\n"
      "basic_auth_users:\n  alice: ",
      kHash, "\n"));
  absl::StatusOr<WebConfig> c = LoadWebConfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls.enabled);
  EXPECT_EQ(c->tls.cert_file, dir_.path() + "/server.pem");
  EXPECT_EQ(c->tls.key_file, dir_.path() + "/server.key");
  EXPECT_EQ(c->tls.client_ca_file, dir_.path() + "/ca.pem");
  EXPECT_EQ(c->tls.client_ca_count, 1);
  EXPECT_THAT(c->tls.client_ca_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(c->tls.cert_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_EQ(c->tls.client_auth, ClientAuthType::kVerifyClientCertIfGiven);
  EXPECT_EQ(c->tls.min_version, TlsVersion::kTls13);
  EXPECT_EQ(c->tls.max_version, TlsVersion::kTls13);
  EXPECT_EQ(c->tls.curve_preferences, std::vector<std::string>{"X25519"});
  EXPECT_FALSE(c->http.http2);
  ASSERT_EQ(c->http.headers.size(), 1u);
  EXPECT_EQ(c->http.headers[0].first, "X-Content-Type-Options");
  EXPECT_EQ(c->basic_auth_users.at("alice"), kHash);
}

}  // namespace
}  // namespace pse
