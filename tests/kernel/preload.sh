#!/bin/bash
# Kernel test: unmodified programs on finackd through finack-run
# (libfinack-preload.so), the kernel as their peer. Each part is driven
# by Python on the kernel's side, which starts the finack program under
# finack-run and checks what the kernel saw.
#  1. The uppercase echo, plain Python socket code, both ways round.
#  2. A C program: small SO_RCVBUF/SO_SNDBUF read back as Linux reports
#     them, 3-byte writes; 1000 single bytes then close; a server that
#     closes without reading (the kernel client gets ECONNRESET).
#  3. SIGKILL (spec L22): the kernel peer reads end of stream within
#     100 ms; ECONNRESET where the killed program left data unread; the
#     same for a normal exit without close().
#  4. curl under finack-run from a kernel HTTP server, python3 -m
#     http.server under finack-run (dual-stack ::, v4-mapped) for a
#     kernel curl, and for a curl under finack-run (finack to itself).
#  5. fork and exec: a forking server (parent closes its copy); a socket
#     inherited across exec.
#  6. asyncio (epoll, non-blocking accept/connect): 100 concurrent kernel
#     clients; socat half-close both ways.
#  7. Bad use answers as Linux does; finack-run without finackd fails
#     with one clear message.
#  8. finack-stat shows each program's connections with its process id
#     (spec L23).
#  9. Signals on blocking calls (C): EINTR without SA_RESTART, restarted
#     with it; a blocking connect honours SO_SNDTIMEO through the alarms.
# 10. Threads sharing one socket: options, names, reads and writes.
# 11. UDP: a Python server and clients (unconnected and connected) on
#     finack, kernel peers, both ways.
# 12. finackd is killed: the program reads end of stream at once, writes
#     fail with EPIPE, socket() fails cleanly (ENETDOWN) until a new
#     finackd is up, then works.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
CPROG=$2
CTL=$FA_TMP/finackd.sock
fa_start "$(fa_prog finackd)" --control "$CTL" --exit-wait 5 --stat "$FA_TMP/stat.sock"
RUN="$(fa_prog finack-run) --control $CTL"
K=$FA_KERNEL_IP
F=$FA_FINACK_IP

