/* test_tcp_review10.c — the defects an independent review of issue 10's
 * first commit (cfab73a: SACK, timestamps, scoreboard, RACK, PRR) found,
 * one reproducer each, written by the reviewer against the hand-driven
 * peer; each failed before its fix:
 *
 *   1  a reneging peer with a zero window: no timer left
 *   2  a D-SACK of a segment never resent undid the reduction
 *   3  SACK blocks of an old ACK taken as D-SACKs
 *   4  PRR sending on an old ACK that delivered nothing
 *   5  (a choice, not a defect: a segment without timestamps is taken)
 *   6  an undo with the window closed left no timer
 *   7  a tail loss probe resent a SACKed segment
 *   8  after that, the RTO never resent */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ACK FA_TCP_ACK
#define SYN FA_TCP_SYN

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    return 0;
}

static uint32_t peer_ts = 1000;

static struct fa_tcp *connected_modern(void)
{
    return peer_connected_modern(&pe, &peer_ts);
}

/* ACK with window wnd and SACK blocks; the TS echo is 0 (no echo). */
static void peer_sack_w(uint32_t ack, uint16_t wnd, unsigned n, const uint32_t (*b)[2])
{
    peer_sack_wnd(&pe, &peer_ts, ack, wnd, n, b);
}

static void peer_sack(uint32_t ack, unsigned n, const uint32_t (*b)[2])
{
    peer_sack_w(ack, 65535, n, b);
}

static uint32_t send_segments(struct fa_tcp *c, unsigned n, unsigned expect, uint32_t *mss)
{
    return peer_take_segments(&pe, c, n, expect, mss);
}

static unsigned drain(uint32_t *first_seq)
{
    unsigned n = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v)) {
        if (v.data_len || (v.flags & FA_TCP_FIN)) {
            if (first_seq && n == 0)
                *first_seq = v.seq;
            n++;
        }
    }
    return n;
}

/* 1. The peer reneges (RFC 2018 §8) and closes its window at once (memory
 * pressure does both). The RTO finds the window closed and takes the
 * window_closed path, which keeps the SACK marks: nothing is lost, pipe is
 * 0, no persist timer, no RTO: the connection never sends again. */
static void reneged_sack_with_zero_window_stalls(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 4, 4, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + m, f + 4 * m } };
    peer_sack(f, 1, b); /* 1..3 SACKed: 0 lost, resent */
    assert_int_equal(peer_expect(&pe).seq, f);
    /* The resent 0 arrives; the peer dropped 1..3 and has no room. */
    peer_sack_w(f + m, 0, 0, NULL);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, pe.now + 120 * S);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  after 120 s: snd_una=%u snd_nxt=%u sacked=%u lost=%u pipe=%u next_timer=%s\n",
            i.snd_una - f, i.snd_nxt - f, i.sacked, i.lost, i.pipe,
            i.next_timer == FA_TIME_NEVER ? "NEVER" : "armed");
    unsigned probes = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        probes++;
    fprintf(stderr, "  segments sent in 120 s with the window closed: %u\n", probes);
    /* The window opens: what the peer dropped must go again. */
    peer_sack_w(f + m, 65535, 0, NULL);
    peer_run_until(&pe, pe.now + 600 * S);
    uint32_t seq = 0;
    unsigned n = drain(&seq);
    fprintf(stderr, "  after the window opened + 600 s: %u data segments sent\n", n);
    assert_true(n > 0);
    assert_int_equal(seq, f + m);
}

/* 2. A network-duplicated ORIGINAL (never retransmitted) is D-SACKed. RFC
 * 2883 §4 / RFC 3708: only D-SACKs of retransmitted data show a
 * retransmission was needless. dsack_seen() decrements undo_retrans for
 * any D-SACK above undo_marker, so a genuine loss is undone. */
