/* test_tcp_loss_state.c — loss recovery's state (c->loss) is held only
 * while the send side is busy, and what must outlast it does (found by
 * an independent review of the change that made it lazy):
 *   - a persist timer left from a closed window does not fire in
 *     FIN-WAIT-2 and attach state and a send block for nothing;
 *   - a FIN waiting on a zero window holds no send block;
 *   - a D-SACK that arrives after all was acknowledged still counts:
 *     RACK's reordering window widens (once for the idle moment), the
 *     probe knows the peer reports;
 *   - HyStart++'s Conservative Slow Start survives an idle moment;
 *   - a reset gives the state back at once, not at close();
 *   - the last send time, kept in 65.5 µs units, never makes an idle
 *     period of one RTO or less cut the window (RFC 5681 §4.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "frames.h"
#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define ACK FA_TCP_ACK

static struct peer pe;
static uint32_t peer_ts = 1000;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    pe.s = NULL;
    return 0;
}

static struct fa_tcp_usage usage(void)
{
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    return u;
}

static void fin_wait_2_persist_attaches_nothing(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[1000];
    uint32_t una = c->snd_una;
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    peer_drain(&pe);
    assert_int_equal(c->snd_nxt, una + 1001);
    peer_send(&pe, ACK, pe.snd_nxt, una + 536, 0, NULL, 0);     /* window shut */
    peer_run_until(&pe, pe.now + 3000 * MS);                     /* RTO: window closed */
    peer_drain(&pe);
    assert_true(c->t_persist != FA_TIME_NEVER);
    peer_send(&pe, ACK, pe.snd_nxt, una + 1001, 65535, NULL, 0); /* all and the FIN acked */
    assert_int_equal(fa_tcp_state(c), FA_TCP_FIN_WAIT_2);
    assert_null(c->loss);
    assert_int_equal(c->t_persist, FA_TIME_NEVER);
    peer_run_until(&pe, pe.now + 60000 * MS);
    assert_int_equal(fa_tcp_state(c), FA_TCP_FIN_WAIT_2);
    assert_null(c->loss);
    assert_int_equal(usage().buffer_bytes, 0);
    assert_int_equal(usage().loss_states, 0);
}

static void fin_into_zero_window_holds_no_block(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[500];
    uint32_t una = c->snd_una;
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    peer_drain(&pe);
    peer_send(&pe, ACK, pe.snd_nxt, una + sizeof data, 0, NULL, 0);
    assert_int_equal(usage().buffer_bytes, 0);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    assert_int_equal(c->snd_nxt, una + sizeof data); /* the FIN waits */
    peer_run_until(&pe, pe.now + 10000 * MS);
    assert_int_equal(usage().buffer_bytes, 0);
    assert_int_equal(c->snd_nxt, una + sizeof data);
    /* The window opens: the FIN goes, with its scoreboard entry. */
    peer_send(&pe, ACK, pe.snd_nxt, una + sizeof data, 65535, NULL, 0);
    assert_int_equal(c->snd_nxt, una + sizeof data + 1);
    assert_int_equal(usage().loss_states, 1);
}

static void dsack_after_all_acked_counts(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    uint32_t m, f = peer_take_segments(&pe, c, 1, 1, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_sack_wnd(&pe, &peer_ts, f + m, 65535, 0, NULL); /* all acked: state given back */
    assert_null(c->loss);
    uint32_t d[1][2] = { { f, f + m } };
    peer_sack_wnd(&pe, &peer_ts, f + m, 65535, 1, d);    /* the copy's D-SACK */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_DSACKS_IN), 1);
    assert_true(c->flags & TF_DSACK_SEEN);
    assert_int_equal(c->keep.reo_mult, 2);
    assert_null(c->loss);
    /* More D-SACKs of the same idle moment are one round (RFC 8985 §6.2
     * step 4: once per round trip); review: each widened the window. */
    peer_sack_wnd(&pe, &peer_ts, f + m, 65535, 1, d);
    peer_sack_wnd(&pe, &peer_ts, f + m, 65535, 1, d);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_DSACKS_IN), 3);
    assert_int_equal(c->keep.reo_mult, 2);
    /* A new busy period is a new round: its D-SACK counts. */
    uint32_t g = peer_take_segments(&pe, c, 1, 1, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t d2[1][2] = { { g, g + m } };
    peer_sack_wnd(&pe, &peer_ts, g + m, 65535, 1, d2);
    assert_int_equal(c->keep.reo_mult, 3);
}

