/* test_tcp_review.c — the defects an independent review of the TCP code
 * found (issue 9), one test each, segment by segment against the
 * hand-driven peer or with two stacks: each failed before its fix.
 *
 *   1  a reader that pauses: window edge, zero-window probes, persist
 *   2  RST and SYN judged as they arrived (RFC 5961 §3.2, §4)
 *   3  TIME-WAIT answers only what needs an answer
 *   4  challenge ACKs: per connection, and a stack-wide random budget
 *   5  TIME-WAIT reuse moves forward in sequence space
 *   6  ABORT in CLOSING, LAST-ACK, TIME-WAIT sends nothing
 *   7  a duplicate ACK per out-of-order segment, even in a batch
 *   8  SYN-ACK window unscaled, RTO after SYN timeout, Karn on a resent
 *      SYN-ACK, keepalive not fed by junk; shutdown(SHUT_RD)
 * and, beside them, SipHash against its reference vectors and the
 * connection table's hash (built from the tuple's words) against it. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

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


/* finack connects; the peer's SYN-ACK offers window scale peer_ws. */
static struct fa_tcp *connected_scaled(uint8_t peer_ws)
{
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    const uint8_t ws[4] = { 1, 3, 3, peer_ws };
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 65535, ws, 4, NULL, 0);
    pe.snd_nxt++;
    assert_int_equal(peer_expect(&pe).flags, ACK);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    return c;
}

/* Reads every segment finack sent; the highest right edge it offered
 * (ack + wnd << ws) in *edge; fails if one lies beyond limit. */
static void offered_edges(uint32_t ws, uint32_t limit, uint32_t *edge)
{
    struct fa_tcp_view v;
    while (peer_next(&pe, &v)) {
        uint32_t e = v.ack + ((uint32_t)v.wnd << ws);
        if ((int32_t)(e - limit) > 0)
            fail_msg("window edge %u beyond the buffer's end %u", e, limit);
        if ((int32_t)(e - *edge) > 0)
            *edge = e;
    }
}

/* 1: the receiver never offers space its buffer lacks, and takes every
 * byte of what it offered, whatever the buffer's size and scale. */
static void window_edge_never_beyond_the_buffer(void **state)
{
    (void)state;
    static const uint32_t bufs[] = { 200003, 1000003, 1 << 20, 65537 };
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; b++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.tcp_rcvbuf = bufs[b];
        peer_init(&pe, &cfg, 80);
        struct fa_tcp *c = connected_scaled(7);
        uint32_t ws = peer_info(c).rcv_wscale, base = pe.snd_nxt;
        assert_true(ws > 0);
        uint32_t limit = base + bufs[b], edge = base;
        pe.seen = 0; /* the handshake's ACK offered a window too */
        offered_edges(ws, limit, &edge);
        uint8_t chunk[999] = { 0 }; /* odd: the edge is rarely a multiple */
        for (int round = 0; round < 5000 && pe.snd_nxt != edge; round++) {
            uint32_t n = edge - pe.snd_nxt < sizeof chunk ? edge - pe.snd_nxt : sizeof chunk;
            peer_send_next(&pe, ACK, chunk, n);
            peer_run_until(&pe, pe.now + 50 * MS); /* delayed ACKs go */
            offered_edges(ws, limit, &edge);
        }
        /* Everything offered was taken; the window is closed. */
        assert_int_equal(pe.snd_nxt, edge);
        assert_int_equal(peer_info(c).rcv_nxt, edge);
        assert_int_equal(peer_info(c).recv_queued, edge - base);
        assert_true(bufs[b] - (edge - base) < (1u << ws));
        fa_tcp_abort(c, pe.now);
        peer_destroy(&pe);
    }
}

/* 1: with the window closed, a one-byte probe at RCV.NXT (BSD and
 * Windows probe that way) and a FIN are answered with an ACK (RFC 9293
 * §3.8.6.1, §3.10.7.4 "first"); reading opens the window again. */
static void zero_window_probes_are_answered(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rcvbuf = 3000;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint8_t chunk[1000] = { 0 };
    for (int i = 0; i < 3; i++)
        peer_send_next(&pe, ACK, chunk, sizeof chunk);
    peer_run_until(&pe, pe.now + 50 * MS);
    struct fa_tcp_view v, last = { 0 };
    while (peer_next(&pe, &v))
        last = v;
    assert_int_equal(last.ack, pe.snd_nxt);
    assert_int_equal(last.wnd, 0);
    /* The probe: one byte at RCV.NXT. */
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, "x", 1);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
    assert_int_equal(v.ack, pe.snd_nxt);
    assert_int_equal(v.wnd, 0);
    /* A FIN at RCV.NXT cannot be taken either: answered, not taken. */
    peer_send(&pe, ACK | FIN, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    v = peer_expect(&pe);
    assert_int_equal(v.ack, pe.snd_nxt);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    /* The reader comes back: a window update at once. */
    uint8_t buf[3000];
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 3000);
    v = peer_expect(&pe);
    assert_int_equal(v.ack, pe.snd_nxt);
    assert_true(v.wnd >= 1000);
    fa_tcp_close(c, pe.now);
}

/* 1: a sender whose data sits beyond a window the peer closed (the peer
 * took 4000 of 5360 bytes and said window 0) probes for as long as the
 * peer answers (RFC 1122 §4.2.2.17) — here 2 hours — and sends the rest
 * when the window opens; once the peer falls silent it gives up. */
