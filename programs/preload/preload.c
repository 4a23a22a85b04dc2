/* preload.c — libfinack-preload.so: the socket calls of an unmodified
 * program, for AF_INET (and dual-stack AF_INET6) stream and datagram
 * sockets, carried to finackd; everything else goes to libc untouched.
 *
 * A finack socket is a real descriptor: one end of a socketpair whose
 * other end is finackd's (proto.h). So read, write, send, readv, writev,
 * sendfile, poll, select, epoll, fcntl, ioctl(FIONREAD, FIONBIO), dup,
 * fork and exec are not interposed at all: the kernel does them, with
 * its own blocking, signals (EINTR, SA_RESTART), SIGPIPE and readiness.
 * Interposed here are the calls that name addresses or options: socket,
 * bind, listen, accept, accept4, connect, getsockname, getpeername,
 * getsockopt, setsockopt, shutdown and close; the receives and the sends
 * with a destination are dgram.c.
 *
 * Which descriptors are finack's is asked of the kernel each time
 * (getpeername shows finackd's name for the end), so nothing needs to be
 * inherited across fork or exec. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

#define EXPORT __attribute__((visibility("default")))

static int fail(int neg_errno)
{
    errno = -neg_errno;
    return -1;
}

/* Is fd finackd's? FA_TCP or FA_UDP (and *id) if it belongs to the
 * running finackd, FA_STALE if to one that has gone (a restart), FA_NOT. */
static int finack_id(int fd, uint32_t *id)
{
    return fa_sock_kind(fd, id, NULL);
}

#define ask fa_ask

/* ---- addresses --------------------------------------------------------- */

/* The IPv4 address a sockaddr names; an AF_INET6 one must be :: or
 * v4-mapped, as finack has no IPv6 yet. */
int fa_to_v4(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port,
             int connecting)
{
    if (!sa || len < sizeof(sa_family_t))
        return -EINVAL;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        if (len < sizeof in)
            return -EINVAL;
        memcpy(&in, sa, sizeof in);
        *addr = ntohl(in.sin_addr.s_addr);
        *port = ntohs(in.sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        if (len < sizeof in6)
            return -EINVAL;
        memcpy(&in6, sa, sizeof in6);
        *port = ntohs(in6.sin6_port);
        if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr) && !connecting) {
            *addr = 0;
            return 0;
        }
        if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
            uint32_t a;
            memcpy(&a, &in6.sin6_addr.s6_addr[12], 4);
            *addr = ntohl(a);
            return 0;
        }
        static int told;
        if (!told++)
            fprintf(stderr, "libfinack-preload: finack has no IPv6 yet; only IPv4 and "
                            "v4-mapped (::ffff:a.b.c.d) addresses work\n");
        return connecting ? -ENETUNREACH : -EADDRNOTAVAIL;
    }
    return -EAFNOSUPPORT;
}

/* Writes addr:port as the socket's family gives it (v4-mapped for a
 * dual-stack AF_INET6 socket), truncated to *len as the kernel does. */
void fa_from_v4(uint32_t addr, uint16_t port, int v6, struct sockaddr *sa, socklen_t *len)
{
    union {
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } u;
    socklen_t n;
    memset(&u, 0, sizeof u);
    if (v6) {
        u.in6.sin6_family = AF_INET6;
        u.in6.sin6_port = htons(port);
        if (addr) {
            u.in6.sin6_addr.s6_addr[10] = u.in6.sin6_addr.s6_addr[11] = 0xff;
            uint32_t a = htonl(addr);
            memcpy(&u.in6.sin6_addr.s6_addr[12], &a, 4);
        }
        n = sizeof u.in6;
    } else {
        u.in.sin_family = AF_INET;
        u.in.sin_port = htons(port);
        u.in.sin_addr.s_addr = htonl(addr);
        n = sizeof u.in;
    }
    if (sa && len)
        memcpy(sa, &u, *len < n ? *len : n);
    if (len)
        *len = n;
}

static long fill(int fd);

/* bind/connect refused an IPv6-only socket: say why, once. */
static int v6only_said(int err)
{
    static int told;
    if (err == -EAFNOSUPPORT && !told++)
        fprintf(stderr, "libfinack-preload: an IPv6-only socket (IPV6_V6ONLY): finack has no "
                        "IPv6 yet; leave IPV6_V6ONLY off to be served over IPv4\n");
    return err;
}

