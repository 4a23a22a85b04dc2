/* dsock.c — finackd's sockets (see dsock.h): making them, the socket
 * calls programs ask for, and the pump between each connection and its
 * socketpair.
 *
 * The pump, per connected socket, runs whenever TCP or the socketpair
 * end may have changed (the run loop's callback, epoll in edge-triggered
 * mode):
 *   program -> TCP: read the end until EAGAIN or TCP's send buffer is
 *     full; what TCP did not take waits in tx. End of stream from the
 *     program is shutdown(SHUT_WR) — or, when every copy of its end is
 *     closed (EPOLLHUP), close(): FIN, or RST where it left data unread
 *     (RFC 9293 §3.10.4; the socketpair says so with ECONNRESET), as the
 *     kernel closes a socket of a process that exits or is killed.
 *   TCP -> program: fa_tcp_recv into the end until it is full (then TCP's
 *     window closes, as the program is not reading); the peer's FIN is
 *     shutdown(SHUT_WR) of our end, so the program reads end of stream.
 * A connection that fails (reset, timeout) closes our end: the program
 * reads what was delivered, then end of stream; writes fail with EPIPE. */
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SLOT_BITS 16
#define SLOTS (1u << SLOT_BITS)
#define CHUNK 65536
#define MAX_BACKLOG 4096 /* Linux's somaxconn */
#define TOMBS 1024

/* A socket finackd let go of while the program may still hold its end
 * (both directions shut, or the connection failed): what the kernel
 * still answers for such a socket — its own name — is kept here. */
struct tomb {
    uint32_t id, addr;
    uint16_t port;
    uint8_t v6;
};

struct dsock_table {
    struct fa_stack *stack;
    struct fa_loop *loop;
    int epfd;
    uint64_t instance;
    unsigned max, count, hint;
    struct dsock **slot;
    uint16_t *gen;
    struct tomb tombs[TOMBS];
    unsigned next_tomb;
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
    return t;
}

unsigned dsock_count(const struct dsock_table *t) { return t->count; }

struct dsock *dsock_find(struct dsock_table *t, uint32_t id)
{
    uint32_t i = id & (SLOTS - 1);
    if (i >= t->max || !t->slot[i] || t->slot[i]->id != id)
        return NULL;
    return t->slot[i];
}

/* ---- making and freeing ------------------------------------------------- */

static void on_tcp(void *ctx, struct fa_tcp *sock, unsigned events, fa_time now);

/* finackd's end gets the abstract name that tells the library what the
 * program's end is (proto.h). */
static int name_end(const struct dsock_table *t, int fd, uint32_t id)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, FAD_NAME_PREFIX "%016llx/%08x",
                     (unsigned long long)t->instance, id);
    return bind(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n));
}

/* A record for tcp (owned from now on) and its socketpair. */
static int sock_make(struct dsock_table *t, pid_t pid, struct fa_tcp *tcp,
                     enum fad_sock_state st, struct dsock **out, int *fd)
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
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
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
    s->st = st;
    s->tcp = tcp;
    s->pid = pid;
    s->linger_ms = -1;
    long v = 0;
    fa_tcp_getopt(tcp, FA_SO_SNDBUF, &v);
    s->sndbuf = (int)v;
    fa_tcp_getopt(tcp, FA_SO_RCVBUF, &v);
    s->rcvbuf = (int)v;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                              .data.ptr = s };
    if (fcntl(s->a, F_SETFL, O_NONBLOCK) < 0 || name_end(t, s->a, s->id) < 0 ||
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

/* Forgets s (its connection was released before). */
static void sock_free(struct dsock_table *t, struct dsock *s)
{
    struct tomb *g = &t->tombs[t->next_tomb++ % TOMBS];
    *g = (struct tomb){ .id = s->id, .addr = s->laddr, .port = s->lport, .v6 = s->v6 };
    t->slot[s->id & (SLOTS - 1)] = NULL;
    t->count--;
    close(s->a); /* also leaves the epoll set */
    free(s->queue);
    free(s->tx);
    free(s->rx);
    free(s);
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
    for (; s->qlen; s->qlen--, s->qhead = (s->qhead + 1) % MAX_BACKLOG)
        fa_tcp_abort(s->queue[s->qhead], now);
    tcp_release(t, s, 0, now);
}

void dsock_table_destroy(struct dsock_table *t, fa_time now)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->max; i++) {
        struct dsock *s = t->slot[i];
        if (!s)
            continue;
        if (s->st == FAD_ST_LISTENING)
            listener_release(t, s, now);
        else
            tcp_release(t, s, s->rx_len != 0, now);
        sock_free(t, s);
    }
    free(t->slot);
    free(t->gen);
    free(t);
}

