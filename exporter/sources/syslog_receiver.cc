#include "exporter/sources/syslog_receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "exporter/util/fs_util.h"

namespace pse {
namespace {

// Octet counts up to this many times max_message_bytes are read and thrown
// away; larger ones close the connection (see syslog_framing.h).
constexpr uint64_t kSkipFactor = 16;
// Datagram batches: most slots per recvmmsg, and about how many bytes the
// slots take together (max_message_bytes decides how many fit).
constexpr size_t kMaxDatagramBatch = 64;
constexpr size_t kDatagramBatchBytes = 2 << 20;
constexpr size_t kControlBytes = CMSG_SPACE(sizeof(uint32_t));
// Read coalescing: the batch one delay should gather (one recvmmsg), and
// the shortest sleep worth a system call (timer slack is 50 us).
constexpr size_t kCoalesceBatch = kMaxDatagramBatch;
// Batches smaller than this (read without a sleep) are worth coalescing.
constexpr size_t kFewMessages = 16;
constexpr absl::Duration kMinCoalesceDelay = absl::Microseconds(20);

std::string Errno(absl::string_view what) { return absl::StrCat(what, ": ", ErrnoText(errno)); }

void SetReceiveBuffer(int fd, int bytes) {
  if (bytes > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

// Datagrams a unix datagram socket queues before its senders block (per
// network namespace; the kernel's default is 10, systemd sets 512).
size_t UnixDatagramQueueLength() {
  size_t qlen = 10;
  absl::StatusOr<std::string> text = ReadSmallFile("/proc/sys/net/unix/max_dgram_qlen", 64);
  if (text.ok() && !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &qlen)) qlen = 10;
  return qlen;
}

// A signal ends the sleep early, so shutdown is not held up.
void SleepOnce(absl::Duration d) {
  const struct timespec ts = absl::ToTimespec(d);
  nanosleep(&ts, nullptr);
}

}  // namespace

struct SyslogReceiver::Endpoint {
  bool is_listener = true;
  int fd = -1;
  SyslogAddress::Transport transport = SyslogAddress::Transport::kUnixgram;
};

struct SyslogReceiver::Listener : Endpoint {
  SyslogAddress address;
  std::string text;  // as configured
  dev_t dev = 0;     // the socket file we created, removed only if still ours
  ino_t ino = 0;
  uint32_t overruns = 0;  // the kernel's cumulative SO_RXQ_OVFL count
  ~Listener() {
    if (fd >= 0) close(fd);
    if (!address.path.empty() && ino != 0) {
      struct stat st;
      if (lstat(address.path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino) {
        unlink(address.path.c_str());
      }
    }
  }
};

struct SyslogReceiver::Connection : Endpoint {
  Connection(size_t max, uint64_t skip) : framer(max, skip) { is_listener = false; }
  ~Connection() {
    if (fd >= 0) close(fd);
  }
  SyslogStreamFramer framer;
  absl::Time last_active;
};

absl::StatusOr<std::unique_ptr<SyslogReceiver>> SyslogReceiver::Create(
    const SyslogReceiverOptions& options) {
  std::unique_ptr<SyslogReceiver> r(new SyslogReceiver(options));
  absl::Status st = r->Init();
  if (!st.ok()) return st;
  return r;
}

SyslogReceiver::SyslogReceiver(const SyslogReceiverOptions& options)
    : options_(options),
      clock_(options.clock ? options.clock : absl::Now),
      sleep_(options.sleep ? options.sleep : SleepOnce) {}

SyslogReceiver::~SyslogReceiver() {
  connections_.clear();
  listeners_.clear();
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void SyslogReceiver::Log(LogLevel level, absl::string_view msg) {
  if (options_.logger) options_.logger(level, msg);
}

absl::Status SyslogReceiver::Init() {
  if (options_.listen_addresses.empty()) {
    return absl::InvalidArgumentError("syslog receiver: no listen address");
  }
  if (options_.echo) echo_ = std::make_unique<SyslogEcho>(options_.echo_fd);
  absl::StatusOr<unsigned> mode = ParseSocketMode(options_.socket_mode);
  if (!mode.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--syslog.socket-mode ", mode.status().message()));
  }
  mode_ = static_cast<mode_t>(*mode);
  if (options_.max_message_bytes < 16 || options_.max_connections < 1 ||
      options_.read_budget_messages < 1 || options_.idle_timeout <= absl::ZeroDuration() ||
      options_.batch_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("syslog receiver: limits must be positive");
  }
  buf_.resize(std::max<size_t>(options_.max_message_bytes + 1, 64 * 1024));
  // Datagrams are read up to batch_ at a time (recvmmsg), each into its own
  // slot of max_message_bytes + 1 (one more shows a datagram too long);
  // the slots together stay near kDatagramBatchBytes. Only the pages
  // messages are written to become resident.
  const size_t slot = options_.max_message_bytes + 1;
  batch_ = std::clamp<size_t>(kDatagramBatchBytes / slot, 1, kMaxDatagramBatch);
  dgram_buf_.resize(batch_ * slot);
  dgram_iov_.resize(batch_);
  dgram_hdr_.resize(batch_);
  dgram_control_.resize(batch_ * kControlBytes);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return absl::InternalError(Errno("epoll_create1"));
  for (const std::string& text : options_.listen_addresses) {
    absl::StatusOr<SyslogAddress> a = ParseSyslogAddress(text);
    if (!a.ok()) return a.status();
    absl::Status st = Bind(*a);
    if (!st.ok()) return absl::Status(st.code(), absl::StrCat(text, ": ", st.message()));
    listeners_.back()->text = text;
  }
  // One delay should not fill a unix datagram queue: its senders would wait.
  coalesce_target_ = kCoalesceBatch;
  for (const auto& l : listeners_) {
    if (l->transport == SyslogAddress::Transport::kUnixgram) {
      coalesce_target_ = std::clamp<size_t>(UnixDatagramQueueLength() * 3 / 4, 1, kCoalesceBatch);
      break;
    }
  }
  stats_.up = true;
  return absl::OkStatus();
}

absl::Status SyslogReceiver::Bind(const SyslogAddress& address) {
  auto l = std::make_unique<Listener>();
  l->address = address;
  l->transport = address.transport;
  absl::Status st = address.is_unix() ? BindUnix(l.get()) : BindInet(l.get());
  if (!st.ok()) return st;
  if (!address.is_stream()) {
    int one = 1;
    // Best effort: the kernel reports queue overflows for UDP; unix
    // datagram senders block instead.
    setsockopt(l->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
  } else if (listen(l->fd, SOMAXCONN) != 0) {
    return absl::UnavailableError(Errno("listen"));
  }
  SetReceiveBuffer(l->fd, options_.receive_buffer_bytes);
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.ptr = static_cast<Endpoint*>(l.get());
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l->fd, &ev) != 0) {
    return absl::InternalError(Errno("epoll_ctl"));
  }
  listeners_.push_back(std::move(l));
  return absl::OkStatus();
}

absl::Status SyslogReceiver::BindUnix(Listener* l) {
  const std::string& path = l->address.path;
  const int type =
      (l->address.is_stream() ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError("exists and is not a socket; not replacing it");
    }
    // Someone still listening answers a connect; a socket file left by a
    // crash refuses it and is replaced.
    const int probe = socket(AF_UNIX, type, 0);
    const bool live =
        probe >= 0 && connect(probe, reinterpret_cast<struct sockaddr*>(&sa), sizeof(sa)) == 0;
    if (probe >= 0) close(probe);
    if (live) return absl::FailedPreconditionError("another process is listening on it");
    unlink(path.c_str());
    Log(LogLevel::kInfo, absl::StrCat("replaced a stale syslog socket file ", path));
  }
  l->fd = socket(AF_UNIX, type, 0);
  if (l->fd < 0) return absl::InternalError(Errno("socket"));
  if (bind(l->fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof(sa)) != 0) {
    return absl::UnavailableError(Errno("bind"));
  }
  if (lstat(path.c_str(), &st) == 0) {
    l->dev = st.st_dev;
    l->ino = st.st_ino;
  }
  if (chmod(path.c_str(), mode_) != 0) return absl::UnavailableError(Errno("chmod"));
  return absl::OkStatus();
}

absl::Status SyslogReceiver::BindInet(Listener* l) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = l->address.is_stream() ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  const std::string port = absl::StrCat(l->address.port);
  const int gai = getaddrinfo(l->address.host.empty() ? nullptr : l->address.host.c_str(),
                              port.c_str(), &hints, &res);
  if (gai != 0) return absl::InvalidArgumentError(gai_strerror(gai));
  // Prefer IPv6 for "any" (it takes IPv4 too unless bindv6only is set).
  struct addrinfo* pick = res;
  for (struct addrinfo* p = res; l->address.host.empty() && p; p = p->ai_next) {
    if (p->ai_family == AF_INET6) pick = p;
  }
  l->fd = socket(pick->ai_family, pick->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  absl::Status st;
  if (l->fd < 0) {
    st = absl::InternalError(Errno("socket"));
  } else {
    int one = 1;
    if (l->address.is_stream()) setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l->fd, pick->ai_addr, pick->ai_addrlen) != 0)
      st = absl::UnavailableError(Errno("bind"));
  }
  freeaddrinfo(res);
  return st;
}

