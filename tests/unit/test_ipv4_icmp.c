/* test_ipv4_icmp.c — IPv4 input and output and ICMP: echo replies,
 * destination unreachable with RFC 1122 §3.2.2's exclusions and the rate
 * limit, routing via the gateway (never for 0/8, 127/8, multicast), the
 * MTU, and what a UDP socket hears of it: no datagram for an unbound one,
 * the hard ICMP errors, an error before queued data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

struct fixture {
    struct capture cap;
    struct fa_prng prng;
    struct fa_config cfg;
    struct fa_stack *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    fa_config_init(&f->cfg);
    f->s = make_stack(&f->cap, &f->prng, &f->cfg);
    /* Teach the stack the peer's MAC so replies leave at once. */
    uint8_t fr[64];
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(f->s, fr, n, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fa_stack_destroy(f->s);
    free(f);
    return 0;
}

static struct fa_ipv4_view sent_ip(struct fixture *f, size_t i)
{
    struct fa_ipv4_view ip;
    assert_true(i < f->cap.count);
    assert_int_equal(fa_get16(f->cap.frame[i] + 12), FA_ETHERTYPE_IPV4);
    assert_int_equal(fa_ipv4_hdr_parse(f->cap.frame[i] + 14, f->cap.len[i] - 14, &ip), 0);
    return ip;
}

static void echo_request_gets_reply(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[1600], data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    size_t n = build_echo(fr, mac_a, IP_PEER, IP_US, 0x4242, 7, data, sizeof data);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(f->cap.count, 1);
    struct fa_ipv4_view ip = sent_ip(f, 0);
    assert_int_equal(ip.src, IP_US);
    assert_int_equal(ip.dst, IP_PEER);
    assert_int_equal(ip.ttl, 64);
    struct fa_icmp_view icmp;
    assert_int_equal(fa_icmp_parse(ip.payload, ip.payload_len, &icmp), 0);
    assert_int_equal(icmp.type, FA_ICMP_ECHO_REPLY);
    assert_int_equal(fa_get32(icmp.rest), 0x42420007);
    assert_int_equal(icmp.data_len, sizeof data);
    assert_memory_equal(icmp.data, data, sizeof data);
    assert_memory_equal(f->cap.frame[0], mac_peer, 6);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_ECHO_IN), 1);
}

static void broadcast_echo_is_ignored(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[128];
    size_t n = build_echo(fr, fa_mac_broadcast, IP_PEER, FA_IPV4(198, 18, 0, 255),
                          1, 1, NULL, 0);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(f->cap.count, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_BCAST_ECHO), 1);
}

static void udp_to_closed_port_gets_port_unreachable(void **state) /* L25 */
{
    struct fixture *f = *state;
    uint8_t fr[128];
    size_t n = build_udp(fr, mac_a, IP_PEER, IP_US, 5555, 9, (const uint8_t *)"hi", 2);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_UDP_NO_PORT), 1);
    assert_int_equal(f->cap.count, 1);
    struct fa_ipv4_view ip = sent_ip(f, 0);
    struct fa_icmp_view icmp;
    assert_int_equal(fa_icmp_parse(ip.payload, ip.payload_len, &icmp), 0);
    assert_int_equal(icmp.type, FA_ICMP_UNREACH);
    assert_int_equal(icmp.code, FA_ICMP_UNREACH_PORT);
    /* It quotes the whole offending datagram (short enough to fit). */
    assert_int_equal(icmp.data_len, n - 14);
    assert_memory_equal(icmp.data, fr + 14, n - 14);
}

static void unknown_protocol_gets_protocol_unreachable(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[128], payload[8] = { 0 };
    size_t n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, 99, payload, 8);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_IP_UNKNOWN_PROTO), 1);
    struct fa_ipv4_view ip = sent_ip(f, 0);
    assert_int_equal(ip.payload[0], FA_ICMP_UNREACH);
    assert_int_equal(ip.payload[1], FA_ICMP_UNREACH_PROTO);
}

