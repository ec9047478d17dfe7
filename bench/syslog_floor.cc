// syslog_floor: the baseline of the benchmark's receiver part. A syslog
// receiver that only receives: it binds like the exporter, waits in epoll,
// sleeps the exporter's default read-coalescing delay once a socket turns
// readable, and reads the way the exporter's SyslogReceiver does (datagrams:
// recvmmsg into 32 slots of 64 KiB + 1; TCP: 64 KiB reads, octet-counted
// frames counted). It does nothing with a message. Its CPU per message is
// what the kernel charges any receiver on this machine for that transport;
// the exporter's figure next to it shows what parsing and metrics add.
//
//   syslog_floor TRANSPORT ADDRESS [DELAY_US]
//     TRANSPORT  unixgram | udp | tcp
//     ADDRESS    a socket path (unixgram), or 127.0.0.1:PORT
//     DELAY_US   the sleep after a wake-up (default 1000, the exporter's
//                --syslog.batch-delay; 0: read at once)
//
// Prints "ready" once bound; on SIGTERM or SIGINT prints one JSON line,
// {"received": N}, and exits. Its CPU time is read by the caller from
// /proc/PID/stat, as the exporter's is.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_socket.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(2);
}

// A bound socket: a listening one for tcp.
int Bind(const std::string& transport, const std::string& address) {
  if (transport == "unixgram") {
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    const struct sockaddr_un sa = UnixAddress(address);
    unlink(address.c_str());
    if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) Die("bind");
    return fd;
  }
  const struct sockaddr_in sa = InetAddress(address);
  const bool tcp = transport == "tcp";
  const int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) Die("bind");
  if (tcp && listen(fd, 16) != 0) Die("listen");
  return fd;
}

// Counts octet-counted frames ("LEN SP MSG") across reads.
class FrameCounter {
 public:
  uint64_t Feed(const char* p, size_t n) {
    uint64_t frames = 0;
    while (n > 0) {
      if (skip_ > 0) {
        const size_t k = skip_ < n ? skip_ : n;
        skip_ -= k;
        p += k;
        n -= k;
        if (skip_ == 0) ++frames;
        continue;
      }
      if (*p == ' ') {
        skip_ = len_;
        len_ = 0;
      } else {
        len_ = len_ * 10 + static_cast<size_t>(*p - '0');
      }
      ++p;
      --n;
    }
    return frames;
  }

 private:
  size_t len_ = 0;
  size_t skip_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: syslog_floor unixgram|udp|tcp ADDRESS [DELAY_US]\n");
    return 2;
  }
  const std::string transport = argv[1];
  const long delay_us = argc > 3 ? std::atol(argv[3]) : 1000;
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  const int listener = Bind(transport, argv[2]);
  const bool tcp = transport == "tcp";
  const int ep = epoll_create1(0);
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::printf("ready\n");
  std::fflush(stdout);

  constexpr size_t kSlot = 64 * 1024 + 1;
  constexpr size_t kBatch = 32;
  std::vector<char> buf(kSlot * kBatch);
  std::vector<struct iovec> iov(kBatch);
  std::vector<struct mmsghdr> hdr(kBatch);
  uint64_t received = 0;
  int conn = -1;
  FrameCounter frames;
  while (!g_stop) {
    struct epoll_event e;
    if (epoll_wait(ep, &e, 1, 100) <= 0) continue;
    if (delay_us > 0) {
      const struct timespec ts = {0, delay_us * 1000};
      nanosleep(&ts, nullptr);
    }
    if (tcp && e.data.fd == listener) {
      conn = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
      ev.data.fd = conn;
      if (conn >= 0) epoll_ctl(ep, EPOLL_CTL_ADD, conn, &ev);
    } else if (tcp) {
      const ssize_t got = read(conn, buf.data(), 64 * 1024);
      if (got > 0) received += frames.Feed(buf.data(), static_cast<size_t>(got));
      if (got == 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, conn, nullptr);
        close(conn);
      }
    } else {
      for (;;) {
        for (size_t i = 0; i < kBatch; ++i) {
          iov[i] = {buf.data() + i * kSlot, kSlot};
          hdr[i] = {};
          hdr[i].msg_hdr.msg_iov = &iov[i];
          hdr[i].msg_hdr.msg_iovlen = 1;
        }
        const int got = recvmmsg(listener, hdr.data(), kBatch, MSG_DONTWAIT | MSG_TRUNC, nullptr);
        if (got <= 0) break;
        received += static_cast<uint64_t>(got);
        if (static_cast<size_t>(got) < kBatch) break;
      }
    }
  }
  std::printf("{\"received\": %llu}\n", static_cast<unsigned long long>(received));
  if (transport == "unixgram") unlink(argv[2]);
  return 0;
}
