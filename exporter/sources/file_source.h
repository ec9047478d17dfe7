// FileSource: follows a log file by name, the way `tail -F`, mtail's
// filestream and fluent-bit's in_tail do; also reads standard input ("-") and
// FIFOs. Delivers complete text lines to a RecordSink.
//
// Rules (each has a test named after it in file_source_test.cc, or in
// file_source_rotation_test.cc for rotations while not looking and the clock):
//  - Start-up: at the end of the file (re-reading after a restart would count
//    old lines into fresh counters), unless `from_beginning` or `once`, or a
//    position file says where we stopped. When starting at the end in the
//    middle of a line, the rest of that line is skipped.
//  - Rename rotation: when the path names a different inode, the old fd is
//    first read to its end, then the new file is opened by name and read from
//    its start. The old fd stays open for `rotate_wait` and is read before the
//    new file on every Poll(), because writers (rsyslog, postlogd) keep
//    writing to it until they are told to reopen. A path that is gone while
//    the old inode still has links (renamed, new file not yet created) is
//    just followed through the old fd.
//  - No rotated file is skipped: when a rotation finds a new inode, the log's
//    directory is searched for rotated generations we never saw (same name
//    prefix, regular, not compressed; see rotated_files.h), which were
//    written after the old file; they are read from their start, oldest
//    first, after the old file and before the new one, and each counts in
//    stats().rotations (two rotations between two looks count 2).
//  - copytruncate: a size below our offset means the file was truncated; read
//    it again from 0. A held partial line is dropped (its rest went to the
//    copy). NUL bytes at the start of a line are skipped: writers without
//    O_APPEND leave a hole of NULs in front of their next line.
//  - Deletion: when the path is gone and the open inode has no links left,
//    the fd is read to its end and closed; up=false until the path appears
//    again, then the new file is read from its start (counted as a rotation).
//    A file missing at start-up is waited for the same way and logged once.
//  - Partial last lines are held until their newline arrives. A final
//    unterminated line is delivered as a line when its file is closed for
//    good (rotated away after rotate_wait, deleted, stdin/FIFO writer gone,
//    end of a --once read), because nobody can complete it any more.
//  - Lines over `max_line_bytes` (without the newline) are skipped whole,
//    including parts that arrive later, and counted in lines_too_long. Memory
//    per open file is one buffer of max_line_bytes + 64 KiB.
//  - Lines are delivered without "\n"; one trailing "\r" is stripped too
//    (Postfix never writes one; CRLF files copied from elsewhere parse the
//    same). Empty lines carry no record and are not delivered.
//  - stdin: read when poll(2) says readable (its flags are not changed, since
//    the file description is shared with the parent). EOF on stdin means
//    nothing more can come: the held partial line is delivered and AtEnd()
//    becomes true, in follow mode too.
//  - FIFO path: opened non-blocking. When all writers have gone (EOF with
//    POLLHUP), the partial line is delivered and the FIFO is reopened so the
//    next writer is followed (with `once`, AtEnd() instead). Before the first
//    writer arrives, EOF without POLLHUP just means "nothing yet".
//  - Position file (regular files only): path, device, inode, offset of the
//    first byte not yet delivered (the start of a held partial or skipped
//    long line) and an FNV-1a 64 hash of the up to 4 KiB before that offset,
//    written atomically by Checkpoint() (temp file, fsync, rename, fsync of
//    the directory), and only when the position changed. On start-up: same
//    device+inode, size >= offset and same hash -> resume exactly at offset;
//    same inode with another hash or a smaller size -> the file was
//    truncated and rewritten: read it from 0; another inode -> the file was
//    rotated meanwhile: the saved inode, found under a rotated name in the
//    same directory (mail.log.1, mail.log-20240101...) with the saved hash,
//    is read from the saved offset, then every rotated file written after it
//    from its start (oldest first), then the new file from its start. A
//    missing, unreadable or corrupt position file, or one written for
//    another path, is logged and ignored (start at the end, or the beginning
//    with from_beginning). The position file wins over from_beginning.
//    `resume_position_text` (the text CheckpointText() returned) replaces
//    reading the position file; Checkpoint() still writes it.
//    The saved position is that of the oldest rotated file not yet read to
//    its end, else of the current file: lines that reach a rotated-away file
//    during rotate_wait after it was read to its end are lost if the
//    exporter restarts before reading them.
//  - Detection: inotify on the open file (through /proc/self/fd, so a
//    renamed or deleted inode stays watched) and on its directory (creates,
//    renames, deletes); every `stat_interval` a stat of the path and fstat of
//    the fd catch what inotify does not report (NFS, overlay, queue overflow).
//    Without inotify, stat polling alone.
//  - Time: rotate_wait and the open retry after a failed open (at most once
//    per stat_interval) are measured on `clock`; Wait()'s own timeout is real
//    time, since it blocks the thread.
// Known limits: a copytruncate whose file has grown past our old offset again
// before we look is not detected as a truncation (as in mtail). Rotated
// files moved out of the directory or compressed before we look are not
// read; after a restart they are not searched for when the saved file itself
// is no longer in the directory.
//
// Thread-safety: not thread-safe; one thread calls every method (see
// exporter/source.h). Views handed to the sink are valid only during the call.
#ifndef PSE_EXPORTER_SOURCES_FILE_SOURCE_H_
#define PSE_EXPORTER_SOURCES_FILE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/log_level.h"
#include "exporter/source.h"
#include "exporter/sources/inotify_watch.h"
#include "exporter/sources/input_stream.h"
#include "exporter/sources/position_file.h"
#include "exporter/sources/rotated_files.h"

