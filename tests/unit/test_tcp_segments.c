/* test_tcp_segments.c — TCP rules checked segment by segment against a
 * hand-driven peer: retransmission and backoff (L3, L15), old duplicates
 * (L4), simultaneous open (L5), FIN-WAIT-1 shortcuts (L12, L13), the
 * FIN-WAIT-2 reclaim (L16), RST and SYN acceptance with challenge ACKs
 * (L21), keepalive (L24), ISNs (RFC 6528), and every flag combination. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "peer.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ACK FA_TCP_ACK
#define SYN FA_TCP_SYN
#define FIN FA_TCP_FIN
#define RST FA_TCP_RST

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    peer_destroy(&pe);
    return 0;
}

static void l3_syn_backoff_then_etimedout(void **state) /* L3 */
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_syn_retries = 3;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c;
    fa_tcp_open(pe.s, &c);
    assert_int_equal(fa_tcp_connect(c, IP_PEER, 80, 0), -EINPROGRESS);
    struct fa_tcp_view syn = peer_expect(&pe);
    /* RFC 6298 §2.1: initial RTO 1 s, then doubling: 1, 2, 4 s. */
    fa_time at[] = { 1 * S, 3 * S, 7 * S };
    for (int i = 0; i < 3; i++) {
        peer_run_until(&pe, at[i] - 1);
        assert_true(peer_quiet(&pe));
        peer_run_until(&pe, at[i]);
        struct fa_tcp_view again = peer_expect(&pe);
        assert_int_equal(again.flags, SYN);
        assert_int_equal(again.seq, syn.seq);
    }
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_SENT);
    peer_run_until(&pe, 15 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT);
    assert_int_equal(fa_tcp_send(c, "x", 1, pe.now), -EPIPE);
    fa_tcp_close(c, pe.now);
}

static void l3_synack_retransmitted_then_half_open_dropped(void **state) /* L3 */
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_synack_retries = 2;
    cfg.tcp_syncookies = 0; /* the drop itself (cookies: test_tcp_syncookie) */
    peer_init(&pe, &cfg, 5000);
    struct fa_tcp *l, *c;
    fa_tcp_open(pe.s, &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 1, pe.now);
    pe.our_port = 80;
    peer_send_next(&pe, SYN, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    peer_run_until(&pe, 1 * S);
    assert_int_equal(peer_expect(&pe).seq, sa.seq);
    peer_run_until(&pe, 3 * S);
    assert_int_equal(peer_expect(&pe).seq, sa.seq);
    /* The backlog of 1 is taken by the half-open entry... */
    pe.port = 5001;
    peer_send(&pe, SYN, 777, 0, 1000, NULL, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_BACKLOG_FULL), 1);
    assert_true(peer_quiet(&pe));
    /* ...until it is dropped after the retries; the listener is intact. */
    peer_run_until(&pe, 8 * S);
    assert_true(peer_quiet(&pe));
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 1);
    assert_int_equal(fa_tcp_accept(l, &c), -EAGAIN);
    assert_int_equal(fa_tcp_state(l), FA_TCP_LISTEN);
    peer_send(&pe, SYN, 777, 0, 1000, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
}

static void l3_pure_ack_never_retransmitted(void **state) /* L3 */
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    (void)c;
    peer_send_next(&pe, ACK, "data", 4);
    peer_run_until(&pe, 120 * S);
    struct fa_tcp_view ack = peer_expect(&pe); /* the delayed ACK */
    assert_int_equal(ack.flags, ACK);
    assert_int_equal(ack.data_len, 0);
    assert_true(peer_quiet(&pe)); /* and nothing after, ever */
}

/* RFC 9293 §3.10.7.4: only an ACK in [SND.UNA, SND.NXT] updates the send
 * window. One below SND.UNA (within RFC 5961 §5.2's MAX.SND.WND, so not
 * dropped) is stale however new its sequence number: it must not open a
 * window the peer closed (attack seed 3725, a forged old ACK at RCV.NXT
 * after GRO; before the fix snd_wnd became 65535 and data went at once). */
static void old_ack_with_newer_seq_leaves_the_window(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    uint32_t first = i.snd_nxt;
    assert_int_equal(fa_tcp_send(c, "0123456789", 10, pe.now), 10);
    assert_int_equal(peer_expect(&pe).data_len, 10);
    pe.now += 10 * MS;
    /* All of it taken, and the window closed; the peer's data moves WL1. */
    peer_send(&pe, ACK, pe.snd_nxt, first + 10, 0, "ab", 2);
    pe.snd_nxt += 2;
    /* Newer sequence number, ACK 5 bytes below SND.UNA, a wide window. */
    peer_send(&pe, ACK, pe.snd_nxt, first + 5, 65535, NULL, 0);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.snd_una, first + 10);
    assert_int_equal(i.snd_wnd, 0);
    assert_int_equal(fa_tcp_send(c, "more", 4, pe.now), 4);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        assert_int_equal(v.data_len, 0); /* ACKs of "ab" only: the window is shut */
    /* The same ACK at SND.UNA does open it. */
    peer_send(&pe, ACK, pe.snd_nxt, first + 10, 65535, NULL, 0);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.snd_wnd, 65535);
}

