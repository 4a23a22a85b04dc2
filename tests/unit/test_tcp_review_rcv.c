/* test_tcp_review_rcv.c — the review of the receive side: one test per
 * defect it showed, each failing before its fix — a segment that fills
 * the hole and swallows what was held beyond it is ACKed at once (RFC
 * 5681 §4.2) and its duplicate part reported (RFC 2883 §4); ranges held
 * past the peer's FIN go when the FIN is taken. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "frames.h"
#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

#define MS FA_NS_PER_MS
#define ACK FA_TCP_ACK
#define FIN FA_TCP_FIN

static struct peer pe;
static uint32_t peer_ts = 1000;

static int teardown(void **state)
{
    (void)state;
    peer_destroy(&pe);
    return 0;
}

static void data_at(uint8_t flags, uint32_t seq, size_t len)
{
    static uint8_t buf[1460];
    uint8_t o[12];
    opt_ts(o, ++peer_ts, 0);
    peer_send_opts(&pe, flags, seq, pe.rcv_nxt, 65535, o, sizeof o, buf, len);
}

/* A retransmission that fills the hole AND covers a range already held
 * above it: the held part is a duplicate (RFC 2883 §4, as Linux's
 * tcp_ofo_queue reports with tcp_dsack_extend). */
static void inorder_covering_held_range_reports_dsack(void **state) /* L7 */
{
    (void)state;
    peer_init(&pe, NULL, 80);
    peer_connected_modern(&pe, &peer_ts);
    uint32_t base = pe.snd_nxt;
    data_at(ACK, base + 100, 100);
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.ack, base);
    assert_int_equal(a.opts.sack_blocks, 1);
    data_at(ACK, base, 300); /* [base, base+300) ⊃ held [base+100, base+200) */
    peer_run_until(&pe, pe.now + 100 * MS); /* let the delayed ACK go (see below) */
    a = peer_expect(&pe);
    assert_int_equal(a.ack, base + 300);
    assert_int_equal(a.opts.sack_blocks, 1);
    assert_int_equal(a.opts.sack[0][0], base + 100);
    assert_int_equal(a.opts.sack[0][1], base + 200);
}

/* Out-of-order bytes beyond the peer's FIN: once the FIN is in order
 * nothing beyond it can ever be read (Linux's tcp_fin purges the
 * out-of-order queue). Here the ranges stay, are SACKed for ever, and
 * keep the receive block attached after the application read all. */
static void ranges_beyond_fin_are_dropped(void **state) /* L7 L11 */
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    uint32_t base = pe.snd_nxt;
    data_at(ACK, base + 200, 100); /* beyond where the FIN will be */
    peer_expect(&pe);
    struct fa_tcp_info info;
    fa_tcp_get_info(c, &info);
    assert_int_equal(info.rcv_ooo, 1); /* one range held (the simulator's at-once check reads it) */
    data_at(ACK | FIN, base, 100); /* FIN at base+100, in order */
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.ack, base + 101);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSE_WAIT);
    uint8_t buf[200];
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 100);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 0);
    assert_int_equal(a.opts.sack_blocks, 0);  /* no SACK for bytes past the FIN */
    assert_int_equal(c->ooo_count, 0);
    fa_tcp_get_info(c, &info);
    assert_int_equal(info.rcv_ooo, 0);
    assert_null(c->rcv);                      /* storage given back */
}

/* RFC 5681 §4.2: "an immediate ACK SHOULD be generated when a segment
 * arrives that fills in all or part of a gap". A segment that fills the
 * hole and swallows the held range whole gains no more than its own
 * length and leaves no range: process_text takes it for an ordinary
 * in-order segment and delays the ACK. */
static void hole_filled_by_covering_segment_acked_at_once(void **state) /* L7 */
{
    (void)state;
    peer_init(&pe, NULL, 80);
    peer_connected_modern(&pe, &peer_ts);
    uint32_t base = pe.snd_nxt;
    data_at(ACK, base + 100, 100);
    peer_expect(&pe);
    data_at(ACK, base, 300);
    struct fa_tcp_view a;
    assert_int_equal(peer_next(&pe, &a), 1); /* at once, no timer */
    assert_int_equal(a.ack, base + 300);
}

/* Same without SACK (the sender counts duplicate ACKs and needs the
 * hole-filling ACK to leave recovery). */
static void hole_filled_by_covering_segment_acked_at_once_plain(void **state) /* L7 */
{
    (void)state;
    peer_init(&pe, NULL, 80);
    peer_connected(&pe);
    uint32_t base = pe.snd_nxt;
    static uint8_t buf[300];
    peer_send(&pe, ACK, base + 100, pe.rcv_nxt, 65535, buf, 100);
    peer_expect(&pe);
    peer_send(&pe, ACK, base, pe.rcv_nxt, 65535, buf, 300);
    struct fa_tcp_view a;
    assert_int_equal(peer_next(&pe, &a), 1);
    assert_int_equal(a.ack, base + 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(inorder_covering_held_range_reports_dsack, teardown),
        cmocka_unit_test_teardown(ranges_beyond_fin_are_dropped, teardown),
        cmocka_unit_test_teardown(hole_filled_by_covering_segment_acked_at_once, teardown),
        cmocka_unit_test_teardown(hole_filled_by_covering_segment_acked_at_once_plain, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
