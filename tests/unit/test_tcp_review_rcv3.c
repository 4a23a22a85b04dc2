/* test_tcp_review_rcv3.c — a third review of the receive side, each case
 * a segment sequence:
 *   A  a segment filling part of the gap before a FIN that came early is
 *      ACKed at once (RFC 5681 §4.2), with and without SACK; the same
 *      with a data range held
 *   B  a FIN right after data that fills the window is taken, as Linux
 *      does (a choice this test pins: see check_sequence)
 *   C  receiver SWS avoidance: no window update for a read under an MSS
 *   D  a scaled window's right edge never retracts by 2^scale or more
 *   E  SACK: D-SACK first, then the block the segment touched
 *   F  delayed ACK: every second segment, a lone one within 500 ms
 *   G  a FIN ahead of holes: end of file only after every byte
 *   H  in a batch without SACK, an early FIN and an out-of-order segment
 *      each get their own duplicate ACK */
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
#define SYN FA_TCP_SYN

static struct peer pe;
static uint32_t peer_ts = 1000;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    memset(&pe, 0, sizeof pe);
    return 0;
}

static void data_at(uint8_t flags, uint32_t seq, size_t len)
{
    static uint8_t buf[1460];
    uint8_t o[12];
    opt_ts(o, ++peer_ts, 0);
    peer_send_opts(&pe, flags, seq, pe.rcv_nxt, 65535, o, sizeof o, buf, len);
}

/* A: the peer's bare FIN came ahead of a hole (nothing else held); a
 * retransmission fills PART of the gap before it. RFC 5681 §4.2: "an
 * immediate ACK SHOULD be generated when a segment arrives that fills in
 * all or part of a gap in the sequence space" (Linux: the FIN sits in the
 * out-of-order queue, so __tcp_ack_snd_check ACKs at once). */
static void partial_fill_before_early_fin_acked_at_once_plain(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t base = pe.snd_nxt;
    static uint8_t buf[200];
    peer_send(&pe, ACK | FIN, base + 200, pe.rcv_nxt, 65535, NULL, 0); /* FIN at +200 */
    struct fa_tcp_view a = peer_expect(&pe);                           /* dup ACK */
    assert_int_equal(a.ack, base);
    peer_send(&pe, ACK, base, pe.rcv_nxt, 65535, buf, 100); /* fills [0,100) of [0,200) */
    assert_int_equal(peer_next(&pe, &a), 1); /* not 40 ms later */
    assert_int_equal(a.ack, base + 100);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
}

static void partial_fill_before_early_fin_acked_at_once_sack(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    peer_connected_modern(&pe, &peer_ts);
    uint32_t base = pe.snd_nxt;
    data_at(ACK | FIN, base + 200, 0);
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.ack, base);
    data_at(ACK, base, 100);
    assert_int_equal(peer_next(&pe, &a), 1);
    assert_int_equal(a.ack, base + 100);
}

/* Same with a held range too, for contrast (expected to pass). */
static void partial_fill_with_range_acked_at_once(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    peer_connected(&pe);
    uint32_t base = pe.snd_nxt;
    static uint8_t buf[200];
    peer_send(&pe, ACK | FIN, base + 200, pe.rcv_nxt, 65535, buf, 10);
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.ack, base);
    peer_send(&pe, ACK, base, pe.rcv_nxt, 65535, buf, 100);
    assert_int_equal(peer_next(&pe, &a), 1);
    assert_int_equal(a.ack, base + 100);
}

/* B: RFC 9293 §3.10.7.4 trims "any portions that lie outside the
 * window (including SYN and FIN)"; a FIN right after data that exactly
 * fills the window lies at its edge. finack takes it, as Linux does:
 * it needs no room, and refusing it would cost the peer a retransmission
 * timeout to close (a bare FIN at a zero window is still refused:
 * test_tcp_review.c zero_window_probes_are_answered). */
