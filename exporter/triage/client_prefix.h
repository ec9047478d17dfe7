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

  bool operator==(const NetPrefix& o) const {
    return bits == o.bits && v6 == o.v6 && bytes == o.bytes;
  }
  bool operator!=(const NetPrefix& o) const { return !(*this == o); }
  // Two words and the rest: hashed for every failure (twice), so cheaper
  // than hashing the array as a byte range.
  template <typename H>
  friend H AbslHashValue(H h, const NetPrefix& p) {
    uint64_t lo, hi;
    std::memcpy(&lo, p.bytes.data(), sizeof lo);
    std::memcpy(&hi, p.bytes.data() + sizeof lo, sizeof hi);
    return H::combine(std::move(h), lo, hi, static_cast<uint16_t>(p.bits << 1 | p.v6));
  }
};

// False when `text` is not an IPv4 or IPv6 address.
bool ParseIpAddress(absl::string_view text, IpAddress* out);

// The network of `addr`. REQUIRES: 0 <= v4_bits <= 32, 0 <= v6_bits <= 128.
NetPrefix ToPrefix(const IpAddress& addr, int v4_bits, int v6_bits);

// CIDR notation: "192.0.2.0/24", "2001:db8:1:2::/64".
std::string PrefixString(const NetPrefix& p);
// The inverse of PrefixString (for the state file). False when malformed.
bool ParsePrefixString(absl::string_view text, NetPrefix* out);

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_CLIENT_PREFIX_H_
