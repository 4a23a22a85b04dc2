/* test_tcp_modern.c — issue 10's rules, one test each, against the
 * hand-driven peer or on the parts alone (table-driven):
 *
 *   options    what SYN and SYN-ACK offer; only what both sent is used
 *   SACK       blocks most recent first, D-SACK first of all (RFC 2018,
 *              RFC 2883); a block beyond what was sent is ignored
 *   timestamps PAWS (RFC 7323 §5.3) drops an old TSval, not an RST; TS.Recent
 *              only from a segment covering Last.ACK.sent (§4.3)
 *   scoreboard append, flags and counts, partial ACK, split, find
 *   SACK'      a block inside a segment keeps its part, unless the
 *              scoreboard is full
 *   RACK       lost at once with three segments SACKed; after the
 *              reordering window with one; SACKed never resent, even after
 *              an RTO; undo on D-SACK of the only retransmission; a probe
 *              when the ACK ending recovery is lost
 *   ICMP       fragmentation needed lowers the MSS (with a floor; a missing
 *              MTU by RFC 1191's plateaus), time exceeded and parameter
 *              problem are soft errors, and
 *              resends; hard errors end only an opening connection; soft
 *              ones are reported at the timeout; forged quotes ignored
 *   TIME-WAIT  reopened by a newer timestamp (RFC 6191); its ACKs carry them
 *   PRR        sndcnt against RFC 6937's formulas
 *   CUBIC      K, the window after a loss, concave and convex regions,
 *              fast convergence, against RFC 9438's formulas
 *   HyStart++  CSS when the round's RTT rises by eta, avoidance 5 rounds on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "frames.h"
#include "peer.h"
#include "peer_opts.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ACK FA_TCP_ACK
#define SYN FA_TCP_SYN
#define RST FA_TCP_RST

static struct peer pe;

static int teardown(void **state)
{
    (void)state;
    if (pe.s)
        peer_destroy(&pe);
    return 0;
}

static uint32_t peer_ts = 1000; /* the peer's timestamp clock */

static struct fa_tcp *connected_modern(void)
{
    return peer_connected_modern(&pe, &peer_ts);
}

/* The peer sends data at seq with its timestamp clock. */
static void peer_data(uint32_t seq, size_t len, uint32_t tsval)
{
    static uint8_t buf[1460];
    uint8_t o[12];
    opt_ts(o, tsval, 0);
    peer_send_opts(&pe, ACK, seq, pe.rcv_nxt, 65535, o, sizeof o, buf, len);
}

/* The peer ACKs finack's data with SACK blocks. */
static void peer_sack(uint32_t ack, unsigned n, const uint32_t (*b)[2])
{
    peer_sack_wnd(&pe, &peer_ts, ack, 65535, n, b);
}

/* ---- options ---------------------------------------------------------- */
static void syn_offers_every_option(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp_view syn;
    peer_connecting(&pe, 0, &syn);
    assert_int_equal(syn.opts.mss, 1460);
    assert_true(syn.opts.has_wscale);
    assert_true(syn.opts.sack_ok);
    assert_true(syn.opts.has_ts);
    assert_int_equal(syn.opts.ts_ecr, 0); /* RFC 7323 §3.2: nothing to echo */
}

static void synack_answers_only_what_was_offered(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *l, *c;
    /* A SYN with SACK-permitted only: no timestamps come back. */
    uint8_t o[40];
    size_t n = opt_syn(o, 1, 0, 0, 0);
    struct fa_tcp_view sa = peer_syn_to_listener(&pe, 8080, o, n, &l);
    assert_true(sa.opts.sack_ok);
    assert_false(sa.opts.has_ts);
    assert_false(sa.opts.has_wscale);
    pe.snd_nxt++;
    pe.rcv_nxt = sa.seq + 1;
    peer_send_next(&pe, ACK, NULL, 0);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_true(i.sack);
    assert_false(i.timestamps);
    assert_int_equal(i.mss, 1460); /* no option bytes in every segment */
    /* A second peer with timestamps: they are echoed in the SYN-ACK. */
    pe.port = 81;
    n = opt_syn(o, 0, 1, 777, 0);
    peer_send_opts(&pe, SYN, 5000, 0, 65535, o, n, NULL, 0);
    sa = peer_expect(&pe);
    assert_false(sa.opts.sack_ok);
    assert_true(sa.opts.has_ts);
    assert_int_equal(sa.opts.ts_ecr, 777);
    fa_tcp_close(l, pe.now);
}

static void options_off_by_config(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_sack = 0;
    cfg.tcp_timestamps = 0;
    peer_init(&pe, &cfg, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    assert_false(syn.opts.sack_ok);
    assert_false(syn.opts.has_ts);
    /* The peer offers both anyway: neither is used. */
    uint8_t o[40];
    size_t n = opt_syn(o, 1, 1, 5, 0);
    peer_send_opts(&pe, SYN | ACK, pe.snd_nxt, pe.rcv_nxt, 65535, o, n, NULL, 0);
    pe.snd_nxt++;
    struct fa_tcp_view a = peer_expect(&pe);
    assert_false(a.opts.has_ts);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_false(i.sack);
    assert_false(i.timestamps);
}

/* ---- SACK blocks and D-SACK (receiver) --------------------------------- */
static void sack_blocks_most_recent_first_then_dsack(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    connected_modern();
    uint32_t base = pe.snd_nxt;
    /* Segments 1, 3 and 5 of 100 bytes arrive; 0, 2, 4 are missing. */
    peer_data(base + 100, 100, ++peer_ts);
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.ack, base);
    assert_int_equal(a.opts.sack_blocks, 1);
    peer_data(base + 300, 100, ++peer_ts);
    peer_expect(&pe);
    peer_data(base + 500, 100, ++peer_ts);
    a = peer_expect(&pe);
    assert_int_equal(a.opts.sack_blocks, 3); /* beside timestamps: 3 fit */
    assert_int_equal(a.opts.sack[0][0], base + 500); /* the latest first */
    assert_int_equal(a.opts.sack[1][0], base + 300);
    assert_int_equal(a.opts.sack[2][0], base + 100);
    /* Segment 3 again: a D-SACK for it first, then its block (RFC 2883). */
    peer_data(base + 300, 100, ++peer_ts);
    a = peer_expect(&pe);
    assert_int_equal(a.opts.sack[0][0], base + 300);
    assert_int_equal(a.opts.sack[0][1], base + 400);
    assert_int_equal(a.opts.sack[1][0], base + 300);
    /* The hole at 0 filled: the ACK moves to 200; below it a duplicate of
     * segment 0 is reported as a D-SACK below the cumulative ACK. */
    peer_data(base, 100, ++peer_ts);
    a = peer_expect(&pe);
    assert_int_equal(a.ack, base + 200);
    peer_data(base, 100, ++peer_ts);
    a = peer_expect(&pe);
    assert_int_equal(a.ack, base + 200);
    assert_int_equal(a.opts.sack[0][0], base);
    assert_int_equal(a.opts.sack[0][1], base + 100);
}

