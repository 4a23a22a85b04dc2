/* wire.h — stateless parsing and emitting of Ethernet II, ARP, IPv4,
 * ICMP and TCP headers (with TCP's options), address helpers, and the
 * Internet checksum (internal to libfinack).
 *
 * Parsers take a buffer and its length, check every length before they
 * read, and return 0 or the FA_CNT_* drop counter that names the fault.
 * Emitters write a header into a buffer the caller sized. Multi-byte
 * fields in the parsed views are in host byte order. */
#ifndef FA_WIRE_H
#define FA_WIRE_H

#include <finack/counters.h>
#include <finack/types.h>
#include <string.h>

/* ---- byte order ------------------------------------------------------ */
static inline uint16_t fa_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t fa_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}
static inline void fa_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void fa_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071) ------------------------------------
 * fa_csum_add() sums bytes into a running 64-bit accumulator in the
 * machine's byte order; every chunk but the last must have even length.
 * fa_csum_fold() folds and complements it into the 16-bit value to store
 * with fa_csum_store() (RFC 1071 §2(B): the sum is byte-order
 * independent if it is stored the way it was summed). A buffer that
 * includes a correct checksum field sums to 0 after fold. */
uint64_t fa_csum_add(uint64_t acc, const void *data, size_t len);
uint16_t fa_csum_fold(uint64_t acc);
static inline void fa_csum_store(uint8_t *field, uint16_t folded)
{
    memcpy(field, &folded, 2);
}
/* Completes a partial checksum (Linux's CHECKSUM_PARTIAL, virtio-net's
 * NEEDS_CSUM): the field at field_off holds the pseudo header's sum, so
 * the sum of the len bytes at l4, field included, is the checksum. udp:
 * a result of 0 is sent as all ones (RFC 768). */
void fa_csum_complete(uint8_t *l4, size_t len, size_t field_off, int udp);
/* The TCP/UDP pseudo-header sum (RFC 9293 §3.1, RFC 768). */
uint64_t fa_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                        uint16_t len);

/* ---- Ethernet II ----------------------------------------------------- */
#define FA_ETH_HLEN 14
#define FA_ETHERTYPE_IPV4 0x0800
#define FA_ETHERTYPE_ARP 0x0806

struct fa_eth_view {
    const uint8_t *dst;
    const uint8_t *src;
    uint16_t type;
};
int fa_eth_parse(const uint8_t *frame, size_t len, struct fa_eth_view *out);
void fa_eth_emit(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6],
                 uint16_t type);
extern const uint8_t fa_mac_broadcast[6];
static inline int fa_mac_is_multicast(const uint8_t *mac)
{
    return mac[0] & 1; /* includes broadcast */
}

/* ---- ARP for IPv4 over Ethernet (RFC 826) ---------------------------- */
#define FA_ARP_LEN 28
#define FA_ARP_REQUEST 1
#define FA_ARP_REPLY 2

struct fa_arp_view {
    uint16_t op;
    const uint8_t *sha;
    uint32_t spa;
    const uint8_t *tha;
    uint32_t tpa;
};
int fa_arp_parse(const uint8_t *pkt, size_t len, struct fa_arp_view *out);
void fa_arp_emit(uint8_t *pkt, uint16_t op, const uint8_t sha[6],
                 uint32_t spa, const uint8_t tha[6], uint32_t tpa);

/* ---- IPv4 (RFC 791) -------------------------------------------------- */
#define FA_IPV4_HLEN 20
#define FA_IPPROTO_ICMP 1
#define FA_IPPROTO_TCP 6
#define FA_IPPROTO_UDP 17
#define FA_IPV4_DF 0x4000
#define FA_IPV4_MF 0x2000
#define FA_IPV4_OFFSET_MASK 0x1fff

struct fa_ipv4_view {
    uint8_t hlen; /* header length in bytes, options included */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint16_t frag; /* flags and fragment offset */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src;
    uint32_t dst;
    const uint8_t *payload;
    uint16_t payload_len;
};
/* Checks version, IHL, total length against len (link padding beyond
 * total length is ignored), the header checksum and TTL. */
int fa_ipv4_hdr_parse(const uint8_t *pkt, size_t len, struct fa_ipv4_view *out);
/* Writes a 20-byte header with checksum. */
void fa_ipv4_hdr_emit(uint8_t *pkt, uint16_t total_len, uint16_t id,
                  uint16_t frag, uint8_t ttl, uint8_t proto, uint32_t src,
                  uint32_t dst);

