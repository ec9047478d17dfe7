#include "exporter/triage/top_series.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pse {
namespace triage {
namespace {

bool ParseHex64(absl::string_view s, uint64_t* v) {
  return !s.empty() && s.size() <= 16 && absl::SimpleHexAtoi(s, v);
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return s.size() % 2 == 0;
}

}  // namespace

TopSeries::TopSeries(prometheus::Family<prometheus::Counter>* family, std::string label_name,
                     int top, int min_count)
    : family_(family),
      label_name_(std::move(label_name)),
      top_(static_cast<size_t>(std::max(1, top))),
      min_count_(static_cast<uint64_t>(std::max(1, min_count))),
      other_(&family->Add({{label_name_, "other"}})),
      sketch_(std::max<size_t>(64, 8 * top_)),
      recent_(kRecent, 0) {}

void TopSeries::AddOther(uint64_t n) {
  if (n == 0) return;
  other_->Increment(static_cast<double>(n));
  other_value_ += n;
}

void TopSeries::Halve() {
  sketch_.Halve();
  weakest_valid_ = false;
}

uint64_t TopSeries::Guaranteed(uint64_t key) const {
  const auto* e = sketch_.Find(key);
  return e == nullptr ? 0 : e->guaranteed();
}

TopSeries::Change TopSeries::Add(uint64_t key, uint64_t n, absl::FunctionRef<std::string()> label) {
  Change change;
  if (n == 0) return change;
  auto found = series_.find(key);
  uint64_t weight = n;
  if (found == series_.end() && sketch_.Find(key) == nullptr) {
    uint64_t& seen = recent_[key & (kRecent - 1)];
    if (seen != key) {
      seen = key;
      AddOther(n);
      return change;
    }
    seen = 0;
    weight = n + 1;  // the occurrence the table remembered
  }
  uint64_t evicted = 0;
  bool did_evict = false;
  const uint64_t guaranteed = sketch_.Add(key, weight, &evicted, &did_evict).guaranteed();
  if (did_evict && series_.contains(evicted)) weakest_valid_ = false;
  if (found != series_.end()) {
    if (weakest_valid_ && key == weakest_) weakest_valid_ = false;
    found->second.counter->Increment(static_cast<double>(n));
    found->second.value += n;
    return change;
  }
  if (guaranteed < min_count_) {
    AddOther(n);
    return change;
  }
  if (series_.size() >= top_) {
    if (!weakest_valid_) {
      bool first = true;
      for (const auto& [k, s] : series_) {
        const uint64_t c = Guaranteed(k);
        if (first || c < weakest_count_) {
          weakest_ = k;
          weakest_count_ = c;
          first = false;
        }
      }
      weakest_valid_ = true;
    }
    if (guaranteed <= weakest_count_) {
      AddOther(n);
      return change;
    }
    change.demoted = true;
    change.demoted_key = weakest_;
    Demote(weakest_);
  }
  // The occurrences that earned the series start it; earlier ones stay in
  // "other" (a counter cannot give them back).
  Promote(key, label(), n);
  change.promoted = true;
  return change;
}

void TopSeries::Promote(uint64_t key, std::string label, uint64_t initial) {
  prometheus::Counter& c = family_->Add({{label_name_, label}});
  if (initial > 0) c.Increment(static_cast<double>(initial));
  series_.emplace(key, Series{&c, initial, std::move(label)});
  weakest_valid_ = false;
}

void TopSeries::Demote(uint64_t key) {
  auto found = series_.find(key);
  if (found == series_.end()) return;
  AddOther(found->second.value);
  family_->Remove(found->second.counter);
  series_.erase(found);
  weakest_valid_ = false;
}

const std::string* TopSeries::LabelOf(uint64_t key) const {
  auto found = series_.find(key);
  return found == series_.end() ? nullptr : &found->second.label;
}

size_t TopSeries::MemoryBytes() const {
  // Sketch slots, heap and index; the series' labels are short.
  return sketch_.capacity() * (sizeof(SpaceSaving<uint64_t>::Entry) + 2 * sizeof(size_t) + 24) +
         series_.size() * (sizeof(Series) + 64 + 16) + recent_.capacity() * sizeof(uint64_t);
}

// TAG other VALUE | TAG series KEY LABEL_HEX VALUE | TAG sketch KEY COUNT ERROR
// (KEY in hex; the label in hex, since a plain user name may hold spaces).
void TopSeries::Save(absl::string_view tag, std::vector<std::string>* lines) const {
  lines->push_back(absl::StrCat(tag, " other ", other_value_));
  for (const auto& [key, s] : series_) {
    lines->push_back(absl::StrCat(tag, " series ", absl::Hex(key), " ",
                                  absl::BytesToHexString(s.label), " ", s.value));
  }
  for (const auto& e : sketch_.entries()) {
    lines->push_back(absl::StrCat(tag, " sketch ", absl::Hex(e.key), " ", e.count, " ", e.error));
  }
}

bool TopSeries::RestoreLine(const std::vector<absl::string_view>& t, bool same_config) {
  if (t.empty()) return false;
  if (t[0] == "other") {
    uint64_t v;
    if (t.size() != 2 || !absl::SimpleAtoi(t[1], &v)) return false;
    AddOther(v);
    return true;
  }
  if (t[0] == "series") {
    uint64_t key, v;
    if (t.size() != 4 || !ParseHex64(t[1], &key) || !IsHex(t[2]) || t[2].empty() ||
        !absl::SimpleAtoi(t[3], &v)) {
      return false;
    }
    restored_.emplace_back(key, Series{nullptr, v, absl::HexStringToBytes(t[2])});
    return true;
  }
  if (t[0] == "sketch") {
    SpaceSaving<uint64_t>::Entry e;
    if (t.size() != 4 || !ParseHex64(t[1], &e.key) || !absl::SimpleAtoi(t[2], &e.count) ||
        !absl::SimpleAtoi(t[3], &e.error)) {
      return false;
    }
    return !same_config || sketch_.Restore(e);
  }
  return false;
}

std::vector<uint64_t> TopSeries::FinishRestore(bool same_config) {
  std::vector<uint64_t> promoted;
  for (auto& [key, s] : restored_) {
    if (same_config && series_.size() < top_ && !series_.contains(key) && s.label != "other") {
      Promote(key, std::move(s.label), s.value);
      promoted.push_back(key);
    } else {
      AddOther(s.value);
    }
  }
  restored_.clear();
  return promoted;
}

}  // namespace triage
}  // namespace pse
