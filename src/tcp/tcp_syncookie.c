/* tcp_syncookie.c — SYN cookies (RFC 4987 §3.6): when a listener's queue
 * of half-open connections is full (or always, config.tcp_syncookies
 * 2), a SYN is answered without keeping anything: the SYN-ACK's ISS is
 * the cookie, and the ACK that returns it (ISS + 1) proves the peer got
 * it and opens the connection (tcp_in.c). The cookie, 32 bits:
 *
 *   H1(4-tuple, peer ISN) + [ period mod 32 : 5 ][ MSS index : 3 ][ H2 : 24 ]
 *
 * H1 and H2 keyed hashes (SipHash with the stack's secret, differently
 * salted), H2 over the 4-tuple, the peer's ISN, the period (64 s; a
 * cookie lives for this period and the two before) and the MSS index.
 * H1 hides the period and the index, so a blind ACK must guess 32 bits;
 * but each of the 8 MSS indexes makes its own valid cookie, so 24 values
 * in 2^32 pass over a cookie's three periods (48 with the keepalive
 * probe's second guess of the peer's ISN): about 1 in 2^27, the order
 * of Linux's (review: "about 3 in 2^32" was claimed). With timestamps, the low 6 bits of our
 * TSval carry what a cookie has no room for, as Linux does: the peer's
 * window scale and SACK-permitted, echoed back in its TSecr; without
 * timestamps the SYN-ACK offers only the MSS (an option we could not
 * remember would leave the two ends disagreeing). Called by tcp_in.c's
 * LISTEN processing. */
#include "tcp.h"

#define COOKIE_PERIOD (64 * FA_NS_PER_S)
#define COOKIE_PERIODS 3 /* a cookie lives 128 to 192 s: a peer's RTO
                            backoff may bring it back late */
#define TS_MARK 0x20u   /* TSval bit: the options below are there */
#define TS_SACK 0x10u
#define TS_WS_NONE 15u

/* The MSS values a cookie can carry: the largest not above the peer's
 * is used (its 3 bits index this table); 88 for peers below 536 (RFC
 * 9293: never more than the peer said). */
static const uint16_t cookie_mss[8] = { 88, 536, 1200, 1360, 1440, 1452, 1460, 8960 };

static uint32_t period(fa_time now)
{
    return (uint32_t)(now / COOKIE_PERIOD);
}

/* H2 (salt 2, the period and index given) or H1 (salt 1, none). */
static uint32_t cookie_hash(const struct fa_stack *s, uint32_t laddr, uint16_t lport,
                            uint32_t raddr, uint16_t rport, uint32_t irs, uint32_t salt,
                            uint32_t count, uint32_t mssidx)
{
    uint8_t t[28];
    fa_put32(t, laddr);
    fa_put16(t + 4, lport);
    fa_put32(t + 6, raddr);
    fa_put16(t + 10, rport);
    fa_put32(t + 12, irs);
    fa_put32(t + 16, count);
    fa_put32(t + 20, mssidx);
    fa_put32(t + 24, salt);
    return (uint32_t)fa_siphash(s->tcp->secret, t, sizeof t);
}

static uint32_t h1(const struct fa_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                   uint16_t rport, uint32_t irs)
{
    return cookie_hash(s, laddr, lport, raddr, rport, irs, 1, 0, 0);
}

static uint32_t h2(const struct fa_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                   uint16_t rport, uint32_t irs, uint32_t count, uint32_t mssidx)
{
    return cookie_hash(s, laddr, lport, raddr, rport, irs, 2, count, mssidx) & 0xffffffu;
}

/* Our timestamp clock for this 4-tuple, as the connection will have it
 * (tcp_table.c's keyed offset). */
static uint32_t ts_clock(struct fa_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                         uint16_t rport, fa_time now)
{
    /* Only the 4-tuple and the clock's offset: not a pool entry, so
     * nothing that asks for its stack is called on it. */
    struct fa_tcp tmp = { .laddr = laddr, .lport = lport, .raddr = raddr, .rport = rport };
    fa_tcp_isn(s, &tmp, now, &tmp.ts_offset);
    return fa_tcp_ts_val(&tmp, now);
}

