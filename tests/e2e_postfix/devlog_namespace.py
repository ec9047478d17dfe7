"""Runs a command in a private mount namespace in which /dev/log is a given
Unix socket, so that a program logging through syslog(3) (glibc writes to
/dev/log) sends its messages there, and nothing else sees a difference.

/dev is overlaid (lowerdir the real /dev, upper and work directories fresh
under `workdir` for each command), /dev/log is created in the overlay and
the socket is bind-mounted on it. The host's /dev, /dev/log included, is
untouched, whether or not it has a /dev/log. The namespace lives as long as
a process in it does: a daemon started this way (Postfix's master and all
its children) keeps logging to the socket. Needs root, util-linux unshare
and mount, and overlayfs.
"""
import os
import tempfile

# $1 upper, $2 work, $3 socket, then the command.
_SCRIPT = ('mount -t overlay overlay -o "lowerdir=/dev,upperdir=$1,workdir=$2" /dev'
           ' && : > /dev/log && mount --bind "$3" /dev/log && shift 3 && exec "$@"')


def wrap(cmd, socket_path, workdir):
    """argv that runs `cmd` with /dev/log bound to `socket_path`."""
    d = tempfile.mkdtemp(prefix="devlog-", dir=workdir)
    upper, work = os.path.join(d, "upper"), os.path.join(d, "work")
    os.mkdir(upper)
    os.mkdir(work)
    return (["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", _SCRIPT,
             "devlog", upper, work, socket_path] + list(cmd))
