/* fuzz_tcp_opts.c — libFuzzer target: the TCP header and option parser
 * (src/wire/tcp.c, fa_tcp_hdr_parse) on any bytes; what it accepts must
 * survive a round trip — emitted again by fa_tcp_hdr_emit and parsed
 * again, the same header fields and options (a difference aborts). */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_opts(const struct fa_tcp_opts *a, const struct fa_tcp_opts *b)
{
    if (a->mss != b->mss || a->has_wscale != b->has_wscale || a->sack_ok != b->sack_ok ||
        a->has_ts != b->has_ts || a->sack_blocks != b->sack_blocks)
        return 0;
    if (a->has_wscale && a->wscale != b->wscale)
        return 0;
    if (a->has_ts && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
        return 0;
    for (unsigned i = 0; i < a->sack_blocks; i++)
        if (a->sack[i][0] != b->sack[i][0] || a->sack[i][1] != b->sack[i][1])
            return 0;
    return 1;
}

/* Bytes the options take when emitted (what fa_tcp_hdr_emit may hold). */
static size_t opts_len(const struct fa_tcp_opts *o)
{
    size_t n = (o->mss ? 4 : 0) + (o->has_wscale ? 4 : 0) + (o->sack_ok ? 4 : 0) +
               (o->has_ts ? 12 : 0);
    return n + (o->sack_blocks ? 4 + 8u * o->sack_blocks : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_tcp_view v;
    if (fa_tcp_hdr_parse(data, size, 0xc6120001, 0xc6120002, 1, &v) != 0)
        return 0;
    if (v.hlen > size || v.data_len != size - v.hlen)
        abort();
    if (opts_len(&v.opts) > FA_TCP_OPT_MAX)
        return 0;
    uint8_t seg[60 + 8];
    size_t hl = fa_tcp_hdr_emit(seg, v.sport, v.dport, v.seq, v.ack, v.flags, v.wnd, &v.opts);
    struct fa_tcp_view w;
    if (hl > 60 || fa_tcp_hdr_parse(seg, hl, 0xc6120001, 0xc6120002, 1, &w) != 0)
        abort();
    if (w.sport != v.sport || w.dport != v.dport || w.seq != v.seq || w.ack != v.ack ||
        w.flags != v.flags || w.wnd != v.wnd || !same_opts(&v.opts, &w.opts))
        abort();
    return 0;
}
