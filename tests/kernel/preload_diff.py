"""preload_diff.py — socket-call sequences whose outcomes a program sees,
run once on the kernel's own sockets and once under finack-run; the two
transcripts must be equal (tests/kernel/preload_diff.sh compares them).

    python3 preload_diff.py peer PEER_ADDR     the kernel-side peers
    python3 preload_diff.py run PEER_ADDR      the sequences (prints one
                                               line per step)

Each line is what a program can observe — a return value, an errno
name, poll bits, bytes — never a time. Every wait is bounded.
The peers on PEER_ADDR:
    7101 echo to end of stream, then close
    7102 read one byte, then reset (SO_LINGER 0)
    7103 read the request to end of stream, send 64 KiB, close
    7104 accept and never read nor close (until the run ends)
    7105 read "ADDR PORT" and a newline, connect there, send b"ping", close
    7106 send 512 KiB, then read: what that read saw is kept
    7107 tell what 7106's last connection's first read saw
    7101/udp echo each datagram to its sender
    7108/udp count datagrams; 7108 (TCP) tells the count and starts again
    7109 close at once
    7110 send 400000 bytes; once all are acknowledged, reset
    7999 nothing: refused
"""
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import termios
import threading
import time

P_ECHO, P_RESET, P_REPLY, P_SILENT, P_DIAL, P_STREAM, P_REPORT, P_CLOSE, P_DATA_RESET, \
    P_CLOSED = 7101, 7102, 7103, 7104, 7105, 7106, 7107, 7109, 7110, 7999
POLL_BITS = [("IN", select.POLLIN), ("OUT", select.POLLOUT), ("HUP", select.POLLHUP)]


def err(f):
    """f() -> 'ok' / its value, or the errno's name."""
    try:
        v = f()
        return "ok" if v is None else v
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def pollbits(s, timeout_ms=5000, want=select.POLLIN | select.POLLOUT):
    p = select.poll()
    p.register(s, want)
    ev = p.poll(timeout_ms)
    m = ev[0][1] if ev else 0
    return "|".join(n for n, b in POLL_BITS if m & b) or "none"


def read_all(s, limit=1 << 24):
    got = b""
    while len(got) < limit:
        x = s.recv(65536)
        if not x:
            break
        got += x
    return got


# ---- the peers ----------------------------------------------------------

def serve(port, handle):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((PEER, port))
    ls.listen(64)

    def loop():
        while True:
            c, _ = ls.accept()
            c.settimeout(20)
            threading.Thread(target=guard, args=(handle, c), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def guard(handle, c):
    try:
        handle(c)
    except OSError:
        pass


def h_echo(c):
    while True:
        x = c.recv(65536)
        if not x:
            break
        c.sendall(x)
    c.close()


def h_reset(c):
    c.recv(1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def h_data_reset(c):
    c.sendall(b"d" * 400000)
    for _ in range(500):  # until every byte is acknowledged (5 s at most)
        if struct.unpack("i", fcntl.ioctl(c, termios.TIOCOUTQ, b"\0" * 4))[0] == 0:
            break
        time.sleep(0.01)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def h_close(c):
    c.close()


def h_reply(c):
    read_all(c)
    c.sendall(b"r" * 65536)
    c.close()


SILENT = []


def h_silent(c):
    SILENT.append(c)


def h_dial(c):
    line = b""
    while not line.endswith(b"\n"):
        x = c.recv(100)
        if not x:
            return
        line += x
    host, port = line.decode().split()
    d = socket.create_connection((host, int(port)), timeout=10)
    d.sendall(b"ping")
    d.close()
    c.close()


STREAM_SAW = ["nothing yet"]


def h_stream(c):
    STREAM_SAW[0] = "pending"
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    try:
        c.sendall(b"s" * (512 << 10))
        STREAM_SAW[0] = "data" if c.recv(100) else "eof"
    except OSError as e:
        STREAM_SAW[0] = errno.errorcode[e.errno]
    c.close()


def h_report(c):
    c.sendall(STREAM_SAW[0].encode())
    c.close()


def udp_echo():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((PEER, P_ECHO))

    def loop():
        while True:
            d, a = u.recvfrom(65536)
            u.sendto(d, a)
    threading.Thread(target=loop, daemon=True).start()


COUNT = [0]


def udp_counter():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # bursts wait here
    u.bind((PEER, 7108))

    def loop():
        while True:
            u.recvfrom(65536)
            COUNT[0] += 1
    threading.Thread(target=loop, daemon=True).start()


def h_count(c):
    time.sleep(0.2)  # the last datagrams are on their way
    c.sendall(b"%d" % COUNT[0])
    COUNT[0] = 0
    c.close()


def peers():
    udp_echo()
    udp_counter()
    serve(7108, h_count)
    for port, h in [(P_ECHO, h_echo), (P_RESET, h_reset), (P_REPLY, h_reply),
                    (P_SILENT, h_silent), (P_DIAL, h_dial), (P_STREAM, h_stream),
                    (P_REPORT, h_report), (P_CLOSE, h_close), (P_DATA_RESET, h_data_reset)]:
        serve(port, h)
    print("peers up", flush=True)
    time.sleep(600)


# ---- the sequences ------------------------------------------------------

def listening(port):
    """A listener of ours on port, SO_REUSEADDR as servers have it."""
    ls = sock()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4)
    return ls


def sock(nonblocking=False):
    s = socket.socket()
    s.setblocking(not nonblocking)
    return s


def s_nonblocking_connect():
    s = sock(True)
    out = [err(lambda: s.connect((PEER, P_ECHO)))]
    out.append(pollbits(s, want=select.POLLOUT))
    out.append(err(lambda: s.connect((PEER, P_ECHO))))  # 0 once it is done
    out.append(err(lambda: s.connect((PEER, P_ECHO))))  # then EISCONN
    out.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    s.close()
    return out


def s_refused_nonblocking():
    s = sock(True)
    out = [err(lambda: s.connect((PEER, P_CLOSED)))]
    pollbits(s, want=select.POLLOUT)
    # The settled bits: finackd's end turns writable and hung up in two
    # steps, and a poll may wake between them (README).
    time.sleep(0.05)
    out.append(pollbits(s, timeout_ms=0, want=select.POLLOUT))
    out.append(err(lambda: s.connect((PEER, P_CLOSED))))  # the error, once
    s.close()
    s = sock(True)
    s.connect_ex((PEER, P_CLOSED))
    pollbits(s, want=select.POLLOUT)
    out.append(errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "0"))
    out.append(err(lambda: s.connect((PEER, P_CLOSED))))  # error read: ECONNABORTED
    out.append(err(lambda: s.send(b"x")))
    s.close()
    return out


