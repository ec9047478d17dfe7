#include "exporter/triage/accounts.h"

#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prometheus/counter.h"

namespace pse {
namespace triage {
namespace {

namespace P = prometheus;

DistinctWindow::Options ClientWindow(int64_t window_us) {
  DistinctWindow::Options o;
  o.precision = AccountTriage::kClientPrecision;
  o.buckets = AccountTriage::kClientBuckets;
  o.window_us = window_us;
  return o;
}

std::string KeyHex(const SipKey& k) {
  return absl::StrCat(absl::Hex(k.k0, absl::kZeroPad16), absl::Hex(k.k1, absl::kZeroPad16));
}

bool ParseKeyHex(absl::string_view s, SipKey* k) {
  return s.size() == 32 && absl::SimpleHexAtoi(s.substr(0, 16), &k->k0) &&
         absl::SimpleHexAtoi(s.substr(16), &k->k1);
}

}  // namespace

AccountTriage::AccountTriage(const Options& options, P::Registry* registry)
    : options_(options),
      labeler_(options.key, options.plain),
      client_window_(ClientWindow(options.window_us)) {
  failures_ = std::make_unique<TopSeries>(
      &P::BuildCounter()
           .Name("postfix_smtpd_sasl_failures_by_username_total")
           .Help("Failed SMTP AUTH attempts by user name (keyed hash unless "
                 "--triage.plain_usernames): the most failing names, and username=\"other\" "
                 "for the rest of the failures that name a user")
           .Register(*registry),
      "username", options.top_usernames, options.min_count);
  messages_ = std::make_unique<TopSeries>(
      &P::BuildCounter()
           .Name("postfix_smtpd_sasl_messages_by_username_total")
           .Help("Messages submitted after SMTP AUTH by user name (keyed hash unless "
                 "--triage.plain_usernames): the busiest names, and username=\"other\" for the "
                 "rest")
           .Register(*registry),
      "username", options.top_usernames, options.min_count);
  clients_family_ = &P::BuildGauge()
                         .Name("postfix_smtpd_sasl_username_clients")
                         .Help(
                             "Distinct client addresses that submitted mail authenticated as "
                             "this user name in the trailing triage window of log time, for "
                             "the names in either by-username family (estimate)")
                         .Register(*registry);
}

void AccountTriage::OnFailures(absl::string_view username, uint64_t n) {
  const uint64_t id = labeler_.Identity(username);
  Follow(failures_->Add(id, n, [&] { return labeler_.Label(username, id); }), id, *failures_);
}

void AccountTriage::OnMessage(absl::string_view client_addr, absl::string_view username) {
  const uint64_t id = labeler_.Identity(username);
  Follow(messages_->Add(id, 1, [&] { return labeler_.Label(username, id); }), id, *messages_);
  if (client_addr.empty() || client_addr == "unknown") return;
  auto found = tracked_.find(id);
  if (found == tracked_.end()) return;
  if (found->second->clients.Add(HashBytes(client_addr), now_us_)) found->second->changed = true;
}

void AccountTriage::Follow(const TopSeries::Change& change, uint64_t id, const TopSeries& family) {
  if (change.promoted) Track(id, *family.LabelOf(id));
  if (change.demoted && failures_->LabelOf(change.demoted_key) == nullptr &&
      messages_->LabelOf(change.demoted_key) == nullptr) {
    auto found = tracked_.find(change.demoted_key);
    if (found != tracked_.end()) {
      clients_family_->Remove(found->second->gauge);
      tracked_.erase(found);
    }
  }
}

void AccountTriage::Track(uint64_t id, const std::string& label) {
  if (tracked_.contains(id)) return;
  P::Gauge* g = &clients_family_->Add({{"username", label}});
  tracked_.emplace(id, std::make_unique<Tracked>(label, g, client_window_));
}

void AccountTriage::Halve() {
  failures_->Halve();
  messages_->Halve();
}

void AccountTriage::PublishGauges() {
  for (auto& [id, t] : tracked_) {
    if (t->clients.Advance(now_us_)) t->changed = true;
    if (!t->changed) continue;
    t->gauge->Set(std::round(t->clients.Estimate()));
    t->changed = false;
  }
}

std::string AccountTriage::ConfigLine() const {
  return absl::StrCat("cfg ", labeler_.Fingerprint(), " ", options_.top_usernames, " ",
                      kClientPrecision, " ", kClientBuckets);
}

// Lines (Triage prefixes each with "users "):
//   key HEX                 the random key (only when not from a key file)
//   cfg FINGERPRINT N P B   labels and sketches are only kept when equal
//   fail ... / msg ...      TopSeries::Save of either family
//   clients ID TOKEN...     a tracked name's window (DistinctWindow::Save)
std::vector<std::string> AccountTriage::Save() const {
  std::vector<std::string> lines;
  if (!options_.key_from_file) lines.push_back(absl::StrCat("key ", KeyHex(labeler_.key())));
  lines.push_back(ConfigLine());
  failures_->Save("fail", &lines);
  messages_->Save("msg", &lines);
  for (const auto& [id, t] : tracked_) {
    std::string line = absl::StrCat("clients ", absl::Hex(id));
    for (const std::string& token : t->clients.Save()) absl::StrAppend(&line, " ", token);
    lines.push_back(std::move(line));
  }
  return lines;
}

absl::StatusOr<SipKey> AccountTriage::SavedKey(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    SipKey k;
    if (absl::StartsWith(line, "key ") && ParseKeyHex(absl::string_view(line).substr(4), &k)) {
      return k;
    }
  }
  return absl::NotFoundError("no saved user name key");
}

absl::Status AccountTriage::Restore(const std::vector<std::string>& lines) {
  bool same_config = false;
  std::vector<std::pair<uint64_t, std::vector<std::string>>> windows;
  for (const std::string& line : lines) {
    auto bad = [&line] {
      return absl::InvalidArgumentError(
          absl::StrCat("triage users: malformed line: ", line.substr(0, 200)));
    };
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    if (t[0] == "key") {
      SipKey k;
      if (t.size() != 2 || !ParseKeyHex(t[1], &k)) return bad();
      // A saved random key keeps the hashes of the last run.
      if (!options_.key_from_file) labeler_.set_key(k);
    } else if (t[0] == "cfg") {
      same_config = line == ConfigLine();
    } else if (t[0] == "fail" || t[0] == "msg") {
      TopSeries& family = t[0] == "fail" ? *failures_ : *messages_;
      if (!family.RestoreLine({t.begin() + 1, t.end()}, same_config)) return bad();
    } else if (t[0] == "clients") {
      uint64_t id;
      if (t.size() < 2 || !absl::SimpleHexAtoi(t[1], &id)) return bad();
      windows.emplace_back(id, std::vector<std::string>(t.begin() + 2, t.end()));
    } else {
      return bad();
    }
  }
  for (TopSeries* family : {failures_.get(), messages_.get()}) {
    for (uint64_t id : family->FinishRestore(same_config)) Track(id, *family->LabelOf(id));
  }
  for (auto& [id, tokens] : windows) {
    auto found = tracked_.find(id);
    if (found == tracked_.end()) continue;
    if (!found->second->clients.Restore(tokens)) {
      return absl::InvalidArgumentError("triage users: malformed clients window");
    }
    found->second->changed = true;
  }
  PublishGauges();
  return absl::OkStatus();
}

size_t AccountTriage::MemoryBytes() const {
  size_t n = failures_->MemoryBytes() + messages_->MemoryBytes();
  for (const auto& [id, t] : tracked_) n += sizeof(Tracked) + 64 + t->clients.MemoryBytes();
  return n;
}

}  // namespace triage
}  // namespace pse
