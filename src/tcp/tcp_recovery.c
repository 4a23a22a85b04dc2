/* tcp_recovery.c — loss recovery, the one writer of c->loss (but the
 * congestion control's own part) and of the scoreboard's marks. What
 * happens to an ACK, in order (fa_tcp_rec_ack):
 *
 *  1. Cumulatively acknowledged segments leave the scoreboard; SACK
 *     blocks mark the segments they cover (RFC 2018), a D-SACK (RFC 2883)
 *     counts toward undo and widens RACK's reordering window. Without
 *     SACK each duplicate ACK stands for one segment that left the
 *     network (RFC 6675 §2's estimate, RFC 6937's DeliveredData).
 *  2. RACK (RFC 8985 §6): the most recently sent segment delivered gives
 *     RACK.xmit_ts and RACK.rtt; any segment sent before it that is not
 *     delivered RACK.rtt + reo_wnd later is lost — a first transmission
 *     or a retransmission alike. What is not late yet arms the reordering
 *     timer. Without SACK, the third duplicate ACK (RFC 5681 §3.2, RFC
 *     5827 fewer with a small flight) marks the first segment lost, and
 *     so does each partial ACK (RFC 6582).
 *  3. The first loss starts fast recovery: the congestion control sets
 *     ssthresh (on_loss), and PRR (RFC 6937) paces what may go on each
 *     ACK until the recovery point is acknowledged; cwnd = ssthresh then.
 *     Outside recovery the congestion control grows cwnd (on_ack).
 *  4. Undo (RFC 2883 §4 / RFC 3522 spirit): when D-SACKs show that every
 *     retransmission of the episode was needless, or a timestamp echo
 *     shows the original got through, cwnd and ssthresh go back.
 *
 * tcp_out.c then sends: lost segments first (RFC 6675 NextSeg rule 1),
 * then new data, while the pipe is below cwnd. The retransmission timer
 * (RFC 6298) marks everything not SACKed lost (RFC 6675 §5.1); the tail
 * loss probe (RFC 8985 §7) draws an ACK when the last segments vanish. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#define DUPTHRESH 3
/* Without SACK, a first segment resent again on the reordering timer at
 * most this many times per episode; then the RTO rules. */
#define RENO_RESENDS 3
/* RFC 8985 §7.2: a single outstanding segment may wait for the peer's
 * delayed-ACK timer, up to 200 ms (RFC 5681 §4.2's bound)... */
#define WORST_CASE_DELACK (200 * FA_NS_PER_MS)
/* ...and no probe fires sooner than the timer granularity Linux uses. */
#define PTO_MIN (2 * FA_NS_PER_MS)

/* ---- allocation ------------------------------------------------------ */

/* The scoreboard's size: one entry per segment in flight. A send buffer
 * of small segments would need one per byte; sized for 256 bytes on
 * average (new data waits when it is full) and bounded, since each ACK
 * may walk the table (RACK's scan): a peer asking for tiny segments on a
 * 16 MiB buffer must not make every ACK a long walk (12 MB in flight at
 * a 1448-byte MSS still fits). */
static uint32_t sb_cap(uint32_t sndbuf, uint32_t most)
{
    uint32_t cap = sndbuf / 256 + 32;
    if (cap > sndbuf + 2)
        cap = sndbuf + 2;
    return cap > most ? most : cap;
}

uint32_t fa_tcp_sb_cap(const struct fa_tcp *c)
{
    return sb_cap(fa_tcp_so(c)->sndbuf, fa_tcp_stack_of(c)->cfg.tcp_sb_max);
}

void fa_tcp_rec_init(struct fa_tcp *c)
{
    c->keep = (struct fa_tcp_keep){ .min_rtt = FA_TCP_RTT32_NONE, .reo_mult = 1 };
}

/* The loss state is a block of its own, attached with the send side's
 * storage (tcp_mem.c) and given back with it once nothing is in flight,
 * no recovery episode runs and no loss timer is armed — what a later
 * busy period needs is in c->keep. An idle connection holds none; blocks
 * given back wait in a small per-stack cache, so neither busy periods
 * nor connection churn allocate. What a block forgets when it goes: the
 * last episode's undo (RFC 2883 §4: a D-SACK after all was acknowledged
 * no longer undoes it), HyStart++'s current round (the next starts
 * afresh) and CUBIC's epoch (the next busy period starts one from the
 * window it has, as after idle: RFC 9438 §5.8). */
#define LOSS_CACHE_MAX 64

int fa_tcp_loss_alloc(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    struct fa_tcp_loss *l = t->loss_cache;
    if (l) {
        t->loss_cache = l->next_free;
        t->loss_cached--;
    } else {
        l = malloc(sizeof *l);
        if (!l)
            return -ENOMEM;
    }
    memset(l, 0, sizeof *l);
    l->t_loss = FA_TIME_NEVER;
    t->loss_live++;
    l->sb.cap = fa_tcp_sb_cap(c); /* its entries come with the send ring's storage */
    l->sb.una = c->snd_una;
    l->fack = c->snd_una;
    l->rexmit_from = c->snd_una;
    l->snd_sml = c->snd_una; /* no small segment in flight */
    l->recover = c->snd_una - 1;
    c->loss = l;
    c->flags &= ~TF_DSACK_IDLE; /* a new busy period: D-SACKs count again */
    fa_tcp_hystart_rounds(c);
    return 0;
}

void fa_tcp_rec_start(struct fa_tcp *c)
{
    /* RFC 6582 §3.2: recover starts at the ISS (called with the peer's
     * SYN, before ours is acknowledged). */
    if (c->loss) {
        c->loss->recover = fa_tcp_iss(c);
        c->loss->sb.una = c->snd_una;
        c->loss->fack = c->snd_una;
    }
}

void fa_tcp_loss_put_idle(struct fa_tcp *c)
{
    const struct fa_tcp_loss *l = c->loss;
    if (l && !l->sb.count && l->state == REC_OPEN && l->timer == LT_NONE &&
        c->snd_una == c->snd_nxt)
        fa_tcp_loss_free(c);
}

void fa_tcp_loss_free(struct fa_tcp *c)
{
    struct fa_tcp_loss *l = c->loss;
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    c->loss = NULL;
    if (!l)
        return;
    if (t)
        t->loss_live--;
    if (t && t->loss_cached < LOSS_CACHE_MAX) {
        l->next_free = t->loss_cache;
        t->loss_cache = l;
        t->loss_cached++;
        return;
    }
    free(l);
}

void fa_tcp_loss_cache_free(struct fa_tcp_stack *t)
{
    while (t->loss_cache) {
        struct fa_tcp_loss *l = t->loss_cache;
        t->loss_cache = l->next_free;
        free(l);
    }
    t->loss_cached = 0;
}

/* ---- the pipe -------------------------------------------------------- */

static uint32_t pipe_from(const struct fa_tcp *c, uint32_t una)
{
    return fa_tcp_pipe_from(c, una);
}

