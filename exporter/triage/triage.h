// Triage: who is attacking SMTP AUTH, and how many of them, in bounded
// cardinality.
//
// Fed every counted authentication failure (FailureObserver), it exports:
//
//  - postfix_smtpd_sasl_failures_by_client_total{client}: failures of the
//    K heaviest failing client networks (CIDR prefix, /24 and /64 by
//    default) plus client="other" for the rest, so the series always sum
//    to the failures counted (postfix_smtpd_sasl_authentication_failures_total)
//    and there are at most K + 1 of them. Heavy hitters are found with a
//    Space-Saving sketch of 8K (at least 64) networks whose counts halve
//    every window of log time (space_saving.h has the error bound). A
//    network joins the K series once the sketch guarantees it at least
//    `min_count` recent failures and more than the weakest series' network;
//    the one it replaces is removed and its value moves into "other". A
//    network's series counts its failures from the one that earned the
//    series (the min_count - 1 before it stay in "other"), so no series
//    ever decreases and rate() works. Failures without a parsable client
//    address count in "other".
//  - postfix_smtpd_sasl_failing_clients / _failing_usernames: distinct
//    client addresses and user names with a failure in the trailing window
//    (HyperLogLog, distinct_window.h: 0.8% standard error, at most
//    2 x 31 x 16 KiB), rounded. User names are hashed into registers,
//    never exported; Postfix logs them only from 3.9 on (", sasl_username=").
//
// Publish() puts both into the registry once per batch of lines (the ingest
// loop calls it under its lock): the by-client values are counted here in
// plain integers (what the state file saves) and added to their counters
// there; the gauges are set only if the estimate changed.
//
// With --triage.top_usernames, the accounts at risk too (accounts.h): the
// user names failing most and submitting most, as keyed hashes.
//
// Cost (bench/triage_attack.py, 100k failures each from a new address and
// user name, callgrind, against --triage.enabled=false): ~510 instructions
// per failure (+8.4% per line), ~850 with --triage.top_usernames=10,
// against ~6,000 for the failure's three lines without triage; CPU
// best-of-7 on 1 M such failures +8.7% (docs/benchmarks.md). Per failure: a
// dotted-quad parse, two HLL adds (word hashes, registers prefetched while
// the sketch counts), one sketch add that usually hits the last network's
// slot, and integer counts (Publish() adds them to the counters per batch);
// the series map is probed only when a 64-bit filter says so. Failures
// interleaved from more networks than the sketch holds evict on every add:
// ~950 instructions each (--shuffle). Memory is fixed by K, N and the
// window's slices.
//
// State across restarts: Save/Restore (the "triage" section of the state
// file) keep the series, the sketch and the windows.
// Not thread-safe: the ingest thread owns it; HTTP threads read the registry.
#ifndef PSE_EXPORTER_TRIAGE_TRIAGE_H_
#define PSE_EXPORTER_TRIAGE_TRIAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/failure_observer.h"
#include "exporter/triage/accounts.h"
#include "exporter/triage/client_prefix.h"
#include "exporter/triage/distinct_window.h"
#include "exporter/triage/space_saving.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pse {

class Triage : public FailureObserver {
 public:
  struct Options {
    // False: no Triage at all (the pipeline creates none; its families are
    // not exported and it costs nothing).
    bool enabled = true;
    // K: client networks with their own series (0..100). Each costs one
    // series; the sketch holds 8K candidates.
    int top_clients = 10;
    // Prefix lengths that make a network of a client address.
    int client_prefix_v4 = 24;
    int client_prefix_v6 = 64;
    // Trailing window of log time of the distinct counts, and the half-life
    // period of the sketch's ranking. At least a minute (shorter is raised).
    absl::Duration window = absl::Hours(1);
    // Failures a network must be guaranteed to have (in the decayed counts)
    // before it gets a series: one-off failures do not churn series.
    int min_count = 5;
    // Accounts at risk (accounts.h): N user names with their own series in
    // the by-username families; 0 (the default) leaves them out entirely.
    int top_usernames = 0;
    // Export user names as they are (sanitised) instead of keyed hashes.
    bool plain_usernames = false;
    // The file the hash key is read from (main reads it into
    // username_key); empty: a random key, kept in the state file.
    std::string username_hash_key_file;
    triage::SipKey username_key;
  };
  static constexpr int kMaxTopClients = 100;
  static constexpr int kMaxTopUsernames = 100;

