// postfix_sasl_exporter: Prometheus exporter for Postfix SMTP AUTH, sessions
// and relay denials. Only wiring lives here: every option is declared here,
// and only here, bound straight into the Options struct of the module it
// configures (which holds its one default); the loops are in runner.h.
#include <unistd.h>

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "exporter/config.h"
#include "exporter/http/http_server.h"
#include "exporter/log.h"
#include "exporter/metrics.h"
#include "exporter/pipeline.h"
#include "exporter/runner.h"
#include "exporter/sources/file_source.h"
#include "exporter/sources/journal_source.h"
#include "exporter/sources/multi_source.h"
#include "exporter/sources/syslog_receiver.h"
#include "exporter/state_file.h"
#include "exporter/state_store.h"
#include "exporter/triage/username_label.h"
#include "parsers/reason_rules.h"
#include "prometheus/registry.h"

#ifndef PSE_VERSION
#define PSE_VERSION "0.0.0"
#endif
#ifndef PSE_REVISION
#define PSE_REVISION "unknown"
#endif

namespace pse {
namespace {

// Everything the options configure: the modules' own Options structs plus
// the few choices that belong to the program itself.
struct Settings {
  std::string config_file;
  bool once = false;
  bool help = false;
  bool version = false;
  bool systemd_enable = false;
  std::string state_file;
  // --triage.hash_username: print this name's label and exit.
  std::string hash_username;
  std::vector<OptionSet::Mapping> reason_rules;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  FileSourceOptions file;
  JournalSourceOptions journal;
  Pipeline::Options pipeline;
  DaemonOptions daemon;
  SyslogReceiverOptions syslog;
  // Bound once (sockets outlive the sources built during start-up).
  std::unique_ptr<SyslogMetrics> syslog_metrics;
  std::unique_ptr<SyslogReceiver> syslog_receiver;
};

absl::Status ValidateTelemetryPath(absl::string_view v) {
  return !v.empty() && v[0] == '/' && v != "/"
             ? absl::OkStatus()
             : absl::InvalidArgumentError("must start with / and not be /");
}

absl::Status ValidateListenAddress(absl::string_view v) {
  std::string host;
  int port;
  return ParseListenAddress(v, &host, &port);
}

absl::StatusOr<ReasonRules::Rule> ToReasonRule(const OptionSet::Mapping& item) {
  const std::string& reason = item.at("reason");
  for (int r = 0; r < kFailureReasonCount; ++r) {
    if (FailureReasonLabel(static_cast<FailureReason>(r)) == reason) {
      return ReasonRules::Rule{item.at("match"), static_cast<FailureReason>(r)};
    }
  }
  std::vector<std::string> labels;
  for (int r = 0; r < kFailureReasonCount; ++r) {
    labels.emplace_back(FailureReasonLabel(static_cast<FailureReason>(r)));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown reason \"", reason, "\" (want one of ",
                                                 absl::StrJoin(labels, ", "), ")"));
}

absl::Status ValidateReasonRule(const OptionSet::Mapping& item) {
  absl::StatusOr<ReasonRules::Rule> rule = ToReasonRule(item);
  if (!rule.ok()) return rule.status();
  return ReasonRules::Create({*rule}).status();
}

// Compiles the validated rules once for the pipeline.
absl::Status BuildReasonRules(Settings* s) {
  if (s->reason_rules.empty()) return absl::OkStatus();
  std::vector<ReasonRules::Rule> rules;
  for (const OptionSet::Mapping& item : s->reason_rules) rules.push_back(*ToReasonRule(item));
  absl::StatusOr<ReasonRules> compiled = ReasonRules::Create(rules);
  if (!compiled.ok()) return compiled.status();
  s->pipeline.reason_rules = std::make_shared<const ReasonRules>(std::move(*compiled));
  return absl::OkStatus();
}

void DeclareOptions(OptionSet* o, Settings* s) {
  o->AddString("config.file", &s->config_file,
               "YAML file setting any of these options (keys are option names); flags win");
  o->AddBool("once", &s->once,
             "read the whole input from its start, print the metrics to stdout and exit");

  FileSourceOptions& file = s->file;
  o->AddString("postfix.logfile_path", &file.path,
               "Postfix log file to follow; - for standard input (default: /var/log/mail.log, "
               "or the journal when that file is missing and journald runs)");
  o->AddBool("postfix.logfile_from_beginning", &file.from_beginning,
             "read the log file from its start instead of its end");
  o->AddString("state.file", &s->state_file,
               "file that keeps the read position, every counter and the session state across "
               "restarts and crashes (no loss, no double count, no counter reset)");
  o->AddString("postfix.logfile_position_file", &s->state_file, "alias of --state.file");
  o->AddDuration("state.min_save_interval", &s->daemon.min_save_interval,
                 "a scrape within this time of the last save is answered with the saved values "
                 "instead of saving again (0: save before every scrape)");
  o->AddBytes("postfix.logfile_max_line_length", &file.max_line_bytes, 1024, 64 << 20,
              "longer lines are skipped and counted");
  o->AddInt("postfix.syslog_year", &s->pipeline.syslog.initial_year, 0, 9999,
            "year of the first BSD-timestamp line (they carry none); 0 infers it from the clock");

  JournalSourceOptions& journal = s->journal;
  o->AddBool("systemd.enable", &s->systemd_enable,
             "read Postfix's entries from the systemd journal");
  o->AddStringList(
      "systemd.unit", &journal.units,
      "journal unit to read (default: slice system-postfix.slice or unit postfix.service)");
  o->AddString("systemd.slice", &journal.slice, "journal slice to read");
  o->AddString("systemd.journal_path", &journal.journal_path,
               "read journal files from this directory instead of the local journal");
  o->AddString("systemd.cursor_file", &s->state_file, "alias of --state.file");

  SyslogReceiverOptions& syslog = s->syslog;
  o->AddStringList("syslog.listen-address", &syslog.listen_addresses,
                   "receive syslog here: unixgram:///path (what syslog(3) writes to "
                   "/dev/log), unix:///path, udp://host:port, tcp://host:port; given alone, no log "
                   "file or journal is read",
                   [](absl::string_view v) { return ParseSyslogAddress(v).status(); });
  o->AddString("syslog.socket-mode", &syslog.socket_mode,
               "octal mode of the unix socket files (0666 lets Postfix's processes write)",
               [](absl::string_view v) { return ParseSocketMode(v).status(); });
  o->AddBytes("syslog.max-message-size", &syslog.max_message_bytes, 256, 16 << 20,
              "longer syslog messages are dropped and counted");
  o->AddInt("syslog.max-connections", &syslog.max_connections, 1, 100000,
            "open tcp/unix stream syslog connections; further peers are closed at once");
  o->AddDuration("syslog.idle-timeout", &syslog.idle_timeout,
                 "close a stream syslog connection that sent nothing for this long");
  o->AddBytes("syslog.receive-buffer-size", &syslog.receive_buffer_bytes, 0, 1 << 30,
              "SO_RCVBUF of the syslog sockets (0: kernel default; capped by net.core.rmem_max)");
  o->AddDuration("syslog.batch-delay", &syslog.batch_delay,
                 "when a syslog socket turns readable after a quiet spell or a few messages, "
                 "wait up to this long so that those that follow are read in one batch: less CPU "
                 "per message for at most this much added latency (0: read at once)");
  o->AddBool("syslog.echo", &syslog.echo,
             "write every received syslog message to standard output unchanged");
  ServiceTable::Options& services = s->pipeline.services;
  o->AddBool("syslog.host-label", &services.host_label,
             "add a `host` label (the host each line names) to every family with a `service` "
             "label, for one exporter receiving several Postfix hosts; implies "
             "--sessions.by_host (Prometheus's way is one exporter per host)");
  o->AddInt("syslog.max-hosts", &services.max_hosts, 1, 100000,
            "hosts with their own `host` label value (--syslog.host-label); further hosts "
            "are host=\"other\"");

  o->AddMappingList("sasl.reason_rules", &s->reason_rules, {"match", "reason"},
                    "site-specific failure texts: RE2 `match` on the raw failure text, "
                    "first match wins, before the built-in mapping; `reason` is a reason label",
                    ValidateReasonRule);

  SessionState::Options& state = s->pipeline.state;
  o->AddDuration("sessions.peak_window", &state.peak_window,
                 "trailing window of log time for postfix_smtpd_sessions_max");
  o->AddDuration("sessions.idle_timeout", &state.idle_timeout,
                 "forget an smtpd process with no line for this long (log time)");
  o->AddInt("sessions.max_tracked", &state.max_tracked_processes, 16, 10000000,
            "most smtpd processes held in state; the least recently active is evicted");
  o->AddBool("sessions.by_host", &state.by_host,
             "tell processes apart by the host their lines name (one log or relay carrying "
             "several Postfix hosts, whose pids collide); lines naming no host are one more host");

  Triage::Options& triage = s->pipeline.triage;
  o->AddBool("triage.enabled", &triage.enabled,
             "attack triage: the by-client, failing-clients, failing-usernames (and by-username) "
             "families; false leaves them out and saves their CPU");
  o->AddInt("triage.top_clients", &triage.top_clients, 0, Triage::kMaxTopClients,
            "client networks with their own postfix_smtpd_sasl_failures_by_client_total series "
            "(the heaviest failing ones); the rest are client=\"other\"");
  o->AddInt("triage.client_prefix_v4", &triage.client_prefix_v4, 8, 32,
            "prefix length that makes a client network of an IPv4 address");
  o->AddInt("triage.client_prefix_v6", &triage.client_prefix_v6, 16, 128,
            "prefix length that makes a client network of an IPv6 address");
  o->AddDuration("triage.window", &triage.window,
                 "trailing window of log time of postfix_smtpd_sasl_failing_clients and "
                 "_failing_usernames, and the half-life of the top-network ranking");
  o->AddInt("triage.min_count", &triage.min_count, 1, 1000000,
            "recent failures a client network (or user name) needs before it gets its own "
            "series");
  o->AddInt("triage.top_usernames", &triage.top_usernames, 0, Triage::kMaxTopUsernames,
            "user names with their own postfix_smtpd_sasl_failures_by_username_total and "
            "_messages_by_username_total series, and _username_clients gauge (accounts at "
            "risk); 0: off");
  o->AddString("triage.username_hash_key_file", &triage.username_hash_key_file,
               "file whose content (at least 16 bytes) keys the hash user names are exported "
               "as; empty: a random key, kept in --state.file");
  o->AddBool("triage.plain_usernames", &triage.plain_usernames,
             "export user names as they are (sanitised, at most 64 bytes) instead of hashes");
  o->AddString("triage.hash_username", &s->hash_username,
               "print the username label of this name (with the key file, or the key kept in "
               "--state.file) and exit");

  o->AddString("postfix.showq_path", &s->daemon.showq_path,
               "Postfix's showq socket (e.g. /var/spool/postfix/public/showq), read at every "
               "scrape for the queue histograms and postfix_up; needs group postdrop; empty: off");
  o->AddDuration("postfix.showq_timeout", &s->daemon.showq_timeout,
                 "longest a scrape waits for showq; past it postfix_up is 0");

  HttpOptions& http = s->daemon.http;
  o->AddStringList("web.listen-address", &http.listen_addresses,
                   "address to serve metrics on: [host]:port, [v6]:port or :port",
                   ValidateListenAddress);
  o->AddString("web.telemetry-path", &http.telemetry_path, "path of the metrics endpoint",
               ValidateTelemetryPath);
  o->AddString("web.config.file", &http.web_config_file,
               "exporter-toolkit web configuration (TLS, basic auth)");
  o->AddInt("web.max-connections", &http.max_connections, 1, 10000,
            "open HTTP connections per listen address; when full, a new connection displaces "
            "the oldest one that has not sent a request yet");
  o->AddDuration("web.request-timeout", &http.request_timeout,
                 "close an HTTP connection inactive this long while serving it, or idle this "
                 "long between kept-alive requests");
  o->AddDuration("web.read-header-timeout", &http.read_header_timeout,
                 "close an HTTP connection that has not sent its complete request headers this "
                 "long after connecting (TLS handshake included), however slowly it trickles them");

  o->AddEnum("log.level", &s->log_level, {"debug", "info", "warn", "error"}, "log level");
  o->AddEnum("log.format", &s->log_format, {"logfmt", "json"}, "log format");
  o->AddBool("version", &s->version, "print the version and exit");
  o->AddBool("help", &s->help, "print this help and exit");
}

constexpr char kDefaultLogFile[] = "/var/log/mail.log";

// Picks the source. Without --postfix.logfile_path and --systemd.enable:
// /var/log/mail.log if it exists, else the journal when journald runs here,
// else /var/log/mail.log all the same (it is waited for).
void ChooseSource(Settings* s, std::string* why) {
  if (!s->systemd_enable && s->file.path.empty() && s->syslog.listen_addresses.empty()) {
    if (::access(kDefaultLogFile, F_OK) == 0) {
      s->file.path = kDefaultLogFile;
      *why = "default log file exists";
    } else if (LocalJournalAvailable()) {
      s->systemd_enable = true;
      *why = "no /var/log/mail.log and journald is running";
    } else {
      s->file.path = kDefaultLogFile;
      *why = "default log file (waiting for it to appear)";
    }
  }
}

// The chosen source, resuming from `position` (a saved CheckpointText())
// when it is not empty. A `quiet` source logs nothing (it is only asked
// for its Describe()).
absl::StatusOr<std::unique_ptr<Source>> MakeLogSource(Settings* s, const std::string& position,
                                                      bool quiet) {
  LogHook logger = LogText;
  if (quiet) logger = [](LogLevel, absl::string_view) {};
  if (s->systemd_enable) {
    s->journal.resume_cursor = position;
    s->journal.once = s->once;
    s->journal.logger = logger;
    auto src = JournalSource::Create(s->journal);
    if (!src.ok()) return src.status();
    return std::unique_ptr<Source>(std::move(*src));
  }
  s->file.resume_position_text = position;
  s->file.once = s->once;
  s->file.logger = logger;
  auto src = FileSource::Create(s->file);
  if (!src.ok()) return src.status();
  return std::unique_ptr<Source>(std::move(*src));
}

// The file or journal source, the syslog receiver, or both: the receiver
// (bound once in Main) is borrowed, the other comes first as it holds the
// read position.
absl::StatusOr<std::unique_ptr<Source>> MakeSource(Settings* s, const std::string& position,
                                                   bool quiet = false) {
  if (!s->syslog_receiver) return MakeLogSource(s, position, quiet);
  std::vector<std::unique_ptr<Source>> owned;
  if (s->systemd_enable || !s->file.path.empty()) {
    auto other = MakeLogSource(s, position, quiet);
    if (!other.ok()) return other.status();
    owned.push_back(std::move(*other));
  }
  return std::unique_ptr<Source>(std::make_unique<CompositeSource>(
      std::move(owned), std::vector<Source*>{s->syslog_receiver.get()}));
}

// OK when `doc` restores into a pipeline built with `options`.
absl::Status CheckRestores(const Pipeline::Options& options, const StateDocument& doc) {
  prometheus::Registry scratch_registry;
  Metrics scratch_metrics(&scratch_registry, BuildInfo{});
  Pipeline scratch(options, &scratch_metrics);
  return scratch.RestoreState(doc);
}

int ConfigError(absl::string_view message) {
  std::cerr << "postfix_sasl_exporter: " << message << "\n";
  return kExitConfig;
}

// The user name hash key: the key file's, else a random one (which a saved
// state replaces, see AccountTriage). Logged once when hashes are
// per-install.
absl::Status LoadUsernameKey(Triage::Options* triage) {
  if (!triage->username_hash_key_file.empty()) {
    absl::StatusOr<triage::SipKey> key =
        triage::UsernameLabeler::ReadKeyFile(triage->username_hash_key_file);
    if (!key.ok()) return key.status();
    triage->username_key = *key;
    return absl::OkStatus();
  }
  triage->username_key = triage::UsernameLabeler::RandomKey();
  if (triage->top_usernames > 0 && !triage->plain_usernames) {
    Log(LogLevel::kInfo,
        "user names are exported as hashes under a random per-install key (kept in "
        "--state.file when set); set --triage.username_hash_key_file for hashes an operator can "
        "reproduce",
        {});
  }
  return absl::OkStatus();
}

// --triage.hash_username: the label NAME gets with the configured key (the
// key file, or the random key a state file keeps), on stdout.
int PrintUsernameLabel(Settings* s) {
  Triage::Options& t = s->pipeline.triage;
  if (t.username_hash_key_file.empty() && !t.plain_usernames) {
    if (s->state_file.empty()) {
      return ConfigError(
          "--triage.hash_username needs --triage.username_hash_key_file, or --state.file "
          "holding the per-install key");
    }
    absl::StatusOr<StateDocument> doc = LoadStateFile(s->state_file);
    if (!doc.ok()) return ConfigError(absl::StrCat(s->state_file, ": ", doc.status().message()));
    std::vector<std::string> users;
    for (const std::string& line : doc->sections["triage"]) {
      if (absl::StartsWith(line, "users ")) users.push_back(line.substr(6));
    }
    absl::StatusOr<triage::SipKey> key = triage::AccountTriage::SavedKey(users);
    if (!key.ok()) {
      return ConfigError(absl::StrCat(s->state_file, " holds no user name key"));
    }
    t.username_key = *key;
  }
  const triage::UsernameLabeler labeler(t.username_key, t.plain_usernames);
  std::cout << labeler.Label(s->hash_username, labeler.Identity(s->hash_username)) << "\n";
  return 0;
}

int Main(int argc, char** argv) {
  Settings s;
  OptionSet options;
  DeclareOptions(&options, &s);
  absl::Status st = options.ParseArgs(argc, argv);
  if (st.ok() && !s.config_file.empty()) st = options.LoadYamlFile(s.config_file);
  if (!st.ok()) return ConfigError(st.message());
  if (s.help) {
    std::cout << "postfix_sasl_exporter: Prometheus exporter for Postfix SMTP AUTH (SASL), "
                 "sessions and relay denials.\n\n"
              << options.Usage("postfix_sasl_exporter");
    return 0;
  }
  if (s.version) {
    std::cout << "postfix_sasl_exporter " << PSE_VERSION << " (revision " << PSE_REVISION << ")\n";
    return 0;
  }
  ConfigureLogging(s.log_level, s.log_format);
  if (!s.hash_username.empty()) {
    if (!s.pipeline.triage.username_hash_key_file.empty()) {
      absl::Status key = LoadUsernameKey(&s.pipeline.triage);
      if (!key.ok()) return ConfigError(key.message());
    }
    return PrintUsernameLabel(&s);
  }
  if (absl::Status key = LoadUsernameKey(&s.pipeline.triage); !key.ok()) {
    return ConfigError(key.message());
  }
  if (absl::Status rules = BuildReasonRules(&s); !rules.ok()) return ConfigError(rules.message());
  if (s.once && s.file.path.empty() && !s.systemd_enable) {
    return ConfigError("--once needs --postfix.logfile_path (- for stdin) or --systemd.enable");
  }
  if (!s.file.path.empty() && s.systemd_enable) {
    return ConfigError("--postfix.logfile_path and --systemd.enable exclude each other");
  }
  if (s.once && !s.syslog.listen_addresses.empty()) {
    return ConfigError(
        "--once reads a file or journal to its end; it cannot take --syslog.listen-address");
  }

  if (s.once) s.state_file.clear();  // --once reads from the start and keeps nothing
  if (!s.state_file.empty() && s.file.path == "-") {
    return ConfigError("--state.file cannot resume standard input");
  }
  std::string why = "given on the command line or in the config file";
  ChooseSource(&s, &why);

  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(registry.get(), BuildInfo{PSE_VERSION, PSE_REVISION});
  Pipeline pipeline(s.pipeline, &metrics);
  if (!s.syslog.listen_addresses.empty()) {
    s.syslog_metrics = std::make_unique<SyslogMetrics>(registry.get());
    s.syslog.metrics = s.syslog_metrics.get();
    s.syslog.logger = LogText;
    auto receiver = SyslogReceiver::Create(s.syslog);
    if (!receiver.ok()) {
      std::cerr << "postfix_sasl_exporter: " << receiver.status().message() << "\n";
      return receiver.status().code() == absl::StatusCode::kInvalidArgument ? kExitConfig : 1;
    }
    s.syslog_receiver = std::move(*receiver);
    Log(LogLevel::kInfo, "receiving syslog",
        {{"addresses", absl::StrJoin(s.syslog_receiver->BoundAddresses(), ",")}});
  }
  StateStore store(s.state_file, LogText);
  if (absl::Status usable = store.CheckUsable(); !usable.ok()) return ConfigError(usable.message());
  // With a state file, the source is made twice: first to learn what it
  // reads (a state file for another log is not used), then resuming.
  auto source = MakeSource(&s, "", /*quiet=*/store.enabled());
  if (!source.ok()) {
    std::cerr << "postfix_sasl_exporter: " << source.status().message() << "\n";
    return source.status().code() == absl::StatusCode::kInvalidArgument ? kExitConfig : 1;
  }
  bool resumed = false;
  if (std::optional<StateDocument> saved = store.Load((*source)->Describe())) {
    // Tried on a scratch pipeline first, so the real one is restored only
    // when it will work, and only together with a resumed source.
    absl::Status usable = CheckRestores(s.pipeline, *saved);
    if (usable.ok()) {
      auto resuming = MakeSource(&s, absl::StrJoin(saved->sections["position"], "\n"));
      if (resuming.ok()) usable = pipeline.RestoreState(*saved);
      if (resuming.ok() && usable.ok()) {
        *source = std::move(*resuming);
        resumed = true;
        Log(LogLevel::kInfo, "state restored", {{"state_file", s.state_file}});
      } else if (usable.ok()) {
        usable = resuming.status();
      }
    }
    if (!usable.ok()) store.Discard(usable.message());
  }
  if (store.enabled() && !resumed) source = MakeSource(&s, "");
  if (!source.ok()) {
    std::cerr << "postfix_sasl_exporter: " << source.status().message() << "\n";
    return 1;
  }
  if (s.once) return RunOnce(source->get(), registry.get(), &pipeline);

  Log(LogLevel::kInfo, "starting postfix_sasl_exporter",
      {{"version", PSE_VERSION},
       {"revision", PSE_REVISION},
       {"source", (*source)->Describe()},
       {"reason", why}});
  return RunDaemon(s.daemon, source->get(), registry, &pipeline, &store);
}

}  // namespace
}  // namespace pse

int main(int argc, char** argv) { return pse::Main(argc, argv); }
