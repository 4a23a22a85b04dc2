/* test_tcp_orphan.c — an orphan (closed by its application) whose peer
 * keeps its window shut, and the lone FIN's storage (review of the
 * orphan limit, config.tcp_orphan_retries, and of tcp_mem.c's FIN entry):
 *   - the last probe's answer decides, an RTO after it, so a window
 *     update lost after the 8th answer does not cost the data;
 *   - the count starts again when a segment's worth is taken, not when
 *     the window opens a byte at a time;
 *   - the RST goes at the window's edge, where the peer takes it;
 *   - probes sent while the application held the socket do not count,
 *     and the orphan that gives up resets the connection;
 *   - tcp_orphan_retries 0: orphans probe for as long as answered;
 *   - a lone FIN holds no buffer bytes through SACK, resends, PMTU and a
 *     shut window;
 *   - fa_stack_destroy tells no application of memory coming back.
 * L8 says a connection lives as long as its probes are answered; an
 * orphan is the exception (as in Linux), unless tcp_orphan_retries is 0.
 * A scripted peer (peer.c) on virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "frames.h"
#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ACK FA_TCP_ACK

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    pe.s = NULL;
    return 0;
}

static struct fa_tcp_usage usage(void)
{
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(pe.s, &u);
    return u;
}

static uint64_t gave_up(void)
{
    return fa_stack_counter(pe.s, FA_CNT_TCP_ORPHAN_WINDOW_SHUT);
}

/* What finack sent since the last call: zero-window probes (SEQ = una -
 * 1, no data), FINs, RSTs (the last one's SEQ), and the highest sequence
 * number sent. */
struct sent {
    int probes, fins, rsts;
    uint32_t hi, rst_seq;
};

static struct sent drain(uint32_t una)
{
    struct sent o = { .hi = una };
    struct fa_tcp_view v;
    while (peer_next(&pe, &v)) {
        o.probes += v.seq == una - 1 && !v.data_len;
        o.fins += (v.flags & FA_TCP_FIN) != 0;
        if (v.flags & FA_TCP_RST) {
            o.rsts++;
            o.rst_seq = v.seq;
        }
        if ((int32_t)(v.seq + v.data_len - o.hi) > 0)
            o.hi = v.seq + v.data_len;
    }
    return o;
}

/* Runs until n more probes have come, each answered with the window
 * shut, or the orphan gave up; bounded. */
static void answer_probes(uint32_t una, int n)
{
    fa_time limit = pe.now + 3600 * S;
    for (int got = 0; got < n && !gave_up();) {
        assert_true(pe.now < limit);
        peer_run_until(&pe, pe.now + 100 * MS);
        struct sent o = drain(una);
        if (o.probes)
            peer_send(&pe, ACK, pe.snd_nxt, una, 0, NULL, 0);
        got += o.probes;
    }
}

/* Runs, answering every probe with the window shut, until the orphan
 * gives up (bounded): what it sent meanwhile. */
static struct sent until_it_gives_up(uint32_t una)
{
    struct sent all = { 0 };
    fa_time limit = pe.now + 3600 * S;
    while (!gave_up() && pe.now < limit) {
        peer_run_until(&pe, pe.now + 100 * MS);
        struct sent o = drain(una);
        if (o.probes)
            peer_send(&pe, ACK, pe.snd_nxt, una, 0, NULL, 0);
        all.probes += o.probes;
        all.rsts += o.rsts;
        all.rst_seq = o.rsts ? o.rst_seq : all.rst_seq;
    }
    assert_int_equal(gave_up(), 1);
    return all;
}

/* A connection with 4,000 bytes written, whose first 536 are in and
 * whose window the peer then shut; the application closes it unless
 * told to hold it. */
static struct fa_tcp *shut_window(uint32_t *una, int close)
{
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[4000];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    *una = c->snd_una + 536;
    drain(0);
    peer_send(&pe, ACK, pe.snd_nxt, *una, 0, NULL, 0); /* 536 in; shut */
    if (close)
        assert_int_equal(fa_tcp_close(c, pe.now), 0);
    return c;
}

