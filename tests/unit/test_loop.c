/* test_loop.c — the event loop (finack/loop.h): two stacks whose "wire"
 * is an AF_UNIX datagram socketpair (one datagram a frame), each driven
 * by its own fa_loop on a virtual clock. Checks callback dispatch, level
 * triggering against the interest mask, errors, UDP, descriptors, stop,
 * that a reborn socket slot never reaches a stale callback, and the turn
 * as one batch: answers carry the ACKs owed, a probe outside the peer's
 * window does not take them, a socket watched anew runs once a turn,
 * and a turn that took frames is followed by a read, not a poll(2)
 * (poll is wrapped, -Wl,--wrap=poll, to count the loop's calls). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <finack/finack.h>
#include <poll.h>

#include "frames.h"

#define A_ADDR FA_IPV4(198, 18, 0, 1)
#define B_ADDR FA_IPV4(198, 18, 0, 2)

struct side {
    int fd;
    struct fa_stack *stack;
    struct fa_loop *loop;
    unsigned tcp_segs, pure_acks; /* TCP segments it sent; of them, ACKs
                                     with no data, SYN or FIN */
};

struct world {
    fa_time now;
    struct side a, b;
};

/* Counts a TCP segment s sends (Ethernet, IPv4 without fragments). */
static void count_segment(struct side *s, const uint8_t *frame, size_t len)
{
    if (len < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00 || frame[14 + 9] != 6)
        return;
    size_t ihl = (size_t)(frame[14] & 15) * 4, tot = (size_t)frame[16] << 8 | frame[17];
    const uint8_t *tcp = frame + 14 + ihl;
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    s->tcp_segs++;
    if (tot == ihl + doff && tcp[13] == 0x10) /* ACK alone */
        s->pure_acks++;
}

static int wire_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct side *s = ctx;
    count_segment(s, frame, len);
    return send(s->fd, frame, len, MSG_DONTWAIT) == (ssize_t)len ? 0 : -EAGAIN;
}

static long wire_rx(void *ctx, uint8_t *buf, size_t cap)
{
    struct side *s = ctx;
    ssize_t n = recv(s->fd, buf, cap, MSG_DONTWAIT);
    return n >= 0 ? (long)n : -errno;
}

