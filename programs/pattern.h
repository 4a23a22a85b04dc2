/* pattern.h — the bytes finack-sim's sweeps send: byte `off` of direction
 * `dir` (0 client to server, 1 back) in the run of `seed`, so a receiver
 * checks each byte at its stream offset without keeping a copy. */
#ifndef FA_PROG_PATTERN_H
#define FA_PROG_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t pattern_at(uint64_t seed, int dir, uint64_t off)
{
    return (uint8_t)((off * 2654435761u + seed * 40503u + (uint64_t)dir * 977u) >> 13);
}

/* Fills buf with n pattern bytes from stream offset off. */
static inline void pattern_fill(uint8_t *buf, size_t n, uint64_t seed, int dir, uint64_t off)
{
    for (size_t k = 0; k < n; k++)
        buf[k] = pattern_at(seed, dir, off + k);
}

/* The index of the first of n bytes that is not the pattern from offset
 * off, or -1 when all are. */
static inline long pattern_mismatch(const uint8_t *buf, size_t n, uint64_t seed, int dir,
                                    uint64_t off)
{
    for (size_t k = 0; k < n; k++)
        if (buf[k] != pattern_at(seed, dir, off + k))
            return (long)k;
    return -1;
}

#endif
