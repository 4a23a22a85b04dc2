/* test_tcp_review_timers.c — cases from an independent review of TCP's
 * timers (RFC 6298, RFC 7323 §4, RFC 1122 §4.2.3.5/§4.2.3.6, delayed
 * ACK, TIME-WAIT) against the RFCs and Linux's observable behaviour.
 * Each case states the rule and what Linux does; the RTO floor's failed
 * before its fix, those marked LEFT are divergences kept for later (they
 * skip, saying why), the rest held. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>

#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ACK FA_TCP_ACK
#define SYN FA_TCP_SYN
#define FIN FA_TCP_FIN
#define RST FA_TCP_RST
#define PSH FA_TCP_PSH

/* A divergence found and left for now: the case is kept (and skipped),
 * so the machine is there when it is taken up. */
#define LEFT(why)                                  \
    do {                                           \
        print_message("left: %s\n", why);          \
        skip();                                    \
    } while (0)

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    return 0;
}

static fa_time info_rto(struct fa_tcp *c)
{
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    return i.rto;
}
static fa_time info_srtt(struct fa_tcp *c)
{
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    return i.srtt;
}

/* Steps the clock in `step` increments up to `until`, recording each
 * segment finack sends and when. */
struct seen { fa_time t; struct fa_tcp_view v; };
static int collect(fa_time until, fa_time step, struct seen *out, int max)
{
    int n = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        if (n < max) out[n++] = (struct seen){ pe.now, v };
    while (pe.now < until) {
        peer_run_until(&pe, pe.now + step < until ? pe.now + step : until);
        while (peer_next(&pe, &v))
            if (n < max) out[n++] = (struct seen){ pe.now, v };
    }
    return n;
}

/* Send 100 bytes, the peer ACKs after rtt. */
static void round_trip(struct fa_tcp *c, fa_time rtt)
{
    assert_int_equal(fa_tcp_send(c, "0123456789012345678901234567890123456789"
                                    "0123456789012345678901234567890123456789"
                                    "01234567890123456789", 100, pe.now), 100);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.data_len, 100);
    peer_run_until(&pe, pe.now + rtt);
    assert_true(peer_quiet(&pe));
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    peer_drain(&pe);
}

/* finack connects over a path with a round trip of rtt (the peer
 * helpers' is PEER_RTT). */
static struct fa_tcp *connected_over(fa_time rtt)
{
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    pe.now += rtt;
    peer_send_next(&pe, SYN | ACK, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, ACK);
    return c;
}

/* RFC 6298 §2.3/§2.4 with a 200 ms floor on the RTO itself: on a path
 * with a steady RTT of 300 ms RTTVAR decays to nothing and the RTO to
 * SRTT + 1 ms (G). Linux's floor is on the variance term (rttvar >=
 * tcp_rto_min: RTO >= SRTT + 200 ms), so a Linux peer's 40 ms delayed
 * ACK of a lone segment never fires the timer; here it does. */
static void rto_floor_allows_spurious_timeout(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_over(300 * MS);
    for (int i = 0; i < 30; i++)
        round_trip(c, 300 * MS);
    print_message("srtt %.3f ms rto %.3f ms\n", info_srtt(c) / 1e6, info_rto(c) / 1e6);
    /* one more segment; the peer delays its ACK 40 ms (a lone segment) */
    assert_int_equal(fa_tcp_send(c, "x", 1, pe.now), 1);
    (void)peer_expect(&pe);
    fa_time sent = pe.now;
    int resent = 0;
    struct seen sn[8];
    pe.now = sent;
    int n = collect(sent + 340 * MS - 1, 1 * MS, sn, 8);
    for (int i = 0; i < n; i++)
        if (sn[i].v.data_len) {
            resent++;
            print_message("resent at +%.0f ms\n", (sn[i].t - sent) / 1e6);
        }
    struct fa_tcp_info inf;
    fa_tcp_get_info(c, &inf);
    print_message("resent %d segment(s) before the ACK at +340 ms; cwnd %u recovery %u\n",
                  resent, inf.cwnd, inf.recovery);
    assert_int_equal(resent, 0);
}

/* RFC 6298 §5 (end): the RTO "may collapse" back only "once a new RTT
 * measurement is obtained"; Karn: the backed-off RTO stays until an ACK
 * of a segment sent once. Linux: "only reset backoff on valid RTT
 * measurement". Here an ACK of the retransmitted segment (no
 * timestamps) drops the backoff. */
