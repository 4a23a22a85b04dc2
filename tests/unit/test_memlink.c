/* test_memlink.c — the in-memory link: delay, rate, order, the bounded
 * queue; and two stacks resolving each other and pinging across it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"
#include "pair.h"

static void delay_rate_and_order(void **state)
{
    (void)state;
    fa_time now = 0;
    struct capture cap = { 0 };
    struct fa_memlink_config cfg;
    fa_memlink_config_init(&cfg);
    cfg.delay = 100 * FA_NS_PER_US;
    cfg.rate_bps = 8000000; /* 1 byte per µs */
    cfg.queue_frames = 3;
    struct fa_memlink *l;
    assert_int_equal(fa_memlink_create(&cfg, fa_clock_virtual(&now), &l), 0);
    fa_memlink_set_rx(l, 1, capture_device(&cap));
    struct fa_device tx = fa_memlink_tx(l, 0);
    uint8_t f[1000];
    for (int i = 0; i < 4; i++) {
        f[0] = (uint8_t)i;
        assert_int_equal(tx.transmit(tx.ctx, f, sizeof f), 0);
    }
    /* Fourth frame found the queue (3) full: dropped at the tail. */
    assert_int_equal(fa_memlink_stats(l, 1)->queue_drops, 1);
    /* First arrives after 1000 µs on the wire + 100 µs propagation. */
    assert_true(fa_memlink_deliver(l, 0) == 1100 * FA_NS_PER_US);
    assert_int_equal(cap.count, 0);
    assert_true(fa_memlink_deliver(l, 1100 * FA_NS_PER_US) == 2100 * FA_NS_PER_US);
    assert_int_equal(cap.count, 1);
    assert_true(fa_memlink_deliver(l, 5 * FA_NS_PER_MS) == FA_TIME_NEVER);
    assert_int_equal(cap.count, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cap.frame[i][0], i);
    assert_int_equal(fa_memlink_stats(l, 1)->delivered, 3);
    /* Too big for the link. */
    static uint8_t big[9019];
    assert_int_equal(tx.transmit(tx.ctx, big, sizeof big), -EMSGSIZE);
    fa_memlink_destroy(l);
}

static void two_stacks_resolve_and_ping(void **state)
{
    (void)state;
    static struct pair p;
    pair_init(&p, NULL, NULL, 1);
    assert_int_equal(fa_stack_ping(p.stack[0], p.addr[1], 9, 1, (const uint8_t *)"x", 1, p.now), 0);
    pair_run_until(&p, 10 * FA_NS_PER_MS);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_ICMP_ECHO_IN), 1);
    assert_int_equal(fa_stack_counter(p.stack[0], FA_CNT_ICMP_ECHO_REPLY_IN), 1);
    uint8_t mac[6];
    assert_int_equal(fa_stack_arp_lookup(p.stack[0], p.addr[1], mac), 0);
    assert_memory_equal(mac, fa_stack_config(p.stack[1])->mac, 6);
    /* B learned A from A's request (RFC 826 merge), so no ARP back. */
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_ARP_REQUESTS_OUT), 1 /* gratuitous */);
    pair_destroy(&p);
}

static int reflect(void *ctx, const uint8_t *frame, size_t len)
{
    struct fa_device *back = ctx;
    return back->transmit(back->ctx, frame, len);
}

/* A frame delivered at side 1 whose answer goes back towards side 0
 * during the same call: the returned time must include that answer. */
static void next_time_includes_replies_sent_during_delivery(void **state)
{
    (void)state;
    fa_time now = 0;
    struct capture cap = { 0 };
    struct fa_memlink_config cfg;
    fa_memlink_config_init(&cfg);
    struct fa_memlink *l;
    assert_int_equal(fa_memlink_create(&cfg, fa_clock_virtual(&now), &l), 0);
    struct fa_device back = fa_memlink_tx(l, 1);
    fa_memlink_set_rx(l, 1, (struct fa_device){ .ctx = &back, .transmit = reflect });
    fa_memlink_set_rx(l, 0, capture_device(&cap));
    struct fa_device tx = fa_memlink_tx(l, 0);
    uint8_t f[60] = { 0 };
    tx.transmit(tx.ctx, f, sizeof f);
    now = cfg.delay;
    assert_true(fa_memlink_deliver(l, now) == 2 * cfg.delay);
    now = 2 * cfg.delay;
    assert_true(fa_memlink_deliver(l, now) == FA_TIME_NEVER);
    assert_int_equal(cap.count, 1);
    fa_memlink_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delay_rate_and_order),
        cmocka_unit_test(two_stacks_resolve_and_ping),
        cmocka_unit_test(next_time_includes_replies_sent_during_delivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
