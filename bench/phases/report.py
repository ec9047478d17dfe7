"""The Markdown report of every part's results (bench/results/latest.md and
stdout): one table per part, ratios to the other tools and the targets."""

from phases.proc import MIB
from phases.receiver import kept_pace


def fmt_int(n):
    return "{:,}".format(int(round(n)))


def fmt_rate(x):
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e3:
        return "%.0f k" % (x / 1e3)
    return "%.0f" % x


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def report(res):
    m = res["machine"]
    parts = []
    parts.append("Machine: %s, %d CPUs (%s), %.1f GiB RAM, Linux %s; load average at start "
                 "%.2f. Run %s." % (m["os"], m["nproc"], m["cpu"], m["mem_gib"], m["kernel"],
                                    m["loadavg_at_start"][0], res["when"]))
    rp = res.get("replay")
    if rp:
        rows = []
        for key, tool, mode in (
                ("ours_once", "postfix_sasl_exporter %s" % res["versions"]["ours"], "--once"),
                ("ours_once_mixed", "postfix_sasl_exporter", "--once, BSD + RFC 3339 segments"),
                ("ours_follow", "postfix_sasl_exporter", "follow: append, poll /metrics"),
                ("kumina", "prometheus-postfix-exporter %s" % res["versions"].get("kumina"),
                 "follow: append, poll /metrics"),
                ("mtail", "mtail %s + postfix.mtail" % res["versions"].get("mtail"),
                 "--one_shot")):
            r = rp.get(key)
            if not r:
                continue
            if "error" in r:
                rows.append([tool, mode, "", "", "", "", "", "", "error: " + r["error"]])
                continue
            ck = r["check"]
            if key.startswith("ours"):
                verdict = ("exact (%d series)" % ck["series"] if ck["ok"] and "series" in ck
                           else "exact" if ck["ok"] else "**WRONG**: %d diffs" % len(ck["diffs"]))
            else:
                verdict = ("reached %s" % ", ".join("%s=%s" % (k.replace("postfix_smtpd_", ""),
                                                               fmt_int(v))
                                                    for k, v in ck["what"].items())
                           if ck["ok"] else "differs: " + "; ".join(ck["diffs"][:3]))
            rows.append([tool, mode, fmt_int(r["lines"]), "%.2f" % r["wall_s"], "%.2f" % r["cpu_s"],
                         fmt_rate(r["lines"] / r["wall_s"]),
                         fmt_rate(r["lines"] / r["cpu_s"]) if r["cpu_s"] > 0 else "n/a",
                         "%.1f" % (r["peak_rss_bytes"] / MIB), verdict])
        parts.append("### Replay: %s lines\n\n%s" % (
            fmt_int(rp["ours_once"]["lines"]),
            md_table(["tool", "mode", "lines", "wall s", "CPU s", "lines/wall s", "lines/CPU s",
                      "peak RSS MiB", "counts"], rows)))
        o = rp["ours_once"]
        ratio_rows = []
        for key, label, ours_key in (("kumina", "prometheus-postfix-exporter (both follow)",
                                      "ours_follow"),
                                     ("kumina", "prometheus-postfix-exporter (ours --once)",
                                      "ours_once"),
                                     ("mtail", "mtail --one_shot (ours --once)", "ours_once")):
            t = rp.get(key)
            ours = rp.get(ours_key)
            if not t or "error" in t or not ours:
                continue
            ratio_rows.append([label, "%.1f×" % (t["cpu_s"] / ours["cpu_s"]),
                               "%.1f×" % (t["wall_s"] / ours["wall_s"]),
                               "%.1f×" % (t["peak_rss_bytes"] / ours["peak_rss_bytes"])])
        if ratio_rows:
            parts.append("Ours compared with (how many times more the other tool needs):\n\n" +
                         md_table(["other tool", "CPU time", "wall time", "peak RSS"],
                                  ratio_rows))
        lps = o["lines"] / o["cpu_s"]
        target = ("Targets: >= 3 M lines per CPU second: **%s** (%s); peak RSS <= 16 MiB: "
                  "**%s** (%.1f MiB)" % ("met" if lps >= 3e6 else "NOT met", fmt_rate(lps),
                                         "met" if o["peak_rss_bytes"] <= 16 * MIB
                                         else "NOT met", o["peak_rss_bytes"] / MIB))
        k = rp.get("kumina")
        if k and "error" not in k and o["cpu_s"] > 0:
            x = k["cpu_s"] / o["cpu_s"]
            target += "; >= 20× less CPU than kumina's: **%s** (%.1f×)" % (
                "met" if x >= 20 else "NOT met", x)
        parts.append(target + ".")
    lv = res.get("live")
    if lv:
        rows = []
        for r in lv:
            rows.append([fmt_rate(r["rate_target"]) + "/s", fmt_int(r["lines"]),
                         fmt_rate(r["rate_achieved"]) + "/s",
                         "%.2f (%.2f)" % (r["cpu_us_per_line"], r["cpu_us_per_line_net_of_scrapes"]),
                         "%.1f / %.1f" % (r["delay_p50_ms"], r["delay_p99_ms"]),
                         "%.2f / %.2f" % (r["scrape_p50_ms"], r["scrape_p99_ms"]),
                         "%d + %d" % (r["scrapes"], r["marker_polls"]),
                         "%.1f" % (r["peak_rss_bytes"] / MIB),
                         ("exact" if r["check"]["ok"] else "**WRONG**") if "check" in r else
                         "%s / %s lines" % (fmt_int(r["counted"]), fmt_int(r["lines"] + r["marker_lines"]))])
        parts.append("### Live follow (appending while scraping 10×/s)\n\n" + md_table(
            ["rate", "lines", "achieved", "CPU µs/line (net of scrapes)",
             "write→visible p50 / p99 ms",
             "scrape p50 / p99 ms", "scrapes + marker polls", "peak RSS MiB", "counts"], rows))
        worst_delay = max(r["delay_p99_ms"] for r in lv)
        worst_scrape = max(r["scrape_p99_ms"] for r in lv)
        parts.append("Targets: write→visible < 1 s: **%s** (worst p99 %.1f ms); scrape p99 < "
                     "5 ms: **%s** (worst %.2f ms). An idle scrape costs %.2f ms of CPU "
                     "(p50 latency %.2f ms)." % (
                         "met" if worst_delay < 1000 else "NOT met", worst_delay,
                         "met" if worst_scrape < 5 else "NOT met", worst_scrape,
                         lv[0]["idle_cpu_ms_per_scrape"], lv[0]["idle_scrape_p50_ms"]))
    mm = res.get("memory")
    if mm:
        rows = []
        for r in mm:
            rows.append([r["title"], fmt_int(r["lines"]), "%.1f" % (r["peak_rss_bytes"] / MIB),
                         "%.2f" % r["cpu_s"], fmt_int(r["sessions_tracked"]),
                         "%s / %s" % (fmt_int(r["evictions_capacity"]),
                                      fmt_int(r["evictions_idle"])),
                         fmt_int(r["series"]),
                         "exact" if r["check"]["ok"] else "**WRONG**: " + "; ".join(
                             r["check"]["diffs"][:3])])
        parts.append("### Memory under adversarial input (--once, default --sessions.max_tracked "
                     "16384)\n\n" + md_table(
                         ["input", "lines", "peak RSS MiB", "CPU s", "sessions_tracked",
                          "evictions capacity / idle", "series out", "counts"], rows))
    mb = res.get("micro")
    if mb:
        rows = [[b["name"], "%.1f" % b["cpu_ns"], fmt_rate(1e9 / b["cpu_ns"])] for b in mb]
        parts.append("### Micro-benchmarks (bench/parser_bench, CPU ns per line)\n\n" +
                     md_table(["benchmark", "ns/line", "lines/s"], rows))
    for key, fn in (("statefile", _statefile), ("crash", _crash), ("attack", _attack),
                    ("receiver", _receiver)):
        if res.get(key):
            parts.append(fn(res[key]))
    return "\n\n".join(parts) + "\n"


