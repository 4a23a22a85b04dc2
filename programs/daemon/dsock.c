/* dsock.c — finackd's sockets (see dsock.h): making them, the socket
 * calls programs ask for, and the pump between each connection and its
 * socketpair. Options are dsock_opt.c.
 *
 * The pump, per connected socket, runs whenever TCP or the socketpair
 * end may have changed (the run loop's callback, epoll in edge-triggered
 * mode):
 *   program -> TCP: read the end until EAGAIN or TCP's send buffer is
 *     full; what TCP did not take waits in tx. End of stream from the
 *     program is shutdown(SHUT_WR).
 *   TCP -> program: fa_tcp_recv into the end until it is full (then TCP's
 *     window closes, as the program is not reading); the peer's FIN is
 *     shutdown(SHUT_WR) of our end, so the program reads end of stream.
 *   When every copy of the program's end is closed — close(), exit,
 *     SIGKILL — the connection is closed as the kernel closes a dead
 *     process's socket (spec L22): FIN after all the program wrote, or at
 *     once RST where it left received data unread or set SO_LINGER 0
 *     (RFC 9293 §3.10.4). EPOLLHUP alone does not say so (it also means
 *     both directions are shut down), so the kernel is asked whether the
 *     program's end still exists (sock_diag, by inode).
 *   A connection that fails (reset, timeout) shuts our end down both
 *     ways: the program reads what was delivered, then end of stream;
 *     writes fail with EPIPE; SO_ERROR says why. */
#include "dsock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SLOT_BITS 16
#define SLOTS (1u << SLOT_BITS)
#define CHUNK 65536
#define MAX_BACKLOG 4096 /* Linux's somaxconn */
#define TOMBS 1024

/* A socket finackd let go of (for a program that asks about a socket of
 * a finackd that restarted, or races a close): its own name is kept. */
struct tomb {
    uint32_t id, addr;
    uint16_t port;
    uint8_t v6;
};

struct dsock_table {
    struct fa_stack *stack;
    struct fa_loop *loop;
    int epfd;
    int diag; /* NETLINK_SOCK_DIAG, or -1: then EPOLLHUP is taken as close */
    uint32_t diag_seq;
    uint64_t instance;
    unsigned max, count, hint;
    struct dsock **slot;
    uint16_t *gen;
    struct tomb tombs[TOMBS];
    unsigned next_tomb;
    struct dsock *gone; /* let go of, freed at dsock_reap() */
    struct dsock *pending; /* UDP sockets with more to send (dsock_udp.c) */
    uint8_t scratch[CHUNK];
};

static void pump(struct dsock_table *t, struct dsock *s, fa_time now);

struct dsock_table *dsock_table_create(struct fa_stack *stack, struct fa_loop *loop,
                                       int epfd, uint64_t instance, unsigned max)
{
    struct dsock_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max = max < SLOTS ? max : SLOTS;
    t->slot = calloc(t->max, sizeof *t->slot);
    t->gen = calloc(t->max, sizeof *t->gen);
    if (!t->slot || !t->gen) {
        free(t->slot);
        free(t->gen);
        free(t);
        return NULL;
    }
    t->stack = stack;
    t->loop = loop;
    t->epfd = epfd;
    t->instance = instance;
    t->diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    return t;
}

unsigned dsock_count(const struct dsock_table *t) { return t->count; }
struct fa_loop *dsock_loop(struct dsock_table *t) { return t->loop; }
struct fa_stack *dsock_stack(struct dsock_table *t) { return t->stack; }
uint8_t *dsock_scratch(struct dsock_table *t) { return t->scratch; }
uint64_t dsock_instance(const struct dsock_table *t) { return t->instance; }
struct dsock **dsock_pending(struct dsock_table *t) { return &t->pending; }

struct dsock *dsock_find(struct dsock_table *t, uint32_t id)
{
    uint32_t i = id & (SLOTS - 1);
    if (i >= t->max || !t->slot[i] || t->slot[i]->id != id)
        return NULL;
    return t->slot[i];
}

/* ---- making and freeing ------------------------------------------------- */

/* Does the program's end still exist? The kernel's unix socket table
 * knows: unix_diag answers ENOENT once the last copy of a descriptor is
 * closed (the socket leaves the table before finackd is woken). The
 * cookie makes the inode's reuse harmless; the sequence number skips an
 * answer left over from an interrupted question. 1 alive, 0 gone (or
 * cannot tell). */
