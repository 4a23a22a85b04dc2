/* frames.c — test helpers: capture device and frame builders. */
#include "frames.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
const uint8_t mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x99 };

static int capture_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct capture *c = ctx;
    assert_true(len <= CAP_FRAME);
    if (c->count < CAP_MAX) {
        memcpy(c->frame[c->count], frame, len);
        c->len[c->count] = len;
    }
    c->count++;
    return 0;
}

struct fa_device capture_device(struct capture *c)
{
    return (struct fa_device){ .ctx = c, .transmit = capture_transmit };
}

size_t build_arp(uint8_t *buf, const uint8_t *eth_dst, uint16_t op,
                 const uint8_t *sha, uint32_t spa, const uint8_t *tha,
                 uint32_t tpa)
{
    fa_eth_emit(buf, eth_dst, sha, FA_ETHERTYPE_ARP);
    fa_arp_emit(buf + FA_ETH_HLEN, op, sha, spa, tha, tpa);
    return FA_ETH_HLEN + FA_ARP_LEN;
}

size_t build_ipv4(uint8_t *buf, const uint8_t *eth_dst, const uint8_t *eth_src,
                  uint32_t src, uint32_t dst, uint8_t proto,
                  const uint8_t *payload, size_t len)
{
    fa_eth_emit(buf, eth_dst, eth_src, FA_ETHERTYPE_IPV4);
    fa_ipv4_hdr_emit(buf + FA_ETH_HLEN, (uint16_t)(FA_IPV4_HLEN + len), 1, 0, 64,
                 proto, src, dst);
    if (len)
        memcpy(buf + FA_ETH_HLEN + FA_IPV4_HLEN, payload, len);
    return FA_ETH_HLEN + FA_IPV4_HLEN + len;
}

size_t build_echo(uint8_t *buf, const uint8_t *eth_dst, uint32_t src,
                  uint32_t dst, uint16_t id, uint16_t seq, const uint8_t *data,
                  size_t len)
{
    uint8_t msg[2048];
    if (len)
        memcpy(msg + FA_ICMP_HLEN, data, len);
    fa_icmp_emit(msg, FA_ICMP_HLEN + len, FA_ICMP_ECHO, 0,
                 (uint32_t)id << 16 | seq);
    return build_ipv4(buf, eth_dst, mac_peer, src, dst, FA_IPPROTO_ICMP, msg,
                      FA_ICMP_HLEN + len);
}

size_t build_udp(uint8_t *buf, const uint8_t *eth_dst, uint32_t src,
                 uint32_t dst, uint16_t sport, uint16_t dport,
                 const uint8_t *data, size_t len)
{
    uint8_t dgram[2048];
    uint16_t ulen = (uint16_t)(8 + len);
    fa_put16(dgram, sport);
    fa_put16(dgram + 2, dport);
    fa_put16(dgram + 4, ulen);
    fa_put16(dgram + 6, 0);
    if (len)
        memcpy(dgram + 8, data, len);
    uint16_t c = fa_csum_fold(
        fa_csum_add(fa_csum_pseudo(src, dst, FA_IPPROTO_UDP, ulen), dgram, ulen));
    fa_csum_store(dgram + 6, c ? c : 0xffff);
    return build_ipv4(buf, eth_dst, mac_peer, src, dst, FA_IPPROTO_UDP, dgram,
                      ulen);
}

void refresh_ip_checksum(uint8_t *frame)
{
    uint8_t *ip = frame + FA_ETH_HLEN;
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    ip[10] = ip[11] = 0;
    fa_csum_store(ip + 10, fa_csum_fold(fa_csum_add(0, ip, hlen)));
}

struct fa_stack *make_stack(struct capture *cap, struct fa_prng *prng,
                            struct fa_config *cfg)
{
    fa_prng_seed(prng, 42);
    if (!cfg->addr) {
        cfg->addr = IP_US;
        cfg->arp_gratuitous = 0;
    }
    if (!cfg->mac[0])
        memcpy(cfg->mac, mac_a, 6);
    cfg->device = capture_device(cap);
    cfg->rng = fa_prng_rng(prng);
    struct fa_stack *s = NULL;
    assert_int_equal(fa_stack_create(cfg, 0, &s), 0);
    return s;
}

uint64_t drops_total(const struct fa_stack *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < FA_CNT_COUNT; i++)
        if (fa_counter_is_drop(i))
            n += fa_stack_counter(s, i);
    return n;
}

size_t build_tcp(uint8_t *buf, uint16_t sport, uint16_t dport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opts,
                 size_t olen, const uint8_t *data, size_t len)
{
    uint8_t seg[2048];
    size_t hlen = fa_tcp_hdr_emit(seg, sport, dport, seq, ack, flags, wnd, NULL);
    if (olen)
        memcpy(seg + hlen, opts, olen);
    hlen += olen;
    seg[12] = (uint8_t)((hlen / 4) << 4);
    if (len)
        memcpy(seg + hlen, data, len);
    fa_tcp_hdr_checksum(seg, hlen + len, IP_PEER, IP_US);
    return build_ipv4(buf, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_TCP, seg,
                      hlen + len);
}
