/* finack/memlink.h — an in-memory Ethernet link joining two endpoints
 * (usually two stacks) in one process, on a clock the caller drives.
 * Each direction has a propagation delay, an optional rate (frames are
 * serialised one after another) and a bounded drop-tail queue.
 *
 *   fa_memlink_create(&cfg, clock, &link);
 *   a_cfg.device = fa_memlink_tx(link, 0);     // stack A sends on side 0
 *   fa_memlink_set_rx(link, 0, sink_to_A);     // side 0 receives into A
 *   ... and the same for side 1 / stack B; then, on each clock step,
 *   next = fa_memlink_deliver(link, now);
 *
 * Delivery calls the receiving device synchronously; that may send more
 * frames into the link, which are queued, never delivered in the same
 * call. */
#ifndef FINACK_MEMLINK_H
#define FINACK_MEMLINK_H

#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_memlink;

struct fa_memlink_config {
    fa_time delay;         /* one-way propagation; default 10 µs */
    uint64_t rate_bps;     /* 0 = unlimited (default) */
    uint32_t queue_frames; /* per direction; default 256 */
    uint32_t frame_max;    /* largest frame carried; default 9018 */
};

struct fa_memlink_stats {
    uint64_t delivered;
    uint64_t queue_drops;  /* queue full */
    uint64_t size_drops;   /* frame larger than frame_max */
};

void fa_memlink_config_init(struct fa_memlink_config *cfg);
int fa_memlink_create(const struct fa_memlink_config *cfg,
                      struct fa_clock clock, struct fa_memlink **out);
void fa_memlink_destroy(struct fa_memlink *link);
/* The device whose frames enter the link at side (0 or 1). */
struct fa_device fa_memlink_tx(struct fa_memlink *link, int side);
/* Where frames leaving the link at side go. */
void fa_memlink_set_rx(struct fa_memlink *link, int side,
                       struct fa_device rx);
/* Delivers every frame due at or before now; returns the next arrival
 * time or FA_TIME_NEVER. */
fa_time fa_memlink_deliver(struct fa_memlink *link, fa_time now);
/* Frames that arrive at side. */
const struct fa_memlink_stats *fa_memlink_stats(const struct fa_memlink *link,
                                                int side);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
