/* test_tcp_review_window.c — cases from an independent review of TCP
 * window management (receive window, window scaling, SWS avoidance both
 * sides, persist, SND.WL1/WL2, Nagle), each a concrete segment sequence:
 * Minshall's Nagle, TCP_NODELAY's push and the window of an ACK that
 * moves SND.UNA failed before their fixes; the rest held. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "pair.h"
#include "peer.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ACK FA_TCP_ACK
#define SYN FA_TCP_SYN
#define FIN FA_TCP_FIN
#define RST FA_TCP_RST
#define PSH FA_TCP_PSH

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    peer_reset(&pe);
    return 0;
}


/* Counts data segments finack sent since the last look; bytes in *bytes. */
static int data_segs(uint32_t *bytes)
{
    struct fa_tcp_view v;
    int n = 0;
    *bytes = 0;
    while (peer_next(&pe, &v))
        if (v.data_len) {
            n++;
            *bytes += v.data_len;
        }
    return n;
}

/* N1: Linux's Nagle is Minshall's variant (tcp_nagle_check /
 * tcp_minshall_check): a sub-MSS tail is held only while a *small*
 * segment is unacknowledged. One write of MSS+64 bytes on an idle
 * connection goes out whole at once on Linux (536 + 64); a peer that
 * delays its ACK of the lone full segment (40-200 ms) otherwise stalls
 * every request/response whose size is not a multiple of the MSS. */
static void nagle_holds_tail_after_full_segment(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe); /* MSS 536: no option */
    peer_drain(&pe);
    static uint8_t buf[600];
    assert_int_equal(fa_tcp_send(c, buf, sizeof buf, pe.now), (long)sizeof buf);
    uint32_t bytes;
    int n = data_segs(&bytes);
    print_message("one write of 600 (MSS %u): %d segments, %u bytes sent at once\n",
                  peer_info(c).mss, n, bytes);
    assert_int_equal(bytes, 600); /* Linux: 536 + 64 at once */
}

/* N2: Linux's setsockopt(TCP_NODELAY, 1) pushes what Nagle holds
 * (do_tcp_setsockopt: nonagle |= TCP_NAGLE_OFF|TCP_NAGLE_PUSH;
 * tcp_push_pending_frames). finack's setopt has no clock: the push goes
 * at the next turn of the timers, which it makes due at once. */
static void nodelay_on_pushes_held_data(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_drain(&pe);
    static uint8_t buf[100];
    assert_int_equal(fa_tcp_send(c, buf, 100, pe.now), 100); /* goes: idle */
    assert_int_equal(fa_tcp_send(c, buf, 100, pe.now), 100); /* held: Nagle */
    uint32_t bytes;
    data_segs(&bytes);
    assert_int_equal(bytes, 100);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_NODELAY, 1), 0);
    assert_true(fa_stack_next_due(pe.s) <= pe.now);
    peer_run_until(&pe, pe.now);
    data_segs(&bytes);
    print_message("after TCP_NODELAY=1: %u held bytes sent\n", bytes);
    assert_int_equal(bytes, 100);
}


/* N1, two finack stacks (default config, Nagle on): request/response
 * RPC of 1 MSS + 100 bytes. The server's delayed ACK (40 ms) holds the
 * tail on every request; with Minshall's rule it would be ~the RTT. */
static void nagle_rpc_latency(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, NULL, NULL, 5);
    struct fa_tcp *cl, *sv, *l;
    pair_connect(&p, 80, &cl, &sv, &l, NULL);
    pair_run_for(&p, S);
    struct fa_tcp_info ci;
    fa_tcp_get_info(cl, &ci);
    uint32_t req = ci.mss + 100;
    static uint8_t buf[4096];
    fa_time worst = 0, total = 0;
    for (int r = 0; r < 10; r++) {
        fa_time t0 = p.now;
        assert_int_equal(fa_tcp_send(cl, buf, req, p.now), (long)req);
        uint32_t got = 0;
        while (got < req && p.now < t0 + S) {
            pair_run_for(&p, 100 * FA_NS_PER_US);
            /* the server reads a request whole (as one that peeks at
             * its length, FIONREAD-style) */
            struct fa_tcp_info si;
            fa_tcp_get_info(sv, &si);
            if (si.recv_queued < req)
                continue;
            long n = fa_tcp_recv(sv, buf, sizeof buf, p.now);
            if (n > 0)
                got += (uint32_t)n;
        }
        assert_int_equal(got, req);
        fa_time dt = p.now - t0;
        total += dt;
        if (dt > worst)
            worst = dt;
        /* a one-byte reply, then idle 100 ms */
        assert_int_equal(fa_tcp_send(sv, buf, 1, p.now), 1);
        pair_run_for(&p, 100 * MS);
        fa_tcp_recv(cl, buf, sizeof buf, p.now);
    }
    print_message("request of %u bytes (MSS %u): mean %.2f ms, worst %.2f ms to arrive\n",
                  req, ci.mss, total / 10.0 / MS, (double)worst / MS);
    assert_true(worst < 10 * MS);
    fa_tcp_abort(cl, p.now);
    fa_tcp_abort(sv, p.now);
    fa_tcp_close(l, p.now);
    pair_destroy(&p);
}

