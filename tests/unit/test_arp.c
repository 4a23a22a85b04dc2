/* test_arp.c — ARP: answering requests, resolution with a waiting queue
 * released in order, retries and giving up, expiry, re-validation by
 * unicast probe, and the bounds of cache and queue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

#define S FA_NS_PER_S
#define MS FA_NS_PER_MS

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

static const uint8_t zero6[6];

static void assert_arp(const uint8_t *frame, const uint8_t *eth_dst, uint16_t op,
                       uint32_t tpa)
{
    struct fa_arp_view v;
    assert_memory_equal(frame, eth_dst, 6);
    assert_memory_equal(frame + 6, mac_a, 6);
    assert_int_equal(fa_get16(frame + 12), FA_ETHERTYPE_ARP);
    assert_int_equal(fa_arp_parse(frame + 14, FA_ARP_LEN, &v), 0);
    assert_int_equal(v.op, op);
    assert_memory_equal(v.sha, mac_a, 6);
    assert_int_equal(v.spa, IP_US);
    assert_int_equal(v.tpa, tpa);
}

static void answers_request_for_our_address(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[64];
    size_t n = build_arp(fr, fa_mac_broadcast, FA_ARP_REQUEST, mac_peer, IP_PEER,
                         zero6, IP_US);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(f->cap.count, 1);
    assert_arp(f->cap.frame[0], mac_peer, FA_ARP_REPLY, IP_PEER);
    assert_memory_equal(f->cap.frame[0] + 14 + 18, mac_peer, 6); /* THA */
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ARP_REQUESTS_IN), 1);
    /* RFC 826: the requester is now in our cache. */
    uint8_t mac[6];
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), 0);
    assert_memory_equal(mac, mac_peer, 6);
}

static void ignores_request_for_other_address(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[64];
    size_t n = build_arp(fr, fa_mac_broadcast, FA_ARP_REQUEST, mac_peer, IP_PEER,
                         zero6, FA_IPV4(198, 18, 0, 77));
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(f->cap.count, 0);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ARP_NOT_FOR_US), 1);
    uint8_t mac[6];
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), -ENOENT);
}

static void queued_packets_leave_in_order_once_resolved(void **state)
{
    struct fixture *f = *state;
    for (uint16_t seq = 0; seq < 3; seq++)
        assert_int_equal(fa_stack_ping(f->s, IP_PEER, 1, seq, NULL, 0, 0), 0);
    /* One broadcast request, not three; the pings wait. */
    assert_int_equal(f->cap.count, 1);
    assert_arp(f->cap.frame[0], fa_mac_broadcast, FA_ARP_REQUEST, IP_PEER);
    uint8_t fr[64];
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(f->s, fr, n, 10 * FA_NS_PER_MS);
    assert_int_equal(f->cap.count, 4);
    for (int i = 0; i < 3; i++) {
        const uint8_t *p = f->cap.frame[1 + i];
        assert_memory_equal(p, mac_peer, 6);
        assert_int_equal(fa_get16(p + 14 + 20 + 6), i); /* echo seq */
    }
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ARP_REPLIES_IN), 1);
}

static void gives_up_after_max_requests(void **state)
{
    struct fixture *f = *state;
    fa_stack_ping(f->s, IP_PEER, 1, 1, NULL, 0, 0);
    fa_stack_ping(f->s, IP_PEER, 1, 2, NULL, 0, 0);
    assert_int_equal(f->cap.count, 1);
    fa_time next = fa_stack_poll(f->s, 0);
    assert_true(next == 1 * S); /* retry interval */
    next = fa_stack_poll(f->s, 1 * S);
    assert_int_equal(f->cap.count, 2);
    assert_true(next == 2 * S);
    fa_stack_poll(f->s, 2 * S);
    assert_int_equal(f->cap.count, 3);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ARP_REQUESTS_OUT), 3);
    next = fa_stack_poll(f->s, 3 * S);
    assert_int_equal(f->cap.count, 3); /* no fourth request */
    assert_true(next == FA_TIME_NEVER);
    assert_int_equal(fa_stack_counter(f->s, FA_CNT_ARP_UNRESOLVED), 2);
}

