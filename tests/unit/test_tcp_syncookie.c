/* test_tcp_syncookie.c — SYN cookies (RFC 4987 §3.6, tcp_syncookie.c):
 * a SYN that finds the listener's backlog full of half-open connections
 * is answered without state, the returned cookie opens a connection that
 * carries data with the MSS, window scale and SACK the SYN offered
 * (timestamps carry the last two), without timestamps only the MSS is
 * offered, an ACK with a wrong or stale cookie (or a false timestamp
 * echo) opens nothing, a peer
 * whose handshake ACK was lost is found by its keepalive probe, a flood
 * of 100,000 SYNs holds no more than the backlog, and with
 * config.tcp_syncookies 2 every connection is made by cookie and a
 * megabyte goes each way between two stacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "pair.h"
#include "peer.h"
#include "peer_opts.h"

#define S FA_NS_PER_S
#define MS FA_NS_PER_MS
#define SYN FA_TCP_SYN
#define ACK FA_TCP_ACK

static struct peer pe;

static uint32_t sockets(void)
{
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    return u.sockets;
}

/* A listener with backlog 1, its one place taken by a half-open SYN from
 * port 4999; returns the listener. */
static struct fa_tcp *full_listener(void)
{
    peer_init(&pe, NULL, 4999);
    struct fa_tcp *l;
    fa_tcp_open(pe.s, &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 1, pe.now);
    pe.our_port = 80;
    peer_send(&pe, SYN, 100, 0, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    assert_int_equal(sockets(), 2); /* listener and the half-open one */
    return l;
}

static void cookie_with_timestamps_keeps_the_options(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5000;
    uint8_t o[40];
    size_t n = 0;
    o[n++] = 2; o[n++] = 4; o[n++] = 0x05; o[n++] = 0xb4; /* MSS 1460 */
    o[n++] = 1; o[n++] = 3; o[n++] = 3; o[n++] = 7;        /* window scale 7 */
    o[n++] = 1; o[n++] = 1; o[n++] = 4; o[n++] = 2;        /* SACK-permitted */
    n += opt_ts(o + n, 1000, 0);
    peer_send_opts(&pe, SYN, 7000, 0, 65535, o, n, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    assert_int_equal(sa.ack, 7001);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_SENT), 1);
    assert_int_equal(sockets(), 2); /* nothing kept */
    assert_true(sa.opts.mss > 0 && sa.opts.has_wscale && sa.opts.sack_ok && sa.opts.has_ts);
    assert_int_equal(sa.opts.ts_ecr, 1000);
    /* The cookie returns: the connection is made as the SYN-ACK said. */
    n = opt_ts(o, 1001, sa.opts.ts_val);
    peer_send_opts(&pe, ACK, 7001, sa.seq + 1, 512, o, n, "hello", 5);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_OK), 1);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.snd_wscale, 7);
    assert_true(i.sack && i.timestamps);
    assert_int_equal(i.mss, 1460 - 12); /* the table's 1460, less the timestamps */
    assert_int_equal(i.snd_wnd, 512u << 7);
    char got[16];
    assert_int_equal(fa_tcp_recv(c, got, sizeof got, pe.now), 5);
    assert_memory_equal(got, "hello", 5);
    assert_int_equal(fa_tcp_send(c, "world", 5, pe.now), 5);
    struct fa_tcp_view v = peer_expect(&pe);
    while (!v.data_len)
        v = peer_expect(&pe);
    assert_int_equal(v.seq, sa.seq + 1);
    assert_int_equal(v.ack, 7006);
    assert_memory_equal(v.data, "world", 5);
    peer_destroy(&pe);
}

/* A cookie's connection with timestamps is timed by the echo of the
 * SYN-ACK's TSval, as Linux's: its first RTO is not the 1 s of a
 * connection never timed (found by finack-sim's handshake check). The
 * TSval was rounded down to carry options: the sample errs long, by
 * less than 64 ms. Without timestamps nothing times it. */
