#include "exporter/service_table.h"

#include "absl/strings/ascii.h"
#include "parsers/log_record.h"

namespace pse {
namespace {

constexpr absl::string_view kOther = "other";

}  // namespace

bool ServiceTable::IsPlausibleName(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':' && c != '/' &&
        c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

int ServiceTable::InternLabel(absl::string_view syslog_name) {
  absl::string_view label = ServiceLabel(syslog_name);
  if (!IsPlausibleName(label)) label = kOther;
  auto it = label_ids_.find(label);
  if (it != label_ids_.end()) return it->second;
  // Keep the last slot for "other" so it always exists when needed.
  if (labels_.size() >= kMaxLabels - 1 && label != kOther) {
    label = kOther;
    it = label_ids_.find(label);
    if (it != label_ids_.end()) return it->second;
  }
  const int id = static_cast<int>(labels_.size());
  labels_.emplace_back(label);
  label_ids_.emplace(std::string(label), id);
  return id;
}

bool ServiceTable::IsPlausibleHost(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') return false;
  }
  return true;
}

int ServiceTable::InternHost(absl::string_view host) {
  std::string value = host.empty()            ? std::string("unknown")
                      : IsPlausibleHost(host) ? absl::AsciiStrToLower(host)
                                              : std::string(kOther);
  auto it = host_ids_.find(value);
  if (it != host_ids_.end()) return it->second;
  if (value != kOther && own_hosts_ >= options_.max_hosts) {
    value = std::string(kOther);
    it = host_ids_.find(value);
    if (it != host_ids_.end()) return it->second;
  }
  if (value != kOther) ++own_hosts_;
  const int id = static_cast<int>(hosts_.size());
  hosts_.push_back(value);
  host_ids_.emplace(std::move(value), id);
  return id;
}

int ServiceTable::InternSet(int service, absl::string_view host) {
  const int h = InternHost(host);
  const int64_t key = (static_cast<int64_t>(service) << 32) | h;
  auto it = set_ids_.find(key);
  if (it != set_ids_.end()) return it->second;
  const int id = static_cast<int>(sets_.size());
  sets_.push_back({service, h});
  set_ids_.emplace(key, id);
  return id;
}

ServiceId ServiceTable::Resolve(absl::string_view syslog_name, absl::string_view host) {
  if (!options_.host_label) host = {};
  for (const Recent& r : recent_) {
    if (r.id.valid() && absl::string_view(r.name) == syslog_name &&
        absl::string_view(r.host) == host) {
      return r.id;
    }
  }
  ServiceId id;
  auto it = name_ids_.find(syslog_name);
  if (it != name_ids_.end()) {
    id.name = it->second;
    id.label = names_[id.name].label;
  } else if (names_.size() < kMaxNames) {
    id.name = static_cast<int>(names_.size());
    id.label = InternLabel(syslog_name);
    names_.push_back({std::string(syslog_name), id.label});
    name_ids_.emplace(std::string(syslog_name), id.name);
  } else {
    // Past the cap, names still get their proper label (cheap to compute)
    // but share one name id.
    if (overflow_name_ < 0) {
      overflow_name_ = static_cast<int>(names_.size());
      names_.push_back({std::string(), -1});
    }
    id.name = overflow_name_;
    id.label = InternLabel(syslog_name);
  }
  // From here on id.label is the service label; with the host label it
  // becomes the id of the (service, host) pair.
  if (options_.host_label) id.label = InternSet(id.label, host);
  Recent& r = recent_[next_recent_];
  next_recent_ = (next_recent_ + 1) % kRecent;
  r.name.assign(syslog_name.data(), syslog_name.size());
  r.host.assign(host.data(), host.size());
  r.id = id;
  return id;
}

absl::string_view ServiceTable::instance(int name_id) const {
  absl::string_view n = names_[name_id].syslog_name;
  return n.substr(0, n.find('/'));
}

bool ServiceTable::SameInstance(int name_a, int name_b) const {
  if (name_a == name_b) return name_a != overflow_name_;
  absl::string_view a = instance(name_a);
  return !a.empty() && a == instance(name_b);
}

}  // namespace pse
