// JournalSource: follows Postfix's entries in the systemd journal (sd-journal).
//
// Which entries: a match on `_SYSTEMD_SLICE=system-postfix.slice` (Debian and
// Ubuntu run Postfix as postfix@-.service inside that slice) OR
// `_SYSTEMD_UNIT=postfix.service` (RHEL-style hosts); `units`/`slice` replace
// that default. Of the matching entries only those whose SYSLOG_IDENTIFIER is
// a Postfix one (SplitPostfixIdentifier) become LogRecords; the rest are
// skipped silently (they are not malformed Postfix lines). Records are built
// from the entry's fields, never from a re-printed syslog line.
//
// Rules, each with a test named after it in journal_source_test.cc:
//  - StartsAtEnd: by default only entries added after start are read.
//    NothingSelectedAtStartThenPostfixLogs, MissingDirectoryAtStartThenCreated:
//    if no selected entry exists yet, or the journal directory did not exist
//    at start, everything that appears later is new and is read from its head.
//  - CursorRestartNeitherLosesNorRepeats: with a cursor file, reading resumes
//    just after the saved entry (sd_journal_test_cursor skips the entry
//    itself). Checkpoint() persists the cursor of the last entry read,
//    delivered or skipped, atomically (temp file + fsync + rename + fsync of
//    the directory). ResumeCursorOptionWinsOverCursorFile: a cursor given
//    in the options replaces reading the file.
//    FirstCheckpointKeepsEntriesWrittenWhileDown: before anything is read the
//    cursor is the start position, so a restart still loses nothing.
//    EmptyJournalPositionResumesAtHead: a position saved before the first
//    entry of a journal that is read from its head is kHeadPosition, not
//    empty (which would mean "start at the end" and lose what was written
//    while the exporter was down).
//  - OnceReadsAllAndEnds: `once` reads from the head (or after the saved
//    cursor) to the end of what is there, then AtEnd() turns true.
//  - NoEntryYetIsNotEnd: sd_journal_next() == 0 means "nothing yet".
//  - RotationIsFollowedWithoutLossOrRepeat, VacuumedFileIsSurvived,
//    FollowsNewJournalFileInDirectory: journal files renamed, deleted or added
//    are noticed by sd_journal_process() in every Poll() and Wait() (each
//    SD_JOURNAL_INVALIDATE counts in stats().rotations); the position is
//    kept across files.
//  - DirectoryRemovedAndRecreatedIsReopened: a journal directory that is
//    missing, or disappears and comes back, is retried on every Poll();
//    meanwhile stats().up is false, and reading resumes after the last entry.
//
// Known limit (libsystemd's ordering, not ours): sd-journal interleaves
// files by seqnum only within one seqnum ID, else by boot ID + monotonic
// time, then realtime, then a hash of the entry. An entry in a file that
// appears later (another seqnum ID, as each file systemd-journal-remote
// starts) with the same boot ID and monotonic time as the entry being read
// can sort before it and is then never returned by sd_journal_next().
// journald stamps each entry with the clock as it writes it and its rotated
// files keep one seqnum ID (so seqnum orders them), which makes this rare
// for a local journal; tests/reliability/journal_soak.py --tied-monotonic
// shows the loss with journal-remote files.
//
// Not thread-safe: one thread calls all methods (see exporter/source.h). The
// LogRecord views passed to the sink point into the journal's own buffers and
// are valid only during OnRecord(). MESSAGE may hold arbitrary bytes
// (embedded NUL, invalid UTF-8); the record's message view carries its exact
// length.
#ifndef PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_H_
#define PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/log_level.h"
#include "exporter/source.h"

// Opaque libsystemd handle; only journal_source.cc includes sd-journal.h.
typedef struct sd_journal sd_journal;