static void cookie_with_timestamps_times_the_handshake(void **state)
{
    (void)state;
    for (int ts = 1; ts >= 0; ts--) {
        struct fa_tcp *l = full_listener();
        pe.port = 5000;
        uint8_t o[40];
        size_t n = 0;
        o[n++] = 2; o[n++] = 4; o[n++] = 0x05; o[n++] = 0xb4; /* MSS 1460 */
        if (ts)
            n += opt_ts(o + n, 1000, 0);
        peer_send_opts(&pe, SYN, 7000, 0, 65535, o, n, NULL, 0);
        struct fa_tcp_view sa = peer_expect(&pe);
        assert_int_equal(sa.flags, SYN | ACK);
        pe.now += 40 * MS; /* the round trip */
        n = ts ? opt_ts(o, 1040, sa.opts.ts_val) : 0;
        peer_send_opts(&pe, ACK, 7001, sa.seq + 1, 512, o, n, NULL, 0);
        assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_OK), 1);
        struct fa_tcp *c;
        assert_int_equal(fa_tcp_accept(l, &c), 0);
        struct fa_tcp_info i = peer_info(c);
        if (ts) {
            assert_true(i.srtt >= 40 * MS && i.srtt < 104 * MS);
            assert_true(i.rto < 400 * MS);
        } else {
            assert_int_equal(i.srtt, 0);
            assert_int_equal(i.rto, S);
        }
        peer_destroy(&pe);
    }
}

/* The cookie's SYN-ACK kept the peer's window scale and SACK in its
 * TSval; an ACK whose echo is not one we could have sent (no mark, from
 * the future, zero) is refused, not taken as "no options": a connection
 * without window scale against a peer that scales would misread every
 * window (review). The right echo still opens it. */
static void cookie_with_a_false_echo_opens_nothing(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5003;
    uint8_t o[40];
    size_t n = 0;
    o[n++] = 1; o[n++] = 3; o[n++] = 3; o[n++] = 7; /* window scale 7 */
    n += opt_ts(o + n, 1000, 0);
    peer_send_opts(&pe, SYN, 7000, 0, 65535, o, n, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_true(sa.opts.has_wscale && sa.opts.has_ts);
    struct fa_tcp *c;
    const uint32_t bad[] = { sa.opts.ts_val & ~0x20u, sa.opts.ts_val + 100000, 0 };
    for (unsigned k = 0; k < 3; k++) {
        n = opt_ts(o, 1001, bad[k]);
        peer_send_opts(&pe, ACK, 7001, sa.seq + 1, 512, o, n, NULL, 0);
        assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_FAILED), k + 1);
        assert_int_equal(fa_tcp_accept(l, &c), -EAGAIN);
    }
    n = opt_ts(o, 1001, sa.opts.ts_val);
    peer_send_opts(&pe, ACK, 7001, sa.seq + 1, 512, o, n, NULL, 0);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.snd_wscale, 7);
    assert_int_equal(i.snd_wnd, 512u << 7);
    peer_destroy(&pe);
}

static void cookie_without_timestamps_offers_only_the_mss(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5001;
    static const uint8_t o[] = { 2, 4, 0x04, 0x00, 1, 3, 3, 7, 1, 1, 4, 2 }; /* MSS 1024 */
    peer_send_opts(&pe, SYN, 9000, 0, 65535, o, sizeof o, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_true(sa.opts.mss > 0);
    assert_false(sa.opts.has_wscale || sa.opts.sack_ok || sa.opts.has_ts);
    peer_send(&pe, ACK, 9001, sa.seq + 1, 4000, NULL, 0);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_false(i.sack || i.timestamps);
    assert_int_equal(i.snd_wscale, 0);
    assert_int_equal(i.mss, 536); /* the table's largest not above 1024 */
    assert_int_equal(i.snd_wnd, 4000);
    peer_destroy(&pe);
}

static void wrong_or_stale_cookie_opens_nothing(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5002;
    peer_send(&pe, SYN, 3000, 0, 65535, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    /* A guess one off: dropped (not reset: cookies are in use). */
    peer_send(&pe, ACK, 3001, sa.seq + 2, 4000, NULL, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_FAILED), 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_EXPIRED), 0); /* no cookie */
    assert_true(peer_quiet(&pe));
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), -EAGAIN);
    /* 200 s on, the right cookie is stale (they live 128 to 192 s): no
     * connection, and with no cookie sent lately the ACK is a stray one
     * (RST). */
    peer_run_until(&pe, pe.now + 200 * S);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        ;
    peer_send(&pe, ACK, 3001, sa.seq + 1, 4000, NULL, 0);
    assert_int_equal(fa_tcp_accept(l, &c), -EAGAIN);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_OK), 0);
    /* ...told apart from a wrong one: ours, past its life. */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_EXPIRED), 1);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, FA_TCP_RST);
    peer_destroy(&pe);
}

