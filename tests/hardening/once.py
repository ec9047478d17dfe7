"""Runs the real exporter binary in --once mode on a file and reports what it
printed and the most memory it ever held (ru_maxrss, measured by the
maxrss helper). Shared by the hardening scripts; no network, no daemons.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

_SAMPLE = re.compile(rb'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(rb'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Result:
    def __init__(self, returncode, output, stderr, maxrss_kib):
        self.returncode = returncode
        self.output = output          # bytes: the exposition text
        self.stderr = stderr
        self.maxrss_mib = None if maxrss_kib is None else maxrss_kib / 1024.0
        self.samples = {}             # (name, ((label, value), ...)) -> float
        for line in output.splitlines():
            if line.startswith(b'#') or not line.strip():
                continue
            m = _SAMPLE.match(line)
            if m is None:
                raise AssertionError('unparsable exposition line: %r' % line[:200])
            labels = tuple(sorted((k.decode(), v.decode('utf-8', 'replace'))
                                  for k, v in _LABEL.findall(m.group(3) or b'')))
            self.samples[(m.group(1).decode(), labels)] = float(m.group(4))

    def value(self, name, **labels):
        """The sample with exactly these labels; None if there is none."""
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def total(self, name):
        """Sum over every sample of a family."""
        return sum(v for (n, _), v in self.samples.items() if n == name)


def run_once(binary, log_path, *flags, maxrss_tool=None):
    """Runs `binary --once` on log_path; stdout goes to a file (no pipe to
    fill up), so the child can never block on us.

    The peak RSS comes from maxrss_tool (tests/hardening/maxrss.cc) when
    given: a child forked from Python would count Python's own pages too.
    Without it, maxrss_mib is None."""
    cmd = [binary, '--once', '--postfix.logfile_path=' + log_path, '--log.level=warn', *flags]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode='r') as rss:
        if maxrss_tool:
            cmd = [maxrss_tool, rss.name] + cmd
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        try:
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        maxrss_kib = int(rss.read().strip() or 0) if maxrss_tool else None
        return Result(proc.returncode, out.read(), err.read(), maxrss_kib)


class Checker:
    """Collects failed expectations so one run reports all of them."""

    def __init__(self):
        self.failures = []

    def eq(self, what, got, want):
        ok = got == want
        print('%-4s %s: got %r, want %r' % ('ok' if ok else 'FAIL', what, got, want))
        if not ok:
            self.failures.append(what)

    def true(self, what, cond, detail=''):
        print('%-4s %s%s' % ('ok' if cond else 'FAIL', what, (': ' + detail) if detail else ''))
        if not cond:
            self.failures.append(what)

    def finish(self):
        if self.failures:
            print('%d expectation(s) failed: %s' % (len(self.failures), ', '.join(self.failures)))
            sys.exit(1)
        print('all expectations met')


def base_args(description=None):
    """The arguments every hardening script takes: the binary, --sanitized
    (counts only: no RSS checks under ASan) and the maxrss helper."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('binary')
    ap.add_argument('--sanitized', action='store_true')
    ap.add_argument('--maxrss', help='the maxrss helper (tests/hardening/maxrss.cc); required '
                                     'unless --sanitized')
    ap.add_argument('--rss-limit-mib', type=float, default=64)
    return ap


def parse_args(ap):
    args = ap.parse_args()
    if not args.sanitized and not args.maxrss:
        ap.error('--maxrss TOOL is required to check memory (or pass --sanitized)')
    return args

