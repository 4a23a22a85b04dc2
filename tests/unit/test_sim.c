/* test_sim.c — the simulator: one seed replays a run exactly; the link
 * model's rate, delay and order; independent and bursty loss at their
 * rates; outages; middleboxes that resegment or divide ACKs; the learning switch; TCP
 * across three hosts; frames read in batches, as an event loop does;
 * timers run late, as a loop that sleeps past its deadlines runs them;
 * the RTT oracle, and the trace hook that feeds it. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"
#include "sim/sim_internal.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

struct trace {
    uint64_t hash, frames[2];
};

static void on_frame(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    struct trace *tr = ctx;
    uint64_t h = tr->hash ^ (t * 31 + (uint64_t)host * 7 + (uint64_t)dir);
    for (size_t i = 0; i < len; i++)
        h = (h ^ f[i]) * 0x100000001b3ull;
    tr->hash = h;
    tr->frames[dir]++;
}

/* hosts hosts on links up and down (down NULL: up both ways), with the
 * invariant checks on if checked, receive buffers of rcvbuf bytes (0:
 * the default). */
static struct fa_sim *sim_of(int hosts, const struct fa_sim_link *up,
                             const struct fa_sim_link *down, uint64_t seed, int checked,
                             uint32_t rcvbuf)
{
    struct fa_sim *sim;
    assert_int_equal(fa_sim_create(seed, &sim), 0);
    if (checked)
        assert_int_equal(fa_sim_check_enable(sim), 0);
    for (int i = 0; i < hosts; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        if (rcvbuf)
            cfg.tcp_rcvbuf = rcvbuf;
        assert_int_equal(fa_sim_add_host(sim, &cfg, up, down ? down : up), i);
    }
    return sim;
}

static struct fa_sim *sim_with(int hosts, const struct fa_sim_link *link, uint64_t seed)
{
    return sim_of(hosts, link, NULL, seed, 0, 0);
}

/* Host 0 sends `bytes` to host 1 over TCP; returns bytes received. */
static size_t transfer(struct fa_sim *sim, int from, int to, size_t bytes, fa_time limit)
{
    static uint8_t out[1 << 20], in[1 << 20];
    for (size_t i = 0; i < bytes; i++)
        out[i] = (uint8_t)(i * 13 + 1);
    struct fa_tcp *l, *c, *s = NULL;
    fa_tcp_open(fa_sim_stack(sim, to), &l);
    fa_tcp_setopt(l, FA_SO_REUSEADDR, 1); /* a second transfer may listen again */
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 4, fa_sim_now(sim));
    fa_tcp_open(fa_sim_stack(sim, from), &c);
    fa_tcp_connect(c, FA_IPV4(198, 18, 0, 1 + to), 80, fa_sim_now(sim));
    size_t sent = 0, got = 0;
    fa_time end = fa_sim_now(sim) + limit;
    while (got < bytes && fa_sim_now(sim) < end) {
        fa_sim_run_until(sim, fa_sim_now(sim) + MS);
        if (!s && fa_tcp_accept(l, &s) < 0)
            s = NULL;
        long n = fa_tcp_send(c, out + sent, bytes - sent, fa_sim_now(sim));
        sent += n > 0 ? (size_t)n : 0;
        while (s && (n = fa_tcp_recv(s, in + got, bytes - got, fa_sim_now(sim))) > 0)
            got += (size_t)n;
    }
    assert_memory_equal(in, out, got);
    fa_tcp_close(l, fa_sim_now(sim)); /* port 80 free for the next */
    return got;
}

static void same_seed_same_run(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    link.loss = 0.05;
    link.duplicate = 0.02;
    link.reorder = 0.05;
    link.jitter = 20 * FA_NS_PER_US;
    uint64_t hash[3];
    for (int run = 0; run < 3; run++) {
        struct trace tr = { 0 };
        struct fa_sim *sim = sim_with(2, &link, run == 2 ? 99 : 7);
        fa_sim_on_frame(sim, on_frame, &tr);
        assert_int_equal(transfer(sim, 0, 1, 200000, 60 * S), 200000);
        hash[run] = tr.hash;
        fa_sim_destroy(sim);
    }
    assert_true(hash[0] == hash[1]);
    assert_true(hash[0] != hash[2]);
}

/* Frames host 1 sends, and a hash of everything. */
struct sent1 {
    uint64_t frames, hash;
};

static void on_frame1(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    struct sent1 *s = ctx;
    s->frames += host == 1 && dir == 0;
    s->hash = (s->hash ^ (t * 31 + len + (uint64_t)host)) * 0x100000001b3ull;
    (void)f;
}

