#include "exporter/peak_window.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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

std::vector<std::string> PeakWindow::Save() const {
  std::vector<std::string> out;
  for (const Point& p : points_) out.push_back(absl::StrCat(p.t, ":", p.v, ":", p.end));
  return out;
}

bool PeakWindow::Restore(const std::vector<std::string>& tokens) {
  std::deque<Point> points;
  for (const std::string& token : tokens) {
    std::vector<absl::string_view> f = absl::StrSplit(token, ':');
    Point p;
    if (f.size() != 3 || !absl::SimpleAtoi(f[0], &p.t) || !absl::SimpleAtoi(f[1], &p.v) ||
        !absl::SimpleAtoi(f[2], &p.end)) {
      return false;
    }
    points.push_back(p);
  }
  points_ = std::move(points);
  return true;
}

}  // namespace pse