static void dsack_of_unretransmitted_segment_does_not_undo(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    struct fa_tcp_info before, i;
    uint32_t m, f = send_segments(c, 8, 8, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    fa_tcp_get_info(c, &before);
    /* Segment 0 truly lost; 1..3 arrive. */
    uint32_t b[1][2] = { { f + m, f + 4 * m } };
    peer_sack(f, 1, b);
    assert_int_equal(peer_expect(&pe).seq, f);
    drain(NULL);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 1);
    /* Segment 2's original is duplicated by the network: D-SACK [2], then
     * the SACK block holding it (RFC 2883 §4.1.? example). */
    uint32_t d[2][2] = { { f + 2 * m, f + 3 * m }, { f + m, f + 5 * m } };
    peer_sack(f, 2, d);
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  undos=%llu recovery=%u cwnd=%u (before loss %u) ssthresh=%u\n",
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), i.recovery,
            i.cwnd, before.cwnd, i.ssthresh);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), 0);
    assert_int_equal(i.recovery, 1);
}

/* 3. A reordered (stale) ACK, SEG.ACK < SND.UNA, still carrying SACK
 * blocks. RFC 2883 §4: a D-SACK is a first block below *that segment's*
 * ACK field (or inside the second block). take_sack() compares with
 * SND.UNA instead, so ordinary SACK blocks of an old ACK count as
 * D-SACKs; two of them undo a genuine recovery with two real losses. */
static void stale_ack_sack_is_not_a_dsack(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    struct fa_tcp_info i;
    uint32_t m, f = send_segments(c, 10, 10, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    /* 0 and 5 lost; the peer's ACKs as 1, 2, 3, 4, 6.. arrive. The first
     * two of them are delayed in the network (ACK reordering). */
    uint32_t a3[1][2] = { { f + m, f + 4 * m } };
    peer_sack(f, 1, a3);
    uint32_t a9[2][2] = { { f + 6 * m, f + 10 * m }, { f + m, f + 5 * m } };
    peer_sack(f, 2, a9);
    unsigned resent = drain(NULL);
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  resent %u, recovery=%u lost=%u\n", resent, i.recovery, i.lost);
    assert_int_equal(i.recovery, 1);
    /* The resent 0 arrives: SND.UNA = 5, 5 still missing. */
    uint32_t a10[1][2] = { { f + 6 * m, f + 10 * m } };
    peer_sack(f + 5 * m, 1, a10);
    drain(NULL);
    uint64_t dsacks = fa_stack_counter(pe.s, FA_CNT_TCP_DSACKS_IN);
    /* The two delayed ACKs finally arrive: no duplicate in either. */
    uint32_t a1[1][2] = { { f + m, f + 2 * m } };
    uint32_t a2[1][2] = { { f + m, f + 3 * m } };
    peer_sack(f, 1, a1);
    peer_sack(f, 1, a2);
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  D-SACKs counted from stale ACKs: %llu, undos=%llu, recovery=%u\n",
            (unsigned long long)(fa_stack_counter(pe.s, FA_CNT_TCP_DSACKS_IN) - dsacks),
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), i.recovery);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_DSACKS_IN), dsacks);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), 0);
}

/* 4. PRR (RFC 6937): an ACK that delivers nothing lets nothing go. A stale
 * ACK (SEG.ACK < SND.UNA) with SACK blocks makes rec_ack use
 * pipe_from(c, SEG.ACK): the pipe, hence cwnd = pipe + sndcnt, is inflated
 * by SND.UNA - SEG.ACK and the difference is sent at once. */