/* The receiver reads its frames in 1 ms batches: one ACK covers what a
 * batch brought, so it sends fewer; every byte arrives, and a seed still
 * replays exactly. */
static void batches_coalesce_acks(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    link.rate_bps = 100000000; /* 120 us a full frame: a batch holds several */
    struct sent1 s[3] = { { 0, 0 } };
    for (int run = 0; run < 3; run++) {
        struct fa_sim *sim = sim_with(2, &link, 5);
        assert_int_equal(fa_sim_set_batching(sim, 2, MS), -EINVAL);
        if (run)
            assert_int_equal(fa_sim_set_batching(sim, 1, MS), 0);
        fa_sim_on_frame(sim, on_frame1, &s[run]);
        assert_int_equal(transfer(sim, 0, 1, 500000, 60 * S), 500000);
        fa_sim_destroy(sim);
    }
    print_message("frames the receiver sent: %llu, in 1 ms batches %llu\n",
                  (unsigned long long)s[0].frames, (unsigned long long)s[1].frames);
    assert_true(s[1].frames * 2 < s[0].frames);
    assert_true(s[1].hash == s[2].hash && s[1].frames == s[2].frames);
}

/* Host 0's TCP frames are lost; the times its SYNs went are kept. */
struct syns {
    fa_time at[8];
    int n;
};

static int is_tcp(const uint8_t *f, size_t len)
{
    return len > 23 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6;
}

static void on_syn(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    struct syns *s = ctx;
    if (host == 0 && dir == 0 && is_tcp(f, len) && s->n < 8)
        s->at[s->n++] = t;
}

static int lose_tcp_of_0(void *ctx, int host, const uint8_t *f, size_t len, fa_time t)
{
    (void)ctx;
    (void)t;
    return host == 0 && is_tcp(f, len);
}

/* Host 0's SYN goes unanswered: when do its retransmissions go, run in
 * one call or in 1 ms steps, with its timers on time or up to lag late? */
static struct syns syn_times(fa_time lag, int steps, uint64_t seed)
{
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    struct fa_sim *sim = sim_with(2, &link, seed);
    struct syns s = { { 0 }, 0 };
    assert_int_equal(fa_sim_set_timer_lag(sim, 0, lag), 0);
    fa_sim_on_frame(sim, on_syn, &s);
    fa_sim_set_filter(sim, lose_tcp_of_0, NULL);
    struct fa_tcp *c;
    fa_tcp_open(fa_sim_stack(sim, 0), &c);
    fa_tcp_connect(c, FA_IPV4(198, 18, 0, 2), 80, fa_sim_now(sim));
    /* What the connect armed, learnt without running anything; polling
     * now (nothing due yet) says the same. */
    fa_time due = fa_stack_next_due(fa_sim_stack(sim, 0));
    assert_true(due > fa_sim_now(sim) && due != FA_TIME_NEVER);
    assert_int_equal(fa_stack_poll(fa_sim_stack(sim, 0), fa_sim_now(sim)), due);
    fa_time end = 20 * S;
    if (steps)
        while (fa_sim_now(sim) < end)
            fa_sim_run_until(sim, fa_sim_now(sim) + MS);
    else
        fa_sim_run_until(sim, end);
    fa_sim_destroy(sim);
    return s;
}

/* A host's timers run late by at most the lag, never early; how late is
 * the same however the driver steps (its calls run no timers), and
 * another world's seed draws other lateness for the same deadlines (with
 * one function for all worlds, the sweeps saw one pattern of lateness;
 * two of transfer's seeds failed only under another). */
static void timers_run_late_by_at_most_the_lag(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    struct fa_sim *sim = sim_with(2, &link, 1);
    assert_int_equal(fa_sim_set_timer_lag(sim, 2, MS), -EINVAL);
    assert_int_equal(fa_sim_set_timer_lag(sim, 0, 3601 * S), -EINVAL);
    fa_sim_destroy(sim);
    const fa_time lag = 500 * MS;
    struct syns on_time = syn_times(0, 0, 9), late = syn_times(lag, 0, 9),
                stepped = syn_times(lag, 1, 9), other = syn_times(lag, 0, 10);
    assert_true(on_time.n >= 4);
    assert_int_equal(late.n, stepped.n);
    assert_true(other.n >= 2 && memcmp(other.at, late.at, sizeof late.at) != 0);
    fa_time behind = 0;
    for (int k = 1; k < late.n; k++) {
        fa_time rto = on_time.at[k] - on_time.at[k - 1], gap = late.at[k] - late.at[k - 1];
        assert_true(gap >= rto && gap <= rto + lag);
        assert_int_equal(late.at[k], stepped.at[k]);
        behind += gap - rto;
    }
    assert_true(behind > 0);
}

