/* test_tcp_review10b.c — the defects a second independent review of
 * issue 10 found (commits f65939c..ae6629a), one reproducer each, written
 * by the reviewer against the hand-driven peer; each failed before its
 * fix:
 *
 *   1  without SACK, the ACK ending recovery taken for a partial ACK
 *   2  a probe in recovery hid lower lost segments until the RTO
 *   3  the fast ACK path gave HyStart a stale RTT sample
 *   4  a soft ICMP error never cleared, reported at a later timeout
 *   5  a probe of a full last segment dropped its FIN
 *   6  a reordered old ACK exempt from PAWS shrank a newer window
 *   7  (the non-SACK reordering timer: capped resends before the RTO) */
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
static uint32_t peer_ts = 1000;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    return 0;
}

static uint32_t mss_of(struct fa_tcp *c)
{
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    return i.mss;
}

/* A peer with config cfg (NULL: defaults); finack connects with a 10 ms
 * handshake RTT (so srtt is 10 ms), the peer agreeing to SACK if sack and
 * timestamps if ts. The connection's MSS in *mss. */
static struct fa_tcp *connect_rtt(const struct fa_config *cfg, int sack, int ts, uint32_t *mss)
{
    peer_init(&pe, cfg, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    pe.now += 10 * MS;
    uint8_t o[40];
    size_t n = opt_syn(o, sack, ts, peer_ts, syn.opts.ts_val);
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 65535, o, n, NULL, 0);
    pe.snd_nxt++;
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.flags, ACK);
    *mss = mss_of(c);
    return c;
}

/* SACK off on both sides, timestamps on: the NewReno/RFC 6675-less path. */
static struct fa_tcp *connect_without_sack(uint32_t *mss)
{
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_sack = 0;
    return connect_rtt(&cfg, 0, 1, mss);
}

/* An ACK from the peer (timestamps if ts, SACK blocks if n). */
static void peer_ack(int ts, uint32_t ack, unsigned n, const uint32_t (*b)[2])
{
    uint8_t o[40];
    size_t k = 0;
    if (ts)
        k += opt_ts(o, ++peer_ts, 0);
    if (n)
        k += opt_sack(o + k, n, b);
    while (k % 4)
        o[k++] = 1;
    peer_send_opts(&pe, ACK, pe.snd_nxt, ack, 65535, o, k, NULL, 0);
}

/* Reads what finack sent; returns how many data segments, the first's
 * sequence number in *first, and whether seq was among them. */
static unsigned sent(uint32_t *first, uint32_t seq, int *had)
{
    unsigned n = 0;
    struct fa_tcp_view v;
    if (had)
        *had = 0;
    while (peer_next(&pe, &v)) {
        if (!v.data_len && !(v.flags & FA_TCP_FIN))
            continue;
        if (first && n == 0)
            *first = v.seq;
        if (had && v.seq == seq)
            *had = 1;
        n++;
    }
    return n;
}

/* 1. Without SACK, the ACK that ends NewReno fast recovery (ack >=
 * recover) while data sent during recovery is still out: reno_detect runs
 * before leave_recovery and takes it for a partial ACK — the first segment
 * beyond the recovery point is marked lost and resent at once, and, the
 * state having just become OPEN, a second recovery (a second window
 * reduction) starts. RFC 6582 §3.2 step 3: a full ACK exits; only an ACK
 * below "recover" is partial. (found is not set on that path, so no second
 * reduction: a spurious retransmission per episode, in REC_OPEN.) */
static void reno_full_ack_starts_a_second_recovery(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_sack = 0;
    cfg.tcp_timestamps = 0;
    cfg.tcp_congestion = FA_TCP_CC_NEWRENO;
    uint32_t m;
    struct fa_tcp *c = connect_rtt(&cfg, 0, 0, &m);
    static uint8_t data[40 * 1460];
    assert_int_equal(fa_tcp_send(c, data, 40 * m, pe.now), 40 * m);
    uint32_t f = 0;
    assert_int_equal(sent(&f, 0, NULL), 10); /* IW10 */
    pe.now += 10 * MS;
    /* Segment 0 lost; 1..9 arrive: nine duplicate ACKs. */
    for (int k = 0; k < 9; k++) {
        peer_ack(0, f, 0, NULL);
        pe.now += 100 * FA_NS_PER_US;
    }
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 1);
    uint32_t recover = c->loss->recover;
    uint32_t before = (uint32_t)fa_stack_counter(pe.s, FA_CNT_TCP_RECOVERIES);
    unsigned out = sent(NULL, 0, NULL);
    fprintf(stderr, "  in recovery: recover=f+%u segs, snd_nxt=f+%u segs, %u segments sent "
            "(resend + new), cwnd=%u ssthresh=%u\n", (recover - f) / m,
            (c->snd_nxt - f) / m, out, i.cwnd, i.ssthresh);
    assert_true(seq_gt(c->snd_nxt, recover)); /* new data went past recover */
    /* The retransmission arrives: a full ACK (everything up to recover). */
    pe.now += 10 * MS;
    peer_ack(0, recover, 0, NULL);
    int had = 0;
    unsigned n = sent(NULL, recover, &had);
    fa_tcp_get_info(c, &i);
    uint32_t after = (uint32_t)fa_stack_counter(pe.s, FA_CNT_TCP_RECOVERIES);
    fprintf(stderr, "  full ACK: %u segments sent, the first segment past recover "
            "resent: %s; recoveries %u -> %u; state=%u cwnd=%u ssthresh=%u retransmits=%llu\n",
            n, had ? "YES" : "no", before, after, i.recovery, i.cwnd, i.ssthresh,
            (unsigned long long)i.retransmits);
    assert_false(had); /* nothing says it was lost */
}

