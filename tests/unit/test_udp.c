/* test_udp.c — UDP sockets between two finack stacks (L25): datagrams
 * keep their boundaries and source, a short buffer truncates one
 * datagram only, the queue is bounded, a connected socket hears only its
 * peer and learns of a closed port as ECONNREFUSED, and the calls fail
 * with the errno a POSIX programmer expects. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"
#include "pair.h"

#define MS FA_NS_PER_MS

static struct pair p;

static int teardown(void **state)
{
    (void)state;
    pair_destroy(&p);
    return 0;
}

static void datagrams_keep_boundaries_and_source(void **state) /* L25 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 1);
    struct fa_udp *a, *b;
    assert_int_equal(fa_udp_open(p.stack[0], &a), 0);
    assert_int_equal(fa_udp_open(p.stack[1], &b), 0);
    assert_int_equal(fa_udp_bind(b, 0, 7), 0);
    assert_int_equal(fa_udp_sendto(a, "one", 3, p.addr[1], 7, p.now), 3);
    assert_int_equal(fa_udp_sendto(a, "two!", 4, p.addr[1], 7, p.now), 4);
    assert_int_equal(fa_udp_sendto(a, "", 0, p.addr[1], 7, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_true(fa_udp_events(b) & FA_TCP_EV_READABLE);
    char buf[64];
    uint32_t from;
    uint16_t port;
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, &from, &port, p.now), 3);
    assert_memory_equal(buf, "one", 3);
    assert_int_equal(from, p.addr[0]);
    assert_int_equal(port, fa_udp_local_port(a));
    assert_true(port >= 49152);
    /* A short buffer takes the first bytes; the rest of that datagram
     * is gone, the next one is whole. */
    assert_int_equal(fa_udp_recvfrom(b, buf, 2, NULL, NULL, p.now), 2);
    assert_memory_equal(buf, "tw", 2);
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), 0);
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), -EAGAIN);
    /* And back, to where it came from. */
    assert_int_equal(fa_udp_sendto(b, "ONE", 3, from, port, p.now), 3);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_udp_recvfrom(a, buf, sizeof buf, NULL, NULL, p.now), 3);
    assert_memory_equal(buf, "ONE", 3);
    fa_udp_close(a);
    fa_udp_close(b);
}

static void small_queue(int side, struct fa_config *cfg)
{
    if (side == 1)
        cfg->udp_rcvbuf = 250;
}

static void queue_is_bounded(void **state)
{
    (void)state;
    pair_init_ex(&p, NULL, NULL, 2, small_queue);
    struct fa_udp *a, *b;
    fa_udp_open(p.stack[0], &a);
    fa_udp_open(p.stack[1], &b);
    fa_udp_bind(b, 0, 9);
    char data[100] = { 0 };
    for (int i = 0; i < 5; i++)
        fa_udp_sendto(a, data, sizeof data, p.addr[1], 9, p.now);
    pair_run_for(&p, 10 * MS);
    /* 250 bytes hold two 100-byte datagrams (8 bytes of record each). */
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_UDP_DATAGRAMS_IN), 2);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_UDP_QUEUE_FULL), 3);
    char buf[200];
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), 100);
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), 100);
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), -EAGAIN);
    fa_udp_close(a);
    fa_udp_close(b);
}

static void connected_socket_hears_refusal(void **state) /* L25 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 3);
    struct fa_udp *a;
    fa_udp_open(p.stack[0], &a);
    assert_int_equal(fa_udp_connect(a, p.addr[1], 9999), 0);
    assert_int_equal(fa_udp_sendto(a, "anyone?", 7, 0, 0, p.now), 7);
    pair_run_for(&p, 10 * MS);
    /* B had no socket on 9999: ICMP port unreachable came back. */
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_UDP_NO_PORT), 1);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_ICMP_UNREACH_OUT), 1);
    assert_true(fa_udp_events(a) & FA_TCP_EV_ERROR);
    char buf[16];
    assert_int_equal(fa_udp_recvfrom(a, buf, sizeof buf, NULL, NULL, p.now), -ECONNREFUSED);
    assert_int_equal(fa_udp_recvfrom(a, buf, sizeof buf, NULL, NULL, p.now), -EAGAIN);
    /* An unconnected socket is not told (as in Linux). */
    struct fa_udp *u;
    fa_udp_open(p.stack[0], &u);
    fa_udp_sendto(u, "x", 1, p.addr[1], 9999, p.now);
    pair_run_for(&p, 20 * MS);
    assert_false(fa_udp_events(u) & FA_TCP_EV_ERROR);
    fa_udp_close(a);
    fa_udp_close(u);
}

/* x (port 1111) and y (2222) on stack 0 each send "from x" / "from y"
 * to stack 1's port, y first; the datagrams arrive. */
static void two_senders(struct fa_udp **x, struct fa_udp **y, uint16_t port)
{
    fa_udp_open(p.stack[0], x);
    fa_udp_bind(*x, 0, 1111);
    fa_udp_open(p.stack[0], y);
    fa_udp_bind(*y, 0, 2222);
    fa_udp_sendto(*y, "from y", 6, p.addr[1], port, p.now);
    fa_udp_sendto(*x, "from x", 6, p.addr[1], port, p.now);
    pair_run_for(&p, 10 * MS);
}

