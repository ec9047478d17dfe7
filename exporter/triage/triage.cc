#include "exporter/triage/triage.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace pse {
namespace {

namespace P = prometheus;

// A window under a minute would rebuild the registers for nearly every line.
int64_t WindowMicros(const Triage::Options& o) {
  return std::max<int64_t>(60 * 1000000, absl::ToInt64Microseconds(o.window));
}

triage::DistinctWindow::Options WindowOptions(const Triage::Options& o) {
  triage::DistinctWindow::Options w;
  w.window_us = WindowMicros(o);
  return w;
}

size_t SketchCapacity(const Triage::Options& o) {
  return std::max<size_t>(64, 8 * static_cast<size_t>(o.top_clients));
}

}  // namespace

Triage::Triage(const Options& options, P::Registry* registry)
    : options_(options),
      window_us_(WindowMicros(options)),
      masker_(options.client_prefix_v4, options.client_prefix_v6),
      sketch_(SketchCapacity(options)),
      clients_(WindowOptions(options)),
      usernames_(WindowOptions(options)) {
  by_client_ = &P::BuildCounter()
                    .Name("postfix_smtpd_sasl_failures_by_client_total")
                    .Help(
                        "Failed SMTP AUTH attempts by client network (CIDR prefix): the "
                        "heaviest failing networks, and client=\"other\" for the rest")
                    .Register(*registry);
  other_ = &by_client_->Add({{"client", "other"}});
  failing_clients_ = &P::BuildGauge()
                          .Name("postfix_smtpd_sasl_failing_clients")
                          .Help(
                              "Distinct client addresses with a failed SMTP AUTH attempt in "
                              "the trailing triage window of log time (estimate)")
                          .Register(*registry)
                          .Add({});
  failing_usernames_ = &P::BuildGauge()
                            .Name("postfix_smtpd_sasl_failing_usernames")
                            .Help(
                                "Distinct user names with a failed SMTP AUTH attempt in the "
                                "trailing triage window of log time (estimate)")
                            .Register(*registry)
                            .Add({});
  if (options.top_usernames > 0) {
    triage::AccountTriage::Options a;
    a.top_usernames = options.top_usernames;
    a.min_count = options.min_count;
    a.window_us = window_us_;
    a.key = options.username_key;
    a.key_from_file = !options.username_hash_key_file.empty();
    a.plain = options.plain_usernames;
    accounts_ = std::make_unique<triage::AccountTriage>(a, registry);
  }
}

void Triage::AdvanceTime(int64_t now_us) {
  if (now_us <= now_us_) return;
  if (now_us_ == 0) last_halve_us_ = now_us;
  now_us_ = now_us;
  if (now_us_ - last_halve_us_ >= window_us_) {
    last_halve_us_ = now_us_;
    sketch_.Halve();
    weakest_valid_ = false;
    if (accounts_) accounts_->Halve();
  }
  if (accounts_) accounts_->AdvanceTime(now_us_);
  if (clients_.Advance(now_us_)) clients_changed_ = true;
  if (usernames_.Advance(now_us_)) usernames_changed_ = true;
}

void Triage::Publish() {
  if (other_value_ > other_published_) {
    other_->Increment(static_cast<double>(other_value_ - other_published_));
    other_published_ = other_value_;
  }
  for (auto& [key, series] : series_) {
    if (series.value == series.published) continue;
    series.counter->Increment(static_cast<double>(series.value - series.published));
    series.published = series.value;
  }
  if (clients_changed_) failing_clients_->Set(std::round(clients_.Estimate()));
  if (usernames_changed_) failing_usernames_->Set(std::round(usernames_.Estimate()));
  clients_changed_ = usernames_changed_ = false;
  if (accounts_) accounts_->PublishGauges();
}

