#include "exporter/http/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exporter/http/process_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "testing/http_util.h"

namespace pse {
namespace {

using test::Connect;
using test::HttpResponse;
using test::Request;
using ::testing::HasSubstr;
using ::testing::Not;

using test::SendAll;
using test::TempDir;

constexpr char kMetricsType[] = "text/plain; version=0.0.4; charset=utf-8";

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : registry_(std::make_shared<prometheus::Registry>()) {
    prometheus::BuildCounter()
        .Name("test_events_total")
        .Help("Events seen by the test.")
        .Register(*registry_)
        .Add({{"kind", "a"}})
        .Increment(42);
    options_.listen_addresses = {"127.0.0.1:0"};
  }

  std::unique_ptr<HttpServer> StartServer() {
    auto server = HttpServer::Start(options_, {registry_}, [this] { return ready_.load(); });
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    port_ = (*server)->BoundPorts().at(0);
    return std::move(*server);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  HttpOptions options_;
  std::atomic<bool> ready_{true};
  int port_ = 0;
};

TEST_F(HttpServerTest, MetricsHaveExactContentTypeAndBody) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_NE(port_, 0);
  HttpResponse r = Request(port_, "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], kMetricsType);
  EXPECT_EQ(r.headers.count("content-encoding"), 0u);
  EXPECT_THAT(r.body, HasSubstr("# TYPE test_events_total counter"));
  EXPECT_THAT(r.body, HasSubstr("test_events_total{kind=\"a\"} 42"));
}

TEST_F(HttpServerTest, GzipWhenAskedAndOnlyThen) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse plain = Request(port_, "GET", "/metrics");
  HttpResponse gz = Request(port_, "GET", "/metrics", {"Accept-Encoding: deflate, gzip;q=0.5"});
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.headers["content-encoding"], "gzip");
  EXPECT_EQ(gz.headers["content-type"], kMetricsType);
  EXPECT_EQ(test::Gunzip(gz.body), plain.body);
  HttpResponse refused = Request(port_, "GET", "/metrics", {"Accept-Encoding: gzip;q=0, *"});
  EXPECT_EQ(refused.headers.count("content-encoding"), 0u);
  EXPECT_EQ(refused.body, plain.body);
  HttpResponse other = Request(port_, "GET", "/metrics", {"Accept-Encoding: br"});
  EXPECT_EQ(other.headers.count("content-encoding"), 0u);
}

TEST_F(HttpServerTest, LandingPageLinksToTelemetryPath) {
  options_.telemetry_path = "/custom-metrics";
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse r = Request(port_, "GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("<a href=\"/custom-metrics\">"));
  EXPECT_EQ(Request(port_, "GET", "/custom-metrics").status, 200);
  EXPECT_EQ(Request(port_, "GET", "/metrics").status, 404);
}

TEST_F(HttpServerTest, HealthyAndReady) {
  ready_ = false;
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse healthy = Request(port_, "GET", "/-/healthy");
  EXPECT_EQ(healthy.status, 200);
  EXPECT_EQ(healthy.body, "OK\n");
  EXPECT_EQ(Request(port_, "GET", "/-/ready").status, 503);
  ready_ = true;
  EXPECT_EQ(Request(port_, "GET", "/-/ready").status, 200);
}

TEST_F(HttpServerTest, UnknownPathIs404) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Request(port_, "GET", "/nope").status, 404);
  EXPECT_EQ(Request(port_, "GET", "/metrics/extra").status, 404);
}

TEST_F(HttpServerTest, OtherMethodsAre405WithAllow) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse post = test::RawRequest(
      port_,
      "POST /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
  for (const char* method : {"PUT", "DELETE", "OPTIONS", "PATCH", "BREW"}) {
    HttpResponse r = Request(port_, method, "/metrics");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.headers["allow"], "GET, HEAD") << method;
  }
  // The server still serves after an unwanted upload.
  EXPECT_EQ(Request(port_, "GET", "/metrics").status, 200);
}

TEST_F(HttpServerTest, HeadSendsHeadersWithoutBody) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse get = Request(port_, "GET", "/metrics");
  HttpResponse head = Request(port_, "HEAD", "/metrics");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-type"], kMetricsType);
  EXPECT_EQ(head.headers["content-length"], std::to_string(get.body.size()));
  EXPECT_EQ(head.body, "");
}

