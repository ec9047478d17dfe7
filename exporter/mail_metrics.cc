#include "exporter/mail_metrics.h"

#include <initializer_list>
#include <string_view>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace pse {

namespace P = prometheus;

namespace {

// Delivery daemons ParseMailFlow reads, then "qmgr" (expired messages): the
// `transport` label of this exporter's own families.
constexpr absl::string_view kTransports[] = {"smtp",  "lmtp",  "local",   "virtual", "pipe",
                                             "error", "retry", "discard", "qmgr"};
constexpr int kTransportCount = sizeof(kTransports) / sizeof(kTransports[0]);
constexpr int kQmgrTransport = kTransportCount - 1;

int TransportIndex(absl::string_view daemon) {
  for (int i = 0; i < kQmgrTransport; ++i) {
    if (daemon == kTransports[i]) return i;
  }
  return -1;
}

// kumina's stage names for delays=a/b/c/d.
constexpr absl::string_view kStages[4] = {"before_queue_manager", "queue_manager",
                                          "connection_setup", "transmission"};

// dsn_class label: index 0 is a line without dsn=.
constexpr absl::string_view kDsnClasses[4] = {"none", "2", "4", "5"};
int DsnIndex(char c) { return c == '2' ? 1 : c == '4' ? 2 : c == '5' ? 3 : 0; }

constexpr absl::string_view kTlsProtocols[] = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

// kumina's buckets.
const P::Histogram::BucketBoundaries& TimeBuckets() {
  static const auto* b =
      new P::Histogram::BucketBoundaries{1e-3, 1e-2, 1e-1, 1.0, 10, 60, 3600, 86400, 172800};
  return *b;
}
const P::Histogram::BucketBoundaries& RecipientBuckets() {
  static const auto* b = new P::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128};
  return *b;
}
const P::Histogram::BucketBoundaries& SizeBuckets() {
  static const auto* b = new P::Histogram::BucketBoundaries{1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  return *b;
}

}  // namespace

struct MailMetrics::Families {
  // kumina 0.3.0 names.
  P::Family<P::Counter>* cleanup_processed;
  P::Family<P::Counter>* cleanup_rejected;
  P::Family<P::Counter>* cleanup_not_accepted;
  P::Family<P::Histogram>* lmtp_delay;
  P::Family<P::Histogram>* pipe_delay;
  P::Family<P::Histogram>* smtp_delay;
  P::Family<P::Histogram>* qmgr_nrcpt;
  P::Family<P::Histogram>* qmgr_size;
  P::Family<P::Counter>* qmgr_removed;
  P::Family<P::Counter>* smtp_tls;
  P::Family<P::Counter>* smtpd_tls;
  P::Family<P::Counter>* smtp_deferred;
  P::Family<P::Counter>* smtp_timed_out;
  P::Family<P::Counter>* smtpd_fcrdns;
  // This exporter's own.
  P::Family<P::Counter>* delivery_status;
  P::Family<P::Histogram>* delivery_delay;
  P::Family<P::Counter>* connect_errors;
  P::Family<P::Counter>* qmgr_expired;
  P::Family<P::Counter>* bounce_notices;
  P::Family<P::Counter>* milter_actions;
  P::Family<P::Counter>* postscreen;
  P::Family<P::Counter>* tls_sessions;
};