static void stale_ack_in_recovery_sends_nothing(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    struct fa_tcp_info i;
    uint32_t m, f = send_segments(c, 40, 10, &m); /* cwnd: 10 segments */
    peer_run_until(&pe, pe.now + 10 * MS);
    /* 0..2 lost, 3..9 SACKed: recovery, PRR. */
    uint32_t b[1][2] = { { f + 3 * m, f + 10 * m } };
    peer_sack(f, 1, b);
    unsigned n1 = drain(NULL);
    /* The resent 0, 1, 2 arrive one by one. */
    peer_sack(f + 1 * m, 1, b);
    unsigned n2 = drain(NULL);
    peer_sack(f + 2 * m, 1, b);
    unsigned n3 = drain(NULL);
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  sent %u,%u,%u; recovery=%u cwnd=%u pipe=%u ssthresh=%u\n",
            n1, n2, n3, i.recovery, i.cwnd / m, i.pipe / m, i.ssthresh / m);
    assert_int_equal(i.recovery, 1);
    /* The first ACK again, reordered behind the others: it delivers
     * nothing, so PRR sends nothing. */
    peer_sack(f, 1, b);
    unsigned n4 = drain(NULL);
    struct fa_tcp_info j;
    fa_tcp_get_info(c, &j);
    fprintf(stderr, "  stale ACK (2 segments behind SND.UNA): %u segments sent, cwnd %u -> %u segs\n",
            n4, i.cwnd / m, j.cwnd / m);
    assert_int_equal(n4, 0);
}

/* 5. RFC 7323 §3.2: with timestamps agreed, a non-RST segment without a
 * TSopt SHOULD be silently dropped. finack takes it, as Linux does (a
 * middlebox that strips the option from some segments must not stall the
 * connection); PAWS is skipped for it. This test pins that choice. */
static void segment_without_ts_accepted_as_linux(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, "abcd", 4);
    uint8_t buf[16];
    long r = fa_tcp_recv(c, buf, sizeof buf, pe.now);
    assert_int_equal(r, 4);
}


/* 6. No timer at all with data outstanding. Fast recovery begins while the
 * peer's window is closed (nothing can be resent: undo_retrans stays 0);
 * the RTO then takes on_rexmit's window_closed path (t_rexmit = NEVER,
 * everything LOST, pipe 0, persist armed). A D-SACK (a network duplicate
 * of segment 0) now undoes the episode because undo_retrans == 0: LOST is
 * cleared, pipe > 0, so fa_tcp_output() disarms persist and nothing
 * re-arms the RTO. If the peer's one window update is lost, the
 * connection is dead (RFC 9293 §3.8.6.1: the sender MUST keep probing). */
static void undo_with_window_closed_leaves_no_timer(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 10, 10, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t s3[1][2] = { { f + 3 * m, f + 4 * m } };
    peer_sack(f, 1, s3);                 /* 3 arrived ahead of 0..2 */
    peer_sack_w(f + m, 0, 1, s3);        /* 0 arrived; receive buffer full */
    peer_run_until(&pe, pe.now + 5 * MS); /* RACK: 1, 2 lost -> recovery */
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 1);
    peer_run_until(&pe, pe.now + 300 * MS); /* RTO: window closed; persist */
    drain(NULL);
    /* A network duplicate of segment 0 reaches the peer: D-SACK. */
    uint32_t d[2][2] = { { f, f + m }, { f + 3 * m, f + 4 * m } };
    peer_sack_w(f + m, 0, 2, d);
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  undos=%llu snd_una=%u snd_nxt=%u pipe=%u lost=%u t_rexmit=%s t_persist=%s t_loss=%s\n",
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), i.snd_una - f,
            c->snd_nxt - f, i.pipe, i.lost,
            c->t_rexmit == FA_TIME_NEVER ? "NEVER" : "armed",
            c->t_persist == FA_TIME_NEVER ? "NEVER" : "armed",
            fa_tcp_t_loss(c) == FA_TIME_NEVER ? "NEVER" : "armed");
    /* The peer's window update (when its application reads) is lost. */
    peer_run_until(&pe, pe.now + 600 * S);
    unsigned n = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        n++;
    fprintf(stderr, "  segments sent in the next 600 s: %u\n", n);
    assert_true(n > 0); /* zero-window probes, at least */
}

/* 7. The tail loss probe's timer survives the entry into fast recovery (a
 * duplicate ACK never reaches fa_tcp_rec_arm_probe, and rack_detect only
 * clears an LT_REORDER timer). RFC 8985 §7.2: no PTO in recovery; when it
 * fires, fa_tcp_send_probe() resends the last entry even though it is
 * SACKed, and marks it SACKED|RETRANS (the scoreboard invariant breaks;
 * the retrans count stays inflated until the cumulative ACK). */
