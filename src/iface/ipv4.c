/* ipv4.c — IPv4 input (validation, destination check, demultiplexing to
 * ICMP, UDP and TCP) and output (routing to a next hop on the subnet or
 * the gateway, header emission, then ARP; to our own address, the
 * loopback queue). RFC 791, RFC 1122 §3.2.1. */
#include "iface.h"
#include "../tcp/tcp.h"

#include <errno.h>

static int is_our_broadcast(const struct fa_stack *s, uint32_t addr)
{
    return fa_ipv4_is_broadcast(addr, s->cfg.addr, s->cfg.prefix_len);
}

/* RFC 1122 §3.2.1.3: silently discard a datagram whose source is a
 * broadcast or multicast address; one claiming to come from us is a
 * reflection or a spoof. */
/* Not a source a host on the wire may have: a broadcast or multicast
 * address, ours, loopback (127/8: RFC 1122 §3.2.1.3 (g), "MUST NOT appear
 * outside a host"), the reserved 240/4, or 0/8 but 0.0.0.0 (a host that
 * does not know its address yet, §3.2.1.3 (a)). */
int fa_ipv4_bad_source(const struct fa_stack *s, uint32_t src)
{
    uint32_t top = src >> 24;
    return is_our_broadcast(s, src) || fa_ipv4_is_multicast(src) ||
           src == s->cfg.addr || top == 127 || (src >> 28) == 15 || (top == 0 && src != 0);
}

static void ip_deliver(struct fa_stack *s, const struct fa_rx_ctx *rx,
                       fa_time now)
{
    switch (rx->ip.proto) {
    case FA_IPPROTO_ICMP:
        fa_icmp_input(s, rx, now);
        break;
    case FA_IPPROTO_UDP:
        fa_udp_input(s, rx, now);
        break;
    case FA_IPPROTO_TCP:
        fa_tcp_input(s, rx, now);
        break;
    default:
        /* RFC 1122 §3.2.2.1: protocol unreachable for an unknown one. */
        fa_count(s, FA_CNT_IP_UNKNOWN_PROTO);
        fa_icmp_send_unreach(s, rx, FA_ICMP_UNREACH_PROTO, now);
    }
}

static void ipv4_input(struct fa_stack *s, const uint8_t *pkt, size_t len,
                       int link_broadcast, int local,
                       const struct fa_frame_meta *meta, fa_time now)
{
    struct fa_rx_ctx rx = { .ip_pkt = pkt };
    int drop = fa_ipv4_hdr_parse(pkt, len, &rx.ip);
    if (!drop && fa_rx_meta_check(meta, &rx.ip, &rx.hints) < 0)
        drop = FA_CNT_RX_BAD_OFFLOAD;
    /* (0.0.0.0 only to the limited broadcast, as a host that does not
     * know its address sends: Linux's martian rule; review.) */
    if (!drop && !local && (fa_ipv4_bad_source(s, rx.ip.src) ||
                            (rx.ip.src == 0 && rx.ip.dst != 0xffffffffu)))
        drop = FA_CNT_IP_BAD_SRC;
    int ip_broadcast = !drop && is_our_broadcast(s, rx.ip.dst);
    if (!drop && rx.ip.dst != s->cfg.addr && !ip_broadcast)
        drop = FA_CNT_IP_NOT_FOR_US;
    /* No reassembly yet: any fragment (MF set or offset nonzero) goes. */
    if (!drop && (rx.ip.frag & (FA_IPV4_MF | FA_IPV4_OFFSET_MASK)))
        drop = FA_CNT_IP_FRAGMENT;
    if (drop) {
        fa_count(s, (unsigned)drop);
        return;
    }
    rx.to_broadcast = link_broadcast || ip_broadcast;
    if (rx.hints.gso_size)
        fa_count(s, FA_CNT_RX_GSO_FRAMES);
    ip_deliver(s, &rx, now);
}