/* The handshake's ACK was lost and the peer waits for us to speak: its
 * first keepalive probe (SEQ = its ISN, no data) brings the cookie back,
 * the connection is made, and the probe is answered. */
static void keepalive_probe_brings_the_cookie_back(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5003;
    peer_send(&pe, SYN, 6000, 0, 65535, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    peer_run_until(&pe, pe.now + 120 * S); /* (the ACK went missing) */
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        ;
    peer_send(&pe, ACK, 6000, sa.seq + 1, 4000, NULL, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_OK), 1);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
    assert_int_equal(v.seq, sa.seq + 1);
    assert_int_equal(v.ack, 6001);
    assert_int_equal(fa_tcp_send(c, "hi", 2, pe.now), 2);
    v = peer_expect(&pe);
    assert_int_equal(v.data_len, 2);
    peer_destroy(&pe);
}

/* A probe that brings back a cookie with timestamps: its echo times the
 * peer's 60 s of silence, not the path — no sample (review: srtt 60 s,
 * RTO 120 s). */
static void probe_with_timestamps_times_nothing(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5004;
    uint8_t o[40];
    size_t n = opt_ts(o, 1000, 0);
    peer_send_opts(&pe, SYN, 6000, 0, 65535, o, n, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_true(sa.opts.has_ts);
    peer_run_until(&pe, pe.now + 60 * S); /* (the ACK went missing) */
    peer_drain(&pe);
    n = opt_ts(o, 61000, sa.opts.ts_val);
    peer_send_opts(&pe, ACK, 6000, sa.seq + 1, 4000, o, n, NULL, 0); /* the probe */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_OK), 1);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    struct fa_tcp_info i = peer_info(c);
    assert_true(i.timestamps);
    assert_int_equal(i.srtt, 0);
    assert_int_equal(i.rto, S);
    peer_destroy(&pe);
}

/* A SYN flood from 100,000 spoofed ports: the listener's backlog of 16
 * holds 16 half-open connections and no more (no buffers among them);
 * the rest are answered by cookie with nothing kept; a legitimate peer
 * still connects and is accepted. */
static void syn_flood_costs_nothing(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 1024);
    struct fa_tcp *l;
    fa_tcp_open(pe.s, &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 16, pe.now);
    pe.our_port = 80;
    struct fa_tcp_view v;
    for (uint32_t i = 0; i < 100000; i++) {
        pe.port = (uint16_t)(1024 + i % 60000);
        peer_send(&pe, SYN, i * 7919u, 0, 65535, NULL, 0);
        if (i % 200 == 199) {
            while (peer_next(&pe, &v))
                ;
            pe.now += MS;
        }
    }
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 1 + 16);
    assert_int_equal(u.buffer_bytes, 0);
    assert_int_equal(u.loss_states, 0);
    /* All but the 16 held, and the 16 SYNs whose ports came round again
     * to a held connection (60,000 ports for 100,000 SYNs). */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_SENT), 100000 - 16 - 16);
    /* A real peer among them. */
    pe.port = 61000;
    peer_send(&pe, SYN, 424242, 0, 65535, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    peer_send(&pe, ACK, 424243, sa.seq + 1, 8000, "GET", 3);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    char got[4];
    assert_int_equal(fa_tcp_recv(c, got, sizeof got, pe.now), 3);
    peer_destroy(&pe);
}

/* The review of the SYN cookies: one check per finding. */

/* Two SYN-ACKs crossed: the peer's SYN came again after room opened, so
 * a half-open connection with its own ISS exists, but the peer took the
 * cookie's SYN-ACK: its ACK is taken, not reset. */
