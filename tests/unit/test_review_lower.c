/* test_review_lower.c — an independent review of the layers below TCP
 * (ARP, IPv4 input, UDP sockets, the configuration check); each case
 * asserts what the RFC or Linux does, and each failed:
 *   - an on-link host that sends ARP requests from made-up addresses
 *     never pushes a neighbour in use (the gateway) out of the cache;
 *   - an ARP request from a martian sender address (loopback, multicast,
 *     broadcast, 0/8) is neither answered nor learnt;
 *   - a unicast datagram from 0.0.0.0 is dropped (RFC 1122 §3.2.1.3);
 *   - one next hop that never answers cannot keep the whole ARP queue;
 *   - a broadcast datagram reaches every socket bound to its port;
 *   - an implicit bind with no ephemeral port left says -EAGAIN;
 *   - a gateway off the subnet, ours or a broadcast fails the check;
 *   - IPv4 options whose length or pointer is wrong, and source routes,
 *     are dropped and counted (a second review: they were answered). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

#define S FA_NS_PER_S
static const uint8_t zero6[6];

struct fx { struct capture cap; struct fa_prng prng; struct fa_config cfg; struct fa_stack *s; };

static struct fx *mk(void (*tweak)(struct fa_config *))
{
    struct fx *f = calloc(1, sizeof *f);
    fa_config_init(&f->cfg);
    if (tweak)
        tweak(&f->cfg);
    f->s = make_stack(&f->cap, &f->prng, &f->cfg);
    return f;
}
static void rm(struct fx *f) { fa_stack_destroy(f->s); free(f); }

static void arp_in(struct fa_stack *s, const uint8_t *edst, uint16_t op, const uint8_t *sha,
                   uint32_t spa, uint32_t tpa, fa_time t)
{
    uint8_t fr[64];
    size_t n = build_arp(fr, edst, op, sha, spa, zero6, tpa);
    fa_stack_input(s, fr, n, t);
}

/* One on-link host sending N ARP packets to us from N made-up SPAs
 * evicts every resolved entry in use, the gateway included. */
static void gw4(struct fa_config *c) { c->arp_cache_size = 4; c->gateway = IP_PEER; }
static void flush_evicts_gateway_in_use(void **st)
{
    (void)st;
    struct fx *f = mk(gw4);
    uint8_t mac[6];
    uint32_t far = FA_IPV4(203, 0, 113, 9);
    assert_int_equal(fa_stack_ping(f->s, far, 1, 1, NULL, 0, 0), 0);
    arp_in(f->s, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, IP_US, 1000);
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), 0);
    assert_int_equal(fa_stack_ping(f->s, far, 1, 2, NULL, 0, S), 0); /* in use */
    for (uint32_t i = 0; i < 4; i++)
        arp_in(f->s, fa_mac_broadcast, FA_ARP_REQUEST, mac_b, FA_IPV4(198, 18, 0, 100 + i),
               IP_US, S + 1);
    int r = fa_stack_arp_lookup(f->s, IP_PEER, mac);
    rm(f);
    assert_int_equal(r, 0);
}

/* ARP requests to us from martian SPAs are answered and learnt
 * (Linux: ip_route_input(tip, sip) fails for a martian sip: no reply,
 * no neighbour). */
static void martian_spa_learnt(void **st)
{
    (void)st;
    const uint32_t bad[] = { FA_IPV4(127, 0, 0, 1), FA_IPV4(224, 0, 0, 1), 0xffffffffu,
                             FA_IPV4(198, 18, 0, 255), FA_IPV4(0, 1, 2, 3) };
    unsigned learnt = 0, replies = 0;
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fx *f = mk(NULL);
        uint8_t fr[64], mac[6];
        size_t n = build_arp(fr, fa_mac_broadcast, FA_ARP_REQUEST, mac_b, bad[i], zero6, IP_US);
        fa_stack_input(f->s, fr, n, 0);
        replies += (unsigned)f->cap.count;
        learnt += fa_stack_arp_lookup(f->s, bad[i], mac) == 0;
        rm(f);
    }
    assert_int_equal(replies, 0);
    assert_int_equal(learnt, 0);
}

