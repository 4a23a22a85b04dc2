/* tcp_api.c — the socket API of finack/tcp.h: the user calls of RFC 9293
 * §3.10.1–§3.10.6 (OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS) in BSD
 * socket form, with the errno values a POSIX programmer expects. */
#include <errno.h>

#include "tcp.h"

static const char *const state_names[] = {
    "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
    "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK",
    "TIME-WAIT",
};

const char *fa_tcp_state_name(enum fa_tcp_state state)
{
    return (unsigned)state <= FA_TCP_TIME_WAIT ? state_names[state] : "?";
}

int fa_tcp_open(struct fa_stack *s, struct fa_tcp **out)
{
    struct fa_tcp *c = fa_tcp_alloc(s);
    if (!c)
        return -EMFILE;
    c->flags |= TF_HANDLE;
    *out = c;
    return 0;
}

int fa_tcp_bind(struct fa_tcp *c, uint32_t addr, uint16_t port)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    if (c->state != FA_TCP_CLOSED || (c->flags & TF_BOUND))
        return -EINVAL;
    if (addr != 0 && addr != s->cfg.addr)
        return -EADDRNOTAVAIL;
    if (port && fa_tcp_port_in_use(s, port, !!(c->flags & TF_REUSEADDR)))
        return -EADDRINUSE;
    c->laddr = s->cfg.addr;
    c->lport = port;
    if (port)
        c->flags |= TF_BOUND;
    return 0;
}

int fa_tcp_listen(struct fa_tcp *c, int backlog, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    if (backlog < 1)
        backlog = 1;
    if (backlog > 65535)
        backlog = 65535;
    if (c->state == FA_TCP_LISTEN) {
        c->lst.backlog = (uint16_t)backlog;
        return 0;
    }
    /* A socket that had a connection cannot listen (as Linux: EINVAL;
     * review: it kept the old peer's address and answered SYNs). */
    if (c->state != FA_TCP_CLOSED || c->err || (c->flags & TF_OPENED))
        return -EINVAL;
    if (!(c->flags & TF_BOUND)) {
        uint16_t port = fa_tcp_ephemeral_port(s, 0, 0);
        if (!port)
            return -EADDRINUSE;
        c->laddr = s->cfg.addr;
        c->lport = port;
        c->flags |= TF_BOUND;
    }
    c->lst = (struct fa_tcp_listen){ .backlog = (uint16_t)backlog };
    c->queue_next = fa_tcp_ref(s->tcp, s->tcp->listeners);
    s->tcp->listeners = c;
    c->flags |= TF_LISTENER;
    fa_tcp_set_state(c, FA_TCP_LISTEN, now);
    return 0;
}

int fa_tcp_accept(struct fa_tcp *l, struct fa_tcp **out)
{
    if (l->state != FA_TCP_LISTEN)
        return -EINVAL;
    struct fa_tcp *c = l->lst.accept_head;
    if (!c)
        return -EAGAIN;
    l->lst.accept_head = fa_tcp_at(fa_tcp_stack_of(l)->tcp, c->queue_next);
    if (!l->lst.accept_head)
        l->lst.accept_tail = NULL;
    l->lst.pending--;
    l->lst.queued--;
    c->parent = 0;
    c->queue_next = 0;
    c->flags = (c->flags & ~TF_QUEUED) | TF_HANDLE;
    *out = c;
    return 0;
}

/* Reports the pending error once; recv() says end of stream after it. */
static int take_error(struct fa_tcp *c)
{
    int e = c->err;
    c->err = 0;
    c->flags |= TF_ERROR_EOF;
    return e;
}

