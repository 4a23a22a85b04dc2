/* finack/sim.h — the deterministic network simulator: any number of
 * finack stacks, each joined to a learning switch by a link of two
 * directions, on one virtual clock. Every random choice comes from one
 * seed, so a seed replays a run exactly, on any machine; a 2-hour
 * keepalive or a 60 s TIME-WAIT costs only the events in it.
 *
 *   struct fa_sim *sim;
 *   fa_sim_create(seed, &sim);
 *   struct fa_sim_link link;  fa_sim_link_init(&link);  link.loss = 0.05;
 *   struct fa_config cfg;     fa_config_init(&cfg);     cfg.addr = ...;
 *   int a = fa_sim_add_host(sim, &cfg, &link, &link);   // device, rng set
 *
 * A host's NIC can offload checksums and TSO: set cfg.device.offloads
 * (FA_OFFLOAD_TSO) before adding it; super-frames are then cut in
 * software (finack/gso.h) before the link, so faults hit segments.
 *   ... fa_tcp_* calls on fa_sim_stack(sim, a) ...
 *   fa_sim_run_until(sim, fa_sim_now(sim) + 10 * FA_NS_PER_MS);
 *
 * Link model, per direction: serialisation at rate_bps, a drop-tail
 * queue of queue_frames, propagation delay plus jitter (jitter never
 * reorders: a frame never overtakes the one before it), independent loss
 * and bursty loss (Gilbert–Elliott: a good and a bad state, each with its
 * own loss probability), duplication, reordering (a frame held back by
 * reorder_delay), one-bit corruption, resegmentation by a middlebox, and
 * outages scheduled per host. */
#ifndef FINACK_SIM_H
#define FINACK_SIM_H

#include <finack/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_sim;

struct fa_sim_link {
    uint64_t rate_bps;     /* 0 = unlimited (default) */
    fa_time delay;         /* propagation; default 50 µs */
    fa_time jitter;        /* extra delay, uniform in [0, jitter] */
    uint32_t queue_frames; /* drop-tail; default 256 */
    double loss;           /* independent loss */
    double ge_to_bad;      /* Gilbert–Elliott: P(good -> bad) per frame */
    double ge_to_good;     /*                  P(bad -> good) per frame */
    double ge_loss_bad;    /*                  loss in the bad state */
    double duplicate, reorder, corrupt;
    fa_time reorder_delay; /* default 1 ms */
    /* A middlebox that resegments (a normalising firewall, a proxy that
     * clamps the MSS): a TCP segment with 2 or more data bytes, no SYN
     * or RST and a good checksum, reaching this link from the switch, is
     * cut into pieces (2 to 8) of a size drawn at random (FIN and PSH on
     * the last one), with this probability. Down links only; 0 by default. */
    double resegment;
    /* A middlebox that divides ACKs (Savage et al., "TCP congestion control
     * with a misbehaving receiver", 1999: a receiver or a box on its path
     * that makes a sender grow faster): a bare ACK that moves 2 or more
     * bytes past the last one its flow carried is sent, with this
     * probability, as up to 8 ACKs — a byte more each, the last the
     * original. A sender that grows cwnd per ACK, not per byte, grows
     * up to 8 times too fast (the simulator's cwnd invariant says so).
     * Down links only; 0 by default. */
    double ack_divide;
};

struct fa_sim_stats {
    uint64_t sent, delivered, lost, queue_drops, outage_drops;
    uint64_t duplicated, reordered, corrupted;
    uint64_t resegmented; /* segments a middlebox cut into pieces */
    uint64_t ack_divided; /* ACKs a middlebox sent as several */
    uint64_t coalesced;   /* segments a GRO host took in super-frames
                             (fa_sim_set_gro; its down link's) */
};