/* ---- timestamps ------------------------------------------------------- */
static void paws_drops_an_old_timestamp_not_an_rst(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    peer_data(pe.snd_nxt, 10, 5000);
    pe.snd_nxt += 10;
    peer_run_until(&pe, pe.now + 100 * MS); /* the delayed ACK */
    assert_int_equal(peer_expect(&pe).opts.ts_ecr, 5000);
    /* One tick older is within Linux's slack (TCP_PAWS_WINDOW): taken. */
    peer_data(pe.snd_nxt, 10, 4999);
    pe.snd_nxt += 10;
    peer_run_until(&pe, pe.now + 100 * MS);
    assert_int_equal(peer_expect(&pe).ack, pe.snd_nxt);
    /* Data with an older TSval: dropped, answered with an ACK. */
    peer_data(pe.snd_nxt, 10, 4000);
    struct fa_tcp_view a = peer_expect(&pe);
    assert_int_equal(a.ack, pe.snd_nxt); /* the 10 bytes not taken */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_PAWS_DROPPED), 1);
    uint8_t buf[64];
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), 20);
    assert_int_equal(fa_tcp_recv(c, buf, sizeof buf, pe.now), -EAGAIN);
    /* An RST with an old TSval still resets (RFC 7323 §5.2). */
    uint8_t o[12];
    opt_ts(o, 1, 0);
    peer_send_opts(&pe, RST, pe.snd_nxt, 0, 0, o, sizeof o, NULL, 0);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
}

/* A SYN with an old TSval fails PAWS before the sequence check; it is
 * still a SYN on a synchronized connection, answered by a challenge ACK
 * under RFC 5961 §7's limit (review: each of 205 such SYNs drew an ACK,
 * the limit for bare segments did not count a SYN's one of length). */
static void paws_failed_syns_are_rate_limited(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    peer_data(pe.snd_nxt, 10, 5000);
    pe.snd_nxt += 10;
    peer_run_until(&pe, pe.now + 100 * MS);
    while (!peer_quiet(&pe))
        ;
    pe.now += 2 * S;
    uint8_t o[12];
    opt_ts(o, 100, 0);
    unsigned acks = 0;
    struct fa_tcp_view v;
    for (int i = 0; i < 100; i++) {
        peer_send_opts(&pe, SYN, pe.snd_nxt + 7 * (uint32_t)i, 0, 65535, o, sizeof o, NULL, 0);
        while (peer_next(&pe, &v)) {
            assert_false(v.flags & FA_TCP_RST);
            acks++;
        }
        pe.now += 5 * MS;
    }
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_PAWS_DROPPED), 100);
    assert_true(acks >= 1 && acks <= 2); /* 0.5 s: the interval allows 1 or 2 */
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
}

static void ts_recent_only_from_segments_covering_last_ack_sent(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    assert_int_equal(fa_tcp_setopt(connected_modern(), FA_TCP_QUICKACK, 0), 0);
    /* Two segments in one delayed-ACK interval: the ACK echoes the first
     * one's TSval (RFC 7323 §4.3 (2)): the second starts beyond
     * Last.ACK.sent, so TS.Recent keeps the earlier one. */
    peer_data(pe.snd_nxt, 100, 6000);
    pe.snd_nxt += 100;
    assert_true(peer_quiet(&pe));
    peer_data(pe.snd_nxt, 100, 6001);
    pe.snd_nxt += 100;
    struct fa_tcp_view a = peer_expect(&pe); /* every second segment */
    assert_int_equal(a.ack, pe.snd_nxt);
    assert_int_equal(a.opts.ts_ecr, 6000);
    /* The next segment covers Last.ACK.sent: its TSval is taken. */
    peer_data(pe.snd_nxt, 100, 6002);
    pe.snd_nxt += 100;
    peer_run_until(&pe, pe.now + 100 * MS);
    assert_int_equal(peer_expect(&pe).opts.ts_ecr, 6002);
}

/* ---- the scoreboard, table-driven -------------------------------------- */
static void scoreboard_table(void **state)
{
    (void)state;
    struct fa_tcp_sent e[8];
    struct fa_tcp_sb sb = { .e = e, .cap = 8 };
    /* Five segments of 100 from 1000. */
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(fa_tcp_sb_append(&sb, 1000 + 100 * i, 1100 + 100 * i, i == 4, i), 0);
    assert_int_equal(sb.una, 1000);
    static const struct {
        uint32_t i; uint8_t flag; int set;
        uint32_t sacked, lost, retrans;
    } steps[] = {
        { 1, SB_SACKED, 1, 100, 0, 0 },
        { 3, SB_SACKED, 1, 200, 0, 0 },
        { 0, SB_LOST, 1, 200, 100, 0 },
        { 0, SB_RETRANS, 1, 200, 100, 100 },
        { 0, SB_LOST, 1, 200, 100, 100 },    /* already set: no change */
        { 2, SB_LOST, 1, 200, 200, 100 },
        { 2, SB_LOST, 0, 200, 100, 100 },
        { 3, SB_SACKED, 0, 100, 100, 100 },
        { 3, SB_SACKED, 0, 100, 100, 100 },  /* already clear */
    };
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        if (steps[k].set)
            fa_tcp_sb_set(&sb, steps[k].i, 100, steps[k].flag);
        else
            fa_tcp_sb_clear(&sb, steps[k].i, 100, steps[k].flag);
        assert_int_equal(sb.sacked, steps[k].sacked);
        assert_int_equal(sb.lost, steps[k].lost);
        assert_int_equal(sb.retrans, steps[k].retrans);
    }
    /* find: the entry holding a sequence number. */
    static const struct { uint32_t seq, idx; } finds[] = {
        { 1000, 0 }, { 1099, 0 }, { 1100, 1 }, { 1450, 4 }, { 1500, 5 },
    };
    for (size_t k = 0; k < sizeof finds / sizeof finds[0]; k++)
        assert_int_equal(fa_tcp_sb_find(&sb, 0, finds[k].seq), finds[k].idx);
    /* A partial ACK into entry 0 (lost, resent) takes 40 bytes off. */
    fa_tcp_sb_ack(&sb, 1040, NULL, NULL);
    assert_int_equal(sb.count, 5);
    assert_int_equal(sb.una, 1040);
    assert_int_equal(sb.lost, 60);
    assert_int_equal(sb.retrans, 60);
    /* A split keeps the counts and the FIN on the upper part. */
    assert_int_equal(fa_tcp_sb_split(&sb, 4, 1450), 0);
    assert_int_equal(sb.count, 6);
    assert_int_equal(fa_tcp_sb_at(&sb, 4)->end, 1450);
    assert_false(fa_tcp_sb_at(&sb, 4)->flags & SB_FIN);
    assert_true(fa_tcp_sb_at(&sb, 5)->flags & SB_FIN);
    assert_int_equal(fa_tcp_sb_start(&sb, 5), 1450);
    /* The ACK of 1200: entries 0 and 1 leave, counts follow. */
    fa_tcp_sb_ack(&sb, 1200, NULL, NULL);
    assert_int_equal(sb.count, 4);
    assert_int_equal(sb.sacked, 0);
    assert_int_equal(sb.lost, 0);
    assert_int_equal(sb.retrans, 0);
    /* Full: append and split refuse. */
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(fa_tcp_sb_append(&sb, 1500 + i, 1501 + i, 0, 9), 0);
    assert_int_equal(fa_tcp_sb_append(&sb, 1504, 1505, 0, 9), -1);
    assert_int_equal(fa_tcp_sb_split(&sb, 0, 1250), -1);
}

