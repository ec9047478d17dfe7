// Response compression for the HTTP server: whether a request's
// Accept-Encoding allows gzip, and gzip-deflating a response body with zlib.
//
// Only gzip is offered (as the Prometheus client libraries do): every scraper
// speaks it, and the exposition text compresses about tenfold.
//
// Thread-safety: pure functions; safe from any thread.

#ifndef PSE_EXPORTER_HTTP_COMPRESSION_H_
#define PSE_EXPORTER_HTTP_COMPRESSION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace pse {

// RFC 9110 content negotiation reduced to one question: is gzip acceptable
// (q > 0), by name ("gzip" or "x-gzip") or through "*"? An explicit
// "gzip;q=0" wins over "*". Null (no header) means no.
bool AcceptsGzip(const char* accept_encoding);

// Deflates `in` into a gzip member at `level` (1..9). False (and `out`
// unspecified) when zlib fails; the caller then sends the body uncompressed.
bool Gzip(absl::string_view in, int level, std::string* out);

}  // namespace pse

#endif  // PSE_EXPORTER_HTTP_COMPRESSION_H_
