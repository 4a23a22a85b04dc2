/* dgram.c — the receive and send calls: recv, recvfrom, recvmsg (and
 * glibc's checked __recv_chk, __recvfrom_chk), send, sendto, sendmsg.
 *
 * Every receive is made as one recvmsg() that also asks for the sender's
 * name, which costs the same one system call and says, for free, whether
 * the descriptor is finack's (finackd's end is named, proto.h):
 *   - a kernel socket: the name goes to the caller as asked;
 *   - a finack TCP socket: no name (Linux gives none for TCP);
 *   - a finack UDP socket: a datagram that starts with a struct
 *     fad_dgram (an unconnected socket) loses it, and its source becomes
 *     the name; a bare one (a connected socket) came from the peer.
 * The UDP sockets this process made are marked (socket() marks, close()
 * and dup2() keep the marks true): for them the header is peeked first
 * and read into a buffer of its own, so the caller's room is all the
 * payload's — a 4-byte read gets 4 bytes and the source. The peek also
 * names the socket, so a stale mark costs a system call, never data.
 * Unmarked (inherited across exec), a datagram is read as it comes: the
 * header takes 16 bytes of the room (a long datagram is cut that much
 * early; under 16 bytes of room, the source is lost). read() and readv()
 * are not interposed: on an unconnected finack UDP socket they show the
 * header (use recv*).
 * Sends with a destination: UDP prepends the header; TCP ignores the
 * destination as Linux does (a socketpair would say EISCONN), except
 * with MSG_FASTOPEN, where it connects first (without the data on the
 * SYN: finack has no TCP Fast Open).
 * A failed connection (reset, timed out) says its error once, as Linux's:
 * to the first send (finackd's end refuses it with EPIPE, and SO_ERROR
 * holds why; SIGPIPE only for EPIPE), or to the recv that reads end of
 * stream when no FIN came before (FAD_RECV_END). read() and write() say
 * end of stream and EPIPE. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "ctl.h"

#define EXPORT __attribute__((visibility("default")))

/* Bytes [k, written) of the iovecs move to [0, written - k). */
static void iov_strip(struct iovec *iov, size_t cnt, size_t written, size_t k)
{
    size_t di = 0, doff = 0, si = 0, soff = k;
    while (si < cnt && soff >= iov[si].iov_len) /* find the source start */
        soff -= iov[si++].iov_len;
    for (size_t left = written - k; left && si < cnt && di < cnt;) {
        size_t n = iov[si].iov_len - soff;
        if (n > iov[di].iov_len - doff)
            n = iov[di].iov_len - doff;
        if (n > left)
            n = left;
        memmove((char *)iov[di].iov_base + doff, (char *)iov[si].iov_base + soff, n);
        left -= n;
        if ((soff += n) == iov[si].iov_len)
            si++, soff = 0;
        if ((doff += n) == iov[di].iov_len)
            di++, doff = 0;
    }
}

/* The first n bytes of the iovecs (n <= what they hold). */
static void iov_peek(const struct iovec *iov, size_t cnt, void *out, size_t n)
{
    for (size_t i = 0; i < cnt && n; i++) {
        size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
        memcpy(out, iov[i].iov_base, k);
        out = (char *)out + k;
        n -= k;
    }
}

/* ---- marks ---------------------------------------------------------------- */

#define MARKS 65536
static unsigned char marks[MARKS / 8];
/* The connected peer of a marked socket (addr 0: none): the source of
 * its bare datagrams, without asking finackd for each. */
static struct {
    uint32_t addr;
    uint16_t port;
} peers[MARKS];

void fa_dgram_peer(int fd, uint32_t addr, uint16_t port)
{
    if (fd < 0 || fd >= MARKS)
        return;
    __atomic_store_n(&peers[fd].addr, addr, __ATOMIC_RELAXED);
    __atomic_store_n(&peers[fd].port, port, __ATOMIC_RELAXED);
}

/* Inherited across exec: which descriptors are finack UDP sockets? */
void fa_dgram_scan(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int self = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        int fd = atoi(e->d_name);
        uint32_t id;
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == self)
            continue;
        if (fa_sock_kind(fd, &id, NULL) == FA_UDP) {
            fa_dgram_mark(fd, 1);
            struct fad_req q = { .op = FAD_NAME, .id = id, .a = 1 };
            struct fad_rep r;
            if (fa_ask(fd, &q, &r) == 0)
                fa_dgram_peer(fd, r.addr, r.port);
        }
    }
    closedir(d);
}

