// rotated_files: finds the rotated generations of a log file in its
// directory, so that FileSource reads every one it has not finished, in the
// order they were written, when a rotation (or a restart) skipped over some.
//
// A rotated file is a regular file in the log's directory whose name starts
// with the log's name and is longer (mail.log.1, mail.log-20240101,
// mail.log.old); compressed ones (.gz .bz2 .xz .zst .lz4 .Z) are never
// candidates, since their text is not readable as it is.
//
// Age order ("written before"): by modification time, then by name, because
// timestamps are coarse and several rotations can share one: a ".N" suffix
// counts down (logrotate and savelog: mail.log.2 is older than mail.log.1),
// any other suffix sorts up (dateext: mail.log-20240101 is older than
// mail.log-20240102).
//
// FilesAfter is pure and decides which files were skipped (see its comment).
// Thread-safe (no shared state).
#ifndef PSE_EXPORTER_SOURCES_ROTATED_FILES_H_
#define PSE_EXPORTER_SOURCES_ROTATED_FILES_H_

#include <sys/stat.h>

#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pse {

struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
  bool operator!=(const FileId& o) const { return !(*this == o); }
  bool operator<(const FileId& o) const { return std::tie(dev, ino) < std::tie(o.dev, o.ino); }
};

inline FileId FileIdOf(const struct stat& st) {
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

struct RotatedFile {
  std::string name;  // in the log's directory; empty when not found there
  FileId id;
  absl::Time mtime;
};

// True for the names compressors give their output.
bool IsCompressedName(absl::string_view name);

// The rotated files of `base` in `dir`, in directory order. Files that
// vanish while listing are left out; an unreadable directory gives none.
std::vector<RotatedFile> ListRotatedFiles(const std::string& dir, absl::string_view base);

// True when `a` was written before `b` (see the age order above). `base` is
// the log's name; a file with an empty name is compared by mtime only.
bool WrittenBefore(const RotatedFile& a, const RotatedFile& b, absl::string_view base);

// The files of `listing` we have not read that were written after `ref` (the
// file we were reading), oldest first; `ref` itself and `current` (the file
// now under the log's name) are never chosen.
//  - known == nullptr (start-up: nothing is known about the directory):
//    the files that WrittenBefore(ref, file).
//  - known != nullptr (following: `known` holds every rotated file that was
//    there at the last look): the files not in `known` that are not older
//    than `ref` by mtime. A new name with a new inode can only be a log
//    generation we never saw; the mtime test keeps out old archives put back
//    (decompressed) by hand.
std::vector<RotatedFile> FilesAfter(const std::vector<RotatedFile>& listing, const RotatedFile& ref,
                                    const FileId& current, absl::string_view base,
                                    const std::set<FileId>* known);

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_ROTATED_FILES_H_
