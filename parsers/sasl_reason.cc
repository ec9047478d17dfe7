#include "parsers/sasl_reason.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace pse {
namespace {

enum class Match { kExact, kPrefix };

struct Rule {
  Match match;
  absl::string_view text;
  FailureReason reason;
};

using R = FailureReason;

// Texts that appear as the REASON of smtpd's failed line (sasl_errstring()
// of Cyrus, or the reason Postfix's Dovecot client passes on). Matched
// exactly or as a prefix, never as a substring: the text after a prefix may
// hold client-chosen data.
constexpr Rule kFailedRules[] = {
    // The wording that operators' triage guides use, whatever backend says it.
    {Match::kExact, "Invalid user name or authentication type", R::kBadCredentials},
    {Match::kExact, "Unknown user or password incorrect", R::kUnknownAccount},
    {Match::kExact, "Authentication not available", R::kAuthUnavailable},
    {Match::kExact, "Authentication mechanism not available", R::kMechanismUnsupported},
    {Match::kExact, "authentication failure", R::kBadCredentials},
    {Match::kExact, "Password verification failed", R::kBadCredentials},
    {Match::kExact, "login incorrect", R::kBadCredentials},
    {Match::kExact, "Password:", R::kBadCredentials},
    {Match::kExact, "Username:", R::kBadCredentials},
    {Match::kExact, "invalid credentials", R::kBadCredentials},
    {Match::kExact, "Password mismatch", R::kBadCredentials},
    {Match::kExact, "user not found", R::kUnknownAccount},
    {Match::kExact, "unknown user", R::kUnknownAccount},
    {Match::kExact, "user disabled", R::kUnknownAccount},
    {Match::kExact, "account disabled", R::kUnknownAccount},
    {Match::kExact, "Password expired", R::kUnknownAccount},
    {Match::kExact, "authorization failure", R::kUnknownAccount},
    {Match::kExact, "generic failure", R::kBackendUnavailable},
    {Match::kExact, "remote authentication server unavailable", R::kBackendUnavailable},
    {Match::kExact, "transient failure (e.g., weak key)", R::kBackendUnavailable},
    {Match::kExact, "no memory available", R::kBackendUnavailable},
    {Match::kExact, "Connection lost to authentication server", R::kBackendUnavailable},
    {Match::kExact, "Can't connect to authentication server", R::kBackendUnavailable},
    {Match::kExact, "Authentication backend error", R::kBackendUnavailable},
    {Match::kExact, "Authentication request timed out", R::kBackendUnavailable},
    {Match::kExact, "encryption needed to use mechanism", R::kAuthUnavailable},
    {Match::kExact, "mechanism too weak for this user", R::kAuthUnavailable},
    {Match::kPrefix, "Invalid authentication mechanism", R::kMechanismUnsupported},
    {Match::kExact, "no mechanism available", R::kMechanismUnsupported},
    {Match::kExact, "mechanism doesn't support requested feature", R::kMechanismUnsupported},
    {Match::kExact, "version mismatch with plug-in", R::kMechanismUnsupported},
    {Match::kExact, "bad protocol / cancel", R::kProtocolError},
    {Match::kExact, "another step is needed in authentication", R::kProtocolError},
    {Match::kExact, "can't request information until later in exchange", R::kProtocolError},
    {Match::kExact, "invalid parameter supplied", R::kProtocolError},
    {Match::kExact, "overflowed buffer", R::kProtocolError},
    {Match::kExact, "integrity check failed", R::kProtocolError},
    {Match::kExact, "channel binding failure", R::kProtocolError},
    {Match::kPrefix, "Invalid base64 data in ", R::kProtocolError},
    {Match::kExact, "Unexpected continuation", R::kProtocolError},
};

// strerror() texts (glibc, plus musl's where they differ): a reason that is
// nothing but an errno text comes from a failed socket or file operation of
// the SASL backend (saslauthd, a Dovecot socket), never from a credential
// check.
constexpr absl::string_view kErrnoTexts[] = {
    "Operation not permitted",
    "No such file or directory",
    "No such process",
    "Interrupted system call",
    "Input/output error",
    "No such device or address",
    "Argument list too long",
    "Exec format error",
    "Bad file descriptor",
    "No child processes",
    "Resource temporarily unavailable",
    "Cannot allocate memory",
    "Permission denied",
    "Bad address",
    "Block device required",
    "Device or resource busy",
    "File exists",
    "Invalid cross-device link",
    "No such device",
    "Not a directory",
    "Is a directory",
    "Invalid argument",
    "Too many open files in system",
    "Too many open files",
    "Inappropriate ioctl for device",
    "Text file busy",
    "File too large",
    "No space left on device",
    "Illegal seek",
    "Read-only file system",
    "Too many links",
    "Broken pipe",
    "Numerical argument out of domain",
    "Numerical result out of range",
    "Resource deadlock avoided",
    "File name too long",
    "No locks available",
    "Function not implemented",
    "Directory not empty",
    "Too many levels of symbolic links",
    "No message of desired type",
    "Identifier removed",
    "Channel number out of range",
    "Level 2 not synchronized",
    "Level 3 halted",
    "Level 3 reset",
    "Link number out of range",
    "Protocol driver not attached",
    "No CSI structure available",
    "Level 2 halted",
    "Invalid exchange",
    "Invalid request descriptor",
    "Exchange full",
    "No anode",
    "Invalid request code",
    "Invalid slot",
    "Bad font file format",
    "Device not a stream",
    "No data available",
    "Timer expired",
    "Out of streams resources",
    "Machine is not on the network",
    "Package not installed",
    "Object is remote",
    "Link has been severed",
    "Advertise error",
    "Srmount error",
    "Communication error on send",
    "Protocol error",
    "Multihop attempted",
    "RFS specific error",
    "Bad message",
    "Value too large for defined data type",
    "Name not unique on network",
    "File descriptor in bad state",
    "Remote address changed",
    "Can not access a needed shared library",
    "Accessing a corrupted shared library",
    ".lib section in a.out corrupted",
    "Attempting to link in too many shared libraries",
    "Cannot exec a shared library directly",
    "Invalid or incomplete multibyte or wide character",
    "Interrupted system call should be restarted",
    "Streams pipe error",
    "Too many users",
    "Socket operation on non-socket",
    "Destination address required",
    "Message too long",
    "Protocol wrong type for socket",
    "Protocol not available",
    "Protocol not supported",
    "Socket type not supported",
    "Operation not supported",
    "Protocol family not supported",
    "Address family not supported by protocol",
    "Address already in use",
    "Cannot assign requested address",
    "Network is down",
    "Network is unreachable",
    "Network dropped connection on reset",
    "Software caused connection abort",
    "Connection reset by peer",
    "No buffer space available",
    "Transport endpoint is already connected",
    "Transport endpoint is not connected",
    "Cannot send after transport endpoint shutdown",
    "Too many references: cannot splice",
    "Connection timed out",
    "Connection refused",
    "Host is down",
    "No route to host",
    "Operation already in progress",
    "Operation now in progress",
    "Stale file handle",
    "Structure needs cleaning",
    "Not a XENIX named type file",
    "No XENIX semaphores available",
    "Is a named type file",
    "Remote I/O error",
    "Disk quota exceeded",
    "No medium found",
    "Wrong medium type",
    "Operation canceled",
    "Required key not available",
    "Key has expired",
    "Key has been revoked",
    "Key was rejected by service",
    "Owner died",
    "State not recoverable",
    "Operation not possible due to RF-kill",
    "Memory page has hardware error",
    "Operation timed out",
    "Host is unreachable",
    "I/O error",
    "Out of memory",
};

bool IsErrnoText(absl::string_view s) {
  for (absl::string_view e : kErrnoTexts) {
    if (s == e) return true;
  }
  return false;
}

// Texts of Cyrus companion lines ("SASL authentication failure|problem: T").
// `connect` marks the ones that mean the backend could not be reached.
struct CompanionRule {
  Match match;
  absl::string_view text;
  FailureReason reason;
  bool connect;
};

constexpr CompanionRule kCompanionRules[] = {
    {Match::kExact, "Password verification failed", R::kBadCredentials, false},
    {Match::kExact, "login incorrect", R::kBadCredentials, false},
    {Match::kPrefix, "Password verification failed", R::kBadCredentials, false},
    {Match::kExact, "user not found", R::kUnknownAccount, false},
    {Match::kPrefix, "no secret in database", R::kUnknownAccount, false},
    {Match::kPrefix, "could not find password", R::kUnknownAccount, false},
    {Match::kPrefix, "no user in db", R::kUnknownAccount, false},
    {Match::kPrefix, "user exists, but no verifier for user", R::kUnknownAccount, false},
    {Match::kPrefix, "account disabled", R::kUnknownAccount, false},
    {Match::kPrefix, "passphrase expired", R::kUnknownAccount, false},
    {Match::kPrefix, "passphrase locked", R::kUnknownAccount, false},
    {Match::kPrefix, "authorization failure", R::kUnknownAccount, false},
    {Match::kPrefix, "cannot connect to saslauthd server", R::kBackendUnavailable, true},
    {Match::kPrefix, "cannot create socket for saslauthd", R::kBackendUnavailable, true},
    {Match::kPrefix, "cannot connect to pwcheck server", R::kBackendUnavailable, true},
    {Match::kPrefix, "cannot connect to Courier authdaemond", R::kBackendUnavailable, true},
    {Match::kPrefix, "size read failed", R::kBackendUnavailable, false},
    {Match::kPrefix, "read failed", R::kBackendUnavailable, false},
    {Match::kPrefix, "write failed", R::kBackendUnavailable, false},
    {Match::kPrefix, "bad response from saslauthd", R::kBackendUnavailable, false},
    {Match::kPrefix, "could not perform password lookup", R::kBackendUnavailable, false},
    {Match::kPrefix, "unable to open Berkeley db", R::kBackendUnavailable, false},
    {Match::kPrefix, "could not find auxprop plugin", R::kBackendUnavailable, false},
    {Match::kPrefix, "internal mechanism failure", R::kBackendUnavailable, false},
    {Match::kPrefix, "encryption needed to use mechanism", R::kAuthUnavailable, false},
    {Match::kPrefix, "mechanism too weak for this user", R::kAuthUnavailable, false},
    {Match::kPrefix, "Couldn't find mech", R::kMechanismUnsupported, false},
};

bool Matches(Match m, absl::string_view text, absl::string_view pattern) {
  return m == Match::kExact ? text == pattern : absl::StartsWith(text, pattern);
}

// The stale LOGIN challenge ("UGFzc3dvcmQ6" = "Password:") shows up as a
// base64-only reason; so can other challenges. ^[A-Za-z0-9+/]+={0,2}$
bool IsBase64Only(absl::string_view s) {
  size_t n = s.size();
  size_t pad = 0;
  while (pad < 2 && n > 0 && s[n - 1] == '=') {
    --n;
    ++pad;
  }
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (!absl::ascii_isalnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

}  // namespace

FailureReason ClassifyFailedReason(absl::string_view reason) {
  reason = absl::StripAsciiWhitespace(reason);
  if (reason.empty() || reason == "(reason unavailable)") return R::kUnspecified;
  for (const Rule& rule : kFailedRules) {
    if (Matches(rule.match, reason, rule.text)) return rule.reason;
  }
  if (IsErrnoText(reason)) return R::kBackendUnavailable;
  if (IsBase64Only(reason)) return R::kBadCredentials;
  return R::kOther;
}

FailureReason ClassifyCompanionText(absl::string_view text, bool* backend_connect_error) {
  *backend_connect_error = false;
  text = absl::StripAsciiWhitespace(text);
  // "user: U@R property: P not found in sasldb" (sasldb has no such user).
  if (absl::StartsWith(text, "user: ") && absl::EndsWith(text, "not found in sasldb")) {
    return R::kUnknownAccount;
  }
  for (const CompanionRule& rule : kCompanionRules) {
    if (Matches(rule.match, text, rule.text)) {
      *backend_connect_error = rule.connect;
      return rule.reason;
    }
  }
  return R::kOther;
}

}  // namespace pse