static void no_error_about_broadcast_or_icmp_error(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[256];
    /* UDP to the subnet broadcast: counted, never answered. */
    size_t n = build_udp(fr, fa_mac_broadcast, IP_PEER, FA_IPV4(198, 18, 0, 255),
                         1, 9, NULL, 0);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_UDP_NO_PORT), 1);
    /* An ICMP error of an unhandled kind: no error about an error. */
    uint8_t msg[36] = { 0 };
    fa_icmp_emit(msg, sizeof msg, 5 /* redirect */, 0, 0);
    n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, msg, sizeof msg);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_UNHANDLED), 1);
    /* Time exceeded goes to the transports (RFC 1122 §3.2.2.4); still no
     * error about it. */
    fa_icmp_emit(msg, sizeof msg, FA_ICMP_TIME_EXCEEDED, 0, 0);
    n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, msg, sizeof msg);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_OTHER_ERROR_IN), 1);
    assert_int_equal(f->cap.count, 0);
}

/* An ICMP error goes to the unicast source of what caused it: one sent to
 * a broadcast address is forged, and ignored (it was acted on: a review
 * reset an opening connection with one). */
static void error_to_broadcast_is_ignored(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[256], msg[36] = { 0 };
    fa_icmp_emit(msg, sizeof msg, FA_ICMP_UNREACH, FA_ICMP_UNREACH_PORT, 0);
    size_t n = build_ipv4(fr, fa_mac_broadcast, mac_peer, IP_PEER, FA_IPV4(198, 18, 0, 255),
                          FA_IPPROTO_ICMP, msg, sizeof msg);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_BCAST_ERROR), 1);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_UNREACH_IN), 0);
}

/* Loopback (127/8: RFC 1122 §3.2.1.3 (g) "MUST NOT appear outside a
 * host"), 240/4 and 0/8 (but 0.0.0.0) sources from the wire are dropped,
 * not answered. */
static void martian_sources_are_dropped(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[128], payload[8] = { 0 };
    const uint32_t srcs[] = { FA_IPV4(127, 0, 0, 1), FA_IPV4(240, 0, 0, 1),
                              FA_IPV4(0, 1, 2, 3) };
    for (int i = 0; i < 3; i++) {
        size_t n = build_ipv4(fr, mac_a, mac_peer, srcs[i], IP_US, 99, payload, 8);
        fa_stack_input(f->s, fr, n, 0);
    }
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_IP_BAD_SRC), 3);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_UNREACH_OUT), 0);
    assert_int_equal(f->cap.count, 0);
}

static void errors_are_rate_limited(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[128];
    size_t n = build_udp(fr, mac_a, IP_PEER, IP_US, 1, 9, NULL, 0);
    for (int i = 0; i < 25; i++)
        fa_stack_input(f->s, fr, n, 0);
    /* Burst of 10, then nothing until credit accrues at 100/s. */
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_UNREACH_OUT), 10);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_RATE_LIMITED), 15);
    fa_stack_input(f->s, fr, n, 10 * FA_NS_PER_MS);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_UNREACH_OUT), 11);
    fa_stack_input(f->s, fr, n, 10 * FA_NS_PER_MS);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_UNREACH_OUT), 11);
    /* After a long quiet spell the burst is back, but no more than it. */
    for (int i = 0; i < 25; i++)
        fa_stack_input(f->s, fr, n, 100 * FA_NS_PER_S);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_UNREACH_OUT), 21);
}