static void l4_old_duplicate_synack_gets_reset(void **state) /* L4 */
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c;
    fa_tcp_open(pe.s, &c);
    fa_tcp_connect(c, IP_PEER, 80, 0);
    struct fa_tcp_view syn = peer_expect(&pe);
    pe.our_port = syn.sport;
    /* A SYN-ACK acknowledging something other than our ISN + 1. */
    uint32_t bad_ack = syn.seq + 5000;
    peer_send(&pe, SYN | ACK, 1234, bad_ack, 1000, NULL, 0);
    struct fa_tcp_view rst = peer_expect(&pe);
    assert_int_equal(rst.flags, RST);
    assert_int_equal(rst.seq, bad_ack); /* <SEQ=SEG.ACK><CTL=RST> */
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_SENT);
    /* The genuine SYN-ACK still completes the connection. */
    pe.rcv_nxt = syn.seq + 1;
    peer_send_next(&pe, SYN | ACK, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
}

static void l4_rst_in_syn_received_returns_to_listen(void **state) /* L4 */
{
    (void)state;
    peer_init(&pe, NULL, 5000);
    struct fa_tcp *l, *c;
    l = peer_listening(&pe, 80);
    peer_send_next(&pe, SYN, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    /* The peer (whose SYN was an old duplicate) resets. */
    peer_send(&pe, RST, pe.snd_nxt, 0, 0, NULL, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RST_IN), 1);
    peer_run_until(&pe, 10 * S);
    assert_true(peer_quiet(&pe)); /* no SYN-ACK retransmission: gone */
    assert_int_equal(fa_tcp_state(l), FA_TCP_LISTEN);
    assert_int_equal(fa_tcp_accept(l, &c), -EAGAIN);
    (void)sa;
    /* A fresh attempt is served as before. */
    pe.port = 5002;
    peer_send_next(&pe, SYN, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
}

static void l5_simultaneous_open(void **state) /* L5 */
{
    (void)state;
    peer_init(&pe, NULL, 7000);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 6000, &syn);
    /* The peer's own SYN crosses ours: SYN-RECEIVED, SYN-ACK with our ISN. */
    peer_send_next(&pe, SYN, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_RECEIVED);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    assert_int_equal(sa.seq, syn.seq);
    assert_int_equal(sa.ack, pe.snd_nxt);
    /* The peer's SYN-ACK (it too is in SYN-RECEIVED) completes ours. */
    peer_send(&pe, SYN | ACK, pe.snd_nxt - 1, syn.seq + 1, 65535, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    peer_send(&pe, ACK, pe.snd_nxt, syn.seq + 1, 65535, NULL, 0);
    assert_int_equal(fa_tcp_send(c, "hi", 2, pe.now), 2);
    struct fa_tcp_view d = peer_expect(&pe);
    while (d.data_len == 0)
        d = peer_expect(&pe);
    assert_int_equal(d.seq, syn.seq + 1);
}

/* Establishes, then closes from finack; returns its FIN. */
static struct fa_tcp_view close_from_us(struct fa_tcp **c)
{
    peer_init(&pe, NULL, 80);
    *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_shutdown(*c, FA_SHUT_WR, pe.now), 0);
    struct fa_tcp_view fin = peer_expect(&pe);
    assert_true(fin.flags & FIN);
    assert_int_equal(fa_tcp_state(*c), FA_TCP_FIN_WAIT_1);
    return fin;
}

static void l12_fin_ack_in_fin_wait_1_goes_to_time_wait(void **state) /* L12 */
{
    (void)state;
    struct fa_tcp *c;
    close_from_us(&c);
    /* One segment that ACKs our FIN and carries the peer's FIN. */
    peer_send_next(&pe, FIN | ACK, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_TIME_WAIT);
    struct fa_tcp_view ack = peer_expect(&pe);
    assert_int_equal(ack.ack, pe.snd_nxt);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RETRANSMITS), 0);
    fa_tcp_close(c, pe.now);
}

