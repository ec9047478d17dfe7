#include "exporter/sources/file_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pse {
namespace {

// Read granularity on top of the line cap: every read() gets at least this
// much room, whatever partial line is held.
constexpr size_t kReadChunk = 64 * 1024;
// How many bytes before the saved offset identify a file's contents.
constexpr uint64_t kHashWindow = 4096;
// Upper bound on file switches (truncation, rotation) inside one Poll().
constexpr int kMaxSwitchesPerPoll = 4;
constexpr size_t kMaxPositionFileBytes = 64 * 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

// FNV-1a 64: stable across processes and builds (absl::Hash is seeded per
// process, so it cannot be persisted).
uint64_t Fnv1a64(const char* data, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

bool PreadAll(int fd, char* buf, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

// Hash of the up to kHashWindow bytes before `offset`.
bool HashBefore(int fd, uint64_t offset, uint64_t* hash) {
  const uint64_t n = std::min(offset, kHashWindow);
  char buf[kHashWindow];
  if (!PreadAll(fd, buf, n, offset - n)) return false;
  *hash = Fnv1a64(buf, n);
  return true;
}

// Readable or hung up, without waiting.
short PollNow(int fd) {
  pollfd p{fd, POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  return r > 0 ? p.revents : 0;
}

bool DeliverLine(const char* begin, size_t len, RecordSink* sink) {
  if (len > 0 && begin[len - 1] == '\r') --len;
  if (len == 0) return false;
  sink->OnLine(absl::string_view(begin, len));
  return true;
}

bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t r = write(fd, data.data(), data.size());
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data.remove_prefix(static_cast<size_t>(r));
  }
  return true;
}

}  // namespace

// One open input with its line framing state.
struct FileSource::Stream {
  enum Kind { kRegular, kFifo, kStdin };

  Stream(Kind k, int f, bool owns, size_t max_line)
      : kind(k), fd(f), owns_fd(owns), cap(max_line + kReadChunk), buf(new char[cap]) {}
  ~Stream() {
    if (owns_fd && fd >= 0) close(fd);
  }

  // The first byte not yet delivered or skipped: where a restart resumes.
  uint64_t CommitOffset() const { return skipping ? skip_start : read_offset - pending; }

  void DropPartial() {
    pending = 0;
    skipping = false;
  }