std::vector<std::string> SyslogReceiver::BoundAddresses() const {
  std::vector<std::string> out;
  for (const auto& l : listeners_) {
    if (l->address.is_unix()) {
      out.push_back(l->text);
      continue;
    }
    struct sockaddr_storage ss = {};
    socklen_t len = sizeof(ss);
    getsockname(l->fd, reinterpret_cast<struct sockaddr*>(&ss), &len);
    char host[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (ss.ss_family == AF_INET6) {
      auto* s6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
      port = ntohs(s6->sin6_port);
      out.push_back(
          absl::StrCat(SyslogAddress::TransportName(l->transport), "://[", host, "]:", port));
    } else {
      auto* s4 = reinterpret_cast<struct sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
      port = ntohs(s4->sin_port);
      out.push_back(
          absl::StrCat(SyslogAddress::TransportName(l->transport), "://", host, ":", port));
    }
  }
  return out;
}

std::string SyslogReceiver::Describe() const {
  return absl::StrCat("syslog:", absl::StrJoin(options_.listen_addresses, ","));
}

SourceStats SyslogReceiver::stats() const { return stats_; }

void SyslogReceiver::Drop(SyslogDrop reason, uint64_t count) {
  if (reason == SyslogDrop::kTooLong) stats_.lines_too_long += count;
  if (options_.metrics) options_.metrics->dropped[static_cast<int>(reason)]->Increment(count);
}

void SyslogReceiver::OnDrop(SyslogDrop reason, uint64_t count) { Drop(reason, count); }

void SyslogReceiver::OnMessage(absl::string_view message) {
  ++delivered_;
  ++received_[static_cast<int>(reading_)];  // into the counter once per Poll()
  if (echo_) echo_->Append(message);
  sink_->OnLine(message);
}

size_t SyslogReceiver::Poll(RecordSink* sink) {
  sink_ = sink;
  delivered_ = 0;
  size_t budget = options_.read_budget_messages;
  struct epoll_event events[64];
  const int n = epoll_wait(epoll_fd_, events, 64, 0);
  for (int i = 0; i < n && budget > 0; ++i) {
    auto* e = static_cast<Endpoint*>(events[i].data.ptr);
    reading_ = e->transport;
    if (!e->is_listener) {
      ReadStream(static_cast<Connection*>(e), &budget);
    } else if (e->transport == SyslogAddress::Transport::kUnix ||
               e->transport == SyslogAddress::Transport::kTcp) {
      Accept(static_cast<Listener*>(e));
    } else {
      ReadDatagrams(static_cast<Listener*>(e), &budget);
    }
  }
  ExpireIdle();
  FlushReceived();
  if (echo_) {
    // Never blocks: a full or closed stdout must not stop the ingest.
    echo_->Flush();
    const uint64_t dropped = echo_->dropped_lines();
    if (options_.metrics && dropped > echo_dropped_) {
      options_.metrics->echo_dropped->Increment(static_cast<double>(dropped - echo_dropped_));
    }
    echo_dropped_ = dropped;
  }
  sink_ = nullptr;
  since_wait_ += delivered_;
  return delivered_;
}

void SyslogReceiver::FlushReceived() {
  for (int t = 0; t < 4; ++t) {
    if (received_[t] == 0) continue;
    if (options_.metrics) options_.metrics->received[t]->Increment(received_[t]);
    received_[t] = 0;
  }
}

void SyslogReceiver::ReadDatagrams(Listener* l, size_t* budget) {
  const size_t slot = options_.max_message_bytes + 1;
  while (*budget > 0) {
    const size_t want = std::min(*budget, batch_);
    for (size_t i = 0; i < want; ++i) {
      dgram_iov_[i] = {dgram_buf_.data() + i * slot, slot};
      struct msghdr& h = dgram_hdr_[i].msg_hdr;
      h = {};
      h.msg_iov = &dgram_iov_[i];
      h.msg_iovlen = 1;
      h.msg_control = dgram_control_.data() + i * kControlBytes;
      h.msg_controllen = kControlBytes;
    }
    // One system call for up to `want` datagrams; MSG_TRUNC makes msg_len
    // the datagram's real length.
    const int got = recvmmsg(l->fd, dgram_hdr_.data(), static_cast<unsigned>(want),
                             MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.errors;
      return;
    }
    for (int i = 0; i < got; ++i) {
      --*budget;
      struct msghdr& h = dgram_hdr_[i].msg_hdr;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          uint32_t total;
          std::memcpy(&total, CMSG_DATA(c), sizeof(total));
          // Cumulative per socket; unsigned arithmetic survives its wrap.
          if (total != l->overruns) Drop(SyslogDrop::kOverrun, total - l->overruns);
          l->overruns = total;
        }
      }
      const size_t len = dgram_hdr_[i].msg_len;
      if (len > options_.max_message_bytes || (h.msg_flags & MSG_TRUNC)) {
        Drop(SyslogDrop::kTooLong, 1);
        continue;
      }
      // Parsed in place: the view points into the slot.
      const absl::string_view m =
          TrimSyslogMessage(absl::string_view(dgram_buf_.data() + i * slot, len));
      if (!m.empty()) OnMessage(m);
    }
    // Fewer than asked for: the queue is empty, no need to ask again.
    if (static_cast<size_t>(got) < want) return;
  }
}

