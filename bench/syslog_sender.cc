// syslog_sender: the load generator of the benchmark's receiver part. Sends
// preformatted syslog messages at a fixed rate over unixgram, udp or tcp, so
// that the sender, not Python, sets the pace and is never the bottleneck:
// datagrams go out in batches of sendmmsg(2), stream frames in large writes.
//
//   syslog_sender TRANSPORT ADDRESS MESSAGES_FILE RATE SECONDS [TICK_US]
//     TRANSPORT      unixgram | udp | tcp
//     ADDRESS        a socket path (unixgram), or 127.0.0.1:PORT
//     MESSAGES_FILE  one message per line, sent in turn, over and over
//     RATE           messages per second
//     SECONDS        how long
//     TICK_US        what is due is sent every this many microseconds
//                    (default 1000: bursts of RATE/1000; smaller is closer
//                    to many independent senders)
//
// unixgram blocks like syslog(3) does (Postfix waits for a full /dev/log):
// nothing is lost, but what is still due when the time is up counts as
// refused (the receiver did not keep up). udp is non-blocking: a message
// the kernel does not take when it is due is lost and counted as refused.
// TCP frames use octet counting (RFC 6587) and wait in a buffer of one
// second of frames, as a sender's bounded queue would; past it, due frames
// are counted as refused.
// Prints one JSON line: {"sent": N, "refused": N, "seconds": S, "cpu_s": S}.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench_socket.h"

namespace {

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(2);
}

int Connect(const std::string& transport, const std::string& address) {
  int fd;
  if (transport == "unixgram") {
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    const struct sockaddr_un sa = UnixAddress(address);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) Die("connect");
    return fd;
  }
  const struct sockaddr_in sa = InetAddress(address);
  fd = socket(AF_INET, transport == "udp" ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) Die("connect");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr,
                 "usage: syslog_sender unixgram|udp|tcp ADDRESS FILE RATE SECONDS [TICK_US]\n");
    return 2;
  }
  const std::string transport = argv[1];
  const double rate = std::atof(argv[4]);
  const double seconds = std::atof(argv[5]);
  std::vector<std::string> msgs;
  {
    std::ifstream in(argv[3]);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) msgs.push_back(line);
    }
  }
  if (msgs.empty() || rate <= 0) return 2;
  std::vector<std::string> frames;
  if (transport == "tcp") {
    for (const std::string& m : msgs) frames.push_back(std::to_string(m.size()) + " " + m);
  }
  const int fd = Connect(transport, argv[2]);
  const bool stream = transport == "tcp";

  uint64_t sent = 0, refused = 0, due_total = 0;
  size_t next = 0;
  std::string pending;  // tcp: bytes of frames not yet taken by the kernel
  const size_t kBatch = 256;
  std::vector<struct mmsghdr> hdrs(kBatch);
  std::vector<struct iovec> iovs(kBatch);
  const double tick = argc > 6 ? std::atof(argv[6]) / 1e6 : 0.001;
  if (tick <= 0) return 2;
  const double start = Now();
  size_t frame_bytes = 0;
  for (const std::string& f : frames) frame_bytes += f.size();
  const uint64_t max_pending =
      frames.empty() ? 0 : static_cast<uint64_t>(rate * frame_bytes / frames.size()) + 65536;
  const bool blocking = transport == "unixgram";
  for (;;) {
    const double t = Now() - start;
    if (t >= seconds) break;
    const uint64_t due = static_cast<uint64_t>(t * rate) - due_total;
    due_total += due;
    uint64_t left = due;
    if (stream) {
      if (!pending.empty()) {
        const ssize_t w = send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
        if (w > 0) pending.erase(0, static_cast<size_t>(w));
      }
      while (left > 0 && pending.size() < max_pending) {
        pending += frames[next];
        next = (next + 1) % frames.size();
        --left;
        ++sent;
      }
      refused += left;
      if (!pending.empty()) {
        const ssize_t w = send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
        if (w > 0) pending.erase(0, static_cast<size_t>(w));
      }
    } else {
      while (left > 0) {
        const size_t n = left < kBatch ? left : kBatch;
        for (size_t i = 0; i < n; ++i) {
          const std::string& m = msgs[(next + i) % msgs.size()];
          iovs[i] = {const_cast<char*>(m.data()), m.size()};
          hdrs[i] = {};
          hdrs[i].msg_hdr.msg_iov = &iovs[i];
          hdrs[i].msg_hdr.msg_iovlen = 1;
        }
        const int k = sendmmsg(fd, hdrs.data(), static_cast<unsigned>(n), 0);
        const size_t took = k > 0 ? static_cast<size_t>(k) : 0;
        next = (next + took) % msgs.size();
        sent += took;
        left -= took;
        if (blocking) {
          if (Now() - start >= seconds) break;  // time is up: the rest counts below
          continue;
        }
        if (took < n) {
          // Queue full: what is due now is lost, as for a bounded sender.
          refused += left;
          next = (next + left) % msgs.size();
          left = 0;
        }
      }
    }
    const double sleep_until = start + (t - std::fmod(t, tick)) + tick;
    const double d = sleep_until - Now();
    if (d > 0) {
      struct timespec ts = {0, static_cast<long>(d * 1e9)};
      nanosleep(&ts, nullptr);
    }
  }
  // unixgram: what was due but not sent in time.
  if (blocking) refused += due_total - sent - refused;
  // tcp: what is still pending is delivered (blocking), not lost.
  if (stream && !pending.empty()) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    size_t off = 0;
    while (off < pending.size()) {
      const ssize_t w = send(fd, pending.data() + off, pending.size() - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
  }
  const double elapsed = Now() - start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf("{\"sent\": %llu, \"refused\": %llu, \"seconds\": %.3f, \"cpu_s\": %.3f}\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(refused),
              elapsed, cpu);
  close(fd);
  return 0;
}