/* 2. RFC 8985 §7 TLP armed in recovery: the probe resends the highest
 * segment not SACKed and fa_tcp_rec_resent sets rexmit_from past it — so
 * lost segments below it that PRR had not yet let go are skipped by
 * fa_tcp_rec_next_lost from then on (rack_detect never re-marks a LOST,
 * unresent entry, so mark_lost never lowers rexmit_from for them). They
 * wait for the RTO, which the probe in recovery was meant to avoid. */
static void probe_in_recovery_skips_lower_lost_segments(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_congestion = FA_TCP_CC_NEWRENO;
    uint32_t m;
    struct fa_tcp *c = connect_rtt(&cfg, 1, 1, &m);
    static uint8_t data[10 * 1460];
    assert_int_equal(fa_tcp_send(c, data, 10 * m, pe.now), 10 * m);
    uint32_t f = 0;
    assert_int_equal(sent(&f, 0, NULL), 10);
    pe.now += 10 * MS;
    /* 0, 1, 2 lost, 3 arrives; 4..9 and their ACKs are lost (a burst). */
    uint32_t b[1][2] = { { f + 3 * m, f + 4 * m } };
    peer_ack(1, f, 1, b);
    /* RACK's reordering window passes: 0, 1, 2 lost; PRR lets one go. */
    peer_run_until(&pe, pe.now + 5 * MS);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    unsigned n = sent(NULL, 0, NULL);
    fprintf(stderr, "  recovery=%u lost=%u bytes (%u segs) sacked=%u; %u resent\n",
            i.recovery, i.lost, i.lost / m, i.sacked, n);
    assert_int_equal(i.recovery, 1);
    /* The probe (2 x SRTT in recovery), before the RTO. */
    peer_run_until(&pe, pe.now + 30 * MS);
    int had9 = 0;
    n = sent(NULL, f + 9 * m, &had9);
    fprintf(stderr, "  probe: %u sent, segment 9 resent: %s, TLPs=%llu, rexmit_from=f+%u segs\n",
            n, had9 ? "yes" : "no",
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES),
            (c->loss->rexmit_from - f) / m);
    /* The resent 0 and the probe arrive: ACK 1, SACK 3 and 9. */
    uint32_t b2[2][2] = { { f + 9 * m, f + 10 * m }, { f + 3 * m, f + 4 * m } };
    peer_ack(1, f + m, 2, b2);
    int had1 = 0;
    n = sent(NULL, f + m, &had1);
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  ACK 1 SACK 3,9: %u sent; segment 1 (lost since the 1st ACK) "
            "resent: %s; lost=%u segs, pipe=%u, cwnd=%u; next_lost=%ld\n",
            n, had1 ? "yes" : "NO", i.lost / m, i.pipe, i.cwnd, fa_tcp_rec_next_lost(c));
    /* The peer gets 4..8 resent and SACKs them; still no 1. */
    uint32_t b3[2][2] = { { f + 3 * m, f + 10 * m } };
    pe.now += 10 * MS;
    peer_ack(1, f + m, 1, b3);
    int had1b = 0;
    sent(NULL, f + m, &had1b);
    /* Run until segment 1 goes. */
    fa_time t0 = pe.now;
    int had1c = 0;
    while (!had1c && pe.now < t0 + 5 * S) {
        peer_run_until(&pe, pe.now + MS);
        sent(NULL, f + m, &had1c);
    }
    fprintf(stderr, "  4..9 SACKed: segment 1 resent: %s; it went %.0f ms later, "
            "RTO recoveries=%llu\n", had1b ? "yes" : "NO", (double)(pe.now - t0) / MS,
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES));
    assert_true(had1 || had1b);
}

