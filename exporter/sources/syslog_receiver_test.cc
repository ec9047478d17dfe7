#include "exporter/sources/syslog_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "testing/http_util.h"
#include "testing/metric_values.h"

namespace pse {
namespace {

using test::MetricValue;
using test::TempDir;

struct LineRecorder : RecordSink {
  std::vector<std::string> lines;
  void OnLine(absl::string_view line) override { lines.emplace_back(line); }
  void OnRecord(const LogRecord&) override {}
};

constexpr char k3164[] = "<22>Nov 30 20:13:32 postfix/smtpd[4242]: connect from x[192.0.2.1]";
constexpr char k5424[] =
    "<22>1 2026-11-30T20:13:32.123456+00:00 mx1 postfix/smtpd 4242 - - connect from x[192.0.2.1]";

class SyslogReceiverTest : public ::testing::Test {
 protected:
  std::unique_ptr<SyslogReceiver> Start(std::vector<std::string> addresses,
                                        std::function<void(SyslogReceiverOptions*)> tweak = {}) {
    SyslogReceiverOptions o;
    o.listen_addresses = std::move(addresses);
    o.metrics = &metrics_;
    if (tweak) tweak(&o);
    auto r = SyslogReceiver::Create(o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // Polls until `want` lines arrived or about 5 s passed; Wait() blocks in
  // epoll, so this does not spin.
  void PollFor(SyslogReceiver* r, size_t want) {
    for (int i = 0; i < 100 && sink_.lines.size() < want; ++i) {
      if (r->Poll(&sink_) == 0) r->Wait(absl::Milliseconds(50));
    }
  }
  // A few rounds of Poll(), for effects that deliver no line.
  void PollRounds(SyslogReceiver* r, int rounds = 5) {
    for (int i = 0; i < rounds; ++i) {
      r->Poll(&sink_);
      r->Wait(absl::Milliseconds(20));
    }
  }

  double Dropped(const std::string& reason) {
    return MetricValue(registry_, "postfix_exporter_syslog_messages_dropped_total",
                       {{"reason", reason}});
  }
  double Received(const std::string& transport) {
    return MetricValue(registry_, "postfix_exporter_syslog_messages_received_total",
                       {{"transport", transport}});
  }
  double Closed(const std::string& reason) {
    return MetricValue(registry_, "postfix_exporter_syslog_connections_closed_by_exporter_total",
                       {{"reason", reason}});
  }

  TempDir dir_;
  prometheus::Registry registry_;
  SyslogMetrics metrics_{&registry_};
  LineRecorder sink_;
};

int UnixClient(const std::string& path, int type) {
  const int fd = socket(AF_UNIX, type, 0);
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path.c_str());
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int InetClient(const std::string& bound, int type) {
  // bound is "tcp://127.0.0.1:PORT" or "udp://127.0.0.1:PORT".
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(bound.substr(bound.rfind(':') + 1), &port)) << bound;
  const int fd = socket(AF_INET, type, 0);
  struct sockaddr_in sa = {};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool Send(int fd, const std::string& data) { return test::SendAll(fd, data); }

// True when the peer closed the connection (read returns 0 or an error)
// within about 2 s.
bool PeerClosed(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 2000) <= 0) return false;
  char c;
  return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

TEST_F(SyslogReceiverTest, Rfc3164DatagramOverUnixgram) {
  const std::string path = dir_.path() + "/log.sock";
  auto r = Start({"unixgram://" + path});
  ASSERT_NE(r, nullptr);
  const int fd = UnixClient(path, SOCK_DGRAM);
  ASSERT_GE(fd, 0);
  // syslog(3) sends no newline; `logger` may send one: both are one line.
  ASSERT_TRUE(Send(fd, k3164));
  ASSERT_TRUE(Send(fd, std::string(k5424) + "\n"));
  close(fd);
  PollFor(r.get(), 2);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{k3164, k5424}));
  EXPECT_EQ(Received("unixgram"), 2);
}

TEST_F(SyslogReceiverTest, Rfc5424AndRfc3164OverUdp) {
  auto r = Start({"udp://127.0.0.1:0"});
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_DGRAM);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(Send(fd, k5424));
  ASSERT_TRUE(Send(fd, k3164));
  close(fd);
  PollFor(r.get(), 2);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{k5424, k3164}));
  EXPECT_EQ(Received("udp"), 2);
}

