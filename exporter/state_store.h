// StateStore: keeps the state file (--state.file) in step with what
// Prometheus has seen, so a restart or a crash is invisible: counters go on
// from their saved values, every line is counted once, and lines written
// while the exporter was down are read.
//
// What is saved, together and atomically (state_file.h): the source's read
// position (file position or journal cursor), every counter and gauge value,
// and the session state. When:
//  - right before each scrape is collected, under the same lock as the
//    collection (SavingCollectable), so no value Prometheus has seen is ever
//    ahead of the saved state;
//  - every few seconds while ingesting, and at shutdown.
// A save takes a snapshot of the state under the lock (cheap: text in
// memory) and writes it (fsync included) after releasing it, so ingest never
// waits for the disk; a scrape's answer is sent only once the snapshot it
// was collected with is on disk. Snapshots are numbered: an older one never
// overwrites a newer one, and one equal to the last written is not written
// again (an idle exporter does not touch the disk).
//
// At start, Load() returns the saved document when it is intact, of this
// version and written for the same source (Source::Describe()); otherwise
// the file is logged, moved aside ("<path>.bad") and not used, and the
// exporter starts as without one.
//
// Thread-safety: Save() and SavingCollectable::Collect() take `mutex()`;
// the ingest thread holds it while it touches the source or the pipeline.
#ifndef PSE_EXPORTER_STATE_STORE_H_
#define PSE_EXPORTER_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/log_level.h"
#include "exporter/pipeline.h"
#include "exporter/source.h"
#include "exporter/state_file.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace pse {

class StateStore {
 public:
  // An empty path disables saving and loading (Save() is then a no-op).
  StateStore(std::string path, LogHook logger);

  bool enabled() const { return !path_.empty(); }
  // InvalidArgument unless the state file can be kept at path(): its
  // directory exists and is writable, and the path is not a directory.
  absl::Status CheckUsable() const;
  const std::string& path() const { return path_; }

  // The saved document if it can be used for `source_description`.
  std::optional<StateDocument> Load(absl::string_view source_description);
  // Moves the file aside after a document Load() returned turned out to be
  // unusable (`why` is logged).
  void Discard(absl::string_view why);

  // Binds the live source and pipeline; snapshots read them under mutex().
  void Attach(Source* source, Pipeline* pipeline);

  struct Snapshot {
    uint64_t number = 0;  // 0: nothing to write (disabled or not attached)
    std::string text;
  };
  // The state now. REQUIRES: mutex() is held by the caller. `collected` is
  // the registry's Collect() when the caller has just made it (a scrape).
  Snapshot TakeSnapshotLocked(const std::vector<prometheus::MetricFamily>* collected = nullptr);
  // Writes `snapshot` unless a newer or identical one was written already.
  // Must not be called with mutex() held (it waits for the disk).
  absl::Status Write(const Snapshot& snapshot);
  // Takes mutex() for the snapshot, then writes it.
  absl::Status Save();

  std::mutex& mutex() { return mutex_; }

 private:
  std::string path_;
  LogHook logger_;
  std::mutex mutex_;
  Source* source_ = nullptr;
  Pipeline* pipeline_ = nullptr;
  uint64_t snapshots_ = 0;  // guarded by mutex_

  std::mutex write_mutex_;  // after mutex_ if both are held; never the reverse
  uint64_t written_number_ = 0;
  std::string written_text_;
};

// The registry as HTTP collects it, with the state saved first under the
// store's lock (a failed save is logged; the scrape is answered anyway).
//
// Saves are coalesced: a scrape that comes within `reuse_for` of the last
// scrape-time save is answered with that save's values, which are on disk,
// instead of collecting and saving again. So the invariant holds (nothing
// Prometheus sees is ahead of the state file) while a scrape flood (many
// Prometheus replicas, a 100 ms scrape interval, a script in a loop) costs
// ingest at most one save per `reuse_for`. Zero: save before every scrape.
// Thread-safe; concurrent scrapes wait for one collection.
class SavingCollectable : public prometheus::Collectable {
 public:
  using Clock = std::function<absl::Time()>;
  SavingCollectable(StateStore* store, std::shared_ptr<prometheus::Registry> registry,
                    absl::Duration reuse_for = absl::ZeroDuration(), Clock clock = absl::Now)
      : store_(store),
        registry_(std::move(registry)),
        reuse_for_(reuse_for),
        clock_(std::move(clock)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  StateStore* store_;
  std::shared_ptr<prometheus::Registry> registry_;
  const absl::Duration reuse_for_;
  const Clock clock_;
  mutable std::mutex last_mutex_;  // taken before store_->mutex(), never after
  mutable absl::Time last_at_ = absl::InfinitePast();
  mutable std::vector<prometheus::MetricFamily> last_;  // guarded by last_mutex_
};

}  // namespace pse

#endif  // PSE_EXPORTER_STATE_STORE_H_
