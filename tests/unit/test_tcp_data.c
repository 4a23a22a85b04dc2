/* test_tcp_data.c — moving data between two finack stacks: a reliable
 * ordered stream under loss, duplication, reordering and corruption over
 * many seeds (L7), flow control with tiny buffers, a zero window and the
 * persist timer, with the sender never beyond the advertised window (L8),
 * buffer options and window scaling (L9), refusal (L6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"
#include "pair.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

static struct pair p;
static uint8_t data[2000000], got[2000000];

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)((i * 2654435761u) >> 11);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pair_destroy(&p);
    return 0;
}

/* No segment from `from` carries a byte beyond the right edge of the
 * window the other side last advertised before it was sent; the other
 * side scales its window fields by shift. */
static void assert_window_respected(int from, unsigned shift)
{
    const struct pair_end *tx = &p.end[from], *rx = &p.end[!from];
    for (size_t i = 0, j = 0; i < tx->nsegs; i++) {
        const struct seg_rec *s = &tx->segs[i];
        if (!s->len || (s->flags & FA_TCP_SYN))
            continue;
        /* The latest ACK the receiver sent before this segment left. */
        const struct seg_rec *a = NULL;
        while (j < rx->nsegs && rx->segs[j].t <= s->t) {
            if (!(rx->segs[j].flags & FA_TCP_SYN) && (rx->segs[j].flags & FA_TCP_ACK))
                a = &rx->segs[j];
            j++;
        }
        if (a && (int32_t)(s->seq + s->len - (a->ack + ((uint32_t)a->wnd << shift))) > 0)
            fail_msg("segment %u+%u beyond window %u+%u", s->seq, s->len, a->ack,
                     (uint32_t)a->wnd << shift);
    }
}

static void l6_connect_to_closed_port_refused(void **state) /* L6 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 1);
    struct fa_tcp *c;
    fa_tcp_open(p.stack[0], &c);
    assert_int_equal(fa_tcp_connect(c, p.addr[1], 9, p.now), -EINPROGRESS);
    pair_run_for(&p, 10 * MS);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_true(fa_tcp_events(c) & FA_TCP_EV_ERROR);
    assert_int_equal(fa_tcp_error(c), -ECONNREFUSED);
    assert_int_equal(fa_stack_counter(p.stack[1], FA_CNT_TCP_NO_LISTENER), 1);
    const struct seg_rec *rst = pair_last_seg(&p, 1, FA_TCP_RST | FA_TCP_ACK);
    assert_non_null(rst);
    assert_int_equal(rst->ack, p.end[0].segs[0].seq + 1);
    fa_tcp_close(c, p.now);
}

static void l7_stream_survives_faults_over_seeds(void **state) /* L7 */
{
    (void)state;
    struct fa_fault_config fc;
    fa_fault_config_init(&fc);
    fa_fault_parse("drop=5%,dup=2%,reorder=5%,corrupt=1%", &fc);
    for (uint64_t seed = 1; seed <= 12; seed++) {
        pair_init(&p, NULL, &fc, seed);
        struct fa_tcp *c, *s;
        pair_connect(&p, 80, &c, &s, NULL, NULL);
        size_t len = 300000;
        /* Both directions at once. */
        size_t sent_c = 0, sent_s = 0, got_s = 0, got_c = 0;
        static uint8_t got2[300000];
        for (fa_time end = p.now + 120 * S; (got_s < len || got_c < len) && p.now < end;) {
            if (sent_c < len) {
                long n = fa_tcp_send(c, data + sent_c, len - sent_c, p.now);
                sent_c += n > 0 ? (size_t)n : 0;
            }
            if (sent_s < len) {
                long n = fa_tcp_send(s, data + 7 + sent_s, len - sent_s, p.now);
                sent_s += n > 0 ? (size_t)n : 0;
            }
            got_s += pair_drain(&p, s, got + got_s, len - got_s);
            got_c += pair_drain(&p, c, got2 + got_c, len - got_c);
            pair_run_for(&p, MS);
        }
        if (got_s != len || got_c != len || memcmp(got, data, len) ||
            memcmp(got2, data + 7, len))
            fail_msg("seed %llu: %zu/%zu bytes, content %s", (unsigned long long)seed,
                     got_s, got_c, memcmp(got, data, got_s) ? "differs" : "same");
        /* Clean close both ways, then nothing is left but TIME-WAIT. */
        fa_tcp_close(c, p.now);
        fa_tcp_close(s, p.now);
        pair_run_for(&p, 200 * S);
        assert_int_equal(pair_conns(&p, 0, NULL), 0);
        assert_int_equal(pair_conns(&p, 1, NULL), 0);
        assert_true(fa_stack_counter(p.stack[0], FA_CNT_TCP_RETRANSMITS) > 0);
        pair_destroy(&p);
    }
    pair_init(&p, NULL, NULL, 1);
}

static void tiny_buffers(int side, struct fa_tcp *sock)
{
    assert_int_equal(fa_tcp_setopt(sock, side ? FA_SO_RCVBUF : FA_SO_SNDBUF,
                                   side ? 200 : 1000), 0);
}

