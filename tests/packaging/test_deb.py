#!/usr/bin/env python3
"""The Debian package: build it with CPack, inspect it, install it, run it, purge it.

usage: test_deb.py BUILD_DIR SOURCE_DIR EXPORTER   (EXPORTER: the binary in BUILD_DIR)

- `cpack -G DEB` (output in a temp dir) builds postfix-sasl-exporter_<v>-1_<arch>.deb;
- control fields: name, version, section, dependencies from dpkg-shlibdeps (each
  satisfied by the packages installed here), the conffile, the maintainer scripts;
- contents: every file in its place, the binary stripped;
- `dpkg --root` installs it into a scratch root, running the maintainer scripts
  for that root (DPKG_ROOT; deb-systemd-helper enables the unit there);
- the installed binary prints the version and, in --once mode on a fixture log,
  the same key numbers as tests/golden;
- remove keeps the conffile and masks the unit; purge removes everything,
  including the state directory.
The machine's own dpkg database is never touched.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pkgtest import key_numbers, run  # noqa: E402  (and psetest)
from psetest import check, require_tool, run_main  # noqa: E402

PKG = "postfix-sasl-exporter"
UNIT = PKG + ".service"
FIXTURE = "submission-cyrus"


def installed_version(pkg):
    proc = run(["dpkg-query", "-W", "-f=${Status}\t${Version}", pkg], ok=None)
    if proc.returncode != 0 or not proc.stdout.startswith("install ok installed"):
        return None
    return proc.stdout.split("\t", 1)[1]


def depends_satisfied(depends):
    """Names of the Depends alternatives that no installed package satisfies."""
    missing = []
    for clause in depends.split(","):
        ok = False
        for alt in clause.split("|"):
            m = re.match(r"\s*([a-z0-9.+-]+)(?::\S+)?\s*(?:\((<<|<=|=|>=|>>)\s*([^)]+)\))?\s*$", alt)
            check(m, "cannot parse dependency %r" % alt)
            have = installed_version(m.group(1))
            if have is None:
                continue
            if m.group(2) is None or subprocess.run(
                    ["dpkg", "--compare-versions", have, {"<<": "lt", "<=": "le", "=": "eq",
                                                          ">=": "ge", ">>": "gt"}[m.group(2)],
                     m.group(3).strip()]).returncode == 0:
                ok = True
        if not ok:
            missing.append(clause.strip())
    return missing


def dpkg_root(root, *args):
    # --force-script-chrootless: the maintainer scripts run here with
    # DPKG_ROOT=root instead of chrooted into a root without /bin/sh.
    return run(["dpkg", "--root=" + root, "--log=" + os.path.join(root, "dpkg.log"),
                "--force-script-chrootless"] + list(args))


def test(build_dir, source_dir, exporter):
    for tool, package in (("cpack", "cmake"), ("dpkg-shlibdeps", "dpkg-dev"),
                          ("dpkg-deb", "dpkg"), ("objdump", "binutils")):
        require_tool(tool, package)
    version = run([exporter, "--version"]).stdout.split()[1]
    with tempfile.TemporaryDirectory(prefix="pse-deb-") as tmp:
        out = os.path.join(tmp, "out")
        run(["cpack", "--config", os.path.join(build_dir, "CPackConfig.cmake"), "-G", "DEB",
             "-B", out], cwd=build_dir, timeout=600)
        debs = glob.glob(os.path.join(out, "*.deb"))
        check(len(debs) == 1, "cpack made %s" % debs)
        deb = debs[0]
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        check(os.path.basename(deb) == "%s_%s-1_%s.deb" % (PKG, version, arch),
              "package file name " + os.path.basename(deb))

        # Control fields.
        def field(name):
            return run(["dpkg-deb", "-f", deb, name]).stdout.strip()
        check(field("Package") == PKG, "Package: " + field("Package"))
        check(field("Version") == version + "-1", "Version: " + field("Version"))
        check(field("Section") == "net", "Section: " + field("Section"))
        check(field("Maintainer"), "no Maintainer")
        depends = field("Depends")
        for lib in ("libc6", "libstdc++6", "libsystemd0", "libmicrohttpd12",
                    "libprometheus-cpp-core1.0", "libyaml-cpp0.7"):
            check(re.search(r"(^|, )%s\b" % re.escape(lib), depends),
                  "Depends lacks %s: %s" % (lib, depends))
        missing = depends_satisfied(depends)
        check(not missing, "dependencies not satisfied on this machine: %s" % missing)

        control = os.path.join(tmp, "control")
        run(["dpkg-deb", "-e", deb, control])
        check(open(os.path.join(control, "conffiles")).read().split() ==
              ["/etc/default/" + PKG], "conffiles")
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(control, script)
            check(os.access(path, os.X_OK), script + " missing or not executable")
            run(["sh", "-n", path])

        listing = run(["dpkg-deb", "-c", deb]).stdout
        files = {line.split()[5].lstrip(".") for line in listing.splitlines()
                 if not line.startswith("d")}
        want = {"/usr/bin/postfix_sasl_exporter", "/usr/lib/systemd/system/" + UNIT,
                "/etc/default/" + PKG, "/usr/share/doc/%s/README.md" % PKG,
                "/usr/share/doc/%s/runbook.md" % PKG}
        want |= {"/usr/share/%s/dashboards/%s" % (PKG, os.path.basename(p))
                 for p in glob.glob(os.path.join(source_dir, "dashboards/*.json"))}
        want |= {"/usr/share/%s/rules/%s" % (PKG, os.path.basename(p))
                 for p in glob.glob(os.path.join(source_dir, "dashboards/*.yml"))}
        want |= {"/usr/share/doc/%s/runbook/%s" % (PKG, os.path.basename(p))
                 for p in glob.glob(os.path.join(source_dir, "docs/runbook/*.md"))}
        check(want <= files, "not in the package: %s" % sorted(want - files))

        # Install into a scratch root.
        root = os.path.join(tmp, "root")
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        # --force-depends: the scratch root has no libc6 etc. in its database;
        # the real dependencies were checked against this machine above.
        dpkg_root(root, "--force-depends", "-i", deb)
        status = run(["dpkg-query", "--root=" + root, "-W", "-f=${Status}", PKG]).stdout
        check(status == "install ok installed", "status in scratch root: " + status)
        wants = os.path.join(root, "etc/systemd/system/multi-user.target.wants", UNIT)
        check(os.path.islink(wants), "postinst did not enable the unit")

        exe = os.path.join(root, "usr/bin/postfix_sasl_exporter")
        sections = run(["objdump", "-h", exe]).stdout
        check(".debug_info" not in sections and ".symtab" not in sections,
              "installed binary is not stripped")
        got = run([exe, "--version"]).stdout
        check(got.startswith("postfix_sasl_exporter %s " % version), "--version: " + got)
        fixture = os.path.join(source_dir, "tests/fixtures/%s.log" % FIXTURE)
        env = dict(os.environ, TZ="UTC")
        cmd = ["--once", "--postfix.logfile_path=" + fixture, "--postfix.syslog_year=2024"]
        installed_out = run([exe] + cmd, env=env).stdout
        golden = key_numbers(open(os.path.join(source_dir, "tests/golden/%s.prom" % FIXTURE)).read())
        got = key_numbers(installed_out)
        check(len(golden) > 10, "too few key numbers in the golden file: %s" % golden)
        print("compared %d key series with tests/golden/%s.prom" % (len(golden), FIXTURE))
        check(got == golden, "installed binary differs from tests/golden/%s.prom:\n%s" % (
            FIXTURE, "\n".join("%s: %s != %s" % (k, got.get(k), golden.get(k))
                               for k in sorted(set(got) | set(golden)) if got.get(k) != golden.get(k))))
        check(installed_out == run([exporter] + cmd, env=env).stdout,
              "installed binary's output differs from the build tree's")

        # remove: conffile stays, unit masked; purge: nothing left.
        conffile = os.path.join(root, "etc/default", PKG)
        with open(conffile, "a") as f:
            f.write('ARGS="--log.level=debug"\n')
        statedir = os.path.join(root, "var/lib/private", PKG)
        os.makedirs(statedir)
        open(os.path.join(statedir, "state"), "w").close()
        dpkg_root(root, "--remove", PKG)
        check(not os.path.exists(exe), "binary left after remove")
        check(os.path.isfile(conffile), "remove deleted the conffile")
        mask = os.path.join(root, "etc/systemd/system", UNIT)
        check(os.path.islink(mask) and os.readlink(mask) == "/dev/null", "remove did not mask the unit")
        dpkg_root(root, "--purge", PKG)
        for path in (conffile, mask, wants, statedir):
            check(not os.path.lexists(path), "left after purge: " + path[len(root):])
        left = [os.path.join(d, f)[len(root):] for d, _, fs in os.walk(root) for f in fs
                if not os.path.join(d, f).startswith(os.path.join(root, "var/lib/dpkg"))
                and f != "dpkg.log"]
        check(not left, "files left after purge: %s" % left)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    run_main(test, *map(os.path.abspath, sys.argv[1:4]))
