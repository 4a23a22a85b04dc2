/* peer.c — the hand-driven TCP peer (see peer.h). */
#include "peer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

/* A live peer answers ARP: keep finack's entry for it fresh. */
static void peer_arp_refresh(struct peer *pe)
{
    if (pe->now < pe->arp_fresh_until)
        return;
    uint8_t fr[64];
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(pe->s, fr, n, pe->now);
    pe->arp_fresh_until = pe->now + 20 * FA_NS_PER_S;
}

void peer_init(struct peer *pe, const struct fa_config *cfg, uint16_t port)
{
    memset(pe, 0, sizeof *pe);
    if (cfg)
        pe->cfg = *cfg;
    else
        fa_config_init(&pe->cfg);
    pe->s = make_stack(&pe->cap, &pe->prng, &pe->cfg);
    peer_arp_refresh(pe);
    pe->port = port;
    pe->snd_nxt = 0x10000000;
}

void peer_destroy(struct peer *pe)
{
    fa_stack_destroy(pe->s);
    pe->s = NULL;
}

void peer_reset(struct peer *pe)
{
    if (pe->s)
        peer_destroy(pe);
    memset(pe, 0, sizeof *pe);
}

struct fa_tcp_info peer_info(const struct fa_tcp *c)
{
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    return i;
}

void peer_drain(struct peer *pe)
{
    struct fa_tcp_view v;
    while (peer_next(pe, &v))
        ;
}

void peer_send_opts(struct peer *pe, uint8_t flags, uint32_t seq, uint32_t ack,
                    uint16_t wnd, const uint8_t *opts, size_t olen,
                    const void *data, size_t len)
{
    peer_arp_refresh(pe);
    uint8_t fr[2048];
    size_t n = build_tcp(fr, pe->port, pe->our_port, seq, ack, flags, wnd, opts, olen,
                         data, len);
    fa_stack_input(pe->s, fr, n, pe->now);
}

void peer_send(struct peer *pe, uint8_t flags, uint32_t seq, uint32_t ack,
               uint16_t wnd, const void *data, size_t len)
{
    peer_send_opts(pe, flags, seq, ack, wnd, NULL, 0, data, len);
}

void peer_send_next(struct peer *pe, uint8_t flags, const void *data, size_t len)
{
    peer_send(pe, flags, pe->snd_nxt, pe->rcv_nxt, 65535, data, len);
    pe->snd_nxt += (uint32_t)len + !!(flags & FA_TCP_SYN) + !!(flags & FA_TCP_FIN);
}

static int frame_tcp(struct peer *pe, size_t i, struct fa_tcp_view *v)
{
    struct fa_ipv4_view ip;
    const uint8_t *f = pe->cap.frame[i];
    if (fa_get16(f + 12) != FA_ETHERTYPE_IPV4 ||
        fa_ipv4_hdr_parse(f + 14, pe->cap.len[i] - 14, &ip) != 0 ||
        ip.proto != FA_IPPROTO_TCP)
        return 0;
    assert_int_equal(fa_tcp_hdr_parse(ip.payload, ip.payload_len, ip.src, ip.dst, 0, v), 0);
    return 1;
}

/* A live peer answers finack's ARP requests (its entry went stale over
 * a long quiet spell); the frame finack held then goes out. */
static void answer_arp(struct peer *pe, size_t i)
{
    const uint8_t *f = pe->cap.frame[i];
    if (fa_get16(f + 12) != FA_ETHERTYPE_ARP || fa_get16(f + 14 + 6) != FA_ARP_REQUEST)
        return;
    pe->arp_fresh_until = 0;
    peer_arp_refresh(pe);
}

int peer_next(struct peer *pe, struct fa_tcp_view *v)
{
    while (pe->seen < pe->cap.count && pe->seen < CAP_MAX) {
        answer_arp(pe, pe->seen);
        if (frame_tcp(pe, pe->seen++, v)) {
            uint32_t end = v->seq + v->data_len + !!(v->flags & FA_TCP_SYN) +
                           !!(v->flags & FA_TCP_FIN);
            if (!(v->flags & FA_TCP_RST) && (int32_t)(end - pe->rcv_nxt) > 0)
                pe->rcv_nxt = end;
            return 1;
        }
    }
    assert_true(pe->cap.count <= CAP_MAX); /* nothing was lost uncaptured */
    pe->cap.count = pe->seen = 0;          /* all seen: room for more */
    return 0;
}

struct fa_tcp_view peer_expect(struct peer *pe)
{
    struct fa_tcp_view v;
    if (!peer_next(pe, &v))
        fail_msg("finack sent no segment");
    return v;
}

int peer_quiet(struct peer *pe)
{
    struct fa_tcp_view v;
    return !peer_next(pe, &v);
}

void peer_run_until(struct peer *pe, fa_time until)
{
    for (int guard = 0; guard < 1000000; guard++) {
        fa_time next = fa_stack_poll(pe->s, pe->now);
        if (next > until) {
            pe->now = until;
            fa_stack_poll(pe->s, pe->now);
            return;
        }
        pe->now = next;
    }
    fail_msg("peer_run_until did not settle");
}

struct fa_tcp *peer_connecting(struct peer *pe, uint16_t our_port, struct fa_tcp_view *syn)
{
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_open(pe->s, &c), 0);
    if (our_port)
        assert_int_equal(fa_tcp_bind(c, 0, our_port), 0);
    assert_int_equal(fa_tcp_connect(c, IP_PEER, pe->port, pe->now), -EINPROGRESS);
    *syn = peer_expect(pe);
    assert_int_equal(syn->flags, FA_TCP_SYN);
    pe->our_port = syn->sport;
    pe->rcv_nxt = syn->seq + 1;
    return c;
}

struct fa_tcp *peer_connected(struct peer *pe)
{
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(pe, 0, &syn);
    pe->now += PEER_RTT;
    peer_send_next(pe, FA_TCP_SYN | FA_TCP_ACK, NULL, 0);
    struct fa_tcp_view ack = peer_expect(pe);
    assert_int_equal(ack.flags, FA_TCP_ACK);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    return c;
}

struct fa_tcp *peer_listening_backlog(struct peer *pe, uint16_t our_port, int backlog)
{
    struct fa_tcp *l;
    assert_int_equal(fa_tcp_open(pe->s, &l), 0);
    assert_int_equal(fa_tcp_bind(l, 0, our_port), 0);
    assert_int_equal(fa_tcp_listen(l, backlog, pe->now), 0);
    pe->our_port = our_port;
    return l;
}

struct fa_tcp *peer_listening(struct peer *pe, uint16_t our_port)
{
    return peer_listening_backlog(pe, our_port, 4);
}

struct fa_tcp *peer_accepted(struct peer *pe, uint16_t our_port,
                             struct fa_tcp **listener)
{
    struct fa_tcp *c, *l = peer_listening(pe, our_port);
    peer_send_next(pe, FA_TCP_SYN, NULL, 0);
    struct fa_tcp_view synack = peer_expect(pe);
    assert_int_equal(synack.flags, FA_TCP_SYN | FA_TCP_ACK);
    assert_int_equal(synack.ack, pe->snd_nxt);
    pe->now += PEER_RTT;
    peer_send_next(pe, FA_TCP_ACK, NULL, 0);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    if (listener)
        *listener = l;
    else
        fa_tcp_close(l, pe->now);
    return c;
}
