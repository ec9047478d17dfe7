// SyslogReceiver: a Source that is the syslog server itself, so Postfix in a
// container needs no log file: it listens on unix datagram sockets (what
// syslog(3) writes to /dev/log), unix stream sockets, UDP and TCP, and hands
// every received message to the pipeline as one text line.
//
// Rules (tests in syslog_receiver_test.cc named after them):
//  - Each listen address (syslog_address.h) is bound at Create(); a failure
//    to bind any of them fails Create(). A unix socket path that exists and
//    is a socket nobody listens on (left by a crash) is replaced; one that a
//    live process listens on, or that is not a socket, is an error. The
//    socket file gets `socket_mode` and is removed by the destructor when it
//    is still ours (same inode).
//  - Datagrams (unixgram, udp): one datagram is one message. Longer than
//    max_message_bytes: dropped as too_long. Datagrams the kernel dropped
//    because the receive queue was full are counted as overrun where the
//    kernel reports them (SO_RXQ_OVFL: UDP; a unix datagram sender blocks
//    instead of losing). The kernel reports a loss on the next datagram it
//    queues, so the count follows the loss by one message.
//  - Streams (unix, tcp): framing per connection (syslog_framing.h). At most
//    max_connections are open at once; a further peer is accepted and closed
//    at once (counted). A connection silent for idle_timeout is closed (an
//    unfinished frame counts as truncated). A frame that cannot be read
//    closes its connection.
//  - Every message is delivered through RecordSink::OnLine() as received,
//    framing removed; the pipeline's SyslogLineParser reads RFC 3164 (with or
//    without PRI, hostname) and RFC 5424. With `echo`, every delivered
//    message is also written to echo_fd followed by "\n", never blocking
//    (syslog_echo.h: what a reader that does not read leaves is bounded,
//    then dropped and counted).
//  - Poll() never blocks and reads at most read_budget_messages; Wait()
//    blocks in epoll until a socket is readable. There is no read position:
//    CheckpointText() is "" and AtEnd() is always false. Within one Poll(),
//    connections are read in the order they became readable.
//  - Read coalescing (batch_delay > 0) spends a little latency to read
//    more messages per wake-up. When a socket turns readable, Wait() sleeps
//    before it returns: after a quiet spell (nothing delivered since the
//    previous Wait()) the whole batch_delay; after a batch of fewer than 16
//    messages that was read without such a sleep, as long as that batch's
//    arrival rate needs to bring 64 messages (for unixgram at most three
//    quarters of net.unix.max_dgram_qlen, so senders seldom block), at most
//    batch_delay. Not after a larger batch (traffic that batches by itself:
//    bursts, heavy load), nor after a batch gathered by a sleep (the next
//    one shows whether sleeping still pays), nor under 20 us. The sleep is
//    at most the timeout; a signal ends it early.
// Datagrams are read in batches (recvmmsg) and handed on in place.
// Memory: one stream receive buffer of max_message_bytes, datagram slots of
// max_message_bytes + 1 totalling about 2 MiB (at least one), plus at most
// max_message_bytes + 16 held per stream connection.
//
// Thread-safety: not thread-safe; one thread calls every method (see
// exporter/source.h). Views handed to the sink are valid only during the call.
#ifndef PSE_EXPORTER_SOURCES_SYSLOG_RECEIVER_H_
#define PSE_EXPORTER_SOURCES_SYSLOG_RECEIVER_H_

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/log_level.h"
#include "exporter/source.h"
#include "exporter/sources/syslog_address.h"
#include "exporter/sources/syslog_echo.h"
#include "exporter/sources/syslog_framing.h"
#include "exporter/sources/syslog_metrics.h"

