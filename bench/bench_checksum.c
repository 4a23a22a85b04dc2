/* bench_checksum — Internet checksum speed in bytes per nanosecond, for
 * finack's fa_csum_add and, in the same run, the plain 16-bit RFC 1071
 * loop and (when built with Debian's liblwip-dev) lwIP's
 * lwip_standard_chksum. Prints figures and ratios; never fails on time.
 *
 *   bench_checksum [total_megabytes]   (default 2048 per size) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/wire.h"

#ifdef HAVE_LWIP
/* From liblwip (lwip/inet_chksum.h needs lwIP's port headers). */
uint16_t lwip_standard_chksum(const void *dataptr, int len);
#endif

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint16_t rfc1071_loop(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (; len > 1; p += 2, len -= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
    }
    if (len)
        sum += *p;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint16_t finack_csum(const uint8_t *p, size_t len)
{
    return fa_csum_fold(fa_csum_add(0, p, len));
}

#ifdef HAVE_LWIP
static uint16_t lwip_csum(const uint8_t *p, size_t len)
{
    return (uint16_t)~lwip_standard_chksum(p, (int)len);
}
#endif

typedef uint16_t (*csum_fn)(const uint8_t *, size_t);

static double measure(csum_fn fn, const uint8_t *buf, size_t len, size_t total,
                      volatile uint16_t *sink)
{
    size_t iters = total / len;
    uint16_t acc = 0;
    double best = 1e300;
    for (int round = 0; round < 3; round++) {
        double t0 = now_ns();
        /* Offset the start by 0/1 words so alignment is not always ideal. */
        for (size_t i = 0; i < iters; i++)
            acc ^= fn(buf + (i & 1) * 2, len);
        double dt = now_ns() - t0;
        if (dt < best)
            best = dt;
    }
    *sink = acc;
    return (double)iters * len / best;
}

int main(int argc, char **argv)
{
    size_t total = (size_t)(argc > 1 ? atof(argv[1]) : 2048) * 1024 * 1024 / 3;
    static const size_t sizes[] = { 20, 64, 1460, 9000, 65536 };
    uint8_t *buf = malloc(65536 + 8);
    for (size_t i = 0; i < 65536 + 8; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    volatile uint16_t sink;
    int agree = 1;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        agree &= finack_csum(buf, sizes[s]) == rfc1071_loop(buf, sizes[s]);
        agree &= finack_csum(buf, sizes[s] - 1) == rfc1071_loop(buf, sizes[s] - 1);
#ifdef HAVE_LWIP
        agree &= finack_csum(buf, sizes[s]) == lwip_csum(buf, sizes[s]);
#endif
    }
    printf("checksum results agree: %s\n", agree ? "yes" : "NO");
    printf("%8s %14s %14s %14s %10s %10s\n", "bytes", "finack B/ns",
           "rfc1071 B/ns", "lwip B/ns", "x rfc1071", "x lwip");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        double f = measure(finack_csum, buf, len, total, &sink);
        double r = measure(rfc1071_loop, buf, len, total, &sink);
#ifdef HAVE_LWIP
        double l = measure(lwip_csum, buf, len, total, &sink);
#else
        double l = 0;
#endif
        printf("%8zu %14.2f %14.2f %14.2f %10.2f %10.2f\n", len, f, r, l,
               f / r, l > 0 ? f / l : 0.0);
    }
    free(buf);
    return agree ? 0 : 1;
}
