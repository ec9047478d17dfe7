// PeakWindow: the maximum of a step function over a trailing time window.
//
// The value (sessions open now) changes at points in log time; Max(now) is the
// largest value in effect at any moment of [now - window, now]. Reading never
// changes it, so several scrapers see the same peak. A monotonic deque keeps
// only values that can still become the maximum: strictly decreasing from
// front to back, so its length is bounded by the largest value recorded.
// Each point remembers when it stopped being in effect (the time of the next
// change, even if that change was itself dropped later), so a value that was
// replaced before the window began never counts.
// Not thread-safe.
#ifndef PSE_EXPORTER_PEAK_WINDOW_H_
#define PSE_EXPORTER_PEAK_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace pse {

class PeakWindow {
 public:
  explicit PeakWindow(int64_t window_us) : window_us_(window_us) {}

  // The value becomes `value` at time `now_us` (not before the last change).
  void Record(int64_t now_us, int64_t value);
  // Largest value in effect during [now_us - window, now_us]. Drops points
  // that can no longer matter.
  int64_t Max(int64_t now_us);
  size_t size() const { return points_.size(); }

  // The points as "t:v:end" tokens, and back (for the state file). Restore
  // replaces the contents; false (and unchanged) for malformed tokens.
  std::vector<std::string> Save() const;
  bool Restore(const std::vector<std::string>& tokens);

 private:
  static constexpr int64_t kOpen = INT64_MAX;
  struct Point {
    int64_t t;  // when the value took effect
    int64_t v;
    int64_t end;  // when the next change happened; kOpen for the current value
  };
  int64_t window_us_;
  std::deque<Point> points_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_PEAK_WINDOW_H_
