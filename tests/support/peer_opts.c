/* peer_opts.c — TCP options and ICMP errors for the hand-driven peer
 * (peer_opts.h). */
#include "peer_opts.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tcp/tcp.h"
#include "wire/wire.h"

size_t opt_ts(uint8_t *o, uint32_t val, uint32_t ecr)
{
    o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
    fa_put32(o + 4, val);
    fa_put32(o + 8, ecr);
    return 12;
}

size_t opt_sack(uint8_t *o, unsigned n, const uint32_t (*b)[2])
{
    o[0] = 1; o[1] = 1; o[2] = 5; o[3] = (uint8_t)(2 + 8 * n);
    for (unsigned i = 0; i < n; i++) {
        fa_put32(o + 4 + 8 * i, b[i][0]);
        fa_put32(o + 8 + 8 * i, b[i][1]);
    }
    return 4 + 8 * n;
}

size_t opt_syn(uint8_t *o, int sack, int ts, uint32_t val, uint32_t ecr)
{
    size_t n = 0;
    o[n++] = 2; o[n++] = 4; fa_put16(o + n, 1460); n += 2;
    if (sack) { o[n++] = 1; o[n++] = 1; o[n++] = 4; o[n++] = 2; }
    if (ts)
        n += opt_ts(o + n, val, ecr);
    return n;
}

struct fa_tcp *peer_connected_modern(struct peer *pe, uint32_t *ts)
{
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(pe, 0, &syn);
    pe->now += PEER_RTT;
    uint8_t o[40];
    size_t n = opt_syn(o, 1, 1, *ts, syn.opts.ts_val);
    peer_send_opts(pe, FA_TCP_SYN | FA_TCP_ACK, pe->snd_nxt, pe->rcv_nxt, 65535, o, n,
                   NULL, 0);
    pe->snd_nxt++;
    struct fa_tcp_view a = peer_expect(pe);
    assert_int_equal(a.flags, FA_TCP_ACK);
    assert_true(a.opts.has_ts);
    assert_int_equal(a.opts.ts_ecr, *ts);
    return c;
}

void peer_sack_wnd(struct peer *pe, uint32_t *ts, uint32_t ack, uint16_t wnd,
                   unsigned n, const uint32_t (*b)[2])
{
    uint8_t o[40];
    size_t k = opt_ts(o, ++*ts, 0);
    if (n)
        k += opt_sack(o + k, n, b);
    while (k % 4)
        o[k++] = 1;
    peer_send_opts(pe, FA_TCP_ACK, pe->snd_nxt, ack, wnd, o, k, NULL, 0);
}

uint32_t peer_take_segments(struct peer *pe, struct fa_tcp *c, unsigned n,
                            unsigned expect, uint32_t *mss)
{
    static uint8_t data[64 * 1448];
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    *mss = i.mss;
    assert_int_equal(fa_tcp_send(c, data, (size_t)n * *mss, pe->now), (long)n * *mss);
    uint32_t first = 0;
    for (unsigned k = 0; k < expect; k++) {
        struct fa_tcp_view v = peer_expect(pe);
        if (k == 0)
            first = v.seq;
    }
    return first;
}

struct fa_tcp_view peer_syn_to_listener(struct peer *pe, uint16_t port,
                                        const uint8_t *o, size_t n, struct fa_tcp **l)
{
    assert_int_equal(fa_tcp_open(pe->s, l), 0);
    assert_int_equal(fa_tcp_bind(*l, 0, port), 0);
    assert_int_equal(fa_tcp_listen(*l, 4, pe->now), 0);
    pe->our_port = port;
    peer_send_opts(pe, FA_TCP_SYN, pe->snd_nxt, 0, 65535, o, n, NULL, 0);
    return peer_expect(pe);
}

void peer_icmp_unreach(struct peer *pe, uint8_t code, uint16_t mtu, uint32_t seq)
{
    peer_icmp_error(pe, FA_ICMP_UNREACH, code, mtu, seq);
}

void peer_icmp_error(struct peer *pe, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq)
{
    uint8_t msg[8 + 28], fr[128];
    uint8_t *q = msg + 8;
    fa_ipv4_hdr_emit(q, 1500, 1, 0, 64, FA_IPPROTO_TCP, IP_US, IP_PEER);
    fa_put16(q + 20, pe->our_port);
    fa_put16(q + 22, pe->port);
    fa_put32(q + 24, seq);
    fa_icmp_emit(msg, sizeof msg, type, code, mtu);
    size_t n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, msg, sizeof msg);
    fa_stack_input(pe->s, fr, n, pe->now);
}

void peer_hystart_ack(struct fa_tcp *c, fa_time rtt, uint32_t n)
{
    if (seq_ge(c->snd_una + c->mss, c->loss->hs.window_end))
        c->snd_nxt = c->snd_una + n * c->mss;
    fa_tcp_hystart_ack(c, c->mss, rtt);
    c->snd_una += c->mss;
}
