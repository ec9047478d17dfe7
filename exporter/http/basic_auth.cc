#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pse {
namespace {

// bcrypt("pse-dummy-password-for-unknown-users", cost 10): verified against
// for unknown users so they cost as much as known ones.
constexpr char kDummyHash[] = "$2b$10$1Q.YOtp6MF6G3np6k0HJzekbopNW7sUTrxIVe5FW64x.e4c9xsCUy";

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

// See the header: every bcrypt variant Go accepts is verified as $2b$.
std::string NormalizeHash(absl::string_view hash) {
  if (hash.size() < 4 || hash[0] != '$' || hash[1] != '2') return std::string(hash);
  size_t rest = hash[2] == '$' ? 3 : 4;
  if (rest == 4 && hash[3] != '$') return std::string(hash);
  return absl::StrCat("$2b$", hash.substr(rest));
}

}  // namespace

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users, size_t cache_size)
    : users_(std::move(users)), cache_size_(cache_size) {}

bool BasicAuthenticator::ParseHeader(absl::string_view header, std::string* user,
                                     std::string* password) {
  constexpr absl::string_view kPrefix = "Basic ";
  if (header.size() < kPrefix.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kPrefix.size()), kPrefix)) {
    return false;
  }
  std::string decoded;
  if (!absl::Base64Unescape(header.substr(kPrefix.size()), &decoded)) return false;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

bool BasicAuthenticator::CheckHeader(const char* authorization) {
  if (authorization == nullptr) return false;
  std::string user, password;
  if (!ParseHeader(authorization, &user, &password)) return false;
  return Check(user, password);
}

BasicAuthenticator::Digest BasicAuthenticator::CacheKey(absl::string_view user,
                                                        absl::string_view hash,
                                                        absl::string_view password) const {
  // Length-prefixed so ("ab","c") and ("a","bc") differ.
  std::string material =
      absl::StrCat(user.size(), ":", user, hash.size(), ":", hash, password.size(), ":", password);
  Digest digest{};
  gnutls_hash_fast(GNUTLS_DIG_SHA256, material.data(), material.size(), digest.data());
  // Do not leave the password in freed heap memory.
  gnutls_memset(material.data(), 0, material.size());
  return digest;
}

bool BasicAuthenticator::BcryptMatches(absl::string_view password, const std::string& hash) {
  bcrypt_calls_.fetch_add(1);
  const std::string setting = NormalizeHash(hash);
  // A password with a NUL cannot be passed to crypt; it cannot match either.
  const bool has_nul = password.find('\0') != absl::string_view::npos;
  const std::string phrase(password);
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  bool match = out != nullptr && out[0] != '*' && ConstantTimeEquals(out, setting) && !has_nul;
  gnutls_memset(data.get(), 0, sizeof(crypt_data));
  return match;
}

bool BasicAuthenticator::Check(absl::string_view user, absl::string_view password) {
  auto it = users_.find(std::string(user));
  if (it == users_.end()) {
    BcryptMatches(password, kDummyHash);
    return false;
  }
  const Digest key = CacheKey(user, it->second, password);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.count(key) != 0) return true;
  }
  if (!BcryptMatches(password, it->second)) return false;
  if (cache_size_ == 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.insert(key).second) {
    cache_order_.push_back(key);
    while (cache_order_.size() > cache_size_) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
  return true;
}

}  // namespace pse
