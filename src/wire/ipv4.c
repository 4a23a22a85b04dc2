/* ipv4.c — IPv4 header parse and emit (RFC 791), with the validity
 * checks of RFC 1122 §3.2.1: version, header length, total length, the
 * header checksum, and the options' own lengths; options are not acted
 * on, and a source route is refused. */
#include "wire.h"

/* RFC 791's options: each a type, then (but EOL and NOP) a length of at
 * least 2 that stays in the header; Record Route and the source routes
 * carry a pointer of at least 4, Timestamp of at least 5 (what Linux's
 * ip_options_compile refuses, review: an option of length 1, or past the
 * header, was answered). A source route (LSRR, SSRR) asks a host to
 * forward: it is dropped, as Linux does with accept_source_route 0 (RFC
 * 1122 §3.3.5: an unfinished route SHOULD be discarded). */
static int options_check(const uint8_t *opt, unsigned len)
{
    for (unsigned i = 0; i < len;) {
        uint8_t type = opt[i];
        if (type == 0) /* end of the list */
            return 0;
        if (type == 1) { /* no operation */
            i++;
            continue;
        }
        if (len - i < 2 || opt[i + 1] < 2 || opt[i + 1] > len - i)
            return FA_CNT_IP_BAD_OPTIONS;
        unsigned olen = opt[i + 1];
        if (type == 0x83 || type == 0x89) /* LSRR, SSRR */
            return olen < 3 || opt[i + 2] < 4 ? FA_CNT_IP_BAD_OPTIONS : FA_CNT_IP_SOURCE_ROUTE;
        if (type == 0x07 && (olen < 3 || opt[i + 2] < 4)) /* Record Route */
            return FA_CNT_IP_BAD_OPTIONS;
        if (type == 0x44 && (olen < 4 || opt[i + 2] < 5)) /* Timestamp */
            return FA_CNT_IP_BAD_OPTIONS;
        i += olen;
    }
    return 0;
}

int fa_ipv4_hdr_parse(const uint8_t *pkt, size_t len, struct fa_ipv4_view *out)
{
    if (len < FA_IPV4_HLEN)
        return FA_CNT_IP_TOO_SHORT;
    if ((pkt[0] >> 4) != 4)
        return FA_CNT_IP_BAD_VERSION;
    unsigned hlen = (pkt[0] & 0x0fu) * 4u;
    if (hlen < FA_IPV4_HLEN || hlen > len)
        return FA_CNT_IP_BAD_IHL;
    unsigned total = fa_get16(pkt + 2);
    /* Frames shorter than 60 bytes are padded by the link, so only a
     * total length beyond the frame is an error (RFC 1122 §3.2.1.1). */
    if (total < hlen || total > len)
        return FA_CNT_IP_BAD_TOTAL_LEN;
    if (fa_csum_fold(fa_csum_add(0, pkt, hlen)) != 0)
        return FA_CNT_IP_BAD_CHECKSUM;
    if (hlen > FA_IPV4_HLEN) {
        int bad = options_check(pkt + FA_IPV4_HLEN, hlen - FA_IPV4_HLEN);
        if (bad)
            return bad;
    }
    /* A TTL of 0 is no reason to drop what is for us: RFC 1122 §3.2.1.7
     * "MUST NOT discard a datagram just because it was received with TTL
     * less than 2" (RFC 791's rule is a router's). */
    out->hlen = (uint8_t)hlen;
    out->tos = pkt[1];
    out->total_len = (uint16_t)total;
    out->id = fa_get16(pkt + 4);
    out->frag = fa_get16(pkt + 6);
    out->ttl = pkt[8];
    out->proto = pkt[9];
    out->src = fa_get32(pkt + 12);
    out->dst = fa_get32(pkt + 16);
    out->payload = pkt + hlen;
    out->payload_len = (uint16_t)(total - hlen);
    return 0;
}

void fa_ipv4_hdr_emit(uint8_t *pkt, uint16_t total_len, uint16_t id,
                  uint16_t frag, uint8_t ttl, uint8_t proto, uint32_t src,
                  uint32_t dst)
{
    pkt[0] = 0x45;
    pkt[1] = 0;
    fa_put16(pkt + 2, total_len);
    fa_put16(pkt + 4, id);
    fa_put16(pkt + 6, frag);
    pkt[8] = ttl;
    pkt[9] = proto;
    pkt[10] = pkt[11] = 0;
    fa_put32(pkt + 12, src);
    fa_put32(pkt + 16, dst);
    fa_csum_store(pkt + 10, fa_csum_fold(fa_csum_add(0, pkt, FA_IPV4_HLEN)));
}

int fa_ipv4_is_broadcast(uint32_t addr, uint32_t net_addr, uint8_t prefix_len)
{
    uint32_t mask = fa_ipv4_mask(prefix_len);
    if (addr == 0xffffffffu)
        return 1;
    /* Directed broadcast of our subnet; /31 and /32 have none (RFC 3021). */
    return prefix_len < 31 && (addr & mask) == (net_addr & mask) &&
           (addr & ~mask) == ~mask;
}