/* ---- RACK and the sender's side ---------------------------------------- */

/* finack sends n full segments; returns the first's sequence number. */
static uint32_t send_segments(struct fa_tcp *c, unsigned n, uint32_t *mss)
{
    return peer_take_segments(&pe, c, n, n, mss);
}

/* finack sends 8 segments; the peer SACKs 3..7 (block b): 0, 1, 2 were
 * sent before them and are lost (reo_wnd 0: three segments SACKed, no
 * reordering seen). Returns the connection, f and m set. */
static struct fa_tcp *sack_the_last_five_of_eight(uint32_t *f, uint32_t *m, uint32_t b[1][2])
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    *f = send_segments(c, 8, m);
    peer_run_until(&pe, pe.now + 10 * MS);
    b[0][0] = *f + 3 * *m;
    b[0][1] = *f + 8 * *m;
    peer_sack(*f, 1, (const uint32_t (*)[2])b);
    return c;
}

static void rack_three_sacked_marks_lost_at_once(void **state)
{
    (void)state;
    uint32_t f, m, b[1][2];
    struct fa_tcp *c = sack_the_last_five_of_eight(&f, &m, b);
    struct fa_tcp_view r = peer_expect(&pe);
    assert_int_equal(r.seq, f);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RECOVERIES), 1);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 1);
    assert_int_equal(i.sacked, 5 * m);
    assert_int_equal(i.lost, 3 * m);
    /* Each further ACK lets PRR send more, and never a SACKed segment. */
    for (int k = 0; k < 3; k++) {
        uint32_t ack = f + (uint32_t)(k + 1) * m;
        peer_sack(ack, 1, b);
        struct fa_tcp_view v;
        while (peer_next(&pe, &v))
            assert_true(seq_lt(v.seq, f + 3 * m) || seq_ge(v.seq, f + 8 * m));
    }
    peer_sack(f + 8 * m, 0, NULL);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 0);
    assert_int_equal(i.cwnd, i.ssthresh); /* PRR ends at ssthresh */
}

/* A SACK block may start or end inside a segment as sent (the peer got
 * it trimmed to its window, or cut smaller by a resend): the bytes it
 * covers are the peer's, kept as entries of their own, and never sent
 * again (attack seed 11640: a merged entry half SACKed went again). */
static void partial_sack_blocks(struct fa_tcp **cp, uint32_t *f, uint32_t *m, uint32_t b[2][2],
                                uint32_t cap)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    if (cap) {
        assert_int_equal(fa_tcp_loss_alloc(c), 0);
        c->loss->sb.cap = cap;
    }
    *f = send_segments(c, 8, m);
    peer_run_until(&pe, pe.now + 10 * MS);
    b[0][0] = *f + 6 * *m;
    b[0][1] = *f + 7 * *m + *m / 3; /* ends inside 7 */
    b[1][0] = *f + 3 * *m + *m / 2; /* starts inside 3 */
    b[1][1] = *f + 5 * *m;
    peer_sack(*f, 2, (const uint32_t (*)[2])b);
    *cp = c;
}

static void sack_block_inside_a_segment_is_kept(void **state) /* L7 */
{
    (void)state;
    struct fa_tcp *c;
    uint32_t f, m, b[2][2];
    partial_sack_blocks(&c, &f, &m, b, 0);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.sacked, (b[0][1] - b[0][0]) + (b[1][1] - b[1][0]));
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SACK_UNSPLIT), 0);
    /* Recovery resends what the peer lacks, never a byte it SACKed. */
    for (int k = 0; k < 20 && seq_lt(c->snd_una, f + 8 * m); k++) {
        struct fa_tcp_view v;
        while (peer_next(&pe, &v))
            for (int j = 0; j < 2; j++)
                assert_true(!v.data_len || seq_le(v.seq + v.data_len, b[j][0]) ||
                            seq_ge(v.seq, b[j][1]));
        peer_sack(f, 2, (const uint32_t (*)[2])b);
        peer_run_until(&pe, pe.now + 10 * MS);
    }
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.sacked, (b[0][1] - b[0][0]) + (b[1][1] - b[1][0]));
}

/* With the scoreboard full a part cannot be split off: it joins the
 * SACKed entry beside it (the block reached into the next segment, or
 * began inside the one before); a part with no SACKed neighbour (inside
 * one segment) is given up, counted: it may go again (review of the SACK
 * split: a block growing into its next entry was given up). */
static void sack_block_inside_a_segment_with_a_full_scoreboard(void **state) /* L7 */
{
    (void)state;
    struct fa_tcp *c;
    uint32_t f, m, b[3][2];
    partial_sack_blocks(&c, &f, &m, b, 8);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    uint32_t both = (b[0][1] - b[0][0]) + (b[1][1] - b[1][0]);
    assert_int_equal(i.sacked, both);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SACK_UNSPLIT), 0);
    b[2][0] = f + m + m / 4; /* inside segment 1 */
    b[2][1] = f + m + m / 2;
    peer_sack(f, 3, (const uint32_t (*)[2])b);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.sacked, both);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SACK_UNSPLIT), 1);
}

/* One segment lost and resent whole; then the peer SACKs the upper half
 * of it (it had that half: a path cut the original) and reports that
 * half twice (D-SACK). The resend carried the lower half the peer
 * lacked: it was needed, and the episode is not undone (RFC 2883 §4,
 * RFC 3708: only a resend wholly duplicated was needless). Found by the
 * review of the SACK split, which cut the resent entry into pieces that
 * each counted as a whole resend. split: whether the upper half is
 * SACKed (split off) before the D-SACK. Returns the undos counted. */