/* ---- ICMP (RFC 792) -------------------------------------------------- */
#define FA_ICMP_HLEN 8
#define FA_ICMP_ECHO_REPLY 0
#define FA_ICMP_UNREACH 3
#define FA_ICMP_ECHO 8
#define FA_ICMP_UNREACH_HOST 1
#define FA_ICMP_UNREACH_PROTO 2
#define FA_ICMP_UNREACH_PORT 3
#define FA_ICMP_UNREACH_NEEDFRAG 4 /* RFC 1191: next-hop MTU in rest[2..3] */
#define FA_ICMP_TIME_EXCEEDED 11
#define FA_ICMP_PARAM_PROBLEM 12

struct fa_icmp_view {
    uint8_t type;
    uint8_t code;
    const uint8_t *rest; /* the 4 bytes after the checksum */
    const uint8_t *data;
    size_t data_len;
};
int fa_icmp_parse(const uint8_t *msg, size_t len, struct fa_icmp_view *out);
/* Writes type, code, the 4-byte rest-of-header; the caller has put the
 * data after it; computes the checksum over len bytes. */
void fa_icmp_emit(uint8_t *msg, size_t len, uint8_t type, uint8_t code,
                  uint32_t rest);

/* ---- TCP (RFC 9293 §3.1) --------------------------------------------- */
#define FA_TCP_HLEN 20
#define FA_TCP_FIN 0x01
#define FA_TCP_SYN 0x02
#define FA_TCP_RST 0x04
#define FA_TCP_PSH 0x08
#define FA_TCP_ACK 0x10
#define FA_TCP_URG 0x20
#define FA_TCP_OPT_MAX 40

/* Options we understand (RFC 9293 §3.2, RFC 7323, RFC 2018). */
struct fa_tcp_opts {
    uint16_t mss;      /* 0 = absent */
    uint8_t has_wscale, wscale;
    uint8_t sack_ok;
    uint8_t has_ts;
    uint32_t ts_val, ts_ecr;
    uint8_t sack_blocks; /* up to 4 (start, end) pairs */
    uint32_t sack[4][2];
};

struct fa_tcp_view {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hlen; /* data offset in bytes */
    uint8_t flags;
    uint16_t wnd; /* unscaled, as on the wire */
    uint16_t urp;
    struct fa_tcp_opts opts;
    const uint8_t *data;
    uint32_t data_len;
    uint16_t segs; /* wire segments it stands for: 1, more for a GRO
                      super-frame (set by TCP input, not the parser) */
    uint8_t crossed; /* a simultaneous open's SYN-ACK, taken as its ACK
                        (set by TCP input, not the parser) */
};
/* Checks length, data offset, options (malformed ones: RFC 9293 §3.1
 * "must be prepared to handle an illegal option length ... without
 * crashing"; we drop the segment) and the checksum over the pseudo
 * header (unless csum_ok: a device vouched for it). Returns 0,
 * FA_CNT_TCP_TOO_SHORT, FA_CNT_TCP_BAD_OFFSET, FA_CNT_TCP_BAD_OPTIONS or
 * FA_CNT_TCP_BAD_CHECKSUM. */
int fa_tcp_hdr_parse(const uint8_t *seg, size_t len, uint32_t src,
                     uint32_t dst, int csum_ok, struct fa_tcp_view *out);
/* Writes a TCP header with the options set in opts (MSS, window scale,
 * SACK-permitted, timestamps, SACK blocks: at most 40 bytes of them, the
 * caller's duty) at seg; returns the header length. The
 * caller puts data after it and calls fa_tcp_hdr_checksum(). */
size_t fa_tcp_hdr_emit(uint8_t *seg, uint16_t sport, uint16_t dport,
                       uint32_t seq, uint32_t ack, uint8_t flags,
                       uint16_t wnd, const struct fa_tcp_opts *opts);
void fa_tcp_hdr_checksum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst);
/* Leaves the checksum to a device (FA_META_CSUM_PARTIAL): stores only
 * the pseudo header's sum. */
void fa_tcp_hdr_checksum_partial(uint8_t *seg, size_t len, uint32_t src, uint32_t dst);

/* Is addr a (limited or directed) broadcast, or multicast, for a subnet
 * of prefix_len bits containing net_addr? */
int fa_ipv4_is_broadcast(uint32_t addr, uint32_t net_addr, uint8_t prefix_len);
static inline int fa_ipv4_is_multicast(uint32_t addr)
{
    return (addr >> 28) == 0xe;
}
static inline uint32_t fa_ipv4_mask(uint8_t prefix_len)
{
    return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}

#endif
