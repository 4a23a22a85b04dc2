/* rtt_oracle.c — the simulator's RTT oracle: is each RTT sample a stack
 * takes the round trip of a frame that really made one?
 *
 * A sample taken at `now` on an ACK the peer sent at `answer_sent` can
 * only time a frame the host sent at now - rtt (within the sample's
 * resolution, enum fa_rtt_source) that reached the peer no later than
 * answer_sent: the peer answered nothing it had not received. Karn's
 * rule (RFC 6298 §3) exists to keep that true; a sample timed from a
 * SYN that was lost, when the ACK answers our SYN-ACK, has no such frame
 * (the simultaneous open of stop 32: our SYN lost, the peer's SYN 900 ms
 * later, a sample of 910 ms on a 10 ms path). Where frames are dense (a
 * bulk flow) nearly any sample finds one; the check bites where they are
 * sparse — handshakes, probes, retransmissions after a silence — which
 * is where such mistakes live.
 *
 * The simulator tells it every frame a host sends (fa_sim_rtt_sent: a
 * tag that the frame's copies carry; whether an ARP frame the host was
 * taking in released it) and every copy delivered to the host it was
 * for (fa_sim_rtt_delivered), and asks about every sample
 * (fa_sim_rtt_judge). A direction of a connection is recorded from its
 * SYN (or SYN-ACK) on, and keeps its last RING frames sent, in order; a
 * sample whose frame may be older than what is kept passes, as do those
 * of a connection whose record was evicted for a newer one (not known,
 * not wrong). Called by check.c only. */
#include <stdlib.h>

#include "sim_internal.h"

enum { CONNS = 256, RING = 1024 };

struct sent_frame {
    fa_time sent, arrived; /* arrived: FA_TIME_NEVER till a copy does */
    uint64_t n;            /* which frame of the connection (the tag's) */
    int arp;               /* sent as an ARP frame came: it waited for it */
};

/* One direction of one connection: what host `from` sent on it. */
struct rtt_conn {
    int used, from;
    uint32_t raddr;
    uint16_t lport, rport;
    uint16_t gen;     /* the slot's use, in its tags: a late copy of a
                       * forgotten connection's frame marks nothing */
    uint64_t count;   /* frames ever sent; frame n is in ring[n % RING] */
    fa_time last;     /* when it last sent: the least recent is evicted */
    struct sent_frame *ring;
};

struct fa_sim_rtt {
    struct rtt_conn conns[CONNS];
    uint64_t judged, unknown; /* samples judged; let pass, not known */
    uint64_t evicted; /* records dropped for newer ones (or no memory):
                       * a sample that finds none then passes unjudged */
};

/* A tag: the slot (9 bits), its generation (12) and the frame (43). */
#define TAG(slot, gen, n) ((uint64_t)((slot) + 1) << 55 | (uint64_t)((gen) & 0xfff) << 43 | (n))
#define TAG_SLOT(t) ((int)((t) >> 55) - 1)
#define TAG_GEN(t) ((uint16_t)((t) >> 43 & 0xfff))
#define TAG_N(t) ((t) & ((1ull << 43) - 1))

struct fa_sim_rtt *fa_sim_rtt_create(void)
{
    return calloc(1, sizeof(struct fa_sim_rtt));
}

void fa_sim_rtt_destroy(struct fa_sim_rtt *o)
{
    if (!o)
        return;
    for (int i = 0; i < CONNS; i++)
        free(o->conns[i].ring);
    free(o);
}

static struct rtt_conn *conn_find(struct fa_sim_rtt *o, int from, uint32_t raddr,
                                  uint16_t lport, uint16_t rport)
{
    for (int i = 0; i < CONNS; i++) {
        struct rtt_conn *c = &o->conns[i];
        if (c->used && c->from == from && c->lport == lport && c->rport == rport &&
            c->raddr == raddr)
            return c;
    }
    return NULL;
}

/* A free slot, else the least recently used one's (a SYN-ACK a cookie
 * sent to a spoofed source is never used again). */
static struct rtt_conn *conn_add(struct fa_sim_rtt *o, int from, uint32_t raddr,
                                 uint16_t lport, uint16_t rport)
{
    struct rtt_conn *c = NULL;
    for (int i = 0; i < CONNS && !(c && !c->used); i++)
        if (!c || !o->conns[i].used || o->conns[i].last < c->last)
            c = &o->conns[i];
    if (c->used)
        o->evicted++;
    if (!c->ring && !(c->ring = malloc(RING * sizeof *c->ring))) {
        c->used = 0;
        o->evicted++;
        return NULL;
    }
    struct sent_frame *ring = c->ring;
    *c = (struct rtt_conn){ .used = 1, .from = from, .raddr = raddr, .lport = lport,
                            .rport = rport, .gen = (uint16_t)(c->gen + 1), .ring = ring };
    return c;
}