static int dsack_of_half_a_resend(int split)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 8, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b1[1][2] = { { f + 2 * m, f + 8 * m } };
    peer_sack(f + m, 1, (const uint32_t (*)[2])b1); /* 1 lost */
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.seq, f + m); /* resent whole */
    assert_int_equal(v.data_len, m);
    uint32_t h = f + m + m / 2;
    if (split) {
        uint32_t b2[1][2] = { { h, f + 8 * m } };
        peer_sack(f + m, 1, (const uint32_t (*)[2])b2);
    }
    uint32_t b3[2][2] = { { h, f + 2 * m }, { h, f + 8 * m } }; /* D-SACK of the upper half */
    peer_sack(f + m, 2, (const uint32_t (*)[2])b3);
    int undos = (int)fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS);
    peer_sack(f + 8 * m, 0, NULL); /* the resend filled the lower half */
    peer_destroy(&pe);
    memset(&pe, 0, sizeof pe);
    return undos;
}

static void dsack_of_half_a_needed_resend_does_not_undo(void **state) /* L7 */
{
    (void)state;
    assert_int_equal(dsack_of_half_a_resend(0), 0);
    assert_int_equal(dsack_of_half_a_resend(1), 0);
}

/* The ACK of everything ends recovery with cwnd = ssthresh (RFC 6937 §3):
 * set, whatever PRR's last cwnd (the pipe plus what the last ACK let go). */
static void recovery_ends_at_ssthresh_not_at_the_last_prr_window(void **state)
{
    (void)state;
    uint32_t f, m, b[1][2];
    struct fa_tcp *c = sack_the_last_five_of_eight(&f, &m, b);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 1);
    peer_sack(f + 8 * m, 0, NULL);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 0);
    assert_int_equal(i.cwnd, i.ssthresh);
}

static void rack_one_sacked_waits_the_reordering_window(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 4, &m);
    fa_time sent = pe.now;
    peer_run_until(&pe, pe.now + 15 * MS); /* (the tail probe is due at 2 SRTT, 20 ms) */
    /* Only segment 3 SACKed: reo_wnd = min_RTT / 4 = 2.5 ms (the least
     * RTT is the handshake's, PEER_RTT). Lost when RACK.rtt (15 ms) +
     * reo_wnd has passed since 0..2 were sent. */
    uint32_t b[1][2] = { { f + 3 * m, f + 4 * m } };
    peer_sack(f, 1, b);
    assert_true(peer_quiet(&pe));
    fa_time lost_at = sent + 15 * MS + PEER_RTT / 4;
    peer_run_until(&pe, lost_at - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, lost_at);
    assert_int_equal(peer_expect(&pe).seq, f);
    (void)c;
}

static void sacked_segments_not_resent_after_rto(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 4, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + 2 * m, f + 4 * m } };
    peer_sack(f, 1, b);
    /* Every retransmission is lost; the RTO fires (backed off) twice. */
    peer_run_until(&pe, pe.now + 3 * S);
    struct fa_tcp_view v;
    while (peer_next(&pe, &v))
        assert_true(seq_lt(v.seq, f + 2 * m));
    assert_true(fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES) >= 1);
    /* The ACK of 0 and 1: nothing left to send (2, 3 are SACKed). */
    peer_sack(f + 2 * m, 1, b);
    assert_true(peer_quiet(&pe) || (peer_next(&pe, &v) && v.data_len == 0));
    (void)c;
}

static void dsack_of_the_only_retransmission_undoes(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    struct fa_tcp_info before, i;
    uint32_t m, f = send_segments(c, 8, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    fa_tcp_get_info(c, &before);
    /* Reordering: 1..7 arrive before 0; finack resends 0 needlessly. */
    uint32_t b[1][2] = { { f + m, f + 8 * m } };
    peer_sack(f, 1, b);
    assert_int_equal(peer_expect(&pe).seq, f);
    fa_tcp_get_info(c, &i);
    assert_true(i.ssthresh < before.cwnd);
    /* The original 0 arrives, then the copy: D-SACK below the ACK. */
    uint32_t d[1][2] = { { f, f + m } };
    peer_sack(f + 8 * m, 1, d);
    fa_tcp_get_info(c, &i);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_UNDOS), 1);
    assert_true(i.cwnd >= before.cwnd);
    assert_int_equal(i.recovery, 0);
}

/* The retransmission in fast recovery was the last segment sent; the one
 * ACK it draws (everything, cumulatively) is lost. A probe after two SRTTs
 * draws it again — not the RTO 200 ms later (found on the TAP under 2 %
 * loss: 28 stalls of 200 ms in 200 MB). */
static void lost_ack_ending_recovery_draws_a_probe_not_an_rto(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 4, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t b[1][2] = { { f + m, f + 4 * m } };
    peer_sack(f, 1, b);
    assert_int_equal(peer_expect(&pe).seq, f); /* the fast retransmission */
    fa_time resent = pe.now;
    /* Its ACK (of f + 4m) is lost: silence. */
    peer_run_until(&pe, resent + 2 * 10 * MS - 1);
    assert_true(peer_quiet(&pe));
    peer_run_until(&pe, resent + 2 * 10 * MS);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.seq, f); /* the highest segment not SACKed */
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    /* The peer answers the duplicate with a D-SACK and the full ACK. */
    uint32_t d[1][2] = { { f, f + m } };
    peer_sack(f + 4 * m, 1, d);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.recovery, 0);
    assert_int_equal(i.send_queued, 0);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_RTO_RECOVERIES), 0);
}

/* The ACK clock stopped with the window full (the ACKs of a whole flight
 * lost). To a peer that reports duplicates (a D-SACK seen) the probe
 * resends the last segment — a duplicate it ACKs at once — not new data,
 * which a receiver holding everything before it (Linux) ACKs only after
 * its 40 ms delayed-ACK timer. To a peer never seen to send a D-SACK, new
 * data (RFC 8985 §7.3): its ACK of a resent copy would look like a
 * repaired loss and cut the window for nothing (found by review). */
static void full_window_probe(int peer_dsacks)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 1, &m);
    peer_run_until(&pe, pe.now + 10 * MS);
    uint32_t d[1][2] = { { f, f + m } }; /* a duplicate, reported */
    peer_sack(f + m, peer_dsacks, d);   /* SRTT 10 ms */
    static uint8_t more[12 * 1448];
    assert_int_equal(fa_tcp_send(c, more, 12 * m, pe.now), 12 * m);
    uint32_t last = 0;
    struct fa_tcp_view v;
    unsigned n = 0;
    while (peer_next(&pe, &v)) {
        last = v.seq;
        n++;
    }
    assert_true(n >= 10 && n < 12); /* the window is full, data waits */
    peer_run_until(&pe, pe.now + 25 * MS);
    v = peer_expect(&pe);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_LOSS_PROBES), 1);
    if (peer_dsacks) {
        assert_int_equal(v.seq, last); /* the last segment again */
        return;
    }
    assert_int_equal(v.seq, last + m); /* new data */
    /* Everything arrived: the ACK of it all cuts nothing. */
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    uint32_t cwnd = i.cwnd;
    peer_sack(v.seq + v.data_len, 0, NULL);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.ssthresh, UINT32_MAX);
    assert_true(i.cwnd >= cwnd);
}