  // Registers the families in `registry` (which outlives this object).
  Triage(const Options& options, prometheus::Registry* registry);

  void OnFailures(absl::string_view client_addr, absl::string_view username, uint32_t n) override;
  // A message queued by an authenticated client (smtpd's client= line with
  // sasl_username=): for the accounts families, when they are on.
  void OnAuthenticatedMessage(absl::string_view client_addr, absl::string_view username);
  // Log time (monotonic; earlier times are ignored).
  void AdvanceTime(int64_t now_us);
  // Adds the by-client failures counted since the last call to their
  // counters and sets the distinct-count gauges if they changed. Neither is
  // done per failure (a counter update is an atomic compare-and-swap, an
  // estimate costs ~1 us): the ingest loop calls this after each batch of
  // lines (Pipeline::PublishCounts).
  void Publish();

  // The state as state-file lines, and back (fresh object, before any
  // failure). InvalidArgument for a malformed line.
  std::vector<std::string> Save() const;
  absl::Status Restore(const std::vector<std::string>& lines);

  // For tests and the benchmark: bytes held by the sketches now.
  size_t MemoryBytes() const;
  // The accounts families, or null when --triage.top_usernames is 0.
  const triage::AccountTriage* accounts() const { return accounts_.get(); }

 private:
  using Sketch = triage::SpaceSaving<triage::NetPrefix, triage::NetPrefixHash>;
  struct Series {
    prometheus::Counter* counter;
    uint64_t value;
    uint64_t published;  // the part of value already in the counter
  };
  // Adds `n` to `prefix`'s series or to "other", promoting it if it earned
  // a series.
  void CountPrefix(const triage::NetPrefix& prefix, uint32_t n);
  void AddOther(uint64_t n);
  // The sketch's guaranteed recent failures of a network (0: not held).
  uint64_t Guaranteed(const triage::NetPrefix& prefix) const;
  void Promote(const triage::NetPrefix& prefix, uint64_t initial);
  // series_filter_'s bit for a network: one of 64 by a multiplicative hash.
  static uint64_t FilterBit(const triage::NetPrefix& p) {
    return uint64_t{1} << (((p.lo() ^ p.hi()) * 0x9e3779b97f4a7c15ULL) >> 58);
  }
  // False when `prefix` surely has no series (most failures), so the
  // series map is not probed for them.
  bool MayHaveSeries(const triage::NetPrefix& prefix) const {
    return (series_filter_ & FilterBit(prefix)) != 0;
  }
  void Demote(const triage::NetPrefix& prefix);
  std::string ConfigLine() const;

  const Options options_;
  const int64_t window_us_;
  // ToPrefix with the configured prefix lengths.
  const triage::PrefixMasker masker_;
  prometheus::Family<prometheus::Counter>* by_client_;
  prometheus::Counter* other_;
  uint64_t other_value_ = 0;
  uint64_t other_published_ = 0;
  prometheus::Gauge* failing_clients_;
  prometheus::Gauge* failing_usernames_;
  Sketch sketch_;
  absl::flat_hash_map<triage::NetPrefix, Series> series_;
  // The FilterBit of every network in series_ (and, after a demotion, of
  // none other).
  uint64_t series_filter_ = 0;
  triage::DistinctWindow clients_;
  triage::DistinctWindow usernames_;
  int64_t now_us_ = 0;
  int64_t last_halve_us_ = 0;
  // The series whose network the sketch guarantees the fewest failures, so
  // a candidate is not compared with all K on every failure. Valid until a
  // series is added or removed, the weakest gains, a series' network
  // leaves the sketch, or the counts halve (the others only gain).
  bool weakest_valid_ = false;
  triage::NetPrefix weakest_;
  uint64_t weakest_count_ = 0;
  bool clients_changed_ = false;
  bool usernames_changed_ = false;
  std::unique_ptr<triage::AccountTriage> accounts_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_TRIAGE_H_