static uint64_t rng_next(void *ctx)
{
    uint64_t *x = ctx;
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void side_init(struct world *w, struct side *s, int fd, uint32_t addr,
                      uint64_t *seed, uint32_t rcvbuf)
{
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.addr = addr;
    cfg.tcp_max_conns = 8;
    if (rcvbuf)
        cfg.tcp_rcvbuf = rcvbuf;
    cfg.device = (struct fa_device){ .transmit = wire_tx, .ctx = s };
    cfg.rng = (struct fa_rng){ .next = rng_next, .ctx = seed };
    s->fd = fd;
    assert_int_equal(fa_stack_create(&cfg, w->now, &s->stack), 0);
    struct fa_loop_config lc = {
        .stack = s->stack, .clock = fa_clock_virtual(&w->now),
        .fd = fd, .read = wire_rx, .read_ctx = s,
    };
    assert_int_equal(fa_loop_create(&lc, &s->loop), 0);
}

static uint64_t seeds[2];

/* b_rcvbuf: B's receive buffer (0: the default). */
static int world_make(void **state, uint32_t b_rcvbuf)
{
    static struct world w;
    memset(&w, 0, sizeof w);
    seeds[0] = 0x1234567;
    seeds[1] = 0x7654321;
    w.now = FA_NS_PER_S;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    side_init(&w, &w.a, sv[0], A_ADDR, &seeds[0], 0);
    side_init(&w, &w.b, sv[1], B_ADDR, &seeds[1], b_rcvbuf);
    *state = &w;
    return 0;
}

static int world_setup(void **state)
{
    return world_make(state, 0);
}

/* B's window closes after 8 KiB its application does not read. */
static int world_setup_small_b(void **state)
{
    return world_make(state, 8192);
}

static int world_teardown(void **state)
{
    struct world *w = *state;
    struct side *sides[2] = { &w->a, &w->b };
    for (int i = 0; i < 2; i++) {
        fa_loop_destroy(sides[i]->loop);
        fa_stack_destroy(sides[i]->stack);
        close(sides[i]->fd);
    }
    return 0;
}

/* Turns of both loops, 1 ms of virtual time apart, until done() or a
 * bound of virtual time. */
static void run_until(struct world *w, int (*done)(void *), void *ctx, fa_time limit)
{
    fa_time end = w->now + limit;
    while (!(done && done(ctx)) && w->now < end) {
        assert_int_equal(fa_loop_process(w->a.loop, w->now), 0);
        assert_int_equal(fa_loop_process(w->b.loop, w->now), 0);
        w->now += FA_NS_PER_MS;
    }
}

/* ---- an uppercase echo server written with callbacks ------------------ */

struct echo_conn {
    struct fa_loop *loop;
    uint8_t pending[4096];
    size_t len;
    int closed;
};

struct echo_server {
    struct fa_loop *loop;
    struct echo_conn conn;
    int accepts;
};

static void echo_on_conn(void *ctx, struct fa_tcp *c, unsigned ev, fa_time now)
{
    struct echo_conn *e = ctx;
    (void)ev;
    if (e->len) {
        long n = fa_tcp_send(c, e->pending, e->len, now);
        if (n > 0) {
            memmove(e->pending, e->pending + n, e->len - (size_t)n);
            e->len -= (size_t)n;
        }
    }
    while (e->len < sizeof e->pending) {
        long n = fa_tcp_recv(c, e->pending + e->len, sizeof e->pending - e->len, now);
        if (n == 0 && !e->len) {
            assert_int_equal(fa_loop_close_tcp(e->loop, c, now), 0);
            e->closed = 1;
            return;
        }
        if (n <= 0)
            break;
        for (long i = 0; i < n; i++)
            if (e->pending[e->len + i] >= 'a' && e->pending[e->len + i] <= 'z')
                e->pending[e->len + i] -= 32;
        e->len += (size_t)n;
        long m = fa_tcp_send(c, e->pending, e->len, now);
        if (m > 0) {
            memmove(e->pending, e->pending + m, e->len - (size_t)m);
            e->len -= (size_t)m;
        }
    }
    /* Poll-style: wait for room only while holding bytes. */
    fa_loop_tcp_interest(e->loop, c,
                         FA_TCP_EV_READABLE | (e->len ? FA_TCP_EV_WRITABLE : 0));
}

static void echo_on_listener(void *ctx, struct fa_tcp *l, unsigned ev, fa_time now)
{
    struct echo_server *s = ctx;
    struct fa_tcp *c;
    (void)now;
    assert_true(ev & FA_TCP_EV_ACCEPT);
    while (fa_tcp_accept(l, &c) == 0) {
        s->accepts++;
        s->conn.loop = s->loop;
        assert_int_equal(fa_loop_watch_tcp(s->loop, c, FA_TCP_EV_READABLE,
                                           echo_on_conn, &s->conn), 0);
    }
}

struct client {
    struct fa_loop *loop;
    const uint8_t *out;
    size_t out_len, sent;
    uint8_t in[200000];
    size_t in_len;
    int connected, eof, shut;
    unsigned calls;
};

static void client_on_conn(void *ctx, struct fa_tcp *c, unsigned ev, fa_time now)
{
    struct client *k = ctx;
    k->calls++;
    if ((ev & FA_TCP_EV_WRITABLE) && !k->connected)
        k->connected = 1;
    if (k->connected && k->sent < k->out_len) {
        long n = fa_tcp_send(c, k->out + k->sent, k->out_len - k->sent, now);
        if (n > 0)
            k->sent += (size_t)n;
    }
    if (k->sent == k->out_len && !k->shut) {
        assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, now), 0);
        k->shut = 1;
    }
    long n;
    while ((n = fa_tcp_recv(c, k->in + k->in_len, sizeof k->in - k->in_len, now)) > 0)
        k->in_len += (size_t)n;
    if (n == 0) {
        k->eof = 1;
        assert_int_equal(fa_loop_close_tcp(k->loop, c, now), 0);
        return;
    }
    fa_loop_tcp_interest(k->loop, c,
                         FA_TCP_EV_READABLE | (k->shut ? 0 : FA_TCP_EV_WRITABLE));
}

static int client_done(void *ctx)
{
    return ((struct client *)ctx)->eof;
}

static struct fa_tcp *listen_on(struct side *s, uint16_t port)
{
    struct fa_tcp *l;
    assert_int_equal(fa_tcp_open(s->stack, &l), 0);
    assert_int_equal(fa_tcp_bind(l, 0, port), 0);
    assert_int_equal(fa_tcp_listen(l, 4, 0), 0);
    return l;
}

static void test_echo_with_callbacks(void **state)
{
    struct world *w = *state;
    static struct echo_server srv;
    static struct client k;
    static uint8_t text[150000];
    memset(&srv, 0, sizeof srv);
    memset(&k, 0, sizeof k);
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)("abcdefghijklmnopqrstuvwxyz0123456789 \n"[i % 38]);
    srv.loop = w->b.loop;
    struct fa_tcp *l = listen_on(&w->b, 7);
    assert_int_equal(fa_loop_watch_tcp(w->b.loop, l, FA_TCP_EV_ACCEPT,
                                       echo_on_listener, &srv), 0);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_open(w->a.stack, &c), 0);
    k.loop = w->a.loop;
    k.out = text;
    k.out_len = sizeof text;
    assert_int_equal(fa_tcp_connect(c, B_ADDR, 7, w->now), -EINPROGRESS);
    assert_int_equal(fa_loop_watch_tcp(w->a.loop, c, FA_TCP_EV_WRITABLE,
                                       client_on_conn, &k), 0);
    run_until(w, client_done, &k, 30 * FA_NS_PER_S);

    assert_true(k.eof);
    assert_int_equal(srv.accepts, 1);
    assert_true(srv.conn.closed);
    assert_int_equal(k.in_len, sizeof text);
    for (size_t i = 0; i < sizeof text; i++) {
        uint8_t want = text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i];
        if (k.in[i] != want)
            fail_msg("byte %zu: %02x, want %02x", i, k.in[i], want);
    }
    /* The loop never runs a callback for nothing: calls stay bounded by
     * the turns that had something (about one per ms of 150 KB flow). */
    assert_true(k.calls > 2);
    run_until(w, NULL, NULL, 2 * FA_NS_PER_S);
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(w->b.stack, &u);
    assert_int_equal(u.sockets, 1); /* only the listener */
    assert_int_equal(fa_loop_close_tcp(w->b.loop, l, w->now), 0);
}