int fa_tcp_in_recovery(const struct fa_tcp *c)
{
    return c->loss && c->loss->state != REC_OPEN;
}

/* ---- marking --------------------------------------------------------- */

static uint32_t entry_len(const struct fa_tcp *c, uint32_t i)
{
    const struct fa_tcp_sb *sb = &c->loss->sb;
    return fa_tcp_sb_at(sb, i)->end - fa_tcp_sb_start(sb, i);
}

/* Entry i is lost: resend it (a copy in flight is lost too). */
static void mark_lost(struct fa_tcp *c, uint32_t i)
{
    struct fa_tcp_loss *l = c->loss;
    uint32_t len = entry_len(c, i);
    struct fa_tcp_sent *e = fa_tcp_sb_at(&l->sb, i);
    if (e->flags & SB_RETRANS) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_LOST_RETRANSMITS);
        fa_tcp_sb_clear(&l->sb, i, len, SB_RETRANS);
    }
    fa_tcp_sb_set(&l->sb, i, len, SB_LOST);
    uint32_t start = fa_tcp_sb_start(&l->sb, i);
    if (seq_lt(start, l->rexmit_from))
        l->rexmit_from = start;
}

/* Which two entries (m, m + 1) to merge for room, not i among them: the
 * highest pair both SACKed or both not, so no SACKed byte is forgotten
 * (and resent: the peer has it); else the highest pair at all. -1: none. */
static long merge_pair(const struct fa_tcp_sb *sb, uint32_t i)
{
    long any = -1;
    for (uint32_t k = sb->count - 1; k-- > 0;) {
        if (k == i || k + 1 == i)
            continue;
        uint8_t a = fa_tcp_sb_at(sb, k)->flags, b = fa_tcp_sb_at(sb, k + 1)->flags;
        if (!((a ^ b) & SB_SACKED))
            return (long)k;
        if (any < 0)
            any = (long)k;
    }
    return any;
}

int fa_tcp_rec_split(struct fa_tcp *c, uint32_t i, uint32_t seq)
{
    struct fa_tcp_sb *sb = &c->loss->sb;
    if (sb->count == sb->cap) {
        /* Room first: two entries other than i become one (merge_pair;
         * below i, i moves down). The resend must go: nothing else would
         * free an entry (the MSS fell, RFC 1191, or the window shrank, and
         * no ACK comes for what is not sent). */
        long m = merge_pair(sb, i);
        if (m < 0)
            return -1;
        if ((uint32_t)m < i)
            i--;
        if ((fa_tcp_sb_at(sb, (uint32_t)m)->flags ^ fa_tcp_sb_at(sb, (uint32_t)m + 1)->flags) &
            SB_SACKED)
            fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_SB_MERGED_SACKED);
        fa_tcp_sb_merge(sb, m);
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_SB_MERGED);
        /* A merged entry to be resent where NextSeg does not look. */
        const struct fa_tcp_sent *e = fa_tcp_sb_at(sb, m);
        uint32_t start = fa_tcp_sb_start(sb, m);
        if ((e->flags & SB_LOST) && !(e->flags & (SB_RETRANS | SB_SACKED)) &&
            seq_lt(start, c->loss->rexmit_from))
            c->loss->rexmit_from = start;
    }
    return fa_tcp_sb_split(sb, i, seq) < 0 ? -1 : (int)i;
}

uint32_t fa_tcp_rec_lost_hidden(const struct fa_tcp *c)
{
    const struct fa_tcp_loss *l = c->loss;
    if (!l || !l->sb.lost || !seq_gt(l->rexmit_from, c->snd_una))
        return 0;
    const struct fa_tcp_sb *sb = &l->sb;
    uint32_t n = 0, end = fa_tcp_sb_find(sb, 0, l->rexmit_from);
    for (uint32_t i = 0; i < end && i < sb->count; i++) {
        const struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
        if ((e->flags & SB_LOST) && !(e->flags & (SB_RETRANS | SB_SACKED)))
            n += e->end - fa_tcp_sb_start(sb, i);
    }
    return n;
}

long fa_tcp_rec_next_lost(const struct fa_tcp *c)
{
    const struct fa_tcp_loss *l = c->loss;
    if (!l || !l->sb.lost)
        return -1;
    const struct fa_tcp_sb *sb = &l->sb;
    uint32_t from = seq_gt(l->rexmit_from, c->snd_una) ? l->rexmit_from : c->snd_una;
    for (uint32_t i = fa_tcp_sb_find(sb, 0, from); i < sb->count; i++) {
        uint8_t f = fa_tcp_sb_at(sb, i)->flags;
        if ((f & SB_LOST) && !(f & (SB_RETRANS | SB_SACKED)))
            return (long)i;
    }
    return -1;
}

static fa_time reno_wait(const struct fa_tcp *c);
static void set_loss_timer(struct fa_tcp *c, uint8_t kind, fa_time at);

static void episode_begin(struct fa_tcp *c)
{
    struct fa_tcp_loss *l = c->loss;
    l->prior_cwnd = c->cwnd;
    l->prior_ssthresh = c->ssthresh;
    l->undo_marker = c->snd_una;
    l->undo_retrans = 0;
    l->undo_sent = 0;
    l->undo_tsval = 0;
    l->undo_ok = 1;
}

void fa_tcp_rec_resent(struct fa_tcp *c, uint32_t i, uint32_t len, fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    struct fa_tcp_sent *e = fa_tcp_sb_at(&l->sb, i);
    /* NextSeg's scan goes on past a lost one resent — not past a probe's
     * copy of a segment higher up: lost ones below it still wait (review:
     * a tail probe's resend hid them until the RTO). */
    if ((e->flags & SB_LOST) && fa_tcp_rec_next_lost(c) == (long)i)
        l->rexmit_from = e->end;
    fa_tcp_sb_set(&l->sb, i, len, SB_RETRANS);
    e->flags |= SB_EVER_RETRANS;
    e->xmit = now;
    c->keep.last_send = fa_tcp_send_stamp(now);
    if (l->state == REC_FAST)
        l->prr_out += len;
    if (l->undo_ok) {
        if (!l->undo_sent && (c->flags & TF_TS))
            l->undo_tsval = fa_tcp_ts_val(c, now);
        l->undo_retrans++;
        l->undo_sent = 1;
    }
    /* Without SACK, a resent first segment unanswered an RTT later was
     * lost again (reno_detect); with SACK, RACK's timer covers it. In fast
     * recovery only: in RTO recovery the backed-off timer decides (RFC
     * 6298 §5.5; review: three more copies followed each timeout). */
    if (!(c->flags & TF_SACK) && i == 0 && l->state == REC_FAST && fa_tcp_srtt(c) &&
        l->reno_shift < RENO_RESENDS)
        set_loss_timer(c, LT_REORDER, now + reno_wait(c));
}