static void probe_with_a_full_window_resends_the_last_segment(void **state)
{
    (void)state;
    full_window_probe(1);
}

static void probe_to_a_peer_without_dsack_sends_new_data(void **state)
{
    (void)state;
    full_window_probe(0);
}

static void sack_block_beyond_what_was_sent_is_ignored(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 2, &m);
    uint32_t b[1][2] = { { f + m, f + 5 * m } }; /* past SND.NXT */
    peer_sack(f, 1, b);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SACK_BAD), 1);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.sacked, 0);
    assert_int_equal(i.recovery, 0);
}

/* ---- ICMP into TCP (RFC 1191, RFC 1122 §4.2.3.9, RFC 5927) -------------- */

static void icmp_frag_needed_lowers_the_mss_and_resends(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 3, &m);
    /* Quoting a sequence number not in flight: ignored (RFC 5927). */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 1000, f + 10 * m);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_ICMP_IGNORED), 1);
    assert_true(peer_quiet(&pe));
    /* The first segment's: MTU 1000 — 1000 - 40 - 12 (timestamps). */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 1000, f);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.mss, 948);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_PMTU_LOWERED), 1);
    assert_int_equal(i.ssthresh, UINT32_MAX); /* no congestion signal */
    /* What was out goes again, in segments that fit. */
    uint32_t next = f;
    struct fa_tcp_view v;
    while (peer_next(&pe, &v)) {
        assert_true(v.data_len <= 948);
        if (v.seq == next)
            next += v.data_len;
    }
    assert_true(seq_gt(next, f + 948));
    /* A forged tiny MTU goes no lower than Linux's floor, 552. */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 300, f);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.mss, 552 - 40 - 12);
}

/* The peer's SACK ACK echoing finack's latest TSval (as a real peer). */
static uint32_t last_tsval;
static void sack_echo(uint32_t ack, unsigned n, const uint32_t (*b)[2])
{
    uint8_t o[40];
    size_t k = opt_ts(o, ++peer_ts, last_tsval);
    if (n)
        k += opt_sack(o + k, n, b);
    while (k % 4)
        o[k++] = 1;
    peer_send_opts(&pe, FA_TCP_ACK, pe.snd_nxt, ack, 65535, o, k, NULL, 0);
}
static int next_seg(struct fa_tcp_view *v)
{
    int r = peer_next(&pe, v);
    if (r && v->opts.has_ts)
        last_tsval = v->opts.ts_val;
    return r;
}

/* A full scoreboard (cut to cap entries), and a resend that must split
 * entry i among the last two: the two before it are merged — one resent
 * (its copy in flight), one SACKed. The merged entry must stay a resent
 * copy RACK watches (or one NextSeg finds): when that copy is lost too,
 * it goes again after RACK's wait, not an RTO later (review: it was
 * merged into a lost entry below rexmit_from that nothing resent). */
static void full_table_merge_case(uint32_t cap)
{
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = peer_connected_modern(&pe, &peer_ts);
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_NODELAY, 1), 0);
    assert_int_equal(fa_tcp_loss_alloc(c), 0);
    c->loss->sb.cap = cap; /* 4: as mss_drop_with_a_full_scoreboard_still_resends */
    uint32_t m = c->mss, f = c->snd_nxt;
    static uint8_t data[4 * 1448];
    assert_int_equal(fa_tcp_send(c, data, 400, pe.now), 400);           /* A: 400 */
    assert_int_equal(fa_tcp_send(c, data, 3 * m, pe.now), (long)(3 * m)); /* B C D */
    struct fa_tcp_view v;
    unsigned n = 0;
    while (next_seg(&v))
        n++;
    assert_int_equal(n, 4);
    uint32_t A = f, B = f + 400, C = B + m, D = C + m, E = D + m;
    /* B arrives, A does not: A lost after the reordering window, resent. */
    pe.now += 10 * MS;
    uint32_t b1[1][2] = { { B, C } };
    sack_echo(A, 1, (const uint32_t (*)[2])b1);
    peer_run_until(&pe, pe.now + 20 * MS);
    int a_resent = 0;
    while (next_seg(&v))
        if (v.seq == A && v.data_len)
            a_resent = 1;
    assert_true(a_resent);
    /* D arrives, C does not. */
    uint32_t b2[2][2] = { { D, E }, { B, C } };
    sack_echo(A, 2, (const uint32_t (*)[2])b2);
    peer_run_until(&pe, pe.now + 20 * MS);
    while (next_seg(&v))
        ;
    /* The path's MTU falls: C (and its resent copy) must be split. */
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 552, C);
    assert_int_equal(c->mss, 552 - 40 - 12);
    while (next_seg(&v))
        ;
    /* The peer got every resent piece of C but not A's copy: it SACKs
     * everything above A. A's copy is lost; how soon does A go again? */
    fa_time t0 = pe.now;
    fa_time again = 0;
    for (int k = 0; k < 100 && !again; k++) {
        uint32_t b3[1][2] = { { B, E } };
        sack_echo(A, 1, (const uint32_t (*)[2])b3);
        peer_run_until(&pe, pe.now + 10 * MS);
        while (next_seg(&v))
            if (v.seq == A && v.data_len && !again)
                again = pe.now;
    }
    /* RACK (RFC 8985 §6.2): a copy sent before segments now SACKed is
     * lost after an RTT and the reordering window — not an RTO later. */
    assert_true(again && again - t0 < 100 * MS);
}

static void merge_keeps_a_resent_copy_watched(void **state)
{
    (void)state;
    full_table_merge_case(4);
    assert_true(fa_stack_counter(pe.s, FA_CNT_TCP_SB_MERGED) > 0);
}

static void same_without_a_merge(void **state)
{
    (void)state;
    full_table_merge_case(8);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SB_MERGED), 0);
}

/* A tail loss probe resends the last segment, marked lost, while a lost
 * one lower down has not gone again: NextSeg must still find that one
 * (review: the probe's copy moved NextSeg's cursor past it, and it
 * waited for the RTO while new data went). */
static void probe_copy_does_not_hide_lower_losses(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 5, &m);
    struct fa_tcp_sb *sb = &c->loss->sb;
    assert_int_equal(sb->count, 5);
    fa_tcp_sb_set(sb, 1, m, SB_LOST);
    fa_tcp_sb_set(sb, 4, m, SB_LOST);
    assert_int_equal(fa_tcp_rec_next_lost(c), 1);
    fa_tcp_rec_resent(c, 4, m, pe.now); /* the probe's copy of the last */
    assert_int_equal(fa_tcp_rec_next_lost(c), 1);
    fa_tcp_rec_resent(c, 1, m, pe.now); /* NextSeg's own pick */
    assert_int_equal(fa_tcp_rec_next_lost(c), -1);
    assert_true(seq_ge(c->loss->rexmit_from, f + 2 * m));
}

