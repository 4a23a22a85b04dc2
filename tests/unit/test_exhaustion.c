/* test_exhaustion.c — a stack driven to its bounds keeps them (issue 14),
 * two stacks on the in-memory link, virtual time:
 *   - 20,000 connections the server closes first: TIME-WAIT entries stay
 *     within config.tcp_max_timewait (the oldest end early, counted), a
 *     new connection still completes, and everything is gone after 2 MSL;
 *   - 200 connections whose server never reads, each sent 64 KiB: the
 *     buffers held stay within config.tcp_mem_max, a new connection
 *     still moves its data, and closing them all frees everything.
 * (100,000 half-open connections: test_tcp_syncookie.c's flood.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
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
    for (int i = 0; i < 20000; i++) {
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
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_TIMEWAIT_FULL), 20000 - 1000);
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

static void budget(int side, struct fa_config *cfg)
{
    cfg->tcp_max_conns = 512;
    if (side == 1)
        cfg->tcp_mem_max = 1 << 20;
}

static void readers_that_never_read(void **state)
{
    (void)state;
    pair_init_ex(&p, NULL, NULL, 22, budget);
    struct fa_tcp *l, *c[201], *s[201];
    fa_tcp_open(p.stack[1], &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 256, p.now);
    static uint8_t data[65536];
    memset(data, 'r', sizeof data);
    for (int i = 0; i < 200; i++) {
        fa_tcp_open(p.stack[0], &c[i]);
        fa_tcp_connect(c[i], p.addr[1], 80, p.now);
    }
    pair_run_for(&p, 10 * S); /* (the link's queue drops some SYNs: resent) */
    for (int i = 0; i < 200; i++) {
        assert_int_equal(fa_tcp_accept(l, &s[i]), 0);
        assert_true(fa_tcp_send(c[i], data, sizeof data, p.now) > 0);
    }
    for (int k = 0; k < 100; k++) {
        pair_run_for(&p, 10 * MS);
        assert_true(usage(1).buffer_bytes <= (1u << 20));
    }
    assert_true(fa_stack_counter(p.stack[1], FA_CNT_TCP_NO_BUFFER) > 0);
    /* A new connection still moves its data (its reader reads). */
    fa_tcp_open(p.stack[0], &c[200]);
    fa_tcp_connect(c[200], p.addr[1], 80, p.now);
    pair_run_for(&p, 5 * MS);
    assert_int_equal(fa_tcp_accept(l, &s[200]), 0);
    for (int i = 0; i < 100; i++) { /* half the stalled ones give up */
        fa_tcp_abort(c[i], p.now);
        fa_tcp_close(s[i], p.now);
    }
    static uint8_t out[65536];
    assert_int_equal(pair_transfer(&p, c[200], s[200], data, 20000, out, p.now + 10 * S),
                     20000);
    for (int i = 100; i < 201; i++) {
        fa_tcp_abort(c[i], p.now);
        fa_tcp_abort(s[i], p.now);
    }
    fa_tcp_close(l, p.now);
    pair_run_for(&p, 300 * S);
    assert_int_equal(pair_conns(&p, 0, NULL), 0);
    assert_int_equal(pair_conns(&p, 1, NULL), 0);
    assert_int_equal(usage(0).buffer_bytes + usage(1).buffer_bytes, 0);
    pair_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_wait_flood),
        cmocka_unit_test(readers_that_never_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
