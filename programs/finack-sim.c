/* finack-sim — runs simulated scenarios: one seed at a time with what
 * happened, or sweeps of many seeds that report each failure with the
 * exact command that replays it. Built on the public API only.
 *
 *   finack-sim run transfer --seed 42 [--verbose]
 *   finack-sim run apps|attack --seed 42
 *   finack-sim sweep [--family transfer|apps|attack] [--seeds 2000] [--first 1]
 *   finack-sim sweep --tso --wire-digest   (transfer: NICs that cut TSO
 *                                           super-frames; a hash of the wire)
 *
 * The "transfer" family draws everything from the seed: the link (loss
 * 0-30 %, independent or bursty, reordering, duplication, corruption,
 * rate from 10 Mbit/s to unlimited, one-way delay 10 us to 100 ms, queue
 * size), both ends' buffers, the bytes each way (sent at once), and how
 * the connection ends (either side first, simultaneously, half-close then
 * reply, or abort); with the other families, frames read in batches,
 * timers run late, paths of seconds and middleboxes that resegment or
 * divide ACKs (families.h). Every run checks:
 * each byte received equals the byte sent at that stream offset, none
 * missing at the end; the simulator's
 * invariants (window, sequence numbers, RFC 9293 state edges) on every
 * event; and that, when all timers have run out, nothing is left. The
 * "apps" and "attack" families (families.c) draw applications' and an
 * attacker's behaviour as well. */
#include <errno.h>
#include <finack/finack.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "families.h"
#include "ladder/sim_record.h"
#include "pattern.h"
#include "scenarios.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

enum ending { CLIENT_FIRST, SERVER_FIRST, TOGETHER, HALF_CLOSE, ABORT, ENDINGS };
static const char *const ending_names[] = {
    "client closes first", "server closes first", "both close at once",
    "client half-closes, server replies then closes", "client aborts",
};

struct params {
    struct fa_sim_link link; /* host -> switch: carries the faults */
    struct fa_sim_link down; /* switch -> host: delay and rate only, so a
                                path's loss is the drawn loss, not twice */
    uint32_t bufs[2];
    unsigned tcp_opts[2]; /* SIM_NO_SACK ... (families.h) */
    uint32_t bytes[2]; /* client -> server, server -> client */
    enum ending ending;
};


static double pick(struct fa_prng *p, double lo, double hi)
{
    return lo + (hi - lo) * (double)(fa_prng_next(p) >> 11) * 0x1p-53;
}

static void draw(uint64_t seed, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x5eedull);
    struct fa_sim_link *l = &pr->link;
    fa_sim_link_init(l);
    fa_sim_link_init(&pr->down);
    if (fa_prng_chance(&p, 0.3)) {
        /* Bursty, but survivable: the state moves per frame, so on an
         * idle connection a burst spans retransmissions a timeout apart;
         * a bad state losing all, left 1 time in 10, would legitimately
         * exhaust 15 retries — and hide liveness bugs behind ETIMEDOUT. */
        l->ge_to_bad = pick(&p, 0.005, 0.05);
        l->ge_to_good = pick(&p, 0.2, 0.5);
        l->ge_loss_bad = pick(&p, 0.2, 0.5);
    } else {
        l->loss = fa_prng_chance(&p, 0.2) ? 0 : pick(&p, 0, 0.30);
    }
    l->reorder = fa_prng_chance(&p, 0.5) ? pick(&p, 0, 0.10) : 0;
    l->duplicate = fa_prng_chance(&p, 0.5) ? pick(&p, 0, 0.05) : 0;
    l->corrupt = fa_prng_chance(&p, 0.3) ? pick(&p, 0, 0.02) : 0;
    static const uint64_t rates[] = { 0, 10000000, 100000000, 1000000000 };
    l->rate_bps = rates[fa_prng_below(&p, 4)];
    /* One-way delay per link; host to host crosses two: RTT up to 400 ms
     * (beyond 100 Mbit/s x 200 ms). */
    l->delay = (fa_time)pick(&p, 10e3, 100e6);
    l->jitter = fa_prng_chance(&p, 0.3) ? l->delay / 10 : 0;
    l->reorder_delay = l->delay / 2 + MS;
    l->queue_frames = 16 + (uint32_t)fa_prng_below(&p, 500);
    pr->down.rate_bps = l->rate_bps;
    pr->down.delay = l->delay;
    pr->down.queue_frames = l->queue_frames;
    static const uint32_t bufs[] = { 200, 1000, 4096, 65536, 1 << 20 };
    for (int i = 0; i < 2; i++) {
        pr->bufs[i] = bufs[fa_prng_below(&p, 5)];
        pr->bytes[i] = fa_prng_chance(&p, 0.1) ? 0 : (uint32_t)fa_prng_below(&p, 200001);
    }
    /* Tiny buffers with long paths make runs slow, not interesting. */
    if (l->delay > 10 * MS)
        for (int i = 0; i < 2; i++)
            if (pr->bufs[i] < 4096)
                pr->bytes[i] /= 20;
    sim_draw_middlebox(seed, &pr->down);
    if (sim_draw_long_path(seed, l, &pr->down) || sim_timer_lag_max(seed) >= 30 * S)
        for (int i = 0; i < 2; i++)
            pr->bytes[i] = sim_long_path_bytes(pr->bytes[i], pr->bufs[i], pr->bufs[!i]);
    pr->ending = (enum ending)fa_prng_below(&p, ENDINGS);
    for (int i = 0; i < 2; i++)
        pr->tcp_opts[i] = sim_draw_tcp_options(&p);
    /* SYN cookies cannot find a silent client whose handshake ACK was
     * lost (RFC 4987 §3.6): only with a client that sends. */
    if (!pr->bytes[0])
        pr->tcp_opts[1] &= ~(unsigned)SIM_COOKIES;
}

