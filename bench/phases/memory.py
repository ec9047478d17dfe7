"""Memory under adversarial input (--once): 1 million distinct client
addresses and user names, and sessions that never end; peak RSS, session
table size and evictions, checked exactly."""

import os

import promcheck
from phases.corpora import corpus, warm
from phases.proc import exporter_env, run_measured
from phases.scrape import value

DEFAULT_MAX_TRACKED = 16384  # --sessions.max_tracked default (docs/configuration.md)


def memory_case(exe, results, work, title, profile, lines, extra_check):
    path, exp = corpus(results, profile, lines)
    warm(path)
    out = os.path.join(work, "mem-%s-%d.prom" % (profile, lines))
    r = run_measured([exe, "--once", "--postfix.logfile_path=" + path,
                      "--postfix.syslog_year=%d" % exp["syslog_year"]], out, env=exporter_env())
    with open(out) as f:
        samples = promcheck.parse_text(f.read())
    diffs = promcheck.compare(exp, samples) + extra_check(exp, samples)
    return {"title": title, "profile": profile, "lines": exp["lines"],
            "peak_rss_bytes": r["peak_rss_bytes"], "cpu_s": r["cpu_s"], "wall_s": r["wall_s"],
            "sessions_tracked": value(samples, "postfix_exporter_sessions_tracked"),
            "evictions_capacity": value(samples, "postfix_exporter_session_evictions_total",
                                        reason="capacity"),
            "evictions_idle": value(samples, "postfix_exporter_session_evictions_total",
                                    reason="idle_timeout"),
            "series": len(samples),
            "check": {"ok": not diffs, "diffs": diffs[:50]}}


def open_sessions_check(exp, samples):
    n = exp["stats"]["open_sessions"]
    held = min(n, DEFAULT_MAX_TRACKED)
    diffs = []
    for name, want in (("postfix_exporter_sessions_tracked", held),
                       ("postfix_smtpd_sessions", held)):
        got = value(samples, name)
        if got != want:
            diffs.append("%s: expected %d, got %g" % (name, want, got))
    got = value(samples, "postfix_exporter_session_evictions_total", reason="capacity")
    if got != n - held:
        diffs.append("evictions{capacity}: expected %d, got %g" % (n - held, got))
    return diffs


def no_extra(exp, samples):
    return []