/* Switching the congestion control while busy starts it afresh: CUBIC's
 * epoch (kept with the busy state) goes with its W_max. */
static void cc_switch_while_busy_starts_a_new_epoch(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 4, &m);
    assert_non_null(c->loss);
    c->loss->cubic.epoch = 5 * S; /* one running */
    c->loss->cubic.w_est = 99 * m;
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_CONGESTION, FA_TCP_CC_CUBIC), 0);
    assert_int_equal(c->loss->cubic.epoch, 0);
    assert_int_equal(c->loss->cubic.w_est, 0);
    assert_int_equal(c->keep.cubic.w_max, 0);
    (void)f;
}

/* RACK's minimum RTT (RFC 8985 §6.2) from a sample of 4.29 s or more is
 * held at 4.29 s, not taken for "no sample". */
static void min_rtt_of_a_long_path_is_kept(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    c->keep.min_rtt = FA_TCP_RTT32_NONE; /* as if the handshake were untimed */
    uint32_t m, f = send_segments(c, 1, &m);
    c->t_rexmit = pe.now + 10 * S; /* the RTO out of the way */
    pe.now += 5300 * MS;
    peer_sack(f + m, 0, NULL);
    assert_int_equal(c->keep.min_rtt, FA_TCP_RTT32_NONE - 1);
}

/* The MSS falls while the scoreboard is full: a resend must split an
 * entry and there is no room for the piece. Before, nothing was resent
 * and the connection timed out; now the last two entries are merged
 * (the least precise knowledge given up) and the resend goes. A full
 * table takes about 8,192 segments in flight; here it is cut to four
 * before anything is sent. */
static void mss_drop_with_a_full_scoreboard_still_resends(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    assert_int_equal(fa_tcp_loss_alloc(c), 0);
    c->loss->sb.cap = 4;
    uint32_t m = c->mss, f = c->snd_nxt;
    static uint8_t data[6 * 1460];
    for (size_t k = 0; k < sizeof data; k++)
        data[k] = (uint8_t)(k * 7 + 1);
    assert_int_equal(fa_tcp_send(c, data, 6 * m, pe.now), 6 * m);
    struct fa_tcp_view v;
    unsigned n = 0;
    while (peer_next(&pe, &v))
        n++;
    assert_int_equal(n, 4); /* the table holds four */
    assert_int_equal(c->loss->sb.count, 4);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 552, f);
    assert_int_equal(c->mss, 552 - 40 - 12);
    /* The peer takes what arrives in order and ACKs it; all of it gets
     * there within a minute (before, no byte was resent). */
    uint32_t next = f;
    for (int k = 0; k < 600 && seq_lt(next, f + 6 * m); k++) {
        while (peer_next(&pe, &v)) {
            assert_true(v.data_len <= 500);
            if (v.seq == next && v.data_len) {
                assert_memory_equal(v.data, data + (next - f), v.data_len);
                next += v.data_len;
            }
        }
        peer_send(&pe, FA_TCP_ACK, pe.snd_nxt, next, 65535, NULL, 0);
        peer_run_until(&pe, pe.now + 100 * MS);
    }
    assert_int_equal(next, f + 6 * m);
    assert_true(fa_stack_counter(pe.s, FA_CNT_TCP_SB_MERGED) > 0);
}

static void icmp_hard_error_ends_an_opening_connection_only(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_syn_retries = 2;
    peer_init(&pe, &cfg, 80);
    /* Port unreachable for our SYN: ECONNREFUSED at once. */
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_PORT, 0, syn.seq);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -ECONNREFUSED);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_ICMP_ABORTS), 1);
    fa_tcp_close(c, pe.now);
    /* Host unreachable is soft (RFC 1122 §4.2.3.9): the SYN is retried,
     * and the timeout reports it. */
    c = peer_connecting(&pe, 0, &syn);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_HOST, 0, syn.seq);
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_SENT);
    peer_run_until(&pe, pe.now + 60 * S);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -EHOSTUNREACH);
    fa_tcp_close(c, pe.now);
    /* Synchronized: even port unreachable is soft (RFC 5461). */
    peer_destroy(&pe);
    peer_init(&pe, NULL, 80);
    c = connected_modern();
    uint32_t m, f = send_segments(c, 1, &m);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_PORT, 0, f);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_ICMP_ABORTS), 0);
}

/* The codes as Linux's icmp_err_convert has them (a review found 14 and
 * 15 soft, 11 EHOSTUNREACH, and codes past 15 taken as soft errors):
 * precedence cutoff ends an opening connection; code 200 is no code and
 * is ignored, counted. */
static void icmp_codes_as_linux(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp_view syn;
    struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
    peer_icmp_unreach(&pe, 200, 0, syn.seq);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_ICMP_IGNORED), 1);
    assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_SENT);
    peer_icmp_unreach(&pe, 15, 0, syn.seq);
    assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
    assert_int_equal(fa_tcp_error(c), -EHOSTUNREACH);
    fa_tcp_close(c, pe.now);
}

/* A router that gives no next-hop MTU (0, RFC 1191 §7): the plateau below
 * the quoted datagram's 1,500 bytes, 1,492; one that gives 1 to 67 lies:
 * counted and ignored (found by a review: both were ignored uncounted). */
static void icmp_frag_needed_without_an_mtu(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 3, &m);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 67, f);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_ICMP_IGNORED), 1);
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.mss, m);
    peer_icmp_unreach(&pe, FA_ICMP_UNREACH_NEEDFRAG, 0, f);
    fa_tcp_get_info(c, &i);
    assert_int_equal(i.mss, 1492 - 40 - 12);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_PMTU_LOWERED), 1);
}

/* Time exceeded and parameter problem reach TCP (RFC 1122 §3.2.2.4,
 * §3.2.2.5) as soft errors (§4.2.3.9): an opening connection retries and
 * reports them at its timeout, EHOSTUNREACH and EPROTO as Linux does; an
 * established one goes on. They were counted as unhandled and lost (the
 * timeout said ETIMEDOUT): found by a review. */
static void icmp_time_exceeded_and_parameter_problem_are_soft(void **state)
{
    (void)state;
    struct fa_config cfg;
    fa_config_init(&cfg);
    cfg.tcp_syn_retries = 2;
    peer_init(&pe, &cfg, 80);
    static const struct { uint8_t type; int err; } cases[] = {
        { FA_ICMP_TIME_EXCEEDED, -EHOSTUNREACH }, { FA_ICMP_PARAM_PROBLEM, -EPROTO },
    };
    for (int k = 0; k < 2; k++) {
        struct fa_tcp_view syn;
        while (peer_next(&pe, &syn)) /* the last one's resent SYNs */
            ;
        struct fa_tcp *c = peer_connecting(&pe, 0, &syn);
        peer_icmp_error(&pe, cases[k].type, 0, 0, syn.seq);
        assert_int_equal(fa_tcp_state(c), FA_TCP_SYN_SENT);
        peer_run_until(&pe, pe.now + 60 * S);
        assert_int_equal(fa_tcp_state(c), FA_TCP_CLOSED);
        assert_int_equal(fa_tcp_error(c), cases[k].err);
        fa_tcp_close(c, pe.now);
    }
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_ICMP_OTHER_ERROR_IN), 2);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_ICMP_UNHANDLED), 0);
    peer_destroy(&pe);
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    uint32_t m, f = send_segments(c, 1, &m);
    peer_icmp_error(&pe, FA_ICMP_PARAM_PROBLEM, 0, 0, f);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    assert_int_equal(fa_tcp_error(c), 0);
}

