"""hostile.py — raw-socket clients that misbehave, for server_security.sh and bench/ soaks.

  stall PORT JSON GO HOLD   POST JSON, never read until the file GO exists (at most HOLD s);
                            then print 'closed' if the server has cut the connection, else
                            'open'
  slowloris PORT N HOLD     N connections trickling a header byte every 0.2 s; print how many
                            the server closed within HOLD s
  chunked PORT MAXMB        an endless chunked upload; print the MB sent before the server cut
                            it (or MAXMB if it never did)
  raw PORT                  send stdin as the request; print the status line
  hangup PORT JSON          POST JSON and close at once
Loopback (127.0.0.1) only.
"""
import socket
import sys
import time


def conn(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s


def post(body):
    b = body.encode()
    return (b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(b)) + b


def is_closed(s):
    """True if the peer has closed or reset: drain what is buffered, look for EOF."""
    s.setblocking(False)
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def stall(port, body, go, hold):
    import os
    s = conn(port, rcvbuf=4096)
    s.sendall(post(body))
    end = time.time() + hold
    while time.time() < end and not os.path.exists(go):
        time.sleep(0.1)
    # the server may have cut it while our receive buffer was full: now read it all
    deadline = time.time() + 5
    while time.time() < deadline:
        if is_closed(s):
            print("closed")
            return
        time.sleep(0.1)
    print("open")


def slowloris(port, n, hold):
    socks = [conn(port) for _ in range(n)]
    for s in socks:
        s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    closed = set()
    end = time.time() + hold
    while time.time() < end and len(closed) < n:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.send(b"X")
            except OSError:
                closed.add(i)
                continue
            if is_closed(s):
                closed.add(i)
            s.setblocking(True)
        time.sleep(0.2)
    print(len(closed))


def chunked(port, maxmb):
    s = conn(port)
    s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    sent = 0
    s.settimeout(10)
    try:
        while sent < maxmb << 20:
            s.sendall(chunk)
            sent += 0x10000
    except OSError:
        pass
    print(sent >> 20)


def raw(port):
    s = conn(port)
    s.sendall(sys.stdin.buffer.read())
    s.settimeout(20)
    data = b""
    try:
        while b"\r\n" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except OSError:
        pass
    print(data.split(b"\r\n")[0].decode("latin-1"))


def hangup(port, body):
    s = conn(port)
    s.sendall(post(body))
    s.close()


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "stall":
        stall(port, sys.argv[3], sys.argv[4], float(sys.argv[5]))
    elif cmd == "slowloris":
        slowloris(port, int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "chunked":
        chunked(port, int(sys.argv[3]))
    elif cmd == "raw":
        raw(port)
    elif cmd == "hangup":
        hangup(port, sys.argv[3])
