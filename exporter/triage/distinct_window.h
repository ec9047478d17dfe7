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

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace pse {
namespace triage {

// 64-bit hash of `bytes`, the same in every run and on every host.
uint64_t HashBytes(absl::string_view bytes);

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
  // the estimate may have changed.
  bool Add(uint64_t hash, int64_t now_us);
  // Moves log time forward (earlier times are ignored), expiring slices.
  // True when the estimate may have changed.
  bool Advance(int64_t now_us);
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
  };
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
  std::vector<Slice> slices_;
  std::vector<uint8_t> max_;
  std::vector<uint32_t> hist_;
};

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_DISTINCT_WINDOW_H_
