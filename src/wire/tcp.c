/* tcp.c — TCP header and options parse and emit (RFC 9293 §3.1; MSS,
 * window scale and timestamps of RFC 7323, SACK-permitted and SACK
 * blocks of RFC 2018). */
#include "wire.h"

enum {
    OPT_END = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WSCALE = 3,
    OPT_SACK_OK = 4, OPT_SACK = 5, OPT_TS = 8,
};

/* Walks the options; returns 0, or -1 for a length that is zero, one,
 * runs past the header, or is wrong for a known kind. */
static int parse_options(const uint8_t *p, size_t len, uint8_t flags,
                         struct fa_tcp_opts *o)
{
    /* The common case first (RFC 7323 Appendix A's layout, what Linux
     * and finack send on every segment): NOP, NOP, timestamps. */
    if (len == 12 && p[0] == OPT_NOP && p[1] == OPT_NOP && p[2] == OPT_TS && p[3] == 10) {
        o->has_ts = 1;
        o->ts_val = fa_get32(p + 4);
        o->ts_ecr = fa_get32(p + 8);
        return 0;
    }
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == OPT_END)
            break;
        if (kind == OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return -1;
        uint8_t olen = p[i + 1];
        if (olen < 2 || i + olen > len)
            return -1;
        const uint8_t *v = p + i + 2;
        switch (kind) {
        case OPT_MSS:
            if (olen != 4)
                return -1;
            /* RFC 9293 §3.7.1: MSS only counts in a SYN. */
            if (flags & FA_TCP_SYN)
                o->mss = fa_get16(v);
            break;
        case OPT_WSCALE:
            if (olen != 3)
                return -1;
            if (flags & FA_TCP_SYN) {
                o->has_wscale = 1;
                o->wscale = v[0] > 14 ? 14 : v[0]; /* RFC 7323 §2.3 */
            }
            break;
        case OPT_SACK_OK:
            if (olen != 2)
                return -1;
            o->sack_ok = 1;
            break;
        case OPT_TS:
            if (olen != 10)
                return -1;
            o->has_ts = 1;
            o->ts_val = fa_get32(v);
            o->ts_ecr = fa_get32(v + 4);
            break;
        case OPT_SACK:
            if ((olen - 2) % 8 != 0)
                return -1;
            for (int b = 0; b < (olen - 2) / 8 && b < 4; b++) {
                o->sack[b][0] = fa_get32(v + 8 * b);
                o->sack[b][1] = fa_get32(v + 8 * b + 4);
                o->sack_blocks = (uint8_t)(b + 1);
            }
            break;
        default:
            break; /* unknown kinds are skipped by their length */
        }
        i += olen;
    }
    return 0;
}

int fa_tcp_hdr_parse(const uint8_t *seg, size_t len, uint32_t src,
                     uint32_t dst, int csum_ok, struct fa_tcp_view *out)
{
    if (len < FA_TCP_HLEN)
        return FA_CNT_TCP_TOO_SHORT;
    unsigned hlen = (unsigned)(seg[12] >> 4) * 4u;
    if (hlen < FA_TCP_HLEN || hlen > len)
        return FA_CNT_TCP_BAD_OFFSET;
    if (!csum_ok && fa_csum_fold(fa_csum_add(fa_csum_pseudo(src, dst, FA_IPPROTO_TCP,
                                                            (uint16_t)len),
                                             seg, len)) != 0)
        return FA_CNT_TCP_BAD_CHECKSUM;
    memset(out, 0, sizeof *out);
    out->sport = fa_get16(seg);
    out->dport = fa_get16(seg + 2);
    out->seq = fa_get32(seg + 4);
    out->ack = fa_get32(seg + 8);
    out->hlen = (uint8_t)hlen;
    out->flags = seg[13] & 0x3f;
    out->wnd = fa_get16(seg + 14);
    out->urp = fa_get16(seg + 18);
    if (parse_options(seg + FA_TCP_HLEN, hlen - FA_TCP_HLEN, out->flags,
                      &out->opts) < 0)
        return FA_CNT_TCP_BAD_OPTIONS;
    out->data = seg + hlen;
    out->data_len = (uint32_t)(len - hlen);
    out->segs = 1;
    return 0;
}

size_t fa_tcp_hdr_emit(uint8_t *seg, uint16_t sport, uint16_t dport,
                       uint32_t seq, uint32_t ack, uint8_t flags,
                       uint16_t wnd, const struct fa_tcp_opts *opts)
{
    uint8_t *o = seg + FA_TCP_HLEN;
    if (opts && opts->mss) {
        o[0] = OPT_MSS;
        o[1] = 4;
        fa_put16(o + 2, opts->mss);
        o += 4;
    }
    if (opts && opts->has_wscale) {
        o[0] = OPT_NOP;
        o[1] = OPT_WSCALE;
        o[2] = 3;
        o[3] = opts->wscale;
        o += 4;
    }
    if (opts && opts->sack_ok) {
        o[0] = OPT_NOP;
        o[1] = OPT_NOP;
        o[2] = OPT_SACK_OK;
        o[3] = 2;
        o += 4;
    }
    if (opts && opts->has_ts) { /* RFC 7323 Appendix A's layout */
        o[0] = OPT_NOP;
        o[1] = OPT_NOP;
        o[2] = OPT_TS;
        o[3] = 10;
        fa_put32(o + 4, opts->ts_val);
        fa_put32(o + 8, opts->ts_ecr);
        o += 12;
    }
    if (opts && opts->sack_blocks) {
        unsigned n = opts->sack_blocks > 4 ? 4 : opts->sack_blocks;
        o[0] = OPT_NOP;
        o[1] = OPT_NOP;
        o[2] = OPT_SACK;
        o[3] = (uint8_t)(2 + 8 * n);
        for (unsigned b = 0; b < n; b++) {
            fa_put32(o + 4 + 8 * b, opts->sack[b][0]);
            fa_put32(o + 8 + 8 * b, opts->sack[b][1]);
        }
        o += 4 + 8 * n;
    }
    size_t hlen = (size_t)(o - seg);
    fa_put16(seg, sport);
    fa_put16(seg + 2, dport);
    fa_put32(seg + 4, seq);
    fa_put32(seg + 8, ack);
    seg[12] = (uint8_t)((hlen / 4) << 4);
    seg[13] = flags;
    fa_put16(seg + 14, wnd);
    seg[16] = seg[17] = 0;
    seg[18] = seg[19] = 0;
    return hlen;
}

void fa_tcp_hdr_checksum_partial(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    /* Linux's CHECKSUM_PARTIAL, virtio-net's NEEDS_CSUM: the pseudo
     * header's sum, folded but not complemented; the device sums the
     * segment on top of it and stores the complement. */
    uint64_t sum = fa_csum_pseudo(src, dst, FA_IPPROTO_TCP, (uint16_t)len);
    fa_csum_store(seg + 16, (uint16_t)~fa_csum_fold(sum));
}

void fa_tcp_hdr_checksum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    seg[16] = seg[17] = 0;
    uint64_t sum = fa_csum_pseudo(src, dst, FA_IPPROTO_TCP, (uint16_t)len);
    fa_csum_store(seg + 16, fa_csum_fold(fa_csum_add(sum, seg, len)));
}