/* ---- making sockets -------------------------------------------------- */

EXPORT int socket(int domain, int type, int protocol)
{
    fa_real_resolve();
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int tcp = base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
    int udp = base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP);
    if ((domain != AF_INET && domain != AF_INET6) || (!tcp && !udp))
        return fa_real.socket(domain, type, protocol);
    struct fad_req q = { .op = FAD_SOCKET,
                         .a = (domain == AF_INET6 ? FAD_SOCK_V6 : 0) | (udp ? FAD_SOCK_UDP : 0) };
    struct fad_rep r;
    int fd = -1;
    int err = fa_ctl_request(&q, &r, -1, &fd, type & SOCK_CLOEXEC);
    if (err == -ENETDOWN && fa_ctl_passthrough())
        return fa_real.socket(domain, type, protocol);
    if (!err)
        err = r.ret;
    if (err < 0 || fd < 0)
        return fail(err < 0 ? err : fd < -1 ? fd : -EPROTO);
    if (type & SOCK_NONBLOCK)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fa_dgram_mark(fd, udp);
    return fd;
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    uint32_t id;
    int mine = finack_id(fd, &id);
    if (!mine)
        return fa_real.bind(fd, sa, len);
    if (mine < 0)
        return fail(-EINVAL);
    struct fad_req q = { .op = FAD_BIND, .id = id };
    struct fad_rep r;
    int err = fa_to_v4(sa, len, &q.addr, &q.port, 0);
    if (!err)
        err = v6only_said(ask(fd, &q, &r));
    return err < 0 ? fail(err) : 0;
}

EXPORT int listen(int fd, int backlog)
{
    uint32_t id;
    int mine = finack_id(fd, &id);
    if (!mine)
        return fa_real.listen(fd, backlog);
    if (mine < 0)
        return fail(-EINVAL);
    struct fad_req st = { .op = FAD_STATE, .id = id };
    struct fad_rep r;
    int err = ask(fd, &st, &r);
    int first = err == 0 && r.val != FAD_ST_LISTENING;
    struct fad_req q = { .op = FAD_LISTEN, .id = id, .a = backlog };
    err = ask(fd, &q, &r);
    if (err < 0)
        return fail(err);
    if (first) /* a listening socket does not poll writable (proto.h) */
        fill(fd);
    return 0;
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    uint32_t id;
    int mine = finack_id(fd, &id);
    if (!mine)
        return fa_real.accept4(fd, sa, len, flags);
    if (mine < 0)
        return fail(-EINVAL);
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return fail(-EINVAL);
    if (mine == FA_UDP)
        return fail(-EOPNOTSUPP);
    struct fad_req st = { .op = FAD_STATE, .id = id };
    struct fad_rep sr;
    int err = ask(fd, &st, &sr);
    if (err < 0 || sr.val != FAD_ST_LISTENING) /* not listening: Linux says EINVAL */
        return fail(err < 0 && err != -ENOTCONN ? err : -EINVAL);
    /* No descriptor to take the connection into: say so before taking
     * it (Linux leaves it queued). */
    int probe = fa_real.fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (probe < 0)
        return -1;
    fa_real.close(probe);
    /* One byte per waiting connection (proto.h): this read blocks, or
     * says EAGAIN, or is interrupted, exactly as accept() would be. */
    char byte;
    ssize_t n = fa_real.recvfrom(fd, &byte, 1, 0, NULL, NULL);
    if (n <= 0)
        return n == 0 ? fail(-EINVAL) : -1; /* 0: not a listener, or finackd went */
    struct fad_req q = { .op = FAD_ACCEPT, .id = id };
    struct fad_rep r;
    int nfd = -1;
    /* fd goes along as the proof; if another thread closed it while this
     * one waited, the connection is given up (ECONNABORTED; Linux's
     * accept would still complete). */
    err = fa_ctl_request(&q, &r, fd, &nfd, flags & SOCK_CLOEXEC);
    if (!err)
        err = r.ret;
    if (err == -EBADF || err == -EPERM || err == -ENOTCONN) /* fd closed meanwhile */
        err = -ECONNABORTED;
    if (err < 0 || nfd < 0)
        return fail(err == -EAGAIN ? -ECONNABORTED : err < 0 ? err : nfd < -1 ? nfd : -EPROTO);
    if (flags & SOCK_NONBLOCK)
        fcntl(nfd, F_SETFL, fcntl(nfd, F_GETFL) | O_NONBLOCK);
    if (sa && len) {
        struct fad_req d = { .op = FAD_GETOPT, .id = r.id, .a = SOL_SOCKET, .b = SO_DOMAIN };
        struct fad_rep dr;
        int v6 = ask(nfd, &d, &dr) == 0 && dr.val == AF_INET6;
        fa_from_v4(r.addr, r.port, v6, sa, len);
    }
    return nfd;
}

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    return accept4(fd, sa, len, 0);
}