int fa_tcp_rec_sent_new(struct fa_tcp *c, uint32_t end, int fin, fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    uint32_t len = end - c->snd_nxt;
    if (fa_tcp_sb_append(&l->sb, c->snd_nxt, end, fin, now) < 0)
        return -1;
    c->keep.last_send = fa_tcp_send_stamp(now);
    if (l->state == REC_FAST)
        l->prr_out += len;
    return 0;
}

/* ---- one ACK --------------------------------------------------------- */

struct ack_ctx {
    struct fa_tcp *c;
    fa_time now;
    int64_t echo;        /* when the echoed timestamp was sent; -1: none */
    int64_t first_clean; /* oldest cumulatively ACKed segment sent once; -1 */
    int64_t last_clean;  /* newest of them */
    int64_t sack_clean;  /* oldest newly SACKed segment sent once; -1 */
    int acked_retrans;   /* a resent segment was cumulatively ACKed */
    int dsack;           /* this ACK carried a D-SACK */
    int dsack_probe;     /* ...covering the tail loss probe */
};

/* RFC 8985 §6.2 step 2: is (t1, s1) sent after (t2, s2)? */
static int sent_after(fa_time t1, uint32_t s1, fa_time t2, uint32_t s2)
{
    return t1 > t2 || (t1 == t2 && seq_gt(s1, s2));
}

/* A segment was delivered (cumulatively ACKed or SACKed) by this ACK:
 * RACK steps 1-3 (RFC 8985 §6.2). */
static void delivered(struct ack_ctx *x, const struct fa_tcp_sent *e)
{
    struct fa_tcp *c = x->c;
    struct fa_tcp_loss *l = c->loss;
    fa_time rtt = x->now - e->xmit;
    if (e->flags & SB_EVER_RETRANS) {
        /* Step 1: which copy does the ACK answer? With timestamps the
         * echo says; without, an ACK sooner than the least RTT after the
         * resend answers the original. */
        if (x->echo >= 0 ? x->echo < (int64_t)e->xmit - (int64_t)FA_NS_PER_MS : rtt < c->keep.min_rtt)
            return;
    } else if (seq_lt(e->end, l->fack)) {
        c->flags |= TF_REO_SEEN; /* step 3: delivered below the SACKed edge */
    }
    fa_tcp_min_rtt_take(c, rtt);
    l->rack_rtt = rtt;
    if (!l->rack_valid || sent_after(e->xmit, e->end, l->rack_xmit, l->rack_end)) {
        l->rack_xmit = e->xmit;
        l->rack_end = e->end;
        l->rack_valid = 1;
    }
}

static void cum_acked(void *ctx, const struct fa_tcp_sent *e, uint32_t start)
{
    struct ack_ctx *x = ctx;
    (void)start;
    if (e->flags & SB_EVER_RETRANS) {
        x->acked_retrans = 1;
    } else if (!(e->flags & SB_SACKED)) {
        if (x->first_clean < 0)
            x->first_clean = (int64_t)e->xmit;
        x->last_clean = (int64_t)e->xmit;
    }
    if (!(e->flags & SB_SACKED))
        delivered(x, e);
}

/* How many segments the peer reports twice that were resent: a D-SACK
 * below SND.UNA (the segments are gone) counts as one if it lies in this
 * episode (as Linux); above, each resent segment it covers whole. Only
 * those show a retransmission needless (RFC 2883 §4, RFC 3708); a
 * duplicate of a segment sent once (a network duplicate) shows nothing,
 * nor one of a piece of a resent segment (SB_PIECE: the peer may have
 * needed the rest; review of the SACK split, which cut such pieces). */
static uint32_t dsack_resent(const struct fa_tcp *c, uint32_t start, uint32_t end,
                             uint32_t una)
{
    const struct fa_tcp_loss *l = c->loss;
    const struct fa_tcp_sb *sb = &l->sb;
    if (seq_le(end, una))
        return seq_gt(end, l->undo_marker) ? 1 : 0;
    uint32_t n = 0;
    for (uint32_t i = fa_tcp_sb_find(sb, 0, start); i < sb->count; i++) {
        const struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
        if (seq_gt(e->end, end))
            break;
        if (seq_ge(fa_tcp_sb_start(sb, i), start) &&
            (e->flags & (SB_EVER_RETRANS | SB_PIECE)) == SB_EVER_RETRANS)
            n++;
    }
    return n;
}

/* What a D-SACK teaches for the connection's life: the peer reports
 * duplicates, there is reordering, and RACK's window widens, once per
 * round trip (RFC 8985 §6.2 step 4). With all acknowledged and the loss
 * state given back, the D-SACKs that still come belong to one round: the
 * first widens the window, TF_DSACK_IDLE marks it until the next busy
 * period (review: each widened it, four D-SACKs took it to SRTT). */
static void dsack_lasting(struct fa_tcp *c)
{
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_DSACKS_IN);
    c->flags |= TF_DSACK_SEEN | TF_REO_SEEN;
    if (c->loss) {
        uint32_t *round = &c->loss->dsack_round;
        if (*round && seq_lt(c->snd_una, *round))
            return;
        *round = c->snd_nxt;
    } else {
        if (c->flags & TF_DSACK_IDLE)
            return;
        c->flags |= TF_DSACK_IDLE;
    }
    if (c->keep.reo_mult < UINT8_MAX)
        c->keep.reo_mult++;
    c->keep.reo_persist = 16;
}

/* RFC 2883 §4: a duplicate reported. A resent segment the peer had is
 * one needless retransmission; any duplicate shows reordering, and RACK
 * widens its window for a while (RFC 8985 §6.2 step 4). una: SND.UNA
 * after this ACK. */
static void dsack_seen(struct ack_ctx *x, uint32_t start, uint32_t end, uint32_t una)
{
    struct fa_tcp *c = x->c;
    struct fa_tcp_loss *l = c->loss;
    x->dsack = 1;
    if (l->tlp_out && l->tlp_retrans && seq_ge(end, l->tlp_end))
        x->dsack_probe = 1;
    if (l->undo_ok) {
        uint32_t n = dsack_resent(c, start, end, una);
        l->undo_retrans = l->undo_retrans > n ? l->undo_retrans - n : 0;
    }
    dsack_lasting(c);
}

/* Entry i as SACK block [start, end) covers it: the part inside the
 * block becomes an entry of its own (the peer has those bytes whatever
 * the segments it got: one trimmed to a window, a merged entry, a resend
 * cut smaller). 1 if entry i now lies inside the block; 0 if not (the
 * part is another entry, looked at next); -1 if the table is full. */
