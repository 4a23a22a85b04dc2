/* tcp_sb.c — the sender's scoreboard (RFC 6675 §3's data structure, kept
 * per segment as RFC 8985 needs): one entry for each segment sent and not
 * yet cumulatively acknowledged, in sequence order — where it ends, when
 * it last went, and whether the peer SACKed it, it counts as lost, or a
 * retransmitted copy is in flight. The bytes of each kind are counted as
 * flags change, so the pipe (RFC 6675 §2) is arithmetic, not a walk.
 *
 * The entries are a ring in the send ring's storage (tcp_mem.c: present
 * whenever there is an entry); nothing here allocates. Entries are added by tcp_out.c through
 * tcp_recovery.c and marked only by tcp_recovery.c. */
#include "tcp.h"

static uint32_t *count_of(struct fa_tcp_sb *sb, uint8_t flag)
{
    switch (flag) {
    case SB_SACKED: return &sb->sacked;
    case SB_LOST: return &sb->lost;
    case SB_RETRANS: return &sb->retrans;
    default: return NULL;
    }
}

void fa_tcp_sb_set(struct fa_tcp_sb *sb, uint32_t i, uint32_t len, uint8_t flag)
{
    struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
    if (e->flags & flag)
        return;
    e->flags |= flag;
    uint32_t *n = count_of(sb, flag);
    if (n)
        *n += len;
}

void fa_tcp_sb_clear(struct fa_tcp_sb *sb, uint32_t i, uint32_t len, uint8_t flag)
{
    struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
    if (!(e->flags & flag))
        return;
    e->flags &= (uint8_t)~flag;
    uint32_t *n = count_of(sb, flag);
    if (n)
        *n -= len;
}

int fa_tcp_sb_append(struct fa_tcp_sb *sb, uint32_t start, uint32_t end, int fin,
                     fa_time now)
{
    if (sb->count == sb->cap)
        return -1;
    if (sb->count == 0)
        sb->una = start;
    sb->count++;
    *fa_tcp_sb_at(sb, sb->count - 1) = (struct fa_tcp_sent){
        .xmit = now, .end = end, .flags = fin ? SB_FIN : 0,
    };
    return 0;
}

int fa_tcp_sb_split(struct fa_tcp_sb *sb, uint32_t i, uint32_t seq)
{
    if (sb->count == sb->cap)
        return -1;
    /* Shift entries i.. up by one; the copy at i ends at seq, and only
     * the upper part keeps the FIN. The byte counts do not change. The
     * halves of a segment resent before are pieces: the resend counted
     * once for the whole (RFC 3708), and the peer may have needed one
     * half of it. */
    struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
    if (e->flags & SB_EVER_RETRANS)
        e->flags |= SB_PIECE;
    sb->count++;
    for (uint32_t k = sb->count - 1; k > i; k--)
        *fa_tcp_sb_at(sb, k) = *fa_tcp_sb_at(sb, k - 1);
    struct fa_tcp_sent *lo = fa_tcp_sb_at(sb, i);
    lo->end = seq;
    lo->flags &= (uint8_t)~SB_FIN;
    return 0;
}

/* Takes len bytes of entry e's kinds off the counts. */
static void uncount(struct fa_tcp_sb *sb, const struct fa_tcp_sent *e, uint32_t len)
{
    if (e->flags & SB_SACKED)
        sb->sacked -= len;
    if (e->flags & SB_LOST)
        sb->lost -= len;
    if (e->flags & SB_RETRANS)
        sb->retrans -= len;
}

/* Adds len bytes of entry e's kinds to the counts. */
static void recount(struct fa_tcp_sb *sb, const struct fa_tcp_sent *e, uint32_t len)
{
    if (e->flags & SB_SACKED)
        sb->sacked += len;
    if (e->flags & SB_LOST)
        sb->lost += len;
    if (e->flags & SB_RETRANS)
        sb->retrans += len;
}

