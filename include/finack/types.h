/* finack/types.h — the small vocabulary every finack header shares:
 * time, IPv4 addresses, and the three things a stack is handed from
 * outside (a device to send frames on, a clock, a random source).
 *
 * Conventions used across the whole API:
 *  - time is an absolute fa_time in nanoseconds on a clock the caller
 *    chooses (monotonic or virtual); the core never reads a clock itself;
 *  - IPv4 addresses are uint32_t in host byte order (198.18.0.1 is
 *    0xC6120001), built with FA_IPV4(198, 18, 0, 1);
 *  - functions that can fail return 0 (or a count) on success and a
 *    negative errno value (-EINVAL, -ENOMEM, ...) on failure. */
#ifndef FINACK_TYPES_H
#define FINACK_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* Nanoseconds on the caller's clock. */
typedef uint64_t fa_time;
#define FA_TIME_NEVER UINT64_MAX
#define FA_NS_PER_US 1000ull
#define FA_NS_PER_MS 1000000ull
#define FA_NS_PER_S 1000000000ull

#define FA_IPV4(a, b, c, d)                                                    \
    ((uint32_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) |                \
                ((uint32_t)(c) << 8) | (uint32_t)(d)))

#define FA_ETH_ALEN 6

/* What a frame carries beside its bytes when a device offloads work:
 * the fields of Linux's virtio-net header, with offsets counted from the
 * start of the Ethernet frame.
 *  - Transmit: FA_META_CSUM_PARTIAL asks the device to complete the
 *    checksum (the field holds the pseudo-header's sum); a gso_type of
 *    FA_GSO_TCPV4 asks it to cut the super-frame into segments of
 *    gso_size data bytes, each with the headers copied (TSO).
 *  - Receive (fa_stack_input_meta): FA_META_CSUM_PARTIAL or
 *    FA_META_CSUM_VALID say the device vouches for the data and the
 *    checksum need not be checked; FA_GSO_TCPV4 marks a frame that
 *    stands for several segments (GRO). The stack checks these fields
 *    like any other input. */
struct fa_frame_meta {
    uint8_t flags;        /* FA_META_* */
    uint8_t gso_type;     /* FA_GSO_NONE or FA_GSO_TCPV4 */
    uint16_t gso_size;    /* data bytes per segment */
    uint16_t csum_start;  /* FA_META_CSUM_PARTIAL: sum from this offset */
    uint16_t csum_offset; /* ...and store it this far past csum_start */
};
#define FA_META_CSUM_PARTIAL 1u
#define FA_META_CSUM_VALID 2u
#define FA_GSO_NONE 0u
#define FA_GSO_TCPV4 1u
/* A super-frame: an Ethernet header and an IPv4 packet of up to 65535. */
#define FA_GSO_FRAME_MAX (14u + 65535u)

/* struct fa_device's offloads. */
#define FA_OFFLOAD_TX_CSUM 1u /* completes FA_META_CSUM_PARTIAL checksums */
#define FA_OFFLOAD_TSO 2u     /* cuts FA_GSO_TCPV4 super-frames (needs TX_CSUM) */

/* Something frames can be handed to: a NIC's transmit path, a wrapper
 * (fault injector, pcap tee), another stack's input, or a link.
 * transmit() copies what it needs before it returns; it returns 0, or a
 * negative errno when the frame could not be taken (the frame is then
 * lost, as on a real wire). */
struct fa_device {
    void *ctx;
    int (*transmit)(void *ctx, const uint8_t *frame, size_t len);
    /* Optional: work the device does for the stack (FA_OFFLOAD_*), and
     * the transmit that takes a frame's fa_frame_meta. A stack uses
     * transmit_meta only for frames that need it, and only when offloads
     * says so; wrappers that leave these 0 simply turn offloads off. */
    unsigned offloads;
    int (*transmit_meta)(void *ctx, const uint8_t *frame, size_t len,
                         const struct fa_frame_meta *meta);
};

/* A clock for code outside the core (devices, run loops, simulators).
 * The core itself only ever sees the fa_time values it is passed. */
struct fa_clock {
    void *ctx;
    fa_time (*now)(void *ctx);
};

/* Randomness injected into the stack (ISN secrets, MAC addresses,
 * ephemeral ports). next() returns 64 uniformly random bits. */
struct fa_rng {
    void *ctx;
    uint64_t (*next)(void *ctx);
};

/* Parses "a.b.c.d" into *out (host order); returns 0 or -EINVAL. */
int fa_ipv4_parse(const char *text, uint32_t *out);
/* Formats addr as dotted quad into buf (at least 16 bytes); returns buf. */
char *fa_ipv4_format(uint32_t addr, char *buf);
/* Parses "aa:bb:cc:dd:ee:ff"; returns 0 or -EINVAL. */
int fa_mac_parse(const char *text, uint8_t out[FA_ETH_ALEN]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