static void fin_at_the_window_edge_after_data_is_taken(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rcvbuf = 3000;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint8_t chunk[1000] = { 0 };
    peer_send_next(&pe, ACK, chunk, 1000);
    peer_send_next(&pe, ACK, chunk, 1000);
    peer_send_next(&pe, ACK | FIN, chunk, 1000); /* bytes 2000..3000, FIN at 3000 */
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.rcv_wnd, 0);
    assert_int_equal(i.rcv_nxt, pe.snd_nxt);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSE_WAIT);
}

/* C: SWS: a read opening the window by less than min(MSS, buf/2) sends
 * no update; the first read reaching it does. */
static void sws_small_read_no_update(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rcvbuf = 8000;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint8_t chunk[1000] = { 0 };
    for (int k = 0; k < 8; k++)
        peer_send_next(&pe, ACK, chunk, 1000);
    peer_run_until(&pe, pe.now + 300 * MS);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        ;
    uint8_t buf[8000];
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(fa_tcp_recv(c, buf, i.mss - 1, pe.now), i.mss - 1);
    assert_int_equal(peer_next(&pe, &v), 0);
    assert_int_equal(fa_tcp_recv(c, buf, 1, pe.now), 1);
    assert_int_equal(peer_next(&pe, &v), 1);
    assert_true(v.wnd > 0);
}

/* D: scaled window: the right edge (ack + wnd<<ws) over odd segments and
 * small reads: report the largest retraction. */
static struct fa_tcp *connected_scaled(uint8_t peer_ws)
{
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    const uint8_t ws[4] = { 1, 3, 3, peer_ws };
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 65535, ws, 4, NULL, 0);
    pe.snd_nxt++;
    assert_int_equal(peer_expect(&pe).flags, ACK);
    return c;
}

static void scaled_edge_never_retracts(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_rcvbuf = 1000003;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp *c = connected_scaled(7);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    uint32_t ws = i.rcv_wscale, edge = 0, worst = 0;
    int have = 0;
    uint8_t chunk[1399] = { 0 };
    uint8_t buf[4096];
    for (int r = 0; r < 3000; r++) {
        peer_send_next(&pe, ACK, chunk, sizeof chunk);
        if (r % 3 == 0)
            fa_tcp_recv(c, buf, 1 + (r * 37) % 3000, pe.now);
        peer_run_until(&pe, pe.now + 1 * MS);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v)) {
            uint32_t e = v.ack + ((uint32_t)v.wnd << ws);
            if (have && (int32_t)(edge - e) > 0 && edge - e > worst)
                worst = edge - e;
            if (!have || (int32_t)(e - edge) > 0)
                edge = e;
            have = 1;
        }
        /* the peer never sends beyond the edge */
        if ((int32_t)(pe.snd_nxt + sizeof chunk - edge) > 0) {
            fa_tcp_recv(c, buf, sizeof buf, pe.now);
            fa_tcp_recv(c, buf, sizeof buf, pe.now);
            peer_run_until(&pe, pe.now + 1 * MS);
            while (peer_next(&pe, &v)) {
                uint32_t e = v.ack + ((uint32_t)v.wnd << ws);
                if ((int32_t)(edge - e) > 0 && edge - e > worst)
                    worst = edge - e;
                if ((int32_t)(e - edge) > 0)
                    edge = e;
            }
        }
    }
    assert_true(worst < (1u << ws));
}

/* E: SACK: the first block covers the triggering segment. */
static void sack_first_block_is_trigger(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    peer_connected_modern(&pe, &peer_ts);
    uint32_t b = pe.snd_nxt;
    struct fa_tcp_view a;
    data_at(ACK, b + 300, 100); a = peer_expect(&pe);
    data_at(ACK, b + 600, 100); a = peer_expect(&pe);
    data_at(ACK, b + 900, 100); a = peer_expect(&pe);
    data_at(ACK, b + 1200, 100); a = peer_expect(&pe);
    /* a duplicate of the oldest range */
    data_at(ACK, b + 300, 100); a = peer_expect(&pe);
    assert_int_equal(a.opts.sack_blocks, 3);
    assert_int_equal(a.opts.sack[0][0], b + 300); /* D-SACK */
    assert_int_equal(a.opts.sack[0][1], b + 400);
    assert_int_equal(a.opts.sack[1][0], b + 300);
    assert_int_equal(a.opts.sack[2][0], b + 1200);
    /* fills between 600 and 900 */
    data_at(ACK, b + 700, 200); a = peer_expect(&pe);
    assert_int_equal(a.opts.sack[0][0], b + 600);
    assert_int_equal(a.opts.sack[0][1], b + 1000);
    /* in order: fills [0,300) */
    data_at(ACK, b, 300);
    assert_int_equal(peer_next(&pe, &a), 1);
    assert_int_equal(a.ack, b + 400);
}