// Handles of one `service` label value, each made on first use.
struct MailMetrics::PerService {
  std::string label;
  // "" without the host label.
  std::string host;
  // {service} or {host, service} plus `extra`.
  std::map<std::string, std::string> Labels(
      std::initializer_list<std::pair<const std::string, std::string>> extra = {}) const {
    return SeriesLabels(label, host, extra);
  }
  P::Counter* cleanup_processed = nullptr;
  P::Counter* cleanup_rejected = nullptr;
  P::Counter* cleanup_not_accepted = nullptr;
  std::array<BatchedHistogram*, 4> lmtp_delay{};
  std::array<BatchedHistogram*, 4> smtp_delay{};
  absl::flat_hash_map<std::string, std::array<BatchedHistogram*, 4>> pipe_delay;
  BatchedHistogram* qmgr_nrcpt = nullptr;
  BatchedHistogram* qmgr_size = nullptr;
  P::Counter* qmgr_removed = nullptr;
  P::Counter* qmgr_expired = nullptr;
  P::Counter* smtp_deferred = nullptr;
  P::Counter* smtp_timed_out = nullptr;
  P::Counter* smtpd_fcrdns = nullptr;
  std::array<std::array<std::array<P::Counter*, 4>, kDeliveryStatusCount>, kTransportCount>
      delivery_status{};
  std::array<std::array<BatchedHistogram*, 4>, kTransportCount> delivery_delay{};
  std::array<P::Counter*, kConnectErrorCount> connect_errors{};
  std::array<P::Counter*, kBounceNoticeCount> bounce_notices{};
  std::array<P::Counter*, kMilterActionCount> milter_actions{};
  std::array<P::Counter*, kPostscreenActionCount> postscreen{};
  // TLS series by their joined label values.
  absl::flat_hash_map<std::string, P::Counter*> tls;
  // The two counters of a TLS line, by the words it printed (hash of them;
  // the words are kept and compared, so a collision only misses the cache).
  struct TlsWords {
    bool inbound;
    TlsTrust trust;
    std::string protocol, cipher, secret_bits, algorithm_bits;
    P::Counter* kumina;
    P::Counter* own;
  };
  absl::flat_hash_map<uint64_t, TlsWords> tls_by_words;
};

MailMetrics::MailMetrics(Metrics* metrics) : metrics_(metrics), fam_(new Families) {
  auto counter = [metrics](const char* name, const char* help) {
    return &metrics->ExtraCounterFamily(name, help);
  };
  auto histogram = [metrics](const char* name, const char* help,
                             const P::Histogram::BucketBoundaries& buckets) {
    return &metrics->ExtraHistogramFamily(name, help, buckets);
  };
  Families& f = *fam_;
  f.cleanup_processed = counter("postfix_cleanup_messages_processed_total",
                                "Total number of messages processed by cleanup.");
  f.cleanup_rejected = counter("postfix_cleanup_messages_rejected_total",
                               "Total number of messages rejected by cleanup.");
  f.cleanup_not_accepted =
      counter("postfix_cleanup_messages_not_accepted_total",
              "Total number of messages not accepted by cleanup (milter-reject).");
  f.lmtp_delay = histogram("postfix_lmtp_delivery_delay_seconds",
                           "LMTP message processing time in seconds.", TimeBuckets());
  f.pipe_delay = histogram("postfix_pipe_delivery_delay_seconds",
                           "Pipe message processing time in seconds.", TimeBuckets());
  f.smtp_delay = histogram("postfix_smtp_delivery_delay_seconds",
                           "SMTP message processing time in seconds.", TimeBuckets());
  f.qmgr_nrcpt = histogram("postfix_qmgr_messages_inserted_receipients",
                           "Number of receipients per message inserted into the mail queues.",
                           RecipientBuckets());
  f.qmgr_size =
      histogram("postfix_qmgr_messages_inserted_size_bytes",
                "Size of messages inserted into the mail queues in bytes.", SizeBuckets());
  f.qmgr_removed = counter("postfix_qmgr_messages_removed_total",
                           "Total number of messages removed from mail queues.");
  f.smtp_tls =
      counter("postfix_smtp_tls_connections_total", "Total number of outgoing TLS connections.");
  f.smtpd_tls =
      counter("postfix_smtpd_tls_connections_total", "Total number of incoming TLS connections.");
  f.smtp_deferred =
      counter("postfix_smtp_deferred_messages_total",
              "Delivery attempts of the smtp client that ended deferred, per recipient.");
  f.smtp_timed_out = counter("postfix_smtp_connection_timed_out_total",
                             "Connections of the smtp client to a server that timed out.");
  f.smtpd_fcrdns =
      counter("postfix_smtpd_forward_confirmed_reverse_dns_errors_total",
              "Total number of connections for which forward-confirmed DNS cannot be resolved.");
  f.delivery_status =
      counter("postfix_delivery_status_total",
              "Delivery results per recipient, by delivery daemon, status and DSN class.");
  f.delivery_delay = histogram(
      "postfix_delivery_delay_seconds",
      "Delay of a message per stage (delays=a/b/c/d), once per delivery attempt.", TimeBuckets());
  f.connect_errors = counter("postfix_smtp_connect_errors_total",
                             "Failures of the smtp/lmtp client to reach a server, by class.");
  f.qmgr_expired = counter("postfix_qmgr_messages_expired_total",
                           "Messages returned to the sender after maximal_queue_lifetime.");
  f.bounce_notices = counter("postfix_bounce_notifications_total",
                             "Notifications the bounce daemon sent, by type.");
  f.milter_actions = counter("postfix_cleanup_milter_actions_total",
                             "Milter verdicts applied by cleanup, by action.");
  f.postscreen = counter("postfix_postscreen_actions_total", "postscreen verdicts, by action.");
  f.tls_sessions =
      counter("postfix_tls_connections_total",
              "TLS sessions established, by direction, protocol version and trust level.");
}

