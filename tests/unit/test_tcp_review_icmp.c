/* test_tcp_review_icmp.c — an independent review of ICMP errors about our
 * segments (tcp_icmp.c, udp.c) and of compact TIME-WAIT (tcp_tw.c):
 *   - a soft ICMP error does not turn a lingering close that ran out into
 *     success: close() still says -ETIMEDOUT (RFC 1122 §4.2.3.9 reports
 *     the soft error when the connection times out, not the linger); nor
 *     does a reset that ends it first (it said 0: found by the apps
 *     family's router, which reports soft errors about data in flight);
 *   - a soft error heard for the SYN is stale once the SYN-ACK came: a
 *     later timeout says ETIMEDOUT (as Linux's tcp_ack clears it);
 *   - an ICMP error reaches only a connected UDP socket, not one whose
 *     (0.0.0.0, 0) a forged quote names;
 *   - what held (kept as regression tests): RFC 6191 reopening rules, RST
 *     and ICMP against TIME-WAIT, the FIN re-ACKed and 2 MSL restarted; a
 *     short quote read no further than it goes, SEQ outside SND.UNA to
 *     SND.NXT ignored (RFC 5927 §4.1), a tiny MTU floored, hard errors not
 *     fatal to an established connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "frames.h"
#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

static struct peer pe;
static uint32_t peer_ts = 1000;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    return 0;
}

/* finack sends 1000 bytes the peer never ACKs; returns their SEQ. */
static uint32_t unacked_data(struct fa_tcp *c)
{
    static uint8_t buf[1000];
    uint32_t f = c->snd_nxt;
    assert_int_equal(fa_tcp_send(c, buf, sizeof buf, pe.now), (long)sizeof buf);
    peer_drain(&pe);
    return f;
}

/* L18, SO_LINGER: the linger runs out. Without an ICMP error close() says
 * -ETIMEDOUT (include/finack/tcp.h); after a soft ICMP error about the
 * in-flight data, fa_tcp_terminate swapped ETIMEDOUT for the soft error
 * and close() said 0, "all data acknowledged". */
static int linger_close_result(int with_icmp)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_LINGER, 1000), 0);
    uint32_t f = unacked_data(c);
    if (with_icmp)
        peer_icmp_error(&pe, FA_ICMP_TIME_EXCEEDED, 0, 0, f); /* a routing loop, briefly */
    assert_int_equal(fa_tcp_close(c, pe.now), -EINPROGRESS);
    peer_run_until(&pe, pe.now + 1500 * MS); /* the peer never answers */
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    return fa_tcp_close(c, pe.now);
}

static void linger_timeout_reported_without_icmp(void **state)
{
    (void)state;
    assert_int_equal(linger_close_result(0), -ETIMEDOUT);
}

static void linger_timeout_reported_after_soft_icmp(void **state)
{
    (void)state;
    assert_int_equal(linger_close_result(1), -ETIMEDOUT);
}

/* L18: a reset that ends a lingering close before our FIN is acknowledged:
 * close() said 0, "all acknowledged"; it says -ECONNRESET. */
static void linger_ended_by_reset_says_so(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_LINGER, 1000), 0);
    (void)unacked_data(c);
    assert_int_equal(fa_tcp_close(c, pe.now), -EINPROGRESS);
    peer_drain(&pe);
    peer_send(&pe, FA_TCP_RST, pe.snd_nxt, 0, 0, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_close(c, pe.now), -ECONNRESET);
}

/* A soft error heard for the SYN outlived the handshake: the SYN-ACK
 * acknowledges our SYN (Linux's tcp_ack clears sk_err_soft there), but
 * only an ACK of data cleared it. When the first data then timed out, the
 * application was told EHOSTUNREACH — an error the path has since
 * disproved — not ETIMEDOUT. */