/* F: delayed ACK: one lone segment is ACKed within 500 ms; the second ACKs. */
static void delayed_ack_bounds(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    assert_int_equal(fa_tcp_setopt(peer_connected(&pe), FA_TCP_QUICKACK, 0), 0);
    uint8_t chunk[1460] = { 0 };
    struct fa_tcp_view a;
    peer_send_next(&pe, ACK, chunk, 1460);
    assert_int_equal(peer_next(&pe, &a), 0);
    peer_send_next(&pe, ACK, chunk, 1460);
    assert_int_equal(peer_next(&pe, &a), 1);
    assert_int_equal(a.ack, pe.snd_nxt);
    peer_send_next(&pe, ACK, chunk, 1460);
    peer_run_until(&pe, pe.now + 500 * MS);
    assert_int_equal(peer_next(&pe, &a), 1);
    assert_int_equal(a.ack, pe.snd_nxt);
}

/* G: FIN ahead of a hole with data: EOF only after all bytes. */
static void fin_ahead_eof_after_all(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected(&pe);
    uint32_t b = pe.snd_nxt;
    uint8_t d[300];
    for (int k = 0; k < 300; k++) d[k] = (uint8_t)k;
    peer_send(&pe, ACK | FIN, b + 200, pe.rcv_nxt, 65535, d + 200, 100);
    peer_send(&pe, ACK, b + 100, pe.rcv_nxt, 65535, d + 100, 100);
    uint8_t buf[400];
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), -EAGAIN);
    peer_send(&pe, ACK, b, pe.rcv_nxt, 65535, d, 50);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 50);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), -EAGAIN);
    peer_send(&pe, ACK, b + 50, pe.rcv_nxt, 65535, d + 50, 50);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 250);
    assert_memory_equal(buf, d + 50, 250);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSE_WAIT);
}

/* H: in a batch, without SACK, a bare FIN ahead of a hole then an
 * out-of-order data segment: two out-of-order segments, each owed its
 * own duplicate ACK (RFC 5681 §4.2, as the code's own comment says). */
static void batch_early_fin_then_ooo_two_dupacks(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    peer_connected(&pe);
    uint32_t b = pe.snd_nxt;
    static uint8_t buf[100];
    fa_stack_batch_begin(pe.s);
    peer_send(&pe, ACK | FIN, b + 300, pe.rcv_nxt, 65535, NULL, 0);
    peer_send(&pe, ACK, b + 100, pe.rcv_nxt, 65535, buf, 100);
    fa_stack_batch_end(pe.s, pe.now);
    int n = 0;
    struct fa_tcp_view a;
    while (peer_next(&pe, &a)) {
        assert_int_equal(a.ack, b);
        n++;
    }
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(partial_fill_before_early_fin_acked_at_once_plain, teardown),
        cmocka_unit_test_teardown(partial_fill_before_early_fin_acked_at_once_sack, teardown),
        cmocka_unit_test_teardown(partial_fill_with_range_acked_at_once, teardown),
        cmocka_unit_test_teardown(fin_at_the_window_edge_after_data_is_taken, teardown),
        cmocka_unit_test_teardown(sws_small_read_no_update, teardown),
        cmocka_unit_test_teardown(scaled_edge_never_retracts, teardown),
        cmocka_unit_test_teardown(sack_first_block_is_trigger, teardown),
        cmocka_unit_test_teardown(delayed_ack_bounds, teardown),
        cmocka_unit_test_teardown(fin_ahead_eof_after_all, teardown),
        cmocka_unit_test_teardown(batch_early_fin_then_ooo_two_dupacks, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