/* ---- TIME-WAIT with timestamps (RFC 6191) -------------------------------- */
static void time_wait_reopened_by_a_newer_timestamp(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *l, *c;
    uint8_t o[40];
    size_t n = opt_syn(o, 1, 1, 100, 0);
    struct fa_tcp_view sa = peer_syn_to_listener(&pe, 8080, o, n, &l);
    pe.snd_nxt++;
    pe.rcv_nxt = sa.seq + 1;
    uint8_t t[12];
    opt_ts(t, 101, sa.opts.ts_val);
    peer_send_opts(&pe, ACK, pe.snd_nxt, pe.rcv_nxt, 65535, t, sizeof t, NULL, 0);
    assert_int_equal(fa_tcp_accept(l, &c), 0);
    /* finack closes first; the peer's FIN: finack's end sits in TIME-WAIT. */
    fa_tcp_close(c, pe.now);
    struct fa_tcp_view fin = peer_expect(&pe);
    assert_true(fin.flags & FA_TCP_FIN);
    pe.rcv_nxt = fin.seq + 1;
    opt_ts(t, 102, fin.opts.ts_val);
    peer_send_opts(&pe, ACK | FA_TCP_FIN, pe.snd_nxt, pe.rcv_nxt, 65535, t, sizeof t, NULL, 0);
    struct fa_tcp_view last = peer_expect(&pe);
    assert_int_equal(last.ack, pe.snd_nxt + 1);
    assert_true(last.opts.has_ts); /* the TIME-WAIT ACK carries them too */
    assert_int_equal(last.opts.ts_ecr, 102);
    /* A SYN with an older timestamp and an old number: no reopening. */
    n = opt_syn(o, 1, 1, 50, 0);
    peer_send_opts(&pe, SYN, pe.snd_nxt - 1000, 0, 65535, o, n, NULL, 0);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_false(v.flags & SYN);
    /* The same old number with a newer timestamp reopens it (RFC 6191),
     * the new ISN above the old connection's numbers. */
    n = opt_syn(o, 1, 1, 200, 0);
    peer_send_opts(&pe, SYN, pe.snd_nxt - 1000, 0, 65535, o, n, NULL, 0);
    v = peer_expect(&pe);
    assert_int_equal(v.flags, SYN | ACK);
    assert_true(seq_gt(v.seq, last.seq));
    fa_tcp_close(l, pe.now);
}

/* ---- PRR (RFC 6937 §3.1), table-driven ---------------------------------- */
static void prr_sndcnt_table(void **state)
{
    (void)state;
    static const struct {
        struct fa_tcp_prr_in in;
        uint32_t want;
    } rows[] = {
        /* pipe > ssthresh: ceil(delivered * ssthresh / RecoverFS) - out.
         * RFC 6937 §3's example: RecoverFS 20, ssthresh 10 segments (of
         * 100): every two delivered, one sent. */
        { { .prr_delivered = 100, .prr_out = 100, .recover_fs = 2000, .ssthresh = 1000,
            .pipe = 1900, .delivered = 100, .mss = 100 }, 0 },
        { { .prr_delivered = 200, .prr_out = 100, .recover_fs = 2000, .ssthresh = 1000,
            .pipe = 1800, .delivered = 100, .mss = 100 }, 0 },
        { { .prr_delivered = 400, .prr_out = 100, .recover_fs = 2000, .ssthresh = 1000,
            .pipe = 1600, .delivered = 100, .mss = 100 }, 100 },
        /* Nothing sent yet: the first retransmission goes at once. */
        { { .prr_delivered = 100, .prr_out = 0, .recover_fs = 2000, .ssthresh = 1000,
            .pipe = 1900, .delivered = 100, .mss = 100 }, 100 },
        /* pipe <= ssthresh (SSRB): min(ssthresh - pipe,
         * max(prr_delivered - prr_out, DeliveredData) + MSS). */
        { { .prr_delivered = 1000, .prr_out = 900, .recover_fs = 2000, .ssthresh = 1000,
            .pipe = 500, .delivered = 300, .mss = 100 }, 400 },
        { { .prr_delivered = 1000, .prr_out = 900, .recover_fs = 2000, .ssthresh = 1000,
            .pipe = 900, .delivered = 300, .mss = 100 }, 100 },
        { { .prr_delivered = 1000, .prr_out = 1000, .recover_fs = 2000, .ssthresh = 1000,
            .pipe = 1000, .delivered = 0, .mss = 100 }, 0 },
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
        assert_int_equal(fa_tcp_prr_sndcnt(&rows[k].in), rows[k].want);
}

/* ---- CUBIC (RFC 9438) --------------------------------------------------- */
static void cubic_against_the_rfc(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_CONGESTION, 7), -ENOENT);
    long v;
    assert_int_equal(fa_tcp_getopt(c, FA_TCP_CONGESTION, &v), 0);
    assert_int_equal(v, FA_TCP_CC_CUBIC);
    const struct fa_tcp_cc_ops *cc = fa_tcp_cc(c);
    const uint32_t M = c->mss;
    fa_time t0 = 100 * S;
    /* The window grows on ACKs of data, which come with the busy state. */
    if (!c->loss)
        assert_int_equal(fa_tcp_loss_alloc(c), 0);
    /* A loss at cwnd = 100 segments, all of them in flight. */
    c->cwnd = 100 * M;
    c->snd_nxt = c->snd_una + 100 * M;
    cc->on_loss(c, t0);
    assert_int_equal(c->ssthresh, 70 * M); /* beta_cubic 0.7 (§4.6) */
    assert_int_equal(c->keep.cubic.w_max, 100 * M);
    /* Congestion avoidance from ssthresh: K = cbrt((100 - 70) / 0.4) s. */
    c->cwnd = c->ssthresh;
    c->srtt8 = 8 * 1000; /* 1 ms */
    cc->on_ack(c, M, 0, t0);
    double k = cbrt(30 / 0.4);
    assert_true(fabs((double)c->loss->cubic.k_ms * MS / S - k) < 0.002);
    /* One window ACKed at t: cwnd becomes W_cubic(t + RTT), eq. (1). */
    static const double ts[] = { 1.0, 2.0, 3.5 }; /* concave: t < K */
    for (size_t i = 0; i < 3; i++) {
        c->cwnd = 70 * M;
        fa_time t = t0 + (fa_time)(ts[i] * S);
        cc->on_ack(c, c->cwnd, 0, t);
        double w = 0.4 * pow(ts[i] + 0.001 - k, 3) + 100;
        if (w > 1.5 * 70)
            w = 1.5 * 70;
        assert_true(fabs((double)c->cwnd / M - w) < 0.05);
    }
    /* Convex region (t > K): beyond W_max, growing faster with time. */
    c->cwnd = 100 * M;
    cc->on_ack(c, c->cwnd, 0, t0 + 6 * S);
    double w6 = 0.4 * pow(6.001 - k, 3) + 100;
    assert_true(fabs((double)c->cwnd / M - w6) < 0.05);
    /* Fast convergence (§4.7): a loss below W_max remembers less. */
    c->cwnd = 90 * M;
    c->snd_nxt = c->snd_una + 90 * M;
    cc->on_loss(c, t0 + 7 * S);
    assert_int_equal(c->keep.cubic.w_max, 90 * M * 17 / 20);
    assert_int_equal(c->ssthresh, 63 * M);
    /* NewReno by choice: half the flight (RFC 5681 eq. (4)). */
    assert_int_equal(fa_tcp_setopt(c, FA_TCP_CONGESTION, FA_TCP_CC_NEWRENO), 0);
    fa_tcp_cc(c)->on_loss(c, t0);
    assert_int_equal(c->ssthresh, 45 * M);
}

