/* test_tcp_peer_fuzz.c — a randomized check of the sender's scoreboard and
 * recovery (written by issue 10's independent reviewer): a peer model with
 * timestamps and SACK (or not) under loss, data and ACK reordering, ACK
 * loss, D-SACKs, zero windows; per seed it may also draw random windows,
 * junk SACK blocks, and a peer that reneges. After every event: the
 * scoreboard's invariants; at the end: all data and the FIN delivered,
 * bytes intact. Found: no timer left with the window closed (a reneging
 * peer), and an endless persist loop without backoff. SEEDS, FIRST,
 * RENEGE, WNDRAND, JUNK, NOSACK, TRACE, VERBOSE override. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "peer.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define TOTAL (300 * 1000)

static struct peer pe;
static struct fa_prng rng;
static uint8_t got[TOTAL + 1];
static uint32_t base, prcv; /* peer's rcv_nxt offset */
static int fin_got;
static uint32_t peer_tsrecent, peer_ts = 1;
static uint16_t peer_wnd = 65535;
static int opt_renege, opt_wndrand, opt_junk, opt_nosack;
static double p_loss, p_ackloss, p_reord;

struct ev { fa_time at; int to_us; size_t len; uint8_t b[1600]; };
#define QMAX 4096
static struct ev q[QMAX];
static int qn;

static uint8_t pat(uint32_t i) { return (uint8_t)(i * 7 + 3); }

static void push(fa_time at, int to_us, const uint8_t *b, size_t len)
{
    if (qn == QMAX) return;
    q[qn].at = at; q[qn].to_us = to_us; q[qn].len = len;
    memcpy(q[qn].b, b, len);
    qn++;
}

static uint64_t cur_seed;
static void check_sb(struct fa_tcp *c, const char *where)
{
    if (getenv("NOCHECK")) return;
    fprintf(stderr, "%s", ""); (void)cur_seed;
    struct fa_tcp_loss *l = c->loss;
    if (!l) return;
    struct fa_tcp_sb *sb = &l->sb;
    uint32_t sacked = 0, lost = 0, retrans = 0;
    if (sb->count) {
        if (sb->una != c->snd_una) fail_msg("%s: sb.una %u != snd_una %u", where, sb->una - base, c->snd_una - base);
        if (fa_tcp_sb_at(sb, sb->count - 1)->end != c->snd_nxt)
            fail_msg("%s: last end %u != snd_nxt %u", where, fa_tcp_sb_at(sb, sb->count - 1)->end - base, c->snd_nxt - base);
    } else if (c->snd_una != c->snd_nxt && c->state != FA_TCP_SYN_SENT) {
        fail_msg("%s: empty sb, snd_una %u snd_nxt %u", where, c->snd_una - base, c->snd_nxt - base);
    }
    for (uint32_t i = 0; i < sb->count; i++) {
        struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
        uint32_t s = fa_tcp_sb_start(sb, i);
        if (!seq_gt(e->end, s)) fail_msg("%s: empty entry %u", where, i);
        uint32_t len = e->end - s;
        if (e->flags & SB_SACKED) sacked += len;
        if (e->flags & SB_LOST) lost += len;
        if (e->flags & SB_RETRANS) retrans += len;
        if ((e->flags & SB_SACKED) && (e->flags & SB_RETRANS) && getenv("SOFT_TLP")) { static int once; if (!once++) fprintf(stderr, "  (sacked+retrans seen, seed %llu)\n", (unsigned long long)cur_seed); }
        else if ((e->flags & SB_SACKED) && (e->flags & (SB_LOST | SB_RETRANS)))
            fail_msg("seed %llu %s: sacked+lost/retrans entry %u flags %x", (unsigned long long)cur_seed, where, i, e->flags);
        if ((e->flags & SB_FIN) && i != sb->count - 1) fail_msg("%s: FIN not last", where);
    }
    if (sacked != sb->sacked || lost != sb->lost || retrans != sb->retrans)
        fail_msg("%s: counts sacked %u/%u lost %u/%u retrans %u/%u", where, sacked, sb->sacked,
                 lost, sb->lost, retrans, sb->retrans);
}

