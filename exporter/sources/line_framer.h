// LineFramer: the read buffer of one open input, turning the bytes read from
// it into text lines. FileSource keeps one per open file, FIFO or stdin.
//
// Rules (each has a test in line_framer_test.cc):
//  - A line ends at "\n"; the newline is not part of it, and one "\r" before
//    it is stripped too. Empty lines are not delivered.
//  - An unterminated rest is held until its newline arrives, or until
//    FlushPartial() says nobody can complete it (file closed for good).
//  - A line longer than `max_line_bytes` (without the newline) is skipped
//    whole, including parts that arrive in later reads, and counted once.
//  - NUL bytes at the start of a line are skipped however many there are
//    (the hole a writer without O_APPEND leaves after a copytruncate); they
//    never count towards the line cap.
//  - offset() is the number of bytes consumed from the input (the file
//    offset for regular files); CommitOffset() is the first byte not yet
//    delivered or skipped, i.e. where a restart must resume.
//
// Memory: one buffer of max_line_bytes + 64 KiB, allocated once.
// Not thread-safe. The views handed to the sink point into the buffer and are
// valid only during OnLine().
#ifndef PSE_EXPORTER_SOURCES_LINE_FRAMER_H_
#define PSE_EXPORTER_SOURCES_LINE_FRAMER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "exporter/source.h"

namespace pse {

class LineFramer {
 public:
  // REQUIRES: max_line_bytes > 0.
  explicit LineFramer(size_t max_line_bytes);
  LineFramer(const LineFramer&) = delete;
  LineFramer& operator=(const LineFramer&) = delete;

  // Where the next read() should put its bytes, and how many fit there
  // (always at least 64 KiB).
  char* read_buffer() { return buf_.get() + pending_; }
  size_t read_room() const { return cap_ - pending_; }

  // Frames `n` bytes just read into read_buffer(): complete lines go to
  // `sink`, over-long ones increment *too_long. Returns the lines delivered.
  size_t Frame(size_t n, RecordSink* sink, uint64_t* too_long);

  // Delivers the held unterminated line (if any, and if not being skipped)
  // to `sink` (may be null: dropped), then forgets it. Returns 0 or 1.
  size_t FlushPartial(RecordSink* sink);

  // Forgets the held partial line and any skipping, and sets offset() to
  // `offset` (where the input is positioned now: 0 after a truncation, a
  // saved offset on resume).
  void Reset(uint64_t offset);

  // The input is at offset() in the middle of a line that started at
  // `line_start`: skip up to and including its next newline, and report
  // `line_start` as CommitOffset() until then.
  void SkipRestOfLine(uint64_t line_start);

  uint64_t offset() const { return offset_; }
  uint64_t CommitOffset() const { return skipping_ ? skip_start_ : offset_ - pending_; }

 private:
  const size_t max_line_;
  const size_t cap_;
  std::unique_ptr<char[]> buf_;
  uint64_t offset_ = 0;    // bytes consumed from the input
  size_t pending_ = 0;     // bytes of an unfinished line at buf_[0..pending_)
  bool skipping_ = false;  // inside an over-long line (or one we started in)
  uint64_t skip_start_ = 0;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_LINE_FRAMER_H_