static void karn_backoff_kept_until_valid_sample(void **state)
{
    (void)state;
    LEFT("a choice: an ACK of new data drops the backoff (tcp_rtt.c says why)");
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    for (int i = 0; i < 5; i++)
        round_trip(c, 100 * MS);
    fa_time rto0 = info_rto(c);
    /* two segments; the first is lost: wait for the RTO to resend */
    assert_int_equal(fa_tcp_send(c, "a", 1, pe.now), 1);
    peer_drain(&pe);
    fa_time t0 = pe.now;
    peer_run_until(&pe, t0 + 5 * S);
    (void)t0;
    peer_drain(&pe);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    print_message("rto before %.0f ms, now %.0f ms, retransmits %llu\n", rto0 / 1e6,
                  i.rto / 1e6, (unsigned long long)i.retransmits);
    assert_true(i.rto > rto0);
    fa_time backed = i.rto;
    /* the ACK of the resent byte (ambiguous: no sample) */
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    peer_drain(&pe);
    print_message("after ACK of the retransmission: rto %.0f ms (backed off: %.0f)\n",
                  info_rto(c) / 1e6, backed / 1e6);
    assert_true(info_rto(c) >= backed);
}

/* Linux (tcp_event_data_recv: the first data packet starts quick-ACK
 * mode, tcp_incr_quickack(TCP_MAX_QUICKACKS)): the first data segments of
 * a connection are ACKed at once, so the sender's initial window is not
 * held a delayed-ACK time. Here 15 of them (half the buffer's segments,
 * at most 15: Linux's 16); then every second segment, as before;
 * FA_TCP_QUICKACK 1 sends the ACK owed. A reply ends the mode (Linux's
 * pingpong): request, quick ACK; the reply a turn later; the next
 * request's ACK waits and rides on its reply. */
static void first_data_acked_at_once(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    long rcvbuf;
    assert_int_equal(fa_tcp_getopt(c, FA_SO_RCVBUF, &rcvbuf), 0);
    assert_true(rcvbuf >= 30 * 1460); /* a budget of the full 15 */
    struct fa_tcp_view v;
    for (int k = 0; k < 15; k++) {
        peer_send_next(&pe, ACK | PSH, "hello", 5);
        assert_true(peer_next(&pe, &v));
        assert_int_equal(v.ack, pe.snd_nxt);
        assert_false(peer_next(&pe, &v));
    }
    long quick;
    assert_int_equal(fa_tcp_getopt(c, FA_TCP_QUICKACK, &quick), 0);
    assert_int_equal(quick, 0);
    peer_send_next(&pe, ACK | PSH, "hello", 5);
    assert_false(peer_next(&pe, &v)); /* delayed: the mode is spent */
    peer_send_next(&pe, ACK | PSH, "hello", 5);
    assert_true(peer_next(&pe, &v)); /* the second segment */
    assert_int_equal(v.ack, pe.snd_nxt);
    /* TCP_QUICKACK 1, as Linux's: the ACK owed goes at the next poll;
     * no new quick ACKs (a program that sets it after each read would
     * have every segment ACKed). */
    peer_send_next(&pe, ACK | PSH, "hello", 5);
    assert_false(peer_next(&pe, &v));
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_QUICKACK, 1), 0);
    peer_run_until(&pe, pe.now);
    assert_true(peer_next(&pe, &v));
    assert_int_equal(v.ack, pe.snd_nxt);
    peer_send_next(&pe, ACK | PSH, "hello", 5);
    assert_false(peer_next(&pe, &v));
    peer_destroy(&pe);
    /* Before the handshake there is nothing to ACK. */
    peer_init(&pe, NULL, 80);
    struct fa_tcp *u;
    fa_tcp_open(pe.s, &u);
    assert_int_equal(fa_tcp_setopt(u, FA_TCP_QUICKACK, 1), -ENOTCONN);
    assert_int_equal(fa_tcp_getopt(u, FA_TCP_QUICKACK, &quick), -ENOTCONN);
    fa_tcp_close(u, pe.now);
    peer_destroy(&pe);
}

/* A reply within a delayed ACK's time of a segment in ends quick-ACK
 * mode (Linux's pingpong, review): the first request is ACKed at once;
 * the reply goes 1 ms later (a program in another turn, as finackd's);
 * the next request's ACK waits, and rides on the reply. */