/* A unicast datagram from 0.0.0.0 is delivered (Linux: martian source
 * unless the destination is 255.255.255.255). */
static void zero_source_unicast_delivered(void **st)
{
    (void)st;
    struct fx *f = mk(NULL);
    struct fa_udp *u;
    assert_int_equal(fa_udp_open(f->s, &u), 0);
    assert_int_equal(fa_udp_bind(u, 0, 7), 0);
    uint8_t fr[128], buf[16];
    size_t n = build_udp(fr, mac_a, 0, IP_US, 68, 7, (const uint8_t *)"x", 1);
    fa_stack_input(f->s, fr, n, 0);
    long r = fa_udp_recvfrom(u, buf, sizeof buf, NULL, NULL, 0);
    rm(f);
    assert_int_equal(r, -EAGAIN);
}

/* One next hop that never answers fills the ARP queue: a packet to
 * another new neighbour takes the place of its oldest (it was refused,
 * -ENOBUFS, and UDP's was lost without a word). */
static void one_dead_neighbour_leaves_room(void **st)
{
    (void)st;
    struct fx *f = mk(NULL);
    for (int i = 0; i < 16; i++)
        assert_int_equal(fa_stack_ping(f->s, FA_IPV4(198, 18, 0, 50), 1, (uint16_t)i, NULL, 0, 0), 0);
    int r = fa_stack_ping(f->s, IP_PEER, 1, 99, NULL, 0, 0);
    uint64_t dropped = fa_stack_counter(f->s, FA_CNT_ARP_QUEUE_FULL);
    rm(f);
    assert_int_equal(r, 0);
    assert_int_equal(dropped, 1);
}

/* A broadcast reaches every socket bound to its port (two with
 * SO_REUSEADDR here), as Linux's __udp4_lib_mcast_deliver: only the
 * last got it. (finack has no SO_BROADCAST opt-in for sending: README.) */
static void udp_broadcast_reaches_every_socket(void **st)
{
    (void)st;
    struct fx *f = mk(NULL);
    struct fa_udp *a, *b;
    assert_int_equal(fa_udp_open(f->s, &a), 0);
    assert_int_equal(fa_udp_open(f->s, &b), 0);
    fa_udp_reuseaddr(a, 1);
    fa_udp_reuseaddr(b, 1);
    assert_int_equal(fa_udp_bind(a, 0, 9), 0);
    assert_int_equal(fa_udp_bind(b, 0, 9), 0);
    uint8_t fr[128], buf[16];
    size_t n = build_udp(fr, fa_mac_broadcast, IP_PEER, 0xffffffffu, 1000, 9, (const uint8_t *)"hi", 2);
    fa_stack_input(f->s, fr, n, 0);
    long ra = fa_udp_recvfrom(a, buf, sizeof buf, NULL, NULL, 0);
    long rb = fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, 0);
    rm(f);
    assert_int_equal(ra, 2);
    assert_int_equal(rb, 2);
}

/* Implicit bind with no ephemeral port left: Linux EAGAIN. */
static void one_port(struct fa_config *c) { c->tcp_port_min = c->tcp_port_max = 60000; }
static void autobind_errno(void **st)
{
    (void)st;
    struct fx *f = mk(one_port);
    struct fa_udp *a, *b;
    assert_int_equal(fa_udp_open(f->s, &a), 0);
    assert_int_equal(fa_udp_open(f->s, &b), 0);
    assert_int_equal(fa_udp_bind(a, 0, 0), 0);
    long r = fa_udp_sendto(b, "x", 1, IP_PEER, 9, 0);
    int c = fa_udp_connect(b, IP_PEER, 9);
    rm(f);
    assert_int_equal(r, -EAGAIN);
    assert_int_equal(c, -EAGAIN);
}

/* A gateway outside the subnet, our own address or a broadcast passes
 * fa_config_check (Linux: "Nexthop has invalid gateway"). */
