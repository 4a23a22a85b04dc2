/* test_tcp_close.c — the ways a connection ends, between two finack
 * stacks: simultaneous close (L13), abortive close (L17), lingering
 * close that completes or times out (L18), close with unread data (L19),
 * writing to a fully closed peer (L20), an owner's death (L22), the
 * listener going away with connections queued, and TIME-WAIT kept on
 * time when its application lets go of a connection late (L14). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"
#include "pair.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

static struct pair p;
static char buf[4096];
static uint8_t data[100000];

static int teardown(void **state)
{
    (void)state;
    pair_destroy(&p);
    return 0;
}

static void l13_simultaneous_close(void **state) /* L13 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 1);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, NULL);
    uint16_t cport = sock_port(c);
    assert_int_equal(fa_tcp_close(c, p.now), 0);
    assert_int_equal(fa_tcp_close(s, p.now), 0);
    pair_run_for(&p, 10 * MS);
    const char *want0 = "CLOSED>SYN-SENT>ESTABLISHED>FIN-WAIT-1>CLOSING>TIME-WAIT";
    const char *want1 = "CLOSED>SYN-RECEIVED>ESTABLISHED>FIN-WAIT-1>CLOSING>TIME-WAIT";
    assert_string_equal(pair_states(&p, 0, cport, 80, buf, sizeof buf), want0);
    assert_string_equal(pair_states(&p, 1, 80, cport, buf, sizeof buf), want1);
    int tw0, tw1;
    assert_int_equal(pair_conns(&p, 0, &tw0), 1);
    assert_int_equal(pair_conns(&p, 1, &tw1), 1);
    assert_int_equal(tw0 + tw1, 2);
    pair_run_for(&p, 61 * S);
    assert_int_equal(pair_conns(&p, 0, NULL) + pair_conns(&p, 1, NULL), 0);
}

static void linger(int side, struct fa_tcp *sock)
{
    if (side == 0)
        assert_int_equal(fa_tcp_setopt(sock, FA_SO_LINGER, 0), 0);
}

static void l17_linger_zero_resets(void **state) /* L17 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 2);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, linger);
    fa_tcp_send(c, "data", 4, p.now);
    assert_int_equal(fa_tcp_close(c, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_non_null(pair_last_seg(&p, 0, FA_TCP_RST));
    assert_null(pair_last_seg(&p, 0, FA_TCP_FIN));
    assert_int_equal(pair_conns(&p, 0, NULL), 0); /* no TIME-WAIT */
    assert_int_equal(fa_tcp_state(s), FA_TCP_CLOSED);
    /* The peer reads what arrived, then learns of the reset. */
    long n = fa_tcp_recv(s, buf, sizeof buf, p.now);
    assert_true(n == 4 || n == -ECONNRESET);
    if (n == 4)
        assert_int_equal(fa_tcp_recv(s, buf, sizeof buf, p.now), -ECONNRESET);
    assert_int_equal(fa_tcp_recv(s, buf, sizeof buf, p.now), 0);
    assert_int_equal(fa_tcp_send(s, "x", 1, p.now), -EPIPE);
    fa_tcp_close(s, p.now);
}

static void slow_reader(int side, struct fa_tcp *sock)
{
    if (side == 0)
        assert_int_equal(fa_tcp_setopt(sock, FA_SO_LINGER, 2000), 0);
    else
        assert_int_equal(fa_tcp_setopt(sock, FA_SO_RCVBUF, 1000), 0);
}

static void l18_lingering_close_completes(void **state) /* L18 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 3);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, slow_reader);
    assert_int_equal(fa_tcp_send(c, data, 5000, p.now), 5000);
    /* Not all acknowledged yet: close() is in progress. */
    assert_int_equal(fa_tcp_close(c, p.now), -EINPROGRESS);
    assert_false(fa_tcp_events(c) & FA_TCP_EV_CLOSED);
    /* The reader reads everything over the next second. */
    size_t got = 0;
    for (int i = 0; i < 100 && got < 5000; i++) {
        got += pair_drain(&p, s, (uint8_t *)buf, sizeof buf);
        pair_run_for(&p, 10 * MS);
    }
    assert_int_equal(got, 5000);
    pair_run_for(&p, 10 * MS);
    assert_true(fa_tcp_events(c) & FA_TCP_EV_CLOSED);
    assert_int_equal(fa_tcp_close(c, p.now), 0);
    assert_null(pair_last_seg(&p, 0, FA_TCP_RST));
}

static void l18_lingering_close_times_out(void **state) /* L18 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 4);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, slow_reader);
    assert_int_equal(fa_tcp_send(c, data, 5000, p.now), 5000);
    assert_int_equal(fa_tcp_close(c, p.now), -EINPROGRESS);
    /* Nobody reads: the window stays shut past the 2 s linger. */
    pair_run_for(&p, 1900 * MS);
    assert_int_equal(fa_tcp_close(c, p.now), -EINPROGRESS);
    pair_run_for(&p, 200 * MS);
    assert_true(fa_tcp_events(c) & FA_TCP_EV_ERROR);
    assert_int_equal(fa_tcp_close(c, p.now), -ETIMEDOUT);
    assert_non_null(pair_last_seg(&p, 0, FA_TCP_RST));
    assert_int_equal(fa_tcp_state(s), FA_TCP_CLOSED);
    assert_int_equal(pair_conns(&p, 0, NULL), 0);
}

