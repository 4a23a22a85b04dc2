/* finack/stack.h — a finack network stack: one value holding one
 * interface's Ethernet, ARP, IPv4, ICMP, TCP and UDP state (the sockets'
 * own calls are in finack/tcp.h and finack/udp.h).
 *
 * The stack is sans-I/O. The caller:
 *   1. fills a struct fa_config (fa_config_init() gives the defaults),
 *   2. creates the stack with fa_stack_create(),
 *   3. hands every received frame to fa_stack_input(),
 *   4. calls fa_stack_poll() no later than the time it last returned.
 * Frames to send leave through config.device. No global state: any number
 * of stacks may live in one process. Tables are allocated at create; a
 * connection's loss state at its setup, and its buffers' storage when
 * they first hold data — both from per-stack caches of freed blocks, so
 * malloc is reached only when a connection turns busy and the cache is
 * empty, never per packet. Every queue is bounded, and buffer memory by
 * config.tcp_mem_max if set. */
#ifndef FINACK_STACK_H
#define FINACK_STACK_H

#include <finack/counters.h>
#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_stack;
struct fa_tcp;

/* Congestion control algorithms (config.tcp_congestion, FA_TCP_CONGESTION). */
#define FA_TCP_HAVE_CC 1
enum fa_tcp_cc {
    FA_TCP_CC_CUBIC = 0,
    FA_TCP_CC_NEWRENO = 1,
};

