#include "exporter/http/web_config.h"

#include "absl/strings/str_cat.h"
#include "testing/http_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

using ::testing::HasSubstr;
using test::TempDir;

// A real bcrypt hash (cost 10) of "test"; promtool checks its format.
constexpr char kHash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    have_pki_ = test::HaveCommand("openssl") && test::MakeTestPki(dir_.path());
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
    {"unknown_key", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  foo: 1\n",
     false},
    {"unknown_top_key", "rate_limit:\n  burst: 1\n", false},
    {"bad_client_auth",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
     "  client_auth_type: requireandverifyclientcert\n",
     false},
    {"ca_without_auth",
     "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_ca_file: ca.pem\n",
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
    {"tls10", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
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
  ASSERT_TRUE(have_pki_) << "openssl is needed to generate the test certificates";
  const bool have_promtool = test::HaveCommand("promtool");
  for (const Case& c : kCases) {
    std::string yaml = c.yaml;
    for (size_t pos; (pos = yaml.find("HASH")) != std::string::npos;) yaml.replace(pos, 4, kHash);
    std::string path = Write(yaml);
    absl::StatusOr<WebConfig> ours = LoadWebConfig(path);
    EXPECT_EQ(ours.ok(), c.valid) << c.name << ": " << ours.status();
    if (have_promtool) {
      test::CommandResult promtool =
          test::Run({"promtool", "check", "web-config", path});
      EXPECT_EQ(promtool.exit_code == 0, c.valid)
          << c.name << ": promtool says " << promtool.out << promtool.err;
    }
  }
  if (!have_promtool) GTEST_SKIP() << "promtool not installed: checked against the table only";
}

TEST_F(WebConfigTest, UnknownKeyNamesFileLineAndKey) {
  std::string path = Write("tls_server_config:\n  cert_file: a\n  client_auth_typ: x\n");
  absl::StatusOr<WebConfig> c = LoadWebConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(path + ":3:3:"));
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("\"tls_server_config.client_auth_typ\""));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("unknown key"));
}

TEST_F(WebConfigTest, BadClientAuthTypeNamesLineAndKey) {
  std::string path = Write(
      "# comment\ntls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n");
  absl::StatusOr<WebConfig> c = LoadWebConfig(path);
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr(path + ":5:"));
  EXPECT_THAT(m, HasSubstr("tls_server_config.client_auth_type"));
  EXPECT_THAT(m, HasSubstr("\"Always\""));
}

TEST_F(WebConfigTest, MissingCertFileNamesPathLineAndKey) {
  std::string path =
      Write("tls_server_config:\n  cert_file: missing.pem\n  key_file: missing.key\n");
  absl::StatusOr<WebConfig> c = LoadWebConfig(path);
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr(path + ":2:"));
  EXPECT_THAT(m, HasSubstr("tls_server_config.cert_file"));
  EXPECT_THAT(m, HasSubstr(dir_.path() + "/missing.pem"));
}

TEST_F(WebConfigTest, WrongTypeNamesKey) {
  std::string path = Write("http_server_config:\n  http2: maybe\n");
  absl::StatusOr<WebConfig> c = LoadWebConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(path + ":2:10:"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("http_server_config.http2"));
}

TEST_F(WebConfigTest, BadBcryptHashNamesUser) {
  std::string path = Write("basic_auth_users:\n  alice: plaintext\n");
  absl::StatusOr<WebConfig> c = LoadWebConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(path + ":2:10:"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("basic_auth_users.alice"));
}

TEST_F(WebConfigTest, SyntaxErrorNamesLine) {
  std::string path = Write("tls_server_config:\n  cert_file: a: b\n");
  absl::StatusOr<WebConfig> c = LoadWebConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(path + ":2:"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("invalid YAML"));
}

TEST_F(WebConfigTest, UnreadableFileNamesIt) {
  absl::StatusOr<WebConfig> c = LoadWebConfig(dir_.path() + "/absent.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(dir_.path() + "/absent.yml"));
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

TEST_F(WebConfigTest, NoTlsKeysMeansPlainHttp) {
  absl::StatusOr<WebConfig> c = ParseWebConfig("basic_auth_users: {}\n", "mem.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->tls.enabled);
  EXPECT_TRUE(c->basic_auth_users.empty());
}

TEST(BcryptHashCheckTest, MirrorsGoBcryptCost) {
  EXPECT_TRUE(CheckBcryptHash(kHash).ok());
  EXPECT_TRUE(CheckBcryptHash("$2b$04$abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzA").ok());
  EXPECT_FALSE(CheckBcryptHash("$2y$10$short").ok());
  EXPECT_FALSE(CheckBcryptHash("x2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
  EXPECT_FALSE(CheckBcryptHash("$2y$32$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
  EXPECT_FALSE(CheckBcryptHash("$2y$1x$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
}

}  // namespace
}  // namespace pse
