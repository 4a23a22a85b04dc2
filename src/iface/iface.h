/* iface.h — the stack object and the interface layer's internal calls:
 * Ethernet demultiplexing, ARP, IPv4 input/output and ICMP (internal to
 * libfinack; the public face is finack/stack.h).
 *
 * Output path: a protocol writes its payload at fa_ip_payload(stack),
 * then calls fa_ip_send(); the IPv4 and Ethernet headers are written in
 * front of it in the one transmit buffer, so a packet is built in place
 * and copied once, by the device. */
#ifndef FA_IFACE_H
#define FA_IFACE_H

#include <finack/stack.h>

#include "../wire/wire.h"

enum fa_arp_state { FA_ARP_FREE, FA_ARP_INCOMPLETE, FA_ARP_REACHABLE };

struct fa_arp_entry {
    uint32_t addr;
    uint8_t mac[FA_ETH_ALEN];
    uint8_t state;    /* enum fa_arp_state */
    uint8_t requests; /* requests sent in this resolution or probe */
    fa_time confirmed;    /* REACHABLE: when the last reply came;
                             INCOMPLETE: when the resolution began */
    fa_time used;         /* when a packet last went by it (arp_alloc) */
    fa_time next_request; /* INCOMPLETE: retry; REACHABLE: next probe */
};

/* A packet waiting for its next hop to be resolved. */
struct fa_arp_waiting {
    uint32_t next_hop;
    uint32_t seq; /* arrival order, so packets leave in the order sent */
    uint16_t len; /* 0 = slot free */
    uint8_t *frame;
};

/* A token bucket kept in nanoseconds of earned credit: each token costs
 * 1 s / rate, the bucket holds burst tokens (ICMP errors, challenge ACKs). */
struct fa_bucket {
    fa_time credit, at;
};
void fa_bucket_init(struct fa_bucket *b, uint32_t rate, uint32_t burst,
                    fa_time now);
/* 1 and a token spent if one is there at now, else 0. */
int fa_bucket_take(struct fa_bucket *b, uint32_t rate, uint32_t burst,
                   fa_time now);

struct fa_tcp_stack;
struct fa_udp_stack;

struct fa_stack {
    struct fa_config cfg;
    uint32_t mask;
    size_t frame_max; /* mtu + Ethernet header */
    uint64_t counters[FA_CNT_COUNT];

    struct fa_arp_entry *arp;
    struct fa_arp_waiting *arp_wait;
    uint32_t arp_wait_seq;
    fa_time arp_next; /* no ARP timer is due before this: polls skip the scan */
    /* The latest time the program passed in (fa_stack_input, _poll):
     * "now" for a call that has none, a setopt (stack.c writes it). */
    fa_time clock;

    uint16_t ip_id;
    struct fa_bucket icmp_errors;
    struct fa_tcp_stack *tcp;
    struct fa_udp_stack *udp;

    uint8_t *tx; /* one frame: Ethernet + IPv4 + payload */
    size_t tx_cap; /* frame_max, or FA_GSO_FRAME_MAX for a TSO device */
    /* What the device must do for the frame in tx (TCP sets it before
     * fa_ip_send, fa_ip_send clears it): zero for a plain frame. */
    struct fa_frame_meta tx_meta;
    uint16_t tx_segs; /* segments a super-frame in tx stands for (its IP ids) */

    /* Packets to our own address, waiting for fa_stack_poll (loopback.c). */
    uint8_t *loop_pkt; /* loop_cap packets of up to mtu bytes */
    uint16_t *loop_len;
    unsigned loop_head, loop_count, loop_cap;
};

static inline void fa_count(struct fa_stack *s, unsigned id)
{
    s->counters[id]++;
}

/* Hands a complete frame to the device (with s->tx_meta if it is the
 * frame in s->tx) and counts it. */
void fa_link_send(struct fa_stack *s, const uint8_t *frame, size_t len);
/* The frame in s->tx cannot go out as built (it waits for ARP, or loops
 * back): completes a partial checksum in software and clears tx_meta;
 * -EMSGSIZE (counted) for a super-frame, which only a device can cut. */
int fa_tx_meta_resolve(struct fa_stack *s, uint8_t *frame, size_t len);

/* ARP (arp.c). */
void fa_arp_input(struct fa_stack *s, const uint8_t *eth_src,
                  const uint8_t *pkt, size_t len, fa_time now);
/* Sends frame (dst MAC to be filled) to next_hop, resolving it first if
 * need be; the frame is copied into the waiting queue in that case. */