static void tlp_never_resends_a_sacked_segment(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f0 = send_segments(c, 1, 1, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_sack(f0 + m, 0, NULL); /* SRTT 10 ms */
    uint32_t f = send_segments(c, 4, 4, &m); /* PTO armed: 2 SRTT */
    fprintf(stderr, "  srtt=%.1f ms, loss timer kind=%u in %.1f ms\n", (double)fa_tcp_srtt(c) / MS, c->loss->timer,
            (double)(fa_tcp_t_loss(c) - pe.now) / MS);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + m, f + 4 * m } };
    peer_sack(f, 1, b); /* 1..3 SACKed: 0 lost, resent, recovery */
    assert_int_equal(peer_expect(&pe).seq, f);
    fprintf(stderr, "  in recovery=%u, loss timer kind=%u (2 = TLP)\n", c->loss->state, c->loss->timer);
    peer_run_until(&pe, pe.now + 50 * MS);
    struct fa_tcp_view v;
    int bad = 0;
    while (peer_next(&pe, &v)) {
        fprintf(stderr, "  sent seq=+%u len=%u\n", v.seq - f, v.data_len);
        if (seq_ge(v.seq, f + m) && v.data_len)
            bad = 1;
    }
    struct fa_tcp_sent *e = fa_tcp_sb_at(&c->loss->sb, c->loss->sb.count - 1);
    fprintf(stderr, "  last entry flags=%#x sb.retrans=%u sb.sacked=%u probes=%llu\n", e->flags,
            c->loss->sb.retrans, c->loss->sb.sacked,
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES));
    assert_false(bad);
}

/* 8. Consequence of 7: the SACKED|RETRANS entry keeps sb.retrans > 0 and
 * rec_rto() skips SACKed entries, so after the RTO pipe = 1 MSS = cwnd and
 * output_one() will not resend segment 0 (RFC 6298 §5.4: on expiry
 * retransmit the earliest unacknowledged segment). The peer's ACKs are
 * lost once; every backed-off RTO then sends nothing until ETIMEDOUT. */
static void rto_after_tlp_of_sacked_segment_resends(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f0 = send_segments(c, 1, 1, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_sack(f0 + m, 0, NULL);
    uint32_t f = send_segments(c, 4, 4, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + m, f + 4 * m } };
    peer_sack(f, 1, b);
    peer_run_until(&pe, pe.now + 50 * MS); /* the resend of 0 and the TLP go; both lost */
    drain(NULL);
    unsigned resends = 0;
    fa_time t0 = pe.now;
    for (int k = 0; k < 2000 && fa_tcp_state(c) == FA_TCP_ESTABLISHED; k++) {
        peer_run_until(&pe, pe.now + 1 * S);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v))
            if (v.seq == f && v.data_len)
                resends++;
    }
    fprintf(stderr, "  RTO recoveries=%llu, resends of segment 0=%u, state=%d after %.0f s\n",
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES), resends,
            fa_tcp_state(c), (double)(pe.now - t0) / S);
    assert_true(resends > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(reneged_sack_with_zero_window_stalls, teardown),
        cmocka_unit_test_teardown(dsack_of_unretransmitted_segment_does_not_undo, teardown),
        cmocka_unit_test_teardown(stale_ack_sack_is_not_a_dsack, teardown),
        cmocka_unit_test_teardown(stale_ack_in_recovery_sends_nothing, teardown),
        cmocka_unit_test_teardown(segment_without_ts_accepted_as_linux, teardown),
        cmocka_unit_test_teardown(undo_with_window_closed_leaves_no_timer, teardown),
        cmocka_unit_test_teardown(tlp_never_resends_a_sacked_segment, teardown),
        cmocka_unit_test_teardown(rto_after_tlp_of_sacked_segment_resends, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