static int sack_fit(struct fa_tcp *c, uint32_t i, uint32_t start, uint32_t end)
{
    struct fa_tcp_sb *sb = &c->loss->sb;
    uint32_t s = fa_tcp_sb_start(sb, i);
    const struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
    /* A block covers data; a FIN that came with it arrived too. */
    uint32_t data_end = e->end - ((e->flags & SB_FIN) ? 1u : 0u);
    if (seq_lt(s, start) && seq_lt(start, data_end))
        return fa_tcp_sb_split(sb, i, start) < 0 ? -1 : 0; /* i + 1 next */
    if (seq_gt(data_end, end)) {
        if (seq_le(end, s))
            return 0;
        if (fa_tcp_sb_split(sb, i, end) < 0)
            return -1;
    }
    return !seq_lt(s, start);
}

/* A SACKed entry the block reaches into entry i from, with no room to
 * split i: the boundary moves to the block's edge, so what it covers is
 * SACKed all the same. 1 if it did (the bytes delivered: *moved says
 * what left i), 0 if no SACKed neighbour borders the covered part. */
static int sack_shift(struct fa_tcp *c, uint32_t i, uint32_t start, uint32_t end,
                      struct fa_tcp_sent *moved)
{
    struct fa_tcp_sb *sb = &c->loss->sb;
    uint32_t s = fa_tcp_sb_start(sb, i);
    const struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
    uint32_t data_end = e->end - ((e->flags & SB_FIN) ? 1u : 0u);
    *moved = *e;
    if (!seq_lt(s, start) && i > 0 && (fa_tcp_sb_at(sb, i - 1)->flags & SB_SACKED)) {
        moved->end = end; /* the head [s, end) joins i - 1 */
        fa_tcp_sb_shift(sb, i - 1, end);
        return 1;
    }
    if (seq_lt(s, start) && !seq_gt(data_end, end) && !(e->flags & SB_FIN) &&
        i + 1 < sb->count && (fa_tcp_sb_at(sb, i + 1)->flags & SB_SACKED)) {
        fa_tcp_sb_shift(sb, i, start); /* the tail [start, end of i) joins i + 1 */
        return 1;
    }
    return 0;
}

/* The SACK of one entry, or the part of it one that moved (sack_shift). */
static void sacked_now(struct ack_ctx *x, const struct fa_tcp_sent *e)
{
    struct fa_tcp_loss *l = x->c->loss;
    if (!(e->flags & SB_EVER_RETRANS) && x->sack_clean < 0)
        x->sack_clean = (int64_t)e->xmit;
    delivered(x, e);
    if (seq_gt(e->end, l->fack))
        l->fack = e->end;
}

/* Marks the bytes inside [start, end) SACKed: whole entries, and the part
 * of one the block covers — split off, or with the table full moved into
 * a SACKed neighbour once the whole ones are marked; else given up. */
static void sack_block(struct ack_ctx *x, uint32_t start, uint32_t end)
{
    struct fa_tcp *c = x->c;
    struct fa_tcp_sb *sb = &c->loss->sb;
    uint32_t full[2]; /* entries a block edge cuts, the table full */
    unsigned nfull = 0;
    for (uint32_t i = fa_tcp_sb_find(sb, 0, start); i < sb->count; i++) {
        if (!seq_lt(fa_tcp_sb_start(sb, i), end))
            break;
        if (fa_tcp_sb_at(sb, i)->flags & SB_SACKED)
            continue;
        int fit = sack_fit(c, i, start, end);
        if (fit < 0 && nfull < 2) /* (full, no entry moves: i stays i) */
            full[nfull++] = i;
        if (fit <= 0)
            continue;
        struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
        uint32_t len = e->end - fa_tcp_sb_start(sb, i);
        fa_tcp_sb_clear(sb, i, len, SB_LOST);
        fa_tcp_sb_clear(sb, i, len, SB_RETRANS);
        fa_tcp_sb_set(sb, i, len, SB_SACKED);
        sacked_now(x, e);
    }
    /* (A shift moves a boundary, never an entry: the indexes hold.) */
    for (unsigned k = 0; k < nfull; k++) {
        struct fa_tcp_sent part;
        if (sack_shift(c, full[k], start, end, &part))
            sacked_now(x, &part);
        else
            fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_SACK_UNSPLIT);
    }
}

/* The SACK option (RFC 2018 §3, RFC 2883 §4); una: SND.UNA after this
 * ACK. Blocks outside what was sent are ignored: a forged or stale block
 * must not make us skip data the peer never had. */
/* Block b of seg: -1 if it is not one the peer could send (counted),
 * 1 if it reports a duplicate (RFC 2883 §4: below this segment's own ACK
 * field — not SND.UNA: an old ACK overtaken by newer ones is no
 * duplicate report — or inside the second block), 0 otherwise. */
static int sack_kind(struct fa_tcp *c, const struct fa_tcp_view *seg, unsigned b)
{
    const struct fa_tcp_opts *o = &seg->opts;
    uint32_t start = o->sack[b][0], end = o->sack[b][1];
    if (!seq_lt(start, end) || seq_gt(end, c->snd_nxt) ||
        seq_lt(start, c->snd_una - c->max_snd_wnd)) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_SACK_BAD);
        return -1;
    }
    return b == 0 && (seq_le(end, seg->ack) ||
                      (o->sack_blocks > 1 && seq_ge(start, o->sack[1][0]) &&
                       seq_le(end, o->sack[1][1])));
}

static void take_sack(struct ack_ctx *x, const struct fa_tcp_view *seg, uint32_t una)
{
    struct fa_tcp *c = x->c;
    const struct fa_tcp_opts *o = &seg->opts;
    unsigned order[4], n = 0;
    for (unsigned b = 0; b < o->sack_blocks && b < 4; b++) {
        uint32_t start = o->sack[b][0], end = o->sack[b][1];
        int kind = sack_kind(c, seg, b);
        if (kind < 0)
            continue;
        if (kind) {
            dsack_seen(x, start, end, una);
            continue;
        }
        if (seq_le(end, una))
            continue;
        /* In ascending order (RFC 8985 §6.2 step 3 takes segments by
         * send time; Linux sorts the blocks): RFC 2018 puts the latest
         * block first, and taken in that order an older block looked
         * like reordering (review: two new blocks in one ACK). */
        unsigned i = n++;
        for (; i > 0 && seq_lt(start, o->sack[order[i - 1]][0]); i--)
            order[i] = order[i - 1];
        order[i] = b;
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t start = o->sack[order[i]][0], end = o->sack[order[i]][1];
        sack_block(x, seq_lt(start, una) ? una : start, end);
    }
}

/* RFC 8985 §6.2 step 4. */
static fa_time reo_wnd(const struct fa_tcp *c)
{
    const struct fa_tcp_loss *l = c->loss;
    if (!(c->flags & TF_REO_SEEN) &&
        (l->state != REC_OPEN || l->sb.sacked >= DUPTHRESH * (uint32_t)c->mss))
        return 0;
    if (c->keep.min_rtt == FA_TCP_RTT32_NONE)
        return fa_tcp_srtt(c) / 4;
    fa_time w = (fa_time)c->keep.min_rtt / 4 * c->keep.reo_mult;
    return fa_tcp_srtt(c) && fa_tcp_srtt(c) < w ? fa_tcp_srtt(c) : w;
}