/* ---- connect ----------------------------------------------------------- */

/* Fills fd's send buffer to the brim (EAGAIN), so it neither polls
 * writable nor takes a write until finackd drains it at the end of the
 * handshake (proto.h). Bytes written. */
static long fill(int fd)
{
    static const char zeros[65536];
    long total = 0;
    for (int i = 0; i < 1024; i++) {
        ssize_t n = send(fd, zeros, sizeof zeros, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        total += n;
    }
    return total;
}

/* A blocking connect waits as Linux's does, in a call the kernel itself
 * blocks, restarts (SA_RESTART) or interrupts (EINTR), and times out
 * (SO_SNDTIMEO, then EINPROGRESS): a send of one more filler byte, which
 * goes once finackd drains the rest. If it never goes, finackd is told
 * to expect one byte fewer. */
static int wait_connected(int fd, uint32_t id)
{
    char byte = 0;
    if (send(fd, &byte, 1, MSG_NOSIGNAL) == 1)
        return 0;
    if (errno == EPIPE) /* it failed: finackd shut the end (connect() says why) */
        return 0;
    int err = errno == EAGAIN || errno == EWOULDBLOCK ? EINPROGRESS : errno;
    struct fad_req q = { .op = FAD_UNFILL, .id = id, .val = 1 };
    struct fad_rep r;
    ask(fd, &q, &r);
    return -err;
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    uint32_t id;
    int mine = finack_id(fd, &id);
    if (!mine)
        return fa_real.connect(fd, sa, len);
    if (mine < 0)
        return fail(-ECONNRESET);
    struct fad_req q = { .op = FAD_CONNECT, .id = id };
    struct fad_rep r;
    if (mine == FA_UDP) { /* at once; AF_UNSPEC disconnects */
        int err = sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC
                      ? 0
                      : fa_to_v4(sa, len, &q.addr, &q.port, 1);
        if (!err)
            err = ask(fd, &q, &r);
        if (!err && fa_dgram_marked(fd))
            fa_dgram_peer(fd, q.addr, q.addr ? q.port : 0);
        return err < 0 ? fail(err) : 0;
    }
    int err = fa_to_v4(sa, len, &q.addr, &q.port, 1);
    if (err)
        return fail(err);
    struct fad_req st = { .op = FAD_STATE, .id = id };
    err = ask(fd, &st, &r);
    if (err < 0)
        return fail(err);
    /* Only a fresh socket starts a handshake; on others finackd answers
     * as Linux does (EALREADY, EISCONN, 0 once after a non-blocking
     * connect completed, the error once after it failed). */
    int blocking = !(fcntl(fd, F_GETFL) & O_NONBLOCK);
    if (r.val == FAD_ST_FRESH)
        q.val = fill(fd) + blocking; /* + the byte wait_connected sends */
    err = v6only_said(ask(fd, &q, &r));
    if (err == -EINPROGRESS && blocking && q.val) {
        err = wait_connected(fd, id);
        if (!err) {
            q.val = 0;
            err = ask(fd, &q, &r); /* how it ended: 0 or the error */
        }
    } else if (err == -EINPROGRESS && blocking) {
        err = 0; /* not ours to start (cannot be: a fresh socket fills) */
    }
    return err < 0 ? fail(err) : 0;
}

/* close() is the kernel's; for the last descriptor of a finack socket,
 * finackd then closes the socket before close() returns, so a port the
 * program listened on is free at once (finackd would otherwise learn of
 * it a moment later, from epoll). */
EXPORT int close(int fd)
{
    uint32_t id;
    fa_real_resolve();
    int mine = finack_id(fd, &id);
    int rc = fa_real.close(fd);
    if (rc == 0)
        fa_dgram_mark(fd, 0);
    if (mine > 0 && rc == 0) {
        int saved = errno;
        struct fad_req q = { .op = FAD_CLOSE, .id = id };
        struct fad_rep r;
        fa_ctl_request(&q, &r, -1, NULL, 0); /* fd is gone: no proof, none needed */
        errno = saved;
    }
    return rc;
}

/* dup(), dup2(), dup3() and fcntl(F_DUPFD) are the kernel's; the new
 * descriptor's UDP mark follows the old one's. */
EXPORT int dup(int old)
{
    fa_real_resolve();
    int fd = fa_real.dup(old);
    if (fd >= 0)
        fa_dgram_copy(old, fd);
    return fd;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *); /* every fcntl argument fits a pointer */
    va_end(ap);
    fa_real_resolve();
    int rc = fa_real.fcntl(fd, cmd, arg);
    if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
        fa_dgram_copy(fd, rc);
    return rc;
}