/* Average loss on one path (one uplink carries the faults). */
static double path_loss(const struct fa_sim_link *l)
{
    if (l->ge_to_bad > 0)
        return l->ge_to_bad / (l->ge_to_bad + l->ge_to_good) * l->ge_loss_bad + l->loss;
    return l->loss;
}

/* TCP promises the bytes it delivers are right and that a failure is
 * reported, not delivery under any loss: heavy loss may end a run in
 * ECONNRESET or ETIMEDOUT. Below this, an error is a failure — but for a
 * client reset past its SYN cookie's life (sim_cookie_outlived). */
#define HEAVY_LOSS 0.15

struct end {
    struct fa_tcp *sock;
    uint64_t sent, got;
    int eof, closed, err;
};

struct run {
    fa_time timeline_from; /* FA_TIME_NEVER: no timeline */
    uint64_t seed;
    struct params pr;
    struct fa_sim *sim;
    struct end e[2]; /* 0 client, 1 server */
    char why[256];
    int verbose;
    int ended_in_error; /* accepted: heavy loss, or a cookie outlived */
    const char *excuse; /* why it was accepted */
    const char *html;   /* --html: finack-ladder's page of the run */
    struct lad_rec *rec;
};

static void trace(void *ctx, const struct fa_tcp *sock, int from, int to, fa_time now)
{
    struct run *r = ctx;
    (void)from;
    if (r->rec)
        lad_rec_state(r->rec, sock, to, now);
    if (!r->verbose)
        return;
    struct fa_tcp_info i;
    fa_tcp_get_info(sock, &i);
    printf("%12.6f  %s:%u  %s\n", (double)now / 1e9,
           i.local_addr == FA_IPV4(198, 18, 0, 1) ? "client" : "server", i.local_port,
           fa_tcp_state_name((enum fa_tcp_state)to));
}

/* One line per TCP segment as a host sends (>) or receives (<) it. */
static void timeline(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    struct run *r = ctx;
    struct fa_sim_segment g;
    char flags[32];
    if (t < r->timeline_from || !fa_sim_segment_parse(f, len, &g))
        return;
    printf("%12.6f  %s %s  %-9s seq %10u ack %10u win %5u len %u\n", (double)t / 1e9,
           host ? "server" : "client", dir ? "<" : ">", scenario_flags(g.flags, flags),
           g.seq, g.ack, g.win, g.len);
}

/* --tso: both hosts' NICs cut super-frames (the simulator does it in
 * software). --wire-digest: a hash of every frame sent and delivered in
 * the sweep, in order: the same seeds with and without --tso must give
 * the same digest, TSO being invisible on the wire. */