static void persist_never_times_out_while_answered(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t base = pe.rcv_nxt;
    static uint8_t data[5360];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    while (!peer_quiet(&pe))
        ;
    peer_send(&pe, ACK, pe.snd_nxt, base + 4000, 0, NULL, 0);
    int answered = 0;
    while (pe.now < 2 * 3600 * S) {
        peer_run_until(&pe, pe.now + S);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v)) {
            peer_send(&pe, ACK, pe.snd_nxt, base + 4000, 0, NULL, 0);
            answered++;
        }
        assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    }
    assert_true(answered > 50); /* probes at most two minutes apart (tcp_rto_max) */
    /* The window opens: the last 1360 bytes go, in order. */
    peer_send(&pe, ACK, pe.snd_nxt, base + 4000, 65535, NULL, 0);
    uint32_t got = 4000;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        if (v.data_len && v.seq == base + got) {
            assert_memory_equal(v.data, data + got, v.data_len);
            got += v.data_len;
        }
    assert_int_equal(got, sizeof data);
    peer_send(&pe, ACK, pe.snd_nxt, base + got, 0, NULL, 0);
    assert_int_equal(fa_tcp_send(c, data, 100, pe.now), 100);
    /* The peer is gone: probes go unanswered and the sender gives up
     * with ETIMEDOUT — but only after its retries, not before. */
    fa_time gone = pe.now;
    peer_run_until(&pe, gone + 3 * 60 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    peer_run_until(&pe, gone + 3 * 3600 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT);
    fa_tcp_close(c, pe.now);
}

/* 1, two stacks: the reader reads a quarter, pauses 30 minutes, resumes;
 * every byte arrives, in order, and nobody times out. */
static uint32_t pause_rcvbuf;
static void pause_setup(int side, struct fa_tcp *sock)
{
    if (side == 1)
        fa_tcp_setopt(sock, FA_SO_RCVBUF, pause_rcvbuf);
}

static void pausing_reader_gets_every_byte(void **state)
{
    (void)state;
    static const uint32_t bufs[] = { 1 << 20, 200003, 1000003 };
    enum { TOTAL = 6 << 20 };
    static uint8_t buf[65536];
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; b++) {
        struct pair p;
        pair_init(&p, NULL, NULL, 9 + b);
        pause_rcvbuf = bufs[b];
        struct fa_tcp *cl, *sv, *l;
        pair_connect(&p, 80, &cl, &sv, &l, pause_setup);
        uint64_t sent = 0, got = 0;
        fa_time start = p.now, pause = FA_TIME_NEVER;
        for (int step = 0; got < TOTAL && p.now < start + 3600 * S; step++) {
            if (pause == FA_TIME_NEVER && got >= TOTAL / 4)
                pause = p.now;
            int paused = p.now >= pause && p.now < pause + 1800 * S;
            pair_run_for(&p, paused ? S : MS);
            while (sent < TOTAL) {
                size_t n = TOTAL - sent < sizeof buf ? TOTAL - sent : sizeof buf;
                for (size_t k = 0; k < n; k++)
                    buf[k] = (uint8_t)((sent + k) * 31 >> 3);
                long w = fa_tcp_send(cl, buf, n, p.now);
                if (w <= 0) {
                    assert_int_equal(w, -EAGAIN);
                    break;
                }
                sent += (uint64_t)w;
            }
            while (!paused) {
                long r = fa_tcp_recv(sv, buf, sizeof buf, p.now);
                if (r == -EAGAIN)
                    break;
                assert_true(r > 0);
                for (long k = 0; k < r; k++)
                    if (buf[k] != (uint8_t)((got + (uint64_t)k) * 31 >> 3))
                        fail_msg("wrong byte at %llu", (unsigned long long)(got + (uint64_t)k));
                got += (uint64_t)r;
            }
            assert_int_equal(fa_tcp_state(cl), FA_TCP_ESTABLISHED);
            assert_int_equal(fa_tcp_state(sv), FA_TCP_ESTABLISHED);
        }
        assert_int_equal(got, TOTAL);
        assert_true(p.now > pause + 1800 * S);
        fa_tcp_close(cl, p.now);
        fa_tcp_close(sv, p.now);
        fa_tcp_close(l, p.now);
        pair_destroy(&p);
    }
}

/* 2: an RST that starts below RCV.NXT and reaches past it is not "exactly
 * RCV.NXT" because trimming moved its start (RFC 5961 §3.2): challenge
 * ACK, no reset. A SYN-ACK straddling RCV.NXT keeps its SYN: challenge
 * ACK, and its bytes never reach the application (§4). */
static void rst_and_syn_judged_as_they_arrived(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t junk[1400];
    peer_send(&pe, RST | ACK, pe.snd_nxt - 1000, pe.rcv_nxt, 65535, junk, sizeof junk);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
    assert_int_equal(v.ack, pe.snd_nxt);
    pe.now += S; /* past the per-connection challenge interval */
    peer_send(&pe, SYN | ACK, pe.snd_nxt - 1, pe.rcv_nxt, 65535, "12345678", 8);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
    assert_int_equal(v.ack, pe.snd_nxt);
    uint8_t b[16];
    assert_int_equal(fa_tcp_recv(c, b, sizeof b, pe.now), -EAGAIN);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_CHALLENGE_ACKS), 2);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    fa_tcp_close(c, pe.now);
}

/* finack closes first and the peer's FIN follows: compact TIME-WAIT. */
static void into_time_wait(void)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    fa_tcp_close(c, pe.now);
    assert_true(peer_expect(&pe).flags & FIN);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, ACK);
    int tw;
    (void)tw;
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, 1);
}

/* 3: an acceptable bare ACK in TIME-WAIT is dropped silently (else two
 * TIME-WAITs answer each other forever); a retransmitted FIN is ACKed. */
