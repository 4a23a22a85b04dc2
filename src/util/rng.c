/* rng.c — xoshiro256** (Blackman & Vigna, public domain algorithm),
 * seeded by splitmix64 so any 64-bit seed gives a good state. */
#include <finack/prng.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void fa_prng_seed(struct fa_prng *p, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&seed);
}

uint64_t fa_prng_next(struct fa_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t fa_prng_below(struct fa_prng *p, uint64_t n)
{
    /* Lemire's multiply-shift; the tiny bias is irrelevant here. */
    return (uint64_t)(((unsigned __int128)fa_prng_next(p) * n) >> 64);
}

int fa_prng_chance(struct fa_prng *p, double prob)
{
    if (prob <= 0)
        return 0;
    /* 53 random bits as a double in [0, 1). */
    return (double)(fa_prng_next(p) >> 11) * 0x1p-53 < prob;
}

static uint64_t prng_rng_next(void *ctx)
{
    return fa_prng_next(ctx);
}

struct fa_rng fa_prng_rng(struct fa_prng *p)
{
    return (struct fa_rng){ .ctx = p, .next = prng_rng_next };
}