static int opt_tso, opt_digest;
static uint64_t gso_frames; /* super-frames the hosts' NICs cut, in the sweep */
static uint64_t wire_digest = 0xcbf29ce484222325ull; /* FNV-1a */

static void digest_frame(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    (void)ctx;
    uint8_t head[13] = { (uint8_t)host, (uint8_t)dir };
    memcpy(head + 2, &len, 4);
    memcpy(head + 6, &t, 7);
    for (size_t i = 0; i < sizeof head + len; i++) {
        wire_digest ^= i < sizeof head ? head[i] : f[i - sizeof head];
        wire_digest *= 0x100000001b3ull;
    }
}

static int setup(struct run *r)
{
    if (fa_sim_create(r->seed, &r->sim) < 0 || fa_sim_check_enable(r->sim) < 0)
        return -1;
    if (r->rec)
        fa_sim_on_frame(r->sim, lad_rec_frame, r->rec);
    else if (r->timeline_from != FA_TIME_NEVER)
        fa_sim_on_frame(r->sim, timeline, r);
    else if (opt_digest)
        fa_sim_on_frame(r->sim, digest_frame, NULL);
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        cfg.tcp_sndbuf = cfg.tcp_rcvbuf = r->pr.bufs[i];
        sim_apply_tcp_options(&cfg, r->pr.tcp_opts[i]);
        cfg.tcp_trace = trace;
        cfg.tcp_trace_ctx = r;
        cfg.device.offloads = opt_tso ? FA_OFFLOAD_TSO : 0;
        if (fa_sim_add_host(r->sim, &cfg, &r->pr.link, &r->pr.down) != i ||
            sim_apply_batching(r->sim, r->seed, i) < 0 ||
            sim_apply_timer_lag(r->sim, r->seed, i) < 0)
            return -1;
    }
    return 0;
}

/* Moves data both ways and checks each byte at its offset. */
static int pump(struct run *r, struct fa_tcp *l)
{
    fa_time now = fa_sim_now(r->sim);
    if (!r->e[1].sock) {
        if (fa_tcp_accept(l, &r->e[1].sock) < 0)
            r->e[1].sock = NULL;
        else
            sim_keepalive(r->e[1].sock, sim_timer_lag_max(r->seed), 5);
    }
    for (int i = 0; i < 2; i++) {
        struct end *e = &r->e[i];
        if (!e->sock || e->closed)
            continue;
        uint8_t buf[16384];
        while (e->sent < r->pr.bytes[i] && (fa_tcp_events(e->sock) & FA_TCP_EV_WRITABLE)) {
            size_t n = r->pr.bytes[i] - e->sent < sizeof buf ? r->pr.bytes[i] - e->sent : sizeof buf;
            pattern_fill(buf, n, r->seed, i, e->sent);
            long w = fa_tcp_send(e->sock, buf, n, now);
            if (w < 0 && w != -EAGAIN && !e->err)
                e->err = (int)-w; /* a failed connection says why once: here */
            if (w <= 0)
                break;
            e->sent += (uint64_t)w;
        }
        long got;
        while (!e->eof && (fa_tcp_events(e->sock) & FA_TCP_EV_READABLE) &&
               (got = fa_tcp_recv(e->sock, buf, sizeof buf, now)) != -EAGAIN) {
            if (got <= 0) {
                e->eof = 1;
                if (got < 0)
                    e->err = (int)-got;
                break;
            }
            long bad = pattern_mismatch(buf, (size_t)got, r->seed, !i, e->got);
            if (bad >= 0) {
                snprintf(r->why, sizeof r->why, "%s received a wrong byte at offset %llu",
                         i ? "server" : "client", (unsigned long long)(e->got + (uint64_t)bad));
                return -1;
            }
            e->got += (uint64_t)got;
        }
    }
    return 0;
}

/* Runs to the next event (at most 10 ms of virtual time away, so the
 * application side gets its turn). */
static void step(struct run *r)
{
    fa_time next = fa_sim_next(r->sim), cap = fa_sim_now(r->sim) + 10 * MS;
    fa_sim_run_until(r->sim, next < cap ? next : cap);
}

static int all_sent_and_received(const struct run *r)
{
    return r->e[1].sock && r->e[0].sent == r->pr.bytes[0] && r->e[1].sent == r->pr.bytes[1] &&
           r->e[1].got == r->pr.bytes[0] && r->e[0].got == r->pr.bytes[1];
}