static void time_wait_answers_only_what_needs_it(void **state)
{
    (void)state;
    into_time_wait();
    for (int i = 0; i < 5; i++)
        peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    assert_true(peer_quiet(&pe));
    peer_send(&pe, ACK | FIN, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
    assert_int_equal(v.ack, pe.snd_nxt);
    /* Out of window: answered, but at most once per interval. */
    for (int i = 0; i < 5; i++)
        peer_send(&pe, ACK, pe.snd_nxt + 5000, pe.rcv_nxt, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt);
    assert_true(peer_quiet(&pe));
}

/* 3, two stacks: a simultaneous close on a link that duplicates every
 * frame: the two TIME-WAITs must not answer each other's ACKs forever. */
static void simultaneous_close_with_duplicates_is_quiet(void **state)
{
    (void)state;
    struct fa_fault_config f;
    fa_fault_config_init(&f);
    f.duplicate = 1.0;
    struct pair p;
    pair_init(&p, NULL, &f, 3);
    struct fa_tcp *cl, *sv, *l;
    pair_connect(&p, 80, &cl, &sv, &l, NULL);
    fa_tcp_close(l, p.now);
    fa_tcp_close(cl, p.now);
    fa_tcp_close(sv, p.now);
    pair_run_for(&p, 100 * MS);
    int tw0, tw1;
    pair_conns(&p, 0, &tw0);
    pair_conns(&p, 1, &tw1);
    assert_int_equal(tw0 + tw1, 2);
    uint64_t before = fa_stack_counter(p.stack[0], FA_CNT_TCP_SEGS_OUT) +
                      fa_stack_counter(p.stack[1], FA_CNT_TCP_SEGS_OUT);
    pair_run_for(&p, 5 * S);
    uint64_t after = fa_stack_counter(p.stack[0], FA_CNT_TCP_SEGS_OUT) +
                     fa_stack_counter(p.stack[1], FA_CNT_TCP_SEGS_OUT);
    assert_true(after - before <= 4);
    pair_destroy(&p);
}

/* 4: challenge ACKs are limited per connection; an attacker counting the
 * challenge ACKs on its own connection learns nothing of whether a spoofed
 * RST hit another connection's window. */
static unsigned attacker_sees(int hit)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *victim = peer_connected(&pe);
    uint32_t victim_rcv = pe.snd_nxt;
    uint16_t victim_port = pe.our_port;
    /* The attacker's own connection, from another port. */
    pe.port = 81;
    pe.snd_nxt = 0x20000000;
    struct fa_tcp *own = peer_connected(&pe);
    uint16_t own_port = pe.our_port;
    pe.now += 2 * S;
    /* The spoofed guess at the victim: in its window, or not. */
    uint16_t save = pe.port;
    pe.port = 80;
    pe.our_port = victim_port;
    peer_send(&pe, RST, hit ? victim_rcv + 100 : victim_rcv + 0x40000000, 0, 0, NULL, 0);
    pe.port = save;
    pe.our_port = own_port;
    while (!peer_quiet(&pe))
        ;
    uint64_t before = fa_stack_counter(pe.s, FA_CNT_TCP_CHALLENGE_ACKS);
    for (int i = 0; i < 100; i++) {
        peer_send(&pe, RST, pe.snd_nxt + 10, 0, 0, NULL, 0);
        pe.now += 5 * MS;
    }
    unsigned n = (unsigned)(fa_stack_counter(pe.s, FA_CNT_TCP_CHALLENGE_ACKS) - before);
    assert_int_equal(fa_tcp_state(victim), FA_TCP_ESTABLISHED);
    fa_tcp_abort(victim, pe.now);
    fa_tcp_abort(own, pe.now);
    peer_destroy(&pe);
    return n;
}

static void challenge_acks_tell_an_attacker_nothing(void **state)
{
    (void)state;
    unsigned miss = attacker_sees(0), hit = attacker_sees(1);
    assert_int_equal(miss, hit);
    /* 100 RSTs in 0.5 s: the per-connection interval allows 1 or 2. */
    assert_true(miss >= 1 && miss <= 2);
}

/* 4: the stack-wide budget per second is drawn at random around the
 * configured rate, so its exhaustion is no oracle either. */
static void stack_wide_challenge_budget_is_random(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    unsigned budgets[8];
    int differ = 0;
    for (int sec = 0; sec < 8; sec++) {
        unsigned n = 0;
        for (int i = 0; i < 10000; i++) {
            uint32_t last = 0; /* a fresh connection each time */
            n += (unsigned)fa_tcp_challenge_allowed(pe.s, &last, (fa_time)sec * S + 10 * MS);
        }
        budgets[sec] = n;
        uint32_t rate = pe.cfg.tcp_challenge_ack_rate;
        assert_true(n >= rate / 2 && n < rate / 2 + rate);
        differ |= sec && budgets[sec] != budgets[0];
    }
    assert_true(differ);
}

/* 5: a SYN reopening a 4-tuple in TIME-WAIT gets an ISN above the old
 * connection's SND.NXT (RFC 1122 §4.2.2.13); a SYN not above the old
 * RCV.NXT leaves TIME-WAIT alone. */