void Triage::OnFailures(absl::string_view client_addr, absl::string_view username, uint32_t n) {
  if (n == 0) return;
  triage::IpAddress addr;
  const bool parsed = ParseIpAddress(client_addr, &addr);
  const bool named = !username.empty() && username != "(unavailable)";
  // HashBytes of the 16 bytes (the registers in state files depend on it).
  const uint64_t client_hash = parsed ? triage::HashBytes16(addr.bytes.data()) : 0;
  const uint64_t user_hash = named ? triage::HashBytes(username) : 0;
  // The registers load while the sketch counts the network.
  if (parsed) clients_.Prefetch(client_hash);
  if (named) usernames_.Prefetch(user_hash);
  if (parsed) {
    CountPrefix(masker_(addr), n);
    clients_changed_ |= clients_.Add(client_hash, now_us_);
  } else {
    AddOther(n);
  }
  if (named) {
    usernames_changed_ |= usernames_.Add(user_hash, now_us_);
    if (accounts_) accounts_->OnFailures(username, n);
  }
}

void Triage::OnAuthenticatedMessage(absl::string_view client_addr, absl::string_view username) {
  if (accounts_ && !username.empty()) accounts_->OnMessage(client_addr, username);
}

void Triage::AddOther(uint64_t n) { other_value_ += n; }

uint64_t Triage::Guaranteed(const triage::NetPrefix& prefix) const {
  const auto* e = sketch_.Find(prefix);
  return e == nullptr ? 0 : e->guaranteed();
}

void Triage::CountPrefix(const triage::NetPrefix& prefix, uint32_t n) {
  if (options_.top_clients <= 0) {
    AddOther(n);
    return;
  }
  triage::NetPrefix evicted;
  bool did_evict = false;
  const uint64_t guaranteed = sketch_.Add(prefix, n, &evicted, &did_evict).guaranteed();
  if (did_evict && MayHaveSeries(evicted) && series_.contains(evicted)) weakest_valid_ = false;
  if (MayHaveSeries(prefix)) {
    auto found = series_.find(prefix);
    if (found != series_.end()) {
      if (weakest_valid_ && prefix == weakest_) weakest_valid_ = false;
      found->second.value += n;
      return;
    }
  }
  if (guaranteed < static_cast<uint64_t>(std::max(1, options_.min_count))) {
    AddOther(n);
    return;
  }
  // The failures that earned the series start it; earlier ones are in
  // "other" already and stay there (a counter cannot give them back).
  if (series_.size() < static_cast<size_t>(options_.top_clients)) {
    Promote(prefix, n);
    return;
  }
  // Full: replace the weakest series if this network is now stronger.
  if (!weakest_valid_) {
    bool first = true;
    for (const auto& [key, series] : series_) {
      const uint64_t c = Guaranteed(key);
      if (first || c < weakest_count_) {
        weakest_ = key;
        weakest_count_ = c;
        first = false;
      }
    }
    weakest_valid_ = true;
  }
  if (guaranteed <= weakest_count_) {
    AddOther(n);
    return;
  }
  Demote(weakest_);
  Promote(prefix, n);
}

void Triage::Promote(const triage::NetPrefix& prefix, uint64_t initial) {
  P::Counter& c = by_client_->Add({{"client", triage::PrefixString(prefix)}});
  if (initial > 0) c.Increment(static_cast<double>(initial));
  series_.emplace(prefix, Series{&c, initial, initial});
  series_filter_ |= FilterBit(prefix);
  weakest_valid_ = false;
}

void Triage::Demote(const triage::NetPrefix& prefix) {
  auto found = series_.find(prefix);
  if (found == series_.end()) return;
  // Its failures stay in the total: "other" takes them over.
  AddOther(found->second.value);
  by_client_->Remove(found->second.counter);
  series_.erase(found);
  series_filter_ = 0;
  for (const auto& [key, series] : series_) series_filter_ |= FilterBit(key);
  weakest_valid_ = false;
}

size_t Triage::MemoryBytes() const {
  return clients_.MemoryBytes() + usernames_.MemoryBytes() +
         sketch_.capacity() * (sizeof(Sketch::Entry) + 48) +
         (accounts_ ? accounts_->MemoryBytes() : 0);
}

std::string Triage::ConfigLine() const {
  return absl::StrCat("cfg ", options_.client_prefix_v4, " ", options_.client_prefix_v6, " ",
                      options_.top_clients, " ", sketch_.capacity());
}

