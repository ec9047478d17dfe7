// UsernameLabeler: the label value under which a user name is exported.
//
// A user name is text a client chooses (failed logins) or an account name
// (authenticated submissions): neither may appear on /metrics unless the
// operator asks for it. By default the label is "h:" and the 16 hex digits
// of SipHash-2-4 of the name under a secret key: stable for as long as the
// key is, meaningless without it, and mapped back by an operator who holds
// the key (`postfix_sasl_exporter --triage.hash_username NAME`, the same
// code). With `plain` the label is the name itself, sanitised: invalid
// UTF-8 and control characters become U+FFFD, at most kMaxPlainBytes bytes
// are kept (whole characters), and the name "other" is shown as "(other)"
// so it cannot be mistaken for the family's rest series.
//
// Identity(): a 64-bit value equal for two names exactly when their labels
// are equal (up to SipHash collisions, about 2^-64 per pair), so the
// sketches count labels, never two series under one label.
//
// The key: a key file's whole content (at least kMinKeyBytes bytes, read
// as it is, trailing newline included) is compressed into the 128-bit
// SipHash key, or 16 random bytes are drawn at start (RandomKey).
//
// Immutable after construction except set_key (before any name is
// counted): thread-compatible.
#ifndef PSE_EXPORTER_TRIAGE_USERNAME_LABEL_H_
#define PSE_EXPORTER_TRIAGE_USERNAME_LABEL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "exporter/triage/siphash.h"

namespace pse {
namespace triage {

// `text` made safe as a label value: see the class comment. Never empty
// for a non-empty input.
std::string SanitizeUsername(absl::string_view text, size_t max_bytes);

class UsernameLabeler {
 public:
  static constexpr size_t kMinKeyBytes = 16;
  static constexpr size_t kMaxPlainBytes = 64;

  // The key in `path`. InvalidArgument naming the file when it cannot be
  // read, holds fewer than kMinKeyBytes bytes or more than 64 KiB.
  static absl::StatusOr<SipKey> ReadKeyFile(const std::string& path);
  // The key derived from a secret of any length.
  static SipKey KeyFromSecret(absl::string_view secret);
  // 16 bytes from the kernel's random source.
  static SipKey RandomKey();

  UsernameLabeler(const SipKey& key, bool plain) : key_(key), plain_(plain) {}

  uint64_t Identity(absl::string_view name) const;
  // The label of `name`, whose Identity() is `identity`.
  std::string Label(absl::string_view name, uint64_t identity) const;
  // Tells keys and modes apart without revealing the key (saved in the
  // state file, so a changed key does not mix old and new labels).
  std::string Fingerprint() const;

  const SipKey& key() const { return key_; }
  void set_key(const SipKey& key) { key_ = key; }
  bool plain() const { return plain_; }

 private:
  SipKey key_;
  bool plain_;
};

// "h:" and 16 lower-case hex digits.
std::string HashLabel(uint64_t identity);

}  // namespace triage
}  // namespace pse

#endif  // PSE_EXPORTER_TRIAGE_USERNAME_LABEL_H_