static void hystart_css_survives_idle(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    const uint32_t M = c->mss;
    c->snd_nxt = c->snd_una;
    assert_int_equal(fa_tcp_loss_alloc(c), 0);
    fa_tcp_hystart_reset(c);
    c->cwnd = 10 * M;
    c->ssthresh = UINT32_MAX;
    for (int i = 0; i < 9; i++)
        peer_hystart_ack(c, 10 * MS, 10);
    for (int i = 0; i < 8; i++)
        peer_hystart_ack(c, 20 * MS, 10);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_HYSTART_CSS), 1);
    assert_int_equal(c->keep.hs_css_rounds, 1);
    c->snd_nxt = c->snd_una; /* all acknowledged: given back, then attached */
    fa_tcp_loss_put_idle(c);
    assert_null(c->loss);
    assert_int_equal(fa_tcp_loss_alloc(c), 0);
    uint32_t cwnd = c->cwnd;
    peer_hystart_ack(c, 20 * MS, 10);
    assert_int_equal(c->cwnd - cwnd, M / 4); /* still CSS's quarter */
}

static void reset_gives_state_back(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[500];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    peer_drain(&pe);
    peer_send(&pe, FA_TCP_RST, pe.snd_nxt, 0, 0, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_null(c->loss);
    assert_int_equal(usage().loss_states, 0);
    assert_int_equal(usage().buffer_bytes, 0);
}

/* RFC 5681 §4.1 cuts cwnd only after an idle period longer than the
 * RTO. The last send time is a 32-bit stamp in 2^16 ns units, never 0:
 * both rounding down and the forced low bit can make two stamps differ
 * by two units more than the time between them (review of 9553569: an
 * idle of exactly the RTO cut the window at 50 of 128 alignments). */
static void idle_of_one_rto_keeps_cwnd(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(c->snd_una, c->snd_nxt);
    const fa_time unit = (fa_time)1 << 16;
    fa_time rto = fa_tcp_rto(c);
    uint32_t iw = fa_tcp_initial_window(c);
    unsigned cut = 0;
    for (fa_time off = 0; off < 2 * unit; off += unit / 64) {
        fa_time t0 = 1000 * FA_NS_PER_S + off;
        c->cwnd = 4 * iw;
        c->keep.last_send = fa_tcp_send_stamp(t0);
        fa_tcp_rec_before_send(c, t0 + rto);
        cut += c->cwnd != 4 * iw;
    }
    assert_int_equal(cut, 0);
    /* Idle well past the RTO: cut back to the initial window. */
    c->cwnd = 4 * iw;
    c->keep.last_send = fa_tcp_send_stamp(2000 * FA_NS_PER_S);
    fa_tcp_rec_before_send(c, 2000 * FA_NS_PER_S + rto + 4 * unit);
    assert_int_equal(c->cwnd, iw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(fin_wait_2_persist_attaches_nothing, teardown),
        cmocka_unit_test_teardown(fin_into_zero_window_holds_no_block, teardown),
        cmocka_unit_test_teardown(dsack_after_all_acked_counts, teardown),
        cmocka_unit_test_teardown(hystart_css_survives_idle, teardown),
        cmocka_unit_test_teardown(reset_gives_state_back, teardown),
        cmocka_unit_test_teardown(idle_of_one_rto_keeps_cwnd, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
