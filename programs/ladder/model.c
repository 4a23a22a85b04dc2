/* model.c — finack-ladder's connections (ladder.h): segments sorted into
 * connections by 4-tuple (a SYN after a close opens a new incarnation),
 * retransmissions marked, and, for a capture, each end's states inferred
 * from the segments as RFC 9293's diagram moves them (marked inferred:
 * a capture shows segments, not states). */
#include "ladder.h"

#include <stdlib.h>
#include <string.h>

static int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

#define GROW(arr, n, cap)                                                     \
    ((n) < (cap) ? 0                                                          \
                 : grow((void **)&(arr), &(cap), sizeof *(arr)))

static int grow(void **arr, size_t *cap, size_t size)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

const char *lad_flags(uint8_t f, char *buf)
{
    static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
    static const int order[] = { 1, 0, 2, 3, 4, 5 };
    buf[0] = 0;
    for (int i = 0; i < 6; i++)
        if (f & (1 << order[i])) {
            if (buf[0])
                strcat(buf, ",");
            strcat(buf, names[order[i]]);
        }
    return buf;
}

void lad_init(struct lad_capture *cap)
{
    memset(cap, 0, sizeof *cap);
}

void lad_free(struct lad_capture *cap)
{
    for (size_t i = 0; i < cap->nconn; i++) {
        free(cap->conn[i].seg);
        free(cap->conn[i].st);
    }
    free(cap->conn);
    free(cap->note);
    free(cap->hash);
    memset(cap, 0, sizeof *cap);
}

/* ---- connections by 4-tuple: a hash to the newest incarnation ------ */
static uint32_t tuple_hash(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2)
{
    /* The same both ways: the two ends, ordered. */
    uint64_t x = (uint64_t)a1 << 16 | p1, y = (uint64_t)a2 << 16 | p2;
    uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
    uint64_t h = (lo * 0x9e3779b97f4a7c15ull) ^ (hi + 0x632be59bd9b4e019ull + (lo << 6));
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h ^ (h >> 32));
}

static int same_tuple(const struct lad_conn *c, uint32_t a1, uint16_t p1, uint32_t a2,
                      uint16_t p2, int *side)
{
    for (int k = 0; k < 2; k++)
        if (c->addr[k] == a1 && c->port[k] == p1 && c->addr[!k] == a2 && c->port[!k] == p2) {
            *side = k;
            return 1;
        }
    return 0;
}

/* The slot of the 4-tuple (empty or holding its newest connection). */
static size_t slot(const struct lad_capture *cap, uint32_t a1, uint16_t p1, uint32_t a2,
                   uint16_t p2)
{
    size_t i = tuple_hash(a1, p1, a2, p2) & (cap->hashcap - 1);
    int side;
    while (cap->hash[i] && !same_tuple(&cap->conn[cap->hash[i] - 1], a1, p1, a2, p2, &side))
        i = (i + 1) & (cap->hashcap - 1);
    return i;
}

static struct lad_conn *newest(struct lad_capture *cap, uint32_t a1, uint16_t p1, uint32_t a2,
                               uint16_t p2, int *side)
{
    if (!cap->hashcap)
        return NULL;
    uint32_t k = cap->hash[slot(cap, a1, p1, a2, p2)];
    if (!k)
        return NULL;
    same_tuple(&cap->conn[k - 1], a1, p1, a2, p2, side);
    return &cap->conn[k - 1];
}

/* Room for one more connection in the hash (kept at most half full). */
static int hash_room(struct lad_capture *cap)
{
    if (2 * (cap->nconn + 1) <= cap->hashcap)
        return 0;
    size_t ncap = cap->hashcap ? 2 * cap->hashcap : 64;
    uint32_t *h = calloc(ncap, sizeof *h);
    if (!h)
        return -1;
    free(cap->hash);
    cap->hash = h;
    cap->hashcap = ncap;
    for (size_t i = 0; i < cap->nconn; i++) {
        const struct lad_conn *c = &cap->conn[i];
        size_t k = slot(cap, c->addr[0], c->port[0], c->addr[1], c->port[1]);
        cap->hash[k] = (uint32_t)(i + 1); /* later ones are newer: they win */
    }
    return 0;
}

struct lad_conn *lad_find(struct lad_capture *cap, const struct fa_sim_segment *g, int *from)
{
    return newest(cap, g->src, g->sport, g->dst, g->dport, from);
}