namespace pse {

struct FileSourceOptions {
  // The log file to follow; "-" reads `stdin_fd`. A FIFO path works too.
  std::string path;
  // Read the existing contents first instead of starting at the end. Ignored
  // when a position file gives a usable position.
  bool from_beginning = false;
  // Lines longer than this (bytes, without the newline) are skipped and
  // counted. Also bounds memory: one buffer of this + 64 KiB per open file.
  size_t max_line_bytes = 64 * 1024;
  // Where Checkpoint() saves the read position; empty = no position file.
  // Its directory must exist and be writable. Not allowed with "-".
  std::string position_file;
  // A position text from CheckpointText() (e.g. kept in a larger state
  // file) to start from; when non-empty it is used instead of reading
  // `position_file`, with the same checks. Not allowed with "-"; ignored
  // with `once`.
  std::string resume_position_text;
  // Fallback period for stat()-based change detection, the longest Wait()
  // sleeps between checks, and the pause before retrying a failed open.
  absl::Duration stat_interval = absl::Seconds(1);
  // How long a rotated-away file is still read after the new file appeared
  // (writers keep appending to it until they reopen). 0 = close at once.
  absl::Duration rotate_wait = absl::Seconds(5);
  // Bytes one Poll() reads at most, so the ingest loop stays responsive.
  size_t read_budget_bytes = 1 << 20;
  // Read from the start to EOF, then AtEnd(). A missing file is an error.
  // No rotation handling; the position file is neither read nor written.
  bool once = false;
  // The descriptor read for path "-"; never closed by FileSource. Tests pass
  // a pipe here.
  int stdin_fd = 0;
  // Receives operational events (file missing, opened, rotated, truncated,
  // deleted, errors, position file use); level is "debug", "info", "warn"
  // or "error". Never called per line read. Default: discard.
  LogHook logger;
  // The time rotate_wait and the open retry are measured on. Tests pass a
  // fake clock (testing/source_clock.h). Empty = absl::Now.
  std::function<absl::Time()> clock = absl::Now;
};

class FileSource : public Source {
 public:
  // Fails only for unusable options: empty path, zero limits, a position
  // file whose directory does not exist or is not writable, a position file
  // or resume position with "-", or (with `once`) a log file that cannot be
  // opened. A missing log file in follow mode is waited for.
  static absl::StatusOr<std::unique_ptr<FileSource>> Create(const FileSourceOptions& options);

  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  size_t Poll(RecordSink* sink) override;
  void Wait(absl::Duration timeout) override;
  bool AtEnd() const override;
  // Writes CheckpointText() to the position file (when configured and it
  // changed since the last write).
  absl::Status Checkpoint() override;
  // The position text for the current read point (position_file.h format),
  // what Checkpoint() writes; empty when there is none (stdin, FIFO, `once`,
  // no file open, or the file cannot be read).
  std::string CheckpointText() override;
  // Takes effect at the next Poll(): once the open file is read to its end,
  // the path is opened again (same inode: same offset; another inode: a
  // rotation). No effect on stdin and FIFOs.
  void Reopen() override;
  SourceStats stats() const override;
  // "file:<path>" or "stdin".
  std::string Describe() const override;