/* ---- level triggering and errors ------------------------------------- */

struct counter {
    unsigned calls;
    unsigned last_ev;
    struct fa_tcp *sock;
};

static void count_call(void *ctx, struct fa_tcp *c, unsigned ev, fa_time now)
{
    struct counter *n = ctx;
    (void)now;
    n->calls++;
    n->last_ev = ev;
    n->sock = c;
}

static void accept_into(void *ctx, struct fa_tcp *l, unsigned ev, fa_time now)
{
    struct fa_tcp **out = ctx;
    (void)ev;
    (void)now;
    if (!*out)
        fa_tcp_accept(l, out);
}

/* Connects a to b:port; returns both ends, the server end unwatched. */
static void connect_pair(struct world *w, uint16_t port, struct fa_tcp **cli,
                         struct fa_tcp **srv, struct fa_tcp **lst)
{
    *srv = NULL;
    *lst = listen_on(&w->b, port);
    assert_int_equal(fa_loop_watch_tcp(w->b.loop, *lst, FA_TCP_EV_ACCEPT, accept_into, srv), 0);
    assert_int_equal(fa_tcp_open(w->a.stack, cli), 0);
    assert_int_equal(fa_tcp_connect(*cli, B_ADDR, port, w->now), -EINPROGRESS);
    run_until(w, NULL, NULL, 20 * FA_NS_PER_MS);
    assert_non_null(*srv);
    assert_int_equal(fa_tcp_state(*cli), FA_TCP_ESTABLISHED);
}

static void test_level_triggered_and_errors(void **state)
{
    struct world *w = *state;
    struct fa_tcp *cli, *srv, *lst;
    connect_pair(w, 80, &cli, &srv, &lst);
    struct counter n = { 0 };
    assert_int_equal(fa_loop_watch_tcp(w->b.loop, srv, FA_TCP_EV_READABLE, count_call, &n), 0);
    run_until(w, NULL, NULL, 5 * FA_NS_PER_MS);
    assert_int_equal(n.calls, 0); /* nothing to read yet */

    assert_int_equal(fa_tcp_send(cli, "hello", 5, w->now), 5);
    run_until(w, NULL, NULL, 10 * FA_NS_PER_MS);
    /* Unread data keeps it ready: one call per turn, like poll(2). */
    assert_int_equal(n.calls, 10);
    assert_ptr_equal(n.sock, srv);
    assert_true(n.last_ev & FA_TCP_EV_READABLE);

    /* No interest, no calls, data or not. */
    fa_loop_tcp_interest(w->b.loop, srv, 0);
    unsigned before = n.calls;
    run_until(w, NULL, NULL, 10 * FA_NS_PER_MS);
    assert_int_equal(n.calls, before);

    /* An error is reported whatever the interest. */
    assert_int_equal(fa_tcp_abort(cli, w->now), 0);
    run_until(w, NULL, NULL, 5 * FA_NS_PER_MS);
    assert_int_equal(n.calls, before + 1);
    assert_true(n.last_ev & FA_TCP_EV_ERROR);
    assert_int_equal(fa_tcp_error(srv), -ECONNRESET);
    run_until(w, NULL, NULL, 5 * FA_NS_PER_MS);
    assert_int_equal(n.calls, before + 1);
    assert_int_equal(fa_loop_close_tcp(w->b.loop, srv, w->now), 0);
    assert_int_equal(fa_loop_close_tcp(w->b.loop, lst, w->now), 0);
}

/* A closed socket's slot is reused by the next connection: that one
 * must not reach the old callback. */
static void test_reborn_slot_is_not_dispatched(void **state)
{
    struct world *w = *state;
    struct fa_tcp *cli, *srv, *lst;
    connect_pair(w, 81, &cli, &srv, &lst);
    struct counter n = { 0 };
    assert_int_equal(fa_loop_watch_tcp(w->b.loop, srv, FA_TCP_EV_READABLE, count_call, &n), 0);
    /* Unwatch and close directly: the documented alternative. */
    fa_loop_unwatch_tcp(w->b.loop, srv);
    assert_int_equal(fa_tcp_close(srv, w->now), 0);
    assert_int_equal(fa_tcp_close(cli, w->now), 0);
    run_until(w, NULL, NULL, 10 * FA_NS_PER_MS);
    struct fa_tcp *cli2, *srv2 = NULL;
    assert_int_equal(fa_loop_watch_tcp(w->b.loop, lst, FA_TCP_EV_ACCEPT, accept_into, &srv2), 0);
    assert_int_equal(fa_tcp_open(w->a.stack, &cli2), 0);
    assert_int_equal(fa_tcp_connect(cli2, B_ADDR, 81, w->now), -EINPROGRESS);
    run_until(w, NULL, NULL, 10 * FA_NS_PER_MS);
    assert_non_null(srv2);
    assert_null(fa_tcp_user(srv2));
    assert_int_equal(fa_tcp_send(cli2, "x", 1, w->now), 1);
    run_until(w, NULL, NULL, 10 * FA_NS_PER_MS);
    assert_int_equal(n.calls, 0);
    assert_int_equal(fa_tcp_abort(cli2, w->now), 0);
    assert_int_equal(fa_tcp_abort(srv2, w->now), 0);
    assert_int_equal(fa_loop_close_tcp(w->b.loop, lst, w->now), 0);
}

