// HTTP basic authentication against the bcrypt hashes of a web config
// (`basic_auth_users`), verified with libxcrypt.
//
// bcrypt at cost 10 costs ~70 ms of CPU on purpose; paying it on every scrape
// would be a self-inflicted load. Successful verifications are remembered as
// SHA-256(user, hash, password) digests (never the password) in a bounded
// FIFO cache, so a Prometheus server scraping with the right password pays
// bcrypt once. Failures are not cached: a wrong password always costs a full
// bcrypt, which keeps guessing slow. Unknown users are checked against a
// fixed dummy hash so the response time does not reveal which users exist.
// Hash and digest comparisons are constant-time.
//
// Hashes are used as Go's bcrypt uses them: any minor version letter ($2a$,
// $2b$, $2y$, even $2x$ or none) means the same (correct) algorithm, so the
// hash is handed to libxcrypt as $2b$.
//
// Thread-safety: Check() may be called from many threads at once.
// REQUIRES: hashes passed CheckBcryptHash (LoadWebConfig does that).

#ifndef PSE_EXPORTER_HTTP_BASIC_AUTH_H_
#define PSE_EXPORTER_HTTP_BASIC_AUTH_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/strings/string_view.h"

namespace pse {

class BasicAuthenticator {
 public:
  // users: user -> bcrypt hash. cache_size: successful verifications kept.
  explicit BasicAuthenticator(std::map<std::string, std::string> users, size_t cache_size = 256);

  // True when `authorization` (the raw Authorization header value, may be
  // null) carries a known user with the right password.
  bool CheckHeader(const char* authorization);

  // True when user/password match.
  bool Check(absl::string_view user, absl::string_view password);

  // Number of bcrypt computations performed so far (tests and diagnostics).
  uint64_t bcrypt_calls() const { return bcrypt_calls_.load(); }

  // Splits "Basic base64(user:password)" as Go's Request.BasicAuth does:
  // case-insensitive scheme, standard base64, split at the first ':'.
  static bool ParseHeader(absl::string_view header, std::string* user, std::string* password);

 private:
  using Digest = std::array<unsigned char, 32>;

  Digest CacheKey(absl::string_view user, absl::string_view hash, absl::string_view password) const;
  bool BcryptMatches(absl::string_view password, const std::string& hash);

  const std::map<std::string, std::string> users_;
  const size_t cache_size_;
  std::atomic<uint64_t> bcrypt_calls_{0};

  std::mutex mu_;  // guards the cache only; bcrypt runs outside it
  std::set<Digest> cache_;
  std::deque<Digest> cache_order_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_BASIC_AUTH_H_
