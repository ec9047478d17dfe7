#include "exporter/sources/file_source.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "exporter/sources/line_framer.h"
#include "exporter/util/fs_util.h"

namespace pse {
namespace {

// Upper bound on file switches (truncation, rotation) inside one Poll().
constexpr int kMaxSwitchesPerPoll = 4;

}  // namespace

FileSource::FileSource(const FileSourceOptions& options)
    : options_(options), clock_(options.clock ? options.clock : absl::Now) {}

FileSource::~FileSource() = default;

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Create(const FileSourceOptions& options) {
  std::unique_ptr<FileSource> source(new FileSource(options));
  absl::Status status = source->Init();
  if (!status.ok()) return status;
  return source;
}

void FileSource::Log(LogLevel level, absl::string_view msg) {
  if (options_.logger) options_.logger(level, msg);
}

void FileSource::LogProblem(LogLevel level, const std::string& msg) {
  if (msg == last_problem_) return;
  last_problem_ = msg;
  Log(level, msg);
}

std::string FileSource::MissingMessage() const {
  return absl::StrCat("log file ", options_.path, " does not exist; waiting for it");
}

bool FileSource::OpenRetryAllowed() const {
  return clock_() - last_open_failure_ >= options_.stat_interval;
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
    if (!o.position_file.empty() || !o.resume_position_text.empty()) {
      return absl::InvalidArgumentError(
          "a read position cannot be used when reading standard input (path \"-\")");
    }
    is_stdin_ = true;
    current_ = std::make_unique<InputStream>(InputStream::kStdin, o.stdin_fd, /*owns=*/false,
                                             o.max_line_bytes);
    return absl::OkStatus();
  }

  dir_ = ParentDirectory(o.path);
  base_ = o.path.substr(o.path.rfind('/') + 1);  // npos + 1 == 0
  if (base_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("log file path \"", o.path, "\" names a directory"));
  }

  if (!o.once) {
    if (!o.position_file.empty()) {
      absl::Status s = CheckPositionFileUsable(o.position_file);
      if (!s.ok()) return s;
    }
    loaded_position_ = LoadPosition();
    inotify_ = std::make_unique<InotifyWatch>(dir_);
    if (!inotify_->available()) {
      Log(LogLevel::kWarn, absl::StrCat("inotify unavailable (", inotify_->init_error().message(),
                                        "); checking the log file every stat interval"));
    }
    inotify_->EnsureDirWatch();
  }

  std::string error;
  bool missing = false;
  std::unique_ptr<InputStream> s = OpenPath(&error, &missing);
  if (s == nullptr) {
    if (o.once) return absl::NotFoundError(error);
    NoteOpenFailure(error, missing);
    // The saved file may survive under a rotated name while the new one is
    // not there yet.
    if (loaded_position_.has_value()) CatchUpAfterRestart(*loaded_position_);
  } else {
    had_file_ = true;
    current_ = std::move(s);
    Watch(current_.get());
    if (current_->kind == InputStream::kRegular) PositionAtStartup(current_.get());
    Log(LogLevel::kInfo,
        absl::StrCat("following log file ", o.path, " from offset ", current_->framer.offset()));
  }
  if (!o.once) RememberRotated(ListRotatedFiles(dir_, base_));
  return absl::OkStatus();
}

std::optional<SavedPosition> FileSource::LoadPosition() {
  const bool from_text = !options_.resume_position_text.empty();
  if (!from_text && options_.position_file.empty()) return std::nullopt;
  const std::string what =
      from_text ? "resume position" : absl::StrCat("position file ", options_.position_file);
  absl::StatusOr<SavedPosition> pos = from_text ? ParsePosition(options_.resume_position_text)
                                                : ReadPositionFile(options_.position_file);
  if (!pos.ok()) {
    if (absl::IsNotFound(pos.status())) return std::nullopt;  // first start
    if (absl::IsInvalidArgument(pos.status())) {
      Log(LogLevel::kWarn,
          absl::StrCat("ignoring corrupt ", what, " (", pos.status().message(), "); starting at ",
                       options_.from_beginning ? "the beginning" : "the end", " of the log file"));
    } else {
      Log(LogLevel::kWarn,
          absl::StrCat("cannot read ", what, ": ", pos.status().message(), "; ignoring it"));
    }
    return std::nullopt;
  }
  if (pos->path != options_.path) {
    Log(LogLevel::kWarn, absl::StrCat("ignoring ", what, ": it was written for ", pos->path,
                                      ", not ", options_.path));
    return std::nullopt;
  }
  return *pos;
}