/* ---- UDP ---------------------------------------------------------------- */

struct udp_seen {
    unsigned calls;
    unsigned last_ev;
    char data[64];
    long len;
};

static void udp_read(void *ctx, struct fa_udp *u, unsigned ev, fa_time now)
{
    struct udp_seen *s = ctx;
    s->calls++;
    s->last_ev = ev;
    if (ev & FA_TCP_EV_READABLE)
        s->len = fa_udp_recvfrom(u, s->data, sizeof s->data, NULL, NULL, now);
}

static void test_udp_callbacks(void **state)
{
    struct world *w = *state;
    struct fa_udp *rx, *tx;
    assert_int_equal(fa_udp_open(w->b.stack, &rx), 0);
    assert_int_equal(fa_udp_bind(rx, 0, 5353), 0);
    struct udp_seen seen = { 0 }, err = { 0 };
    assert_int_equal(fa_loop_watch_udp(w->b.loop, rx, FA_TCP_EV_READABLE, udp_read, &seen), 0);
    assert_int_equal(fa_udp_open(w->a.stack, &tx), 0);
    assert_int_equal(fa_udp_connect(tx, B_ADDR, 5353), 0);
    assert_int_equal(fa_loop_watch_udp(w->a.loop, tx, 0, udp_read, &err), 0);
    assert_int_equal(fa_udp_sendto(tx, "ping", 4, 0, 0, w->now), 4);
    run_until(w, NULL, NULL, 5 * FA_NS_PER_MS);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.len, 4);
    assert_memory_equal(seen.data, "ping", 4);
    assert_int_equal(err.calls, 0);

    /* Port unreachable: the connected sender's callback sees ERROR. */
    fa_loop_unwatch_udp(w->b.loop, rx);
    assert_int_equal(fa_udp_close(rx), 0);
    assert_int_equal(fa_udp_sendto(tx, "ping", 4, 0, 0, w->now), 4);
    run_until(w, NULL, NULL, 5 * FA_NS_PER_MS);
    assert_int_equal(err.calls, 1);
    assert_true(err.last_ev & FA_TCP_EV_ERROR);
    /* The error makes the socket readable, and recvfrom reports it once
     * (as Linux's does); then the socket is usable again. */
    assert_int_equal(err.len, -ECONNREFUSED);
    assert_int_equal(fa_udp_sendto(tx, "ping", 4, 0, 0, w->now), 4);
    fa_loop_unwatch_udp(w->a.loop, tx);
    assert_int_equal(fa_udp_close(tx), 0);
}

/* ---- descriptors, stop, embedding ------------------------------------- */

struct fd_seen {
    struct fa_loop *loop;
    unsigned calls;
    char byte;
};

static void fd_ready(void *ctx, int fd, fa_time now)
{
    struct fd_seen *s = ctx;
    (void)now;
    s->calls++;
    assert_int_equal(read(fd, &s->byte, 1), 1);
    fa_loop_stop(s->loop);
}

static void test_fd_stop_and_embedding(void **state)
{
    struct world *w = *state;
    assert_int_equal(fa_loop_fd(w->a.loop), w->a.fd);
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fd_seen s = { w->a.loop, 0, 0 };
    assert_int_equal(fa_loop_watch_fd(w->a.loop, p[0], fd_ready, &s), 0);
    assert_int_equal(write(p[1], "!", 1), 1);
    /* The pipe is readable at once: the run returns on the callback's
     * stop, not on a timeout. */
    assert_int_equal(fa_loop_run(w->a.loop, FA_TIME_NEVER), 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.byte, '!');
    /* The stop was consumed: a run to a time already past returns. */
    assert_int_equal(fa_loop_run(w->a.loop, w->now), 0);
    fa_loop_unwatch_fd(w->a.loop, p[0]);
    close(p[0]);
    close(p[1]);

    /* fa_loop_next: a connect in flight arms the SYN timer. */
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_open(w->a.stack, &c), 0);
    assert_int_equal(fa_tcp_connect(c, FA_IPV4(198, 18, 0, 9), 9, w->now), -EINPROGRESS);
    assert_int_equal(fa_loop_process(w->a.loop, w->now), 0);
    fa_time next = fa_loop_next(w->a.loop);
    assert_true(next > w->now && next <= w->now + 2 * FA_NS_PER_S);
    assert_int_equal(fa_tcp_abort(c, w->now), 0);
}

/* A clock that moves 1 ms each time it is read. */
static fa_time stepping_now(void *ctx)
{
    fa_time *t = ctx;
    return *t += FA_NS_PER_MS;
}

static fa_time count_turn(void *ctx, fa_time now)
{
    (void)now;
    ++*(unsigned *)ctx;
    return FA_TIME_NEVER;
}

/* A stack alone (its frames go nowhere), for tests of the loop's
 * waiting: created at time t, its random numbers from *seed. */