# Python run on the kernel's side; RUN and the addresses are given.
kpy() {
    fa_ns env RUN="$RUN" K="$K" F="$F" CPROG="$CPROG" timeout 120 python3 -c "
import errno, hashlib, os, shlex, signal, socket, subprocess, sys, threading, time
RUN = shlex.split(os.environ['RUN']); K = os.environ['K']; F = os.environ['F']
CPROG = os.environ['CPROG']
def fin(code, *a):  # a Python program run on finack
    return subprocess.Popen(RUN + ['python3', '-c', code] + list(a), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
def listener(port):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((K, port)); l.listen(16); l.settimeout(10); return l
def wait_port(port):  # until a finack server accepts
    for _ in range(200):
        try:
            socket.create_connection((F, port), timeout=1).close(); return
        except OSError: time.sleep(0.05)
    raise SystemExit('no server on %d' % port)
$1
"
}
expect() { sed 's/ *$//' <<< "$1" | grep -qxF -- "$2" || fa_fail "expected '$2' in: $1"; }

# ---- 1. uppercase echo, both ways --------------------------------------
out=$(kpy "
l = listener(7001)
p = fin('''
import errno, socket
s = socket.create_connection(('$K', 7001), timeout=10)
peer = s.getpeername()
s.sendall(b'hello from finack'); s.shutdown(socket.SHUT_WR)
got = b''
while True:
    x = s.recv(100)
    if not x: break
    got += x
# Both ways shut: like Linux, the peer's name is gone, ours is not.
try:
    s.getpeername(); gone = 'still'
except OSError as e:
    gone = errno.errorcode[e.errno]
print(got.decode(), s.getsockname()[0], peer, gone); s.close()
''')
c, a = l.accept(); c.settimeout(10)
data = b''
while True:
    x = c.recv(100)
    if not x: break
    data += x
c.sendall(data.upper()); c.close()
o, e = p.communicate(timeout=20)
print('client', p.returncode, o.strip(), a[0], e.strip())
p = fin('''
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('0.0.0.0', 7002)); l.listen(5)
for _ in range(3):  # wait_port's probe, then two clients
    c, a = l.accept()
    while True:
        x = c.recv(7)
        if not x: break
        c.sendall(x.upper())
    c.close()
print('served', a[0])
''')
time.sleep(0.2); wait_port(7002)
for msg in [b'the quick brown fox', bytes(range(97, 123)) * 4000]:
    s = socket.create_connection((F, 7002), timeout=10); s.sendall(msg); s.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        x = s.recv(65536)
        if not x: break
        got += x
    print('echo', got == msg.upper(), len(got))
o, e = p.communicate(timeout=20)
print('server', p.returncode, o.strip(), e.strip())
")
echo "$out"
expect "$out" "client 0 HELLO FROM FINACK $F ('$K', 7001) ENOTCONN $F"
expect "$out" "echo True 19"
expect "$out" "echo True 104000"
expect "$out" "server 0 served $K"

# ---- 2. the C program ----------------------------------------------------
out=$(kpy "
l = listener(7003)
p = subprocess.Popen(RUN + [CPROG, 'small', K, '7003'], stdout=subprocess.PIPE, text=True)
c, _ = l.accept(); c.settimeout(10)
data = b''
while True:
    x = c.recv(1)
    if not x: break
    data += x
print('small', data == b'abcdefghi' * 1000, p.communicate(timeout=10)[0].strip(), p.returncode)
p = subprocess.Popen(RUN + [CPROG, 'bytes', K, '7003'], stdout=subprocess.PIPE, text=True)
c, _ = l.accept(); c.settimeout(10)
data = b''
while True:
    x = c.recv(4096)
    if not x: break
    data += x
print('bytes', len(data), data == bytes(i % 251 for i in range(1000)), p.wait(timeout=10))
p = subprocess.Popen(RUN + [CPROG, 'noread', '0.0.0.0', '7004'], stdout=subprocess.PIPE, text=True)
p.stdout.readline()
s = socket.create_connection((F, 7004), timeout=10)
s.sendall(b'you will not read this')
try:
    while s.recv(100): pass
    print('noread eof')
except OSError as e:
    print('noread', errno.errorcode[e.errno])
print('noread exit', p.wait(timeout=10))
")
echo "$out"
expect "$out" "small True sndbuf 4608 rcvbuf 4096 3 0"
expect "$out" "bytes 1000 True 0"
expect "$out" "noread ECONNRESET"
expect "$out" "noread exit 0"

# ---- 3. SIGKILL and exit without close (L22) ------------------------------
out=$(kpy "
l = listener(7005)
def run(unread, how):
    p = fin('''
import socket, sys, time
s = socket.create_connection(('$K', 7005), timeout=10)
s.sendall(b'x'); assert s.recv(1) == b'y'
if sys.argv[1] == '1':  # the kernel sends more we never read
    time.sleep(0.3)
if sys.argv[2] == 'exit':
    import os; os._exit(0)  # no close(): the process ends
print('ready', flush=True); time.sleep(60)
''', str(unread), how)
    c, _ = l.accept(); c.settimeout(5)
    assert c.recv(1) == b'x'; c.sendall(b'y')
    if unread: c.sendall(b'unread data'); time.sleep(0.1)
    if how == 'kill':
        p.stdout.readline()
        time.sleep(0.1)
        t0 = time.monotonic(); p.kill()
    else:
        t0 = time.monotonic()
    try:
        x = c.recv(100); what = 'eof' if not x else 'data'
    except OSError as e:
        what = errno.errorcode[e.errno]
    ms = (time.monotonic() - t0) * 1000
    p.wait(timeout=10); c.close()
    print(how, unread, what, 'fast' if how == 'exit' or ms < 100 else 'slow %.0f ms' % ms)
for how in ['kill', 'exit']:
    for unread in [0, 1]:
        run(unread, how)
")
echo "$out"
expect "$out" "kill 0 eof fast"
expect "$out" "kill 1 ECONNRESET fast"
expect "$out" "exit 0 eof fast"
expect "$out" "exit 1 ECONNRESET fast"

# ---- 4. curl and http.server ----------------------------------------------
www=$FA_TMP/www
mkdir -p "$www"
head -c $((8 << 20)) /dev/urandom > "$www/file.bin"
sha=$(sha256sum < "$www/file.bin" | cut -d' ' -f1)
out=$(kpy "
srv = subprocess.Popen(['python3', '-m', 'http.server', '--bind', K, '--directory', '$www', '7006'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try: socket.create_connection((K, 7006), timeout=1).close(); break
    except OSError: time.sleep(0.05)
r = subprocess.run(RUN + ['curl', '-sS', '--max-time', '60', 'http://%s:7006/file.bin' % K],
                   capture_output=True, timeout=90)
print('curl', r.returncode, hashlib.sha256(r.stdout).hexdigest())
srv.terminate(); srv.wait()
fsrv = subprocess.Popen(RUN + ['python3', '-m', 'http.server', '--directory', '$www', '7007'],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wait_port(7007)
r = subprocess.run(['curl', '-sS', '--max-time', '60', 'http://%s:7007/file.bin' % F],
                   capture_output=True, timeout=90)
print('http.server', r.returncode, hashlib.sha256(r.stdout).hexdigest())
# Both programs on finackd: the stack carries it to itself (loopback).
r = subprocess.run(RUN + ['curl', '-sS', '--max-time', '60', 'http://%s:7007/file.bin' % F],
                   capture_output=True, timeout=90)
print('finack-to-finack', r.returncode, hashlib.sha256(r.stdout).hexdigest())
fsrv.terminate(); fsrv.wait()
")
echo "$out"
expect "$out" "curl 0 $sha"
expect "$out" "http.server 0 $sha"
expect "$out" "finack-to-finack 0 $sha"

# ---- 5. fork and exec -------------------------------------------------------
out=$(kpy "
p = fin('''
import os, socket, sys, signal
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('0.0.0.0', 7008)); l.listen(5)
for _ in range(3):  # wait_port's probe, then two clients
    c, a = l.accept()
    if os.fork() == 0:
        l.close(); d = c.recv(100); c.sendall(b'child %d: ' % os.getpid() + d.upper()); c.close()
        os._exit(0)
    c.close()  # the parent's copy: the child's keeps the connection
print('forked 3', flush=True)
''')
wait_port(7008)
pids = set()
for i in range(2):
    s = socket.create_connection((F, 7008), timeout=10); s.sendall(b'hi %d' % i)
    x = s.recv(100); pids.add(x.split(b':')[0])
    print('fork', x.endswith(b'HI %d' % i), s.recv(100) == b'')
print('children', len(pids), p.communicate(timeout=10)[0].strip())
l = listener(7009)
p = fin('''
import os, socket, subprocess, sys
s = socket.create_connection(('$K', 7009), timeout=10)
subprocess.run([sys.executable, '-c', 'import os, socket; s = socket.socket(fileno=int(os.sys.argv[1])); '
                's.sendall(b\"from exec \" + str(s.getpeername()[1]).encode()); s.close()', str(s.fileno())],
               pass_fds=[s.fileno()], check=True)
s.close()
''')
c, _ = l.accept(); c.settimeout(10)
data = b''
while True:
    x = c.recv(100)
    if not x: break
    data += x
print('exec', data.decode(), p.wait(timeout=10))
")
echo "$out"
expect "$out" "fork True True"
expect "$out" "children 2 forked 3"
expect "$out" "exec from exec 7009 0"

# ---- 6. asyncio with 100 clients; socat and nc half-close -----------------
out=$(kpy "
p = fin('''
import asyncio
async def echo(r, w):
    while True:
        x = await r.read(4096)
        if not x: break
        w.write(x.upper()); await w.drain()
    w.close()
async def main():
    srv = await asyncio.start_server(echo, '0.0.0.0', 7010)
    print('up', flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
''')
p.stdout.readline()
ok = []
def client(i):
    s = socket.create_connection((F, 7010), timeout=20)
    msg = (b'client %d ' % i) * 1000
    s.sendall(msg); s.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        x = s.recv(65536)
        if not x: break
        got += x
    ok.append(got == msg.upper()); s.close()
ts = [threading.Thread(target=client, args=(i,)) for i in range(100)]
[t.start() for t in ts]; [t.join() for t in ts]
print('asyncio', sum(ok)); p.kill(); p.wait()
# socat on finack as the client, then as the server; the kernel's side
# reads to end of stream before it answers, so each half-close must pass.
l = listener(7011)
def upper_once():
    c, _ = l.accept(); data = b''
    while True:
        x = c.recv(65536)
        if not x: break
        data += x
    c.sendall(data.upper()); c.close()
for tool in [['socat', '-t', '10', '-', 'TCP:%s:7011' % K], ['nc', '-N', K, '7011']]:
    t = threading.Thread(target=upper_once); t.start()
    r = subprocess.run(RUN + tool, input=b'half close\n' * 5000, capture_output=True, timeout=30)
    t.join(); print(tool[0], r.returncode, r.stdout == b'HALF CLOSE\n' * 5000)
p = subprocess.Popen(RUN + ['socat', 'TCP-LISTEN:7012,reuseaddr', 'SYSTEM:tr a-z A-Z'])
time.sleep(0.3)
for _ in range(100):
    try: s = socket.create_connection((F, 7012), timeout=10); break
    except OSError: time.sleep(0.05)
s.sendall(b'to socat\n' * 5000); s.shutdown(socket.SHUT_WR)
got = b''
while True:
    x = s.recv(65536)
    if not x: break
    got += x
print('socat-server', got == b'TO SOCAT\n' * 5000, p.wait(timeout=10))
")
echo "$out"
expect "$out" "asyncio 100"
expect "$out" "socat 0 True"
expect "$out" "nc 0 True"
expect "$out" "socat-server True 0"

# ---- 7. bad use, SIGPIPE, no finackd -----------------------------------------
out=$(kpy "
l = listener(7013)
conns = []
threading.Thread(target=lambda: [conns.append(l.accept()[0]) for _ in range(2)], daemon=True).start()
p = fin('''
import errno, os, signal, socket, struct, time
def err(f):
    try:
        f(); return 'ok'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
K, F = '$K', '$F'
s = socket.socket(); s.connect((K, 7013))
print('connect-twice', err(lambda: s.connect((K, 7013))))
print('listen-connected', err(lambda: s.listen(1)))
print('unknown-opt', err(lambda: s.getsockopt(socket.SOL_SOCKET, 12345)),
      err(lambda: s.setsockopt(socket.IPPROTO_TCP, 999, 1)))
print('nodelay', s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
      err(lambda: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)),
      s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
print('type', s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM,
      s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == socket.AF_INET)
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
print('tcp_info state', info[0], 'mss', struct.unpack_from('I', info, 20)[0] > 0)
fd = s.fileno(); s.close()
print('closed-fd', err(lambda: os.read(fd, 1)))
n = socket.socket(); n.setblocking(False)
print('nb-connect', err(lambda: n.connect(('198.18.0.3', 80))), err(lambda: n.connect(('198.18.0.3', 80))))
n.close()
print('refused', err(lambda: socket.create_connection((K, 7999), timeout=5)))
a = socket.socket(); a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); a.bind(('0.0.0.0', 7014)); a.listen(1)
b = socket.socket()
print('addrinuse', err(lambda: b.bind(('0.0.0.0', 7014))))
print('accept-unlistened', err(lambda: b.accept()))
print('peer-unconnected', err(lambda: b.getpeername()))
# SIGPIPE: the kernel's side resets; the first send says ECONNRESET (no
# signal, as Linux), writing on gets EPIPE (ignored signal)
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
w = socket.create_connection((K, 7013)); w.sendall(b'x')
print('ready', flush=True)
time.sleep(0.5)
r = 'no error'
for _ in range(100):
    try:
        w.send(b'y' * 1000); time.sleep(0.01)
    except OSError as e:
        r = errno.errorcode[e.errno]; break
print('write-after-reset', r, err(lambda: w.send(b'z')))
''')
import struct
before = []
while True:
    line = p.stdout.readline()
    if not line or line.strip() == 'ready': break
    before.append(line)
for _ in range(100):  # both accepted (the accept thread may lag)
    if len(conns) == 2: break
    time.sleep(0.05)
c = conns[-1]  # the second connection: the one SIGPIPE is tried on
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
o, e = p.communicate(timeout=20)
print(''.join(before) + o, e)
r = subprocess.run(RUN[:1] + ['--control', '/nonexistent/finackd.sock', 'true'], capture_output=True, text=True)
print('no-daemon', r.returncode, 'finackd is not running' in r.stderr)
r = subprocess.run(RUN[:1] + ['--control', '/nonexistent/finackd.sock', '--passthrough', 'python3', '-c',
                   'import socket; s = socket.create_connection((\"$K\", 7013)); print(s.getsockname()[0])'],
                   capture_output=True, text=True)
print('passthrough', r.returncode, r.stdout.strip())
")
echo "$out"
expect "$out" "connect-twice EISCONN"
expect "$out" "listen-connected EINVAL"
expect "$out" "unknown-opt ENOPROTOOPT ENOPROTOOPT"
expect "$out" "nodelay 0 ok 1"
expect "$out" "type True True"
expect "$out" "tcp_info state 1 mss True"
expect "$out" "closed-fd EBADF"
expect "$out" "nb-connect EINPROGRESS EALREADY"
expect "$out" "refused ECONNREFUSED"
expect "$out" "addrinuse EADDRINUSE"
expect "$out" "accept-unlistened EINVAL"
expect "$out" "peer-unconnected ENOTCONN"
expect "$out" "write-after-reset ECONNRESET EPIPE"
expect "$out" "no-daemon 1 True"
expect "$out" "passthrough 0 $K"
# ---- 8. finack-stat: whose connection is it (L23) -------------------------
out=$(kpy "
l = listener(7015)
p = fin('''
import os, socket, time
s = socket.create_connection(('$K', 7015))
print(os.getpid(), s.getsockname()[1], flush=True); time.sleep(30)
''')
c, _ = l.accept()
pid, port = p.stdout.readline().split()
st = subprocess.run(['$(fa_prog finack-stat)', '--socket', '$FA_TMP/stat.sock'], capture_output=True,
                    text=True).stdout
mine = [x.split() for x in st.splitlines() if ':%s ' % port in x]
print('stat', mine[0][0] if mine else 'missing', mine[0][-1] == pid if mine else '')
p.kill(); p.wait(); c.close()
")
echo "$out"
expect "$out" "stat ESTABLISHED True"
# ---- 9. signals on blocking calls (the C program) --------------------------
out=$(kpy "
p = subprocess.Popen(RUN + [CPROG, 'eintr', '0.0.0.0', '7016'], stdout=subprocess.PIPE, text=True)
lines = [p.stdout.readline().strip(), p.stdout.readline().strip()]  # EINTR line, listening
time.sleep(0.5)  # several SA_RESTART alarms go by while accept() waits
c = socket.create_connection((F, 7016), timeout=10)
o, _ = p.communicate(timeout=20)
print('\n'.join([lines[0]] + o.strip().splitlines()))
c.close()
")
echo "$out"
expect "$out" "accept without SA_RESTART: EINTR"
expect "$out" "accept with SA_RESTART: accepted after several alarms"
expect "$out" "connect with SO_SNDTIMEO 1 s, SA_RESTART signals: Interrupted system call after less than 0.5 s"
expect "$out" "connect with SO_SNDTIMEO 1 s, no signals: Operation now in progress after about 1 s"

# ---- 10. threads on one socket -----------------------------------------------
out=$(kpy "
l = listener(7017)
p = fin('''
import socket, threading
s = socket.create_connection(('$K', 7017))
errors = []
def opts():
    try:
        for _ in range(300):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert s.getpeername()[1] == 7017
    except Exception as e:
        errors.append(repr(e))
def writer():
    for i in range(2000):
        s.sendall(b'%05d' % i)
    [t.join() for t in ts[:3]]  # names and options while connected
    s.shutdown(socket.SHUT_WR)
got = []
def reader():
    while True:
        x = s.recv(65536)
        if not x: break
        got.append(x)
ts = [threading.Thread(target=f) for f in [opts, opts, opts, writer, reader]]
[t.start() for t in ts]; [t.join() for t in ts]
print('threads', len(errors), b''.join(got) == b''.join(b'%05d' % i for i in range(2000)), *errors[:3])
''')
c, _ = l.accept(); c.settimeout(20)
data = b''
while True:
    x = c.recv(65536)
    if not x: break
    data += x
c.sendall(data); c.close()
print(p.communicate(timeout=30)[0].strip())
")
echo "$out"
expect "$out" "threads 0 True"

# ---- 11. UDP: the uppercase echo both ways ---------------------------------
out=$(kpy "
p = fin('''
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', 7019))
print('bound', flush=True)
for _ in range(3):
    d, a = u.recvfrom(2048)
    u.sendto(d.upper(), a)
''')
p.stdout.readline()
k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.settimeout(5)
ok = 0
for msg in [b'hello, udp', b'x' * 1400, b'']:
    k.sendto(msg, (F, 7019))
    d, a = k.recvfrom(2048)
    ok += d == msg.upper() and a == (F, 7019)
print('udp-server', ok, p.wait(timeout=10))
ku = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); ku.bind((K, 7020))
def serve():
    for _ in range(2):
        d, a = ku.recvfrom(2048); ku.sendto(d.upper(), a)
threading.Thread(target=serve, daemon=True).start()
p = fin('''
import os, select, socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
u.sendto(b'unconnected', ('$K', 7020)); d, a = u.recvfrom(100)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(5)
c.connect(('$K', 7020))
os.write(c.fileno(), b'connected')  # bare datagrams: write() and read() work
select.select([c], [], [], 5)
print(d.decode(), a, os.read(c.fileno(), 100).decode())
''')
print('udp-client', p.communicate(timeout=10)[0].strip())
")
echo "$out"
expect "$out" "udp-server 3 0"
expect "$out" "udp-client UNCONNECTED ('$K', 7020) CONNECTED"

# ---- 12. finackd goes away and comes back (the last part) -----------------
out=$(kpy "
l = listener(7018)
p = fin('''
import errno, signal, socket, sys, time
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
s = socket.create_connection(('$K', 7018))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', 7021))
print('connected', flush=True)
x = s.recv(100)  # finackd is killed meanwhile
print('read', 'eof' if x == b'' else x, flush=True)
try:  # a UDP socket fails too, rather than reading empty datagrams for ever
    print('udp', u.recvfrom(100), flush=True)
except OSError as e:
    print('udp', errno.errorcode[e.errno], flush=True)
try:
    for _ in range(10):
        s.send(b'x' * 1000)
    print('write ok', flush=True)
except OSError as e:
    print('write', errno.errorcode[e.errno], flush=True)
last = 'none'
for _ in range(100):  # until a finackd is there again
    try:
        n = socket.socket()
        break
    except OSError as e:
        last = errno.errorcode[e.errno]
        time.sleep(0.1)
n.connect(('$K', 7018)); n.sendall(b'again'); n.close()
print('socket() meanwhile', last, flush=True)
''')
c, _ = l.accept()
assert p.stdout.readline().strip() == 'connected'
t0 = time.monotonic()
os.kill($FA_HOST_PID, signal.SIGKILL)
print(p.stdout.readline().strip(), 'fast' if time.monotonic() - t0 < 1 else 'slow')
print(p.stdout.readline().strip())
print(p.stdout.readline().strip())
time.sleep(0.5)
d = subprocess.Popen(['$(fa_prog finackd)', '--tap', 'fa0', '--addr', F + '/24', '--control', '$CTL',
                      '--exit-wait', '1'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
d.stdout.readline()
c2, _ = l.accept(); c2.settimeout(10)
print('new finackd got', c2.recv(100))
print(p.communicate(timeout=30)[0].strip())
d.terminate(); d.wait()
")
echo "$out"
expect "$out" "read eof fast"
expect "$out" "udp ECONNRESET"
expect "$out" "write EPIPE"
expect "$out" "new finackd got b'again'"
expect "$out" "socket() meanwhile ENETDOWN"
echo "preload: all parts passed"