def _verdict(ck):
    return "exact" if ck["ok"] else "**WRONG**: " + "; ".join(ck["diffs"][:3])


def _statefile(sf):
    rows = []
    for key, label in (("without", "without --state.file"), ("with", "with --state.file"),
                       ("every_scrape", "with it, every scrape saving (min_save_interval=0s)")):
        if key not in sf:
            continue
        r = sf[key]
        rows.append([label, fmt_int(r["lines"]), fmt_rate(r["lines_per_cpu_s"]),
                     "%.3f" % r["cpu_us_per_line"],
                     "%.2f / %.2f" % (r["scrape_p50_ms"], r["scrape_p99_ms"]),
                     "%d (%d failed)" % (r["scrapes"], r["scrape_errors"]),
                     "%.1f" % (r["peak_rss_bytes"] / MIB),
                     fmt_int(r["state_file_bytes"]) if r["state_file"] else "",
                     _verdict(r["check"])])
    w = sf["without"]
    text = ("### State file cost (%s lines/s appended for %.0f s, scraped 10×/s; median of %d "
            "runs each)\n\n" % (fmt_rate(w["rate_target"]), w["lines"] / w["rate_target"],
                                 len(w["runs"])) +
            md_table(["variant", "lines", "lines/CPU s", "CPU µs/line",
                      "scrape p50 / p99 ms", "scrapes", "peak RSS MiB", "state file bytes",
                      "counts"], rows))
    for key, label in (("delta", "with"), ("delta_every_scrape", "every scrape saving")):
        if key in sf:
            d = sf[key]
            text += ("\n\nDifference (%s − without): %+.3f µs CPU per line (%+.0f %% CPU), "
                     "scrape p50 %+.2f ms, p99 %+.2f ms." % (label, d["cpu_us_per_line"],
                                                             d["cpu_pct"], d["scrape_p50_ms"],
                                                             d["scrape_p99_ms"]))
    return text


