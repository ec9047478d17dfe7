// DistinctWindow: how many distinct values were seen in a trailing window of
// log time, estimated in fixed memory.
//
// A HyperLogLog per time bucket: the window (default 1 h) is split into
// `buckets` (default 30, so 2 min) slices of log time, each with its own
// 2^precision one-byte registers; the estimate reads the register-wise
// maximum of the live slices, kept up to date as values are added (so a
// read costs O(64), not O(registers)). A value leaves the estimate between
// window - window/buckets and window after it was last seen.
//
// Accuracy: the standard error of HyperLogLog is 1.04 / sqrt(2^precision):
// 0.81% at precision 14, the default, i.e. within 2% at 1 M distinct values
// about 98% of the time. The estimator is Ertl's improved raw estimator
// ("New cardinality estimation algorithms for HyperLogLog sketches", 2017),
// unbiased from 0 to far beyond 10^9 without the small-range switch.
// Memory: 2^precision bytes per slice that saw a value in the window, plus
// 2^precision for the maximum: at most 31 x 16 KiB = 496 KiB at the default.
//
// Values are hashed with HashBytes (a fixed function, stable across runs, so
// a saved state restores into the same registers). Not thread-safe.
#ifndef PSE_EXPORTER_TRIAGE_DISTINCT_WINDOW_H_
#define PSE_EXPORTER_TRIAGE_DISTINCT_WINDOW_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/numeric/bits.h"
#include "absl/strings/string_view.h"

namespace pse {
namespace triage {

namespace hash_internal {

// HashBytes' steps (distinct_window.cc has the reasoning): its start for a
// length, one little-endian word mixed in, the finaliser.
constexpr uint64_t Start(uint64_t n) { return 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL); }
constexpr uint64_t Mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 29);
}
inline uint64_t Finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}
// Eight bytes at `p` as a little-endian word, on every host.
inline uint64_t LoadLE64(const void* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

// The last 1..7 bytes at `p` as a little-endian word (the bytes past them
// zero), without a loop over bytes: two loads that overlap, or three single
// bytes, never reading past the end.
inline uint64_t LoadTail(const unsigned char* p, size_t n) {
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap32(lo);
    hi = __builtin_bswap32(hi);
#endif
    // Overlapping bytes are the same in both, so OR puts each in place once.
    return uint64_t{lo} | (uint64_t{hi} << (8 * (n - 4)));
  }
  return uint64_t{p[0]} | (uint64_t{p[n / 2]} << (8 * (n / 2))) |
         (uint64_t{p[n - 1]} << (8 * (n - 1)));
}

}  // namespace hash_internal

// 64-bit hash of `bytes`, the same in every run and on every host: eight
// bytes at a time (read as little-endian), each word multiplied in; the
// finaliser (MurmurHash3's fmix64 constants) mixes the high bits
// HyperLogLog indexes by. Cheap more than strong: the input is not secret
// and collisions only cost accuracy. Inline, as it runs for every failure.
// The value is pinned (HyperLogLog registers in state files depend on it).
inline uint64_t HashBytes(absl::string_view bytes) {
  using namespace hash_internal;  // NOLINT(build/namespaces): local helpers
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint64_t h = Start(n);
  const bool long_enough = n >= 8;
  for (; n >= 8; n -= 8, p += 8) h = Mix(h, LoadLE64(p));
  if (n > 0) {
    // The last n bytes are the top of the word that ends with them (its
    // other bytes were mixed in already): one load, no byte assembly.
    h = Mix(h, long_enough ? LoadLE64(p + n - 8) >> (8 * (8 - n)) : LoadTail(p, n));
  }
  return Finish(h);
}

// HashBytes of the 16 bytes at `p` (an address) without the generic loop:
// the same value. An IPv4 address's first word is zero, and the state after
// mixing in a zero word is a constant: one multiply less on the way to the
// register the hash picks.
inline uint64_t HashBytes16(const uint8_t* p) {
  using namespace hash_internal;  // NOLINT(build/namespaces): local helpers
  constexpr uint64_t kAfterZeroWord = Mix(Start(16), 0);
  const uint64_t lo = LoadLE64(p);
  const uint64_t h = lo == 0 ? kAfterZeroWord : Mix(Start(16), lo);
  return Finish(Mix(h, LoadLE64(p + 8)));
}

// Ertl's estimate from a register histogram: hist[k] is the number of
// registers holding k, for k in 0..64-precision+1.
double EstimateFromHistogram(const std::vector<uint32_t>& hist, int precision);

