#include "exporter/sources/journal_source.h"

#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "exporter/sources/journal_entry.h"
#include "exporter/util/fs_util.h"
#include "parsers/log_record.h"

namespace pse {
namespace {

constexpr absl::string_view kDefaultSlice = "system-postfix.slice";
constexpr absl::string_view kDefaultUnit = "postfix.service";

// journalctl -u accepts "postfix" for "postfix.service"; so do we. A name that
// already ends in a unit type suffix is kept as it is.
std::string NormalizeUnit(absl::string_view unit) {
  static constexpr absl::string_view kTypes[] = {".service", ".socket",    ".target", ".device",
                                                 ".mount",   ".automount", ".swap",   ".timer",
                                                 ".path",    ".slice",     ".scope"};
  for (absl::string_view type : kTypes) {
    if (absl::EndsWith(unit, type) && unit.size() > type.size()) return std::string(unit);
  }
  return absl::StrCat(unit, ".service");
}

std::string NormalizeSlice(absl::string_view slice) {
  if (absl::EndsWith(slice, ".slice") && slice.size() > 6) return std::string(slice);
  return absl::StrCat(slice, ".slice");
}

bool IsDirectory(const std::string& path, struct stat* st) {
  return stat(path.c_str(), st) == 0 && S_ISDIR(st->st_mode);
}

// Cursors are about 150 bytes; a file much larger than that is not ours.
constexpr size_t kMaxCursorFileBytes = 64 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<JournalSource>> JournalSource::Create(
    const JournalSourceOptions& options) {
  if (options.batch == 0) {
    return absl::InvalidArgumentError("journal batch size must be greater than 0");
  }
  std::vector<std::string> matches;
  for (const std::string& unit : options.units) {
    if (absl::StripAsciiWhitespace(unit).empty()) {
      return absl::InvalidArgumentError("systemd unit name must not be empty");
    }
    matches.push_back(absl::StrCat("_SYSTEMD_UNIT=", NormalizeUnit(unit)));
  }
  if (!options.slice.empty()) {
    matches.push_back(absl::StrCat("_SYSTEMD_SLICE=", NormalizeSlice(options.slice)));
  }
  if (matches.empty()) {
    matches.push_back(absl::StrCat("_SYSTEMD_SLICE=", kDefaultSlice));
    matches.push_back(absl::StrCat("_SYSTEMD_UNIT=", kDefaultUnit));
  }

  std::unique_ptr<JournalSource> source(new JournalSource(options, std::move(matches)));
  struct stat st;
  if (!options.cursor_file.empty()) {
    const std::string dir = ParentDirectory(options.cursor_file);
    if (!IsDirectory(dir, &st)) {
      return absl::InvalidArgumentError(absl::StrCat("journal cursor file ", options.cursor_file,
                                                     ": directory ", dir, " does not exist"));
    }
  }
  if (!options.resume_cursor.empty()) {
    source->resume_cursor_ = std::string(absl::StripAsciiWhitespace(options.resume_cursor));
    source->SplitTieLines();
  } else if (!options.cursor_file.empty()) {
    absl::Status s = source->ReadCursorFile();
    if (!s.ok()) return s;
  }
  if (source->resume_cursor_ == kHeadPosition) {
    source->resume_cursor_.clear();
    source->start_ = Start::kHead;
  } else if (!source->resume_cursor_.empty()) {
    source->start_ = Start::kCursor;
  } else if (options.once) {
    source->start_ = Start::kHead;
  }

  const bool dir_missing = !options.journal_path.empty() && !IsDirectory(options.journal_path, &st);
  if (dir_missing) {
    if (options.once) {
      return absl::NotFoundError(
          absl::StrCat("journal directory ", options.journal_path, " does not exist"));
    }
    // Everything in a journal that appears after start is new.
    if (source->start_ == Start::kTail) source->start_ = Start::kHead;
    source->Log(LogLevel::kWarn, absl::StrCat("journal directory ", options.journal_path,
                                              " does not exist yet; waiting for it"));
    source->last_open_error_ = "missing";
    return source;
  }
  absl::Status s = source->OpenAndPosition();
  if (!s.ok()) return s;
  return source;
}

// A missing file is a first start; a cursor the journal rejects is dealt
// with when seeking to it.
absl::Status JournalSource::ReadCursorFile() {
  absl::StatusOr<std::string> text = ReadSmallFile(options_.cursor_file, kMaxCursorFileBytes);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  if (absl::IsOutOfRange(text.status())) {
    ++stats_.errors;
    Log(LogLevel::kWarn,
        absl::StrCat("journal cursor file ", text.status().message(),
                     "; ignoring it, starting at the ", options_.once ? "head" : "end"));
    return absl::OkStatus();
  }
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read journal cursor file ", text.status().message()));
  }
  resume_cursor_ = std::string(absl::StripAsciiWhitespace(*text));
  SplitTieLines();
  return absl::OkStatus();
}

void JournalSource::SplitTieLines() {
  std::vector<absl::string_view> lines =
      absl::StrSplit(resume_cursor_, '\n', absl::SkipWhitespace());
  resume_ties_.clear();
  for (size_t i = 1; i < lines.size() && resume_ties_.size() < kMaxTieGroup; ++i) {
    absl::string_view line = absl::StripAsciiWhitespace(lines[i]);
    if (absl::ConsumePrefix(&line, kTiePrefix)) resume_ties_.emplace_back(line);
  }
  if (lines.size() > 1) resume_cursor_ = std::string(absl::StripAsciiWhitespace(lines[0]));
}

JournalSource::JournalSource(const JournalSourceOptions& options, std::vector<std::string> matches)
    : options_(options), matches_(std::move(matches)) {}

JournalSource::~JournalSource() { Close(); }

void JournalSource::Log(LogLevel level, absl::string_view msg) const {
  if (options_.logger) options_.logger(level, msg);
}

void JournalSource::Close() {
  if (journal_ != nullptr) {
    sd_journal_close(journal_);
    journal_ = nullptr;
  }
  pending_ = false;
  stats_.up = false;
  // A reopened journal resumes after last_cursor_ with the group read so far.
  if (tie_valid_) resume_ties_ = tie_overflow_ ? std::vector<std::string>() : tie_cursors_;
  tie_valid_ = false;
  tie_overflow_ = false;
  tie_cursors_.clear();
  journal_changed_ = false;
}

absl::Status JournalSource::OpenAndPosition() {
  const std::string where =
      options_.journal_path.empty() ? "the local journal" : options_.journal_path;
  struct stat st;
  if (!options_.journal_path.empty()) {
    if (!IsDirectory(options_.journal_path, &st)) {
      return absl::NotFoundError(
          absl::StrCat("journal directory ", options_.journal_path, " does not exist"));
    }
  }
  sd_journal* j = nullptr;
  int r = options_.journal_path.empty()
              ? sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)
              : sd_journal_open_directory(&j, options_.journal_path.c_str(), 0);
  if (r < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open ", where, ": ", ErrnoText(r)));
  }
  for (size_t i = 0; i < matches_.size() && r >= 0; ++i) {
    if (i > 0) r = sd_journal_add_disjunction(j);
    if (r >= 0) r = sd_journal_add_match(j, matches_[i].data(), matches_[i].size());
  }
  // Allocates the inotify watches; sd_journal_process() needs them to notice
  // files that are added, rotated or deleted.
  if (r >= 0) r = sd_journal_get_fd(j);
  if (r < 0) {
    sd_journal_close(j);
    return absl::UnavailableError(
        absl::StrCat("cannot set up reading ", where, ": ", ErrnoText(r)));
  }
  journal_ = j;
  pending_ = false;
  if (!options_.journal_path.empty()) {
    dir_dev_ = st.st_dev;
    dir_ino_ = st.st_ino;
  }