static void time_wait_reuse_moves_forward(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *l, *c = peer_accepted(&pe, 8080, &l);
    static uint8_t data[60000];
    long n = fa_tcp_send(c, data, sizeof data, pe.now);
    assert_int_equal(n, (long)sizeof data);
    fa_tcp_close(c, pe.now);
    /* The peer takes everything up to finack's FIN. */
    int fin = 0;
    for (int round = 0; round < 1000 && !fin; round++) {
        struct fa_tcp_view v;
        while (peer_next(&pe, &v))
            fin |= (v.flags & FIN) != 0;
        peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
        peer_run_until(&pe, pe.now + MS);
    }
    assert_true(fin);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    uint32_t old_snd_nxt = pe.rcv_nxt;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        ;
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, 1);
    pe.now += 10 * MS; /* the ISN clock moves 2,500 in that time */
    /* An old SYN: TIME-WAIT stays; it is answered with an ACK. */
    peer_send(&pe, SYN, pe.snd_nxt - 10, 0, 65535, NULL, 0);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
    /* A new incarnation. */
    peer_send(&pe, SYN, pe.snd_nxt + 100000, 0, 65535, NULL, 0);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, SYN | ACK);
    assert_true((int32_t)(v.seq - old_snd_nxt) > 0);
    fa_tcp_close(l, pe.now);
}

/* 6: ABORT in CLOSING, LAST-ACK and TIME-WAIT deletes the connection and
 * sends nothing (RFC 9293 §3.10.5). */
static void abort_late_sends_nothing(void **state)
{
    (void)state;
    for (int which = 0; which < 3; which++) {
        peer_init(&pe, NULL, 80);
        struct fa_tcp *c = peer_connected(&pe);
        if (which == 0) { /* LAST-ACK */
            peer_send_next(&pe, ACK | FIN, NULL, 0);
            fa_tcp_shutdown(c, FA_SHUT_WR, pe.now);
            assert_int_equal(fa_tcp_state(c), FA_TCP_LAST_ACK);
        } else if (which == 1) { /* CLOSING */
            fa_tcp_shutdown(c, FA_SHUT_WR, pe.now);
            peer_send(&pe, ACK | FIN, pe.snd_nxt, pe.rcv_nxt - 1, 65535, NULL, 0);
            pe.snd_nxt++;
            assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSING);
        } else { /* TIME-WAIT, the handle still held */
            fa_tcp_shutdown(c, FA_SHUT_WR, pe.now);
            peer_expect(&pe);
            peer_send_next(&pe, ACK | FIN, NULL, 0);
            assert_int_equal(fa_tcp_state(c), FA_TCP_TIME_WAIT);
        }
        while (!peer_quiet(&pe))
            ;
        assert_int_equal(fa_tcp_abort(c, pe.now), 0); /* frees the handle */
        assert_true(peer_quiet(&pe));
        assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RST_OUT), 0);
        if (which < 2)
            peer_destroy(&pe);
    }
}

/* 7: RFC 5681 §4.2: each out-of-order segment is answered at once with a
 * duplicate ACK, even when it arrived in one batch with others. */
static void duplicate_acks_not_merged_in_a_batch(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint8_t seg[1000] = { 0 };
    uint32_t hole = pe.snd_nxt;
    fa_stack_batch_begin(pe.s);
    for (int i = 1; i <= 6; i++)
        peer_send(&pe, ACK, hole + (uint32_t)i * 1000, pe.rcv_nxt, 65535, seg, sizeof seg);
    fa_stack_batch_end(pe.s, pe.now);
    int dups = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        dups += v.ack == hole && v.data_len == 0;
    assert_int_equal(dups, 6);
    /* The hole fills: an ACK at once, not after the delayed-ACK timer. */
    peer_send(&pe, ACK, hole, pe.rcv_nxt, 65535, seg, sizeof seg);
    v = peer_expect(&pe);
    assert_int_equal(v.ack, hole + 7000);
    fa_tcp_close(c, pe.now);
}

/* 8: in a simultaneous open, the peer's SYN-ACK's window is not scaled
 * (RFC 7323 §2.2). */
static void simultaneous_open_synack_window_unscaled(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 7000);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 6000, &syn);
    const uint8_t ws[4] = { 1, 3, 3, 7 };
    peer_send_opts(&pe, SYN, pe.snd_nxt, 0, 1000, ws, 4, NULL, 0);
    pe.snd_nxt++;
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_RECEIVED);
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt - 1, syn.seq + 1, 1000, ws, 4, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(peer_info(c).snd_wnd, 1000);
    fa_tcp_close(c, pe.now);
}

/* 8: after a SYN timed out, data starts with an RTO of 3 s (RFC 6298
 * §5.7); the ACK of a SYN-ACK resent for a duplicate SYN is no RTT
 * sample (Karn). */
