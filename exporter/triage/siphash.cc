#include "exporter/triage/siphash.h"

#include <cstring>

namespace pse {
namespace triage {
namespace {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

// `n` (<= 8) bytes at `p` as a little-endian word, the same on every host.
inline uint64_t LoadLE(const unsigned char* p, size_t n) {
  uint64_t w = 0;
  for (size_t i = n; i-- > 0;) w = (w << 8) | p[i];
  return w;
}

// Eight bytes at `p` as a little-endian word (one load on such hosts).
inline uint64_t LoadLE64(const unsigned char* p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
#else
  return LoadLE(p, 8);
#endif
}

struct State {
  uint64_t v0, v1, v2, v3;
  void Round() {
    v0 += v1;
    v1 = Rotl(v1, 13);
    v1 ^= v0;
    v0 = Rotl(v0, 32);
    v2 += v3;
    v3 = Rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = Rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = Rotl(v1, 17);
    v1 ^= v2;
    v2 = Rotl(v2, 32);
  }
  void Compress(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

}  // namespace

SipKey SipKeyFromBytes(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  return SipKey{LoadLE(p, 8), LoadLE(p + 8, 8)};
}

uint64_t SipHash24(const SipKey& key, absl::string_view message) {
  // The initialisation constants spell "somepseudorandomlygeneratedbytes".
  State s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
          key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  const auto* p = reinterpret_cast<const unsigned char*>(message.data());
  const size_t len = message.size();
  size_t left = len;
  for (; left >= 8; left -= 8, p += 8) s.Compress(LoadLE64(p));
  // The last word: the remaining bytes, and the length's low byte on top.
  s.Compress(LoadLE(p, left) | (static_cast<uint64_t>(len & 0xff) << 56));
  s.v2 ^= 0xff;
  s.Round();
  s.Round();
  s.Round();
  s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace triage
}  // namespace pse
