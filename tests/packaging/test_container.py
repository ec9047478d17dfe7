#!/usr/bin/env python3
"""The container image, built and run with Debian's buildah (no Docker engine here).

usage: test_container.py EXPORTER SOURCE_DIR

- packaging/collect-rootfs.sh assembles the build context from the built binary;
- `buildah bud` (vfs storage, chroot isolation, storage in a temp dir) builds
  packaging/Containerfile FROM scratch;
- the image is under 30 MB, runs as a non-root user, has the exporter as its
  entrypoint and exposes 9154;
- inside it: `--version`; `--once` on the sample log gives the same numbers
  as the binary outside; the exporter as a daemon (as uid 65534) answers a
  scrape of /metrics on loopback from outside the container (chroot isolation
  shares the host's network), and exits 0 on SIGTERM.
Everything is removed afterwards: containers, images, the temp storage, and
/var/lib/containers when this test created it (buildah's blob-info cache).
Needs root.
"""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pkgtest import key_numbers, run  # noqa: E402  (and psetest)
from psetest import (TestFailure, check, free_port, http_get, require_root,  # noqa: E402
                     require_tool, run_main, wait_for)

MAX_IMAGE_BYTES = 30 * 1000 * 1000
IMAGE = "localhost/pse-test:ci"
SAMPLE = "/usr/share/postfix-sasl-exporter/examples/mail.log"
EXE = "/usr/bin/postfix_sasl_exporter"


def exporter_pid(pgid):
    """The exporter started by our `buildah run` (same process group), or None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rpartition(")")[2].split()
            with open("/proc/%s/comm" % entry) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if int(fields[2]) == pgid and comm.startswith("postfix_sasl_ex"):
            return int(entry)
    return None


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def log_text(f):
    f.flush()
    f.seek(0)
    return f.read()


def make_writable(path):
    # vfs layers can hold read-only directories; rmtree needs write on them.
    for d, dirs, _ in os.walk(path):
        for name in dirs:
            p = os.path.join(d, name)
            try:
                st = os.lstat(p)
                if stat.S_ISDIR(st.st_mode):
                    os.chmod(p, st.st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
            except OSError:
                pass


def test(exporter, source_dir):
    require_root("buildah with vfs storage")
    require_tool("buildah", "buildah")
    had_var_lib_containers = os.path.exists("/var/lib/containers")
    tmp = tempfile.mkdtemp(prefix="pse-image-")
    buildah = ["buildah", "--root", os.path.join(tmp, "storage"), "--runroot",
               os.path.join(tmp, "run"), "--storage-driver", "vfs"]
    daemon = daemon_log = None
    try:
        context = os.path.join(tmp, "context")
        os.mkdir(context)
        run([os.path.join(source_dir, "packaging/collect-rootfs.sh"), exporter, context])
        version = run([exporter, "--version"]).stdout.split()[1]
        run(buildah + ["bud", "--isolation", "chroot", "--pull-never",
                       "-f", os.path.join(source_dir, "packaging/Containerfile"),
                       "--build-arg", "VERSION=" + version, "-t", IMAGE, context])

        # Image configuration and size.
        info = json.loads(run(buildah + ["inspect", "--type", "image", IMAGE]).stdout)
        config = info["OCIv1"]["config"]
        user = config.get("User", "")
        check(user and user.split(":")[0] not in ("", "0", "root"), "image user %r is root" % user)
        check(config.get("Entrypoint") == [EXE], "entrypoint %r" % config.get("Entrypoint"))
        check("9154/tcp" in config.get("ExposedPorts", {}), "9154/tcp not exposed")
        manifest = json.loads(info["Manifest"])
        size = sum(layer["size"] for layer in manifest["layers"])
        print("image size: %.1f MB (%d bytes, uncompressed layers)" % (size / 1e6, size))
        check(size < MAX_IMAGE_BYTES, "image is %d bytes, over %d" % (size, MAX_IMAGE_BYTES))

        ctr = run(buildah + ["from", "--pull-never", IMAGE]).stdout.strip().splitlines()[-1]
        brun = buildah + ["run", "--isolation", "chroot", ctr, "--"]

        got = run(brun + [EXE, "--version"]).stdout
        check(got.startswith("postfix_sasl_exporter %s " % version), "--version in image: " + got)

        env = dict(os.environ, TZ="UTC")
        once = ["--once", "--postfix.syslog_year=2024"]
        inside = run(brun + [EXE, "--postfix.logfile_path=" + SAMPLE] + once, env=env).stdout
        outside = run([exporter, "--postfix.logfile_path=" +
                       os.path.join(source_dir, "examples/mail.log")] + once, env=env).stdout
        want = key_numbers(outside)
        check(want and key_numbers(inside) == want, "--once in the image differs from outside")
        check(want.get('postfix_smtpd_sasl_authentication_successes_total{service="submission"}', 0) > 0,
              "sample log shows no SASL successes")

        # Daemon: started in its own session so its whole tree is ours by pgid.
        port = free_port()
        daemon_log = open(os.path.join(tmp, "daemon.log"), "w+")
        daemon = subprocess.Popen(
            brun + [EXE, "--web.listen-address=127.0.0.1:%d" % port, "--postfix.logfile_path=" + SAMPLE,
                    "--postfix.logfile_from_beginning", "--postfix.syslog_year=2024"],
            stdout=subprocess.DEVNULL, stderr=daemon_log, start_new_session=True, env=env)
        def scraped_numbers():
            check(daemon.poll() is None, "exporter exited %s: %s" % (daemon.poll(),
                                                                    log_text(daemon_log)))
            status, _, body = http_get("http://127.0.0.1:%d/metrics" % port)
            return status == 200 and key_numbers(body.decode()) == want
        wait_for(scraped_numbers, "a scrape of the daemon in the image with the --once numbers",
                 deadline=60, interval=0.2, context=lambda: log_text(daemon_log))
        pid = exporter_pid(daemon.pid)
        check(pid is not None, "exporter process not found")
        check(proc_uid(pid) == 65534, "exporter runs as uid %s, not 65534" % proc_uid(pid))
        os.kill(pid, signal.SIGTERM)
        try:
            rc = daemon.wait(30)
        except subprocess.TimeoutExpired:
            raise TestFailure("exporter did not stop on SIGTERM")
        check(rc == 0, "buildah run exited %d after SIGTERM: %s" % (rc, log_text(daemon_log)))
        daemon = None
    finally:
        if daemon is not None and daemon.poll() is None:
            try:
                os.killpg(daemon.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            daemon.wait(30)
        if daemon_log is not None:
            daemon_log.close()
        for cmd in (["rm", "--all"], ["rmi", "--all", "--force"], ["umount", "--all"]):
            subprocess.run(buildah + cmd, capture_output=True, timeout=120)
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[1].startswith(tmp)]
        for m in sorted(mounts, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        make_writable(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        if not had_var_lib_containers:
            shutil.rmtree("/var/lib/containers", ignore_errors=True)
    check(not os.path.exists(tmp), "could not remove " + tmp)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    run_main(test, os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