/* Starts the ending; returns when both sides have closed their handles. */
static int finish(struct run *r, struct fa_tcp *l, fa_time deadline)
{
    struct end *c = &r->e[0], *s = &r->e[1];
    fa_time now = fa_sim_now(r->sim);
    switch (r->pr.ending) {
    case CLIENT_FIRST: fa_tcp_close(c->sock, now); c->closed = 1; break;
    case SERVER_FIRST: fa_tcp_close(s->sock, now); s->closed = 1; break;
    case TOGETHER:
        fa_tcp_close(c->sock, now); fa_tcp_close(s->sock, now);
        c->closed = s->closed = 1;
        break;
    case HALF_CLOSE: fa_tcp_shutdown(c->sock, FA_SHUT_WR, now); break;
    case ABORT:
        /* An RST is never retransmitted: if it is lost and the server has
         * nothing to send, keepalive tells it the peer is gone. */
        fa_tcp_abort(c->sock, now);
        c->closed = 1;
        break;
    default: break;
    }
    /* The other side closes once it has seen the end of stream. */
    while (!(c->closed && s->closed) && fa_sim_now(r->sim) < deadline) {
        step(r);
        if (pump(r, l) < 0)
            return -1;
        now = fa_sim_now(r->sim);
        for (int i = 0; i < 2; i++)
            if (!r->e[i].closed && r->e[i].eof) {
                fa_tcp_close(r->e[i].sock, now);
                r->e[i].closed = 1;
            }
    }
    if (!(c->closed && s->closed)) {
        snprintf(r->why, sizeof r->why, "the close did not complete");
        return -1;
    }
    if (r->pr.ending != ABORT && (c->err || s->err) &&
        path_loss(&r->pr.link) < HEAVY_LOSS) {
        snprintf(r->why, sizeof r->why, "a side saw error %d during a clean close",
                 c->err ? c->err : s->err);
        return -1;
    }
    return 0;
}

static void dump(struct run *r)
{
    sim_print_drops(r->sim);
    for (int i = 0; i < 2; i++) {
        if (!r->e[i].sock)
            continue;
        struct fa_tcp_info n;
        fa_tcp_get_info(r->e[i].sock, &n);
        printf("  %s %s: una %u nxt %u wnd %u cwnd %u ssthresh %u rto %.3f s srtt %.3f "
               "queued %u/%u rcv_nxt %u rcv_wnd %u retrans %llu timer in %.3f s\n",
               i ? "server" : "client", fa_tcp_state_name(n.state), n.snd_una, n.snd_nxt,
               n.snd_wnd, n.cwnd, n.ssthresh, (double)n.rto / 1e9, (double)n.srtt / 1e9,
               n.send_queued, n.recv_queued, n.rcv_nxt, n.rcv_wnd,
               (unsigned long long)n.retransmits,
               n.next_timer == FA_TIME_NEVER ? -1.0
                                             : (double)(n.next_timer - fa_sim_now(r->sim)) / 1e9);
    }
}