static void crossed_cookie_and_stateful_synack(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5004;
    peer_send(&pe, SYN, 7000, 0, 65535, NULL, 0);
    struct fa_tcp_view cookie = peer_expect(&pe);
    pe.port = 4999; /* the half-open one goes: room again */
    peer_send(&pe, FA_TCP_RST, 101, 0, 0, NULL, 0);
    pe.port = 5004;
    peer_send(&pe, SYN, 7000, 0, 65535, NULL, 0); /* the SYN again */
    struct fa_tcp_view stateful = peer_expect(&pe);
    assert_int_equal(stateful.flags, SYN | ACK);
    assert_true(stateful.seq != cookie.seq);
    peer_send(&pe, ACK, 7001, cookie.seq + 1, 4000, "hi", 2);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        assert_int_equal(v.flags & FA_TCP_RST, 0);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    char got[4];
    assert_int_equal(fa_tcp_recv(c, got, sizeof got, pe.now), 2);
    assert_int_equal(fa_tcp_send(c, "ok", 2, pe.now), 2);
    v = peer_expect(&pe);
    assert_int_equal(v.seq, cookie.seq + 1);
    peer_destroy(&pe);
}

/* The accept queue holds the backlog, cookies or not: 300 handshakes
 * from one peer into a backlog of 2 leave 2 waiting. */
static void accept_queue_stays_bounded(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_syncookies = 2;
    peer_init(&pe, &cfg, 20000);
    peer_listening_backlog(&pe, 80, 2);
    pe.our_port = 80;
    struct fa_tcp_view v;
    uint32_t iss[300];
    for (int i = 0; i < 300; i++) {
        pe.port = (uint16_t)(20000 + i);
        peer_send(&pe, SYN, 1000u * (uint32_t)i, 0, 65535, NULL, 0);
        iss[i] = 0;
        while (peer_next(&pe, &v))
            if (v.flags == (SYN | ACK))
                iss[i] = v.seq;
    }
    for (int i = 0; i < 300; i++) {
        pe.port = (uint16_t)(20000 + i);
        if (iss[i])
            peer_send(&pe, ACK, 1000u * (uint32_t)i + 1, iss[i] + 1, 4000, NULL, 0);
        while (peer_next(&pe, &v))
            ;
    }
    assert_true(sockets() <= 1 + 2);
    peer_destroy(&pe);
}

/* Blind ACKs with random numbers open nothing (a cookie hides its period
 * and MSS index under a keyed hash: all 32 bits must be guessed). */
static void blind_acks_open_nothing(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    (void)l;
    pe.port = 5005;
    peer_send(&pe, SYN, 1, 0, 65535, NULL, 0); /* cookies in use */
    struct fa_prng r;
    fa_prng_seed(&r, 99);
    struct fa_tcp_view v;
    for (int i = 0; i < 65536; i++) {
        pe.port = (uint16_t)(10000 + (i & 1023));
        peer_send(&pe, ACK, (uint32_t)fa_prng_next(&r), (uint32_t)fa_prng_next(&r), 4000, NULL, 0);
        if ((i & 127) == 127)
            while (peer_next(&pe, &v))
                ;
    }
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_OK), 0);
    peer_destroy(&pe);
}

/* A TIME-WAIT entry of ours for the peer's port on listener l: a
 * connection the server closed first. */
