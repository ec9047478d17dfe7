// CompositeSource: several sources read as one, e.g. the syslog receiver
// alongside a followed file or the journal; all feed the same pipeline, so
// session state is shared (one Postfix may log through several paths).
//
// Rules:
//  - Poll() polls every child in turn and returns the sum.
//  - Wait() gives each child a slice of at most `slice` (children's Wait()
//    block, and a source has no common descriptor to wait on), so a line
//    arriving at any child is read within about children x slice. A single
//    child waits the whole timeout.
//  - AtEnd() when every child is at its end.
//  - Only the first child may have a read position: CheckpointText() and
//    Checkpoint() are the first child's (the file or journal); the others
//    must have none (the syslog receiver). Describe() joins the children's
//    with "+".
//  - stats(): up when every child is up; counters summed; newest entry the
//    latest; idle when every child is idle.
//
// Thread-safety: like every Source, one thread calls every method.
#ifndef PSE_EXPORTER_SOURCES_MULTI_SOURCE_H_
#define PSE_EXPORTER_SOURCES_MULTI_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "exporter/source.h"

namespace pse {

class CompositeSource : public Source {
 public:
  // `owned` children are destroyed with this source, `borrowed` ones (a
  // receiver whose sockets must outlive several sources built on it during
  // start-up) are not; the owned come first. REQUIRES: at least one child.
  explicit CompositeSource(std::vector<std::unique_ptr<Source>> owned,
                           std::vector<Source*> borrowed = {},
                           absl::Duration slice = absl::Milliseconds(50));

  size_t Poll(RecordSink* sink) override;
  void Wait(absl::Duration timeout) override;
  bool AtEnd() const override;
  absl::Status Checkpoint() override;
  std::string CheckpointText() override;
  void Reopen() override;
  SourceStats stats() const override;
  std::string Describe() const override;

 private:
  std::vector<std::unique_ptr<Source>> owned_;
  std::vector<Source*> children_;  // owned, then borrowed
  absl::Duration slice_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_MULTI_SOURCE_H_
