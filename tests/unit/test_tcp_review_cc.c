/* test_tcp_review_cc.c — cases from an independent review of the
 * sender's congestion control and loss recovery: each a segment/ACK
 * sequence and the outcome (cwnd, ssthresh, CUBIC's state) the RFCs or
 * Linux give. Every case failed on the code reviewed (Eifel undo beside
 * a real loss, a second reduction on a timeout in recovery, ACK
 * division, slow start past ssthresh, CUBIC after a timeout, the initial
 * window after a lost SYN, SACK blocks out of order, D-SACK undo after
 * recovery). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "frames.h"
#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

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

static int use_ts = 1;

/* An ACK from the peer: timestamps (echoing ecr) if agreed, n SACK blocks. */
static void ack_ecr(uint32_t ack, uint32_t ecr, unsigned n, const uint32_t (*b)[2])
{
    uint8_t o[40];
    size_t k = 0;
    if (use_ts)
        k = opt_ts(o, ++peer_ts, ecr);
    if (n)
        k += opt_sack(o + k, n, b);
    while (k % 4)
        o[k++] = 1;
    peer_send_opts(&pe, FA_TCP_ACK, pe.snd_nxt, ack, 65535, o, k, NULL, 0);
}

static void ack_sack(uint32_t ack, unsigned n, const uint32_t (*b)[2])
{
    ack_ecr(ack, 0, n, b);
}

/* SACK agreed; timestamps if ts. */
static struct fa_tcp *sack_conn(int ts)
{
    use_ts = ts;
    if (ts)
        return peer_connected_modern(&pe, &peer_ts);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    pe.now += PEER_RTT; /* as the peer helpers' handshakes */
    uint8_t o[40];
    size_t n = opt_syn(o, 1, 0, 0, 0);
    peer_send_opts(&pe, FA_TCP_SYN | FA_TCP_ACK, pe.snd_nxt, pe.rcv_nxt, 65535, o, n, NULL, 0);
    pe.snd_nxt++;
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.flags, FA_TCP_ACK);
    return c;
}

/* SRTT about 10 ms, cwnd the initial window. */
static struct fa_tcp *warm(int ts, uint32_t *m)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = sack_conn(ts);
    uint32_t f = peer_take_segments(&pe, c, 1, 1, m);
    peer_run_until(&pe, pe.now + 10 * MS);
    ack_sack(f + *m, 0, NULL);
    peer_drain(&pe);
    return c;
}

static void info(struct fa_tcp *c, struct fa_tcp_info *i, const char *what)
{
    fa_tcp_get_info(c, i);
    print_message("  %-34s cwnd %6u (%5.2f MSS) ssthresh %10u (%5.2f MSS) recovery %u\n", what,
                  i->cwnd, (double)i->cwnd / i->mss, i->ssthresh,
                  i->ssthresh == UINT32_MAX ? -1.0 : (double)i->ssthresh / i->mss, i->recovery);
}

/* ------------------------------------------------------------------ */
/* 1. D-SACK undo after recovery ended (no timestamps).
 *
 * Linux tcp_fastretrans_alert(): in Open/Disorder "tcp_try_undo_dsack(sk)"
 * — "Try to undo cwnd reduction, because D-SACKs acked all retransmitted
 * data" — the undo_marker outlives the episode. RFC 2883 §4 / RFC 3708:
 * the D-SACK of the retransmission shows it needless.
 *
 * Sequence (SACK, no timestamps): 10 segments; the peer SACKs 2-4 (seg 1
 * reordered) -> RACK marks 1 lost, fast recovery, ssthresh 7 MSS, seg 1
 * resent; SACK 2-7 (new data goes under PRR); the delayed original seg 1
 * arrives: ACK 11 (>= RecoveryPoint, recovery ends); then the resent copy
 * arrives: D-SACK [1,2) with ACK 11. All retransmissions were needless.
 * finack only undoes while still in recovery, which the reordering case
 * has always left by the time the D-SACK comes. */