static void rate_delay_and_queue(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    link.rate_bps = 100000000; /* 100 Mbit/s: 1514 B take 121.12 µs */
    link.delay = 1 * MS;
    struct fa_sim *sim = sim_with(2, &link, 1);
    fa_sim_run_until(sim, 10 * MS); /* gratuitous ARPs settle */
    fa_time t0 = fa_sim_now(sim);
    static uint8_t data[1472];
    fa_stack_ping(fa_sim_stack(sim, 0), FA_IPV4(198, 18, 0, 2), 1, 1, data, sizeof data, t0);
    /* ARP request + reply, then the ping and its reply, each crossing two
     * links (host -> switch -> host): 4 crossings for ARP, 4 for ping. */
    fa_sim_run_until(sim, t0 + 100 * MS);
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 0), FA_CNT_ICMP_ECHO_REPLY_IN), 1);
    const struct fa_sim_stats *up = fa_sim_link_stats(sim, 0, 0);
    assert_true(up->delivered >= 2);
    assert_int_equal(up->lost + up->queue_drops, 0);
    fa_sim_destroy(sim);
}

static void bursty_loss_is_bursty(void **state)
{
    (void)state;
    /* Same average loss (about 9 %), independent vs Gilbert–Elliott. */
    struct fa_sim_link ind, ge;
    fa_sim_link_init(&ind);
    ind.loss = 0.09;
    fa_sim_link_init(&ge);
    ge.ge_to_bad = 0.02;
    ge.ge_to_good = 0.2;
    ge.ge_loss_bad = 1.0;
    double loss[2];
    for (int k = 0; k < 2; k++) {
        struct fa_sim *sim = sim_with(2, k ? &ge : &ind, 3);
        fa_sim_run_until(sim, 10 * MS);
        for (int i = 0; i < 20000; i++) {
            fa_stack_ping(fa_sim_stack(sim, 0), FA_IPV4(198, 18, 0, 2), 1, (uint16_t)i, NULL, 0,
                          fa_sim_now(sim));
            fa_sim_run_until(sim, fa_sim_now(sim) + 1 * MS);
        }
        const struct fa_sim_stats *st = fa_sim_link_stats(sim, 0, 0);
        loss[k] = (double)st->lost / (double)st->sent;
        fa_sim_destroy(sim);
    }
    /* Stationary bad share 0.02 / 0.22 = 9.1 %. */
    assert_true(loss[0] > 0.08 && loss[0] < 0.10);
    assert_true(loss[1] > 0.06 && loss[1] < 0.12);
}

static void outage_drops_then_recovers(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    struct fa_sim *sim = sim_with(2, &link, 5);
    fa_sim_run_until(sim, 10 * MS);
    fa_time t = fa_sim_now(sim);
    assert_int_equal(fa_sim_outage(sim, 1, t + 2 * MS, t + 3 * S), 0);
    /* A transfer spanning the outage still completes, intact. */
    assert_int_equal(transfer(sim, 0, 1, 500000, 60 * S), 500000);
    assert_true(fa_sim_link_stats(sim, 1, 1)->outage_drops + fa_sim_link_stats(sim, 1, 0)->outage_drops > 0);
    assert_true(fa_sim_now(sim) > t + 3 * S); /* it waited the outage out */
    assert_int_equal(fa_sim_outage(sim, 7, 0, 1), -EINVAL);
    fa_sim_destroy(sim);
}

