/* forge.h — builds a TCP segment, or an ICMP error about one, as an
 * Ethernet frame, for simulator runs that inject what no stack sent: old
 * duplicates, an attacker's guesses. Public API only; checksums computed
 * here. */
#ifndef FA_PROG_FORGE_H
#define FA_PROG_FORGE_H

#include <finack/finack.h>

/* TCP header flags (RFC 9293 §3.1). */
enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

struct forged {
    const uint8_t *dst_mac, *src_mac;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags; /* TCP_* */
    uint16_t wnd;
    const uint8_t *data;
    size_t len; /* at most FORGE_MAX_DATA */
    int ts;     /* 1: a timestamps option (RFC 7323 §3) with ts_val, ts_ecr */
    uint32_t ts_val, ts_ecr;
};

#define FORGE_MAX_DATA 1460
#define FORGE_FRAME_MAX (14 + 20 + 20 + 12 + FORGE_MAX_DATA)

/* Writes the frame into out (FORGE_FRAME_MAX bytes); returns its length. */
size_t forge_tcp(uint8_t *out, const struct forged *f);

/* An ICMP error (type, code; mtu for fragmentation needed) from `from`
 * to f->dst about a TCP segment f->dst sent to f->src: the quote holds
 * that segment's IPv4 header (1,500 bytes long) and its ports and f->seq.
 * Writes the frame into out (FORGE_FRAME_MAX bytes); returns its length. */
size_t forge_icmp(uint8_t *out, const struct forged *f, uint32_t from, uint8_t type,
                  uint8_t code, uint16_t mtu);

#endif
