/* test_multistack.c — stacks are values: several in one process do not
 * share state; pings cross a lossy link reproducibly from a seed; and a
 * device that refuses frames is counted, not fatal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"
#include "pair.h"

static void ping_many(struct pair *p, int count)
{
    for (int i = 0; i < count; i++) {
        fa_stack_ping(p->stack[0], p->addr[1], 1, (uint16_t)i, (const uint8_t *)"data", 4, p->now);
        pair_run_until(p, p->now + 10 * FA_NS_PER_MS);
    }
    pair_run_until(p, p->now + 5 * FA_NS_PER_S);
}

static void two_pairs_are_independent(void **state)
{
    (void)state;
    static struct pair a, b;
    pair_init(&a, NULL, NULL, 1);
    pair_init(&b, NULL, NULL, 2);
    ping_many(&a, 30);
    ping_many(&b, 5);
    assert_int_equal(fa_stack_counter(a.stack[0], FA_CNT_ICMP_ECHO_REPLY_IN), 30);
    assert_int_equal(fa_stack_counter(b.stack[0], FA_CNT_ICMP_ECHO_REPLY_IN), 5);
    assert_int_equal(fa_stack_counter(b.stack[1], FA_CNT_ICMP_ECHO_IN), 5);
    pair_destroy(&a);
    pair_destroy(&b);
}

static uint64_t lossy_replies(uint64_t seed, uint64_t *arp_requests)
{
    static struct pair p;
    struct fa_fault_config fc;
    fa_fault_config_init(&fc);
    fc.drop = 0.2;
    pair_init(&p, NULL, &fc, seed);
    ping_many(&p, 200);
    uint64_t replies = fa_stack_counter(p.stack[0], FA_CNT_ICMP_ECHO_REPLY_IN);
    *arp_requests = fa_stack_counter(p.stack[0], FA_CNT_ARP_REQUESTS_OUT);
    pair_destroy(&p);
    return replies;
}

static void lossy_link_is_reproducible(void **state)
{
    (void)state;
    uint64_t arp1, arp2, arp3;
    uint64_t r1 = lossy_replies(11, &arp1);
    uint64_t r2 = lossy_replies(11, &arp2);
    uint64_t r3 = lossy_replies(12, &arp3);
    assert_int_equal(r1, r2);
    assert_int_equal(arp1, arp2);
    /* 20 % loss each way: about 64 % of 200 come back. */
    assert_true(r1 > 100 && r1 < 160);
    assert_true(r3 > 100 && r3 < 160);
}

static int refuse(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    (void)frame;
    (void)len;
    return -ENOBUFS;
}

static void device_errors_are_counted(void **state)
{
    (void)state;
    struct fa_prng prng;
    fa_prng_seed(&prng, 1);
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.addr = IP_US;
    cfg.device = (struct fa_device){ .transmit = refuse };
    cfg.rng = fa_prng_rng(&prng);
    struct fa_stack *s;
    assert_int_equal(fa_stack_create(&cfg, 0, &s), 0);
    assert_int_equal(fa_stack_counter(s, FA_CNT_TX_DEVICE_ERRORS), 1); /* the announcement */
    assert_int_equal(fa_stack_counter(s, FA_CNT_TX_FRAMES), 0);
    fa_stack_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_pairs_are_independent),
        cmocka_unit_test(lossy_link_is_reproducible),
        cmocka_unit_test(device_errors_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