static void dsack_after_recovery_end_undoes(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(0, &m);
    struct fa_tcp_info i0, i;
    info(c, &i0, "before");
    uint32_t f = peer_take_segments(&pe, c, 20, 10, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b1[1][2] = { { f + m, f + 4 * m } };
    ack_sack(f, 1, b1);
    info(c, &i, "SACK 2-4: recovery");
    assert_int_equal(i.recovery, 1);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.seq, f); /* the resend */
    uint32_t b2[1][2] = { { f + m, f + 7 * m } };
    ack_sack(f, 1, b2);
    peer_drain(&pe);
    peer_run_until(&pe, pe.now + 1 * MS);
    ack_sack(f + 10 * m, 0, NULL); /* the delayed original filled the hole */
    info(c, &i, "ACK 11 (original): recovery ends");
    assert_int_equal(i.recovery, 0);
    assert_true(i.loss_state);
    uint32_t d[1][2] = { { f, f + m } };
    ack_sack(f + 10 * m, 1, d); /* D-SACK of the resend */
    info(c, &i, "D-SACK of the resend");
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), 1);
    assert_true(i.cwnd >= i0.cwnd);
}

/* ------------------------------------------------------------------ */
/* 2. Eifel (timestamp) undo while another retransmission repairs a real
 * loss.
 *
 * Linux tcp_try_undo_partial(): on a partial ACK that shows the original
 * delayed, "If there are no retransmits out then we can undo. Otherwise
 * we clock out new packets but do not mark more packets lost or
 * retransmit more." (if (tp->retrans_out) return true;). RFC 3522 only
 * tells that the FIRST retransmission was spurious, not the others.
 *
 * Sequence (SACK + timestamps): 10 segments at TSval V0; seg 1 delayed,
 * seg 3 really lost. 10 ms later: ACK 1 SACK 2, 4-10 -> both marked lost,
 * recovery (ssthresh 7 MSS), both resent at TSval V1 > V0. The original
 * seg 1 arrives: ACK 3 echoing V0, SACK 4-10. finack undoes the whole
 * episode (cwnd 10 MSS, ssthresh infinite) although seg 3's loss was real;
 * the resend of 3 is ACKed afterwards and nothing reduces again. */
static void eifel_undo_ignores_real_loss(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(1, &m);
    struct fa_tcp_info i;
    info(c, &i, "before");
    peer_take_segments(&pe, c, 10, 0, &m);
    struct fa_tcp_view v = peer_expect(&pe);
    uint32_t f = v.seq, v0 = v.opts.ts_val;
    peer_drain(&pe);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b0[1][2] = { { f + m, f + 2 * m } };
    ack_sack(f, 1, b0);
    uint32_t b[2][2] = { { f + 3 * m, f + 10 * m }, { f + m, f + 2 * m } };
    ack_sack(f, 2, b);
    info(c, &i, "SACK 2, then 4-10: recovery");
    print_message("  reo_seen %d sacked %u lost %u timer %u\n", (c->flags & TF_REO_SEEN) != 0, i.sacked, i.lost, c->loss->timer);
    assert_int_equal(i.recovery, 1);
    int saw3 = 0;
    while (peer_next(&pe, &v))
        if (v.seq == f + 2 * m)
            saw3 = 1, assert_true((int32_t)(v.opts.ts_val - v0) > 0);
    assert_true(saw3); /* seg 3 resent */
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b2[1][2] = { { f + 3 * m, f + 10 * m } };
    ack_ecr(f + 2 * m, v0, 1, b2); /* the delayed original 1: echo V0 */
    info(c, &i, "ACK 3 echoing V0 (seg 3 resend out)");
    ack_ecr(f + 10 * m, v0 + 10, 0, NULL); /* the resent 3 arrives */
    info(c, &i, "ACK 11 (resent seg 3)");
    /* A real loss (seg 3) happened: the window must stay reduced. */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), 0);
    assert_true(i.ssthresh != UINT32_MAX);
}

/* ------------------------------------------------------------------ */
/* 3. An RTO during fast recovery reduces a second time, from PRR's
 * reduced cwnd.
 *
 * RFC 9438 §4.8: on a timeout CUBIC "sets ssthresh using beta_cubic
 * (same as in Section 4.6)", §4.6: ssthresh = flight_size * beta_cubic.
 * Linux tcp_enter_loss(): ssthresh is recomputed only "if
 * (icsk->icsk_ca_state <= TCP_CA_Disorder || !after(tp->high_seq,
 * tp->snd_una) || ...)": a timeout inside recovery keeps it (and
 * W_max), one congestion event = one reduction.
 *
 * Sequence (CUBIC): 10 segments, SACK 2-4 -> recovery: ssthresh 7 MSS,
 * W_max 10 MSS, cwnd 7 MSS. No more ACKs: the RTO. FlightSize is still
 * 10 MSS: ssthresh should stay 7 MSS (Linux, and beta*flight per RFC);
 * finack takes 0.7 * min(flight, cwnd=7 MSS) = 4.9 MSS and fast
 * convergence cuts W_max to 5.95 MSS. */
