/* sim.c — the deterministic network simulator (finack/sim.h).
 *
 * Events are frame arrivals, kept in one binary heap ordered by (time,
 * sequence number) so that ties resolve in scheduling order and a seed
 * replays exactly. Each link direction owns a fixed set of frame slots
 * (allocated when its host is added; no allocation per frame). Stack
 * timers are not events: each host's next deadline is cached and the
 * run loop takes whichever comes first. */
#include <errno.h>
#include <finack/gso.h>
#include <finack/prng.h>
#include <finack/sim.h>
#include <finack/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "../wire/wire.h"
#include "sim_internal.h"

enum { MAX_HOSTS = 64, MAC_TABLE = 64 };

struct dir {
    struct fa_sim *sim;
    int host, up;            /* up: host -> switch */
    struct fa_sim_link m;
    struct fa_prng prng;
    int ge_bad;              /* Gilbert–Elliott state */
    uint32_t in_flight;
    fa_time busy_until, last_arrival;
    uint32_t nslots, slot_len, *free_slots, nfree;
    uint8_t *frames;
    uint32_t *lens;
    struct fa_sim_stats stats;
    /* The ACK divider's memory (fa_sim_link.ack_divide): the last ACK
     * each of a few flows carried, the oldest entry taken for a new one. */
    struct ack_flow {
        uint32_t src, dst, ack;
        uint16_t sport, dport;
    } acks[8];
    uint8_t acks_used, acks_next;
};

struct event {
    fa_time t;
    uint64_t seq;
    struct dir *d;
    uint32_t slot;
    fa_time sent; /* when a host sent the frame, and the RTT oracle's tag */
    uint64_t tag; /* for it (rtt_oracle.c; 0: none) */
};

/* Receive coalescing (fa_sim_set_gro): TCP segments of one flow merged
 * into a super-frame as they arrive within a batch. */
struct gro {
    uint32_t len;       /* bytes of frame in use (0: empty) */
    uint32_t segs;
    uint16_t gso_size;  /* the first segment's text */
    uint16_t hdr;       /* Ethernet + IP + TCP header bytes */
    uint32_t next_seq;
    fa_time sent;       /* when the first of its segments was sent (all
                         * carry one ACK and timestamps: known then) */
    uint8_t frame[FA_GSO_FRAME_MAX];
};

struct host {
    struct fa_sim *sim;
    int index;
    struct fa_stack *stack;
    void (*user_trace)(void *, const struct fa_tcp *, int, int, fa_time);
    void (*user_rtt_trace)(void *, const struct fa_tcp *, fa_time, int, fa_time);
    void *user_trace_ctx;
    struct fa_prng rng;
    struct dir up, down;
    fa_time next_poll;
    /* fa_sim_set_batching: a batch opens with a delivery and ends
     * batch_window later (batch_until; 0: none open). */
    fa_time batch_window, batch_until;
    /* fa_sim_set_timer_lag: when the host sleeps, its timers run up to
     * timer_lag late. */
    fa_time timer_lag;
    /* fa_sim_set_gro: the super-frame being built (NULL: no GRO) */
    struct gro *gro;
    fa_time outage_from, outage_to;
    uint8_t mac[6];
    uint8_t gso[FA_GSO_SCRATCH]; /* a segment cut from a super-frame */
    /* When the frame the stack is taking in was sent (-1: it takes none,
     * or one no host sent): what its RTT samples may time; 1 while it is
     * an ARP frame (what goes out then waited for it). */
    int64_t answer_sent;
    int taking_arp;
    uint32_t addr; /* the stack's address */
};

struct fa_sim {
    fa_time now;
    uint64_t seed; /* fa_sim_create's: lag_for mixes it in */
    struct fa_prng prng;
    uint64_t seq;
    int nhosts;
    struct host *hosts[MAX_HOSTS];
    struct event *heap;
    uint32_t heap_len, heap_cap;
    struct { uint8_t mac[6]; int port; } macs[MAC_TABLE];
    int nmacs;
    void (*on_frame)(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t);
    void *on_frame_ctx;
    struct fa_sim_check *check;
    int (*filter)(void *ctx, int host, const uint8_t *f, size_t len, fa_time t);
    void *filter_ctx;
    uint8_t reseg[FA_GSO_SCRATCH]; /* a piece the middlebox cut */
    uint64_t part_side;
    fa_time part_from, part_to;
    uint64_t partition_drops;
    /* The frame entering a link now: when which host sent it, and its
     * tag for the RTT oracle. */
    fa_time origin_sent;
    uint64_t origin_tag;
};

struct fa_sim_check *fa_sim_checker(const struct fa_sim *s)
{
    return s->check;
}

void fa_sim_link_init(struct fa_sim_link *l)
{
    memset(l, 0, sizeof *l);
    l->delay = 50 * FA_NS_PER_US;
    l->queue_frames = 256;
    l->reorder_delay = FA_NS_PER_MS;
}

int fa_sim_create(uint64_t seed, struct fa_sim **out)
{
    struct fa_sim *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->seed = seed;
    fa_prng_seed(&s->prng, seed);
    *out = s;
    return 0;
}