TEST_F(SyslogReceiverTest, OctetCountingOverTcp) {
  auto r = Start({"tcp://127.0.0.1:0"});
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  ASSERT_GE(fd, 0);
  const std::string a = k5424, b = k3164;
  ASSERT_TRUE(Send(fd, absl::StrCat(a.size(), " ", a, b.size(), " ", b)));
  PollFor(r.get(), 2);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{k5424, k3164}));
  EXPECT_EQ(r->open_connections(), 1u);
  close(fd);
  PollRounds(r.get());
  EXPECT_EQ(r->open_connections(), 0u);
  EXPECT_EQ(MetricValue(registry_, "postfix_exporter_syslog_connections_open"), 0);
  EXPECT_EQ(Received("tcp"), 2);
}

TEST_F(SyslogReceiverTest, NewlineFramingOverTcpAndUnixStream) {
  const std::string path = dir_.path() + "/stream.sock";
  auto r = Start({"tcp://127.0.0.1:0", "unix://" + path});
  ASSERT_NE(r, nullptr);
  const int t = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  const int u = UnixClient(path, SOCK_STREAM);
  ASSERT_GE(t, 0);
  ASSERT_GE(u, 0);
  ASSERT_TRUE(Send(t, std::string(k3164) + "\n"));
  PollFor(r.get(), 1);
  ASSERT_TRUE(Send(u, std::string(k5424) + "\n"));
  PollFor(r.get(), 2);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{k3164, k5424}));
  EXPECT_EQ(Received("tcp"), 1);
  EXPECT_EQ(Received("unix"), 1);
  close(t);
  close(u);
}

TEST_F(SyslogReceiverTest, TooLongDatagramDropped) {
  const std::string path = dir_.path() + "/log.sock";
  auto r =
      Start({"unixgram://" + path}, [](SyslogReceiverOptions* o) { o->max_message_bytes = 100; });
  ASSERT_NE(r, nullptr);
  const int fd = UnixClient(path, SOCK_DGRAM);
  ASSERT_TRUE(Send(fd, std::string(101, 'x')));
  ASSERT_TRUE(Send(fd, std::string(100, 'y')));
  close(fd);
  PollFor(r.get(), 1);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{std::string(100, 'y')}));
  EXPECT_EQ(Dropped("too_long"), 1);
  EXPECT_EQ(r->stats().lines_too_long, 1u);
}

TEST_F(SyslogReceiverTest, TooLongStreamMessageDroppedConnectionKept) {
  auto r =
      Start({"tcp://127.0.0.1:0"}, [](SyslogReceiverOptions* o) { o->max_message_bytes = 100; });
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  ASSERT_TRUE(Send(fd, std::string(500, 'x') + "\nafter\n"));
  PollFor(r.get(), 1);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{"after"}));
  EXPECT_EQ(Dropped("too_long"), 1);
  EXPECT_EQ(r->open_connections(), 1u);
  close(fd);
}

TEST_F(SyslogReceiverTest, OctetCountOf10GBRefusedAndConnectionClosed) {
  auto r = Start({"tcp://127.0.0.1:0"});
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  ASSERT_TRUE(Send(fd, "10737418240 <13>1 - - - - - x"));
  PollRounds(r.get());
  EXPECT_TRUE(PeerClosed(fd));
  EXPECT_EQ(r->open_connections(), 0u);
  EXPECT_EQ(Dropped("too_long"), 1);
  EXPECT_EQ(Closed("framing"), 1);
  EXPECT_TRUE(sink_.lines.empty());
  close(fd);
}

TEST_F(SyslogReceiverTest, HalfSentFrameCountedAsTruncated) {
  auto r = Start({"tcp://127.0.0.1:0"});
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  ASSERT_TRUE(Send(fd, "5 hello200 <13>1 only part of it"));
  PollFor(r.get(), 1);
  close(fd);
  PollRounds(r.get());
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{"hello"}));
  EXPECT_EQ(Dropped("truncated"), 1);
  EXPECT_EQ(r->open_connections(), 0u);
}

TEST_F(SyslogReceiverTest, ConnectionLimit) {
  auto r = Start({"tcp://127.0.0.1:0"}, [](SyslogReceiverOptions* o) { o->max_connections = 2; });
  ASSERT_NE(r, nullptr);
  const std::string bound = r->BoundAddresses()[0];
  const int a = InetClient(bound, SOCK_STREAM);
  const int b = InetClient(bound, SOCK_STREAM);
  PollRounds(r.get());
  const int c = InetClient(bound, SOCK_STREAM);
  PollRounds(r.get());
  EXPECT_EQ(r->open_connections(), 2u);
  EXPECT_TRUE(PeerClosed(c));
  EXPECT_EQ(Closed("limit"), 1);
  EXPECT_EQ(MetricValue(registry_, "postfix_exporter_syslog_connections_open"), 2);
  // The admitted peers are still served.
  ASSERT_TRUE(Send(b, "still served\n"));
  PollFor(r.get(), 1);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{"still served"}));
  close(a);
  close(b);
  close(c);
}

