#include "exporter/sources/inotify_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "exporter/util/fs_util.h"

namespace pse {

InotifyWatch::InotifyWatch(std::string dir) : dir_(std::move(dir)) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) init_error_ = absl::UnavailableError(ErrnoText(errno));
}

InotifyWatch::~InotifyWatch() {
  if (fd_ >= 0) close(fd_);
}

int InotifyWatch::WatchOpenFile(int file_fd) {
  if (fd_ < 0) return -1;
  const std::string proc = absl::StrCat("/proc/self/fd/", file_fd);
  const int wd = inotify_add_watch(
      fd_, proc.c_str(), IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF);
  if (wd >= 0) ++file_refs_[wd];
  return wd;
}

void InotifyWatch::Unwatch(int wd) {
  auto it = file_refs_.find(wd);
  if (it == file_refs_.end()) return;  // dropped by the kernel already
  if (--it->second > 0) return;
  inotify_rm_watch(fd_, wd);
  file_refs_.erase(it);
}

void InotifyWatch::EnsureDirWatch() {
  if (fd_ < 0 || dir_wd_ >= 0) return;
  dir_wd_ = inotify_add_watch(fd_, dir_.c_str(),
                              IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
                                  IN_MOVE_SELF | IN_ONLYDIR);
}

void InotifyWatch::Drain() {
  if (fd_ < 0) return;
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t r = read(fd_, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    for (ssize_t i = 0; i < r;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + i);
      if (ev->mask & IN_IGNORED) {
        if (ev->wd == dir_wd_) dir_wd_ = -1;
        file_refs_.erase(ev->wd);
      }
      i += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

}  // namespace pse