static struct fa_stack *lone_stack(fa_time t, uint64_t *seed)
{
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.addr = A_ADDR;
    cfg.tcp_max_conns = 4;
    cfg.arp_gratuitous = 0;
    cfg.device = (struct fa_device){ .transmit = wire_tx, .ctx = NULL };
    cfg.rng = (struct fa_rng){ .next = rng_next, .ctx = seed };
    struct fa_stack *s;
    assert_int_equal(fa_stack_create(&cfg, t, &s), 0);
    return s;
}

/* Busy polling: before sleeping, a run keeps looking (reading the clock,
 * polling without a timeout) until busy_poll has gone by. On a clock
 * that moves 1 ms a read, a 20 ms run without it takes several turns,
 * each ending in a sleep; with 40 ms of busy polling the first wait
 * spins through all of it. A descriptor ready during the spin is served
 * at once. */
static void test_busy_poll(void **state)
{
    (void)state;
    static fa_time t;
    t = FA_NS_PER_S;
    uint64_t seed = 99;
    struct fa_stack *s = lone_stack(t, &seed);
    unsigned turns[2] = { 0, 0 };
    for (int busy = 0; busy < 2; busy++) {
        struct fa_loop *l;
        struct fa_loop_config lc = {
            .stack = s, .clock = { &t, stepping_now }, .fd = -1,
            .busy_poll = busy ? 40 * FA_NS_PER_MS : 0,
        };
        assert_int_equal(fa_loop_create(&lc, &l), 0);
        assert_int_equal(fa_loop_on_turn(l, count_turn, &turns[busy]), 0);
        assert_int_equal(fa_loop_run(l, t + 20 * FA_NS_PER_MS), 0);
        int p[2];
        assert_int_equal(pipe(p), 0);
        struct fd_seen seen = { l, 0, 0 };
        assert_int_equal(fa_loop_watch_fd(l, p[0], fd_ready, &seen), 0);
        assert_int_equal(write(p[1], "b", 1), 1);
        assert_int_equal(fa_loop_run(l, FA_TIME_NEVER), 0);
        assert_int_equal(seen.calls, 1);
        close(p[0]);
        close(p[1]);
        fa_loop_destroy(l);
    }
    print_message("turns: %u sleeping, %u busy polling\n", turns[0], turns[1]);
    assert_true(turns[0] >= 5);
    assert_true(turns[1] <= 3);
    fa_stack_destroy(s);
}

/* ---- a source that waits itself (cfg.wait) ------------------------------ */

/* A frame source like fa_tap_uring: no frames, and a wait that "sleeps"
 * by moving the clock by its timeout. */
struct waiting_source {
    fa_time *t;
    unsigned flushes, waits, zero_waits;
    int fail_look;     /* -errno for a wait of 0 (a failed look), or 0 */
    unsigned requests; /* ARP requests for IP_US to hand out first */
};

static long ws_next(void *ctx, const uint8_t **frame, struct fa_frame_meta *meta)
{
    struct waiting_source *w = ctx;
    static uint8_t buf[64];
    (void)meta;
    if (!w->requests)
        return -EAGAIN;
    w->requests--;
    *frame = buf;
    return (long)build_arp(buf, mac_a, FA_ARP_REQUEST, mac_peer, IP_PEER, mac_a, IP_US);
}

static void ws_flush(void *ctx)
{
    ((struct waiting_source *)ctx)->flushes++;
}

static int ws_wait(void *ctx, fa_time timeout)
{
    struct waiting_source *w = ctx;
    w->waits++;
    w->zero_waits += !timeout;
    if (!timeout && w->fail_look)
        return w->fail_look;
    assert_true(timeout <= FA_NS_PER_S); /* the loop's longest sleep */
    *w->t += timeout;
    return 0;
}

/* cfg.wait needs cfg.flush; fa_loop_run then sends by the wait alone (no
 * flush a turn: one system call a turn), sleeping in it for the time to
 * the deadline; with a descriptor watched it sends by a look (a wait of
 * 0, not a flush and a look) and sleeps in poll(2); a look that fails
 * fails the run and fa_loop_process. */
static void test_source_waits(void **state)
{
    (void)state;
    static fa_time t;
    t = FA_NS_PER_S;
    uint64_t seed = 7;
    struct fa_stack *s = lone_stack(t, &seed);
    int quiet[2];
    assert_int_equal(pipe(quiet), 0);
    struct waiting_source w = { .t = &t };
    struct fa_loop_config lc = {
        .stack = s, .clock = { &t, stepping_now }, .fd = quiet[0],
        .next_frame = ws_next, .wait = ws_wait, .read_ctx = &w,
    };
    struct fa_loop *l;
    assert_int_equal(fa_loop_create(&lc, &l), -EINVAL); /* no flush */
    lc.flush = ws_flush;
    assert_int_equal(fa_loop_create(&lc, &l), 0);
    assert_int_equal(fa_loop_run(l, t + 5 * FA_NS_PER_S), 0);
    assert_int_equal(w.flushes, 0);
    assert_true(w.waits >= 5 && w.waits <= 12); /* at most 1 s a sleep */
    assert_int_equal(w.zero_waits, 0);
    /* A descriptor watched: poll(2), after a look of 0. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fd_seen seen = { l, 0, 0 };
    assert_int_equal(fa_loop_watch_fd(l, p[0], fd_ready, &seen), 0);
    assert_int_equal(write(p[1], "c", 1), 1);
    w = (struct waiting_source){ .t = &t };
    assert_int_equal(fa_loop_run(l, FA_TIME_NEVER), 0);
    assert_int_equal(seen.calls, 1);
    /* No flush a turn (the look sends); one as the run ends, for what the
     * descriptor's callback may have sent (it stopped the run). */
    assert_int_equal(w.flushes, 1);
    assert_true(w.zero_waits >= 1);
    assert_int_equal(w.waits, w.zero_waits);
    /* A failed look (the turn's send) fails the run: the frames it should
     * have sent would otherwise wait unsent through every sleep. */
    w = (struct waiting_source){ .t = &t, .fail_look = -EIO };
    assert_int_equal(fa_loop_run(l, t + FA_NS_PER_S), -EIO);
    assert_int_equal(fa_loop_process(l, t), -EIO);
    close(p[0]), close(p[1]), close(quiet[0]), close(quiet[1]);
    fa_loop_destroy(l);
    fa_stack_destroy(s);
}

