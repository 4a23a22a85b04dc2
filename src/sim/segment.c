/* segment.c — fa_sim_segment_parse (finack/sim.h): the TCP segment in an
 * Ethernet frame, read with the stack's own wire parsers, for the tools
 * that draw what the simulator carried (timelines, scenario loss rules). */
#include <finack/sim.h>
#include <string.h>

#include "../wire/wire.h"

int fa_sim_segment_parse(const uint8_t *frame, size_t len, struct fa_sim_segment *out)
{
    struct fa_ipv4_view ip;
    struct fa_tcp_view t;
    if (len < FA_ETH_HLEN || fa_get16(frame + 12) != FA_ETHERTYPE_IPV4 ||
        fa_ipv4_hdr_parse(frame + FA_ETH_HLEN, len - FA_ETH_HLEN, &ip) ||
        ip.proto != FA_IPPROTO_TCP ||
        fa_tcp_hdr_parse(ip.payload, ip.payload_len, ip.src, ip.dst, 0, &t))
        return 0;
    memset(out, 0, sizeof *out);
    out->src = ip.src;
    out->dst = ip.dst;
    out->sport = t.sport;
    out->dport = t.dport;
    out->flags = t.flags;
    out->seq = t.seq;
    out->ack = t.ack;
    out->win = t.wnd;
    out->len = t.data_len;
    out->mss = t.opts.mss;
    out->ws = t.opts.has_wscale ? t.opts.wscale : -1;
    out->sack_ok = t.opts.sack_ok;
    out->has_ts = t.opts.has_ts;
    out->ts_val = t.opts.ts_val;
    out->ts_ecr = t.opts.ts_ecr;
    out->sack_blocks = t.opts.sack_blocks;
    memcpy(out->sack, t.opts.sack, sizeof out->sack);
    return 1;
}
