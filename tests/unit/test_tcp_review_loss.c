/* test_tcp_review_loss.c — an independent review of the sender's loss
 * recovery, each case a segment sequence:
 *   - an ACK just at TLP.end_seq after a resent probe is no repaired loss
 *     (RFC 8985 §7.4.2): the window is not cut, the D-SACK or a pure
 *     duplicate ACK at TLP.end_seq ends it
 *   - RTO recovery with SACK: one copy of the lost segment per timeout,
 *     no tail loss probe between (RFC 8985 §7.2)
 *   - RTO recovery without SACK: one segment per timeout, not two, and no
 *     probe (RFC 5681 §3.1, RFC 6675 §5)
 *   - NewReno's ssthresh on a loss: half of the flight no larger than cwnd
 *     (RFC 5681 eq. 4; SACKed bytes beyond a lasting hole are no flight)
 *   - a lone lost segment is probed at the RTO's deadline, in its place
 *     (RFC 8985 §7.2: the PTO is cut to the RTO), not timed out; a probe
 *     that can send nothing is none; one whose last segment a shrunken
 *     window excludes resends the last the window holds; the window
 *     update that opens a shut window arms the probe again */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
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

static void peer_sack(uint32_t ack, unsigned n, const uint32_t (*b)[2])
{
    peer_sack_wnd(&pe, &peer_ts, ack, 65535, n, b);
}

/* A connection with SACK and timestamps and SRTT about 10 ms. */
static struct fa_tcp *warm(uint32_t *m)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    uint32_t f = peer_take_segments(&pe, c, 1, 1, m);
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_sack(f + *m, 0, NULL);
    peer_drain(&pe);
    return c;
}

/* RFC 8985 §7.4.2 TLP_process_ack(): with the probe a retransmission, an
 * ACK that reaches TLP.end_seq but not beyond it, without a D-SACK, is
 * ambiguous: only "If ACK's ack. number > TLP.end_seq" is a repaired loss
 * (Linux: after(ack, tlp_high_seq)); finack cut the window on it.
 * Sequence: two segments out, both delivered, the ACK late past PTO; the
 * probe resends the second; the late ACK of both (no D-SACK) arrives,
 * then the D-SACK of the probe's copy. Nothing was lost: no cut. */
static void late_ack_at_tlp_end_is_no_repaired_loss(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 2, 2, &m);
    struct fa_tcp_info before;
    fa_tcp_get_info(c, &before);
    peer_run_until(&pe, pe.now + 2 * before.srtt + 2 * MS);
    struct fa_tcp_view v = peer_expect(&pe); /* the probe */
    assert_int_equal(v.seq, f + m);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    peer_sack(f + 2 * m, 0, NULL);            /* the originals' late ACK */
    uint32_t d[1][2] = { { f + m, f + 2 * m } };
    peer_sack(f + 2 * m, 1, d);               /* the probe's copy: D-SACK */
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.ssthresh, UINT32_MAX);
    assert_true(i.cwnd >= before.cwnd);
}

/* The same, but the probe's copy draws a pure duplicate ACK at
 * TLP.end_seq without any SACK block (the peer sends none, or lost the
 * D-SACK): RFC 8985 §7.4.2 and Linux end the episode there, no loss. It
 * stayed open, and the ACK of the next data cut the window (fifth
 * review). */
static void pure_dupack_at_tlp_end_ends_the_episode(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 2, 2, &m);
    struct fa_tcp_info before;
    fa_tcp_get_info(c, &before);
    peer_run_until(&pe, pe.now + 2 * before.srtt + 2 * MS);
    assert_int_equal(peer_expect(&pe).seq, f + m); /* the probe */
    uint32_t g = peer_take_segments(&pe, c, 1, 1, &m); /* new data C goes */
    assert_int_equal(g, f + 2 * m);
    peer_sack(f + 2 * m, 0, NULL);                 /* the originals' late ACK */
    assert_int_equal(c->loss->tlp_out, 1);         /* ambiguous: wait */
    peer_sack(f + 2 * m, 0, NULL);                 /* the probe's: a pure dup */
    assert_int_equal(c->loss->tlp_out, 0);
    peer_sack(g + m, 0, NULL);                     /* C acknowledged */
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.ssthresh, UINT32_MAX);
}

/* RFC 8985 §7.2: no tail loss probe in RTO recovery; RFC 6298 §5.5: one
 * copy per timeout, backed off. With SACK this held already; the case
 * without SACK below did not. Sequence: SRTT 10 ms, one segment out, the
 * path dead for 1.5 s: the probe at the RTO's deadline (+200 ms), which
 * re-arms the RTO; the RTO (+400), backed off (+800). */