void fa_tcp_sb_merge(struct fa_tcp_sb *sb, uint32_t i)
{
    struct fa_tcp_sent *a = fa_tcp_sb_at(sb, i), *b = fa_tcp_sb_at(sb, i + 1);
    uint32_t la = a->end - fa_tcp_sb_start(sb, i), lb = b->end - a->end;
    uncount(sb, a, la);
    uncount(sb, b, lb);
    /* SACKed only if both were. Otherwise what the parts not SACKed say
     * (the SACKed part's bytes then count again, as in flight or lost: a
     * resend too many, never one too few): lost and to be resent if one
     * of them is; else lost and resent, in flight, if one of them is.
     * Ambiguous for RTT (Karn) if either was. Sent when the later went:
     * RACK then waits longer, never less, before calling it lost. */
    uint8_t flags;
    if (a->flags & b->flags & SB_SACKED) {
        flags = SB_SACKED;
    } else {
        uint8_t fa = (a->flags & SB_SACKED) ? 0 : a->flags;
        uint8_t fb = (b->flags & SB_SACKED) ? 0 : b->flags;
        int unsent = ((fa & SB_LOST) && !(fa & SB_RETRANS)) ||
                     ((fb & SB_LOST) && !(fb & SB_RETRANS));
        flags = unsent ? SB_LOST : (uint8_t)((fa | fb) & (SB_LOST | SB_RETRANS));
    }
    flags |= ((a->flags | b->flags) & (SB_EVER_RETRANS | SB_PIECE)) | (b->flags & SB_FIN);
    struct fa_tcp_sent m = { .xmit = a->xmit > b->xmit ? a->xmit : b->xmit, .end = b->end,
                             .flags = flags };
    for (uint32_t k = i + 1; k + 1 < sb->count; k++)
        *fa_tcp_sb_at(sb, k) = *fa_tcp_sb_at(sb, k + 1);
    sb->count--;
    *fa_tcp_sb_at(sb, i) = m;
    recount(sb, &m, la + lb);
}

void fa_tcp_sb_shift(struct fa_tcp_sb *sb, uint32_t i, uint32_t seq)
{
    struct fa_tcp_sent *a = fa_tcp_sb_at(sb, i), *b = fa_tcp_sb_at(sb, i + 1);
    int down = seq_lt(seq, a->end); /* a's tail joins b; else b's head joins a */
    struct fa_tcp_sent *from = down ? a : b, *to = down ? b : a;
    uint32_t len = down ? a->end - seq : seq - a->end;
    uncount(sb, from, len);
    recount(sb, to, len);
    /* Part of a segment resent before: both are pieces, as a split's
     * halves are. */
    if (from->flags & SB_EVER_RETRANS) {
        from->flags |= SB_PIECE;
        to->flags |= SB_EVER_RETRANS | SB_PIECE;
    }
    a->end = seq;
}

void fa_tcp_sb_ack(struct fa_tcp_sb *sb, uint32_t ack,
                   void (*seen)(void *ctx, const struct fa_tcp_sent *e, uint32_t start),
                   void *ctx)
{
    while (sb->count) {
        struct fa_tcp_sent *e = fa_tcp_sb_at(sb, 0);
        if (seq_gt(e->end, ack)) {
            /* Partly acknowledged: the rest stays, starting at ack. */
            if (seq_gt(ack, sb->una)) {
                uncount(sb, e, ack - sb->una);
                sb->una = ack;
            }
            return;
        }
        if (seen)
            seen(ctx, e, sb->una);
        uncount(sb, e, e->end - sb->una);
        sb->una = e->end;
        sb->head = sb->head + 1 == sb->cap ? 0 : sb->head + 1;
        sb->count--;
    }
    sb->una = ack;
}

int fa_tcp_sb_pop(struct fa_tcp_sb *sb, uint32_t ack, struct fa_tcp_sent *first,
                  struct fa_tcp_sent *last)
{
    int n = 0;
    uint8_t any = 0;
    while (sb->count) {
        struct fa_tcp_sent *e = &sb->e[sb->head];
        if (seq_gt(e->end, ack))
            break;
        if (!n++)
            *first = *e;
        *last = *e;
        any |= e->flags;
        sb->una = e->end;
        sb->head = sb->head + 1 == sb->cap ? 0 : sb->head + 1;
        sb->count--;
    }
    if (!sb->count || seq_gt(ack, sb->una))
        sb->una = ack;
    last->flags = any; /* what any of them carried (SB_EVER_RETRANS) */
    return n > 0;
}

uint32_t fa_tcp_sb_find(const struct fa_tcp_sb *sb, uint32_t from, uint32_t seq)
{
    /* Binary search: ends rise with the index. */
    uint32_t lo = from, hi = sb->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (seq_gt(fa_tcp_sb_at(sb, mid)->end, seq))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
