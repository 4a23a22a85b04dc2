/* test_tcp_syncookie.c — SYN cookies (RFC 4987 §3.6, tcp_syncookie.c):
 * a SYN that finds the listener's backlog full of half-open connections
 * is answered without state, the returned cookie opens a connection that
 * carries data with the MSS, window scale and SACK the SYN offered
 * (timestamps carry the last two), without timestamps only the MSS is
 * offered, an ACK with a wrong or stale cookie opens nothing, a peer
 * whose handshake ACK was lost is found by its keepalive probe, a flood
 * of 100,000 SYNs holds no more than the backlog, and with
 * config.tcp_syncookies 2 every connection is made by cookie and a
 * megabyte goes each way between two stacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cookie_with_timestamps_keeps_the_options),
        cmocka_unit_test(cookie_without_timestamps_offers_only_the_mss),
        cmocka_unit_test(wrong_or_stale_cookie_opens_nothing),
        cmocka_unit_test(keepalive_probe_brings_the_cookie_back),
        cmocka_unit_test(syn_flood_costs_nothing),
        cmocka_unit_test(every_connection_by_cookie_carries_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
