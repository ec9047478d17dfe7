// SpaceSaving: the heavy hitters of a stream in fixed memory.
//
// Metwally, Agrawal and El Abbadi's Space-Saving algorithm with `capacity`
// counters. An item not held replaces the item with the smallest count,
// inheriting that count as its `error`. For every item held:
//
//   count - error  <=  true count  <=  count,   error <= N / capacity
//
// where N is the sum of all weights added (after decay, see Halve). Every
// item whose true count exceeds N / capacity is held. So with capacity 8K
// the K heaviest items are found whenever they stand out by more than an
// eighth of the total spread over K.
//
// Halve() divides every count and error by two: called once per window of
// time it turns all-time counts into exponentially decayed ones, so a new
// attacker can outrank one that stopped an hour ago. The bounds above still
// hold for the decayed counts (halving is monotone, ties round down).
//
// Counters sit in an indexed min-heap (Add and eviction are O(log capacity))
// plus a hash map from item to slot: memory is fixed at construction. The
// slot of the last item added is tried before the map.
// Not thread-safe.
#ifndef PSE_EXPORTER_TRIAGE_SPACE_SAVING_H_
#define PSE_EXPORTER_TRIAGE_SPACE_SAVING_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

namespace pse {
namespace triage {

// `Hash` hashes a Key for the item-to-slot map (absl's by default).
template <typename Key, typename Hash = absl::Hash<Key>>
class SpaceSaving {
 public:
  struct Entry {
    Key key{};
    uint64_t count = 0;
    uint64_t error = 0;
    // What the item is known to have had at least.
    uint64_t guaranteed() const { return count - error; }
  };

  // REQUIRES: capacity >= 1.
  explicit SpaceSaving(size_t capacity) : capacity_(capacity) {
    slots_.reserve(capacity);
    heap_.reserve(capacity);
    pos_.reserve(capacity);
    index_.reserve(capacity);
  }

  // Adds `weight` occurrences of `key`; returns its entry (valid until the
  // next mutating call). When that pushed another item out, `*evicted` (if
  // not null) is set to it and `*did_evict` to true.
  const Entry& Add(const Key& key, uint64_t weight, Key* evicted = nullptr,
                   bool* did_evict = nullptr) {
    if (did_evict != nullptr) *did_evict = false;
    const size_t slot = last_slot_;
    if (slot < slots_.size() && slots_[slot].key == key) {
      slots_[slot].count += weight;
      SiftDown(pos_[slot]);
      return slots_[slot];
    }
    return AddByMap(key, weight, evicted, did_evict);
  }

  // The entry of `key`, or null when it is not held.
  const Entry* Find(const Key& key) const {
    auto found = index_.find(key);
    return found == index_.end() ? nullptr : &slots_[found->second];
  }

  void Halve() {
    for (Entry& e : slots_) {
      e.count /= 2;
      e.error /= 2;
    }
  }

  // Held entries in no particular order.
  const std::vector<Entry>& entries() const { return slots_; }
  size_t capacity() const { return capacity_; }

  // Puts back an entry saved from entries(); false when full or a duplicate.
  bool Restore(const Entry& e) {
    if (slots_.size() >= capacity_ || index_.contains(e.key) || e.error > e.count) return false;
    const size_t slot = slots_.size();
    slots_.push_back(e);
    pos_.push_back(heap_.size());
    heap_.push_back(slot);
    index_.emplace(e.key, slot);
    SiftUp(pos_[slot]);
    return true;
  }

 private:
  // Add for an item other than the last one.
  const Entry& AddByMap(const Key& key, uint64_t weight, Key* evicted, bool* did_evict) {
    size_t slot;
    auto found = index_.find(key);
    if (found != index_.end()) {
      slot = found->second;
      slots_[slot].count += weight;
    } else if (slots_.size() < capacity_) {
      slot = slots_.size();
      slots_.push_back(Entry{key, weight, 0});
      pos_.push_back(heap_.size());
      heap_.push_back(slot);
      index_.emplace(key, slot);
      SiftUp(pos_[slot]);
      last_slot_ = slot;
      return slots_[slot];
    } else {
      slot = heap_[0];
      Entry& e = slots_[slot];
      if (evicted != nullptr) *evicted = e.key;
      if (did_evict != nullptr) *did_evict = true;
      index_.erase(e.key);
      e.key = key;
      e.error = e.count;
      e.count += weight;
      index_.emplace(key, slot);
    }
    last_slot_ = slot;
    SiftDown(pos_[slot]);
    return slots_[slot];
  }

  uint64_t CountAt(size_t heap_index) const { return slots_[heap_[heap_index]].count; }
  void Swap(size_t a, size_t b) {
    std::swap(heap_[a], heap_[b]);
    pos_[heap_[a]] = a;
    pos_[heap_[b]] = b;
  }
  void SiftUp(size_t i) {
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (CountAt(parent) <= CountAt(i)) return;
      Swap(parent, i);
      i = parent;
    }
  }
  void SiftDown(size_t i) {
    for (;;) {
      size_t smallest = i;
      const size_t l = 2 * i + 1, r = l + 1;
      if (l < heap_.size() && CountAt(l) < CountAt(smallest)) smallest = l;
      if (r < heap_.size() && CountAt(r) < CountAt(smallest)) smallest = r;
      if (smallest == i) return;
      Swap(smallest, i);
      i = smallest;
    }
  }

  size_t capacity_;
  std::vector<Entry> slots_;
  std::vector<size_t> heap_;  // slot indices, min count first
  std::vector<size_t> pos_;   // slot -> index in heap_
  absl::flat_hash_map<Key, size_t, Hash> index_;
  // The slot Add last counted in. Failures come in bursts from one network,
  // so the next Add is often for the same item, and comparing one key
  // costs less than probing the map. It checks itself: a slot's key changes
  // only when the slot is reused for another item.
  size_t last_slot_ = 0;
};

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_SPACE_SAVING_H_