void fa_tcp_cookie_synack(struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                          const struct fa_tcp_view *seg, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(l);
    const struct fa_config *cfg = &s->cfg;
    const struct fa_tcp_opts *po = &seg->opts;
    uint16_t ours = fa_tcp_so(l)->user_mss ? fa_tcp_so(l)->user_mss : fa_tcp_mss_for_mtu(s);
    uint16_t peer = po->mss ? po->mss : 536; /* RFC 9293 §3.7.1 */
    uint16_t want = peer < ours ? peer : ours;
    uint32_t idx = 0;
    while (idx < 7 && cookie_mss[idx + 1] <= want)
        idx++;
    uint32_t count = period(now);
    uint32_t iss = h1(s, laddr, seg->dport, raddr, seg->sport, seg->seq) +
                   ((count & 31u) << 27 | idx << 24 |
                    h2(s, laddr, seg->dport, raddr, seg->sport, seg->seq, count, idx));
    struct fa_tcp_opts o = { .mss = ours };
    if (po->has_ts && cfg->tcp_timestamps) {
        uint32_t enc = TS_MARK;
        if (po->has_wscale && cfg->tcp_window_scaling) {
            o.has_wscale = 1;
            o.wscale = fa_tcp_rcv_wscale_for(s, fa_tcp_so(l)->rcvbuf);
            enc |= po->wscale > 14 ? 14u : po->wscale;
        } else {
            enc |= TS_WS_NONE;
        }
        if (po->sack_ok && cfg->tcp_sack) {
            o.sack_ok = 1;
            enc |= TS_SACK;
        }
        /* Never ahead of the clock: the peer's PAWS will compare our next
         * TSval with this one. */
        uint32_t clock = ts_clock(s, laddr, seg->dport, raddr, seg->sport, now);
        uint32_t v = (clock & ~63u) | enc;
        o.has_ts = 1;
        o.ts_val = seq_gt(v, clock) ? v - 64 : v;
        o.ts_ecr = po->ts_val;
    }
    uint16_t wnd = fa_tcp_so(l)->rcvbuf > 65535 ? 65535 : (uint16_t)fa_tcp_so(l)->rcvbuf; /* a SYN's is unscaled */
    fa_count(s, FA_CNT_TCP_SYNCOOKIES_SENT);
    l->lst.cookie_sent = now + 1; /* cookies in use on this listener */
    fa_tcp_send_bare(s, laddr, seg->dport, raddr, seg->sport, iss, seg->seq + 1,
                     FA_TCP_SYN | FA_TCP_ACK, wnd, &o, now);
}

/* Whether seg returns a cookie made in the periods count - from ..
 * count - to + 1; its ISN and MSS index in *irs and *idx. */
static int cookie_made(struct fa_stack *s, uint32_t laddr, uint32_t raddr,
                       const struct fa_tcp_view *seg, uint32_t count, uint32_t from,
                       uint32_t to, uint32_t *irs_out, uint32_t *idx_out)
{
    /* The peer's ISN is SEG.SEQ - 1 — or SEG.SEQ itself for a keepalive
     * probe (SND.UNA - 1, at most a byte): a peer whose handshake ACK was
     * lost is found again by a probe while the cookie lives. */
    for (int probe = 0; probe < 2; probe++) {
        uint32_t irs = seg->seq - 1 + (uint32_t)probe;
        if (probe && seg->data_len > 1)
            break;
        uint32_t v = seg->ack - 1 - h1(s, laddr, seg->dport, raddr, seg->sport, irs);
        uint32_t idx = v >> 24 & 7u;
        for (uint32_t back = from; back < to && back <= count; back++)
            if (((count - back) & 31u) == v >> 27 &&
                h2(s, laddr, seg->dport, raddr, seg->sport, irs, count - back, idx) ==
                    (v & 0xffffffu)) {
                *irs_out = irs;
                *idx_out = idx;
                return 1;
            }
    }
    return 0;
}

int fa_tcp_cookie_expired(const struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                          const struct fa_tcp_view *seg, fa_time now)
{
    uint32_t irs, idx;
    /* The cookie holds its period's low 5 bits: up to 31 periods back
     * (33 minutes), one hash at most per ISN guess. */
    return cookie_made(fa_tcp_stack_of(l), laddr, raddr, seg, period(now), COOKIE_PERIODS, 32,
                       &irs, &idx);
}

int fa_tcp_cookie_check(const struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                        const struct fa_tcp_view *seg, fa_time now, struct fa_tcp_cookie *out)
{
    struct fa_stack *s = fa_tcp_stack_of(l);
    uint32_t irs, idx;
    if (!cookie_made(s, laddr, raddr, seg, period(now), 0, COOKIE_PERIODS, &irs, &idx))
        return -1;
    *out = (struct fa_tcp_cookie){ .mss = cookie_mss[idx], .wscale = -1, .irs = irs };
    /* Timestamps echo what the SYN-ACK's TSval kept, and its clock. An
     * echo we could not have sent — unmarked, from the future, or older
     * than a cookie lives (128 ms more: the TSval was rounded down) — is
     * refused: taken as "no options" it would open a connection without
     * window scale to a peer that scales (review). A zero echo too: our
     * TSval is never 0, and a peer whose SYN had no timestamps may not
     * send them now (RFC 7323 §3.2; second review). An ACK without
     * timestamps gets no options, as in Linux: RFC 7323 §3.2 has a peer
     * that agreed to them send them on every segment, and the cookie has
     * no room to remember they were offered. */
    if (seg->opts.has_ts && s->cfg.tcp_timestamps) {
        uint32_t e = seg->opts.ts_ecr;
        uint32_t clock = ts_clock(s, laddr, seg->dport, raddr, seg->sport, now);
        if (!(e & TS_MARK) || seq_gt(e, clock) ||
            clock - e > (uint32_t)(COOKIE_PERIODS * COOKIE_PERIOD / FA_NS_PER_MS) + 128)
            return -1;
        out->ts = 1;
        out->sack = (e & TS_SACK) != 0;
        out->wscale = (e & 15u) == TS_WS_NONE ? -1 : (int8_t)(e & 15u);
    }
    return 0;
}