class DistinctWindow {
 public:
  struct Options {
    int precision = 14;              // 4..18
    int64_t window_us = 3600000000;  // 1 h
    int buckets = 30;                // slices of the window
  };

  explicit DistinctWindow(const Options& options);

  // Adds a value (by its HashBytes) seen at log time `now_us`. True when
  // the estimate may have changed. Inline for the common case (log time
  // still in the current slice, which has registers): it runs per failure.
  bool Add(uint64_t hash, int64_t now_us) {
    if (now_us >= next_epoch_us_ || current_ < 0) return AddSlow(hash, now_us);
    return AddToCurrent(hash);
  }
  // Starts loading the two registers Add(hash) will touch, so that the
  // caller's other work hides their way from cache (with two windows and
  // their maxima, 64 KiB of registers: mostly not in L1). A hint only.
  void Prefetch(uint64_t hash) const {
    if (current_ < 0) return;
    const size_t index = hash >> (64 - options_.precision);
    __builtin_prefetch(slices_[static_cast<size_t>(current_)].registers.data() + index, 1);
    __builtin_prefetch(max_.data() + index, 1);
  }
  // Moves log time forward (earlier times are ignored), expiring slices.
  // True when the estimate may have changed.
  bool Advance(int64_t now_us) { return now_us < next_epoch_us_ ? false : AdvanceSlow(now_us); }
  // Distinct values in the window.
  double Estimate() const;
  // The bytes the registers take now.
  size_t MemoryBytes() const;

  // The live slices as tokens without spaces, and back (on a fresh object).
  // Restore ignores a state saved with other options (the estimate starts
  // from zero) and returns false only for malformed text.
  std::vector<std::string> Save() const;
  bool Restore(const std::vector<std::string>& tokens);

 private:
  struct Slice {
    int64_t epoch = -1;  // -1: empty
    std::vector<uint8_t> registers;
    // Save()'s token for this slice, kept until the slice changes: a state
    // file is written before every scrape, and registers rarely change once
    // a slice has filled. Empty: not encoded yet.
    mutable std::string saved;
    // A register changed since `saved` was made (set without a branch by
    // Add, whose outcome is a coin flip while a slice fills).
    mutable bool dirty = false;
  };
  // Add and Advance past the current slice, or with no slice for it yet.
  bool AddSlow(uint64_t hash, int64_t now_us);
  bool AdvanceSlow(int64_t now_us);
  // Sets `current_` to epoch_'s slice, clearing it if it held an older one.
  void OpenCurrent();
  // REQUIRES: current_ >= 0. The slice's register is raised without a
  // branch: whether a value raises it is a coin flip while a slice fills,
  // and a mispredicted branch that waits on the hash and a register load
  // costs more than the store. max_ (>= every live slice's registers, so it
  // can only rise where the slice's register did) rises far less often.
  bool AddToCurrent(uint64_t hash) {
    const int p = options_.precision;
    const size_t index = hash >> (64 - p);
    const uint64_t rest = hash << p;
    const uint8_t rank = static_cast<uint8_t>(rest == 0 ? 64 - p + 1 : absl::countl_zero(rest) + 1);
    Slice& s = slices_[static_cast<size_t>(current_)];
    uint8_t& reg = s.registers[index];
    const uint8_t old = reg;
    reg = std::max(old, rank);
    s.dirty |= rank > old;
    uint8_t& max = max_[index];
    if (rank <= max) return false;
    --hist_[max];
    ++hist_[rank];
    max = rank;
    return true;
  }
  // Moves epoch_ (and next_epoch_us_ with it); no current slice.
  void SetEpoch(int64_t epoch);
  // The Save() token of one live slice.
  std::string EncodeSlice(const Slice& s) const;
  int64_t EpochOf(int64_t now_us) const { return now_us / bucket_us_; }
  // Recomputes the maximum and its histogram from the live slices.
  void Rebuild();
  // The same after one slice with registers `old` left: only registers
  // where it held the maximum are recomputed. REQUIRES: max_ is allocated.
  void Forget(const std::vector<uint8_t>& old);

  const Options options_;
  const int64_t bucket_us_;
  const size_t registers_;
  int64_t epoch_ = 0;
  // Log times from here on are in a later epoch (Advance has work to do).
  int64_t next_epoch_us_ = 0;
  // The index in slices_ of epoch_'s slice once a value was added in it
  // (its registers and max_ allocated); -1 before, and after epoch_ moves.
  int current_ = -1;
  std::vector<Slice> slices_;
  std::vector<uint8_t> max_;
  std::vector<uint32_t> hist_;
};

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_DISTINCT_WINDOW_H_
