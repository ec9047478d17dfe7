#include "exporter/http/routes.h"

#include <exception>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "exporter/http/compression.h"
#include "prometheus/text_serializer.h"

namespace pse {
namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kHtmlContentType[] = "text/html; charset=utf-8";

std::string HtmlEscape(absl::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string LandingPage(absl::string_view telemetry_path) {
  const std::string path = HtmlEscape(telemetry_path);
  return absl::StrCat(
      "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">"
      "<title>Postfix SASL Exporter</title></head>\n<body>\n"
      "<h1>Postfix SASL Exporter</h1>\n"
      "<p>Prometheus exporter for Postfix SMTP AUTH (SASL) metrics.</p>\n<ul>\n"
      "<li><a href=\"",
      path, "\">", path,
      "</a></li>\n"
      "<li><a href=\"/-/healthy\">/-/healthy</a></li>\n"
      "<li><a href=\"/-/ready\">/-/ready</a></li>\n"
      "</ul>\n</body>\n</html>\n");
}

}  // namespace

Router::Router(RouterOptions options,
               std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
               std::function<bool()> is_ready)
    : options_(std::move(options)),
      collectables_(std::move(collectables)),
      is_ready_(std::move(is_ready)),
      landing_page_(LandingPage(options_.telemetry_path)) {
  if (!options_.basic_auth_users.empty()) {
    authenticator_ = std::make_unique<BasicAuthenticator>(options_.basic_auth_users);
  }
}

uint64_t Router::bcrypt_calls() const {
  return authenticator_ ? authenticator_->bcrypt_calls() : 0;
}

RouteResponse Router::Make(unsigned int status, std::string body, const char* content_type,
                           std::vector<std::pair<std::string, std::string>> headers) const {
  RouteResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = content_type;
  r.headers = std::move(headers);
  r.headers.insert(r.headers.end(), options_.extra_headers.begin(), options_.extra_headers.end());
  return r;
}

std::string Router::Scrape() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& weak : collectables_) {
    std::shared_ptr<prometheus::Collectable> collectable = weak.lock();
    if (!collectable) continue;
    std::vector<prometheus::MetricFamily> more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

RouteResponse Router::Metrics(const char* accept_encoding) const {
  std::string body;
  try {
    body = Scrape();
  } catch (const std::exception& e) {
    return Make(500, absl::StrCat("error collecting metrics: ", e.what(), "\n"), kTextContentType);
  }
  if (AcceptsGzip(accept_encoding)) {
    std::string compressed;
    if (Gzip(body, options_.gzip_level, &compressed)) {
      return Make(200, std::move(compressed), kMetricsContentType,
                  {{"Content-Encoding", "gzip"}, {"Vary", "Accept-Encoding"}});
    }
  }
  return Make(200, std::move(body), kMetricsContentType, {{"Vary", "Accept-Encoding"}});
}

RouteResponse Router::Route(const RouteRequest& request) const {
  if (authenticator_ != nullptr && !authenticator_->CheckHeader(request.authorization)) {
    return Make(401, "Unauthorized\n", kTextContentType, {{"WWW-Authenticate", "Basic"}});
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return Make(405, "Method Not Allowed\n", kTextContentType, {{"Allow", "GET, HEAD"}});
  }
  if (request.path == options_.telemetry_path) return Metrics(request.accept_encoding);
  if (request.path == "/") return Make(200, landing_page_, kHtmlContentType);
  if (request.path == "/-/healthy") return Make(200, "OK\n", kTextContentType);
  if (request.path == "/-/ready") {
    if (!is_ready_ || is_ready_()) return Make(200, "OK\n", kTextContentType);
    return Make(503, "Not ready\n", kTextContentType);
  }
  return Make(404, "404 page not found\n", kTextContentType);
}

}  // namespace pse