/* ---- after a turn that answered frames, a read before poll(2) ---------- */

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
static unsigned polls;
static int poll_no_sleep; /* a virtual world: poll(2) never sleeps */

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    polls++;
    return __real_poll(fds, n, poll_no_sleep ? 0 : timeout);
}

static int poll_sleeps_again(void **state)
{
    (void)state;
    poll_no_sleep = 0;
    return 0;
}

/* A source read by call that follows a script, one letter a read: 'a' an
 * ARP request for the stack (it answers), 'x' a frame it drops, '-'
 * nothing there; past its end, the last letter again. It notes how many
 * poll(2) calls came before each frame. */
struct script_source {
    const char *script;
    unsigned reads, frames;
    unsigned polls_before[8];
};

static long ss_read(void *ctx, uint8_t *buf, size_t cap)
{
    struct script_source *s = ctx;
    size_t n = strlen(s->script);
    char c = s->script[s->reads < n ? s->reads : n - 1];
    s->reads++;
    if (c == '-')
        return -EAGAIN;
    assert_true(cap >= 60);
    size_t len = build_arp(buf, mac_a, FA_ARP_REQUEST, mac_peer, IP_PEER, mac_a, IP_US);
    if (c == 'x')
        buf[12] = buf[13] = 0xff; /* EtherType 0xffff: dropped */
    if (s->frames < 8)
        s->polls_before[s->frames] = polls;
    s->frames++;
    return (long)len;
}

/* A loop on a lone stack (frames captured), reading src, its descriptor
 * an empty pipe q[0]; poll(2) never sleeps. */
static struct fa_loop *script_loop(fa_time *t, struct capture *cap, struct fa_prng *prng,
                                   struct script_source *src, int q[2], struct fa_stack **out)
{
    struct fa_config cfg = { 0 };
    fa_config_init(&cfg);
    cfg.addr = 0; /* make_stack's own: IP_US, no gratuitous ARP */
    struct fa_stack *s = make_stack(cap, prng, &cfg);
    assert_int_equal(pipe(q), 0);
    struct fa_loop_config lc = {
        .stack = s, .clock = { t, stepping_now }, .fd = q[0],
        .read = ss_read, .read_ctx = src,
    };
    struct fa_loop *l;
    assert_int_equal(fa_loop_create(&lc, &l), 0);
    poll_no_sleep = 1;
    polls = 0;
    *out = s;
    return l;
}

/* A TAP's write runs the kernel's receive of the frame, so the kernel's
 * answer (an ACK) is there before the write returns: a turn that took
 * frames and answered them is followed by a read, not by a poll(2) and
 * then a read. A turn that took frames it did not answer, or found
 * nothing, is followed by poll(2). With a source that always has frames
 * to answer, a watched descriptor is still served after a few turns. */
static void test_reads_before_polling(void **state)
{
    (void)state;
    static fa_time t;
    static struct capture cap;
    struct fa_prng prng;
    t = FA_NS_PER_S;
    int q[2];
    struct script_source src = { .script = "a-a-x-x--" };
    struct fa_stack *s;
    struct fa_loop *l = script_loop(&t, &cap, &prng, &src, q, &s);
    assert_int_equal(fa_loop_run(l, t + 20 * FA_NS_PER_MS), 0);
    assert_int_equal(src.frames, 4);
    assert_int_equal(fa_stack_counter(s, FA_CNT_TX_FRAMES), 2); /* two ARP replies */
    assert_int_equal(src.polls_before[0], 0);
    assert_int_equal(src.polls_before[1], 0); /* after an answer: read at once */
    assert_int_equal(src.polls_before[2], 0);
    assert_int_equal(src.polls_before[3], 1); /* after no answer: poll(2) first */
    /* Then nothing comes, and the loop waits in poll(2): one read a poll
     * from there on, not a spin of reads. */
    assert_true(polls >= 2);
    assert_true(src.reads <= 7 + polls);
    /* Frames to answer without end: a watched descriptor is served all
     * the same, after SKIP_MAX turns. */
    src = (struct script_source){ .script = "a" };
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fd_seen seen = { l, 0, 0 };
    assert_int_equal(fa_loop_watch_fd(l, p[0], fd_ready, &seen), 0);
    assert_int_equal(write(p[1], "d", 1), 1);
    polls = 0;
    assert_int_equal(fa_loop_run(l, t + FA_NS_PER_S), 0);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(polls, 1);
    assert_true(src.frames <= 5 * 64); /* the turns before that poll */
    fa_loop_destroy(l);
    /* A source that waits itself looked at the end of the turn: a turn
     * that answered is followed by poll(2) all the same. */
    struct waiting_source w = { .t = &t, .requests = 1 };
    struct fa_loop_config lc = {
        .stack = s, .clock = { &t, stepping_now }, .fd = q[0],
        .next_frame = ws_next, .wait = ws_wait, .flush = ws_flush, .read_ctx = &w,
    };
    assert_int_equal(fa_loop_create(&lc, &l), 0);
    seen.loop = l; /* its callback stops this loop now */
    unsigned turns = 0;
    assert_int_equal(fa_loop_on_turn(l, count_turn, &turns), 0);
    assert_int_equal(fa_loop_watch_fd(l, p[0], fd_ready, &seen), 0);
    assert_int_equal(write(p[1], "e", 1), 1);
    uint64_t sent = fa_stack_counter(s, FA_CNT_TX_FRAMES);
    polls = 0;
    assert_int_equal(fa_loop_run(l, t + FA_NS_PER_S), 0);
    assert_int_equal(seen.calls, 2);
    assert_int_equal(fa_stack_counter(s, FA_CNT_TX_FRAMES), sent + 1);
    assert_int_equal(turns, 1);
    assert_int_equal(polls, 1);
    close(p[0]), close(p[1]), close(q[0]), close(q[1]);
    fa_loop_destroy(l);
    fa_stack_destroy(s);
}

