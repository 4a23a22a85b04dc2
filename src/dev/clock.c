/* clock.c — the host's clocks and randomness, handed to stacks and
 * devices through struct fa_clock / struct fa_rng. */
#include <finack/host.h>
#include <sys/random.h>
#include <time.h>

static fa_time monotonic_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (fa_time)ts.tv_sec * FA_NS_PER_S + (fa_time)ts.tv_nsec;
}

struct fa_clock fa_clock_monotonic(void)
{
    return (struct fa_clock){ .ctx = NULL, .now = monotonic_now };
}

static fa_time virtual_now(void *ctx)
{
    return *(const fa_time *)ctx;
}

struct fa_clock fa_clock_virtual(const fa_time *now)
{
    return (struct fa_clock){ .ctx = (void *)now, .now = virtual_now };
}

static uint64_t os_random(void *ctx)
{
    (void)ctx;
    uint64_t v = 0;
    /* getrandom of 8 bytes never returns short once the pool is ready. */
    while (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        ;
    return v;
}

struct fa_rng fa_rng_os(void)
{
    return (struct fa_rng){ .ctx = NULL, .next = os_random };
}