int fa_tcp_connect(struct fa_tcp *c, uint32_t addr, uint16_t port, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    switch (c->state) {
    case FA_TCP_CLOSED:
        break;
    case FA_TCP_SYN_SENT:
    case FA_TCP_SYN_RECEIVED:
        return -EALREADY;
    default: /* a listener too, as Linux */
        return -EISCONN;
    }
    /* A socket connects once. Asked again after its connect failed, it
     * says why, once (the idiom that learns a non-blocking connect's
     * outcome; review: -EINVAL), then -ECONNABORTED, as Linux. */
    if (c->err && !(c->flags & TF_ERROR_EOF))
        return take_error(c);
    if (c->err || (c->flags & TF_OPENED))
        return (c->flags & TF_OPENED) ? -ECONNABORTED : -EINVAL;
    if (port == 0 || addr == 0 || fa_ipv4_is_multicast(addr) ||
        fa_ipv4_is_broadcast(addr, s->cfg.addr, s->cfg.prefix_len))
        return -EINVAL;
    if (!(c->flags & TF_BOUND)) {
        c->lport = fa_tcp_ephemeral_port(s, addr, port);
        if (!c->lport)
            return -EADDRNOTAVAIL;
        c->flags |= TF_BOUND;
    }
    c->laddr = s->cfg.addr;
    if (fa_tcp_lookup(s, c->laddr, c->lport, addr, port) ||
        fa_tcp_tw_lookup(s, c->laddr, c->lport, addr, port))
        return -EADDRINUSE;
    c->raddr = addr;
    c->rport = port;
    if (fa_tcp_conn_setup(c, now) < 0)
        return -ENOMEM;
    fa_tcp_hash_insert(c);
    fa_tcp_set_state(c, FA_TCP_SYN_SENT, now);
    fa_tcp_send_syn(c, 0, now); /* L1 */
    return -EINPROGRESS;
}

long fa_tcp_send(struct fa_tcp *c, const void *data, size_t len, fa_time now)
{
    switch (c->state) {
    case FA_TCP_ESTABLISHED:
    case FA_TCP_CLOSE_WAIT: /* half-close: we may still send (L11) */
        break;
    case FA_TCP_SYN_SENT:
    case FA_TCP_SYN_RECEIVED:
        return -EAGAIN;
    case FA_TCP_CLOSED:
        /* Reset or timed out: the error once, if recv() or SO_ERROR did
         * not take it, then EPIPE, never a signal (L20; Linux's
         * sk_stream_error: a send after a reset in ESTABLISHED says
         * ECONNRESET, the next EPIPE). */
        if (c->err)
            return take_error(c);
        return (c->flags & TF_OPENED) ? -EPIPE : -ENOTCONN;
    case FA_TCP_LISTEN:
        return -ENOTCONN;
    default:
        return -EPIPE; /* we sent our FIN */
    }
    if (c->flags & TF_SHUT_WR)
        return -EPIPE;
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    if (len && fa_tcp_snd_len(c) < fa_tcp_so(c)->sndbuf && fa_tcp_snd_attach(c, 1) < 0)
        return -ENOBUFS; /* config.tcp_mem_max, or out of memory: WRITABLE
                            is reported again when memory comes back */
    uint32_t n = c->snd ? fa_ring_write(c->snd, data, (uint32_t)len) : 0;
    if (n == 0)
        return len ? -EAGAIN : 0;
    fa_tcp_output(c, now);
    return (long)n;
}

/* After the application read: if the window can open by the receiver
 * SWS step (RFC 9293 §3.8.6.2.2), tell the peer now. */
static void maybe_window_update(struct fa_tcp *c, fa_time now)
{
    if (fa_tcp_window_update_due(c) &&
        (c->state == FA_TCP_ESTABLISHED || c->state == FA_TCP_FIN_WAIT_1 ||
         c->state == FA_TCP_FIN_WAIT_2)) {
        c->flags |= TF_ACK_NOW;
        fa_tcp_output(c, now);
    }
}

long fa_tcp_recv(struct fa_tcp *c, void *buf, size_t len, fa_time now)
{
    if (fa_tcp_rcv_len(c) && !(c->flags & TF_SHUT_RD)) {
        uint32_t n = len < c->rcv->len ? (uint32_t)len : c->rcv->len;
        fa_ring_copy_out(c->rcv, 0, buf, n);
        fa_ring_consume(c->rcv, n);
        fa_tcp_rcv_detach_idle(c);
        maybe_window_update(c, now);
        return (long)n;
    }
    /* After the peer's FIN, end of stream comes before an error (Linux's
     * tcp_recvmsg tests SOCK_DONE first): a reset in CLOSE-WAIT is left
     * for send() and SO_ERROR. */
    if (c->err && !(c->flags & (TF_ERROR_EOF | TF_FIN_RCVD)))
        return take_error(c);
    if ((c->flags & (TF_FIN_RCVD | TF_SHUT_RD | TF_ERROR_EOF)) ||
        (c->state == FA_TCP_CLOSED && (c->flags & TF_OPENED)))
        return 0;
    if (c->state == FA_TCP_CLOSED || c->state == FA_TCP_LISTEN)
        return -ENOTCONN;
    return -EAGAIN;
}

