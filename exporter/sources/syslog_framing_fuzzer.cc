// libFuzzer target for the stream framing of the syslog receiver: any bytes,
// cut into reads at points the input chooses, must frame without a crash,
// never hold more than the limit, and deliver only messages within it.
// Build with -DPSE_BUILD_FUZZERS=ON (clang), run like parser_fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "exporter/sources/syslog_framing.h"

namespace {

constexpr size_t kMax = 64;

struct CheckingSink : pse::SyslogFrameSink {
  void OnMessage(absl::string_view m) override {
    if (m.empty() || m.size() > kMax) std::abort();
  }
  void OnDrop(pse::SyslogDrop, uint64_t count) override {
    if (count == 0) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so split frames are covered.
  const size_t chunk = 1 + data[0] % 17;
  absl::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  pse::SyslogStreamFramer framer(kMax, 4 * kMax);
  CheckingSink sink;
  while (!rest.empty()) {
    const size_t n = rest.size() < chunk ? rest.size() : chunk;
    if (!framer.Feed(rest.substr(0, n), &sink)) return 0;
    rest.remove_prefix(n);
  }
  framer.Finish(&sink);
  if (framer.InFrame()) std::abort();
  return 0;
}
