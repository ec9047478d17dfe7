#include "exporter/triage/distinct_window.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/numeric/bits.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pse {
namespace triage {
namespace {

// Ertl's sigma and tau series (see the paper, Algorithm 6).
double Sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0, z = x, prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (z != prev);
  return z;
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, prev;
  do {
    x = std::sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != prev);
  return z / 3.0;
}

// A register value as one printable character in the state file.
char RegisterChar(uint8_t v) { return static_cast<char>('0' + v); }

}  // namespace

double EstimateFromHistogram(const std::vector<uint32_t>& hist, int precision) {
  const double m = static_cast<double>(uint64_t{1} << precision);
  const int q = 64 - precision;
  if (hist[0] == m) return 0.0;
  double z = m * Tau(1.0 - hist[q + 1] / m);
  for (int k = q; k >= 1; --k) {
    z += hist[k];
    z *= 0.5;
  }
  z += m * Sigma(hist[0] / m);
  return (0.5 / std::log(2.0)) * m * m / z;
}

DistinctWindow::DistinctWindow(const Options& options)
    : options_(options),
      bucket_us_(std::max<int64_t>(1, options.window_us / std::max(1, options.buckets))),
      registers_(size_t{1} << options.precision),
      slices_(std::max(1, options.buckets) + 1),
      hist_(64 - options.precision + 2, 0) {
  hist_[0] = static_cast<uint32_t>(registers_);
  SetEpoch(0);
}

void DistinctWindow::SetEpoch(int64_t epoch) {
  epoch_ = epoch;
  current_ = -1;
  // Saturates: a log time this far out is never reached.
  next_epoch_us_ = epoch_ >= std::numeric_limits<int64_t>::max() / bucket_us_ - 1
                       ? std::numeric_limits<int64_t>::max()
                       : (epoch_ + 1) * bucket_us_;
}

void DistinctWindow::OpenCurrent() {
  const size_t at = static_cast<size_t>(epoch_ % static_cast<int64_t>(slices_.size()));
  Slice& s = slices_[at];
  if (s.epoch != epoch_) {
    s.epoch = epoch_;
    s.registers.assign(registers_, 0);
    s.saved.clear();
    s.dirty = false;
  }
  if (max_.empty()) max_.assign(registers_, 0);
  current_ = static_cast<int>(at);
}

bool DistinctWindow::AddSlow(uint64_t hash, int64_t now_us) {
  const bool changed = Advance(now_us);
  if (current_ < 0) OpenCurrent();
  return AddToCurrent(hash) || changed;
}

bool DistinctWindow::AdvanceSlow(int64_t now_us) {
  const int64_t e = EpochOf(now_us);
  if (e <= epoch_) return false;
  SetEpoch(e);
  // The current slice plus the (buckets - 1) before it: slices_ has one
  // more, so the slice being replaced is always an expired one.
  Slice* gone = nullptr;
  int expired = 0;
  bool any_live = false;
  for (Slice& s : slices_) {
    if (s.epoch >= 0 && s.epoch <= epoch_ - options_.buckets) {
      s.epoch = -1;
      gone = &s;
      ++expired;
    } else if (s.epoch >= 0) {
      any_live = true;
    }
  }
  if (expired == 0) return false;
  // One slice leaving (log time moving on steadily) only lowers registers
  // it held the maximum of; a jump, or the last slice leaving, recomputes.
  if (expired == 1 && any_live && max_.size() == registers_) {
    Forget(gone->registers);
  } else {
    Rebuild();
  }
  for (Slice& s : slices_) {
    if (s.epoch < 0 && !s.registers.empty()) {
      // Memory goes back when the attack is over.
      std::vector<uint8_t>().swap(s.registers);
      std::string().swap(s.saved);
      s.dirty = false;
    }
  }
  return true;
}

void DistinctWindow::Forget(const std::vector<uint8_t>& old) {
  auto lower = [&](size_t i) {
    const uint8_t v = old[i];
    if (v == 0 || v != max_[i]) return;
    uint8_t m = 0;
    for (const Slice& s : slices_) {
      if (s.epoch >= 0) m = std::max(m, s.registers[i]);
    }
    --hist_[v];
    ++hist_[m];
    max_[i] = m;
  };
  size_t i = 0;
#ifdef __SSE2__
  // Most registers of a slice are 0 or below the maximum: skip 16 at a time.
  const __m128i zero = _mm_setzero_si128();
  for (; i + 16 <= old.size(); i += 16) {
    const __m128i o = _mm_loadu_si128(reinterpret_cast<const __m128i*>(old.data() + i));
    const __m128i m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(max_.data() + i));
    const __m128i held = _mm_andnot_si128(_mm_cmpeq_epi8(o, zero), _mm_cmpeq_epi8(o, m));
    for (unsigned bits = static_cast<unsigned>(_mm_movemask_epi8(held)); bits != 0;
         bits &= bits - 1) {
      lower(i + static_cast<size_t>(__builtin_ctz(bits)));
    }
  }
#endif
  for (; i < old.size(); ++i) lower(i);
}