static void partition_splits_then_heals(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    struct fa_sim *sim = sim_with(4, &link, 8);
    fa_sim_run_until(sim, 10 * MS);
    fa_time t = fa_sim_now(sim);
    /* {0, 1} | {2, 3} for 5 s. */
    assert_int_equal(fa_sim_partition(sim, 0x3, t, t + 5 * S), 0);
    for (int dst = 1; dst < 4; dst++)
        fa_stack_ping(fa_sim_stack(sim, 0), FA_IPV4(198, 18, 0, 1 + dst), 1, (uint16_t)dst,
                      NULL, 0, fa_sim_now(sim));
    fa_stack_ping(fa_sim_stack(sim, 2), FA_IPV4(198, 18, 0, 4), 2, 1, NULL, 0, fa_sim_now(sim));
    fa_sim_run_until(sim, t + 4 * S);
    /* Within a side: answered; across: not (ARP never resolves). */
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 0), FA_CNT_ICMP_ECHO_REPLY_IN), 1);
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 2), FA_CNT_ICMP_ECHO_REPLY_IN), 1);
    /* Healed: across works again. */
    fa_sim_run_until(sim, t + 6 * S);
    fa_stack_ping(fa_sim_stack(sim, 0), FA_IPV4(198, 18, 0, 3), 1, 9, NULL, 0, fa_sim_now(sim));
    fa_sim_run_until(sim, fa_sim_now(sim) + 100 * MS);
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 0), FA_CNT_ICMP_ECHO_REPLY_IN), 2);
    assert_int_equal(fa_sim_partition(sim, 1, 10, 5), -EINVAL);
    fa_sim_destroy(sim);
}

/* A middlebox cuts a third of the data segments into pieces before the
 * hosts' links: every byte still arrives in order, checked, and the
 * pieces are segments with good checksums (the receiver takes them). */
static void resegmenting_middlebox_delivers_every_byte(void **state)
{
    (void)state;
    struct fa_sim_link up, down;
    fa_sim_link_init(&up);
    fa_sim_link_init(&down);
    down.resegment = 0.33;
    struct fa_sim *sim = sim_of(2, &up, &down, 11, 1, 0);
    assert_int_equal(transfer(sim, 0, 1, 300000, 60 * S), 300000);
    const struct fa_sim_stats *st = fa_sim_link_stats(sim, 1, 1);
    assert_true(st->resegmented > 30);
    assert_true(st->sent > fa_sim_link_stats(sim, 0, 0)->sent); /* pieces */
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 1), FA_CNT_TCP_BAD_CHECKSUM), 0);
    assert_int_equal(fa_sim_check_violations(sim), 0);
    fa_sim_destroy(sim);
}

/* A middlebox divides every ACK that moves 2 bytes or more into up to 8
 * before the sender's link (Savage et al., 1999): every byte arrives, the
 * pieces carry good checksums, and the sender's cwnd grows by the bytes
 * delivered, not by the ACKs — the checker's cwnd invariant (a NewReno
 * that rounded each ACK's growth up to a byte grew a byte a piece). */
static void ack_dividing_middlebox_does_not_speed_cwnd(void **state)
{
    (void)state;
    struct fa_sim_link up, down;
    fa_sim_link_init(&up);
    fa_sim_link_init(&down);
    up.loss = 0.01; /* into congestion avoidance */
    down.ack_divide = 1.0;
    struct fa_sim *sim;
    assert_int_equal(fa_sim_create(13, &sim), 0);
    assert_int_equal(fa_sim_check_enable(sim), 0);
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        cfg.tcp_congestion = FA_TCP_CC_NEWRENO;
        assert_int_equal(fa_sim_add_host(sim, &cfg, &up, &down), i);
    }
    assert_int_equal(transfer(sim, 0, 1, 1000000, 60 * S), 1000000);
    assert_true(fa_sim_link_stats(sim, 0, 1)->ack_divided > 100);
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 0), FA_CNT_TCP_BAD_CHECKSUM), 0);
    assert_int_equal(fa_sim_check_violations(sim), 0);
    fa_sim_destroy(sim);
}

/* A host with GRO (fa_sim_set_gro) takes a transfer's segments in
 * super-frames, reordered ones too (each run ends a super-frame), and
 * every byte arrives right; the checks see the super-frames. */
static void gro_host_takes_super_frames(void **state)
{
    (void)state;
    struct fa_sim_link up, down;
    fa_sim_link_init(&up);
    fa_sim_link_init(&down);
    down.rate_bps = 1000000000; /* segments a few µs apart: a batch reads many */
    down.reorder = 0.02;
    down.loss = 0.01;
    struct fa_sim *sim = sim_of(2, &up, &down, 12, 1, 0);
    assert_int_equal(fa_sim_set_gro(sim, 1, 1), -EINVAL); /* no batches yet */
    assert_int_equal(fa_sim_set_batching(sim, 1, 200 * 1000), 0);
    assert_int_equal(fa_sim_set_gro(sim, 1, 1), 0);
    assert_int_equal(transfer(sim, 0, 1, 600000, 60 * S), 600000);
    const struct fa_sim_stats *st = fa_sim_link_stats(sim, 1, 1);
    assert_true(st->coalesced > 100);
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 1), FA_CNT_TCP_BAD_CHECKSUM), 0);
    /* Without batches no super-frame could end: GRO goes with them. */
    uint64_t coalesced = st->coalesced;
    assert_int_equal(fa_sim_set_batching(sim, 1, 0), 0);
    assert_int_equal(transfer(sim, 0, 1, 100000, 60 * S), 100000);
    assert_int_equal(st->coalesced, coalesced);
    assert_int_equal(fa_sim_check_violations(sim), 0);
    fa_sim_destroy(sim);
}