/* Queues our FIN: the state moves now, the FIN goes when the data
 * before it has (RFC 9293 §3.10.4). In SYN-RECEIVED (a simultaneous
 * open) the close is "queued for processing after entering ESTABLISHED"
 * (tcp_in.c, established()): our SYN is not acknowledged yet, and a
 * FIN-WAIT-1 that still owes its SYN would resend a FIN where the SYN
 * belongs. */
static void shut_write(struct fa_tcp *c, fa_time now)
{
    if (c->flags & TF_SHUT_WR)
        return;
    c->flags |= TF_SHUT_WR;
    if (c->state == FA_TCP_ESTABLISHED)
        fa_tcp_set_state(c, FA_TCP_FIN_WAIT_1, now); /* L10 */
    else if (c->state == FA_TCP_CLOSE_WAIT)
        fa_tcp_set_state(c, FA_TCP_LAST_ACK, now);   /* L11 */
    fa_tcp_output(c, now);
}

static void stop_listening(struct fa_tcp *l, fa_time now);

int fa_tcp_shutdown(struct fa_tcp *c, int how, fa_time now)
{
    if (how < FA_SHUT_RD || how > FA_SHUT_RDWR)
        return -EINVAL;
    /* As Linux's inet_shutdown (fifth review: -ENOTCONN, and the
     * listener answered on): SHUT_RD stops a listener (the usual way to
     * wake a thread in accept; accept then says -EINVAL), SHUT_WR alone
     * leaves it. (Linux also cancels a connect in SYN-SENT; finack says
     * -ENOTCONN and the connect goes on.) */
    if (c->state == FA_TCP_LISTEN) {
        if (how != FA_SHUT_WR)
            stop_listening(c, now);
        return 0;
    }
    if (c->state == FA_TCP_CLOSED || c->state == FA_TCP_SYN_SENT)
        return -ENOTCONN;
    if (how != FA_SHUT_WR) {
        /* What is queued and what comes later is dropped (tcp_in.c). */
        c->flags |= TF_SHUT_RD;
        if (c->rcv)
            fa_ring_consume(c->rcv, c->rcv->len);
        fa_tcp_rcv_detach_idle(c);
        maybe_window_update(c, now);
    }
    if (how != FA_SHUT_RD)
        shut_write(c, now);
    return 0;
}

/* The listener stops: queued and half-open children die with a reset,
 * it leaves the stack's list and is CLOSED; the handle stays. */
static void stop_listening(struct fa_tcp *l, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(l);
    for (uint32_t i = 0; i < s->tcp->pool_used; i++) {
        struct fa_tcp *c = fa_tcp_pool_entry(s->tcp, i);
        if (!(c->flags & TF_FREE) && c->parent == fa_tcp_ref(s->tcp, l)) {
            fa_tcp_send_rst(c, now);
            fa_tcp_terminate(c, 0, now);
        }
    }
    fa_tcp_listener_unlink(l);
    l->lst = (struct fa_tcp_listen){ 0 };
    fa_tcp_set_state(l, FA_TCP_CLOSED, now);
}

static void close_listener(struct fa_tcp *l, fa_time now)
{
    stop_listening(l, now);
    fa_tcp_free(l);
}

/* The handle goes; the connection finishes on its own (an orphan). */
static void release(struct fa_tcp *c, fa_time now)
{
    c->flags &= ~(TF_HANDLE | TF_LINGERING);
    /* An orphan in FIN-WAIT-2: keepalive stops (fa_tcp_t_keep()). */
    switch (c->state) {
    case FA_TCP_CLOSED:
        fa_tcp_free(c);
        return;
    case FA_TCP_TIME_WAIT:
        fa_tcp_tw_enter(c, now);
        return;
    case FA_TCP_FIN_WAIT_2:
        c->t_close = now + fa_tcp_stack_of(c)->cfg.tcp_fin_wait2_timeout; /* L16 */
        break;
    default:
        break;
    }
    fa_tcp_timer_update(c);
}

static int abort_conn(struct fa_tcp *c, fa_time now)
{
    if (fa_tcp_rst_on_abort(c))
        fa_tcp_send_rst(c, now);
    c->flags &= ~TF_HANDLE;
    if (c->state == FA_TCP_LISTEN)
        close_listener(c, now);
    else
        fa_tcp_terminate(c, 0, now);
    return 0;
}