static void l19_close_with_unread_data_resets(void **state) /* L19 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 5);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, NULL);
    fa_tcp_send(c, "unread", 6, p.now);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_close(s, p.now), 0); /* 6 bytes never read */
    pair_run_for(&p, 10 * MS);
    assert_non_null(pair_last_seg(&p, 1, FA_TCP_RST));
    assert_null(pair_last_seg(&p, 1, FA_TCP_FIN));
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, p.now), -ECONNRESET);
    assert_int_equal(pair_conns(&p, 1, NULL), 0);
}

static void l20_write_to_closed_peer_epipe(void **state) /* L20 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 6);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, NULL);
    assert_int_equal(fa_tcp_close(s, p.now), 0); /* full close */
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSE_WAIT);
    /* The first write is accepted locally; the peer answers RST. */
    assert_int_equal(fa_tcp_send(c, "hello", 5, p.now), 5);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    /* recv() says end of stream (the FIN came first); the reset is
     * "broken pipe", for the next send() (or SO_ERROR) once, then send()
     * goes on saying it — Linux's answers to the same calls. */
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, p.now), 0);
    assert_true(fa_tcp_events(c) & FA_TCP_EV_ERROR);
    assert_int_equal(fa_tcp_send(c, "again", 5, p.now), -EPIPE);
    assert_int_equal(fa_tcp_error(c), 0);
    assert_int_equal(fa_tcp_send(c, "again", 5, p.now), -EPIPE);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, p.now), 0);
    fa_tcp_close(c, p.now);
}

/* A reset in ESTABLISHED is ECONNRESET for whichever call comes first,
 * send() included; after it recv() says end of stream and send() EPIPE
 * (Linux: send, send, recv give ECONNRESET, EPIPE, 0). */
static void reset_is_reported_once_by_send_or_recv(void **state) /* L20 */
{
    (void)state;
    for (int send_first = 0; send_first < 2; send_first++) {
        pair_init(&p, NULL, NULL, 16 + send_first);
        struct fa_tcp *c, *s;
        pair_connect(&p, 80, &c, &s, NULL, NULL);
        assert_int_equal(fa_tcp_abort(s, p.now), 0);
        pair_run_for(&p, 10 * MS);
        assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
        if (send_first) {
            assert_int_equal(fa_tcp_send(c, "x", 1, p.now), -ECONNRESET);
            assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, p.now), 0);
        } else {
            assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, p.now), -ECONNRESET);
            assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, p.now), 0);
        }
        assert_int_equal(fa_tcp_send(c, "x", 1, p.now), -EPIPE);
        assert_int_equal(fa_tcp_error(c), 0);
        fa_tcp_close(c, p.now);
        if (!send_first)
            pair_destroy(&p);
    }
}

static void l22_owner_death_closes_its_connections(void **state) /* L22 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 7);
    struct fa_tcp *c1, *s1, *c2, *s2, *l;
    pair_connect(&p, 80, &c1, &s1, &l, NULL);
    fa_tcp_open(p.stack[0], &c2);
    fa_tcp_connect(c2, p.addr[1], 80, p.now);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_accept(l, &s2), 0);
    assert_int_equal(fa_tcp_set_owner(s1, 42), 0);
    assert_int_equal(fa_tcp_set_owner(s2, 42), 0);
    assert_int_equal(fa_tcp_set_owner(l, 42), 0);
    /* s2 holds unread data when its owner dies. */
    fa_tcp_send(c2, "pending", 7, p.now);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_stack_close_owner(p.stack[1], 42, p.now), 3);
    pair_run_for(&p, 10 * MS);
    /* s1: FIN (the client sees end of stream); s2: RST. */
    assert_int_equal(fa_tcp_recv(c1, buf, sizeof buf, p.now), 0);
    assert_int_equal(fa_tcp_state(c1), FA_TCP_CLOSE_WAIT);
    assert_int_equal(fa_tcp_recv(c2, buf, sizeof buf, p.now), -ECONNRESET);
    /* Nothing is left of the owner's sockets but the closing one. */
    assert_int_equal(fa_stack_close_owner(p.stack[1], 42, p.now), 0);
    fa_tcp_close(c1, p.now);
    fa_tcp_close(c2, p.now);
    pair_run_for(&p, 10 * MS);
    /* s1 closed first, so its side keeps only a TIME-WAIT entry. */
    int tw;
    assert_int_equal(pair_conns(&p, 1, &tw), 1);
    assert_int_equal(tw, 1);
}

