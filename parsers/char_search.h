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
#include <cstring>

#include "absl/strings/string_view.h"

namespace pse {

// s.find(c, pos).
inline size_t FindChar(absl::string_view s, char c, size_t pos = 0) {
  if (pos >= s.size()) return absl::string_view::npos;
  const void* p = std::memchr(s.data() + pos, c, s.size() - pos);
  return p == nullptr ? absl::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - s.data());
}

// s.rfind(c) (glibc's memrchr).
inline size_t RFindChar(absl::string_view s, char c) {
  if (s.empty()) return absl::string_view::npos;
  const void* p = memrchr(s.data(), c, s.size());
  return p == nullptr ? absl::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - s.data());
}

// s.find(": ").
inline size_t FindColonSpace(absl::string_view s) {
  for (size_t i = FindChar(s, ':'); i != absl::string_view::npos; i = FindChar(s, ':', i + 1)) {
    if (i + 1 < s.size() && s[i + 1] == ' ') return i;
  }
  return absl::string_view::npos;
}

}  // namespace pse

#endif  // PSE_PARSERS_CHAR_SEARCH_H_