int fa_arp_output(struct fa_stack *s, uint32_t next_hop, uint8_t *frame,
                  size_t len, fa_time now);
void fa_arp_announce(struct fa_stack *s);
/* 1 if next_hop's link address is known (a frame to it leaves at once). */
int fa_arp_resolved(struct fa_stack *s, uint32_t next_hop);
fa_time fa_arp_poll(struct fa_stack *s, fa_time now);

/* IPv4 (ipv4.c). */
/* What a received frame's offload metadata allows, once checked. */
struct fa_rx_hints {
    uint8_t csum_ok;   /* the device vouches for the TCP/UDP checksum */
    uint16_t gso_size; /* a GRO super-frame of segments this big; 0: not */
};
/* Checks a frame's metadata against its parsed IPv4 header: 0 and the
 * hints, or -1 when it does not fit (stack.c). m may be NULL. */
int fa_rx_meta_check(const struct fa_frame_meta *m, const struct fa_ipv4_view *ip,
                     struct fa_rx_hints *out);
struct fa_rx_ctx {
    const uint8_t *ip_pkt; /* the whole datagram, for ICMP errors */
    struct fa_ipv4_view ip;
    int to_broadcast; /* link or IP broadcast: never answer with errors */
    struct fa_rx_hints hints;
};
/* loopback.c: queue a packet to our own address; deliver the queue
 * (returns 1 if more were queued meanwhile). */
int fa_loopback_init(struct fa_stack *s);
void fa_loopback_free(struct fa_stack *s);
int fa_loopback_send(struct fa_stack *s, const uint8_t *pkt, size_t len);
int fa_loopback_poll(struct fa_stack *s, fa_time now);
/* A packet that came back from our own address (its source is ours). */
void fa_ipv4_input_local(struct fa_stack *s, const uint8_t *pkt, size_t len, fa_time now);
void fa_ipv4_input(struct fa_stack *s, const uint8_t *pkt, size_t len,
                   int link_broadcast, const struct fa_frame_meta *meta, fa_time now);
static inline uint8_t *fa_ip_payload(struct fa_stack *s)
{
    return s->tx + FA_ETH_HLEN + FA_IPV4_HLEN;
}
static inline size_t fa_ip_payload_max(const struct fa_stack *s)
{
    return (size_t)s->cfg.mtu - FA_IPV4_HLEN;
}
/* 1 if a frame to dst would leave at once, whole, on the device: not to
 * ourselves, routed, its next hop resolved (TSO asks before building a
 * super-frame, which the ARP queue cannot hold). */
int fa_ip_can_send_whole(struct fa_stack *s, uint32_t dst);
/* Not a source a host on the wire may have (ipv4.c): broadcast,
 * multicast, ours, 127/8, 240/4, 0/8 but 0.0.0.0. */
int fa_ipv4_bad_source(const struct fa_stack *s, uint32_t src);
/* Sends the len payload bytes at fa_ip_payload(s) to dst. 0 or -errno. */
int fa_ip_send(struct fa_stack *s, uint32_t dst, uint8_t proto, size_t len,
               fa_time now);

/* ICMP (icmp.c). */
void fa_icmp_input(struct fa_stack *s, const struct fa_rx_ctx *rx,
                   fa_time now);
/* Destination unreachable about the received datagram in rx, subject to
 * RFC 1122 §3.2.2's exclusions and the rate limit. */
void fa_icmp_send_unreach(struct fa_stack *s, const struct fa_rx_ctx *rx,
                          uint8_t code, fa_time now);

/* UDP (../udp/udp.c). */
int fa_udp_stack_init(struct fa_stack *s);
void fa_udp_stack_free(struct fa_stack *s);
void fa_udp_input(struct fa_stack *s, const struct fa_rx_ctx *rx,
                  fa_time now);
/* An ICMP error (unreachable, time exceeded, parameter problem) quoting a
 * datagram we sent. */
void fa_udp_icmp_error(struct fa_stack *s, uint8_t type, uint8_t code, const uint8_t *quote,
                       size_t len);
/* An ICMP error (destination unreachable, time exceeded, parameter
 * problem) quoting a TCP segment we sent (RFC 1122 §4.2.3.9, RFC 5927,
 * RFC 1191); mtu: the next-hop MTU of unreachable code 4. */
void fa_tcp_icmp_error(struct fa_stack *s, uint8_t type, uint8_t code, uint16_t mtu,
                       const uint8_t *quote, size_t len, fa_time now);

#endif
