/* udp_input.c — UDP datagram arrival (RFC 768). This build has no UDP
 * sockets yet, so every valid datagram is to a closed port: it is
 * counted and answered with ICMP port unreachable (RFC 1122 §4.1.3.1).
 * Malformed ones are dropped and counted first. */
#include "../iface/iface.h"

#define FA_UDP_HLEN 8

void fa_udp_input(struct fa_stack *s, const struct fa_rx_ctx *rx,
                  fa_time now)
{
    const struct fa_ipv4_view *ip = &rx->ip;
    if (ip->payload_len < FA_UDP_HLEN ||
        fa_get16(ip->payload + 4) < FA_UDP_HLEN ||
        fa_get16(ip->payload + 4) > ip->payload_len) {
        fa_count(s, FA_CNT_UDP_TOO_SHORT);
        return;
    }
    uint16_t udp_len = fa_get16(ip->payload + 4);
    /* A zero checksum field means the sender did not compute one. */
    if (fa_get16(ip->payload + 6) != 0) {
        uint64_t sum = fa_csum_pseudo(ip->src, ip->dst, FA_IPPROTO_UDP,
                                      udp_len);
        if (fa_csum_fold(fa_csum_add(sum, ip->payload, udp_len)) != 0) {
            fa_count(s, FA_CNT_UDP_BAD_CHECKSUM);
            return;
        }
    }
    fa_count(s, FA_CNT_UDP_NO_PORT);
    fa_icmp_send_unreach(s, rx, FA_ICMP_UNREACH_PORT, now);
}
