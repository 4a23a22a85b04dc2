/* test_bad_input.c — table-driven: every kind of malformed or unwanted
 * frame bumps exactly the one drop counter that names it, touches no
 * other drop counter and sends nothing (unless the RFC says to answer).
 * Each frame is copied into a heap buffer of exactly its length, so the
 * sanitizer build catches any read past the end. A seeded mutation fuzz
 * follows: many thousand damaged frames, no crash, every frame counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

static const uint8_t zero6[6];
#define IPOFF 14

/* Each builder writes a frame and returns its length. */
typedef size_t (*build_fn)(uint8_t *b);

static size_t valid_udp(uint8_t *b)
{
    return build_udp(b, mac_a, IP_PEER, IP_US, 1000, 7, (const uint8_t *)"abcd", 4);
}
static size_t valid_echo(uint8_t *b)
{
    return build_echo(b, mac_a, IP_PEER, IP_US, 1, 1, (const uint8_t *)"abcd", 4);
}
static size_t valid_arp(uint8_t *b)
{
    return build_arp(b, fa_mac_broadcast, FA_ARP_REQUEST, mac_peer, IP_PEER, zero6, IP_US);
}

static size_t empty(uint8_t *b) { (void)b; return 0; }
static size_t eth_13(uint8_t *b) { valid_udp(b); return 13; }
static size_t eth_oversize(uint8_t *b) { memset(b, 0, 1515); memcpy(b, mac_a, 6); fa_put16(b + 12, 0x0800); return 1515; }
static size_t eth_other_mac(uint8_t *b) { size_t n = valid_udp(b); memcpy(b, mac_b, 6); return n; }
static size_t eth_multicast(uint8_t *b) { size_t n = valid_udp(b); b[0] = 0x01; return n; }
static size_t eth_ipv6(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + 12, 0x86dd); return n; }
static size_t eth_vlan(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + 12, 0x8100); return n; }
static size_t arp_short(uint8_t *b) { return valid_arp(b) - 1; }
static size_t arp_htype(uint8_t *b) { size_t n = valid_arp(b); b[IPOFF + 1] = 6; return n; }
static size_t arp_ptype(uint8_t *b) { size_t n = valid_arp(b); fa_put16(b + IPOFF + 2, 0x86dd); return n; }
static size_t arp_hlen(uint8_t *b) { size_t n = valid_arp(b); b[IPOFF + 4] = 8; return n; }
static size_t arp_op(uint8_t *b) { size_t n = valid_arp(b); fa_put16(b + IPOFF + 6, 3); return n; }
static size_t arp_bcast_sender(uint8_t *b) { size_t n = valid_arp(b); memset(b + IPOFF + 8, 0xff, 6); return n; }
static size_t arp_zero_sender(uint8_t *b) { size_t n = valid_arp(b); memset(b + IPOFF + 8, 0, 6); return n; }
static size_t arp_sender_not_source(uint8_t *b) { size_t n = valid_arp(b); b[IPOFF + 8 + 5] ^= 0x10; return n; }
/* From a host not in our cache: a known sender would be merged (RFC 826). */
static size_t arp_other_target(uint8_t *b)
{
    return build_arp(b, fa_mac_broadcast, FA_ARP_REQUEST, mac_b, FA_IPV4(198, 18, 0, 8),
                     zero6, FA_IPV4(198, 18, 0, 9));
}
static size_t ip_short(uint8_t *b) { valid_udp(b); return IPOFF + 19; }
static size_t ip_v6(uint8_t *b) { size_t n = valid_udp(b); b[IPOFF] = 0x65; refresh_ip_checksum(b); return n; }
static size_t ip_ihl4(uint8_t *b) { size_t n = valid_udp(b); b[IPOFF] = 0x44; return n; }
static size_t ip_ihl_past_end(uint8_t *b) { valid_udp(b); b[IPOFF] = 0x4f; return IPOFF + 40; }
static size_t ip_total_long(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + IPOFF + 2, 1400); refresh_ip_checksum(b); return n; }
static size_t ip_total_short(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + IPOFF + 2, 19); refresh_ip_checksum(b); return n; }
static size_t ip_checksum(uint8_t *b) { size_t n = valid_udp(b); b[IPOFF + 10] ^= 0x55; return n; }
/* A valid UDP datagram with olen bytes of IP options (a multiple of 4). */
static size_t udp_with_opts(uint8_t *b, const uint8_t *opts, size_t olen)
{
    uint8_t tmp[128];
    size_t n = valid_udp(tmp);
    memcpy(b, tmp, IPOFF + 20);
    memcpy(b + IPOFF + 20, opts, olen);
    memcpy(b + IPOFF + 20 + olen, tmp + IPOFF + 20, n - IPOFF - 20);
    b[IPOFF] = (uint8_t)(0x40 | ((20 + olen) / 4));
    fa_put16(b + IPOFF + 2, (uint16_t)(n - IPOFF + olen));
    refresh_ip_checksum(b);
    return n + olen;
}
static size_t ip_opt_len1(uint8_t *b) { return udp_with_opts(b, (const uint8_t *)"\x07\x01\x00\x00", 4); }
static size_t ip_opt_past(uint8_t *b) { return udp_with_opts(b, (const uint8_t *)"\x01\x44\x08\x05", 4); }
static size_t ip_opt_lsrr(uint8_t *b) { return udp_with_opts(b, (const uint8_t *)"\x83\x07\x04\x0a\x09\x09\x09\x00", 8); }
static size_t ip_src_bcast(uint8_t *b) { size_t n = valid_udp(b); fa_put32(b + IPOFF + 12, 0xffffffffu); refresh_ip_checksum(b); return n; }
static size_t ip_src_mcast(uint8_t *b) { size_t n = valid_udp(b); fa_put32(b + IPOFF + 12, FA_IPV4(224, 0, 0, 5)); refresh_ip_checksum(b); return n; }
static size_t ip_src_ours(uint8_t *b) { size_t n = valid_udp(b); fa_put32(b + IPOFF + 12, IP_US); refresh_ip_checksum(b); return n; }
static size_t ip_dst_other(uint8_t *b) { size_t n = valid_udp(b); fa_put32(b + IPOFF + 16, FA_IPV4(198, 18, 0, 9)); refresh_ip_checksum(b); return n; }
static size_t ip_frag_mf(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + IPOFF + 6, FA_IPV4_MF); refresh_ip_checksum(b); return n; }
static size_t ip_frag_off(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + IPOFF + 6, 185); refresh_ip_checksum(b); return n; }
static size_t ip_proto(uint8_t *b) { size_t n = valid_udp(b); b[IPOFF + 9] = 132; refresh_ip_checksum(b); return n; }
static size_t icmp_short(uint8_t *b) { size_t n = valid_echo(b); fa_put16(b + IPOFF + 2, 27); refresh_ip_checksum(b); return n - 5; }
static size_t icmp_checksum(uint8_t *b) { size_t n = valid_echo(b); b[n - 1] ^= 1; return n; }
static size_t icmp_type(uint8_t *b)
{
    uint8_t m[8];
    fa_icmp_emit(m, 8, 42, 0, 0);
    return build_ipv4(b, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, m, 8);
}
static size_t udp_short(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + IPOFF + 2, 27); refresh_ip_checksum(b); return n - 5; }
static size_t udp_len_long(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + IPOFF + 24, 200); return n; }
static size_t udp_len_tiny(uint8_t *b) { size_t n = valid_udp(b); fa_put16(b + IPOFF + 24, 7); return n; }
static size_t udp_checksum(uint8_t *b) { size_t n = valid_udp(b); b[n - 1] ^= 1; return n; }
#define TCPOFF (IPOFF + 20)
static size_t tcp_syn(uint8_t *b) { return build_tcp(b, 4000, 80, 1000, 0, FA_TCP_SYN, 8192, NULL, 0, NULL, 0); }
static size_t tcp_short(uint8_t *b) { size_t n = tcp_syn(b); fa_put16(b + IPOFF + 2, 39); refresh_ip_checksum(b); return n - 1; }
static size_t tcp_offset_low(uint8_t *b) { size_t n = tcp_syn(b); b[TCPOFF + 12] = 4 << 4; return n; }
static size_t tcp_offset_past(uint8_t *b) { size_t n = tcp_syn(b); b[TCPOFF + 12] = 6 << 4; return n; }
static size_t tcp_checksum(uint8_t *b) { size_t n = tcp_syn(b); b[TCPOFF + 4] ^= 1; return n; }
static size_t tcp_opt_zero_len(uint8_t *b)
{
    static const uint8_t o[4] = { 2, 0, 5, 180 }; /* MSS with length 0 */
    return build_tcp(b, 4000, 80, 1000, 0, FA_TCP_SYN, 8192, o, 4, NULL, 0);
}
static size_t tcp_opt_past_header(uint8_t *b)
{
    static const uint8_t o[4] = { 1, 1, 8, 10 }; /* timestamps: 10 > 2 left */
    return build_tcp(b, 4000, 80, 1000, 0, FA_TCP_SYN, 8192, o, 4, NULL, 0);
}
static size_t tcp_opt_truncated(uint8_t *b)
{
    static const uint8_t o[4] = { 1, 1, 1, 3 }; /* kind 3, no length byte */
    return build_tcp(b, 4000, 80, 1000, 0, FA_TCP_SYN, 8192, o, 4, NULL, 0);
}
static size_t tcp_opt_bad_mss_len(uint8_t *b)
{
    static const uint8_t o[4] = { 2, 3, 5, 1 };
    return build_tcp(b, 4000, 80, 1000, 0, FA_TCP_SYN, 8192, o, 4, NULL, 0);
}
static size_t tcp_syn_fin(uint8_t *b) { return build_tcp(b, 4000, 80, 1000, 0, FA_TCP_SYN | FA_TCP_FIN, 8192, NULL, 0, NULL, 0); }
static size_t tcp_syn_rst(uint8_t *b) { return build_tcp(b, 4000, 80, 1000, 0, FA_TCP_SYN | FA_TCP_RST, 8192, NULL, 0, NULL, 0); }
static size_t tcp_null(uint8_t *b) { return build_tcp(b, 4000, 80, 1000, 0, 0, 8192, NULL, 0, NULL, 0); }
static size_t tcp_to_bcast(uint8_t *b)
{
    uint8_t seg[20];
    fa_tcp_hdr_emit(seg, 4000, 80, 1, 0, FA_TCP_SYN, 100, NULL);
    fa_tcp_hdr_checksum(seg, 20, IP_PEER, FA_IPV4(198, 18, 0, 255));
    return build_ipv4(b, fa_mac_broadcast, mac_peer, IP_PEER, FA_IPV4(198, 18, 0, 255),
                      FA_IPPROTO_TCP, seg, 20);
}