static void l13_simultaneous_close_through_closing(void **state) /* L13 */
{
    (void)state;
    struct fa_tcp *c;
    struct fa_tcp_view fin = close_from_us(&c);
    /* The peer's FIN crosses ours: it does not acknowledge our FIN. */
    peer_send(&pe, FIN | ACK, pe.snd_nxt, fin.seq, 65535, NULL, 0);
    pe.snd_nxt++;
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSING);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt);
    /* Now the ACK of our FIN: TIME-WAIT. */
    peer_send(&pe, ACK, pe.snd_nxt, fin.seq + 1, 65535, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_TIME_WAIT);
    fa_tcp_close(c, pe.now);
}

static void l14_retransmitted_fin_in_time_wait_is_acked_and_restarts(void **state) /* L14 */
{
    (void)state;
    struct fa_tcp *c;
    close_from_us(&c);
    peer_send_next(&pe, FIN | ACK, NULL, 0);
    peer_expect(&pe);
    fa_tcp_close(c, pe.now); /* compact TIME-WAIT from here */
    peer_run_until(&pe, 50 * S);
    /* The peer's FIN again (our ACK was lost): ACKed again, 2 MSL anew. */
    peer_send(&pe, FIN | ACK, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0);
    struct fa_tcp_view again = peer_expect(&pe);
    assert_int_equal(again.flags, ACK);
    assert_int_equal(again.ack, pe.snd_nxt);
    peer_run_until(&pe, 109 * S);
    peer_send(&pe, FIN | ACK, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt); /* still there */
    peer_run_until(&pe, 170 * S);
    /* Expired: the same segment now finds no connection: RST. */
    peer_send(&pe, FIN | ACK, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0);
    assert_true(peer_expect(&pe).flags & RST);
}

static void l15_fin_retransmitted_with_backoff_then_abort(void **state) /* L15 */
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    /* R2 in time, as Linux: 5 retries' worth from a 200 ms RTO is
     * 12.6 s. The handshake's 10 ms makes the RTO 210 ms: a tail loss
     * probe at 0.21 s (a lone FIN's PTO, capped by the RTO), resends on
     * timeouts at 0.42, 0.84, 1.68, 3.36 and 6.72 s, and the abort at
     * the first timeout past 12.6 s, 13.44 s. */
    cfg.tcp_data_retries = 5;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = peer_connected(&pe);
    /* LAST-ACK: the peer closed, we close; our FIN is never ACKed. */
    peer_send_next(&pe, FIN | ACK, NULL, 0);
    peer_expect(&pe);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    struct fa_tcp_view fin = peer_expect(&pe);
    assert_true(fin.flags & FIN);
    fa_time rto = peer_info(c).rto, t = pe.now + rto, gap = rto;
    assert_int_equal(rto, 210 * MS);
    for (int i = 0; i < 6; i++) { /* the probe, then five resends */
        peer_run_until(&pe, t - 1);
        assert_true(peer_quiet(&pe));
        peer_run_until(&pe, t);
        struct fa_tcp_view again = peer_expect(&pe);
        assert_true(again.flags & FIN);
        assert_int_equal(again.seq, fin.seq);
        if (i)
            gap *= 2;
        t += gap;
    }
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    peer_run_until(&pe, t - 1);
    assert_int_equal(fa_tcp_state(c), FA_TCP_LAST_ACK);
    peer_run_until(&pe, t);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 1);
    /* Aborted: the connection no longer exists. */
    peer_send(&pe, ACK, pe.snd_nxt, fin.seq + 1, 100, NULL, 0);
    assert_true(peer_expect(&pe).flags & RST);
}

static void l16_orphan_fin_wait_2_reclaimed(void **state) /* L16 */
{
    (void)state;
    struct fa_tcp *c;
    struct fa_tcp_view fin = close_from_us(&c);
    fa_tcp_close(c, pe.now);
    peer_send(&pe, ACK, pe.snd_nxt, fin.seq + 1, 65535, NULL, 0);
    /* FIN-WAIT-2, orphaned: gone after 60 s without the peer's FIN. */
    peer_run_until(&pe, pe.now + 59 * S);
    peer_send(&pe, ACK, pe.snd_nxt, fin.seq + 1, 65535, "late", 4);
    struct fa_tcp_view r = peer_expect(&pe);
    assert_true(r.flags & RST); /* orphan gets data: reset (nobody reads) */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 0);

    struct fa_tcp *c2;
    peer_destroy(&pe);
    close_from_us(&c2);
    fa_tcp_close(c2, pe.now);
    fa_time t0 = pe.now;
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    peer_run_until(&pe, t0 + 60 * S);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 1);
}