void fa_sim_link_init(struct fa_sim_link *link);
/* Returns 0 or -ENOMEM. */
int fa_sim_create(uint64_t seed, struct fa_sim **out);
void fa_sim_destroy(struct fa_sim *sim);
/* Creates a stack from cfg (its device and rng are set by the simulator;
 * its MAC too if zero) linked to the switch: up carries its frames to
 * the switch, down the switch's to it. Returns the host's index, or
 * -EINVAL / -ENOMEM / -ENOSPC (at most 64 hosts). */
int fa_sim_add_host(struct fa_sim *sim, struct fa_config *cfg,
                    const struct fa_sim_link *up,
                    const struct fa_sim_link *down);
struct fa_stack *fa_sim_stack(struct fa_sim *sim, int host);
fa_time fa_sim_now(const struct fa_sim *sim);
/* Runs every frame delivery and stack timer due up to until, in time
 * order (ties in the order they were scheduled). Returns the number of
 * events run. */
uint64_t fa_sim_run_until(struct fa_sim *sim, fa_time until);
/* When the next event (a delivery or a stack timer) is due, or
 * FA_TIME_NEVER: a driver may run to it directly instead of stepping. */
fa_time fa_sim_next(struct fa_sim *sim);
/* Everything host's link carries in [from, to), either way, is lost. */
int fa_sim_outage(struct fa_sim *sim, int host, fa_time from, fa_time to);
/* Called for every frame a host sends (dir 0) or receives (dir 1), at
 * the time it is sent or delivered: timelines, pcaps, invariants. */
void fa_sim_on_frame(struct fa_sim *sim,
                     void (*fn)(void *ctx, int host, int dir,
                                const uint8_t *frame, size_t len, fa_time t),
                     void *ctx);
/* A partition in [from, to): the switch carries no frame between a host
 * in `side` (a bit mask of host indexes) and one outside it; each side
 * still reaches its own. One partition at a time; -EINVAL if to < from. */
int fa_sim_partition(struct fa_sim *sim, uint64_t side, fa_time from, fa_time to);

/* Called for every frame a host sends, before the link model: return 1
 * to lose it (a scenario's "this SYN is lost"). May be NULL. */
void fa_sim_set_filter(struct fa_sim *sim,
                       int (*fn)(void *ctx, int host, const uint8_t *frame,
                                 size_t len, fa_time t),
                       void *ctx);
/* Hands a frame to host as if its link had just delivered it (an old
 * duplicate from nowhere, a forged segment): what host's GRO holds goes
 * in first, as Linux's GRO flushes for a frame that cannot join. */
void fa_sim_inject(struct fa_sim *sim, int host, const uint8_t *frame,
                   size_t len);
/* Hands host's stack what its GRO holds now (fa_sim_inject does so
 * first): an attacker that reads a connection's numbers to forge a frame
 * reads them as that frame will find them. */
void fa_sim_flush_held(struct fa_sim *sim, int host);

/* A TCP segment's header as a simulated frame carries it, for tools that
 * draw timelines. */
struct fa_sim_segment {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t flags;      /* FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 */
    uint32_t seq, ack;
    uint16_t win;       /* as on the wire, unscaled */
    uint16_t mss;       /* MSS option, 0 if absent */
    int ws;             /* window scale option, -1 if absent */
    uint32_t len;       /* data bytes */
    uint8_t sack_ok, has_ts; /* SACK-permitted, timestamps present */
    uint32_t ts_val, ts_ecr;
    uint8_t sack_blocks;     /* SACK option: up to 4 [start, end) */
    uint32_t sack[4][2];
};
/* 1 and *out if frame (Ethernet) holds a well-formed TCP segment (the
 * stack's own parsers: checksums checked), else 0. */
int fa_sim_segment_parse(const uint8_t *frame, size_t len, struct fa_sim_segment *out);

/* Deliveries to host in batches, as an event loop reads them: the first
 * frame delivered opens a fa_stack_batch_begin/end batch that ends
 * window later; frames, timers and what the application does in
 * between are in it (its ACKs owed wait for its end or ride on what is
 * sent). 0 (the default): no batches (and no GRO). -EINVAL for no such
 * host. */