static void reply_ends_quick_acks(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    struct fa_tcp_view v;
    char buf[16];
    for (int k = 0; k < 3; k++) {
        peer_send_next(&pe, ACK | PSH, "req", 3);
        int acked = peer_next(&pe, &v);
        assert_int_equal(acked, k == 0); /* only the first: quick */
        pe.now += 1 * MS;
        assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 3);
        assert_int_equal(fa_tcp_send(c, "resp", 4, pe.now), 4);
        peer_run_until(&pe, pe.now);
        v = peer_expect(&pe);
        assert_int_equal(v.data_len, 4);
        assert_int_equal(v.ack, pe.snd_nxt); /* the reply carries the ACK */
        assert_false(peer_next(&pe, &v));
        peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
        pe.now += 100 * MS; /* the next request a while later */
        peer_run_until(&pe, pe.now);
    }
    peer_destroy(&pe);
}

/* Linux's tcp_set_keepalive arms the keepalive timer keepalive_time
 * from now: turning SO_KEEPALIVE on in a connection idle for 3 hours
 * sends the first probe 2 hours later. It went at once (counted from
 * the last segment received); a setopt has no clock, the stack's latest
 * time stands for it. */
static void keepalive_enable_counts_from_now(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_run_until(&pe, pe.now + 3 * 3600 * S);
    peer_drain(&pe);
    fa_time on = pe.now;
    assert_int_equal(fa_tcp_setopt(c, FA_SO_KEEPALIVE, 1), 0);
    peer_run_until(&pe, on + 7200 * S - 1);
    int probes = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        probes++;
    print_message("segments within 2 h of SO_KEEPALIVE: %d\n", probes);
    assert_int_equal(probes, 0);
    peer_run_until(&pe, on + 7200 * S);
    v = peer_expect(&pe);
    assert_int_equal(v.seq, pe.rcv_nxt - 1); /* the probe */
    /* Off and on again at once: still counted from the last segment
     * received or the switch on, whichever is later. */
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    fa_time answered = pe.now;
    peer_run_until(&pe, answered + 3600 * S);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_KEEPALIVE, 0), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_KEEPALIVE, 1), 0);
    peer_run_until(&pe, answered + 3600 * S + 7200 * S - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, answered + 3600 * S + 7200 * S);
    assert_int_equal(peer_expect(&pe).seq, pe.rcv_nxt - 1);
}

/* RFC 1122 §4.2.3.6 over a path that drops everything: probes after
 * idle, then every interval; after keep_cnt unanswered, ETIMEDOUT. Linux
 * (idle 10 s, intvl 1 s, cnt 3): probes at 10, 11, 12 s, abort at 13 s.
 * Probe SEG.SEQ = SND.NXT - 1, no data. */
static void keepalive_dead_path(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    fa_time t0 = pe.now; /* the handshake's ACK: the last segment in */
    uint32_t nxt = pe.rcv_nxt;
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPIDLE, 10000), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPINTVL, 1000), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPCNT, 3), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_KEEPALIVE, 1), 0);
    struct seen s[16];
    int n = collect(t0 + 20 * S, 10 * MS, s, 16);
    fa_time dead = 0;
    for (int i = 0; i < n; i++)
        print_message("t=%.3f seq=nxt%+d len=%u flags=%x\n", s[i].t / 1e9,
                      (int)(s[i].v.seq - nxt), s[i].v.data_len, s[i].v.flags);
    (void)dead;
    print_message("state %d err %d\n", fa_tcp_state(c), fa_tcp_error(c));
    assert_int_equal(n, 3);
    assert_int_equal(s[0].t, t0 + 10 * S);
    assert_int_equal(s[2].t, t0 + 12 * S);
    assert_int_equal(s[0].v.seq, nxt - 1);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
}

/* Linux tcp_syn_retries 6: SYNs at 0, 1, 3, 7, 15, 31, 63 s; ETIMEDOUT
 * at 127 s. */
static void syn_retries_timing(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    struct seen s[16];
    int n = collect(200 * S, 100 * MS, s, 16);
    for (int i = 0; i < n; i++)
        print_message("SYN again t=%.1f\n", s[i].t / 1e9);
    print_message("state %d err %d\n", fa_tcp_state(c), fa_tcp_error(c));
    assert_int_equal(n, 6);
    assert_int_equal(s[5].t, 63 * S);
}