static void rto_recovery_sends_one_copy_per_timeout(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 1, 1, &m);
    fa_time t0 = pe.now;
    unsigned copies = 0;
    for (fa_time t = t0; t <= t0 + 1500 * MS; t += MS) {
        peer_run_until(&pe, t);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v)) {
            assert_int_equal(v.seq, f);
            copies++;
        }
    }
    assert_int_equal(copies, 3); /* +200 (probe), +400, +800 ms (RTOs) */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
}

/* RFC 8985 §7.2: "If Now() + PTO > TCP_RTO_expire(): PTO =
 * TCP_RTO_expire() - Now()". A lone segment's PTO (2 SRTT + the
 * delayed-ACK allowance, 220 ms here) lies past its RTO (200 ms); finack
 * armed no probe then, so the lone segment's loss always took the RTO:
 * cwnd one segment, slow start again (review 4). Sequence: SRTT 10 ms, one
 * segment out and lost; at +200 ms the probe resends it, the RTO moves a
 * whole RTO on; the peer ACKs it: a loss repaired by the probe (§7.4),
 * no RTO recovery, cwnd more than one segment. */
static void lone_lost_segment_is_probed_at_the_rto(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 1, 1, &m);
    fa_time t0 = pe.now;
    assert_true(c->t_rexmit - t0 <= 2 * fa_tcp_srtt(c) + 200 * MS);
    peer_run_until(&pe, c->t_rexmit - 1);
    struct fa_tcp_view v;
    assert_false(peer_next(&pe, &v));
    peer_run_until(&pe, pe.now + 1);
    v = peer_expect(&pe);
    assert_int_equal(v.seq, f);
    assert_int_equal(v.data_len, m);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES), 0);
    assert_int_equal(c->t_rexmit, pe.now + fa_tcp_rto(c)); /* §7.3: re-armed */
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_sack(f + m, 0, NULL);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES), 0);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_true(i.cwnd > m);
    assert_int_equal(i.snd_una, f + m);
}

/* Without SACK and timestamps (peer_connected: MSS 536). Two 1000-byte
 * writes: three segments (464 + 536 + 464) out, the path dead. RFC 5681
 * §3.1: after an RTO cwnd is one segment (LW) and one segment goes; RFC
 * 6675 §5 sends only while cwnd - pipe >= 1 SMSS; RFC 8985 §7.2: no probe
 * in RTO recovery. finack sent, per backoff round, two segments at the RTO
 * (1000 bytes, cwnd 536: output_one resent while cwnd - pipe > 0), a
 * tail probe 30-70 ms later (the third segment) and, once the first was
 * resent, up to three more copies of it 12.5, 37.5 and 87.5 ms on (the
 * NewReno re-resend, meant for fast recovery). */
static void rto_recovery_plain_one_copy_per_timeout(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[1000];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    struct fa_tcp_view v = peer_expect(&pe);
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_send(&pe, FA_TCP_ACK, pe.snd_nxt, v.seq + v.data_len, 65535, NULL, 0);
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    v = peer_expect(&pe);
    uint32_t f = v.seq;
    fa_time t0 = pe.now;
    unsigned copies = 0, of_first = 0;
    for (fa_time t = t0; t <= t0 + 1500 * MS; t += MS) {
        peer_run_until(&pe, t);
        while (peer_next(&pe, &v)) {
            copies++;
            of_first += v.seq == f;
        }
    }
    /* The flight's last original (+0), a tail probe (+20 ms: recovery not
     * yet begun), then the first segment once per RTO (+200, +600, +1400). */
    assert_int_equal(copies, 5);
    assert_int_equal(of_first, 3);
}

/* RFC 5681 eq. (4) with SACK: what lies beyond a lasting hole was SACKed
 * and is no flight a loss should halve. NewReno took half of SND.NXT -
 * SND.UNA; with 4 MiB buffers at 10 % loss that let ssthresh reach 1.3 MB
 * (sim_goodput). Sequence: 40 segments out, the first lost, 39 SACKed;
 * cwnd then 10 segments; a loss: ssthresh is half of cwnd, not of 40. */
static void newreno_loss_halves_no_more_than_cwnd(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_CONGESTION, FA_TCP_CC_NEWRENO), 0);
    c->cwnd = 40 * m;
    uint32_t f = peer_take_segments(&pe, c, 40, 40, &m);
    uint32_t sacked[1][2] = { { f + m, f + 40 * m } };
    peer_sack(f, 1, sacked);
    peer_drain(&pe);
    c->cwnd = 10 * m;
    fa_tcp_cc(c)->on_loss(c, pe.now);
    assert_int_equal(c->ssthresh, 5 * m);
}

/* A probe that finds nothing it may send (the peer shut its window on
 * a lone segment) is no probe: not counted, no TLP episode open (review
 * of b7e2575: it set tlp_out and blocked the next probe till an ACK past
 * it; Linux sets tlp_high_seq only when one went). The RTO then keeps
 * its deadline and finds the window shut (persist). */
