/* dsock_udp.c — finackd's UDP sockets: a finack UDP socket (finack/udp.h)
 * tied to finackd's end of a SOCK_SEQPACKET socketpair, which keeps each
 * datagram whole (a short read takes its first bytes; the rest goes, as
 * UDP's does). The pump runs when the stack has datagrams (the run
 * loop's UDP watch) or the program sent some (epoll):
 *   program -> stack: a datagram that starts with a struct fad_dgram
 *     goes where it says; a bare one to the connected peer (or nowhere,
 *     counted, as Linux would say EDESTADDRREQ);
 *   stack -> program: bare on a connected socket, after a struct
 *     fad_dgram naming its source on an unconnected one. When the
 *     program's end is full, the datagram is dropped — a full UDP
 *     receive queue drops, it never holds the sender back.
 * When every copy of the program's end is closed, the socket goes. */
#include "dsock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 65536 /* dsock_scratch()'s size */

static void to_stack(struct dsock_table *t, struct dsock *s, fa_time now);

static void on_udp(void *ctx, struct fa_udp *sock, unsigned events, fa_time now)
{
    struct dsock *s = ctx;
    (void)sock;
    (void)events;
    dsock_udp_pump(s->table, s, now);
}

int dsock_udp_new(struct dsock_table *t, pid_t pid, int v6, struct dsock **out, int *fd)
{
    struct fa_udp *u;
    int err = fa_udp_open(dsock_stack(t), &u);
    if (err)
        return err == -EMFILE ? -ENFILE : err == -ENOMEM ? -ENOBUFS : err;
    err = dsock_make(t, pid, 1, v6, out, fd);
    if (!err && fa_loop_watch_udp(dsock_loop(t), u, FA_TCP_EV_READABLE, on_udp, *out) < 0) {
        close(*fd);
        dsock_free(t, *out);
        err = -ENOBUFS;
    }
    if (err) {
        fa_udp_close(u);
        return err;
    }
    (*out)->udp = u;
    (*out)->sndbuf = (*out)->rcvbuf = 212992; /* as Linux's defaults read */
    return 0;
}

static void unpend(struct dsock_table *t, struct dsock *s)
{
    if (!s->pending)
        return;
    for (struct dsock **p = dsock_pending(t); *p; p = &(*p)->next_pending)
        if (*p == s) {
            *p = s->next_pending;
            break;
        }
    s->pending = 0;
}

fa_time dsock_udp_turn(struct dsock_table *t, fa_time now)
{
    struct dsock *list = *dsock_pending(t);
    *dsock_pending(t) = NULL;
    while (list) {
        struct dsock *s = list;
        list = s->next_pending;
        s->pending = 0;
        to_stack(t, s, now); /* may put it back */
    }
    return *dsock_pending(t) ? now : FA_TIME_NEVER;
}

void dsock_udp_release(struct dsock_table *t, struct dsock *s)
{
    unpend(t, s);
    if (!s->udp)
        return;
    fa_loop_unwatch_udp(dsock_loop(t), s->udp);
    fa_udp_close(s->udp);
    s->udp = NULL;
}

int dsock_udp_bind(struct dsock *s, uint32_t addr, uint16_t port)
{
    if (s->lport)
        return -EINVAL; /* bound already */
    if (dsock_v6only(s)) /* v4-mapped: Linux says EINVAL; ::, finack has no IPv6 */
        return addr ? -EINVAL : -EAFNOSUPPORT;
    int err = fa_udp_bind(s->udp, addr, port);
    if (!err) {
        s->lport = fa_udp_local_port(s->udp);
        s->bound_any = addr == 0;
    }
    return err;
}

int dsock_udp_connect(struct dsock *s, uint32_t addr, uint16_t port)
{
    if (dsock_v6only(s)) /* to a v4-mapped address: Linux's ENETUNREACH */
        return -ENETUNREACH;
    int err = fa_udp_connect(s->udp, addr, port);
    if (err)
        return err;
    s->peer_addr = addr;
    s->peer_port = addr ? port : 0;
    s->st = addr ? FAD_ST_CONNECTED : FAD_ST_FRESH;
    s->lport = fa_udp_local_port(s->udp);
    if (addr)
        s->bound_any = 0;
    return 0;
}