/* What fcntl() is in programs built against glibc 2.28 and later. */
int fcntl64(int fd, int cmd, ...);
EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}

/* dup2() and dup3() are the kernel's; the target's UDP mark follows. */
EXPORT int dup3(int old, int new, int flags)
{
    fa_real_resolve();
    int rc = fa_real.dup3(old, new, flags);
    if (rc >= 0)
        fa_dgram_copy(old, new);
    return rc;
}

EXPORT int dup2(int old, int new)
{
    fa_real_resolve();
    int rc = fa_real.dup2(old, new);
    if (rc >= 0 && old != new)
        fa_dgram_copy(old, new);
    return rc;
}

/* shutdown() is the kernel's on the descriptor (finackd sees it on its
 * end), except where Linux refuses (a socket not connected: ENOTCONN)
 * and on a listener, which stops listening (finackd does that). */
EXPORT int shutdown(int fd, int how)
{
    uint32_t id;
    fa_real_resolve();
    int mine = finack_id(fd, &id);
    if (mine > 0) {
        if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
            return fail(-EINVAL);
        struct fad_req st = { .op = FAD_STATE, .id = id };
        struct fad_rep r;
        int err = ask(fd, &st, &r);
        int listening = err == 0 && r.val == FAD_ST_LISTENING;
        struct fad_req q = { .op = FAD_SHUTDOWN, .id = id, .a = how };
        err = ask(fd, &q, &r);
        if (err < 0 || listening) /* a listener: finackd did it all */
            return err < 0 ? fail(err) : 0;
    }
    return fa_real.shutdown(fd, how);
}

/* ---- names and options ------------------------------------------------- */

static int name_of(int fd, struct sockaddr *sa, socklen_t *len, int peer)
{
    uint32_t id;
    int mine = finack_id(fd, &id);
    if (!mine)
        return peer ? fa_real.getpeername(fd, sa, len) : fa_real.getsockname(fd, sa, len);
    if (mine < 0)
        return fail(-ENOTCONN);
    if (!len)
        return fail(-EFAULT);
    struct fad_req q = { .op = FAD_NAME, .id = id, .a = peer };
    struct fad_rep r;
    int err = ask(fd, &q, &r);
    if (err < 0)
        return fail(err);
    struct fad_req d = { .op = FAD_GETOPT, .id = id, .a = SOL_SOCKET, .b = SO_DOMAIN };
    struct fad_rep dr;
    int v6 = ask(fd, &d, &dr) == 0 && dr.val == AF_INET6;
    fa_from_v4(r.addr, r.port, v6, sa, len);
    return 0;
}

EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    return name_of(fd, sa, len, 0);
}

EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    return name_of(fd, sa, len, 1);
}

/* Timeouts live on the descriptor itself: the kernel applies them to
 * the reads and writes it does on it. */
