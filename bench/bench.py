#!/usr/bin/env python3
"""The end-to-end benchmark behind bench/run.sh. Python 3 standard library only.

Parts (each prints its table; all tables go to bench/results/latest.md and
every number to bench/results/latest.json):

  replay    --once over a generated corpus (default 2,000,000 lines): wall time,
            CPU time (user+sys), peak RSS, lines per wall and per CPU second;
            the output is checked against the generator's expected values.
            Then the same corpus through the tools users would pick instead,
            in the same run: Debian's prometheus-postfix-exporter (kumina's Go
            exporter; it only follows new lines, so the corpus is appended to
            a file it follows and its /metrics polled until its counters reach
            the corpus counts) and mtail --one_shot with Debian's example
            postfix.mtail. Our exporter is also measured the Go exporter's way
            (follow an empty file, append, poll), so both modes have a peer.
  live      a followed file gets lines appended at fixed rates while a client
            scrapes 10 times a second: CPU per line, write-to-visible delay of
            marker lines, scrape latency percentiles.
  memory    adversarial inputs: 1 million distinct client addresses and user
            names in failure lines; 100k and 1M sessions that never end.
  micro     bench/parser_bench (Google Benchmark) per line family.
  statefile lines per CPU second following a file at a fixed rate while
            scraped 10 times a second, without and with --state.file.
  crash     a steady stream; the exporter is killed (SIGKILL, then SIGTERM)
            and restarted with --state.file several times; lines lost and
            counted twice, from the final counters against the corpus.
  attack    scrape latency while thousands of silent and trickling
            connections are held on the exporter's port, and without them.
  receiver  the exporter as a syslog server (unixgram, tcp, udp) fed by the
            compiled bench/syslog_sender: messages per exporter CPU-second at
            a steady 50,000 messages/s for 30 s, drops, and the peak rate
            before drops appear (the rate doubled each step).

The default is the first four; --parts all runs every part. Each part lives
in bench/phases/ (one module per job); the corpus generator is gen_corpus.py.

Numbers are from whatever machine runs this; the ratios are measured in the
same run. Benchmarks are not tests: nothing here fails the test suite.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from phases.attack import attack_part  # noqa: E402
from phases.corpora import corpus, load_lines, warm  # noqa: E402
from phases.crash import crash_part  # noqa: E402
from phases.live import live_phase  # noqa: E402
from phases.memory import memory_case, no_extra, open_sessions_check  # noqa: E402
from phases.others import KUMINA, kumina_follow, mtail_once  # noqa: E402
from phases.proc import log, machine_info, pkg_version  # noqa: E402
from phases.replay import ours_follow, ours_once  # noqa: E402
from phases.report import report  # noqa: E402
from phases.receiver import receiver_part  # noqa: E402
from phases.statefile import statefile_part  # noqa: E402

DEFAULT_PARTS = "replay,live,memory,micro"
ALL_PARTS = DEFAULT_PARTS + ",statefile,crash,attack,receiver"


def main(argv):
    ap = argparse.ArgumentParser(description="postfix_sasl_exporter benchmark")
    ap.add_argument("--exe", default=os.path.join(ROOT, "build-bench", "postfix_sasl_exporter"))
    ap.add_argument("--micro", default=os.path.join(ROOT, "build-bench", "parser_bench"),
                    help="parser_bench binary ('' to skip)")
    ap.add_argument("--sender", default=os.path.join(ROOT, "build-bench", "syslog_sender"),
                    help="bench/syslog_sender binary (receiver)")
    ap.add_argument("--floor", default=os.path.join(ROOT, "build-bench", "syslog_floor"),
                    help="bench/syslog_floor binary, the bare receiver the exporter is compared "
                         "with (receiver); missing: no comparison")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--lines", type=int, default=2000000)
    ap.add_argument("--reps", type=int, default=3, help="--once repetitions (median reported)")
    ap.add_argument("--parts", "--phases", dest="parts", default="all",
                    help="comma-separated, from: %s; or all (the default)" % ALL_PARTS)
    ap.add_argument("--rates", default="50000,200000")
    ap.add_argument("--live-seconds", type=float, default=10.0)
    ap.add_argument("--statefile-rate", type=int, default=100000, help="lines/s (statefile)")
    ap.add_argument("--statefile-scrapes", type=float, default=10,
                    help="scrapes per second (statefile); each one saves the state first")
    ap.add_argument("--statefile-seconds", type=float, default=10.0)
    ap.add_argument("--statefile-reps", type=int, default=3,
                    help="runs of each variant, alternating (median reported)")
    ap.add_argument("--crash-rate", type=int, default=20000, help="lines/s (crash)")
    ap.add_argument("--crash-seconds", type=int, default=20)
    ap.add_argument("--crash-kills", type=int, default=10, help="kills per signal (crash)")
    ap.add_argument("--attack-silent", type=int, default=2000)
    ap.add_argument("--attack-trickle", type=int, default=200)
    ap.add_argument("--attack-scrapes", type=int, default=50,
                    help="scrapes per condition and connection kind (attack)")
    ap.add_argument("--receiver-rate", type=int, default=50000, help="messages/s (receiver)")
    ap.add_argument("--receiver-seconds", type=float, default=30.0)
    ap.add_argument("--receiver-step-seconds", type=float, default=5.0,
                    help="length of each step of the peak search (receiver)")
    ap.add_argument("--receiver-transports", default="unixgram,tcp,udp")
    ap.add_argument("--receiver-tick-us", type=int, default=1000,
                    help="the sender sends what is due every this many us (receiver); smaller "
                         "is closer to many independent senders")
    ap.add_argument("--receiver-unix-qlen", type=int, default=0,
                    help="net.unix.max_dgram_qlen during the receiver part (root; restored "
                    "after); 0 keeps the machine's. systemd hosts have 512, the kernel's "
                    "default is 10")
    ap.add_argument("--receiver-exporter-args", default="",
                    help="extra exporter flags, space-separated (receiver), e.g. "
                         "--syslog.batch-delay=0s")
    args = ap.parse_args(argv)
    parts = set(ALL_PARTS.split(",") if args.parts == "all" else args.parts.split(","))
    unknown = parts - set(ALL_PARTS.split(","))
    if unknown:
        ap.error("unknown part(s): %s" % ",".join(sorted(unknown)))
    os.makedirs(args.results, exist_ok=True)
    exe = os.path.abspath(args.exe)
    if not os.access(exe, os.X_OK):
        raise SystemExit("no exporter binary at %s (bench/run.sh builds it)" % exe)
    work = tempfile.mkdtemp(prefix="pse-bench-")
    res = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_info(),
           "versions": {"ours": subprocess.run([exe, "--version"], capture_output=True,
                                               text=True).stdout.strip().split(" ", 1)[-1],
                        "kumina": pkg_version(KUMINA), "mtail": pkg_version("mtail")}}
    try:
        if "replay" in parts:
            path, exp = corpus(args.results, "mix", args.lines)
            warm(path)
            rp = res["replay"] = {}
            log("replay: ours --once x%d ..." % args.reps)
            rp["ours_once"], _ = ours_once(exe, path, exp, work, args.reps)
            log("  %.2f s CPU, check %s" % (rp["ours_once"]["cpu_s"], rp["ours_once"]["check"]["ok"]))
            mpath, mexp = corpus(args.results, "mix", args.lines, seed=2, timestamps="mixed")
            warm(mpath)
            log("replay: ours --once, mixed stamps ...")
            rp["ours_once_mixed"], _ = ours_once(exe, mpath, mexp, work, 1)
            log("replay: ours follow ...")
            rp["ours_follow"] = ours_follow(exe, path, exp, work)
            if shutil.which(KUMINA):
                log("replay: %s follow ..." % KUMINA)
                try:
                    rp["kumina"] = kumina_follow(path, exp, work)
                except (SystemExit, AssertionError) as e:  # AssertionError: unparsable output
                    rp["kumina"] = {"error": str(e)}
            else:
                log("  %s not installed (bench/install-deps.sh); skipped" % KUMINA)
            if shutil.which("mtail"):
                log("replay: mtail --one_shot ...")
                try:
                    rp["mtail"] = mtail_once(path, exp, work)
                except (SystemExit, AssertionError) as e:  # AssertionError: unparsable output
                    rp["mtail"] = {"error": str(e)}
            else:
                log("  mtail not installed (bench/install-deps.sh); skipped")
        if "live" in parts:
            path, exp = corpus(args.results, "mix", args.lines)
            rates = [int(x) for x in args.rates.split(",")]
            need = int(max(rates) * args.live_seconds)
            data, offs = load_lines(path, need)
            res["live"] = []
            for rate in rates:
                log("live: %d lines/s for %.0f s ..." % (rate, args.live_seconds))
                whole = int(rate * args.live_seconds) >= exp["lines"]
                res["live"].append(live_phase(exe, data, offs, exp, rate, args.live_seconds, work,
                                              check=whole))
            del data, offs
        if "memory" in parts:
            res["memory"] = []
            log("memory: baseline, distinct failures, open sessions ...")
            res["memory"].append(memory_case(exe, args.results, work, "mix corpus, 10k lines "
                                             "(baseline)", "mix", 10000, no_extra))
            res["memory"].append(memory_case(exe, args.results, work, "1 M failures, each a "
                                             "new client address and user name",
                                             "distinct-failures", 3000000, no_extra))
            res["memory"].append(memory_case(exe, args.results, work, "100 k sessions never "
                                             "closed", "open-sessions", 100000,
                                             open_sessions_check))
            res["memory"].append(memory_case(exe, args.results, work, "1 M sessions never "
                                             "closed", "open-sessions", 1000000,
                                             open_sessions_check))
        if "micro" in parts and args.micro and os.access(args.micro, os.X_OK):
            log("micro: parser_bench ...")
            p = subprocess.run([args.micro, "--benchmark_format=json",
                                "--benchmark_min_time=0.2"], capture_output=True, text=True)
            if p.returncode == 0:
                doc = json.loads(p.stdout)
                res["micro"] = [{"name": b["name"], "cpu_ns": b["cpu_time"]}
                                for b in doc["benchmarks"] if b.get("time_unit") == "ns"]
        if "statefile" in parts:
            path, exp = corpus(args.results, "mix", args.lines)
            data, offs = load_lines(path, int(args.statefile_rate * args.statefile_seconds))
            res["statefile"] = statefile_part(exe, data, offs, exp, args.statefile_rate,
                                              args.statefile_seconds, args.statefile_reps, work,
                                              args.statefile_scrapes)
            del data, offs
        if "crash" in parts:
            # A corpus of exactly the lines streamed: its expected values are exact.
            path, exp = corpus(args.results, "mix", args.crash_rate * args.crash_seconds)
            data, offs = load_lines(path, exp["lines"])
            res["crash"] = crash_part(exe, data, offs, exp, args.crash_rate, args.crash_kills,
                                      work)
            del data, offs
        if "attack" in parts:
            path, exp = corpus(args.results, "mix", 10000)
            res["attack"] = attack_part(exe, path, exp, args.attack_silent, args.attack_trickle,
                                        args.attack_scrapes, work)
        if "receiver" in parts:
            path, exp = corpus(args.results, "mix", 200000)
            res["receiver"] = receiver_part(exe, os.path.abspath(args.sender), path,
                                            exp["syslog_year"], work, args.receiver_rate,
                                            args.receiver_seconds, args.receiver_step_seconds,
                                            transports=args.receiver_transports.split(","),
                                            tick_us=args.receiver_tick_us,
                                            extra_args=args.receiver_exporter_args.split(),
                                            unix_qlen=args.receiver_unix_qlen,
                                            floor=os.path.abspath(args.floor)
                                            if os.access(args.floor, os.X_OK) else None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res["machine"]["loadavg_at_end"] = os.getloadavg()
    text = report(res)
    with open(os.path.join(args.results, "latest.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(args.results, "latest.md"), "w") as f:
        f.write(text)
    print(text)
    checked = (list(res.get("replay", {}).values()) + res.get("live", []) + res.get("memory", [])
               + [res.get("statefile", {}).get(k) for k in ("without", "with")]
               + res.get("crash", []))
    ok = all(r.get("check", {}).get("ok", True) for r in checked
             if isinstance(r, dict) and "error" not in r)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