namespace {

// out[i] = max(out[i], in[i]) for n bytes. Rebuild runs it over every
// register of every live slice each time a slice expires (31 x 16 KiB at
// the defaults), so it takes 16 registers per instruction where it can.
void MaxInto(uint8_t* out, const uint8_t* in, size_t n) {
  size_t i = 0;
#ifdef __SSE2__
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(out + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_max_epu8(a, b));
  }
#endif
  for (; i < n; ++i) out[i] = std::max(out[i], in[i]);
}

}  // namespace

void DistinctWindow::Rebuild() {
  std::fill(hist_.begin(), hist_.end(), 0);
  bool any = false;
  for (const Slice& s : slices_) any = any || s.epoch >= 0;
  if (!any) {
    std::vector<uint8_t>().swap(max_);
    hist_[0] = static_cast<uint32_t>(registers_);
    return;
  }
  max_.assign(registers_, 0);
  for (const Slice& s : slices_) {
    if (s.epoch < 0) continue;
    MaxInto(max_.data(), s.registers.data(), registers_);
  }
  for (uint8_t v : max_) ++hist_[v];
}

double DistinctWindow::Estimate() const { return EstimateFromHistogram(hist_, options_.precision); }

size_t DistinctWindow::MemoryBytes() const {
  size_t n = max_.capacity();
  const size_t inline_capacity = std::string().capacity();  // no heap below this
  for (const Slice& s : slices_) {
    n += s.registers.capacity();
    if (s.saved.capacity() > inline_capacity) n += s.saved.capacity();
  }
  return n;
}

// Tokens: "cfg:P:BUCKET_US:BUCKETS", then per live slice "EPOCH:d<one char
// per register>" (dense) or "EPOCH:s<index>.<value>,..." (sparse, shorter
// while few registers are set).
std::vector<std::string> DistinctWindow::Save() const {
  std::vector<std::string> out;
  out.push_back(absl::StrCat("cfg:", options_.precision, ":", bucket_us_, ":", options_.buckets));
  for (const Slice& s : slices_) {
    if (s.epoch < 0) continue;
    if (s.dirty) {
      s.saved.clear();
      s.dirty = false;
    }
    if (s.saved.empty()) s.saved = EncodeSlice(s);
    out.push_back(s.saved);
  }
  return out;
}

std::string DistinctWindow::EncodeSlice(const Slice& s) const {
  const size_t set = s.registers.size() -
                     static_cast<size_t>(std::count(s.registers.begin(), s.registers.end(), 0));
  std::string t = absl::StrCat(s.epoch, ":");
  if (set * 8 < registers_) {
    t += 's';
    char num[16];
    auto append_number = [&t, &num](unsigned v) {
      t.append(num, std::to_chars(num, num + sizeof num, v).ptr);
    };
    bool first = true;
    for (size_t i = 0; i < registers_; ++i) {
      if (s.registers[i] == 0) continue;
      if (!first) t += ',';
      first = false;
      append_number(static_cast<unsigned>(i));
      t += '.';
      append_number(s.registers[i]);
    }
  } else {
    t += 'd';
    const size_t at = t.size();
    t.resize(at + s.registers.size());
    std::transform(s.registers.begin(), s.registers.end(), t.begin() + at, RegisterChar);
  }
  return t;
}

bool DistinctWindow::Restore(const std::vector<std::string>& tokens) {
  if (tokens.empty()) return false;
  const bool same_options =
      tokens[0] == absl::StrCat("cfg:", options_.precision, ":", bucket_us_, ":", options_.buckets);
  if (!absl::StartsWith(tokens[0], "cfg:")) return false;
  const uint8_t max_rank = static_cast<uint8_t>(64 - options_.precision + 1);
  int64_t newest = 0;
  for (size_t k = 1; k < tokens.size(); ++k) {
    absl::string_view t = tokens[k];
    const size_t colon = t.find(':');
    int64_t epoch;
    if (colon == absl::string_view::npos || colon + 1 >= t.size() ||
        !absl::SimpleAtoi(t.substr(0, colon), &epoch) || epoch < 0) {
      return false;
    }
    if (!same_options) continue;
    Slice& s = slices_[epoch % slices_.size()];
    if (s.epoch >= 0) return false;  // two slices for one place
    s.epoch = epoch;
    s.registers.assign(registers_, 0);
    s.saved.clear();
    absl::string_view body = t.substr(colon + 2);
    if (t[colon + 1] == 'd') {
      if (body.size() != registers_) return false;
      for (size_t i = 0; i < registers_; ++i) {
        const int v = body[i] - '0';
        if (v < 0 || v > max_rank) return false;
        s.registers[i] = static_cast<uint8_t>(v);
      }
    } else if (t[colon + 1] == 's') {
      for (absl::string_view pair : absl::StrSplit(body, ',', absl::SkipEmpty())) {
        const size_t dot = pair.find('.');
        size_t i;
        int v;
        if (dot == absl::string_view::npos || !absl::SimpleAtoi(pair.substr(0, dot), &i) ||
            !absl::SimpleAtoi(pair.substr(dot + 1), &v) || i >= registers_ || v < 0 ||
            v > max_rank) {
          return false;
        }
        s.registers[i] = static_cast<uint8_t>(v);
      }
    } else {
      return false;
    }
    newest = std::max(newest, epoch);
  }
  SetEpoch(std::max(epoch_, newest));
  Rebuild();
  return true;
}

}  // namespace triage
}  // namespace pse
