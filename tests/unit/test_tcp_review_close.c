/* test_tcp_review_close.c — an independent review of the socket API's
 * close, linger and timeout semantics against Linux; each case states
 * what a Linux socket program sees (all but the last failed):
 *   - close() with unread data resets in LAST-ACK and CLOSING too (L19,
 *     RFC 2525 §2.17), and leaves TIME-WAIT as it is (L14);
 *   - data that arrives during a lingering close is reset, not ACKed and
 *     lost;
 *   - keepalive does not probe while data is in flight;
 *   - an orphan facing a dead peer gives up after tcp_orphan_retries
 *     timeouts, as Linux's;
 *   - close() twice says -EBADF and leaves the pool whole;
 *   - connect() again after a refused connect says why, once;
 *   - shutdown(SHUT_RD) stops a listener;
 *   - what held: errno of shutdown, recv, accept, connect, send in the
 *     usual states, close in SYN-SENT, SO_LINGER 0. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "peer.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ACK FA_TCP_ACK
#define SYN FA_TCP_SYN
#define FIN FA_TCP_FIN
#define RST FA_TCP_RST
#define PSH FA_TCP_PSH

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    return 0;
}

/* Did finack send an RST since the last look? (reads everything) */
static int saw_rst(void)
{
    struct fa_tcp_view v;
    int rst = 0;
    while (peer_next(&pe, &v))
        rst |= (v.flags & RST) != 0;
    return rst;
}

/* Linux __tcp_close: unread data => tcp_send_active_reset in
 * any state but CLOSE (RFC 2525 §2.17, L19). finack's abort_conn used
 * fa_tcp_rst_on_abort(), which says no in LAST-ACK: the TCB is deleted
 * silently with its FIN unacknowledged, the peer never learns its data
 * was thrown away (and if our FIN was lost, waits in FIN-WAIT-2). */
static void unread_close_in_last_ack_resets(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_send_next(&pe, ACK | PSH, "hello", 5);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    peer_drain(&pe);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSE_WAIT);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_LAST_ACK);
    peer_drain(&pe); /* our FIN */
    assert_int_equal(fa_tcp_close(c, pe.now), 0); /* "hello" unread */
    assert_true(saw_rst());
}

/* the same in CLOSING. */
static void unread_close_in_closing_resets(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    peer_drain(&pe);
    /* data and FIN, not acknowledging our FIN */
    peer_send(&pe, ACK | PSH | FIN, pe.snd_nxt, pe.rcv_nxt - 1, 65535, "hello", 5);
    pe.snd_nxt += 6;
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSING);
    peer_drain(&pe);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    assert_true(saw_rst());
}

/* TIME-WAIT with the handle held and data unread: Linux's
 * tcp_time_wait already made the timewait sock (the full socket is
 * CLOSE), so close() sends nothing and TIME-WAIT stays: a resent FIN is
 * ACKed. finack's abort_conn deleted it: no TIME-WAIT (L14) and the
 * resent FIN draws an RST. */
static void unread_close_in_time_wait_keeps_time_wait(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    peer_drain(&pe);
    peer_send_next(&pe, ACK | PSH, "hello", 5);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_TIME_WAIT);
    peer_drain(&pe);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.time_wait, 1);
    peer_send(&pe, ACK | FIN, pe.snd_nxt - 1, pe.rcv_nxt, 65535, NULL, 0); /* resent */
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.flags, ACK);
}

/* Data arriving after close() while a lingering close waits:
 * Linux set RCV_SHUTDOWN at close(), so tcp_rcv_state_process resets the
 * connection on new data in FIN-WAIT-1/2 (the writer learns). finack
 * ACKs it into the handle's buffer, and the second close() releases the
 * handle into an orphan FIN-WAIT-2 holding the unread bytes: no RST,
 * the peer believes they were delivered. */
static void data_during_linger_is_reset(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_LINGER, 5000), 0);
    assert_int_equal(fa_tcp_send(c, "abc", 3, pe.now), 3);
    assert_int_equal(fa_tcp_close(c, pe.now), -EINPROGRESS);
    peer_drain(&pe);
    /* the peer ACKs data and FIN, and sends data of its own */
    peer_send_next(&pe, ACK | PSH, "late", 4);
    int rst = saw_rst();
    assert_true(fa_tcp_events(c) & FA_TCP_EV_CLOSED);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    rst |= saw_rst();
    assert_true(rst);
}

/* A non-blocking connect refused; calling connect() again to learn the
 * outcome (a common idiom): Linux's __inet_stream_connect says the
 * pending error (-ECONNREFUSED), then -ECONNABORTED; finack said -EINVAL.
 * And connect() on a listener: Linux -EISCONN, finack -EINVAL. */
