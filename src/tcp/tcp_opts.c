/* tcp_opts.c — the options a connection sends and takes, beyond the
 * header itself (wire/tcp.c parses and writes them):
 *
 *  - in the SYN exchange: MSS (RFC 9293 §3.7.1), window scale (RFC 7323
 *    §2), SACK-permitted (RFC 2018 §2), timestamps (RFC 7323 §3); each is
 *    used only if both ends sent it (and the stack's config allows it);
 *  - timestamps on every other segment (RFC 7323 §3.2), TS.Recent kept
 *    by §4.3's rules, PAWS (§5) judging arrivals (a reordered pure ACK
 *    excepted, as in Linux);
 *  - SACK blocks on ACKs while out-of-order data is held: the block of
 *    the most recent arrival first (RFC 2018 §4), and a D-SACK block
 *    first of all for a duplicate (RFC 2883 §4).
 *
 * Called from tcp_out.c (building segments) and tcp_in.c (arrivals). */
#include "tcp.h"

#define TS_OPT_LEN 12          /* NOP NOP kind len TSval TSecr */
#define FA_TCP_MIN_SND_MSS 48  /* the smallest peer MSS taken (Linux's) */
#define SACK_OPT_ROOM(n) (4 + 8 * (n)) /* NOP NOP kind len, n blocks */
#define PAWS_IDLE_SEC (24u * 24 * 3600) /* RFC 7323 §5.5: 24 days */
/* One tick of slack, as Linux (TCP_PAWS_WINDOW): a hole's retransmission
 * at the left edge sets TS.Recent a millisecond ahead of originals sent
 * just before it and still on their way — PAWS would drop them all. */
#define PAWS_SLACK 1

static uint32_t now_sec(fa_time now)
{
    return (uint32_t)(now / FA_NS_PER_S);
}

uint32_t fa_tcp_ts_val(const struct fa_tcp *c, fa_time now)
{
    /* §5.4: a clock of 1 ms ticks; the offset (per connection, from the
     * keyed hash) hides the host's uptime and separates connections. */
    return (uint32_t)(now / FA_NS_PER_MS) + c->ts_offset;
}

void fa_tcp_opts_for_syn(struct fa_tcp *c, struct fa_tcp_opts *o, fa_time now)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    /* A SYN offers what the config allows; a SYN-ACK answers only what
     * the peer's SYN offered (RFC 7323 §1.3, §3.2; RFC 2018 §2). */
    int synack = c->state == FA_TCP_SYN_RECEIVED;
    if (cfg->tcp_window_scaling && (!synack || (c->flags & TF_WSCALE))) {
        o->has_wscale = 1;
        o->wscale = c->rcv_wscale;
    }
    if (cfg->tcp_sack && (!synack || (c->flags & TF_SACK)))
        o->sack_ok = 1;
    if (cfg->tcp_timestamps && (!synack || (c->flags & TF_TS))) {
        o->has_ts = 1;
        o->ts_val = fa_tcp_ts_val(c, now);
        o->ts_ecr = synack ? c->ts_recent : 0;
    }
}

void fa_tcp_opts_take_syn(struct fa_tcp *c, const struct fa_tcp_view *seg, fa_time now)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    const struct fa_tcp_opts *o = &seg->opts;
    uint16_t peer_mss = o->mss ? o->mss : 536; /* RFC 9293 §3.7.1 */
    /* A smaller one is taken as 48, before the options come off: Linux's
     * tcp_min_snd_mss (a tiny MSS asks for a flood of segments). Review:
     * MSS 8 with timestamps wrapped 8 - 12 to 65532 and a segment
     * overflowed the frame buffer; MSS 70 was floored after, to 64 + 12. */
    if (peer_mss < FA_TCP_MIN_SND_MSS)
        peer_mss = FA_TCP_MIN_SND_MSS;
    if (peer_mss < c->mss)
        c->mss = peer_mss;
    if (o->has_wscale && cfg->tcp_window_scaling) {
        c->flags |= TF_WSCALE;
        c->snd_wscale = o->wscale;
    } else {
        c->flags &= ~TF_WSCALE;
        c->snd_wscale = c->rcv_wscale = 0;
    }
    c->flags &= ~(TF_SACK | TF_TS);
    if (o->sack_ok && cfg->tcp_sack)
        c->flags |= TF_SACK;
    if (o->has_ts && cfg->tcp_timestamps) {
        c->flags |= TF_TS;
        c->ts_recent = o->ts_val;
        c->keep.ts_recent_sec = now_sec(now);
        /* RFC 6691: the MSS counts no options; every segment now carries
         * 12 bytes of them, so a segment holds 12 bytes less data. */
        c->mss = (uint16_t)(c->mss - TS_OPT_LEN); /* at least 36 */
    }
}

/* The blocks to report: a D-SACK first, then the held ranges, the most
 * recently changed first; at most n. */
/* The held range containing [start, end), or -1. */
static int holding(const struct fa_tcp *c, uint32_t start, uint32_t end)
{
    for (int i = 0; i < c->ooo_count; i++)
        if (seq_le(fa_tcp_ooo(c)[i].start, start) && seq_le(end, fa_tcp_ooo(c)[i].end))
            return i;
    return -1;
}

/* The stack's entry holding c's D-SACK (TF_DSACK), NULL if none. */
static struct fa_tcp_dsack *dsack_of(const struct fa_tcp *c)
{
    if (!(c->flags & TF_DSACK))
        return NULL;
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    uint32_t ref = fa_tcp_ref(t, c);
    for (unsigned i = 0; i < FA_TCP_DSACKS; i++)
        if (t->dsack[i].ref == ref)
            return &t->dsack[i];
    return NULL;
}