/* close() with SO_LINGER's value linger_ms (-1: off). */
static int close_with(struct fa_tcp *c, int32_t linger_ms, fa_time now)
{
    if (c->flags & TF_LINGERING) {
        /* Second call of a lingering close: done, failed, or not yet.
         * Failed: it ended before our FIN was acknowledged — the linger
         * ran out (-ETIMEDOUT), or a reset or a timeout ended it (its
         * error; review: a reset, or a soft ICMP error before the linger
         * ran out, made it say 0, "all acknowledged"). */
        if (c->state == FA_TCP_CLOSED && !(c->flags & TF_CLOSE_DONE)) {
            int err = c->err ? c->err : -ECONNRESET;
            fa_tcp_free(c);
            return err;
        }
        if (!(c->flags & TF_CLOSE_DONE) && c->state != FA_TCP_CLOSED)
            return -EINPROGRESS;
        release(c, now);
        return 0;
    }
    switch (c->state) {
    case FA_TCP_LISTEN:
        close_listener(c, now);
        return 0;
    case FA_TCP_CLOSED:
        fa_tcp_free(c);
        return 0;
    case FA_TCP_SYN_SENT: /* "delete the TCB" */
        c->flags &= ~TF_HANDLE;
        fa_tcp_terminate(c, 0, now);
        return 0;
    default:
        break;
    }
    /* L19: unread data means the application lost data the peer sent:
     * reset (RFC 9293 §3.10.4, RFC 2525 §2.17) — in LAST-ACK and CLOSING
     * too, as Linux's tcp_close (review: deleted silently there). In
     * TIME-WAIT the peer is done: the bytes go, TIME-WAIT stays (L14). */
    if (fa_tcp_rcv_len(c) && !(c->flags & TF_SHUT_RD) && c->state != FA_TCP_TIME_WAIT) {
        fa_tcp_send_rst(c, now);
        c->flags &= ~TF_HANDLE;
        fa_tcp_terminate(c, 0, now);
        return 0;
    }
    if (linger_ms == 0) /* L17: SO_LINGER 0 aborts */
        return abort_conn(c, now);
    shut_write(c, now);
    if (linger_ms > 0) {
        /* L18: the handle stays until the FIN is acknowledged or the
         * linger time runs out. */
        c->flags |= TF_LINGERING;
        if (c->state != FA_TCP_TIME_WAIT && c->state != FA_TCP_FIN_WAIT_2) {
            c->t_close = now + (fa_time)linger_ms * FA_NS_PER_MS;
            fa_tcp_timer_update(c);
            return -EINPROGRESS;
        }
    }
    release(c, now);
    return 0;
}

int fa_tcp_close(struct fa_tcp *c, fa_time now)
{
    if (c->flags & TF_FREE)
        return -EBADF; /* closed already (review: freed twice, the pool broke) */
    return close_with(c, fa_tcp_so(c)->linger_ms, now);
}

/* A close nobody waits for (the owner is gone): SO_LINGER 0 still
 * aborts, a linger time is not waited out. */
static int close_now(struct fa_tcp *c, fa_time now)
{
    int32_t linger_ms = fa_tcp_so(c)->linger_ms;
    return close_with(c, linger_ms > 0 ? -1 : linger_ms, now);
}

int fa_tcp_abort(struct fa_tcp *c, fa_time now)
{
    if (c->flags & TF_FREE)
        return -EBADF;
    return abort_conn(c, now);
}

/* Keepalive settings count from the last segment received. */
static void rearm_keepalive(struct fa_tcp *c)
{
    if (c->state == FA_TCP_CLOSED || c->state == FA_TCP_LISTEN)
        return;
    fa_tcp_timer_update(c);
}

/* The handshake is over (RFC 9293's synchronized states). */
static int synchronized(const struct fa_tcp *c)
{
    switch (c->state) {
    case FA_TCP_CLOSED: case FA_TCP_LISTEN: case FA_TCP_SYN_SENT: case FA_TCP_SYN_RECEIVED:
        return 0;
    default:
        return 1;
    }
}

