#include "exporter/showq_collector.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace pse {
namespace {

namespace P = prometheus;

std::string Attr(absl::string_view name, absl::string_view value) {
  std::string s(name);
  s.push_back('\0');
  s.append(value.data(), value.size());
  s.push_back('\0');
  return s;
}

// One message as Postfix 3.x's showq writes it (recipients included).
std::string Message(absl::string_view queue, absl::string_view id, int64_t time, int64_t size) {
  return Attr("queue_name", queue) + Attr("queue_id", id) + Attr("time", std::to_string(time)) +
         Attr("size", std::to_string(size)) + Attr("forced_expire", "0") +
         Attr("sender", "a@example.org") + Attr("recipient", "b@example.org") +
         Attr("reason", "connect to mx[192.0.2.1]:25: Connection refused") + std::string(1, '\0');
}

const P::ClientMetric* Series(const std::vector<P::MetricFamily>& fams, const std::string& name,
                              const std::string& queue) {
  for (const auto& f : fams) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      if (!m.label.empty() && m.label[0].value == queue) return &m;
    }
  }
  return nullptr;
}

double Up(const std::vector<P::MetricFamily>& fams) {
  for (const auto& f : fams) {
    if (f.name == "postfix_up") return f.metric.at(0).gauge.value;
  }
  return -1;
}

TEST(Showq, ParsesQueuesSizesAndAges) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  const std::string listing = Message("deferred", "4A1", 1700000000 - 500, 2500) +
                              Message("deferred", "4A2", 1700000000 - 50000, 20000) +
                              Message("hold", "4A3", 1700000000 - 5, 900) +
                              Message("active", "4A4", 1700000000 - 1, 1200000);
  std::vector<P::MetricFamily> fams;
  ASSERT_TRUE(ShowqCollector::Parse(listing, now, &fams).ok());
  const P::ClientMetric* d = Series(fams, "postfix_showq_message_size_bytes", "deferred");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->histogram.sample_count, 2u);
  EXPECT_EQ(d->histogram.sample_sum, 22500);
  const P::ClientMetric* age = Series(fams, "postfix_showq_message_age_seconds", "deferred");
  ASSERT_NE(age, nullptr);
  EXPECT_EQ(age->histogram.sample_sum, 50500);
  // le=1000: the 500 s old message only.
  EXPECT_EQ(age->histogram.bucket.at(2).cumulative_count, 1u);
  EXPECT_EQ(Series(fams, "postfix_showq_message_size_bytes", "hold")->histogram.sample_count, 1u);
  // Every queue is shown, empty ones at 0; "other" only when seen.
  EXPECT_EQ(Series(fams, "postfix_showq_message_size_bytes", "maildrop")->histogram.sample_count,
            0u);
  EXPECT_EQ(Series(fams, "postfix_showq_message_size_bytes", "other"), nullptr);
}

TEST(Showq, UnknownQueueIsOther) {
  std::vector<P::MetricFamily> fams;
  ASSERT_TRUE(
      ShowqCollector::Parse(Message("corrupt\x01", "4A1", 1, 10), absl::FromUnixSeconds(2), &fams)
          .ok());
  EXPECT_EQ(Series(fams, "postfix_showq_message_size_bytes", "other")->histogram.sample_count, 1u);
}

TEST(Showq, MalformedListingIsAnError) {
  std::vector<P::MetricFamily> fams;
  EXPECT_FALSE(ShowqCollector::Parse(Attr("size", "big") + std::string(1, '\0'),
                                     absl::FromUnixSeconds(2), &fams)
                   .ok());
  EXPECT_FALSE(
      ShowqCollector::Parse(std::string("queue_name\0act", 14), absl::FromUnixSeconds(2), &fams)
          .ok());
  EXPECT_FALSE(ShowqCollector::Parse("-Queue ID- --Size-- ----Arrival Time----",
                                     absl::FromUnixSeconds(2), &fams)
                   .ok());
}

TEST(Showq, MissingSocketIsUpZero) {
  ShowqCollector c("/nonexistent/public/showq", absl::Seconds(1));
  std::vector<P::MetricFamily> fams = c.Collect();
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(Up(fams), 0);
  EXPECT_EQ(fams[0].metric.at(0).label.at(0).value, "/nonexistent/public/showq");
}

// A unix socket server on a temporary path that answers one connection.
class FakeShowq {
 public:
  explicit FakeShowq(std::string reply, bool hang = false) {
    char dir[] = "/tmp/pse-showq-XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/showq";
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    thread_ = std::thread([this, reply, hang] {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      if (hang) {
        char b;
        (void)!read(c, &b, 1);  // until the client gives up and closes
      } else {
        (void)!write(c, reply.data(), reply.size());
      }
      close(c);
    });
  }
  ~FakeShowq() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
  int fd_ = -1;
  std::thread thread_;
};

TEST(Showq, ReadsARealSocket) {
  FakeShowq server(Message("deferred", "4A1", 1, 2500) + Message("active", "4A2", 1, 700));
  ShowqCollector c(server.path(), absl::Seconds(10));
  std::vector<P::MetricFamily> fams = c.Collect();
  EXPECT_EQ(Up(fams), 1);
  EXPECT_EQ(Series(fams, "postfix_showq_message_size_bytes", "deferred")->histogram.sample_sum,
            2500);
  EXPECT_EQ(Series(fams, "postfix_showq_message_size_bytes", "active")->histogram.sample_count, 1u);
}

TEST(Showq, SilentServerTimesOutAsUpZero) {
  FakeShowq server("", /*hang=*/true);
  ShowqCollector c(server.path(), absl::Milliseconds(200));
  std::vector<P::MetricFamily> fams = c.Collect();
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(Up(fams), 0);
}

}  // namespace
}  // namespace pse