uint64_t fa_sim_rtt_sent(struct fa_sim_rtt *o, int from, const uint8_t *frame, size_t len,
                         fa_time now, int arp)
{
    struct fa_sim_segment g;
    if (!fa_sim_segment_parse(frame, len, &g))
        return 0;
    struct rtt_conn *c = conn_find(o, from, g.dst, g.sport, g.dport);
    /* A record starts at the SYN: a closed connection's last ACK or a
     * reset to a stray segment, sent after the record was forgotten, make
     * none (review: they filled the table, and every sample then passed). */
    if (!c && (!(g.flags & 0x02) || !(c = conn_add(o, from, g.dst, g.sport, g.dport))))
        return 0;
    uint64_t n = c->count++;
    c->last = now;
    c->ring[n % RING] = (struct sent_frame){ now, FA_TIME_NEVER, n, arp };
    return TAG((int)(c - o->conns), c->gen, n);
}

void fa_sim_rtt_delivered(struct fa_sim_rtt *o, uint64_t tag, uint32_t to, const uint8_t *frame,
                          size_t len, fa_time now)
{
    struct fa_sim_segment g;
    int i = TAG_SLOT(tag);
    if (i < 0 || i >= CONNS || !fa_sim_segment_parse(frame, len, &g))
        return; /* no host's, or corrupted: it answers nothing */
    struct rtt_conn *c = &o->conns[i];
    uint64_t n = TAG_N(tag);
    struct sent_frame *f = &c->ring[n % RING];
    /* The copy of this record's frame n, at the host it was for (not one
     * a switch flooded to another, nor a forgotten connection's). */
    if (c->used && c->gen == TAG_GEN(tag) && g.dst == to && g.dst == c->raddr &&
        g.sport == c->lport && g.dport == c->rport && f->n == n && f->arrived > now)
        f->arrived = now;
}

void fa_sim_rtt_counts(const struct fa_sim_rtt *o, uint64_t *judged, uint64_t *unknown)
{
    *judged = o ? o->judged : 0;
    *unknown = o ? o->unknown : 0;
}

void fa_sim_rtt_forget(struct fa_sim_rtt *o, int host, uint32_t raddr, uint16_t lport,
                       uint16_t rport)
{
    struct rtt_conn *c = conn_find(o, host, raddr, lport, rport);
    if (c)
        c->used = 0;
}

/* The slack around now - rtt where the timed frame left the host: a
 * sample from the clock is exact (rounded to a µs here; a batch holds
 * only bare ACKs, which nothing times); an echo is in 1 ms ticks either
 * way (and at least one); a cookie's echo is long by up to 63 ms more. */
static void slack(int source, fa_time *before, fa_time *after)
{
    const fa_time tick = FA_NS_PER_MS;
    *before = source == FA_RTT_CLOCK ? FA_NS_PER_US : tick;
    *after = *before + (source == FA_RTT_COOKIE ? 63 * tick : 0);
}

int fa_sim_rtt_judge(struct fa_sim_rtt *o, const struct fa_sim_rtt_sample *q,
                     struct fa_sim_rtt_verdict *v)
{
    struct rtt_conn *c = conn_find(o, q->host, q->raddr, q->lport, q->rport);
    *v = (struct fa_sim_rtt_verdict){ .at = q->now > q->rtt ? q->now - q->rtt : 0,
                                      .first_sent = FA_TIME_NEVER,
                                      .first_arrived = FA_TIME_NEVER };
    if (!c && o->evicted) {
        o->unknown++;
        return 1;
    }
    o->judged++;
    if (!c)
        return 0; /* nothing of it sent: no sample is right */
    fa_time before, after;
    slack(q->source, &before, &after);
    fa_time lo = v->at > before ? v->at - before : 0, hi = v->at + after;
    uint64_t kept = c->count < RING ? c->count : RING, k;
    for (k = 1; k <= kept; k++) {
        const struct sent_frame *f = &c->ring[(c->count - k) % RING];
        if (f->sent < lo)
            break;
        v->first_sent = f->sent;
        v->first_arp = f->arp;
        if (f->sent <= hi && f->arrived <= q->answer_sent)
            return 1;
    }
    if (k > kept && kept == RING) {
        o->judged--;
        o->unknown++;
        return 1; /* the frame may be older than the ring */
    }
    /* The first frames sent since lo, if an ARP frame released them:
     * those a wait for it held go at once, in any order. */
    for (uint64_t j = k - 1; v->first_arp && j >= 1; j--) {
        const struct sent_frame *f = &c->ring[(c->count - j) % RING];
        if (f->sent != v->first_sent || !f->arp)
            break;
        if (f->arrived < v->first_arrived)
            v->first_arrived = f->arrived;
    }
    return 0;
}