std::unique_ptr<InputStream> FileSource::OpenPath(std::string* error, bool* missing) {
  absl::StatusOr<std::unique_ptr<InputStream>> s =
      InputStream::Open(options_.path, options_.max_line_bytes);
  *missing = absl::IsNotFound(s.status());
  if (s.ok()) return std::move(*s);
  *error = std::string(s.status().message());
  return nullptr;
}

std::unique_ptr<InputStream> FileSource::OpenRotated(const RotatedFile& f, uint64_t offset) {
  std::unique_ptr<InputStream> s =
      InputStream::OpenAt(absl::StrCat(dir_, "/", f.name), f.id, offset, options_.max_line_bytes);
  if (s == nullptr) return nullptr;
  s->rotated_at = clock_();
  Watch(s.get());
  return s;
}

void FileSource::PositionAtStartup(InputStream* s) {
  if (options_.once) return;
  if (loaded_position_.has_value()) {
    const SavedPosition& p = *loaded_position_;
    switch (MatchPosition(p, s->fd)) {
      case PositionMatch::kSameFile:
        if (lseek(s->fd, static_cast<off_t>(p.offset), SEEK_SET) < 0) break;
        s->framer.Reset(p.offset);
        // Only a position read from the file itself is known to be on disk.
        if (options_.resume_position_text.empty()) written_position_ = p;
        Log(LogLevel::kInfo,
            absl::StrCat("resuming log file ", options_.path, " at saved offset ", p.offset));
        return;
      case PositionMatch::kRewritten:
        break;
      case PositionMatch::kOtherFile:
        Log(LogLevel::kInfo,
            absl::StrCat("log file ", options_.path,
                         " was rotated since the position was saved; reading the "
                         "rotated files not yet read, then the new file from the start"));
        CatchUpAfterRestart(p);
        return;
    }
    Log(LogLevel::kInfo, absl::StrCat("log file ", options_.path,
                                      " was truncated or rewritten since the position was saved; "
                                      "reading it from the start"));
    return;
  }
  if (options_.from_beginning) return;

  s->SeekToEnd(options_.max_line_bytes);
}

void FileSource::CatchUpAfterRestart(const SavedPosition& p) {
  const std::vector<RotatedFile> listing = ListRotatedFiles(dir_, base_);
  const FileId saved{p.dev, p.ino};
  auto ref = std::find_if(listing.begin(), listing.end(),
                          [&](const RotatedFile& f) { return f.id == saved; });
  ++stats_.rotations;
  if (ref == listing.end()) {
    Log(LogLevel::kWarn, absl::StrCat("the file the position was saved for is no longer in ", dir_,
                                      "; lines written to it after the checkpoint are not read"));
    return;
  }
  std::unique_ptr<InputStream> old = OpenRotated(*ref, p.offset);
  if (old != nullptr && MatchPosition(p, old->fd) == PositionMatch::kSameFile) {
    Log(LogLevel::kInfo, absl::StrCat("reading the rest of rotated log file ", dir_, "/", ref->name,
                                      " from saved offset ", p.offset, " first"));
    behind_.push_back(std::move(old));
  } else if (old != nullptr) {
    Log(LogLevel::kWarn, absl::StrCat("rotated log file ", dir_, "/", ref->name,
                                      " changed since the position was saved; not reading it"));
    CloseStream(&old, nullptr, nullptr);
  }
  const FileId current = current_ != nullptr ? current_->id : FileId{};
  const std::vector<RotatedFile> missed = FilesAfter(listing, *ref, current, base_, nullptr);
  stats_.rotations += missed.size();
  QueueMissed(missed);
}

void FileSource::QueueMissed(const std::vector<RotatedFile>& missed) {
  for (const RotatedFile& f : missed) {
    std::unique_ptr<InputStream> s = OpenRotated(f, 0);
    if (s == nullptr) continue;  // gone meanwhile (compressed, deleted)
    Log(LogLevel::kInfo, absl::StrCat("reading rotated log file ", dir_, "/", f.name,
                                      " from its start; it was rotated away before we looked"));
    behind_.push_back(std::move(s));
  }
}