static void entry_revalidated_in_use_and_expires_unconfirmed(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[64];
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(f->s, fr, n, 0);
    /* Before the revalidate time, use sends no probe. */
    fa_stack_ping(f->s, IP_PEER, 1, 1, NULL, 0, 29 * S);
    assert_int_equal(f->cap.count, 1);
    /* After it, a unicast request to the cached MAC goes with the packet. */
    fa_stack_ping(f->s, IP_PEER, 1, 2, NULL, 0, 31 * S);
    assert_int_equal(f->cap.count, 3);
    assert_arp(f->cap.frame[1], mac_peer, FA_ARP_REQUEST, IP_PEER);
    /* Unconfirmed past reachable_time (60 s), it is stale, as Linux's
     * NUD_STALE: its address still serves — a packet after a quiet spell
     * goes at once, not after a fresh resolution (on a link of seconds
     * that never came in three tries: apps seed 3391) — and each use
     * re-validates it, a request a retry interval at most. */
    assert_true(fa_stack_poll(f->s, 59 * S) == 60 * S);
    fa_stack_poll(f->s, 60 * S);
    uint8_t mac[6];
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), 0);
    fa_stack_ping(f->s, IP_PEER, 1, 3, NULL, 0, 61 * S);
    assert_int_equal(f->cap.count, 5); /* the request, then the ping */
    assert_arp(f->cap.frame[3], mac_peer, FA_ARP_REQUEST, IP_PEER);
    fa_stack_ping(f->s, IP_PEER, 1, 4, NULL, 0, 61 * S + 500 * MS);
    assert_int_equal(f->cap.count, 6); /* within the interval: no request */
    fa_stack_ping(f->s, IP_PEER, 1, 5, NULL, 0, 62 * S);
    assert_int_equal(f->cap.count, 8); /* the third and last request */
    /* Its last request unanswered a retry interval on, it goes. */
    assert_true(fa_stack_poll(f->s, 62 * S + 1) == 63 * S);
    fa_stack_poll(f->s, 63 * S);
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), -ENOENT);
}

static void probe_reply_extends_entry(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[64];
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(f->s, fr, n, 0);
    fa_stack_ping(f->s, IP_PEER, 1, 2, NULL, 0, 31 * S);
    fa_stack_input(f->s, fr, n, 31 * S); /* the probe's answer */
    fa_stack_poll(f->s, 70 * S);
    uint8_t mac[6];
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), 0);
    assert_true(fa_stack_poll(f->s, 70 * S) == 91 * S);
}

static void gratuitous_arp_updates_existing_entry_only(void **state)
{
    struct fixture *f = *state;
    uint8_t fr[64], mac[6];
    /* Announcement from a host we do not know: not cached. */
    size_t n = build_arp(fr, fa_mac_broadcast, FA_ARP_REQUEST, mac_peer, IP_PEER,
                         zero6, IP_PEER);
    fa_stack_input(f->s, fr, n, 0);
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), -ENOENT);
    /* Known host moves to a new MAC: cache follows. */
    n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(f->s, fr, n, 0);
    n = build_arp(fr, fa_mac_broadcast, FA_ARP_REQUEST, mac_b, IP_PEER, zero6, IP_PEER);
    fa_stack_input(f->s, fr, n, 1);
    assert_int_equal(fa_stack_arp_lookup(f->s, IP_PEER, mac), 0);
    assert_memory_equal(mac, mac_b, 6);
}