static void dir_free(struct dir *d)
{
    free(d->free_slots);
    free(d->frames);
    free(d->lens);
}

void fa_sim_destroy(struct fa_sim *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nhosts; i++) {
        fa_stack_destroy(s->hosts[i]->stack);
        dir_free(&s->hosts[i]->up);
        dir_free(&s->hosts[i]->down);
        free(s->hosts[i]->gro);
        free(s->hosts[i]);
    }
    free(s->heap);
    fa_sim_check_free(s->check);
    free(s);
}

/* ---- the event heap -------------------------------------------------- */
static int ev_before(const struct event *a, const struct event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct fa_sim *s, struct event e)
{
    uint32_t i = s->heap_len++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!ev_before(&e, &s->heap[p]))
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = e;
}

static struct event heap_pop(struct fa_sim *s)
{
    struct event top = s->heap[0], last = s->heap[--s->heap_len];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const struct event *mv = &last;
        if (l < s->heap_len && ev_before(&s->heap[l], mv))
            m = l, mv = &s->heap[l];
        if (r < s->heap_len && ev_before(&s->heap[r], mv))
            m = r;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->heap_len)
        s->heap[i] = last;
    return top;
}

/* ---- a link direction ------------------------------------------------ */
static int dir_init(struct fa_sim *s, struct dir *d, int host, int up,
                    const struct fa_sim_link *m, uint32_t slot_len)
{
    d->sim = s;
    d->host = host;
    d->up = up;
    d->m = *m;
    if (!d->m.queue_frames)
        return -EINVAL;
    fa_prng_seed(&d->prng, fa_prng_next(&s->prng));
    /* Duplicates need room beyond the queue: twice the queue. */
    d->nslots = 2 * d->m.queue_frames;
    d->slot_len = slot_len;
    d->free_slots = malloc(d->nslots * sizeof *d->free_slots);
    d->lens = calloc(d->nslots, sizeof *d->lens);
    d->frames = malloc((size_t)d->nslots * slot_len);
    if (!d->free_slots || !d->lens || !d->frames)
        return -ENOMEM;
    for (uint32_t i = 0; i < d->nslots; i++)
        d->free_slots[i] = d->nslots - 1 - i;
    d->nfree = d->nslots;
    return 0;
}

static int in_outage(const struct fa_sim *s, const struct dir *d, fa_time t)
{
    const struct host *h = s->hosts[d->host];
    return t >= h->outage_from && t < h->outage_to;
}

static int lost(struct dir *d)
{
    struct fa_prng *p = &d->prng;
    if (d->m.ge_to_bad > 0 || d->ge_bad) {
        if (d->ge_bad ? fa_prng_chance(p, d->m.ge_to_good) : fa_prng_chance(p, d->m.ge_to_bad))
            d->ge_bad = !d->ge_bad;
        if (d->ge_bad && fa_prng_chance(p, d->m.ge_loss_bad))
            return 1;
    }
    return fa_prng_chance(p, d->m.loss);
}

