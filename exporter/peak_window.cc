#include "exporter/peak_window.h"

namespace pse {

void PeakWindow::Record(int64_t now_us, int64_t value) {
  // Changes are recorded in time order; one dated earlier (a session closed
  // as of its idle deadline) takes effect at the latest recorded time.
  if (!points_.empty() && now_us < points_.back().t) now_us = points_.back().t;
  // A point whose value is not above the new one can never again be the
  // maximum: the new value is in effect from now on and lasts at least as long.
  if (!points_.empty()) points_.back().end = now_us;
  while (!points_.empty() && points_.back().v <= value) points_.pop_back();
  points_.push_back({now_us, value, kOpen});
}

int64_t PeakWindow::Max(int64_t now_us) {
  const int64_t start = now_us - window_us_;
  // Ends are non-decreasing from front to back: drop the points that stopped
  // being in effect at or before the window's start.
  while (points_.size() >= 2 && points_.front().end <= start) points_.pop_front();
  return points_.empty() ? 0 : points_.front().v;
}

}  // namespace pse