def _crash(cr):
    rows = []
    for r in cr:
        rows.append(["%d × %s" % (r["kills"], r["signal"]), fmt_int(r["lines"]),
                     fmt_rate(r["rate_target"]) + "/s", fmt_int(r["lines_lost"]),
                     fmt_int(r["lines_double_counted"]),
                     "%d of %d" % (r["series_differing"], r["check"]["series"]),
                     "%.0f / %.0f" % (r["restart_to_http_p50_ms"], r["restart_to_http_max_ms"]),
                     "%d (%d failed)" % (r["scrapes"], r["scrape_errors"]),
                     fmt_int(r["scrapes_went_backwards"])])
    return ("### Crashes with --state.file (killed and restarted during a steady stream)\n\n" +
            md_table(["signals", "lines", "rate", "lines lost", "lines counted twice",
                      "series differing", "signal → answering p50 / max ms", "scrapes",
                      "scrapes where lines_total went back"], rows))


def _attack(at):
    rows = []
    for cond, label in (("baseline", "no attack"),
                        ("attack", "%s silent + %s trickling connections"
                         % (fmt_int(at["silent"]), fmt_int(at["trickle"])))):
        m = at.get(cond)
        if not m:
            continue
        for kind, klabel in (("fresh", "new connection each"), ("keep_alive", "kept alive")):
            k = m[kind]
            rows.append([label, klabel, "%.2f / %.2f / %.2f" % (k["p50_ms"], k["p99_ms"],
                                                                k["max_ms"]),
                         "%d (%d failed)" % (k["scrapes"], k["errors"]),
                         "%.0f %%" % m["exporter_cpu_pct"]])
    a = at.get("attacker", {})
    return ("### Scrape latency under a connection attack (loopback, %d scrapes/s)\n\n"
            % at["per_s"] +
            md_table(["condition", "scrape connection", "latency p50 / p99 / max ms",
                      "scrapes", "exporter CPU"], rows) +
            "\n\nAttacker over %.0f s, trying to hold %s connections: held %.0f on average (min %d), "
            "opened %s, closed by the exporter %s, each reopened after %.0f s; %s header bytes "
            "trickled. Exporter still running: %s." % (
                a.get("seconds", 0), fmt_int(at["silent"] + at["trickle"]),
                a.get("held_mean", 0), a.get("held_min", 0),
                fmt_int(a.get("opened", 0)), fmt_int(a.get("closed_by_exporter", 0)),
                at["reopen_after_s"], fmt_int(a.get("trickled_bytes", 0)),
                "yes" if at.get("exporter_alive") else "**no**"))


def _receiver(rc):
    rows = ["| transport | offered msgs/s | received | drops | exporter CPU s | msgs per "
            "exporter CPU-s | bare receiver: msgs per CPU-s | sender CPU s | "
            "peak msgs/s without drops |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rc["steady"]:
        p = rc["peak"].get(r["transport"], {})
        peak = "%d" % p.get("peak_rate_without_drops", 0)
        if p.get("sender_bound"):
            peak = "≥ %s (sender-bound)" % peak
        floor = ("%.0f" % r["floor"]["msgs_per_cpu_s"]) if "floor" in r else "-"
        rows.append("| %s | %d | %d | %d | %.2f | %.0f | %s | %.2f | %s |" % (
            r["transport"], r["offered_rate"], r["received"], r["drops"], r["exporter_cpu_s"],
            r["msgs_per_cpu_s"], floor, r["sender_cpu_s"], peak))
    steps = []
    for t, p in rc["peak"].items():
        steps.append("%s: " % t + ", ".join("%d/s %s (%.0f msgs/CPU-s)" % (
            s["offered_rate"], "%d drops" % s["drops"] if s["drops"] else
            "ok" if kept_pace(s) else
            "sender achieved %d/s" % s["achieved_rate"],
            s["msgs_per_cpu_s"]) for s in p["steps"]))
    extra = " ".join(rc.get("exporter_args") or [])
    return ("### Syslog receiver (loopback, compiled sender sending every %s us; "
            "net.unix.max_dgram_qlen %s%s)\n\n"
            % (rc.get("tick_us", 1000), rc.get("unix_max_dgram_qlen"),
               "; exporter " + extra if extra else "") + "\n".join(rows) +
            "\n\nThe bare receiver is bench/syslog_floor: it receives the same messages the "
            "same way and does nothing with them, the kernel's share.\n"
            "\nPeak search (rate doubled each step): " + "; ".join(steps) + "\n")
