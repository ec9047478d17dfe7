// InputStream: one input FileSource has open (the followed file, a rotated
// generation, a FIFO or stdin): its descriptor, identity and LineFramer, and
// the bounded non-blocking read that feeds the framer. What to open when,
// and what EOF means, is FileSource's business (file_source.h).
//
// Owns its descriptor unless told otherwise (stdin is the parent's). Not
// thread-safe. Views handed to the sink are valid only during the call.
#ifndef PSE_EXPORTER_SOURCES_INPUT_STREAM_H_
#define PSE_EXPORTER_SOURCES_INPUT_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/source.h"
#include "exporter/sources/line_framer.h"
#include "exporter/sources/rotated_files.h"

namespace pse {

struct InputStream {
  enum Kind { kRegular, kFifo, kStdin };
  enum class ReadResult { kBudget, kEof, kNoData, kError };

  InputStream(Kind k, int f, bool owns, size_t max_line_bytes)
      : kind(k), fd(f), owns_fd(owns), framer(max_line_bytes) {}
  ~InputStream();
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  // Opens `path` (a regular file or FIFO; non-blocking) at offset 0.
  // NotFound when it does not exist; FailedPrecondition when it is another
  // kind of file; Unavailable for other failures. Messages name the path.
  static absl::StatusOr<std::unique_ptr<InputStream>> Open(const std::string& path,
                                                           size_t max_line_bytes);
  // Opens `path` at `offset` if it still is the regular file `id`; else
  // nullptr (renamed over, compressed or deleted meanwhile).
  static std::unique_ptr<InputStream> OpenAt(const std::string& path, const FileId& id,
                                             uint64_t offset, size_t max_line_bytes);

  // Positions a regular file at its end. When that is in the middle of a
  // line, the rest of the line is skipped, and the checkpoint offset stays at
  // its start, so a restart does not deliver the tail as a line either.
  void SeekToEnd(size_t max_line_bytes);

  // Reads up to *budget bytes into the framer (lines go to `sink`). kError
  // leaves errno set. stdin is read only as far as poll(2) says is there,
  // since its flags belong to a file description shared with the parent.
  ReadResult Read(RecordSink* sink, size_t* budget, size_t* delivered, uint64_t* too_long);

  // poll(2) revents now (readable, hung up), without waiting.
  short PollNow() const;

  Kind kind;
  int fd;
  bool owns_fd;
  FileId id;
  int wd = -1;  // inotify watch, -1 if none
  absl::Time rotated_at = absl::InfiniteFuture();
  // Read to its end at least once since it was rotated away: from then on a
  // checkpoint no longer points into it.
  bool reached_eof = false;
  LineFramer framer;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_INPUT_STREAM_H_