/* Eight probes answered with the window shut; the peer's reader then
 * resumes and its window update is lost. The 9th probe still goes, its
 * answer shows the window open, and the rest and the FIN go. */
static void last_probe_answer_decides(void **state) /* L8, L15 */
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    uint32_t una;
    shut_window(&una, 1);
    answer_probes(una, 8);
    fa_time limit = pe.now + 600 * S;
    struct sent o = { 0 };
    while (!o.probes && pe.now < limit) {
        peer_run_until(&pe, pe.now + 100 * MS);
        o = drain(una);
    }
    assert_int_equal(o.probes, 1);
    peer_send(&pe, ACK, pe.snd_nxt, una, 65535, NULL, 0); /* open now */
    peer_run_until(&pe, pe.now + S);
    o = drain(una);
    assert_int_equal(o.hi, una + 4000 - 536); /* the rest, then the FIN */
    assert_true(o.fins >= 1);
    assert_int_equal(gave_up(), 0);
}

/* `probes` probes, then the window opens by `step` bytes (they go, and
 * are acknowledged with the window shut again), `rounds` times over. */
static void open_a_little(uint32_t *una, int probes, uint16_t step, int rounds)
{
    for (int round = 0; round < rounds && !gave_up(); round++) {
        answer_probes(*una, probes);
        peer_send(&pe, ACK, pe.snd_nxt, *una, step, NULL, 0);
        struct sent o = { .hi = *una };
        for (int k = 0; k < 400 && o.hi == *una; k++) {
            peer_run_until(&pe, pe.now + S);
            o = drain(*una);
        }
        if (o.hi != *una + step)
            return;
        *una += step;
        peer_send(&pe, ACK, pe.snd_nxt, *una, 0, NULL, 0);
    }
}

/* A segment's worth taken each time: the count starts afresh, three
 * times over; the orphan never gives up. */
static void count_starts_again_when_a_segment_goes(void **state) /* L8, L15 */
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    uint32_t una;
    shut_window(&una, 1);
    open_a_little(&una, 7, 600, 3);
    assert_int_equal(gave_up(), 0);
}

/* One byte at a time does not: a peer that drips the window open would
 * otherwise hold the orphan for weeks (64 KiB at a byte a minute). */
static void a_byte_at_a_time_does_not_hold_it(void **state) /* L8, L15 */
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    uint32_t una;
    shut_window(&una, 1);
    open_a_little(&una, 7, 1, 60);
    assert_int_equal(gave_up(), 1);
}

/* A peer whose buffer is under an MSS takes 100 bytes after each probe:
 * a segment's worth every six probes, never at once. It counts: the
 * count restarts on what was taken since it last did (per ACK, the orphan
 * reset it after nine probes with 900 bytes taken: found by a review). */
static void a_little_at_a_time_adds_up(void **state) /* L8, L15 */
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    uint32_t una, start;
    shut_window(&una, 1);
    start = una;
    open_a_little(&una, 1, 100, 30);
    assert_int_equal(gave_up(), 0);
    assert_int_equal(una - start, 3000);
}

/* Two segments out when the peer took the first and shrank its window
 * to nothing: the orphan's RST goes at the window's edge (its RCV.NXT),
 * where an RFC 5961 receiver takes it, not at SND.NXT beyond it. */
static void reset_at_the_window_edge(void **state) /* L8, L15 */
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t data[1072];
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    uint32_t una = c->snd_una + 536;
    drain(0);
    peer_send(&pe, ACK, pe.snd_nxt, una, 0, NULL, 0);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    struct sent o = until_it_gives_up(una);
    assert_int_equal(o.rsts, 1);
    assert_int_equal(o.rst_seq, una);
    assert_int_equal(usage().sockets, 0);
}

/* Held 600 s while probing (the backoff at its most), then closed: the
 * orphan still sends tcp_orphan_retries probes and one more before it
 * gives up, with an RST. */