void fa_ipv4_input(struct fa_stack *s, const uint8_t *pkt, size_t len,
                   int link_broadcast, const struct fa_frame_meta *meta, fa_time now)
{
    ipv4_input(s, pkt, len, link_broadcast, 0, meta, now);
}

void fa_ipv4_input_local(struct fa_stack *s, const uint8_t *pkt, size_t len, fa_time now)
{
    ipv4_input(s, pkt, len, 0, 1, NULL, now);
}

/* Where dst goes: the limited or our subnet's broadcast, a neighbour, the
 * gateway. 0/8 and 127/8 never appear outside a host (RFC 1122 §3.2.1.3;
 * finack has no loopback network, only its own address), and finack
 * sends no multicast (no IGMP) nor to 240/4: no route. */
static int next_hop(const struct fa_stack *s, uint32_t dst, uint32_t *hop)
{
    uint32_t top = dst >> 24;
    if (is_our_broadcast(s, dst)) {
        *hop = 0xffffffffu;
    } else if (top == 0 || top == 127 || top >= 224) {
        return -ENETUNREACH;
    } else if ((dst & s->mask) == (s->cfg.addr & s->mask)) {
        *hop = dst;
    } else if (s->cfg.gateway) {
        *hop = s->cfg.gateway;
    } else {
        return -ENETUNREACH;
    }
    return 0;
}

int fa_ip_can_send_whole(struct fa_stack *s, uint32_t dst)
{
    uint32_t hop;
    return dst != s->cfg.addr && next_hop(s, dst, &hop) == 0 && fa_arp_resolved(s, hop);
}

int fa_ip_send(struct fa_stack *s, uint32_t dst, uint8_t proto, size_t len,
               fa_time now)
{
    uint32_t hop;
    /* A super-frame (TSO) may be larger than the MTU: the device cuts it. */
    size_t most = s->tx_meta.gso_type ? s->tx_cap - FA_ETH_HLEN - FA_IPV4_HLEN
                                      : fa_ip_payload_max(s);
    if (len > most) {
        fa_count(s, FA_CNT_IP_TOO_BIG);
        s->tx_meta = (struct fa_frame_meta){ 0 };
        return -EMSGSIZE;
    }
    if (dst == s->cfg.addr) { /* to ourselves: back up, not on the wire */
        size_t total = FA_IPV4_HLEN + len;
        uint8_t *pkt = s->tx + FA_ETH_HLEN;
        fa_ipv4_hdr_emit(pkt, (uint16_t)total, s->ip_id++, FA_IPV4_DF, s->cfg.ttl, proto,
                         s->cfg.addr, dst);
        if (fa_tx_meta_resolve(s, s->tx, FA_ETH_HLEN + total) < 0) {
            s->tx_meta = (struct fa_frame_meta){ 0 };
            return -EMSGSIZE;
        }
        return fa_loopback_send(s, pkt, total);
    }
    if (next_hop(s, dst, &hop) < 0) {
        fa_count(s, FA_CNT_IP_NO_ROUTE);
        s->tx_meta = (struct fa_frame_meta){ 0 };
        return -ENETUNREACH;
    }
    uint8_t *frame = s->tx;
    size_t total = FA_IPV4_HLEN + len;
    /* DF set: finack does not fragment (RFC 1191 path MTU discovery). */
    fa_ipv4_hdr_emit(frame + FA_ETH_HLEN, (uint16_t)total, s->ip_id,
                 FA_IPV4_DF, s->cfg.ttl, proto, s->cfg.addr, dst);
    /* A super-frame's segments get the ids that follow, as Linux's GSO
     * numbers them: the next packet starts after the last of them. */
    s->ip_id = (uint16_t)(s->ip_id + (s->tx_meta.gso_type ? s->tx_segs : 1));
    fa_eth_emit(frame, fa_mac_broadcast, s->cfg.mac, FA_ETHERTYPE_IPV4);
    int err = fa_arp_output(s, hop, frame, FA_ETH_HLEN + total, now);
    s->tx_meta = (struct fa_frame_meta){ 0 };
    return err;
}
