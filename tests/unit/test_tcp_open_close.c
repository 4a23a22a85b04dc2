/* test_tcp_open_close.c — the connection lifecycle between two finack
 * stacks on an in-memory link: opening (L1, L2), closing actively and
 * passively (L10, L11), TIME-WAIT (L14), half-close, and resources
 * returned at the end. State sequences come from the trace hook; the
 * segments from the per-side segment log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "frames.h"
#include "pair.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

static struct pair p;
static char buf[512];

static int teardown(void **state)
{
    (void)state;
    pair_destroy(&p);
    return 0;
}

static void l1_l2_three_way_handshake(void **state) /* L1 L2 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 1);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, NULL);
    uint16_t cport = sock_port(c);
    assert_string_equal(pair_states(&p, 0, cport, 80, buf, sizeof buf),
                        "CLOSED>SYN-SENT>ESTABLISHED");
    assert_string_equal(pair_states(&p, 1, 80, cport, buf, sizeof buf),
                        "CLOSED>SYN-RECEIVED>ESTABLISHED");
    assert_string_equal(pair_states(&p, 1, 80, 0, buf, sizeof buf),
                        "CLOSED>LISTEN>CLOSED");
    /* Three segments: SYN, SYN-ACK (its own ISN, ACK = ISN+1), ACK. */
    const struct seg_rec *syn = &p.end[0].segs[0];
    const struct seg_rec *synack = &p.end[1].segs[0];
    const struct seg_rec *ack = &p.end[0].segs[1];
    assert_int_equal(syn->flags, FA_TCP_SYN);
    assert_int_equal(synack->flags, FA_TCP_SYN | FA_TCP_ACK);
    assert_int_equal(synack->ack, syn->seq + 1);
    assert_int_not_equal(synack->seq, syn->seq);
    assert_int_equal(ack->flags, FA_TCP_ACK);
    assert_int_equal(ack->seq, syn->seq + 1);
    assert_int_equal(ack->ack, synack->seq + 1);
    assert_int_equal(p.end[0].nsegs, 2);
    assert_int_equal(p.end[1].nsegs, 1);
    struct fa_tcp_info ci, si;
    fa_tcp_get_info(c, &ci);
    fa_tcp_get_info(s, &si);
    assert_int_equal(si.remote_port, ci.local_port);
    assert_true(ci.local_port >= 49152);
    assert_int_equal(ci.mss, 1460 - 12); /* timestamps take 12 bytes (RFC 7323) */
    assert_true(fa_tcp_events(c) & FA_TCP_EV_WRITABLE);
    assert_false(fa_tcp_events(s) & FA_TCP_EV_READABLE);
    assert_int_equal(fa_tcp_recv(s, buf, sizeof buf, p.now), -EAGAIN);
}