struct bad_case {
    const char *name;
    build_fn build;
    unsigned counter;
    size_t frames_sent; /* what the RFC says to answer with */
};

static const struct bad_case cases[] = {
    { "empty frame", empty, FA_CNT_ETH_TOO_SHORT, 0 },
    { "13 bytes", eth_13, FA_CNT_ETH_TOO_SHORT, 0 },
    { "MTU + 15 bytes", eth_oversize, FA_CNT_ETH_OVERSIZE, 0 },
    { "other unicast MAC", eth_other_mac, FA_CNT_ETH_NOT_FOR_US, 0 },
    { "multicast MAC", eth_multicast, FA_CNT_ETH_NOT_FOR_US, 0 },
    { "IPv6 EtherType", eth_ipv6, FA_CNT_ETH_UNKNOWN_TYPE, 0 },
    { "VLAN tag", eth_vlan, FA_CNT_ETH_UNKNOWN_TYPE, 0 },
    { "ARP truncated", arp_short, FA_CNT_ARP_MALFORMED, 0 },
    { "ARP hardware type", arp_htype, FA_CNT_ARP_UNSUPPORTED, 0 },
    { "ARP protocol type", arp_ptype, FA_CNT_ARP_UNSUPPORTED, 0 },
    { "ARP hardware length", arp_hlen, FA_CNT_ARP_MALFORMED, 0 },
    { "ARP opcode 3", arp_op, FA_CNT_ARP_UNSUPPORTED, 0 },
    { "ARP broadcast sender", arp_bcast_sender, FA_CNT_ARP_BAD_SENDER, 0 },
    { "ARP zero sender", arp_zero_sender, FA_CNT_ARP_BAD_SENDER, 0 },
    { "ARP sender not the Ethernet source", arp_sender_not_source, FA_CNT_ARP_BAD_SENDER, 0 },
    { "ARP other target", arp_other_target, FA_CNT_ARP_NOT_FOR_US, 0 },
    { "IP 19 bytes", ip_short, FA_CNT_IP_TOO_SHORT, 0 },
    { "IP version 6", ip_v6, FA_CNT_IP_BAD_VERSION, 0 },
    { "IP IHL 4", ip_ihl4, FA_CNT_IP_BAD_IHL, 0 },
    { "IP IHL past end", ip_ihl_past_end, FA_CNT_IP_BAD_IHL, 0 },
    { "IP total > frame", ip_total_long, FA_CNT_IP_BAD_TOTAL_LEN, 0 },
    { "IP total < header", ip_total_short, FA_CNT_IP_BAD_TOTAL_LEN, 0 },
    { "IP bad checksum", ip_checksum, FA_CNT_IP_BAD_CHECKSUM, 0 },
    { "IP option of length 1", ip_opt_len1, FA_CNT_IP_BAD_OPTIONS, 0 },
    { "IP option past the header", ip_opt_past, FA_CNT_IP_BAD_OPTIONS, 0 },
    { "IP loose source route", ip_opt_lsrr, FA_CNT_IP_SOURCE_ROUTE, 0 },
    { "IP source broadcast", ip_src_bcast, FA_CNT_IP_BAD_SRC, 0 },
    { "IP source multicast", ip_src_mcast, FA_CNT_IP_BAD_SRC, 0 },
    { "IP source is us", ip_src_ours, FA_CNT_IP_BAD_SRC, 0 },
    { "IP other destination", ip_dst_other, FA_CNT_IP_NOT_FOR_US, 0 },
    { "IP fragment MF", ip_frag_mf, FA_CNT_IP_FRAGMENT, 0 },
    { "IP fragment offset", ip_frag_off, FA_CNT_IP_FRAGMENT, 0 },
    { "IP protocol 132", ip_proto, FA_CNT_IP_UNKNOWN_PROTO, 1 },
    { "ICMP 7 bytes", icmp_short, FA_CNT_ICMP_TOO_SHORT, 0 },
    { "ICMP bad checksum", icmp_checksum, FA_CNT_ICMP_BAD_CHECKSUM, 0 },
    { "ICMP type 42", icmp_type, FA_CNT_ICMP_UNHANDLED, 0 },
    { "UDP 7 bytes", udp_short, FA_CNT_UDP_TOO_SHORT, 0 },
    { "UDP length > IP", udp_len_long, FA_CNT_UDP_TOO_SHORT, 0 },
    { "UDP length 7", udp_len_tiny, FA_CNT_UDP_TOO_SHORT, 0 },
    { "UDP bad checksum", udp_checksum, FA_CNT_UDP_BAD_CHECKSUM, 0 },
    { "UDP closed port", valid_udp, FA_CNT_UDP_NO_PORT, 1 },
    { "TCP 19 bytes", tcp_short, FA_CNT_TCP_TOO_SHORT, 0 },
    { "TCP data offset 4", tcp_offset_low, FA_CNT_TCP_BAD_OFFSET, 0 },
    { "TCP data offset past end", tcp_offset_past, FA_CNT_TCP_BAD_OFFSET, 0 },
    { "TCP bad checksum", tcp_checksum, FA_CNT_TCP_BAD_CHECKSUM, 0 },
    { "TCP zero-length option", tcp_opt_zero_len, FA_CNT_TCP_BAD_OPTIONS, 0 },
    { "TCP option past header", tcp_opt_past_header, FA_CNT_TCP_BAD_OPTIONS, 0 },
    { "TCP option truncated", tcp_opt_truncated, FA_CNT_TCP_BAD_OPTIONS, 0 },
    { "TCP MSS option length 3", tcp_opt_bad_mss_len, FA_CNT_TCP_BAD_OPTIONS, 0 },
    { "TCP SYN+FIN", tcp_syn_fin, FA_CNT_TCP_BAD_FLAGS, 0 },
    { "TCP SYN+RST", tcp_syn_rst, FA_CNT_TCP_BAD_FLAGS, 0 },
    { "TCP to broadcast", tcp_to_bcast, FA_CNT_TCP_TO_BROADCAST, 0 },
    /* RFC 9293 §3.10.7.1: answered with a reset, counted as a drop. */
    { "TCP SYN to closed port", tcp_syn, FA_CNT_TCP_NO_LISTENER, 1 },
    { "TCP no flags to closed port", tcp_null, FA_CNT_TCP_NO_LISTENER, 1 },
};