/* FA_TCP_QUICKACK (tcp_in.c's quick-ACK mode), as Linux's: 0 ends the
 * mode; 1 sends an ACK owed at the next poll — a setopt has no clock, the
 * delayed-ACK timer is made due at once (as FA_TCP_NODELAY flushes) — and
 * gives no new quick ACKs (review: a program that sets it after each
 * read, a common idiom, would have had every segment ACKed). */
static int set_quickack(struct fa_tcp *c, long v)
{
    if (!synchronized(c))
        return -ENOTCONN;
    if (!v) {
        c->quick_acks = 0;
        return 0;
    }
    if (c->flags & TF_ACK_DELAYED) {
        c->t_delack = 0;
        fa_tcp_timer_update(c);
    }
    return 0;
}

int fa_tcp_setopt(struct fa_tcp *c, enum fa_tcp_option opt, long v)
{
    int unopened = c->state == FA_TCP_CLOSED && !(c->flags & TF_OPENED);
    struct fa_tcp_sockopts o = *fa_tcp_so(c); /* what changes goes in a set */
    switch (opt) {
    case FA_SO_SNDBUF:
    case FA_SO_RCVBUF:
        if (!unopened)
            return -EISCONN;
        if (v < 64 || v > 16 * 1024 * 1024)
            return -EINVAL;
        *(opt == FA_SO_SNDBUF ? &o.sndbuf : &o.rcvbuf) = (uint32_t)v;
        return fa_tcp_so_set(c, &o);
    case FA_SO_LINGER:
        if (v < -1 || v > 3600 * 1000)
            return -EINVAL;
        o.linger_ms = (int32_t)v;
        return fa_tcp_so_set(c, &o);
    case FA_TCP_NODELAY:
        /* Turned on, it sends what Nagle holds, as Linux's setsockopt
         * (programs toggle it to flush; review: it waited for an ACK).
         * A setopt has no clock: the delayed-ACK timer, due at once,
         * sends it at the next turn of the timers (tcp_timer.c). */
        if (v && !(c->flags & TF_NODELAY) && fa_tcp_snd_len(c) &&
            c->state != FA_TCP_CLOSED && c->state != FA_TCP_LISTEN) {
            c->t_delack = 0;
            fa_tcp_timer_update(c);
        }
        c->flags = v ? c->flags | TF_NODELAY : c->flags & ~TF_NODELAY;
        return 0;
    case FA_SO_KEEPALIVE:
        /* Turned on, the idle time counts from now, as Linux's
         * tcp_set_keepalive arms its timer (review: a connection idle for
         * hours probed at once). A setopt has no clock: the stack's
         * latest time stands for it. */
        if (v && !(c->flags & TF_KEEPALIVE) && synchronized(c))
            fa_tcp_keepalive_from(c, fa_tcp_stack_of(c)->clock);
        c->flags = v ? c->flags | TF_KEEPALIVE : c->flags & ~TF_KEEPALIVE;
        rearm_keepalive(c);
        return 0;
    case FA_TCP_KEEPIDLE:
    case FA_TCP_KEEPINTVL:
        if (v < 1 || v > FA_TCP_KEEP_MAX_MS)
            return -EINVAL;
        *(opt == FA_TCP_KEEPIDLE ? &o.keep_idle_ms : &o.keep_intvl_ms) = (uint32_t)v;
        if (fa_tcp_so_set(c, &o) < 0)
            return -ENOMEM;
        rearm_keepalive(c);
        return 0;
    case FA_TCP_KEEPCNT:
        if (v < 1 || v > 255)
            return -EINVAL;
        o.keep_cnt = (uint8_t)v;
        return fa_tcp_so_set(c, &o);
    case FA_TCP_MAXSEG:
        if (!unopened)
            return -EISCONN;
        if (v < 88 || v > fa_tcp_stack_of(c)->cfg.mtu - FA_IPV4_HLEN - FA_TCP_HLEN)
            return -EINVAL;
        o.user_mss = (uint16_t)v;
        return fa_tcp_so_set(c, &o);
    case FA_SO_REUSEADDR:
        c->flags = v ? c->flags | TF_REUSEADDR : c->flags & ~TF_REUSEADDR;
        return 0;
    case FA_TCP_QUICKACK:
        return set_quickack(c, v);
    case FA_TCP_CONGESTION:
        if (v != FA_TCP_CC_CUBIC && v != FA_TCP_CC_NEWRENO)
            return -ENOENT; /* as Linux for an unknown name */
        o.cc_algo = (uint8_t)v;
        if (fa_tcp_so_set(c, &o) < 0)
            return -ENOMEM;
        fa_tcp_cc_switch(c);
        return 0;
    }
    return -ENOPROTOOPT;
}