TEST_F(SyslogReceiverTest, IdleConnectionClosed) {
  absl::Time now = absl::FromUnixSeconds(1000);
  auto r = Start({"tcp://127.0.0.1:0"}, [&now](SyslogReceiverOptions* o) {
    o->idle_timeout = absl::Seconds(30);
    o->clock = [&now] { return now; };
  });
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  ASSERT_TRUE(Send(fd, "partial line"));
  PollRounds(r.get());
  EXPECT_EQ(r->open_connections(), 1u);
  now += absl::Seconds(31);
  PollRounds(r.get(), 1);
  EXPECT_EQ(r->open_connections(), 0u);
  EXPECT_EQ(Closed("idle"), 1);
  EXPECT_TRUE(PeerClosed(fd));
  // A newline-framed line nobody can complete any more is delivered.
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{"partial line"}));
  close(fd);
}

TEST_F(SyslogReceiverTest, SocketModeAppliedAndRemovedAtExit) {
  const std::string path = dir_.path() + "/log.sock";
  auto r = Start({"unixgram://" + path}, [](SyslogReceiverOptions* o) { o->socket_mode = "0640"; });
  ASSERT_NE(r, nullptr);
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  r.reset();
  EXPECT_NE(lstat(path.c_str(), &st), 0);
}

TEST_F(SyslogReceiverTest, DefaultSocketModeLetsEveryoneWrite) {
  const std::string path = dir_.path() + "/log.sock";
  auto r = Start({"unixgram://" + path});
  ASSERT_NE(r, nullptr);
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);
}

TEST_F(SyslogReceiverTest, StaleSocketReplaced) {
  const std::string path = dir_.path() + "/log.sock";
  // A socket file whose owner is gone, as a crash leaves it.
  const int old = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path.c_str());
  ASSERT_EQ(bind(old, reinterpret_cast<struct sockaddr*>(&sa), sizeof(sa)), 0);
  close(old);
  auto r = Start({"unixgram://" + path});
  ASSERT_NE(r, nullptr);
  const int fd = UnixClient(path, SOCK_DGRAM);
  ASSERT_TRUE(Send(fd, k3164));
  close(fd);
  PollFor(r.get(), 1);
  EXPECT_EQ(sink_.lines.size(), 1u);
}

TEST_F(SyslogReceiverTest, LiveSocketNotStolen) {
  const std::string path = dir_.path() + "/log.sock";
  auto first = Start({"unixgram://" + path});
  ASSERT_NE(first, nullptr);
  SyslogReceiverOptions o;
  o.listen_addresses = {"unixgram://" + path};
  auto second = SyslogReceiver::Create(o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another process"), std::string::npos);
}

TEST_F(SyslogReceiverTest, RegularFileNotReplaced) {
  const std::string path = dir_.Write("log.sock", "not a socket");
  SyslogReceiverOptions o;
  o.listen_addresses = {"unixgram://" + path};
  EXPECT_FALSE(SyslogReceiver::Create(o).ok());
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(SyslogReceiverTest, BadAddressesRefused) {
  for (const std::string a : {"file:///x", "unixgram://relative", "tcp://127.0.0.1",
                              "udp://::1:514", "tcp://127.0.0.1:99999"}) {
    SyslogReceiverOptions o;
    o.listen_addresses = {a};
    EXPECT_FALSE(SyslogReceiver::Create(o).ok()) << a;
  }
  SyslogReceiverOptions o;
  o.listen_addresses = {"udp://127.0.0.1:0"};
  o.socket_mode = "0999";
  EXPECT_FALSE(SyslogReceiver::Create(o).ok());
}

TEST_F(SyslogReceiverTest, EchoWritesEveryLineUnchanged) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_NONBLOCK), 0);
  const std::string path = dir_.path() + "/log.sock";
  auto r = Start({"unixgram://" + path}, [&p](SyslogReceiverOptions* o) {
    o->echo = true;
    o->echo_fd = p[1];
  });
  ASSERT_NE(r, nullptr);
  const int fd = UnixClient(path, SOCK_DGRAM);
  ASSERT_TRUE(Send(fd, k3164));
  ASSERT_TRUE(Send(fd, std::string(k5424) + "\n"));
  close(fd);
  PollFor(r.get(), 2);
  char buf[4096];
  const ssize_t n = read(p[0], buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), absl::StrCat(k3164, "\n", k5424, "\n"));
  close(p[0]);
  close(p[1]);
}

