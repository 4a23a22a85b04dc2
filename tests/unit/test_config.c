/* test_config.c — documented defaults, config validation messages, and
 * stacks as independent values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

static void defaults_are_the_documented_ones(void **state)
{
    (void)state;
    struct fa_config c;
    fa_config_init(&c);
    assert_int_equal(c.prefix_len, 24);
    assert_int_equal(c.mtu, 1500);
    assert_int_equal(c.ttl, 64);
    assert_int_equal(c.arp_cache_size, 64);
    assert_int_equal(c.arp_queue_size, 16);
    assert_true(c.arp_reachable_time == 60 * FA_NS_PER_S);
    assert_true(c.arp_revalidate_time == 30 * FA_NS_PER_S);
    assert_true(c.arp_retry_interval == FA_NS_PER_S);
    assert_int_equal(c.arp_max_requests, 3);
    assert_int_equal(c.icmp_error_rate, 100);
    assert_int_equal(c.icmp_error_burst, 10);
    assert_int_equal(c.tcp_sb_max, 8192);
    /* Without device, rng and address it is rejected with a reason. */
    assert_non_null(fa_config_check(&c));
    struct fa_stack *s = NULL;
    assert_int_equal(fa_stack_create(&c, 0, &s), -EINVAL);
    assert_null(s);
}

static void each_bad_field_is_named(void **state)
{
    (void)state;
    struct capture cap = { 0 };
    struct fa_prng prng;
    fa_prng_seed(&prng, 1);
    struct fa_config good;
    fa_config_init(&good);
    good.addr = IP_US;
    good.device = capture_device(&cap);
    good.rng = fa_prng_rng(&prng);
    assert_null(fa_config_check(&good));

    struct fa_config c = good;
    c.mtu = 67;
    assert_non_null(strstr(fa_config_check(&c), "mtu"));
    c = good;
    c.prefix_len = 33;
    assert_non_null(strstr(fa_config_check(&c), "prefix_len"));
    c = good;
    c.addr = FA_IPV4(224, 0, 0, 1);
    assert_non_null(strstr(fa_config_check(&c), "addr"));
    c = good;
    c.mac[0] = 0x01;
    assert_non_null(strstr(fa_config_check(&c), "mac"));
    c = good;
    c.arp_revalidate_time = c.arp_reachable_time;
    assert_non_null(strstr(fa_config_check(&c), "arp_revalidate_time"));
    c = good;
    c.tcp_orphan_retries = 255;
    assert_non_null(strstr(fa_config_check(&c), "tcp_orphan_retries"));
    c = good;
    c.tcp_syn_retries = 128; /* (255 never gave up) */
    assert_non_null(strstr(fa_config_check(&c), "tcp_syn_retries"));
    c = good;
    c.tcp_synack_retries = 255;
    assert_non_null(strstr(fa_config_check(&c), "tcp_synack_retries"));
    c = good;
    c.tcp_syn_retries = c.tcp_synack_retries = 127;
    assert_null(fa_config_check(&c));
    c = good;
    c.rng.next = NULL;
    assert_non_null(strstr(fa_config_check(&c), "rng"));
    /* Kept in 32 bits per connection: keepalive in ms, the RTO in µs. */
    c = good;
    c.tcp_keep_idle = 32768 * FA_NS_PER_S;
    assert_non_null(strstr(fa_config_check(&c), "tcp_keep_idle"));
    c = good;
    c.tcp_keep_intvl = FA_NS_PER_MS - 1;
    assert_non_null(strstr(fa_config_check(&c), "tcp_keep_intvl"));
    c = good;
    c.tcp_sb_max = 3;
    assert_non_null(strstr(fa_config_check(&c), "tcp_sb_max"));
    c = good;
    c.tcp_rto_max = 4295 * FA_NS_PER_S;
    assert_non_null(strstr(fa_config_check(&c), "tcp_rto_max"));
}

static void zero_mac_becomes_random_local_unicast(void **state)
{
    (void)state;
    struct capture cap = { 0 };
    struct fa_prng prng;
    struct fa_config c;
    fa_config_init(&c);
    c.addr = IP_US;
    fa_prng_seed(&prng, 99);
    c.device = capture_device(&cap);
    c.rng = fa_prng_rng(&prng);
    struct fa_stack *s;
    assert_int_equal(fa_stack_create(&c, 0, &s), 0);
    const uint8_t *mac = fa_stack_config(s)->mac;
    assert_int_equal(mac[0] & 0x03, 0x02);
    /* The gratuitous ARP announces the address with that MAC. */
    assert_int_equal(cap.count, 1);
    assert_memory_equal(cap.frame[0] + 6, mac, 6);
    assert_int_equal(fa_get16(cap.frame[0] + 12), FA_ETHERTYPE_ARP);
    assert_int_equal(fa_get32(cap.frame[0] + 14 + 14), IP_US); /* SPA */
    assert_int_equal(fa_get32(cap.frame[0] + 14 + 24), IP_US); /* TPA */
    fa_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_ones),
        cmocka_unit_test(each_bad_field_is_named),
        cmocka_unit_test(zero_mac_becomes_random_local_unicast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
