/* twostacks.h — two finack stacks in one process on an in-memory link,
 * on a virtual clock (wall time is what benchmarks measure): what
 * bench_inproc and idle_conns share. Stack 0 is 198.18.0.1, stack 1 is
 * 198.18.0.2. */
#ifndef FA_BENCH_TWOSTACKS_H
#define FA_BENCH_TWOSTACKS_H

#include <finack/finack.h>

struct net {
    fa_time now;
    struct fa_prng prng[2];
    struct fa_memlink *link;
    struct fa_stack_sink sink[2];
    struct fa_stack *s[2];
};

struct net_opts {
    uint32_t max_conns;    /* per stack */
    uint32_t max_timewait; /* per stack (0: the default, 4096) */
    uint32_t bufsize;      /* default send and receive buffers */
    uint32_t queue_frames; /* the link's queue each way */
    uint16_t port_min;     /* ephemeral ports from here (0: default) */
};

/* Exits with a message if a stack cannot be created. */
void net_init(struct net *n, const struct net_opts *o);
void net_free(struct net *n);
/* Runs every event due by until (virtual). */
void net_run(struct net *n, fa_time until);
/* Wall-clock seconds (CLOCK_MONOTONIC). */
double wall(void);
/* Connects from stack 0 to l (listening on stack 1 at port), moves mb
 * MiB one way, closes both ends: Gbit/s of wall time. */
double net_bulk(struct net *n, struct fa_tcp *l, uint16_t port, size_t mb);

#endif