static struct lad_conn *open_conn(struct lad_capture *cap, const struct fa_sim_segment *g)
{
    if (hash_room(cap) < 0 || GROW(cap->conn, cap->nconn, cap->conncap) < 0)
        return NULL;
    int side;
    struct lad_conn *old = newest(cap, g->src, g->sport, g->dst, g->dport, &side);
    long older = old ? (long)(old - cap->conn) : -1;
    struct lad_conn *c = &cap->conn[cap->nconn++];
    memset(c, 0, sizeof *c);
    c->older = older;
    /* A is the end that opened it: the sender of a SYN, else of the
     * first segment seen (a capture that starts mid-connection). */
    int a_is_src = !((g->flags & 0x12) == 0x12);
    c->addr[0] = a_is_src ? g->src : g->dst;
    c->port[0] = a_is_src ? g->sport : g->dport;
    c->addr[1] = a_is_src ? g->dst : g->src;
    c->port[1] = a_is_src ? g->dport : g->sport;
    c->msl_ms = cap->msl_ms;
    cap->hash[slot(cap, c->addr[0], c->port[0], c->addr[1], c->port[1])] =
        (uint32_t)cap->nconn;
    return c;
}

/* The connection a traced state belongs to: of the incarnations on its
 * 4-tuple, the one whose numbers SND.UNA fits (it went no further back
 * than its ISN), else the newest; without the peer, the newest on the
 * end. */
static struct lad_conn *find_end(struct lad_capture *cap, const struct lad_end *e, int *side)
{
    if (!e->rport) {
        for (size_t i = cap->nconn; i-- > 0;)
            for (int k = 0; k < 2; k++)
                if (cap->conn[i].addr[k] == e->addr && cap->conn[i].port[k] == e->port) {
                    *side = k;
                    return &cap->conn[i];
                }
        return NULL;
    }
    struct lad_conn *c = newest(cap, e->addr, e->port, e->raddr, e->rport, side);
    /* The newest incarnation whose numbers from this end cover SND.UNA
     * (from its ISN to the end of what it sent), else the newest. */
    for (struct lad_conn *x = c; e->have_una && x; x = x->older >= 0 ? &cap->conn[x->older] : NULL)
        if (x->have_isn[*side] && x->sent_any[*side] &&
            e->snd_una - x->isn[*side] <= x->snd_max[*side] - x->isn[*side])
            return x;
    return c;
}

static int push_state(struct lad_conn *c, int side, double t_ms, const char *name, int inferred)
{
    if (GROW(c->st, c->nst, c->stcap) < 0)
        return -1;
    struct lad_state *s = &c->st[c->nst++];
    memset(s, 0, sizeof *s);
    s->seg = -1;
    s->t_ms = t_ms;
    s->side = (uint8_t)side;
    s->inferred = (uint8_t)inferred;
    snprintf(s->name, sizeof s->name, "%s", name);
    return 0;
}

static int take_early(struct lad_capture *cap, struct lad_conn *c, int only);

int lad_add_segment(struct lad_capture *cap, const struct fa_sim_segment *g, double t_ms,
                    double arrive_ms, int lost, int cut)
{
    int from = 0;
    struct lad_conn *c = lad_find(cap, g, &from);
    /* A SYN that is not this incarnation's (after it closed, or not at
     * the base its numbers count from, or not what a SYN-ACK answered)
     * starts a new connection on the same 4-tuple, as Wireshark's
     * streams do. */
    int syn = (g->flags & 0x12) == 0x02;
    if (c && syn && (c->have_isn[from] ? c->isn[from] != g->seq /* else: sent again */
                                       : c->closed || (c->synack_seen[!from] &&
                                                       c->synack_ack[!from] != g->seq + 1)))
        c = NULL;
    if (!c) {
        c = open_conn(cap, g);
        if (!c || take_early(cap, c, -1) < 0)
            return -1;
        lad_find(cap, g, &from);
    }
    if (GROW(c->seg, c->nseg, c->segcap) < 0)
        return -1;
    if (syn && take_early(cap, c, from) < 0) /* its SYN-SENT */
        return -1;
    /* Relative numbers count from the ISN; where the SYN went unseen (a
     * capture that starts later), from the first number seen less one,
     * or from the first ACK of it less one, as Wireshark counts them. */
    if (!c->have_isn[from]) {
        c->isn[from] = (g->flags & 0x02) ? g->seq : g->seq - 1;
        c->have_isn[from] = 1;
    }
    if ((g->flags & 0x10) && !c->have_isn[!from]) {
        c->isn[!from] = g->ack - 1;
        c->have_isn[!from] = 1;
    }
    if ((g->flags & 0x12) == 0x12 && !c->synack_seen[from]) {
        c->synack_seen[from] = 1;
        c->synack_ack[from] = g->ack;
    }
    if (g->flags & 0x01)
        c->fin_seen[from] = 1;
    uint32_t end = g->seq + g->len + !!(g->flags & 0x02) + !!(g->flags & 0x01);
    if (!(g->flags & 0x04) && (!c->sent_any[from] || seq_lt(c->snd_max[from], end))) {
        c->snd_max[from] = end;
        c->sent_any[from] = 1;
    }
    if ((g->flags & 0x04) || (c->fin_seen[0] && c->fin_seen[1]))
        c->closed = 1;
    struct lad_seg *s = &c->seg[c->nseg++];
    *s = (struct lad_seg){ .t_ms = t_ms, .arrive_ms = arrive_ms, .from = (uint8_t)from,
                           .lost = (uint8_t)!!lost, .cut = (uint8_t)!!cut, .g = *g };
    return (int)(c - cap->conn);
}

