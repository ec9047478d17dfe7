#include "exporter/http/connection_table.h"

#include <algorithm>

namespace pse {

void ConnectionTable::Leave(int fd, Entry* entry) {
  if (entry->phase == Phase::kAwaiting) awaiting_.erase({entry->since, fd});
  if (entry->phase == Phase::kIdle) idle_.erase({entry->since, fd});
}

void ConnectionTable::MarkClosing(int fd, Entry* entry) {
  if (entry->phase == Phase::kClosing) return;
  Leave(fd, entry);
  entry->phase = Phase::kClosing;
  --stats_.open;
}

ConnectionTable::Admission ConnectionTable::Admit(int fd, absl::Time now) {
  Remove(fd);  // a stale entry for a reused fd number would be a bug upstream
  const Key key{now, sequence_++};
  entries_[fd] = Entry{Phase::kAwaiting, key};
  awaiting_.insert({key, fd});
  ++stats_.open;
  ++stats_.accepted;
  Admission admission;
  if (stats_.open <= limits_.max_connections) return admission;

  // The newcomer has the newest key, so the front is someone else unless the
  // newcomer is the only one awaiting.
  if (awaiting_.begin()->second != fd) {
    admission.evict = awaiting_.begin()->second;
  } else if (!idle_.empty() && now - idle_.begin()->first.first >= limits_.read_header_timeout) {
    admission.evict = idle_.begin()->second;
  }
  if (admission.evict >= 0) {
    MarkClosing(admission.evict, &entries_[admission.evict]);
    ++stats_.evicted;
  } else {
    admission.refuse = true;
    MarkClosing(fd, &entries_[fd]);
    ++stats_.refused;
  }
  return admission;
}

bool ConnectionTable::WouldRefuse(absl::Time now) const {
  return stats_.open >= limits_.max_connections && awaiting_.empty() &&
         (idle_.empty() || now - idle_.begin()->first.first < limits_.read_header_timeout);
}

std::vector<int> ConnectionTable::IdleConnections() const {
  std::vector<int> fds;
  fds.reserve(idle_.size());
  for (const auto& entry : idle_) fds.push_back(entry.second);
  return fds;
}

void ConnectionTable::PeerClosed(int fd) {
  auto it = entries_.find(fd);
  if (it != entries_.end()) MarkClosing(fd, &it->second);
}

void ConnectionTable::RequestStarted(int fd) {
  auto it = entries_.find(fd);
  if (it == entries_.end() || it->second.phase == Phase::kClosing) return;
  Leave(fd, &it->second);
  it->second.phase = Phase::kInRequest;
}

void ConnectionTable::RequestFinished(int fd, absl::Time now) {
  auto it = entries_.find(fd);
  if (it == entries_.end() || it->second.phase != Phase::kInRequest) return;
  it->second.phase = Phase::kIdle;
  it->second.since = {now, sequence_++};
  idle_.insert({it->second.since, fd});
}

void ConnectionTable::Remove(int fd) {
  auto it = entries_.find(fd);
  if (it == entries_.end()) return;
  MarkClosing(fd, &it->second);
  entries_.erase(it);
}

std::vector<int> ConnectionTable::TakeExpired(absl::Time now) {
  std::vector<int> expired;
  while (!awaiting_.empty() &&
         awaiting_.begin()->first.first + limits_.read_header_timeout <= now) {
    const int fd = awaiting_.begin()->second;
    MarkClosing(fd, &entries_[fd]);
    ++stats_.header_timeouts;
    expired.push_back(fd);
  }
  while (!idle_.empty() && idle_.begin()->first.first + limits_.idle_timeout <= now) {
    const int fd = idle_.begin()->second;
    MarkClosing(fd, &entries_[fd]);
    ++stats_.idle_timeouts;
    expired.push_back(fd);
  }
  return expired;
}

absl::Time ConnectionTable::NextDeadline() const {
  absl::Time next = absl::InfiniteFuture();
  if (!awaiting_.empty()) {
    next = std::min(next, awaiting_.begin()->first.first + limits_.read_header_timeout);
  }
  if (!idle_.empty()) next = std::min(next, idle_.begin()->first.first + limits_.idle_timeout);
  return next;
}

}  // namespace pse