static void off_subnet_goes_to_gateway_or_fails(void **state)
{
    (void)state;
    struct capture cap = { 0 };
    struct fa_prng prng;
    struct fa_config cfg;
    fa_config_init(&cfg);
    struct fa_stack *s = make_stack(&cap, &prng, &cfg);
    assert_int_equal(fa_stack_ping(s, FA_IPV4(203, 0, 113, 9), 1, 1, NULL, 0, 0),
                     -ENETUNREACH);
    assert_int_equal(fa_stack_counter(s, FA_CNT_IP_NO_ROUTE), 1);
    assert_int_equal(cap.count, 0);
    fa_stack_destroy(s);

    memset(&cap, 0, sizeof cap);
    fa_config_init(&cfg);
    cfg.gateway = IP_PEER;
    s = make_stack(&cap, &prng, &cfg);
    assert_int_equal(fa_stack_ping(s, FA_IPV4(203, 0, 113, 9), 1, 1, NULL, 0, 0), 0);
    /* It resolves the gateway, not the far address. */
    struct fa_arp_view arp;
    assert_int_equal(fa_arp_parse(cap.frame[0] + 14, FA_ARP_LEN, &arp), 0);
    assert_int_equal(arp.tpa, IP_PEER);
    /* Addresses never on a wire get no route, even with a gateway: 127/8
     * (RFC 1122 §3.2.1.3 (g)) and 0/8 went out to the gateway, multicast
     * to the gateway's MAC (a review found them). */
    struct fa_udp *u;
    assert_int_equal(fa_udp_open(s, &u), 0);
    const uint32_t dsts[] = { FA_IPV4(127, 0, 0, 1), FA_IPV4(0, 1, 2, 3),
                              FA_IPV4(224, 0, 0, 251), FA_IPV4(240, 0, 0, 1) };
    size_t before = cap.count;
    for (int i = 0; i < 4; i++)
        assert_int_equal(fa_udp_sendto(u, "x", 1, dsts[i], 9, 0), -ENETUNREACH);
    assert_int_equal(cap.count, before);
    assert_int_equal(fa_stack_counter(s, FA_CNT_IP_NO_ROUTE), 4);
    fa_udp_close(u);
    fa_stack_destroy(s);
}

/* A socket not bound (port 0) takes no datagram: one to port 0 went to it
 * (a review found it); it is for nobody, and answered so. */
static void udp_port_zero_is_for_nobody(void **state)
{
    struct fixture *f = *state;
    struct fa_udp *u;
    assert_int_equal(fa_udp_open(f->s, &u), 0);
    uint8_t fr[128];
    size_t n = build_udp(fr, mac_a, IP_PEER, IP_US, 1000, 0, (const uint8_t *)"zero", 4);
    fa_stack_input(f->s, fr, n, 0);
    char buf[8];
    assert_int_equal(fa_udp_recvfrom(u, buf, sizeof buf, NULL, NULL, 0), -EAGAIN);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_UDP_NO_PORT), 1);
    fa_udp_close(u);
}

/* RFC 1122 §3.2.1.7: a host "MUST NOT discard a datagram just because it
 * was received with TTL less than 2" (finack dropped TTL 0). And a socket
 * bound to our unicast address hears no broadcast (as Linux); one bound
 * to any address does. Both found by a review. */
static void ttl_zero_delivered_and_broadcast_by_binding(void **state)
{
    struct fixture *f = *state;
    struct fa_udp *any, *uni;
    assert_int_equal(fa_udp_open(f->s, &any), 0);
    assert_int_equal(fa_udp_open(f->s, &uni), 0);
    assert_int_equal(fa_udp_bind(any, 0, 67), 0);
    assert_int_equal(fa_udp_bind(uni, IP_US, 68), 0);
    uint8_t fr[128];
    char buf[8];
    size_t n = build_udp(fr, mac_a, IP_PEER, IP_US, 1000, 68, (const uint8_t *)"ttl", 3);
    fr[14 + 8] = 0; /* TTL */
    fa_put16(fr + 14 + 10, 0);
    fa_csum_store(fr + 14 + 10, fa_csum_fold(fa_csum_add(0, fr + 14, 20)));
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_udp_recvfrom(uni, buf, sizeof buf, NULL, NULL, 0), 3);
    for (uint16_t port = 67; port <= 68; port++) {
        n = build_udp(fr, fa_mac_broadcast, IP_PEER, 0xffffffffu, 1000, port,
                      (const uint8_t *)"all", 3);
        fa_stack_input(f->s, fr, n, 0);
    }
    assert_int_equal(fa_udp_recvfrom(any, buf, sizeof buf, NULL, NULL, 0), 3);
    assert_int_equal(fa_udp_recvfrom(uni, buf, sizeof buf, NULL, NULL, 0), -EAGAIN);
    fa_udp_close(any);
    fa_udp_close(uni);
}

/* An ICMP error quoting what a connected socket sent: the hard ones are
 * reported as Linux's __udp4_lib_err does (only port unreachable was),
 * before any datagram already queued; soft ones (host unreachable, time
 * exceeded) are not. */
