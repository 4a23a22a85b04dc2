/* icmp.c — ICMP for a host (RFC 792, RFC 1122 §3.2.2): echo replies,
 * destination-unreachable generation with the RFC's exclusions and a
 * token-bucket rate limit, and counting of what arrives. */
#include "iface.h"

#include <errno.h>

/* Ones that are errors: an error is never sent about one (§3.2.2). */
static int icmp_is_error(uint8_t type)
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static void icmp_echo_reply(struct fa_stack *s, const struct fa_rx_ctx *rx,
                            const struct fa_icmp_view *icmp, fa_time now)
{
    /* RFC 1122 §3.2.2.6: echo to a broadcast MAY be ignored; like Linux's
     * icmp_echo_ignore_broadcasts we do, against smurf amplification. */
    if (rx->to_broadcast) {
        fa_count(s, FA_CNT_ICMP_BCAST_ECHO);
        return;
    }
    fa_count(s, FA_CNT_ICMP_ECHO_IN);
    size_t len = FA_ICMP_HLEN + icmp->data_len;
    uint8_t *msg = fa_ip_payload(s);
    memcpy(msg + FA_ICMP_HLEN, icmp->data, icmp->data_len);
    fa_icmp_emit(msg, len, FA_ICMP_ECHO_REPLY, 0, fa_get32(icmp->rest));
    fa_ip_send(s, rx->ip.src, FA_IPPROTO_ICMP, len, now);
}

void fa_icmp_input(struct fa_stack *s, const struct fa_rx_ctx *rx,
                   fa_time now)
{
    struct fa_icmp_view icmp;
    int drop = fa_icmp_parse(rx->ip.payload, rx->ip.payload_len, &icmp);
    if (drop) {
        fa_count(s, (unsigned)drop);
        return;
    }
    switch (icmp.type) {
    case FA_ICMP_ECHO:
        icmp_echo_reply(s, rx, &icmp, now);
        break;
    case FA_ICMP_ECHO_REPLY:
        fa_count(s, FA_CNT_ICMP_ECHO_REPLY_IN);
        break;
    case FA_ICMP_UNREACH:
    case FA_ICMP_TIME_EXCEEDED:
    case FA_ICMP_PARAM_PROBLEM:
        /* An error goes to the unicast source of what caused it: one to a
         * broadcast address is forged (Linux's icmp_rcv drops them too). */
        if (rx->to_broadcast) {
            fa_count(s, FA_CNT_ICMP_BCAST_ERROR);
            break;
        }
        /* RFC 1122 §3.2.2.4, §3.2.2.5: time exceeded and parameter
         * problem MUST reach the transport too (TCP takes them as soft). */
        fa_count(s, icmp.type == FA_ICMP_UNREACH ? FA_CNT_ICMP_UNREACH_IN
                                                 : FA_CNT_ICMP_OTHER_ERROR_IN);
        fa_udp_icmp_error(s, icmp.type, icmp.code, icmp.data, icmp.data_len);
        fa_tcp_icmp_error(s, icmp.type, icmp.code, fa_get16(icmp.rest + 2), icmp.data,
                          icmp.data_len, now);
        break;
    default:
        fa_count(s, FA_CNT_ICMP_UNHANDLED);
    }
}

/* RFC 1122 §3.2.2: never about an ICMP error, a broadcast or multicast
 * datagram, a non-initial fragment, or a source that is not one host. */
static int icmp_error_allowed(const struct fa_stack *s,
                              const struct fa_rx_ctx *rx)
{
    const struct fa_ipv4_view *ip = &rx->ip;
    if (rx->to_broadcast || fa_ipv4_is_multicast(ip->dst) || ip->src == 0)
        return 0;
    if (ip->frag & FA_IPV4_OFFSET_MASK)
        return 0;
    if (ip->proto == FA_IPPROTO_ICMP &&
        (ip->payload_len < 1 || icmp_is_error(ip->payload[0])))
        return 0;
    (void)s;
    return 1;
}

void fa_icmp_send_unreach(struct fa_stack *s, const struct fa_rx_ctx *rx,
                          uint8_t code, fa_time now)
{
    if (!icmp_error_allowed(s, rx))
        return;
    if (!fa_bucket_take(&s->icmp_errors, s->cfg.icmp_error_rate,
                        s->cfg.icmp_error_burst, now)) {
        fa_count(s, FA_CNT_ICMP_RATE_LIMITED);
        return;
    }
    /* The offending header and as much of its data as keeps the error
     * within 576 bytes (RFC 1812 §4.3.2.3; RFC 792 asks for 8 bytes). */
    size_t quote = rx->ip.total_len;
    size_t room = 576 - FA_IPV4_HLEN - FA_ICMP_HLEN;
    if (quote > room)
        quote = room;
    uint8_t *msg = fa_ip_payload(s);
    memcpy(msg + FA_ICMP_HLEN, rx->ip_pkt, quote);
    fa_icmp_emit(msg, FA_ICMP_HLEN + quote, FA_ICMP_UNREACH, code, 0);
    fa_count(s, FA_CNT_ICMP_UNREACH_OUT);
    fa_ip_send(s, rx->ip.src, FA_IPPROTO_ICMP, FA_ICMP_HLEN + quote, now);
}

int fa_stack_ping(struct fa_stack *s, uint32_t dst, uint16_t id,
                  uint16_t seq, const uint8_t *data, size_t len, fa_time now)
{
    if (len > fa_ip_payload_max(s) - FA_ICMP_HLEN)
        return -EMSGSIZE;
    uint8_t *msg = fa_ip_payload(s);
    if (len)
        memcpy(msg + FA_ICMP_HLEN, data, len);
    fa_icmp_emit(msg, FA_ICMP_HLEN + len, FA_ICMP_ECHO, 0,
                 (uint32_t)id << 16 | seq);
    return fa_ip_send(s, dst, FA_IPPROTO_ICMP, FA_ICMP_HLEN + len, now);
}
