// TopSeries: one counter family with a series for each of the K heaviest
// keys of a stream, and label "other" for the rest, in fixed memory.
//
// The discipline of the by-client family (triage.h), for keys that are
// 64-bit identities (user names, see username_label.h): a Space-Saving
// sketch of 8K (at least 64) candidates whose counts the owner halves once
// per window; a key gets a series once the sketch guarantees it at least
// `min_count` and more than the weakest series' key, which then leaves
// (its value moves into "other"). A series counts from the occurrence that
// earned it, so no series ever decreases, and the series always sum to
// everything added.
//
// Admission (TinyLFU's "doorkeeper"): a key the sketch does not hold enters
// it only when it comes back while a direct-mapped table of the last
// kRecent keys seen once still remembers it, and then with that earlier
// occurrence counted. A spray of names used once (1 M distinct failures)
// then costs two lookups and a store per name instead of an eviction from
// the sketch each; a key more frequent than 1/kRecent of the stream (every
// key the sketch can rank is above 1/capacity) gets in on its second
// occurrence almost surely. The sketch's counts stay upper bounds of what
// was admitted and count - error stays a lower bound of the true count.
//
// Label values are made by the caller once per promotion and kept (for the
// state file and the owner's other families). Not thread-safe.
#ifndef PSE_EXPORTER_TRIAGE_TOP_SERIES_H_
#define PSE_EXPORTER_TRIAGE_TOP_SERIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "exporter/triage/space_saving.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"

namespace pse {
namespace triage {

class TopSeries {
 public:
  // What an Add changed among the series.
  struct Change {
    bool promoted = false;  // the key added got a series
    bool demoted = false;   // `demoted_key` lost its series
    uint64_t demoted_key = 0;
  };

  // `family` (owned by a registry that outlives this) gets the series under
  // `label_name`. REQUIRES: top >= 1.
  TopSeries(prometheus::Family<prometheus::Counter>* family, std::string label_name, int top,
            int min_count);

  // Counts `n` for `key`; `label` is called only when the key earns a series.
  Change Add(uint64_t key, uint64_t n, absl::FunctionRef<std::string()> label);
  void AddOther(uint64_t n);
  // Halves the sketch's counts (once per window of log time).
  void Halve();

  // The label of `key`'s series, or null when it has none.
  const std::string* LabelOf(uint64_t key) const;
  size_t series() const { return series_.size(); }
  size_t MemoryBytes() const;

  // State lines (each prefixed with `tag` and a space), and back. Restore
  // takes the lines Save wrote, tag removed; with `same_config` false only
  // the total survives (every series' value goes into "other").
  void Save(absl::string_view tag, std::vector<std::string>* lines) const;
  bool RestoreLine(const std::vector<absl::string_view>& tokens, bool same_config);
  // After the last RestoreLine: recreates the series. The keys that got one.
  std::vector<uint64_t> FinishRestore(bool same_config);

 private:
  struct Series {
    prometheus::Counter* counter;
    uint64_t value;
    std::string label;
  };
  uint64_t Guaranteed(uint64_t key) const;
  void Promote(uint64_t key, std::string label, uint64_t initial);
  void Demote(uint64_t key);

  prometheus::Family<prometheus::Counter>* family_;
  const std::string label_name_;
  const size_t top_;
  const uint64_t min_count_;
  prometheus::Counter* other_;
  uint64_t other_value_ = 0;
  SpaceSaving<uint64_t> sketch_;
  absl::flat_hash_map<uint64_t, Series> series_;
  // The series whose key the sketch guarantees the least (see triage.h).
  bool weakest_valid_ = false;
  uint64_t weakest_ = 0;
  uint64_t weakest_count_ = 0;
  // Keys seen once lately, by their low bits (keys are hash values).
  static constexpr size_t kRecent = 4096;
  std::vector<uint64_t> recent_;
  // Read from the state file, waiting for FinishRestore.
  std::vector<std::pair<uint64_t, Series>> restored_;
};

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_TOP_SERIES_H_