void SyslogReceiver::Accept(Listener* l) {
  for (;;) {
    const int fd = accept4(l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.errors;
      return;
    }
    if (connections_.size() >= static_cast<size_t>(options_.max_connections)) {
      close(fd);
      if (options_.metrics) options_.metrics->refused[SyslogMetrics::kRefusedLimit]->Increment();
      continue;
    }
    SetReceiveBuffer(fd, options_.receive_buffer_bytes);
    auto c = std::make_unique<Connection>(options_.max_message_bytes,
                                          kSkipFactor * options_.max_message_bytes);
    c->fd = fd;
    c->transport = l->transport;
    c->last_active = clock_();
    struct epoll_event ev = {};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = static_cast<Endpoint*>(c.get());
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ++stats_.errors;
      continue;
    }
    connections_.push_back(std::move(c));
    if (options_.metrics) options_.metrics->connections_open->Increment();
  }
}

bool SyslogReceiver::ReadStream(Connection* c, size_t* budget) {
  // One read per Poll() per connection keeps one busy peer from starving
  // the others; level-triggered epoll brings it back next time.
  const ssize_t got = read(c->fd, buf_.data(), buf_.size());
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
    ++stats_.errors;
    Close(c, -1);
    return false;
  }
  if (got == 0) {
    Close(c, -1);
    return false;
  }
  c->last_active = clock_();
  const size_t before = delivered_;
  const bool ok = c->framer.Feed(absl::string_view(buf_.data(), static_cast<size_t>(got)), this);
  const size_t n = delivered_ - before;
  *budget -= std::min(*budget, n == 0 ? 1 : n);
  if (!ok) {
    Close(c, SyslogMetrics::kRefusedFraming);
    return false;
  }
  return true;
}

