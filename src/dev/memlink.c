/* memlink.c — an in-memory link of two directions, each a FIFO ring of
 * frame slots allocated at creation. A frame's arrival time is its
 * departure (after the frames before it, at the link rate) plus the
 * propagation delay, so arrivals are in order and a ring suffices. */
#include <errno.h>
#include <finack/memlink.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    fa_time arrival;
    uint32_t len;
};

struct direction {
    struct fa_memlink *link;
    struct fa_device rx;
    struct slot *slots;
    uint8_t *frames;
    uint32_t head, count;
    fa_time busy_until; /* when the sender side of the wire is free */
    struct fa_memlink_stats stats;
};

struct fa_memlink {
    struct fa_memlink_config cfg;
    struct fa_clock clock;
    struct direction dir[2]; /* dir[i] carries frames arriving at side i */
};

void fa_memlink_config_init(struct fa_memlink_config *cfg)
{
    cfg->delay = 10 * FA_NS_PER_US;
    cfg->rate_bps = 0;
    cfg->queue_frames = 256;
    cfg->frame_max = 9018;
}

int fa_memlink_create(const struct fa_memlink_config *cfg,
                      struct fa_clock clock, struct fa_memlink **out)
{
    if (!cfg->queue_frames || !cfg->frame_max || !clock.now)
        return -EINVAL;
    struct fa_memlink *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->cfg = *cfg;
    l->clock = clock;
    for (int i = 0; i < 2; i++) {
        struct direction *d = &l->dir[i];
        d->link = l;
        d->slots = calloc(cfg->queue_frames, sizeof *d->slots);
        d->frames = malloc((size_t)cfg->queue_frames * cfg->frame_max);
        if (!d->slots || !d->frames) {
            fa_memlink_destroy(l);
            return -ENOMEM;
        }
    }
    *out = l;
    return 0;
}

void fa_memlink_destroy(struct fa_memlink *l)
{
    if (!l)
        return;
    for (int i = 0; i < 2; i++) {
        free(l->dir[i].slots);
        free(l->dir[i].frames);
    }
    free(l);
}

static int link_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct direction *d = ctx;
    struct fa_memlink *l = d->link;
    if (len > l->cfg.frame_max) {
        d->stats.size_drops++;
        return -EMSGSIZE;
    }
    if (d->count == l->cfg.queue_frames) {
        d->stats.queue_drops++;
        return 0; /* drop-tail: lost on the wire, not a device error */
    }
    fa_time now = l->clock.now(l->clock.ctx);
    fa_time start = d->busy_until > now ? d->busy_until : now;
    fa_time serialise = 0;
    if (l->cfg.rate_bps)
        serialise = (fa_time)len * 8 * FA_NS_PER_S / l->cfg.rate_bps;
    d->busy_until = start + serialise;
    uint32_t idx = (d->head + d->count) % l->cfg.queue_frames;
    d->slots[idx].arrival = d->busy_until + l->cfg.delay;
    d->slots[idx].len = (uint32_t)len;
    memcpy(d->frames + (size_t)idx * l->cfg.frame_max, frame, len);
    d->count++;
    return 0;
}

struct fa_device fa_memlink_tx(struct fa_memlink *l, int side)
{
    /* Side s sends into the direction that arrives at the other side. */
    return (struct fa_device){ .ctx = &l->dir[!side], .transmit = link_transmit };
}

void fa_memlink_set_rx(struct fa_memlink *l, int side, struct fa_device rx)
{
    l->dir[side].rx = rx;
}

static void direction_deliver(struct direction *d, fa_time now)
{
    const struct fa_memlink_config *c = &d->link->cfg;
    /* Only frames queued before this call: a frame sent in reply during
     * delivery arrives no sooner than delay later anyway. */
    uint32_t budget = d->count;
    while (budget-- && d->slots[d->head].arrival <= now) {
        struct slot *s = &d->slots[d->head];
        /* The slot stays counted while rx runs, so a frame sent back
         * into this direction cannot overwrite it. */
        if (d->rx.transmit)
            d->rx.transmit(d->rx.ctx, d->frames + (size_t)d->head * c->frame_max,
                           s->len);
        d->stats.delivered++;
        d->head = (d->head + 1) % c->queue_frames;
        d->count--;
    }
}

static fa_time direction_next(const struct direction *d)
{
    return d->count ? d->slots[d->head].arrival : FA_TIME_NEVER;
}

fa_time fa_memlink_deliver(struct fa_memlink *l, fa_time now)
{
    direction_deliver(&l->dir[0], now);
    direction_deliver(&l->dir[1], now);
    /* Read both only now: delivering into one side may have queued a
     * reply on the other. */
    fa_time a = direction_next(&l->dir[0]), b = direction_next(&l->dir[1]);
    return a < b ? a : b;
}

const struct fa_memlink_stats *fa_memlink_stats(const struct fa_memlink *l,
                                                int side)
{
    return &l->dir[side].stats;
}
