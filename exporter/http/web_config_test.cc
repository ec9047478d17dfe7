#include "exporter/http/web_config.h"

#include "absl/strings/str_cat.h"
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
  std::string Write(const std::string& yaml) { return dir_.Write("web.yml", yaml); }

  TempDir dir_;
};

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
  EXPECT_FALSE(
      CheckBcryptHash("x2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
  EXPECT_FALSE(
      CheckBcryptHash("$2y$32$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
  EXPECT_FALSE(
      CheckBcryptHash("$2y$1x$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi").ok());
}

}  // namespace
}  // namespace pse