void FileSource::RememberRotated(const std::vector<RotatedFile>& listing) {
  known_rotated_.clear();
  for (const RotatedFile& f : listing) known_rotated_.insert(f.id);
}

void FileSource::Watch(InputStream* s) {
  if (inotify_ == nullptr || s->kind == InputStream::kStdin) return;
  s->wd = inotify_->WatchOpenFile(s->fd);
}

void FileSource::CloseStream(std::unique_ptr<InputStream>* s, RecordSink* sink, size_t* delivered) {
  if (*s == nullptr) return;
  const size_t n = (*s)->framer.FlushPartial(sink);
  if (delivered != nullptr) *delivered += n;
  if (inotify_ != nullptr && (*s)->wd >= 0) inotify_->Unwatch((*s)->wd);
  s->reset();
}

InputStream::ReadResult FileSource::ReadSome(InputStream* s, RecordSink* sink, size_t* budget,
                                             size_t* delivered) {
  const InputStream::ReadResult r = s->Read(sink, budget, delivered, &stats_.lines_too_long);
  if (r == InputStream::ReadResult::kError) {
    const int err = errno;
    ++stats_.errors;
    LogProblem(LogLevel::kError, absl::StrCat("reading ", Describe(), ": ", ErrnoText(err)));
  }
  return r;
}

bool FileSource::ReadBehind(RecordSink* sink, size_t* budget, size_t* delivered) {
  for (auto it = behind_.begin(); it != behind_.end();) {
    InputStream* s = it->get();
    const InputStream::ReadResult r = ReadSome(s, sink, budget, delivered);
    if (r == InputStream::ReadResult::kBudget) return false;
    if (r == InputStream::ReadResult::kEof) s->reached_eof = true;
    if (r == InputStream::ReadResult::kEof && clock_() - s->rotated_at >= options_.rotate_wait) {
      CloseStream(&*it, sink, delivered);
      it = behind_.erase(it);
    } else {
      ++it;
    }
  }
  return true;
}

// A missing file is waited for (a warning, once); any other failure to open
// is an error, counted, and retried after the stat interval.
void FileSource::NoteOpenFailure(const std::string& error, bool missing) {
  if (missing) {
    LogProblem(LogLevel::kWarn, MissingMessage());
    return;
  }
  ++stats_.errors;
  last_open_failure_ = clock_();
  LogProblem(LogLevel::kError, error);
}

bool FileSource::TryOpenCurrent() {
  if (!OpenRetryAllowed()) return false;
  std::string error;
  bool missing = false;
  std::unique_ptr<InputStream> s = OpenPath(&error, &missing);
  if (s == nullptr) {
    NoteOpenFailure(error, missing);
    return false;
  }
  // A file that appears later is new: all of it is unread.
  if (had_file_ && s->kind == InputStream::kRegular) {
    ++stats_.rotations;
    Log(LogLevel::kInfo,
        absl::StrCat("log file ", options_.path, " re-created; reading it from the start"));
  } else {
    Log(LogLevel::kInfo,
        absl::StrCat("log file ", options_.path, " appeared; reading it from the start"));
  }
  last_problem_.clear();
  had_file_ = true;
  current_ = std::move(s);
  Watch(current_.get());
  return true;
}

bool FileSource::HandleFifoEof(RecordSink* sink, size_t* delivered) {
  // EOF with POLLHUP: every writer has gone. EOF without it: no writer yet.
  if ((current_->PollNow() & POLLHUP) == 0) return false;
  if (options_.once) {
    CloseStream(&current_, sink, delivered);
    at_end_ = true;
    return false;
  }
  // A fresh open clears the hang-up, so the next writer is followed. It is
  // opened before the old descriptor is closed: the pipe never loses its
  // last reader, so what a next writer wrote in between stays in the pipe
  // for the new descriptor instead of being discarded with the old one.
  std::string error;
  bool missing = false;
  std::unique_ptr<InputStream> next = OpenPath(&error, &missing);
  CloseStream(&current_, sink, delivered);
  current_ = std::move(next);
  if (current_ != nullptr) {
    Watch(current_.get());
  } else if (!missing) {
    ++stats_.errors;
    LogProblem(LogLevel::kError, error);
  }
  return false;
}