static void rto_after_syn_timeout_and_karn_on_synack(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_run_until(&pe, 1 * S);
    assert_int_equal(peer_expect(&pe).flags, SYN);
    peer_send_next(&pe, SYN | ACK, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_true(peer_info(c).rto >= 3 * S);
    fa_tcp_close(c, pe.now);
    peer_destroy(&pe);

    peer_init(&pe, NULL, 80);
    struct fa_tcp *l;
    l = peer_listening(&pe, 8080);
    peer_send(&pe, SYN, pe.snd_nxt, 0, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    pe.now += 900 * MS;
    peer_send(&pe, SYN, pe.snd_nxt, 0, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    pe.snd_nxt++;
    pe.now += 1 * MS;
    peer_send_next(&pe, ACK, NULL, 0);
    struct fa_tcp *c2;
    assert_int_equal(fa_tcp_accept(l, &c2), 0);
    fa_time srtt = peer_info(c2).srtt;
    assert_true(srtt == 0 || srtt <= 2 * MS);
    fa_tcp_close(c2, pe.now);
    fa_tcp_close(l, pe.now);
}

/* A connection with keepalive after 10 s idle, 3 probes 1 s apart. */
static struct fa_tcp *connected_keepalive_10s(void)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    fa_tcp_setopt(c, FA_SO_KEEPALIVE, 1);
    fa_tcp_setopt(c, FA_TCP_KEEPIDLE, 10000);
    fa_tcp_setopt(c, FA_TCP_KEEPINTVL, 1000);
    fa_tcp_setopt(c, FA_TCP_KEEPCNT, 3);
    return c;
}

/* 8: junk that fails the acceptability test does not prove the peer
 * alive: keepalive times out on schedule (RFC 1122 §4.2.3.6). */
static void keepalive_not_fed_by_junk(void **state)
{
    (void)state;
    struct fa_tcp *c = connected_keepalive_10s();
    for (int i = 0; i < 60 && fa_tcp_state(c) == FA_TCP_ESTABLISHED; i++) {
        peer_run_until(&pe, pe.now + 500 * MS);
        peer_send(&pe, ACK, pe.snd_nxt + 1000000, pe.rcv_nxt, 65535, "junk", 4);
    }
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_true(pe.now <= 15 * S);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT);
    fa_tcp_close(c, pe.now);
}

/* shutdown(SHUT_RD) then data: acknowledged and discarded, no reset;
 * recv gives 0; close sends a FIN, not an RST. */
static void shut_rd_then_data_is_discarded(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_send_next(&pe, ACK | PSH, "before", 6);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_RD, pe.now), 0);
    for (int i = 0; i < 100; i++) {
        static uint8_t d[1000];
        peer_send_next(&pe, ACK, d, sizeof d);
    }
    peer_run_until(&pe, pe.now + 100 * MS);
    struct fa_tcp_view v, last = { 0 };
    while (peer_next(&pe, &v)) {
        assert_false(v.flags & RST);
        last = v;
    }
    assert_int_equal(last.ack, pe.snd_nxt);
    assert_true(last.wnd > 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    uint8_t b[8];
    assert_int_equal(fa_tcp_recv(c, b, sizeof b, pe.now), 0);
    fa_tcp_close(c, pe.now);
    v = peer_expect(&pe);
    assert_true(v.flags & FIN);
    assert_false(v.flags & RST);
}

/* 1, found by review of the fix: the FIN sent into the last unit of a
 * window, lost, and the window then closed: the FIN must be probed for
 * and resent once the window opens, not left with no timer running. */
static void fin_behind_a_closed_window_is_resent(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t base = pe.rcv_nxt;
    assert_int_equal(fa_tcp_send(c, "abcd", 4, pe.now), 4);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    struct fa_tcp_view v;
    int fin = 0;
    while (peer_next(&pe, &v))
        fin |= (v.flags & FIN) != 0;
    assert_true(fin); /* ...and lost: the peer takes the data, window 0 */
    peer_send(&pe, ACK, pe.snd_nxt, base + 4, 0, NULL, 0);
    peer_run_until(&pe, pe.now + 120 * S);
    int probes = 0;
    while (peer_next(&pe, &v)) {
        probes++;
        peer_send(&pe, ACK, pe.snd_nxt, base + 4, 0, NULL, 0);
        peer_run_until(&pe, pe.now + 10 * S);
    }
    assert_true(probes >= 2);
    assert_int_equal(fa_tcp_state(c), FA_TCP_FIN_WAIT_1);
    /* The window opens (the update itself lost): the next probe learns
     * it, and the FIN goes again. */
    peer_send(&pe, ACK, pe.snd_nxt, base + 4, 1000, NULL, 0);
    fin = 0;
    for (int i = 0; i < 10 && !fin; i++) {
        peer_run_until(&pe, pe.now + 60 * S);
        while (peer_next(&pe, &v))
            fin |= (v.flags & FIN) && v.seq == base + 4;
    }
    assert_true(fin);
    fa_tcp_close(c, pe.now);
}

/* Found by review: a simultaneous open closed before ESTABLISHED. The
 * close waits for the handshake (RFC 9293 §3.10.4); the SYN-ACK is
 * resent as a SYN-ACK, and the FIN follows at ISS + 1. */
static void close_in_syn_received_waits_for_the_handshake(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 7000);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 6000, &syn);
    peer_send_next(&pe, SYN, NULL, 0); /* crossing SYNs */
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_RECEIVED);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_RECEIVED);
    assert_true(peer_quiet(&pe)); /* no FIN before the SYN is acknowledged */
    peer_run_until(&pe, pe.now + 5 * FA_NS_PER_S);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.flags, SYN | ACK); /* resent as what it is */
    assert_int_equal(v.seq, syn.seq);
    while (peer_next(&pe, &v))
        ;
    peer_send(&pe, SYN | ACK, pe.snd_nxt - 1, syn.seq + 1, 65535, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_FIN_WAIT_1);
    int fin = 0;
    while (peer_next(&pe, &v))
        fin |= (v.flags & FIN) && v.seq == syn.seq + 1;
    assert_true(fin);
    fa_tcp_close(c, pe.now);
}

/* Found by review: a peer that does not scale windows and a receive
 * buffer beyond 65535. The field is pinned at 65535, so reading must not
 * send "window updates" that move nothing — to the sender each is a
 * duplicate ACK (spurious fast retransmits). */
static void reads_send_no_empty_window_updates(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rcvbuf = 1000003;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = peer_connected(&pe); /* the peer offers no scaling */
    static uint8_t seg[1000];
    for (int i = 0; i < 4; i++)
        peer_send_next(&pe, ACK, seg, sizeof seg);
    peer_run_until(&pe, pe.now + 100 * FA_NS_PER_MS);
    while (!peer_quiet(&pe))
        ;
    uint8_t buf[100];
    int reads = 0;
    while (fa_tcp_recv(c, buf, sizeof buf, pe.now) > 0)
        reads++;
    assert_int_equal(reads, 40);
    assert_true(peer_quiet(&pe));
    fa_tcp_close(c, pe.now);
}