/* Schedules one copy of a frame on d; returns 0, or -1 when full. */
static int dir_schedule(struct dir *d, const uint8_t *frame, size_t len,
                        fa_time depart, int corrupt, int reorder)
{
    struct fa_sim *s = d->sim;
    if (!d->nfree || len > d->slot_len)
        return -1;
    uint32_t slot = d->free_slots[--d->nfree];
    uint8_t *buf = d->frames + (size_t)slot * d->slot_len;
    memcpy(buf, frame, len);
    d->lens[slot] = (uint32_t)len;
    if (corrupt && len) {
        uint64_t bit = fa_prng_below(&d->prng, (uint64_t)len * 8);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    fa_time arrive = depart + d->m.delay;
    if (d->m.jitter)
        arrive += fa_prng_below(&d->prng, d->m.jitter + 1);
    /* Jitter never reorders: a frame leaves the wire after the one before. */
    if (arrive < d->last_arrival)
        arrive = d->last_arrival;
    if (reorder)
        arrive += d->m.reorder_delay;
    else
        d->last_arrival = arrive;
    d->in_flight++;
    heap_push(s, (struct event){ arrive, s->seq++, d, slot, s->origin_sent, s->origin_tag });
    return 0;
}

/* A frame enters direction d at the current time. */
static void dir_send(struct dir *d, const uint8_t *frame, size_t len)
{
    struct fa_sim *s = d->sim;
    d->stats.sent++;
    if (in_outage(s, d, s->now)) {
        d->stats.outage_drops++;
        return;
    }
    if (lost(d)) {
        d->stats.lost++;
        return;
    }
    if (d->in_flight >= d->m.queue_frames) {
        d->stats.queue_drops++;
        return;
    }
    fa_time start = d->busy_until > s->now ? d->busy_until : s->now;
    fa_time wire = d->m.rate_bps ? (fa_time)len * 8 * FA_NS_PER_S / d->m.rate_bps : 0;
    d->busy_until = start + wire;
    int corrupt = fa_prng_chance(&d->prng, d->m.corrupt);
    int reorder = fa_prng_chance(&d->prng, d->m.reorder);
    int dup = fa_prng_chance(&d->prng, d->m.duplicate);
    d->stats.corrupted += (uint64_t)corrupt;
    d->stats.reordered += (uint64_t)reorder;
    if (dir_schedule(d, frame, len, d->busy_until, corrupt, reorder) < 0) {
        d->stats.queue_drops++;
        return;
    }
    if (dup && dir_schedule(d, frame, len, d->busy_until, 0, 0) == 0)
        d->stats.duplicated++;
}

/* ---- the learning switch --------------------------------------------- */
static void switch_learn(struct fa_sim *s, const uint8_t *mac, int port)
{
    for (int i = 0; i < s->nmacs; i++)
        if (!memcmp(s->macs[i].mac, mac, 6)) {
            s->macs[i].port = port;
            return;
        }
    if (s->nmacs < MAC_TABLE) {
        memcpy(s->macs[s->nmacs].mac, mac, 6);
        s->macs[s->nmacs++].port = port;
    }
}

/* Does the partition in force keep from and to apart? */
static int partitioned(const struct fa_sim *s, int from, int to)
{
    if (s->now < s->part_from || s->now >= s->part_to)
        return 0;
    return !!(s->part_side >> from & 1) != !!(s->part_side >> to & 1);
}

static int send_piece(void *ctx, const uint8_t *f, size_t len)
{
    dir_send(ctx, f, len);
    return 0;
}

/* The middlebox before a down link (fa_sim_link.resegment): 1 if it cut
 * the frame into pieces and sent them, 0 to send it as it is. A frame
 * that fails its checksums is not touched: the middlebox must not hide
 * corruption by computing new ones. */
static int resegment(struct fa_sim *s, struct dir *d, const uint8_t *f, size_t len)
{
    struct fa_sim_segment g;
    /* (flags as struct fa_sim_segment gives them: SYN 0x02, RST 0x04) */
    if (!(d->m.resegment > 0) || !fa_sim_segment_parse(f, len, &g) || g.len < 2 ||
        (g.flags & (0x02 | 0x04)) || !fa_prng_chance(&d->prng, d->m.resegment))
        return 0;
    /* Pieces of any size from an eighth of the data (eight pieces at
     * most: more would be a flood the queue drops) to all but a byte. */
    uint32_t least = (g.len + 7) / 8;
    struct fa_frame_meta m = { .gso_type = FA_GSO_TCPV4,
                               .gso_size = (uint16_t)(least + fa_prng_below(&d->prng, g.len - least)) };
    int n = fa_gso_segment(f, len, &m, s->reseg, sizeof s->reseg, send_piece, d);
    if (n > 1)
        d->stats.resegmented++;
    return n > 0;
}

/* The ACK divider's entry for g's flow, taken (ack = g's) if new. */
static struct ack_flow *ack_flow(struct dir *d, const struct fa_sim_segment *g, int *known)
{
    for (int i = 0; i < d->acks_used; i++) {
        struct ack_flow *a = &d->acks[i];
        if (a->src == g->src && a->dst == g->dst && a->sport == g->sport && a->dport == g->dport) {
            *known = 1;
            return a;
        }
    }
    int i = d->acks_used < 8 ? d->acks_used++ : d->acks_next++ % 8;
    d->acks[i] = (struct ack_flow){ g->src, g->dst, g->ack, g->sport, g->dport };
    *known = 0;
    return &d->acks[i];
}

/* The middlebox that divides ACKs, before a down link: sends the pieces
 * that go before f (which goes after them as it is). Every segment with
 * an ACK moves the flow's last ACK on (one riding on data too: else a
 * bare ACK after it would be cut into ACKs below SND.UNA, old ones, not
 * pieces); bare ACKs only (no data, SYN, FIN or RST) are divided, and
 * only with good checksums: a corrupted one stays corrupted. */
static void divide_ack(struct dir *d, const uint8_t *f, size_t len)
{
    struct fa_sim_segment g;
    uint8_t piece[256];
    if (!(d->m.ack_divide > 0) || !fa_sim_segment_parse(f, len, &g) || !(g.flags & 0x10) ||
        (g.flags & 0x04))
        return;
    int known;
    struct ack_flow *a = ack_flow(d, &g, &known);
    uint32_t last = a->ack, gap = g.ack - last;
    if (!known || (int32_t)gap <= 0)
        return; /* new, or old: reordered ACKs are not divided */
    a->ack = g.ack;
    if (g.len || (g.flags & ~0x08) != 0x10 || len > sizeof piece || gap < 2 ||
        !fa_prng_chance(&d->prng, d->m.ack_divide))
        return;
    struct fa_ipv4_view ip;
    memcpy(piece, f, len);
    if (fa_ipv4_hdr_parse(piece + FA_ETH_HLEN, len - FA_ETH_HLEN, &ip))
        return;
    uint8_t *seg = piece + FA_ETH_HLEN + ip.hlen;
    size_t seg_len = ip.payload_len;
    for (uint32_t k = 1; k < (gap < 8 ? gap : 8); k++) {
        fa_put32(seg + 8, last + k);
        fa_tcp_hdr_checksum(seg, seg_len, ip.src, ip.dst);
        dir_send(d, piece, len);
    }
    d->stats.ack_divided++;
}

static void switch_out(struct fa_sim *s, int from, int to, const uint8_t *f, size_t len)
{
    if (partitioned(s, from, to)) {
        s->hosts[to]->down.stats.outage_drops++;
        return;
    }
    divide_ack(&s->hosts[to]->down, f, len);
    if (!resegment(s, &s->hosts[to]->down, f, len))
        dir_send(&s->hosts[to]->down, f, len);
}

static void switch_forward(struct fa_sim *s, int from, const uint8_t *f, size_t len)
{
    if (len < 14)
        return;
    if (!(f[6] & 1))
        switch_learn(s, f + 6, from);
    if (!(f[0] & 1))
        for (int i = 0; i < s->nmacs; i++)
            if (!memcmp(s->macs[i].mac, f, 6)) {
                if (s->macs[i].port != from)
                    switch_out(s, from, s->macs[i].port, f, len);
                return;
            }
    for (int i = 0; i < s->nhosts; i++) /* broadcast or unknown: flood */
        if (i != from)
            switch_out(s, from, i, f, len);
}

/* ---- hosts ----------------------------------------------------------- */
static int host_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct host *h = ctx;
    struct fa_sim *s = h->up.sim;
    if (s->on_frame)
        s->on_frame(s->on_frame_ctx, h->up.host, 0, frame, len, s->now);
    if (s->check) {
        if (h->stack) /* (not while it is being created) */
            fa_sim_check_sacks_given_up(s->check, h->index,
                                        fa_stack_counter(h->stack, FA_CNT_TCP_SB_MERGED_SACKED) +
                                            fa_stack_counter(h->stack, FA_CNT_TCP_SACK_UNSPLIT));
        fa_sim_check_frame(s->check, h->index, 0, frame, len, s->now);
    }
    if (s->filter && s->filter(s->filter_ctx, h->index, frame, len, s->now)) {
        h->up.stats.sent++;
        h->up.stats.lost++;
        return 0;
    }
    s->origin_sent = s->now;
    s->origin_tag =
        s->check ? fa_sim_check_sent(s->check, h->index, frame, len, s->now, h->taking_arp) : 0;
    dir_send(&h->up, frame, len);
    return 0;
}