  // Frames `n` bytes just read into buf + pending. Complete lines go to the
  // sink as views into buf; the unfinished rest moves to the front.
  size_t Frame(size_t n, size_t max_line, RecordSink* sink, uint64_t* too_long) {
    char* const base = buf.get();
    char* begin = base;  // start of the current line
    char* scan = base + pending;
    char* const end = scan + n;
    size_t delivered = 0;
    while (scan < end) {
      if (skipping) {
        char* nl = static_cast<char*>(std::memchr(scan, '\n', end - scan));
        if (nl == nullptr) {
          begin = scan = end;
          break;
        }
        skipping = false;
        begin = scan = nl + 1;
        continue;
      }
      if (begin == scan) {
        // NUL padding (copytruncate with a non-O_APPEND writer) is scanned
        // past, never buffered, however long the hole is.
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
      if (len > max_line) {
        ++*too_long;
      } else if (DeliverLine(begin, len, sink)) {
        ++delivered;
      }
      begin = scan = nl + 1;
    }
    size_t rest = static_cast<size_t>(end - begin);
    if (rest > max_line) {
      ++*too_long;
      skipping = true;
      skip_start = read_offset - rest;
      rest = 0;
    } else if (rest > 0 && begin != base) {
      std::memmove(base, begin, rest);
    }
    pending = rest;
    return delivered;
  }

  // Delivers the held unterminated line: nobody can complete it any more.
  size_t FlushPartial(RecordSink* sink) {
    size_t n = 0;
    if (!skipping && pending > 0 && sink != nullptr) {
      n = DeliverLine(buf.get(), pending, sink) ? 1 : 0;
    }
    DropPartial();
    return n;
  }

  Kind kind;
  int fd;
  bool owns_fd;
  dev_t dev = 0;
  ino_t ino = 0;
  uint64_t read_offset = 0;  // bytes read from fd; the file offset for regular files
  int wd = -1;               // inotify watch, -1 if none
  absl::Time rotated_at = absl::InfiniteFuture();

  const size_t cap;
  std::unique_ptr<char[]> buf;
  size_t pending = 0;     // bytes of an unfinished line at buf[0..pending)
  bool skipping = false;  // inside an over-long line (or a line we started in)
  uint64_t skip_start = 0;
};

struct FileSource::SavedPosition {
  std::string path;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t offset = 0;
  uint64_t hash = 0;
};

namespace {

constexpr absl::string_view kHashPrefix = "fnv1a64:";

std::string FormatPosition(const std::string& path, uint64_t dev, uint64_t ino, uint64_t offset,
                           uint64_t hash) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return absl::StrCat(
      "# postfix_sasl_exporter log file position (written atomically; safe to delete)\n"
      "version=1\n",
      "path=", path, "\n", "device=", dev, "\n", "inode=", ino, "\n", "offset=", offset, "\n",
      "hash=", kHashPrefix, hex, "\n");
}

}  // namespace

FileSource::FileSource(const FileSourceOptions& options) : options_(options) {}

FileSource::~FileSource() {
  current_.reset();
  draining_.reset();
  if (inotify_fd_ >= 0) close(inotify_fd_);
}

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Create(const FileSourceOptions& options) {
  std::unique_ptr<FileSource> source(new FileSource(options));
  absl::Status status = source->Init();
  if (!status.ok()) return status;
  return source;
}

void FileSource::Log(absl::string_view level, absl::string_view msg) {
  if (options_.logger) options_.logger(level, msg);
}

void FileSource::LogProblem(absl::string_view level, const std::string& msg) {
  if (msg == last_problem_) return;
  last_problem_ = msg;
  Log(level, msg);
}

std::string FileSource::MissingMessage() const {
  return absl::StrCat("log file ", options_.path, " does not exist; waiting for it");
}

bool FileSource::OpenRetryAllowed() const {
  return absl::Now() - last_open_failure_ >= options_.stat_interval;
}

absl::Status FileSource::Init() {
  const FileSourceOptions& o = options_;
  if (o.path.empty()) return absl::InvalidArgumentError("log file path is empty");
  if (o.max_line_bytes == 0) return absl::InvalidArgumentError("max line length must be > 0");
  if (o.read_budget_bytes == 0) return absl::InvalidArgumentError("read budget must be > 0");
  if (o.stat_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("stat interval must be > 0");
  }

  if (o.path == "-") {
    if (!o.position_file.empty()) {
      return absl::InvalidArgumentError(
          "a position file cannot be used when reading standard input (path \"-\")");
    }
    is_stdin_ = true;
    current_ =
        std::make_unique<Stream>(Stream::kStdin, o.stdin_fd, /*owns=*/false, o.max_line_bytes);
    return absl::OkStatus();
  }

  const size_t slash = o.path.rfind('/');
  if (slash == std::string::npos) {
    dir_ = ".";
    base_ = o.path;
  } else {
    dir_ = slash == 0 ? "/" : o.path.substr(0, slash);
    base_ = o.path.substr(slash + 1);
  }
  if (base_.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("log file path \"", o.path, "\" names a directory"));

  if (!o.position_file.empty() && !o.once) {
    const std::string& pf = o.position_file;
    const size_t pslash = pf.rfind('/');
    const std::string pdir =
        pslash == std::string::npos ? "." : (pslash == 0 ? "/" : pf.substr(0, pslash));
    struct stat st;
    if (stat(pdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("position file ", pf, ": directory ", pdir, " does not exist"));
    }
    if (access(pdir.c_str(), W_OK | X_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("position file ", pf, ": directory ", pdir,
                                                     " is not writable: ", ErrnoText(errno)));
    }
    if (stat(pf.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("position file ", pf, " exists and is not a regular file"));
    }
    loaded_position_ = LoadPosition();
  }

  if (!o.once) {
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      Log("warn", absl::StrCat("inotify unavailable (", ErrnoText(errno),
                               "); checking the log file every stat interval"));
    }
    EnsureDirWatch();
  }