bool FileSource::HandleEof(RecordSink* sink, size_t* delivered, bool reopen) {
  InputStream* s = current_.get();
  if (s->kind == InputStream::kStdin || (options_.once && s->kind == InputStream::kRegular)) {
    CloseStream(&current_, sink, delivered);
    at_end_ = true;
    return false;
  }
  if (s->kind == InputStream::kFifo) return HandleFifoEof(sink, delivered);

  struct stat fst;
  if (fstat(s->fd, &fst) != 0) {
    ++stats_.errors;
    LogProblem(LogLevel::kError,
               absl::StrCat("cannot stat open log file ", options_.path, ": ", ErrnoText(errno)));
    return false;
  }
  if (static_cast<uint64_t>(fst.st_size) < s->framer.offset()) {
    ++stats_.truncations;
    Log(LogLevel::kInfo,
        absl::StrCat("log file ", options_.path, " was truncated (size ", fst.st_size, " < offset ",
                     s->framer.offset(), "); reading it from the start"));
    if (lseek(s->fd, 0, SEEK_SET) < 0) {
      ++stats_.errors;
      return false;
    }
    // A held partial line is dropped: its rest went to the copy.
    s->framer.Reset(0);
    return true;
  }

  struct stat pst;
  if (stat(options_.path.c_str(), &pst) != 0) {
    const int err = errno;
    if (err != ENOENT && err != ENOTDIR) {
      ++stats_.errors;
      LogProblem(LogLevel::kError,
                 absl::StrCat("cannot stat log file ", options_.path, ": ", ErrnoText(err)));
      return false;
    }
    if (fst.st_nlink == 0) {
      Log(LogLevel::kWarn, absl::StrCat("log file ", options_.path,
                                        " was deleted; waiting for it to be created again"));
      last_problem_ = MissingMessage();  // said already, in other words
      CloseStream(&current_, sink, delivered);
      return false;
    }
    // Renamed and not yet replaced: the writer still appends to our fd.
    return false;
  }
  if (FileIdOf(pst) != s->id) return SwitchToNewFile(fst, sink, delivered);
  if (reopen) {
    std::string error;
    bool missing = false;
    std::unique_ptr<InputStream> fresh = OpenPath(&error, &missing);
    if (fresh != nullptr && fresh->id == s->id &&
        lseek(fresh->fd, static_cast<off_t>(s->framer.offset()), SEEK_SET) >= 0) {
      // Same inode: keep position, partial line and watch; swap the fd.
      std::swap(s->fd, fresh->fd);
      Log(LogLevel::kInfo, absl::StrCat("reopened log file ", options_.path));
    }
  }
  return false;
}

bool FileSource::SwitchToNewFile(const struct stat& old_st, RecordSink* sink, size_t* delivered) {
  if (!OpenRetryAllowed()) return false;
  std::string error;
  bool missing = false;
  std::unique_ptr<InputStream> next = OpenPath(&error, &missing);
  if (next == nullptr) {
    if (!missing) {
      ++stats_.errors;
      last_open_failure_ = clock_();
      LogProblem(LogLevel::kError, error);
    }
    return false;
  }
  // Generations rotated away before we looked sit between the old file and
  // the new one.
  const std::vector<RotatedFile> listing = ListRotatedFiles(dir_, base_);
  const RotatedFile old{"", current_->id, absl::TimeFromTimespec(old_st.st_mtim)};
  const std::vector<RotatedFile> missed =
      FilesAfter(listing, old, next->id, base_, &known_rotated_);
  RememberRotated(listing);
  stats_.rotations += 1 + missed.size();
  Log(LogLevel::kInfo,
      absl::StrCat("log file ", options_.path, " was rotated",
                   missed.empty() ? "" : absl::StrCat(" ", missed.size() + 1, " times"),
                   "; reading the new file from its start"));
  last_problem_.clear();

  current_->rotated_at = clock_();
  current_->reached_eof = true;  // HandleEof runs at its end
  if (options_.rotate_wait <= absl::ZeroDuration()) {
    CloseStream(&current_, sink, delivered);
  } else {
    behind_.push_back(std::move(current_));
  }
  QueueMissed(missed);
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

  for (int i = 0;; ++i) {
    if (i == kMaxSwitchesPerPoll) {
      more_pending_ = true;
      break;
    }
    // Rotated-away files hold the older lines: read them first (again after
    // a switch, which may have queued more).
    if (!ReadBehind(sink, &budget, &delivered)) {
      more_pending_ = true;
      reopen_requested_ = reopen;
      break;
    }
    if (current_ == nullptr) {
      if (is_stdin_ || i > 0) break;
      TryOpenCurrent();
      reopen = false;  // opened by name just now
      if (current_ == nullptr) break;
    }
    const InputStream::ReadResult r = ReadSome(current_.get(), sink, &budget, &delivered);
    if (r == InputStream::ReadResult::kBudget) {
      more_pending_ = true;
      reopen_requested_ = reopen;  // honoured once the file is read to its end
      break;
    }
    if (r != InputStream::ReadResult::kEof) break;
    const bool switched = HandleEof(sink, &delivered, reopen);
    reopen = false;
    if (!switched) break;
  }
  return delivered;
}