/* ---- HyStart++ (RFC 9406) ------------------------------------------------ */

static void hystart_css_on_rtt_rise_then_avoidance(void **state)
{
    (void)state;
    peer_init(&pe, NULL, 80);
    struct fa_tcp *c = connected_modern();
    const uint32_t M = c->mss;
    c->snd_nxt = c->snd_una;
    /* An idle connection holds no loss state: a busy period begins. */
    if (!c->loss)
        assert_int_equal(fa_tcp_loss_alloc(c), 0);
    fa_tcp_hystart_reset(c);
    c->cwnd = 10 * M;
    c->ssthresh = UINT32_MAX;
    /* Round 1 (9 ACKs: the 10th reaches its end and opens round 2): RTT
     * 10 ms; slow start, a segment per segment ACKed. */
    for (int i = 0; i < 9; i++)
        peer_hystart_ack(c, 10 * MS, 10);
    assert_int_equal(c->cwnd, 19 * M);
    /* Round 2: 20 ms, past 10 ms + eta (max(10/8, 4) ms): on the 8th
     * sample, Conservative Slow Start — a quarter of the growth. */
    for (int i = 0; i < 7; i++)
        peer_hystart_ack(c, 20 * MS, 10);
    assert_int_equal(c->cwnd, 26 * M);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_HYSTART_CSS), 0);
    peer_hystart_ack(c, 20 * MS, 10);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_HYSTART_CSS), 1);
    assert_int_equal(c->cwnd, 26 * M + M / 4);
    peer_hystart_ack(c, 20 * MS, 10);
    /* CSS for CSS_ROUNDS = 5 rounds (RTT still high), then congestion
     * avoidance with ssthresh = cwnd (§4.3). */
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 9; i++)
            peer_hystart_ack(c, 20 * MS, 10);
    assert_int_equal(c->ssthresh, UINT32_MAX);
    peer_hystart_ack(c, 20 * MS, 10);
    assert_int_equal(c->ssthresh, c->cwnd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(syn_offers_every_option, teardown),
        cmocka_unit_test_teardown(synack_answers_only_what_was_offered, teardown),
        cmocka_unit_test_teardown(options_off_by_config, teardown),
        cmocka_unit_test_teardown(sack_blocks_most_recent_first_then_dsack, teardown),
        cmocka_unit_test_teardown(paws_drops_an_old_timestamp_not_an_rst, teardown),
        cmocka_unit_test_teardown(paws_failed_syns_are_rate_limited, teardown),
        cmocka_unit_test_teardown(ts_recent_only_from_segments_covering_last_ack_sent, teardown),
        cmocka_unit_test(scoreboard_table),
        cmocka_unit_test_teardown(rack_three_sacked_marks_lost_at_once, teardown),
        cmocka_unit_test_teardown(recovery_ends_at_ssthresh_not_at_the_last_prr_window, teardown),
        cmocka_unit_test_teardown(sack_block_inside_a_segment_is_kept, teardown),
        cmocka_unit_test_teardown(sack_block_inside_a_segment_with_a_full_scoreboard, teardown),
        cmocka_unit_test_teardown(dsack_of_half_a_needed_resend_does_not_undo, teardown),
        cmocka_unit_test_teardown(rack_one_sacked_waits_the_reordering_window, teardown),
        cmocka_unit_test_teardown(sacked_segments_not_resent_after_rto, teardown),
        cmocka_unit_test_teardown(dsack_of_the_only_retransmission_undoes, teardown),
        cmocka_unit_test_teardown(lost_ack_ending_recovery_draws_a_probe_not_an_rto, teardown),
        cmocka_unit_test_teardown(probe_with_a_full_window_resends_the_last_segment, teardown),
        cmocka_unit_test_teardown(probe_to_a_peer_without_dsack_sends_new_data, teardown),
        cmocka_unit_test_teardown(sack_block_beyond_what_was_sent_is_ignored, teardown),
        cmocka_unit_test_teardown(icmp_frag_needed_lowers_the_mss_and_resends, teardown),
        cmocka_unit_test_teardown(mss_drop_with_a_full_scoreboard_still_resends, teardown),
        cmocka_unit_test_teardown(cc_switch_while_busy_starts_a_new_epoch, teardown),
        cmocka_unit_test_teardown(merge_keeps_a_resent_copy_watched, teardown),
        cmocka_unit_test_teardown(probe_copy_does_not_hide_lower_losses, teardown),
        cmocka_unit_test_teardown(same_without_a_merge, teardown),
        cmocka_unit_test_teardown(min_rtt_of_a_long_path_is_kept, teardown),
        cmocka_unit_test_teardown(icmp_hard_error_ends_an_opening_connection_only, teardown),
        cmocka_unit_test_teardown(icmp_frag_needed_without_an_mtu, teardown),
        cmocka_unit_test_teardown(icmp_codes_as_linux, teardown),
        cmocka_unit_test_teardown(icmp_time_exceeded_and_parameter_problem_are_soft, teardown),
        cmocka_unit_test_teardown(time_wait_reopened_by_a_newer_timestamp, teardown),
        cmocka_unit_test(prr_sndcnt_table),
        cmocka_unit_test_teardown(hystart_css_on_rtt_rise_then_avoidance, teardown),
        cmocka_unit_test_teardown(cubic_against_the_rfc, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
