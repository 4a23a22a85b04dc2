/* test_loopback.c — a stack talking to its own address (two programs on
 * one finackd): TCP connects, carries data both ways and closes through
 * the whole lifecycle without a frame on the wire; ping and UDP come
 * back too; the loopback queue is bounded and counts what it drops
 * (RFC 1122 §3.3.6). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pair.h"

#define MS FA_NS_PER_MS

static struct pair p;

static int teardown(void **state)
{
    (void)state;
    pair_destroy(&p);
    return 0;
}

static void tcp_to_ourselves(void **state)
{
    (void)state;
    pair_init(&p, NULL, NULL, 3);
    struct fa_stack *s = p.stack[1];
    uint64_t wire = fa_stack_counter(s, FA_CNT_TX_FRAMES);
    struct fa_tcp *l, *c, *a;
    assert_int_equal(fa_tcp_open(s, &l), 0);
    assert_int_equal(fa_tcp_bind(l, 0, 80), 0);
    assert_int_equal(fa_tcp_listen(l, 4, p.now), 0);
    assert_int_equal(fa_tcp_open(s, &c), 0);
    assert_int_equal(fa_tcp_connect(c, p.addr[1], 80, p.now), -EINPROGRESS);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(fa_tcp_accept(l, &a), 0);
    uint8_t data[100000], out[sizeof data];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    assert_int_equal(pair_transfer(&p, c, a, data, sizeof data, out, 5000 * MS), sizeof data);
    assert_memory_equal(out, data, sizeof data);
    assert_int_equal(pair_transfer(&p, a, c, data, 5000, out, 5000 * MS), 5000);
    /* The four-way close: the client ends in TIME-WAIT, the server's
     * side goes CLOSE-WAIT, LAST-ACK, CLOSED. */
    assert_int_equal(fa_tcp_close(c, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(a), FA_TCP_CLOSE_WAIT);
    assert_int_equal(fa_tcp_close(a, p.now), 0);
    pair_run_for(&p, 10 * MS);
    int tw;
    assert_int_equal(pair_conns(&p, 1, &tw), 2); /* the listener + TIME-WAIT */
    assert_int_equal(tw, 1);
    assert_int_equal(fa_stack_counter(s, FA_CNT_TX_FRAMES), wire); /* nothing on the wire */
    assert_true(fa_stack_counter(s, FA_CNT_IP_LOOPED) > 70);
    fa_tcp_close(l, p.now);
}

static void ping_and_udp_to_ourselves(void **state)
{
    (void)state;
    pair_init(&p, NULL, NULL, 4);
    struct fa_stack *s = p.stack[0];
    assert_int_equal(fa_stack_ping(s, p.addr[0], 1, 1, (const uint8_t *)"hi", 2, p.now), 0);
    pair_run_for(&p, MS);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ICMP_ECHO_IN), 1);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ICMP_ECHO_REPLY_IN), 1);
    struct fa_udp *u, *v;
    assert_int_equal(fa_udp_open(s, &u), 0);
    assert_int_equal(fa_udp_open(s, &v), 0);
    assert_int_equal(fa_udp_bind(v, 0, 53), 0);
    assert_int_equal(fa_udp_sendto(u, "query", 5, p.addr[0], 53, p.now), 5);
    pair_run_for(&p, MS);
    char buf[16];
    uint32_t from;
    uint16_t port;
    assert_int_equal(fa_udp_recvfrom(v, buf, sizeof buf, &from, &port, p.now), 5);
    assert_int_equal(from, p.addr[0]);
    assert_int_equal(port, fa_udp_local_port(u));
    fa_udp_close(u);
    fa_udp_close(v);
}

static void small_queue(int side, struct fa_config *cfg)
{
    (void)side;
    cfg->loopback_queue = 2;
}

static void queue_is_bounded(void **state)
{
    (void)state;
    pair_init_ex(&p, NULL, NULL, 5, small_queue);
    struct fa_stack *s = p.stack[0];
    /* A poll delivers the request; its reply waits for the next poll,
     * which the stack asks for at once. */
    assert_int_equal(fa_stack_ping(s, p.addr[0], 1, 1, NULL, 0, p.now), 0);
    assert_int_equal(fa_stack_poll(s, p.now), p.now);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ICMP_ECHO_IN), 1);
    fa_stack_poll(s, p.now);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ICMP_ECHO_REPLY_IN), 1);
    assert_true(fa_stack_poll(s, p.now) > p.now);
    /* Three sent before the stack is polled: the queue holds two. */
    assert_int_equal(fa_stack_ping(s, p.addr[0], 1, 2, NULL, 0, p.now), 0);
    assert_int_equal(fa_stack_ping(s, p.addr[0], 1, 3, NULL, 0, p.now), 0);
    assert_int_equal(fa_stack_ping(s, p.addr[0], 1, 4, NULL, 0, p.now), -ENOBUFS);
    assert_int_equal(fa_stack_counter(s, FA_CNT_IP_LOOP_FULL), 1);
    /* A packet keeps its slot while it is handled: the first request's
     * reply finds the queue full (and is counted), the second's fits. */
    fa_stack_poll(s, p.now);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ICMP_ECHO_IN), 3);
    assert_int_equal(fa_stack_counter(s, FA_CNT_IP_LOOP_FULL), 2);
    fa_stack_poll(s, p.now);
    assert_int_equal(fa_stack_counter(s, FA_CNT_ICMP_ECHO_REPLY_IN), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(tcp_to_ourselves, teardown),
        cmocka_unit_test_teardown(ping_and_udp_to_ourselves, teardown),
        cmocka_unit_test_teardown(queue_is_bounded, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