static void soft_error_of_the_syn_is_stale_once_established(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_data_retries = 2;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_HOST, 0, syn.seq);
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_SENT);
    peer_send_next(&pe, FA_TCP_SYN | FA_TCP_ACK, NULL, 0); /* the path works */
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    peer_drain(&pe);
    (void)unacked_data(c);
    peer_run_until(&pe, pe.now + 120 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -ETIMEDOUT);
    fa_tcp_close(c, pe.now);
}

/* UDP: the error's quote was matched against the socket's peer, so an
 * unconnected socket (0.0.0.0, port 0) took an error whose quote names
 * 0.0.0.0:0, and its next recvfrom said -ECONNREFUSED — one failed read
 * per forged packet for anyone who knows the port. Linux reports ICMP
 * errors to unconnected UDP sockets only with IP_RECVERR. */
static void forged_icmp_reaches_an_unconnected_udp_socket(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_udp *u;
    assert_int_equal(fa_udp_open(pe.s, &u), 0);
    assert_int_equal(fa_udp_bind(u, 0, 5353), 0);
    uint8_t msg[8 + 28], fr[128];
    memset(msg, 0, sizeof msg);
    uint8_t *q = msg + 8;
    fa_ipv4_hdr_emit(q, 100, 1, 0, 64, FA_IPPROTO_UDP, IP_US, 0);
    fa_put16(q + 20, 5353); /* our port */
    fa_put16(q + 22, 0);    /* "their" port */
    fa_icmp_emit(msg, sizeof msg, FA_ICMP_UNREACH, FA_ICMP_UNREACH_PORT, 0);
    size_t n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, msg, sizeof msg);
    fa_stack_input(pe.s, fr, n, pe.now);
    char buf[16];
    assert_false(fa_udp_events(u) & FA_TCP_EV_ERROR);
    assert_int_equal(fa_udp_recvfrom(u, buf, sizeof buf, NULL, NULL, pe.now), -EAGAIN);
    fa_udp_close(u);
}


/* A compact TIME-WAIT entry with timestamps (TS.Recent 102); *l the
 * listener, *last finack's last ACK. */
static void tw_with_ts(struct fa_tcp **l, struct fa_tcp_view *last)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c;
    uint8_t o[40], t[12];
    size_t n = opt_syn(o, 1, 1, 100, 0);
    struct fa_tcp_view sa = peer_syn_to_listener(&pe, 8080, o, n, l);
    pe.snd_nxt++;
    pe.rcv_nxt = sa.seq + 1;
    opt_ts(t, 101, sa.opts.ts_val);
    peer_send_opts(&pe, FA_TCP_ACK, pe.snd_nxt, pe.rcv_nxt, 65535, t, sizeof t, NULL, 0);
    assert_int_equal(fa_tcp_accept(*l, &c), 0);
    fa_tcp_close(c, pe.now);
    struct fa_tcp_view fin = peer_expect(&pe);
    pe.rcv_nxt = fin.seq + 1;
    opt_ts(t, 102, fin.opts.ts_val);
    peer_send_opts(&pe, FA_TCP_ACK | FA_TCP_FIN, pe.snd_nxt, pe.rcv_nxt, 65535, t, sizeof t, NULL, 0);
    pe.snd_nxt++;
    *last = peer_expect(&pe);
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, 1);
}

static int tw_count(void)
{
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    return (int)u.time_wait;
}

