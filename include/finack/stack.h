/* finack/stack.h — a finack network stack: one value holding one
 * interface's Ethernet, ARP, IPv4 and ICMP state (and, later, TCP/UDP).
 *
 * The stack is sans-I/O. The caller:
 *   1. fills a struct fa_config (fa_config_init() gives the defaults),
 *   2. creates the stack with fa_stack_create(),
 *   3. hands every received frame to fa_stack_input(),
 *   4. calls fa_stack_poll() no later than the time it last returned.
 * Frames to send leave through config.device. No global state: any number
 * of stacks may live in one process. Memory is allocated only at create;
 * the per-packet path never allocates, and every queue is bounded. */
#ifndef FINACK_STACK_H
#define FINACK_STACK_H

#include <finack/counters.h>
#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fa_stack;

struct fa_config {
    /* Interface identity. A zero MAC is replaced at create by a random
     * locally administered unicast one (from rng). */
    uint8_t mac[FA_ETH_ALEN];
    uint32_t addr;          /* our IPv4 address; required */
    uint8_t prefix_len;     /* 1..32; default 24 */
    uint32_t gateway;       /* 0 = none: off-subnet packets are dropped */
    uint16_t mtu;           /* IP MTU, 68..9000; default 1500 */
    uint8_t ttl;            /* TTL of packets we send; default 64 */

    /* ARP (RFC 826, RFC 1122 §2.3.2). */
    uint16_t arp_cache_size;     /* entries; default 64 */
    uint16_t arp_queue_size;     /* packets waiting on resolution; 16 */
    fa_time arp_reachable_time;  /* entry lifetime after a reply; 60 s */
    fa_time arp_revalidate_time; /* age after which use sends a unicast
                                    probe to refresh the entry; 30 s */
    fa_time arp_retry_interval;  /* between requests; default 1 s */
    uint8_t arp_max_requests;    /* before giving up; default 3 */
    uint8_t arp_gratuitous;      /* announce our address at create; 1 */

    /* ICMP error generation: a token bucket (RFC 1812 §4.3.2.8 style). */
    uint32_t icmp_error_rate;  /* errors per second; default 100 */
    uint32_t icmp_error_burst; /* bucket depth; default 10 */

    /* Injected environment. device is required; rng is required. */
    struct fa_device device;
    struct fa_rng rng;
};

/* Fills cfg with the documented defaults (addr, device and rng left 0). */
void fa_config_init(struct fa_config *cfg);

/* Returns NULL if cfg is usable, else a static message naming the first
 * field that is wrong ("mtu must be 68..9000"). */
const char *fa_config_check(const struct fa_config *cfg);

/* Creates a stack at time now. Returns 0, -EINVAL when fa_config_check()
 * rejects cfg, or -ENOMEM. */
int fa_stack_create(const struct fa_config *cfg, fa_time now,
                    struct fa_stack **out);
void fa_stack_destroy(struct fa_stack *stack);

/* Feeds one received Ethernet frame (without FCS). The frame is only
 * read during the call. Never fails: bad frames bump a drop counter. */
void fa_stack_input(struct fa_stack *stack, const uint8_t *frame, size_t len,
                    fa_time now);

/* Runs every timer due at or before now; returns the time the stack next
 * needs fa_stack_poll(), or FA_TIME_NEVER. */
fa_time fa_stack_poll(struct fa_stack *stack, fa_time now);

uint64_t fa_stack_counter(const struct fa_stack *stack, unsigned id);
/* The configuration in force (with defaults and the chosen MAC). */
const struct fa_config *fa_stack_config(const struct fa_stack *stack);

/* ARP cache lookup: 0 and the MAC if addr is resolved, else -ENOENT. */
int fa_stack_arp_lookup(const struct fa_stack *stack, uint32_t addr,
                        uint8_t mac[FA_ETH_ALEN]);

/* Sends an ICMP echo request (for tools and tests): returns 0 or -errno. */
int fa_stack_ping(struct fa_stack *stack, uint32_t dst, uint16_t id,
                  uint16_t seq, const uint8_t *data, size_t len, fa_time now);

#ifdef __cplusplus
}
#endif
#endif