/* ---- ACKs ride on the callbacks' answers ------------------------------- */

/* A client as a kernel's would run it: a 64-byte request, the reply, close. */
struct rr_client {
    struct fa_loop *loop;
    uint8_t in[64];
    size_t in_len;
    int sent, done;
};

static void rr_on_conn(void *ctx, struct fa_tcp *c, unsigned ev, fa_time now)
{
    struct rr_client *k = ctx;
    static const uint8_t request[64] = "a request of sixty-four bytes, padded";
    if ((ev & FA_TCP_EV_WRITABLE) && !k->sent) {
        assert_int_equal(fa_tcp_send(c, request, sizeof request, now), 64);
        k->sent = 1;
    }
    long n = fa_tcp_recv(c, k->in + k->in_len, sizeof k->in - k->in_len, now);
    if (n > 0)
        k->in_len += (size_t)n;
    if (k->in_len == sizeof k->in) {
        assert_int_equal(fa_loop_close_tcp(k->loop, c, now), 0);
        k->done = 1;
        return;
    }
    fa_loop_tcp_interest(k->loop, c, FA_TCP_EV_READABLE);
}

static int rr_done(void *ctx)
{
    return ((struct rr_client *)ctx)->done;
}

/* The whole turn is one batch: the server's reply carries the ACK of the
 * request, its FIN the ACK of the client's, so the server sends no ACK
 * of its own in a request-reply-close cycle: SYN-ACK, reply, FIN. With
 * the batch ending before the callbacks it sent five segments, two of
 * them bare ACKs. */
static void test_answers_carry_the_acks(void **state)
{
    struct world *w = *state;
    static struct echo_server srv;
    memset(&srv, 0, sizeof srv);
    srv.loop = w->b.loop;
    struct fa_tcp *l = listen_on(&w->b, 7);
    assert_int_equal(fa_loop_watch_tcp(w->b.loop, l, FA_TCP_EV_ACCEPT,
                                       echo_on_listener, &srv), 0);
    for (int round = 0; round < 3; round++) {
        struct rr_client k = { .loop = w->a.loop };
        memset(&srv.conn, 0, sizeof srv.conn);
        struct fa_tcp *c;
        assert_int_equal(fa_tcp_open(w->a.stack, &c), 0);
        assert_int_equal(fa_tcp_connect(c, B_ADDR, 7, w->now), -EINPROGRESS);
        assert_int_equal(fa_loop_watch_tcp(w->a.loop, c, FA_TCP_EV_WRITABLE,
                                           rr_on_conn, &k), 0);
        unsigned segs = w->b.tcp_segs, acks = w->b.pure_acks;
        run_until(w, rr_done, &k, FA_NS_PER_S);
        run_until(w, NULL, NULL, 10 * FA_NS_PER_MS); /* the closes finish */
        assert_true(k.done);
        assert_memory_equal(k.in, "A REQUEST OF SIXTY-FOUR BYTES, PADDED", 37);
        assert_true(srv.conn.closed);
        assert_int_equal(w->b.pure_acks - acks, 0);
        assert_int_equal(w->b.tcp_segs - segs, 3);
    }
    assert_int_equal(srv.accepts, 3);
    assert_int_equal(fa_loop_close_tcp(w->b.loop, l, w->now), 0);
}

/* ---- what a review of the whole-turn batch found ------------------------ */

static uint8_t big[60000];

/* Fills B's window from A (B's application reads nothing) until A
 * probes it; returns A's next probe time. */