static int end_of(const struct lad_conn *c, const struct lad_end *e, int side)
{
    return c->addr[side] == e->addr && c->port[side] == e->port &&
           (!e->rport || (c->addr[!side] == e->raddr && c->port[!side] == e->rport));
}

/* States traced before their connection's first segment (SYN-SENT is
 * traced as the SYN is built) join it: all of a new connection's ends
 * (only = -1), or only's (its SYN went). */
static int take_early(struct lad_capture *cap, struct lad_conn *c, int only)
{
    for (int i = 0; i < cap->nearly; i++)
        for (int side = 0; side < 2; side++) {
            if ((only >= 0 && side != only) || !end_of(c, &cap->early[i].e, side))
                continue;
            if (push_state(c, side, cap->early[i].t_ms, cap->early[i].name, 0) < 0)
                return -1;
            c->traced = 1;
            cap->early[i--] = cap->early[--cap->nearly];
            break;
        }
    return 0;
}

int lad_add_state(struct lad_capture *cap, const struct lad_end *e, double t_ms,
                  const char *name)
{
    int side;
    struct lad_conn *c = strcmp(name, "SYN-SENT") ? find_end(cap, e, &side) : NULL;
    if (!c) {
        if (cap->nearly < (int)(sizeof cap->early / sizeof cap->early[0])) {
            cap->early[cap->nearly].e = *e;
            cap->early[cap->nearly].t_ms = t_ms;
            snprintf(cap->early[cap->nearly].name, sizeof cap->early[0].name, "%s", name);
            cap->nearly++;
        }
        return 0;
    }
    c->traced = 1;
    if (!strcmp(name, "CLOSED") || !strcmp(name, "TIME-WAIT"))
        c->closed = 1;
    return push_state(c, side, t_ms, name, 0);
}

int lad_add_note(struct lad_capture *cap, double t_ms, const char *text)
{
    if (GROW(cap->note, cap->nnote, cap->notecap) < 0)
        return -1;
    struct lad_note *n = &cap->note[cap->nnote++];
    n->t_ms = t_ms;
    snprintf(n->text, sizeof n->text, "%s", text);
    return 0;
}

/* Sequence space sent before (at or below the highest end seen from the
 * same side) is a retransmission, as tcptrace and Wireshark call it. */
static void mark_retrans(struct lad_conn *c)
{
    uint32_t high[2] = { 0, 0 };
    int have[2] = { 0, 0 };
    for (size_t i = 0; i < c->nseg; i++) {
        struct lad_seg *s = &c->seg[i];
        uint32_t len = s->g.len + !!(s->g.flags & 0x02) + !!(s->g.flags & 0x01);
        if (!len || (s->g.flags & 0x04))
            continue;
        uint32_t end = s->g.seq + len;
        if (have[s->from] && seq_lt(s->g.seq, high[s->from]))
            s->retrans = 1;
        if (!have[s->from] || seq_lt(high[s->from], end))
            high[s->from] = end;
        have[s->from] = 1;
    }
}

/* ---- states a capture implies (RFC 9293 §3.3.2's diagram) -----------
 * A capture shows when a segment went, not when it arrived. A segment
 * that carries no SYN or FIN is taken as arriving at once; a SYN or FIN
 * waits until the receiver shows it has it — its ACK covers it — or a
 * later segment from the same sender arrives (links keep order). So a
 * FIN that crossed the other's FIN on the way is seen as the simultaneous
 * close it was (RFC 9293 figure 13), not as a passive close. */
enum { I_NONE, I_SYN_SENT, I_SYN_RCVD, I_EST, I_FW1, I_FW2, I_CW, I_CLOSING, I_LA, I_TW,
       I_CLOSED };
static const char *const inames[] = { "", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
                                      "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",
                                      "LAST-ACK", "TIME-WAIT", "CLOSED" };

