#include "exporter/triage/username_label.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace pse {
namespace triage {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

// The length of the valid UTF-8 sequence at the start of `s` (0: invalid),
// and its code point.
size_t DecodeUtf8(absl::string_view s, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t n;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  // Overlong forms, UTF-16 surrogates and values past Unicode are invalid.
  if (*cp < min || (*cp >= 0xD800 && *cp <= 0xDFFF) || *cp > 0x10FFFF) return 0;
  return n;
}

bool IsControl(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Printable ASCII, short enough and not "other": its own label (the
// common case, without a copy).
bool IsCleanLabel(absl::string_view name) {
  if (name.size() > UsernameLabeler::kMaxPlainBytes || name == "other") return false;
  for (char c : name) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

}  // namespace

std::string SanitizeUsername(absl::string_view text, size_t max_bytes) {
  std::string out;
  while (!text.empty()) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8(text, &cp);
    absl::string_view piece = text.substr(0, n);
    if (n == 0 || IsControl(cp)) {
      piece = kReplacement;
      n = n == 0 ? 1 : n;
    }
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece.data(), piece.size());
    text.remove_prefix(n);
  }
  if (out == "other") out = "(other)";
  return out;
}

absl::StatusOr<SipKey> UsernameLabeler::ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("--triage.username_hash_key_file: cannot read ",
                                                   path, ": ", std::strerror(errno)));
  }
  std::string secret(kMaxKeyFileBytes + 1, '\0');
  in.read(&secret[0], static_cast<std::streamsize>(secret.size()));
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("--triage.username_hash_key_file: cannot read ",
                                                   path, ": ", std::strerror(errno)));
  }
  secret.resize(static_cast<size_t>(in.gcount()));
  if (secret.size() < kMinKeyBytes || secret.size() > kMaxKeyFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--triage.username_hash_key_file: ", path, " holds ",
        secret.size() > kMaxKeyFileBytes ? "more than 65536" : absl::StrCat(secret.size()),
        " bytes; it needs ", kMinKeyBytes,
        " to 65536 bytes of secret (e.g. head -c 32 /dev/urandom | base64 > FILE)"));
  }
  return KeyFromSecret(secret);
}

SipKey UsernameLabeler::KeyFromSecret(absl::string_view secret) {
  // Two fixed keys make two independent 64-bit halves of the whole secret.
  const SipKey a{0x7073652d6b657931ULL, 0x757365726e616d65ULL};
  const SipKey b{0x7073652d6b657932ULL, 0x757365726e616d65ULL};
  return SipKey{SipHash24(a, secret), SipHash24(b, secret)};
}

SipKey UsernameLabeler::RandomKey() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    const ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
    // EINTR: try again. getrandom cannot otherwise fail for 16 bytes.
  }
  return SipKeyFromBytes(absl::string_view(reinterpret_cast<const char*>(bytes), 16));
}

uint64_t UsernameLabeler::Identity(absl::string_view name) const {
  if (!plain_ || IsCleanLabel(name)) return SipHash24(key_, name);
  return SipHash24(key_, SanitizeUsername(name, kMaxPlainBytes));
}

std::string UsernameLabeler::Label(absl::string_view name, uint64_t identity) const {
  if (!plain_) return HashLabel(identity);
  return IsCleanLabel(name) ? std::string(name) : SanitizeUsername(name, kMaxPlainBytes);
}

std::string UsernameLabeler::Fingerprint() const {
  return absl::StrCat(
      plain_ ? "plain:" : "hash:",
      absl::Hex(SipHash24(key_, "postfix-sasl-exporter key check"), absl::kZeroPad16));
}

std::string HashLabel(uint64_t identity) {
  return absl::StrCat("h:", absl::Hex(identity, absl::kZeroPad16));
}

}  // namespace triage
}  // namespace pse