static struct fa_stack *fresh_stack(struct capture *cap, struct fa_prng *prng)
{
    struct fa_config cfg;
    fa_config_init(&cfg);
    struct fa_stack *s = make_stack(cap, prng, &cfg);
    uint8_t fr[64];
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(s, fr, n, 0);
    cap->count = 0;
    return s;
}

static void each_bad_frame_bumps_its_counter(void **state)
{
    (void)state;
    static struct capture cap;
    struct fa_prng prng;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        memset(&cap, 0, sizeof cap);
        struct fa_stack *s = fresh_stack(&cap, &prng);
        uint8_t tmp[2048];
        size_t n = c->build(tmp);
        uint8_t *frame = malloc(n ? n : 1);
        memcpy(frame, tmp, n);
        uint64_t before = drops_total(s);
        fa_stack_input(s, frame, n, 0);
        free(frame);
        if (fa_stack_counter(s, c->counter) != 1 || drops_total(s) != before + 1 ||
            cap.count != c->frames_sent)
            fail_msg("case '%s': %s=%llu, drops +%llu, sent %zu (want 1, +1, %zu)",
                     c->name, fa_counter_name(c->counter),
                     (unsigned long long)fa_stack_counter(s, c->counter),
                     (unsigned long long)(drops_total(s) - before), cap.count,
                     c->frames_sent);
        fa_stack_destroy(s);
    }
}