static void switch_learns_and_forwards(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    struct fa_sim *sim = sim_with(3, &link, 6);
    fa_sim_run_until(sim, 10 * MS);
    for (int i = 0; i < 50; i++) {
        fa_stack_ping(fa_sim_stack(sim, 0), FA_IPV4(198, 18, 0, 2), 1, (uint16_t)i, NULL, 0,
                      fa_sim_now(sim));
        fa_sim_run_until(sim, fa_sim_now(sim) + MS);
    }
    assert_int_equal(fa_stack_counter(fa_sim_stack(sim, 0), FA_CNT_ICMP_ECHO_REPLY_IN), 50);
    /* Host 2 saw only broadcasts (ARP), none of the 100 unicast pings. */
    assert_true(fa_sim_link_stats(sim, 2, 1)->delivered < 10);
    assert_true(fa_sim_link_stats(sim, 1, 1)->delivered >= 50);
    /* And TCP between 2 and 1 while 0 watches nothing of it. */
    uint64_t before = fa_sim_link_stats(sim, 0, 1)->delivered;
    assert_int_equal(transfer(sim, 2, 1, 300000, 10 * S), 300000);
    assert_true(fa_sim_link_stats(sim, 0, 1)->delivered - before < 5);
    fa_sim_destroy(sim);
}

static void invariants_hold_and_resources_return(void **state) /* L7 L8 */
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    link.loss = 0.05;
    link.reorder = 0.05;
    link.duplicate = 0.02;
    /* Small windows (4000 bytes): the window invariant bites. */
    struct fa_sim *sim = sim_of(2, &link, NULL, 21, 1, 4000);
    assert_int_equal(fa_sim_check_enable(sim), -EBUSY);
    assert_int_equal(transfer(sim, 0, 1, 300000, 120 * S), 300000);
    assert_null(fa_sim_check_first(sim));
    fa_sim_destroy(sim);
}

static void checker_catches_violations(void **state)
{
    (void)state;
    struct fa_sim *sim;
    fa_sim_create(1, &sim);
    fa_sim_check_enable(sim);
    struct fa_sim_check *k = fa_sim_checker(sim);
    /* A state change that is no edge of the diagram. */
    fa_sim_check_state(k, 0, FA_TCP_ESTABLISHED, FA_TCP_SYN_SENT, 5);
    assert_int_equal(fa_sim_check_violations(sim), 1);
    assert_non_null(strstr(fa_sim_check_first(sim), "ESTABLISHED -> SYN-SENT"));
    fa_sim_check_state(k, 0, FA_TCP_FIN_WAIT_1, FA_TCP_CLOSING, 5);
    assert_int_equal(fa_sim_check_violations(sim), 1);
    /* Data beyond the window: host 0 hears "ack 1000 window 100" from
     * its peer, then sends bytes 1000..1200. */
    uint8_t fr[2048], data[200] = { 0 };
    size_t n = build_tcp(fr, 80, 5000, 1, 1000, FA_TCP_ACK, 100, NULL, 0, NULL, 0);
    fa_sim_check_frame(k, 0, 1, fr, n, 6);
    /* The same flow seen from host 0: it sends as IP_US:5000 -> IP_PEER:80. */
    uint8_t seg[300];
    size_t h = fa_tcp_hdr_emit(seg, 5000, 80, 1000, 1, FA_TCP_ACK, 100, NULL);
    memcpy(seg + h, data, sizeof data);
    fa_tcp_hdr_checksum(seg, h + sizeof data, IP_US, IP_PEER);
    n = build_ipv4(fr, mac_peer, mac_a, IP_US, IP_PEER, FA_IPPROTO_TCP, seg, h + sizeof data);
    fa_sim_check_frame(k, 0, 0, fr, n, 7);
    assert_int_equal(fa_sim_check_violations(sim), 2);
    fa_sim_destroy(sim);
}