/* The backlog as L2 states it, without SYN cookies (with them, a SYN
 * past it is answered without state: test_tcp_syncookie.c). */
static void no_cookies(int side, struct fa_config *cfg)
{
    (void)side;
    cfg->tcp_syncookies = 0;
}

static void closing_listener_resets_queued(void **state) /* L2 */
{
    (void)state;
    pair_init_ex(&p, NULL, NULL, 8, no_cookies);
    struct fa_tcp *l, *c;
    fa_tcp_open(p.stack[1], &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 2, p.now);
    fa_tcp_open(p.stack[0], &c);
    fa_tcp_connect(c, p.addr[1], 80, p.now);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_true(fa_tcp_events(l) & FA_TCP_EV_ACCEPT);
    /* Backlog 2: the third connection attempt is not answered. */
    struct fa_tcp *c2, *c3;
    fa_tcp_open(p.stack[0], &c2);
    fa_tcp_connect(c2, p.addr[1], 80, p.now);
    fa_tcp_open(p.stack[0], &c3);
    fa_tcp_connect(c3, p.addr[1], 80, p.now);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(c3), FA_TCP_SYN_SENT);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_BACKLOG_FULL), 1);
    assert_int_equal(fa_tcp_close(l, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_error(c), -ECONNRESET);
    assert_int_equal(fa_tcp_error(c2), -ECONNRESET);
    assert_int_equal(pair_conns(&p, 1, NULL), 0);
    /* c3's retransmitted SYN now meets a closed port. */
    pair_run_for(&p, 2 * S);
    assert_int_equal(fa_tcp_error(c3), -ECONNREFUSED);
    fa_tcp_close(c, p.now);
    fa_tcp_close(c2, p.now);
    fa_tcp_close(c3, p.now);
}

/* The earliest deadline of side's TIME-WAIT connections, and how many. */
struct tw_seen {
    fa_time earliest;
    int count;
};

static void tw_visit(void *ctx, const struct fa_tcp_info *i)
{
    struct tw_seen *t = ctx;
    if (i->state != FA_TCP_TIME_WAIT)
        return;
    t->count++;
    if (i->next_timer < t->earliest)
        t->earliest = i->next_timer;
}

static struct tw_seen tw_of(int side)
{
    struct tw_seen t = { FA_TIME_NEVER, 0 };
    fa_stack_tcp_walk(p.stack[side], tw_visit, &t);
    return t;
}

/* A connection its application holds in TIME-WAIT and closes later goes
 * to the compact table behind entries made since, with its own, earlier
 * expiry: the table expires its oldest entry first, so that one outlived
 * its deadline (sim apps seed 61864). Now it lasts as long as the newest
 * (L14: at least 2 MSL) and no TIME-WAIT is ever past its deadline. */
static void time_wait_closed_late_keeps_the_order(void **state) /* L14 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 7);
    struct fa_tcp *c1, *s1, *c2, *s2, *l, *l2;
    pair_connect(&p, 80, &c1, &s1, &l, NULL);
    assert_int_equal(fa_tcp_shutdown(c1, FA_SHUT_WR, p.now), 0);
    assert_int_equal(fa_tcp_close(s1, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(c1), FA_TCP_TIME_WAIT); /* held by its handle */
    pair_run_for(&p, 5 * S);
    pair_connect(&p, 81, &c2, &s2, &l2, NULL);
    assert_int_equal(fa_tcp_close(c2, p.now), 0);
    assert_int_equal(fa_tcp_close(s2, p.now), 0);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_close(c1, p.now), 0); /* behind c2's entry now */
    assert_int_equal(tw_of(0).count, 2);
    for (int step = 0; step < 80 && tw_of(0).count; step++) {
        pair_run_for(&p, S);
        struct tw_seen t = tw_of(0);
        if (t.count && t.earliest < p.now)
            fail_msg("a TIME-WAIT due at %.3f s is still there at %.3f s",
                     (double)t.earliest / 1e9, (double)p.now / 1e9);
    }
    assert_int_equal(tw_of(0).count, 0);
    assert_int_equal(fa_tcp_close(l, p.now), 0);
    assert_int_equal(fa_tcp_close(l2, p.now), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(l13_simultaneous_close, teardown),
        cmocka_unit_test_teardown(l17_linger_zero_resets, teardown),
        cmocka_unit_test_teardown(l18_lingering_close_completes, teardown),
        cmocka_unit_test_teardown(l18_lingering_close_times_out, teardown),
        cmocka_unit_test_teardown(l19_close_with_unread_data_resets, teardown),
        cmocka_unit_test_teardown(l20_write_to_closed_peer_epipe, teardown),
        cmocka_unit_test_teardown(reset_is_reported_once_by_send_or_recv, teardown),
        cmocka_unit_test_teardown(l22_owner_death_closes_its_connections, teardown),
        cmocka_unit_test_teardown(closing_listener_resets_queued, teardown),
        cmocka_unit_test_teardown(time_wait_closed_late_keeps_the_order, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
