#include "exporter/sources/syslog_echo.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace pse {

SyslogEcho::SyslogEcho(int fd) : fd_(fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  if (S_ISSOCK(st.st_mode)) {
    kind_ = Kind::kSocket;
  } else if (S_ISFIFO(st.st_mode)) {
    // Opening the pipe again gives a description of our own: O_NONBLOCK on
    // it does not change the stdout other processes share.
    own_fd_ = open(absl::StrCat("/proc/self/fd/", fd).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (own_fd_ >= 0) {
      fd_ = own_fd_;
      kind_ = Kind::kPipe;
    }
  }
}

SyslogEcho::~SyslogEcho() {
  if (own_fd_ >= 0) close(own_fd_);
}

void SyslogEcho::Append(absl::string_view line) {
  if (written_ > 0 && written_ == pending_.size()) {
    pending_.clear();
    written_ = 0;
  }
  if (pending_bytes() + line.size() + 1 > kMaxPendingBytes) {
    ++dropped_lines_;
    return;
  }
  if (written_ > kMaxPendingBytes) {  // keep the buffer from creeping
    pending_.erase(0, written_);
    written_ = 0;
  }
  pending_.append(line.data(), line.size());
  pending_.push_back('\n');
}

void SyslogEcho::Flush() {
  while (written_ < pending_.size()) {
    const char* p = pending_.data() + written_;
    const size_t n = pending_.size() - written_;
    const ssize_t w =
        kind_ == Kind::kSocket ? send(fd_, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd_, p, n);
    if (w > 0) {
      written_ += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // later
    // The output is gone or broken: what waits for it is lost (a line
    // written in part counts as lost).
    dropped_lines_ += static_cast<uint64_t>(std::count(p, p + n, '\n'));
    break;
  }
  pending_.clear();
  written_ = 0;
}

}  // namespace pse
