/* fault.c — the fault-injecting device wrapper. Every decision is drawn
 * from a seeded PRNG in a fixed order per frame, so a seed replays the
 * same faults. Frames that must wait (delay, jitter, reordering) sit in
 * a store of hold_max slots allocated at creation and leave in due-time
 * order (ties in arrival order) from fa_fault_poll(). A super-frame (TSO,
 * GRO) is cut into the segments a wire would carry first, so faults hit
 * segments, and these go on as plain frames (finack/gso.h). */
#include <errno.h>
#include <finack/fault.h>
#include <finack/gso.h>
#include <finack/prng.h>
#include <stdlib.h>
#include <string.h>

struct held {
    fa_time due;
    uint64_t seq;
    uint32_t len; /* 0 = free */
};

struct fa_fault {
    struct fa_fault_config cfg;
    struct fa_device next;
    struct fa_clock clock;
    struct fa_prng prng;
    struct held *held;
    uint8_t *frames;
    uint32_t held_count;
    uint64_t seq;
    uint8_t *scratch; /* one frame, for corrupting a copy */
    struct fa_fault_stats stats;
    uint8_t cut[FA_GSO_SCRATCH]; /* one segment cut from a super-frame */
};

void fa_fault_config_init(struct fa_fault_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->reorder_delay = FA_NS_PER_MS;
    cfg->hold_max = 512;
    cfg->frame_max = 9018;
}

