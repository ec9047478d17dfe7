// Applies ConnectionTable's admission and deadline policy (see
// connection_table.h) to the real sockets of one listener: closes what the
// table evicts, refuses or times out, from the accepting thread or from its
// own reaper thread, which sleeps until the next deadline.
//
// "Close" is shutdown(SHUT_RDWR): the HTTP library, which owns the fd, sees
// end-of-file on its next read and releases the connection itself. The
// shutdown happens under the same lock as OnClosed(), and the library calls
// OnClosed() before close(), so a reused fd number is never hit.
//
// Time is the monotonic clock (steady_clock), so wall-clock steps do not
// expire or prolong connections.
//
// Thread-safety: every On* method and stats() may be called from any thread.
// REQUIRES: OnClosed(fd) runs before the fd is closed, for every fd passed
// to OnAccepted. Lifetime: the destructor stops and joins the reaper.

#ifndef PSE_EXPORTER_HTTP_CONNECTION_GUARD_H_
#define PSE_EXPORTER_HTTP_CONNECTION_GUARD_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "exporter/http/connection_table.h"

namespace pse {

class ConnectionGuard {
 public:
  explicit ConnectionGuard(ConnectionLimits limits);
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  void OnAccepted(int fd);
  void OnRequestStarted(int fd);
  void OnRequestFinished(int fd);
  void OnClosed(int fd);

  ConnectionStats stats() const;

  // The monotonic clock the table runs on.
  static absl::Time Now();

 private:
  void Close(int fd);         // REQUIRES: mu_ held
  void WakeReaperIfSooner();  // REQUIRES: mu_ held
  void ReapLoop();

  mutable std::mutex mu_;
  std::condition_variable wake_;
  ConnectionTable table_;
  absl::Time reaper_wakes_at_ = absl::InfiniteFuture();
  bool stopping_ = false;
  std::thread reaper_;  // last: starts after the members it uses exist
};

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_CONNECTION_GUARD_H_