/* Linux's data R2 (tcp_retries2 15): the connection is aborted when
 * ~924.6 s have passed since the first retransmission (RTO doubling from
 * 200 ms, capped at TCP_RTO_MAX 120 s). */
static void data_r2_time(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    for (int i = 0; i < 5; i++)
        round_trip(c, 10 * MS);
    assert_int_equal(fa_tcp_send(c, "x", 1, pe.now), 1);
    peer_drain(&pe);
    fa_time t0 = pe.now;
    fa_time end = 0;
    while (pe.now < t0 + 2000 * S && fa_tcp_state(c) != FA_TCP_CLOSED) {
        peer_run_until(&pe, pe.now + 100 * MS);
        peer_drain(&pe);
    }
    end = pe.now;
    int err = fa_tcp_error(c); /* (reading it clears it, as SO_ERROR) */
    print_message("aborted %.1f s after the send, err %d, retransmits counted\n",
                  (end - t0) / 1e9, err);
    /* R2 at the first timeout past 924.6 s (15 retries' worth from
     * 200 ms), at most one tcp_rto_max (120 s) later. */
    assert_true(end - t0 >= 924 * S && end - t0 <= 924 * S + 121 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(err, -ETIMEDOUT);
}

/* Linux makes the TIME-WAIT entry at tcp_time_wait whether or not the
 * application still holds the socket, so a new SYN above RCV.NXT
 * reopens the 4-tuple (RFC 9293 §3.10.7.4 / RFC 1122 §4.2.2.13). Here,
 * while the handle is held, the SYN is answered with a challenge ACK. */
static void time_wait_with_handle_reopens(void **state)
{
    (void)state;
    LEFT("a SYN reopens only the compact TIME-WAIT entry, not a block whose handle is still held");
    peer_init(&pe, NULL, 80);
    struct fa_tcp *l;
    struct fa_tcp *c = peer_accepted(&pe, 80, &l);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0); /* our FIN */
    peer_drain(&pe);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    peer_drain(&pe);
    assert_int_equal(fa_tcp_state(c), FA_TCP_TIME_WAIT);
    peer_run_until(&pe, pe.now + 1 * S);
    /* new SYN, well above the old sequence space */
    peer_send(&pe, SYN, pe.snd_nxt + 1000000, 0, 65535, NULL, 0);
    struct fa_tcp_view v;
    int got = peer_next(&pe, &v);
    print_message("answer: %s flags=%x\n", got ? "segment" : "none", got ? v.flags : 0);
    assert_true(got && v.flags == (SYN | ACK));
}

/* Compact TIME-WAIT: a retransmitted FIN is ACKed and restarts 2 MSL
 * (RFC 9293 §3.10.7.4). */
static void time_wait_fin_restart(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    peer_drain(&pe);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    peer_drain(&pe);
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, 1);
    fa_time t0 = pe.now;
    peer_run_until(&pe, t0 + 50 * S);
    peer_send(&pe, ACK | FIN, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
    peer_run_until(&pe, t0 + 109 * S);
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, 1);
    peer_run_until(&pe, t0 + 111 * S);
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, 0);
}

/* RFC 9293 §3.8.6.3: a lone segment's ACK within 500 ms; the ACK at
 * least every second full segment. */
static void delayed_ack_bounds(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    (void)c;
    peer_send_next(&pe, ACK | PSH, "a", 1);
    peer_drain(&pe);
    peer_run_until(&pe, pe.now + 100 * MS);
    peer_drain(&pe);
    peer_send_next(&pe, ACK | PSH, "b", 1);
    struct seen s[4];
    fa_time t0 = pe.now;
    int n = collect(t0 + 600 * MS, 1 * MS, s, 4);
    print_message("ACKs: %d, first at +%.0f ms\n", n, n ? (s[0].t - t0) / 1e6 : -1.0);
    assert_true(n >= 1 && s[0].t - t0 <= 200 * MS);
}

/* RFC 7323 §4 (RTTM): a timestamp echo times a retransmitted segment
 * unambiguously. Linux's tcp_ack_update_rtt takes the SYN-ACK's TSecr
 * as a sample when the SYN was resent, so RFC 6298 §5.7's 3 s fallback
 * does not apply (srtt is set): RTO = 10 ms + 200 ms. */