static void l21_rst_and_syn_acceptance(void **state) /* L21 */
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    /* Outside the window: dropped silently. */
    peer_send(&pe, RST, pe.snd_nxt + 100000, 0, 0, NULL, 0);
    assert_true(peer_quiet(&pe));
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    /* In the window but not RCV.NXT: challenge ACK, no reset. */
    peer_send(&pe, RST, pe.snd_nxt + 10, 0, 0, NULL, 0);
    struct fa_tcp_view ch = peer_expect(&pe);
    assert_int_equal(ch.flags, ACK);
    assert_int_equal(ch.ack, pe.snd_nxt);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    /* A SYN in a synchronized state: challenge ACK too (RFC 5961 §4),
     * once the per-connection interval (500 ms) has passed. */
    pe.now += 500 * MS;
    peer_send(&pe, SYN, pe.snd_nxt + 5, 0, 1000, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, ACK);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_CHALLENGE_ACKS), 2);
    /* Rate limited: a flood within the interval gets no more. */
    for (int i = 0; i < 50; i++)
        peer_send(&pe, RST, pe.snd_nxt + 10, 0, 0, NULL, 0);
    assert_true(peer_quiet(&pe));
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_CHALLENGE_ACKS), 2);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_INVALID_LIMITED), 50);
    /* Exactly RCV.NXT: the connection is reset. */
    peer_send(&pe, RST, pe.snd_nxt, 0, 0, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_recv(c, NULL, 0, pe.now), -ECONNRESET);
    fa_tcp_close(c, pe.now);
}

/* A connection with keepalive after 10 s idle, probes 1 s apart, 3 of them. */
static struct fa_tcp *keepalive_connection(void)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_KEEPALIVE, 1), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPIDLE, 10000), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPINTVL, 1000), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPCNT, 3), 0);
    return c;
}

static void l24_keepalive_probes_then_etimedout(void **state) /* L24 */
{
    (void)state;
    struct fa_tcp *c = keepalive_connection();
    fa_time t0 = pe.now; /* the handshake's ACK: idle from here */
    /* Linux's bound, 32,767 s: beyond it EINVAL, and the value stays. */
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPIDLE, FA_TCP_KEEP_MAX_MS + 1), -EINVAL);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPINTVL, 0), -EINVAL);
    long v;
    assert_int_equal(fa_tcp_getopt(c, FA_TCP_KEEPIDLE, &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(fa_tcp_getopt(c, FA_TCP_KEEPINTVL, &v), 0);
    assert_int_equal(v, 1000);
    peer_run_until(&pe, t0 + 10 * S - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, t0 + 10 * S);
    struct fa_tcp_view probe = peer_expect(&pe);
    assert_int_equal(probe.seq, pe.rcv_nxt - 1); /* SEG.SEQ = SND.NXT - 1 */
    /* An answer resets the count and the idle time. */
    peer_send_next(&pe, ACK, NULL, 0);
    peer_run_until(&pe, t0 + 19 * S);
    assert_true(peer_quiet(&pe));
    /* Then silence: probes at 20, 21, 22 s, abort at 23 s (from t0). */
    for (int i = 0; i < 3; i++) {
        peer_run_until(&pe, t0 + (20 + (fa_time)i) * S);
        assert_int_equal(peer_expect(&pe).data_len, 0);
    }
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    peer_run_until(&pe, t0 + 23 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_recv(c, NULL, 0, pe.now), -ETIMEDOUT);
    fa_tcp_close(c, pe.now);
}

/* The timers run late (the application polled 20 s after the idle time
 * ran out): one probe then, and the next an interval later — not every
 * probe owed at once, which would end the connection before the peer
 * could answer. */
static void l24_keepalive_run_late_probes_once(void **state) /* L24 */
{
    (void)state;
    struct fa_tcp *c = keepalive_connection();
    fa_time next = fa_stack_poll(pe.s, 30 * S);
    assert_int_equal(peer_expect(&pe).seq, pe.rcv_nxt - 1);
    assert_true(peer_quiet(&pe));
    assert_int_equal(next, 31 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    /* Answered: the idle time starts over from the answer. */
    pe.now = 30 * S + 500 * MS;
    peer_send_next(&pe, ACK, NULL, 0);
    peer_run_until(&pe, 40 * S + 500 * MS - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, 40 * S + 500 * MS);
    assert_int_equal(peer_expect(&pe).seq, pe.rcv_nxt - 1);
    fa_tcp_close(c, pe.now);
}

static void isn_is_keyed_and_moves_with_time(void **state) /* L1 */
{
    (void)state;
    /* RFC 6528: the same 4-tuple gets different ISNs from stacks with
     * different secrets, and from one stack at different times. */
    uint32_t isn[3];
    for (int i = 0; i < 3; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        memset(&pe, 0, sizeof pe);
        cfg.addr = IP_US;
        cfg.arp_gratuitous = 0;
        memcpy(cfg.mac, mac_a, 6);
        cfg.device = capture_device(&pe.cap);
        fa_prng_seed(&pe.prng, i == 1 ? 2 : 1);
        cfg.rng = fa_prng_rng(&pe.prng);
        assert_int_equal(fa_stack_create(&cfg, 0, &pe.s), 0);
        uint8_t fr[64];
        size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
        fa_stack_input(pe.s, fr, n, 0);
        struct fa_tcp *c;
        fa_tcp_open(pe.s, &c);
        fa_tcp_bind(c, 0, 40000);
        pe.now = i == 2 ? 1 * S : 0;
        fa_tcp_connect(c, IP_PEER, 80, pe.now);
        isn[i] = peer_expect(&pe).seq;
        peer_destroy(&pe);
    }
    pe.s = NULL;
    assert_int_not_equal(isn[0], isn[1]);              /* other secret */
    assert_int_equal(isn[2] - isn[0], 1000000000 / 4000); /* 4 µs clock */
    peer_init(&pe, NULL, 80);
}

static void every_flag_combination_in_established(void **state)
{
    (void)state;
    /* All 64 combinations of the six classic flags, at RCV.NXT, each
     * against a fresh connection: never a crash; SYN+FIN and SYN+RST
     * dropped; no ACK and no RST: dropped; RST: reset; SYN: challenge. */
    for (unsigned flags = 0; flags < 64; flags++) {
        peer_init(&pe, NULL, 80);
        struct fa_tcp *c = peer_connected(&pe);
        peer_send(&pe, (uint8_t)flags, pe.snd_nxt, pe.rcv_nxt, 65535, "abc", 3);
        enum fa_tcp_state st = fa_tcp_state(c);
        if ((flags & SYN) && (flags & (FIN | RST)))
            assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_BAD_FLAGS), 1);
        else if (flags & RST)
            assert_int_equal(st, FA_TCP_CLOSED);
        else if (flags & SYN)
            assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_CHALLENGE_ACKS), 1);
        else if (!(flags & ACK))
            assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_STRAY), 1);
        else if (flags & FIN)
            assert_int_equal(st, FA_TCP_CLOSE_WAIT);
        else
            assert_int_equal(st, FA_TCP_ESTABLISHED);
        if (st != FA_TCP_CLOSED && !(flags & (SYN | RST)) && (flags & ACK)) {
            char buf[8];
            assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 3);
        }
        peer_destroy(&pe);
    }
    peer_init(&pe, NULL, 80);
}