TEST_F(HttpServerTest, OverLongHeaderIs431) {
  options_.max_header_bytes = 16384;
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  HttpResponse fits = Request(port_, "GET", "/metrics", {"X-Padding: " + std::string(8000, 'a')});
  EXPECT_EQ(fits.status, 200);
  HttpResponse too_long =
      Request(port_, "GET", "/metrics", {"X-Padding: " + std::string(64 * 1024, 'a')});
  EXPECT_EQ(too_long.status, 431) << too_long.raw.substr(0, 200);
  EXPECT_EQ(Request(port_, "GET", "/metrics").status, 200);
}

TEST_F(HttpServerTest, IdleConnectionsDoNotStarveAScrape) {
  options_.max_connections = 8;
  options_.threads = 2;
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  // Slowloris: connections that sent part of a request and then stay quiet.
  std::vector<int> idle;
  for (int i = 0; i < 6; ++i) {
    int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: "));
    idle.push_back(fd);
  }
  HttpResponse r = Request(port_, "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("test_events_total"));
  for (int fd : idle) close(fd);
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterTimeout) {
  options_.request_timeout = absl::Seconds(1);
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  int fd = Connect(port_);  // 30 s receive timeout: the bound of this test
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  int err = errno;
  close(fd);
  // Closed by the server (EOF or reset), not our receive timeout.
  EXPECT_TRUE(n == 0 || (n < 0 && err == ECONNRESET)) << "n=" << n << " errno=" << err;
}

// Reads one response with a Content-Length from a kept-alive connection.
std::string ReadOneResponse(int fd) {
  std::string raw;
  char buf[4096];
  for (;;) {
    size_t end = raw.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t cl = raw.find("Content-Length: ");
      if (cl == std::string::npos) cl = raw.find("content-length: ");
      if (cl != std::string::npos && cl < end) {
        size_t length = std::stoul(raw.substr(cl + 16));
        if (raw.size() >= end + 4 + length) return raw;
      }
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return raw;
    raw.append(buf, static_cast<size_t>(n));
  }
}

TEST_F(HttpServerTest, ConnectionLimitIsEnforced) {
  options_.max_connections = 2;
  options_.threads = 1;
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string keep_alive = "GET /-/healthy HTTP/1.1\r\nHost: t\r\n\r\n";
  // Two kept-alive connections, each proven accepted by a served request.
  int a = Connect(port_), b = Connect(port_);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (int fd : {a, b}) {
    ASSERT_TRUE(SendAll(fd, keep_alive));
    ASSERT_TRUE(absl::StartsWith(ReadOneResponse(fd), "HTTP/1.1 200"));
  }
  // A third is not served while both slots are held.
  int c = Connect(port_);
  ASSERT_GE(c, 0);
  timeval tv{2, 0};  // bounds the negative check only; no timing is asserted
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  SendAll(c, "GET /-/healthy HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(absl::StartsWith(ReadOneResponse(c), "HTTP/1.1 200"));
  close(c);
  // Freeing a slot lets new clients in.
  close(a);
  EXPECT_EQ(Request(port_, "GET", "/-/healthy").status, 200);
  close(b);
}

// Regression: an inactivity timeout alone let a client trickling one header
// byte at a time keep its connection forever.
TEST_F(HttpServerTest, TricklingHeaderIsCutAtReadHeaderTimeout) {
  options_.read_header_timeout = absl::Milliseconds(500);
  options_.request_timeout = absl::Seconds(60);
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  // One byte every 100 ms, far inside the inactivity timeout, until the
  // server hangs up; 300 rounds (30 s) bound the test.
  bool closed = false;
  for (int round = 0; round < 300 && !closed; ++round) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[256];
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      closed = n == 0 || (n < 0 && errno == ECONNRESET);
      break;
    }
    if (send(fd, "a", 1, MSG_NOSIGNAL) != 1) closed = true;
  }
  close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(server->connection_stats().header_timeouts, 1u);
}