/* RFC 8985 §6.2 step 5: marks what is late; returns how long until the
 * next one not yet late would be (0: none). una: SND.UNA. */
static fa_time rack_detect(struct fa_tcp *c, fa_time now, int *found)
{
    struct fa_tcp_loss *l = c->loss;
    struct fa_tcp_sb *sb = &l->sb;
    fa_time reo = reo_wnd(c), wait = 0;
    if (!l->rack_valid)
        return 0;
    for (uint32_t i = 0; i < sb->count; i++) {
        struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
        if ((e->flags & SB_SACKED) || ((e->flags & SB_LOST) && !(e->flags & SB_RETRANS)))
            continue;
        if (!sent_after(l->rack_xmit, l->rack_end, e->xmit, e->end))
            continue;
        int64_t left = (int64_t)(e->xmit + l->rack_rtt + reo) - (int64_t)now;
        if (left <= 0) {
            mark_lost(c, i);
            *found = 1;
        } else if ((fa_time)left > wait) {
            wait = (fa_time)left;
        }
    }
    return wait;
}

/* RFC 5827 §3.1 (Early Retransmit): with fewer than four segments out
 * and no new segment allowed to go, three duplicates can never come; the
 * threshold drops to one less than the segments outstanding. */
static unsigned dupthresh(const struct fa_tcp *c)
{
    uint32_t flight = c->snd_nxt - c->snd_una;
    uint32_t oseg = (flight + c->mss - 1) / c->mss;
    int can_send_new = fa_tcp_snd_len(c) > flight && fa_tcp_window_room(c) > 0;
    return oseg >= 2 && oseg < 4 && !can_send_new ? oseg - 1 : DUPTHRESH;
}

static fa_time reno_wait(const struct fa_tcp *c)
{
    fa_time reo = fa_tcp_srtt(c) / 4 > FA_TCP_REO_WND_MIN ? fa_tcp_srtt(c) / 4 : FA_TCP_REO_WND_MIN;
    return (fa_tcp_srtt(c) + reo) << c->loss->reno_shift;
}

/* Without SACK: the duplicate ACK threshold, NewReno's partial ACK, and
 * a retransmission still unanswered an RTT (and a reordering allowance)
 * later while duplicates arrive — it was lost again. Returns the wait
 * for the reordering timer. */
static fa_time reno_detect(struct fa_tcp *c, int dup, uint32_t acked, uint32_t ack,
                           fa_time now, int *found)
{
    struct fa_tcp_loss *l = c->loss;
    struct fa_tcp_sb *sb = &l->sb;
    if (!sb->count)
        return 0;
    struct fa_tcp_sent *e = fa_tcp_sb_at(sb, 0);
    if (l->state == REC_OPEN) {
        /* RFC 6582 §3.2 step 2: only a loss past the last recovery. */
        if (dup && l->dupacks >= dupthresh(c) && seq_gt(ack, l->recover)) {
            mark_lost(c, 0);
            *found = 1;
        }
        return 0;
    }
    if (acked && seq_lt(ack, l->recover) && !(e->flags & (SB_LOST | SB_RETRANS))) {
        mark_lost(c, 0); /* RFC 6582 §3.2 step 5: a partial ACK's next hole */
        l->reno_shift = 0;
        return 0;
    }
    /* A few times at most, the wait doubling: then the retransmission
     * timer (with its backoff and retry limit) is in charge — without an
     * answer this would resend forever. */
    if (!(e->flags & SB_RETRANS) || !fa_tcp_srtt(c) || l->reno_shift >= RENO_RESENDS)
        return 0;
    int64_t late = (int64_t)(e->xmit + reno_wait(c)) - (int64_t)now;
    if (late > 0)
        return (fa_time)late;
    if (dup) {
        mark_lost(c, 0);
        *found = 1;
        l->reno_shift++;
    }
    return 0;
}

static void set_loss_timer(struct fa_tcp *c, uint8_t kind, fa_time at)
{
    c->loss->timer = kind;
    c->loss->t_loss = at;
}

/* RFC 6675 §5 step (4) / RFC 6937: fast recovery begins. */
static void enter_recovery(struct fa_tcp *c, uint32_t una, fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_RECOVERIES);
    episode_begin(c);
    fa_tcp_cc(c)->on_loss(c, now);
    l->state = REC_FAST;
    l->recover = c->snd_nxt;
    l->prr_delivered = 0;
    l->prr_out = 0;
    l->recover_fs = c->snd_nxt - una;
    l->tlp_out = 0;
    l->reno_shift = 0;
}

static void leave_recovery(struct fa_tcp *c)
{
    struct fa_tcp_loss *l = c->loss;
    /* RFC 6937 §3: recovery ends with cwnd = ssthresh — set, not capped:
     * PRR's last cwnd was the pipe at the ACK before, and with everything
     * delivered at once the pipe is 0; a window of 0 would wait for a
     * probe and the peer's delayed ACK (seen on the TAP: 43 ms stalls). */
    if (l->state == REC_FAST)
        c->cwnd = c->ssthresh;
    l->state = REC_OPEN;
    l->dupacks = 0;
    l->reno_sacked = 0;
    /* RFC 8985 §6.2 step 4: the widened window lasts 16 recoveries. */
    if (c->keep.reo_persist)
        c->keep.reo_persist--;
    else
        c->keep.reo_mult = 1;
}

uint32_t fa_tcp_prr_sndcnt(const struct fa_tcp_prr_in *in)
{
    int64_t sndcnt;
    if (in->pipe > in->ssthresh) {
        /* Proportional: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out */
        uint64_t fs = in->recover_fs ? in->recover_fs : 1;
        sndcnt = (int64_t)(((uint64_t)in->prr_delivered * in->ssthresh + fs - 1) / fs) -
                 in->prr_out;
    } else {
        /* PRR-SSRB: limit = max(prr_delivered - prr_out, DeliveredData) + MSS */
        int64_t limit = (int64_t)in->prr_delivered - in->prr_out;
        if (limit < (int64_t)in->delivered)
            limit = in->delivered;
        limit += in->mss;
        int64_t room = (int64_t)in->ssthresh - in->pipe;
        sndcnt = room < limit ? room : limit;
    }
    if (sndcnt < 0)
        sndcnt = 0;
    /* RFC 6937bis: the first retransmission goes at once. */
    if (in->prr_out == 0 && sndcnt < in->mss)
        sndcnt = in->mss;
    /* In whole segments, rounded up (as Linux counts PRR in packets): a
     * part of a segment could only go as a small one, which sender SWS
     * avoidance holds back — and the ACK clock would stop. */
    sndcnt = (sndcnt + in->mss - 1) / in->mss * in->mss;
    return (uint32_t)sndcnt;
}