static void delayed_ack_every_second_segment(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    /* (Past the connection's start, whose first segments are ACKed at
     * once: quick-ACK mode, test_tcp_review_timers.) */
    assert_int_equal(fa_tcp_setopt(peer_connected(&pe), FA_TCP_QUICKACK, 0), 0);
    /* One full segment: its ACK waits for the delayed-ACK timer (40 ms). */
    static uint8_t seg[1460];
    peer_send_next(&pe, ACK, seg, sizeof seg);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, pe.now + 40 * MS - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, pe.now + 1);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt);
    /* Two full segments: the second is ACKed at once (RFC 9293 §3.8.6.3). */
    peer_send_next(&pe, ACK, seg, sizeof seg);
    assert_true(peer_quiet(&pe));
    peer_send_next(&pe, ACK, seg, sizeof seg);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt);
    /* Out of order: a duplicate ACK at once (RFC 5681 §4.2). */
    peer_send(&pe, ACK, pe.snd_nxt + 1460, pe.rcv_nxt, 65535, seg, sizeof seg);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt);
}

static void nagle_coalesces_unless_nodelay(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    /* The first small write goes at once (nothing in flight)... */
    assert_int_equal(fa_tcp_send(c, "a", 1, pe.now), 1);
    assert_int_equal(peer_expect(&pe).data_len, 1);
    /* ...the next ones wait while it is unacknowledged (RFC 1122 4.2.3.4). */
    for (int i = 0; i < 5; i++)
        fa_tcp_send(c, "b", 1, pe.now);
    assert_true(peer_quiet(&pe));
    peer_send_next(&pe, ACK, NULL, 0);
    assert_int_equal(peer_expect(&pe).data_len, 5); /* coalesced */
    peer_send_next(&pe, ACK, NULL, 0);
    /* With TCP_NODELAY each write leaves at once. */
    fa_tcp_setopt(c, FA_TCP_NODELAY, 1);
    fa_tcp_send(c, "c", 1, pe.now);
    fa_tcp_send(c, "d", 1, pe.now);
    assert_int_equal(peer_expect(&pe).data_len, 1);
    assert_int_equal(peer_expect(&pe).data_len, 1);
}

