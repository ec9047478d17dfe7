#include "exporter/sources/multi_source.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pse {

CompositeSource::CompositeSource(std::vector<std::unique_ptr<Source>> owned,
                                 std::vector<Source*> borrowed, absl::Duration slice)
    : owned_(std::move(owned)), slice_(slice) {
  for (const auto& c : owned_) children_.push_back(c.get());
  children_.insert(children_.end(), borrowed.begin(), borrowed.end());
}

size_t CompositeSource::Poll(RecordSink* sink) {
  size_t n = 0;
  for (Source* c : children_) n += c->Poll(sink);
  return n;
}

void CompositeSource::Wait(absl::Duration timeout) {
  if (children_.size() == 1) return children_.front()->Wait(timeout);
  const absl::Duration each = std::min(slice_, timeout / static_cast<int64_t>(children_.size()));
  for (Source* c : children_) c->Wait(each);
}

bool CompositeSource::AtEnd() const {
  for (const Source* c : children_) {
    if (!c->AtEnd()) return false;
  }
  return true;
}

absl::Status CompositeSource::Checkpoint() { return children_.front()->Checkpoint(); }

std::string CompositeSource::CheckpointText() { return children_.front()->CheckpointText(); }

void CompositeSource::Reopen() {
  for (Source* c : children_) c->Reopen();
}

SourceStats CompositeSource::stats() const {
  SourceStats s;
  s.up = true;
  s.idle = true;
  for (const Source* c : children_) {
    const SourceStats x = c->stats();
    s.up = s.up && x.up;
    s.idle = s.idle && x.idle;
    s.rotations += x.rotations;
    s.truncations += x.truncations;
    s.lines_too_long += x.lines_too_long;
    s.errors += x.errors;
    s.newest_entry_us = std::max(s.newest_entry_us, x.newest_entry_us);
  }
  return s;
}

std::string CompositeSource::Describe() const {
  std::string out;
  for (const Source* c : children_) {
    if (!out.empty()) out += "+";
    out += c->Describe();
  }
  return out;
}

}  // namespace pse