/* 3. plain_ack hands the congestion control (HyStart++'s delay samples)
 * now - RACK.xmit_ts even when the ACK delivered no whole segment
 * (fa_tcp_sb_pop found none): a stale "RTT" — the general path passes 0. */
static void plain_ack_partial_gives_hystart_a_stale_sample(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = connect_rtt(NULL, 1, 1, &m);
    static uint8_t data[10 * 1460];
    assert_int_equal(fa_tcp_send(c, data, 10 * m, pe.now), 10 * m);
    uint32_t f = 0;
    sent(&f, 0, NULL);
    pe.now += 10 * MS;
    peer_ack(1, f + m, 0, NULL);                 /* segment 0: RACK.xmit_ts */
    uint16_t s0 = c->loss->hs.samples;
    pe.now += 500 * MS;                          /* a late partial ACK */
    peer_ack(1, f + m + 100, 0, NULL);           /* no whole segment */
    fprintf(stderr, "  HyStart samples %u -> %u, round min %.1f ms (the path's RTT is 10 ms)\n",
            s0, c->loss->hs.samples, (double)((fa_time)c->keep.hs_cur_round_min << 16) / MS);
    assert_int_equal(c->loss->hs.samples, s0);
}

/* 4. A soft ICMP error is never forgotten: ACKs that show the path works
 * do not clear it (Linux clears sk_err_soft in tcp_ack), so a timeout
 * hours later reports the stale EHOSTUNREACH instead of ETIMEDOUT. */
static void stale_soft_error_reported_on_a_later_timeout(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_data_retries = 3;
    uint32_t m;
    struct fa_tcp *c = connect_rtt(&cfg, 1, 1, &m);
    static uint8_t data[1460];
    assert_int_equal(fa_tcp_send(c, data, m, pe.now), m);
    uint32_t f = 0;
    sent(&f, 0, NULL);
    /* A transient host unreachable about it (a route flap). */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_HOST, 0, f);
    /* The data is then ACKed; hours of working traffic could follow. */
    pe.now += 10 * MS;
    peer_ack(1, f + m, 0, NULL);
    pe.now += 3600 * S;
    assert_int_equal(fa_tcp_send(c, data, m, pe.now), m);
    sent(NULL, 0, NULL);
    /* Now the peer silently dies. */
    peer_run_until(&pe, pe.now + 600 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT); /* not EHOSTUNREACH */
}

/* 5. resend() caps an entry at the MSS counting the FIN as data
 * (cut - start > mss): the last full segment carrying the FIN is always
 * split. For the tail loss probe (entry not LOST) only the data half is
 * resent: the probe of a lost "data+FIN" tail repairs the data but not the
 * FIN. Without SACK nothing else notices: the FIN waits for the RTO. */
static void probe_of_a_full_segment_with_fin_drops_the_fin(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = connect_without_sack(&m);
    static uint8_t data[11 * 1460];
    assert_int_equal(fa_tcp_send(c, data, 11 * m, pe.now), 11 * m);
    fa_tcp_shutdown(c, FA_SHUT_WR, pe.now);
    uint32_t f = 0;
    assert_int_equal(sent(&f, 0, NULL), 10);
    pe.now += 10 * MS;
    peer_ack(1, f + 10 * m, 0, NULL);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.seq, f + 10 * m);
    assert_int_equal(v.data_len, m);
    assert_true(v.flags & FA_TCP_FIN); /* the tail: data + FIN, lost */
    fa_time t0 = pe.now;
    /* The probe. */
    int probe_fin = 0, fin_at = 0;
    fa_time fin_t = 0;
    while (!fin_at && pe.now < t0 + 5 * S) {
        peer_run_until(&pe, pe.now + MS);
        while (peer_next(&pe, &v)) {
            if (v.data_len && !probe_fin) {
                probe_fin = 1 + !!(v.flags & FA_TCP_FIN);
                fprintf(stderr, "  probe at +%.0f ms: seq=f+%u len=%u FIN=%d\n",
                        (double)(pe.now - t0) / MS, (v.seq - f) / m, v.data_len,
                        !!(v.flags & FA_TCP_FIN));
                if (v.flags & FA_TCP_FIN) { fin_at = 1; fin_t = pe.now; }
                /* The probe arrives: the peer ACKs its data. */
                peer_ack(1, v.seq + v.data_len, 0, NULL);
            } else if (v.flags & FA_TCP_FIN) {
                fin_at = 1; fin_t = pe.now;
            }
        }
    }
    fprintf(stderr, "  FIN resent +%.0f ms after the tail went (srtt 10 ms; RTO %llu)\n",
            (double)(fin_t - t0) / MS,
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES));
    assert_int_equal(probe_fin, 2); /* the probe carries the FIN too */
}

