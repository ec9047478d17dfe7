// fs_util: the few file-system operations the exporter does in more than one
// place, done one way: small-file reads with a size cap, durable atomic
// replacement of a small file, whole positioned reads, a path's parent
// directory, errno text, and the fingerprint checkpoints use.
//
// WriteFileAtomically is what every checkpoint (read position, journal cursor,
// state file) uses: after a crash at any point the file holds either the old
// or the new contents, never a mix or nothing, and the rename itself survives
// a power loss (the directory is fsynced).
//
// Thread-safe (no shared state). Errors are absl::Status with the path and
// errno text in the message.
#ifndef PSE_EXPORTER_UTIL_FS_UTIL_H_
#define PSE_EXPORTER_UTIL_FS_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pse {

// strerror(err) as a std::string; accepts negative values (sd-journal's -errno).
std::string ErrnoText(int err);

// "dir" of "dir/name"; "." for a bare name, "/" for "/name".
std::string ParentDirectory(absl::string_view path);

// Reads exactly `n` bytes at `offset` (retrying short reads and EINTR);
// false on an error or end of file before `n` bytes.
bool PreadAll(int fd, char* buf, size_t n, uint64_t offset);

// FNV-1a 64 of `data`: a cheap, stable fingerprint for checkpoints (not a
// defence against anyone crafting collisions).
uint64_t Fnv1a64(absl::string_view data);

// The whole file, at most `max_bytes` long (longer is OutOfRange). NotFound
// when it does not exist; Unavailable for any other failure.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 16 << 20);

// Replaces `path` with `contents`: write `path`.tmp, fsync, rename over
// `path`, fsync the directory. On error the temporary file is removed and
// `path` is untouched. `mode` applies to a newly created file.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 int mode = 0644);

}  // namespace pse

#endif  // PSE_EXPORTER_UTIL_FS_UTIL_H_
