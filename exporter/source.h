// Source: where log records come from (a followed file, stdin, the journal).
//
// Sources are driven step by step by one ingest thread: Poll() does one
// bounded unit of work and never blocks; Wait() blocks until more may be
// available or the timeout passes. Tests drive Poll() directly after writing,
// rotating or truncating files, so no test sleeps for a thread.
//
// A source delivers either raw text lines (files: the pipeline frames them)
// or already-framed LogRecords (the journal: built from entry fields). The
// views handed to the sink are valid only during the call.
//
// Not thread-safe: one thread calls all methods. stats() may be read by the
// same thread only; the pipeline copies it into metrics.
#ifndef PSE_EXPORTER_SOURCE_H_
#define PSE_EXPORTER_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "parsers/log_record.h"

namespace pse {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // One complete text line, without its trailing newline.
  virtual void OnLine(absl::string_view line) = 0;
  // One record already split into fields (the journal). Records whose
  // identifier is not Postfix's are not delivered.
  virtual void OnRecord(const LogRecord& record) = 0;
};

// Cumulative health counters of a source; exported as postfix_exporter_source_*.
struct SourceStats {
  bool up = false;              // the input is open and readable
  uint64_t rotations = 0;       // rename rotations / journal file changes followed
  uint64_t truncations = 0;     // copytruncate detected (size < offset)
  uint64_t lines_too_long = 0;  // lines over the cap, skipped
  uint64_t errors = 0;          // read/open/stat/journal errors
  int64_t newest_entry_us = 0;  // journal: realtime of the newest entry read, 0 if unknown
  bool idle = false;            // journal: nothing left to read at the last Poll()
};

class Source {
 public:
  virtual ~Source() = default;
  // Reads what is available now, up to an internal budget, and hands each line
  // or record to `sink`. Returns the number delivered. Never blocks.
  virtual size_t Poll(RecordSink* sink) = 0;
  // Blocks until more may be available, or `timeout` has passed.
  virtual void Wait(absl::Duration timeout) = 0;
  // True when a finite input (--once, stdin at EOF) has been read to its end.
  virtual bool AtEnd() const = 0;
  // Persists the read position (position file / journal cursor), if configured.
  virtual absl::Status Checkpoint() = 0;
  // The read position as text, for the state file: what the source's
  // options take to resume exactly there. Empty when there is none yet.
  virtual std::string CheckpointText() = 0;
  // Closes and reopens the input by name (SIGHUP).
  virtual void Reopen() = 0;
  virtual SourceStats stats() const = 0;
  // For the start-up log line, e.g. "file:/var/log/mail.log" or "journal:local".
  virtual std::string Describe() const = 0;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCE_H_