/* 6. The PAWS exemption for a "disordered" pure ACK admits a reordered
 * window update that the window rule (RFC 9293: SND.WL1 = SEG.SEQ and
 * SND.WL2 =< SEG.ACK) then applies: the peer's zero window overtaken by
 * its window-open ACK closes the window again. Strict PAWS dropped it
 * (TSval 10 ticks old); Linux's tcp_disordered_ack requires that the ACK
 * could not update the window (and SEG.ACK == SND.UNA exactly). */
static void disordered_ack_exemption_shrinks_the_window(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = connect_rtt(NULL, 1, 1, &m);
    static uint8_t data[4 * 1460];
    assert_int_equal(fa_tcp_send(c, data, m, pe.now), m);
    uint32_t f = 0;
    sent(&f, 0, NULL);
    pe.now += 10 * MS;
    uint8_t o[12];
    opt_ts(o, peer_ts + 20, 0);  /* B: the window opens (newer) */
    peer_send_opts(&pe, ACK, pe.snd_nxt, f + m, 65535, o, 12, NULL, 0);
    opt_ts(o, peer_ts + 10, 0);  /* A: zero window (older), arrives second */
    peer_send_opts(&pe, ACK, pe.snd_nxt, f + m, 0, o, 12, NULL, 0);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    fprintf(stderr, "  after B (wnd 65535, TSval +20) then A (wnd 0, TSval +10): snd_wnd=%u, "
            "PAWS drops=%llu\n", i.snd_wnd,
            (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_PAWS_DROPPED));
    assert_int_equal(fa_tcp_send(c, data, 2 * m, pe.now), 2 * m);
    unsigned n = sent(NULL, 0, NULL);
    fprintf(stderr, "  new data sent at once: %u segments\n", n);
    assert_true(i.snd_wnd > 0);
}

/* 7. (observation) Without SACK, the reordering timer resends the first
 * segment with no duplicate ACK at all (rec_timeout passes dup=1 to
 * reno_detect): a silent peer gets extra copies before the RTO. */
static void reno_timer_resends_without_any_dupack(void **state)
{
    (void)state;
    uint32_t m;
    struct fa_tcp *c = connect_without_sack(&m);
    static uint8_t data[10 * 1460];
    assert_int_equal(fa_tcp_send(c, data, 10 * m, pe.now), 10 * m);
    uint32_t f = 0;
    sent(&f, 0, NULL);
    pe.now += 10 * MS;
    for (int k = 0; k < 3; k++)
        peer_ack(1, f, 0, NULL);
    fa_time t0 = pe.now;
    fprintf(stderr, "  t0: rto=%.1f ms t_rexmit=+%.1f ms t_loss=%s timer=%u srtt=%.1f state=%u shift=%u\n",
            (double)fa_tcp_rto(c) / MS, (double)(c->t_rexmit - t0) / MS,
            fa_tcp_t_loss(c) == FA_TIME_NEVER ? "never" : "armed", c->loss->timer,
            (double)fa_tcp_srtt(c) / MS, c->loss->state, c->loss->reno_shift);
    /* Then the peer goes silent. */
    struct fa_tcp_view v;
    unsigned copies = 0;
    while (pe.now < t0 + 2 * S) {
        peer_run_until(&pe, pe.now + MS);
        while (peer_next(&pe, &v))
            if (v.seq == f && v.data_len &&
                fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES) == 0) {
                copies++;
                fprintf(stderr, "  seg 0 sent at +%.1f ms (RTOs so far %llu)\n",
                        (double)(pe.now - t0) / MS,
                        (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES));
            }
    }
    /* Before the first RTO: the fast retransmission and at most 3 more
     * on the reordering timer (RENO_RESENDS); then the RTO, with its
     * backoff, rules. */
    assert_true(copies >= 1 && copies <= 1 + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(reno_full_ack_starts_a_second_recovery, teardown),
        cmocka_unit_test_teardown(probe_in_recovery_skips_lower_lost_segments, teardown),
        cmocka_unit_test_teardown(plain_ack_partial_gives_hystart_a_stale_sample, teardown),
        cmocka_unit_test_teardown(stale_soft_error_reported_on_a_later_timeout, teardown),
        cmocka_unit_test_teardown(probe_of_a_full_segment_with_fin_drops_the_fin, teardown),
        cmocka_unit_test_teardown(disordered_ack_exemption_shrinks_the_window, teardown),
        cmocka_unit_test_teardown(reno_timer_resends_without_any_dupack, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