int dsock_end_alive(struct dsock_table *t, const struct dsock *s)
{
    struct {
        struct nlmsghdr h;
        struct unix_diag_req r;
    } q = {
        .h = { .nlmsg_len = sizeof q, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
               .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = ++t->diag_seq },
        .r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_ino = (uint32_t)s->b_ino,
               .udiag_cookie = { (uint32_t)s->b_cookie, (uint32_t)(s->b_cookie >> 32) } },
    };
    if (!s->b_cookie)
        q.r.udiag_cookie[0] = q.r.udiag_cookie[1] = ~0u; /* INET_DIAG_NOCOOKIE */
    char buf[1024];
    if (t->diag < 0 || send(t->diag, &q, sizeof q, 0) != (ssize_t)sizeof q)
        return 0;
    for (int tries = 0; tries < 8; tries++) {
        ssize_t n = recv(t->diag, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
        if (n < (ssize_t)sizeof *h)
            return 0;
        if (h->nlmsg_seq != t->diag_seq)
            continue; /* an older question's answer */
        return h->nlmsg_type == SOCK_DIAG_BY_FAMILY;
    }
    return 0;
}

int dsock_held(const struct dsock *s, int fd)
{
    /* The inode alone could be matched by a file on another device; the
     * socket's cookie cannot be. */
    struct stat sb;
    uint64_t cookie = 0;
    socklen_t cl = sizeof cookie;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode) || sb.st_ino != s->b_ino)
        return 0;
    return !s->b_cookie ||
           (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &cl) == 0 && cookie == s->b_cookie);
}

static void on_tcp(void *ctx, struct fa_tcp *sock, unsigned events, fa_time now);

/* finackd's end gets the abstract name that tells the library what the
 * program's end is (proto.h). */
static int name_end(const struct dsock_table *t, int fd, uint32_t id, int udp, int v6)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, FAD_NAME_PREFIX "%016llx/%08x%s%s",
                     (unsigned long long)t->instance, id, udp ? "u" : "", v6 ? "6" : "");
    return bind(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n));
}

int dsock_make(struct dsock_table *t, pid_t pid, int udp, int v6, struct dsock **out, int *fd)
{
    if (t->count >= t->max)
        return -ENFILE;
    unsigned i = t->hint;
    while (t->slot[i])
        i = (i + 1) % t->max;
    struct dsock *s = calloc(1, sizeof *s);
    int sv[2];
    if (!s)
        return -ENOMEM;
    if (socketpair(AF_UNIX, (udp ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0, sv) < 0) {
        int err = -errno;
        free(s);
        return err;
    }
    if (++t->gen[i] == 0)
        t->gen[i] = 1;
    s->kind = DW_SOCK;
    s->table = t;
    s->id = (uint32_t)t->gen[i] << SLOT_BITS | i;
    s->a = sv[0];
    s->st = FAD_ST_FRESH;
    s->pid = pid;
    s->v6 = (uint8_t)!!v6;
    s->linger_ms = -1;
    s->bound_any = 1;
    struct stat sb;
    if (fstat(sv[1], &sb) == 0)
        s->b_ino = sb.st_ino;
    socklen_t cl = sizeof s->b_cookie;
    if (getsockopt(sv[1], SOL_SOCKET, SO_COOKIE, &s->b_cookie, &cl) < 0)
        s->b_cookie = 0;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                              .data.ptr = s };
    if (fcntl(s->a, F_SETFL, O_NONBLOCK) < 0 || name_end(t, s->a, s->id, udp, v6) < 0 ||
        epoll_ctl(t->epfd, EPOLL_CTL_ADD, s->a, &ev) < 0) {
        int err = -errno;
        close(sv[0]);
        close(sv[1]);
        free(s);
        return err;
    }
    t->slot[i] = s;
    t->hint = (i + 1) % t->max;
    t->count++;
    *out = s;
    *fd = sv[1];
    return 0;
}

/* A record for tcp (owned from now on) and its socketpair. */
static int sock_make(struct dsock_table *t, pid_t pid, struct fa_tcp *tcp,
                     enum fad_sock_state st, int v6, struct dsock **out, int *fd)
{
    int err = dsock_make(t, pid, 0, v6, out, fd);
    if (err)
        return err;
    struct dsock *s = *out;
    s->st = st;
    s->tcp = tcp;
    long v = 0;
    fa_tcp_getopt(tcp, FA_SO_SNDBUF, &v);
    s->sndbuf = (int)v;
    fa_tcp_getopt(tcp, FA_SO_RCVBUF, &v);
    s->rcvbuf = (int)v;
    /* finack-stat's Process column (only that: without memory for the
     * mark the column is empty) */
    (void)fa_tcp_set_owner(tcp, (uint32_t)pid);
    return 0;
}

