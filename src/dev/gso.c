/* gso.c — segmentation offload in software (finack/gso.h): a super-frame
 * or a checksum-partial frame turned into what a wire would carry. */
#include <errno.h>
#include <finack/gso.h>
#include <string.h>

#include "../wire/wire.h"

/* Where the TCP header starts and how long the headers are, if the
 * frame is Ethernet + IPv4 + TCP with the metadata pointing at it. */
static int tcp_layout(const uint8_t *f, size_t len, const struct fa_frame_meta *m,
                      size_t *l4, size_t *hdr)
{
    if (len < FA_ETH_HLEN + FA_IPV4_HLEN + FA_TCP_HLEN ||
        fa_get16(f + 12) != FA_ETHERTYPE_IPV4 || f[FA_ETH_HLEN + 9] != FA_IPPROTO_TCP)
        return -EINVAL;
    *l4 = FA_ETH_HLEN + (size_t)(f[FA_ETH_HLEN] & 0x0f) * 4;
    if (*l4 + FA_TCP_HLEN > len || m->csum_start != *l4 || m->csum_offset != 16)
        return -EINVAL;
    *hdr = *l4 + (size_t)(f[*l4 + 12] >> 4) * 4;
    return *hdr <= len ? 0 : -EINVAL;
}

/* The TCP checksum of the segment at s (n bytes from its TCP header). */
static void tcp_checksum(uint8_t *s, size_t l4, size_t n)
{
    uint32_t src = fa_get32(s + FA_ETH_HLEN + 12), dst = fa_get32(s + FA_ETH_HLEN + 16);
    fa_tcp_hdr_checksum(s + l4, n, src, dst);
}

int fa_gso_segment(const uint8_t *f, size_t len, const struct fa_frame_meta *m,
                   uint8_t *scratch, size_t cap,
                   int (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx)
{
    if (!m || !(m->flags & FA_META_CSUM_PARTIAL)) {
        if (m && m->gso_type)
            return -EINVAL; /* segments without a checksum to redo */
        emit(ctx, f, len);
        return 1;
    }
    size_t l4, hdr;
    if (tcp_layout(f, len, m, &l4, &hdr) < 0)
        return -EINVAL;
    size_t data = len - hdr;
    size_t step = m->gso_type ? m->gso_size : data;
    if ((m->gso_type && (m->gso_type != FA_GSO_TCPV4 || !step)) || hdr + step > cap)
        return -EINVAL;
    uint16_t id = fa_get16(f + FA_ETH_HLEN + 4);
    uint32_t seq = fa_get32(f + l4 + 4);
    int n = 0;
    size_t off = 0;
    do {
        size_t chunk = data - off < step ? data - off : step;
        memcpy(scratch, f, hdr);
        memcpy(scratch + hdr, f + hdr + off, chunk);
        uint8_t *ip = scratch + FA_ETH_HLEN;
        if (m->gso_type) {
            size_t iphl = l4 - FA_ETH_HLEN;
            fa_put16(ip + 2, (uint16_t)(hdr - FA_ETH_HLEN + chunk));
            fa_put16(ip + 4, (uint16_t)(id + n));
            ip[10] = ip[11] = 0;
            fa_csum_store(ip + 10, fa_csum_fold(fa_csum_add(0, ip, iphl)));
            fa_put32(scratch + l4 + 4, seq + (uint32_t)off);
            if (off + chunk < data)
                scratch[l4 + 13] &= (uint8_t)~(FA_TCP_FIN | FA_TCP_PSH);
        }
        tcp_checksum(scratch, l4, hdr - l4 + chunk);
        emit(ctx, scratch, hdr + chunk);
        n++;
        off += chunk;
    } while (off < data);
    return n;
}