void fa_dgram_mark(int fd, int udp)
{
    if (fd < 0 || fd >= MARKS)
        return;
    if (!udp)
        fa_dgram_peer(fd, 0, 0);
    unsigned char bit = (unsigned char)(1u << (fd & 7));
    if (udp)
        __atomic_fetch_or(&marks[fd >> 3], bit, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(&marks[fd >> 3], (unsigned char)~bit, __ATOMIC_RELAXED);
}

void fa_dgram_copy(int from, int to)
{
    int m = fa_dgram_marked(from);
    fa_dgram_mark(to, m);
    if (m && from < MARKS && to >= 0 && to < MARKS)
        fa_dgram_peer(to, __atomic_load_n(&peers[from].addr, __ATOMIC_RELAXED),
                      __atomic_load_n(&peers[from].port, __ATOMIC_RELAXED));
}

int fa_dgram_marked(int fd)
{
    return fd >= 0 && fd < MARKS &&
           (__atomic_load_n(&marks[fd >> 3], __ATOMIC_RELAXED) >> (fd & 7) & 1);
}

static size_t iov_total(const struct iovec *iov, size_t cnt)
{
    size_t t = 0;
    for (size_t i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

/* A zero-length read on a finack UDP socket: an empty datagram (from a
 * connected peer; an unconnected one's carry a header), or the end of
 * finackd's side — it went away, which a UDP socket reports as an error
 * rather than reading empty datagrams for ever. */
static int udp_gone(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

/* A datagram of finack UDP socket id: its header off, its source as
 * the caller's name. Returns the payload's length. */
static ssize_t udp_received(int fd, uint32_t id, int v6, struct msghdr *m, ssize_t n, int flags,
                            void *uname, socklen_t ucap)
{
    struct fad_dgram h;
    size_t hl = sizeof h;
    size_t written = (size_t)n;
    size_t room = iov_total(m->msg_iov, m->msg_iovlen);
    if (written > room) /* MSG_TRUNC asked: n is the datagram's length */
        written = room;
    uint32_t addr = 0;
    uint16_t port = 0;
    int bare = 1;
    if (!fa_dgram_marked(fd)) /* learnt now: the next reads are exact */
        fa_dgram_mark(fd, 1);
    if (n == 0 && udp_gone(fd)) /* finackd went away: not an empty datagram */
        return -ECONNRESET;
    if (written >= hl) {
        iov_peek(m->msg_iov, m->msg_iovlen, &h, hl);
        if (h.magic == fad_magic(fa_ctl_instance())) {
            iov_strip(m->msg_iov, m->msg_iovlen, written, hl);
            n -= (ssize_t)hl;
            addr = h.addr;
            port = h.port;
            bare = 0;
        }
    }
    (void)flags;
    if (uname && bare) { /* from the connected peer */
        if (fa_dgram_marked(fd) && __atomic_load_n(&peers[fd].addr, __ATOMIC_RELAXED)) {
            addr = __atomic_load_n(&peers[fd].addr, __ATOMIC_RELAXED);
            port = __atomic_load_n(&peers[fd].port, __ATOMIC_RELAXED);
        } else { /* not known here (a copy made before the connect): ask */
            struct fad_req q = { .op = FAD_NAME, .id = id, .a = 1 };
            struct fad_rep r;
            if (fa_ask(fd, &q, &r) == 0) {
                addr = r.addr;
                port = r.port;
            }
        }
    }
    m->msg_name = uname;
    m->msg_namelen = ucap;
    if (uname)
        fa_from_v4(addr, port, v6, uname, &m->msg_namelen);
    else
        m->msg_namelen = 0;
    return n;
}

/* A marked UDP socket: the next datagram's header peeked, then read into
 * h with the payload in the caller's iovecs. Returns -2 when the peek
 * shows fd is not (or no longer) a finack UDP socket. */
static ssize_t udp_exact(int fd, struct msghdr *m, int flags)
{
    union {
        struct sockaddr_un un;
        struct sockaddr_storage ss;
    } name;
    struct fad_dgram h;
    struct iovec hv = { .iov_base = &h, .iov_len = sizeof h };
    struct msghdr pm = { .msg_name = &name, .msg_namelen = sizeof name, .msg_iov = &hv,
                         .msg_iovlen = 1 };
    ssize_t n = fa_real.recvmsg(fd, &pm, flags | MSG_PEEK);
    if (n < 0)
        return n; /* EAGAIN, EINTR...: what the read would have said */
    if (n == 0 && pm.msg_namelen == 0 && udp_gone(fd)) { /* finackd went away */
        errno = ECONNRESET;
        return -1;
    }
    uint32_t id;
    int v6 = 0;
    if (fa_name_kind(&name, pm.msg_namelen, &id, &v6) != FA_UDP) {
        fa_dgram_mark(fd, 0);
        return -2;
    }
    if (n < (ssize_t)sizeof h || h.magic != fad_magic(fa_ctl_instance()))
        return -3; /* bare: the plain path reads it */
    struct iovec v[65];
    if (m->msg_iovlen > 64) {
        errno = EMSGSIZE;
        return -1;
    }
    v[0] = hv;
    memcpy(v + 1, m->msg_iov, m->msg_iovlen * sizeof *v);
    struct msghdr rm = *m;
    rm.msg_name = NULL;
    rm.msg_namelen = 0;
    rm.msg_iov = v;
    rm.msg_iovlen = m->msg_iovlen + 1;
    n = fa_real.recvmsg(fd, &rm, flags);
    if (n < 0)
        return n;
    m->msg_flags = rm.msg_flags;
    m->msg_controllen = rm.msg_controllen;
    if (m->msg_name)
        fa_from_v4(h.addr, h.port, v6, m->msg_name, &m->msg_namelen);
    else
        m->msg_namelen = 0;
    return n - (ssize_t)sizeof h;
}

/* Descriptors that came with a message: finack UDP sockets get marks. */
static void mark_passed(const struct msghdr *m)
{
    for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR((struct msghdr *)m, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            uint32_t id;
            memcpy(&fd, CMSG_DATA(h) + i * sizeof fd, sizeof fd);
            fa_dgram_mark(fd, fa_sock_kind(fd, &id, NULL) == FA_UDP);
        }
    }
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    fa_real_resolve();
    if (!m)
        return fa_real.recvmsg(fd, m, flags);
    if (flags & MSG_ERRQUEUE) { /* a finack socket has no error queue */
        uint32_t id;
        if (fa_sock_kind(fd, &id, NULL) != FA_NOT) {
            errno = EAGAIN;
            return -1;
        }
        return fa_real.recvmsg(fd, m, flags);
    }
    if (fa_dgram_marked(fd)) {
        ssize_t n = udp_exact(fd, m, flags);
        if (n >= -1)
            return n;
    }
    union {
        struct sockaddr_un un;
        struct sockaddr_storage ss;
    } name;
    void *uname = m->msg_name;
    socklen_t ucap = m->msg_namelen;
    m->msg_name = &name;
    m->msg_namelen = sizeof name;
    ssize_t n = fa_real.recvmsg(fd, m, flags);
    socklen_t got = m->msg_namelen;
    m->msg_name = uname;
    m->msg_namelen = uname ? ucap : 0;
    if (n < 0)
        return n;
    if (m->msg_controllen)
        mark_passed(m);
    uint32_t id;
    int v6 = 0;
    switch (fa_name_kind(&name, got, &id, &v6)) {
    case FA_UDP:
        n = udp_received(fd, id, v6, m, n, flags, uname, ucap);
        if (n < -1) {
            errno = (int)-n;
            n = -1;
        }
        return n;
    case FA_TCP:
    case FA_STALE:
        m->msg_namelen = 0; /* TCP reports no source */
        return n;
    }
    /* End of stream carries no name: a finack TCP socket's may be an
     * error to say instead. */
    if (n == 0 && got == 0 && iov_total(m->msg_iov, m->msg_iovlen) &&
        fa_sock_kind(fd, &id, NULL) == FA_TCP) {
        struct fad_req q = { .op = FAD_RECV_END, .id = id };
        struct fad_rep r;
        if (fa_ask(fd, &q, &r) == 0 && r.val > 0) {
            errno = (int)r.val;
            return -1;
        }
        m->msg_namelen = 0;
        return n;
    }
    if (uname) { /* a kernel socket's: as the kernel gave it */
        memcpy(uname, &name, got < ucap ? got : ucap);
        m->msg_namelen = got;
    }
    return n;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
                        socklen_t *salen)
{
    struct iovec v = { .iov_base = buf, .iov_len = len };
    struct msghdr m = { .msg_name = sa && salen ? sa : NULL, .msg_namelen = salen ? *salen : 0,
                        .msg_iov = &v, .msg_iovlen = 1 };
    ssize_t n = recvmsg(fd, &m, flags);
    if (n >= 0 && sa && salen)
        *salen = m.msg_namelen;
    return n;
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    return recvfrom(fd, buf, len, flags, NULL, NULL);
}

/* What recv() and recvfrom() become in programs built with
 * _FORTIFY_SOURCE (Python among them): glibc's checked entries. */
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *sa, socklen_t *salen);

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        abort(); /* what glibc's __chk_fail does: a buffer overflow */
    return recv(fd, buf, len, flags);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                              struct sockaddr *sa, socklen_t *salen)
{
    if (len > buflen)
        abort();
    return recvfrom(fd, buf, len, flags, sa, salen);
}

/* A UDP datagram to sa: the header first, then the caller's iovecs. */
static ssize_t udp_send(int fd, const struct sockaddr *sa, socklen_t salen,
                        const struct iovec *iov, size_t cnt, int flags)
{
    struct fad_dgram h = { .magic = fad_magic(fa_ctl_instance()) };
    int err = fa_to_v4(sa, salen, &h.addr, &h.port, 1);
    if (err) {
        errno = -err;
        return -1;
    }
    struct iovec v[65];
    if (cnt > 64 || iov_total(iov, cnt) > (size_t)fa_ctl_udp_max()) {
        errno = EMSGSIZE; /* finack does not fragment */
        return -1;
    }
    v[0].iov_base = &h;
    v[0].iov_len = sizeof h;
    memcpy(v + 1, iov, cnt * sizeof *iov);
    struct msghdr m = { .msg_iov = v, .msg_iovlen = cnt + 1 };
    ssize_t n = fa_real.sendmsg(fd, &m, flags);
    return n < 0 ? n : n - (ssize_t)sizeof h;
}

/* A send refused with EPIPE: on a finack TCP socket, the connection's
 * pending error comes first (Linux's sk_stream_error); SIGPIPE, which
 * the real call was told not to raise, only for EPIPE. */
static ssize_t send_failed(int fd, int flags)
{
    int err = EPIPE;
    uint32_t id;
    if (fa_sock_kind(fd, &id, NULL) == FA_TCP) {
        struct fad_req q = { .op = FAD_GETOPT, .id = id, .a = SOL_SOCKET, .b = SO_ERROR };
        struct fad_rep r;
        if (fa_ask(fd, &q, &r) == 0 && r.val > 0)
            err = (int)r.val;
    }
    if (err == EPIPE && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
    errno = err;
    return -1;
}

/* A stream send: its error as above. */
static ssize_t stream_sendmsg(int fd, const struct msghdr *m, int flags)
{
    ssize_t n = fa_real.sendmsg(fd, m, flags | MSG_NOSIGNAL);
    return n < 0 && errno == EPIPE ? send_failed(fd, flags) : n;
}

static ssize_t stream_send(int fd, const void *buf, size_t len, int flags)
{
    ssize_t n = fa_real.sendto(fd, buf, len, flags | MSG_NOSIGNAL, NULL, 0);
    return n < 0 && errno == EPIPE ? send_failed(fd, flags) : n;
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    fa_real_resolve();
    return stream_send(fd, buf, len, flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa,
                      socklen_t salen)
{
    uint32_t id;
    fa_real_resolve();
    int kind = sa ? fa_sock_kind(fd, &id, NULL) : FA_NOT;
    if (kind == FA_UDP) {
        struct iovec v = { .iov_base = (void *)buf, .iov_len = len };
        return udp_send(fd, sa, salen, &v, 1, flags);
    }
    if (kind == FA_TCP && (flags & MSG_FASTOPEN)) { /* connect, then send */
        if (connect(fd, sa, salen) < 0) /* EISCONN on a connected one, as Linux */
            return -1;
        return stream_send(fd, buf, len, flags & ~MSG_FASTOPEN);
    }
    if (kind != FA_NOT || !sa) /* TCP: the destination is ignored */
        return stream_send(fd, buf, len, flags);
    return fa_real.sendto(fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    uint32_t id;
    fa_real_resolve();
    int kind = m && m->msg_name ? fa_sock_kind(fd, &id, NULL) : FA_NOT;
    if (kind == FA_UDP)
        return udp_send(fd, m->msg_name, m->msg_namelen, m->msg_iov, m->msg_iovlen, flags);
    if (kind != FA_NOT) {
        struct msghdr plain = *m;
        plain.msg_name = NULL;
        plain.msg_namelen = 0;
        return stream_sendmsg(fd, &plain, flags);
    }
    if (m && !m->msg_name)
        return stream_sendmsg(fd, m, flags);
    return fa_real.sendmsg(fd, m, flags);
}
