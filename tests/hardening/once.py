"""What the hardening scripts share beyond tests/pylib/psetest.py: their
common arguments, and the exporter in --once mode under the maxrss helper,
which reports the most memory the exporter ever held (ru_maxrss of its own
process, so Python's pages do not count). No network, no daemons.
"""
import argparse
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import psetest  # noqa: E402
from psetest import check  # noqa: E402


def run_measured(args, log_path, *flags):
    """psetest.run_once on `log_path` (exit status 0 required) with
    --log.level=warn; the result's maxrss_mib is the peak RSS in MiB, or None
    when no maxrss helper was given (--sanitized)."""
    with tempfile.NamedTemporaryFile(mode="r") as rss:
        wrapper = [args.maxrss, rss.name] if args.maxrss else []
        res = psetest.run_once(args.binary, ["--postfix.logfile_path=" + log_path,
                                             "--log.level=warn", *flags],
                               wrapper=wrapper, timeout=600)
        res.maxrss_mib = int(rss.read().strip() or 0) / 1024.0 if args.maxrss else None
    return res


def check_rss(args, what, res):
    """The peak RSS is below --rss-limit-mib; only reported under --sanitized
    (ASan's shadow memory and quarantine make RSS meaningless there)."""
    if args.sanitized:
        print("info %s: peak RSS %s MiB (not checked in a sanitizer build)"
              % (what, "?" if res.maxrss_mib is None else "%.1f" % res.maxrss_mib))
        return
    check(res.maxrss_mib < args.rss_limit_mib, "%s: peak RSS %.1f MiB, limit %.0f MiB"
          % (what, res.maxrss_mib, args.rss_limit_mib))
    print("ok   %s: peak RSS %.1f MiB < %.0f MiB" % (what, res.maxrss_mib, args.rss_limit_mib))


def base_args(description=None):
    """The arguments every hardening script takes: the binary, --sanitized
    (counts only: no RSS checks under ASan) and the maxrss helper."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("binary")
    ap.add_argument("--sanitized", action="store_true")
    ap.add_argument("--maxrss", help="the maxrss helper (tests/hardening/maxrss.cc); required "
                                     "unless --sanitized")
    ap.add_argument("--rss-limit-mib", type=float, default=64)
    return ap


def parse_args(ap):
    args = ap.parse_args()
    if not args.sanitized and not args.maxrss:
        ap.error("--maxrss TOOL is required to check memory (or pass --sanitized)")
    args.binary = os.path.abspath(args.binary)
    return args