int fa_tcp_getopt(const struct fa_tcp *c, enum fa_tcp_option opt, long *v)
{
    switch (opt) {
    case FA_SO_SNDBUF: *v = fa_tcp_so(c)->sndbuf; return 0;
    case FA_SO_RCVBUF: *v = fa_tcp_so(c)->rcvbuf; return 0;
    case FA_SO_LINGER: *v = fa_tcp_so(c)->linger_ms; return 0;
    case FA_SO_KEEPALIVE: *v = !!(c->flags & TF_KEEPALIVE); return 0;
    case FA_TCP_NODELAY: *v = !!(c->flags & TF_NODELAY); return 0;
    case FA_TCP_KEEPIDLE: *v = (long)fa_tcp_so(c)->keep_idle_ms; return 0;
    case FA_TCP_KEEPINTVL: *v = (long)fa_tcp_so(c)->keep_intvl_ms; return 0;
    case FA_TCP_KEEPCNT: *v = fa_tcp_so(c)->keep_cnt; return 0;
    case FA_TCP_MAXSEG: *v = (c->flags & TF_OPENED) ? c->mss : fa_tcp_so(c)->user_mss; return 0;
    case FA_TCP_CONGESTION: *v = fa_tcp_so(c)->cc_algo; return 0;
    case FA_SO_REUSEADDR: *v = !!(c->flags & TF_REUSEADDR); return 0;
    case FA_TCP_QUICKACK:
        if (!synchronized(c))
            return -ENOTCONN;
        *v = c->quick_acks != 0;
        return 0;
    }
    return -ENOPROTOOPT;
}

unsigned fa_tcp_events(const struct fa_tcp *c)
{
    unsigned ev = 0;
    if (c->state == FA_TCP_LISTEN)
        return c->lst.accept_head ? FA_TCP_EV_ACCEPT : 0;
    int dead = c->state == FA_TCP_CLOSED && ((c->flags & TF_OPENED) || c->err);
    if (fa_tcp_rcv_len(c) || (c->flags & (TF_FIN_RCVD | TF_SHUT_RD)) || c->err || dead)
        ev |= FA_TCP_EV_READABLE;
    if (((c->state == FA_TCP_ESTABLISHED || c->state == FA_TCP_CLOSE_WAIT) &&
         !(c->flags & TF_SHUT_WR) && fa_tcp_snd_len(c) < fa_tcp_so(c)->sndbuf && fa_tcp_snd_room(c)) ||
        dead)
        ev |= FA_TCP_EV_WRITABLE;
    if (c->flags & TF_FIN_RCVD)
        ev |= FA_TCP_EV_HUP;
    if (c->err)
        ev |= FA_TCP_EV_ERROR;
    if (c->flags & TF_CLOSE_DONE)
        ev |= FA_TCP_EV_CLOSED;
    return ev;
}

int fa_tcp_error(struct fa_tcp *c)
{
    int e = c->err;
    c->err = 0;
    return e;
}

enum fa_tcp_state fa_tcp_state(const struct fa_tcp *c)
{
    return (enum fa_tcp_state)c->state;
}