static void icmp_error_to_udp(struct fixture *f, uint8_t type, uint8_t code)
{
    uint8_t msg[8 + 28] = { 0 }, fr[128];
    uint8_t *q = msg + 8;
    fa_ipv4_hdr_emit(q, 28, 1, 0, 64, FA_IPPROTO_UDP, IP_US, IP_PEER);
    fa_put16(q + 20, 5000);
    fa_put16(q + 22, 53);
    fa_icmp_emit(msg, sizeof msg, type, code, 0);
    size_t n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, msg, sizeof msg);
    fa_stack_input(f->s, fr, n, 0);
}

static void connected_udp_hears_hard_errors(void **state)
{
    struct fixture *f = *state;
    struct fa_udp *u;
    assert_int_equal(fa_udp_open(f->s, &u), 0);
    assert_int_equal(fa_udp_bind(u, 0, 5000), 0);
    assert_int_equal(fa_udp_connect(u, IP_PEER, 53), 0);
    static const struct { uint8_t type, code; int err; } cases[] = {
        { FA_ICMP_UNREACH, FA_ICMP_UNREACH_NEEDFRAG, -EMSGSIZE },
        { FA_ICMP_UNREACH, 10, -EHOSTUNREACH },
        { FA_ICMP_UNREACH, FA_ICMP_UNREACH_PROTO, -ENOPROTOOPT },
        { FA_ICMP_PARAM_PROBLEM, 0, -EPROTO },
        { FA_ICMP_UNREACH, FA_ICMP_UNREACH_HOST, 0 },
        { FA_ICMP_TIME_EXCEEDED, 0, 0 },
    };
    char buf[8];
    for (int i = 0; i < 6; i++) {
        icmp_error_to_udp(f, cases[i].type, cases[i].code);
        assert_int_equal(fa_udp_recvfrom(u, buf, sizeof buf, NULL, NULL, 0),
                         cases[i].err ? cases[i].err : -EAGAIN);
    }
    /* A datagram queued, then port unreachable: the error first. */
    uint8_t fr[128];
    size_t n = build_udp(fr, mac_a, IP_PEER, IP_US, 53, 5000, (const uint8_t *)"data", 4);
    fa_stack_input(f->s, fr, n, 0);
    icmp_error_to_udp(f, FA_ICMP_UNREACH, FA_ICMP_UNREACH_PORT);
    assert_int_equal(fa_udp_recvfrom(u, buf, sizeof buf, NULL, NULL, 0), -ECONNREFUSED);
    assert_int_equal(fa_udp_recvfrom(u, buf, sizeof buf, NULL, NULL, 0), 4);
    fa_udp_close(u);
}

static void packets_beyond_mtu_are_refused(void **state)
{
    struct fixture *f = *state;
    static uint8_t data[1500];
    /* 1500 - 20 (IP) - 8 (ICMP) = 1472 fits; one more does not. */
    assert_int_equal(fa_stack_ping(f->s, IP_PEER, 1, 1, data, 1472, 0), 0);
    assert_int_equal(f->cap.len[0], 1514);
    assert_int_equal(fa_stack_ping(f->s, IP_PEER, 1, 1, data, 1473, 0), -EMSGSIZE);
    struct fa_ipv4_view ip = sent_ip(f, 0);
    assert_int_equal(ip.frag, FA_IPV4_DF);
}

static void echo_reply_counted(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[128], msg[8];
    fa_icmp_emit(msg, 8, FA_ICMP_ECHO_REPLY, 0, 0x00010001);
    size_t n = build_ipv4(fr, mac_a, mac_peer, IP_PEER, IP_US, FA_IPPROTO_ICMP, msg, 8);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ICMP_ECHO_REPLY_IN), 1);
    assert_int_equal(f->cap.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(echo_request_gets_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(broadcast_echo_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_to_closed_port_gets_port_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_protocol_gets_protocol_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(no_error_about_broadcast_or_icmp_error, setup, teardown),
        cmocka_unit_test_setup_teardown(error_to_broadcast_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(martian_sources_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_are_rate_limited, setup, teardown),
        cmocka_unit_test(off_subnet_goes_to_gateway_or_fails),
        cmocka_unit_test_setup_teardown(udp_port_zero_is_for_nobody, setup, teardown),
        cmocka_unit_test_setup_teardown(ttl_zero_delivered_and_broadcast_by_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(connected_udp_hears_hard_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(packets_beyond_mtu_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(echo_reply_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