MailMetrics::~MailMetrics() = default;

MailMetrics::PerService& MailMetrics::For(int label_id, const std::string& service,
                                          const std::string& host) {
  if (static_cast<size_t>(label_id) >= services_.size()) services_.resize(label_id + 1);
  std::unique_ptr<PerService>& s = services_[label_id];
  if (!s) {
    s = std::make_unique<PerService>();
    s->label = service;
    s->host = host;
  }
  return *s;
}

std::string MailMetrics::Bounded(absl::string_view word, size_t max_len,
                                 absl::flat_hash_map<std::string, bool>* seen) {
  bool plausible = !word.empty() && word.size() <= max_len;
  for (char c : word) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') plausible = false;
  }
  if (!plausible) return "other";
  std::string w(word);
  if (seen->count(w) == 0) {
    if (seen->size() >= kMaxWordValues) return "other";
    seen->emplace(w, true);
  }
  return w;
}

bool MailMetrics::NewAttempt(const LogRecord& record, const MailFlowEvent& ev) {
  // The host too: in a log of several hosts, process ids repeat.
  const uint64_t key = absl::HashOf(record.host, ev.queue_id, ev.relay, ev.attempt_delays);
  if (last_attempt_.size() > 4096) last_attempt_.clear();
  uint64_t& last = last_attempt_[record.pid];
  if (last == key) return false;
  last = key;
  return true;
}

void MailMetrics::HandleDelivery(PerService& s, const LogRecord& record, const MailFlowEvent& ev) {
  const int t = TransportIndex(record.daemon);
  if (t < 0) return;
  const Families& f = *fam_;
  const std::string_view transport_sv(kTransports[t].data(), kTransports[t].size());
  auto transport = [&] { return std::string(transport_sv); };
  const int st = static_cast<int>(ev.status);
  const int dsn = DsnIndex(ev.dsn_class);
  P::Counter*& status = s.delivery_status[t][st][dsn];
  if (status == nullptr) {
    status =
        &f.delivery_status->Add(s.Labels({{"transport", transport()},
                                          {"status", std::string(DeliveryStatusLabel(ev.status))},
                                          {"dsn_class", std::string(kDsnClasses[dsn])}}));
  }
  status->Increment();

  // kumina's families: one observation per line, as it does.
  if (ev.has_delays) {
    std::array<BatchedHistogram*, 4>* stages = nullptr;
    P::Family<P::Histogram>* fam = nullptr;
    std::string relay;
    if (record.daemon == "smtp") {
      stages = &s.smtp_delay;
      fam = f.smtp_delay;
    } else if (record.daemon == "lmtp") {
      stages = &s.lmtp_delay;
      fam = f.lmtp_delay;
    } else if (record.daemon == "pipe") {
      relay = Bounded(ev.relay, 32, &pipe_relays_);
      stages = &s.pipe_delay[relay];
      fam = f.pipe_delay;
    }
    if (stages != nullptr) {
      for (int i = 0; i < 4; ++i) {
        if ((*stages)[i] == nullptr) {
          std::map<std::string, std::string> labels =
              s.Labels({{"stage", std::string(kStages[i])}});
          if (fam == f.pipe_delay) labels["relay"] = relay;
          (*stages)[i] = batch_.Add(fam, labels, TimeBuckets());
        }
        (*stages)[i]->Observe(ev.delays[i]);
      }
    }
  }
  if (record.daemon == "smtp" && ev.status == DeliveryStatus::kDeferred && ev.has_delays) {
    if (s.smtp_deferred == nullptr) s.smtp_deferred = &f.smtp_deferred->Add(s.Labels());
    s.smtp_deferred->Increment();
  }

  // This exporter's own: the recipients of one attempt share its delays and
  // its connection failure, so they are counted once.
  if (!NewAttempt(record, ev)) return;
  if (ev.has_delays) {
    for (int i = 0; i < 4; ++i) {
      BatchedHistogram*& h = s.delivery_delay[t][i];
      if (h == nullptr) {
        h = batch_.Add(f.delivery_delay,
                       s.Labels({{"transport", transport()}, {"stage", std::string(kStages[i])}}),
                       TimeBuckets());
      }
      h->Observe(ev.delays[i]);
    }
  }
  if (ev.connect_error != ConnectError::kNone) {
    const int c = static_cast<int>(ev.connect_error);
    if (s.connect_errors[c] == nullptr) {
      s.connect_errors[c] = &f.connect_errors->Add(
          s.Labels({{"class", std::string(ConnectErrorLabel(ev.connect_error))}}));
    }
    s.connect_errors[c]->Increment();
  }
}