void fa_tcp_dsack_forget(struct fa_tcp *c)
{
    struct fa_tcp_dsack *d = dsack_of(c);
    if (d)
        d->ref = 0;
    c->flags &= ~TF_DSACK;
}

static void sack_blocks(struct fa_tcp *c, struct fa_tcp_opts *o, unsigned n)
{
    unsigned k = 0;
    int second = -1;
    struct fa_tcp_dsack *d = dsack_of(c);
    if (d && k < n) {
        o->sack[k][0] = d->r.start;
        o->sack[k][1] = d->r.end;
        k++;
        /* RFC 2883 §4: a duplicate inside a held range: that range
         * second, whatever came since. */
        second = holding(c, d->r.start, d->r.end);
        if (second >= 0 && k < n) {
            o->sack[k][0] = fa_tcp_ooo(c)[second].start;
            o->sack[k][1] = fa_tcp_ooo(c)[second].end;
            k++;
        }
        fa_tcp_dsack_forget(c); /* reported once (RFC 2883 §4) */
    }
    for (int i = 0; i < c->ooo_count && k < n; i++) {
        if (i == second)
            continue;
        o->sack[k][0] = fa_tcp_ooo(c)[i].start;
        o->sack[k][1] = fa_tcp_ooo(c)[i].end;
        k++;
    }
    o->sack_blocks = (uint8_t)k;
}

void fa_tcp_opts_for(struct fa_tcp *c, struct fa_tcp_opts *o, uint32_t data_len,
                     fa_time now)
{
    uint32_t room = FA_TCP_OPT_MAX;
    if (c->flags & TF_TS) {
        o->has_ts = 1;
        o->ts_val = fa_tcp_ts_val(c, now);
        o->ts_ecr = c->ts_recent;
        room -= TS_OPT_LEN;
    }
    if (!(c->flags & TF_SACK) ||
        (c->ooo_count == 0 && !(c->flags & TF_DSACK)))
        return;
    /* Beside data, only what the MSS leaves (c->mss is net of the
     * timestamps already): a full segment carries no blocks. */
    if (data_len) {
        uint32_t left = c->mss > data_len ? c->mss - data_len : 0;
        room = left < room ? left : room;
    }
    if (room >= SACK_OPT_ROOM(1))
        sack_blocks(c, o, (room - 4) / 8 < 4 ? (room - 4) / 8 : 4);
}

int fa_tcp_paws_reject(const struct fa_tcp *c, const struct fa_tcp_view *seg,
                       fa_time now)
{
    /* §5.3 R1: not for RST (§5.2 leaves resets to RFC 5961), and only
     * while TS.Recent is valid (§5.5: not idle 24 days). */
    if (!(c->flags & TF_TS) || !seg->opts.has_ts || (seg->flags & FA_TCP_RST))
        return 0;
    if ((int32_t)(c->ts_recent - seg->opts.ts_val) <= PAWS_SLACK)
        return 0;
    if (now_sec(now) - c->keep.ts_recent_sec > PAWS_IDLE_SEC)
        return 0;
    /* A pure ACK overtaken by a newer segment (reordering): it carries
     * nothing a wrapped sequence number could corrupt, and its SACK
     * blocks still count. As Linux (tcp_disordered_ack): exactly at
     * RCV.NXT, acknowledging nothing new (ACK = SND.UNA), the window as
     * it stands (an older one must not shrink a newer), and older than
     * TS.Recent by no more than an RTO. */
    uint32_t behind_ms = c->ts_recent - seg->opts.ts_val;
    uint32_t wnd = (uint32_t)seg->wnd << c->snd_wscale;
    int disordered = fa_tcp_seg_len(seg) == 0 && (seg->flags & FA_TCP_ACK) &&
                     seg->seq == c->rcv_nxt && seg->ack == c->snd_una &&
                     wnd == c->snd_wnd && behind_ms <= fa_tcp_rto(c) / FA_NS_PER_MS;
    return !disordered;
}

void fa_tcp_ts_update(struct fa_tcp *c, const struct fa_tcp_view *seg, fa_time now)
{
    /* §4.3 R3: SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent —
     * the segment covers the left edge the last ACK named, so the
     * timestamp echoed is the oldest unacknowledged one's. */
    if (!(c->flags & TF_TS) || !seg->opts.has_ts || seq_gt(seg->seq, c->last_ack_sent))
        return;
    int idle = now_sec(now) - c->keep.ts_recent_sec > PAWS_IDLE_SEC;
    if ((int32_t)(seg->opts.ts_val - c->ts_recent) >= 0 || idle) {
        c->ts_recent = seg->opts.ts_val;
        c->keep.ts_recent_sec = now_sec(now);
    }
}

void fa_tcp_dsack_note(struct fa_tcp *c, uint32_t start, uint32_t end)
{
    if (!(c->flags & TF_SACK) || !seq_lt(start, end))
        return;
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    struct fa_tcp_dsack *d = dsack_of(c); /* the latest replaces its own */
    for (unsigned i = 0; !d && i < FA_TCP_DSACKS; i++)
        if (!t->dsack[i].ref)
            d = &t->dsack[i];
    if (!d) { /* all wait: the oldest placed goes unreported */
        d = &t->dsack[0];
        for (unsigned i = 1; i < FA_TCP_DSACKS; i++)
            if ((int32_t)(t->dsack[i].placed - d->placed) < 0)
                d = &t->dsack[i];
        fa_tcp_at(t, d->ref)->flags &= ~TF_DSACK;
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_DSACK_UNSENT);
    }
    *d = (struct fa_tcp_dsack){ fa_tcp_ref(t, c), t->dsack_placed++, { start, end } };
    c->flags |= TF_DSACK;
}
