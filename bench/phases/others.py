"""The tools users would pick instead, on the same corpus: Debian's
prometheus-postfix-exporter (kumina's Go exporter; follow mode only) and
mtail --one_shot with Debian's example postfix.mtail. Each is checked only on
the counters it can get right on this log (gen_corpus.py's "kumina" and
"mtail" sections)."""

import gzip
import os

import promcheck
from phases.proc import run_measured
from phases.replay import follow_replay
from phases.scrape import value

MTAIL_EXAMPLE = "/usr/share/doc/mtail/examples/postfix.mtail"
KUMINA = "prometheus-postfix-exporter"


def kumina_follow(path, exp, work):
    want = exp["kumina"]
    res, samples = follow_replay(
        "kumina",
        lambda lp, port: [KUMINA, "--postfix.logfile_path=" + lp,
                          "--web.listen-address=127.0.0.1:%d" % port,
                          "--postfix.showq_path=" + os.path.join(work, "no-showq")],
        path,
        lambda s: all(value(s, k) >= v for k, v in want.items()),
        work, poll_s=0.1)
    diffs = promcheck.compare_flat(want, samples)
    res["lines"] = exp["lines"]
    res["check"] = {"ok": not diffs, "what": want, "diffs": diffs,
                    "note": "reads only postfix/smtpd[...] lines: submission/smtps and every "
                            "SASL line of this corpus are invisible to it"}
    return res


def mtail_once(path, exp, work):
    progs = os.path.join(work, "mtail-progs")
    os.makedirs(progs, exist_ok=True)
    src = MTAIL_EXAMPLE if os.path.exists(MTAIL_EXAMPLE) else MTAIL_EXAMPLE + ".gz"
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f, open(os.path.join(progs, "postfix.mtail"), "wb") as g:
        g.write(f.read())
    out = os.path.join(work, "mtail.prom")
    r = run_measured(["mtail", "--one_shot", "--one_shot_format=prometheus", "--progs", progs,
                      "--logs", path, "--logtostderr", "--stderrthreshold=ERROR"], out)
    if r["exit"] != 0:
        raise SystemExit("mtail failed (exit %d); see %s.stderr" % (r["exit"], out))
    with open(out) as f:
        samples = promcheck.parse_text(f.read())
    r["lines"] = exp["lines"]
    want = exp.get("mtail")
    diffs = promcheck.compare_flat(want, samples) if want else ["no expected values (not BSD)"]
    r["check"] = {"ok": not diffs, "what": want, "diffs": diffs,
                  "note": "counts connects/disconnects/SASL failures without service, method "
                          "or reason; messages_processed is labelled by sasl_username "
                          "(unbounded)"}
    r["series_out"] = len(samples)
    return r