namespace pse {

struct SyslogReceiverOptions {
  // unixgram:///path, unix:///path, udp://host:port, tcp://host:port.
  std::vector<std::string> listen_addresses;
  // Mode of the unix socket files; 0666 lets Postfix's unprivileged
  // processes write to it. Octal text (flag syntax).
  std::string socket_mode = "0666";
  // Longer messages are dropped and counted (bytes, framing excluded).
  size_t max_message_bytes = 64 * 1024;
  // Open stream connections (all stream listeners together).
  int max_connections = 256;
  // A stream connection that sends nothing for this long is closed.
  absl::Duration idle_timeout = absl::Minutes(10);
  // SO_RCVBUF of every socket in bytes; 0 keeps the kernel default. Larger
  // absorbs bursts while the ingest thread is busy (the kernel caps it at
  // net.core.rmem_max).
  int receive_buffer_bytes = 0;
  // Write every received message to echo_fd, so the container log still
  // shows Postfix's log when the exporter owns /dev/log.
  bool echo = false;
  int echo_fd = 1;
  // Messages one Poll() delivers at most, so the ingest loop stays responsive.
  size_t read_budget_messages = 4096;
  // Read coalescing: the longest Wait() sleeps after a socket turned
  // readable so that more messages are read per wake-up; 0: off.
  absl::Duration batch_delay = absl::Milliseconds(1);
  // Health metrics; null: not exported (tests).
  SyslogMetrics* metrics = nullptr;
  // Operational events (bound, replaced a stale socket, errors); never per
  // message. Default: discard.
  LogHook logger;
  // Clock the idle timeout and the arrival rate are measured on; tests pass
  // a fake one.
  std::function<absl::Time()> clock = absl::Now;
  // The coalescing sleep; null: nanosleep. Tests pass one that records it.
  std::function<void(absl::Duration)> sleep;
};

class SyslogReceiver : public Source, private SyslogFrameSink {
 public:
  // Fails for a bad address, mode or limit, or a socket that cannot be bound.
  static absl::StatusOr<std::unique_ptr<SyslogReceiver>> Create(
      const SyslogReceiverOptions& options);
  ~SyslogReceiver() override;
  SyslogReceiver(const SyslogReceiver&) = delete;
  SyslogReceiver& operator=(const SyslogReceiver&) = delete;

  size_t Poll(RecordSink* sink) override;
  void Wait(absl::Duration timeout) override;
  bool AtEnd() const override { return false; }
  absl::Status Checkpoint() override { return absl::OkStatus(); }
  std::string CheckpointText() override { return ""; }
  void Reopen() override {}
  SourceStats stats() const override;
  // "syslog:<address>[,<address>...]" as configured.
  std::string Describe() const override;

  // The addresses actually bound, with the port the kernel chose for port 0
  // (tests), in the order given.
  std::vector<std::string> BoundAddresses() const;
  size_t open_connections() const { return connections_.size(); }

 private:
  struct Endpoint;
  struct Listener;
  struct Connection;

  explicit SyslogReceiver(const SyslogReceiverOptions& options);
  absl::Status Init();
  absl::Status Bind(const SyslogAddress& address);
  absl::Status BindUnix(Listener* l);
  absl::Status BindInet(Listener* l);
  void Log(LogLevel level, absl::string_view msg);

  void ReadDatagrams(Listener* l, size_t* budget);
  void Accept(Listener* l);
  // False when the connection was closed.
  bool ReadStream(Connection* c, size_t* budget);
  void Close(Connection* c, int refusal);
  void ExpireIdle();
  void Drop(SyslogDrop reason, uint64_t count);
  void FlushReceived();
  // How long Wait() sleeps once a socket is readable (see the header
  // comment); ZeroDuration: not at all.
  absl::Duration CoalesceDelay(absl::Time now) const;

  // SyslogFrameSink: messages of the endpoint being read.
  void OnMessage(absl::string_view message) override;
  void OnDrop(SyslogDrop reason, uint64_t count) override;

  SyslogReceiverOptions options_;
  mode_t mode_ = 0666;
  std::function<absl::Time()> clock_;
  std::function<void(absl::Duration)> sleep_;
  int epoll_fd_ = -1;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<char> buf_;  // stream reads
  // Datagram batches (recvmmsg): batch_ slots of max_message_bytes + 1.
  size_t batch_ = 1;
  std::vector<char> dgram_buf_;
  std::vector<struct iovec> dgram_iov_;
  std::vector<struct mmsghdr> dgram_hdr_;
  std::vector<char> dgram_control_;
  // Messages delivered by this Poll() per transport, added to the
  // received counters once at its end (one atomic update, not one each).
  double received_[4] = {};
  std::unique_ptr<SyslogEcho> echo_;  // with options_.echo
  uint64_t echo_dropped_ = 0;         // echo_'s count already exported
  RecordSink* sink_ = nullptr;        // during Poll()
  SyslogAddress::Transport reading_ = SyslogAddress::Transport::kUnixgram;
  size_t delivered_ = 0;  // by the current Poll()
  // Read coalescing: messages one delay should gather, messages delivered
  // since the last Wait() began, and when it began.
  size_t coalesce_target_ = 1;
  size_t since_wait_ = 0;
  absl::Time last_wait_ = absl::InfinitePast();
  bool slept_ = false;  // the last Wait() slept after readiness
  SourceStats stats_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_SYSLOG_RECEIVER_H_