int dsock_new(struct dsock_table *t, pid_t pid, int v6, struct dsock **out, int *fd)
{
    struct fa_tcp *tcp;
    int err = fa_tcp_open(t->stack, &tcp);
    if (err)
        return err == -ENOMEM ? -ENOBUFS : err;
    err = sock_make(t, pid, tcp, FAD_ST_FRESH, out, fd);
    if (err) {
        fa_tcp_close(tcp, 0);
        return err;
    }
    (*out)->v6 = (uint8_t)!!v6;
    return 0;
}

/* ---- socket calls ---------------------------------------------------------- */

int dsock_bind(struct dsock *s, uint32_t addr, uint16_t port)
{
    if (s->st != FAD_ST_FRESH || !s->tcp)
        return -EINVAL;
    return fa_tcp_bind(s->tcp, addr, port);
}

static void listener_interest(struct dsock_table *t, struct dsock *s)
{
    fa_loop_tcp_interest(t->loop, s->tcp, s->qlen < s->backlog ? FA_TCP_EV_ACCEPT : 0);
}

/* Takes connections from the stack while the backlog has room; each
 * leaves one byte in the program's end (proto.h). */
static void listener_fill(struct dsock_table *t, struct dsock *s)
{
    struct fa_tcp *c;
    while (s->qlen < s->backlog && fa_tcp_accept(s->tcp, &c) == 0) {
        s->queue[(s->qhead + s->qlen++) % MAX_BACKLOG] = c;
        char byte = 0;
        if (send(s->a, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
            fprintf(stderr, "finackd: listener %08x: cannot signal a connection: %s\n",
                    s->id, strerror(errno));
    }
    listener_interest(t, s);
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
    /* One byte per waiting connection must fit in our end's send buffer
     * (each is a buffer of its own in the kernel). */
    int room = (backlog + 16) * 1024;
    if (setsockopt(s->a, SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) < 0)
        setsockopt(s->a, SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
    s->backlog = (unsigned)backlog;
    s->st = FAD_ST_LISTENING;
    return 0;
}

/* The connect filler (proto.h) goes once the handshake has ended. */
static void discard_filler(struct dsock_table *t, struct dsock *s)
{
    while (s->filler > 0) {
        ssize_t n = recv(s->a, t->scratch, s->filler < CHUNK ? (size_t)s->filler : CHUNK,
                         MSG_DONTWAIT);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            break;
        if (n > 0)
            s->filler -= n;
    }
    s->filler = 0;
}

int dsock_connect(struct dsock_table *t, struct dsock *s, uint32_t addr, uint16_t port,
                  long filler, fa_time now)
{
    int err;
    switch (s->st) {
    case FAD_ST_CONNECTING:
        err = -EALREADY;
        break;
    case FAD_ST_CONNECTED:
    case FAD_ST_LISTENING:
        err = -EISCONN;
        break;
    default:
        err = s->tcp ? 0 : fa_tcp_open(t->stack, &s->tcp); /* again after a failure */
        if (!err)
            err = fa_tcp_connect(s->tcp, addr, port, now);
        if (err == -EINPROGRESS &&
            fa_loop_watch_tcp(t->loop, s->tcp, FA_TCP_EV_WRITABLE, on_tcp, s) < 0)
            err = -ENOBUFS;
        if (err == -EINPROGRESS) {
            s->st = FAD_ST_CONNECTING;
            s->filler = filler;
            s->err = 0;
            return err;
        }
        if (err == 0) /* the stack never connects at once; be safe */
            err = -EINPROGRESS;
        break;
    }
    /* Not started: the filler goes now (not when connected: a connected
     * socket's bytes are the program's). */
    if (s->st != FAD_ST_CONNECTED && s->st != FAD_ST_LISTENING) {
        s->filler = filler;
        discard_filler(t, s);
    }
    return err;
}

int dsock_accept(struct dsock_table *t, struct dsock *l, pid_t pid, struct dsock **out,
                 int *fd, fa_time now)
{
    if (l->st != FAD_ST_LISTENING)
        return -EINVAL;
    *out = NULL;
    if (!l->qlen)
        return -EAGAIN;
    struct fa_tcp *c = l->queue[l->qhead];
    l->qhead = (l->qhead + 1) % MAX_BACKLOG;
    l->qlen--;
    listener_fill(t, l);
    int err = sock_make(t, pid, c, FAD_ST_CONNECTED, out, fd);
    if (!err)
        err = fa_loop_watch_tcp(t->loop, c, FA_TCP_EV_READABLE, on_tcp, *out);
    if (err) {
        if (*out) {
            close(*fd);
            (*out)->tcp = NULL;
            sock_free(t, *out);
        }
        fa_tcp_abort(c, now);
        return err == -ENOMEM ? -ENOBUFS : err;
    }
    (*out)->v6 = l->v6;
    long v;
    if (fa_tcp_getopt(l->tcp, FA_SO_LINGER, &v) == 0)
        (*out)->linger_ms = (int)v;
    return 0; /* the watch runs the pump if data came with the handshake */
}

int dsock_name(struct dsock *s, int peer, uint32_t *addr, uint16_t *port)
{
    *addr = 0;
    *port = 0;
    if (!s->tcp)
        return peer ? -ENOTCONN : 0;
    struct fa_tcp_info i;
    fa_tcp_get_info(s->tcp, &i);
    if (peer) {
        if (s->st != FAD_ST_CONNECTED)
            return -ENOTCONN;
        *addr = i.remote_addr;
        *port = i.remote_port;
    } else {
        *addr = i.local_port || s->st != FAD_ST_FRESH ? i.local_addr : 0;
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

/* ---- options ------------------------------------------------------------- */

/* Linux's SO_SNDBUF/SO_RCVBUF: the value is doubled (for the kernel's
 * bookkeeping) with a floor; getsockopt reports the doubled value. */
static int kernel_buf(int64_t v, int rcv)
{
    int64_t floor = rcv ? 2304 : 4608; /* SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF */
    if (v > 8 * 1024 * 1024)
        v = 8 * 1024 * 1024;
    v = v * 2;
    return (int)(v < floor ? floor : v);
}

int dsock_setopt(struct dsock *s, int level, int name, int64_t val)
{
    struct fa_tcp *c = s->tcp;
    int on = val != 0;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_SNDBUF:
        case SO_RCVBUF: {
            int rcv = name == SO_RCVBUF;
            int v = kernel_buf(val, rcv);
            *(rcv ? &s->rcvbuf : &s->sndbuf) = v;
            if (c) /* before connect/listen it sizes TCP's buffers */
                fa_tcp_setopt(c, rcv ? FA_SO_RCVBUF : FA_SO_SNDBUF, v);
            if (rcv) /* what may wait in the program's end */
                setsockopt(s->a, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
            return 0;
        }
        case SO_LINGER:
            if (val < -1 || val > 3600 * 1000)
                val = 3600 * 1000;
            s->linger_ms = (int)val;
            if (c)
                fa_tcp_setopt(c, FA_SO_LINGER, val);
            return 0;
        case SO_KEEPALIVE:
            return c ? fa_tcp_setopt(c, FA_SO_KEEPALIVE, on) : 0;
        case SO_REUSEADDR:
            s->reuseaddr = (uint8_t)on;
            return 0;
        case SO_REUSEPORT:
            s->reuseport = (uint8_t)on;
            return 0;
        case SO_ERROR: case SO_TYPE: case SO_PROTOCOL: case SO_DOMAIN: case SO_ACCEPTCONN:
            return -ENOPROTOOPT;
        }
        return -ENOPROTOOPT;
    }
    if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY:
            return c ? fa_tcp_setopt(c, FA_TCP_NODELAY, on) : 0;
        case TCP_MAXSEG:
            if (val < 88 || val > 32767)
                return -EINVAL;
            if (c) /* above our MTU, or too late: the kernel takes it and clamps */
                fa_tcp_setopt(c, FA_TCP_MAXSEG, val);
            return 0;
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
            if (val < 1 || val > 32767)
                return -EINVAL;
            return c ? fa_tcp_setopt(c, name == TCP_KEEPIDLE ? FA_TCP_KEEPIDLE
                                                             : FA_TCP_KEEPINTVL, val * 1000)
                     : 0;
        case TCP_KEEPCNT:
            if (val < 1 || val > 127)
                return -EINVAL;
            return c ? fa_tcp_setopt(c, FA_TCP_KEEPCNT, val) : 0;
        case TCP_CONGESTION:
            return c ? fa_tcp_setopt(c, FA_TCP_CONGESTION, val) : 0;
        case TCP_CORK:
            s->cork = (uint8_t)on;
            return 0;
        case TCP_DEFER_ACCEPT:
            s->defer_accept = (uint8_t)(val > 0);
            return 0;
        case TCP_USER_TIMEOUT:
            if (val < 0)
                return -EINVAL;
            s->user_timeout = (uint32_t)val;
            return 0;
        case TCP_QUICKACK: case TCP_FASTOPEN: case TCP_NOTSENT_LOWAT:
            return 0; /* accepted; finack has no such knob (the README says) */
        }
        return -ENOPROTOOPT;
    }
    if (level == IPPROTO_IP && !s->v6 && name == IP_TOS) {
        s->tos = (uint8_t)val;
        return 0;
    }
    if (level == IPPROTO_IPV6 && s->v6 && name == IPV6_V6ONLY) {
        s->v6only = (uint8_t)on;
        return 0;
    }
    return -ENOPROTOOPT;
}

int dsock_getopt(struct dsock *s, int level, int name, int64_t *val)
{
    struct fa_tcp *c = s->tcp;
    long v = 0;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR:
            *val = s->err;
            s->err = 0;
            return 0;
        case SO_TYPE: *val = SOCK_STREAM; return 0;
        case SO_PROTOCOL: *val = IPPROTO_TCP; return 0;
        case SO_DOMAIN: *val = s->v6 ? AF_INET6 : AF_INET; return 0;
        case SO_ACCEPTCONN: *val = s->st == FAD_ST_LISTENING; return 0;
        case SO_SNDBUF: *val = s->sndbuf; return 0;
        case SO_RCVBUF: *val = s->rcvbuf; return 0;
        case SO_LINGER: *val = s->linger_ms; return 0;
        case SO_REUSEADDR: *val = s->reuseaddr; return 0;
        case SO_REUSEPORT: *val = s->reuseport; return 0;
        case SO_KEEPALIVE:
            if (c)
                fa_tcp_getopt(c, FA_SO_KEEPALIVE, &v);
            *val = v;
            return 0;
        }
        return -ENOPROTOOPT;
    }
    if (level == IPPROTO_TCP) {
        enum fa_tcp_option o;
        long scale = 1;
        switch (name) {
        case TCP_NODELAY: o = FA_TCP_NODELAY; break;
        case TCP_KEEPCNT: o = FA_TCP_KEEPCNT; break;
        case TCP_KEEPIDLE: o = FA_TCP_KEEPIDLE; scale = 1000; break;
        case TCP_KEEPINTVL: o = FA_TCP_KEEPINTVL; scale = 1000; break;
        case TCP_CONGESTION: o = FA_TCP_CONGESTION; break;
        case TCP_MAXSEG:
            if (c)
                fa_tcp_getopt(c, FA_TCP_MAXSEG, &v);
            *val = v ? v : 536; /* TCP_MSS_DEFAULT before it is known */
            return 0;
        case TCP_CORK: *val = s->cork; return 0;
        case TCP_DEFER_ACCEPT: *val = s->defer_accept; return 0;
        case TCP_USER_TIMEOUT: *val = s->user_timeout; return 0;
        case TCP_QUICKACK: *val = 1; return 0;
        case TCP_FASTOPEN: case TCP_NOTSENT_LOWAT: *val = 0; return 0;
        default: return -ENOPROTOOPT;
        }
        if (c)
            fa_tcp_getopt(c, o, &v);
        *val = v / scale;
        return 0;
    }
    if (level == IPPROTO_IP && !s->v6 && name == IP_TOS) {
        *val = s->tos;
        return 0;
    }
    if (level == IPPROTO_IPV6 && s->v6 && name == IPV6_V6ONLY) {
        *val = s->v6only;
        return 0;
    }
    return -ENOPROTOOPT;
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

/* Program -> TCP. */
static void to_tcp(struct dsock_table *t, struct dsock *s, fa_time now)
{
    for (;;) {
        if (s->tx_len) {
            long n = fa_tcp_send(s->tcp, s->tx + s->tx_off, s->tx_len, now);
            if (n == -EAGAIN)
                return;
            if (n < 0) /* reset or shut: what is left cannot go */
                n = s->tx_len;
            s->tx_off += (uint32_t)n;
            s->tx_len -= (uint32_t)n;
            if (s->tx_len)
                return;
            continue;
        }
        if (s->a_eof)
            break;
        ssize_t n = recv(s->a, t->scratch, CHUNK, MSG_DONTWAIT);
        if (n > 0) {
            long sent = fa_tcp_send(s->tcp, t->scratch, (size_t)n, now);
            if (sent < 0)
                sent = sent == -EAGAIN ? 0 : n;
            if (sent < n &&
                stash(&s->tx, &s->tx_off, &s->tx_len, t->scratch + sent, (size_t)(n - sent)) < 0)
                s->a_reset = 1; /* out of memory: the connection cannot keep its promise */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        s->a_eof = 1;
        if (n < 0 && errno == ECONNRESET) /* closed with our data unread */
            s->a_reset = 1;
    }
    if (!s->wr_shut && !s->a_hup) {
        fa_tcp_shutdown(s->tcp, FA_SHUT_WR, now);
        s->wr_shut = 1;
    }
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
                if (errno != EAGAIN) { /* SHUT_RD, or gone: EPOLLHUP will say */
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
        if (s->tcp_eof || s->a_rd_gone || s->a_hup)
            return 0;
        long n = fa_tcp_recv(s->tcp, t->scratch, CHUNK, now);
        if (n == -EAGAIN)
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

/* The handshake ended? Then the filler goes, so the program's end turns
 * writable, and SO_ERROR holds the outcome. */
static void connect_progress(struct dsock_table *t, struct dsock *s, fa_time now)
{
    int err = fa_tcp_error(s->tcp);
    enum fa_tcp_state st = fa_tcp_state(s->tcp);
    if (err || st == FA_TCP_CLOSED) {
        s->err = err ? -err : ECONNREFUSED;
        tcp_release(t, s, 0, now);
        s->st = FAD_ST_FAILED;
    } else if (st != FA_TCP_SYN_SENT && st != FA_TCP_SYN_RECEIVED) {
        s->st = FAD_ST_CONNECTED;
        fa_loop_tcp_interest(t->loop, s->tcp, FA_TCP_EV_READABLE);
    } else {
        return;
    }
    discard_filler(t, s);
}

/* Every copy of the program's end is closed and all it wrote is with
 * TCP: close as the kernel closes a dead process's socket. */
static void conn_orphan(struct dsock_table *t, struct dsock *s, fa_time now)
{
    tcp_release(t, s, s->a_reset || s->rx_len, now);
    sock_free(t, s);
}

static void pump(struct dsock_table *t, struct dsock *s, fa_time now)
{
    if (s->st == FAD_ST_CONNECTING)
        connect_progress(t, s, now);
    if (s->st != FAD_ST_CONNECTED) {
        if (s->a_hup) { /* closed before it ever connected */
            if (s->st == FAD_ST_LISTENING)
                listener_release(t, s, now);
            else
                tcp_release(t, s, 0, now);
            sock_free(t, s);
        }
        return;
    }
    to_tcp(t, s, now);
    int err = from_tcp(t, s, now);
    if (err) { /* reset, timed out: the program reads end of stream */
        tcp_release(t, s, 0, now);
        sock_free(t, s);
        return;
    }
    if (s->a_hup && s->a_eof && !s->tx_len) {
        conn_orphan(t, s, now);
        return;
    }
    conn_interest(t, s);
}

static void on_tcp(void *ctx, struct fa_tcp *sock, unsigned events, fa_time now)
{
    struct dsock *s = ctx;
    (void)sock;
    (void)events;
    if (s->st == FAD_ST_LISTENING)
        listener_fill(s->table, s);
    else
        pump(s->table, s, now);
}

void dsock_on_epoll(struct dsock_table *t, struct dsock *s, uint32_t events, fa_time now)
{
    if (events & (EPOLLHUP | EPOLLERR))
        s->a_hup = 1;
    pump(t, s, now);
}
