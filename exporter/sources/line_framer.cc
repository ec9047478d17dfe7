#include "exporter/sources/line_framer.h"

#include <cstring>

#include "absl/strings/string_view.h"

namespace pse {
namespace {

// Read granularity on top of the line cap: every read() gets at least this
// much room, whatever partial line is held.
constexpr size_t kReadChunk = 64 * 1024;

bool DeliverLine(const char* begin, size_t len, RecordSink* sink) {
  if (len > 0 && begin[len - 1] == '\r') --len;
  if (len == 0) return false;
  sink->OnLine(absl::string_view(begin, len));
  return true;
}

}  // namespace

LineFramer::LineFramer(size_t max_line_bytes)
    : max_line_(max_line_bytes), cap_(max_line_bytes + kReadChunk), buf_(new char[cap_]) {}

size_t LineFramer::Frame(size_t n, RecordSink* sink, uint64_t* too_long) {
  offset_ += n;
  char* const base = buf_.get();
  char* begin = base;  // start of the current line
  char* scan = base + pending_;
  char* const end = scan + n;
  size_t delivered = 0;
  while (scan < end) {
    if (skipping_) {
      char* nl = static_cast<char*>(std::memchr(scan, '\n', end - scan));
      if (nl == nullptr) {
        begin = scan = end;
        break;
      }
      skipping_ = false;
      begin = scan = nl + 1;
      continue;
    }
    if (begin == scan) {
      // NUL padding is scanned past, never buffered, however long the hole.
      while (scan < end && *scan == '\0') ++scan;
      begin = scan;
      if (scan == end) break;
    }
    char* nl = static_cast<char*>(std::memchr(scan, '\n', end - scan));
    if (nl == nullptr) {
      scan = end;
      break;
    }
    const size_t len = static_cast<size_t>(nl - begin);
    if (len > max_line_) {
      ++*too_long;
    } else if (DeliverLine(begin, len, sink)) {
      ++delivered;
    }
    begin = scan = nl + 1;
  }
  size_t rest = static_cast<size_t>(end - begin);
  if (rest > max_line_) {
    ++*too_long;
    skipping_ = true;
    skip_start_ = offset_ - rest;
    rest = 0;
  } else if (rest > 0 && begin != base) {
    std::memmove(base, begin, rest);
  }
  pending_ = rest;
  return delivered;
}

size_t LineFramer::FlushPartial(RecordSink* sink) {
  size_t n = 0;
  if (!skipping_ && pending_ > 0 && sink != nullptr) {
    n = DeliverLine(buf_.get(), pending_, sink) ? 1 : 0;
  }
  pending_ = 0;
  skipping_ = false;
  return n;
}

void LineFramer::Reset(uint64_t offset) {
  offset_ = offset;
  pending_ = 0;
  skipping_ = false;
}

void LineFramer::SkipRestOfLine(uint64_t line_start) {
  pending_ = 0;
  skipping_ = true;
  skip_start_ = line_start;
}

}  // namespace pse