static void syn_retransmitted_timestamp_sample(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    pe.now = 1 * S;
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_run_until(&pe, 2 * S); /* the SYN again */
    struct fa_tcp_view syn2 = peer_expect(&pe);
    assert_int_equal(syn2.flags, SYN);
    peer_run_until(&pe, 2 * S + 10 * MS);
    uint8_t o[40];
    size_t n = opt_syn(o, 1, 1, 5000, syn2.opts.ts_val);
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 65535, o, n, NULL, 0);
    pe.snd_nxt++;
    peer_drain(&pe);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    print_message("srtt %.1f ms rto %.1f ms\n", info_srtt(c) / 1e6, info_rto(c) / 1e6);
    assert_true(info_rto(c) < 1 * S);
}

/* A simultaneous open (RFC 9293 §3.5 figure 8) with nothing lost: the
 * SYN-ACK that answers the crossed SYN carries our SYN again but is no
 * resend. An independent review: it was counted as one, so the
 * connection took RFC 6298 §5.7's 3 s RTO and RFC 5681 §3.1's one-segment
 * window (both for a lost SYN), and the peer's echo of our first SYN fell
 * before SYN-RECEIVED's start and gave no sample. Now: no resend, a
 * sample from the first SYN (10 ms, no more), the initial window. */
static void simultaneous_open_is_no_resend(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    pe.now = 1 * S;
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    pe.now += 5 * MS; /* the peer's SYN crosses ours */
    uint8_t o[40];
    size_t n = opt_syn(o, 1, 1, 7000, 0);
    peer_send_opts(&pe, SYN, pe.snd_nxt, 0, 65535, o, n, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_RECEIVED);
    pe.now += 5 * MS; /* its SYN-ACK answers our SYN */
    n = opt_syn(o, 1, 1, 7001, syn.opts.ts_val);
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 65535, o, n, NULL, 0);
    pe.snd_nxt++;
    peer_drain(&pe);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    print_message("srtt %.1f ms rto %.1f ms cwnd %u retransmits %u\n", i.srtt / 1e6,
                  i.rto / 1e6, i.cwnd, (unsigned)i.retransmits);
    assert_int_equal(i.retransmits, 0);
    assert_int_equal(i.srtt, 10 * MS);
    assert_true(i.rto < 1 * S);
    assert_int_equal(i.cwnd, 10u * i.mss);
}

/* Karn in a simultaneous open (review): our SYN lost, the peer's SYN
 * comes 900 ms later and our SYN-ACK answers it; the peer's bare ACK
 * answers that SYN-ACK, not our SYN. Timed from the SYN it said 910 ms
 * on a 10 ms path (RTO 2.7 s); the timestamp echo times the SYN-ACK,
 * and without timestamps nothing is sampled (RFC 6298 §3). */
static void simultaneous_open_times_the_synack(void **state)
{
    (void)state;
    for (int ts = 1; ts >= 0; ts--) {
        peer_init(&pe, NULL, 80);
        pe.now = 1 * S;
        struct fa_tcp_view syn;
        struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
        pe.now += 900 * MS; /* ours was lost; the peer's SYN comes */
        uint8_t o[40];
        size_t n = opt_syn(o, 1, ts, 7000, 0);
        peer_send_opts(&pe, SYN, pe.snd_nxt, 0, 65535, o, n, NULL, 0);
        struct fa_tcp_view sa = peer_expect(&pe);
        assert_int_equal(sa.flags, SYN | ACK);
        pe.snd_nxt++;
        pe.now += 10 * MS; /* its ACK of our SYN-ACK */
        n = ts ? opt_ts(o, 7010, sa.opts.ts_val) : 0;
        peer_send_opts(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, o, n, NULL, 0);
        peer_drain(&pe);
        assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
        struct fa_tcp_info i;
        fa_tcp_get_info(c, &i);
        print_message("ts %d: srtt %.1f ms rto %.1f ms\n", ts, i.srtt / 1e6, i.rto / 1e6);
        if (ts)
            assert_int_equal(i.srtt, 10 * MS);
        else
            assert_int_equal(i.srtt, 0);
        assert_true(i.rto <= 1 * S);
        peer_destroy(&pe);
        pe.s = NULL;
    }
}

/* A peer that answers zero-window probes is alive: R2's run starts again.
 * Review: data lost once (an RTO resend), then the window shut and 1,000
 * s of answered probes, then the window opened and one resend was lost:
 * the run's stamp was 1,000 s old and the connection gave up 2 s later. */