void fa_tcp_get_info(const struct fa_tcp *c, struct fa_tcp_info *i)
{
    *i = (struct fa_tcp_info){
        .state = (enum fa_tcp_state)c->state, .state_since = c->state_since,
        .local_addr = c->laddr, .remote_addr = c->raddr,
        .local_port = c->lport, .remote_port = c->rport,
        .snd_una = c->snd_una, .snd_nxt = c->snd_nxt, .snd_wnd = c->snd_wnd,
        .rcv_nxt = c->rcv_nxt,
        .rcv_wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0,
        .snd_wscale = c->snd_wscale, .rcv_wscale = c->rcv_wscale, .mss = c->mss,
        .cwnd = c->cwnd, .ssthresh = c->ssthresh,
        .srtt = fa_tcp_srtt(c), .rttvar = ((fa_time)c->rttvar8 * (FA_NS_PER_US / 8)), .rto = fa_tcp_rto(c),
        .send_queued = fa_tcp_snd_len(c), .recv_queued = fa_tcp_rcv_len(c),
        .retransmits = c->retransmits, .next_timer = fa_tcp_next_timer(c),
        .sack = !!(c->flags & TF_SACK), .timestamps = !!(c->flags & TF_TS),
        .congestion = fa_tcp_so(c)->cc_algo, .pipe = fa_tcp_pipe(c), .owner = fa_tcp_so(c)->owner,
        .rcv_ooo = (uint8_t)(c->ooo_count + ((c->flags & TF_FIN_SEEN) != 0)),
        .rexmit_at = c->t_rexmit, .probe_at = FA_TIME_NEVER,
        .ack_owed = (c->flags & (TF_ACK_NOW | TF_ACK_QUEUED)) ||
                    ((c->flags & TF_ACK_DELAYED) && c->t_delack != FA_TIME_NEVER),
    };
    if (c->state == FA_TCP_LISTEN) {
        i->accept_queued = c->lst.queued;
        i->backlog = c->lst.backlog;
        return; /* (its bytes for loss state are the listener's) */
    }
    if (c->loss) {
        i->loss_state = 1;
        i->recovery = c->loss->state;
        i->sacked = c->loss->sb.sacked;
        i->lost = c->loss->sb.lost;
        i->lost_hidden = fa_tcp_rec_lost_hidden(c);
        i->probe_out = c->loss->tlp_out;
        i->reorder_wait = c->loss->timer == LT_REORDER;
        if (c->loss->timer == LT_TLP)
            i->probe_at = c->loss->t_loss;
    }
}

void fa_tcp_set_user(struct fa_tcp *c, void *user) { c->user = user; }
void *fa_tcp_user(const struct fa_tcp *c) { return c->user; }
int fa_tcp_set_owner(struct fa_tcp *c, uint32_t owner)
{
    struct fa_tcp_sockopts o = *fa_tcp_so(c);
    o.owner = owner;
    return fa_tcp_so_set(c, &o);
}

unsigned fa_stack_close_owner(struct fa_stack *s, uint32_t owner, fa_time now)
{
    /* L22: as an OS does for a dead process: each socket it held is
     * closed; FIN, or RST where received data was never read. A lingering
     * close is not waited for: nobody is left to wait. */
    unsigned n = 0;
    for (uint32_t i = 0; i < s->tcp->pool_used; i++) {
        struct fa_tcp *c = fa_tcp_pool_entry(s->tcp, i);
        if ((c->flags & TF_FREE) || !(c->flags & TF_HANDLE) || fa_tcp_so(c)->owner != owner)
            continue;
        n++;
        if (c->flags & TF_LINGERING) { /* close() was called: let it go */
            if (c->state == FA_TCP_CLOSED)
                fa_tcp_free(c);
            else
                release(c, now);
            continue;
        }
        close_now(c, now);
    }
    return n;
}

void fa_stack_tcp_usage(const struct fa_stack *s, struct fa_tcp_usage *u)
{
    u->sockets = s->tcp->live;
    u->time_wait = s->tcp->tw_count;
    u->buffer_bytes = s->tcp->buffer_bytes;
    u->loss_states = s->tcp->loss_live;
    u->half_open = s->tcp->half_open;
}

void fa_stack_tcp_walk(const struct fa_stack *s,
                       void (*visit)(void *ctx, const struct fa_tcp_info *),
                       void *ctx)
{
    const struct fa_tcp_stack *t = s->tcp;
    for (uint32_t i = 0; i < t->pool_used; i++) {
        const struct fa_tcp *c = fa_tcp_pool_entry(t, i);
        if (c->flags & TF_FREE)
            continue;
        struct fa_tcp_info info;
        fa_tcp_get_info(c, &info);
        visit(ctx, &info);
    }
    for (uint32_t i = t->tw_oldest; i != UINT32_MAX; i = t->tw[i].next) {
        const struct fa_tcp_tw *e = &t->tw[i];
        struct fa_tcp_info info = {
            .state = FA_TCP_TIME_WAIT, .local_addr = e->laddr,
            .remote_addr = e->raddr, .local_port = e->lport,
            .remote_port = e->rport, .snd_nxt = e->snd_nxt,
            .rcv_nxt = e->rcv_nxt, .next_timer = e->expires,
        };
        visit(ctx, &info);
    }
}
