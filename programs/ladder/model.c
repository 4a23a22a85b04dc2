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
    memset(cap, 0, sizeof *cap);
}

/* The newest connection on this 4-tuple, and which end sent g. */
static struct lad_conn *find(struct lad_capture *cap, const struct fa_sim_segment *g, int *from)
{
    for (size_t i = cap->nconn; i-- > 0;) {
        struct lad_conn *c = &cap->conn[i];
        for (int side = 0; side < 2; side++)
            if (c->addr[side] == g->src && c->port[side] == g->sport &&
                c->addr[!side] == g->dst && c->port[!side] == g->dport) {
                *from = side;
                return c;
            }
    }
    return NULL;
}

static struct lad_conn *open_conn(struct lad_capture *cap, const struct fa_sim_segment *g)
{
    if (GROW(cap->conn, cap->nconn, cap->conncap) < 0)
        return NULL;
    struct lad_conn *c = &cap->conn[cap->nconn++];
    memset(c, 0, sizeof *c);
    /* A is the end that opened it: the sender of a SYN, else of the
     * first segment seen (a capture that starts mid-connection). */
    int a_is_src = !((g->flags & 0x12) == 0x12);
    c->addr[0] = a_is_src ? g->src : g->dst;
    c->port[0] = a_is_src ? g->sport : g->dport;
    c->addr[1] = a_is_src ? g->dst : g->src;
    c->port[1] = a_is_src ? g->dport : g->sport;
    c->msl_ms = cap->msl_ms;
    return c;
}

static struct lad_conn *find_end(struct lad_capture *cap, uint32_t addr, uint16_t port,
                                 int *side)
{
    for (size_t i = cap->nconn; i-- > 0;)
        for (int k = 0; k < 2; k++)
            if (cap->conn[i].addr[k] == addr && cap->conn[i].port[k] == port) {
                *side = k;
                return &cap->conn[i];
            }
    return NULL;
}

static int push_state(struct lad_conn *c, int side, double t_ms, const char *name, int inferred)
{
    if (GROW(c->st, c->nst, c->stcap) < 0)
        return -1;
    struct lad_state *s = &c->st[c->nst++];
    memset(s, 0, sizeof *s);
    s->t_ms = t_ms;
    s->side = (uint8_t)side;
    s->inferred = (uint8_t)inferred;
    snprintf(s->name, sizeof s->name, "%s", name);
    return 0;
}

static int take_early(struct lad_capture *cap, struct lad_conn *c);

int lad_add_segment(struct lad_capture *cap, const struct fa_sim_segment *g, double t_ms,
                    double arrive_ms, int lost, int cut)
{
    int from = 0;
    struct lad_conn *c = find(cap, g, &from);
    /* A new SYN (not a retransmission of the first) after the old
     * incarnation closed starts a new connection on the same 4-tuple. */
    int syn = (g->flags & 0x12) == 0x02;
    if (c && syn && (c->have_isn[from] ? c->isn[from] != g->seq
                                       : c->closed || (c->synack_seen[!from] &&
                                                       c->synack_ack[!from] != g->seq + 1)))
        c = NULL; /* not this incarnation's SYN: a new one (or an old duplicate) */
    if (!c) {
        c = open_conn(cap, g);
        if (!c || take_early(cap, c) < 0)
            return -1;
        find(cap, g, &from);
    }
    if (GROW(c->seg, c->nseg, c->segcap) < 0)
        return -1;
    if ((g->flags & 0x02) && !c->have_isn[from]) {
        c->isn[from] = g->seq;
        c->have_isn[from] = 1;
    }
    if ((g->flags & 0x12) == 0x12 && !c->synack_seen[from]) {
        c->synack_seen[from] = 1;
        c->synack_ack[from] = g->ack;
    }
    /* The SYN it answers went unseen: numbers relative to what it
     * acknowledges, as Wireshark counts them. */
    if ((g->flags & 0x12) == 0x12 && !c->have_isn[!from]) {
        c->isn[!from] = g->ack - 1;
        c->have_isn[!from] = 1;
    }
    if (g->flags & 0x04)
        c->closed = 1;
    struct lad_seg *s = &c->seg[c->nseg++];
    *s = (struct lad_seg){ .t_ms = t_ms, .arrive_ms = arrive_ms, .from = (uint8_t)from,
                           .lost = (uint8_t)!!lost, .cut = (uint8_t)!!cut, .g = *g };
    return (int)(c - cap->conn);
}

