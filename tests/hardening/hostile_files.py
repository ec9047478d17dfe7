#!/usr/bin/env python3
"""Hostile files through the real binary (--once): a 10 MB line, 50 MB of
binary garbage, a log of one unterminated line, and real lines full of
invalid UTF-8 and NUL bytes.

For each: exit status 0, exact line / malformed / too-long counts, a
/metrics text that is valid UTF-8 and passes `promtool check metrics`, and
the child's peak RSS (ru_maxrss) below --rss-limit-mib while it reads a
10 MB line and 50 MB of garbage. The RSS bound is skipped with --sanitized
(ASan's shadow memory and quarantine make RSS meaningless there); counts are
still checked.

  hostile_files.py BINARY [--sanitized] [--rss-limit-mib 64] [--garbage-mib 50]
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from once import base_args, check_rss, parse_args, run_measured  # noqa: E402  (and psetest)
from psetest import (CONNECTS, FAILURES, LINES, MALFORMED, RELAY, check,  # noqa: E402
                     check_samples, log_line, require_tool, run_main, sample_key)

MAX_LINE = 64 * 1024  # --postfix.logfile_max_line_length default
TOO_LONG = 'postfix_exporter_log_lines_too_long_total'


def line(sec, tag, pid, msg):
    """A syslog line of bytes, without its newline."""
    return log_line(sec, tag, pid, msg, host='mx')[:-1]


def write_garbage(path, size):
    """Lines of random bytes, each starting with a byte >= 0x80 (so no line
    can parse as a syslog line and none is empty after NUL/CR stripping);
    about one in 2000 is over the length cap. Returns (short, long) counts."""
    rng = random.Random(20240705)
    newline_free = bytes.maketrans(b'\n', b'\r')
    short = long_ = 0
    written = 0
    with open(path, 'wb') as f:
        while written < size:
            block = rng.randbytes(1 << 20).translate(newline_free)
            pos = 0
            parts = []
            while pos < len(block):
                n = rng.randint(1, 400)
                if rng.randrange(2000) == 0:
                    n = MAX_LINE + 1 + rng.randrange(600000)
                    part = bytes([0x80 | rng.randrange(128)]) + rng.randbytes(n - 1).translate(newline_free)
                    long_ += 1
                else:
                    part = bytes([0x80 | rng.randrange(128)]) + block[pos + 1:pos + n]
                    pos += n
                    short += 1
                parts.append(part)
            data = b'\n'.join(parts) + b'\n'
            f.write(data)
            written += len(data)
    return short, long_


def check_exposition(what, res, promtool):
    try:
        res.output.decode('utf-8', 'strict')
    except UnicodeDecodeError as e:
        check(False, '%s: /metrics is not valid UTF-8: %s' % (what, e))
    chk = subprocess.run([promtool, 'check', 'metrics'], input=res.output, capture_output=True)
    check(chk.returncode == 0, '%s: promtool check metrics: %s'
          % (what, (chk.stdout + chk.stderr).decode('utf-8', 'replace')[:500]))


def main():
    ap = base_args()
    ap.add_argument('--garbage-mib', type=int, default=50)
    args = parse_args(ap)
    promtool = require_tool('promtool', 'prometheus')
    tmp = tempfile.mkdtemp(prefix='hostile_files.')
    try:
        # 1. A 10 MB line between two real lines, and a 10 MB unterminated tail.
        path = os.path.join(tmp, 'ten_mb_line.log')
        with open(path, 'wb') as f:
            f.write(line(0, 'postfix/smtpd', 10, b'connect from h[192.0.2.1]') + b'\n')
            f.write(line(1, 'postfix/smtpd', 11, b'warning: h[192.0.2.1]: SASL PLAIN authentication failed: ')
                    + b'A' * (10 << 20) + b'\n')
            f.write(line(2, 'postfix/smtpd', 12, b'connect from h[192.0.2.2]') + b'\n')
            f.write(line(3, 'postfix/smtpd', 13, b'connect from h[192.0.2.3] ') + b'B' * (10 << 20))
        res = run_measured(args, path)
        check_samples(res.samples, {LINES: 2, TOO_LONG: 2, MALFORMED: 0,
                                    sample_key(CONNECTS, {'service': 'smtp'}): 2}, '10 MB line')
        check(res.samples.total(FAILURES) == 0, '10 MB line: failures counted')
        check_rss(args, '10 MB line', res)
        check_exposition('10 MB line', res, promtool)

        # 2. Binary garbage.
        path = os.path.join(tmp, 'garbage.log')
        short, long_ = write_garbage(path, args.garbage_mib << 20)
        print('info garbage: %d MiB, %d short lines, %d over-long lines'
              % (os.path.getsize(path) >> 20, short, long_))
        res = run_measured(args, path)
        check_samples(res.samples, {LINES: short, MALFORMED: short, TOO_LONG: long_}, 'garbage')
        check(res.samples.total(CONNECTS) == 0, 'garbage: connects counted')
        check_rss(args, 'garbage', res)
        check_exposition('garbage', res, promtool)

        # 3. A log of one unterminated line.
        path = os.path.join(tmp, 'partial.log')
        with open(path, 'wb') as f:
            f.write(line(0, 'postfix/submission/smtpd', 10, b'connect from h[192.0.2.1]'))
        res = run_measured(args, path)
        check_samples(res.samples, {LINES: 1, sample_key(CONNECTS, {'service': 'submission'}): 1},
                      'partial line')

        # 4. Real lines carrying invalid UTF-8 and NUL bytes in client text.
        path = os.path.join(tmp, 'utf8_nul.log')
        sub = 'postfix/submission/smtpd'
        lines = [
            b'\0\0\0' + line(0, sub, 10, b'connect from unknown[192.0.2.1]'),
            line(1, sub, 10, b'warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: '
                             b'(reason unavailable), sasl_username=\xc3\x28\x00\xed\xa0\x80\xff'),
            line(2, sub, 10, b'NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <\xfe\xff@r.example>: '
                             b'Relay access denied; from=<\xc0\xaf@b.example> to=<\xfe\xff@r.example> '
                             b'proto=ESMTP helo=<\x00\xf5\x80>'),
            line(3, sub, 10, b'disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 commands=1/2'),
            b'Jul\0 5 12:00:04 mx postfix/smtpd[11]: connect from h[192.0.2.4]',
        ]
        with open(path, 'wb') as f:
            f.write(b'\n'.join(lines) + b'\n')
        res = run_measured(args, path)
        check_samples(res.samples, {
            LINES: 5, MALFORMED: 1,
            sample_key(CONNECTS, {'service': 'submission'}): 1,
            sample_key(RELAY, {'service': 'submission'}): 1,
            sample_key(FAILURES, {'service': 'submission', 'method': 'PLAIN',
                                  'reason': 'unspecified'}): 1}, 'utf8/nul')
        check_exposition('utf8/nul', res, promtool)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    run_main(main)