/* The RTT oracle (rtt_oracle.c) asked directly: host 1 sent a SYN at
 * 1 ms that was lost and another at 900 ms that arrived at 910 ms; the
 * peer answered at 910 ms. A sample timed from the first (Karn's rule
 * broken, as stop 32's simultaneous open did) has no frame; one from
 * the second has, by the clock or an echo's 1 ms ticks; none has where
 * the answer went before the frame arrived; a frame older than the ring
 * kept is let pass. */
static void rtt_oracle_judges_samples(void **state)
{
    (void)state;
    struct fa_sim_rtt *o = fa_sim_rtt_create();
    assert_non_null(o);
    uint8_t fr[256];
    size_t n = build_tcp(fr, 80, 5000, 7, 0, FA_TCP_SYN, 1000, NULL, 0, NULL, 0);
    assert_true(fa_sim_rtt_sent(o, 1, fr, n, 1 * MS, 0) != 0);          /* lost */
    uint64_t tag = fa_sim_rtt_sent(o, 1, fr, n, 900 * MS, 0);
    fa_sim_rtt_delivered(o, tag, IP_US, fr, n, 910 * MS);
    struct fa_sim_rtt_sample q = { .host = 1, .raddr = IP_US, .lport = 80, .rport = 5000,
                                   .rtt = 919 * MS, .source = FA_RTT_CLOCK,
                                   .answer_sent = 910 * MS, .now = 920 * MS };
    struct fa_sim_rtt_verdict v;
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    assert_int_equal(v.at, 1 * MS);
    q.rtt = 20 * MS;
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 1);
    q.rtt = 19 * MS; /* an echo: 1 ms ticks */
    q.source = FA_RTT_ECHO;
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 1);
    q.source = FA_RTT_CLOCK;
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    q.rtt = 20 * MS;
    q.answer_sent = 905 * MS; /* answered before the frame came */
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    q.lport = 81; /* nothing sent on that connection */
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    /* 2000 more frames, a µs apart: the ring keeps fewer. */
    for (int i = 0; i < 2000; i++)
        fa_sim_rtt_sent(o, 1, fr, n, 1 * S + (fa_time)i * 1000, 0);
    q = (struct fa_sim_rtt_sample){ .host = 1, .raddr = IP_US, .lport = 80, .rport = 5000,
                                    .rtt = 1 * S, .source = FA_RTT_CLOCK,
                                    .answer_sent = 2 * S, .now = 2 * S };
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 1);
    fa_sim_rtt_forget(o, 1, IP_US, 80, 5000);
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    fa_sim_rtt_destroy(o);
}

/* The oracle's records, asked directly (a review's findings): the ARP
 * excuse holds only for a frame an ARP frame released; a record starts
 * at a SYN, so a closed connection's last ACK makes none, and the table
 * gives its least recently used record to a new connection rather than
 * stop judging; a late copy of a forgotten connection's frame marks
 * nothing of the connection that took its slot. */
