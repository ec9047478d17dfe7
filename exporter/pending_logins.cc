#include "exporter/pending_logins.h"

#include <utility>

#include "absl/strings/match.h"

namespace pse {

bool UsersMatch(absl::string_view a, absl::string_view b) {
  return a.empty() || b.empty() || absl::EqualsIgnoreCase(a, b);
}

void PendingLogins::Push(PendingLogin item) {
  by_client_[item.client].push_back(base_ + items_.size());
  items_.push_back(Slot{std::move(item), true});
  ++live_;
}

bool PendingLogins::TakeMatch(absl::string_view client, absl::string_view user, PendingLogin* out) {
  auto found = by_client_.find(client);
  if (found == by_client_.end()) return false;
  std::deque<uint64_t>& seqs = found->second;
  for (auto it = seqs.begin(); it != seqs.end(); ++it) {
    Slot& slot = items_[*it - base_];
    if (!UsersMatch(slot.item.user, user)) continue;
    *out = std::move(slot.item);
    slot.live = false;
    --live_;
    seqs.erase(it);
    if (seqs.empty()) by_client_.erase(found);
    Trim();
    return true;
  }
  return false;
}

PendingLogin PendingLogins::PopOldest() {
  PendingLogin out = std::move(items_.front().item);
  auto found = by_client_.find(out.client);
  // The oldest item is the oldest of its client too.
  found->second.pop_front();
  if (found->second.empty()) by_client_.erase(found);
  items_.front().live = false;
  --live_;
  Trim();
  return out;
}

void PendingLogins::Trim() {
  while (!items_.empty() && !items_.front().live) {
    items_.pop_front();
    ++base_;
  }
}

}  // namespace pse