/* Found by the kernel oracle: in LAST-ACK the peer's FIN comes again,
 * now acknowledging our FIN. Its ACK field is used (as Linux and BSD
 * do): the connection closes at once instead of after a retransmission
 * timeout. */
static void fin_again_with_the_ack_of_ours_closes_last_ack(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, ACK);
    fa_tcp_shutdown(c, FA_SHUT_WR, pe.now);
    assert_int_equal(fa_tcp_state(c), FA_TCP_LAST_ACK);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_true(v.flags & FIN);
    /* The peer's FIN again (SEQ = RCV.NXT - 1), acknowledging ours. */
    peer_send(&pe, ACK | FIN, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    fa_tcp_close(c, pe.now);
}

/* Found by the attack sweep: a fast retransmission sent bytes that had
 * never gone (held back by Nagle); the peer's ACK of them was an ACK of
 * unsent data to us, dropped, and the connection stalled for good. */
static void fast_retransmit_resends_only_what_was_sent(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t base = pe.rcv_nxt;
    assert_int_equal(fa_tcp_send(c, "1234567", 7, pe.now), 7);
    assert_int_equal(peer_expect(&pe).data_len, 7);
    static uint8_t more[250];
    assert_int_equal(fa_tcp_send(c, more, sizeof more, pe.now), (long)sizeof more);
    assert_true(peer_quiet(&pe)); /* Nagle: held while 7 bytes are out */
    for (int i = 0; i < 3; i++) /* duplicate ACKs (a duplicating network) */
        peer_send(&pe, ACK, pe.snd_nxt, base, 65535, NULL, 0);
    struct fa_tcp_view v;
    uint32_t highest = base + 7;
    while (peer_next(&pe, &v))
        if (v.data_len && v.seq == base) {
            assert_int_equal(v.data_len, 7); /* not the 250 never sent */
        } else if (v.data_len && (int32_t)(v.seq + v.data_len - highest) > 0) {
            highest = v.seq + v.data_len;
        }
    /* The peer acknowledges all it has; the rest goes and is taken. */
    peer_send(&pe, ACK, pe.snd_nxt, highest, 65535, NULL, 0);
    peer_run_until(&pe, pe.now + FA_NS_PER_S);
    while (peer_next(&pe, &v))
        if (v.data_len && (int32_t)(v.seq + v.data_len - highest) > 0)
            highest = v.seq + v.data_len;
    peer_send(&pe, ACK, pe.snd_nxt, highest, 65535, NULL, 0);
    assert_int_equal(highest, base + 257);
    assert_int_equal(peer_info(c).snd_una, base + 257);
    fa_tcp_close(c, pe.now);
}

/* Keepalive as above, then a half-close the peer acknowledged:
 * FIN-WAIT-2, the socket still held. */
static struct fa_tcp *half_closed_with_keepalive(void)
{
    struct fa_tcp *c = connected_keepalive_10s();
    fa_tcp_shutdown(c, FA_SHUT_WR, pe.now);
    assert_true(peer_expect(&pe).flags & FIN);
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_FIN_WAIT_2);
    return c;
}

/* Found by the apps sweep: a half-closed socket in FIN-WAIT-2, still held
 * by its application, had no timer at all — a peer that vanished (its
 * FIN and our RST both lost) left it there forever. Keepalive runs in
 * FIN-WAIT-2 too, as in Linux. */
static void keepalive_in_fin_wait_2(void **state)
{
    (void)state;
    struct fa_tcp *c = half_closed_with_keepalive();
    peer_run_until(&pe, pe.now + 30 * FA_NS_PER_S); /* the peer is gone */
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT);
    fa_tcp_close(c, pe.now);
}

/* Found by review: keepalive armed in FIN-WAIT-2 stayed armed once the
 * application closed (an orphan has only the FIN-WAIT-2 timeout), and a
 * timer armed in ESTABLISHED outlived the move to FIN-WAIT-1. */
static void keepalive_stops_for_an_orphan(void **state)
{
    (void)state;
    struct fa_tcp *c = half_closed_with_keepalive();
    fa_tcp_close(c, pe.now); /* an orphan now */
    peer_run_until(&pe, pe.now + 50 * FA_NS_PER_S);
    assert_true(peer_quiet(&pe)); /* no keepalive probe from an orphan */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 0);
    peer_run_until(&pe, pe.now + 20 * FA_NS_PER_S); /* its 60 s are over */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 1);
}

/* Found by review: with a scaled window, a window update must move the
 * field itself, not only the edge before rounding: else reads send
 * ACKs identical to the last one — duplicate ACKs to the sender. */
static void window_updates_always_move_the_field(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rcvbuf = 16 << 20; /* scale 9: 512-byte units */
    peer_init(&pe, &cfg, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    const uint8_t opts[8] = { 2, 4, 400 >> 8, 400 & 255, 1, 3, 3, 7 }; /* MSS 400 */
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 65535, opts, 8, NULL, 0);
    pe.snd_nxt++;
    assert_int_equal(peer_expect(&pe).flags, ACK);
    static uint8_t data[400];
    for (int i = 0; i < 20; i++)
        peer_send_next(&pe, ACK, data, sizeof data);
    peer_run_until(&pe, pe.now + 100 * FA_NS_PER_MS);
    struct fa_tcp_view v, last = { 0 };
    while (peer_next(&pe, &v))
        last = v;
    uint8_t buf[400];
    for (int i = 0; i < 200 && fa_tcp_recv(c, buf, i % 2 ? 10 : 400, pe.now) > 0; i++)
        while (peer_next(&pe, &v)) {
            assert_false(v.ack == last.ack && v.wnd == last.wnd); /* moved */
            last = v;
        }
    fa_tcp_close(c, pe.now);
}

