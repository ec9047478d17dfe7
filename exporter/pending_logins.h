// PendingLogins: failed logins waiting to be matched (ReasonRefiner), in
// arrival order, found by client address.
//
// Items are taken by TakeMatch (the oldest of one client whose user name
// fits) or PopOldest (the oldest of all). Both cost O(1) plus the items of
// the same client before the match. Slots of items taken out of the middle
// are freed once the items before them are gone, so slots() can exceed
// size(); the owner caps slots().
//
// Not thread-safe; a plain container.
#ifndef PSE_EXPORTER_PENDING_LOGINS_H_
#define PSE_EXPORTER_PENDING_LOGINS_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "exporter/service_table.h"
#include "parsers/postfix_event.h"

namespace pse {

struct PendingLogin {
  int64_t at_us = 0;   // log time it arrived
  std::string client;  // client address, as the matching compares it
  std::string user;    // "" when not known
  // A held failure's: where to count it.
  ServiceId service;
  SaslMethod method = SaslMethod::kUnknown;
  // A verdict's: what it says.
  FailureReason reason = FailureReason::kOther;
};

// Whether two user names can be the same login: either unknown, or equal
// ignoring ASCII case.
bool UsersMatch(absl::string_view a, absl::string_view b);

class PendingLogins {
 public:
  void Push(PendingLogin item);
  // Takes the oldest item of `client` whose user matches `user`
  // (UsersMatch); false when there is none.
  bool TakeMatch(absl::string_view client, absl::string_view user, PendingLogin* out);
  // REQUIRES: !empty().
  const PendingLogin& oldest() const { return items_.front().item; }
  PendingLogin PopOldest();

  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }
  size_t slots() const { return items_.size(); }

  // Calls f(const PendingLogin&) for each item, oldest first.
  template <typename F>
  void ForEach(F f) const {
    for (const Slot& s : items_) {
      if (s.live) f(s.item);
    }
  }

 private:
  struct Slot {
    PendingLogin item;
    bool live = true;
  };
  // Drops the taken slots at the front, so that front() is live.
  void Trim();

  std::deque<Slot> items_;
  uint64_t base_ = 0;  // sequence number of items_.front()
  size_t live_ = 0;
  // Per client, the sequence numbers of its live items, oldest first.
  absl::flat_hash_map<std::string, std::deque<uint64_t>> by_client_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_PENDING_LOGINS_H_