static void probe_with_nothing_to_send_is_none(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 1, 1, &m);
    fa_time t0 = pe.now;
    peer_run_until(&pe, t0 + 5 * MS);
    peer_sack_wnd(&pe, &peer_ts, f, 0, 0, NULL); /* window shut, nothing acked */
    peer_drain(&pe);
    peer_run_until(&pe, t0 + 250 * MS);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        assert_true(seq_lt(v.seq, f) || v.data_len == 0); /* window probes only */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 0);
    assert_int_equal(c->loss->tlp_out, 0);
}

/* A probe that found the window shut sent nothing; the window update
 * that opens it must arm the probe again (RFC 8985 §7.2: a tail in
 * flight is probed before its RTO), or the tail waits for the timeout
 * (found by the simulator's probe check, transfer seed 29: a probe run
 * late into a zero window). Sequence: two segments out; the peer's ACK
 * of nothing shuts the window; the PTO fires and sends nothing; the peer
 * opens the window (ACK of nothing again): a probe is armed before the
 * RTO and resends the last segment. */
static void probe_armed_when_the_window_opens(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 2, 2, &m);
    fa_time t0 = pe.now;
    peer_run_until(&pe, t0 + 5 * MS);
    peer_sack_wnd(&pe, &peer_ts, f, 0, 0, NULL); /* window shut, nothing acked */
    struct fa_tcp_info i = peer_info(c);
    assert_true(i.probe_at < i.rexmit_at);
    peer_run_until(&pe, i.probe_at + MS); /* the probe finds it shut */
    peer_drain(&pe);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 0);
    peer_sack_wnd(&pe, &peer_ts, f, 65535, 0, NULL); /* the window opens */
    i = peer_info(c);
    assert_int_equal(i.lost, 0);
    assert_true(i.probe_at != FA_TIME_NEVER && i.probe_at < i.rexmit_at);
    peer_run_until(&pe, i.probe_at);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.seq, f + m);
    assert_int_equal(v.data_len, m);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES), 0);
}

/* ...but a probe still armed is not pushed later by the update (review:
 * a window that flapped shut and open moved it on each time, up to the
 * RTO; Linux re-arms on an ACK of new data only). */
static void window_update_keeps_an_armed_probe(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 3, 3, &m);
    peer_run_until(&pe, pe.now + 2 * MS);
    peer_sack_wnd(&pe, &peer_ts, f + m, 0, 0, NULL); /* the first; window shut */
    struct fa_tcp_info i = peer_info(c);
    assert_true(i.probe_at != FA_TIME_NEVER && i.probe_at < i.rexmit_at);
    fa_time armed = i.probe_at;
    peer_run_until(&pe, pe.now + 3 * MS);
    assert_true(pe.now < armed);
    peer_sack_wnd(&pe, &peer_ts, f + m, 65535, 0, NULL); /* the window opens */
    assert_int_equal(peer_info(c).probe_at, armed);
}

/* RFC 8985 §7.3 resends the most recent segment; when the peer's
 * window has shrunk below it, that copy may not go (RFC 9293 §3.8.6),
 * and the probe sent nothing: the lost ACKs of a flight that outran a
 * shrinking window waited for the RTO (found by the simulator's probe
 * check, transfer seed 707). The most recent segment the window still
 * holds serves: any copy draws the ACK the probe is for. Sequence: two
 * segments out; the peer's window update (ACK of neither) leaves room
 * for the first only; at the PTO the first goes again. */
static void probe_resends_what_the_window_holds(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = warm(&m);
    uint32_t f = peer_take_segments(&pe, c, 2, 2, &m);
    peer_run_until(&pe, pe.now + 1 * MS);
    peer_sack_wnd(&pe, &peer_ts, f, (uint16_t)m, 0, NULL); /* edge: f + m */
    peer_drain(&pe);
    peer_run_until(&pe, pe.now + 2 * fa_tcp_srtt(c) + 5 * MS);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.seq, f);
    assert_int_equal(v.data_len, m);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(lone_lost_segment_is_probed_at_the_rto, teardown),
        cmocka_unit_test_teardown(probe_with_nothing_to_send_is_none, teardown),
        cmocka_unit_test_teardown(probe_resends_what_the_window_holds, teardown),
        cmocka_unit_test_teardown(probe_armed_when_the_window_opens, teardown),
        cmocka_unit_test_teardown(window_update_keeps_an_armed_probe, teardown),
        cmocka_unit_test_teardown(late_ack_at_tlp_end_is_no_repaired_loss, teardown),
        cmocka_unit_test_teardown(pure_dupack_at_tlp_end_ends_the_episode, teardown),
        cmocka_unit_test_teardown(rto_recovery_sends_one_copy_per_timeout, teardown),
        cmocka_unit_test_teardown(rto_recovery_plain_one_copy_per_timeout, teardown),
        cmocka_unit_test_teardown(newreno_loss_halves_no_more_than_cwnd, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