static void rto_in_recovery_reduces_twice(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(1, &m);
    struct fa_tcp_info i;
    uint32_t f = peer_take_segments(&pe, c, 10, 10, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + m, f + 4 * m } };
    ack_sack(f, 1, b);
    info(c, &i, "SACK 2-4: recovery");
    uint32_t ss1 = i.ssthresh;
    uint32_t wmax1 = c->keep.cubic.w_max;
    assert_int_equal(ss1, 7 * m);
    fa_time t = pe.now;
    while (fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES) == 0 && pe.now < t + 3 * S)
        peer_run_until(&pe, pe.now + MS);
    info(c, &i, "after the RTO");
    print_message("  W_max %u -> %u (%.2f MSS)\n", wmax1, c->keep.cubic.w_max,
                  (double)c->keep.cubic.w_max / m);
    assert_int_equal(i.ssthresh, ss1);
    /* W_max is not cut again by fast convergence; RFC 9438 §4.8 (and
     * Linux's bictcp_reset) start the next epoch from its own cwnd. */
    assert_true(c->keep.cubic.w_max == 0 || c->keep.cubic.w_max == wmax1);
}

/* 3b. The same with a heavy loss: 9 of 10 segments lost, only seg 10
 * SACKed: PRR's cwnd is 2 MSS when the RTO comes, and ssthresh collapses
 * to the 2-MSS floor (RFC 9438 §4.8 / Linux: 7 MSS). */
static void rto_in_heavy_recovery_collapses_ssthresh(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(1, &m);
    struct fa_tcp_info i;
    uint32_t f = peer_take_segments(&pe, c, 10, 10, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + 9 * m, f + 10 * m } };
    ack_sack(f, 1, b);
    peer_run_until(&pe, pe.now + 5 * MS); /* RACK's reordering timer */
    info(c, &i, "SACK 10, RACK timer: recovery");
    assert_int_equal(i.recovery, 1);
    uint32_t ss1 = i.ssthresh;
    fa_time t = pe.now;
    while (fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES) == 0 && pe.now < t + 3 * S)
        peer_run_until(&pe, pe.now + MS);
    info(c, &i, "after the RTO");
    assert_int_equal(i.ssthresh, ss1);
}

/* ------------------------------------------------------------------ */
/* 4. Slow start after an RTO overshoots ssthresh.
 *
 * RFC 5681 §3.1: slow start is used while cwnd < ssthresh, eq. (2) cwnd +=
 * min(N, SMSS); RFC 3465 §2.3: "a TCP MUST use L = 1*SMSS when in slow
 * start following a retransmission timeout"; Linux tcp_slow_start():
 * "cwnd = min(tp->snd_cwnd + acked, tp->snd_ssthresh)".
 *
 * Sequence: 10 segments out, seg 1 lost, the ACKs of 2-10 lost too; the
 * RTO: ssthresh 7 MSS, cwnd 1 MSS, seg 1 resent; its ACK covers all 10.
 * finack: cwnd 1 + 8 (L = 8) = 9 MSS > ssthresh 7 MSS. RFC: 2 MSS; Linux:
 * 7 MSS (ssthresh). */
static void rto_slow_start_overshoots_ssthresh(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(1, &m);
    struct fa_tcp_info i;
    uint32_t f = peer_take_segments(&pe, c, 10, 10, &m);
    fa_time t = pe.now;
    while (fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES) == 0 && pe.now < t + 3 * S)
        peer_run_until(&pe, pe.now + MS);
    info(c, &i, "after the RTO");
    struct fa_tcp_view v;
    int got = 0;
    while (peer_next(&pe, &v))
        got |= v.seq == f;
    assert_true(got);
    peer_run_until(&pe, pe.now + 10 * MS);
    ack_sack(f + 10 * m, 0, NULL);
    info(c, &i, "ACK of all 10");
    /* finack does as Linux (up to ssthresh), not RFC 3465's L = 1. */
    assert_true(i.cwnd <= i.ssthresh);
}