static int run_transfer(struct run *r)
{
    if (setup(r) < 0) {
        snprintf(r->why, sizeof r->why, "cannot set up the simulator");
        return -1;
    }
    struct fa_stack *cs = fa_sim_stack(r->sim, 0), *ss = fa_sim_stack(r->sim, 1);
    struct fa_tcp *l;
    fa_tcp_open(ss, &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 4, 0);
    fa_tcp_open(cs, &r->e[0].sock);
    sim_keepalive(r->e[0].sock, sim_timer_lag_max(r->seed), 5);
    fa_tcp_connect(r->e[0].sock, FA_IPV4(198, 18, 0, 2), 80, 0);
    const fa_time limit = 3 * 3600 * S + 100 * sim_timer_lag_max(r->seed);
    int rc = 0;
    while (!all_sent_and_received(r) && fa_sim_now(r->sim) < limit) {
        step(r);
        if ((rc = pump(r, l)) < 0)
            break;
        if (r->e[0].eof || r->e[1].eof) {
            int err = r->e[0].err ? r->e[0].err : r->e[1].err;
            if (err && path_loss(&r->pr.link) >= HEAVY_LOSS) {
                r->ended_in_error = err; /* bytes so far were all checked */
                r->excuse = "under heavy loss";
                break;
            }
            /* Transfer seed 52793: the cookie ACK lost, the client's
             * resend 208 s later, run two minutes late. */
            if (r->e[0].err == ECONNRESET &&
                sim_cookie_outlived(r->sim, r->seed, r->e[1].sock != NULL, r->pr.bytes[0], 0)) {
                r->ended_in_error = ECONNRESET;
                r->excuse = "past its SYN cookie's life";
                break;
            }
            snprintf(r->why, sizeof r->why, "a side saw the end early (error %d)", err);
            rc = -1;
            break;
        }
    }
    if (rc || !all_sent_and_received(r))
        if (r->verbose)
            dump(r);
    if (!rc && !r->ended_in_error && !all_sent_and_received(r)) {
        snprintf(r->why, sizeof r->why, "transfer incomplete after %.1f h: %llu/%u and %llu/%u",
                 (double)limit / 3600e9, (unsigned long long)r->e[1].got, r->pr.bytes[0],
                 (unsigned long long)r->e[0].got, r->pr.bytes[1]);
        rc = -1;
    }
    if (!rc && r->ended_in_error) {
        /* Close what is left; the ending was decided by the network. */
        for (int i = 0; i < 2; i++)
            if (r->e[i].sock)
                fa_tcp_close(r->e[i].sock, fa_sim_now(r->sim));
    } else if (!rc) {
        rc = finish(r, l, fa_sim_now(r->sim) + 3600 * S);
    }
    fa_tcp_close(l, fa_sim_now(r->sim));
    if (!rc) {
        /* Every timer runs out: retries, FIN-WAIT-2, TIME-WAIT. */
        fa_sim_run_until(r->sim, fa_sim_now(r->sim) + 3600 * S);
        fa_sim_check_idle(r->sim, 2);
    }
    if (!rc && fa_sim_check_violations(r->sim)) {
        snprintf(r->why, sizeof r->why, "%s", fa_sim_check_first(r->sim));
        rc = -1;
    }
    for (int i = 0; i < 2; i++)
        gso_frames += fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TX_GSO_FRAMES);
    family_tally_rtt(r->sim);
    fa_sim_destroy(r->sim);
    return rc;
}

static void describe(const struct params *pr, uint64_t seed)
{
    const struct fa_sim_link *l = &pr->link;
    printf("link: loss %.1f%% %s, reorder %.1f%%, dup %.1f%%, corrupt %.1f%%, rate %s, "
           "delay %.3f ms, queue %u\n",
           l->ge_to_bad ? 100 * l->ge_to_bad / (l->ge_to_bad + l->ge_to_good) * l->ge_loss_bad
                        : 100 * l->loss,
           l->ge_to_bad ? "(bursty)" : "", 100 * l->reorder, 100 * l->duplicate,
           100 * l->corrupt,
           l->rate_bps ? (l->rate_bps >= 1000000000 ? "1 Gbit/s" : l->rate_bps >= 100000000
                          ? "100 Mbit/s" : "10 Mbit/s") : "unlimited",
           (double)l->delay / 1e6, l->queue_frames);
    if (pr->down.resegment > 0)
        printf("a middlebox resegments %.0f%% of the data segments\n", 100 * pr->down.resegment);
    if (pr->down.ack_divide > 0)
        printf("a middlebox divides %.0f%% of the ACKs\n", 100 * pr->down.ack_divide);
    char o0[32], o1[32];
    printf("buffers: client %u, server %u; bytes: %u up, %u down; ending: %s\n",
           pr->bufs[0], pr->bufs[1], pr->bytes[0], pr->bytes[1], ending_names[pr->ending]);
    printf("options: client %s, server %s\n", sim_tcp_options_name(pr->tcp_opts[0], o0, sizeof o0),
           sim_tcp_options_name(pr->tcp_opts[1], o1, sizeof o1));
    fa_time b0 = sim_draw_batching(seed, 0), b1 = sim_draw_batching(seed, 1);
    if (b0 || b1)
        printf("reads in batches of: client %.0f us%s, server %.0f us%s\n", (double)b0 / 1e3,
               sim_draw_gro(seed, 0) ? " with GRO" : "", (double)b1 / 1e3,
               sim_draw_gro(seed, 1) ? " with GRO" : "");
    fa_time l0 = sim_draw_timer_lag(seed, 0), l1 = sim_draw_timer_lag(seed, 1);
    if (l0 || l1)
        printf("timers late by up to: client %.0f ms, server %.0f ms\n", (double)l0 / 1e6,
               (double)l1 / 1e6);
}

