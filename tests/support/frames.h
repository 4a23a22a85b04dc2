/* frames.h — test helpers: a device that captures what a stack sends,
 * and builders for the frames tests feed in. */
#ifndef FA_TEST_FRAMES_H
#define FA_TEST_FRAMES_H

#include <errno.h>
#include <finack/finack.h>
#include <stdlib.h>

#include "wire/wire.h"

enum { CAP_MAX = 256, CAP_FRAME = 9100 };

struct capture {
    size_t count;
    size_t len[CAP_MAX];
    uint8_t frame[CAP_MAX][CAP_FRAME];
};
struct fa_device capture_device(struct capture *c);

extern const uint8_t mac_a[6], mac_b[6], mac_peer[6];
#define IP_US FA_IPV4(198, 18, 0, 2)
#define IP_PEER FA_IPV4(198, 18, 0, 1)

/* Frame builders: return the frame length written into buf. */
size_t build_arp(uint8_t *buf, const uint8_t *eth_dst, uint16_t op,
                 const uint8_t *sha, uint32_t spa, const uint8_t *tha,
                 uint32_t tpa);
size_t build_ipv4(uint8_t *buf, const uint8_t *eth_dst, const uint8_t *eth_src,
                  uint32_t src, uint32_t dst, uint8_t proto,
                  const uint8_t *payload, size_t len);
size_t build_echo(uint8_t *buf, const uint8_t *eth_dst, uint32_t src,
                  uint32_t dst, uint16_t id, uint16_t seq, const uint8_t *data,
                  size_t len);
size_t build_udp(uint8_t *buf, const uint8_t *eth_dst, uint32_t src,
                 uint32_t dst, uint16_t sport, uint16_t dport,
                 const uint8_t *data, size_t len);
/* A TCP segment from IP_PEER:sport to IP_US:dport; opts (olen bytes,
 * a multiple of 4) go after the header. */
size_t build_tcp(uint8_t *buf, uint16_t sport, uint16_t dport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opts,
                 size_t olen, const uint8_t *data, size_t len);
/* Recomputes the IPv4 header checksum of a frame after editing it. */
void refresh_ip_checksum(uint8_t *frame);

/* A stack with a capture device, test config (IP_US/24, mac_a) and a
 * seeded rng; gratuitous ARP off unless asked. */
struct fa_stack *make_stack(struct capture *cap, struct fa_prng *prng,
                            struct fa_config *cfg_inout);

/* Sum of every drop counter. */
uint64_t drops_total(const struct fa_stack *s);

#endif