static void l8_tiny_buffers_three_byte_writes(void **state) /* L8 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 3);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, tiny_buffers);
    size_t len = 100000, sent = 0, rcvd = 0;
    for (fa_time end = p.now + 600 * S; rcvd < len && p.now < end;) {
        if (sent < len) {
            long n = fa_tcp_send(c, data + sent, len - sent < 3 ? len - sent : 3, p.now);
            sent += n > 0 ? (size_t)n : 0;
        }
        rcvd += pair_drain(&p, s, got + rcvd, len - rcvd);
        pair_run_for(&p, 50 * FA_NS_PER_US);
    }
    assert_int_equal(rcvd, len);
    assert_memory_equal(got, data, len);
    assert_window_respected(0, 0); /* tiny buffers: no scale */
    /* No segment over the 200-byte window, none over the 1000-byte buffer. */
    for (size_t i = 0; i < p.end[0].nsegs; i++)
        assert_true(p.end[0].segs[i].len <= 200);
}

static void l8_zero_window_persist_then_resume(void **state) /* L8 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 4);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, tiny_buffers);
    /* The reader does not read: the window closes. */
    size_t sent = 0;
    for (int i = 0; i < 50; i++) {
        long n = fa_tcp_send(c, data + sent, 1000, p.now);
        sent += n > 0 ? (size_t)n : 0;
        pair_run_for(&p, MS);
    }
    assert_int_equal(sent, 1200); /* 200 in the peer's buffer, 1000 in ours */
    const struct seg_rec *zw = pair_last_seg(&p, 1, FA_TCP_ACK);
    assert_int_equal(zw->wnd, 0);
    /* Persist probes with backoff while the window stays shut; they are
     * answered, so the connection never gives up. */
    size_t before = p.end[0].nsegs;
    pair_run_for(&p, 600 * S);
    size_t probes = p.end[0].nsegs - before;
    assert_true(probes >= 8 && probes <= 20);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_window_respected(0, 0); /* tiny buffers: no scale */
    /* The reader drains: the transfer resumes and completes. */
    size_t rcvd = 0;
    for (fa_time end = p.now + 10 * S; rcvd < 1200 && p.now < end;) {
        rcvd += pair_drain(&p, s, got + rcvd, 1200 - rcvd);
        pair_run_for(&p, MS);
    }
    assert_int_equal(rcvd, 1200);
    assert_memory_equal(got, data, 1200);
}

static void big_rcvbuf(int side, struct fa_tcp *sock)
{
    (void)side;
    assert_int_equal(fa_tcp_setopt(sock, FA_SO_RCVBUF, 1 << 20), 0);
    assert_int_equal(fa_tcp_setopt(sock, FA_SO_SNDBUF, 1 << 20), 0);
}

static void l9_buffer_options_and_window_scale(void **state) /* L9 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 5);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, big_rcvbuf);
    long v;
    assert_int_equal(fa_tcp_getopt(c, FA_SO_RCVBUF, &v), 0);
    assert_int_equal(v, 1 << 20);
    /* Too late once connected. */
    assert_int_equal(fa_tcp_setopt(c, FA_SO_RCVBUF, 4096), -EISCONN);
    assert_int_equal(fa_tcp_setopt(c, FA_SO_SNDBUF, 10), -EISCONN);
    /* 1 MiB needs a shift of 5 (65535 << 4 is still below 2^20). */
    struct fa_tcp_info ci, si;
    fa_tcp_get_info(c, &ci);
    fa_tcp_get_info(s, &si);
    assert_int_equal(ci.rcv_wscale, 5);
    assert_int_equal(ci.snd_wscale, 5);
    assert_int_equal(si.snd_wscale, 5);
    /* A scaled window lets 1 MB fly in few round trips. */
    assert_int_equal(pair_transfer(&p, c, s, data, 1000000, got, 10 * S), 1000000);
    assert_memory_equal(got, data, 1000000);
    assert_window_respected(0, si.rcv_wscale);

    /* Default 64 KiB: shift 1; an unopened socket takes bad values? No. */
    struct fa_tcp *x;
    fa_tcp_open(p.stack[0], &x);
    assert_int_equal(fa_tcp_setopt(x, FA_SO_RCVBUF, 63), -EINVAL);
    assert_int_equal(fa_tcp_setopt(x, FA_SO_RCVBUF, 65535), 0);
    assert_int_equal(fa_tcp_getopt(x, FA_SO_RCVBUF, &v), 0);
    assert_int_equal(v, 65535);
    fa_tcp_close(x, p.now);
}

static void no_scale(int side, struct fa_tcp *sock)
{
    if (side == 0)
        assert_int_equal(fa_tcp_setopt(sock, FA_SO_RCVBUF, 32768), 0);
}

static void l9_scale_only_when_both_offer(void **state) /* L9 */
{
    (void)state;
    pair_init(&p, NULL, NULL, 6);
    struct fa_tcp *c, *s;
    pair_connect(&p, 80, &c, &s, NULL, no_scale);
    struct fa_tcp_info ci;
    fa_tcp_get_info(c, &ci);
    /* Our SYN offered shift 0 (32 KiB fits): both use shift 0 towards us. */
    assert_int_equal(ci.rcv_wscale, 0);
    assert_int_equal(pair_transfer(&p, s, c, data, 200000, got, 10 * S), 200000);
    assert_memory_equal(got, data, 200000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(l6_connect_to_closed_port_refused, teardown),
        cmocka_unit_test_teardown(l7_stream_survives_faults_over_seeds, teardown),
        cmocka_unit_test_teardown(l8_tiny_buffers_three_byte_writes, teardown),
        cmocka_unit_test_teardown(l8_zero_window_persist_then_resume, teardown),
        cmocka_unit_test_teardown(l9_buffer_options_and_window_scale, teardown),
        cmocka_unit_test_teardown(l9_scale_only_when_both_offer, teardown),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