static void r2_restarts_after_answered_probes(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    fa_time t0 = pe.now;
    static char b[100];
    assert_int_equal(fa_tcp_send(c, b, sizeof b, pe.now), 100);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    uint32_t una = i.snd_una;
    peer_drain(&pe);
    peer_run_until(&pe, t0 + 1100 * MS); /* the first RTO resends */
    peer_drain(&pe);
    peer_send(&pe, ACK, pe.snd_nxt, una, 0, NULL, 0); /* window shut */
    struct fa_tcp_view v;
    for (fa_time t = pe.now; t < t0 + 1000 * S; t += 100 * MS) {
        peer_run_until(&pe, t);
        while (peer_next(&pe, &v))
            peer_send(&pe, ACK, pe.snd_nxt, una, 0, NULL, 0); /* alive, still shut */
    }
    peer_send(&pe, ACK, pe.snd_nxt, una, 65535, NULL, 0); /* open; resends are lost */
    peer_run_until(&pe, pe.now + 60 * S);
    peer_drain(&pe);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 0);
}

/* RFC 6298 §5.7 without timestamps: RTO 3 s once data begins. */
static void syn_timeout_rto_3s(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    pe.now = 1 * S;
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_run_until(&pe, 2 * S);
    peer_drain(&pe);
    peer_run_until(&pe, 2 * S + 10 * MS);
    peer_send_next(&pe, SYN | ACK, NULL, 0);
    peer_drain(&pe);
    print_message("rto %.1f ms\n", info_rto(c) / 1e6);
    assert_int_equal(info_rto(c), 3 * S);
}

/* The peer, 1 s in, without timestamps: only the clock times the
 * handshake. */
static void init_without_timestamps(void)
{
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_timestamps = 0;
    peer_init(&pe, &cfg, 80);
    pe.now = 1 * S;
}

/* A SYN duplicated on its way (or resent by a peer whose clock ran
 * short) reaches a connection in SYN-RECEIVED: the SYN-ACK goes again at
 * once (syn_again). That is a resend for Karn — the ACK that follows is
 * no sample without timestamps, the RTO stays the untimed 1 s — and for
 * RFC 5681 §3.1's one-segment window, but no timeout: RFC 6298 §5.7's
 * 3 s is for "the timer expires" (a review found 3 s). */
static void duplicated_syn_is_no_timeout(void **state)
{
    (void)state;
    init_without_timestamps();
    struct fa_tcp *l = peer_listening(&pe, 8080);
    peer_send(&pe, SYN, pe.snd_nxt, 0, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    pe.now += 10 * MS;
    peer_send(&pe, SYN, pe.snd_nxt, 0, 65535, NULL, 0); /* the copy */
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    pe.snd_nxt++;
    pe.now += 10 * MS;
    peer_send_next(&pe, ACK, NULL, 0);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    assert_int_equal(info_rto(c), 1 * S);
    assert_int_equal(peer_info(c).srtt, 0);
    assert_int_equal(peer_info(c).cwnd, peer_info(c).mss);
}

/* Our SYN timed out (resent, the RTO backed off to 2 s); then the
 * peer's SYN crossed it (simultaneous open): SYN-RECEIVED counts its own
 * timeouts afresh, but the SYN's still took place — data starts with RFC
 * 6298 §5.7's 3 s (review: 2 s, once the count alone said it). */
static void simultaneous_open_after_a_syn_timeout(void **state)
{
    (void)state;
    init_without_timestamps();
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_run_until(&pe, 2 * S);
    assert_int_equal(peer_expect(&pe).flags, SYN); /* resent */
    pe.now = 2 * S + 500 * MS;
    peer_send(&pe, SYN, pe.snd_nxt, 0, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    pe.snd_nxt++;
    pe.now += 10 * MS;
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(info_rto(c), 3 * S);
}

/* tcp_data_retries 0: the first timeout still resends, as Linux's (its
 * retransmits_timed_out is false before one); R2 then comes a 200 ms
 * RTO's worth on (review: it gave up at the first timeout, nothing
 * resent). */
static void no_data_retries_still_resends_once(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_data_retries = 0;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_send(c, "x", 1, pe.now), 1);
    peer_drain(&pe);
    struct seen s[16];
    int n = collect(pe.now + 5 * S, 1 * MS, s, 16);
    int resent = 0;
    for (int i = 0; i < n; i++)
        resent += s[i].v.data_len == 1;
    print_message("%d copies resent (the tail probe's too)\n", resent);
    assert_true(resent >= 2); /* the probe's and the timeout's */
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT);
}

