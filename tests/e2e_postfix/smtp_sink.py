"""A loopback SMTP server that Postfix relays to in the end-to-end test: it
plays the next hop and answers each RCPT by the recipient's local part, so
the test decides each delivery's outcome:

  ok...@      250 2.1.5   (delivered: Postfix logs status=sent)
  defer...@   451 4.3.0   (status=deferred; the message stays queued)
  bounce...@  550 5.1.1   (status=bounced; a non-delivery notice follows)

Anything else is refused with 550 too. It offers no PIPELINING and no
STARTTLS, so Postfix talks to it one command at a time in clear text.
`delivered` lists the recipients of every message it accepted (DATA
finished), for the test to check against what it sent.

Thread-safety: one thread per connection (socketserver); `delivered` is
guarded by a lock. start() binds 127.0.0.1 on a free port; stop() closes.
"""
import socketserver
import threading

REPLIES = (("ok", b"250 2.1.5 ok"),
           ("defer", b"451 4.3.0 e2e sink: try again later"),
           ("bounce", b"550 5.1.1 e2e sink: no such user"))
HOSTNAME = b"sink.test"  # not Postfix's myhostname, or it sees a mail loop


def rcpt_reply(address):
    local = address.split("@", 1)[0].lower()
    for prefix, reply in REPLIES:
        if local.startswith(prefix):
            return reply
    return REPLIES[-1][1]


class _Session(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, line):
        self.wfile.write(line + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply(b"220 " + HOSTNAME + b" ESMTP e2e sink")
        rcpts = []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
            arg = line[len(verb):].strip()
            if verb == b"EHLO":
                self.reply(b"250-" + HOSTNAME + b"\r\n250 8BITMIME")
            elif verb == b"HELO":
                self.reply(b"250 " + HOSTNAME)
            elif verb == b"MAIL":
                rcpts = []
                self.reply(b"250 2.1.0 ok")
            elif verb == b"RCPT":
                addr = arg.decode(errors="replace").split("<", 1)[-1].split(">", 1)[0]
                reply = rcpt_reply(addr)
                if reply.startswith(b"250"):
                    rcpts.append(addr)
                self.reply(reply)
            elif verb == b"DATA":
                if not rcpts:
                    self.reply(b"554 5.5.1 no valid recipients")
                    continue
                self.reply(b"354 go ahead")
                while True:
                    data = self.rfile.readline(65536)
                    if not data or data == b".\r\n":
                        break
                if not data:
                    return
                self.server.sink.accepted(rcpts)
                rcpts = []
                self.reply(b"250 2.0.0 accepted by e2e sink")
            elif verb in (b"RSET", b"NOOP"):
                rcpts = [] if verb == b"RSET" else rcpts
                self.reply(b"250 2.0.0 ok")
            elif verb == b"QUIT":
                self.reply(b"221 2.0.0 bye")
                return
            else:
                self.reply(b"502 5.5.2 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    def __init__(self):
        self.delivered = []  # one sorted recipient list per accepted message
        self._lock = threading.Lock()
        self._server = None
        self.port = None

    def accepted(self, rcpts):
        with self._lock:
            self.delivered.append(sorted(rcpts))

    def messages(self):
        with self._lock:
            return list(self.delivered)

    def start(self):
        self._server = _Server(("127.0.0.1", 0), _Session)
        self._server.sink = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
