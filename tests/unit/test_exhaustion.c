/* test_exhaustion.c — a stack driven to its bounds keeps them (issue 14),
 * two stacks on the in-memory link, virtual time:
 *   - 100,000 connections the server closes first: TIME-WAIT entries stay
 *     within config.tcp_max_timewait (the oldest end early, counted), a
 *     new connection still completes, and everything is gone after 2 MSL;
 *   - 1,000 connections whose server never reads, each sent 64 KiB: the
 *     buffers held stay within config.tcp_mem_max, a new connection
 *     still completes (and moves its data once they are closed), and
 *     closing them all frees everything;
 *   - 1,000 clients that take data and never read, so their window stays
 *     shut for ever: the server's send buffers stay within the budget, a
 *     new connection still moves data, and once the server closes them
 *     the orphans give up (config.tcp_orphan_retries) and free it all,
 *     while one the server still holds probes on.
 * (100,000 half-open connections: test_tcp_syncookie.c's flood.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "pair.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

static struct pair p;

static struct fa_tcp_usage usage(int side)
{
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(p.stack[side], &u);
    return u;
}

static void small_tw(int side, struct fa_config *cfg)
{
    cfg->tcp_max_timewait = 1000;
    cfg->tcp_max_conns = 64;
    (void)side;
}

static void time_wait_flood(void **state)
{
    (void)state;
    pair_init_ex(&p, NULL, NULL, 21, small_tw);
    struct fa_tcp *l, *c, *s;
    fa_tcp_open(p.stack[1], &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 16, p.now);
    for (int i = 0; i < 100000; i++) {
        fa_tcp_open(p.stack[0], &c);
        fa_tcp_connect(c, p.addr[1], 80, p.now);
        pair_run_for(&p, MS);
        assert_int_equal(fa_tcp_accept(l, &s), 0);
        fa_tcp_close(s, p.now); /* the server closes first: its TIME-WAIT */
        pair_run_for(&p, MS);
        fa_tcp_close(c, p.now);
        pair_run_for(&p, MS);
        assert_true(usage(1).time_wait <= 1000);
    }
    assert_int_equal(usage(1).time_wait, 1000);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_TIMEWAIT_FULL), 100000 - 1000);
    /* A new connection still completes and carries data. */
    fa_tcp_open(p.stack[0], &c);
    fa_tcp_connect(c, p.addr[1], 80, p.now);
    pair_run_for(&p, 5 * MS);
    assert_int_equal(fa_tcp_accept(l, &s), 0);
    static uint8_t data[10000], out[10000];
    memset(data, 'x', sizeof data);
    assert_int_equal(pair_transfer(&p, c, s, data, sizeof data, out, p.now + S), sizeof data);
    fa_tcp_close(c, p.now);
    fa_tcp_close(s, p.now);
    fa_tcp_close(l, p.now);
    pair_run_for(&p, 300 * S); /* 2 MSL and every retry */
    assert_int_equal(pair_conns(&p, 0, NULL), 0);
    assert_int_equal(pair_conns(&p, 1, NULL), 0);
    pair_destroy(&p);
}

enum { N = 1000, BUDGET = 4 << 20 };

static void budget(int side, struct fa_config *cfg)
{
    cfg->tcp_max_conns = 2 * N + 16;
    if (side == 1)
        cfg->tcp_mem_max = BUDGET;
}

/* N connections to port 80 of stack 1, accepted: c[i] client, s[i] server. */
static void open_many(struct fa_tcp *l, struct fa_tcp **c, struct fa_tcp **s, int n)
{
    for (int i = 0; i < n; i++) {
        fa_tcp_open(p.stack[0], &c[i]);
        fa_tcp_connect(c[i], p.addr[1], 80, p.now);
        if (i % 50 == 49)
            pair_run_for(&p, 5 * MS); /* (the link's queue would drop SYNs) */
    }
    pair_run_for(&p, 10 * S);
    for (int i = 0; i < n; i++) {
        assert_int_equal(fa_tcp_accept(l, &s[i]), 0);
        assert_int_equal(fa_tcp_state(s[i]), FA_TCP_ESTABLISHED);
    }
}

static struct fa_tcp *listener(int backlog)
{
    struct fa_tcp *l;
    fa_tcp_open(p.stack[1], &l);
    fa_tcp_bind(l, 0, 80);
    assert_int_equal(fa_tcp_listen(l, backlog, p.now), 0);
    return l;
}

/* The listener closed, every retry run: nothing left on either side. */
static void all_freed(struct fa_tcp *l)
{
    fa_tcp_close(l, p.now);
    pair_run_for(&p, 300 * S);
    assert_int_equal(pair_conns(&p, 0, NULL), 0);
    assert_int_equal(pair_conns(&p, 1, NULL), 0);
    assert_int_equal(usage(0).buffer_bytes + usage(1).buffer_bytes, 0);
    pair_destroy(&p);
}