TEST_F(SyslogReceiverTest, GarbageDatagramsDeliveredAsLinesForTheParser) {
  // The receiver does not judge content: the pipeline counts malformed lines.
  auto r = Start({"udp://127.0.0.1:0"});
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_DGRAM);
  ASSERT_TRUE(Send(fd, std::string("\x01\xff garbage", 10)));
  ASSERT_TRUE(Send(fd, "\n\n"));  // empty after trimming: nothing delivered
  ASSERT_TRUE(Send(fd, "x"));
  close(fd);
  PollFor(r.get(), 2);
  EXPECT_EQ(sink_.lines.size(), 2u);
  EXPECT_EQ(sink_.lines.back(), "x");
}

TEST_F(SyslogReceiverTest, UdpQueueOverrunCounted) {
  // A tiny receive buffer and nobody reading: the kernel drops datagrams and
  // reports how many (SO_RXQ_OVFL) on the next datagram it queues.
  auto r = Start({"udp://127.0.0.1:0"}, [](SyslogReceiverOptions* o) {
    o->receive_buffer_bytes = 1;  // the kernel raises it to its minimum
  });
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_DGRAM);
  constexpr int kSent = 500;
  for (int i = 0; i < kSent; ++i) ASSERT_TRUE(Send(fd, std::string(1000, 'x')));
  PollRounds(r.get());
  // The kernel stamps its drop count on the datagrams queued after a loss.
  ASSERT_TRUE(Send(fd, "marker"));
  close(fd);
  for (int i = 0; i < 100 && (sink_.lines.empty() || sink_.lines.back() != "marker"); ++i) {
    if (r->Poll(&sink_) == 0) r->Wait(absl::Milliseconds(50));
  }
  ASSERT_EQ(sink_.lines.back(), "marker");
  const double overrun = Dropped("overrun");
  EXPECT_GT(overrun, 0);
  // Every datagram is either delivered or counted as lost.
  EXPECT_EQ(static_cast<double>(sink_.lines.size()) + overrun, kSent + 1);
  EXPECT_EQ(Received("udp"), static_cast<double>(sink_.lines.size()));
}

// Read coalescing. The sleep is a fake that records how long Wait() asked
// for and sends, meanwhile, what a client would send during that time.
TEST_F(SyslogReceiverTest, BatchDelayGathersWhatFollowsAQuietSpellIntoOnePoll) {
  const std::string path = dir_.path() + "/log.sock";
  int fd = -1;
  std::vector<absl::Duration> slept;
  const absl::Time now = absl::FromUnixSeconds(1700000000);  // stands still
  auto r = Start({"unixgram://" + path}, [&](SyslogReceiverOptions* o) {
    o->batch_delay = absl::Seconds(1);
    o->clock = [now] { return now; };
    o->sleep = [&](absl::Duration d) {
      slept.push_back(d);
      for (int i = 1; i < 5; ++i) ASSERT_TRUE(Send(fd, absl::StrCat(k3164, " #", i)));
    };
  });
  ASSERT_NE(r, nullptr);
  fd = UnixClient(path, SOCK_DGRAM);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(r->Poll(&sink_), 0u);  // quiet so far
  ASSERT_TRUE(Send(fd, absl::StrCat(k3164, " #0")));
  r->Wait(absl::Seconds(5));
  // Readable at once, then the whole delay: the four messages sent during it
  // are read by the same Poll() as the first.
  EXPECT_EQ(slept, std::vector<absl::Duration>{absl::Seconds(1)});
  EXPECT_EQ(r->Poll(&sink_), 5u);
  ASSERT_EQ(sink_.lines.size(), 5u);
  EXPECT_EQ(sink_.lines[4], absl::StrCat(k3164, " #4"));
  // Nothing readable: no sleep after the timeout. A timeout shorter than the
  // delay bounds the sleep.
  r->Wait(absl::Milliseconds(1));
  EXPECT_EQ(slept.size(), 1u);
  ASSERT_TRUE(Send(fd, k3164));
  r->Wait(absl::Milliseconds(100));
  EXPECT_EQ(slept.back(), absl::Milliseconds(100));
  close(fd);
}