static void fast_retransmit_and_newreno(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_CONGESTION, FA_TCP_CC_NEWRENO), 0);
    /* The peer's SYN-ACK had no MSS option: RFC 9293 §3.7.1's 536. */
    const uint32_t M = 536;
    static uint8_t data[10 * 536];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    uint32_t first = 0;
    for (int i = 0; i < 10; i++) {
        struct fa_tcp_view v = peer_expect(&pe);
        assert_int_equal(v.data_len, M);
        if (i == 0)
            first = v.seq;
    }
    /* Segment 1 is lost: the peer ACKs segment 0 once, then three
     * duplicates. The third triggers a retransmission before any RTO. */
    uint32_t ack = first + M;
    peer_send(&pe, ACK, pe.snd_nxt, ack, 65535, NULL, 0);
    for (int i = 0; i < 2; i++)
        peer_send(&pe, ACK, pe.snd_nxt, ack, 65535, NULL, 0);
    assert_true(peer_quiet(&pe));
    peer_send(&pe, ACK, pe.snd_nxt, ack, 65535, NULL, 0);
    struct fa_tcp_view re = peer_expect(&pe);
    assert_int_equal(re.seq, ack);
    assert_int_equal(re.data_len, M);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RETRANSMITS), 1);
    struct fa_tcp_info info;
    fa_tcp_get_info(c, &info);
    assert_int_equal(info.ssthresh, 9 * M / 2); /* FlightSize / 2 */
    assert_int_equal(info.mss, M);
    /* A partial ACK (segment 3 lost too): the next hole is lost (RFC
     * 6582 §3.2 step 5); PRR (RFC 6937) lets it go as the next duplicate
     * shows another segment delivered. */
    peer_send(&pe, ACK, pe.snd_nxt, first + 3 * M, 65535, NULL, 0);
    peer_send(&pe, ACK, pe.snd_nxt, first + 3 * M, 65535, NULL, 0);
    struct fa_tcp_view re2 = peer_expect(&pe);
    assert_int_equal(re2.seq, first + 3 * M);
    /* The full ACK ends recovery with cwnd deflated to ssthresh. */
    peer_send(&pe, ACK, pe.snd_nxt, first + 10 * M, 65535, NULL, 0);
    fa_tcp_get_info(c, &info);
    assert_true(info.cwnd <= info.ssthresh);
    assert_int_equal(info.send_queued, 0);
}

/* RFC 3042: with more data to send, each of the first two duplicate
 * ACKs releases one new segment beyond cwnd; the third retransmits. */
static void limited_transmit_on_first_two_dupacks(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    const uint32_t M = 536;
    static uint8_t data[20 * 536];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    uint32_t first = 0, next = 0;
    for (int i = 0; i < 10; i++) { /* the initial window: 10 segments */
        struct fa_tcp_view v = peer_expect(&pe);
        first = i == 0 ? v.seq : first;
        next = v.seq + v.data_len;
    }
    assert_true(peer_quiet(&pe));
    uint32_t ack = first; /* segment 0 lost: every ACK is a duplicate */
    for (int dup = 1; dup <= 2; dup++) {
        peer_send(&pe, ACK, pe.snd_nxt, ack, 65535, NULL, 0);
        struct fa_tcp_view v = peer_expect(&pe);
        assert_int_equal(v.seq, next); /* new data, not a retransmission */
        assert_int_equal(v.data_len, M);
        next += M;
        assert_true(peer_quiet(&pe));
    }
    peer_send(&pe, ACK, pe.snd_nxt, ack, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).seq, first);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RETRANSMITS), 1);
}

/* RFC 5827: three segments out and nothing more to send; the first is
 * lost. Only two duplicates can come, and the second retransmits. */
static void early_retransmit_with_few_segments(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[3 * 536];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    uint32_t first = peer_expect(&pe).seq;
    peer_expect(&pe);
    peer_expect(&pe);
    peer_send(&pe, ACK, pe.snd_nxt, first, 65535, NULL, 0);
    assert_true(peer_quiet(&pe));
    peer_send(&pe, ACK, pe.snd_nxt, first, 65535, NULL, 0);
    struct fa_tcp_view re = peer_expect(&pe);
    assert_int_equal(re.seq, first);
    assert_true(pe.now < 200 * MS); /* long before any RTO */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RETRANSMITS), 1);
}