  Start start = start_;
  if (start == Start::kCursor) {
    r = sd_journal_seek_cursor(j, resume_cursor_.c_str());
    if (r < 0) {
      ++stats_.errors;
      Log(LogLevel::kWarn,
          absl::StrCat("journal cursor \"", resume_cursor_, "\" is not valid (", ErrnoText(r),
                       "); starting at the ", options_.once ? "head" : "end"));
      start = options_.once ? Start::kHead : Start::kTail;
    } else {
      r = sd_journal_next(j);
      if (r > 0) {
        if (sd_journal_test_cursor(j, resume_cursor_.c_str()) > 0) {
          // The saved entry itself was counted before the restart.
          last_cursor_ = resume_cursor_;
          ResumeTieGroup();
        } else if (SameBootAndMonotonic(j, resume_cursor_)) {
          // next() after seek_cursor() landed on another entry of the saved
          // one's group: re-read the group (plain cursor: read on from here).
          last_cursor_ = resume_cursor_;
          ResumeTieGroup();
          pending_ = resume_ties_.empty();
        } else {
          // The saved entry is gone (vacuumed); this is the first one after it.
          pending_ = true;
        }
      } else if (r < 0) {
        ReadError(r);
        r = 0;
      }
    }
  }
  if (start == Start::kHead) {
    r = sd_journal_seek_head(j);
  } else if (start == Start::kTail) {
    r = sd_journal_seek_tail(j);
    // Step back onto the last selected entry so next() returns only newer
    // ones (seek_tail + next alone is unreliable across systemd versions).
    if (r >= 0) r = sd_journal_previous(j);
    if (r > 0) {
      char* c = nullptr;
      if (sd_journal_get_cursor(j, &c) >= 0) {
        // Persisting the start point means entries written while the
        // exporter is down after its first checkpoint are not lost.
        last_cursor_ = c;
        free(c);
      }
    } else if (r == 0) {
      // Nothing selected exists yet: all that comes is new.
      r = sd_journal_seek_head(j);
    }
  }
  if (r < 0) {
    Close();
    return absl::UnavailableError(absl::StrCat("cannot position in ", where, ": ", ErrnoText(r)));
  }
  // Later reopens (SIGHUP, directory replaced) resume where reading stopped:
  // after the last entry read, after the saved cursor, or at the head when
  // nothing selected existed.
  if (!last_cursor_.empty()) {
    start_ = Start::kCursor;
    resume_cursor_ = last_cursor_;
  } else if (start != Start::kCursor) {
    start_ = Start::kHead;
  }
  stats_.up = true;
  if (!last_open_error_.empty()) {
    Log(LogLevel::kInfo, absl::StrCat("opened ", where));
    last_open_error_.clear();
  }
  return absl::OkStatus();
}