static void time_wait_on(struct fa_tcp *l)
{
    struct fa_tcp *c;
    struct fa_tcp_usage before, after;
    fa_stack_tcp_usage(pe.s, &before);
    peer_send_next(&pe, SYN, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    pe.rcv_nxt = sa.seq + 1;
    peer_send_next(&pe, ACK, NULL, 0);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    fa_tcp_close(c, pe.now);
    struct fa_tcp_view fin = peer_expect(&pe);
    pe.rcv_nxt = fin.seq + 1;
    peer_send_next(&pe, ACK | FA_TCP_FIN, NULL, 0);
    fa_stack_tcp_usage(pe.s, &after);
    assert_int_equal(after.time_wait, before.time_wait + 1);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        ;
}

/* A listener on port 80 (backlog 4) with one such entry. */
static struct fa_tcp *server_time_wait(void)
{
    struct fa_tcp *l = peer_listening_backlog(&pe, 80, 4);
    pe.our_port = 80;
    time_wait_on(l);
    return l;
}

/* A SYN that may reopen a TIME-WAIT entry takes the stateful path: the
 * entry would take the cookie's ACK and the client would wait it out. */
static void time_wait_reuse_takes_no_cookie(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_syncookies = 2;
    peer_init(&pe, &cfg, 6100);
    struct fa_tcp *l = server_time_wait(), *c;
    struct fa_tcp_view sa;
    pe.snd_nxt += 100000;
    peer_send_next(&pe, SYN, NULL, 0); /* above the old sequence space */
    sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    pe.rcv_nxt = sa.seq + 1;
    peer_send_next(&pe, ACK, "GET", 3);
    assert_int_equal(fa_tcp_accept(l, &c), 0); /* at once, not after 2 MSL */
    peer_destroy(&pe);
}

/* A flood has filled the backlog with half-open connections when a SYN
 * comes to reopen a TIME-WAIT entry: it gets no cookie, so it is let
 * past the half-open bound (as Linux) — dropped, it would be kept out
 * until the entry ended (the attack family's reuse_tuple, seed 146). */
static void time_wait_reuse_passes_a_full_backlog(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 6150);
    pe.port = 7000;
    struct fa_tcp *l = server_time_wait(), *c;
    struct fa_tcp_view sa, v;
    for (int i = 0; i < 50; i++) { /* the flood, from other ports */
        pe.port = (uint16_t)(20000 + i);
        peer_send(&pe, SYN, 1000u * (uint32_t)i, 0, 65535, NULL, 0);
    }
    while (peer_next(&pe, &v))
        ;
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.half_open, 4); /* the backlog; the rest by cookie */
    assert_int_equal(u.time_wait, 1);
    assert_true(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_SENT) >= 46);
    pe.port = 7000;
    pe.snd_nxt += 100000;
    peer_send_next(&pe, SYN, NULL, 0); /* above the old sequence space */
    sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.half_open, 5); /* stateful, past the backlog */
    assert_int_equal(u.time_wait, 0);
    pe.rcv_nxt = sa.seq + 1;
    peer_send_next(&pe, ACK, "GET", 3);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    uint8_t buf[8];
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 3);
    peer_destroy(&pe);
}

/* One host makes 15 connections the server closes first, then reopens
 * every TIME-WAIT entry with a SYN it never completes: they pass the
 * listener's backlog but not the stack's tcp_max_half_open, so the
 * connection table keeps room and a legitimate client still connects. */
static void time_wait_reopens_keep_the_stack_bound(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_max_conns = 16;
    cfg.tcp_max_half_open = 4;
    peer_init(&pe, &cfg, 7000);
    struct fa_tcp *l = peer_listening_backlog(&pe, 80, 4), *c;
    pe.our_port = 80;
    struct fa_tcp_view v;
    enum { N = 15 };
    for (int i = 0; i < N; i++) {
        pe.port = (uint16_t)(7000 + i);
        pe.snd_nxt = 1000;
        time_wait_on(l);
    }
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, N);
    assert_int_equal(u.sockets, 1);
    for (int i = 0; i < N; i++) {
        pe.port = (uint16_t)(7000 + i);
        peer_send(&pe, SYN, 5000000, 0, 65535, NULL, 0);
        /* ...and again (its SYN-ACK "lost"): still one connection each */
        peer_send(&pe, SYN, 5000000, 0, 65535, NULL, 0);
    }
    while (peer_next(&pe, &v))
        ;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.half_open, cfg.tcp_max_half_open);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_HALF_OPEN_FULL), 2 * (N - 4));
    /* A legitimate client now. */
    pe.port = 9000;
    pe.snd_nxt = 1;
    peer_send_next(&pe, SYN, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    assert_int_equal(sa.flags, SYN | ACK);
    pe.rcv_nxt = sa.seq + 1;
    peer_send_next(&pe, ACK, "GET", 3);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    peer_destroy(&pe);
}

/* An MSS below 536 is never exceeded (the table's 88). */
static void small_peer_mss_is_kept(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_syncookies = 2;
    peer_init(&pe, &cfg, 6200);
    struct fa_tcp *l = peer_listening_backlog(&pe, 80, 4), *c;
    pe.our_port = 80;
    static const uint8_t o[] = { 2, 4, 0, 200 };
    peer_send_opts(&pe, SYN, 500, 0, 65535, o, sizeof o, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    peer_send(&pe, ACK, 501, sa.seq + 1, 65535, NULL, 0);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    static uint8_t data[4000];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        assert_true(v.data_len <= 200);
    peer_destroy(&pe);
}

/* Whether cookies are in use is a listener's own: a stray ACK to a
 * listener that sent none is reset as always. */
static void cookies_in_use_per_listener(void **state)
{
    (void)state;
    full_listener();
    peer_listening_backlog(&pe, 81, 4);
    pe.port = 5006;
    peer_send(&pe, SYN, 1, 0, 65535, NULL, 0); /* a cookie from :80 */
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        ;
    pe.our_port = 81;
    peer_send(&pe, ACK, 77, 88, 4000, "old", 3);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, FA_TCP_RST);
    peer_destroy(&pe);
}

