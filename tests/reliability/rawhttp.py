"""rawhttp.py - a minimal HTTP/1.1 client over raw sockets for the reliability tests
(tests/reliability/, tests/soak/): it sends exactly the bytes it is given and parses the
answer itself, so tests can send malformed requests and see exactly what comes back.

    Conn(port).request(body) -> (status, body bytes, keep_alive)   keep-alive POSTs
    read_response(f) -> (status, headers dict, body bytes, keep_alive)
    proc_stats(pid) -> (rss_kb, fd_count)
    socket_ports(pid) -> [(local port, remote port)] of its TCP sockets
"""
import os
import socket

CHAT = "/v1/chat/completions"


def read_response(f, max_body=1 << 30):
    """Reads one response from the buffered reader f; raises ConnectionError if the
    connection ends before the response does."""
    line = f.readline(65536)
    if not line:
        raise ConnectionError("closed before the status line")
    status = int(line.split()[1])
    headers, clen, chunked, keep = {}, None, False, True
    while True:
        h = f.readline(65536)
        if not h:
            raise ConnectionError("closed in the head")
        if h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        k, v = k.strip().lower(), v.strip()
        headers[k] = v
        if k == "content-length":
            clen = int(v)
        elif k == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
        elif k == "connection" and v.lower() == "close":
            keep = False
    if status in (204, 304) or (100 <= status < 200):
        return status, headers, b"", keep
    out, total = [], 0
    if chunked:
        while True:
            sz = f.readline(1024)
            if not sz:
                raise ConnectionError("closed in a chunk size")
            n = int(sz.split(b";")[0], 16)
            if n == 0:
                while f.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                break
            piece = f.read(n)
            if len(piece) != n:
                raise ConnectionError("closed in a chunk")
            total += n
            if total <= max_body:
                out.append(piece)
            f.readline(16)
    elif clen is not None:
        piece = f.read(clen)
        if len(piece) != clen:
            raise ConnectionError("closed in the body")
        out.append(piece[:max_body])
    else:
        out.append(f.read())
        keep = False
    return status, headers, b"".join(out), keep


class Conn:
    """One keep-alive connection to 127.0.0.1:port."""

    def __init__(self, port, timeout=30):
        self.port, self.timeout = port, timeout
        self.sock = self.f = None

    def open(self):
        self.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb", buffering=65536)

    def close(self):
        if self.sock:
            try:
                self.f.close()
                self.sock.close()
            except OSError:
                pass
        self.sock = self.f = None

    def request(self, body, path=CHAT, extra=""):
        """POSTs body (str); returns (status, body bytes, keep_alive)."""
        data = body.encode()
        head = ("POST %s HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n%s"
                "content-length: %d\r\n\r\n" % (path, extra, len(data))).encode()
        self.sock.sendall(head + data)
        status, _, resp, keep = read_response(self.f)
        return status, resp, keep


def chat(port, body, timeout=30, extra=""):
    """One request on a fresh connection: (status, body text)."""
    c = Conn(port, timeout)
    try:
        c.open()
        status, resp, _ = c.request(body, extra=extra)
        return status, resp.decode("utf-8", "replace")
    finally:
        c.close()


def proc_stats(pid):
    """(VmRSS in KB, number of open fds) of process pid; (-1, -1) if it is gone."""
    rss = -1
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1, -1


def socket_ports(pid):
    """[(local port, remote port)] of the TCP sockets process pid has open (IPv4)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
        lines = open("/proc/%d/net/tcp" % pid).read().splitlines()[1:]
    except OSError:
        return []
    out = []
    for line in lines:
        f = line.split()
        if f[9] in inodes:
            out.append((int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16)))
    return out