void SyslogReceiver::Close(Connection* c, int refusal) {
  reading_ = c->transport;
  c->framer.Finish(this);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  if (options_.metrics) {
    options_.metrics->connections_open->Decrement();
    if (refusal >= 0) options_.metrics->refused[refusal]->Increment();
  }
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() == c) {
      connections_.erase(it);
      return;
    }
  }
}

void SyslogReceiver::ExpireIdle() {
  if (connections_.empty()) return;
  const absl::Time now = clock_();
  std::vector<Connection*> idle;
  for (const auto& c : connections_) {
    if (now - c->last_active >= options_.idle_timeout) idle.push_back(c.get());
  }
  for (Connection* c : idle) Close(c, SyslogMetrics::kRefusedIdle);
}

absl::Duration SyslogReceiver::CoalesceDelay(absl::Time now) const {
  // Nothing since the last Wait(): a quiet spell, the whole delay.
  if (since_wait_ == 0) return options_.batch_delay;
  // A batch gathered by a sleep tells nothing about the traffic: this one is
  // read as it comes, to see whether batches form by themselves.
  if (slept_) return absl::ZeroDuration();
  // They do (bursts, a busy receiver, a unix datagram queue that filled):
  // a sleep would only add a wake-up.
  if (since_wait_ >= std::min(kFewMessages, coalesce_target_)) return absl::ZeroDuration();
  // The time the last rate needs to bring coalesce_target_ messages.
  const absl::Duration gather = (now - last_wait_) * static_cast<int64_t>(coalesce_target_) /
                                static_cast<int64_t>(since_wait_);
  if (gather < kMinCoalesceDelay) return absl::ZeroDuration();
  return std::min(gather, options_.batch_delay);
}

void SyslogReceiver::Wait(absl::Duration timeout) {
  if (!connections_.empty()) timeout = std::min(timeout, options_.idle_timeout);
  absl::Duration delay = absl::ZeroDuration();
  if (options_.batch_delay > absl::ZeroDuration()) {
    const absl::Time now = clock_();
    delay = std::min(CoalesceDelay(now), timeout);
    last_wait_ = now;
    since_wait_ = 0;
  }
  slept_ = false;
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(timeout));
  // Every ready socket is taken, not just the first: epoll puts those it
  // returns back at the end of its ready list, so taking one would move it
  // behind the others, and Poll() would read the connections out of the
  // order their messages came in (one logger process per line, say).
  struct epoll_event events[64];
  const int ready =
      epoll_wait(epoll_fd_, events, 64, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
  // Readable: let what follows arrive, then one Poll() reads it all.
  if (ready > 0 && delay > absl::ZeroDuration()) {
    sleep_(delay);
    slept_ = true;
  }
}

}  // namespace pse