  std::string error;
  bool missing = false;
  std::unique_ptr<Stream> s = OpenPath(&error, &missing);
  if (s == nullptr) {
    if (o.once) return absl::NotFoundError(error);
    NoteOpenFailure(error, missing);
    // The saved file may survive under a rotated name while the new one is
    // not there yet.
    if (loaded_position_ != nullptr) MaybeResumeRotatedAway(*loaded_position_);
    return absl::OkStatus();
  }
  had_file_ = true;
  current_ = std::move(s);
  Watch(current_.get());
  if (current_->kind == Stream::kRegular) PositionAtStartup(current_.get());
  Log("info", absl::StrCat("following log file ", o.path, " from offset ", current_->read_offset));
  return absl::OkStatus();
}

std::unique_ptr<FileSource::SavedPosition> FileSource::LoadPosition() {
  const std::string& pf = options_.position_file;
  int fd = open(pf.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) {
      Log("warn",
          absl::StrCat("cannot read position file ", pf, ": ", ErrnoText(errno), "; ignoring it"));
    }
    return nullptr;
  }
  std::string text;
  char buf[4096];
  bool ok = true;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ok = false;
      break;
    }
    if (r == 0) break;
    text.append(buf, static_cast<size_t>(r));
    if (text.size() > kMaxPositionFileBytes) {
      ok = false;
      break;
    }
  }
  close(fd);

  auto pos = std::make_unique<SavedPosition>();
  std::string why;
  bool have_version = false, have_path = false, have_dev = false, have_ino = false,
       have_offset = false, have_hash = false;
  if (!ok) why = "unreadable or too large";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!why.empty()) break;
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      why = absl::StrCat("line without '=': \"", line.substr(0, 80), "\"");
      break;
    }
    const absl::string_view key = line.substr(0, eq);
    const absl::string_view value = line.substr(eq + 1);
    bool good = true;
    if (key == "version") {
      good = value == "1";
      have_version = true;
    } else if (key == "path") {
      pos->path = std::string(value);
      have_path = true;
    } else if (key == "device") {
      good = absl::SimpleAtoi(value, &pos->dev);
      have_dev = true;
    } else if (key == "inode") {
      good = absl::SimpleAtoi(value, &pos->ino);
      have_ino = true;
    } else if (key == "offset") {
      good = absl::SimpleAtoi(value, &pos->offset);
      have_offset = true;
    } else if (key == "hash") {
      absl::string_view hex = value;
      good = absl::ConsumePrefix(&hex, kHashPrefix) && hex.size() == 16 &&
             absl::SimpleHexAtoi(hex, &pos->hash);
      have_hash = true;
    }  // Unknown keys are tolerated: a newer version may add some.
    if (!good) why = absl::StrCat("bad value for ", key, ": \"", value.substr(0, 80), "\"");
  }
  if (why.empty() &&
      !(have_version && have_path && have_dev && have_ino && have_offset && have_hash)) {
    why = "a required key is missing";
  }
  if (!why.empty()) {
    Log("warn",
        absl::StrCat("ignoring corrupt position file ", pf, " (", why, "); starting at ",
                     options_.from_beginning ? "the beginning" : "the end", " of the log file"));
    return nullptr;
  }
  if (pos->path != options_.path) {
    Log("warn", absl::StrCat("ignoring position file ", pf, ": it was written for ", pos->path,
                             ", not ", options_.path));
    return nullptr;
  }
  return pos;
}

std::unique_ptr<FileSource::Stream> FileSource::OpenPath(std::string* error, bool* missing) {
  *missing = false;
  int fd = open(options_.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    *missing = err == ENOENT;
    *error = absl::StrCat("cannot open log file ", options_.path, ": ", ErrnoText(err));
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *error = absl::StrCat("cannot stat log file ", options_.path, ": ", ErrnoText(errno));
    close(fd);
    return nullptr;
  }
  Stream::Kind kind;
  if (S_ISREG(st.st_mode)) {
    kind = Stream::kRegular;
  } else if (S_ISFIFO(st.st_mode)) {
    kind = Stream::kFifo;
  } else {
    *error = absl::StrCat("log file ", options_.path, " is not a regular file or FIFO");
    close(fd);
    return nullptr;
  }
  auto s = std::make_unique<Stream>(kind, fd, /*owns=*/true, options_.max_line_bytes);
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  return s;
}