TEST_F(SyslogReceiverTest, ZeroBatchDelayReadsEachWakeUpAtOnce) {
  const std::string path = dir_.path() + "/log.sock";
  int slept = 0;
  auto r = Start({"unixgram://" + path}, [&](SyslogReceiverOptions* o) {
    o->batch_delay = absl::ZeroDuration();
    o->sleep = [&](absl::Duration) { ++slept; };
  });
  ASSERT_NE(r, nullptr);
  const int fd = UnixClient(path, SOCK_DGRAM);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(Send(fd, k3164));
  r->Wait(absl::Seconds(5));
  EXPECT_EQ(slept, 0);
  EXPECT_EQ(r->Poll(&sink_), 1u);
  close(fd);
}

TEST_F(SyslogReceiverTest, BatchDelayOnlyWhereBatchesStaySmall) {
  // After a small batch read as it came, the sleep is what that batch's rate
  // needs to bring 64 messages (udp), at most batch_delay.
  absl::Time now = absl::FromUnixSeconds(1700000000);
  std::vector<absl::Duration> slept;
  auto r = Start({"udp://127.0.0.1:0"}, [&](SyslogReceiverOptions* o) {
    o->batch_delay = absl::Milliseconds(5);
    o->clock = [&now] { return now; };
    o->sleep = [&](absl::Duration d) { slept.push_back(d); };
  });
  ASSERT_NE(r, nullptr);
  const int fd = InetClient(r->BoundAddresses()[0], SOCK_DGRAM);
  ASSERT_GE(fd, 0);
  auto send_and_poll = [&](size_t n) {
    for (size_t i = 0; i < n; ++i) ASSERT_TRUE(Send(fd, k3164));
    EXPECT_EQ(r->Poll(&sink_), n);  // loopback udp: queued by send()
  };
  auto send_and_wait = [&] {
    ASSERT_TRUE(Send(fd, k3164));
    r->Wait(absl::Seconds(5));
  };
  r->Wait(absl::Milliseconds(1));  // nothing readable: no sleep
  EXPECT_TRUE(slept.empty());
  // A large batch: traffic that batches by itself, no sleep.
  send_and_poll(100);
  send_and_wait();
  EXPECT_TRUE(slept.empty());
  EXPECT_EQ(r->Poll(&sink_), 1u);
  // 4 messages in 100 us: 64 take 1.6 ms.
  send_and_poll(3);
  now += absl::Microseconds(100);
  send_and_wait();
  EXPECT_EQ(slept, std::vector<absl::Duration>{absl::Microseconds(1600)});
  EXPECT_EQ(r->Poll(&sink_), 1u);
  // That batch was gathered by a sleep: the next is read as it comes.
  send_and_wait();
  EXPECT_EQ(slept.size(), 1u);
  EXPECT_EQ(r->Poll(&sink_), 1u);
  // One message in a minute: the whole delay.
  now += absl::Minutes(1);
  send_and_wait();
  EXPECT_EQ(slept.back(), absl::Milliseconds(5));
  EXPECT_EQ(slept.size(), 2u);
  close(fd);
}

TEST_F(SyslogReceiverTest, ConnectionsReadInTheOrderTheyBecameReadable) {
  // One logger process per line is one connection per line: after a Wait(),
  // the connection that became readable first is read first.
  auto r = Start({"tcp://127.0.0.1:0"});
  ASSERT_NE(r, nullptr);
  const int a = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  const int b = InetClient(r->BoundAddresses()[0], SOCK_STREAM);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (int i = 0; i < 100 && r->open_connections() < 2; ++i) PollRounds(r.get(), 1);
  ASSERT_EQ(r->open_connections(), 2u);
  ASSERT_TRUE(Send(a, "first\n"));
  ASSERT_TRUE(Send(b, "second\n"));
  r->Wait(absl::Seconds(5));
  PollFor(r.get(), 2);
  EXPECT_EQ(sink_.lines, (std::vector<std::string>{"first", "second"}));
  close(a);
  close(b);
}

TEST_F(SyslogReceiverTest, CheckpointTextIsEmpty) {
  auto r = Start({"udp://127.0.0.1:0"});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->CheckpointText(), "");
  EXPECT_FALSE(r->AtEnd());
  EXPECT_EQ(r->Describe(), "syslog:udp://127.0.0.1:0");
  EXPECT_TRUE(r->stats().up);
}

}  // namespace
}  // namespace pse