/* ------------------------------------------------------------------ */
/* 5. CUBIC after a timeout: K = 0 and W_max = cwnd at the start of the
 * first congestion avoidance stage.
 *
 * RFC 9438 §4.8: "During the first congestion avoidance stage after a
 * timeout, CUBIC increases its congestion window size using Figure 1,
 * where t is the elapsed time since the beginning of the current
 * congestion avoidance stage, K is set to 0, and W_max is set to the
 * congestion window size at the beginning of the current congestion
 * avoidance stage." Linux: TCP_CA_Loss -> bictcp_reset() (last_max_cwnd
 * = 0: origin = cwnd, K = 0).
 *
 * Sequence: 10 segments, the RTO, the resend's ACK covers all; 10 more
 * segments; the ACK of one (congestion avoidance: cwnd >= ssthresh). */
static void cubic_after_rto_starts_convex(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(1, &m);
    struct fa_tcp_info i;
    uint32_t f = peer_take_segments(&pe, c, 10, 10, &m);
    fa_time t = pe.now;
    while (fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES) == 0 && pe.now < t + 3 * S)
        peer_run_until(&pe, pe.now + MS);
    peer_drain(&pe);
    peer_run_until(&pe, pe.now + 10 * MS);
    ack_sack(f + 10 * m, 0, NULL);
    info(c, &i, "RTO, then ACK of all");
    /* (with cwnd still below ssthresh, slow start would go on: make sure
     * the next ACK is in congestion avoidance) */
    if (c->cwnd < c->ssthresh)
        c->cwnd = c->ssthresh; /* as Linux/RFC after slow start ends */
    uint32_t g = peer_take_segments(&pe, c, 10, 2, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    ack_sack(g + m, 0, NULL);
    info(c, &i, "first CA ACK");
    print_message("  W_max %u (%.2f MSS), K %u ms, cwnd_epoch %u\n", c->keep.cubic.w_max,
                  (double)c->keep.cubic.w_max / m, c->loss->cubic.k_ms,
                  c->loss->cubic.cwnd_epoch);
    assert_int_equal(c->loss->cubic.k_ms, 0);
}

/* ------------------------------------------------------------------ */
/* 6. ACK division in congestion avoidance (RFC 3465 / RFC 5681 §3.1).
 *
 * RFC 5681 §3.1: byte counting in CA is recommended "to protect against
 * misbehaving receivers (ACK division)"; Linux counts CA in packets
 * (snd_cwnd_cnt), so an ACK of part of a segment grows nothing.
 * finack: inc = MSS * acked / cwnd, rounded UP to 1 byte when 0: an ACK
 * of 1 byte gives 1 byte. Split every segment's ACK into MSS 1-byte ACKs
 * and CA grows cwnd by one MSS per segment acknowledged — slow start.
 *
 * Sequence (NewReno): a loss puts the flow in CA at cwnd 5 MSS; 5
 * segments out; the peer ACKs the first segment one byte at a time.
 * Honest (one ACK): +MSS*MSS/cwnd = 0.2 MSS. */
static void ack_division_in_ca(void **state, int newreno)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(1, &m);
    if (newreno)
        assert_int_equal(fa_tcp_setopt(c, FA_TCP_CONGESTION, FA_TCP_CC_NEWRENO), 0);
    struct fa_tcp_info i;
    uint32_t f = peer_take_segments(&pe, c, 10, 10, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + m, f + 4 * m } };
    ack_sack(f, 1, b);
    peer_drain(&pe);
    peer_run_until(&pe, pe.now + 10 * MS);
    ack_sack(f + 10 * m, 0, NULL);
    info(c, &i, "after recovery: CA");
    assert_true(i.cwnd >= i.ssthresh);
    uint32_t cw0 = i.cwnd;
    unsigned n = cw0 / m;
    uint32_t g = peer_take_segments(&pe, c, 40, n, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    for (uint32_t k = 1; k <= m; k++)
        ack_sack(g + k, 0, NULL); /* one segment, one byte per ACK */
    info(c, &i, "one segment ACKed bytewise");
    uint32_t honest = (uint32_t)((uint64_t)m * m / cw0) + 2;
    print_message("  growth %u bytes for one segment ACKed; honest ACKs: <= %u\n",
                  i.cwnd - cw0, honest);
    assert_true(i.cwnd - cw0 <= honest);
}