/* The peer answers a segment of finack's. */
static void peer_rx(const struct fa_tcp_view *v)
{
    if (v->flags & FA_TCP_SYN) return;
    uint32_t off = v->seq - base;
    int dup = 1;
    uint32_t dlo = 0, dhi = 0;
    if (v->opts.has_ts && (int32_t)(v->opts.ts_val - peer_tsrecent) >= 0 && off <= prcv)
        peer_tsrecent = v->opts.ts_val;
    uint32_t rwnd_end = prcv + peer_wnd;
    for (uint32_t k = 0; k < v->data_len; k++) {
        uint32_t o = off + k;
        if (o >= TOTAL) fail_msg("data beyond TOTAL");
        if (v->data[k] != pat(o)) fail_msg("corrupt byte at %u", o);
        if (o >= rwnd_end) continue;   /* beyond the window: dropped */
        if (o < prcv || got[o]) { if (!dlo && !dhi) { dlo = o; } dhi = o + 1; continue; }
        got[o] = 1; dup = 0;
    }
    if (v->flags & FA_TCP_FIN) {
        if (off + v->data_len != TOTAL) fail_msg("FIN at %u", off + v->data_len);
        fin_got = 1;
    }
    while (prcv < TOTAL && got[prcv]) prcv++;
    uint32_t ackoff = prcv + (fin_got && prcv == TOTAL);
    /* SACK blocks: D-SACK first, then the block holding this segment, then others */
    uint32_t blk[4][2]; unsigned nb = 0;
    if (v->data_len && dup && dhi > dlo) { blk[nb][0] = base + dlo; blk[nb][1] = base + dhi; nb++; }
    uint32_t lo = off, hi;
    if (v->data_len && off > prcv && got[off]) {
        while (lo > prcv && got[lo - 1]) lo--;
        hi = off; while (hi < TOTAL && got[hi]) hi++;
        blk[nb][0] = base + lo; blk[nb][1] = base + hi; nb++;
    }
    for (uint32_t o = TOTAL; o > prcv && nb < 3; ) {
        /* scan down for ranges */
        uint32_t h = o; while (h > prcv && !got[h - 1]) h--;
        if (h <= prcv) break;
        uint32_t l = h; while (l > prcv && got[l - 1]) l--;
        int seen = 0;
        for (unsigned k = 0; k < nb; k++) if (blk[k][0] == base + l && blk[k][1] == base + h) seen = 1;
        if (!seen) { blk[nb][0] = base + l; blk[nb][1] = base + h; nb++; }
        o = l;
    }
    if (opt_renege && fa_prng_chance(&rng, 0.01)) {
        for (uint32_t o = prcv; o < TOTAL; o++) got[o] = 0;
        nb = 0;
        if (peer_wnd && fa_prng_chance(&rng, 0.5)) {
            peer_wnd = 0;
            push(pe.now + fa_prng_below(&rng, fa_prng_chance(&rng, 0.5) ? 3 * S : 50 * MS), 2, (const uint8_t *)"", 0);
        }
    }
    if (peer_wnd && fa_prng_chance(&rng, 0.002)) {
        peer_wnd = 0;
        push(pe.now + fa_prng_below(&rng, fa_prng_chance(&rng, 0.5) ? 3 * S : 50 * MS), 2, (const uint8_t *)"", 0);
    }
    if (opt_junk && nb < 3 && fa_prng_chance(&rng, 0.05)) {
        uint32_t a = (uint32_t)fa_prng_below(&rng, prcv + 70000) ;
        uint32_t l = 1 + (uint32_t)fa_prng_below(&rng, 5000);
        blk[nb][0] = base + a - 65535 + 1; blk[nb][1] = blk[nb][0] + l; nb++;
        if (fa_prng_chance(&rng, 0.5)) { uint32_t t0 = blk[0][0], t1 = blk[0][1]; blk[0][0] = blk[nb-1][0]; blk[0][1] = blk[nb-1][1]; blk[nb-1][0] = t0; blk[nb-1][1] = t1; }
    }
    uint16_t wnd = peer_wnd;
    if (opt_wndrand && wnd && fa_prng_chance(&rng, 0.3)) wnd = (uint16_t)(1 + fa_prng_below(&rng, 65535));
    uint8_t o[40]; size_t k = 0;
    o[k++] = 1; o[k++] = 1; o[k++] = 8; o[k++] = 10;
    fa_put32(o + k, ++peer_ts); fa_put32(o + k + 4, peer_tsrecent); k += 8;
    if (opt_nosack) nb = 0;
    if (nb) {
        o[k++] = 1; o[k++] = 1; o[k++] = 5; o[k++] = (uint8_t)(2 + 8 * nb);
        for (unsigned b = 0; b < nb; b++) { fa_put32(o + k, blk[b][0]); fa_put32(o + k + 4, blk[b][1]); k += 8; }
    }
    uint8_t fr[2048];
    size_t n = build_tcp(fr, pe.port, pe.our_port, pe.snd_nxt, base + ackoff, FA_TCP_ACK, wnd, o, k, NULL, 0);
    if (fa_prng_chance(&rng, p_ackloss)) return; /* ACK lost */
    fa_time d = 5 * MS + fa_prng_below(&rng, fa_prng_chance(&rng, 0.1) ? 8 * MS : 300 * 1000);
    push(pe.now + d, 1, fr, n);
}

