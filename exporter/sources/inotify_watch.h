// InotifyWatch: change notification for a followed log file. One inotify
// instance watches the log's directory (creates, renames, deletes) and the
// inodes of the files FileSource holds open. Open files are watched through
// /proc/self/fd/N, so the watch is on the inode we read, not on whatever the
// name points to now, and survives renames and unlinks.
//
// Events only wake a poll() on fd(); FileSource then looks at the files
// itself (stat/fstat), so a lost or overflowed event queue loses nothing but
// latency. When inotify is unavailable, fd() is -1 and every call is a no-op:
// FileSource falls back to stat polling.
//
// inotify gives one watch per inode, shared by every add of that inode; the
// watch is kept until the last WatchOpenFile() of it is undone by Unwatch().
// Not thread-safe. Closes its descriptor on destruction.
#ifndef PSE_EXPORTER_SOURCES_INOTIFY_WATCH_H_
#define PSE_EXPORTER_SOURCES_INOTIFY_WATCH_H_

#include <map>
#include <string>

#include "absl/status/status.h"

namespace pse {

class InotifyWatch {
 public:
  // `dir`: the directory of the followed log. On failure available() is
  // false and init_error() says why.
  explicit InotifyWatch(std::string dir);
  ~InotifyWatch();
  InotifyWatch(const InotifyWatch&) = delete;
  InotifyWatch& operator=(const InotifyWatch&) = delete;

  bool available() const { return fd_ >= 0; }
  const absl::Status& init_error() const { return init_error_; }
  // Readable when an event arrived; -1 without inotify.
  int fd() const { return fd_; }

  // Watches the inode open as `file_fd`; returns a watch id for Unwatch(),
  // or -1 (no inotify, or the kernel refused).
  int WatchOpenFile(int file_fd);
  void Unwatch(int wd);

  // Adds the directory watch if it is not there (the directory may be
  // missing, or removed and created again).
  void EnsureDirWatch();

  // Reads every queued event (non-blocking) and forgets watches the kernel
  // dropped (inode gone, directory removed).
  void Drain();

 private:
  const std::string dir_;
  int fd_ = -1;
  absl::Status init_error_;
  int dir_wd_ = -1;
  std::map<int, int> file_refs_;  // watch id -> WatchOpenFile() calls not yet undone
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_INOTIFY_WATCH_H_
