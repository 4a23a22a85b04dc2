/* test_wire.c — header parse/emit round trips and address text forms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

static void arp_round_trip(void **state)
{
    (void)state;
    uint8_t pkt[FA_ARP_LEN];
    fa_arp_emit(pkt, FA_ARP_REPLY, mac_a, IP_US, mac_b, IP_PEER);
    struct fa_arp_view v;
    assert_int_equal(fa_arp_parse(pkt, sizeof pkt, &v), 0);
    assert_int_equal(v.op, FA_ARP_REPLY);
    assert_memory_equal(v.sha, mac_a, 6);
    assert_memory_equal(v.tha, mac_b, 6);
    assert_int_equal(v.spa, IP_US);
    assert_int_equal(v.tpa, IP_PEER);
    assert_int_equal(fa_arp_parse(pkt, FA_ARP_LEN - 1, &v), FA_CNT_ARP_MALFORMED);
}

static void ipv4_round_trip_and_padding(void **state)
{
    (void)state;
    uint8_t pkt[64] = { 0 };
    fa_ipv4_hdr_emit(pkt, 28, 7, FA_IPV4_DF, 9, FA_IPPROTO_UDP, IP_PEER, IP_US);
    struct fa_ipv4_view v;
    /* Ethernet pads short frames: a buffer longer than total_len is fine. */
    assert_int_equal(fa_ipv4_hdr_parse(pkt, sizeof pkt, &v), 0);
    assert_int_equal(v.hlen, 20);
    assert_int_equal(v.total_len, 28);
    assert_int_equal(v.payload_len, 8);
    assert_int_equal(v.ttl, 9);
    assert_int_equal(v.proto, FA_IPPROTO_UDP);
    assert_int_equal(v.src, IP_PEER);
    assert_int_equal(v.dst, IP_US);
    assert_int_equal(v.frag, FA_IPV4_DF);
    assert_ptr_equal(v.payload, pkt + 20);
}

static void ipv4_options_are_skipped(void **state)
{
    (void)state;
    uint8_t pkt[32] = { 0 };
    fa_ipv4_hdr_emit(pkt, 32, 1, 0, 64, FA_IPPROTO_UDP, IP_PEER, IP_US);
    pkt[0] = 0x46; /* IHL 6: one 4-byte option word */
    pkt[20] = 1;   /* NOP options */
    pkt[21] = 1;
    pkt[22] = 1;
    pkt[23] = 0;
    pkt[10] = pkt[11] = 0;
    fa_csum_store(pkt + 10, fa_csum_fold(fa_csum_add(0, pkt, 24)));
    struct fa_ipv4_view v;
    assert_int_equal(fa_ipv4_hdr_parse(pkt, sizeof pkt, &v), 0);
    assert_int_equal(v.hlen, 24);
    assert_int_equal(v.payload_len, 8);
    assert_ptr_equal(v.payload, pkt + 24);
}

static void icmp_round_trip(void **state)
{
    (void)state;
    uint8_t msg[16] = { 0 };
    memcpy(msg + 8, "abcdefgh", 8);
    fa_icmp_emit(msg, sizeof msg, FA_ICMP_ECHO, 0, 0x00010002);
    struct fa_icmp_view v;
    assert_int_equal(fa_icmp_parse(msg, sizeof msg, &v), 0);
    assert_int_equal(v.type, FA_ICMP_ECHO);
    assert_int_equal(fa_get32(v.rest), 0x00010002);
    assert_int_equal(v.data_len, 8);
    msg[9] ^= 0x40;
    assert_int_equal(fa_icmp_parse(msg, sizeof msg, &v), FA_CNT_ICMP_BAD_CHECKSUM);
}

static void address_text_forms(void **state)
{
    (void)state;
    uint32_t a;
    char buf[16];
    assert_int_equal(fa_ipv4_parse("198.18.0.2", &a), 0);
    assert_int_equal(a, FA_IPV4(198, 18, 0, 2));
    assert_string_equal(fa_ipv4_format(a, buf), "198.18.0.2");
    assert_string_equal(fa_ipv4_format(FA_IPV4(0, 10, 100, 255), buf), "0.10.100.255");
    static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1",
                                       "1.2.3.4 ", "a.b.c.d", "1..2.3", "1.2.3.1000" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fa_ipv4_parse(bad[i], &a), -EINVAL);
    uint8_t mac[6];
    assert_int_equal(fa_mac_parse("02:fa:00:0A:bc:01", mac), 0);
    assert_int_equal(mac[1], 0xfa);
    assert_int_equal(mac[3], 0x0a);
    assert_int_equal(fa_mac_parse("02:fa:00:0a:bc", mac), -EINVAL);
    assert_int_equal(fa_mac_parse("02:fa:00:0a:bc:1", mac), -EINVAL);
    assert_int_equal(fa_mac_parse("02:fa:00:0a:bc:011", mac), -EINVAL);
}

static void broadcast_classification(void **state)
{
    (void)state;
    uint32_t net = FA_IPV4(198, 18, 0, 2);
    assert_true(fa_ipv4_is_broadcast(0xffffffffu, net, 24));
    assert_true(fa_ipv4_is_broadcast(FA_IPV4(198, 18, 0, 255), net, 24));
    assert_false(fa_ipv4_is_broadcast(FA_IPV4(198, 18, 1, 255), net, 24));
    assert_false(fa_ipv4_is_broadcast(FA_IPV4(198, 18, 0, 255), net, 16));
    /* RFC 3021: a /31 has no broadcast address. */
    assert_false(fa_ipv4_is_broadcast(FA_IPV4(198, 18, 0, 3), net, 31));
    assert_true(fa_ipv4_is_multicast(FA_IPV4(224, 0, 0, 1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arp_round_trip),
        cmocka_unit_test(ipv4_round_trip_and_padding),
        cmocka_unit_test(ipv4_options_are_skipped),
        cmocka_unit_test(icmp_round_trip),
        cmocka_unit_test(address_text_forms),
        cmocka_unit_test(broadcast_classification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