int fa_sim_set_batching(struct fa_sim *sim, int host, fa_time window);

/* A host that reads frames with receive coalescing, as a NIC's GRO or
 * the kernel's for a TAP with offloads hands them: within a batch
 * (fa_sim_set_batching), consecutive TCP segments of one flow, in
 * sequence, each as long as the first (the last may be shorter), with
 * the same ACK, window and options and no flag but PSH (which ends one),
 * reach the stack as one super-frame of up to 64 KB (FA_GSO_TCPV4,
 * gso_size the first's text, FA_META_CSUM_VALID); anything else goes as
 * it came, after what was held. The hooks and checks see the
 * super-frame. -EINVAL for no such host or one without batches, -ENOMEM. */
int fa_sim_set_gro(struct fa_sim *sim, int host, int on);

/* A host whose loop sleeps past its deadlines (one that rounds its sleep
 * to a coarse tick, or a process the system runs late): while nothing
 * arrives, each timer runs up to lag late (how late: a function of the
 * deadline, the host and the world's seed; no die thrown). A frame
 * delivered wakes it, and what is due runs then, as a loop's turn does;
 * the application's own calls into the stack run no timers. 0 (the default): on time. -EINVAL for no such
 * host or a lag outside [0, 1 h]. */
int fa_sim_set_timer_lag(struct fa_sim *sim, int host, fa_time lag);

/* The statistics of host's link, one direction (0 up, 1 down). */
const struct fa_sim_stats *fa_sim_link_stats(const struct fa_sim *sim,
                                             int host, int dir);

/* Invariants, checked on every event once enabled (before any host is
 * added; -EBUSY after): no data beyond the advertised window, SND.UNA <=
 * SND.NXT and neither SND.UNA nor RCV.NXT moving back, every state change
 * an edge of RFC 9293's diagram, no ACK storm (a chain of 50 bare ACKs
 * each sent the instant the one before arrived), no bare ACK repeating the
 * last segment sent with nothing arrived to answer (a window update that
 * updates nothing), SACK blocks (RFC 2018) above the ACK, within the
 * window offered, not overlapping (a D-SACK first aside), no data resent
 * that the last ACK received SACKed, scoreboard counts (SACKed + lost)
 * within what is in flight, a timer armed while data is in flight,
 * every TIME-WAIT ending on
 * time (never past its expiry, never longer than 2 MSL ahead), every RTT
 * sample timing a frame the peer had received when it answered (the
 * hosts' fa_config.tcp_rtt_trace feeds it; the user's hook is still
 * called). Returns 0,
 * -EBUSY or -ENOMEM. */
int fa_sim_check_enable(struct fa_sim *sim);
uint64_t fa_sim_check_violations(const struct fa_sim *sim);
/* The first violation, as text ("at 1.234 s: ..."), or NULL. */
const char *fa_sim_check_first(const struct fa_sim *sim);
/* What the RTT oracle saw (fa_sim_check_enable's last check): every
 * sample the hosts took; those judged (the excused among them: a frame
 * that waited for ARP); those let pass unjudged — their frame older than
 * the 1,024 kept of its connection, their record given to a newer
 * connection (256 are kept), or taken on no frame a host sent (a
 * loopback connection's, a forged one's). */
struct fa_sim_rtt_stats {
    uint64_t samples, judged, arp_excused, unknown;
};
void fa_sim_check_rtt_stats(const struct fa_sim *sim, struct fa_sim_rtt_stats *out);

/* After a scenario closed its sockets and its timers ran out: 1 if the
 * first `hosts` stacks hold no socket, TIME-WAIT entry or buffer byte;
 * else 0, and it counts as a violation. */
int fa_sim_check_idle(struct fa_sim *sim, int hosts);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
