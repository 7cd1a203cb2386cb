"""Wake a pjsua2 loop sleeping in ``libHandleEvents`` from another thread.

The gateway and the test phones poll pjsua2 from one thread
(``threadCnt = 0``); work handed over by other threads waits for the poll to
return. Rather than polling every 10 ms (a hundred wake-ups a second per
process, about 1.5 % of a core each when idle), the loop sleeps up to
:data:`IDLE_WAIT_MS` and a hand-over sends it a CRLF keep-alive (RFC 5626,
section 4.4.1) on its own UDP SIP port: pjsip reads and ignores it, and the
poll returns.
"""

import socket

# longest sleep of a loop: what pjsua2 itself hands over from its media
# threads (RFC 2833 digits) waits for the loop's next turn
IDLE_WAIT_MS = 50
BUSY_WAIT_MS = 10  # no UDP transport to wake the loop through


class LoopWaker:
    """Sends the keep-alive to ``host:port`` (the loop's UDP SIP transport);
    one datagram until the loop has woken and cleared ``pending``, however
    many hand-overs."""

    PING = b"\r\n\r\n"

    def __init__(self, host, port):
        host = host or "127.0.0.1"
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.address = (host, port)
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.pending = False

    def wake(self):
        if self.pending:
            return
        self.pending = True
        try:
            self.sock.sendto(self.PING, self.address)
        except OSError:
            self.pending = False  # the loop still polls every IDLE_WAIT_MS

    def close(self):
        self.sock.close()