namespace pse {

struct JournalSourceOptions {
  // Directory of journal files (e.g. a node's /var/log/journal mounted into a
  // pod; machine-id subdirectories are included). Empty: the local system
  // journal (SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM).
  std::string journal_path;
  // `_SYSTEMD_UNIT` values to select, ORed. A name without a unit type
  // suffix gets ".service" appended ("postfix" -> "postfix.service").
  std::vector<std::string> units;
  // `_SYSTEMD_SLICE` value to select, ORed with `units`. ".slice" is appended
  // when missing. When both `units` and `slice` are empty the default is
  // `_SYSTEMD_SLICE=system-postfix.slice` OR `_SYSTEMD_UNIT=postfix.service`.
  std::string slice;
  // File holding the cursor of the last entry read; empty: no persistence.
  // Its directory must exist. An unreadable file stops start-up; a file with
  // a cursor the journal rejects, or one too large to be a cursor, is logged
  // and ignored (start at the end).
  std::string cursor_file;
  // A cursor (as cursor() or CheckpointText() returned it, e.g. kept in a
  // larger state file) to resume after, or kHeadPosition; when non-empty it
  // is used instead of reading cursor_file, with the same handling of a
  // cursor the journal rejects. Checkpoint() still writes cursor_file.
  std::string resume_cursor;
  // Read the selected entries to the current end, then AtEnd() is true.
  bool once = false;
  // Entries read per Poll() at most (delivered or skipped). Must be > 0.
  size_t batch = 4096;
  // Receives warnings and errors (level is "debug", "info", "warn" or
  // "error"). May be empty.
  LogHook logger;
};

// CheckpointText() before the first entry of a journal read from its head;
// no journal cursor has this form (cursors are "s=...;i=..." lists).
inline constexpr absl::string_view kHeadPosition = "head";

class JournalSource : public Source {
 public:
  // Fails on invalid options (batch == 0, empty unit name), a cursor file
  // that exists but cannot be read or whose directory does not exist, a
  // journal that cannot be opened for another reason than not existing yet,
  // and, with `once`, a journal directory that does not exist.
  static absl::StatusOr<std::unique_ptr<JournalSource>> Create(const JournalSourceOptions& options);

  ~JournalSource() override;
  JournalSource(const JournalSource&) = delete;
  JournalSource& operator=(const JournalSource&) = delete;

  size_t Poll(RecordSink* sink) override;
  // Returns at once when the last Poll() stopped at its batch budget; else
  // sd_journal_wait() (journal open) or sleeps (journal not there yet).
  void Wait(absl::Duration timeout) override;
  bool AtEnd() const override { return at_end_; }
  // Writes the cursor of the last entry read, if it changed since the last
  // write. A no-op without cursor_file or before the first entry.
  absl::Status Checkpoint() override;
  // Closes the journal and opens it again, resuming after the last entry read.
  void Reopen() override;
  SourceStats stats() const override { return stats_; }
  // "journal:local" or "journal:<directory>".
  std::string Describe() const override;

  // The match terms in effect, e.g. {"_SYSTEMD_SLICE=system-postfix.slice",
  // "_SYSTEMD_UNIT=postfix.service"} (ORed), for the start-up log line.
  const std::vector<std::string>& matches() const { return matches_; }
  // Cursor of the last entry read (what Checkpoint() writes, and what
  // `resume_cursor` takes to resume after it); empty before the first.
  const std::string& cursor() const { return last_cursor_; }
  // cursor(), or kHeadPosition while nothing has been read from a journal
  // that is to be read from its head (it was empty, or its directory missing,
  // at start), so a restart in that state still reads everything.
  std::string CheckpointText() override;

 private:
  enum class Start { kTail, kHead, kCursor };

  JournalSource(const JournalSourceOptions& options, std::vector<std::string> matches);

  // Opens the journal if it is not open yet; false while it does not exist
  // (or cannot be opened). Positions it according to start_.
  bool EnsureOpen();
  // Sets resume_cursor_ from options_.cursor_file (left empty when there is
  // none); an error only when the file exists but cannot be read.
  absl::Status ReadCursorFile();
  absl::Status OpenAndPosition();
  void Close();
  // False when journal_path no longer names the directory that was opened.
  bool DirectoryStillThere();
  // Consumes the current entry: delivers it if it is Postfix's.
  bool DeliverCurrent(RecordSink* sink);
  void NoteProcessResult(int r);
  void Log(LogLevel level, absl::string_view msg) const;

  const JournalSourceOptions options_;
  const std::vector<std::string> matches_;
  sd_journal* journal_ = nullptr;
  Start start_ = Start::kTail;
  // Cursor to resume after (cursor file at start, last entry on reopen).
  std::string resume_cursor_;
  std::string last_cursor_;
  std::string written_cursor_;
  // The journal is positioned on an entry that has not been consumed yet.
  bool pending_ = false;
  bool at_end_ = false;
  // Identity of the opened directory (journal_path only).
  uint64_t dir_dev_ = 0;
  uint64_t dir_ino_ = 0;
  // Last open failure logged, so a missing journal is logged once, not per Poll.
  std::string last_open_error_;
  // Copy of SYSLOG_IDENTIFIER: sd_journal_get_data() reuses its buffer.
  std::string ident_;
  SourceStats stats_;
};

// True when journald is present on this host: /run/systemd/journal or
// /var/log/journal exists and the local journal can be opened. Used to pick
// the journal when no log file is given and /var/log/mail.log is missing.
bool LocalJournalAvailable();
// The same test with the two directories given (for tests).
bool LocalJournalAvailable(const std::string& runtime_dir, const std::string& persistent_dir);

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_H_
