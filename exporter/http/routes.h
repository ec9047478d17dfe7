// What the exporter answers, independent of the HTTP library: one request
// (method, path, the two headers we read) in, one response value out.
//
// Routes (GET and HEAD only; any other method gets 405 with `Allow: GET,
// HEAD`; unknown paths 404):
//   <telemetry_path>   exposition text, Content-Type
//                      `text/plain; version=0.0.4; charset=utf-8`, gzip when
//                      Accept-Encoding allows it (always `Vary:
//                      Accept-Encoding`); 500 naming the error when a
//                      collectable throws
//   /                  small HTML landing page linking to the telemetry path
//   /-/healthy         200 "OK" while the server runs
//   /-/ready           200 when is_ready() returns true (or is null), else 503
// With basic auth configured every path, the landing page and health checks
// included (as exporter-toolkit does), first needs valid credentials, else 401
// with `WWW-Authenticate: Basic`. The web config's extra headers go on every
// response. HEAD is answered like GET; the HTTP layer drops the body.
//
// A scrape locks each collectable's weak_ptr (expired ones are skipped),
// calls Collect() and serialises: no file, regex or lock work of its own.
//
// Thread-safety: Route() may run on many threads at once; is_ready and the
// collectables must be thread-safe.

#ifndef PSE_EXPORTER_HTTP_ROUTES_H_
#define PSE_EXPORTER_HTTP_ROUTES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "exporter/http/basic_auth.h"
#include "prometheus/collectable.h"

namespace pse {

struct RouteRequest {
  absl::string_view method;
  absl::string_view path;
  const char* authorization = nullptr;    // header value; null when absent
  const char* accept_encoding = nullptr;  // likewise
};

struct RouteResponse {
  unsigned int status = 200;
  std::string body;
  std::string content_type;
  // Route-specific headers, then the web config's extra headers.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct RouterOptions {
  std::string telemetry_path = "/metrics";  // must start with '/'
  int gzip_level = 1;                       // 1..9
  // user -> bcrypt hash; empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  // Added to every response (web config http_server_config.headers).
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

class Router {
 public:
  Router(RouterOptions options, std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
         std::function<bool()> is_ready);

  RouteResponse Route(const RouteRequest& request) const;

  // bcrypt computations so far (0 without basic auth).
  uint64_t bcrypt_calls() const;

 private:
  RouteResponse Make(unsigned int status, std::string body, const char* content_type,
                     std::vector<std::pair<std::string, std::string>> headers = {}) const;
  RouteResponse Metrics(const char* accept_encoding) const;
  std::string Scrape() const;

  RouterOptions options_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  std::function<bool()> is_ready_;
  std::unique_ptr<BasicAuthenticator> authenticator_;  // null: no auth
  std::string landing_page_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_ROUTES_H_