/* The stack's bound on half-open connections, all listeners together
 * (config.tcp_max_half_open): past it a SYN gets a cookie, or, with
 * cookies off, is dropped and counted; the gauge returns to zero. */
static void half_open_bound_per_stack(void **state)
{
    (void)state;
    for (int cookies = 1; cookies >= 0; cookies--) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.tcp_max_half_open = 3;
        cfg.tcp_syncookies = (uint8_t)cookies;
        cfg.tcp_synack_retries = 1;
        peer_init(&pe, &cfg, 7000);
        peer_listening_backlog(&pe, 80, 10);
        peer_listening_backlog(&pe, 81, 10);
        static const uint16_t to[] = { 80, 80, 81, 81 };
        for (int i = 0; i < 4; i++) {
            pe.our_port = to[i];
            pe.port = (uint16_t)(7000 + i);
            peer_send(&pe, SYN, 100u * (uint32_t)i, 0, 65535, NULL, 0);
        }
        struct fa_tcp_usage u;
        fa_stack_tcp_usage(pe.s, &u);
        assert_int_equal(u.half_open, 3);
        assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_SENT), cookies ? 1 : 0);
        assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_HALF_OPEN_FULL), cookies ? 0 : 1);
        peer_run_until(&pe, pe.now + 30 * S); /* their SYN-ACKs give up */
        fa_stack_tcp_usage(pe.s, &u);
        assert_int_equal(u.half_open, 0);
        assert_int_equal(u.sockets, 2);
        peer_destroy(&pe);
    }
}

static void always(int side, struct fa_config *cfg)
{
    if (side == 1)
        cfg->tcp_syncookies = 2;
}

static void every_connection_by_cookie_carries_data(void **state)
{
    (void)state;
    static struct pair p;
    pair_init_ex(&p, NULL, NULL, 11, always);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, NULL);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_SYNCOOKIES_OK), 1);
    struct fa_tcp_info i;
    fa_tcp_get_info(s, &i);
    assert_true(i.sack && i.timestamps);
    static uint8_t a[1 << 20], b[1 << 20], got[1 << 20];
    for (size_t k = 0; k < sizeof a; k++) {
        a[k] = (uint8_t)(k * 7);
        b[k] = (uint8_t)(k * 13 + 1);
    }
    size_t sa = 0, sb = 0, ra = 0, rb = 0;
    for (int step = 0; step < 200000 && (ra < sizeof a || rb < sizeof b); step++) {
        long n;
        if (sa < sizeof a && (n = fa_tcp_send(c, a + sa, sizeof a - sa, p.now)) > 0)
            sa += (size_t)n;
        if (sb < sizeof b && (n = fa_tcp_send(s, b + sb, sizeof b - sb, p.now)) > 0)
            sb += (size_t)n;
        while ((n = fa_tcp_recv(s, got + ra, sizeof got - ra, p.now)) > 0) {
            assert_memory_equal(got + ra, a + ra, (size_t)n);
            ra += (size_t)n;
        }
        static uint8_t got2[1 << 20];
        while ((n = fa_tcp_recv(c, got2 + rb, sizeof got2 - rb, p.now)) > 0) {
            assert_memory_equal(got2 + rb, b + rb, (size_t)n);
            rb += (size_t)n;
        }
        pair_run_for(&p, MS);
    }
    assert_int_equal(ra, sizeof a);
    assert_int_equal(rb, sizeof b);
    pair_destroy(&p);
}

/* Cookies on, the stack's half-open bound reached and this listener's
 * accept queue full: no cookie goes (none past the accept queue), and
 * the drop counts as the accept queue's, TCP_BACKLOG_FULL. */
