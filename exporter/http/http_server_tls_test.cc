// HTTP server tests that need external tools: TLS through curl with a test
// PKI made by openssl, and promtool on the served exposition text. Label
// integration; a missing tool fails the test, naming it.

#include <fstream>
#include <iterator>
#include <memory>

#include "absl/strings/str_cat.h"
#include "exporter/http/http_server.h"
#include "exporter/http/process_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "testing/http_util.h"

namespace pse {
namespace {

using test::HttpResponse;
using test::Request;
using test::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

class HttpServerToolTest : public ::testing::Test {
 protected:
  HttpServerToolTest() : registry_(std::make_shared<prometheus::Registry>()) {
    prometheus::BuildCounter()
        .Name("test_events_total")
        .Help("Events seen by the test.")
        .Register(*registry_)
        .Add({{"kind", "a"}})
        .Increment(42);
    options_.listen_addresses = {"127.0.0.1:0"};
  }

  std::unique_ptr<HttpServer> StartServer() {
    auto server = HttpServer::Start(options_, {registry_}, nullptr);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    port_ = (*server)->BoundPorts().at(0);
    return std::move(*server);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  HttpOptions options_;
  int port_ = 0;
};

TEST_F(HttpServerToolTest, ProcessMetricsPassPromtool) {
  const std::string missing = test::MissingTools({"promtool"});
  ASSERT_TRUE(missing.empty()) << missing;
  auto process = std::make_shared<ProcessCollector>();
  auto server = HttpServer::Start(options_, {registry_, process}, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpResponse r = Request((*server)->BoundPorts()[0], "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  TempDir dir;
  std::string file = dir.Write("metrics.prom", r.body);
  test::CommandResult check = test::Run({"sh", "-c", "promtool check metrics < '" + file + "'"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

// --- TLS --------------------------------------------------------------------

class TlsServerTest : public HttpServerToolTest {
 protected:
  void SetUp() override {
    const std::string missing = test::MissingTools({"openssl", "curl"});
    ASSERT_TRUE(missing.empty()) << missing;
    ASSERT_TRUE(test::MakeTestPki(dir_.path()));
  }

  void StartWith(const std::string& tls_extra) {
    options_.web_config_file = dir_.Write(
        "web.yml",
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n" + tls_extra);
    server_ = StartServer();
    ASSERT_NE(server_, nullptr);
    ASSERT_TRUE(server_->tls());
  }

  // curl exit code and, when it is 0, the HTTP status.
  std::pair<int, std::string> Curl(const std::string& path, const std::string& client = "",
                                   const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"curl",       "-sS",
                                     "--max-time", "20",
                                     "--cacert",   dir_.path() + "/ca.pem",
                                     "-o",         dir_.path() + "/body",
                                     "-w",         "%{http_code}"};
    if (!client.empty()) {
      argv.insert(argv.end(), {"--cert", dir_.path() + "/" + client + ".pem", "--key",
                               dir_.path() + "/" + client + ".key"});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(absl::StrCat("https://127.0.0.1:", port_, path));
    test::CommandResult r = test::Run(argv);
    return {r.exit_code, r.out};
  }

  TempDir dir_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsServerTest, ScrapeOverTls) {
  StartWith("");
  auto [rc, status] = Curl("/metrics");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(status, "200");
  std::ifstream body(dir_.path() + "/body");
  std::string text((std::istreambuf_iterator<char>(body)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("test_events_total{kind=\"a\"} 42"));
}

TEST_F(TlsServerTest, PlainHttpToTlsPortFailsCleanly) {
  StartWith("");
  HttpResponse r = Request(port_, "GET", "/metrics");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.raw, Not(HasSubstr("test_events_total")));
  // The listener is unharmed.
  EXPECT_EQ(Curl("/-/healthy").second, "200");
}

TEST_F(TlsServerTest, RequireAndVerifyClientCert) {
  StartWith("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n");
  EXPECT_NE(Curl("/metrics").first, 0) << "served without a client certificate";
  EXPECT_NE(Curl("/metrics", "rogue").first, 0) << "served an untrusted client certificate";
  auto [rc, status] = Curl("/metrics", "client");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(status, "200");
}

TEST_F(TlsServerTest, RequireAnyClientCertDoesNotVerify) {
  StartWith("  client_auth_type: RequireAnyClientCert\n");
  EXPECT_NE(Curl("/metrics").first, 0);
  EXPECT_EQ(Curl("/metrics", "rogue").second, "200");
}

TEST_F(TlsServerTest, VerifyClientCertIfGiven) {
  StartWith("  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n");
  EXPECT_EQ(Curl("/metrics").second, "200");
  EXPECT_EQ(Curl("/metrics", "client").second, "200");
  EXPECT_NE(Curl("/metrics", "rogue").first, 0);
}

TEST_F(TlsServerTest, MinVersionIsEnforced) {
  StartWith("  min_version: TLS13\n");
  EXPECT_NE(Curl("/metrics", "", {"--tls-max", "1.2"}).first, 0);
  EXPECT_EQ(Curl("/metrics", "", {"--tlsv1.3"}).second, "200");
}

TEST_F(TlsServerTest, TlsWithBasicAuth) {
  const std::string hash = test::BcryptHash("pw");
  StartWith("basic_auth_users:\n  admin: " + hash + "\n");
  EXPECT_EQ(Curl("/metrics").second, "401");
  EXPECT_EQ(Curl("/metrics", "", {"-u", "admin:pw"}).second, "200");
}

}  // namespace
}  // namespace pse
