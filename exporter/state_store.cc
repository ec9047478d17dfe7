#include "exporter/state_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "exporter/util/fs_util.h"

namespace pse {

StateStore::StateStore(std::string path, LogHook logger)
    : path_(std::move(path)), logger_(std::move(logger)) {
  if (!logger_) logger_ = [](LogLevel, absl::string_view) {};
}

absl::Status StateStore::CheckUsable() const {
  if (!enabled()) return absl::OkStatus();
  const std::string dir = ParentDirectory(path_);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("state file ", path_, ": directory ", dir, " does not exist"));
  }
  if (access(dir.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("state file ", path_, ": directory ", dir,
                                                   " is not writable: ", ErrnoText(errno)));
  }
  if (stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("state file ", path_, ": exists and is not a regular file"));
  }
  return absl::OkStatus();
}

std::optional<StateDocument> StateStore::Load(absl::string_view source_description) {
  if (!enabled()) return std::nullopt;
  absl::StatusOr<StateDocument> doc = LoadStateFile(path_);
  if (absl::IsNotFound(doc.status())) {
    logger_(LogLevel::kInfo,
            absl::StrCat("state file ", path_, " does not exist yet; starting fresh"));
    return std::nullopt;
  }
  if (!doc.ok()) {
    Discard(doc.status().message());
    return std::nullopt;
  }
  if (doc->source != source_description) {
    Discard(absl::StrCat("it was written for ", doc->source, ", not ", source_description));
    return std::nullopt;
  }
  return std::move(*doc);
}

void StateStore::Discard(absl::string_view why) {
  absl::StatusOr<std::string> aside = MoveStateFileAside(path_);
  logger_(LogLevel::kWarn, absl::StrCat("state file ", path_, " not used (", why, "); ",
                                        aside.ok() ? absl::StrCat("moved to ", *aside)
                                                   : std::string(aside.status().message()),
                                        "; starting as without one"));
}

void StateStore::Attach(Source* source, Pipeline* pipeline) {
  std::lock_guard<std::mutex> lock(mutex_);
  source_ = source;
  pipeline_ = pipeline;
}

StateStore::Snapshot StateStore::TakeSnapshotLocked(
    const std::vector<prometheus::MetricFamily>* collected) {
  Snapshot snapshot;
  if (!enabled() || source_ == nullptr || pipeline_ == nullptr) return snapshot;
  StateDocument doc;
  doc.source = source_->Describe();
  doc.sections["position"] = absl::StrSplit(source_->CheckpointText(), '\n', absl::SkipEmpty());
  pipeline_->SaveState(&doc, collected);
  snapshot.number = ++snapshots_;
  snapshot.text = FormatState(doc);
  return snapshot;
}

absl::Status StateStore::Write(const Snapshot& snapshot) {
  if (snapshot.number == 0) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(write_mutex_);
  if (snapshot.number <= written_number_) return absl::OkStatus();  // a newer one is on disk
  if (snapshot.text == written_text_) {
    written_number_ = snapshot.number;
    return absl::OkStatus();
  }
  absl::Status st = WriteFileAtomically(path_, snapshot.text, 0600);
  if (!st.ok()) return st;
  written_number_ = snapshot.number;
  written_text_ = snapshot.text;
  return absl::OkStatus();
}

absl::Status StateStore::Save() {
  Snapshot snapshot;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot = TakeSnapshotLocked();
  }
  return Write(snapshot);
}

std::vector<prometheus::MetricFamily> SavingCollectable::Collect() const {
  std::lock_guard<std::mutex> last_lock(last_mutex_);
  const absl::Time now = clock_();
  if (now - last_at_ < reuse_for_) return last_;  // saved already
  std::vector<prometheus::MetricFamily> families;
  StateStore::Snapshot snapshot;
  {
    std::lock_guard<std::mutex> lock(store_->mutex());
    families = registry_->Collect();
    // One collection serves both the answer and the snapshot.
    snapshot = store_->TakeSnapshotLocked(&families);
  }
  // The answer leaves only once what it shows is on disk. A failed save is
  // reported by the ingest loop's next periodic save; the scrape is served.
  (void)store_->Write(snapshot);
  if (reuse_for_ > absl::ZeroDuration()) {
    last_at_ = now;
    last_ = families;
  }
  return families;
}

}  // namespace pse