static void l10_l11_l14_active_and_passive_close(void **state) /* L10 L11 L14 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 2);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, NULL);
    uint16_t cport = sock_port(c);
    struct fa_tcp_usage live;
    fa_stack_tcp_usage(p.stack[0], &live);
    assert_int_equal(live.sockets, 1);
    assert_true(live.buffer_bytes == 0); /* idle: the rings hold no storage */
    assert_int_equal(fa_tcp_close(c, p.now), 0);
    pair_run_for(&p, 10 * MS);
    /* L11: the FIN is acknowledged at once; CLOSE-WAIT; end of stream. */
    assert_int_equal(fa_tcp_state(s), FA_TCP_CLOSE_WAIT);
    assert_int_equal(fa_tcp_recv(s, buf, sizeof buf, p.now), 0);
    assert_true(fa_tcp_events(s) & FA_TCP_EV_HUP);
    assert_int_equal(fa_tcp_close(s, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_string_equal(pair_states(&p, 1, 80, cport, buf, sizeof buf),
                        "CLOSED>SYN-RECEIVED>ESTABLISHED>CLOSE-WAIT>LAST-ACK>CLOSED");
    assert_string_equal(pair_states(&p, 0, cport, 80, buf, sizeof buf),
                        "CLOSED>SYN-SENT>ESTABLISHED>FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT");
    /* L10: the FIN consumes one sequence number: ACK = FIN seq + 1. */
    const struct seg_rec *fin0 = pair_last_seg(&p, 0, FA_TCP_FIN);
    const struct seg_rec *fin1 = pair_last_seg(&p, 1, FA_TCP_FIN);
    const struct seg_rec *last0 = pair_last_seg(&p, 0, FA_TCP_ACK);
    assert_int_equal(last0->ack, fin1->seq + 1);
    assert_int_equal(fin1->ack, fin0->seq + 1);
    /* L11: every resource of the server's connection is freed. L14: the
     * client's connection is a compact TIME-WAIT entry for 2 MSL. */
    int tw;
    assert_int_equal(pair_conns(&p, 1, NULL), 0);
    assert_int_equal(pair_conns(&p, 0, &tw), 1);
    assert_int_equal(tw, 1);
    /* The usage gauge: no socket, one TIME-WAIT entry, no buffer. */
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(p.stack[0], &u);
    assert_int_equal(u.sockets, 0);
    assert_int_equal(u.time_wait, 1);
    assert_true(u.buffer_bytes == 0);
    pair_run_for(&p, 60 * S - 30 * MS);
    assert_int_equal(pair_conns(&p, 0, NULL), 1);
    pair_run_for(&p, 40 * MS);
    assert_int_equal(pair_conns(&p, 0, NULL), 0);
    fa_stack_tcp_usage(p.stack[0], &u);
    assert_int_equal(u.time_wait, 0);
    assert_int_equal(fa_stack_counter(p.stack[0], FA_CNT_TCP_RST_OUT), 0);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_RST_OUT), 0);
}

static void l11_half_close_data_flows_in_close_wait(void **state) /* L11 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 3);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, NULL);
    /* The client sends a request and half-closes. */
    assert_int_equal(fa_tcp_send(c, "request", 7, p.now), 7);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, p.now), 0);
    assert_int_equal(fa_tcp_send(c, "x", 1, p.now), -EPIPE);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_recv(s, buf, sizeof buf, p.now), 7);
    assert_memory_equal(buf, "request", 7);
    assert_int_equal(fa_tcp_recv(s, buf, sizeof buf, p.now), 0);
    assert_int_equal(fa_tcp_state(s), FA_TCP_CLOSE_WAIT);
    assert_int_equal(fa_tcp_state(c), FA_TCP_FIN_WAIT_2);
    /* The server answers in CLOSE-WAIT; the client still reads it. */
    static uint8_t reply[20000], got[20000];
    for (size_t i = 0; i < sizeof reply; i++)
        reply[i] = (uint8_t)(i * 7);
    assert_int_equal(pair_transfer(&p, s, c, reply, sizeof reply, got, 5 * S),
                     sizeof reply);
    assert_memory_equal(got, reply, sizeof reply);
    assert_int_equal(fa_tcp_close(s, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, p.now), 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_TIME_WAIT);
    /* Handle still held: TIME-WAIT is a full connection until close(). */
    assert_int_equal(fa_tcp_close(c, p.now), 0);
    int tw;
    assert_int_equal(pair_conns(&p, 0, &tw), 1);
    assert_int_equal(tw, 1);
}

struct notified {
    struct fa_tcp *sock[64];
    int n;
};
static struct notified notes[2];

static void record(void *ctx, struct fa_tcp *sock)
{
    struct notified *r = ctx;
    if (r->n < 64)
        r->sock[r->n++] = sock;
}

static void with_notify(int side, struct fa_config *cfg)
{
    cfg->tcp_notify = record;
    cfg->tcp_notify_ctx = &notes[side];
}

static int notified(int side, struct fa_tcp *sock)
{
    int n = 0;
    for (int i = 0; i < notes[side].n; i++)
        n += notes[side].sock[i] == sock;
    notes[side].n = 0;
    return n;
}