/* A host whose NIC offloads (the caller asked, cfg.device.offloads): a
 * super-frame is cut into the segments the wire carries, each sent as
 * any frame; so every fault, and the checker, sees segments. */
static int host_transmit_meta(void *ctx, const uint8_t *frame, size_t len,
                              const struct fa_frame_meta *meta)
{
    struct host *h = ctx;
    int n = fa_gso_segment(frame, len, meta, h->gso, sizeof h->gso, host_transmit, h);
    return n < 0 ? n : 0;
}

/* State changes go to the checker, then to the user's trace hook. */
static void host_trace(void *ctx, const struct fa_tcp *sock, int from, int to,
                       fa_time now)
{
    struct host *h = ctx;
    fa_sim_check_state(h->sim->check, h->index, from, to, now);
    if (to == FA_TCP_CLOSED || to == FA_TCP_TIME_WAIT) {
        struct fa_tcp_info i;
        fa_tcp_get_info(sock, &i);
        fa_sim_check_forget(h->sim->check, h->index, i.remote_addr, i.local_port, i.remote_port);
    }
    if (h->user_trace)
        h->user_trace(h->user_trace_ctx, sock, from, to, now);
}

/* RTT samples go to the oracle (those taken on a frame some host sent),
 * then to the user's hook. */
static void host_rtt_trace(void *ctx, const struct fa_tcp *sock, fa_time rtt, int source,
                           fa_time now)
{
    struct host *h = ctx;
    fa_sim_check_rtt(h->sim->check, h->index, sock, rtt, source, h->answer_sent, now);
    if (h->user_rtt_trace)
        h->user_rtt_trace(h->user_trace_ctx, sock, rtt, source, now);
}

int fa_sim_check_enable(struct fa_sim *s)
{
    if (s->nhosts)
        return -EBUSY;
    if (!s->check)
        s->check = calloc(1, fa_sim_check_size());
    return s->check ? 0 : -ENOMEM;
}

static uint64_t host_rng(void *ctx)
{
    return fa_prng_next(ctx);
}