/* Found by the final review. 1: a program that dies during a lingering
 * close: the socket is let go (L22), not leaked with its handle. */
static void lingering_close_of_a_dead_owner_is_let_go(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    fa_tcp_setopt(c, FA_SO_LINGER, 5000);
    assert_int_equal(fa_tcp_close(c, pe.now), -EINPROGRESS);
    assert_true(peer_expect(&pe).flags & FIN);
    fa_stack_close_owner(pe.s, 0, pe.now);
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, NULL, 0); /* FIN acked */
    peer_run_until(&pe, pe.now + 70 * FA_NS_PER_S); /* the FIN-WAIT-2 limit */
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 0);
}

/* 2: an ACK owed in a batch does not go out from a connection an RST in
 * the same batch ended. */
static void no_batched_ack_after_a_reset(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t d[100];
    fa_stack_batch_begin(pe.s);
    peer_send_next(&pe, ACK, d, sizeof d);
    peer_send_next(&pe, ACK, d, sizeof d);
    peer_send(&pe, RST, pe.snd_nxt, 0, 0, NULL, 0);
    fa_stack_batch_end(pe.s, pe.now);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        assert_true(v.ack != pe.snd_nxt); /* no ACK of both segments */
    fa_tcp_close(c, pe.now);
}

/* 3: a lingering close that runs out in LAST-ACK sends no RST (it could
 * end the peer's TIME-WAIT, RFC 1337). */
static void linger_timeout_in_last_ack_sends_no_rst(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    fa_tcp_setopt(c, FA_SO_LINGER, 100);
    assert_int_equal(fa_tcp_close(c, pe.now), -EINPROGRESS);
    assert_int_equal(fa_tcp_state(c), FA_TCP_LAST_ACK);
    peer_run_until(&pe, pe.now + 150 * FA_NS_PER_MS); /* our FIN's ACK lost */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RST_OUT), 0);
    assert_int_equal(fa_tcp_close(c, pe.now), -ETIMEDOUT);
}

/* 4: answers to window probes are no duplicate ACKs: no fast retransmit
 * (and no cwnd cut) while the window is shut on data in flight. */
static void probe_answers_are_no_duplicate_acks(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t base = pe.rcv_nxt;
    static uint8_t data[3000];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), (long)sizeof data);
    while (!peer_quiet(&pe))
        ;
    peer_send(&pe, ACK, pe.snd_nxt, base + 500, 0, NULL, 0); /* window shut */
    uint32_t cwnd = peer_info(c).cwnd;
    for (int i = 0; i < 20; i++) {
        peer_run_until(&pe, pe.now + 2 * FA_NS_PER_S);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v))
            peer_send(&pe, ACK, pe.snd_nxt, base + 500, 0, NULL, 0);
    }
    assert_int_equal(peer_info(c).cwnd, cwnd);
    fa_tcp_abort(c, pe.now);
}

/* 5: an in-window RST that only draws a challenge ACK does not prove
 * the peer alive: keepalive still times out a dead peer. */
static void challenged_junk_does_not_feed_keepalive(void **state)
{
    (void)state;
    struct fa_tcp *c = connected_keepalive_10s();
    for (int i = 0; i < 60 && fa_tcp_state(c) == FA_TCP_ESTABLISHED; i++) {
        peer_run_until(&pe, pe.now + 500 * FA_NS_PER_MS);
        peer_send(&pe, RST, pe.snd_nxt + 100, 0, 0, NULL, 0);
    }
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_true(pe.now <= 15 * FA_NS_PER_S);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT);
    fa_tcp_close(c, pe.now);
}

/* 6: the client's SYN with data again, after our SYN-ACK was lost: the
 * SYN-ACK is resent; the half-open connection is not dropped. */
static void repeated_syn_with_data_gets_the_synack_again(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *l;
    l = peer_listening(&pe, 8080);
    peer_send(&pe, SYN, pe.snd_nxt, 0, 65535, "data", 4);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    peer_send(&pe, SYN, pe.snd_nxt, 0, 65535, "data", 4); /* ours was lost */
    struct fa_tcp_view again = peer_expect(&pe);
    assert_int_equal(again.flags, SYN | ACK);
    assert_int_equal(again.seq, sa.seq);
    pe.snd_nxt++;
    pe.rcv_nxt = sa.seq + 1;
    peer_send_next(&pe, ACK, NULL, 0);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    fa_tcp_close(c, pe.now);
    fa_tcp_close(l, pe.now);
}

/* tcp_window_scaling = 0 (what the sweeps draw per host): no scale is
 * offered, and one the peer offers is not taken. */
static void window_scaling_can_be_off(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_window_scaling = 0;
    cfg.tcp_rcvbuf = 1 << 20;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    assert_false(syn.opts.has_wscale);
    const uint8_t ws[4] = { 1, 3, 3, 7 };
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 1000, ws, 4, NULL, 0);
    pe.snd_nxt++;
    struct fa_tcp_view ack = peer_expect(&pe);
    assert_int_equal(ack.wnd, 65535);
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 1000, NULL, 0);
    assert_int_equal(peer_info(c).snd_wnd, 1000); /* not 1000 << 7 */
    assert_int_equal(peer_info(c).rcv_wscale, 0);
    fa_tcp_close(c, pe.now);
}