/* How an RTT sample was timed (fa_config.tcp_rtt_trace). */
enum fa_rtt_source {
    FA_RTT_CLOCK = 0,  /* from when the segment it answers was sent: exact */
    FA_RTT_ECHO = 1,   /* from a timestamp echo (RFC 7323 §4.1): 1 ms ticks */
    FA_RTT_COOKIE = 2, /* a SYN cookie's echo: long by up to 63 ms more (the
                        * SYN-ACK's TSval was rounded down to carry options) */
};

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
    fa_time arp_reachable_time;  /* confirmed after a reply; 60 s, then
                                    stale: used, re-validated, freed when
                                    unanswered (arp.c) */
    fa_time arp_revalidate_time; /* age after which use sends a unicast
                                    probe to refresh the entry; 30 s */
    fa_time arp_retry_interval;  /* between requests; default 1 s */
    uint8_t arp_max_requests;    /* before giving up; default 3 */
    uint8_t arp_gratuitous;      /* announce our address at create; 1 */

    /* ICMP error generation: a token bucket (RFC 1812 §4.3.2.8 style). */
    uint32_t icmp_error_rate;  /* errors per second; default 100 */
    uint32_t icmp_error_burst; /* bucket depth; default 10 */

    /* TCP (RFC 9293). Times in ns. */
    uint32_t tcp_max_conns;     /* sockets incl. listeners, half-open; 1024 */
    uint32_t tcp_max_timewait;  /* compact TIME-WAIT entries; 4096 */
    uint32_t tcp_max_half_open; /* SYN-RECEIVED connections in the stack, all
                                   listeners together (past it, SYN cookies
                                   or a drop, TCP_HALF_OPEN_FULL); 256 */
    uint32_t tcp_sndbuf;        /* default SO_SNDBUF; 64 KiB */
    uint32_t tcp_rcvbuf;        /* default SO_RCVBUF; 64 KiB */
    /* The stack-wide budget for socket buffer bytes held at once: a
     * connection's buffers take memory only while they hold data, and
     * one that would go past this gets none (a send fails with ENOBUFS,
     * arriving data is dropped: TCP_NO_BUFFER). Send buffers may hold
     * half of it, so two ends' sends cannot fill both budgets and wait
     * on each other; a FIN always goes. Give at least twice the largest
     * buffer: below that a send held by a peer's zero window can keep a
     * connection's own arriving data out. 0: no limit (default). */
    uint64_t tcp_mem_max;
    /* Scoreboard entries a connection tracks at most (one per segment in
     * flight; new data waits when full): 8192; 4 to 65535. */
    uint32_t tcp_sb_max;
    fa_time tcp_rto_initial;    /* RFC 6298 §2.1: 1 s */
    fa_time tcp_rto_min;        /* 200 ms: the floor of the RTO's variance
                                   term (RTO >= SRTT + it, as Linux; RFC
                                   6298 §2.4 allows lower than 1 s) */
    fa_time tcp_rto_max;        /* 120 s, Linux's (RFC 6298 §2.5: at
                                   least 60 s) */
    uint8_t tcp_syn_retries;    /* SYN retransmissions before ETIMEDOUT; 6 (at most 127) */
    uint8_t tcp_synack_retries; /* SYN-ACK retransmissions; 5 (at most 127) */
    uint8_t tcp_data_retries;   /* data/FIN retransmissions; 15. Counted
                                   in time, as Linux: it gives up once
                                   the data waited as long as these would
                                   take from an RTO of 200 ms, doubling
                                   to tcp_rto_max (924.6 s), so a longer
                                   RTO retries fewer times */
    fa_time tcp_msl;            /* TIME-WAIT is 2 x MSL; MSL 30 s */
    fa_time tcp_fin_wait2_timeout; /* orphaned FIN-WAIT-2; 60 s */
    /* An orphan (its application closed it) whose peer keeps its window
     * shut: zero-window probes it sends, answered or not, before one
     * last; if that one's answer still shows the window shut, it resets
     * the connection and ends (TCP_ORPHAN_WINDOW_SHUT). The count starts
     * when it becomes an orphan and again whenever a segment's worth of
     * data has been acknowledged since (at once or a little at a time);
     * probes back off from the RTO, so 8 is about 100 s at a 200 ms RTO
     * from a fresh count, 18 minutes if the backoff had already reached
     * tcp_rto_max when the application closed (Linux's orphans last
     * until their backoff reaches 120 s: about 325 s). A connection with
     * a handle probes for as long as the peer answers (RFC 1122
     * §4.2.2.17). It bounds an orphan's retransmission timeouts too,
     * when below tcp_data_retries (as Linux, in time: 102.2 s). 0:
     * orphans too probe for ever; at most 254; 8 */
    uint8_t tcp_orphan_retries;
    fa_time tcp_delack;         /* delayed ACK, at most 200 ms; 40 ms */
    fa_time tcp_keep_idle;      /* SO_KEEPALIVE defaults (whole ms, at
                                   most FA_TCP_KEEP_MAX_MS): 2 h, */
    fa_time tcp_keep_intvl;     /* 75 s, */
    uint8_t tcp_keep_cnt;       /* 9 probes (RFC 1122 §4.2.3.6) */
    /* RFC 5961 §7: challenge ACKs per second, stack-wide, on average:
     * each second's budget is drawn from [rate/2, rate*3/2); 1000. */
    uint32_t tcp_challenge_ack_rate;
    /* Per connection, at most one ACK per this interval answers
     * unacceptable segments and challenges; 500 ms (Linux's default). */
    fa_time tcp_invalid_ratelimit;
    uint16_t tcp_port_min, tcp_port_max; /* ephemeral range 49152..65535 */
    /* RFC 7323 window scaling offered in our SYNs and taken from the
     * peer's; 0 never scales (windows then end at 65535 bytes); 1 */
    uint8_t tcp_window_scaling;
    /* RFC 2018 SACK offered in our SYNs and taken from the peer's (then
     * RFC 6675 / RFC 8985 recovery, and D-SACK, RFC 2883); 1 */
    uint8_t tcp_sack;
    /* RFC 7323 timestamps offered and taken (RTT, PAWS); 1 */
    uint8_t tcp_timestamps;
    /* SYN cookies (RFC 4987 §3.6): 0 never; 1 when a listener's backlog
     * is full of half-open connections (a SYN flood then costs no
     * memory; a backlog full of connections not yet accepted still drops
     * SYNs, as Linux); 2 for every SYN. 1 */
    uint8_t tcp_syncookies;
    /* Congestion control of new sockets (enum fa_tcp_cc): FA_TCP_CC_CUBIC
     * (RFC 9438, as Linux) or FA_TCP_CC_NEWRENO (RFC 5681/6582). */
    uint8_t tcp_congestion;
    /* Called on every TCP state change (tracing, demos); may be NULL. */
    void (*tcp_trace)(void *ctx, const struct fa_tcp *sock, int old_state,
                      int new_state, fa_time now);
    /* Called on every RTT sample a connection takes (RFC 6298), with how
     * it was timed (enum fa_rtt_source): tracing, and finack-sim's RTT
     * oracle, which checks each sample against the frames the peer had
     * received when it answered. May be NULL. */
    void (*tcp_rtt_trace)(void *ctx, const struct fa_tcp *sock, fa_time rtt,
                          int source, fa_time now);
    void *tcp_trace_ctx; /* both trace hooks' */
    /* Packets to our own address wait here for fa_stack_poll (one program
     * on a stack connecting to another); 64. */
    uint16_t loopback_queue;
    /* UDP (RFC 768). */
    uint32_t udp_max_sockets;   /* UDP sockets; 64 */
    uint32_t udp_rcvbuf;        /* receive queue per socket, bytes; 64 KiB */

    /* Called when a socket's readiness (fa_tcp_events) may have changed:
     * data or end of stream arrived, send space was freed, the state or
     * error changed, a listener got a connection to accept. For a run
     * loop's ready list: record the socket and return; do not call into
     * the stack from it. May be NULL. */
    void (*tcp_notify)(void *ctx, struct fa_tcp *sock);
    void *tcp_notify_ctx;

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
/* The same, for a frame a device read with offload metadata (finack/tap.h
 * with its virtio-net header): a checksum the device vouches for is not
 * checked again, and a GRO super-frame (up to FA_GSO_FRAME_MAX bytes)
 * counts as the segments it stands for. Metadata that does not fit the
 * frame (a checksum position that is not the TCP or UDP checksum's, GSO
 * on anything but TCP, an unknown flag) drops it: RX_BAD_OFFLOAD. meta
 * may be NULL. */