static int parse_time(const char *v, const char *end, fa_time *out)
{
    char *unit;
    double x = strtod(v, &unit);
    if (unit == v || x < 0)
        return -EINVAL;
    static const struct { const char *name; double scale; } units[] = {
        { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1 },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        if ((size_t)(end - unit) == n && strncmp(unit, units[i].name, n) == 0) {
            *out = (fa_time)(x * units[i].scale);
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_prob(const char *v, const char *end, double *out)
{
    char *rest;
    double x = strtod(v, &rest);
    if (rest == v)
        return -EINVAL;
    if (rest < end && *rest == '%') {
        x /= 100;
        rest++;
    }
    if (rest != end || x < 0 || x > 1)
        return -EINVAL;
    *out = x;
    return 0;
}

static int parse_item(const char *key, size_t klen, const char *v,
                      const char *end, struct fa_fault_config *cfg)
{
#define KEY(s) (klen == sizeof(s) - 1 && strncmp(key, s, klen) == 0)
    if (KEY("drop") || KEY("loss"))
        return parse_prob(v, end, &cfg->drop);
    if (KEY("dup") || KEY("duplicate"))
        return parse_prob(v, end, &cfg->duplicate);
    if (KEY("reorder"))
        return parse_prob(v, end, &cfg->reorder);
    if (KEY("corrupt"))
        return parse_prob(v, end, &cfg->corrupt);
    if (KEY("delay"))
        return parse_time(v, end, &cfg->delay);
    if (KEY("jitter"))
        return parse_time(v, end, &cfg->jitter);
    if (KEY("reorder_delay"))
        return parse_time(v, end, &cfg->reorder_delay);
#undef KEY
    return -EINVAL;
}

int fa_fault_parse(const char *spec, struct fa_fault_config *cfg)
{
    struct fa_fault_config c = *cfg;
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || parse_item(p, (size_t)(eq - p), eq + 1, end, &c) < 0)
            return -EINVAL;
        p = comma ? comma + 1 : end;
    }
    *cfg = c;
    return 0;
}

int fa_fault_create(const struct fa_fault_config *cfg, uint64_t seed,
                    struct fa_device next, struct fa_clock clock,
                    struct fa_fault **out)
{
    if (!cfg->hold_max || !cfg->frame_max || !next.transmit || !clock.now)
        return -EINVAL;
    struct fa_fault *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->cfg = *cfg;
    f->next = next;
    f->clock = clock;
    fa_prng_seed(&f->prng, seed);
    f->held = calloc(cfg->hold_max, sizeof *f->held);
    f->frames = malloc((size_t)cfg->hold_max * cfg->frame_max);
    f->scratch = malloc(cfg->frame_max);
    if (!f->held || !f->frames || !f->scratch) {
        fa_fault_destroy(f);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

void fa_fault_destroy(struct fa_fault *f)
{
    if (!f)
        return;
    free(f->held);
    free(f->frames);
    free(f->scratch);
    free(f);
}

static void fault_hold(struct fa_fault *f, const uint8_t *frame, size_t len,
                       fa_time due)
{
    if (f->held_count < f->cfg.hold_max) {
        for (uint32_t i = 0; i < f->cfg.hold_max; i++) {
            struct held *h = &f->held[i];
            if (h->len)
                continue;
            memcpy(f->frames + (size_t)i * f->cfg.frame_max, frame, len);
            h->len = (uint32_t)len;
            h->due = due;
            h->seq = f->seq++;
            f->held_count++;
            return;
        }
    }
    f->stats.overflow++;
    f->next.transmit(f->next.ctx, frame, len);
}

/* One copy of a frame: maybe corrupted, then sent now or held. */
static void fault_emit(struct fa_fault *f, const uint8_t *frame, size_t len,
                       fa_time now)
{
    const struct fa_fault_config *c = &f->cfg;
    if (len && fa_prng_chance(&f->prng, c->corrupt)) {
        memcpy(f->scratch, frame, len);
        uint64_t bit = fa_prng_below(&f->prng, (uint64_t)len * 8);
        f->scratch[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        frame = f->scratch;
        f->stats.corrupted++;
    }
    fa_time wait = c->delay;
    if (c->jitter)
        wait += fa_prng_below(&f->prng, c->jitter + 1);
    if (fa_prng_chance(&f->prng, c->reorder)) {
        wait += c->reorder_delay;
        f->stats.reordered++;
    }
    if (wait == 0)
        f->next.transmit(f->next.ctx, frame, len);
    else
        fault_hold(f, frame, len, now + wait);
}

static int fault_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct fa_fault *f = ctx;
    if (len > f->cfg.frame_max)
        return -EMSGSIZE;
    f->stats.frames++;
    if (fa_prng_chance(&f->prng, f->cfg.drop)) {
        f->stats.dropped++;
        return 0;
    }
    fa_time now = f->clock.now(f->clock.ctx);
    int copies = 1;
    if (fa_prng_chance(&f->prng, f->cfg.duplicate)) {
        copies = 2;
        f->stats.duplicated++;
    }
    for (int i = 0; i < copies; i++)
        fault_emit(f, frame, len, now);
    return 0;
}

static int fault_transmit_meta(void *ctx, const uint8_t *frame, size_t len,
                               const struct fa_frame_meta *meta)
{
    struct fa_fault *f = ctx;
    int n = fa_gso_segment(frame, len, meta, f->cut, sizeof f->cut, fault_transmit, f);
    return n < 0 ? n : 0;
}

struct fa_device fa_fault_device(struct fa_fault *f)
{
    /* In front of a device with offloads, it takes super-frames too (and
     * cuts them itself): the stack keeps its TSO, the faults hit segments. */
    return (struct fa_device){ .ctx = f, .transmit = fault_transmit,
                               .offloads = f->next.offloads ? FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO : 0,
                               .transmit_meta = fault_transmit_meta };
}

static struct held *earliest_due(struct fa_fault *f, fa_time now)
{
    struct held *best = NULL;
    for (uint32_t i = 0; i < f->cfg.hold_max && f->held_count; i++) {
        struct held *h = &f->held[i];
        if (h->len && h->due <= now &&
            (!best || h->due < best->due ||
             (h->due == best->due && h->seq < best->seq)))
            best = h;
    }
    return best;
}

fa_time fa_fault_poll(struct fa_fault *f, fa_time now)
{
    struct held *h;
    while ((h = earliest_due(f, now)) != NULL) {
        size_t i = (size_t)(h - f->held);
        uint32_t len = h->len;
        h->len = 0;
        f->held_count--;
        /* Copy out: sending may hold new frames in this very store. */
        memcpy(f->scratch, f->frames + i * f->cfg.frame_max, len);
        f->next.transmit(f->next.ctx, f->scratch, len);
    }
    fa_time next = FA_TIME_NEVER;
    for (uint32_t i = 0; i < f->cfg.hold_max && f->held_count; i++)
        if (f->held[i].len && f->held[i].due < next)
            next = f->held[i].due;
    return next;
}

const struct fa_fault_stats *fa_fault_stats(const struct fa_fault *f)
{
    return &f->stats;
}
