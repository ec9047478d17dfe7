"""The corpus generator's vocabulary and bookkeeping: host and address
constants, the exporter's label vocabulary, Model (the exporter-visible
consequences of every line written: the expected values), Clock (BSD and
RFC 3339 stamps) and s_last. No randomness here: every random draw is made
by Gen in a fixed order, which is what keeps a seed's bytes identical."""

import collections
import time

HOST = "mx1"
MX_IP = "192.0.2.10"
START_YEAR = 2025
# Dec 31 2025 18:00:00 UTC: the log crosses New Year (BSD year roll-over).
START_EPOCH = 1767204000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The exporter's label vocabulary (docs/metrics.md: `method`, `reason`).
METHODS = {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "NTLM",
           "GSSAPI", "XOAUTH2", "OAUTHBEARER", "EXTERNAL", "ANONYMOUS"}

SMTPD_PATH = "/usr/lib/postfix/sbin/smtpd"
TLS_IN = ("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
          "server-signature RSA-PSS (2048 bits) server-digest SHA256")
TLS_IN12 = "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"

LOCAL_DOMAINS = ("example.org", "example.net", "mail.example.com")
REMOTE_MX = (
    ("gmail-smtp-in.l.google.com", "142.250.102.27", "gmail.com"),
    ("mx1.mail.ovh.net", "188.165.36.237", "ovh.net"),
    ("mx.gmx.net", "212.227.17.5", "gmx.net"),
    ("mta7.am0.yahoodns.net", "67.195.204.72", "yahoo.com"),
    ("example-com.mail.protection.outlook.com", "52.101.68.9", "outlook.com"),
)
SENDER_HOSTS = ("mail-wr1-f41.google.com", "mail-ej1-f54.google.com", "mo4-p00-ob.smtp.rzone.de",
                "mout.gmx.net", "mail.python.org", "lists.debian.org", "bounce.github.com",
                "a27-33.smtp-out.amazonses.com", "mail-vi1eur04on2107.outbound.protection.outlook.com",
                "smtp.mailfrom.example.net", "mx.newsletter.example")
HELOS = ("User", "ylmf-pc", "localhost", "WIN-3MDJ8F0KQ2L", "[127.0.0.1]", "mail.example.biz",
         "EHLO", "test")
DICTIONARY = ("admin", "test", "info", "support", "office", "sales", "postmaster", "webmaster",
              "contact", "root", "user", "marketing", "backup", "noreply", "hr", "service",
              "ftp", "mail", "administrator", "guest")



class Model:
    """The exporter-visible consequences of every line the generator writes."""

    def __init__(self):
        self.c = collections.Counter()  # (family, labels tuple) -> value
        self.lines = 0
        self.anvil_max = None
        self.kumina = collections.Counter()
        self.mtail = collections.Counter()
        self.mtail_bsd_only = True
        self.stats = collections.Counter()  # informative breakdown
        self.spans = []  # (service, open time, close time) of every smtpd session

    def inc(self, family, n=1, **labels):
        self.c[(family, tuple(sorted(labels.items())))] += n


class Clock:
    """Formats log times; keeps a per-second cache (most lines share a second)."""

    def __init__(self):
        self._bsd = {}
        self._rfc = {}

    def bsd(self, t):
        s = int(t)
        v = self._bsd.get(s)
        if v is None:
            tm = time.gmtime(s)
            v = "%s %2d %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour,
                                           tm.tm_min, tm.tm_sec)
            if len(self._bsd) > 4096:
                self._bsd.clear()
            self._bsd[s] = v
        return v

    def rfc(self, t):
        s = int(t)
        v = self._rfc.get(s)
        if v is None:
            tm = time.gmtime(s)
            v = "%04d-%02d-%02dT%02d:%02d:%02d" % tm[:6]
            if len(self._rfc) > 4096:
                self._rfc.clear()
            self._rfc[s] = v
        return "%s.%06d+00:00" % (v, int((t - s) * 1e6))



def s_last(gen, t):
    """Just after the last line pushed so far (the end of the session being built)."""
    return max(t, gen.last_t) + 0.001