/* RFC 8985 §7: the ACKs of a flight's tail are all lost. No duplicate
 * will come; after 2 SRTT the last segment goes again as a probe (once),
 * long before the RTO. */
static void tail_loss_probe_after_two_srtt(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[5 * 536];
    /* One exchange with a 10 ms RTT gives SRTT = 10 ms. */
    peer_run_until(&pe, pe.now + 1 * MS);
    assert_int_equal(fa_tcp_send(c, data, 536, pe.now), 536);
    struct fa_tcp_view v = peer_expect(&pe);
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_send(&pe, ACK, pe.snd_nxt, v.seq + 536, 65535, NULL, 0);
    struct fa_tcp_info info;
    fa_tcp_get_info(c, &info);
    assert_int_equal(info.srtt, 10 * MS);
    fa_time sent_at = pe.now;
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    uint32_t last = 0;
    for (int i = 0; i < 5; i++)
        last = peer_expect(&pe).seq;
    peer_run_until(&pe, sent_at + 20 * MS - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, sent_at + 20 * MS);
    struct fa_tcp_view probe = peer_expect(&pe);
    assert_int_equal(probe.seq, last);
    assert_int_equal(probe.data_len, 536);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    /* One probe per episode: then silence until the RTO. */
    fa_tcp_get_info(c, &info);
    peer_run_until(&pe, sent_at + info.rto - 1);
    assert_true(peer_quiet(&pe));
}

/* RFC 8985 §6.3 without SACK: in recovery, the fast retransmission is
 * lost too and no further duplicate comes. It goes again once SRTT plus
 * the reordering allowance has passed without progress, not after an
 * RTO; the next wait doubles. */
static void lost_retransmission_resent_by_reorder_timer(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[6 * 536];
    peer_run_until(&pe, pe.now + 1 * MS);
    assert_int_equal(fa_tcp_send(c, data, 536, pe.now), 536);
    struct fa_tcp_view v = peer_expect(&pe);
    peer_run_until(&pe, pe.now + 10 * MS);
    peer_send(&pe, ACK, pe.snd_nxt, v.seq + 536, 65535, NULL, 0); /* SRTT 10 ms */
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    uint32_t first = peer_expect(&pe).seq;
    for (int i = 1; i < 6; i++)
        peer_expect(&pe);
    for (int i = 0; i < 3; i++) /* segment 0 lost: three duplicates */
        peer_send(&pe, ACK, pe.snd_nxt, first, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).seq, first);
    fa_time rexmit = pe.now;
    /* The retransmission is lost as well; silence follows. */
    fa_time wait = 10 * MS + 10 * MS / 4; /* SRTT + SRTT/4 (at least 2 ms) */
    peer_run_until(&pe, rexmit + wait - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, rexmit + wait);
    assert_int_equal(peer_expect(&pe).seq, first);
    peer_run_until(&pe, rexmit + 3 * wait - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, rexmit + 3 * wait);
    assert_int_equal(peer_expect(&pe).seq, first);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RETRANSMITS), 3);
}

/* A connection that wrote 8,000 bytes and sent its initial window of
 * 10 x 536; returns it, the end of what went in *end. */
static struct fa_tcp *initial_window_sent(uint32_t *end)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[8000];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    for (int i = 0; i < 10; i++) {
        struct fa_tcp_view v = peer_expect(&pe);
        *end = v.seq + v.data_len;
    }
    assert_true(peer_quiet(&pe));
    return c;
}

static void sws_override_timer_fills_a_small_window(void **state) /* L8 */
{
    (void)state;
    uint32_t end;
    struct fa_tcp *c = initial_window_sent(&end);
    /* All acknowledged, but only 300 bytes of window: less than an MSS
     * and half the largest window seen, so SWS avoidance waits... */
    peer_send(&pe, ACK, pe.snd_nxt, end, 300, NULL, 0);
    assert_true(peer_quiet(&pe));
    /* ...and had the window update been lost, would wait forever; the
     * override timeout (RFC 9293 §3.8.6.2.1) sends into it instead. */
    struct fa_tcp_info info;
    fa_tcp_get_info(c, &info);
    peer_run_until(&pe, pe.now + info.rto);
    struct fa_tcp_view small = peer_expect(&pe);
    assert_int_equal(small.seq, end);
    assert_int_equal(small.data_len, 300);
}

/* The same after a zero window whose probes backed off: the override
 * timeout is RFC 1122 §4.2.3.4's 0.1 to 1.0 s (an RTO here), not the
 * persist timer's backed-off wait of up to a minute (review). */