static void probes_held_do_not_count(void **state) /* L8, L15 */
{
    (void)state;
    peer_init(&pe, NULL, 5001);
    uint32_t una;
    struct fa_tcp *c = shut_window(&una, 0);
    fa_time t0 = pe.now;
    while (pe.now < t0 + 600 * S)
        answer_probes(una, 1);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(fa_tcp_close(c, pe.now), 0);
    struct sent o = until_it_gives_up(una);
    assert_int_equal(o.probes, fa_stack_config(pe.s)->tcp_orphan_retries + 1);
    assert_int_equal(o.rsts, 1);
    assert_int_equal(usage().sockets, 0);
    assert_int_equal(usage().buffer_bytes, 0);
}

/* tcp_orphan_retries 0: an orphan probes for as long as it is answered. */
static void zero_retries_probe_for_ever(void **state) /* L8, L15 */
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_orphan_retries = 0;
    peer_init(&pe, &cfg, 5001);
    uint32_t una;
    shut_window(&una, 1);
    fa_time t0 = pe.now;
    answer_probes(una, 30);
    assert_int_equal(gave_up(), 0);
    assert_int_equal(usage().sockets, 1);
    /* ...backing off as any probing does (not a probe per RTO): 30
     * probes take over 30 minutes, at 120 s apiece once backed off. */
    assert_true(pe.now - t0 > 1800 * S);
}

/* The lone FIN's one scoreboard entry lives in c->loss: no buffer bytes
 * through bogus SACK blocks, a SACK of the FIN, resends, a lower path
 * MTU and a window shut on it; nothing held once it is acknowledged. */
static void lone_fin_holds_no_buffer(void **state)
{
    (void)state;
    uint32_t ts = 1000;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &ts);
    static uint8_t data[3000];
    uint32_t una = c->snd_una;
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), sizeof data);
    for (int k = 0; k < 5 && c->snd_una != una + sizeof data; k++) {
        drain(0);
        peer_sack_wnd(&pe, &ts, c->snd_nxt, 65535, 0, NULL);
    }
    assert_int_equal(usage().buffer_bytes, 0);
    assert_int_equal(fa_tcp_shutdown(c, FA_SHUT_WR, pe.now), 0);
    uint32_t fin = una + sizeof data;
    assert_int_equal(c->snd_nxt, fin + 1);
    assert_ptr_equal(c->snd, &c->loss->fin_ring);
    assert_int_equal(usage().buffer_bytes, 0);
    uint32_t b1[2][2] = { { fin - 100, fin }, { fin, fin + 1 } };
    peer_sack_wnd(&pe, &ts, fin, 65535, 2, b1);
    uint32_t b2[1][2] = { { una, una + 1000 } };
    peer_sack_wnd(&pe, &ts, fin, 65535, 1, b2);
    for (int k = 0; k < 3; k++)
        peer_sack_wnd(&pe, &ts, fin, 65535, 0, NULL);
    peer_run_until(&pe, pe.now + 10 * S);
    assert_true(drain(0).fins >= 2); /* resent (TLP, RTO) */
    peer_icmp_unreach(&pe, 4, 576, fin);
    peer_run_until(&pe, pe.now + 10 * S);
    peer_sack_wnd(&pe, &ts, fin, 0, 0, NULL); /* shut on it: persist */
    peer_run_until(&pe, pe.now + 30 * S);
    drain(0);
    assert_int_equal(usage().buffer_bytes, 0);
    peer_sack_wnd(&pe, &ts, fin + 1, 65535, 0, NULL);
    assert_int_equal(fa_tcp_state(c), FA_TCP_FIN_WAIT_2);
    assert_null(c->snd);
    assert_int_equal(usage().buffer_bytes, 0);
    assert_int_equal(usage().loss_states, 0);
    fa_tcp_close(c, pe.now);
}

static int destroying, notified_in_destroy;

static void on_notify(void *ctx, struct fa_tcp *s)
{
    (void)ctx;
    (void)s;
    notified_in_destroy += destroying;
}

/* A send refused for memory is told when memory comes back — but not
 * from fa_stack_destroy, whose teardown gives every block back. */
