/* tcp_icmp.c — ICMP errors about a TCP segment we sent: destination
 * unreachable, time exceeded, parameter problem (called from
 * iface/icmp.c):
 *
 *  - checked first (RFC 5927 §4.1): the quoted 4-tuple must name a
 *    connection and the quoted sequence number lie in SND.UNA..SND.NXT,
 *    else a blind attacker could forge errors; anything else is counted
 *    and ignored;
 *  - "fragmentation needed" (RFC 1191): the MSS falls to fit the
 *    next-hop MTU — never below Linux's floor of 552 bytes of IP (RFC
 *    1191 allows 68; RFC 5927 §7.2 advises a floor against forged tiny
 *    MTUs) — and what is in flight goes again at the new size; an old
 *    router's MTU of 0 is estimated from the quoted datagram's length
 *    by RFC 1191 §7's plateaus, 1 to 67 is a lie, counted and ignored;
 *  - hard errors (protocol or port unreachable, and the administrative
 *    ones Linux treats so) end a connection still opening, with the
 *    errno Linux gives; in synchronized states every error is soft (RFC
 *    5461): remembered, and reported instead of ETIMEDOUT should the
 *    connection time out (RFC 1122 §4.2.3.9); time exceeded and
 *    parameter problem are soft everywhere (EHOSTUNREACH, EPROTO, as
 *    Linux gives). */
#include <errno.h>

#include "tcp.h"

#define PMTU_FLOOR 552 /* Linux's net.ipv4.route.min_pmtu */

struct icmp_kind {
    int8_t err;  /* -errno; 0: not a code TCP acts on */
    uint8_t hard;
};

/* Destination unreachable codes (RFC 792, RFC 1122, RFC 1812), as Linux's
 * icmp_err_convert; time exceeded and parameter problem are soft. */
static struct icmp_kind kind_of(uint8_t type, uint8_t code)
{
    if (type == FA_ICMP_TIME_EXCEEDED)
        return (struct icmp_kind){ -EHOSTUNREACH, 0 };
    if (type == FA_ICMP_PARAM_PROBLEM)
        return (struct icmp_kind){ -EPROTO, 0 };
    switch (code) {
    case 0: return (struct icmp_kind){ -ENETUNREACH, 0 };
    case 1: return (struct icmp_kind){ -EHOSTUNREACH, 0 };
    case 2: return (struct icmp_kind){ -ENOPROTOOPT, 1 };
    case 3: return (struct icmp_kind){ -ECONNREFUSED, 1 };
    case 5: return (struct icmp_kind){ -EOPNOTSUPP, 0 };
    case 6: return (struct icmp_kind){ -ENETUNREACH, 1 };
    case 7: return (struct icmp_kind){ -EHOSTDOWN, 1 };
    case 8: return (struct icmp_kind){ -ENONET, 1 };
    case 9: return (struct icmp_kind){ -ENETUNREACH, 1 };
    case 10: return (struct icmp_kind){ -EHOSTUNREACH, 1 };
    case 11: return (struct icmp_kind){ -ENETUNREACH, 0 };
    case 12: return (struct icmp_kind){ -EHOSTUNREACH, 0 };
    case 13: case 14: case 15: return (struct icmp_kind){ -EHOSTUNREACH, 1 };
    default: return (struct icmp_kind){ 0, 0 }; /* no such code: Linux ignores it */
    }
}

/* RFC 1191 §7: the largest plateau below the datagram's length, for a
 * router that does not say its next-hop MTU. */
static uint16_t plateau_below(uint16_t len)
{
    static const uint16_t plateaus[] = { 32000, 17914, 8166, 4352, 2002, 1492,
                                         1006, 508, 296, 68 };
    for (size_t i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
        if (plateaus[i] < len)
            return plateaus[i];
    return 68;
}

/* RFC 1191 §6.5: a smaller path MTU; resend what is out at the new size.
 * sent: the quoted datagram's total length. */
static void mtu_fell(struct fa_tcp *c, uint16_t mtu, uint16_t sent, fa_time now)
{
    if (mtu == 0)
        mtu = plateau_below(sent);
    if (mtu < 68) { /* RFC 1191: no MTU is smaller; a router that says so lies */
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_ICMP_IGNORED);
        return;
    }
    if (mtu < PMTU_FLOOR)
        mtu = PMTU_FLOOR;
    uint32_t mss = (uint32_t)mtu - FA_IPV4_HLEN - FA_TCP_HLEN - ((c->flags & TF_TS) ? 12u : 0u);
    if (mss >= c->mss)
        return;
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_PMTU_LOWERED);
    c->mss = (uint16_t)mss;
    fa_tcp_rec_mss_lowered(c);
    fa_tcp_output(c, now);
}

void fa_tcp_icmp_error(struct fa_stack *s, uint8_t type, uint8_t code, uint16_t mtu,
                       const uint8_t *quote, size_t len, fa_time now)
{
    /* The quote: our IPv4 header and at least 8 bytes of TCP (RFC 792):
     * the ports and the sequence number. */
    if (len < FA_IPV4_HLEN || quote[9] != FA_IPPROTO_TCP)
        return; /* (another protocol's; one too short for TCP: below) */
    size_t hlen = (size_t)(quote[0] & 0x0f) * 4;
    if (hlen < FA_IPV4_HLEN || len < hlen + 8) {
        fa_count(s, FA_CNT_TCP_ICMP_IGNORED);
        return;
    }
    uint32_t laddr = fa_get32(quote + 12), raddr = fa_get32(quote + 16);
    const uint8_t *t = quote + hlen;
    uint32_t seq = fa_get32(t + 4);
    struct fa_tcp *c = fa_tcp_lookup(s, laddr, fa_get16(t), raddr, fa_get16(t + 2));
    if (!c || c->state == FA_TCP_LISTEN || !seq_ge(seq, c->snd_una) ||
        !seq_lt(seq, c->snd_nxt)) {
        fa_count(s, FA_CNT_TCP_ICMP_IGNORED);
        return;
    }
    if (type == FA_ICMP_UNREACH && code == FA_ICMP_UNREACH_NEEDFRAG) {
        mtu_fell(c, mtu, fa_get16(quote + 2), now);
        return;
    }
    struct icmp_kind k = kind_of(type, code);
    if (!k.err) {
        fa_count(s, FA_CNT_TCP_ICMP_IGNORED);
        return;
    }
    int opening = c->state == FA_TCP_SYN_SENT || c->state == FA_TCP_SYN_RECEIVED;
    if (opening && k.hard) {
        fa_count(s, FA_CNT_TCP_ICMP_ABORTS);
        /* A half-open passive entry just goes; an active open fails. */
        fa_tcp_terminate(c, (c->flags & TF_PASSIVE) ? 0 : k.err, now);
        return;
    }
    c->soft_err = k.err;
}
