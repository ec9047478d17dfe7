#!/usr/bin/env python3
"""`cmake --install` layout and the systemd unit.

usage: test_systemd_unit.py BUILD_DIR SOURCE_DIR

Installs the build with prefix /usr into a scratch DESTDIR and checks:
- every file lands in its conventional place (binary, unit, /etc/default file,
  dashboards, rule files, docs), dashboards and rules equal to dashboards/;
- a reinstall keeps an edited defaults file; with prefix /opt/pse the unit's
  ExecStart= names /opt/pse/bin (the defaults file stays under /etc);
- the unit's ExecStart= names the installed binary and its flags are flags the
  binary accepts (run with them in --once mode);
- `systemd-analyze verify` prints nothing on stderr (checked against a copy
  whose ExecStart= points into the DESTDIR, since verify needs the binary; a
  copy with an unknown key must make it complain, so the check can fail);
- `systemd-analyze security --offline=yes` rates the exposure at most 2.0.
Neither needs a running systemd.
"""
import glob
import os
import re
import shlex
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pkgtest import run  # noqa: E402  (and psetest)
from psetest import check, require_tool, run_main  # noqa: E402

UNIT = "postfix-sasl-exporter.service"
MAX_EXPOSURE = 2.0


def unit_settings(text):
    """[(key, value)] of the unit, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.append((key.strip(), value.strip()))
    return out


def verify(unit_path, cwd):
    return run(["systemd-analyze", "verify", unit_path], ok=None, cwd=cwd)


def test(build_dir, source_dir):
    require_tool("systemd-analyze", "systemd")
    require_tool("cmake", "cmake")
    with tempfile.TemporaryDirectory(prefix="pse-unit-") as tmp:
        dest = os.path.join(tmp, "root")
        run(["cmake", "--install", build_dir, "--prefix", "/usr"],
            env=dict(os.environ, DESTDIR=dest))

        # Layout.
        exe = dest + "/usr/bin/postfix_sasl_exporter"
        unit = dest + "/usr/lib/systemd/system/" + UNIT
        defaults = dest + "/etc/default/postfix-sasl-exporter"
        check(os.access(exe, os.X_OK), "binary not installed at /usr/bin")
        for f in (unit, defaults,
                  dest + "/usr/share/doc/postfix-sasl-exporter/README.md",
                  dest + "/usr/share/doc/postfix-sasl-exporter/runbook.md"):
            check(os.path.isfile(f), "missing " + f[len(dest):])
        for kind, pattern in (("dashboards", "*.json"), ("rules", "*.yml")):
            want = sorted(glob.glob(os.path.join(source_dir, "dashboards", pattern)))
            got = sorted(glob.glob(dest + "/usr/share/postfix-sasl-exporter/%s/*" % kind))
            check(want, "no dashboards/%s in the source tree" % pattern)
            check([os.path.basename(p) for p in got] == [os.path.basename(p) for p in want],
                  "%s installed: %s, expected %s" % (kind, got, want))
            for src, inst in zip(want, got):
                check(open(src, "rb").read() == open(inst, "rb").read(), inst + " differs")

        # The unit as installed.
        text = open(unit).read()
        settings = unit_settings(text)
        keys = dict(settings)
        for key, value in (("Type", "notify"), ("NotifyAccess", "main"), ("Restart", "on-failure"),
                           ("DynamicUser", "yes"), ("SupplementaryGroups", "systemd-journal adm"),
                           ("StateDirectory", "postfix-sasl-exporter"),
                           ("EnvironmentFile", "-/etc/default/postfix-sasl-exporter"),
                           ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                           ("CapabilityBoundingSet", ""),
                           ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6")):
            check(keys.get(key) == value, "%s=%r, expected %r" % (key, keys.get(key), value))
        check("WatchdogSec" in keys, "no WatchdogSec=")
        filters = [v for k, v in settings if k == "SystemCallFilter"]
        check("@system-service" in filters, "SystemCallFilter=@system-service missing")
        argv = shlex.split(keys["ExecStart"])
        check(argv[0] == "/usr/bin/postfix_sasl_exporter", "ExecStart= runs " + argv[0])
        check(argv[-1] == "$ARGS", "ExecStart= does not end in $ARGS")
        check("/var/lib/postfix-sasl-exporter" in keys["ExecStart"],
              "state files are not in the StateDirectory")

        # The unit's flags and the defaults file's ARGS are flags the binary knows.
        args_line = [l for l in open(defaults) if l.startswith("ARGS=")]
        check(len(args_line) == 1, "defaults file must set ARGS= exactly once")
        state = os.path.join(tmp, "state")
        os.mkdir(state)
        flags = [a.replace("/var/lib/postfix-sasl-exporter", state) for a in argv[1:-1]]
        # systemd unquotes the value, and $ARGS splits it at white space.
        flags += " ".join(shlex.split(args_line[0].partition("=")[2])).split()
        proc = run([exe] + flags + ["--once", "--postfix.logfile_path=" +
                                    os.path.join(source_dir, "tests/fixtures/submission-cyrus.log")])
        check("postfix_smtpd_connects_total" in proc.stdout, "no metrics from the unit's command line")

        # systemd-analyze verify: needs the ExecStart= binary to exist.
        vdir = os.path.join(tmp, "verify")
        os.mkdir(vdir)
        vunit = os.path.join(vdir, UNIT)
        with open(vunit, "w") as f:
            f.write(text.replace("ExecStart=/usr/bin/postfix_sasl_exporter", "ExecStart=" + exe))
        proc = verify(vunit, vdir)
        check(proc.returncode == 0 and not proc.stderr.strip(),
              "systemd-analyze verify (exit %d):\n%s%s" % (proc.returncode, proc.stdout, proc.stderr))
        # The same check must catch a bad unit.
        bad = os.path.join(vdir, "bad", UNIT)
        os.mkdir(os.path.dirname(bad))
        with open(bad, "w") as f:
            f.write(open(vunit).read().replace("[Service]\n", "[Service]\nNoSuchSetting=yes\n"))
        check(verify(bad, vdir).stderr.strip(), "verify printed nothing for an unknown key")

        # A reinstall keeps an edited defaults file; another prefix moves ExecStart=.
        with open(defaults, "a") as f:
            f.write("# edited by the admin\n")
        run(["cmake", "--install", build_dir, "--prefix", "/usr"], env=dict(os.environ, DESTDIR=dest))
        check(open(defaults).read().endswith("# edited by the admin\n"),
              "reinstall overwrote /etc/default/postfix-sasl-exporter")
        opt = os.path.join(tmp, "opt-root")
        run(["cmake", "--install", build_dir, "--prefix", "/opt/pse"], env=dict(os.environ, DESTDIR=opt))
        opt_unit = open(opt + "/opt/pse/lib/systemd/system/" + UNIT).read()
        check(shlex.split(dict(unit_settings(opt_unit))["ExecStart"])[0] ==
              "/opt/pse/bin/postfix_sasl_exporter", "ExecStart= does not follow the prefix")
        check(os.path.isfile(opt + "/etc/default/postfix-sasl-exporter"),
              "defaults file not under /etc with prefix /opt/pse")

        # Exposure.
        proc = run(["systemd-analyze", "security", "--offline=yes", unit], ok=None, cwd=tmp)
        m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", proc.stdout)
        check(m, "no exposure level in:\n" + proc.stdout + proc.stderr)
        exposure = float(m.group(1))
        print("exposure level:", exposure)
        check(exposure <= MAX_EXPOSURE, "exposure %.1f > %.1f:\n%s" % (
            exposure, MAX_EXPOSURE, "\n".join(l for l in proc.stdout.splitlines() if "\u2717" in l)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    run_main(test, os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
