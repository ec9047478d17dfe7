// ServiceTable: which Postfix service a log line belongs to, and under which
// `service` label it is counted.
//
// Two identities, kept apart on purpose:
//  - a name id per distinct syslog_name ("postfix/submission",
//    "postfix-out"): session state compares name ids to tell that a pid was
//    reused by another process, and reads the instance ("postfix" of
//    "postfix/submission") to match master's child-exit reports;
//  - a label id per distinct `service` label value: metric handles are
//    indexed by it. Several names may share a label: "postfix" and
//    "postfix/smtp" are both "smtp", and names folded into "other" share
//    that one.
//
// Label policy: the label is ServiceLabel(syslog_name) when it is a
// plausible master.cf service name (1..64 bytes of [A-Za-z0-9._:/[]-]);
// anything else, and every label past kMaxLabels - 1 distinct ones, is
// "other", so the exposition stays valid and bounded whatever a local writer
// logs. At most kMaxNames syslog_names get their own name id; further names
// share one overflow id whose instance is empty (it matches no master).
//
// Host label (Options::host_label, off by default): a label id then names a
// (`service`, `host`) pair, so every family with a `service` label is split
// by host. The host value is the line's host lowercased when it is 1..253
// bytes of [A-Za-z0-9._:-] ("unknown" for a line naming no host, "other"
// for anything else), and every host past the first Options::max_hosts is
// "other": a relayed stream's hostnames are text its senders chose.
// Off, host() is "" and label ids are exactly the service label ids.
//
// Ids are dense, start at 0 and never change. Not thread-safe: the ingest
// thread owns it.
#ifndef PSE_EXPORTER_SERVICE_TABLE_H_
#define PSE_EXPORTER_SERVICE_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace pse {

struct ServiceId {
  int name = -1;   // index of the syslog_name
  int label = -1;  // index of the `service` label value
  bool valid() const { return name >= 0; }
};

class ServiceTable {
 public:
  static constexpr size_t kMaxLabels = 64;
  static constexpr size_t kMaxNames = 1024;

  struct Options {
    // Adds the `host` label (--syslog.host-label).
    bool host_label = false;
    // Most hosts with their own `host` value; further ones are "other"
    // (--syslog.max-hosts).
    size_t max_hosts = 256;
  };

  ServiceTable() = default;
  explicit ServiceTable(const Options& options) : options_(options) {}

  // True for a plausible master.cf service name: 1..64 bytes of
  // [A-Za-z0-9._:/[]-]. Anything else is shown as "other".
  static bool IsPlausibleName(absl::string_view s);

  // True for a host name that may be a `host` value as it is: 1..253 bytes
  // of [A-Za-z0-9._:-] (names, IPv4 and IPv6 literals).
  static bool IsPlausibleHost(absl::string_view s);

  // The ids of a syslog_name (and, with the host label, of the line's host),
  // interning them on first sight.
  ServiceId Resolve(absl::string_view syslog_name, absl::string_view host = {});

  bool host_label() const { return options_.host_label; }
  // Distinct label ids handed out.
  size_t label_count() const { return options_.host_label ? sets_.size() : labels_.size(); }
  // The `service` value of a label id.
  const std::string& label(int label_id) const {
    return options_.host_label ? labels_[sets_[label_id].service] : labels_[label_id];
  }
  // The `host` value of a label id; "" without the host label.
  const std::string& host(int label_id) const {
    static const std::string kNone;
    return options_.host_label ? hosts_[sets_[label_id].host] : kNone;
  }
  size_t host_count() const { return hosts_.size(); }
  // The syslog_name of a name id ("" for the overflow id).
  const std::string& syslog_name(int name_id) const { return names_[name_id].syslog_name; }
  // The part of the syslog_name before its first '/' ("" for the overflow id).
  absl::string_view instance(int name_id) const;
  // True when both name ids belong to the same Postfix instance.
  bool SameInstance(int name_a, int name_b) const;

 private:
  struct Name {
    std::string syslog_name;
    int label;
  };
  struct LabelSet {
    int service;
    int host;
  };
  int InternLabel(absl::string_view syslog_name);
  int InternHost(absl::string_view host);
  // The label id of service label `service` on `host` (host label on).
  int InternSet(int service, absl::string_view host);

  Options options_;
  std::vector<Name> names_;
  std::vector<std::string> labels_;
  absl::flat_hash_map<std::string, int> name_ids_;
  absl::flat_hash_map<std::string, int> label_ids_;
  // Host label only: host values, and the label sets over them.
  std::vector<std::string> hosts_;
  absl::flat_hash_map<std::string, int> host_ids_;
  // Hosts with their own value ("other" aside).
  size_t own_hosts_ = 0;
  std::vector<LabelSet> sets_;
  absl::flat_hash_map<int64_t, int> set_ids_;
  int overflow_name_ = -1;
  // The last few (syslog_name, host) pairs resolved: a log interleaves a
  // handful of them, and this spares a hash per line. Filled round robin.
  struct Recent {
    std::string name;
    std::string host;
    ServiceId id;
  };
  static constexpr size_t kRecent = 8;
  std::array<Recent, kRecent> recent_;
  size_t next_recent_ = 0;
};

}  // namespace pse

#endif  // PSE_EXPORTER_SERVICE_TABLE_H_