/* States that came before the connection's first segment join it. */
static int take_early(struct lad_capture *cap, struct lad_conn *c)
{
    for (int i = 0; i < cap->nearly; i++)
        for (int side = 0; side < 2; side++)
            if (cap->early[i].addr == c->addr[side] && cap->early[i].port == c->port[side]) {
                if (push_state(c, side, cap->early[i].t_ms, cap->early[i].name, 0) < 0)
                    return -1;
                c->traced = 1;
                cap->early[i--] = cap->early[--cap->nearly];
                break;
            }
    return 0;
}

int lad_add_state(struct lad_capture *cap, uint32_t addr, uint16_t port, double t_ms,
                  const char *name)
{
    int side;
    struct lad_conn *c = find_end(cap, addr, port, &side);
    if (!c || (c->closed && !strcmp(name, "SYN-SENT"))) {
        if (cap->nearly < 4) {
            cap->early[cap->nearly].addr = addr;
            cap->early[cap->nearly].port = port;
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
    /* Segments with a SYN or FIN from each side, not yet shown arrived. */
    size_t pend[2][PENDING];
    int npend[2];
    double now;
};

static void go(struct infer *x, int side, int to)
{
    if (x->st[side] == to)
        return;
    x->st[side] = to;
    push_state(x->c, side, x->now, inames[to], 1);
}

/* What segment s (from a) does to b when it arrives. */
static void arrives(struct infer *x, const struct lad_seg *s)
{
    int b = !s->from;
    uint8_t f = s->g.flags;
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

/* The first n pending segments from side arrive, in order. */
static void deliver(struct infer *x, int side, int n)
{
    for (int i = 0; i < n; i++)
        arrives(x, &x->c->seg[x->pend[side][i]]);
    memmove(x->pend[side], x->pend[side] + n, (size_t)(x->npend[side] - n) * sizeof(size_t));
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
    deliver(x, b, n);
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
    }
    if ((f & 0x12) == 0x02 && (x->st[a] == I_NONE || x->st[a] == I_CLOSED))
        go(x, a, I_SYN_SENT);
    if ((f & 0x12) == 0x12 && (x->st[a] == I_NONE || x->st[a] == I_CLOSED))
        go(x, a, I_SYN_RCVD); /* the SYN it answers went unseen */
    if ((f & 0x01) && !x->fin[a]) {
        x->fin[a] = 1;
        x->fin_end[a] = s->g.seq + s->g.len + !!(f & 0x02) + 1;
        if (x->st[a] == I_CW)
            go(x, a, I_LA);
        else if (x->st[a] == I_EST || x->st[a] == I_SYN_RCVD)
            go(x, a, I_FW1);
    }
}

static void infer_one(struct infer *x, size_t k)
{
    const struct lad_seg *s = &x->c->seg[k];
    int a = s->from, b = !s->from;
    x->now = s->t_ms;
    if (s->g.flags & 0x04) { /* RST: both ends are done with it */
        go(x, a, I_CLOSED);
        if (x->st[b] != I_TW && x->st[b] != I_NONE)
            go(x, b, I_CLOSED);
        x->npend[0] = x->npend[1] = 0;
        return;
    }
    evidence(x, s);
    sends(x, k);
    if (s->g.flags & 0x03) {
        if (x->npend[a] == PENDING)
            deliver(x, a, 1);
        x->pend[a][x->npend[a]++] = k;
    } else {
        deliver(x, a, x->npend[a]); /* in order: what went before it is there */
        arrives(x, s);
    }
}

static void infer(struct lad_conn *c)
{
    static struct infer x;
    memset(&x, 0, sizeof x);
    x.c = c;
    for (size_t i = 0; i < c->nseg; i++)
        infer_one(&x, i);
    /* The capture ends: what is still on its way arrives. */
    for (int side = 0; side < 2; side++)
        while (x.npend[side]) {
            x.now = c->seg[x.pend[side][0]].t_ms;
            deliver(&x, side, 1);
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
