/* finack/fault.h — a fault-injecting device wrapper: frames handed to it
 * are dropped, duplicated, corrupted, delayed or reordered at random
 * (from a seed, so a run is reproducible) and then passed to the device
 * it wraps. Usable in either direction on any device: put it between a
 * stack and a TAP, between a TAP and a stack's input, or on a memlink.
 * (The kernels here have no netem; this is finack's own.)
 *
 *   fa_fault_parse("drop=5%,dup=2%,reorder=5%", &cfg);
 *   fa_fault_create(&cfg, seed, next_device, clock, &f);
 *   stack_cfg.device = fa_fault_device(f);
 *   ... next = fa_fault_poll(f, now) on each loop turn: releases frames
 *   held for delay or reordering. */
#ifndef FINACK_FAULT_H
#define FINACK_FAULT_H

#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_fault;

struct fa_fault_config {
    double drop;      /* probability a frame is lost */
    double duplicate; /* probability a frame is sent twice */
    double reorder;   /* probability a frame is held back reorder_delay */
    double corrupt;   /* probability one random bit is flipped */
    fa_time delay;    /* added to every frame; default 0 */
    fa_time jitter;   /* uniform extra delay in [0, jitter]; default 0 */
    fa_time reorder_delay; /* default 1 ms */
    uint32_t hold_max;     /* frames held at once; default 512 */
    uint32_t frame_max;    /* largest frame; default 9018 */
};

struct fa_fault_stats {
    uint64_t frames, dropped, duplicated, reordered, corrupted;
    uint64_t overflow; /* held store full: frame passed on at once */
};

void fa_fault_config_init(struct fa_fault_config *cfg);
/* Parses "drop=5%,dup=2%,reorder=5%,corrupt=0.1%,delay=2ms,jitter=1ms,
 * reorder_delay=3ms" (a bare number is a probability 0..1, or for times
 * nanoseconds; units ns, us, ms, s) into cfg, over what cfg holds.
 * Returns 0 or -EINVAL. */
int fa_fault_parse(const char *spec, struct fa_fault_config *cfg);
int fa_fault_create(const struct fa_fault_config *cfg, uint64_t seed,
                    struct fa_device next, struct fa_clock clock,
                    struct fa_fault **out);
void fa_fault_destroy(struct fa_fault *f);
struct fa_device fa_fault_device(struct fa_fault *f);
/* Passes on held frames due by now; returns the next due time. */
fa_time fa_fault_poll(struct fa_fault *f, fa_time now);
const struct fa_fault_stats *fa_fault_stats(const struct fa_fault *f);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