void FileSource::PositionAtStartup(Stream* s) {
  if (options_.once) return;
  if (loaded_position_ != nullptr) {
    const SavedPosition& p = *loaded_position_;
    if (p.dev == static_cast<uint64_t>(s->dev) && p.ino == static_cast<uint64_t>(s->ino)) {
      struct stat st;
      uint64_t hash = 0;
      if (fstat(s->fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= p.offset &&
          HashBefore(s->fd, p.offset, &hash) && hash == p.hash &&
          lseek(s->fd, static_cast<off_t>(p.offset), SEEK_SET) >= 0) {
        s->read_offset = p.offset;
        written_position_ = std::make_unique<SavedPosition>(p);
        Log("info",
            absl::StrCat("resuming log file ", options_.path, " at saved offset ", p.offset));
        return;
      }
      Log("info", absl::StrCat("log file ", options_.path,
                               " was truncated or rewritten since the position was saved; "
                               "reading it from the start"));
      return;
    }
    Log("info", absl::StrCat("log file ", options_.path,
                             " was rotated since the position was saved; reading the new file "
                             "from the start"));
    MaybeResumeRotatedAway(p);
    return;
  }
  if (options_.from_beginning) return;

  struct stat st;
  if (fstat(s->fd, &st) != 0) return;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (lseek(s->fd, static_cast<off_t>(size), SEEK_SET) < 0) return;
  s->read_offset = size;
  if (size == 0) return;
  // Starting in the middle of a line: skip its rest, and save the position
  // of its start so a restart does not deliver the tail as a line.
  const uint64_t n = std::min<uint64_t>(size, options_.max_line_bytes + 1);
  std::unique_ptr<char[]> tail(new char[n]);
  if (!PreadAll(s->fd, tail.get(), n, size - n) || tail[n - 1] == '\n') return;
  s->skipping = true;
  const void* nl = memrchr(tail.get(), '\n', n);
  s->skip_start = nl == nullptr ? (n == size ? 0 : size)
                                : size - n + (static_cast<const char*>(nl) - tail.get()) + 1;
}

void FileSource::MaybeResumeRotatedAway(const SavedPosition& p) {
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) return;
  std::string found;
  while (dirent* e = readdir(d)) {
    absl::string_view name = e->d_name;
    if (name.size() <= base_.size() || !absl::StartsWith(name, base_)) continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    if (static_cast<uint64_t>(st.st_dev) == p.dev && static_cast<uint64_t>(st.st_ino) == p.ino) {
      found = absl::StrCat(dir_, "/", name);
      break;
    }
  }
  closedir(d);
  if (found.empty()) return;
  int fd = open(found.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  uint64_t hash = 0;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_ino) != p.ino ||
      static_cast<uint64_t>(st.st_size) < p.offset || !HashBefore(fd, p.offset, &hash) ||
      hash != p.hash || lseek(fd, static_cast<off_t>(p.offset), SEEK_SET) < 0) {
    close(fd);
    return;
  }
  auto s = std::make_unique<Stream>(Stream::kRegular, fd, /*owns=*/true, options_.max_line_bytes);
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  s->read_offset = p.offset;
  s->rotated_at = absl::Now();
  draining_ = std::move(s);
  Watch(draining_.get());
  Log("info", absl::StrCat("reading the rest of rotated log file ", found, " from saved offset ",
                           p.offset, " first"));
}

void FileSource::Watch(Stream* s) {
  if (inotify_fd_ < 0 || s->kind == Stream::kStdin) return;
  // Through /proc the watch is on the inode we hold, not whatever the name
  // points to now, and survives renames and unlinks.
  const std::string proc = absl::StrCat("/proc/self/fd/", s->fd);
  s->wd = inotify_add_watch(inotify_fd_, proc.c_str(),
                            IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF);
}

void FileSource::Unwatch(Stream* s) {
  if (s->wd < 0) return;
  // inotify has one watch per inode: keep it if the other stream uses it.
  Stream* other = s == current_.get() ? draining_.get() : current_.get();
  if (other == nullptr || other->wd != s->wd) inotify_rm_watch(inotify_fd_, s->wd);
  s->wd = -1;
}

void FileSource::EnsureDirWatch() {
  if (inotify_fd_ < 0 || dir_wd_ >= 0 || is_stdin_) return;
  dir_wd_ = inotify_add_watch(inotify_fd_, dir_.c_str(),
                              IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
                                  IN_MOVE_SELF | IN_ONLYDIR);
}

