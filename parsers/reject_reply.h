// ClassifyRejectReply: the bounded category of an smtpd reject's reply text.
//
// smtpd logs a reject as "QUEUEID|NOQUEUE: reject: CMD from H[A]: REPLY;
// from=<..> to=<..> proto=.. helo=<..>", where REPLY is "CODE X.Y.Z TEXT".
// TEXT is Postfix's (smtpd_check.c) or the operator's (access maps, rbl
// reply templates), but it quotes what the client chose: the HELO name, the
// sender or recipient address, all printable text that may hold anything,
// including Postfix's own phrases. The category is read only where Postfix
// put its fixed words:
//  - a reply that does not start with '<' starts with Postfix's words
//    ("Service unavailable; ... blocked using" = rbl, "Client host rejected:"
//    = client, "Message size exceeds" = size, "Session encryption is
//    required" = tls), or the DSN says so (X.3.4 = size);
//  - a reply "<OBJECT>: CLASS rejected: DETAIL" or "<OBJECT>: Relay access
//    denied" always carries one such phrase after a '>: ', but the OBJECT is
//    the client's and may contain '>: ' and a phrase of its own, and so may
//    the from=<> to=<> helo=<> fields after the reply. A phrase counts only
//    when Postfix's trailer (";" then the end, " from=<", " to=<",
//    " proto=", " helo=<" or " sasl_method=") follows it -- at once for
//    "Relay access denied", which has no DETAIL -- so a phrase in the HELO
//    name at the end of the line is not one. Every '>: ' is tried; when the
//    phrases that count name different categories, the line is ambiguous
//    (both readings are lines Postfix could write) and counts as "other".
//    Postfix's own phrase always counts, so a client can at most turn its
//    own reject into "other", never into another category.
// A policy service's verdict reads like an access map's ("<rcpt>: Recipient
// address rejected: TEXT"); it is "policy" when DETAIL starts with
// "Policy rejection", "Greylisted" (postgrey) or "Server configuration
// problem" (smtpd_policy_service_default_action's text).
//
// Pure and thread-safe. milter-reject lines are classified by their action
// (kMilter) by the caller, not here.
#ifndef PSE_PARSERS_REJECT_REPLY_H_
#define PSE_PARSERS_REJECT_REPLY_H_

#include "absl/strings/string_view.h"
#include "parsers/postfix_event.h"

namespace pse {

// `reply` is what follows "CODE " (the enhanced status code, if any, and
// the text up to the end of the line).
RejectCategory ClassifyRejectReply(absl::string_view reply);

}  // namespace pse

#endif  // PSE_PARSERS_REJECT_REPLY_H_