#define PENDING 64
struct infer {
    struct lad_conn *c;
    int st[2];
    uint32_t syn_end[2], fin_end[2]; /* sequence number after each side's SYN, FIN */
    uint8_t syn[2], fin[2], fin_acked[2];
    /* What each side last acknowledged and offered (scaled where both
     * sides' SYNs were seen): its receive window, for RSTs. */
    uint32_t rcv_ack[2], rcv_wnd[2];
    uint8_t have_ack[2];
    int ws[2];
    /* Segments with a SYN or FIN from each side, not yet shown arrived;
     * a copy sent again later waits for evidence only (it may have been
     * lost: the later copy is the one a later segment vouches for). */
    size_t pend[2][PENDING];
    uint8_t resent[2][PENDING];
    int npend[2];
    double now;
    size_t k; /* the segment being read: it moved the state */
};

static void go(struct infer *x, int side, int to)
{
    if (x->st[side] == to)
        return;
    x->st[side] = to;
    if (push_state(x->c, side, x->now, inames[to], 1) == 0)
        x->c->st[x->c->nst - 1].seg = (long)x->k;
}

/* What segment s (from a) does to b when it arrives. */
static void arrives(struct infer *x, const struct lad_seg *s)
{
    int b = !s->from;
    uint8_t f = s->g.flags;
    /* A capture that began later: what b has and answers shows it open. */
    if (x->st[b] == I_NONE && (f & 0x12) == 0x12)
        go(x, b, I_SYN_SENT);
    else if (x->st[b] == I_NONE && !(f & 0x02))
        go(x, b, I_EST);
    if ((f & 0x10) && x->syn[b] && !seq_lt(s->g.ack, x->syn_end[b]) && x->st[b] == I_SYN_RCVD &&
        !(f & 0x02))
        go(x, b, I_EST); /* our SYN acknowledged: the handshake's end */
    if ((f & 0x12) == 0x12 && (x->st[b] == I_SYN_SENT || x->st[b] == I_SYN_RCVD))
        go(x, b, I_EST);
    else if ((f & 0x12) == 0x02 && (x->st[b] == I_NONE || x->st[b] == I_SYN_SENT ||
                                     x->st[b] == I_CLOSED))
        go(x, b, I_SYN_RCVD); /* LISTEN, or a simultaneous open */
    if ((f & 0x10) && x->fin[b] && !x->fin_acked[b] && !seq_lt(s->g.ack, x->fin_end[b])) {
        x->fin_acked[b] = 1;
        if (x->st[b] == I_FW1)
            go(x, b, I_FW2);
        else if (x->st[b] == I_CLOSING)
            go(x, b, I_TW);
        else if (x->st[b] == I_LA)
            go(x, b, I_CLOSED);
    }
    if (f & 0x01) {
        if (x->st[b] == I_EST || x->st[b] == I_SYN_RCVD)
            go(x, b, I_CW);
        else if (x->st[b] == I_FW1)
            go(x, b, I_CLOSING);
        else if (x->st[b] == I_FW2)
            go(x, b, I_TW);
    }
}

/* The first n pending segments from side arrive, in order; a copy sent
 * again later does not (by order alone) — only evidence delivers it. */
static void deliver(struct infer *x, int side, int n, int evidenced)
{
    for (int i = 0; i < n; i++) {
        if (x->resent[side][i] && !evidenced)
            continue; /* lost, perhaps: its later copy speaks for it */
        arrives(x, &x->c->seg[x->pend[side][i]]);
    }
    memmove(x->pend[side], x->pend[side] + n, (size_t)(x->npend[side] - n) * sizeof(size_t));
    memmove(x->resent[side], x->resent[side] + n, (size_t)(x->npend[side] - n));
    x->npend[side] -= n;
}

/* a's ACK field shows which of b's SYNs and FINs a has. */
static void evidence(struct infer *x, const struct lad_seg *s)
{
    int b = !s->from, n = 0;
    if (!(s->g.flags & 0x10))
        return;
    for (int i = 0; i < x->npend[b]; i++) {
        const struct lad_seg *p = &x->c->seg[x->pend[b][i]];
        uint32_t end = p->g.seq + p->g.len + !!(p->g.flags & 0x02) + !!(p->g.flags & 0x01);
        if (!seq_lt(s->g.ack, end))
            n = i + 1;
    }
    deliver(x, b, n, 1);
}