void MailMetrics::HandleTls(PerService& s, const MailFlowEvent& ev) {
  // Most TLS lines repeat a handful of word combinations: find their
  // counters without building a label string.
  const uint64_t words = absl::HashOf(ev.tls_inbound, static_cast<int>(ev.trust), ev.protocol,
                                      ev.cipher, ev.secret_bits, ev.algorithm_bits);
  auto hit = s.tls_by_words.find(words);
  if (hit != s.tls_by_words.end()) {
    const PerService::TlsWords& w = hit->second;
    if (w.inbound == ev.tls_inbound && w.trust == ev.trust && w.protocol == ev.protocol &&
        w.cipher == ev.cipher && w.secret_bits == ev.secret_bits &&
        w.algorithm_bits == ev.algorithm_bits) {
      w.kumina->Increment();
      w.own->Increment();
      return;
    }
  }
  std::string protocol = "other";
  for (absl::string_view p : kTlsProtocols) {
    if (ev.protocol == p) protocol = std::string(p);
  }
  const std::string trust(TlsTrustLabel(ev.trust));
  const std::string cipher = Bounded(ev.cipher, 64, &ciphers_);
  const std::string secret = Bounded(ev.secret_bits, 5, &bits_);
  const std::string algorithm = Bounded(ev.algorithm_bits, 5, &bits_);
  const std::string key = absl::StrCat(ev.tls_inbound ? "in " : "out ", trust, " ", protocol, " ",
                                       cipher, " ", secret, " ", algorithm);
  P::Counter*& c = s.tls[key];
  if (c == nullptr) {
    c = &(ev.tls_inbound ? fam_->smtpd_tls : fam_->smtp_tls)
             ->Add(s.Labels({{"trust", trust},
                             {"protocol", protocol},
                             {"cipher", cipher},
                             {"secret_bits", secret},
                             {"algorithm_bits", algorithm}}));
  }
  c->Increment();
  P::Counter* const kumina = c;  // `c` dangles once s.tls grows below
  const std::string own_key =
      absl::StrCat(ev.tls_inbound ? "own in " : "own out ", trust, " ", protocol);
  P::Counter*& own = s.tls[own_key];
  if (own == nullptr) {
    own = &fam_->tls_sessions->Add(s.Labels({{"direction", ev.tls_inbound ? "inbound" : "outbound"},
                                             {"trust", trust},
                                             {"protocol", protocol}}));
  }
  own->Increment();
  // Bounded like the series: at most one entry per (service, label set)
  // the Bounded() caps allow, plus collisions that are never stored twice.
  if (hit == s.tls_by_words.end() && s.tls_by_words.size() < 4096) {
    s.tls_by_words.emplace(words,
                           PerService::TlsWords{ev.tls_inbound, ev.trust, std::string(ev.protocol),
                                                std::string(ev.cipher), std::string(ev.secret_bits),
                                                std::string(ev.algorithm_bits), kumina, own});
  }
}