static void rtt_oracle_records(void **state)
{
    (void)state;
    struct fa_sim_rtt *o = fa_sim_rtt_create();
    uint8_t syn[256], ack[256];
    size_t ns = build_tcp(syn, 80, 5000, 7, 0, FA_TCP_SYN, 1000, NULL, 0, NULL, 0);
    size_t na = build_tcp(ack, 80, 5000, 8, 1, FA_TCP_ACK, 1000, NULL, 0, NULL, 0);
    struct fa_sim_rtt_verdict v;
    /* A SYN stamped at 100 ms left at 770 ms, arrived at 780 ms: a
     * sample of 690 ms at 790 ms is explained only if an ARP frame
     * released it. */
    struct fa_sim_rtt_sample q = { .host = 1, .raddr = IP_US, .lport = 80, .rport = 5000,
                                   .rtt = 690 * MS, .source = FA_RTT_CLOCK,
                                   .answer_sent = 780 * MS, .now = 790 * MS };
    for (int arp = 0; arp < 2; arp++) {
        fa_sim_rtt_delivered(o, fa_sim_rtt_sent(o, 1, syn, ns, 770 * MS, arp), IP_US, syn, ns,
                             780 * MS);
        assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
        assert_int_equal(v.first_sent, 770 * MS);
        assert_int_equal(v.first_arp, arp);
        assert_int_equal(v.first_arrived, arp ? 780 * MS : FA_TIME_NEVER);
        fa_sim_rtt_forget(o, 1, IP_US, 80, 5000);
    }
    /* No record from an ACK: a sample then has no frame (not "unknown"). */
    assert_int_equal(fa_sim_rtt_sent(o, 1, ack, na, 1 * S, 0), 0);
    q.now = 2 * S;
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    /* A copy meant for another host, or of a forgotten connection's
     * frame, marks nothing. */
    uint64_t old = fa_sim_rtt_sent(o, 1, syn, ns, 1 * S, 0);
    fa_sim_rtt_delivered(o, old, IP_PEER, syn, ns, 1 * S + 10 * MS);
    q = (struct fa_sim_rtt_sample){ .host = 1, .raddr = IP_US, .lport = 80, .rport = 5000,
                                    .rtt = 20 * MS, .source = FA_RTT_CLOCK,
                                    .answer_sent = 1 * S + 10 * MS, .now = 1 * S + 20 * MS };
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    fa_sim_rtt_forget(o, 1, IP_US, 80, 5000);
    uint64_t fresh = fa_sim_rtt_sent(o, 1, syn, ns, 1 * S, 0);
    assert_true(fresh != old);
    fa_sim_rtt_delivered(o, old, IP_US, syn, ns, 1 * S + 10 * MS);
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0);
    fa_sim_rtt_delivered(o, fresh, IP_US, syn, ns, 1 * S + 10 * MS);
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 1);
    /* 300 more connections' SYN-ACKs (a flood's cookies): the oldest
     * records go, the newest are judged. */
    for (int i = 0; i < 300; i++) {
        size_t n = build_tcp(syn, 80, (uint16_t)(6000 + i), 7, 1, FA_TCP_SYN | FA_TCP_ACK, 1000,
                             NULL, 0, NULL, 0);
        fa_sim_rtt_sent(o, 1, syn, n, 2 * S + (fa_time)i * MS, 0);
    }
    q = (struct fa_sim_rtt_sample){ .host = 1, .raddr = IP_US, .lport = 80, .rport = 6299,
                                    .rtt = 20 * MS, .source = FA_RTT_CLOCK,
                                    .answer_sent = 3 * S, .now = 3 * S };
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 0); /* judged: nothing arrived */
    q.rport = 5000;
    assert_int_equal(fa_sim_rtt_judge(o, &q, &v), 1); /* evicted: not known */
    fa_sim_rtt_destroy(o);
}

/* Two clients that picked the same port talk to one server; the first
 * connection ends while the server sends to the second: the oracle
 * keeps the second's record (it forgot by host and ports alone, and
 * flagged the second's samples — review). */
static void rtt_records_per_client(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    link.delay = 5 * MS;
    link.rate_bps = 10000000;
    struct fa_sim *sim = sim_of(3, &link, NULL, 7, 1, 0);
    struct fa_tcp *l, *c[2], *sv[2] = { NULL, NULL };
    fa_tcp_open(fa_sim_stack(sim, 0), &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 4, fa_sim_now(sim));
    for (int i = 0; i < 2; i++) {
        fa_tcp_open(fa_sim_stack(sim, 1 + i), &c[i]);
        assert_int_equal(fa_tcp_bind(c[i], 0, 5000), 0);
        fa_tcp_connect(c[i], FA_IPV4(198, 18, 0, 1), 80, fa_sim_now(sim));
    }
    for (int k = 0; k < 500 && !(sv[0] && sv[1]); k++) {
        fa_sim_run_until(sim, fa_sim_now(sim) + MS);
        struct fa_tcp *a;
        while (fa_tcp_accept(l, &a) == 0) {
            struct fa_tcp_info i;
            fa_tcp_get_info(a, &i);
            sv[i.remote_addr == FA_IPV4(198, 18, 0, 2) ? 0 : 1] = a;
        }
    }
    assert_non_null(sv[0]);
    assert_non_null(sv[1]);
    static uint8_t buf[1 << 16];
    memset(buf, 'x', sizeof buf);
    size_t got = 0;
    for (int k = 0; k < 2000; k++) {
        fa_sim_run_until(sim, fa_sim_now(sim) + MS);
        fa_tcp_send(sv[1], buf, 4000, fa_sim_now(sim));
        long n;
        while ((n = fa_tcp_recv(c[1], buf, sizeof buf, fa_sim_now(sim))) > 0)
            got += (size_t)n;
        if (k == 100) { /* the first connection ends, the server first */
            fa_tcp_close(sv[0], fa_sim_now(sim));
            fa_tcp_close(c[0], fa_sim_now(sim));
        }
    }
    assert_true(got > 100000);
    assert_null(fa_sim_check_first(sim));
    fa_sim_destroy(sim);
}