void fa_stack_input_meta(struct fa_stack *stack, const uint8_t *frame, size_t len,
                         const struct fa_frame_meta *meta, fa_time now);

/* Optional: frames read together (one wake-up of a run loop) may be
 * bracketed by these. Inside a batch, TCP owes each connection one ACK
 * for the whole batch and sends it at fa_stack_batch_end() — as a kernel
 * does per interrupt batch (GRO) — instead of one per two segments. */
void fa_stack_batch_begin(struct fa_stack *stack);
void fa_stack_batch_end(struct fa_stack *stack, fa_time now);

/* Runs every timer due at or before now; returns the time the stack next
 * needs fa_stack_poll(), or FA_TIME_NEVER. */
fa_time fa_stack_poll(struct fa_stack *stack, fa_time now);
/* When fa_stack_poll() next has work (0: it has now, a packet to our own
 * address waiting), or FA_TIME_NEVER; runs nothing. For a loop that
 * learns, after its own calls armed timers, how long it may sleep; the
 * deadline may come early (the stack finds nothing due, and says when),
 * never late. */
fa_time fa_stack_next_due(const struct fa_stack *stack);

uint64_t fa_stack_counter(const struct fa_stack *stack, unsigned id);
/* The configuration in force (with defaults and the chosen MAC). */
const struct fa_config *fa_stack_config(const struct fa_stack *stack);

/* Replaces config.tcp_notify after create: how a run loop (finack/loop.h)
 * attaches to a stack it did not configure. */
void fa_stack_set_tcp_notify(struct fa_stack *stack,
                             void (*notify)(void *ctx, struct fa_tcp *sock),
                             void *ctx);

/* ARP cache lookup: 0 and the MAC if addr is resolved, else -ENOENT. */
int fa_stack_arp_lookup(const struct fa_stack *stack, uint32_t addr,
                        uint8_t mac[FA_ETH_ALEN]);

/* Sends an ICMP echo request (for tools and tests): returns 0 or -errno. */
int fa_stack_ping(struct fa_stack *stack, uint32_t dst, uint16_t id,
                  uint16_t seq, const uint8_t *data, size_t len, fa_time now);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