/* --html: the run recorded for finack-ladder's page, written at the end. */
static int html_begin(struct run *r, const char *path)
{
    struct fa_config cfg;
    fa_config_init(&cfg);
    r->html = path;
    r->rec = lad_rec_new((double)cfg.tcp_msl / 1e6, 0);
    return r->rec ? 0 : -1;
}

static int html_write(struct run *r)
{
    char title[64];
    snprintf(title, sizeof title, "finack-sim run transfer --seed %llu",
             (unsigned long long)r->seed);
    int rc = lad_rec_write(r->rec, r->html, title);
    if (rc == 0)
        printf("page: %s\n", r->html);
    return rc;
}

static int one(uint64_t seed, int verbose, int quiet, fa_time timeline_from, const char *html)
{
    static struct run r;
    memset(&r, 0, sizeof r);
    r.seed = seed;
    r.timeline_from = timeline_from;
    r.verbose = verbose;
    draw(seed, &r.pr);
    if (!quiet)
        describe(&r.pr, seed);
    if (html && html_begin(&r, html) < 0) {
        fprintf(stderr, "finack-sim: out of memory\n");
        return -1;
    }
    int rc = run_transfer(&r);
    if (html && html_write(&r) < 0 && rc >= 0)
        rc = -1;
    lad_rec_free(r.rec);
    if (rc < 0)
        printf("FAIL seed %llu: %s\n  replay: finack-sim run transfer --seed %llu --verbose\n",
               (unsigned long long)seed, r.why, (unsigned long long)seed);
    else if (!quiet && r.ended_in_error)
        printf("ok: ended in error %d %s; every byte received was right, "
               "invariants held, nothing left\n", r.ended_in_error, r.excuse);
    else if (!quiet)
        printf("ok: every byte checked, invariants held, nothing left\n");
    if (rc == 0 && r.ended_in_error)
        return 1;
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-sim run SCENARIO|./FILE [--seed N] [--json] [--pcap FILE]\n"
                 "                                        [--html FILE]\n"
                 "       finack-sim run transfer --seed N [--verbose] [--timeline[=FROM_S]]\n"
                 "                                        [--html FILE]\n"
                 "       finack-sim run apps|attack --seed N\n"
                 "       finack-sim sweep [--family transfer|apps|attack] [--seeds N] [--first N]\n"
                 "                        [--tso] [--wire-digest]   (transfer family)\n"
                 "       finack-sim list\n"
                 "Runs simulated TCP scenarios on a virtual clock; one seed replays a run.\n"
                 "Named scenarios print a timeline of segments and states:\n");
    scenario_list(out);
    fprintf(out, "  %-20s %s\n", "transfer",
            "one seed's random link, buffers, bytes and ending (what sweeps run)");
    fprintf(out, "  %-20s %s\n", "apps",
            "applications that pause, read oddly, shut down, abort, linger");
    fprintf(out, "  %-20s %s\n", "attack",
            "an off-path attacker forging segments near the window's edges");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    static const struct option opts[] = {
        { "seed", required_argument, 0, 's' }, { "seeds", required_argument, 0, 'n' },
        { "first", required_argument, 0, 'f' }, { "verbose", no_argument, 0, 'v' },
        { "timeline", optional_argument, 0, 't' },
        { "json", no_argument, 0, 'j' }, { "pcap", required_argument, 0, 'p' },
        { "html", required_argument, 0, 'H' },
        { "family", required_argument, 0, 'F' },
        { "tso", no_argument, 0, 'T' }, { "wire-digest", no_argument, 0, 'D' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    fa_time from = FA_TIME_NEVER;
    int json = 0;
    const char *pcap = NULL, *html = NULL, *family = "transfer";
    const char *cmd = argv[1];
    if (!strcmp(cmd, "list") || !strcmp(cmd, "--help")) {
        usage(stdout);
        return 0;
    }
    int first_arg = strcmp(cmd, "run") == 0 ? 3 : 2;
    if (!strcmp(cmd, "run") && argc < 3) {
        usage(stderr);
        return 2;
    }
    uint64_t seed = 1, seeds = 2000, first = 1;
    int verbose = 0, c;
    optind = first_arg;
    while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (c) {
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'n': seeds = strtoull(optarg, NULL, 0); break;
        case 'f': first = strtoull(optarg, NULL, 0); break;
        case 'v': verbose++; break;
        case 't': from = optarg ? (fa_time)(strtod(optarg, NULL) * 1e9) : 0; break;
        case 'j': json = 1; break;
        case 'p': pcap = optarg; break;
        case 'H': html = optarg; break;
        case 'F': family = optarg; break;
        case 'T': opt_tso = 1; break;
        case 'D': opt_digest = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!strcmp(cmd, "run") && !strcmp(argv[2], "transfer"))
        return one(seed, verbose, 0, from, html) < 0 ? 1 : 0; /* an accepted error is ok */
    char title[160];
    snprintf(title, sizeof title, "finack-sim run %s --seed %llu", argv[2],
             (unsigned long long)seed);
    const struct scen_out out = { .json = json, .pcap = pcap, .html = html, .title = title };
    if (!strcmp(cmd, "run") && family_known(argv[2])) {
        char why[256];
        if (family_run(argv[2], seed, 1 + verbose, why, sizeof why) < 0) {
            printf("FAIL seed %llu: %s\n", (unsigned long long)seed, why);
            return 1;
        }
        printf("ok: every byte checked, invariants held, nothing left\n");
        return 0;
    }
    if (!strcmp(cmd, "run") && strchr(argv[2], '/')) {
        int rc = scenario_file(argv[2], seed, &out);
        if (rc == -EINVAL || rc == -ENOENT)
            fprintf(stderr, "finack-sim: cannot run scenario file %s\n", argv[2]);
        return rc < 0 ? 1 : 0;
    }
    if (!strcmp(cmd, "run")) {
        int rc = scenario_run(argv[2], seed, &out);
        if (rc == -ENOENT) {
            fprintf(stderr, "finack-sim: no scenario '%s' (finack-sim list)\n", argv[2]);
            return 2;
        }
        return rc < 0 ? 1 : 0;
    }
    if (strcmp(cmd, "sweep")) {
        usage(stderr);
        return 2;
    }
    uint64_t failed = 0, errors = 0;
    if (strcmp(family, "transfer") && !family_known(family)) {
        fprintf(stderr, "finack-sim: no family '%s' (transfer, apps, attack)\n", family);
        return 2;
    }
    if (strcmp(family, "transfer") && (opt_tso || opt_digest)) {
        fprintf(stderr, "finack-sim: --tso and --wire-digest are for the transfer family\n");
        return 2;
    }
    for (uint64_t s = first; s < first + seeds; s++) {
        if (family_known(family)) {
            char why[256];
            if (family_run(family, s, 0, why, sizeof why) < 0) {
                printf("FAIL seed %llu: %s\n  replay: finack-sim run %s --seed %llu\n",
                       (unsigned long long)s, why, family, (unsigned long long)s);
                failed++;
            }
            continue;
        }
        int rc = one(s, 0, 1, FA_TIME_NEVER, NULL);
        failed += rc < 0;
        errors += rc > 0;
    }
    printf("%s sweep of seeds %llu..%llu%s: %llu ok (%llu of them ended in an error under "
           "heavy loss or past a SYN cookie's life), %llu failed\n", family, (unsigned long long)first,
           (unsigned long long)(first + seeds - 1), opt_tso ? " with TSO" : "",
           (unsigned long long)(seeds - failed), (unsigned long long)errors,
           (unsigned long long)failed);
    char line[512];
    if (!strcmp(family, "apps") || !strcmp(family, "attack")) {
        family_budget_summary(line, sizeof line);
        printf("%s\n", line);
    }
    family_rtt_summary(line, sizeof line);
    printf("%s\n", line);
    if (opt_digest)
        printf("wire digest %016llx (%llu TSO super-frames cut)\n",
               (unsigned long long)wire_digest, (unsigned long long)gso_frames);
    return failed ? 1 : 0;
}