/* W1: Linux's tcp_may_update_window takes the window from any ACK that
 * moves SND.UNA ("after(ack, tp->snd_una) || after(ack_seq, snd_wl1) ||
 * ..."). The peer's retransmission of data we had (our ACK was lost)
 * carries its current window and a new ACK: finack takes the ACK, keeps
 * the stale zero window (its SEG.SEQ is below SND.WL1, RFC 9293's literal
 * rule) and sits out a persist timeout before sending. */
static void ack_that_advances_una_updates_window(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t base = pe.rcv_nxt, P = pe.snd_nxt;
    static uint8_t buf[1000];
    assert_int_equal(fa_tcp_send(c, buf, 100, pe.now), 100);       /* D */
    peer_drain(&pe);
    peer_send(&pe, ACK, P, base, 65535, buf, 10);                   /* data, wl1 = P */
    pe.snd_nxt = P + 10;
    peer_send(&pe, ACK, P + 10, base, 0, NULL, 0);                  /* window 0, wl1 = P+10 */
    peer_drain(&pe);
    pe.now += 300 * MS;
    /* the peer's RTO: data P..P+10 again, now ACKing D with its window open */
    peer_send(&pe, ACK, P, base + 100, 65535, buf, 10);
    peer_drain(&pe);
    struct fa_tcp_info i = peer_info(c);
    print_message("after ACK of D with window 65535: snd_una=+%u snd_wnd=%u\n",
                  i.snd_una - base, i.snd_wnd);
    assert_int_equal(fa_tcp_send(c, buf, 500, pe.now), 500);
    uint32_t bytes;
    data_segs(&bytes);
    print_message("500 bytes written: %u sent at once\n", bytes);
    if (bytes != 500) {
        fa_time t0 = pe.now;
        struct fa_tcp_view v;
        int got = 0;
        while (!got && pe.now < t0 + 10 * S) {
            peer_run_until(&pe, pe.now + MS);
            while (peer_next(&pe, &v)) {
                if (v.data_len)
                    got = 1;
                else /* a probe: answer as the peer would */
                    peer_send(&pe, ACK, pe.snd_nxt, v.seq + 1, 65535, NULL, 0);
            }
        }
        print_message("data went %.0f ms later (after a zero-window probe)\n",
                      (double)(pe.now - t0) / MS);
    }
    assert_int_equal(bytes, 500);
}

/* P1 (expected to hold): a Linux receiver rate-limits its answers to
 * out-of-window bare ACKs (tcp_invalid_ratelimit 500 ms) — the probes
 * at SND.UNA-1 included. Probing must go on for as long as some are
 * answered: here 3 hours. */
static void persist_survives_rate_limited_answers(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t base = pe.rcv_nxt;
    static uint8_t data[3000];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    peer_drain(&pe);
    peer_send(&pe, ACK, pe.snd_nxt, base + 1000, 0, NULL, 0);
    fa_time last_answer = 0;
    int probes = 0, answered = 0;
    while (pe.now < 3 * 3600 * S) {
        peer_run_until(&pe, pe.now + 100 * MS);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v)) {
            probes++;
            if (pe.now - last_answer >= 500 * MS) {
                peer_send(&pe, ACK, pe.snd_nxt, base + 1000, 0, NULL, 0);
                last_answer = pe.now;
                answered++;
            }
        }
        assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    }
    print_message("%d probes, %d answered in 3 h\n", probes, answered);
    peer_send(&pe, ACK, pe.snd_nxt, base + 1000, 65535, NULL, 0);
    struct fa_tcp_view v;
    uint32_t top = base + 1000;
    while (peer_next(&pe, &v)) {
        print_message("  seg seq=+%u len=%u\n", v.seq - base, v.data_len);
        if (v.seq + v.data_len - top < 1u << 31)
            top = v.seq + v.data_len;
    }
    assert_true(top - base >= 2600); /* the rest waits for cwnd */
}

/* R1 (expected to hold): receiver SWS — reads under min(buf/2, MSS)
 * leave the advertised right edge where it was; a probe then gets
 * window 0; the read that makes the step opens it. */
static void receiver_sws_and_probe(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rcvbuf = 4000;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = peer_connected(&pe); /* MSS 536, step 536 */
    static uint8_t buf[1000];
    for (int i = 0; i < 4; i++)
        peer_send_next(&pe, ACK, buf, 1000);
    peer_run_until(&pe, pe.now + 100 * MS);
    peer_drain(&pe);
    assert_int_equal(fa_tcp_recv(c, buf, 500, pe.now), 500);
    assert_true(peer_quiet(&pe));
    /* Linux-style probe: SEQ = RCV.NXT - 1, no data */
    pe.now += S;
    peer_send(&pe, ACK, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.ack, pe.snd_nxt);
    assert_int_equal(v.wnd, 0);
    assert_int_equal(fa_tcp_recv(c, buf, 36, pe.now), 36);
    v = peer_expect(&pe);
    assert_int_equal(v.wnd, 536);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(nagle_holds_tail_after_full_segment, teardown),
        cmocka_unit_test_teardown(nodelay_on_pushes_held_data, teardown),
        cmocka_unit_test_teardown(nagle_rpc_latency, teardown),
        cmocka_unit_test_teardown(ack_that_advances_una_updates_window, teardown),
        cmocka_unit_test_teardown(persist_survives_rate_limited_answers, teardown),
        cmocka_unit_test_teardown(receiver_sws_and_probe, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
