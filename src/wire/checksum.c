/* checksum.c — the Internet checksum (RFC 1071), used for every IPv4
 * header and, later, every TCP and UDP byte: it is on the data path, so
 * it sums eight bytes per load.
 *
 * Each 64-bit word is added as two 32-bit halves into 64-bit
 * accumulators, so no carry is ever lost (2^32 additions of 2^32 - 1 fit
 * in 64 bits) and the loop has no carry chain; four accumulators let the
 * CPU run the adds in parallel. Because 2^16 ≡ 1 (mod 2^16 - 1), the
 * halves of any wider word sum to the same ones' complement value as its
 * 16-bit words (RFC 1071 §2(A), (C)). Bytes are summed in memory order,
 * so the result is in the machine's byte order (RFC 1071 §2(B)). */
#include "wire.h"

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

uint64_t fa_csum_add(uint64_t acc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t a0 = acc, a1 = 0, a2 = 0, a3 = 0;

    for (; len >= 32; p += 32, len -= 32) {
        uint64_t w0 = load64(p), w1 = load64(p + 8);
        uint64_t w2 = load64(p + 16), w3 = load64(p + 24);
        a0 += (uint32_t)w0 + (w0 >> 32);
        a1 += (uint32_t)w1 + (w1 >> 32);
        a2 += (uint32_t)w2 + (w2 >> 32);
        a3 += (uint32_t)w3 + (w3 >> 32);
    }
    for (; len >= 4; p += 4, len -= 4)
        a0 += load32(p);
    if (len >= 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        a0 += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        /* A trailing odd byte is padded with a zero byte after it. */
        uint8_t pad[2] = { p[0], 0 };
        uint16_t h;
        memcpy(&h, pad, 2);
        a0 += h;
    }
    /* Each accumulator is below 2^62 for any buffer under 2^29 bytes. */
    return a0 + a1 + a2 + a3;
}

uint16_t fa_csum_fold(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

void fa_csum_complete(uint8_t *l4, size_t len, size_t field_off, int udp)
{
    uint16_t folded = fa_csum_fold(fa_csum_add(0, l4, len));
    if (udp && folded == 0)
        folded = 0xffff;
    fa_csum_store(l4 + field_off, folded);
}

uint64_t fa_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                        uint16_t len)
{
    uint8_t ph[12];
    fa_put32(ph, src);
    fa_put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    fa_put16(ph + 10, len);
    return fa_csum_add(0, ph, sizeof ph);
}