static void queue_and_cache_are_bounded(void **state)
{
    (void)state;
    struct capture cap = { 0 };
    struct fa_prng prng;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.arp_queue_size = 2;
    cfg.arp_cache_size = 2;
    cfg.addr = IP_US;
    cfg.arp_gratuitous = 0;
    struct fa_stack *s = make_stack(&cap, &prng, &cfg);
    assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 1, NULL, 0, 0), 0);
    assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 2, NULL, 0, 0), 0);
    assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 3, NULL, 0, 0), -ENOBUFS);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ARP_QUEUE_FULL), 1);
    /* Two pending resolutions fill the cache; the second's packet finds
     * the queue full and takes the place of the first's oldest (one next
     * hop never keeps the whole queue); a third has no room while they
     * are young. */
    assert_int_equal(fa_stack_ping(s, FA_IPV4(198, 18, 0, 3), 1, 1, NULL, 0, 1), 0);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ARP_QUEUE_FULL), 2);
    assert_int_equal(fa_stack_ping(s, FA_IPV4(198, 18, 0, 4), 1, 1, NULL, 0, 2), -ENOBUFS);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ARP_CACHE_FULL), 1);
    /* A retry interval on, the oldest's slot is taken: its queued packet
     * is dropped and counted, and the new one finds room. */
    assert_int_equal(fa_stack_ping(s, FA_IPV4(198, 18, 0, 4), 1, 1, NULL, 0, S), 0);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ARP_CACHE_FULL), 2);
    fa_stack_destroy(s);
}

/* The flood tests: a 4-entry cache on a /16 (room for many neighbours)
 * and packets to addresses that never answer — a SYN flood's spoofed
 * sources, each SYN-ACK wanting a resolution. */
#define US FA_NS_PER_US

static int flood_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    fa_config_init(&f->cfg);
    f->cfg.arp_cache_size = 4;
    f->cfg.prefix_len = 16;
    f->s = make_stack(&f->cap, &f->prng, &f->cfg);
    *state = f;
    return 0;
}

/* A packet to the next of 60,000 addresses that never answer. */
static uint32_t flood_i;
static void flood_one(struct fa_stack *s, fa_time t)
{
    uint32_t i = flood_i++ % 60000;
    fa_stack_ping(s, FA_IPV4(198, 18, 1 + i / 250, 1 + i % 250), 1, 1, NULL, 0, t);
}

/* The neighbour at ip asks for us: its entry is made. */
static void asks(struct fa_stack *s, uint32_t ip, const uint8_t *mac, fa_time t)
{
    uint8_t fr[64];
    size_t n = build_arp(fr, fa_mac_broadcast, FA_ARP_REQUEST, mac, ip, zero6, IP_US);
    fa_stack_input(s, fr, n, t);
}

/* 10,000 packets in an instant, then 10,000 a retry interval later,
 * take turns in the slots of unresolved entries, each slot once per
 * interval: three ARP requests each time (the two free entries and the
 * idle one; then those three taken again). The neighbour in use keeps
 * its entry and its packets go at once. */
static void neighbour_in_use_survives_a_flood(void **state)
{
    struct fixture *f = *state;
    struct fa_stack *s = f->s;
    uint8_t fr[64], mac[6];
    asks(s, IP_PEER, mac_peer, 0);
    asks(s, FA_IPV4(198, 18, 0, 9), mac_b, 0);
    fa_time t = 40 * S; /* .9 idle since; the peer in use: */
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(s, fr, n, t);
    assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 1, NULL, 0, t), 0);
    for (int round = 0; round < 2; round++) {
        size_t sent = f->cap.count;
        for (uint32_t i = 0; i < 10000; i++)
            flood_one(s, t);
        assert_int_equal(f->cap.count - sent, 3);
        t += f->cfg.arp_retry_interval;
    }
    assert_int_equal(fa_stack_arp_lookup(s, IP_PEER, mac), 0);
    assert_memory_equal(mac, mac_peer, 6);
    assert_int_equal(fa_stack_arp_lookup(s, FA_IPV4(198, 18, 0, 9), mac), -ENOENT);
    size_t before = f->cap.count;
    assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 1, NULL, 0, t), 0);
    assert_int_equal(f->cap.count, before + 1); /* sent, not queued */

}

/* At 10,000 packets/s, the neighbour in use (a packet every 10 ms) at its
 * re-validation (its probe out, the answer 150 us later) keeps its entry:
 * a flood packet in that gap must not take it, and none of its next
 * 1,000 packets is dropped. */