static void time_wait_rules_hold(void **state)
{
    (void)state;
    struct fa_tcp *l;
    struct fa_tcp_view last, v;
    tw_with_ts(&l, &last);
    uint8_t o[40];
    /* Higher sequence number, older TSval: RFC 6191 says drop; a
     * challenge ACK at most, no SYN-ACK. */
    size_t n = opt_syn(o, 1, 1, 50, 0);
    peer_send_opts(&pe, FA_TCP_SYN, pe.snd_nxt + 100000, 0, 65535, o, n, NULL, 0);
    while (peer_next(&pe, &v))
        assert_false(v.flags & FA_TCP_SYN);
    assert_int_equal(tw_count(), 1);
    /* Equal TSval, lower sequence number: no. */
    n = opt_syn(o, 1, 1, 102, 0);
    peer_send_opts(&pe, FA_TCP_SYN, pe.snd_nxt - 5, 0, 65535, o, n, NULL, 0);
    while (peer_next(&pe, &v))
        assert_false(v.flags & FA_TCP_SYN);
    assert_int_equal(tw_count(), 1);
    /* An ICMP error quoting the TIME-WAIT 4-tuple: ignored. */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_PORT, 0, last.seq);
    assert_int_equal(tw_count(), 1);
    /* RST off RCV.NXT by one either way: ignored. */
    peer_send(&pe, FA_TCP_RST, pe.snd_nxt - 1, 0, 0, NULL, 0);
    peer_send(&pe, FA_TCP_RST, pe.snd_nxt + 1, 0, 0, NULL, 0);
    assert_int_equal(tw_count(), 1);
    assert_true(peer_quiet(&pe));
    /* FIN again (with stale TS): re-ACKed. */
    pe.now += 30 * S;
    uint8_t t[12];
    opt_ts(t, 103, 0);
    peer_send_opts(&pe, FA_TCP_ACK | FA_TCP_FIN, pe.snd_nxt - 1, pe.rcv_nxt, 65535, t, sizeof t, NULL, 0);
    v = peer_expect(&pe);
    assert_int_equal(v.ack, pe.snd_nxt);
    /* ...and 2 MSL restarts: alive at +59 s from the FIN, gone at +61. */
    peer_run_until(&pe, pe.now + 59 * S);
    assert_int_equal(tw_count(), 1);
    peer_run_until(&pe, pe.now + 2 * S);
    assert_int_equal(tw_count(), 0);
    fa_tcp_close(l, pe.now);
}

/* What held: a short quote, a SEQ not in flight, a tiny MTU, hard
 * errors against an established connection. */
static void short_quote_and_tiny_mtu_are_ignored(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    uint32_t f = unacked_data(c);
    uint16_t mss0 = c->mss;
    /* Quote of 20 + 7 bytes: ignored (no read past it, ASan-clean). */
    uint8_t msg[8 + 27], fr[128];
    uint8_t *q = msg + 8;
    fa_ipv4_hdr_emit(q, 1500, 1, 0, 64, FA_IPPROTO_TCP, IP_US, IP_PEER);
    fa_put16(q + 20, pe.our_port);
    fa_put16(q + 22, pe.port);
    fa_put16(q + 24, (uint16_t)(f >> 16));
    q[26] = (uint8_t)(f >> 8);
    fa_icmp_emit(msg, sizeof msg, FA_ICMP_UNREACH, FA_ICMP_UNREACH_NEEDFRAG, 576);
    size_t n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, msg, sizeof msg);
    fa_stack_input(pe.s, fr, n, pe.now);
    assert_int_equal(c->mss, mss0);
    /* SEQ = SND.NXT (not in flight): ignored; SND.UNA - 1: ignored. */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 576, c->snd_nxt);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 576, c->snd_una - 1);
    assert_int_equal(c->mss, mss0);
    /* MTU 68: floored at 552. */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 68, f);
    assert_int_equal(c->mss, 552 - 40 - 12);
    /* Port/protocol unreachable: established survives. */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_PORT, 0, f);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_PROTO, 0, f);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(linger_timeout_reported_without_icmp, teardown),
        cmocka_unit_test_teardown(linger_timeout_reported_after_soft_icmp, teardown),
        cmocka_unit_test_teardown(linger_ended_by_reset_says_so, teardown),
        cmocka_unit_test_teardown(soft_error_of_the_syn_is_stale_once_established, teardown),
        cmocka_unit_test_teardown(forged_icmp_reaches_an_unconnected_udp_socket, teardown),
        cmocka_unit_test_teardown(short_quote_and_tiny_mtu_are_ignored, teardown),
        cmocka_unit_test_teardown(time_wait_rules_hold, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