int fa_sim_add_host(struct fa_sim *s, struct fa_config *cfg,
                    const struct fa_sim_link *up, const struct fa_sim_link *down)
{
    if (s->nhosts == MAX_HOSTS)
        return -ENOSPC;
    struct host *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    int idx = s->nhosts;
    uint32_t slot_len = (uint32_t)cfg->mtu + 14;
    int err = dir_init(s, &h->up, idx, 1, up, slot_len);
    if (!err)
        err = dir_init(s, &h->down, idx, 0, down, slot_len);
    fa_prng_seed(&h->rng, fa_prng_next(&s->prng));
    h->sim = s;
    h->index = idx;
    h->answer_sent = -1;
    h->addr = cfg->addr;
    if (s->check) {
        h->user_trace = cfg->tcp_trace;
        h->user_rtt_trace = cfg->tcp_rtt_trace;
        h->user_trace_ctx = cfg->tcp_trace_ctx;
        cfg->tcp_trace = host_trace;
        cfg->tcp_rtt_trace = host_rtt_trace;
        cfg->tcp_trace_ctx = h;
    }
    unsigned offloads = cfg->device.offloads & (FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO);
    if (offloads & FA_OFFLOAD_TSO)
        offloads |= FA_OFFLOAD_TX_CSUM;
    cfg->device = (struct fa_device){ .ctx = h, .transmit = host_transmit,
                                      .offloads = offloads,
                                      .transmit_meta = host_transmit_meta };
    cfg->rng = (struct fa_rng){ &h->rng, host_rng };
    /* Room in the heap for every slot of every link, before the stack
     * exists: creating it already sends (the gratuitous ARP). */
    if (!err) {
        uint32_t cap = s->heap_cap + h->up.nslots + h->down.nslots;
        struct event *heap = realloc(s->heap, cap * sizeof *heap);
        if (heap) {
            s->heap = heap;
            s->heap_cap = cap;
        } else {
            err = -ENOMEM;
        }
    }
    s->hosts[idx] = h;
    s->nhosts++;
    if (!err)
        err = fa_stack_create(cfg, s->now, &h->stack);
    if (err) {
        s->nhosts--;
        dir_free(&h->up);
        dir_free(&h->down);
        free(h);
        return err;
    }
    h->next_poll = fa_stack_poll(h->stack, s->now);
    return idx;
}

struct fa_stack *fa_sim_stack(struct fa_sim *s, int host)
{
    return host >= 0 && host < s->nhosts ? s->hosts[host]->stack : NULL;
}

fa_time fa_sim_now(const struct fa_sim *s)
{
    return s->now;
}

int fa_sim_outage(struct fa_sim *s, int host, fa_time from, fa_time to)
{
    if (host < 0 || host >= s->nhosts || to < from)
        return -EINVAL;
    s->hosts[host]->outage_from = from;
    s->hosts[host]->outage_to = to;
    return 0;
}

void fa_sim_on_frame(struct fa_sim *s,
                     void (*fn)(void *, int, int, const uint8_t *, size_t, fa_time),
                     void *ctx)
{
    s->on_frame = fn;
    s->on_frame_ctx = ctx;
}

int fa_sim_partition(struct fa_sim *s, uint64_t side, fa_time from, fa_time to)
{
    if (to < from)
        return -EINVAL;
    s->part_side = side;
    s->part_from = from;
    s->part_to = to;
    return 0;
}

void fa_sim_set_filter(struct fa_sim *s,
                       int (*fn)(void *, int, const uint8_t *, size_t, fa_time),
                       void *ctx)
{
    s->filter = fn;
    s->filter_ctx = ctx;
}

static void gro_flush(struct fa_sim *s, struct host *h);

void fa_sim_flush_held(struct fa_sim *s, int host)
{
    if (host >= 0 && host < s->nhosts)
        gro_flush(s, s->hosts[host]);
}

void fa_sim_inject(struct fa_sim *s, int host, const uint8_t *frame, size_t len)
{
    struct host *h = s->hosts[host];
    gro_flush(s, h); /* as GRO does when a frame that can't join arrives */
    if (s->on_frame)
        s->on_frame(s->on_frame_ctx, host, 1, frame, len, s->now);
    if (s->check)
        fa_sim_check_injected(s->check, host, frame, len, s->now);
    h->taking_arp = len >= FA_ETH_HLEN && fa_get16(frame + 12) == FA_ETHERTYPE_ARP;
    fa_stack_input(h->stack, frame, len, s->now);
    h->taking_arp = 0;
    h->next_poll = fa_stack_poll(h->stack, s->now);
    /* (Timers ran too: checked as every event is — apps seed 19413, a
     * recovery a router's ICMP error let the timers enter and the next
     * ACK left unseen by the cwnd check.) */
    if (s->check)
        fa_sim_check_seqs(s->check, host, h->stack, s->now);
}

int fa_sim_set_batching(struct fa_sim *s, int host, fa_time window)
{
    if (host < 0 || host >= s->nhosts)
        return -EINVAL;
    if (!window && s->hosts[host]->gro)
        fa_sim_set_gro(s, host, 0); /* GRO needs batches to end its super-frames */
    s->hosts[host]->batch_window = window;
    return 0;
}

int fa_sim_set_timer_lag(struct fa_sim *s, int host, fa_time lag)
{
    if (host < 0 || host >= s->nhosts || lag > 3600 * FA_NS_PER_S)
        return -EINVAL;
    s->hosts[host]->timer_lag = lag;
    return 0;
}

