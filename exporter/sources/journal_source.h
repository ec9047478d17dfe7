// JournalSource: follows Postfix's entries in the systemd journal (sd-journal).
//
// Which entries: a match on `_SYSTEMD_SLICE=system-postfix.slice` (Debian and
// Ubuntu run Postfix as postfix@-.service inside that slice) OR
// `_SYSTEMD_UNIT=postfix.service` (RHEL-style hosts); `units`/`slice` replace
// that default. Of the matching entries only those whose SYSLOG_IDENTIFIER is
// a Postfix one (SplitPostfixIdentifier) or a Dovecot one
// (IsDovecotIdentifier: syslog_name is the identifier, daemon empty; read
// when Dovecot's unit is selected too) become LogRecords; the rest are
// skipped silently (they are not malformed Postfix lines). Records are built
// from the entry's fields, never from a re-printed syslog line.
//
// Rules, each with a test named after it in journal_source*_test.cc:
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
//  - TiedEntryInNewFileIsNotLost: sd-journal interleaves files by seqnum
//    only within one seqnum ID, else by boot ID + monotonic time, then
//    realtime, then a hash of the entry. An entry in another file (another
//    seqnum ID, as each file systemd-journal-remote starts) that appears or
//    grows after we read an entry with the same boot ID and monotonic time
//    can sort before that entry, and sd_journal_next() never returns it. So
//    the source remembers the cursors of the entries read in the current
//    "tie group" (same boot ID + monotonic time, at most kMaxTieGroup) and,
//    whenever sd_journal_process()/wait() reports a change, steps back over
//    the group with sd_journal_previous() and reads it again, delivering
//    only the entries it had not read. As tied entries are ordered by
//    seqnum within a file but by the hash across files, that order need not
//    be consistent, so an entry of the group that next() returns again is
//    skipped too. The cursor is fetched for every entry read (about 0.4 us,
//    a tenth of what an entry costs the exporter).
//  - TiedEntryWrittenWhileDownIsReadOnce: CheckpointText() adds the group's
//    cursors as "tie=CURSOR" lines after the cursor when the group has more
//    than one entry; on restart (and Reopen()) the group is re-read the same
//    way, so an entry that tied the saved one in a file written meanwhile is
//    read once. A position without those lines (a plain cursor, e.g. the
//    cursor file, which keeps a plain cursor) still works as before.
//
// Known limit: with a plain cursor whose entry was in a group of several,
// or a tie group of more than kMaxTieGroup entries, tied entries of other
// files can still be lost or repeated. journald stamps each entry with the
// clock as it writes it and its rotated files keep one seqnum ID (so seqnum
// orders them), which makes ties rare for a local journal;
// tests/reliability/journal_soak.py --tied-monotonic exercises them with
// journal-remote files.
//
// Not thread-safe: one thread calls all methods (see exporter/source.h). The
// LogRecord views passed to the sink point into the journal's own buffers and
// are valid only during OnRecord(). MESSAGE may hold arbitrary bytes
// (embedded NUL, invalid UTF-8); the record's message view carries its exact
// length.
#ifndef PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_H_
#define PSE_EXPORTER_SOURCES_JOURNAL_SOURCE_H_

#include <array>
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

// Opaque libsystemd handle; only journal_source.cc and journal_entry.cc
// include sd-journal.h.
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
  // larger state file, "tie=" lines included) to resume after, or
  // kHeadPosition; when non-empty it
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
  // at start), so a restart in that state still reads everything. When the
  // entries read last tie on boot ID + monotonic time, their cursors follow
  // as "tie=CURSOR" lines (see TiedEntryWrittenWhileDownIsReadOnce above).
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
  // Moves the "tie=" lines after the first line of resume_cursor_ into
  // resume_ties_, leaving the cursor.
  void SplitTieLines();
  // After resuming on the saved entry: it and resume_ties_ form the tie
  // group, to be re-read at the first Poll().
  void ResumeTieGroup();
  absl::Status OpenAndPosition();
  void Close();
  // False when journal_path no longer names the directory that was opened.
  bool DirectoryStillThere();
  // Consumes the current entry: delivers it if it is Postfix's.
  bool DeliverCurrent(RecordSink* sink);
  void NoteProcessResult(int r);
  // Sets last_cursor_ to the current entry's cursor and adds it to the tie
  // group; false when the group holds it already.
  bool NoteTieCursor();
  // Makes (mono, boot: 16 bytes) the tie group, with no cursor yet.
  void StartTieGroup(uint64_t mono, const unsigned char* boot);
  void ReadError(int r);
  // Consumes the current entry (delivered or skipped) and notes it in the
  // tie group; returns whether it was delivered.
  bool ConsumeCurrent(RecordSink* sink);
  // 0: the current entry has the tie group's boot ID and monotonic time;
  // -1: same boot ID, earlier; 1: anything else (or no group).
  int CompareWithTieGroup();
  // Reads the tie group again from its first entry, consuming the entries
  // whose cursor is not in tie_cursors_; adds to *consumed and *delivered.
  // It steps back to the group's first entry with previous(), which compares
  // every file with the current location, so it also finds entries of a new
  // file that sort before the ones read. Tied entries of files of different
  // seqnum IDs are ordered by a hash, but by seqnum within a file, so the
  // order need not be consistent: next() after the entry previous() stopped
  // on can return other entries before the group; they were read and are
  // skipped. Both walks are bounded, in case the group keeps growing.
  void RereadTieGroup(RecordSink* sink, size_t* consumed, size_t* delivered);
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
  // The tie group: boot ID + monotonic time of the last entry consumed since
  // the journal was opened, and the cursors of the entries consumed with
  // them. tie_overflow_: more than kMaxTieGroup, no re-read.
  static constexpr size_t kMaxTieGroup = 256;
  bool tie_valid_ = false;
  bool tie_overflow_ = false;
  std::array<unsigned char, 16> tie_boot_{};
  uint64_t tie_mono_ = 0;
  std::vector<std::string> tie_cursors_;
  // The other cursors of the group of resume_cursor_ (saved position).
  std::vector<std::string> resume_ties_;
  static constexpr absl::string_view kTiePrefix = "tie=";
  // sd_journal_process()/wait() reported appended or added/removed files
  // since the tie group was last re-read.
  bool journal_changed_ = false;
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