static void full_accept_queue_is_the_reason_counted(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_max_half_open = 1;
    peer_init(&pe, &cfg, 5000);
    struct fa_tcp *l1 = peer_listening_backlog(&pe, 80, 1);
    peer_listening_backlog(&pe, 81, 4);
    pe.our_port = 80; /* one connection waits in l1's accept queue */
    peer_send(&pe, SYN, 100, 0, 65535, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    peer_send(&pe, ACK, 101, sa.seq + 1, 65535, NULL, 0);
    pe.our_port = 81; /* one half-open at port 81: the stack's bound */
    pe.port = 6000;
    peer_send(&pe, SYN, 200, 0, 65535, NULL, 0);
    assert_int_equal(peer_expect(&pe).flags, SYN | ACK);
    pe.our_port = 80;
    pe.port = 5001;
    peer_send(&pe, SYN, 300, 0, 65535, NULL, 0);
    assert_true(peer_quiet(&pe));
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_BACKLOG_FULL), 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_HALF_OPEN_FULL), 0);
    (void)l1;
    peer_destroy(&pe);
}

/* apps seeds 109612, 113613, 116869: a connection made by cookie is
 * aborted (RST at SND.NXT after its data); the RST overtakes the data, so
 * the peer answers it with a challenge ACK (RFC 5961 §3.2) whose numbers
 * are the handshake ACK's: <SEQ=ISN+1><ACK=ISS+1>. At the listener that
 * ACK is a valid cookie again and makes a second connection, behind the
 * peer's stream: the peer's ACK of the data acks what the new one never
 * sent, and is answered by an ACK (RFC 9293 §3.10.7.4), not an RST. */
static void challenge_ack_after_abort_reopens_by_cookie(void **state)
{
    (void)state;
    struct fa_tcp *l = full_listener();
    pe.port = 5010;
    peer_send(&pe, SYN, 7000, 0, 65535, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    peer_send(&pe, ACK, 7001, sa.seq + 1, 4000, NULL, 0);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    assert_int_equal(fa_tcp_send(c, "hello", 5, pe.now), 5);
    assert_int_equal(peer_expect(&pe).data_len, 5);
    fa_tcp_abort(c, pe.now);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_true(v.flags & FA_TCP_RST);
    assert_int_equal(v.seq, sa.seq + 6);
    /* The challenge ACK (the data not yet in). */
    peer_send(&pe, ACK, 7001, sa.seq + 1, 4000, NULL, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SYNCOOKIES_OK), 2);
    struct fa_tcp *ghost;
    assert_int_equal(fa_tcp_accept(l, &ghost), 0);
    assert_int_equal(fa_tcp_state(ghost), FA_TCP_ESTABLISHED);
    /* The data arrived: the peer acks it. */
    pe.now += 100 * MS;
    peer_send(&pe, ACK, 7001, sa.seq + 6, 4000, NULL, 0);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK); /* no RST: the two stay desynchronized */
    assert_int_equal(v.seq, sa.seq + 1);
    peer_destroy(&pe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cookie_with_timestamps_keeps_the_options),
        cmocka_unit_test(cookie_with_timestamps_times_the_handshake),
        cmocka_unit_test(probe_with_timestamps_times_nothing),
        cmocka_unit_test(cookie_with_a_false_echo_opens_nothing),
        cmocka_unit_test(cookie_without_timestamps_offers_only_the_mss),
        cmocka_unit_test(wrong_or_stale_cookie_opens_nothing),
        cmocka_unit_test(keepalive_probe_brings_the_cookie_back),
        cmocka_unit_test(syn_flood_costs_nothing),
        cmocka_unit_test(crossed_cookie_and_stateful_synack),
        cmocka_unit_test(accept_queue_stays_bounded),
        cmocka_unit_test(blind_acks_open_nothing),
        cmocka_unit_test(time_wait_reuse_takes_no_cookie),
        cmocka_unit_test(time_wait_reuse_passes_a_full_backlog),
        cmocka_unit_test(time_wait_reopens_keep_the_stack_bound),
        cmocka_unit_test(full_accept_queue_is_the_reason_counted),
        cmocka_unit_test(small_peer_mss_is_kept),
        cmocka_unit_test(cookies_in_use_per_listener),
        cmocka_unit_test(half_open_bound_per_stack),
        cmocka_unit_test(every_connection_by_cookie_carries_data),
        cmocka_unit_test(challenge_ack_after_abort_reopens_by_cookie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
