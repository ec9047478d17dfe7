#include "exporter/triage/client_prefix.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pse {
namespace triage {
namespace {

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

bool ParseIpAddressSlow(absl::string_view text, IpAddress* out) {
  // inet_pton wants a NUL-terminated string; the longest address text
  // (IPv4-mapped IPv6) is 45 bytes. A zone ("%eth0") is not part of it.
  const size_t zone = text.find('%');
  if (zone != absl::string_view::npos) text = text.substr(0, zone);
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  *out = IpAddress();
  if (text.find(':') == absl::string_view::npos) {
    if (inet_pton(AF_INET, buf, out->bytes.data() + 12) != 1) return false;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out->bytes.data()) != 1) return false;
  out->v6 = std::memcmp(out->bytes.data(), kV4MappedPrefix, 12) != 0;
  if (!out->v6) std::memset(out->bytes.data(), 0, 12);
  return true;
}

NetPrefix ToPrefix(const IpAddress& addr, int v4_bits, int v6_bits) {
  NetPrefix p;
  p.v6 = addr.v6;
  p.bits = static_cast<uint8_t>(addr.v6 ? v6_bits : v4_bits);
  p.bytes = addr.bytes;
  // Bit position in the 16 bytes where the host part starts: the bytes
  // before it stay, the one it falls in keeps its high bits, the rest go.
  const int keep = addr.v6 ? p.bits : 96 + p.bits;
  const int whole = keep / 8;
  if (whole < 16) {
    const int rest = keep % 8;
    p.bytes[whole] &= static_cast<uint8_t>(rest == 0 ? 0 : 0xff << (8 - rest));
    std::memset(p.bytes.data() + whole + 1, 0, 15 - whole);
  }
  return p;
}

PrefixMasker::PrefixMasker(int v4_bits, int v6_bits) {
  // The masks are the prefixes of an address with every bit set.
  IpAddress ones;
  ones.bytes.fill(0xff);
  for (bool v6 : {false, true}) {
    ones.v6 = v6;
    const NetPrefix p = ToPrefix(ones, v4_bits, v6_bits);
    (v6 ? v6_ : v4_) = Mask{p.lo(), p.hi(), p.bits};
  }
}

std::string PrefixString(const NetPrefix& p) {
  if (!p.v6) {  // the common case, without inet_ntop's sprintf
    const uint8_t* b = p.bytes.data() + 12;
    return absl::StrCat(b[0], ".", b[1], ".", b[2], ".", b[3], "/", p.bits);
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, p.bytes.data(), buf, sizeof(buf));
  return absl::StrCat(buf, "/", p.bits);
}

bool ParsePrefixString(absl::string_view text, NetPrefix* out) {
  const size_t slash = text.rfind('/');
  int bits;
  IpAddress addr;
  if (slash == absl::string_view::npos || !absl::SimpleAtoi(text.substr(slash + 1), &bits) ||
      !ParseIpAddress(text.substr(0, slash), &addr) || bits < 0 || bits > (addr.v6 ? 128 : 32)) {
    return false;
  }
  *out = ToPrefix(addr, bits, bits);
  return *out == NetPrefix{addr.bytes, static_cast<uint8_t>(bits), addr.v6};
}

}  // namespace triage
}  // namespace pse
