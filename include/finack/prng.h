/* finack/prng.h — a small seeded pseudo-random generator (xoshiro256**,
 * seeded through splitmix64) for reproducible runs: the simulator, the
 * fault wrapper and tests draw from it so that one seed replays a run
 * exactly. Not for secrets: a real deployment hands the stack an OS
 * random source (fa_rng_os() in finack/host.h). */
#ifndef FINACK_PRNG_H
#define FINACK_PRNG_H

#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_prng {
    uint64_t s[4];
};

void fa_prng_seed(struct fa_prng *p, uint64_t seed);
uint64_t fa_prng_next(struct fa_prng *p);
/* Uniform in [0, n); n > 0. */
uint64_t fa_prng_below(struct fa_prng *p, uint64_t n);
/* 1 with probability prob (0..1), else 0. */
int fa_prng_chance(struct fa_prng *p, double prob);
/* The generator as the stack's struct fa_rng. */
struct fa_rng fa_prng_rng(struct fa_prng *p);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