void JournalSource::ResumeTieGroup() {
  uint64_t mono = 0;
  sd_id128_t boot;
  if (sd_journal_get_monotonic_usec(journal_, &mono, &boot) < 0) return;
  StartTieGroup(mono, boot.bytes);
  tie_cursors_ = resume_ties_;
  if (std::find(tie_cursors_.begin(), tie_cursors_.end(), last_cursor_) == tie_cursors_.end()) {
    tie_cursors_.push_back(last_cursor_);
  }
  // Files may have appeared meanwhile: re-read the group at the first Poll();
  // not for a plain cursor, whose group's other entries read are unknown.
  journal_changed_ = !resume_ties_.empty();
}

bool JournalSource::DirectoryStillThere() {
  if (options_.journal_path.empty()) return true;
  struct stat st;
  return IsDirectory(options_.journal_path, &st) && static_cast<uint64_t>(st.st_dev) == dir_dev_ &&
         static_cast<uint64_t>(st.st_ino) == dir_ino_;
}

bool JournalSource::EnsureOpen() {
  if (journal_ != nullptr) {
    if (DirectoryStillThere()) return true;
    Log(LogLevel::kWarn, absl::StrCat("journal directory ", options_.journal_path,
                                      " was removed or replaced; reopening"));
    Close();
    last_open_error_ = "replaced";
  }
  absl::Status s = OpenAndPosition();
  if (s.ok()) return true;
  // A directory that is not there yet is waited for, not an error.
  if (!absl::IsNotFound(s)) ++stats_.errors;
  std::string message(s.message());
  if (message != last_open_error_) {
    Log(absl::IsNotFound(s) ? LogLevel::kWarn : LogLevel::kError, message);
    last_open_error_ = std::move(message);
  }
  return false;
}

