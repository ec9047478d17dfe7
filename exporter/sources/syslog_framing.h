// SyslogStreamFramer: splits the byte stream of one TCP or unix-stream syslog
// connection into messages.
//
// Framing is detected once per connection from its first byte (RFC 6587): a
// digit means octet counting ("MSG-LEN SP MSG", what rsyslog's omfwd with
// TCP_Framing="octet-counted", syslog-ng's syslog() driver and
// `logger --octet-count` send); anything else means newline framing (one
// message per "\n"; rsyslog's and Docker's default). A NUL byte also ends a
// newline-framed message, as some senders terminate frames with it.
//
// Rules (tests in syslog_framing_test.cc named after them):
//  - Delivered messages have trailing "\r", "\n" and NUL bytes removed;
//    empty messages are not delivered.
//  - A newline-framed message longer than `max_message_bytes` is skipped up
//    to its newline and counted as too_long; the connection stays open.
//  - An octet count above `max_message_bytes` counts as too_long; its bytes
//    are read and thrown away when the count is at most `max_skip_bytes`,
//    otherwise the framer refuses the connection (Feed() returns false), so a
//    count of 10 GB costs neither memory nor a 10 GB read.
//  - A malformed count (no space after at most 19 digits, a count of 0) is
//    unparsable and refuses the connection: nothing after it can be framed.
//  - At the end of the stream, an unfinished newline-framed message is
//    delivered (nobody can complete it); an unfinished octet-counted frame
//    is counted as truncated.
// Memory: at most max_message_bytes + 16 bytes are held.
//
// Not thread-safe. Views handed to the sink are valid only during the call.
#ifndef PSE_EXPORTER_SOURCES_SYSLOG_FRAMING_H_
#define PSE_EXPORTER_SOURCES_SYSLOG_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace pse {

// Why a received message was not delivered; a metric label (bounded).
enum class SyslogDrop {
  kTooLong,     // over max_message_bytes
  kUnparsable,  // a frame header that cannot be read
  kOverrun,     // the kernel dropped datagrams (SO_RXQ_OVFL)
  kTruncated,   // the connection ended or timed out in the middle of a frame
};
inline constexpr int kSyslogDropCount = 4;
absl::string_view SyslogDropLabel(SyslogDrop d);

class SyslogFrameSink {
 public:
  virtual ~SyslogFrameSink() = default;
  virtual void OnMessage(absl::string_view message) = 0;
  virtual void OnDrop(SyslogDrop reason, uint64_t count) = 0;
};

// Removes trailing "\r", "\n" and NUL bytes.
absl::string_view TrimSyslogMessage(absl::string_view m);

class SyslogStreamFramer {
 public:
  enum class Mode { kUnknown, kOctetCounting, kNewline };

  SyslogStreamFramer(size_t max_message_bytes, uint64_t max_skip_bytes)
      : max_message_(max_message_bytes), max_skip_(max_skip_bytes) {}

  // Frames `data`; false when the connection must be closed (see the rules).
  bool Feed(absl::string_view data, SyslogFrameSink* sink);
  // The peer closed (or the connection is being closed): see the rules.
  void Finish(SyslogFrameSink* sink);

  Mode mode() const { return mode_; }
  // True while part of a frame is held or being skipped.
  bool InFrame() const { return !buf_.empty() || skip_ > 0 || skipping_line_; }

 private:
  bool FeedOctet(absl::string_view* data, SyslogFrameSink* sink);
  void FeedNewline(absl::string_view data, SyslogFrameSink* sink);
  void Deliver(absl::string_view m, SyslogFrameSink* sink);

  const size_t max_message_;
  const uint64_t max_skip_;
  Mode mode_ = Mode::kUnknown;
  std::string buf_;  // the held part of the current frame (or count header)
  // Octet counting: bytes of the current message still expected (after the
  // header has been read), and bytes still to throw away.
  uint64_t want_ = 0;
  bool have_header_ = false;
  uint64_t skip_ = 0;
  // Newline framing: discarding the rest of an over-long line.
  bool skipping_line_ = false;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_SYSLOG_FRAMING_H_
