/* test_drop_counters.c — the drop counters no other test reached, each
 * bumped by what should bump it: a packet larger than the MTU handed to
 * the IP layer, a SYN with the connection table full, segments
 * outside the window, ACKs of data never sent, and out-of-order pieces
 * beyond what reassembly holds. (check_drop_counters.sh makes sure every
 * drop counter is asserted by some test.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "peer.h"
#include "tcp/tcp.h"

#define ACK FA_TCP_ACK
#define SYN FA_TCP_SYN

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    return 0;
}

/* IP_TOO_BIG: every caller sizes what it sends to the MTU (an oversized
 * frame is dropped on input, ETH_OVERSIZE, so no echo reply can outgrow
 * it): only a bug in a caller reaches the guard, so it is tested at the
 * layer's own call. */
static void ip_send_beyond_the_mtu(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    size_t max = fa_ip_payload_max(pe.s);
    assert_int_equal(fa_ip_send(pe.s, IP_PEER, FA_IPPROTO_UDP, max + 1, pe.now), -EMSGSIZE);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_IP_TOO_BIG), 1);
    assert_true(peer_quiet(&pe));
}

/* TCP_NO_MEMORY: every control block in use; a SYN finds none. */
static void syn_with_the_table_full(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_max_conns = 2;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *l, *c = peer_accepted(&pe, 8080, &l); /* 2 blocks in use */
    pe.port = 81;
    peer_send(&pe, SYN, 0x30000000, 0, 65535, NULL, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_NO_MEMORY), 1);
    assert_true(peer_quiet(&pe));
    fa_tcp_close(c, pe.now);
    fa_tcp_close(l, pe.now);
}

/* TCP_UNACCEPTABLE and TCP_BAD_ACK in an established connection. */
static void outside_the_window_and_bad_acks(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_send(&pe, ACK, pe.snd_nxt + 0x10000000, pe.rcv_nxt, 65535, "x", 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_UNACCEPTABLE), 1);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt); /* answered with an ACK */
    pe.now += FA_NS_PER_S;
    peer_send(&pe, ACK, pe.snd_nxt, pe.rcv_nxt + 100000, 65535, NULL, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_BAD_ACK), 1);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    fa_tcp_close(c, pe.now);
}

/* TCP_OOO_FULL: one disjoint piece more than reassembly keeps ranges for;
 * it is dropped and answered at once with a duplicate ACK. */
static void out_of_order_beyond_what_is_held(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t hole = pe.snd_nxt;
    /* 64 KiB of buffer: 8 + 65536 / 8192 = 16 ranges. */
    const uint32_t held = FA_TCP_OOO_MIN + 65536 / FA_TCP_OOO_PER_BYTES;
    for (uint32_t i = 0; i <= held; i++)
        peer_send(&pe, ACK, hole + 10 + 20 * i, pe.rcv_nxt, 65535, "0123456789", 10);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_OOO_FULL), 1);
    int acks = 0;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        acks += v.ack == hole;
    assert_int_equal(acks, held + 1);
    fa_tcp_close(c, pe.now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(ip_send_beyond_the_mtu, teardown),
        cmocka_unit_test_teardown(syn_with_the_table_full, teardown),
        cmocka_unit_test_teardown(outside_the_window_and_bad_acks, teardown),
        cmocka_unit_test_teardown(out_of_order_beyond_what_is_held, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