def s_refused_blocking():
    s = sock()
    out = [err(lambda: s.connect((PEER, P_CLOSED)))]
    s.close()
    return out


def s_fresh_socket():
    s = sock()
    out = [err(lambda: s.getpeername()), s.getsockname(),
           s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR),
           err(lambda: s.shutdown(socket.SHUT_WR)), err(lambda: s.accept()),
           s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM,
           s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == socket.AF_INET,
           s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_TCP,
           s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)]
    s.close()
    return out


def s_options():
    s = sock()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    out = [s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
           s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
           err(lambda: s.getsockopt(socket.SOL_SOCKET, 12345)),
           err(lambda: s.setsockopt(socket.IPPROTO_TCP, 999, 1)),
           s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL),
           err(lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, 3)),
           s.getsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY),
           err(lambda: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 0)),
           err(lambda: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 30)),
           s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
           s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG),
           err(lambda: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"nosuch")),
           s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8),
           err(lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 5))),
           struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))]
    s.close()
    return out


def s_listener():
    ls = listening(7201)
    out = [ls.getsockname(), pollbits(ls, timeout_ms=200),
           ls.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN),
           err(lambda: ls.connect((PEER, P_ECHO)))]
    ls.setblocking(False)
    out.append(err(lambda: ls.accept()))
    b = sock()
    out.append(err(lambda: b.bind(("0.0.0.0", 7201))))
    ls.close()
    out.append(err(lambda: b.bind(("0.0.0.0", 7201))))  # free once closed
    b.close()
    return out


def s_accept_and_names():
    ls = listening(7202)
    c = socket.create_connection((PEER, P_DIAL), timeout=10)
    c.sendall(("%s 7202\n" % SELF).encode())  # the peer connects to us
    ls.settimeout(10)
    a, peer = ls.accept()
    out = [a.getsockname() == (SELF, 7202), peer[0] == PEER,
           a.getpeername() == peer, err(lambda: a.connect((PEER, P_ECHO))),
           err(lambda: a.listen(1))]
    out.append(read_all(a))
    a.close(); c.close(); ls.close()
    return out


def s_half_close():
    s = socket.create_connection((PEER, P_ECHO), timeout=10)
    s.sendall(b"half " * 1000)
    s.shutdown(socket.SHUT_WR)
    got = read_all(s)
    out = [len(got), got == b"half " * 1000, err(lambda: s.send(b"x"))]
    out.append(err(lambda: s.getpeername()) in ("ENOTCONN", (PEER, P_ECHO)))
    out.append(s.getsockname()[0] == SELF)
    s.close()
    return out