static void every_drop_counter_is_exercised(void **state)
{
    (void)state;
    /* Counters the table does not reach must be reached by another test;
     * this list says which, so a new drop reason cannot go untested. */
    static const unsigned elsewhere[] = {
        FA_CNT_TX_DEVICE_ERRORS, /* test_multistack */
        FA_CNT_ARP_CACHE_FULL, FA_CNT_ARP_QUEUE_FULL, FA_CNT_ARP_UNRESOLVED, /* test_arp */
        FA_CNT_ICMP_BCAST_ECHO, FA_CNT_IP_NO_ROUTE, FA_CNT_ICMP_BCAST_ERROR, /* test_ipv4_icmp */
        FA_CNT_TCP_BACKLOG_FULL, FA_CNT_TCP_STRAY, /* test_tcp_segments */
        FA_CNT_TCP_SYNCOOKIES_FAILED,              /* test_tcp_syncookie */
        FA_CNT_TCP_HALF_OPEN_FULL,                 /* test_tcp_syncookie */
        /* test_drop_counters: they need a connection or a listener */
        FA_CNT_IP_TOO_BIG, FA_CNT_TCP_NO_MEMORY, FA_CNT_TCP_UNACCEPTABLE,
        FA_CNT_TCP_BAD_ACK, FA_CNT_TCP_OOO_FULL,
        FA_CNT_UDP_QUEUE_FULL, /* test_udp */
        FA_CNT_TCP_PAWS_DROPPED, FA_CNT_TCP_SACK_BAD, FA_CNT_TCP_ICMP_IGNORED, /* test_tcp_modern */
        FA_CNT_IP_LOOP_FULL, /* test_loopback */
        FA_CNT_RX_BAD_OFFLOAD, FA_CNT_TX_OFFLOAD_UNSENT, /* test_offload */
        FA_CNT_TCP_NO_BUFFER, /* test_tcp_mem */
    };
    for (unsigned id = 0; id < FA_CNT_COUNT; id++) {
        if (!fa_counter_is_drop(id))
            continue;
        int found = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            found |= cases[i].counter == id;
        for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++)
            found |= elsewhere[i] == id;
        if (!found)
            fail_msg("drop counter %s has no bad-input case", fa_counter_name(id));
    }
}

