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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from once import Checker, base_args, parse_args, run_once  # noqa: E402

MAX_LINE = 64 * 1024  # --postfix.logfile_max_line_length default


def ts(sec):
    return 'Jul  5 %02d:%02d:%02d' % (12 + sec // 3600, (sec // 60) % 60, sec % 60)


def line(sec, tag, pid, msg):
    return ('%s mx %s[%d]: ' % (ts(sec), tag, pid)).encode() + msg


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


def check_exposition(c, what, res):
    try:
        res.output.decode('utf-8', 'strict')
        c.true(what + ': /metrics is valid UTF-8', True)
    except UnicodeDecodeError as e:
        c.true(what + ': /metrics is valid UTF-8', False, str(e))
    promtool = shutil.which('promtool')
    if promtool is None:
        c.true(what + ': promtool installed (scripts/install-deps.sh --test)', False)
        return
    chk = subprocess.run([promtool, 'check', 'metrics'], input=res.output, capture_output=True)
    c.true(what + ': promtool check metrics', chk.returncode == 0,
           (chk.stdout + chk.stderr).decode('utf-8', 'replace')[:500])


def main():
    ap = base_args()
    ap.add_argument('--garbage-mib', type=int, default=50)
    args = parse_args(ap)
    c = Checker()
    tmp = tempfile.mkdtemp(prefix='hostile_files.')
    try:
        def rss_ok(what, res):
            if args.sanitized:
                print('info %s: peak RSS %s MiB (not checked in a sanitizer build)'
                      % (what, '?' if res.maxrss_mib is None else '%.1f' % res.maxrss_mib))
            else:
                c.true('%s: peak RSS %.1f MiB < %.0f MiB' % (what, res.maxrss_mib, args.rss_limit_mib),
                       res.maxrss_mib < args.rss_limit_mib)

        # 1. A 10 MB line between two real lines, and a 10 MB unterminated tail.
        path = os.path.join(tmp, 'ten_mb_line.log')
        with open(path, 'wb') as f:
            f.write(line(0, 'postfix/smtpd', 10, b'connect from h[192.0.2.1]') + b'\n')
            f.write(line(1, 'postfix/smtpd', 11, b'warning: h[192.0.2.1]: SASL PLAIN authentication failed: ')
                    + b'A' * (10 << 20) + b'\n')
            f.write(line(2, 'postfix/smtpd', 12, b'connect from h[192.0.2.2]') + b'\n')
            f.write(line(3, 'postfix/smtpd', 13, b'connect from h[192.0.2.3] ') + b'B' * (10 << 20))
        res = run_once(args.binary, path, maxrss_tool=args.maxrss)
        c.eq('10 MB line: exit status', res.returncode, 0)
        c.eq('10 MB line: log_lines_total', res.value('postfix_exporter_log_lines_total'), 2)
        c.eq('10 MB line: log_lines_too_long_total', res.value('postfix_exporter_log_lines_too_long_total'), 2)
        c.eq('10 MB line: log_lines_malformed_total', res.value('postfix_exporter_log_lines_malformed_total'), 0)
        c.eq('10 MB line: connects', res.value('postfix_smtpd_connects_total', service='smtp'), 2)
        c.eq('10 MB line: failures', res.total('postfix_smtpd_sasl_authentication_failures_total'), 0)
        rss_ok('10 MB line', res)
        check_exposition(c, '10 MB line', res)

        # 2. Binary garbage.
        path = os.path.join(tmp, 'garbage.log')
        short, long_ = write_garbage(path, args.garbage_mib << 20)
        print('info garbage: %d MiB, %d short lines, %d over-long lines'
              % (os.path.getsize(path) >> 20, short, long_))
        res = run_once(args.binary, path, maxrss_tool=args.maxrss)
        c.eq('garbage: exit status', res.returncode, 0)
        c.eq('garbage: log_lines_total', res.value('postfix_exporter_log_lines_total'), short)
        c.eq('garbage: log_lines_malformed_total', res.value('postfix_exporter_log_lines_malformed_total'), short)
        c.eq('garbage: log_lines_too_long_total', res.value('postfix_exporter_log_lines_too_long_total'), long_)
        c.eq('garbage: connects', res.total('postfix_smtpd_connects_total'), 0)
        rss_ok('garbage', res)
        check_exposition(c, 'garbage', res)

        # 3. A log of one unterminated line.
        path = os.path.join(tmp, 'partial.log')
        with open(path, 'wb') as f:
            f.write(line(0, 'postfix/submission/smtpd', 10, b'connect from h[192.0.2.1]'))
        res = run_once(args.binary, path, maxrss_tool=args.maxrss)
        c.eq('partial line: exit status', res.returncode, 0)
        c.eq('partial line: log_lines_total', res.value('postfix_exporter_log_lines_total'), 1)
        c.eq('partial line: connects', res.value('postfix_smtpd_connects_total', service='submission'), 1)

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
        res = run_once(args.binary, path, maxrss_tool=args.maxrss)
        c.eq('utf8/nul: exit status', res.returncode, 0)
        c.eq('utf8/nul: log_lines_total', res.value('postfix_exporter_log_lines_total'), 5)
        c.eq('utf8/nul: malformed', res.value('postfix_exporter_log_lines_malformed_total'), 1)
        c.eq('utf8/nul: connects', res.value('postfix_smtpd_connects_total', service='submission'), 1)
        c.eq('utf8/nul: relay denied', res.value('postfix_smtpd_relay_denied_total', service='submission'), 1)
        c.eq('utf8/nul: PLAIN unspecified', res.value('postfix_smtpd_sasl_authentication_failures_total',
                                                     service='submission', method='PLAIN',
                                                     reason='unspecified'), 1)
        check_exposition(c, 'utf8/nul', res)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == '__main__':
    main()