def s_reply_after_request():
    s = socket.create_connection((PEER, P_REPLY), timeout=10)
    s.sendall(b"GET")
    s.shutdown(socket.SHUT_WR)
    got = read_all(s)
    s.close()
    return [len(got)]


def s_write_after_reset():
    """A reset in ESTABLISHED: the first send() after it says ECONNRESET,
    the next EPIPE, recv() end of stream (review: finack said EPIPE)."""
    s = socket.create_connection((PEER, P_RESET), timeout=10)
    s.sendall(b"x")
    r = "no error"
    for _ in range(500):  # the RST comes within a round trip
        try:
            s.send(b"y" * 1000, socket.MSG_NOSIGNAL)
            time.sleep(0.01)
        except OSError as e:
            r = errno.errorcode[e.errno]
            break
    out = [r, err(lambda: s.send(b"y", socket.MSG_NOSIGNAL)), err(lambda: s.recv(10))]
    s.close()
    return out


def wait_hup(s, timeout_ms=5000):
    """Waits (5 s at most) for POLLHUP: the reset's arrival (POLLERR, which
    Linux shows beside it, finack-run does not: README)."""
    p = select.poll()
    p.register(s, 0)
    ev = p.poll(timeout_ms)
    return "HUP" if ev and ev[0][1] & select.POLLHUP else "none"


def s_data_then_reset():
    """What came before a reset is read first, then ECONNRESET once, then
    end of stream (review: finack-run dropped what was not yet in the
    program's end, and said end of stream)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # takes it all
    s.settimeout(10)
    s.connect((PEER, P_DATA_RESET))
    out = [wait_hup(s, 10000)]
    got = 0
    e = "no error"
    for _ in range(10000):
        try:
            x = s.recv(65536)
        except OSError as ex:
            e = errno.errorcode[ex.errno]
            break
        if not x:
            e = "end of stream"
            break
        got += len(x)
    out += [got, e, err(lambda: s.recv(10))]
    s.close()
    return out


def s_reset_in_close_wait():
    """The peer closed; what we send then is reset (L20). recv() says end
    of stream, the error is EPIPE — for SO_ERROR, or for the next send()
    (review: finack's recv() said ECONNRESET)."""
    out = []
    for send_first in (False, True):
        s = socket.create_connection((PEER, P_CLOSE), timeout=10)
        out += [s.recv(10), s.send(b"x"), wait_hup(s)]
        if send_first:
            out += [err(lambda: s.send(b"y", socket.MSG_NOSIGNAL)) for _ in range(2)]
        else:
            out.append(s.recv(10))
            out.append(err(lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
        out += [s.recv(10), err(lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))]
        s.close()
    return out


def s_recv_timeout():
    s = socket.create_connection((PEER, P_SILENT), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 200000))
    s.setblocking(True)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 200000))
    out = [err(lambda: s.recv(10)), s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)]
    s.close()
    return out


def s_recvfrom_sendto():
    s = socket.create_connection((PEER, P_ECHO), timeout=10)
    out = [s.sendto(b"abc", ("203.0.113.9", 1))]
    d, a = s.recvfrom(10)
    out += [d, a]
    s.close()
    return out


def s_tcp_info():
    s = socket.create_connection((PEER, P_ECHO), timeout=10)
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    out = [info[0], struct.unpack_from("I", info, 16)[0] > 0]  # state, snd_mss
    s.close()
    return out


def s_close_unread_resets():
    """Closing with received data unread: the peer reads ECONNRESET, not
    end of stream first (RFC 9293 §3.10.4; Linux's tcp_close)."""
    out = []
    for _ in range(3):
        s = socket.create_connection((PEER, P_STREAM), timeout=10)
        got = 0
        while got < 200000:
            got += len(s.recv(65536))
        time.sleep(0.05)  # more arrives, unread
        s.close()
        time.sleep(0.3)
        r = socket.create_connection((PEER, P_REPORT), timeout=10)
        out.append(read_all(r).decode())
        r.close()
    return out


def s_setuid_child_accept():
    """A descriptor is usable by whoever holds it: a forked child that
    dropped root accepts on its parent's listener."""
    ls = listening(7203)
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            ls.settimeout(10)
            a, _ = ls.accept()
            os.write(wr, b"accepted " + read_all(a))
        except OSError as e:
            os.write(wr, errno.errorcode.get(e.errno, "?").encode())
        os._exit(0)
    c = socket.create_connection((PEER, P_DIAL), timeout=10)
    c.sendall(("%s 7203\n" % SELF).encode())
    os.waitpid(pid, 0)
    out = [os.read(rd, 100)]
    os.close(rd); os.close(wr); c.close(); ls.close()
    return out