static void destroy_tells_no_writer(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_mem_max = 100000; /* sends may take 50,000: no 64 KiB ring */
    peer_init(&pe, &cfg, 5001);
    struct fa_tcp *c = peer_connected(&pe);
    fa_stack_set_tcp_notify(pe.s, on_notify, NULL);
    static uint8_t data[1000];
    peer_send_next(&pe, ACK, data, 500); /* a receive ring held */
    assert_int_equal(usage().buffer_bytes, 65536);
    assert_int_equal(fa_tcp_send(c, data, sizeof data, pe.now), -ENOBUFS);
    destroying = 1;
    peer_destroy(&pe);
    pe.s = NULL;
    destroying = 0;
    assert_int_equal(notified_in_destroy, 0);
}

/* A connection accepted from a peer with window scale 7 that was sent
 * 20,000 bytes (8 segments go: SND.NXT = ISS + 1 + 11,680); *iss1 =
 * ISS + 1. */
static struct fa_tcp *scaled_sender(uint32_t *iss1)
{
    peer_init(&pe, NULL, 5000);
    struct fa_tcp *l, *c;
    l = peer_listening(&pe, 80);
    static const uint8_t o[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 }; /* MSS 1460, wscale 7 */
    peer_send_opts(&pe, FA_TCP_SYN, 1000, 0, 65535, o, sizeof o, NULL, 0);
    struct fa_tcp_view sa = peer_expect(&pe);
    *iss1 = sa.seq + 1;
    peer_send(&pe, ACK, 1001, *iss1, 100, NULL, 0); /* 12,800 bytes */
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    static uint8_t data[20000];
    assert_true(fa_tcp_send(c, data, sizeof data, pe.now) > 0);
    assert_int_equal(drain(*iss1).hi, *iss1 + 11680);
    return c;
}

/* The RST of an abort after the peer's ACK (of 1,000) offers a window
 * whose edge lies below SND.NXT. */
static uint32_t reset_after(uint16_t wnd_units)
{
    uint32_t iss1;
    struct fa_tcp *c = scaled_sender(&iss1);
    peer_send(&pe, ACK, 1001, iss1 + 1000, wnd_units, NULL, 0);
    drain(iss1);
    fa_tcp_abort(c, pe.now);
    struct fa_tcp_view r = peer_expect(&pe);
    assert_true(r.flags & FA_TCP_RST);
    return r.seq - iss1;
}

/* The peer rounded its window down to a scale unit (83 units: the edge
 * 56 bytes short of SND.NXT though it holds every byte): the RST stays
 * at SND.NXT, its RCV.NXT (as Linux's tcp_acceptable_seq). */
static void reset_at_snd_nxt_past_a_rounded_edge(void **state) /* L17 */
{
    (void)state;
    assert_int_equal(reset_after(83), 11680);
}

/* The peer truly shrank its window (10 units, 1,280 bytes from 1,000):
 * the RST goes just inside it, not at RCV.NXT + RCV.WND, which RFC 5961
 * §3.2 leaves out. */
static void reset_inside_a_shrunk_window(void **state) /* L17 */
{
    (void)state;
    assert_int_equal(reset_after(10), 1000 + 1280 - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(last_probe_answer_decides, teardown),
        cmocka_unit_test_teardown(count_starts_again_when_a_segment_goes, teardown),
        cmocka_unit_test_teardown(a_byte_at_a_time_does_not_hold_it, teardown),
        cmocka_unit_test_teardown(a_little_at_a_time_adds_up, teardown),
        cmocka_unit_test_teardown(reset_at_the_window_edge, teardown),
        cmocka_unit_test_teardown(reset_at_snd_nxt_past_a_rounded_edge, teardown),
        cmocka_unit_test_teardown(reset_inside_a_shrunk_window, teardown),
        cmocka_unit_test_teardown(probes_held_do_not_count, teardown),
        cmocka_unit_test_teardown(zero_retries_probe_for_ever, teardown),
        cmocka_unit_test_teardown(lone_fin_holds_no_buffer, teardown),
        cmocka_unit_test_teardown(destroy_tells_no_writer, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
