/* arp.c — ARP packet parse and emit, for IPv4 over Ethernet only
 * (RFC 826: hardware type 1, protocol 0x0800, lengths 6 and 4). */
#include "wire.h"

int fa_arp_parse(const uint8_t *pkt, size_t len, struct fa_arp_view *out)
{
    if (len < FA_ARP_LEN)
        return FA_CNT_ARP_MALFORMED;
    if (fa_get16(pkt) != 1 || fa_get16(pkt + 2) != FA_ETHERTYPE_IPV4)
        return FA_CNT_ARP_UNSUPPORTED;
    if (pkt[4] != 6 || pkt[5] != 4)
        return FA_CNT_ARP_MALFORMED;
    out->op = fa_get16(pkt + 6);
    if (out->op != FA_ARP_REQUEST && out->op != FA_ARP_REPLY)
        return FA_CNT_ARP_UNSUPPORTED;
    out->sha = pkt + 8;
    out->spa = fa_get32(pkt + 14);
    out->tha = pkt + 18;
    out->tpa = fa_get32(pkt + 24);
    return 0;
}

void fa_arp_emit(uint8_t *pkt, uint16_t op, const uint8_t sha[6],
                 uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    fa_put16(pkt, 1);
    fa_put16(pkt + 2, FA_ETHERTYPE_IPV4);
    pkt[4] = 6;
    pkt[5] = 4;
    fa_put16(pkt + 6, op);
    memcpy(pkt + 8, sha, 6);
    fa_put32(pkt + 14, spa);
    memcpy(pkt + 18, tha, 6);
    fa_put32(pkt + 24, tpa);
}