static int on_descriptor(int level, int name)
{
    return level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO
#ifdef SO_RCVTIMEO_NEW
                                   || name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW
#endif
                                   || name == SO_RCVLOWAT);
}

static void fill_tcp_info(const struct fad_info *i, struct tcp_info *t)
{
    memset(t, 0, sizeof *t);
    t->tcpi_state = i->state;
    t->tcpi_options = i->options;
    t->tcpi_snd_wscale = i->snd_wscale & 15;
    t->tcpi_rcv_wscale = i->rcv_wscale & 15;
    t->tcpi_rto = i->rto_us;
    t->tcpi_snd_mss = i->snd_mss;
    t->tcpi_rcv_mss = i->rcv_mss;
    t->tcpi_unacked = i->unacked;
    t->tcpi_sacked = i->sacked;
    t->tcpi_lost = i->lost;
    t->tcpi_rtt = i->rtt_us;
    t->tcpi_rttvar = i->rttvar_us;
    t->tcpi_snd_ssthresh = i->snd_ssthresh;
    t->tcpi_snd_cwnd = i->snd_cwnd;
    t->tcpi_advmss = i->snd_mss;
    t->tcpi_rcv_space = i->rcv_space;
    t->tcpi_total_retrans = i->retrans_total;
}

static void put(void *val, socklen_t *len, const void *src, socklen_t n)
{
    if (*len < n)
        n = *len;
    memcpy(val, src, n);
    *len = n;
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    uint32_t id;
    int mine = on_descriptor(level, name) ? 0 : finack_id(fd, &id);
    if (!mine)
        return fa_real.getsockopt(fd, level, name, val, len);
    if (mine < 0)
        return fail(-ENOTCONN);
    if (!val || !len || (int)*len < 0)
        return fail(-EFAULT);
    struct fad_rep r;
    if (level == IPPROTO_TCP && name == TCP_INFO) {
        struct fad_req q = { .op = FAD_INFO, .id = id };
        int err = ask(fd, &q, &r);
        if (err < 0)
            return fail(err);
        struct tcp_info t;
        fill_tcp_info(&r.info, &t);
        put(val, len, &t, sizeof t);
        return 0;
    }
    struct fad_req q = { .op = FAD_GETOPT, .id = id, .a = level, .b = name };
    int err = ask(fd, &q, &r);
    if (err < 0)
        return fail(err);
    if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
        char cc[16] = { 0 };
        strcpy(cc, r.val == 1 ? "reno" : "cubic");
        put(val, len, cc, sizeof cc);
    } else if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l = { .l_onoff = r.val >= 0, .l_linger = r.val > 0 ? (int)(r.val / 1000) : 0 };
        put(val, len, &l, sizeof l);
    } else {
        int v = (int)r.val;
        put(val, len, &v, sizeof v);
    }
    return 0;
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    uint32_t id;
    int mine = on_descriptor(level, name) ? 0 : finack_id(fd, &id);
    if (!mine)
        return fa_real.setsockopt(fd, level, name, val, len);
    if (mine < 0)
        return fail(-ENOTCONN);
    struct fad_req q = { .op = FAD_SETOPT, .id = id, .a = level, .b = name };
    if (!val)
        return fail(-EFAULT);
    if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
        char cc[16] = { 0 };
        memcpy(cc, val, len < sizeof cc - 1 ? len : sizeof cc - 1);
        if (!strcmp(cc, "cubic"))
            q.val = 0;
        else if (!strcmp(cc, "reno"))
            q.val = 1;
        else
            return fail(-ENOENT);
    } else if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (len < sizeof l)
            return fail(-EINVAL);
        memcpy(&l, val, sizeof l);
        q.val = l.l_onoff ? (int64_t)(l.l_linger < 0 ? 0 : l.l_linger) * 1000 : -1;
    } else {
        int v = 0;
        if (len < sizeof v)
            return fail(-EINVAL);
        memcpy(&v, val, sizeof v);
        q.val = v;
        if (level == SOL_SOCKET && name == SO_SNDBUF) /* what may wait in our end */
            fa_real.setsockopt(fd, level, name, val, len);
    }
    struct fad_rep r;
    int err = ask(fd, &q, &r);
    return err < 0 ? fail(err) : 0;
}