int dsock_udp_name(struct dsock *s, int peer, uint32_t *addr, uint16_t *port)
{
    if (peer) {
        if (!s->peer_addr)
            return -ENOTCONN;
        *addr = s->peer_addr;
        *port = s->peer_port;
        return 0;
    }
    *port = fa_udp_local_port(s->udp);
    *addr = s->bound_any || !*port ? 0 : fa_stack_config(dsock_stack(s->table))->addr;
    return 0;
}

/* Program -> stack: every datagram waiting in our end (in order, before
 * any request about the socket is served: dsock_udp_flush). */
static void to_stack(struct dsock_table *t, struct dsock *s, fa_time now)
{
    uint8_t *buf = dsock_scratch(t);
    uint64_t magic = fad_magic(dsock_instance(t));
    /* 256 at a time, so one sender cannot hold finackd; what is left
     * goes on the next turn (epoll is edge-triggered: it would not say
     * so again). */
    for (int i = 0;; i++) {
        if (i == 256) {
            if (!s->pending) {
                s->pending = 1;
                s->next_pending = *dsock_pending(t);
                *dsock_pending(t) = s;
            }
            return;
        }
        struct iovec v = { .iov_base = buf, .iov_len = CHUNK };
        struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
        ssize_t n = recvmsg(s->a, &m, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return;
        if (m.msg_flags & MSG_TRUNC) { /* larger than any datagram */
            s->err = EMSGSIZE;
            continue;
        }
        if (n == 0) { /* an empty datagram, or the program shut its end */
            struct pollfd p = { .fd = s->a, .events = POLLRDHUP };
            if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)))
                return;
        }
        struct fad_dgram h = { 0 };
        size_t off = 0;
        if ((size_t)n >= sizeof h && (memcpy(&h, buf, sizeof h), h.magic == magic))
            off = sizeof h;
        else
            h.addr = 0, h.port = 0; /* bare: to the connected peer */
        long r = fa_udp_sendto(s->udp, buf + off, (size_t)n - off, h.addr, h.port, now);
        if (r < 0 && r != -EDESTADDRREQ)
            s->err = (int)-r; /* ECONNREFUSED, EMSGSIZE...: SO_ERROR says it */
    }
}

void dsock_udp_flush(struct dsock_table *t, struct dsock *s, fa_time now)
{
    if (s->udp)
        to_stack(t, s, now);
}

/* Stack -> program: every datagram the socket holds. */
static void to_program(struct dsock_table *t, struct dsock *s, fa_time now)
{
    uint8_t *buf = dsock_scratch(t);
    size_t hl = sizeof(struct fad_dgram);
    for (int i = 0; i < 256; i++) {
        uint32_t from;
        uint16_t port;
        long n = fa_udp_recvfrom(s->udp, buf + hl, CHUNK - hl, &from, &port, now);
        if (n == -EAGAIN)
            return;
        if (n < 0) {
            s->err = (int)-n;
            continue;
        }
        size_t off = hl;
        if (!s->peer_addr) {
            struct fad_dgram h = { .magic = fad_magic(dsock_instance(t)), .addr = from,
                                   .port = port };
            memcpy(buf, &h, hl);
            off = 0;
        }
        /* A full end drops the datagram, as a full receive queue does. */
        send(s->a, buf + off, (size_t)n + hl - off, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
}

void dsock_udp_pump(struct dsock_table *t, struct dsock *s, fa_time now)
{
    to_stack(t, s, now); /* what the program sent before it closed goes too */
    if (s->a_hup) {
        dsock_udp_release(t, s);
        dsock_free(t, s);
        return;
    }
    to_program(t, s, now);
}
