// SyslogEcho: --syslog.echo's copy of every received message on standard
// output (for `docker logs`), which must never stop the ingest.
//
// Rules:
//  - Writes never block: a pipe is written through its own non-blocking
//    open file description (/proc/self/fd/N), so the process's stdout keeps
//    its flags; a socket with MSG_DONTWAIT. Regular files, terminals and
//    /dev/null are written as they are (they do not stay full).
//  - What the reader has not taken yet waits in a buffer of at most
//    kMaxPendingBytes; a line that does not fit is dropped whole and counted
//    (dropped_lines), so the output never holds a torn line and memory stays
//    bounded while nobody reads. A write error (reader gone) drops what is
//    pending, counted the same way.
//
// Thread-safety: not thread-safe; the receiver's thread calls it.
#ifndef PSE_EXPORTER_SOURCES_SYSLOG_ECHO_H_
#define PSE_EXPORTER_SOURCES_SYSLOG_ECHO_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace pse {

class SyslogEcho {
 public:
  static constexpr size_t kMaxPendingBytes = 1 << 20;

  // `fd` stays the caller's.
  explicit SyslogEcho(int fd);
  ~SyslogEcho();
  SyslogEcho(const SyslogEcho&) = delete;
  SyslogEcho& operator=(const SyslogEcho&) = delete;

  // Queues `line` and a newline (or counts it dropped when the buffer is full).
  void Append(absl::string_view line);
  // Writes what the output takes now; never blocks.
  void Flush();

  uint64_t dropped_lines() const { return dropped_lines_; }
  size_t pending_bytes() const { return pending_.size() - written_; }

 private:
  enum class Kind { kPlain, kPipe, kSocket };
  int fd_;
  int own_fd_ = -1;  // the non-blocking description of a pipe
  Kind kind_ = Kind::kPlain;
  std::string pending_;
  size_t written_ = 0;  // bytes of pending_ already written
  uint64_t dropped_lines_ = 0;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_SYSLOG_ECHO_H_