static int trace;
static struct fa_tcp *cc;
static void tr_state(const char *what)
{
    if (!trace || !cc->loss) return;
    struct fa_tcp_loss *l = cc->loss;
    fprintf(stderr, "%10.3fms %-8s una=%u max=%u cwnd=%u ssth=%u pipe=%u sacked=%u lost=%u retr=%u rs=%d tmr=%d rex=%s loss=%s pers=%s wnd=%u edge=%u\n",
        (double)pe.now / MS, what, cc->snd_una - base, cc->snd_nxt - base, cc->cwnd, cc->ssthresh, fa_tcp_pipe(cc),
        l->sb.sacked, l->sb.lost, l->sb.retrans, l->state, l->timer,
        cc->t_rexmit == FA_TIME_NEVER ? "-" : "on", fa_tcp_t_loss(cc) == FA_TIME_NEVER ? "-" : "on",
        cc->t_persist == FA_TIME_NEVER ? "-" : "on", cc->snd_wnd, cc->snd_wl2 + cc->snd_wnd - base);
}
static void collect(void)
{
    struct fa_tcp_view v;
    while (peer_next(&pe, &v)) {
        if (trace) fprintf(stderr, "%10.3fms   OUT seq=%u len=%u fl=%x\n", (double)pe.now / MS, v.seq - base, v.data_len, v.flags);
        if (!v.data_len && !(v.flags & FA_TCP_FIN) && !(v.flags & FA_TCP_SYN)) {
            /* bare ACK / probe: the peer answers a probe */
            if (seq_lt(v.seq, base + prcv)) {
                struct fa_tcp_view w = v; peer_rx(&w);
            }
            continue;
        }
        if (fa_prng_chance(&rng, p_loss)) continue; /* lost */
        fa_time d = 5 * MS + fa_prng_below(&rng, fa_prng_chance(&rng, p_reord) ? 10 * MS : 200 * 1000);
        /* store the parsed view's frame bits: rebuild a copy */
        struct ev e; e.at = pe.now + d; e.to_us = 0;
        uint32_t h[4] = { v.seq, v.data_len, v.flags, v.opts.ts_val };
        memcpy(e.b, h, sizeof h); memcpy(e.b + 16, v.data, v.data_len);
        push(e.at, 0, e.b, 16 + v.data_len);
        if (fa_prng_chance(&rng, 0.01)) push(e.at + MS, 0, e.b, 16 + v.data_len); /* duplicated */
    }
}

