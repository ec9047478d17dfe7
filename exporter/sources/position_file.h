// position_file: the read-position checkpoint of a followed log file, keyed by
// identity rather than name: {log path, device, inode, offset of the first
// byte not yet delivered, FNV-1a 64 hash of the up to 4 KiB before that
// offset}.
//
// FormatPosition / ParsePosition are pure, so the text can be stored on its
// own (ReadPositionFile / WritePositionFile, atomically replaced through
// fs_util) or embedded in a larger state file. The text is "key=value"
// lines with "#" comments; unknown keys are ignored so a later version can
// add some.
//
// MatchPosition is the identity check used on start-up: is an open file the
// one the position was saved for, unchanged up to the saved offset?
//
// Thread-safe (no shared state). Errors are absl::Status; a corrupt text is
// InvalidArgument with the reason in the message.
#ifndef PSE_EXPORTER_SOURCES_POSITION_FILE_H_
#define PSE_EXPORTER_SOURCES_POSITION_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pse {

struct SavedPosition {
  std::string path;  // the followed log path, as configured
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t offset = 0;
  uint64_t hash = 0;  // of the up to kPositionHashWindow bytes before offset
};

// How many bytes before the offset identify a file's contents.
inline constexpr uint64_t kPositionHashWindow = 4096;

std::string FormatPosition(const SavedPosition& position);

// InvalidArgument for anything but a complete version-1 position text.
absl::StatusOr<SavedPosition> ParsePosition(absl::string_view text);

// The position `offset` of the open regular file `fd` that is followed as
// `path`: its device, inode and the hash before `offset`. Unavailable when
// the file cannot be stat'ed or read up to `offset`.
absl::StatusOr<SavedPosition> PositionOf(const std::string& path, int fd, uint64_t offset);

enum class PositionMatch {
  kSameFile,   // same inode, at least `offset` long, same bytes before it
  kRewritten,  // same inode, but shorter or other bytes: truncated since
  kOtherFile,  // another inode (or the file cannot be read)
};

// Compares the open file `fd` with `saved` (the path is not compared).
PositionMatch MatchPosition(const SavedPosition& saved, int fd);

// OK when a position file can be kept at `path`: its directory exists and
// is writable, and `path` is a regular file or does not exist yet.
// InvalidArgument naming the problem otherwise.
absl::Status CheckPositionFileUsable(const std::string& path);

// NotFound when `path` does not exist; InvalidArgument when it is corrupt;
// Unavailable when it cannot be read.
absl::StatusOr<SavedPosition> ReadPositionFile(const std::string& path);
// Replaces `path` atomically (temp file, fsync, rename, directory fsync).
absl::Status WritePositionFile(const std::string& path, const SavedPosition& position);

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_POSITION_FILE_H_