static void connect_again_reports_the_error(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_send(&pe, RST | ACK, 0, syn.seq + 1, 0, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_connect(c, IP_PEER, 80, pe.now), -ECONNREFUSED);
    assert_int_equal(fa_tcp_connect(c, IP_PEER, 80, pe.now), -ECONNABORTED);
    fa_tcp_close(c, pe.now);
    struct fa_tcp *l = peer_listening(&pe, 81);
    assert_int_equal(fa_tcp_connect(l, IP_PEER, 80, pe.now), -EISCONN);
    fa_tcp_close(l, pe.now);
}

/* Linux's inet_shutdown on a listener with SHUT_RD or SHUT_RDWR stops
 * it (the classic way to wake a thread blocked in accept) and returns 0;
 * accept then says EINVAL. finack said -ENOTCONN and the listener went on
 * answering SYNs. */
static void shutdown_rdwr_stops_a_listener(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *l = peer_listening(&pe, 80);
    assert_int_equal(fa_tcp_shutdown(l, FA_SHUT_WR, pe.now), 0);
    assert_int_equal(fa_tcp_state(l), FA_TCP_LISTEN); /* SHUT_WR alone: no change */
    assert_int_equal(fa_tcp_shutdown(l, FA_SHUT_RDWR, pe.now), 0);
    assert_int_equal(fa_tcp_state(l), FA_TCP_CLOSED);
    struct fa_tcp *c;
    assert_int_equal(fa_tcp_accept(l, &c), -EINVAL);
    peer_send_next(&pe, SYN, NULL, 0);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_true(v.flags & RST);
    assert_int_equal(fa_tcp_close(l, pe.now), 0);
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 0);
}

/* Keepalive with data outstanding: Linux tcp_keepalive_timer
 * does not probe while packets_out ("It is alive without keepalive"):
 * the retransmission timer and tcp_retries2 decide. finack's (before)
 * fa_tcp_t_keep() ignores data in flight: with idle 1 s, intvl 1 s,
 * cnt 2, a peer that goes silent mid-transfer is declared dead after
 * ~3 s instead of after the 15 retransmissions. */
static void keepalive_waits_while_data_is_in_flight(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_KEEPALIVE, 1), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPIDLE, 1000), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPINTVL, 1000), 0);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_KEEPCNT, 2), 0);
    static uint8_t d[1000];
    assert_int_equal(fa_tcp_send(c, d, sizeof d, pe.now), (long)sizeof d);
    peer_drain(&pe);
    peer_run_until(&pe, pe.now + 10 * S); /* the peer is silent */
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    fa_tcp_abort(c, pe.now);
}

/* An orphan whose FIN is never acknowledged (dead peer): Linux
 * tcp_write_timeout uses tcp_orphan_retries (0 -> 8) for SOCK_DEAD
 * sockets, not tcp_retries2 (15): it is gone about 2 minutes after close.
 * finack's on_rexmit used tcp_data_retries for orphans too (its
 * tcp_orphan_retries covered zero-window probes only): gone by 670 s
 * (an RTO of 1 s). Counted, 8 timeouts from 1 s took 243 s (367 s with
 * Linux's 120 s tcp_rto_max); in time, as Linux, the FIN has waited 8
 * retries' worth at 200 ms (102.2 s) at the first timeout past that:
 * gone then (gone_at), as Linux's — at 107.52 s (512 RTOs) with the RTO
 * of 210 ms the handshake's 10 ms gives, at 122.88 s (4,096) with 30 ms
 * (tcp_rto_min 1 ms), where counting 8 timeouts took 15 s. */
static void dead_peer_orphan_gone_after_r2(const struct fa_config *cfg, fa_time gone_at)
{
    peer_init(&pe, cfg, 80);
    struct fa_tcp *c = peer_connected(&pe);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    fa_time t0 = pe.now;
    assert_int_equal(fa_tcp_close(c, pe.now), 0); /* LAST-ACK, orphan */
    struct fa_tcp_usage u;
    peer_run_until(&pe, t0 + 102 * S); /* the peer is gone */
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 0);
    peer_run_until(&pe, t0 + gone_at - 1);
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 1);
    peer_run_until(&pe, t0 + gone_at);
    peer_drain(&pe);
    fa_stack_tcp_usage(pe.s, &u);
    assert_int_equal(u.sockets, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_TIMEOUTS), 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_ABORT_ON_TIMEOUT), 1); /* R2's */
}