// State-file lines:
//   cfg V4_BITS V6_BITS K CAPACITY
//   clock NOW LAST_HALVE
//   other VALUE
//   series PREFIX VALUE
//   sketch PREFIX COUNT ERROR
//   clients TOKEN...       (DistinctWindow::Save)
//   usernames TOKEN...
//   users ...              (AccountTriage::Save; dropped when it is off)
// A state saved with another cfg keeps its total (every series goes into
// "other") but not the per-network series or the sketch.
std::vector<std::string> Triage::Save() const {
  std::vector<std::string> lines;
  lines.push_back(ConfigLine());
  lines.push_back(absl::StrCat("clock ", now_us_, " ", last_halve_us_));
  lines.push_back(absl::StrCat("other ", other_value_));
  for (const auto& [key, series] : series_) {
    lines.push_back(absl::StrCat("series ", triage::PrefixString(key), " ", series.value));
  }
  for (const auto& e : sketch_.entries()) {
    lines.push_back(
        absl::StrCat("sketch ", triage::PrefixString(e.key), " ", e.count, " ", e.error));
  }
  std::string clients = "clients";
  for (const std::string& t : clients_.Save()) absl::StrAppend(&clients, " ", t);
  lines.push_back(std::move(clients));
  std::string users = "usernames";
  for (const std::string& t : usernames_.Save()) absl::StrAppend(&users, " ", t);
  lines.push_back(std::move(users));
  if (accounts_) {
    for (const std::string& line : accounts_->Save()) lines.push_back("users " + line);
  }
  return lines;
}

absl::Status Triage::Restore(const std::vector<std::string>& lines) {
  bool same_config = false;
  uint64_t other = 0;
  std::vector<std::pair<triage::NetPrefix, uint64_t>> series;
  std::vector<std::string> users;
  for (const std::string& line : lines) {
    auto bad = [&line] {
      return absl::InvalidArgumentError(
          absl::StrCat("triage: malformed line: ", line.substr(0, 200)));
    };
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    triage::NetPrefix prefix;
    if (t[0] == "cfg") {
      same_config = line == ConfigLine();
    } else if (t[0] == "clock") {
      if (t.size() != 3 || !absl::SimpleAtoi(t[1], &now_us_) ||
          !absl::SimpleAtoi(t[2], &last_halve_us_)) {
        return bad();
      }
    } else if (t[0] == "other") {
      uint64_t v;
      if (t.size() != 2 || !absl::SimpleAtoi(t[1], &v)) return bad();
      other += v;
    } else if (t[0] == "series") {
      uint64_t v;
      if (t.size() != 3 || !triage::ParsePrefixString(t[1], &prefix) ||
          !absl::SimpleAtoi(t[2], &v)) {
        return bad();
      }
      series.emplace_back(prefix, v);
    } else if (t[0] == "sketch") {
      Sketch::Entry e;
      if (t.size() != 4 || !triage::ParsePrefixString(t[1], &e.key) ||
          !absl::SimpleAtoi(t[2], &e.count) || !absl::SimpleAtoi(t[3], &e.error)) {
        return bad();
      }
      if (same_config && !sketch_.Restore(e)) return bad();
    } else if (t[0] == "users") {
      if (t.size() < 2) return bad();
      users.push_back(line.substr(6));
    } else if (t[0] == "clients" || t[0] == "usernames") {
      triage::DistinctWindow& w = t[0] == "clients" ? clients_ : usernames_;
      if (!w.Restore(std::vector<std::string>(t.begin() + 1, t.end()))) return bad();
    } else {
      return bad();
    }
  }
  for (const auto& [prefix, value] : series) {
    if (same_config && series_.size() < static_cast<size_t>(options_.top_clients) &&
        !series_.contains(prefix)) {
      Promote(prefix, value);
    } else {
      other += value;
    }
  }
  AddOther(other);
  if (accounts_) {
    accounts_->AdvanceTime(now_us_);
    absl::Status st = accounts_->Restore(users);
    if (!st.ok()) return st;
  }
  clients_changed_ = usernames_changed_ = true;
  Publish();
  return absl::OkStatus();
}

}  // namespace pse