static void connected_socket_filters_peers(void **state)
{
    (void)state;
    pair_init(&p, NULL, NULL, 4);
    struct fa_udp *b, *x, *y;
    fa_udp_open(p.stack[1], &b);
    fa_udp_bind(b, 0, 53);
    fa_udp_connect(b, p.addr[0], 1111);
    two_senders(&x, &y, 53);
    char buf[16];
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), 6);
    assert_memory_equal(buf, "from x", 6);
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), -EAGAIN);
    /* y's datagram found no socket that takes it: port unreachable. */
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_UDP_NO_PORT), 1);
    fa_udp_close(b);
    fa_udp_close(x);
    fa_udp_close(y);
}

/* SO_REUSEADDR: only sockets that all ask may share a port; then the
 * one connected to a sender gets its datagrams, the other the rest. */
static void reuseaddr_shares_a_port(void **state)
{
    (void)state;
    pair_init(&p, NULL, NULL, 5);
    struct fa_udp *a, *b, *c, *x, *y;
    fa_udp_open(p.stack[1], &a);
    fa_udp_open(p.stack[1], &b);
    fa_udp_open(p.stack[1], &c);
    assert_int_equal(fa_udp_bind(a, 0, 5201), 0);
    assert_int_equal(fa_udp_bind(b, 0, 5201), -EADDRINUSE); /* a did not ask */
    fa_udp_close(a);
    fa_udp_open(p.stack[1], &a);
    fa_udp_reuseaddr(a, 1);
    assert_int_equal(fa_udp_bind(a, 0, 5201), 0);
    assert_int_equal(fa_udp_bind(b, 0, 5201), -EADDRINUSE); /* b did not ask */
    fa_udp_reuseaddr(b, 1);
    assert_int_equal(fa_udp_bind(b, 0, 5201), 0);
    assert_int_equal(fa_udp_connect(a, p.addr[0], 1111), 0);
    two_senders(&x, &y, 5201);
    char buf[16];
    assert_int_equal(fa_udp_recvfrom(a, buf, sizeof buf, NULL, NULL, p.now), 6);
    assert_memory_equal(buf, "from x", 6);
    assert_int_equal(fa_udp_recvfrom(b, buf, sizeof buf, NULL, NULL, p.now), 6);
    assert_memory_equal(buf, "from y", 6);
    assert_int_equal(fa_udp_recvfrom(a, buf, sizeof buf, NULL, NULL, p.now), -EAGAIN);
    for (struct fa_udp **u = (struct fa_udp *[]){ a, b, c, x, y, NULL }; *u; u++)
        fa_udp_close(*u);
}

/* RFC 6056 §3.3.1: an ephemeral port is not the last one plus one (a
 * guessable next port helps off-path spoofers of answers). */
static void ephemeral_ports_are_random(void **state)
{
    (void)state;
    pair_init(&p, NULL, NULL, 6);
    struct fa_udp *u[20];
    int consecutive = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(fa_udp_open(p.stack[0], &u[i]), 0);
        assert_int_equal(fa_udp_bind(u[i], 0, 0), 0);
        uint16_t port = fa_udp_local_port(u[i]);
        assert_true(port >= 49152);
        consecutive += i && port == fa_udp_local_port(u[i - 1]) + 1;
    }
    assert_true(consecutive < 3);
    for (int i = 0; i < 20; i++)
        fa_udp_close(u[i]);
}

static void errors(void **state)
{
    (void)state;
    pair_init(&p, NULL, NULL, 5);
    struct fa_udp *a, *b;
    fa_udp_open(p.stack[0], &a);
    fa_udp_open(p.stack[0], &b);
    assert_int_equal(fa_udp_bind(a, 0, 5000), 0);
    assert_int_equal(fa_udp_bind(a, 0, 5001), -EINVAL);
    assert_int_equal(fa_udp_bind(b, 0, 5000), -EADDRINUSE);
    assert_int_equal(fa_udp_bind(b, FA_IPV4(10, 0, 0, 1), 5002), -EADDRNOTAVAIL);
    assert_int_equal(fa_udp_sendto(a, "x", 1, 0, 0, p.now), -EDESTADDRREQ);
    static char big[1500];
    assert_int_equal(fa_udp_sendto(a, big, 1473, p.addr[1], 7, p.now), -EMSGSIZE);
    assert_int_equal(fa_udp_sendto(a, big, 1472, p.addr[1], 7, p.now), 1472);
    assert_int_equal(fa_udp_sendto(a, "x", 1, FA_IPV4(203, 0, 113, 1), 7, p.now), -ENETUNREACH);
    fa_udp_close(a);
    fa_udp_close(b);
    struct fa_udp *many[64], *one; /* the default pool holds 64 */
    for (int i = 0; i < 64; i++)
        assert_int_equal(fa_udp_open(p.stack[1], &many[i]), 0);
    assert_int_equal(fa_udp_open(p.stack[1], &one), -EMFILE);
    for (int i = 0; i < 64; i++)
        fa_udp_close(many[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(datagrams_keep_boundaries_and_source, teardown),
        cmocka_unit_test_teardown(queue_is_bounded, teardown),
        cmocka_unit_test_teardown(connected_socket_hears_refusal, teardown),
        cmocka_unit_test_teardown(connected_socket_filters_peers, teardown),
        cmocka_unit_test_teardown(reuseaddr_shares_a_port, teardown),
        cmocka_unit_test_teardown(ephemeral_ports_are_random, teardown),
        cmocka_unit_test_teardown(errors, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