static void sws_override_after_persist_backoff(void **state) /* L8 */
{
    (void)state;
    uint32_t end;
    struct fa_tcp *c = initial_window_sent(&end);
    peer_send(&pe, ACK, pe.snd_nxt, end, 0, NULL, 0);
    /* Six probes, each answered with the window still shut. */
    for (int probes = 0; probes < 6;) {
        peer_run_until(&pe, pe.now + 100 * MS);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v)) {
            probes++;
            peer_send(&pe, ACK, pe.snd_nxt, end, 0, NULL, 0);
        }
    }
    struct fa_tcp_info info;
    fa_tcp_get_info(c, &info);
    assert_true(info.next_timer - pe.now > 8 * info.rto); /* backed off */
    /* 300 bytes of window: SWS avoidance waits, an RTO at most. */
    peer_send(&pe, ACK, pe.snd_nxt, end, 300, NULL, 0);
    assert_true(peer_quiet(&pe));
    fa_tcp_get_info(c, &info);
    peer_run_until(&pe, pe.now + info.rto);
    struct fa_tcp_view small = peer_expect(&pe);
    assert_int_equal(small.seq, end);
    assert_int_equal(small.data_len, 300);
}

static void batch_owes_one_ack(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t seg[536];
    /* Eight segments read in one batch: no ACK until its end, then one. */
    fa_stack_batch_begin(pe.s);
    for (int i = 0; i < 8; i++)
        peer_send_next(&pe, ACK, seg, sizeof seg);
    assert_true(peer_quiet(&pe));
    fa_stack_batch_end(pe.s, pe.now);
    struct fa_tcp_view ack = peer_expect(&pe);
    assert_int_equal(ack.ack, pe.snd_nxt);
    assert_true(peer_quiet(&pe));
    /* A connection that dies inside the batch is forgotten, not ACKed. */
    fa_stack_batch_begin(pe.s);
    peer_send_next(&pe, ACK, seg, sizeof seg);
    peer_send_next(&pe, ACK, seg, sizeof seg);
    peer_send(&pe, RST, pe.snd_nxt, 0, 0, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    fa_tcp_close(c, pe.now); /* frees it while the batch is open */
    fa_stack_batch_end(pe.s, pe.now);
    assert_true(peer_quiet(&pe));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(l3_syn_backoff_then_etimedout, teardown),
        cmocka_unit_test_teardown(l3_synack_retransmitted_then_half_open_dropped, teardown),
        cmocka_unit_test_teardown(l3_pure_ack_never_retransmitted, teardown),
        cmocka_unit_test_teardown(old_ack_with_newer_seq_leaves_the_window, teardown),
        cmocka_unit_test_teardown(l4_old_duplicate_synack_gets_reset, teardown),
        cmocka_unit_test_teardown(l4_rst_in_syn_received_returns_to_listen, teardown),
        cmocka_unit_test_teardown(l5_simultaneous_open, teardown),
        cmocka_unit_test_teardown(l12_fin_ack_in_fin_wait_1_goes_to_time_wait, teardown),
        cmocka_unit_test_teardown(l13_simultaneous_close_through_closing, teardown),
        cmocka_unit_test_teardown(l14_retransmitted_fin_in_time_wait_is_acked_and_restarts, teardown),
        cmocka_unit_test_teardown(l15_fin_retransmitted_with_backoff_then_abort, teardown),
        cmocka_unit_test_teardown(l16_orphan_fin_wait_2_reclaimed, teardown),
        cmocka_unit_test_teardown(l21_rst_and_syn_acceptance, teardown),
        cmocka_unit_test_teardown(l24_keepalive_probes_then_etimedout, teardown),
        cmocka_unit_test_teardown(l24_keepalive_run_late_probes_once, teardown),
        cmocka_unit_test_teardown(isn_is_keyed_and_moves_with_time, teardown),
        cmocka_unit_test_teardown(every_flag_combination_in_established, teardown),
        cmocka_unit_test_teardown(delayed_ack_every_second_segment, teardown),
        cmocka_unit_test_teardown(nagle_coalesces_unless_nodelay, teardown),
        cmocka_unit_test_teardown(fast_retransmit_and_newreno, teardown),
        cmocka_unit_test_teardown(limited_transmit_on_first_two_dupacks, teardown),
        cmocka_unit_test_teardown(early_retransmit_with_few_segments, teardown),
        cmocka_unit_test_teardown(tail_loss_probe_after_two_srtt, teardown),
        cmocka_unit_test_teardown(lost_retransmission_resent_by_reorder_timer, teardown),
        cmocka_unit_test_teardown(batch_owes_one_ack, teardown),
        cmocka_unit_test_teardown(sws_override_timer_fills_a_small_window, teardown),
        cmocka_unit_test_teardown(sws_override_after_persist_backoff, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