/* Forgets s (its connection was released before). */
void dsock_free(struct dsock_table *t, struct dsock *s)
{
    struct tomb *g = &t->tombs[t->next_tomb++ % TOMBS];
    *g = (struct tomb){ .id = s->id, .addr = s->laddr, .port = s->lport, .v6 = s->v6 };
    t->slot[s->id & (SLOTS - 1)] = NULL;
    t->count--;
    close(s->a); /* also leaves the epoll set */
    s->kind = DW_GONE;
    s->next_gone = t->gone;
    t->gone = s;
}

void dsock_reap(struct dsock_table *t)
{
    while (t->gone) {
        struct dsock *s = t->gone;
        t->gone = s->next_gone;
        free(s->queue);
        free(s->tx);
        free(s->rx);
        free(s);
    }
}

int dsock_tomb(const struct dsock_table *t, uint32_t id, uint32_t *addr, uint16_t *port,
               int *v6)
{
    for (unsigned i = 0; i < TOMBS; i++) {
        const struct tomb *g = &t->tombs[i];
        if (g->id == id && id) {
            *addr = g->addr;
            *port = g->port;
            *v6 = g->v6;
            return 0;
        }
    }
    return -ENOTCONN;
}

/* Lets go of the TCP socket: RST if abort, else close() (FIN, or RST
 * where TCP holds data unread). A lingering close is not waited for
 * here: the program's close() has returned long ago. */
static void tcp_release(struct dsock_table *t, struct dsock *s, int abort, fa_time now)
{
    if (!s->tcp)
        return;
    dsock_name(s, 0, &s->laddr, &s->lport); /* for the tomb */
    (void)fa_tcp_set_owner(s->tcp, 0); /* orphaned: no process holds it */
    fa_loop_unwatch_tcp(t->loop, s->tcp);
    if (abort || s->linger_ms == 0) {
        fa_tcp_abort(s->tcp, now);
    } else {
        fa_tcp_setopt(s->tcp, FA_SO_LINGER, -1);
        fa_tcp_close(s->tcp, now);
    }
    s->tcp = NULL;
}

/* A listener goes: connections not yet accepted are reset, as the
 * kernel resets them when the listening socket is closed. */
static void listener_release(struct dsock_table *t, struct dsock *s, fa_time now)
{
    for (; s->qlen; s->qlen--, s->qhead = (s->qhead + 1) % MAX_BACKLOG) {
        (void)fa_tcp_set_owner(s->queue[s->qhead], 0);
        fa_tcp_abort(s->queue[s->qhead], now);
    }
    tcp_release(t, s, 0, now);
}

void dsock_table_destroy(struct dsock_table *t, fa_time now)
{
    if (!t)
        return;
    if (t->diag >= 0)
        close(t->diag);
    for (unsigned i = 0; i < t->max; i++) {
        struct dsock *s = t->slot[i];
        if (!s)
            continue;
        if (s->udp)
            dsock_udp_release(t, s);
        else if (s->st == FAD_ST_LISTENING)
            listener_release(t, s, now);
        else
            tcp_release(t, s, s->rx_len != 0, now);
        dsock_free(t, s);
    }
    dsock_reap(t);
    free(t->slot);
    free(t->gen);
    free(t);
}

int dsock_new(struct dsock_table *t, pid_t pid, int v6, struct dsock **out, int *fd)
{
    struct fa_tcp *tcp;
    int err = fa_tcp_open(t->stack, &tcp);
    if (err) /* the stack's pool is full: the system's table, not the process's */
        return err == -ENOMEM ? -ENOBUFS : err == -EMFILE ? -ENFILE : err;
    err = sock_make(t, pid, tcp, FAD_ST_FRESH, v6, out, fd);
    if (err) {
        fa_tcp_close(tcp, 0);
        return err;
    }
    return 0;
}

/* ---- socket calls ---------------------------------------------------------- */

/* Was a TIME-WAIT entry left on port? Linux refuses to bind such a
 * port without SO_REUSEADDR. */
struct port_probe {
    uint16_t port;
    int found;
};

static void find_time_wait(void *ctx, const struct fa_tcp_info *i)
{
    struct port_probe *p = ctx;
    p->found |= i->state == FA_TCP_TIME_WAIT && i->local_port == p->port;
}

