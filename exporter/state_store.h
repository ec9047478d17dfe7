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
// Between a save and the next, ingest holds the lock only while it reads a
// batch; a scrape waits at most for that batch.
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

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "exporter/pipeline.h"
#include "exporter/source.h"
#include "exporter/state_file.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace pse {

class StateStore {
 public:
  using Logger = std::function<void(absl::string_view level, absl::string_view msg)>;

  // An empty path disables saving and loading (Save() is then a no-op).
  StateStore(std::string path, Logger logger);

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

  // Binds the live source and pipeline; Save() reads them under mutex().
  void Attach(Source* source, Pipeline* pipeline);
  // Saves now. REQUIRES: mutex() is held by the caller.
  absl::Status SaveLocked();
  // Takes mutex() and saves.
  absl::Status Save();

  std::mutex& mutex() { return mutex_; }

 private:
  std::string path_;
  Logger logger_;
  std::mutex mutex_;
  Source* source_ = nullptr;
  Pipeline* pipeline_ = nullptr;
};

// The registry as HTTP collects it, with the state saved first under the
// store's lock (a failed save is logged; the scrape is answered anyway).
class SavingCollectable : public prometheus::Collectable {
 public:
  SavingCollectable(StateStore* store, std::shared_ptr<prometheus::Registry> registry)
      : store_(store), registry_(std::move(registry)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  StateStore* store_;
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_STATE_STORE_H_