static void readiness_is_notified(void **state)
{
    (void)state;
    memset(notes, 0, sizeof notes);
    pair_init_ex(&p, NULL, NULL, 9, with_notify);
    struct fa_tcp *l, *c, *s;
    fa_tcp_open(p.stack[1], &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 4, p.now);
    fa_tcp_open(p.stack[0], &c);
    fa_tcp_connect(c, p.addr[1], 80, p.now);
    notes[0].n = notes[1].n = 0;
    pair_run_for(&p, 10 * MS);
    assert_true(notified(0, c) >= 1);            /* connected: writable */
    assert_true(notified(1, l) >= 1);            /* acceptable */
    assert_int_equal(fa_tcp_accept(l, &s), 0);
    fa_tcp_send(c, "ping", 4, p.now);
    pair_run_for(&p, 50 * MS); /* past the peer's 40 ms delayed ACK */
    assert_true(notified(1, s) >= 1);            /* readable */
    assert_true(fa_tcp_events(s) & FA_TCP_EV_READABLE);
    assert_true(notified(0, c) >= 1);            /* send space freed */
    fa_tcp_close(c, p.now);
    pair_run_for(&p, 10 * MS);
    assert_true(notified(1, s) >= 1);            /* end of stream */
    assert_true(fa_tcp_events(s) & FA_TCP_EV_HUP);
    fa_tcp_close(s, p.now);
    fa_tcp_close(l, p.now);
}

/* SO_REUSEADDR (FA_SO_REUSEADDR): a server restarts on its port while
 * a connection it accepted is still open; without it, or beside a
 * listener, the port is taken (as Linux's inet_csk_bind_conflict). */
static void reuseaddr_restarts_a_server(void **state)
{
    (void)state;
    pair_init(&p, NULL, NULL, 9);
    struct fa_tcp *c, *a, *l, *again, *plain, *second;
    pair_connect(&p, 8080, &c, &a, &l, NULL);
    fa_tcp_close(l, p.now); /* the server goes; its connection a stays */
    assert_int_equal(fa_tcp_open(p.stack[1], &again), 0);
    assert_int_equal(fa_tcp_setopt(again, FA_SO_REUSEADDR, 1), 0);
    assert_int_equal(fa_tcp_bind(again, 0, 8080), 0);
    assert_int_equal(fa_tcp_listen(again, 4, p.now), 0);
    assert_int_equal(fa_tcp_open(p.stack[1], &plain), 0);
    assert_int_equal(fa_tcp_bind(plain, 0, 8080), -EADDRINUSE); /* no reuse */
    assert_int_equal(fa_tcp_open(p.stack[1], &second), 0);
    fa_tcp_setopt(second, FA_SO_REUSEADDR, 1);
    assert_int_equal(fa_tcp_bind(second, 0, 8080), -EADDRINUSE); /* a listener */
    long v;
    assert_int_equal(fa_tcp_getopt(second, FA_SO_REUSEADDR, &v), 0);
    assert_int_equal(v, 1);
    /* The owner mark (finackd's pid, for finack-stat) is in the info. */
    struct fa_tcp_info i;
    fa_tcp_set_owner(a, 4242);
    fa_tcp_get_info(a, &i);
    assert_int_equal(i.owner, 4242);
    /* the old connection still carries data */
    uint8_t out[4];
    assert_int_equal(pair_transfer(&p, c, a, (const uint8_t *)"ping", 4, out, 1000 * MS), 4);
    for (struct fa_tcp **t = (struct fa_tcp *[]){ c, a, again, plain, second, NULL }; *t; t++)
        fa_tcp_close(*t, p.now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(l1_l2_three_way_handshake, teardown),
        cmocka_unit_test_teardown(l10_l11_l14_active_and_passive_close, teardown),
        cmocka_unit_test_teardown(l11_half_close_data_flows_in_close_wait, teardown),
        cmocka_unit_test_teardown(readiness_is_notified, teardown),
        cmocka_unit_test_teardown(reuseaddr_restarts_a_server, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