static void ack_division_in_ca_newreno(void **state)
{
    ack_division_in_ca(state, 1);
}

static void ack_division_in_ca_cubic(void **state)
{
    ack_division_in_ca(state, 0);
}

/* ------------------------------------------------------------------ */
/* 7. The initial window after the SYN was lost.
 *
 * RFC 5681 §3.1: "If the SYN or SYN/ACK is lost, the initial window used
 * by a sender after a correctly transmitted SYN MUST be one segment
 * consisting of at most SMSS bytes." (RFC 6298 §5.7 likewise; Linux
 * tcp_init_transfer(): "if (tp->total_retrans > 1 && tp->undo_marker)
 * tcp_snd_cwnd_set(tp, 1)" — here the SYN went three times.) */
static void iw_after_syn_loss(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_run_until(&pe, pe.now + 3500 * MS);
    unsigned syns = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        syns += (v.flags & FA_TCP_SYN) != 0;
    assert_int_equal(syns, 2); /* resent at 1 s and 3 s */
    peer_send_next(&pe, FA_TCP_SYN | FA_TCP_ACK, NULL, 0);
    peer_drain(&pe);
    struct fa_tcp_info i;
    info(c, &i, "established after 2 SYN losses");
    assert_int_equal(i.cwnd, i.mss);
}

/* ------------------------------------------------------------------ */
/* 8. Two SACK blocks new in one ACK, in the order RFC 2018 §4 prescribes
 * (the block of the most recent segment first), are taken as reordering.
 *
 * RFC 8985 §6.2 step 3: "For each segment newly acknowledged, cumulatively
 * or selectively, in ascending order of Segment.xmit_ts: if
 * Segment.end_seq > RACK.fack: RACK.fack = Segment.end_seq; else if
 * Segment.end_seq < RACK.fack and Segment.retransmitted is FALSE:
 * RACK.reordering_seen = TRUE". Linux sorts the blocks ascending
 * (tcp_sacktag_write_queue) before tagging. finack walks them in option
 * order: seg 2 (sent before 4-10) is processed after fack reached 10, and
 * TF_REO_SEEN is set for the connection's life: RACK's reo_wnd is then
 * min_RTT/4 even in recovery and with >= DupThresh SACKed (§6.2 step 4
 * would give 0), and every later loss is detected RTT/4 late.
 *
 * Sequence: 10 segments (1 and 3 lost; the peer's ACK after seg 2 was
 * lost); 10 ms later one ACK: ACK 1, SACK {4-10}, {2}. 8 segments SACKed,
 * no reordering: RACK marks 1 and 3 lost at once, recovery starts. */
static void sack_block_order_is_no_reordering(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(1, &m);
    struct fa_tcp_info i;
    uint32_t f = peer_take_segments(&pe, c, 10, 10, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[2][2] = { { f + 3 * m, f + 10 * m }, { f + m, f + 2 * m } };
    ack_sack(f, 2, b);
    info(c, &i, "ACK 1, SACK {4-10},{2}");
    print_message("  TF_REO_SEEN %d, lost %u\n", (c->flags & TF_REO_SEEN) != 0, i.lost);
    assert_false(c->flags & TF_REO_SEEN);
    assert_int_equal(i.recovery, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(dsack_after_recovery_end_undoes, teardown),
        cmocka_unit_test_teardown(eifel_undo_ignores_real_loss, teardown),
        cmocka_unit_test_teardown(rto_in_recovery_reduces_twice, teardown),
        cmocka_unit_test_teardown(rto_in_heavy_recovery_collapses_ssthresh, teardown),
        cmocka_unit_test_teardown(rto_slow_start_overshoots_ssthresh, teardown),
        cmocka_unit_test_teardown(cubic_after_rto_starts_convex, teardown),
        cmocka_unit_test_teardown(ack_division_in_ca_newreno, teardown),
        cmocka_unit_test_teardown(ack_division_in_ca_cubic, teardown),
        cmocka_unit_test_teardown(iw_after_syn_loss, teardown),
        cmocka_unit_test_teardown(sack_block_order_is_no_reordering, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
