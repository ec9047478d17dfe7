// Admission and deadlines for the connections of one listener: the policy
// that keeps slow, silent or hostile clients from starving a scrape. Pure
// bookkeeping on socket fds and a clock passed in; ConnectionGuard applies
// its decisions to real sockets.
//
// A connection is in one phase:
//   awaiting   accepted (TLS handshake included), request headers not yet
//              complete. Deadline: accepted + read_header_timeout, absolute,
//              so a client trickling one byte a second gains nothing.
//   in request headers complete, until the response is sent. No deadline
//              here (the HTTP layer's inactivity timeout applies); never
//              evicted: it is a client being served.
//   idle       kept alive after a response, waiting for the next request.
//              Deadline: idle since + idle_timeout, absolute likewise.
//   closing    told to close (evicted, refused, expired); no longer counts
//              against max_connections, stays listed until Remove().
//
// Rules (each has a test named after it in connection_table_test.cc):
//   - NewcomerEvictsOldestAwaiting: when admitting a connection would put
//     more than max_connections open, the oldest awaiting connection (not the
//     newcomer) is closed instead of turning the newcomer away. A flood of
//     silent connections therefore only ever displaces itself; a scraper,
//     which sends its request at once, leaves `awaiting` within one round
//     trip.
//   - NewcomerEvictsLongIdle: failing that, the longest idle kept-alive
//     connection, if it has been idle at least read_header_timeout.
//   - NewcomerRefusedWhenOthersAreServed: failing that, the newcomer is
//     refused (closed): every slot holds a client being served or one served
//     moments ago.
//   - PeerClosedFreesItsSlot: before refusing, a kept-alive connection whose
//     client has already hung up (end-of-file not yet processed by the HTTP
//     layer) is counted as free.
//   - AwaitingExpiresAtReadHeaderTimeout, IdleExpiresAtIdleTimeout.
//
// Thread-safety: none; the caller serialises every call.

#ifndef PSE_EXPORTER_HTTP_CONNECTION_TABLE_H_
#define PSE_EXPORTER_HTTP_CONNECTION_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace pse {

struct ConnectionLimits {
  size_t max_connections = 64;
  absl::Duration read_header_timeout = absl::Seconds(5);
  absl::Duration idle_timeout = absl::Seconds(10);
};

// Counters since start; `open` is the current number not closing.
struct ConnectionStats {
  size_t open = 0;
  uint64_t accepted = 0;
  uint64_t evicted = 0;          // closed to admit a newcomer
  uint64_t refused = 0;          // newcomers closed at once
  uint64_t header_timeouts = 0;  // awaiting past read_header_timeout
  uint64_t idle_timeouts = 0;    // idle past idle_timeout
};

class ConnectionTable {
 public:
  struct Admission {
    bool refuse = false;  // close the newcomer itself
    int evict = -1;       // else: close this connection (-1: nothing to do)
  };

  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

  // A newly accepted connection. `now` must not go backwards between calls.
  Admission Admit(int fd, absl::Time now);
  // Its request headers are complete (first call of the request handler).
  void RequestStarted(int fd);
  // Its response is done and it stays open for another request.
  void RequestFinished(int fd, absl::Time now);
  // The socket is about to be closed; forget it (unknown fds are ignored).
  void Remove(int fd);

  // True when admitting a connection now would refuse it: every slot is
  // taken and nothing may be evicted. Then the caller may look for kept-alive
  // connections whose client has already hung up (IdleConnections,
  // PeerClosed) so a slot being freed is not mistaken for a full server.
  bool WouldRefuse(absl::Time now) const;
  std::vector<int> IdleConnections() const;
  // The client closed `fd`; it stops counting (marked closing).
  void PeerClosed(int fd);

  // Connections whose deadline is at or before `now`, each returned once and
  // marked closing.
  std::vector<int> TakeExpired(absl::Time now);
  // The earliest deadline; absl::InfiniteFuture() when none.
  absl::Time NextDeadline() const;

  const ConnectionStats& stats() const { return stats_; }

 private:
  enum class Phase { kAwaiting, kInRequest, kIdle, kClosing };
  // Order of entry into a phase: time, then arrival sequence for ties.
  using Key = std::pair<absl::Time, uint64_t>;
  struct Entry {
    Phase phase = Phase::kAwaiting;
    Key since;
  };

  void Leave(int fd, Entry* entry);  // out of the awaiting/idle index
  void MarkClosing(int fd, Entry* entry);

  ConnectionLimits limits_;
  std::map<int, Entry> entries_;
  std::set<std::pair<Key, int>> awaiting_;  // oldest first
  std::set<std::pair<Key, int>> idle_;      // longest idle first
  uint64_t sequence_ = 0;
  ConnectionStats stats_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_CONNECTION_TABLE_H_