static int run_one(uint64_t seed, int renege, char *why, size_t whylen)
{
    (void)why; (void)whylen;
    memset(got, 0, sizeof got); prcv = 0; fin_got = 0; qn = 0; peer_wnd = 65535; peer_ts = 1;
    opt_renege = renege;
    opt_wndrand = getenv("WNDRAND") ? atoi(getenv("WNDRAND")) : 0;
    opt_junk = getenv("JUNK") ? atoi(getenv("JUNK")) : 0;
    fa_prng_seed(&rng, seed); cur_seed = seed;
    /* Unless the environment says, each seed draws its peer. */
    if (!getenv("RENEGE")) opt_renege = fa_prng_chance(&rng, 0.25);
    if (!getenv("WNDRAND")) opt_wndrand = fa_prng_chance(&rng, 0.25);
    if (!getenv("JUNK")) opt_junk = fa_prng_chance(&rng, 0.25);
    opt_nosack = getenv("NOSACK") ? 1 : fa_prng_chance(&rng, 0.2);
    p_loss = (double)fa_prng_below(&rng, 25) / 100; p_ackloss = (double)fa_prng_below(&rng, 30) / 100; p_reord = (double)fa_prng_below(&rng, 20) / 100;
    peer_init(&pe, NULL, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    uint8_t o[40]; size_t n = 0;
    o[n++] = 2; o[n++] = 4; fa_put16(o + n, 1460); n += 2;
    if (!opt_nosack) { o[n++] = 1; o[n++] = 1; o[n++] = 4; o[n++] = 2; }
    o[n++] = 1; o[n++] = 1; o[n++] = 8; o[n++] = 10; fa_put32(o + n, peer_ts); fa_put32(o + n + 4, syn.opts.ts_val); n += 8;
    peer_tsrecent = syn.opts.ts_val;
    peer_send_opts(&pe, FA_TCP_SYN | FA_TCP_ACK, pe.snd_nxt, pe.rcv_nxt, 65535, o, n, NULL, 0);
    pe.snd_nxt++;
    base = pe.rcv_nxt;
    peer_expect(&pe);
    uint32_t written = 0; int shut = 0;
    trace = getenv("TRACE") != NULL; cc = c;
    static uint8_t buf[65536];
    fa_time end = pe.now + (getenv("END") ? atoi(getenv("END")) : 600) * S;
    while (pe.now < end) {
        if (written < TOTAL) {
            uint32_t want = TOTAL - written; if (want > 65536) want = 65536;
            for (uint32_t k = 0; k < want; k++) buf[k] = pat(written + k);
            long r = fa_tcp_send(c, buf, want, pe.now);
            if (r > 0) written += (uint32_t)r;
        } else if (!shut) { fa_tcp_shutdown(c, FA_SHUT_WR, pe.now); shut = 1; }
        collect();
        check_sb(c, "after send");
        /* next event */
        int best = -1;
        for (int i = 0; i < qn; i++) if (best < 0 || q[i].at < q[best].at) best = i;
        fa_time tnext = fa_stack_poll(pe.s, pe.now);
        if (best >= 0 && q[best].at <= tnext) {
            struct ev e = q[best]; q[best] = q[--qn];
            if (e.at > pe.now) pe.now = e.at;
            if (e.to_us == 2) {
                peer_wnd = 65535;
                struct fa_tcp_view w = { 0 }; w.seq = base + prcv; /* a bare ACK: window update */
                peer_rx(&w);
            } else if (e.to_us) {
                if (trace) {
                    struct fa_ipv4_view ip; struct fa_tcp_view a;
                    fa_ipv4_hdr_parse(e.b + 14, e.len - 14, &ip);
                    fa_tcp_hdr_parse(ip.payload, ip.payload_len, ip.src, ip.dst, 0, &a);
                    fprintf(stderr, "%10.3fms   IN ack=%u wnd=%u sack:", (double)pe.now / MS, a.ack - base, a.wnd);
                    for (unsigned b = 0; b < a.opts.sack_blocks; b++)
                        fprintf(stderr, " [%d,%d)", (int)(a.opts.sack[b][0] - base), (int)(a.opts.sack[b][1] - base));
                    fprintf(stderr, "\n");
                }
                fa_stack_input(pe.s, e.b, e.len, pe.now);
                tr_state("ack");
                check_sb(c, "after ack");
            } else {
                uint32_t h[4]; memcpy(h, e.b, sizeof h);
                struct fa_tcp_view v = { 0 };
                v.seq = h[0]; v.data_len = h[1]; v.flags = (uint8_t)h[2]; v.opts.has_ts = 1; v.opts.ts_val = h[3];
                v.data = e.b + 16;
                peer_rx(&v);
            }
        } else if (tnext != FA_TIME_NEVER && tnext < end) {
            pe.now = tnext > pe.now ? tnext : pe.now;
            fa_stack_poll(pe.s, pe.now);
            tr_state("timer");
            check_sb(c, "after timer");
        } else if (best < 0) {
            break;
        }
        if (fin_got && prcv == TOTAL && c->snd_una == c->snd_nxt && shut) break;
        if (fa_tcp_state(c) == FA_TCP_CLOSED) break;
    }
    struct fa_tcp_info i; fa_tcp_get_info(c, &i);
    int ok = fin_got && prcv == TOTAL && c->snd_una == c->snd_nxt;
    if (!ok)
        fprintf(stderr, "seed %llu renege %d: STALL/FAIL prcv=%u fin=%d snd_una=%u snd_nxt=%u state=%d sacked=%u lost=%u pipe=%u cwnd=%u timer=%s t=%.1fs\n",
                (unsigned long long)seed, renege, prcv, fin_got, i.snd_una - base, c->snd_nxt - base, fa_tcp_state(c),
                i.sacked, i.lost, i.pipe, i.cwnd, i.next_timer == FA_TIME_NEVER ? "NEVER" : "armed", (double)pe.now / S);
    if (getenv("VERBOSE"))
        fprintf(stderr, "seed %llu: t=%.1fs retrans=%llu recov=%llu rto=%llu tlp=%llu dsack=%llu undo=%llu lostre=%llu sackbad=%llu\n",
                (unsigned long long)seed, (double)pe.now / S, (unsigned long long)i.retransmits,
                (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_RECOVERIES),
                (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES),
                (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES),
                (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_DSACKS_IN),
                (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS),
                (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_LOST_RETRANSMITS),
                (unsigned long long)fa_stack_counter(pe.s, FA_CNT_TCP_SACK_BAD));
    peer_destroy(&pe);
    return ok;
}

static void fuzz(void **state)
{
    (void)state;
    int n = getenv("SEEDS") ? atoi(getenv("SEEDS")) : 300;
    int first = getenv("FIRST") ? atoi(getenv("FIRST")) : 1;
    int renege = getenv("RENEGE") ? atoi(getenv("RENEGE")) : 0;
    int fails = 0;
    char why[256];
    for (int s = first; s < first + n; s++)
        if (!run_one((uint64_t)s, renege, why, sizeof why)) fails++;
    fprintf(stderr, "%d/%d seeds failed\n", fails, n);
    assert_int_equal(fails, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(fuzz) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