int dsock_bind(struct dsock_table *t, struct dsock *s, uint32_t addr, uint16_t port)
{
    if (s->st != FAD_ST_FRESH || !s->tcp)
        return -EINVAL;
    if (dsock_v6only(s)) /* v4-mapped: Linux says EINVAL; ::, finack has no IPv6 */
        return addr ? -EINVAL : -EAFNOSUPPORT;
    if (port && !s->reuseaddr) {
        struct port_probe p = { port, 0 };
        fa_stack_tcp_walk(t->stack, find_time_wait, &p);
        if (p.found)
            return -EADDRINUSE;
    }
    int err = fa_tcp_bind(s->tcp, addr, port);
    if (!err)
        s->bound_any = addr == 0;
    return err;
}

static void listener_interest(struct dsock_table *t, struct dsock *s, int full)
{
    fa_loop_tcp_interest(t->loop, s->tcp, s->qlen < s->backlog && !full ? FA_TCP_EV_ACCEPT : 0);
}

/* Takes connections from the stack while the backlog has room; each
 * leaves one byte in the program's end (proto.h). The byte goes first:
 * if our end is full, the connection waits in the stack and EPOLLOUT
 * brings us back. */
static void listener_fill(struct dsock_table *t, struct dsock *s)
{
    struct fa_tcp *c;
    int full = 0;
    while (s->qlen < s->backlog && (fa_tcp_events(s->tcp) & FA_TCP_EV_ACCEPT)) {
        char byte = 0;
        if (send(s->a, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
            full = 1; /* until EPOLLOUT: the loop must not call again */
            break;
        }
        if (fa_tcp_accept(s->tcp, &c) < 0)
            break; /* cannot be: the stack said one was waiting */
        s->queue[(s->qhead + s->qlen++) % MAX_BACKLOG] = c;
    }
    listener_interest(t, s, full);
}

/* One byte per waiting connection must fit in our end's send buffer
 * (each is a buffer of its own in the kernel, ~1 KiB). Without the right
 * to force it, wmem_max bounds it; a connection that does not fit waits
 * in the stack. */
static void listener_room(struct dsock *s, int backlog)
{
    int room = (backlog + 16) * 1024;
    if (setsockopt(s->a, SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) < 0)
        setsockopt(s->a, SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
}

int dsock_listen(struct dsock_table *t, struct dsock *s, int backlog, fa_time now)
{
    if (backlog < 1)
        backlog = 1;
    if (backlog > MAX_BACKLOG)
        backlog = MAX_BACKLOG;
    if (s->st == FAD_ST_LISTENING) { /* a second listen() changes the backlog */
        s->backlog = (unsigned)backlog;
        fa_tcp_listen(s->tcp, backlog, now);
        listener_room(s, backlog);
        listener_fill(t, s);
        return 0;
    }
    if (s->st != FAD_ST_FRESH || !s->tcp)
        return -EINVAL;
    s->queue = calloc(MAX_BACKLOG, sizeof *s->queue);
    if (!s->queue)
        return -ENOMEM;
    int err = fa_tcp_listen(s->tcp, backlog, now);
    if (!err)
        err = fa_loop_watch_tcp(t->loop, s->tcp, FA_TCP_EV_ACCEPT, on_tcp, s);
    if (err) {
        free(s->queue);
        s->queue = NULL;
        return err;
    }
    listener_room(s, backlog);
    s->backlog = (unsigned)backlog;
    s->st = FAD_ST_LISTENING;
    return 0;
}

/* Reads and drops up to n bytes of our end (what is there); returns how
 * many of the n are still to come. */
static long discard(struct dsock_table *t, struct dsock *s, long n)
{
    while (n > 0) {
        ssize_t r = recv(s->a, t->scratch, n > CHUNK ? CHUNK : (size_t)n, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n -= r;
    }
    return n;
}

int dsock_recv_end(struct dsock *s)
{
    int err = s->err_on_read ? s->err : 0;
    s->err_on_read = 0;
    if (err)
        s->err = 0;
    return err;
}

int dsock_connect(struct dsock_table *t, struct dsock *s, uint32_t addr, uint16_t port,
                  long filler, fa_time now)
{
    int err;
    switch (s->st) {
    case FAD_ST_CONNECTING:
        return -EALREADY;
    case FAD_ST_LISTENING:
        return -EISCONN;
    case FAD_ST_CONNECTED:
        if (s->dead) { /* reset since: the error once (sock_error) */
            err = s->err ? -s->err : -EISCONN;
            s->err = 0;
            return err;
        }
        /* Linux: the first connect() after a non-blocking one completed
         * says 0; later ones EISCONN. */
        if (!s->reported) {
            s->reported = 1;
            return 0;
        }
        return -EISCONN;
    case FAD_ST_FAILED:
        /* The pending error once (Linux's sock_error), then ECONNABORTED:
         * finack cannot connect a socket whose connect failed again. */
        err = s->err ? -s->err : -ECONNABORTED;
        s->err = 0;
        return err;
    case FAD_ST_FRESH:
        break;
    }
    /* Bytes the program wrote before connecting (Linux: EPIPE) go, so
     * only the filler, written last, stays. */
    int inq = 0;
    if (ioctl(s->a, FIONREAD, &inq) == 0 && inq > filler)
        discard(t, s, inq - filler);
    /* An IPv6-only socket to a v4-mapped address: Linux's ENETUNREACH. */
    err = dsock_v6only(s) ? -ENETUNREACH : fa_tcp_connect(s->tcp, addr, port, now);
    if (err == -EINPROGRESS &&
        fa_loop_watch_tcp(t->loop, s->tcp, FA_TCP_EV_WRITABLE, on_tcp, s) < 0)
        err = -ENOBUFS;
    if (err == -EINPROGRESS) {
        s->st = FAD_ST_CONNECTING;
        s->filler = filler;
        s->err = 0;
        s->bound_any = 0;
        return err;
    }
    /* Not started: writable again (a blocking connect's last byte is
     * never sent: it returns this error first). */
    discard(t, s, filler);
    s->filler = 0;
    return err ? err : -EINPROGRESS;
}

int dsock_accept(struct dsock_table *t, struct dsock *l, pid_t pid, struct dsock **out,
                 int *fd, fa_time now)
{
    *out = NULL;
    if (l->st != FAD_ST_LISTENING)
        return -EINVAL;
    if (!l->qlen)
        return -EAGAIN;
    struct fa_tcp *c = l->queue[l->qhead];
    l->qhead = (l->qhead + 1) % MAX_BACKLOG;
    l->qlen--;
    listener_fill(t, l);
    int err = sock_make(t, pid, c, FAD_ST_CONNECTED, l->v6, out, fd);
    if (!err)
        err = fa_loop_watch_tcp(t->loop, c, FA_TCP_EV_READABLE, on_tcp, *out);
    if (err) {
        if (*out) {
            close(*fd);
            *fd = -1;
            (*out)->tcp = NULL;
            dsock_free(t, *out);
            *out = NULL;
        }
        fa_tcp_abort(c, now);
        return err == -ENOMEM ? -ENOBUFS : err;
    }
    /* What Linux's accepted socket inherits from the listener. */
    struct dsock *n = *out;
    n->reuseaddr = l->reuseaddr;
    n->reuseport = l->reuseport;
    n->sndbuf = l->sndbuf;
    n->rcvbuf = l->rcvbuf;
    memcpy(n->kept, l->kept, sizeof n->kept);
    n->nkept = l->nkept;
    (*out)->reported = 1;
    (*out)->bound_any = 0;
    long v;
    if (fa_tcp_getopt(l->tcp, FA_SO_LINGER, &v) == 0)
        (*out)->linger_ms = (int)v;
    return 0; /* the watch runs the pump if data came with the handshake */
}

int dsock_shutdown(struct dsock_table *t, struct dsock *s, int how, fa_time now)
{
    if (s->st == FAD_ST_FRESH || s->st == FAD_ST_FAILED)
        return -ENOTCONN;
    if (s->st == FAD_ST_LISTENING && how != SHUT_WR) {
        listener_release(t, s, now);
        s->st = FAD_ST_FAILED; /* not listening: accept() says EINVAL */
        s->err = 0;
        shutdown(s->a, SHUT_RDWR); /* a blocked accept() wakes to EINVAL */
    }
    return 0;
}

void dsock_unfill(struct dsock *s, long n)
{
    s->filler = s->filler > n ? s->filler - n : 0;
}

int dsock_name(struct dsock *s, int peer, uint32_t *addr, uint16_t *port)
{
    *addr = 0;
    *port = 0;
    if (!s->tcp) { /* the connection is gone: our name stays (as Linux) */
        if (peer)
            return -ENOTCONN;
        *addr = s->laddr;
        *port = s->lport;
        return 0;
    }
    struct fa_tcp_info i;
    fa_tcp_get_info(s->tcp, &i);
    if (peer) {
        /* Linux's socket is CLOSE once TIME-WAIT takes the connection
         * over: no peer any more. */
        if (s->st != FAD_ST_CONNECTED || i.state == FA_TCP_TIME_WAIT ||
            i.state == FA_TCP_CLOSED)
            return -ENOTCONN;
        *addr = i.remote_addr;
        *port = i.remote_port;
    } else {
        int any = s->bound_any && (s->st == FAD_ST_FRESH || s->st == FAD_ST_LISTENING);
        *addr = any ? 0 : i.local_addr;
        *port = i.local_port;
    }
    return 0;
}

void dsock_info(struct dsock *s, struct fad_info *o)
{
    memset(o, 0, sizeof *o);
    if (!s->tcp) {
        o->state = 7; /* TCP_CLOSE */
        return;
    }
    struct fa_tcp_info i;
    fa_tcp_get_info(s->tcp, &i);
    /* Linux's numbering (include/net/tcp_states.h), as TCP_INFO gives it. */
    static const uint8_t linux_state[] = {
        [FA_TCP_CLOSED] = 7, [FA_TCP_LISTEN] = 10, [FA_TCP_SYN_SENT] = 2,
        [FA_TCP_SYN_RECEIVED] = 3, [FA_TCP_ESTABLISHED] = 1, [FA_TCP_FIN_WAIT_1] = 4,
        [FA_TCP_FIN_WAIT_2] = 5, [FA_TCP_CLOSE_WAIT] = 8, [FA_TCP_CLOSING] = 11,
        [FA_TCP_LAST_ACK] = 9, [FA_TCP_TIME_WAIT] = 6,
    };
    o->state = linux_state[i.state];
    o->snd_wscale = i.snd_wscale;
    o->rcv_wscale = i.rcv_wscale;
    /* TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2, TCPI_OPT_WSCALE 4 */
    o->options = (uint8_t)((i.timestamps ? 1 : 0) | (i.sack ? 2 : 0) |
                           (i.snd_wscale || i.rcv_wscale ? 4 : 0));
    o->rto_us = (uint32_t)(i.rto / 1000);
    o->rtt_us = (uint32_t)(i.srtt / 1000);
    o->rttvar_us = (uint32_t)(i.rttvar / 1000);
    o->snd_mss = o->rcv_mss = i.mss;
    o->snd_cwnd = i.mss ? i.cwnd / i.mss : 0; /* Linux counts segments */
    o->snd_ssthresh = i.mss ? i.ssthresh / i.mss : 0;
    o->unacked = i.mss ? (i.snd_nxt - i.snd_una + i.mss - 1) / i.mss : 0;
    o->lost = i.mss ? i.lost / i.mss : 0;
    o->sacked = i.mss ? i.sacked / i.mss : 0;
    o->retrans_total = (uint32_t)i.retransmits;
    o->rcv_space = i.rcv_wnd;
    o->notsent = i.send_queued - (i.snd_nxt - i.snd_una) < i.send_queued
                     ? i.send_queued - (i.snd_nxt - i.snd_una)
                     : 0;
}

/* ---- the pump -------------------------------------------------------------- */

/* Keeps n bytes of src in *buf (CHUNK bytes, allocated at first use). */
static int stash(uint8_t **buf, uint32_t *off, uint32_t *len, const uint8_t *src, size_t n)
{
    if (!*buf && !(*buf = malloc(CHUNK)))
        return -ENOMEM;
    memcpy(*buf, src, n);
    *off = 0;
    *len = (uint32_t)n;
    return 0;
}

/* Program -> TCP. -1 when TCP refuses more (the connection is gone). */
static int to_tcp(struct dsock_table *t, struct dsock *s, fa_time now)
{
    if (s->filler && (s->filler = discard(t, s, s->filler)))
        return 0; /* the program's data comes after the filler */
    for (;;) {
        if (s->tx_len) {
            long n = fa_tcp_send(s->tcp, s->tx + s->tx_off, s->tx_len, now);
            if (n == -EAGAIN)
                return 0;
            if (n < 0)
                return -1;
            s->tx_off += (uint32_t)n;
            s->tx_len -= (uint32_t)n;
            if (s->tx_len)
                return 0;
            continue;
        }
        if (s->a_eof)
            break;
        ssize_t n = recv(s->a, t->scratch, CHUNK, MSG_DONTWAIT);
        if (n > 0) {
            long sent = fa_tcp_send(s->tcp, t->scratch, (size_t)n, now);
            if (sent < 0 && sent != -EAGAIN)
                return -1;
            if (sent < 0)
                sent = 0;
            if (sent < n &&
                stash(&s->tx, &s->tx_off, &s->tx_len, t->scratch + sent, (size_t)(n - sent)) < 0)
                return -1; /* out of memory: the connection cannot keep its promise */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        s->a_eof = 1;
        if (n < 0 && errno == ECONNRESET) /* closed with our data unread: */
            s->a_reset = s->a_hup = 1;    /* so it is closed */
        else if (!s->a_hup && !dsock_end_alive(t, s)) /* closed, not shut: no FIN */
            s->a_hup = 1;
    }
    if (!s->wr_shut && !s->a_hup) {
        fa_tcp_shutdown(s->tcp, FA_SHUT_WR, now);
        s->wr_shut = 1;
    }
    return 0;
}

/* TCP -> program. Returns the connection's error (positive), or 0. */
static int from_tcp(struct dsock_table *t, struct dsock *s, fa_time now)
{
    for (;;) {
        if (s->rx_len) {
            if (s->a_rd_gone)
                return 0;
            ssize_t n = send(s->a, s->rx + s->rx_off, s->rx_len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                if (errno != EAGAIN) { /* the program shut its end for reading */
                    s->a_rd_gone = 1;
                    fa_tcp_shutdown(s->tcp, FA_SHUT_RD, now);
                }
                return 0;
            }
            s->rx_off += (uint32_t)n;
            s->rx_len -= (uint32_t)n;
            if (s->rx_len)
                return 0;
            continue;
        }
        if (s->a_rd_gone || s->a_hup)
            return 0;
        /* After the FIN this still runs: an RST that follows is news. */
        long n = fa_tcp_recv(s->tcp, t->scratch, CHUNK, now);
        if (n == -EAGAIN || (n == 0 && s->tcp_eof))
            return 0;
        if (n == 0) {
            s->tcp_eof = 1;
            shutdown(s->a, SHUT_WR);
            return 0;
        }
        if (n < 0)
            return (int)-n;
        if (stash(&s->rx, &s->rx_off, &s->rx_len, t->scratch, (size_t)n) < 0)
            return ENOMEM;
    }
}

static void conn_interest(struct dsock_table *t, struct dsock *s)
{
    unsigned want = 0;
    if (!s->rx_len && !s->tcp_eof && !s->a_rd_gone && !s->a_hup)
        want |= FA_TCP_EV_READABLE;
    if (s->tx_len)
        want |= FA_TCP_EV_WRITABLE;
    fa_loop_tcp_interest(t->loop, s->tcp, want);
}

/* The connection failed (refused, reset, timed out): our end is shut
 * both ways — the program reads end of stream, its writes fail with
 * EPIPE, poll says HUP — and SO_ERROR holds why. The record stays until
 * the program closes its end. */
static void conn_dead(struct dsock_table *t, struct dsock *s, int err, fa_time now)
{
    s->err = err;
    tcp_release(t, s, 0, now);
    s->dead = 1;
    free(s->tx);
    free(s->rx);
    s->tx = s->rx = NULL;
    s->tx_len = s->rx_len = 0;
    shutdown(s->a, SHUT_RDWR);
}

/* TCP's side is CLOSED: reset or timed out (or a TIME-WAIT that ran out
 * after both FINs: nothing to say). As Linux, what arrived before the
 * reset is the program's to read first; only then is our end shut (the
 * error goes to SO_ERROR at once, and to recv() at the end of stream
 * when no FIN came before it: FAD_RECV_END). */
static int conn_ending(struct dsock_table *t, struct dsock *s, int err_seen, fa_time now)
{
    if (fa_tcp_state(s->tcp) != FA_TCP_CLOSED)
        return 0;
    if (!s->ending) {
        int e = -fa_tcp_error(s->tcp);
        if (!e) /* from_tcp's recv may have taken it */
            e = err_seen;
        if (!e)
            return 0;
        s->ending = 1;
        s->err = e;
        s->err_on_read = !(fa_tcp_events(s->tcp) & FA_TCP_EV_HUP);
        shutdown(s->a, SHUT_RD); /* the program's sends fail now */
    }
    from_tcp(t, s, now);
    if ((s->rx_len || !s->tcp_eof) && !s->a_rd_gone && !s->a_hup) {
        conn_interest(t, s); /* the program reads on: its end wakes us */
        return 1;
    }
    conn_dead(t, s, s->err, now);
    if (s->a_hup)
        dsock_free(t, s);
    return 1;
}

/* The handshake ended? Then the filler goes, so the program's end turns
 * writable, and SO_ERROR (or connect() again) holds the outcome. */
static void connect_progress(struct dsock_table *t, struct dsock *s, fa_time now)
{
    int err = fa_tcp_error(s->tcp);
    enum fa_tcp_state st = fa_tcp_state(s->tcp);
    if (err || st == FA_TCP_CLOSED) {
        /* Shut first: the program must see HUP when it wakes writable. */
        conn_dead(t, s, err ? -err : ECONNREFUSED, now);
        s->filler = discard(t, s, s->filler);
        s->st = FAD_ST_FAILED;
    } else if (st != FA_TCP_SYN_SENT && st != FA_TCP_SYN_RECEIVED) {
        s->st = FAD_ST_CONNECTED;
        fa_loop_tcp_interest(t->loop, s->tcp, FA_TCP_EV_READABLE);
        /* A blocking connect's last filler byte may still be on its way:
         * to_tcp drops it before any data. */
        s->filler = discard(t, s, s->filler);
    }
}

/* Received data nobody will read: TCP's own, or ours on the way. */
static int unread(const struct dsock *s)
{
    struct fa_tcp_info i;
    fa_tcp_get_info(s->tcp, &i);
    return s->a_reset || s->rx_len || i.recv_queued;
}

static void pump(struct dsock_table *t, struct dsock *s, fa_time now)
{
    if (s->st == FAD_ST_LISTENING) {
        if (s->a_hup) {
            listener_release(t, s, now);
            dsock_free(t, s);
        } else {
            listener_fill(t, s);
        }
        return;
    }
    if (s->st == FAD_ST_CONNECTING)
        connect_progress(t, s, now);
    if (s->st != FAD_ST_CONNECTED || s->dead) {
        if (s->a_hup) { /* closed before it connected, or after it failed */
            tcp_release(t, s, 0, now);
            dsock_free(t, s);
        }
        return;
    }
    /* Closed with data unread, or SO_LINGER 0: RST now, whatever was
     * still to be sent (RFC 9293 §3.10.4; Linux's tcp_close). */
    if (s->a_hup && (s->linger_ms == 0 || unread(s))) {
        tcp_release(t, s, 1, now);
        dsock_free(t, s);
        return;
    }
    /* Before to_tcp: a send to a CLOSED socket would take its error. */
    if (conn_ending(t, s, 0, now))
        return;
    int err = to_tcp(t, s, now) < 0 ? EPIPE : 0;
    if (!err && s->a_hup && (s->linger_ms == 0 || unread(s))) { /* found closed */
        tcp_release(t, s, 1, now);
        dsock_free(t, s);
        return;
    }
    if (!err)
        err = from_tcp(t, s, now);
    if (conn_ending(t, s, err == EPIPE ? 0 : err, now))
        return;
    if (s->a_hup && s->a_eof && !s->tx_len) {
        tcp_release(t, s, 0, now); /* FIN after what the program wrote */
        dsock_free(t, s);
        return;
    }
    conn_interest(t, s);
}

static void on_tcp(void *ctx, struct fa_tcp *sock, unsigned events, fa_time now)
{
    struct dsock *s = ctx;
    (void)sock;
    (void)events;
    pump(s->table, s, now);
}

void dsock_closed(struct dsock_table *t, struct dsock *s, fa_time now)
{
    dsock_on_epoll(t, s, EPOLLHUP, now);
}

void dsock_on_epoll(struct dsock_table *t, struct dsock *s, uint32_t events, fa_time now)
{
    if (s->kind != DW_SOCK)
        return;
    /* EPOLLHUP: both directions are shut — by a close, or by shutdown()
     * calls on either side. Only the kernel knows which. */
    if ((events & (EPOLLHUP | EPOLLERR)) && !s->a_hup && !dsock_end_alive(t, s)) {
        s->a_hup = 1;
        int e = 0;
        socklen_t len = sizeof e;
        /* ECONNRESET: the program's end went with data it had not read. */
        if (getsockopt(s->a, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e == ECONNRESET)
            s->a_reset = 1;
    }
    if (s->udp)
        dsock_udp_pump(t, s, now);
    else
        pump(t, s, now);
}