/* What sending s does to its sender. */
static void sends(struct infer *x, size_t k)
{
    const struct lad_seg *s = &x->c->seg[k];
    int a = s->from;
    uint8_t f = s->g.flags;
    if ((f & 0x02) && !x->syn[a]) {
        x->syn[a] = 1;
        x->syn_end[a] = s->g.seq + 1;
        x->ws[a] = s->g.ws > 14 ? 14 : s->g.ws;
    }
    if ((f & 0x12) == 0x02 && (x->st[a] == I_NONE || x->st[a] == I_CLOSED))
        go(x, a, I_SYN_SENT);
    if ((f & 0x12) == 0x12 && (x->st[a] == I_NONE || x->st[a] == I_CLOSED))
        go(x, a, I_SYN_RCVD); /* the SYN it answers went unseen */
    if (x->st[a] == I_NONE && !(f & 0x02))
        go(x, a, I_EST); /* a capture that began later */
    if ((f & 0x01) && !x->fin[a]) {
        x->fin[a] = 1;
        x->fin_end[a] = s->g.seq + s->g.len + !!(f & 0x02) + 1;
        if (x->st[a] == I_CW)
            go(x, a, I_LA);
        else if (x->st[a] == I_EST || x->st[a] == I_SYN_RCVD)
            go(x, a, I_FW1);
    }
    if (f & 0x10) {
        x->rcv_ack[a] = s->g.ack;
        int scaled = x->syn[0] && x->syn[1] && x->ws[0] >= 0 && x->ws[1] >= 0 && !(f & 0x02);
        x->rcv_wnd[a] = (uint32_t)s->g.win << (scaled ? x->ws[a] : 0);
        x->have_ack[a] = 1;
    }
}

/* RFC 9293 §3.10.7: an RST counts only in the receiver's window (in
 * SYN-SENT, only if it acknowledges the SYN); others are ignored. */
static int rst_counts(const struct infer *x, const struct lad_seg *s)
{
    int b = !s->from;
    if (x->st[b] == I_SYN_SENT)
        return (s->g.flags & 0x10) && s->g.ack == x->syn_end[b];
    if (!x->have_ack[b])
        return 1;
    uint32_t wnd = x->rcv_wnd[b] ? x->rcv_wnd[b] : 1;
    return !seq_lt(s->g.seq, x->rcv_ack[b]) && seq_lt(s->g.seq, x->rcv_ack[b] + wnd + 1);
}

/* A FIN sent again later from the same side: this copy may be lost. */
static int sent_again(const struct lad_conn *c, size_t k)
{
    const struct lad_seg *s = &c->seg[k];
    for (size_t j = k + 1; j < c->nseg && j < k + 4096; j++)
        if (c->seg[j].from == s->from && (c->seg[j].g.flags & 0x03) &&
            c->seg[j].g.seq == s->g.seq && (c->seg[j].g.flags & 0x03) == (s->g.flags & 0x03))
            return 1;
    return 0;
}

static void infer_one(struct infer *x, size_t k)
{
    const struct lad_seg *s = &x->c->seg[k];
    int a = s->from, b = !s->from;
    x->now = s->t_ms;
    x->k = k;
    if (s->g.flags & 0x04) { /* RST: both ends are done with it, if it counts */
        if (!rst_counts(x, s))
            return;
        if (x->st[a] != I_NONE)
            go(x, a, I_CLOSED);
        if (x->st[b] != I_NONE) /* TIME-WAIT too (RFC 9293; Linux by default) */
            go(x, b, I_CLOSED);
        x->npend[0] = x->npend[1] = 0;
        return;
    }
    evidence(x, s);
    sends(x, k);
    if (s->g.flags & 0x03) {
        if (x->npend[a] == PENDING)
            deliver(x, a, 1, 0);
        x->resent[a][x->npend[a]] = (uint8_t)sent_again(x->c, k);
        x->pend[a][x->npend[a]++] = k;
    } else {
        deliver(x, a, x->npend[a], 0); /* in order: what went before it is there */
        arrives(x, s);
    }
}

static void infer(struct lad_conn *c)
{
    static struct infer x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.ws[0] = x.ws[1] = -1;
    for (size_t i = 0; i < c->nseg; i++)
        infer_one(&x, i);
    /* The capture ends: what is still on its way arrives. */
    for (int side = 0; side < 2; side++)
        while (x.npend[side]) {
            x.now = c->seg[x.pend[side][0]].t_ms;
            x.k = x.pend[side][0];
            deliver(&x, side, 1, 0);
        }
}

void lad_finish(struct lad_capture *cap)
{
    for (size_t i = 0; i < cap->nconn; i++) {
        struct lad_conn *c = &cap->conn[i];
        mark_retrans(c);
        if (!c->traced)
            infer(c);
    }
    cap->nearly = 0;
}