static void mutation_fuzz_never_crashes(void **state)
{
    (void)state;
    static struct capture cap;
    struct fa_prng prng, fuzz;
    struct fa_stack *s = fresh_stack(&cap, &prng);
    fa_prng_seed(&fuzz, 2026);
    static const build_fn seeds[] = { valid_udp, valid_echo, valid_arp, tcp_syn };
    const int rounds = 20000;
    for (int r = 0; r < rounds; r++) {
        uint8_t tmp[2048];
        size_t n = seeds[fa_prng_below(&fuzz, 4)](tmp);
        int flips = 1 + (int)fa_prng_below(&fuzz, 4);
        for (int k = 0; k < flips; k++)
            tmp[fa_prng_below(&fuzz, n)] ^= (uint8_t)(1 + fa_prng_below(&fuzz, 255));
        if (fa_prng_chance(&fuzz, 0.3))
            n = fa_prng_below(&fuzz, n + 1);
        uint8_t *frame = malloc(n ? n : 1);
        memcpy(frame, tmp, n);
        fa_stack_input(s, frame, n, (fa_time)r * FA_NS_PER_MS);
        free(frame);
        cap.count = 0;
    }
    assert_int_equal(fa_stack_counter(s, FA_CNT_RX_FRAMES), rounds + 1);
    fa_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_bad_frame_bumps_its_counter),
        cmocka_unit_test(every_drop_counter_is_exercised),
        cmocka_unit_test(mutation_fuzz_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