def s_listener_shutdown():
    """shutdown() of a listener stops it: a blocked accept() fails with
    EINVAL, SO_ACCEPTCONN reads 0."""
    ls = listening(7204)
    res = []
    t = threading.Thread(target=lambda: res.append(err(lambda: ls.accept())))
    t.start()
    time.sleep(0.3)
    out = [err(lambda: ls.shutdown(socket.SHUT_RDWR))]
    t.join(5)
    out += [res[0] if res else "still blocked",
            ls.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)]
    ls.close()
    return out


def s_write_while_connecting():
    """Writes while the handshake is in progress: EAGAIN."""
    s = sock(True)
    out = [err(lambda: s.connect(("198.18.0.77", 80))),  # nobody answers ARP
           err(lambda: s.send(b"x" * 18)), err(lambda: s.send(b"x" * 100000))]
    s.close()
    return out


def s_accept_inherits():
    """An accepted socket inherits the listener's options."""
    ls = sock()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    ls.bind(("0.0.0.0", 7205))
    ls.listen(4)
    c = socket.create_connection((PEER, P_DIAL), timeout=10)
    c.sendall(("%s 7205\n" % SELF).encode())
    ls.settimeout(10)
    a, _ = ls.accept()
    out = [a.getsockopt(socket.IPPROTO_IP, socket.IP_TOS),
           a.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR),
           a.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)]
    a.close(); c.close(); ls.close()
    return out


def s_connect_after_reset():
    """connect() again on a connection reset since: the error, once."""
    s = sock(True)
    s.connect_ex((PEER, P_RESET))
    pollbits(s, want=select.POLLOUT)
    s.send(b"x")
    time.sleep(0.5)
    out = [err(lambda: s.connect((PEER, P_RESET))),
           s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)]
    s.close()
    return out


def s_udp():
    """Datagrams: addresses both ways, boundaries, truncation, connect."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    out = [u.getsockname(), u.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_DGRAM,
           u.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_UDP,
           err(lambda: u.getpeername()), err(lambda: u.listen(1)),
           err(lambda: u.shutdown(socket.SHUT_RD))]
    u.sendto(b"one", (PEER, P_ECHO))
    out += list(u.recvfrom(100))
    u.sendto(b"x" * 1400, (PEER, P_ECHO))  # (finack does not fragment)
    out.append(len(u.recv(2000)))
    u.sendto(b"y" * 200, (PEER, P_ECHO))
    u.sendto(b"z", (PEER, P_ECHO))
    out.append(u.recv(2000))  # boundaries kept
    out.append(u.recv(2000))
    u.sendto(b"", (PEER, P_ECHO))
    out.append(u.recvfrom(100))
    out += [u.getsockname()[0], u.getsockname()[1] > 0]
    u.connect((PEER, P_ECHO))
    out.append(u.getpeername())
    u.send(b"two")
    out.append(u.recv(100))
    u.send(b"three")
    out.append(u.recvfrom(100))
    u.send(b"five")
    data, _, _, addr = u.recvmsg(100)
    out += [data, addr, u.getsockname()[0] == SELF]
    u.close()
    return out


def s_udp_server():
    """A bound socket answers whoever writes to it (recvfrom/sendto)."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 7206))
    u.settimeout(5)
    c = socket.create_connection((PEER, P_DIAL), timeout=10)
    # the dial peer speaks TCP; a datagram to ourselves from a second socket instead
    c.close()
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    v.settimeout(5)
    v.sendto(b"hello", (SELF, 7206))
    d, a = u.recvfrom(100)
    u.sendto(d.upper(), a)
    out = [d, a == v.getsockname() or a[1] == v.getsockname()[1], v.recvfrom(100)[0]]
    u.close(); v.close()
    return out


def s_ipv6():
    """Dual-stack AF_INET6 is served over IPv4; an IPv6-only socket is not."""
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s6.settimeout(10)
    s6.connect(("::ffff:" + PEER, P_ECHO))
    out = [s6.getpeername()[:2], s6.getsockname()[0] == "::ffff:" + SELF]
    s6.sendall(b"mapped")
    s6.shutdown(socket.SHUT_WR)
    out.append(read_all(s6))
    s6.close()
    o6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    o6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    o6.setblocking(False)
    # the kernel would try IPv6 and find no route here; finack has none
    out.append(err(lambda: o6.connect(("::ffff:" + PEER, P_ECHO))))
    o6.close()
    return out


