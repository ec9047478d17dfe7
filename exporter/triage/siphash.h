// SipHash-2-4: a keyed 64-bit pseudo-random function of a byte string.
//
// Written from Aumasson and Bernstein's paper ("SipHash: a fast short-input
// PRF", 2012): a 128-bit key, 2 compression rounds per 8-byte word, 4
// finalisation rounds. Without the key, an output says nothing about the
// input and inputs with a chosen output cannot be found, which is what a
// user name exported as a label needs. Checked against the paper's test
// vector (siphash_test.cc).
//
// Pure functions: thread-safe.
#ifndef PSE_EXPORTER_TRIAGE_SIPHASH_H_
#define PSE_EXPORTER_TRIAGE_SIPHASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace pse {
namespace triage {

struct SipKey {
  // The key's bytes 0..7 and 8..15, each read as a little-endian word.
  uint64_t k0 = 0;
  uint64_t k1 = 0;
  bool operator==(const SipKey& o) const { return k0 == o.k0 && k1 == o.k1; }
  bool operator!=(const SipKey& o) const { return !(*this == o); }
};

// The key made of 16 bytes (REQUIRES: bytes.size() == 16).
SipKey SipKeyFromBytes(absl::string_view bytes);

uint64_t SipHash24(const SipKey& key, absl::string_view message);

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_SIPHASH_H_