static fa_time until_a_probes(struct world *w, struct fa_tcp **cli, struct fa_tcp **srv,
                              uint16_t port)
{
    struct fa_tcp *lst;
    connect_pair(w, port, cli, srv, &lst);
    fa_loop_unwatch_tcp(w->b.loop, lst);
    assert_true(fa_tcp_send(*cli, big, sizeof big, w->now) > 8192);
    struct fa_tcp_info ia;
    for (int i = 0; i < 10000; i++) {
        run_until(w, NULL, NULL, FA_NS_PER_MS);
        fa_tcp_get_info(*cli, &ia);
        if (ia.snd_wnd == 0 && ia.snd_una == ia.snd_nxt)
            break;
    }
    assert_int_equal(ia.snd_wnd, 0);
    assert_true(ia.next_timer != FA_TIME_NEVER);
    return ia.next_timer;
}

/* A's zero-window probe goes at SND.UNA - 1, outside B's window: B drops
 * it without reading its ACK field (RFC 9293 §3.10.7.4). Two segments
 * from B reach A in the turn whose timers send the probe; the probe
 * took the ACK A owed them, and B got it only by retransmitting. Now
 * the owed ACK goes at the turn's end. */
static void test_probe_keeps_the_owed_ack(void **state)
{
    struct world *w = *state;
    struct fa_tcp *cli, *srv;
    fa_time due = until_a_probes(w, &cli, &srv, 80);
    while (w->now + FA_NS_PER_MS < due)
        run_until(w, NULL, NULL, FA_NS_PER_MS);
    w->now = due;
    struct fa_tcp_info ib;
    fa_tcp_get_info(srv, &ib);
    uint32_t una = ib.snd_una;
    assert_int_equal(fa_tcp_send(srv, big, 2u * ib.mss, w->now), 2 * ib.mss);
    unsigned segs = w->a.tcp_segs;
    assert_int_equal(fa_loop_process(w->a.loop, w->now), 0);
    assert_int_equal(w->a.tcp_segs - segs, 2); /* the probe and the ACK */
    assert_int_equal(fa_loop_process(w->b.loop, w->now), 0);
    fa_tcp_get_info(srv, &ib);
    assert_int_equal(ib.snd_una - una, 2u * ib.mss);
    run_until(w, NULL, NULL, 3 * FA_NS_PER_S);
    fa_tcp_get_info(srv, &ib);
    assert_int_equal(ib.retransmits, 0);
}

/* The same for a lone segment's delayed ACK pending when the probe goes
 * (before the batch change too): the delayed-ACK timer still sends it. */
static void test_probe_keeps_the_delayed_ack(void **state)
{
    struct world *w = *state;
    struct fa_tcp *cli, *srv;
    fa_time due = until_a_probes(w, &cli, &srv, 82);
    while (w->now + 5 * FA_NS_PER_MS < due)
        run_until(w, NULL, NULL, FA_NS_PER_MS);
    struct fa_tcp_info ib;
    fa_tcp_get_info(srv, &ib);
    uint32_t una = ib.snd_una;
    assert_int_equal(fa_tcp_send(srv, "y", 1, w->now), 1);
    run_until(w, NULL, NULL, 100 * FA_NS_PER_MS); /* the probe, then 40 ms */
    fa_tcp_get_info(srv, &ib);
    assert_int_equal(ib.snd_una - una, 1);
    assert_int_equal(ib.retransmits, 0);
}

/* A callback that leaves its data unread and watches its socket anew (a
 * protocol switch) ran again and again in one turn: a new watch was
 * dispatched in the turn it was made. Once a turn, as loop.h says. */
struct handoff {
    struct fa_loop *loop;
    unsigned turn_calls;
};

static void handoff_cb(void *ctx, struct fa_tcp *c, unsigned ev, fa_time now)
{
    struct handoff *h = ctx;
    (void)ev;
    (void)now;
    if (++h->turn_calls > 100) /* the bug's guard: it would never end */
        return;
    fa_loop_unwatch_tcp(h->loop, c);
    assert_int_equal(fa_loop_watch_tcp(h->loop, c, FA_TCP_EV_READABLE, handoff_cb, h), 0);
}

static void test_rewatch_runs_once_a_turn(void **state)
{
    struct world *w = *state;
    struct fa_tcp *cli, *srv, *lst;
    connect_pair(w, 81, &cli, &srv, &lst);
    struct handoff h = { w->b.loop, 0 };
    assert_int_equal(fa_loop_watch_tcp(w->b.loop, srv, FA_TCP_EV_READABLE, handoff_cb, &h), 0);
    assert_int_equal(fa_tcp_send(cli, "x", 1, w->now), 1);
    assert_int_equal(fa_loop_process(w->a.loop, w->now), 0);
    for (int t = 0; t < 3; t++) {
        h.turn_calls = 0;
        assert_int_equal(fa_loop_process(w->b.loop, w->now), 0);
        assert_int_equal(h.turn_calls, 1);
        w->now += FA_NS_PER_MS;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo_with_callbacks, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_level_triggered_and_errors, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_reborn_slot_is_not_dispatched, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_udp_callbacks, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_fd_stop_and_embedding, world_setup, world_teardown),
        cmocka_unit_test(test_busy_poll),
        cmocka_unit_test(test_source_waits),
        cmocka_unit_test_teardown(test_reads_before_polling, poll_sleeps_again),
        cmocka_unit_test_setup_teardown(test_answers_carry_the_acks, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_probe_keeps_the_owed_ack, world_setup_small_b,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_probe_keeps_the_delayed_ack, world_setup_small_b,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_rewatch_runs_once_a_turn, world_setup, world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
