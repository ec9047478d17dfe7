// Character searches on the per-line path, inline.
//
// Debian's Abseil builds its own string_view, whose find()/rfind() are
// out-of-line calls into libabsl_strings: on the benchmark's mail log they
// took a tenth of all instructions, mostly the call and a byte loop. These
// do the same with memchr or a short inline loop. Pure functions; the
// results are positions in `s` or absl::string_view::npos, as find() gives.
#ifndef PSE_PARSERS_CHAR_SEARCH_H_
#define PSE_PARSERS_CHAR_SEARCH_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/strings/string_view.h"

namespace pse {

// s.find(c, pos).
inline size_t FindChar(absl::string_view s, char c, size_t pos = 0) {
  if (pos >= s.size()) return absl::string_view::npos;
  const void* p = std::memchr(s.data() + pos, c, s.size() - pos);
  return p == nullptr ? absl::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - s.data());
}

// s.find(c, pos) where c is usually within the next few dozen bytes (the
// end of a host name or a program tag): 16 bytes per step with SSE2 and no
// call, where memchr's call and setup cost more than the search. Loads stay
// inside `s`; the last partial block is read byte by byte.
inline size_t FindCharNear(absl::string_view s, char c, size_t pos = 0) {
  size_t i = pos;
#ifdef __SSE2__
  const __m128i needle = _mm_set1_epi8(c);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(block, needle));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < s.size(); ++i) {
    if (s[i] == c) return i;
  }
  return absl::string_view::npos;
}

// s.find(needle, pos): memchr for the first byte, then a compare.
inline size_t FindString(absl::string_view s, absl::string_view needle, size_t pos = 0) {
  if (needle.empty()) return pos <= s.size() ? pos : absl::string_view::npos;
  if (pos > s.size() || needle.size() > s.size() - pos) return absl::string_view::npos;
  const char* const last = s.data() + (s.size() - needle.size());  // last possible start
  const char* p = s.data() + pos;
  while (p <= last) {
    p = static_cast<const char*>(std::memchr(p, needle[0], static_cast<size_t>(last - p) + 1));
    if (p == nullptr) return absl::string_view::npos;
    if (std::memcmp(p + 1, needle.data() + 1, needle.size() - 1) == 0) {
      return static_cast<size_t>(p - s.data());
    }
    ++p;
  }
  return absl::string_view::npos;
}

// memcmp(a, b, n) == 0 for 8 <= n <= 24 (timestamps): three overlapping
// 8-byte loads at most, no call.
inline bool SameBytes(const char* a, const char* b, size_t n) {
  auto word = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof(w));
    return w;
  };
  if (word(a) != word(b) || word(a + n - 8) != word(b + n - 8)) return false;
  return n <= 16 || word(a + 8) == word(b + 8);
}

// s.rfind(c) (glibc's memrchr).
inline size_t RFindChar(absl::string_view s, char c) {
  if (s.empty()) return absl::string_view::npos;
  const void* p = memrchr(s.data(), c, s.size());
  return p == nullptr ? absl::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - s.data());
}

}  // namespace pse

#endif  // PSE_PARSERS_CHAR_SEARCH_H_