static void readers_that_never_read(void **state)
{
    (void)state;
    pair_init_ex(&p, NULL, NULL, 22, budget);
    static struct fa_tcp *c[N + 1], *s[N + 1];
    struct fa_tcp *l = listener(N + 1);
    open_many(l, c, s, N);
    static uint8_t data[65536];
    memset(data, 'r', sizeof data);
    for (int i = 0; i < N; i++)
        assert_true(fa_tcp_send(c[i], data, sizeof data, p.now) > 0);
    for (int k = 0; k < 100; k++) {
        pair_run_for(&p, 10 * MS);
        assert_true(usage(1).buffer_bytes <= BUDGET);
    }
    assert_true(fa_stack_counter(p.stack[1], FA_CNT_TCP_NO_BUFFER) > 0);
    /* A new connection still completes while the memory is all taken;
     * its data waits for memory (a buffer is all or nothing: README, What
     * is missing), and moves once the server gives up on the stalled. */
    fa_tcp_open(p.stack[0], &c[N]);
    fa_tcp_connect(c[N], p.addr[1], 80, p.now);
    pair_run_for(&p, 5 * MS);
    assert_int_equal(fa_tcp_accept(l, &s[N]), 0);
    assert_int_equal(fa_tcp_state(c[N]), FA_TCP_ESTABLISHED);
    for (int i = 0; i < N; i++) {
        fa_tcp_close(s[i], p.now); /* unread data: RST (RFC 2525 §2.17) */
        assert_true(usage(1).buffer_bytes <= BUDGET);
    }
    static uint8_t out[65536];
    assert_int_equal(pair_transfer(&p, c[N], s[N], data, 20000, out, p.now + 10 * S), 20000);
    for (int i = 0; i <= N; i++)
        fa_tcp_abort(c[i], p.now);
    fa_tcp_abort(s[N], p.now);
    all_freed(l);
}

/* The clients (stack 0) take 4 KiB and never read: their window shuts. */
static void shut_windows(int side, struct fa_config *cfg)
{
    budget(side, cfg);
    if (side == 0)
        cfg->tcp_rcvbuf = 4096;
}

static void zero_window_forever(void **state) /* L8, L16 */
{
    (void)state;
    pair_init_ex(&p, NULL, NULL, 23, shut_windows);
    static struct fa_tcp *c[N + 1], *s[N + 1];
    struct fa_tcp *l = listener(N + 1);
    open_many(l, c, s, N);
    static uint8_t data[65536];
    memset(data, 'z', sizeof data);
    int sent = 0; /* the rest are refused: the send budget (half) bit */
    for (int i = 0; i < N; i++) {
        long n = fa_tcp_send(s[i], data, sizeof data, p.now);
        assert_true(n > 0 || n == -ENOBUFS);
        sent += n > 0;
        assert_true(i > 0 || n > 0);
    }
    assert_true(sent > 1 && sent < N);
    for (int k = 0; k < 60; k++) {
        pair_run_for(&p, S);
        assert_true(usage(1).buffer_bytes <= BUDGET);
    }
    struct fa_tcp_info info;
    fa_tcp_get_info(s[0], &info);
    assert_int_equal(info.snd_wnd, 0); /* shut, and probed */
    /* A new connection still moves data both ways: the receive half of
     * the budget is free, and its own send gets room as orphans go. */
    fa_tcp_open(p.stack[0], &c[N]);
    fa_tcp_connect(c[N], p.addr[1], 80, p.now);
    pair_run_for(&p, 5 * MS);
    assert_int_equal(fa_tcp_accept(l, &s[N]), 0);
    static uint8_t out[65536];
    assert_int_equal(pair_transfer(&p, c[N], s[N], data, 30000, out, p.now + 10 * S), 30000);
    /* The server closes all but the first: orphans; those that sent
     * have their FIN behind data the peer will never take, the others
     * reach FIN-WAIT-2 and its limit. */
    for (int i = 1; i < N; i++)
        fa_tcp_close(s[i], p.now);
    uint64_t timeouts = fa_stack_counter(p.stack[1], FA_CNT_TCP_TIMEOUTS);
    /* Their probes have backed off to tcp_rto_max (120 s): nine more
     * and the last one's answer take about 18 minutes. */
    pair_run_for(&p, 600 * S);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_ORPHAN_WINDOW_SHUT), 0);
    pair_run_for(&p, 600 * S);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_ORPHAN_WINDOW_SHUT), sent - 1);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_TIMEOUTS) - timeouts,
                     N - sent); /* the FIN-WAIT-2 limit (L16) */
    /* The one the application holds probes on (RFC 1122 §4.2.2.17). */
    assert_int_equal(fa_tcp_state(s[0]), FA_TCP_ESTABLISHED);
    assert_int_equal(pair_conns(&p, 1, NULL), 3); /* s[0], s[N], the listener */
    assert_true(usage(1).buffer_bytes <= 65536 + 4096);
    /* Now the new connection's server sends freely. */
    assert_int_equal(pair_transfer(&p, s[N], c[N], data, 65536, out, p.now + 10 * S), 65536);
    for (int i = 0; i <= N; i++)
        fa_tcp_abort(c[i], p.now);
    fa_tcp_close(s[0], p.now);
    fa_tcp_close(s[N], p.now);
    all_freed(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_wait_flood),
        cmocka_unit_test(readers_that_never_read),
        cmocka_unit_test(zero_window_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
