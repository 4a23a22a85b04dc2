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
 * tag that the frame's copies carry) and every copy delivered
 * (fa_sim_rtt_delivered), and asks about every sample (fa_sim_rtt_judge).
 * Each direction of a connection keeps its last RING frames sent, in
 * order; a sample whose frame may be older than what is kept passes (not
 * known, not wrong). Called by check.c only. */
#include <stdlib.h>

#include "sim_internal.h"

enum { CONNS = 256, RING = 1024 };

struct sent_frame {
    fa_time sent, arrived; /* arrived: FA_TIME_NEVER till a copy does */
    uint64_t n;            /* which frame of the connection (the tag's) */
};

/* One direction of one connection: what host `from` sent on it. */
struct rtt_conn {
    int used, from;
    uint32_t raddr;
    uint16_t lport, rport;
    uint64_t count; /* frames ever sent; frame n is in ring[n % RING] */
    struct sent_frame *ring;
};

struct fa_sim_rtt {
    struct rtt_conn conns[CONNS];
    int full; /* a connection found no room: its samples pass unjudged */
};

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

static struct rtt_conn *conn_add(struct fa_sim_rtt *o, int from, uint32_t raddr,
                                 uint16_t lport, uint16_t rport)
{
    for (int i = 0; i < CONNS; i++) {
        struct rtt_conn *c = &o->conns[i];
        if (c->used)
            continue;
        if (!c->ring && !(c->ring = malloc(RING * sizeof *c->ring)))
            return NULL;
        struct sent_frame *ring = c->ring;
        *c = (struct rtt_conn){ .used = 1, .from = from, .raddr = raddr, .lport = lport,
                                .rport = rport, .ring = ring };
        return c;
    }
    o->full = 1;
    return NULL;
}

uint64_t fa_sim_rtt_sent(struct fa_sim_rtt *o, int from, const uint8_t *frame, size_t len,
                         fa_time now)
{
    struct fa_sim_segment g;
    if (!fa_sim_segment_parse(frame, len, &g))
        return 0;
    struct rtt_conn *c = conn_find(o, from, g.dst, g.sport, g.dport);
    if (!c && !(c = conn_add(o, from, g.dst, g.sport, g.dport)))
        return 0;
    uint64_t n = c->count++;
    c->ring[n % RING] = (struct sent_frame){ now, FA_TIME_NEVER, n };
    return (uint64_t)(c - o->conns + 1) << 48 | n;
}

void fa_sim_rtt_delivered(struct fa_sim_rtt *o, uint64_t tag, const uint8_t *frame,
                          size_t len, fa_time now)
{
    struct fa_sim_segment g;
    uint64_t i = tag >> 48, n = tag & ((1ull << 48) - 1);
    if (!i || !fa_sim_segment_parse(frame, len, &g))
        return; /* no host's, or corrupted: it answers nothing */
    struct sent_frame *f = &o->conns[i - 1].ring[n % RING];
    if (o->conns[i - 1].used && f->n == n && f->arrived > now)
        f->arrived = now;
}

void fa_sim_rtt_forget(struct fa_sim_rtt *o, int host, uint16_t lport, uint16_t rport)
{
    for (int i = 0; i < CONNS; i++) {
        struct rtt_conn *c = &o->conns[i];
        if (c->used && c->from == host && c->lport == lport && c->rport == rport)
            c->used = 0;
    }
}

/* The slack around now - rtt where the timed frame left the host: a
 * sample from the clock is exact, but the frame may have left up to a
 * batch after the stack stamped it (its output waits for the batch's
 * end); an echo is in 1 ms ticks either way (and at least one); a
 * cookie's echo is long by up to 63 ms more. */
static void slack(int source, fa_time *before, fa_time *after)
{
    const fa_time tick = FA_NS_PER_MS, batch = FA_NS_PER_MS + 1;
    *before = source == FA_RTT_CLOCK ? FA_NS_PER_US : tick;
    *after = batch + *before + (source == FA_RTT_COOKIE ? 63 * tick : 0);
}

int fa_sim_rtt_judge(struct fa_sim_rtt *o, const struct fa_sim_rtt_sample *q,
                     struct fa_sim_rtt_verdict *v)
{
    struct rtt_conn *c = conn_find(o, q->host, q->raddr, q->lport, q->rport);
    *v = (struct fa_sim_rtt_verdict){ .at = q->now > q->rtt ? q->now - q->rtt : 0,
                                      .first_sent = FA_TIME_NEVER,
                                      .first_arrived = FA_TIME_NEVER };
    if (!c)
        return o->full; /* nothing of it sent: no sample can be right */
    fa_time before, after;
    slack(q->source, &before, &after);
    fa_time lo = v->at > before ? v->at - before : 0, hi = v->at + after;
    uint64_t kept = c->count < RING ? c->count : RING, k;
    for (k = 1; k <= kept; k++) {
        const struct sent_frame *f = &c->ring[(c->count - k) % RING];
        if (f->sent < lo)
            break;
        v->first_sent = f->sent;
        if (f->sent <= hi && f->arrived <= q->answer_sent)
            return 1;
    }
    if (k > kept && kept == RING)
        return 1; /* the frame may be older than the ring */
    /* The first frames sent since lo, together: those a wait for ARP
     * held go at once when the answer comes, in any order. */
    for (uint64_t j = k - 1; j >= 1; j--) {
        const struct sent_frame *f = &c->ring[(c->count - j) % RING];
        if (f->sent > v->first_sent + after)
            break;
        if (f->arrived < v->first_arrived)
            v->first_arrived = f->arrived;
    }
    return 0;
}