void JournalSource::ReadError(int r) {
  ++stats_.errors;
  Log(LogLevel::kError, absl::StrCat("reading the journal: ", ErrnoText(r)));
}

void JournalSource::NoteProcessResult(int r) {
  // An append to another file can tie the group too (see the header).
  if (r == SD_JOURNAL_INVALIDATE || r == SD_JOURNAL_APPEND) journal_changed_ = true;
  if (r == SD_JOURNAL_INVALIDATE) ++stats_.rotations;
  if (r < 0) ReadError(r);
}

bool JournalSource::DeliverCurrent(RecordSink* sink) {
  LogRecord record;
  if (!JournalEntryToRecord(journal_, &ident_, &record, &stats_.newest_entry_us, &stats_.errors)) {
    return false;
  }
  sink->OnRecord(record);  // the record's views are valid until the next journal call
  return true;
}

int JournalSource::CompareWithTieGroup() {
  uint64_t mono = 0;
  sd_id128_t boot;
  if (!tie_valid_ || sd_journal_get_monotonic_usec(journal_, &mono, &boot) < 0 ||
      std::memcmp(boot.bytes, tie_boot_.data(), tie_boot_.size()) != 0) {
    return 1;
  }
  return mono < tie_mono_ ? -1 : mono == tie_mono_ ? 0 : 1;
}

void JournalSource::StartTieGroup(uint64_t mono, const unsigned char* boot) {
  tie_valid_ = true;
  tie_overflow_ = false;
  tie_mono_ = mono;
  std::memcpy(tie_boot_.data(), boot, tie_boot_.size());
  tie_cursors_.clear();
}

bool JournalSource::NoteTieCursor() {
  char* c = nullptr;
  if (sd_journal_get_cursor(journal_, &c) < 0) {
    ++stats_.errors;
    tie_overflow_ = true;  // an entry of the group we could not note
    return true;
  }
  last_cursor_ = c;
  free(c);
  if (!tie_valid_) return true;
  if (std::find(tie_cursors_.begin(), tie_cursors_.end(), last_cursor_) != tie_cursors_.end()) {
    return false;
  }
  // A group too large to note is not re-read (see kMaxTieGroup).
  tie_overflow_ = tie_overflow_ || tie_cursors_.size() >= kMaxTieGroup;
  if (!tie_overflow_) tie_cursors_.push_back(last_cursor_);
  return true;
}

bool JournalSource::ConsumeCurrent(RecordSink* sink) {
  uint64_t mono = 0;
  sd_id128_t boot;
  if (sd_journal_get_monotonic_usec(journal_, &mono, &boot) < 0) {
    tie_valid_ = false;
    tie_cursors_.clear();
  } else if (!tie_valid_ || mono != tie_mono_ ||
             std::memcmp(boot.bytes, tie_boot_.data(), tie_boot_.size()) != 0) {
    StartTieGroup(mono, boot.bytes);
  }
  // A cursor for every entry: the group needs it, and it is the position.
  // next() can return an entry of the group again (see RereadTieGroup).
  return NoteTieCursor() && DeliverCurrent(sink);
}

void JournalSource::RereadTieGroup(RecordSink* sink, size_t* consumed, size_t* delivered) {
  bool on_group_entry = false;
  for (size_t back = 0;; ++back) {
    int r = sd_journal_previous(journal_);
    if (r < 0) return ReadError(r);
    // r == 0: nothing before; the journal stays on the earliest group entry.
    if (r == 0 || back > tie_cursors_.size() + kMaxTieGroup) {
      on_group_entry = true;
      break;
    }
    if (CompareWithTieGroup() != 0) break;
  }
  for (size_t steps = 0; steps <= 2 * kMaxTieGroup + tie_cursors_.size(); ++steps) {
    if (!on_group_entry) {
      int r = sd_journal_next(journal_);
      if (r < 0) return ReadError(r);
      if (r == 0) return;
    }
    on_group_entry = false;
    const int order = CompareWithTieGroup();
    if (order < 0) continue;
    if (order > 0) {
      // Past the group: this entry is new and read by Poll's loop.
      pending_ = true;
      return;
    }
    // The position becomes the last group entry in the new order.
    if (!NoteTieCursor()) continue;
    ++*consumed;
    if (DeliverCurrent(sink)) ++*delivered;
  }
}