/* A SYN held for ARP is excused by the ARP frame that released it, not
 * by whichever ARP frames came last: ten more hosts' announcements
 * reach the client after its peer's and before the SYN-ACK (it once
 * kept eight, and flagged the sample — review). */
static void syn_held_for_arp_among_many_hosts(void **state)
{
    (void)state;
    struct fa_sim_link link, slow;
    fa_sim_link_init(&link);
    link.delay = 5 * MS;
    slow = link;
    slow.delay = 8 * MS;
    struct fa_sim *sim;
    assert_int_equal(fa_sim_create(7, &sim), 0);
    assert_int_equal(fa_sim_check_enable(sim), 0);
    for (int i = 0; i < 12; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        assert_int_equal(fa_sim_add_host(sim, &cfg, i < 2 ? &link : &slow, &link), i);
    }
    fa_sim_run_until(sim, 1 * MS);
    assert_int_equal(transfer(sim, 0, 1, 10000, 5 * S), 10000);
    assert_null(fa_sim_check_first(sim));
    fa_sim_destroy(sim);
}

struct rtt_seen {
    int n, source;
    fa_time first;
};

static void on_rtt(void *ctx, const struct fa_tcp *sock, fa_time rtt, int source, fa_time now)
{
    struct rtt_seen *r = ctx;
    (void)sock;
    (void)now;
    if (!r->n++) {
        r->first = rtt;
        r->source = source;
    }
}

/* fa_config.tcp_rtt_trace hears each sample, the simulator's oracle
 * first: on a path of 10 ms each way a SYN sent at time 0 waits 10 ms
 * for the peer's address (its announcement, the gratuitous ARP it sent
 * at time 0, brings it) and is timed 30 ms (and the frames' time on a
 * 10 Mbit/s wire), by the clock — the wait counts, as in Linux, where
 * the SYN is stamped above the neighbour layer; the oracle lets it
 * pass, for the SYN left when the ARP frame came. The transfer after it
 * is timed too, every sample explained. */
static void rtt_trace_hears_the_handshake(void **state)
{
    (void)state;
    struct fa_sim_link link;
    fa_sim_link_init(&link);
    link.delay = 5 * MS; /* each link: two a way */
    link.rate_bps = 10000000;
    struct fa_sim *sim;
    struct rtt_seen seen = { 0 };
    assert_int_equal(fa_sim_create(3, &sim), 0);
    assert_int_equal(fa_sim_check_enable(sim), 0);
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        cfg.tcp_timestamps = 0;
        if (i == 0) {
            cfg.tcp_rtt_trace = on_rtt;
            cfg.tcp_trace_ctx = &seen;
        }
        assert_int_equal(fa_sim_add_host(sim, &cfg, &link, &link), i);
    }
    assert_int_equal(transfer(sim, 0, 1, 100000, 10 * S), 100000);
    assert_true(seen.n > 10);
    assert_int_equal(seen.source, FA_RTT_CLOCK);
    assert_true(seen.first >= 30 * MS && seen.first < 31 * MS);
    assert_null(fa_sim_check_first(sim));
    struct fa_sim_rtt_stats st;
    fa_sim_check_rtt_stats(sim, &st);
    /* the oracle heard each, and the server's of the handshake */
    assert_int_equal(st.samples, (uint64_t)seen.n + 1);
    assert_int_equal(st.judged, st.samples);
    assert_int_equal(st.arp_excused, 1); /* the SYN */
    assert_int_equal(st.unknown, 0);
    fa_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_run),
        cmocka_unit_test(batches_coalesce_acks),
        cmocka_unit_test(timers_run_late_by_at_most_the_lag),
        cmocka_unit_test(rate_delay_and_queue),
        cmocka_unit_test(bursty_loss_is_bursty),
        cmocka_unit_test(outage_drops_then_recovers),
        cmocka_unit_test(resegmenting_middlebox_delivers_every_byte),
        cmocka_unit_test(ack_dividing_middlebox_does_not_speed_cwnd),
        cmocka_unit_test(gro_host_takes_super_frames),
        cmocka_unit_test(switch_learns_and_forwards),
        cmocka_unit_test(partition_splits_then_heals),
        cmocka_unit_test(invariants_hold_and_resources_return),
        cmocka_unit_test(checker_catches_violations),
        cmocka_unit_test(rtt_oracle_judges_samples),
        cmocka_unit_test(rtt_trace_hears_the_handshake),
        cmocka_unit_test(rtt_oracle_records),
        cmocka_unit_test(rtt_records_per_client),
        cmocka_unit_test(syn_held_for_arp_among_many_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