/* RFC 6937 §3.1: what this ACK lets go, as cwnd = pipe + sndcnt. */
static void prr(struct fa_tcp *c, uint32_t delivered_bytes, uint32_t pipe)
{
    struct fa_tcp_loss *l = c->loss;
    l->prr_delivered += delivered_bytes;
    struct fa_tcp_prr_in in = {
        .prr_delivered = l->prr_delivered, .prr_out = l->prr_out,
        .recover_fs = l->recover_fs, .ssthresh = c->ssthresh, .pipe = pipe,
        .delivered = delivered_bytes, .mss = c->mss,
    };
    c->cwnd = pipe + fa_tcp_prr_sndcnt(&in);
}

static void undo(struct fa_tcp *c)
{
    struct fa_tcp_loss *l = c->loss;
    struct fa_tcp_sb *sb = &l->sb;
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_UNDOS);
    if (c->cwnd < l->prior_cwnd)
        c->cwnd = l->prior_cwnd;
    if (c->ssthresh < l->prior_ssthresh)
        c->ssthresh = l->prior_ssthresh;
    fa_tcp_cc(c)->on_undo(c);
    /* What was marked lost and not yet resent is not: keep it from going. */
    for (uint32_t i = 0; i < sb->count && sb->lost; i++)
        if (!(fa_tcp_sb_at(sb, i)->flags & SB_RETRANS))
            fa_tcp_sb_clear(sb, i, entry_len(c, i), SB_LOST);
    l->state = REC_OPEN;
    l->undo_ok = 0;
    l->dupacks = 0;
    l->reno_sacked = 0;
}

/* When the echoed timestamp was sent (-1: no echo to trust). */
static int64_t echo_time(const struct fa_tcp *c, const struct fa_tcp_view *seg, fa_time now)
{
    if (!(c->flags & TF_TS) || !seg->opts.has_ts || !seg->opts.ts_ecr)
        return -1;
    uint32_t ago_ms = fa_tcp_ts_val(c, now) - seg->opts.ts_ecr;
    if (ago_ms > 600000) /* not something we sent lately */
        return -1;
    return (int64_t)now - (int64_t)ago_ms * FA_NS_PER_MS;
}

/* The tail loss probe's outcome (RFC 8985 §7.4.2): a D-SACK of a resent
 * probe, or a pure duplicate ACK at TLP.end_seq (no SACK block: the
 * originals and the probe both arrived), shows it needless; an ACK beyond
 * TLP.end_seq without either shows it repaired a loss — the congestion
 * control hears of it. An ACK that moves SND.UNA just to TLP.end_seq says
 * neither (the originals' late ACK looks the same): the episode waits, as
 * in Linux (review: the window was cut on it, and the D-SACK that followed
 * did not restore it). */
static void probe_answered(struct fa_tcp *c, const struct ack_ctx *x, uint32_t ack,
                           int pure_dup, fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    if (!l->tlp_out || seq_lt(ack, l->tlp_end))
        return;
    int needless = x->dsack_probe || (pure_dup && ack == l->tlp_end);
    if (l->tlp_retrans && !needless && !seq_gt(ack, l->tlp_end))
        return;
    l->tlp_out = 0;
    if (!l->tlp_retrans || needless || l->state != REC_OPEN)
        return;
    episode_begin(c);
    fa_tcp_cc(c)->on_loss(c, now);
    if (c->cwnd > c->ssthresh)
        c->cwnd = c->ssthresh;
}

/* The common ACK: it moves SND.UNA on, carries no SACK block, and there
 * is no loss state at all — nothing SACKed, lost, resent or probed, no
 * duplicates counted, no recovery. Then RACK's state, the RTT and the
 * window are all there is to update. Returns 0 if the ACK is not that. */
static int plain_ack(struct fa_tcp *c, const struct fa_tcp_view *seg, uint32_t acked,
                     fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    if (!acked || seg->opts.sack_blocks || l->state != REC_OPEN || l->sb.sacked ||
        l->sb.lost || l->sb.retrans || l->tlp_out || l->dupacks || l->reno_sacked)
        return 0;
    /* Nothing was resent, so every entry that leaves was sent once, in
     * order: the first gives the RTT sample (RFC 6298), the last is the
     * newest delivered (RACK, RFC 8985 §6.2) — no walk with callbacks. */
    uint32_t una = c->snd_una;
    struct fa_tcp_sent first, last;
    fa_time cc_rtt = 0; /* the newest segment ACKed, sent once: HyStart's sample */
    if (fa_tcp_sb_pop(&l->sb, seg->ack, &first, &last)) {
        if (!(last.flags & SB_EVER_RETRANS) && now > last.xmit)
            cc_rtt = now - last.xmit;
        if (!(last.flags & SB_EVER_RETRANS) && now > first.xmit) /* Karn */
            fa_tcp_rtt_sample(c, now - first.xmit, FA_RTT_CLOCK, now);
        fa_time rtt = now - last.xmit;
        fa_tcp_min_rtt_take(c, rtt);
        l->rack_rtt = rtt;
        if (!l->rack_valid || sent_after(last.xmit, last.end, l->rack_xmit, l->rack_end)) {
            l->rack_xmit = last.xmit;
            l->rack_end = last.end;
            l->rack_valid = 1;
        }
    }
    if (seq_lt(l->fack, seg->ack))
        l->fack = seg->ack;
    if ((c->snd_nxt - una) * 2 >= c->cwnd)
        fa_tcp_cc(c)->on_ack(c, acked, cc_rtt, now);
    return 1; /* the probe's timer: ack_advances arms it */
}