void FileSource::DrainInotify() {
  if (inotify_fd_ < 0) return;
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t r = read(inotify_fd_, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    for (ssize_t i = 0; i < r;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + i);
      if (ev->mask & IN_IGNORED) {
        // The kernel dropped the watch (inode gone, directory removed).
        if (ev->wd == dir_wd_) dir_wd_ = -1;
        if (current_ && current_->wd == ev->wd) current_->wd = -1;
        if (draining_ && draining_->wd == ev->wd) draining_->wd = -1;
      }
      i += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

void FileSource::CloseStream(std::unique_ptr<Stream>* s, RecordSink* sink, size_t* delivered) {
  if (*s == nullptr) return;
  *delivered += (*s)->FlushPartial(sink);
  Unwatch(s->get());
  s->reset();
}

FileSource::ReadResult FileSource::ReadSome(Stream* s, RecordSink* sink, size_t* budget,
                                            size_t* delivered) {
  while (*budget > 0) {
    // stdin's flags belong to a shared file description: instead of setting
    // O_NONBLOCK, read only what poll(2) says is there.
    if (s->kind == Stream::kStdin && PollNow(s->fd) == 0) return ReadResult::kNoData;
    const size_t want = std::min(s->cap - s->pending, *budget);
    const ssize_t r = read(s->fd, s->buf.get() + s->pending, want);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::kNoData;
      ++stats_.errors;
      LogProblem("error", absl::StrCat("reading ", Describe(), ": ", ErrnoText(errno)));
      return ReadResult::kError;
    }
    if (r == 0) return ReadResult::kEof;
    *budget -= static_cast<size_t>(r);
    s->read_offset += static_cast<uint64_t>(r);
    *delivered +=
        s->Frame(static_cast<size_t>(r), options_.max_line_bytes, sink, &stats_.lines_too_long);
  }
  return ReadResult::kBudget;
}

// A missing file is waited for (a warning, once); any other failure to open
// is an error, counted, and retried after the stat interval.
void FileSource::NoteOpenFailure(const std::string& error, bool missing) {
  if (missing) {
    LogProblem("warn", MissingMessage());
    return;
  }
  ++stats_.errors;
  last_open_failure_ = absl::Now();
  LogProblem("error", error);
}

bool FileSource::TryOpenCurrent() {
  if (!OpenRetryAllowed()) return false;
  std::string error;
  bool missing = false;
  std::unique_ptr<Stream> s = OpenPath(&error, &missing);
  if (s == nullptr) {
    NoteOpenFailure(error, missing);
    return false;
  }
  // A file that appears later is new: all of it is unread.
  if (had_file_ && s->kind == Stream::kRegular) {
    ++stats_.rotations;
    Log("info", absl::StrCat("log file ", options_.path, " re-created; reading it from the start"));
  } else {
    Log("info", absl::StrCat("log file ", options_.path, " appeared; reading it from the start"));
  }
  last_problem_.clear();
  had_file_ = true;
  current_ = std::move(s);
  Watch(current_.get());
  return true;
}

bool FileSource::HandleEof(RecordSink* sink, size_t* delivered, bool reopen) {
  Stream* s = current_.get();
  if (s->kind == Stream::kStdin) {
    CloseStream(&current_, sink, delivered);
    at_end_ = true;
    return false;
  }
  if (s->kind == Stream::kFifo) {
    // EOF with POLLHUP: every writer has gone. EOF without it: no writer yet.
    if ((PollNow(s->fd) & POLLHUP) == 0) return false;
    CloseStream(&current_, sink, delivered);
    if (options_.once) {
      at_end_ = true;
      return false;
    }
    // A fresh open clears the hang-up, so the next writer is followed.
    std::string error;
    bool missing = false;
    current_ = OpenPath(&error, &missing);
    if (current_ != nullptr) {
      Watch(current_.get());
    } else if (!missing) {
      ++stats_.errors;
      LogProblem("error", error);
    }
    return false;
  }
  if (options_.once) {
    CloseStream(&current_, sink, delivered);
    at_end_ = true;
    return false;
  }

  struct stat fst;
  if (fstat(s->fd, &fst) != 0) {
    ++stats_.errors;
    LogProblem("error",
               absl::StrCat("cannot stat open log file ", options_.path, ": ", ErrnoText(errno)));
    return false;
  }
  if (static_cast<uint64_t>(fst.st_size) < s->read_offset) {
    ++stats_.truncations;
    Log("info", absl::StrCat("log file ", options_.path, " was truncated (size ", fst.st_size,
                             " < offset ", s->read_offset, "); reading it from the start"));
    if (lseek(s->fd, 0, SEEK_SET) < 0) {
      ++stats_.errors;
      return false;
    }
    s->read_offset = 0;
    s->DropPartial();
    return true;
  }

  struct stat pst;
  if (stat(options_.path.c_str(), &pst) != 0) {
    const int err = errno;
    if (err != ENOENT && err != ENOTDIR) {
      ++stats_.errors;
      LogProblem("error",
                 absl::StrCat("cannot stat log file ", options_.path, ": ", ErrnoText(err)));
      return false;
    }
    if (fst.st_nlink == 0) {
      Log("warn", absl::StrCat("log file ", options_.path,
                               " was deleted; waiting for it to be created again"));
      last_problem_ = MissingMessage();  // said already, in other words
      CloseStream(&current_, sink, delivered);
      return false;
    }
    // Renamed and not yet replaced: the writer still appends to our fd.
    return false;
  }
  if (pst.st_dev == s->dev && pst.st_ino == s->ino) {
    if (reopen) {
      std::string error;
      bool missing = false;
      std::unique_ptr<Stream> fresh = OpenPath(&error, &missing);
      if (fresh != nullptr && fresh->dev == s->dev && fresh->ino == s->ino &&
          lseek(fresh->fd, static_cast<off_t>(s->read_offset), SEEK_SET) >= 0) {
        // Same inode: keep position, partial line and watch; swap the fd.
        std::swap(s->fd, fresh->fd);
        Log("info", absl::StrCat("reopened log file ", options_.path));
      }
    }
    return false;
  }

  // Another file under our name: the old one is drained (we are at its EOF).
  if (!OpenRetryAllowed()) return false;
  std::string error;
  bool missing = false;
  std::unique_ptr<Stream> next = OpenPath(&error, &missing);
  if (next == nullptr) {
    if (!missing) {
      ++stats_.errors;
      last_open_failure_ = absl::Now();
      LogProblem("error", error);
    }
    return false;
  }
  ++stats_.rotations;
  Log("info", absl::StrCat("log file ", options_.path,
                           " was rotated; reading the new file from its start"));
  last_problem_.clear();
  CloseStream(&draining_, sink, delivered);
  if (options_.rotate_wait <= absl::ZeroDuration()) {
    CloseStream(&current_, sink, delivered);
  } else {
    current_->rotated_at = absl::Now();
    draining_ = std::move(current_);
  }
  current_ = std::move(next);
  Watch(current_.get());
  return true;
}

size_t FileSource::Poll(RecordSink* sink) {
  more_pending_ = false;
  if (at_end_) return 0;
  size_t budget = options_.read_budget_bytes;
  size_t delivered = 0;
  bool reopen = reopen_requested_;
  reopen_requested_ = false;

  // A rotated-away file holds the older lines: read it first.
  if (draining_ != nullptr) {
    ReadResult r = ReadSome(draining_.get(), sink, &budget, &delivered);
    if (r == ReadResult::kBudget) {
      more_pending_ = true;
      reopen_requested_ = reopen;
      return delivered;
    }
    if (r == ReadResult::kEof && absl::Now() - draining_->rotated_at >= options_.rotate_wait) {
      CloseStream(&draining_, sink, &delivered);
    }
  }

  if (current_ == nullptr) {
    if (is_stdin_) return delivered;
    TryOpenCurrent();
    reopen = false;  // opened by name just now
  }
  for (int i = 0; current_ != nullptr; ++i) {
    if (i == kMaxSwitchesPerPoll) {
      more_pending_ = true;
      break;
    }
    ReadResult r = ReadSome(current_.get(), sink, &budget, &delivered);
    if (r == ReadResult::kBudget) {
      more_pending_ = true;
      reopen_requested_ = reopen;  // honoured once the file is read to its end
      break;
    }
    if (r != ReadResult::kEof) break;
    const bool switched = HandleEof(sink, &delivered, reopen);
    reopen = false;
    if (!switched) break;
  }
  return delivered;
}

bool FileSource::HasWork() {
  if (at_end_ || more_pending_ || reopen_requested_) return true;
  if (is_stdin_) return current_ != nullptr && PollNow(current_->fd) != 0;
  struct stat st;
  if (draining_ != nullptr) {
    if (fstat(draining_->fd, &st) == 0 &&
        static_cast<uint64_t>(st.st_size) != draining_->read_offset) {
      return true;
    }
    if (absl::Now() - draining_->rotated_at >= options_.rotate_wait) return true;
  }
  if (current_ == nullptr) return OpenRetryAllowed() && stat(options_.path.c_str(), &st) == 0;
  if (current_->kind == Stream::kFifo) return PollNow(current_->fd) != 0;
  if (fstat(current_->fd, &st) != 0) return false;
  if (static_cast<uint64_t>(st.st_size) != current_->read_offset) return true;
  struct stat pst;
  if (stat(options_.path.c_str(), &pst) == 0) {
    return (pst.st_dev != current_->dev || pst.st_ino != current_->ino) && OpenRetryAllowed();
  }
  return errno == ENOENT && st.st_nlink == 0;
}

void FileSource::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    // Drain first, then check: an event that arrives after the check wakes
    // the poll below, so nothing slips between the two.
    DrainInotify();
    EnsureDirWatch();
    if (HasWork()) return;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return;
    const absl::Duration slice = std::min(left, options_.stat_interval);
    pollfd fds[2];
    nfds_t n = 0;
    if (inotify_fd_ >= 0) fds[n++] = pollfd{inotify_fd_, POLLIN, 0};
    if (current_ != nullptr && current_->kind != Stream::kRegular) {
      fds[n++] = pollfd{current_->fd, POLLIN, 0};
    }
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(slice, absl::Milliseconds(1)));
    poll(fds, n, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
  }
}