def udp_count():
    c = socket.create_connection((PEER, 7108), timeout=10)
    n = int(read_all(c))
    c.close()
    return n


def s_udp_review():
    """What the third review found: datagrams sent just before close()
    arrive, requests see earlier datagrams sent, a dup()'d socket reads
    exactly, a burst to ourselves arrives whole, MSG_ERRQUEUE takes no
    data, ephemeral ports are not consecutive."""
    out = []
    for _ in range(10):  # fire and forget
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"last words", (PEER, 7108))
        u.close()
    out.append(udp_count())
    ports = []
    for _ in range(20):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"x", (PEER, 7108))
        ports.append(u.getsockname()[1])
        u.close()
    out.append(all(p > 0 for p in ports))
    out.append(sum(b - a == 1 for a, b in zip(ports, ports[1:])) < 10)
    udp_count()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    u.sendto(b"ABCDEFGH" * 10, (PEER, P_ECHO))
    d = u.dup()
    d.settimeout(5)
    out.append(d.recvfrom(4))
    u.sendto(b"y" * 100, (PEER, P_ECHO))
    out.append(len(d.recv(100)))
    d.close()
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind((SELF, 7207))
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    for i in range(200):
        u.sendto(b"burst %d" % i, (SELF, 7207))
    r.settimeout(2)
    got = 0
    try:
        while got < 200:
            r.recv(100)
            got += 1
    except OSError:
        pass
    out.append(got)
    u.sendto(b"keep", (SELF, 7207))
    time.sleep(0.1)
    r.setblocking(False)
    out.append(err(lambda: r.recvmsg(100, 0, socket.MSG_ERRQUEUE)))
    r.settimeout(2)
    out.append(r.recv(100))
    r.close()
    u.close()
    return out


def s_review4():
    """What the fourth review found: a server restarts on its port while
    an old connection is open (SO_REUSEADDR), sendto(MSG_FASTOPEN)
    connects, a burst of 600 datagrams all leave. (A listener closed
    under a blocked accept() is a README difference: ECONNABORTED.)"""
    ls = listening(7208)
    c = socket.create_connection((PEER, P_DIAL), timeout=10)
    c.sendall(("%s 7208\n" % SELF).encode())
    ls.settimeout(10)
    a, _ = ls.accept()  # held open across the restart
    ls.close()
    again = sock()
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    out = [err(lambda: again.bind(("0.0.0.0", 7208))), err(lambda: again.listen(4))]
    again.close(); a.close(); c.close()
    f = sock()  # blocking: sendto waits for the handshake
    out.append(f.sendto(b"fast open", socket.MSG_FASTOPEN, (PEER, P_ECHO)))
    f.settimeout(10)
    out.append(f.recv(100))
    f.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.connect((PEER, 7108))
    u.setblocking(False)
    sent = 0
    for i in range(600):
        try:
            u.send(b"d%d" % i)
            sent += 1
        except BlockingIOError:
            time.sleep(0.01)
        if i % 100 == 99:
            time.sleep(0.02)  # the counting peer is a Python thread
    time.sleep(0.3)
    out.append(udp_count() >= sent * 9 // 10)  # UDP may lose a few, not 300
    u.close()
    return out


SEQUENCES = [s_nonblocking_connect, s_refused_nonblocking, s_refused_blocking,
             s_fresh_socket, s_options, s_listener, s_accept_and_names, s_half_close,
             s_reply_after_request, s_write_after_reset, s_reset_in_close_wait,
             s_data_then_reset, s_recv_timeout,
             s_recvfrom_sendto, s_tcp_info, s_close_unread_resets, s_setuid_child_accept,
             s_listener_shutdown, s_write_while_connecting, s_accept_inherits,
             s_connect_after_reset, s_udp, s_udp_server, s_ipv6, s_udp_review, s_review4]


def run():
    only = os.environ.get("FA_SEQ")  # one sequence, by name, when debugging
    for f in SEQUENCES:
        if only and f.__name__ != "s_" + only:
            continue
        try:
            out = f()
        except Exception as e:  # a sequence that breaks is a difference too
            out = ["raised %s: %s" % (type(e).__name__, e)]
            if os.environ.get("FA_SEQ"):
                import traceback
                traceback.print_exc()
        print("%s: %s" % (f.__name__[2:], " ".join(repr(x) for x in out)), flush=True)


if __name__ == "__main__":
    PEER = sys.argv[2]
    SELF = sys.argv[3] if len(sys.argv) > 3 else PEER
    socket.setdefaulttimeout(None)
    peers() if sys.argv[1] == "peer" else run()