void fa_tcp_rec_ack(struct fa_tcp *c, const struct fa_tcp_view *seg, int dup,
                    fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    if (!l) {
        /* Nothing in flight (but a SYN): only a D-SACK can teach — the
         * report of a needless resend that came after the ACK of all. */
        for (unsigned b = 0; (c->flags & TF_SACK) && b < seg->opts.sack_blocks; b++)
            if (sack_kind(c, seg, b) == 1)
                dsack_lasting(c);
        return;
    }
    uint32_t ack = seg->ack, una = c->snd_una;
    uint32_t acked = seq_gt(ack, una) ? ack - una : 0;
    if (!dup && plain_ack(c, seg, acked, now))
        return;
    struct ack_ctx x = { .c = c, .now = now, .echo = echo_time(c, seg, now),
                         .first_clean = -1, .last_clean = -1, .sack_clean = -1 };
    uint32_t held_before = c->snd_nxt - una - l->sb.sacked - l->reno_sacked;

    /* 1. What left the network. */
    if (acked)
        fa_tcp_sb_ack(&l->sb, ack, cum_acked, &x);
    if ((c->flags & TF_SACK) && seg->opts.sack_blocks)
        take_sack(&x, seg, seq_gt(ack, una) ? ack : una);
    if (seq_lt(l->fack, ack))
        l->fack = ack; /* the highest delivered: SACKed or ACKed */
    if (dup) {
        if (l->dupacks < UINT8_MAX)
            l->dupacks++;
    } else if (acked) {
        l->dupacks = 0;
    }
    if (!(c->flags & TF_SACK)) {
        uint32_t first = l->sb.count ? entry_len(c, 0) : 0;
        uint32_t most = c->snd_nxt - (acked ? ack : una) - (acked ? 0 : first);
        if (dup)
            l->reno_sacked += c->mss;
        else if (acked)
            l->reno_sacked = l->reno_sacked > acked ? l->reno_sacked - acked : 0;
        if (l->reno_sacked > most)
            l->reno_sacked = most;
    }
    uint32_t held_after = c->snd_nxt - (acked ? ack : una) - l->sb.sacked - l->reno_sacked;
    uint32_t delivered_bytes = held_before > held_after ? held_before - held_after : 0;
    /* Without SACK a partial ACK filled a hole: at least a segment left
     * the network though the duplicates counted the rest already. */
    if (!(c->flags & TF_SACK) && acked && delivered_bytes < c->mss)
        delivered_bytes = c->mss;

    /* RFC 6298 sample, Karn's rule: from a segment sent once; if a resent
     * one was acknowledged, only a timestamp echo can time it; with no
     * cumulative ACK, the oldest newly SACKed segment sent once. */
    fa_time rtt = 0;
    int source = FA_RTT_CLOCK;
    if (x.first_clean >= 0 && !x.acked_retrans) {
        rtt = now - (fa_time)x.first_clean;
    } else if (acked && x.echo >= 0 && (int64_t)now > x.echo) {
        rtt = now - (fa_time)x.echo;
        source = FA_RTT_ECHO;
    } else if (!acked && x.sack_clean >= 0) {
        rtt = now - (fa_time)x.sack_clean;
    }
    if (rtt > 0)
        fa_tcp_rtt_sample(c, rtt, source, now);

    /* 4. Undo, before anything new is marked. */
    /* A D-SACK may come after the ACK that ended recovery — the usual
     * order when the original was only late: it still undoes (Linux's
     * tcp_try_undo_dsack in the Open state; review: it never did). */
    if (l->undo_ok && (l->state != REC_OPEN || x.dsack)) {
        /* The echo shows an original arrived — but says nothing of the
         * other resends: only when none is still out (Linux's
         * tcp_try_undo_partial; review: a real loss beside a reordered
         * segment was undone, cwnd back to 20 MSS). */
        int ts_says = l->state != REC_OPEN && acked && l->undo_tsval && x.echo >= 0 &&
                      (int32_t)(seg->opts.ts_ecr - l->undo_tsval) < 0 && l->sb.retrans == 0;
        /* Only once something was resent: before that, no D-SACK can
         * show a retransmission needless (Linux starts at -1 for this). */
        if (l->undo_sent && (ts_says || (x.dsack && l->undo_retrans == 0)))
            undo(c);
    }
    probe_answered(c, &x, ack, dup && !seg->opts.sack_blocks, now);

    /* 2. Losses. */
    int found = 0;
    fa_time wait = 0;
    if (c->flags & TF_SACK) {
        if (l->sb.sacked || l->sb.retrans || l->sb.lost)
            wait = rack_detect(c, now, &found);
    } else {
        wait = reno_detect(c, dup, acked, ack, now, &found);
    }
    if (wait)
        set_loss_timer(c, LT_REORDER, now + wait);
    else if (l->timer == LT_REORDER ||
             (l->timer == LT_TLP && l->sb.sacked && l->state == REC_OPEN))
        set_loss_timer(c, LT_NONE, FA_TIME_NEVER); /* §7.2: no probe with SACKed data */

    /* 3. The window. The ACK that ends fast recovery leaves cwnd at
     * ssthresh; growth starts with the next. An old ACK (below SND.UNA)
     * delivered nothing: the pipe counts from SND.UNA, not from it. */
    uint32_t nuna = acked ? ack : una;
    int ended = l->state == REC_FAST && seq_ge(ack, l->recover) && acked;
    if (l->state != REC_OPEN && seq_ge(ack, l->recover) && acked)
        leave_recovery(c);
    if (found && l->state == REC_OPEN)
        enter_recovery(c, nuna, now);
    if (l->state == REC_FAST) {
        prr(c, delivered_bytes, pipe_from(c, nuna));
    } else if (acked && !ended && (c->snd_nxt - una) * 2 >= c->cwnd) {
        /* Grow only a window in use (RFC 7661's spirit); after an RTO
         * this is slow start back to ssthresh. */
        fa_tcp_cc(c)->on_ack(c, acked, x.last_clean >= 0 ? now - (fa_time)x.last_clean : 0, now);
    }
    /* No reordering timer left: the probe's takes over (if it may run),
     * else a lost tail of ACKs would wait for the RTO (an ACK that moves
     * SND.UNA has it armed by ack_advances, after SND.UNA moved). */
    if (l->timer == LT_NONE && !acked)
        fa_tcp_rec_arm_probe(c, now);
}

/* ---- timers ---------------------------------------------------------- */

/* RFC 8985 §7.2: armed when new data goes and on each ACK while data is
 * outstanding, unless SACKed data waits (the reordering timer covers it)
 * or a probe is out. A PTO past the RTO's deadline is cut to it, and the
 * probe goes in the RTO's place (tcp_timer.c runs it first; sending it
 * re-arms the RTO, §7.3): a lone segment, whose PTO has the delayed-ACK
 * allowance, is then probed at the RTO instead of timing out (review: it
 * never got a probe, and its loss cost cwnd = 1 MSS).
 *
 * Unlike §7.2, also in fast recovery (never RTO recovery) once RACK has
 * nothing left to time: when
 * the last segment sent was a retransmission and the one ACK it draws
 * (the cumulative ACK of everything) is lost, nothing else would come
 * back — one lost ACK would cost the whole RTO. The probe there resends
 * the highest segment not SACKed; a D-SACK then shows it needless and
 * costs no window (the peer ACKs a hole's filling at once, RFC 5681
 * §4.2, so no delayed-ACK allowance). */
void fa_tcp_rec_arm_probe(struct fa_tcp *c, fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    if (!l || l->timer == LT_REORDER)
        return;
    int synced = c->state != FA_TCP_SYN_SENT && c->state != FA_TCP_SYN_RECEIVED;
    int recovering = l->state != REC_OPEN;
    /* Not in RTO recovery (RFC 8985 §7.2): the timeout's one segment goes
     * at a time, backed off (review: a probe sent a second, beyond cwnd,
     * every round). */
    if (!synced || !fa_tcp_srtt(c) || c->snd_una == c->snd_nxt || l->tlp_out ||
        l->state == REC_RTO || (!recovering && l->sb.sacked)) {
        set_loss_timer(c, LT_NONE, FA_TIME_NEVER);
        return;
    }
    fa_time pto = 2 * fa_tcp_srtt(c) > PTO_MIN ? 2 * fa_tcp_srtt(c) : PTO_MIN;
    if (!recovering && c->snd_nxt - c->snd_una <= c->mss)
        pto += WORST_CASE_DELACK;
    fa_time at = now + pto;
    if (at > c->t_rexmit)
        at = c->t_rexmit;
    if (at > now)
        set_loss_timer(c, LT_TLP, at);
    else
        set_loss_timer(c, LT_NONE, FA_TIME_NEVER); /* the RTO is due: it decides */
}