static void gateway_unchecked(void **st)
{
    (void)st;
    const uint32_t gw[] = { FA_IPV4(10, 9, 9, 9), IP_US, 0xffffffffu, FA_IPV4(198, 18, 0, 255) };
    unsigned accepted = 0;
    for (unsigned i = 0; i < 4; i++) {
        struct capture *cap = calloc(1, sizeof *cap);
        struct fa_prng prng;
        struct fa_config c;
        fa_config_init(&c);
        fa_prng_seed(&prng, 1);
        c.addr = IP_US;
        c.gateway = gw[i];
        c.device = capture_device(cap);
        c.rng = fa_prng_rng(&prng);
        accepted += fa_config_check(&c) == NULL;
        free(cap);
    }
    assert_int_equal(accepted, 0);
}

/* An echo request from the (resolved) peer with IP options opts (olen
 * bytes, a multiple of 4) after the fixed header. */
static size_t echo_with_opts(uint8_t *buf, const uint8_t *opts, size_t olen)
{
    uint8_t tmp[256];
    size_t n = build_echo(tmp, mac_a, IP_PEER, IP_US, 7, 1, (const uint8_t *)"abcdefgh", 8);
    memcpy(buf, tmp, 34);
    memcpy(buf + 34, opts, olen);
    memcpy(buf + 34 + olen, tmp + 34, n - 34);
    buf[14] = (uint8_t)(0x40 | ((20 + olen) / 4));
    fa_put16(buf + 16, (uint16_t)(n - 14 + olen));
    refresh_ip_checksum(buf);
    return n + olen;
}

/* Linux's ip_options_compile refuses an option shorter than 2 or past
 * the header, and Record Route's or Timestamp's pointer below its
 * minimum; with accept_source_route 0 (a host's default) it drops LSRR
 * and SSRR (RFC 1122 §3.3.5: a host SHOULD discard an unfinished source
 * route; answering a SYN that carried one accepted a connection as if
 * we were its end). Good options (NOPs, a well-formed Record Route) are
 * still answered. */
static void bad_ip_options_dropped(void **st)
{
    (void)st;
    static const struct { uint8_t o[12]; size_t len; unsigned counter; } cases[] = {
        { { 1, 1, 1, 1 }, 4, 0 },                                   /* NOPs */
        { { 0x07, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 12, 0 },       /* Record Route */
        { { 0x07, 0x01, 0x00, 0x00 }, 4, FA_CNT_IP_BAD_OPTIONS },   /* length 1 */
        { { 0x07, 40, 4, 0 }, 4, FA_CNT_IP_BAD_OPTIONS },           /* past the header */
        { { 0x44, 0x00, 0x05, 0x00 }, 4, FA_CNT_IP_BAD_OPTIONS },   /* length 0 */
        { { 0x07, 3, 1, 0 }, 4, FA_CNT_IP_BAD_OPTIONS },            /* pointer 1 */
        { { 1, 1, 1, 0x07 }, 4, FA_CNT_IP_BAD_OPTIONS },            /* no length byte */
        { { 0x83, 7, 4, 10, 9, 9, 9, 0 }, 8, FA_CNT_IP_SOURCE_ROUTE }, /* LSRR unfinished */
        { { 0x89, 7, 8, 10, 9, 9, 9, 0 }, 8, FA_CNT_IP_SOURCE_ROUTE }, /* SSRR finished */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx *f = mk(NULL);
        uint8_t fr[256];
        arp_in(f->s, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, IP_US, 0);
        f->cap.count = 0;
        size_t n = echo_with_opts(fr, cases[i].o, cases[i].len);
        fa_stack_input(f->s, fr, n, S);
        fa_stack_poll(f->s, S);
        size_t out = f->cap.count;
        uint64_t counted = cases[i].counter ? fa_stack_counter(f->s, cases[i].counter) : 0;
        rm(f);
        print_message("case %zu: %zu frames out\n", i, out);
        assert_int_equal(out, cases[i].counter ? 0 : 1);
        assert_int_equal(counted, cases[i].counter ? 1 : 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flush_evicts_gateway_in_use),
        cmocka_unit_test(martian_spa_learnt),
        cmocka_unit_test(zero_source_unicast_delivered),
        cmocka_unit_test(one_dead_neighbour_leaves_room),
        cmocka_unit_test(udp_broadcast_reaches_every_socket),
        cmocka_unit_test(autobind_errno),
        cmocka_unit_test(gateway_unchecked),
        cmocka_unit_test(bad_ip_options_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
