// Connection-exhaustion tests: thousands of silent or slowloris connections
// on loopback against one server, and a scrape that must still be answered.
// Label reliability. Bounded: every socket has a 30 s receive timeout and the
// slowloris sender stops when the test ends. No timing is asserted; the
// request and read-header timeouts are set far above the receive timeout, so
// only the admission policy (not a timeout) can let the scrape through.

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "exporter/http/http_server.h"
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
using test::SendAll;
using ::testing::HasSubstr;

// Sends one byte a second to each socket until destroyed, as a slowloris
// client writing its request header does.
class Trickler {
 public:
  explicit Trickler(std::vector<int> fds) : fds_(std::move(fds)), thread_([this] { Run(); }) {}
  ~Trickler() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
      for (int fd : fds_) send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }

  std::vector<int> fds_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

class ConnectionFloodTest : public ::testing::Test {
 protected:
  ConnectionFloodTest() : registry_(std::make_shared<prometheus::Registry>()) {
    prometheus::BuildCounter()
        .Name("test_events_total")
        .Help("Events seen by the test.")
        .Register(*registry_)
        .Add({})
        .Increment(7);
    options_.listen_addresses = {"127.0.0.1:0"};
    // Far beyond the client's 30 s receive timeout: neither timeout can be
    // what frees a slot for the scrape.
    options_.read_header_timeout = absl::Seconds(120);
    options_.request_timeout = absl::Seconds(120);
  }

  ~ConnectionFloodTest() override {
    for (int fd : held_) close(fd);
  }

  void StartServer() {
    auto server = HttpServer::Start(options_, {registry_}, nullptr);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    port_ = server_->BoundPorts().at(0);
  }

  // Room for the client ends of every connection in this process as well.
  static void RaiseFileLimit(size_t needed) {
    rlimit limit;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      setrlimit(RLIMIT_NOFILE, &limit);
    }
    ASSERT_GE(limit.rlim_cur, needed) << "open-file hard limit too low for this test";
  }

  // `count` connections that send `prefix` (possibly nothing) and then hold.
  void Hold(int count, const std::string& prefix, std::vector<int>* fds) {
    for (int i = 0; i < count; ++i) {
      int fd = Connect(port_);
      ASSERT_GE(fd, 0) << "connection " << i;
      // Evicted sockets are reset by the server; a failed send is expected.
      if (!prefix.empty()) send(fd, prefix.data(), prefix.size(), MSG_NOSIGNAL);
      held_.push_back(fd);
      if (fds != nullptr) fds->push_back(fd);
    }
  }

  std::shared_ptr<prometheus::Registry> registry_;
  HttpOptions options_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::vector<int> held_;
};

TEST_F(ConnectionFloodTest, ScrapeIsServedWhileThousandsOfSilentAndSlowConnectionsAreHeld) {
  RaiseFileLimit(2 * 2200 + 512);
  StartServer();  // default max_connections (64) and threads
  std::vector<int> slow;
  Hold(2000, "", nullptr);
  Hold(200, "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: ", &slow);
  Trickler trickler(slow);

  HttpResponse r = Request(port_, "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("test_events_total 7"));
  EXPECT_GT(server_->connection_stats().evicted, 0u);
}

TEST_F(ConnectionFloodTest, NewConnectionIsServedWhenEverySlotIsHeldBySilentClients) {
  options_.max_connections = 4;
  options_.threads = 1;
  StartServer();
  // Twice the budget: every slot, the spare one a newcomer uses, and a
  // queue in the kernel backlog behind them.
  Hold(2 * options_.max_connections, "", nullptr);
  HttpResponse r = Request(port_, "GET", "/-/healthy");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK\n");
  EXPECT_GE(server_->connection_stats().evicted, 1u);
}

TEST_F(ConnectionFloodTest, NewConnectionIsServedWhenEverySlotIsHeldBySlowlorisClients) {
  options_.max_connections = 4;
  options_.threads = 2;
  StartServer();
  std::vector<int> slow;
  Hold(2 * options_.max_connections, "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ", &slow);
  Trickler trickler(slow);
  EXPECT_EQ(Request(port_, "GET", "/-/healthy").status, 200);
}

}  // namespace
}  // namespace pse