bool FileSource::HasWork() {
  if (at_end_ || more_pending_ || reopen_requested_) return true;
  if (is_stdin_) return current_ != nullptr && current_->PollNow() != 0;
  struct stat st;
  for (const auto& s : behind_) {
    if (fstat(s->fd, &st) == 0 && static_cast<uint64_t>(st.st_size) != s->framer.offset()) {
      return true;
    }
    if (clock_() - s->rotated_at >= options_.rotate_wait) return true;
  }
  if (current_ == nullptr) return OpenRetryAllowed() && stat(options_.path.c_str(), &st) == 0;
  if (current_->kind == InputStream::kFifo) return current_->PollNow() != 0;
  if (fstat(current_->fd, &st) != 0) return false;
  if (static_cast<uint64_t>(st.st_size) != current_->framer.offset()) return true;
  struct stat pst;
  if (stat(options_.path.c_str(), &pst) == 0) {
    return FileIdOf(pst) != current_->id && OpenRetryAllowed();
  }
  return errno == ENOENT && st.st_nlink == 0;
}

void FileSource::Wait(absl::Duration timeout) {
  // Real time, not clock_: this blocks the thread, and a fake clock that
  // does not move would never let it return.
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    // Drain first, then check: an event that arrives after the check wakes
    // the poll below, so nothing slips between the two.
    if (inotify_ != nullptr) {
      inotify_->Drain();
      inotify_->EnsureDirWatch();
    }
    if (HasWork()) return;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return;
    const absl::Duration slice = std::min(left, options_.stat_interval);
    pollfd fds[2];
    nfds_t n = 0;
    if (inotify_ != nullptr && inotify_->available()) {
      fds[n++] = pollfd{inotify_->fd(), POLLIN, 0};
    }
    if (current_ != nullptr && current_->kind != InputStream::kRegular) {
      fds[n++] = pollfd{current_->fd, POLLIN, 0};
    }
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(slice, absl::Milliseconds(1)));
    poll(fds, n, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
  }
}

bool FileSource::AtEnd() const { return at_end_; }

void FileSource::Reopen() {
  if (is_stdin_ || (current_ != nullptr && current_->kind == InputStream::kFifo)) return;
  reopen_requested_ = true;
}

const InputStream* FileSource::CheckpointStream() const {
  if (options_.once || is_stdin_) return nullptr;
  for (const auto& s : behind_) {
    if (!s->reached_eof) return s.get();
  }
  if (current_ == nullptr || current_->kind != InputStream::kRegular) return nullptr;
  return current_.get();
}

std::string FileSource::CheckpointText() {
  const InputStream* s = CheckpointStream();
  if (s == nullptr) return "";
  absl::StatusOr<SavedPosition> p = PositionOf(options_.path, s->fd, s->framer.CommitOffset());
  if (!p.ok()) {
    ++stats_.errors;
    return "";
  }
  return FormatPosition(*p);
}

absl::Status FileSource::Checkpoint() {
  if (options_.position_file.empty()) return absl::OkStatus();
  const InputStream* s = CheckpointStream();
  if (s == nullptr) return absl::OkStatus();
  const uint64_t offset = s->framer.CommitOffset();
  if (written_position_.has_value() && written_position_->dev == s->id.dev &&
      written_position_->ino == s->id.ino && written_position_->offset == offset) {
    return absl::OkStatus();
  }
  const std::string& pf = options_.position_file;
  absl::StatusOr<SavedPosition> p = PositionOf(options_.path, s->fd, offset);
  absl::Status status = p.ok() ? WritePositionFile(pf, *p) : p.status();
  if (!status.ok()) {
    ++stats_.errors;
    return absl::Status(status.code(), absl::StrCat("position file ", pf, ": ", status.message()));
  }
  written_position_ = *p;
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
