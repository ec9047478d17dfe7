// postfix_sasl_exporter: Prometheus exporter for Postfix SMTP AUTH, sessions
// and relay denials. Flags are declared here, and only here.
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "exporter/config.h"
#include "exporter/http/http_server.h"
#include "exporter/http/process_metrics.h"
#include "exporter/log.h"
#include "exporter/metrics.h"
#include "exporter/pipeline.h"
#include "exporter/sources/file_source.h"
#include "exporter/sources/journal_source.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

#ifndef PSE_VERSION
#define PSE_VERSION "0.0.0"
#endif
#ifndef PSE_REVISION
#define PSE_REVISION "unknown"
#endif

namespace pse {
namespace {

constexpr int kExitConfig = 2;

struct Flags {
  std::string config_file;
  bool once = false;
  bool help = false;
  bool version = false;
  std::string logfile_path;
  bool logfile_from_beginning = false;
  std::string logfile_position_file;
  int64_t max_line_bytes = 64 * 1024;
  int64_t syslog_year = 0;
  bool systemd_enable = false;
  std::vector<std::string> systemd_units;
  std::string systemd_slice;
  std::string systemd_journal_path;
  std::string systemd_cursor_file;
  absl::Duration peak_window = absl::Seconds(60);
  absl::Duration idle_timeout = absl::Hours(1);
  int64_t max_tracked = 16384;
  std::vector<std::string> listen_addresses = {":9154"};
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  int64_t web_max_connections = 64;
  absl::Duration web_request_timeout = absl::Seconds(10);
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

void DeclareOptions(OptionSet* o, Flags* f) {
  o->AddString("config.file", &f->config_file,
               "YAML file setting any of these options (keys are option names); flags win");
  o->AddBool("once", &f->once,
             "read the whole input from its start, print the metrics to stdout and exit");
  o->AddString("postfix.logfile_path", &f->logfile_path,
               "Postfix log file to follow; - for standard input (default: /var/log/mail.log, "
               "or the journal when that file is missing and journald runs)");
  o->AddBool("postfix.logfile_from_beginning", &f->logfile_from_beginning,
             "read the log file from its start instead of its end");
  o->AddString("postfix.logfile_position_file", &f->logfile_position_file,
               "file that keeps the read position across restarts (no loss, no double count)");
  o->AddBytes("postfix.logfile_max_line_length", &f->max_line_bytes, 1024, 64 << 20,
              "longer lines are skipped and counted");
  o->AddInt("postfix.syslog_year", &f->syslog_year, 0, 9999,
            "year of the first BSD-timestamp line (they carry none); 0 infers it from the clock");
  o->AddBool("systemd.enable", &f->systemd_enable, "read Postfix's entries from the systemd journal");
  o->AddStringList("systemd.unit", &f->systemd_units,
                   "journal unit to read (default: slice system-postfix.slice or unit postfix.service)");
  o->AddString("systemd.slice", &f->systemd_slice, "journal slice to read");
  o->AddString("systemd.journal_path", &f->systemd_journal_path,
               "read journal files from this directory instead of the local journal");
  o->AddString("systemd.cursor_file", &f->systemd_cursor_file,
               "file that keeps the journal cursor across restarts");
  o->AddDuration("sessions.peak_window", &f->peak_window,
                 "trailing window of log time for postfix_smtpd_sessions_max");
  o->AddDuration("sessions.idle_timeout", &f->idle_timeout,
                 "forget an smtpd process with no line for this long (log time)");
  o->AddInt("sessions.max_tracked", &f->max_tracked, 16, 10000000,
            "most smtpd processes held in state; the least recently active is evicted");
  o->AddStringList("web.listen-address", &f->listen_addresses,
                   "address to serve metrics on: [host]:port, [v6]:port or :port",
                   [](absl::string_view v) {
                     std::string host;
                     int port;
                     return ParseListenAddress(v, &host, &port);
                   });
  o->AddString("web.telemetry-path", &f->telemetry_path, "path of the metrics endpoint",
               [](absl::string_view v) {
                 return !v.empty() && v[0] == '/' && v != "/"
                            ? absl::OkStatus()
                            : absl::InvalidArgumentError("must start with / and not be /");
               });
  o->AddString("web.config.file", &f->web_config_file,
               "exporter-toolkit web configuration (TLS, basic auth)");
  o->AddInt("web.max-connections", &f->web_max_connections, 1, 10000,
            "most concurrent HTTP connections per listen address");
  o->AddDuration("web.request-timeout", &f->web_request_timeout,
                 "close an HTTP connection idle for this long (slow clients cannot hold it)");
  o->AddEnum("log.level", &f->log_level, {"debug", "info", "warn", "error"}, "log level");
  o->AddEnum("log.format", &f->log_format, {"logfmt", "json"}, "log format");
  o->AddBool("version", &f->version, "print the version and exit");
  o->AddBool("help", &f->help, "print this help and exit");
}

constexpr char kDefaultLogFile[] = "/var/log/mail.log";

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reopen{false};

extern "C" void OnSignal(int sig) {
  if (sig == SIGHUP) {
    g_reopen = true;
  } else {
    g_stop = true;
  }
}

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Picks the source. Without --postfix.logfile_path and --systemd.enable:
// /var/log/mail.log if it exists, else the journal when journald runs here,
// else /var/log/mail.log all the same (it is waited for).
absl::StatusOr<std::unique_ptr<Source>> MakeSource(const Flags& f, std::string* why) {
  bool journal = f.systemd_enable;
  std::string path = f.logfile_path;
  if (!journal && path.empty()) {
    if (::access(kDefaultLogFile, F_OK) == 0) {
      path = kDefaultLogFile;
      *why = "default log file exists";
    } else if (LocalJournalAvailable()) {
      journal = true;
      *why = "no /var/log/mail.log and journald is running";
    } else {
      path = kDefaultLogFile;
      *why = "default log file (waiting for it to appear)";
    }
  }
  if (journal) {
    JournalSourceOptions jo;
    jo.journal_path = f.systemd_journal_path;
    jo.units = f.systemd_units;
    jo.slice = f.systemd_slice;
    jo.cursor_file = f.systemd_cursor_file;
    jo.once = f.once;
    jo.logger = LogText;
    auto src = JournalSource::Create(jo);
    if (!src.ok()) return src.status();
    return std::unique_ptr<Source>(std::move(*src));
  }
  FileSourceOptions fo;
  fo.path = path;
  fo.from_beginning = f.logfile_from_beginning;
  fo.position_file = f.logfile_position_file;
  fo.max_line_bytes = static_cast<size_t>(f.max_line_bytes);
  fo.once = f.once;
  fo.logger = LogText;
  auto src = FileSource::Create(fo);
  if (!src.ok()) return src.status();
  return std::unique_ptr<Source>(std::move(*src));
}

int RunOnce(Source* source, prometheus::Registry* registry, Pipeline* pipeline) {
  while (!source->AtEnd()) {
    if (source->Poll(pipeline) == 0 && !source->AtEnd()) source->Wait(absl::Milliseconds(100));
  }
  // The input was read to its end: report the source as up, whether or not
  // the source keeps it open afterwards.
  SourceStats stats = source->stats();
  stats.up = stats.errors == 0;
  pipeline->SyncSourceStats(stats, absl::Now());
  std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// The ingest loop: one thread reads, parses and counts; HTTP threads only
// read the registry. Returns at SIGTERM/SIGINT.
int RunDaemon(const Flags& f, Source* source, std::shared_ptr<prometheus::Registry> registry,
              Pipeline* pipeline) {
  std::atomic<bool> ready{false};
  auto process = std::make_shared<ProcessCollector>();
  HttpOptions ho;
  ho.listen_addresses = f.listen_addresses;
  ho.telemetry_path = f.telemetry_path;
  ho.web_config_file = f.web_config_file;
  ho.max_connections = static_cast<int>(f.web_max_connections);
  ho.request_timeout = f.web_request_timeout;
  ho.error_log = [](absl::string_view msg) { Log(LogLevel::kDebug, "http", {{"error", std::string(msg)}}); };
  auto server = HttpServer::Start(ho, {registry, process}, [&ready] { return ready.load(); });
  if (!server.ok()) {
    std::cerr << "postfix_sasl_exporter: " << server.status().message() << "\n";
    return kExitConfig;
  }
  Log(LogLevel::kInfo, "listening",
      {{"address", absl::StrJoin(f.listen_addresses, ",")},
       {"telemetry_path", f.telemetry_path},
       {"tls", (*server)->tls() ? "true" : "false"}});

  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  absl::Time next_watchdog = absl::Now();
  absl::Time next_checkpoint = absl::Now() + absl::Seconds(5);
  bool notified = false;
  bool was_up = false;
  while (!g_stop.load()) {
    if (g_reopen.exchange(false)) {
      Log(LogLevel::kInfo, "SIGHUP: reopening the log source");
      source->Reopen();
    }
    size_t n = source->Poll(pipeline);
    absl::Time now = absl::Now();
    SourceStats stats = source->stats();
    pipeline->SyncSourceStats(stats, now);
    if (stats.up != was_up) {
      const char* msg = stats.up              ? "log source open"
                        : source->AtEnd()     ? "input ended; still serving the metrics read so far"
                                              : "log source not available; waiting for it";
      Log(stats.up ? LogLevel::kInfo : LogLevel::kWarn, msg, {{"source", source->Describe()}});
      was_up = stats.up;
    }
    if (stats.up && !ready.load()) ready = true;
    if (ready.load() && !notified) {
      sd_notify(0, "READY=1");  // listener bound and source open
      notified = true;
    }
    if (watchdog && now >= next_watchdog) {
      sd_notify(0, "WATCHDOG=1");
      next_watchdog = now + absl::Microseconds(watchdog_usec / 2);
    }
    if (now >= next_checkpoint) {
      absl::Status st = source->Checkpoint();
      if (!st.ok()) Log(LogLevel::kWarn, "cannot save the read position", {{"error", std::string(st.message())}});
      next_checkpoint = now + absl::Seconds(5);
    }
    // Wake at least every 200 ms: signals and the watchdog are checked here.
    if (n == 0) source->Wait(absl::Milliseconds(200));
  }
  sd_notify(0, "STOPPING=1");
  Log(LogLevel::kInfo, "shutting down");
  absl::Status st = source->Checkpoint();
  if (!st.ok()) Log(LogLevel::kWarn, "cannot save the read position", {{"error", std::string(st.message())}});
  (*server)->Stop();
  return 0;
}

int Main(int argc, char** argv) {
  Flags f;
  OptionSet options;
  DeclareOptions(&options, &f);
  absl::Status st = options.ParseArgs(argc, argv);
  if (st.ok() && !f.config_file.empty()) st = options.LoadYamlFile(f.config_file);
  if (!st.ok()) {
    std::cerr << "postfix_sasl_exporter: " << st.message() << "\n";
    return kExitConfig;
  }
  if (f.help) {
    std::cout << "postfix_sasl_exporter: Prometheus exporter for Postfix SMTP AUTH (SASL), "
                 "sessions and relay denials.\n\n"
              << options.Usage("postfix_sasl_exporter");
    return 0;
  }
  if (f.version) {
    std::cout << "postfix_sasl_exporter " << PSE_VERSION << " (revision " << PSE_REVISION << ")\n";
    return 0;
  }
  ConfigureLogging(f.log_level, f.log_format);

  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(registry.get(), BuildInfo{PSE_VERSION, PSE_REVISION});
  Pipeline::Options po;
  po.syslog.initial_year = static_cast<int>(f.syslog_year);
  po.state.peak_window = f.peak_window;
  po.state.idle_timeout = f.idle_timeout;
  po.state.max_tracked_processes = static_cast<size_t>(f.max_tracked);
  Pipeline pipeline(po, &metrics);

  if (f.once && f.logfile_path.empty() && !f.systemd_enable) {
    std::cerr << "postfix_sasl_exporter: --once needs --postfix.logfile_path (- for stdin) "
                 "or --systemd.enable\n";
    return kExitConfig;
  }
  if (!f.logfile_path.empty() && f.systemd_enable) {
    std::cerr << "postfix_sasl_exporter: --postfix.logfile_path and --systemd.enable exclude "
                 "each other\n";
    return kExitConfig;
  }
  std::string why = "given on the command line or in the config file";
  auto source = MakeSource(f, &why);
  if (!source.ok()) {
    std::cerr << "postfix_sasl_exporter: " << source.status().message() << "\n";
    return source.status().code() == absl::StatusCode::kInvalidArgument ? kExitConfig : 1;
  }
  if (f.once) return RunOnce(source->get(), registry.get(), &pipeline);

  InstallSignalHandlers();
  Log(LogLevel::kInfo, "starting postfix_sasl_exporter",
      {{"version", PSE_VERSION}, {"revision", PSE_REVISION},
       {"source", (*source)->Describe()}, {"reason", why}});
  return RunDaemon(f, source->get(), registry, &pipeline);
}

}  // namespace
}  // namespace pse

int main(int argc, char** argv) { return pse::Main(argc, argv); }