TEST_F(HttpServerTest, LongIdleKeptAliveConnectionGivesWayToANewcomer) {
  options_.max_connections = 1;
  options_.threads = 1;
  options_.read_header_timeout = absl::Milliseconds(200);
  options_.request_timeout = absl::Seconds(60);
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  int kept = Connect(port_);
  ASSERT_GE(kept, 0);
  ASSERT_TRUE(SendAll(kept, "GET /-/healthy HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(absl::StartsWith(ReadOneResponse(kept), "HTTP/1.1 200"));
  // Let the kept-alive connection be idle longer than read_header_timeout.
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_EQ(Request(port_, "GET", "/-/healthy").status, 200);
  EXPECT_EQ(server->connection_stats().evicted, 1u);
  // The server closed the kept-alive connection to make room.
  char buf[64];
  ssize_t n = recv(kept, buf, sizeof(buf), 0);
  const int err = errno;
  EXPECT_TRUE(n == 0 || (n < 0 && err == ECONNRESET)) << "n=" << n << " errno=" << err;
  close(kept);
}

TEST_F(HttpServerTest, ExpiredCollectableIsSkipped) {
  auto gone = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("gone_total").Help("x").Register(*gone).Add({});
  std::weak_ptr<prometheus::Collectable> weak = gone;
  gone.reset();
  auto server = HttpServer::Start(options_, {weak, registry_}, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpResponse r = Request((*server)->BoundPorts()[0], "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, Not(HasSubstr("gone_total")));
  EXPECT_THAT(r.body, HasSubstr("test_events_total"));
  EXPECT_EQ(Request((*server)->BoundPorts()[0], "GET", "/-/ready").status, 200);
}

TEST_F(HttpServerTest, ProcessMetricsAreServed) {
  auto process = std::make_shared<ProcessCollector>();
  auto server = HttpServer::Start(options_, {registry_, process}, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpResponse r = Request((*server)->BoundPorts()[0], "GET", "/metrics");
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds", "process_threads"}) {
    EXPECT_THAT(r.body, HasSubstr(absl::StrCat("\n", name, " "))) << name;
  }
}

TEST_F(HttpServerTest, ServesOnEveryListenAddress) {
  options_.listen_addresses = {"127.0.0.1:0", "localhost:0", ":0"};
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<int> ports = server->BoundPorts();
  ASSERT_EQ(ports.size(), 3u);
  for (int port : ports) {
    EXPECT_NE(port, 0);
    EXPECT_EQ(Request(port, "GET", "/-/healthy").status, 200) << port;
  }
  // ":port" is dual-stack when the host has IPv6 loopback.
  int v6 = Connect(ports[2], "::1");
  if (v6 >= 0) {
    close(v6);
    EXPECT_EQ(Request(ports[2], "GET", "/-/healthy", {}, "::1").status, 200);
  }
}

TEST_F(HttpServerTest, Ipv6LiteralAddress) {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  if (probe < 0) GTEST_SKIP() << "no IPv6";
  close(probe);
  options_.listen_addresses = {"[::1]:0"};
  auto server = HttpServer::Start(options_, {registry_}, nullptr);
  if (!server.ok() && absl::StrContains(server.status().message(), "bind")) {
    GTEST_SKIP() << "no IPv6 loopback: " << server.status();
  }
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(Request((*server)->BoundPorts()[0], "GET", "/-/healthy", {}, "::1").status, 200);
}

TEST_F(HttpServerTest, BadListenAddressesNameTheAddress) {
  for (const char* bad : {"nonsense", "127.0.0.1:99999", "127.0.0.1:http", "[::1", "::1:80",
                          "127.0.0.1:", "no-such-host.invalid:9154"}) {
    options_.listen_addresses = {bad};
    auto server = HttpServer::Start(options_, {registry_}, nullptr);
    ASSERT_FALSE(server.ok()) << bad;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(server.status().message()), HasSubstr(bad));
  }
}

TEST_F(HttpServerTest, PortInUseNamesTheAddress) {
  auto first = StartServer();
  ASSERT_NE(first, nullptr);
  const std::string taken = absl::StrCat("127.0.0.1:", port_);
  options_.listen_addresses = {"127.0.0.1:0", taken};
  auto second = HttpServer::Start(options_, {registry_}, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(taken));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
  // The first server is untouched.
  EXPECT_EQ(Request(port_, "GET", "/-/healthy").status, 200);
}

TEST_F(HttpServerTest, BadTelemetryPathIsRejected) {
  options_.telemetry_path = "metrics";
  auto server = HttpServer::Start(options_, {registry_}, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("\"metrics\""));
}

TEST_F(HttpServerTest, StopClosesTheListener) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Stop();
  server->Stop();  // idempotent
  EXPECT_LT(Connect(port_), 0);
}

TEST_F(HttpServerTest, MissingWebConfigFileFailsStart) {
  options_.web_config_file = "/nonexistent/web.yml";
  auto server = HttpServer::Start(options_, {registry_}, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("/nonexistent/web.yml"));
}

TEST_F(HttpServerTest, BadTlsMaterialFailsStartAndFreesThePort) {
  WebConfig web;
  web.path = "web.yml";
  web.tls.enabled = true;
  web.tls.cert_pem = "not a certificate";
  web.tls.key_pem = "not a key";
  auto first = StartServer();  // only to learn a free port
  ASSERT_NE(first, nullptr);
  first->Stop();
  const std::string address = absl::StrCat("127.0.0.1:", port_);
  options_.listen_addresses = {address};
  auto server = HttpServer::Start(options_, web, {registry_}, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr(address));
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("web.yml"));
  // Nothing is left listening: the same address binds again.
  auto again = HttpServer::Start(options_, {registry_}, nullptr);
  EXPECT_TRUE(again.ok()) << again.status();
}

// --- basic auth -------------------------------------------------------------

class BasicAuthServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    hash_ = test::BcryptHash("s3cret");
    ASSERT_FALSE(hash_.empty());
    options_.web_config_file =
        dir_.Write("web.yml", absl::StrCat("basic_auth_users:\n  prometheus: ", hash_,
                                           "\nhttp_server_config:\n  headers:\n"
                                           "    X-Frame-Options: deny\n"));
    server_ = StartServer();
    ASSERT_NE(server_, nullptr);
  }

  static std::string Auth(const std::string& user, const std::string& password) {
    return "Authorization: Basic " + absl::Base64Escape(user + ":" + password);
  }

  TempDir dir_;
  std::string hash_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(BasicAuthServerTest, NoCredentialsIs401WithChallenge) {
  HttpResponse r = Request(port_, "GET", "/metrics");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["www-authenticate"], "Basic");
  EXPECT_THAT(r.body, Not(HasSubstr("test_events_total")));
  EXPECT_EQ(Request(port_, "GET", "/-/healthy").status, 401);
}

