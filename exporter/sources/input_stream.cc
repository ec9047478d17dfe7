#include "exporter/sources/input_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/fs_util.h"

namespace pse {

InputStream::~InputStream() {
  if (owns_fd && fd >= 0) close(fd);
}

absl::StatusOr<std::unique_ptr<InputStream>> InputStream::Open(const std::string& path,
                                                               size_t max_line_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string message = absl::StrCat("cannot open log file ", path, ": ", ErrnoText(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot stat log file ", path, ": ", ErrnoText(err)));
  }
  Kind kind;
  if (S_ISREG(st.st_mode)) {
    kind = kRegular;
  } else if (S_ISFIFO(st.st_mode)) {
    kind = kFifo;
  } else {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("log file ", path, " is not a regular file or FIFO"));
  }
  auto s = std::make_unique<InputStream>(kind, fd, /*owns=*/true, max_line_bytes);
  s->id = FileIdOf(st);
  return s;
}

std::unique_ptr<InputStream> InputStream::OpenAt(const std::string& path, const FileId& id,
                                                 uint64_t offset, size_t max_line_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return nullptr;
  auto s = std::make_unique<InputStream>(kRegular, fd, /*owns=*/true, max_line_bytes);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || FileIdOf(st) != id ||
      lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return nullptr;
  }
  s->id = id;
  s->framer.Reset(offset);
  return s;
}

void InputStream::SeekToEnd(size_t max_line_bytes) {
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (lseek(fd, static_cast<off_t>(size), SEEK_SET) < 0) return;
  framer.Reset(size);
  if (size == 0) return;
  // One byte more than the longest line: enough to find where the last
  // (unterminated) line starts, or that it is too long anyway.
  const uint64_t n = std::min<uint64_t>(size, max_line_bytes + 1);
  std::unique_ptr<char[]> tail(new char[n]);
  if (!PreadAll(fd, tail.get(), n, size - n) || tail[n - 1] == '\n') return;
  const void* nl = memrchr(tail.get(), '\n', n);
  framer.SkipRestOfLine(nl == nullptr ? (n == size ? 0 : size)
                                      : size - n + (static_cast<const char*>(nl) - tail.get()) + 1);
}

InputStream::ReadResult InputStream::Read(RecordSink* sink, size_t* budget, size_t* delivered,
                                          uint64_t* too_long) {
  while (*budget > 0) {
    if (kind == kStdin && PollNow() == 0) return ReadResult::kNoData;
    const size_t want = std::min(framer.read_room(), *budget);
    const ssize_t r = read(fd, framer.read_buffer(), want);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::kNoData;
      return ReadResult::kError;
    }
    if (r == 0) return ReadResult::kEof;
    *budget -= static_cast<size_t>(r);
    *delivered += framer.Frame(static_cast<size_t>(r), sink, too_long);
  }
  return ReadResult::kBudget;
}

short InputStream::PollNow() const {
  pollfd p{fd, POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  return r > 0 ? p.revents : 0;
}

}  // namespace pse