static void neighbour_in_use_kept_at_revalidation(void **state)
{
    struct fixture *f = *state;
    struct fa_stack *s = f->s;
    uint8_t fr[64], mac[6];
    asks(s, IP_PEER, mac_peer, 0);
    fa_time t = 0;
    for (; t < 30 * S; t += 100 * US) {
        if (t >= 500 * FA_NS_PER_MS) /* (no pending entry 1 s old at 30 s) */
            flood_one(s, t);
        if (t % (10 * FA_NS_PER_MS) == 0)
            assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 1, NULL, 0, t), 0);
        fa_stack_poll(s, t);
    }
    assert_int_equal(fa_stack_arp_lookup(s, IP_PEER, mac), 0);
    /* t = 30 s: the packet to the neighbour sends the unicast probe. */
    assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 1, NULL, 0, t), 0);
    flood_one(s, t + 100 * US);
    size_t n = build_arp(fr, mac_a, FA_ARP_REPLY, mac_peer, IP_PEER, mac_a, IP_US);
    fa_stack_input(s, fr, n, t + 150 * US);
    assert_int_equal(fa_stack_arp_lookup(s, IP_PEER, mac), 0);
    unsigned dropped = 0;
    for (t += 300 * US; t < 40 * S; t += 100 * US) {
        flood_one(s, t);
        if (t % (10 * FA_NS_PER_MS) == 300 * US) {
            uint64_t f0 = fa_stack_counter(s, FA_CNT_ARP_CACHE_FULL);
            fa_stack_ping(s, IP_PEER, 1, 1, NULL, 0, t);
            dropped += fa_stack_counter(s, FA_CNT_ARP_CACHE_FULL) > f0;
        }
        fa_stack_poll(s, t);
    }
    assert_int_equal(dropped, 0);

}

/* A new neighbour's ARP request to us during the flood proves it
 * (spoofed sources send none): it takes a pending entry at once, every
 * time it asks. */
static void new_neighbour_learnt_during_a_flood(void **state)
{
    struct fixture *f = *state;
    struct fa_stack *s = f->s;
    uint8_t mac[6];
    unsigned learnt = 0, tries = 0;
    for (fa_time t = 0; t < 20 * S; t += 100 * US) {
        flood_one(s, t);
        if (t >= 5 * S && t % S == 500 * FA_NS_PER_MS) {
            tries++;
            asks(s, IP_PEER, mac_peer, t);
            learnt += fa_stack_arp_lookup(s, IP_PEER, mac) == 0;
        }
        fa_stack_poll(s, t);
    }
    assert_int_equal(learnt, tries);

}

/* A cache full of resolved neighbours in use (each asked for us within
 * 30 s, one sent to at 10 s): the first flood packet finds nothing it
 * may take and is dropped; the neighbour in use keeps its entry. */
static void full_cache_of_neighbours_in_use(void **state)
{
    struct fixture *f = *state;
    struct fa_stack *s = f->s;
    uint8_t mac[6];
    asks(s, IP_PEER, mac_peer, 0);
    for (uint32_t i = 7; i <= 9; i++)
        asks(s, FA_IPV4(198, 18, 0, i), mac_b, (i - 6) * S);
    fa_time t = 10 * S;
    assert_int_equal(fa_stack_ping(s, IP_PEER, 1, 1, NULL, 0, t), 0);
    uint64_t full = fa_stack_counter(s, FA_CNT_ARP_CACHE_FULL);
    flood_one(s, t);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ARP_CACHE_FULL), full + 1);
    assert_int_equal(fa_stack_arp_lookup(s, IP_PEER, mac), 0);

}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(answers_request_for_our_address, setup, teardown),
        cmocka_unit_test_setup_teardown(ignores_request_for_other_address, setup, teardown),
        cmocka_unit_test_setup_teardown(queued_packets_leave_in_order_once_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(gives_up_after_max_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(entry_revalidated_in_use_and_expires_unconfirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(probe_reply_extends_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(gratuitous_arp_updates_existing_entry_only, setup, teardown),
        cmocka_unit_test(queue_and_cache_are_bounded),
        cmocka_unit_test_setup_teardown(neighbour_in_use_survives_a_flood, flood_setup, teardown),
        cmocka_unit_test_setup_teardown(neighbour_in_use_kept_at_revalidation, flood_setup, teardown),
        cmocka_unit_test_setup_teardown(new_neighbour_learnt_during_a_flood, flood_setup, teardown),
        cmocka_unit_test_setup_teardown(full_cache_of_neighbours_in_use, flood_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