TEST_F(BasicAuthServerTest, WrongPasswordIs401) {
  HttpResponse r = Request(port_, "GET", "/metrics", {Auth("prometheus", "wrong")});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["www-authenticate"], "Basic");
  EXPECT_EQ(Request(port_, "GET", "/metrics", {Auth("nobody", "s3cret")}).status, 401);
  EXPECT_EQ(Request(port_, "GET", "/metrics", {"Authorization: Bearer abc"}).status, 401);
}

TEST_F(BasicAuthServerTest, RightPasswordIsServedAndCached) {
  const uint64_t before = server_->bcrypt_calls();
  HttpResponse first = Request(port_, "GET", "/metrics", {Auth("prometheus", "s3cret")});
  EXPECT_EQ(first.status, 200);
  EXPECT_THAT(first.body, HasSubstr("test_events_total"));
  EXPECT_EQ(first.headers["x-frame-options"], "deny");
  EXPECT_EQ(server_->bcrypt_calls(), before + 1);
  HttpResponse second = Request(port_, "GET", "/metrics", {Auth("prometheus", "s3cret")});
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(server_->bcrypt_calls(), before + 1) << "second scrape paid bcrypt again";
  // A wrong password is never served from the cache.
  EXPECT_EQ(Request(port_, "GET", "/metrics", {Auth("prometheus", "s3cretX")}).status, 401);
  EXPECT_EQ(server_->bcrypt_calls(), before + 2);
}

}  // namespace
}  // namespace pse