size_t JournalSource::Poll(RecordSink* sink) {
  if (at_end_) return 0;
  if (!EnsureOpen()) {
    stats_.idle = true;
    return 0;
  }
  NoteProcessResult(sd_journal_process(journal_));

  size_t delivered = 0;
  size_t consumed = 0;
  bool exhausted = false;
  const bool reread = journal_changed_ && tie_valid_ && !tie_overflow_ && !pending_;
  journal_changed_ = false;
  if (reread) RereadTieGroup(sink, &consumed, &delivered);
  while (consumed < options_.batch) {
    if (!pending_) {
      int r = sd_journal_next(journal_);
      if (r < 0) {
        ReadError(r);
        exhausted = true;
        break;
      }
      if (r == 0) {  // nothing yet; never the end of the stream
        exhausted = true;
        break;
      }
    }
    pending_ = false;
    ++consumed;
    if (ConsumeCurrent(sink)) ++delivered;
  }
  if ((consumed > 0 || reread) && !last_cursor_.empty()) {
    start_ = Start::kCursor;
    resume_cursor_ = last_cursor_;
  }
  stats_.idle = exhausted;
  if (options_.once && exhausted) at_end_ = true;
  return delivered;
}

void JournalSource::Wait(absl::Duration timeout) {
  if (at_end_) return;
  if (journal_ != nullptr && (pending_ || !stats_.idle)) return;
  if (journal_ == nullptr) {
    absl::SleepFor(timeout == absl::InfiniteDuration() ? absl::Seconds(1) : timeout);
    return;
  }
  uint64_t usec = static_cast<uint64_t>(-1);
  if (timeout != absl::InfiniteDuration()) {
    usec = timeout <= absl::ZeroDuration()
               ? 0
               : static_cast<uint64_t>(absl::ToInt64Microseconds(timeout));
  }
  int r = sd_journal_wait(journal_, usec);
  NoteProcessResult(r);
  if (r < 0) {
    // Do not spin on a persistent error.
    absl::SleepFor(timeout == absl::InfiniteDuration() ? absl::Seconds(1) : timeout);
  }
}

std::string JournalSource::CheckpointText() {
  if (last_cursor_.empty() && start_ == Start::kHead) return std::string(kHeadPosition);
  std::string text = last_cursor_;
  if (!last_cursor_.empty() && tie_valid_ && !tie_overflow_ && tie_cursors_.size() > 1) {
    for (const std::string& c : tie_cursors_) absl::StrAppend(&text, "\n", kTiePrefix, c);
  }
  return text;
}

absl::Status JournalSource::Checkpoint() {
  if (options_.cursor_file.empty() || last_cursor_.empty() || last_cursor_ == written_cursor_) {
    return absl::OkStatus();
  }
  // The cursor file keeps a plain cursor (its documented form); only
  // CheckpointText() carries the tie group.
  absl::Status s = WriteFileAtomically(options_.cursor_file, absl::StrCat(last_cursor_, "\n"));
  if (!s.ok()) {
    ++stats_.errors;
    return s;
  }
  written_cursor_ = last_cursor_;
  return absl::OkStatus();
}

void JournalSource::Reopen() {
  Close();
  last_open_error_ = "reopen";
  EnsureOpen();
}

std::string JournalSource::Describe() const {
  return options_.journal_path.empty() ? "journal:local"
                                       : absl::StrCat("journal:", options_.journal_path);
}

bool LocalJournalAvailable(const std::string& runtime_dir, const std::string& persistent_dir) {
  struct stat st;
  if (!IsDirectory(runtime_dir, &st) && !IsDirectory(persistent_dir, &st)) return false;
  sd_journal* j = nullptr;
  if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0) return false;
  sd_journal_close(j);
  return true;
}

bool LocalJournalAvailable() {
  return LocalJournalAvailable("/run/systemd/journal", "/var/log/journal");
}

}  // namespace pse
