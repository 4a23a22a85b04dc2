/* forge.c — a TCP segment, or an ICMP error about one, in an Ethernet
 * frame, built byte by byte (forge.h): IPv4 header with its checksum, TCP
 * header with no option but timestamps, the pseudo-header checksum over header and
 * data; ICMP with its checksum over the message. */
#include "forge.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* RFC 1071: the ones' complement of the ones' complement sum. */
static uint16_t fold(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* An IPv4 header without options at ip. */
static void ipv4_header(uint8_t *ip, uint16_t total, uint8_t proto, uint32_t src, uint32_t dst)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, total);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, fold(0, ip, 20));
}

size_t forge_tcp(uint8_t *out, const struct forged *f)
{
    size_t len = f->len > FORGE_MAX_DATA ? FORGE_MAX_DATA : f->len;
    size_t hl = f->ts ? 32 : 20; /* NOP, NOP, TS: 12 bytes */
    memcpy(out, f->dst_mac, 6);
    memcpy(out + 6, f->src_mac, 6);
    put16(out + 12, 0x0800);
    uint8_t *ip = out + 14, *t = ip + 20;
    memset(t, 0, hl);
    ipv4_header(ip, (uint16_t)(20 + hl + len), 6, f->src, f->dst);
    put16(t, f->sport);
    put16(t + 2, f->dport);
    put32(t + 4, f->seq);
    put32(t + 8, f->ack);
    t[12] = (uint8_t)(hl / 4 << 4);
    t[13] = f->flags;
    put16(t + 14, f->wnd);
    if (f->ts) {
        t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;
        put32(t + 24, f->ts_val);
        put32(t + 28, f->ts_ecr);
    }
    if (len)
        memcpy(t + hl, f->data, len);
    uint32_t pseudo = (f->src >> 16) + (f->src & 0xffff) + (f->dst >> 16) +
                      (f->dst & 0xffff) + 6 + (uint32_t)(hl + len);
    put16(t + 16, fold(pseudo, t, hl + len));
    return 14 + 20 + hl + len;
}

size_t forge_icmp(uint8_t *out, const struct forged *f, uint32_t from, uint8_t type,
                  uint8_t code, uint16_t mtu)
{
    memcpy(out, f->dst_mac, 6);
    memcpy(out + 6, f->src_mac, 6);
    put16(out + 12, 0x0800);
    uint8_t *ip = out + 14, *m = ip + 20, *q = m + 8;
    ipv4_header(ip, 20 + 8 + 28, 1, from, f->dst);
    memset(m, 0, 8);
    m[0] = type;
    m[1] = code;
    put16(m + 6, mtu);
    ipv4_header(q, 1500, 6, f->dst, f->src); /* what f->dst sent */
    put16(q + 20, f->dport);
    put16(q + 22, f->sport);
    put32(q + 24, f->seq);
    put16(m + 2, fold(0, m, 8 + 28));
    return 14 + 20 + 8 + 28;
}