bool FileSource::AtEnd() const { return at_end_; }

void FileSource::Reopen() {
  if (is_stdin_ || (current_ != nullptr && current_->kind == Stream::kFifo)) return;
  reopen_requested_ = true;
}

absl::Status FileSource::Checkpoint() {
  if (options_.position_file.empty() || options_.once || is_stdin_) return absl::OkStatus();
  if (current_ == nullptr || current_->kind != Stream::kRegular) return absl::OkStatus();
  const Stream& s = *current_;
  const uint64_t offset = s.CommitOffset();
  if (written_position_ != nullptr && written_position_->dev == static_cast<uint64_t>(s.dev) &&
      written_position_->ino == static_cast<uint64_t>(s.ino) &&
      written_position_->offset == offset) {
    return absl::OkStatus();
  }
  const std::string& pf = options_.position_file;
  uint64_t hash = 0;
  if (!HashBefore(s.fd, offset, &hash)) {
    ++stats_.errors;
    return absl::UnavailableError(
        absl::StrCat("position file ", pf, ": cannot read log file ", options_.path));
  }
  const std::string text = FormatPosition(options_.path, s.dev, s.ino, offset, hash);
  const std::string tmp = pf + ".tmp";
  auto fail = [&](absl::string_view what) {
    const int err = errno;
    ++stats_.errors;
    unlink(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("position file ", pf, ": ", what, ": ", ErrnoText(err)));
  };
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("create");
  if (!WriteAll(fd, text) || fsync(fd) != 0) {
    const int err = errno;
    close(fd);
    errno = err;
    return fail("write");
  }
  if (close(fd) != 0) return fail("close");
  if (rename(tmp.c_str(), pf.c_str()) != 0) return fail("rename");
  // Make the rename itself durable.
  const size_t slash = pf.rfind('/');
  const std::string pdir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : pf.substr(0, slash));
  int dfd = open(pdir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  auto p = std::make_unique<SavedPosition>();
  p->path = options_.path;
  p->dev = s.dev;
  p->ino = s.ino;
  p->offset = offset;
  p->hash = hash;
  written_position_ = std::move(p);
  return absl::OkStatus();
}

SourceStats FileSource::stats() const {
  SourceStats s = stats_;
  s.up = current_ != nullptr;
  return s;
}

std::string FileSource::Describe() const {
  return is_stdin_ ? std::string("stdin") : absl::StrCat("file:", options_.path);
}

}  // namespace pse
