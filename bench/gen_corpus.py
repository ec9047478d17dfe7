#!/usr/bin/env python3
"""Writes a realistic, deterministic Postfix mail log and the exact metric values it implies.

The log is what one host running an MX (port 25 behind postscreen) and a
submission server (587 with STARTTLS, 465 implicit TLS) writes to
/var/log/mail.log: mostly delivery noise (postscreen, qmgr, cleanup, smtp,
lmtp, local, anvil, opendkim) and Dovecot lines, with authenticated
submissions, brute-force SASL failures of every reason, Relay access denied
probes, other rejects, port scans, lost connections, killed smtpd processes,
smtpd processes serving several sessions in turn (pid reuse) and many
sessions open at once on all three services.

The log is cut into segments of --segment-lines lines. Each segment has a
Postfix version (<= 3.8 failure lines, or >= 3.9 with ", sasl_username=" and
3.10 "NOQUEUE: lost connection" lines) and a SASL backend (Cyrus/saslauthd
with its companion lines, or Dovecot), so every combination appears. With
--timestamps mixed the segments alternate between BSD and RFC 3339 stamps.

The expected values are derived from the generator's own model of what it
wrote (not by running any exporter). For postfix_sasl_exporter they cover
every series of the checked families (a series not listed must be 0 or
absent); for kumina's postfix_exporter and mtail's postfix.mtail they are
the few counters those tools can get right on this log (kumina reads only
"postfix/smtpd[...]" lines; mtail's example parses only BSD timestamps).

Usage: gen_corpus.py --seed 1 --lines 2000000 --out corpus.log --expected corpus.json
       gen_corpus.py --profile distinct-failures --lines 3000000 ...   (adversarial)
       gen_corpus.py --profile open-sessions --lines 100000 ...        (adversarial)

Python 3 standard library only. The same arguments always give the same bytes.
Exporter contract: BSD stamps are local time; run the exporter with TZ=UTC and
--postfix.syslog_year=<"syslog_year" from the JSON>.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpusgen.expected import expected_json  # noqa: E402
from corpusgen.noise import NoiseMixin  # noqa: E402
from corpusgen.profiles import ProfilesMixin  # noqa: E402
from corpusgen.sasl import SaslMixin  # noqa: E402
from corpusgen.sessions import SessionsMixin  # noqa: E402
from corpusgen.writer import Writer  # noqa: E402


class Gen(Writer, NoiseMixin, SessionsMixin, SaslMixin, ProfilesMixin):
    """The whole generator: Writer's state and primitives plus every scenario
    (corpusgen/noise, sessions, sasl) and the profiles' main loops."""


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lines", type=int, default=100000, help="lines to write (exact for 'mix')")
    p.add_argument("--out", required=True, help="log file to write")
    p.add_argument("--expected", required=True, help="JSON file with the expected values")
    p.add_argument("--timestamps", choices=("bsd", "rfc3339", "mixed"), default="bsd")
    p.add_argument("--segment-lines", type=int, default=250000,
                   help="lines per segment (Postfix version, SASL backend, stamp style)")
    p.add_argument("--profile", choices=("mix", "distinct-failures", "open-sessions"),
                   default="mix")
    args = p.parse_args(argv)
    if args.lines < 100 and args.profile == "mix":
        p.error("--lines must be at least 100 for the mix profile")
    gen = Gen(args)
    with open(args.out, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        if args.profile == "mix":
            written = gen.run_mix(out)
        elif args.profile == "distinct-failures":
            written = gen.run_distinct_failures(out)
        else:
            written = gen.run_open_sessions(out)
    doc = expected_json(gen, args, written)
    with open(args.expected, "w", encoding="utf-8") as f:
        # One series per line: readable, and diffs of two corpora stay small.
        series = doc["ours"].pop("series")
        text = json.dumps(doc, indent=1)
        rows = ",\n".join("   " + json.dumps(x) for x in series)
        text = text.replace('"ours": {', '"ours": {\n  "series": [\n%s\n  ],' % rows, 1)
        json.loads(text)  # must still be valid JSON
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
