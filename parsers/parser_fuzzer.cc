// libFuzzer target: arbitrary bytes, split into lines, through the syslog
// framer and the Postfix (or Dovecot auth) parser. Build with clang:
//   CXX=clang++ cmake -S . -B build-fuzz -DPSE_BUILD_FUZZERS=ON -DPSE_BUILD_TESTS=OFF
//   cmake --build build-fuzz --target parser_fuzzer
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "parsers/dovecot_auth.h"
#include "parsers/mail_flow.h"
#include "parsers/postfix_parser.h"
#include "parsers/syslog_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pse::SyslogLineParser::Options options;
  options.initial_year = 2024;
  options.bsd_time_zone = absl::UTCTimeZone();
  pse::SyslogLineParser framer(options);
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  volatile int sink = 0;
  while (!input.empty()) {
    size_t nl = input.find('\n');
    absl::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == absl::string_view::npos ? input.size() : nl + 1);
    pse::LogRecord record;
    const pse::SyslogLineParser::Result result = framer.Parse(line, &record);
    if (result == pse::SyslogLineParser::Result::kDovecot) {
      pse::DovecotAuthFailure f;
      if (pse::ParseDovecotAuthRecord(record.syslog_name, record.message, &f)) {
        sink = sink + static_cast<int>(f.reason);
        for (absl::string_view v : {f.driver, f.username, f.client_addr}) {
          if (!v.empty() &&
              (v.data() < line.data() || v.data() + v.size() > line.data() + line.size())) {
            __builtin_trap();
          }
        }
      }
    }
    if (result == pse::SyslogLineParser::Result::kPostfix) {
      pse::PostfixEvent ev = pse::ParsePostfix(record);
      sink = sink + static_cast<int>(ev.type) + static_cast<int>(ev.reason);
      // Views must stay inside the line.
      sink = sink + static_cast<int>(ev.reject_stage) + static_cast<int>(ev.reject_category);
      if (ev.reject_stage >= pse::RejectStage::kCount ||
          ev.reject_category >= pse::RejectCategory::kCount) {
        __builtin_trap();
      }
      for (absl::string_view v :
           {ev.master_service, ev.limit_service, ev.queue_id, ev.client_addr, ev.sasl_username}) {
        if (!v.empty() &&
            (v.data() < line.data() || v.data() + v.size() > line.data() + line.size())) {
          __builtin_trap();
        }
      }
      pse::MailFlowEvent flow = pse::ParseMailFlow(record);
      sink = sink + static_cast<int>(flow.kind) + static_cast<int>(flow.status);
      for (absl::string_view v :
           {flow.relay, flow.protocol, flow.cipher, flow.secret_bits, flow.algorithm_bits,
            flow.queue_id, flow.attempt_delays, flow.postscreen_client}) {
        if (!v.empty() &&
            (v.data() < line.data() || v.data() + v.size() > line.data() + line.size())) {
          __builtin_trap();
        }
      }
    }
  }
  return 0;
}
