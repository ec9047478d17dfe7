#include "exporter/sources/syslog_framing.h"

#include <algorithm>
#include <cstring>

namespace pse {

absl::string_view SyslogDropLabel(SyslogDrop d) {
  switch (d) {
    case SyslogDrop::kTooLong:
      return "too_long";
    case SyslogDrop::kUnparsable:
      return "unparsable";
    case SyslogDrop::kOverrun:
      return "overrun";
    case SyslogDrop::kTruncated:
      return "truncated";
  }
  return "unknown";
}

absl::string_view TrimSyslogMessage(absl::string_view m) {
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == '\0')) {
    m.remove_suffix(1);
  }
  return m;
}

void SyslogStreamFramer::Deliver(absl::string_view m, SyslogFrameSink* sink) {
  m = TrimSyslogMessage(m);
  if (!m.empty()) sink->OnMessage(m);
}

bool SyslogStreamFramer::Feed(absl::string_view data, SyslogFrameSink* sink) {
  if (data.empty()) return true;
  if (mode_ == Mode::kUnknown) {
    mode_ = (data[0] >= '0' && data[0] <= '9') ? Mode::kOctetCounting : Mode::kNewline;
  }
  if (mode_ == Mode::kNewline) {
    FeedNewline(data, sink);
    return true;
  }
  while (!data.empty()) {
    if (!FeedOctet(&data, sink)) return false;
  }
  return true;
}

// One step of octet counting: skips, reads a header, or reads a body.
bool SyslogStreamFramer::FeedOctet(absl::string_view* data, SyslogFrameSink* sink) {
  if (skip_ > 0) {
    const uint64_t n = std::min<uint64_t>(skip_, data->size());
    skip_ -= n;
    data->remove_prefix(n);
    return true;
  }
  if (!have_header_) {
    // The header is at most 19 digits (fits uint64) and a space; it is gathered in buf_.
    while (!data->empty()) {
      const char c = data->front();
      if (c == ' ') {
        data->remove_prefix(1);
        uint64_t len = 0;
        for (char d : buf_) len = len * 10 + static_cast<uint64_t>(d - '0');
        buf_.clear();
        if (len == 0) {
          sink->OnDrop(SyslogDrop::kUnparsable, 1);
          return false;
        }
        if (len > max_message_) {
          sink->OnDrop(SyslogDrop::kTooLong, 1);
          if (len > max_skip_) return false;
          skip_ = len;
          return true;
        }
        want_ = len;
        have_header_ = true;
        return true;
      }
      // Leading whitespace between frames (some senders add "\n") is skipped.
      if (buf_.empty() && (c == '\n' || c == '\r')) {
        data->remove_prefix(1);
        continue;
      }
      if (c < '0' || c > '9' || buf_.size() >= 19) {
        buf_.clear();
        sink->OnDrop(SyslogDrop::kUnparsable, 1);
        return false;
      }
      buf_.push_back(c);
      data->remove_prefix(1);
    }
    return true;
  }
  const size_t missing = static_cast<size_t>(want_) - buf_.size();
  if (buf_.empty() && data->size() >= missing) {
    // The whole body is in this read: deliver it without a copy.
    Deliver(data->substr(0, missing), sink);
    data->remove_prefix(missing);
  } else {
    const size_t n = std::min(missing, data->size());
    buf_.append(data->data(), n);
    data->remove_prefix(n);
    if (buf_.size() < want_) return true;
    Deliver(buf_, sink);
    buf_.clear();
  }
  have_header_ = false;
  want_ = 0;
  return true;
}

void SyslogStreamFramer::FeedNewline(absl::string_view data, SyslogFrameSink* sink) {
  while (!data.empty()) {
    const char* p = data.data();
    const char* end = p + data.size();
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', data.size()));
    const char* nul = static_cast<const char*>(std::memchr(p, '\0', nl ? nl - p : data.size()));
    const char* stop = nul != nullptr ? nul : nl;
    if (stop == nullptr) {
      // No terminator yet: hold the start of the message, or keep skipping.
      if (skipping_line_) return;
      if (buf_.size() + data.size() > max_message_) {
        buf_.clear();
        skipping_line_ = true;
        sink->OnDrop(SyslogDrop::kTooLong, 1);
        return;
      }
      buf_.append(p, data.size());
      return;
    }
    const absl::string_view piece(p, static_cast<size_t>(stop - p));
    if (skipping_line_) {
      skipping_line_ = false;
    } else if (buf_.size() + piece.size() > max_message_) {
      buf_.clear();
      sink->OnDrop(SyslogDrop::kTooLong, 1);
    } else if (buf_.empty()) {
      Deliver(piece, sink);
    } else {
      buf_.append(piece.data(), piece.size());
      Deliver(buf_, sink);
      buf_.clear();
    }
    data = absl::string_view(stop + 1, static_cast<size_t>(end - stop - 1));
  }
}

void SyslogStreamFramer::Finish(SyslogFrameSink* sink) {
  if (mode_ == Mode::kNewline) {
    if (!skipping_line_ && !buf_.empty()) Deliver(buf_, sink);
  } else if (mode_ == Mode::kOctetCounting && (have_header_ || !buf_.empty())) {
    sink->OnDrop(SyslogDrop::kTruncated, 1);
  }
  buf_.clear();
  skipping_line_ = false;
  have_header_ = false;
  want_ = 0;
  skip_ = 0;
}

}  // namespace pse