const struct fa_sim_stats *fa_sim_link_stats(const struct fa_sim *s, int host,
                                             int dir)
{
    return dir ? &s->hosts[host]->down.stats : &s->hosts[host]->up.stats;
}

/* ---- the run loop ---------------------------------------------------- */
/* How late a host that sleeps wakes for a deadline: a function of the
 * deadline, the host and the world's seed, so it is the same however
 * often it is asked, and no die is thrown (a world without lags replays
 * as it always did). The seed is mixed in so each world draws its own
 * lateness: with the deadline and host alone, every world shared one
 * function, and the sweeps saw one pattern of lateness where they could
 * see thousands. */
static fa_time lag_for(const struct fa_sim *s, const struct host *h, fa_time due)
{
    uint64_t x = (uint64_t)due ^ (0x9e3779b97f4a7c15ull * (uint64_t)(h->index + 1)) ^
                 (s->seed * 0xd1b54a32d192ed03ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull; /* splitmix64's finalizer */
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (fa_time)(x % ((uint64_t)h->timer_lag + 1));
}

/* When the simulator next runs host's timers of its own accord. */
static fa_time wake_at(const struct fa_sim *s, const struct host *h)
{
    if (!h->timer_lag || h->next_poll == FA_TIME_NEVER)
        return h->next_poll;
    fa_time t = h->next_poll + lag_for(s, h, h->next_poll);
    return t < h->next_poll ? FA_TIME_NEVER - 1 : t;
}

/* After the application called into host: what it armed. A host whose
 * timers run late only learns the deadline (a loop's own calls run no
 * timers; a frame or its sleep's end does). */
static void relearn(struct fa_sim *s, struct host *h)
{
    if (h->timer_lag) {
        h->next_poll = fa_stack_next_due(h->stack);
        return;
    }
    /* What the application armed may be due already (a deadline of 0,
     * "at once"): timers then run here, and are checked as every event. */
    int due = fa_stack_next_due(h->stack) <= s->now;
    h->next_poll = fa_stack_poll(h->stack, s->now);
    if (due && s->check)
        fa_sim_check_seqs(s->check, h->index, h->stack, s->now);
}

/* ---- receive coalescing (fa_sim_set_gro) ----------------------------- */
static void host_input(struct fa_sim *s, struct host *h, const uint8_t *f, uint32_t len,
                       const struct fa_frame_meta *m, fa_time sent);

/* What a super-frame's segments must share with its first: every header
 * byte but the IP length, id and checksum, and the TCP sequence number,
 * flags and checksum (as Linux's GRO asks: the same ACK, window and
 * options, timestamps included). */
static int gro_same_headers(const uint8_t *a, const uint8_t *b, uint16_t hdr)
{
    enum { IP = FA_ETH_HLEN, TCP = FA_ETH_HLEN + 20 };
    return !memcmp(a, b, IP + 2) &&                        /* Ethernet, IP version..TOS */
           !memcmp(a + IP + 6, b + IP + 6, 4) &&           /* fragments, TTL, protocol */
           !memcmp(a + IP + 12, b + IP + 12, 8) &&         /* addresses */
           !memcmp(a + TCP, b + TCP, 4) &&                 /* ports */
           !memcmp(a + TCP + 8, b + TCP + 8, 5) &&         /* ACK, header length */
           !memcmp(a + TCP + 14, b + TCP + 14, 2) &&       /* window */
           !memcmp(a + TCP + 18, b + TCP + 18, hdr - TCP - 18); /* urgent, options */
}

/* Hands the super-frame built so far to the stack (a lone segment as it
 * came): IP length and checksum redone, TCP checksum over it all, and
 * FA_META_CSUM_VALID, as the kernel hands a TAP's reader its GRO work. */
static void gro_flush(struct fa_sim *s, struct host *h)
{
    struct gro *g = h->gro;
    if (!g || !g->len)
        return;
    uint32_t len = g->len;
    g->len = 0;
    if (g->segs == 1) {
        host_input(s, h, g->frame, len, NULL, g->sent);
        return;
    }
    h->down.stats.coalesced += g->segs;
    uint8_t *ip = g->frame + FA_ETH_HLEN, *tcp = ip + 20;
    uint32_t ip_len = len - FA_ETH_HLEN;
    fa_put16(ip + 2, (uint16_t)ip_len);
    ip[10] = ip[11] = 0;
    fa_csum_store(ip + 10, fa_csum_fold(fa_csum_add(0, ip, 20)));
    tcp[16] = tcp[17] = 0;
    uint64_t acc = fa_csum_pseudo(fa_get32(ip + 12), fa_get32(ip + 16), FA_IPPROTO_TCP,
                                  (uint16_t)(ip_len - 20));
    fa_csum_store(tcp + 16, fa_csum_fold(fa_csum_add(acc, tcp, ip_len - 20)));
    struct fa_frame_meta m = { .flags = FA_META_CSUM_VALID, .gso_type = FA_GSO_TCPV4,
                               .gso_size = g->gso_size };
    host_input(s, h, g->frame, len, &m, g->sent);
}

int fa_sim_set_gro(struct fa_sim *s, int host, int on)
{
    if (host < 0 || host >= s->nhosts || (on && !s->hosts[host]->batch_window))
        return -EINVAL;
    struct host *h = s->hosts[host];
    if (!on) {
        gro_flush(s, h); /* what it held goes in as it is */
        free(h->gro);
        h->gro = NULL;
    } else if (!h->gro && !(h->gro = calloc(1, sizeof *h->gro))) {
        return -ENOMEM;
    }
    return 0;
}

/* Takes frame into host's super-frame if it is a TCP segment that can
 * join one (an ACK with text, no other flag but PSH, IPv4 without
 * options, checksums right); returns 0 to have it delivered as it is,
 * after what was held. A segment that ends one (PSH, or shorter than the
 * first) flushes it. */
static int gro_take(struct fa_sim *s, struct host *h, const uint8_t *f, uint32_t len,
                    fa_time sent)
{
    struct gro *g = h->gro;
    struct fa_ipv4_view ip;
    struct fa_tcp_view t;
    if (len < FA_ETH_HLEN + 40 || fa_get16(f + 12) != FA_ETHERTYPE_IPV4 || f[FA_ETH_HLEN] != 0x45 ||
        fa_ipv4_hdr_parse(f + FA_ETH_HLEN, len - FA_ETH_HLEN, &ip) || ip.proto != FA_IPPROTO_TCP ||
        (fa_get16(f + FA_ETH_HLEN + 6) & 0x3fff) || /* a fragment */
        fa_tcp_hdr_parse(ip.payload, ip.payload_len, ip.src, ip.dst, 0, &t) ||
        (t.flags & ~(FA_TCP_ACK | FA_TCP_PSH)) != 0 || !(t.flags & FA_TCP_ACK) || !t.data_len ||
        FA_ETH_HLEN + 20u + ip.payload_len != len) {
        gro_flush(s, h);
        return 0;
    }
    uint16_t hdr = (uint16_t)(len - t.data_len);
    int joins = g->len && g->hdr == hdr && t.seq == g->next_seq && t.data_len <= g->gso_size &&
                g->len + t.data_len <= sizeof g->frame && g->len + t.data_len - FA_ETH_HLEN <= 65535 &&
                gro_same_headers(g->frame, f, hdr);
    if (joins) {
        memcpy(g->frame + g->len, f + hdr, t.data_len);
        g->len += t.data_len;
        g->segs++;
        g->frame[FA_ETH_HLEN + 20 + 13] |= (uint8_t)(t.flags & FA_TCP_PSH);
        if (sent < g->sent)
            g->sent = sent;
    } else {
        gro_flush(s, h);
        memcpy(g->frame, f, len);
        g->len = len;
        g->hdr = hdr;
        g->segs = 1;
        g->gso_size = (uint16_t)t.data_len;
        g->sent = sent;
    }
    g->next_seq = t.seq + t.data_len;
    if ((t.flags & FA_TCP_PSH) || t.data_len < g->gso_size)
        gro_flush(s, h);
    return 1;
}

static void deliver(struct fa_sim *s, struct event e)
{
    struct dir *d = e.d;
    uint8_t *f = d->frames + (size_t)e.slot * d->slot_len;
    uint32_t len = d->lens[e.slot];
    d->in_flight--;
    /* An outage also loses what was already on the wire. */
    if (in_outage(s, d, s->now)) {
        d->stats.outage_drops++;
    } else {
        d->stats.delivered++;
        if (d->up) {
            s->origin_sent = e.sent;
            s->origin_tag = e.tag;
            switch_forward(s, d->host, f, len);
        } else {
            struct host *h = s->hosts[d->host];
            if (s->check)
                fa_sim_check_delivered(s->check, e.tag, h->addr, f, len, s->now);
            if (h->batch_window && !h->batch_until) {
                fa_stack_batch_begin(h->stack);
                h->batch_until = s->now + h->batch_window;
            }
            if (!h->gro || !gro_take(s, h, f, len, e.sent))
                host_input(s, h, f, len, NULL, e.sent);
        }
    }
    d->free_slots[d->nfree++] = e.slot;
}

/* A frame into host's stack, with what the checks need around it. */
static void host_input(struct fa_sim *s, struct host *h, const uint8_t *f, uint32_t len,
                       const struct fa_frame_meta *m, fa_time sent)
{
    if (s->on_frame)
        s->on_frame(s->on_frame_ctx, h->index, 1, f, len, s->now);
    if (s->check)
        fa_sim_check_frame(s->check, h->index, 1, f, len, s->now);
    uint64_t segs = fa_stack_counter(h->stack, FA_CNT_TCP_SEGS_IN);
    uint64_t paws = fa_stack_counter(h->stack, FA_CNT_TCP_PAWS_DROPPED);
    uint64_t unacc = fa_stack_counter(h->stack, FA_CNT_TCP_UNACCEPTABLE);
    uint64_t nobuf = fa_stack_counter(h->stack, FA_CNT_TCP_NO_BUFFER);
    uint64_t bad_ack = fa_stack_counter(h->stack, FA_CNT_TCP_BAD_ACK);
    h->answer_sent = (int64_t)sent;
    h->taking_arp = len >= FA_ETH_HLEN && fa_get16(f + 12) == FA_ETHERTYPE_ARP;
    fa_stack_input_meta(h->stack, f, len, m, s->now);
    h->answer_sent = -1;
    h->taking_arp = 0;
    /* Taken: TCP read it, and neither PAWS (RFC 7323 §5.3 R1: transfer
     * seed 24323, an old ACK overtaken by a later segment) nor the
     * sequence check (RFC 9293 §3.10.7.4: a duplicate wholly below
     * RCV.NXT; transfer seed 3745, a piece of a resent segment) nor RFC
     * 5961 §5.2 (an ACK older than SND.UNA - MAX.SND.WND drops the whole
     * segment, its data too, as Linux: transfer seed 3973, a resent piece
     * from a resegmenting middlebox) refused it: else its SACK blocks are
     * not read either. (The two unacceptable
     * segments whose ACK is still used, at a zero window and ending at
     * RCV.NXT, count as not taken: a check the less, never a false one.) */
    if (s->check)
        fa_sim_check_taken(s->check,
                           fa_stack_counter(h->stack, FA_CNT_TCP_SEGS_IN) != segs &&
                               fa_stack_counter(h->stack, FA_CNT_TCP_PAWS_DROPPED) == paws &&
                               fa_stack_counter(h->stack, FA_CNT_TCP_UNACCEPTABLE) == unacc &&
                               fa_stack_counter(h->stack, FA_CNT_TCP_BAD_ACK) == bad_ack,
                           fa_stack_counter(h->stack, FA_CNT_TCP_NO_BUFFER) == nobuf);
    h->next_poll = fa_stack_poll(h->stack, s->now);
    if (s->check)
        fa_sim_check_seqs(s->check, h->index, h->stack, s->now);
}

/* The open batch that ends first (its host in *host), or FA_TIME_NEVER. */
static fa_time first_batch_end(const struct fa_sim *s, int *host)
{
    fa_time t = FA_TIME_NEVER;
    for (int i = 0; i < s->nhosts; i++)
        if (s->hosts[i]->batch_until && s->hosts[i]->batch_until < t) {
            t = s->hosts[i]->batch_until;
            *host = i;
        }
    return t;
}

static void end_batch(struct fa_sim *s, int host)
{
    struct host *h = s->hosts[host];
    if (h->batch_until > s->now)
        s->now = h->batch_until;
    h->batch_until = 0;
    gro_flush(s, h); /* the batch's reads are over */
    fa_stack_batch_end(h->stack, s->now);
    h->next_poll = fa_stack_poll(h->stack, s->now);
    if (s->check)
        fa_sim_check_seqs(s->check, host, h->stack, s->now);
}

fa_time fa_sim_next(struct fa_sim *s)
{
    fa_time t = s->heap_len ? s->heap[0].t : FA_TIME_NEVER;
    for (int i = 0; i < s->nhosts; i++) {
        struct host *h = s->hosts[i];
        relearn(s, h);
        if (wake_at(s, h) < t)
            t = wake_at(s, h);
    }
    int bh = -1;
    fa_time bt = first_batch_end(s, &bh);
    return bt < t ? bt : t;
}

uint64_t fa_sim_run_until(struct fa_sim *s, fa_time until)
{
    uint64_t events = 0;
    /* The application may have called into the stacks since last time. */
    for (int i = 0; i < s->nhosts; i++)
        relearn(s, s->hosts[i]);
    for (;;) {
        int timer_host = -1;
        fa_time t = s->heap_len ? s->heap[0].t : FA_TIME_NEVER;
        for (int i = 0; i < s->nhosts; i++)
            if (wake_at(s, s->hosts[i]) < t) {
                t = wake_at(s, s->hosts[i]);
                timer_host = i;
            }
        /* A batch ends before the next event (one at its very end is in
         * it); one still open at until stays open: the application acts
         * inside it, as a loop's callbacks do. */
        int bh = -1;
        fa_time bt = first_batch_end(s, &bh);
        if (bt < t && bt <= until) {
            end_batch(s, bh);
            events++;
            continue;
        }
        if (t > until)
            break;
        s->now = t > s->now ? t : s->now;
        events++;
        if (timer_host >= 0) {
            struct host *h = s->hosts[timer_host];
            gro_flush(s, h); /* what arrived goes in before the timers run */
            h->next_poll = fa_stack_poll(h->stack, s->now);
            if (s->check)
                fa_sim_check_seqs(s->check, timer_host, h->stack, s->now);
            /* A deadline that does not move on would spin forever. */
            if (h->next_poll <= s->now)
                h->next_poll = s->now + 1;
        } else {
            deliver(s, heap_pop(s));
        }
    }
    if (until > s->now && until != FA_TIME_NEVER)
        s->now = until;
    return events;
}