void fa_tcp_rec_window_opened(struct fa_tcp *c, fa_time now)
{
    /* Only where no loss timer runs: re-arming a probe that is armed
     * would push it later at each window update, up to the RTO (review). */
    if (c->loss && c->loss->timer == LT_NONE)
        fa_tcp_rec_arm_probe(c, now);
}

int fa_tcp_rec_probe_first(const struct fa_tcp *c, fa_time now)
{
    const struct fa_tcp_loss *l = c->loss;
    return l && l->timer == LT_TLP && l->t_loss <= now && l->t_loss <= c->t_rexmit;
}

void fa_tcp_rec_timeout(struct fa_tcp *c, fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    if (!l)
        return; /* never armed without it */
    uint8_t kind = l->timer;
    set_loss_timer(c, LT_NONE, FA_TIME_NEVER);
    if (c->snd_una == c->snd_nxt)
        return;
    if (kind == LT_REORDER) {
        /* RFC 8985 §6.3: what was waiting on reordering is late now. */
        int found = 0;
        fa_time wait;
        if (c->flags & TF_SACK) {
            wait = rack_detect(c, now, &found);
        } else {
            wait = reno_detect(c, 1, 0, c->snd_una, now, &found);
        }
        if (wait)
            set_loss_timer(c, LT_REORDER, now + wait);
        if (found && l->state == REC_OPEN)
            enter_recovery(c, c->snd_una, now);
        if (found && l->state == REC_FAST)
            prr(c, 0, fa_tcp_pipe(c));
        fa_tcp_output(c, now);
        if (l->timer == LT_NONE)
            fa_tcp_rec_arm_probe(c, now);
        return;
    }
    if (kind != LT_TLP)
        return;
    uint32_t nxt = c->snd_nxt, resent = c->retransmits;
    l->tlp_out = 1; /* (while it goes: sending arms no probe behind it) */
    int retrans = fa_tcp_send_probe(c, now, l->state != REC_OPEN);
    if (c->snd_nxt == nxt && c->retransmits == resent) {
        l->tlp_out = 0; /* nothing went (a shut window): no probe, the RTO stands */
        return;
    }
    /* §7.3: a probe is out; the RTO runs a whole RTO from now (the probe
     * may have taken its place). */
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_LOSS_PROBES);
    l->tlp_retrans = (uint8_t)retrans;
    l->tlp_end = c->snd_nxt;
    fa_tcp_arm_rexmit(c, now);
}

/* Everything not SACKed is lost, copies in flight included (RFC 6675
 * §5.1). The first segment SACKed means the peer reneged (RFC 2018 §8):
 * the SACKs are forgotten, all of it goes again. */
static void all_lost(struct fa_tcp *c)
{
    if (!c->loss)
        return;
    struct fa_tcp_sb *sb = &c->loss->sb;
    int reneged = sb->count && (fa_tcp_sb_at(sb, 0)->flags & SB_SACKED);
    for (uint32_t i = 0; i < sb->count; i++) {
        uint32_t len = entry_len(c, i);
        if (reneged)
            fa_tcp_sb_clear(sb, i, len, SB_SACKED);
        if (fa_tcp_sb_at(sb, i)->flags & SB_SACKED)
            continue;
        fa_tcp_sb_clear(sb, i, len, SB_RETRANS);
        fa_tcp_sb_set(sb, i, len, SB_LOST);
    }
    c->loss->rexmit_from = c->snd_una;
}

void fa_tcp_rec_rto(struct fa_tcp *c, fa_time now)
{
    struct fa_tcp_loss *l = c->loss;
    if (!l)
        return; /* nothing of ours in flight */
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_RTO_RECOVERIES);
    if (l->state == REC_OPEN) {
        /* A new episode: reduce once (a resend timing out again does not
         * halve again, as in Linux). */
        episode_begin(c);
        fa_tcp_cc(c)->on_rto(c, 1, now);
    } else {
        /* In fast recovery the loss already reduced: not again, from
         * PRR's lowered cwnd (Linux's tcp_enter_loss; review: ssthresh
         * fell to 4.9 MSS, to the 2-MSS floor after heavy loss). */
        fa_tcp_cc(c)->on_rto(c, 0, now);
    }
    l->state = REC_RTO;
    l->recover = c->snd_nxt;
    l->dupacks = 0;
    l->reno_sacked = 0;
    l->tlp_out = 0;
    set_loss_timer(c, LT_NONE, FA_TIME_NEVER);
    all_lost(c); /* RFC 6675 §5.1 */
}

void fa_tcp_rec_mss_lowered(struct fa_tcp *c)
{
    struct fa_tcp_loss *l = c->loss;
    if (!l)
        return;
    struct fa_tcp_sb *sb = &l->sb;
    /* As Linux's tcp_simple_retransmit: no congestion signal — the path
     * dropped them for their size, not for its load. */
    for (uint32_t i = 0; i < sb->count; i++) {
        uint32_t len = entry_len(c, i);
        const struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
        if ((e->flags & SB_SACKED) || len - ((e->flags & SB_FIN) ? 1u : 0u) <= c->mss)
            continue;
        fa_tcp_sb_clear(sb, i, len, SB_RETRANS);
        fa_tcp_sb_set(sb, i, len, SB_LOST);
    }
    l->rexmit_from = c->snd_una;
}

void fa_tcp_rec_window_closed(struct fa_tcp *c)
{
    all_lost(c); /* as after an RTO, without the congestion signal */
}

void fa_tcp_rec_stop(struct fa_tcp *c)
{
    if (c->loss)
        set_loss_timer(c, LT_NONE, FA_TIME_NEVER);
}

void fa_tcp_rec_before_send(struct fa_tcp *c, fa_time now)
{
    /* RFC 5681 §4.1: after an idle period longer than the RTO, start
     * again from no more than the initial window. */
    if (c->snd_una != c->snd_nxt || !c->keep.last_send)
        return;
    /* In 2^16 ns units: rounding down and the stamps' forced low bit
     * make the difference up to two units more than the idle time (and
     * one less): never cut before an RTO, at most four units after. */
    uint32_t idle = fa_tcp_send_stamp(now) - c->keep.last_send;
    if (idle <= (uint32_t)(fa_tcp_rto(c) >> 16) + 2)
        return;
    uint32_t iw = fa_tcp_initial_window(c);
    if (c->cwnd > iw)
        c->cwnd = iw;
    fa_tcp_cc(c)->on_idle(c, now);
    c->keep.last_send = fa_tcp_send_stamp(now);
}