static void dead_peer_orphan_goes_within_minutes(void **state)
{
    (void)state;
    dead_peer_orphan_gone_after_r2(NULL, 512 * 210 * FA_NS_PER_MS);
}

/* R2 in time counts from an RTO of 200 ms whatever tcp_rto_min is, as
 * Linux's TCP_RTO_MIN there. Review: from tcp_rto_min, 1 ms made the
 * same orphan go after 3 s (one resend), far under RFC 9293 §3.8.3's
 * 100 s; counting its timeouts, after 15 s. */
static void dead_peer_orphan_whatever_rto_min(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rto_min = 1 * FA_NS_PER_MS;
    dead_peer_orphan_gone_after_r2(&cfg, 4096 * 30 * FA_NS_PER_MS);
}

/* close() twice: Linux says EBADF and nothing
 * happens. finack's close_with freed the CLOSED block again: it is put on
 * the free list twice, the live count goes wrong, and the next two
 * fa_tcp_open() calls return the same block. */
static void double_close_is_harmless(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *a, *x, *y;
    assert_int_equal(fa_tcp_open(pe.s, &a), 0);
    assert_int_equal(fa_tcp_close(a, pe.now), 0);
    assert_int_equal(fa_tcp_close(a, pe.now), -EBADF);
    assert_int_equal(fa_tcp_open(pe.s, &x), 0);
    assert_int_equal(fa_tcp_open(pe.s, &y), 0);
    assert_ptr_not_equal(x, y);
}

/* What holds (checked as Linux does it). */
static void what_holds(void **state)
{
    (void)state;
    char b[8];
    peer_init(&pe, NULL, 80);
    struct fa_tcp *u;
    assert_int_equal(fa_tcp_open(pe.s, &u), 0);
    assert_int_equal(fa_tcp_shutdown(u, FA_SHUT_WR, pe.now), -ENOTCONN);
    assert_int_equal(fa_tcp_recv(u, b, sizeof b, pe.now), -ENOTCONN);
    struct fa_tcp *nl;
    assert_int_equal(fa_tcp_accept(u, &nl), -EINVAL);
    assert_int_equal(fa_tcp_close(u, pe.now), 0);
    /* EISCONN, EPIPE after SHUT_WR, 0 after SHUT_RD, EOF repeated */
    struct fa_tcp *c = peer_connected(&pe);
    assert_int_equal(fa_tcp_connect(c, IP_PEER, 80, pe.now), -EISCONN);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_RD, pe.now), 0);
    assert_int_equal(fa_tcp_recv(c, b, sizeof b, pe.now), 0);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    assert_int_equal(fa_tcp_send(c, "x", 1, pe.now), -EPIPE);
    peer_drain(&pe);
    peer_send_next(&pe, ACK | FIN, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_TIME_WAIT);
    assert_int_equal(fa_tcp_recv(c, b, sizeof b, pe.now), 0);
    assert_int_equal(fa_tcp_recv(c, b, sizeof b, pe.now), 0);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    /* close in SYN-SENT: nothing sent, a late SYN-ACK is reset */
    peer_drain(&pe);
    struct fa_tcp_view syn;
    c = peer_connecting(&pe, 0, &syn);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    assert_true(peer_quiet(&pe));
    peer_send(&pe, SYN | ACK, pe.snd_nxt, syn.seq + 1, 65535, NULL, 0);
    assert_true(saw_rst());
    /* SO_LINGER 0: one RST, freed, no TIME-WAIT */
    c = peer_connected(&pe);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_LINGER, 0), 0);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_true(v.flags & RST);
    assert_true(peer_quiet(&pe));
    struct fa_tcp_usage us;
    fa_stack_tcp_usage(pe.s, &us);
    assert_int_equal(us.sockets, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(unread_close_in_last_ack_resets, teardown),
        cmocka_unit_test_teardown(unread_close_in_closing_resets, teardown),
        cmocka_unit_test_teardown(unread_close_in_time_wait_keeps_time_wait, teardown),
        cmocka_unit_test_teardown(data_during_linger_is_reset, teardown),
        cmocka_unit_test_teardown(keepalive_waits_while_data_is_in_flight, teardown),
        cmocka_unit_test_teardown(dead_peer_orphan_goes_within_minutes, teardown),
        cmocka_unit_test_teardown(dead_peer_orphan_whatever_rto_min, teardown),
        cmocka_unit_test_teardown(double_close_is_harmless, teardown),
        cmocka_unit_test_teardown(connect_again_reports_the_error, teardown),
        cmocka_unit_test_teardown(shutdown_rdwr_stops_a_listener, teardown),
        cmocka_unit_test_teardown(what_holds, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