/* The connection table's hash is SipHash-2-4 (keyed: a peer cannot aim
 * at one chain), built from the 4-tuple's words: it must be the hash of
 * the tuple's 12 bytes, and the hash itself the reference's. */
static int drop_frame(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx, (void)frame, (void)len;
    return 0;
}

static uint64_t fixed_rng(void *ctx)
{
    (void)ctx;
    return 0x0123456789abcdefull;
}

static void siphash_and_the_tuple_hash(void **state)
{
    (void)state;
    uint64_t key[2];
    uint8_t k[16], m[15];
    for (int i = 0; i < 16; i++)
        k[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        m[i] = (uint8_t)i;
    memcpy(key, k, sizeof key);
    /* The test vectors of the SipHash paper's reference code. */
    assert_true(fa_siphash(key, m, 0) == 0x726fdb47dd0e0e31ull);
    assert_true(fa_siphash(key, m, 15) == 0xa129ca6149be45e5ull);
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.addr = FA_IPV4(198, 18, 0, 1);
    cfg.device = (struct fa_device){ .transmit = drop_frame };
    cfg.rng = (struct fa_rng){ .next = fixed_rng };
    struct fa_stack *st;
    assert_int_equal(fa_stack_create(&cfg, 0, &st), 0);
    uint32_t la = FA_IPV4(198, 18, 0, 1), ra = FA_IPV4(198, 19, 7, 200);
    uint16_t lp = 80, rp = 54321;
    uint8_t t[12] = { (uint8_t)la, (uint8_t)(la >> 8), (uint8_t)(la >> 16), (uint8_t)(la >> 24),
                      (uint8_t)ra, (uint8_t)(ra >> 8), (uint8_t)(ra >> 16), (uint8_t)(ra >> 24),
                      (uint8_t)lp, (uint8_t)(lp >> 8), (uint8_t)rp, (uint8_t)(rp >> 8) };
    assert_true(fa_siphash_cd(key, m, 15, 2, 4) == 0xa129ca6149be45e5ull);
    /* The table's hash is SipHash-1-3 of the 12 bytes. */
    assert_true(fa_tcp_tuple_hash(st, la, lp, ra, rp) == fa_siphash_cd(st->tcp->secret, t, 12, 1, 3));
    assert_true(fa_tcp_tuple_hash(st, la, lp, ra, rp) != fa_siphash(st->tcp->secret, t, 12));
    assert_true(fa_tcp_tuple_hash(st, la, lp, ra, rp) != fa_tcp_tuple_hash(st, la, rp, ra, lp));
    fa_stack_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(window_edge_never_beyond_the_buffer, teardown),
        cmocka_unit_test_teardown(zero_window_probes_are_answered, teardown),
        cmocka_unit_test_teardown(persist_never_times_out_while_answered, teardown),
        cmocka_unit_test_teardown(pausing_reader_gets_every_byte, teardown),
        cmocka_unit_test_teardown(rst_and_syn_judged_as_they_arrived, teardown),
        cmocka_unit_test_teardown(time_wait_answers_only_what_needs_it, teardown),
        cmocka_unit_test_teardown(simultaneous_close_with_duplicates_is_quiet, teardown),
        cmocka_unit_test_teardown(challenge_acks_tell_an_attacker_nothing, teardown),
        cmocka_unit_test_teardown(stack_wide_challenge_budget_is_random, teardown),
        cmocka_unit_test_teardown(time_wait_reuse_moves_forward, teardown),
        cmocka_unit_test_teardown(abort_late_sends_nothing, teardown),
        cmocka_unit_test_teardown(duplicate_acks_not_merged_in_a_batch, teardown),
        cmocka_unit_test_teardown(simultaneous_open_synack_window_unscaled, teardown),
        cmocka_unit_test_teardown(rto_after_syn_timeout_and_karn_on_synack, teardown),
        cmocka_unit_test_teardown(keepalive_not_fed_by_junk, teardown),
        cmocka_unit_test_teardown(shut_rd_then_data_is_discarded, teardown),
        cmocka_unit_test_teardown(fin_behind_a_closed_window_is_resent, teardown),
        cmocka_unit_test_teardown(close_in_syn_received_waits_for_the_handshake, teardown),
        cmocka_unit_test_teardown(reads_send_no_empty_window_updates, teardown),
        cmocka_unit_test_teardown(fin_again_with_the_ack_of_ours_closes_last_ack, teardown),
        cmocka_unit_test_teardown(fast_retransmit_resends_only_what_was_sent, teardown),
        cmocka_unit_test_teardown(keepalive_in_fin_wait_2, teardown),
        cmocka_unit_test_teardown(keepalive_stops_for_an_orphan, teardown),
        cmocka_unit_test_teardown(window_updates_always_move_the_field, teardown),
        cmocka_unit_test_teardown(lingering_close_of_a_dead_owner_is_let_go, teardown),
        cmocka_unit_test_teardown(no_batched_ack_after_a_reset, teardown),
        cmocka_unit_test_teardown(linger_timeout_in_last_ack_sends_no_rst, teardown),
        cmocka_unit_test_teardown(probe_answers_are_no_duplicate_acks, teardown),
        cmocka_unit_test_teardown(challenged_junk_does_not_feed_keepalive, teardown),
        cmocka_unit_test_teardown(repeated_syn_with_data_gets_the_synack_again, teardown),
        cmocka_unit_test_teardown(window_scaling_can_be_off, teardown),
        cmocka_unit_test(siphash_and_the_tuple_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
