/* gso.c — segmentation offload in software (finack/gso.h): a super-frame
 * or a checksum-partial frame turned into what a wire would carry. The
 * frame and its metadata are checked as untrusted input (they may come
 * from the kernel through a TAP): nothing is read or written outside
 * them or the scratch. */
#include <errno.h>
#include <finack/gso.h>
#include <string.h>

#include "../wire/wire.h"

/* The IPv4 packet's end (frame offset) if the frame is Ethernet + a
 * well-formed IPv4 header whose total length fits; 0 otherwise. */
static size_t ipv4_end(const uint8_t *f, size_t len)
{
    if (len < FA_ETH_HLEN + FA_IPV4_HLEN || fa_get16(f + 12) != FA_ETHERTYPE_IPV4 ||
        (f[FA_ETH_HLEN] >> 4) != 4 || (f[FA_ETH_HLEN] & 0x0f) < 5)
        return 0;
    size_t end = FA_ETH_HLEN + (size_t)fa_get16(f + FA_ETH_HLEN + 2);
    size_t l4 = FA_ETH_HLEN + (size_t)(f[FA_ETH_HLEN] & 0x0f) * 4;
    return end <= len && l4 <= end ? end : 0;
}

/* A partial checksum alone (any protocol: TCP, UDP): the sum from
 * csum_start on, the field holding the pseudo header's, stored there. */
static int complete_one(const uint8_t *f, size_t len, const struct fa_frame_meta *m,
                        uint8_t *scratch, size_t cap,
                        int (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx)
{
    size_t field = (size_t)m->csum_start + m->csum_offset;
    if (len > cap || m->csum_start < FA_ETH_HLEN + FA_IPV4_HLEN || field + 2 > len)
        return -EINVAL;
    memcpy(scratch, f, len);
    /* UDP's field is at 6, TCP's at 16. */
    fa_csum_complete(scratch + m->csum_start, len - m->csum_start, m->csum_offset,
                     m->csum_offset == 6);
    int err = emit(ctx, scratch, len);
    return err < 0 ? err : 1;
}

int fa_gso_segment(const uint8_t *f, size_t len, const struct fa_frame_meta *m,
                   uint8_t *scratch, size_t cap,
                   int (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx)
{
    if (!m || (!m->gso_type && !(m->flags & FA_META_CSUM_PARTIAL))) {
        int err = emit(ctx, f, len); /* nothing to do: as it is */
        return err < 0 ? err : 1;
    }
    if (!m->gso_type)
        return complete_one(f, len, m, scratch, cap, emit, ctx);
    /* A TCPv4 super-frame: the TCP header from the IPv4 header (the
     * metadata's csum_start must agree when it says so). */
    size_t end = ipv4_end(f, len);
    size_t l4 = FA_ETH_HLEN + (size_t)(f[FA_ETH_HLEN] & 0x0f) * 4;
    if (!end || m->gso_type != FA_GSO_TCPV4 || !m->gso_size || f[FA_ETH_HLEN + 9] != FA_IPPROTO_TCP ||
        l4 + FA_TCP_HLEN > end ||
        ((m->flags & FA_META_CSUM_PARTIAL) && (m->csum_start != l4 || m->csum_offset != 16)))
        return -EINVAL;
    size_t hdr = l4 + (size_t)(f[l4 + 12] >> 4) * 4;
    size_t step = m->gso_size;
    if ((f[l4 + 12] >> 4) < 5 || hdr > end || hdr + step > cap)
        return -EINVAL;
    size_t data = end - hdr;
    uint16_t id = fa_get16(f + FA_ETH_HLEN + 4);
    uint32_t seq = fa_get32(f + l4 + 4);
    uint32_t src = fa_get32(f + FA_ETH_HLEN + 12), dst = fa_get32(f + FA_ETH_HLEN + 16);
    int n = 0;
    size_t off = 0;
    do {
        size_t chunk = data - off < step ? data - off : step;
        memcpy(scratch, f, hdr);
        memcpy(scratch + hdr, f + hdr + off, chunk);
        uint8_t *ip = scratch + FA_ETH_HLEN, *tcp = scratch + l4;
        fa_put16(ip + 2, (uint16_t)(hdr - FA_ETH_HLEN + chunk));
        fa_put16(ip + 4, (uint16_t)(id + n));
        ip[10] = ip[11] = 0;
        fa_csum_store(ip + 10, fa_csum_fold(fa_csum_add(0, ip, l4 - FA_ETH_HLEN)));
        fa_put32(tcp + 4, seq + (uint32_t)off);
        /* As Linux's GSO: FIN and PSH on the last segment only, CWR on
         * the first only. */
        if (off + chunk < data)
            tcp[13] &= (uint8_t)~(FA_TCP_FIN | FA_TCP_PSH);
        if (n > 0)
            tcp[13] &= (uint8_t)~0x80;
        fa_tcp_hdr_checksum(tcp, hdr - l4 + chunk, src, dst);
        int err = emit(ctx, scratch, hdr + chunk);
        if (err < 0)
            return err;
        n++;
        off += chunk;
    } while (off < data);
    return n;
}
