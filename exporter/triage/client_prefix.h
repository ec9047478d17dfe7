// ClientPrefix: a client address reduced to the network it comes from.
//
// Brute-force attacks rotate addresses inside one network, so triage counts
// networks, not addresses: an IPv4 address becomes its /24 and an IPv6
// address its /64 by default (an IPv6 host usually owns a whole /64). The
// address text is the one Postfix logs between brackets ("192.0.2.7",
// "2001:db8::1", "::ffff:192.0.2.7", "fe80::1%eth0"); an IPv4-mapped IPv6
// address counts as IPv4. Anything else ("unknown") is not an address.
//
// Values only, no state: thread-safe.
#ifndef PSE_EXPORTER_TRIAGE_CLIENT_PREFIX_H_
#define PSE_EXPORTER_TRIAGE_CLIENT_PREFIX_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/numeric/int128.h"
#include "absl/strings/string_view.h"

namespace pse {
namespace triage {

// A parsed address: 16 bytes (IPv4 in the last 4) and its family.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v6 = false;
};

// A network: the address with every bit past `bits` cleared.
struct NetPrefix {
  std::array<uint8_t, 16> bytes{};
  uint8_t bits = 0;
  bool v6 = false;

  // The bytes as two words (host order), for comparing and hashing.
  uint64_t lo() const {
    uint64_t w;
    std::memcpy(&w, bytes.data(), sizeof w);
    return w;
  }
  uint64_t hi() const {
    uint64_t w;
    std::memcpy(&w, bytes.data() + 8, sizeof w);
    return w;
  }
  // By words: compared for every failure, where a memcmp call costs more
  // than the comparison.
  bool operator==(const NetPrefix& o) const {
    return ((lo() ^ o.lo()) | (hi() ^ o.hi())) == 0 && bits == o.bits && v6 == o.v6;
  }
  bool operator!=(const NetPrefix& o) const { return !(*this == o); }
  // Two words and the rest: hashed for every failure, so cheaper than
  // hashing the array as a byte range.
  template <typename H>
  friend H AbslHashValue(H h, const NetPrefix& p) {
    return H::combine(std::move(h), p.lo(), p.hi(), static_cast<uint16_t>(p.bits << 1 | p.v6));
  }
};

// A cheaper hash of a network than absl::Hash's three combines, for the
// sketch's map (probed for every failure): one 64x64->128 multiply of the
// two words, folded. Chosen keys that collide cost longer probes, never
// more memory: the map holds at most the sketch's capacity (800).
struct NetPrefixHash {
  size_t operator()(const NetPrefix& p) const {
    const uint64_t tag = uint64_t{p.bits} << 1 | uint64_t{p.v6};
    const absl::uint128 m =
        absl::uint128(p.lo() ^ 0x243f6a8885a308d3ULL) * (p.hi() ^ tag ^ 0x13198a2e03707344ULL);
    return static_cast<size_t>(absl::Uint128Low64(m) ^ absl::Uint128High64(m));
  }
};

namespace client_prefix_internal {

// One to three digits of a dotted quad at `*p`, in a buffer with a NUL
// after the text (so no end checks), without a leading zero, at most 255,
// then `sep`; moves `*p` past the separator. Unrolled: it runs for every
// failure and a loop's bookkeeping costs more than the digits.
inline bool ParseOctet(const char** p, char sep, uint8_t* out) {
  const char* q = *p;
  unsigned v = static_cast<unsigned>(q[0] - '0');
  if (v > 9) return false;
  unsigned d = static_cast<unsigned>(q[1] - '0');
  if (d > 9) {
    q += 1;
  } else {
    if (v == 0) return false;  // a leading zero: inet_pton decides
    v = v * 10 + d;
    d = static_cast<unsigned>(q[2] - '0');
    if (d > 9) {
      q += 2;
    } else {
      v = v * 10 + d;
      if (v > 255) return false;
      q += 3;
    }
  }
  if (*q != sep) return false;
  *out = static_cast<uint8_t>(v);
  *p = q + 1;
  return true;
}

// Dotted-quad IPv4, the common case: "0.0.0.0" to "255.255.255.255". False
// for anything else (inet_pton then decides): a fourth digit, a fifth part
// or any other character fails a separator check.
inline bool ParseDottedQuad(absl::string_view text, uint8_t* out4) {
  const size_t n = text.size();
  if (n < 7 || n > 15) return false;
  // Zeros after the text: a digit check reads at most one byte past it.
  char buf[16] = {};
  // Two fixed-size copies that overlap instead of a memcpy call of n bytes.
  if (n >= 8) {
    std::memcpy(buf, text.data(), 8);
    std::memcpy(buf + n - 8, text.data() + n - 8, 8);
  } else {
    std::memcpy(buf, text.data(), 4);
    std::memcpy(buf + 3, text.data() + 3, 4);
  }
  const char* p = buf;
  return ParseOctet(&p, '.', &out4[0]) && ParseOctet(&p, '.', &out4[1]) &&
         ParseOctet(&p, '.', &out4[2]) && ParseOctet(&p, '\0', &out4[3]) &&
         p == buf + n + 1;  // no NUL inside the text
}

}  // namespace client_prefix_internal

// ParseIpAddress past the dotted quad: inet_pton.
bool ParseIpAddressSlow(absl::string_view text, IpAddress* out);

// False when `text` is not an IPv4 or IPv6 address. Inline for the dotted
// quad: it runs for every failure.
inline bool ParseIpAddress(absl::string_view text, IpAddress* out) {
  *out = IpAddress();
  uint8_t quad[4];
  if (client_prefix_internal::ParseDottedQuad(text, quad)) {
    // Bytes 8..15 in one 8-byte store: the hash and the mask read the
    // address as words, and a word read right after four byte stores cannot
    // be forwarded from them (perf showed that stall on every failure).
    const uint8_t tail[8] = {0, 0, 0, 0, quad[0], quad[1], quad[2], quad[3]};
    uint64_t word;
    std::memcpy(&word, tail, sizeof(word));
    std::memcpy(out->bytes.data() + 8, &word, sizeof(word));
    return true;
  }
  return ParseIpAddressSlow(text, out);
}

// The network of `addr`. REQUIRES: 0 <= v4_bits <= 32, 0 <= v6_bits <= 128.
NetPrefix ToPrefix(const IpAddress& addr, int v4_bits, int v6_bits);

// ToPrefix with the prefix lengths fixed: the masks are made once, then an
// address costs two word ANDs (ToPrefix's byte arithmetic runs per failure).
class PrefixMasker {
 public:
  // REQUIRES: as ToPrefix.
  PrefixMasker(int v4_bits, int v6_bits);
  // Equal to ToPrefix(addr, v4_bits, v6_bits).
  NetPrefix operator()(const IpAddress& addr) const {
    const Mask& m = addr.v6 ? v6_ : v4_;
    uint64_t lo, hi;
    std::memcpy(&lo, addr.bytes.data(), sizeof lo);
    std::memcpy(&hi, addr.bytes.data() + 8, sizeof hi);
    lo &= m.lo;
    hi &= m.hi;
    NetPrefix p;
    std::memcpy(p.bytes.data(), &lo, sizeof lo);
    std::memcpy(p.bytes.data() + 8, &hi, sizeof hi);
    p.bits = m.bits;
    p.v6 = addr.v6;
    return p;
  }

 private:
  // The prefix of an all-ones address, as NetPrefix::lo() and hi() words.
  struct Mask {
    uint64_t lo = 0;
    uint64_t hi = 0;
    uint8_t bits = 0;
  };
  Mask v4_;
  Mask v6_;
};

// CIDR notation: "192.0.2.0/24", "2001:db8:1:2::/64".
std::string PrefixString(const NetPrefix& p);
// The inverse of PrefixString (for the state file). False when malformed.
bool ParsePrefixString(absl::string_view text, NetPrefix* out);

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_CLIENT_PREFIX_H_
