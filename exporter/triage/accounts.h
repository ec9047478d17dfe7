// AccountTriage: the accounts at risk (--triage.top_usernames=N, opt-in).
//
//  - postfix_smtpd_sasl_failures_by_username_total{username}: the N user
//    names with the most failed logins, and username="other" with the rest
//    of the failures that name a user (Postfix logs the name from 3.9 on);
//  - postfix_smtpd_sasl_messages_by_username_total{username}: the N
//    authenticated user names that submitted the most messages (smtpd's
//    "QUEUEID: client=..., sasl_method=..., sasl_username=U" line), and
//    "other" (a compromised account sends a lot);
//  - postfix_smtpd_sasl_username_clients{username}: for each name with a
//    series in either family, the distinct client addresses that submitted
//    a message authenticated as it in the trailing window of log time (one
//    account used from 40 networks is stolen). Postfix names the user of a
//    successful login only on the client= line, so a login that sends
//    nothing is not seen. Counted from when the name got its series.
//
// Both counter families follow TopSeries (the by-client discipline, with
// the same min_count and halving window). Label values come from
// UsernameLabeler: "h:<16 hex>" of a keyed hash by default, the sanitised
// name with `plain`.
//
// Memory, fixed by N: two sketches of max(64, 8N) candidates (~60 bytes
// each) with their 32 KiB admission tables (top_series.h) and, per tracked
// name (at most 2N), a HyperLogLog of 2^8 registers
// per slice of the window (10 slices + the running maximum: at most 3 KiB):
// the estimate is exact to within one or two below ~50 clients and has a
// standard error of 1.04/16 = 6.5% beyond.
//
// Not thread-safe: Triage's owner (the ingest thread) calls it.
#ifndef PSE_EXPORTER_TRIAGE_ACCOUNTS_H_
#define PSE_EXPORTER_TRIAGE_ACCOUNTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "exporter/triage/distinct_window.h"
#include "exporter/triage/top_series.h"
#include "exporter/triage/username_label.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pse {
namespace triage {

class AccountTriage {
 public:
  struct Options {
    int top_usernames = 10;  // N >= 1
    int min_count = 5;
    int64_t window_us = 3600000000;
    SipKey key;
    // A key from --triage.username_hash_key_file is never saved; a random
    // one is (so hashes survive restarts) and a saved one replaces it.
    bool key_from_file = false;
    bool plain = false;
  };
  static constexpr int kClientPrecision = 8;
  static constexpr int kClientBuckets = 10;

  // Registers the three families in `registry` (which outlives this).
  AccountTriage(const Options& options, prometheus::Registry* registry);

  // `n` failed logins as `username` (not empty).
  void OnFailures(absl::string_view username, uint64_t n);
  // One message submitted by `client_addr` authenticated as `username`.
  void OnMessage(absl::string_view client_addr, absl::string_view username);
  void AdvanceTime(int64_t now_us) { now_us_ = now_us; }
  // Once per window of log time (Triage's schedule).
  void Halve();
  // Sets the username_clients gauges that changed (once per batch).
  void PublishGauges();

  // State lines (the "users" lines of Triage's section), and back on a
  // fresh object. InvalidArgument for a malformed line.
  std::vector<std::string> Save() const;
  absl::Status Restore(const std::vector<std::string>& lines);
  // The random key saved in such lines (for --triage.hash_username);
  // NotFound when they hold none.
  static absl::StatusOr<SipKey> SavedKey(const std::vector<std::string>& lines);

  const UsernameLabeler& labeler() const { return labeler_; }
  size_t MemoryBytes() const;

 private:
  struct Tracked {
    Tracked(std::string l, prometheus::Gauge* g, const DistinctWindow::Options& o)
        : label(std::move(l)), gauge(g), clients(o) {}
    std::string label;
    prometheus::Gauge* gauge;
    DistinctWindow clients;
    bool changed = false;
  };
  // Follows a promotion or demotion in `family` for the tracked names.
  void Follow(const TopSeries::Change& change, uint64_t id, const TopSeries& family);
  void Track(uint64_t id, const std::string& label);
  std::string ConfigLine() const;

  const Options options_;
  UsernameLabeler labeler_;
  const DistinctWindow::Options client_window_;
  int64_t now_us_ = 0;
  std::unique_ptr<TopSeries> failures_;
  std::unique_ptr<TopSeries> messages_;
  prometheus::Family<prometheus::Gauge>* clients_family_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Tracked>> tracked_;
};

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_ACCOUNTS_H_