 private:
  explicit FileSource(const FileSourceOptions& options);

  absl::Status Init();
  void Log(LogLevel level, absl::string_view msg);
  // Logs `msg` only when it differs from the previous problem logged, so a
  // persistent failure is reported once.
  void LogProblem(LogLevel level, const std::string& msg);
  std::string MissingMessage() const;

  // Reads and validates the resume position (text or file); nullopt (after
  // a log line) when it is absent, unreadable, corrupt or for another path.
  std::optional<SavedPosition> LoadPosition();
  // Opens options_.path (regular file or FIFO) at offset 0. On failure
  // returns nullptr with a message; `missing` tells "does not exist".
  std::unique_ptr<InputStream> OpenPath(std::string* error, bool* missing);
  // Opens rotated file `f` in dir_ at `offset`; nullptr if it is gone or is
  // another inode by now.
  std::unique_ptr<InputStream> OpenRotated(const RotatedFile& f, uint64_t offset);
  // Sets the start offset of the file found at start-up.
  void PositionAtStartup(InputStream* s);
  // Start-up with a position for another inode than the current file: reads
  // the saved file from its offset and the rotated files written after it.
  void CatchUpAfterRestart(const SavedPosition& pos);
  // Queues the rotated files a rotation skipped over, read from offset 0.
  void QueueMissed(const std::vector<RotatedFile>& missed);
  void RememberRotated(const std::vector<RotatedFile>& listing);
  void Watch(InputStream* s);
  // Delivers the stream's held partial line (if sink) and closes it.
  void CloseStream(std::unique_ptr<InputStream>* s, RecordSink* sink, size_t* delivered);
  // The stream a restart would resume from (see the position file rule).
  const InputStream* CheckpointStream() const;

  InputStream::ReadResult ReadSome(InputStream* s, RecordSink* sink, size_t* budget,
                                   size_t* delivered);
  // Reads the rotated-away streams, oldest first, closing those read to
  // their end after rotate_wait; false when the budget ran out.
  bool ReadBehind(RecordSink* sink, size_t* budget, size_t* delivered);
  // The current stream is at EOF: truncation, rotation, deletion, FIFO
  // hang-up, end of stdin. True if the (new) current stream should be read
  // again now.
  bool HandleEof(RecordSink* sink, size_t* delivered, bool reopen);
  bool HandleFifoEof(RecordSink* sink, size_t* delivered);
  // A new inode is under our name and the current stream is at its EOF.
  bool SwitchToNewFile(const struct stat& old_st, RecordSink* sink, size_t* delivered);
  void NoteOpenFailure(const std::string& error, bool missing);
  // Opens a file that appeared under our name; true if one is open now.
  bool TryOpenCurrent();

  bool HasWork();
  bool OpenRetryAllowed() const;

  FileSourceOptions options_;
  std::function<absl::Time()> clock_;
  bool is_stdin_ = false;
  std::string dir_;
  std::string base_;

  std::unique_ptr<InputStream> current_;
  // Rotated away, oldest first: read before current_, each closed once it is
  // at its end and rotate_wait has passed since it was rotated away.
  std::deque<std::unique_ptr<InputStream>> behind_;
  bool at_end_ = false;
  bool more_pending_ = false;  // the last Poll() stopped on its budget
  bool reopen_requested_ = false;
  bool had_file_ = false;  // a file was open before: next one is a rotation
  absl::Time last_open_failure_ = absl::InfinitePast();
  std::string last_problem_;

  std::unique_ptr<InotifyWatch> inotify_;  // null with `once` and stdin
  // Rotated files in dir_ at the last look: any other is a generation we
  // never saw.
  std::set<FileId> known_rotated_;

  std::optional<SavedPosition> loaded_position_;   // where to resume
  std::optional<SavedPosition> written_position_;  // last Checkpoint()

  SourceStats stats_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_FILE_SOURCE_H_