void MailMetrics::Handle(int label_id, const std::string& service, const std::string& host,
                         const LogRecord& record, const MailFlowEvent& ev) {
  PerService& s = For(label_id, service, host);
  const Families& f = *fam_;
  auto svc = [&s] { return s.Labels(); };
  auto once = [&svc](P::Counter** c, P::Family<P::Counter>* fam) -> P::Counter& {
    if (*c == nullptr) *c = &fam->Add(svc());
    return **c;
  };
  switch (ev.kind) {
    case MailKind::kNone:
    case MailKind::kPostscreenConnect:  // PostscreenSessions counts these
    case MailKind::kPostscreenDisconnect:
      return;
    case MailKind::kDelivery:
      HandleDelivery(s, record, ev);
      return;
    case MailKind::kQmgrInserted:
      if (s.qmgr_nrcpt == nullptr) {
        s.qmgr_nrcpt = batch_.Add(f.qmgr_nrcpt, svc(), RecipientBuckets());
        s.qmgr_size = batch_.Add(f.qmgr_size, svc(), SizeBuckets());
      }
      s.qmgr_nrcpt->Observe(static_cast<double>(ev.nrcpt));
      s.qmgr_size->Observe(static_cast<double>(ev.size));
      return;
    case MailKind::kQmgrRemoved:
      once(&s.qmgr_removed, f.qmgr_removed).Increment();
      return;
    case MailKind::kQmgrExpired: {
      once(&s.qmgr_expired, f.qmgr_expired).Increment();
      P::Counter*& c =
          s.delivery_status[kQmgrTransport][static_cast<int>(DeliveryStatus::kExpired)][0];
      if (c == nullptr) {
        c = &f.delivery_status->Add(
            s.Labels({{"transport", "qmgr"}, {"status", "expired"}, {"dsn_class", "none"}}));
      }
      c->Increment();
      return;
    }
    case MailKind::kCleanupMessageId:
      once(&s.cleanup_processed, f.cleanup_processed).Increment();
      return;
    case MailKind::kCleanupReject:
      once(&s.cleanup_rejected, f.cleanup_rejected).Increment();
      return;
    case MailKind::kCleanupMilter: {
      const int a = static_cast<int>(ev.milter);
      if (s.milter_actions[a] == nullptr) {
        s.milter_actions[a] = &f.milter_actions->Add(
            s.Labels({{"action", std::string(MilterActionLabel(ev.milter))}}));
      }
      s.milter_actions[a]->Increment();
      if (ev.milter == MilterAction::kReject) {
        once(&s.cleanup_not_accepted, f.cleanup_not_accepted).Increment();
      }
      return;
    }
    case MailKind::kBounceNotice: {
      const int n = static_cast<int>(ev.notice);
      if (s.bounce_notices[n] == nullptr) {
        s.bounce_notices[n] =
            &f.bounce_notices->Add(s.Labels({{"type", std::string(BounceNoticeLabel(ev.notice))}}));
      }
      s.bounce_notices[n]->Increment();
      return;
    }
    case MailKind::kConnectError: {
      const int c = static_cast<int>(ev.connect_error);
      if (s.connect_errors[c] == nullptr) {
        s.connect_errors[c] = &f.connect_errors->Add(
            s.Labels({{"class", std::string(ConnectErrorLabel(ev.connect_error))}}));
      }
      s.connect_errors[c]->Increment();
      // kumina counts the smtp client's queue-less "connect to ...: Connection timed out".
      if (ev.connect_error == ConnectError::kTimeout && !ev.has_queue_id &&
          record.daemon == "smtp") {
        once(&s.smtp_timed_out, f.smtp_timed_out).Increment();
      }
      return;
    }
    case MailKind::kTls:
      HandleTls(s, ev);
      return;
    case MailKind::kFcrdnsError:
      once(&s.smtpd_fcrdns, f.smtpd_fcrdns).Increment();
      return;
    case MailKind::kPostscreen: {
      const int a = static_cast<int>(ev.postscreen);
      if (s.postscreen[a] == nullptr) {
        s.postscreen[a] = &f.postscreen->Add(
            s.Labels({{"action", std::string(PostscreenActionLabel(ev.postscreen))}}));
      }
      s.postscreen[a]->Increment();
      return;
    }
  }
}

}  // namespace pse