/* Zero-window persist across a path that then drops everything:
 * RFC 1122 §4.2.2.17 allows giving up only when the probes go
 * unanswered; Linux aborts after tcp_retries2 (15) unanswered probes. */
static void persist_dead_path(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    for (int i = 0; i < 3; i++)
        round_trip(c, 10 * MS);
    assert_int_equal(fa_tcp_send(c, "abcd", 4, pe.now), 4);
    peer_drain(&pe);
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 0, NULL, 0); /* all taken, window 0 */
    assert_int_equal(fa_tcp_send(c, "efgh", 4, pe.now), 4);
    peer_drain(&pe);
    fa_time t0 = pe.now;
    struct seen s[40];
    int n = collect(t0 + 2000 * S, 100 * MS, s, 40);
    for (int i = 0; i < n; i++)
        print_message("probe t=+%.1f seq=una%+d len %u\n", (s[i].t - t0) / 1e9,
                      (int)(s[i].v.seq - (pe.rcv_nxt)), s[i].v.data_len);
    print_message("state %d err %d\n", fa_tcp_state(c), fa_tcp_error(c));
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
}

/* Linux's close() with SO_LINGER t > 0 waits t (sk_stream_wait_close),
 * then the socket goes on as an orphan: its FIN is still retransmitted
 * and the peer sees an orderly close. Here the linger's expiry resets
 * the connection (documented in finack/tcp.h). */
static void linger_expiry_resets(void **state)
{
    (void)state;
    LEFT("a lingering close that runs out resets (documented in finack/tcp.h)");
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_LINGER, 1000), 0);
    assert_int_equal(fa_tcp_close(c, pe.now), -EINPROGRESS);
    peer_drain(&pe); /* FIN, never ACKed */
    struct seen s[16];
    int n = collect(pe.now + 1500 * MS, 10 * MS, s, 16);
    int rst = 0;
    for (int i = 0; i < n; i++) {
        print_message("t=%.2f flags=%x\n", s[i].t / 1e9, s[i].v.flags);
        rst |= (s[i].v.flags & RST) != 0;
    }
    assert_false(rst);
}

/* An orphan in FIN-WAIT-2 ends after tcp_fin_wait2_timeout (60 s), not
 * before, silently (Linux: the FIN_WAIT2 timewait sock expires). */
static void fin_wait2_orphan_timeout(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    peer_drain(&pe);
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    fa_time t0 = pe.now;
    struct fa_tcp_usage u;
    peer_run_until(&pe, t0 + 59 * S);
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 1);
    peer_run_until(&pe, t0 + 61 * S);
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 0);
    assert_true(peer_quiet(&pe));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rto_floor_allows_spurious_timeout, teardown),
        cmocka_unit_test_teardown(karn_backoff_kept_until_valid_sample, teardown),
        cmocka_unit_test_teardown(first_data_acked_at_once, teardown),
        cmocka_unit_test_teardown(reply_ends_quick_acks, teardown),
        cmocka_unit_test_teardown(keepalive_enable_counts_from_now, teardown),
        cmocka_unit_test_teardown(keepalive_dead_path, teardown),
        cmocka_unit_test_teardown(syn_retries_timing, teardown),
        cmocka_unit_test_teardown(data_r2_time, teardown),
        cmocka_unit_test_teardown(time_wait_with_handle_reopens, teardown),
        cmocka_unit_test_teardown(time_wait_fin_restart, teardown),
        cmocka_unit_test_teardown(delayed_ack_bounds, teardown),
        cmocka_unit_test_teardown(syn_retransmitted_timestamp_sample, teardown),
        cmocka_unit_test_teardown(simultaneous_open_is_no_resend, teardown),
        cmocka_unit_test_teardown(simultaneous_open_times_the_synack, teardown),
        cmocka_unit_test_teardown(r2_restarts_after_answered_probes, teardown),
        cmocka_unit_test_teardown(syn_timeout_rto_3s, teardown),
        cmocka_unit_test_teardown(duplicated_syn_is_no_timeout, teardown),
        cmocka_unit_test_teardown(simultaneous_open_after_a_syn_timeout, teardown),
        cmocka_unit_test_teardown(no_data_retries_still_resends_once, teardown),
        cmocka_unit_test_teardown(persist_dead_path, teardown),
        cmocka_unit_test_teardown(linger_expiry_resets, teardown),
        cmocka_unit_test_teardown(fin_wait2_orphan_timeout, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
