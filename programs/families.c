/* families.c — finack-sim's sweep families beyond "transfer", whose seeds
 * draw what applications and attackers do, not only the network:
 *
 *   apps    readers that pause (0.5 s to 30 min) and resume, read and
 *           write in odd sizes, writers that stop and start, shutdown of
 *           either direction, aborts at random moments, lingering closes,
 *           a listener backlog that overflows; buffer sizes drawn from
 *           awkward values (64 B, 2^n + 1, 200,003, 1,000,003, 16 MiB);
 *           in a quarter of the worlds a router on the path reports soft
 *           ICMP errors (time exceeded, host or net unreachable) about
 *           data in flight, lingering closes included: nothing may change
 *           but the errno of a connection that times out (RFC 1122
 *           §4.2.3.9), and a lingering close that says it is done (0)
 *           must have had all it sent acknowledged. In an eighth of
 *           the worlds the two ends open by a simultaneous open (both
 *           bound, each connecting to the other: draw_simopen).
 *   attack  an off-path host that knows the 4-tuple injects RSTs, SYNs,
 *           ACKs and data with numbers drawn near the edges (±1 around
 *           RCV.NXT, straddling it, at and beyond the window, old ACKs,
 *           ACKs of unsent data) at random moments, TIME-WAIT included;
 *           sends ICMP errors about a synchronized connection (hard and
 *           soft unreachables, time exceeded, parameter problem,
 *           fragmentation needed with absurd MTUs), quoting a sequence
 *           number in flight or not (RFC 5927: none may end it);
 *           floods the listener with spoofed SYNs (half-open connections
 *           must stay within the backlog, and the client keep its ARP
 *           entry at the server); and once the run ends takes
 *           the client's 4-tuple again under a flood (by cookie, or
 *           reopening the server's TIME-WAIT), which must carry bytes.
 *
 * In both, one host in five does not scale windows (tcp_window_scaling 0);
 * in apps, a quarter of the worlds switch a side's congestion control
 * mid-stream. Every family's worlds (families.h) may also read frames in
 * batches, run a host's timers late, be a path of seconds and pass a
 * middlebox that resegments or one that divides ACKs.
 * Every run checks each byte at its stream offset, the simulator's
 * invariants on every event (window, sequence numbers, state edges, ACK
 * storms), liveness — while the network delivers and a reader reads,
 * bytes keep moving (no stall of 10 minutes with work left; a sender with
 * data waiting, nothing out and room in the window sends within a few
 * RTOs), and no
 * connection times out while its peer answers — that a handshake in a
 * world that so far lost, duplicated and reordered nothing resent
 * nothing and was timed within the path's round trip (check_handshake),
 * that both ends agreed on the options (check_agreement), and that
 * nothing is left once every timer has run. The attack family also checks that no
 * forged segment resets a connection or puts a byte into a stream, that
 * challenge ACKs stay within their per-connection budget, and that a
 * burst of forged SYNs (old timestamps among them) draws one answer at
 * most. Public
 * API only. */
#include "families.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forge.h"
#include "pattern.h"
#include "scenarios.h"

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ADDR(i) FA_IPV4(198, 18, 0, 1 + (i))
/* Five timeouts at tcp_rto_max (120 s, Linux's): resends lost in a row
 * (to loss, or to ARP under a flood) back off that far. */
#define STALL_LIMIT (600 * S)
#define MAX_FORGED 3000
#define MAX_FLOODED 1000 /* spoofed SYNs per run, then only the reuse's */

enum ending { CLOSE_BOTH, HALF_CLOSE, ABORT_ONE, LINGER_CLOSE, ENDINGS };

struct side {
    uint32_t sndbuf, rcvbuf, bytes;
    uint32_t write_chunk, read_chunk;
    uint64_t read_pause_at, write_pause_at; /* stream offsets; UINT64_MAX none */
    fa_time read_pause, write_pause;        /* how long */
    uint64_t shut_rd_at;                    /* UINT64_MAX: never */
    int no_wscale;                          /* tcp_window_scaling = 0 */
    unsigned tcp_opts;                      /* SIM_NO_SACK ... */
    uint64_t mem_max;                       /* tcp_mem_max; 0: none */
    uint32_t sb_max;                        /* tcp_sb_max; 0: the default */
    uint64_t cc_switch_at; /* stream offset: TCP_CONGESTION to the other
                              one, mid-flight; UINT64_MAX never */
};

struct params {
    struct fa_sim_link link, down;
    struct side sd[2]; /* 0 client, 1 server */
    enum ending ending;
    int aborter;          /* ABORT_ONE: who; LINGER_CLOSE: who lingers;
                             attack: who closes first */
    uint64_t abort_at;    /* bytes the aborter has received first */
    int extra_conns;      /* connections that overflow the backlog */
    int attack;           /* the attack family */
    fa_time attack_gap;   /* mean time between forged segments */
    fa_time router_gap;   /* apps: mean time between a router's soft ICMP
                             errors; 0: no router */
    fa_time outage_at, outage_len; /* apps: the path carries nothing in
                                      [at, at + len); len 0: no outage */
    /* apps: a simultaneous open (draw_simopen) — the server's end is not
     * accepted but connects to the client's bound port, simopen_at after
     * the client's; simopen_first says who connects first (1: the
     * server). 0 simopen: the listener accepts it. */
    int simopen, simopen_first;
    fa_time simopen_at;
};

struct end {
    struct fa_tcp *sock;
    uint64_t sent, got;
    fa_time read_resume, write_resume; /* FA_TIME_NEVER: not paused yet */
    int read_paused_done, write_paused_done;
    int eof, err, closed, closing, shut_rd, shut_wr;
    int linger_reset; /* its lingering close ran out (an RST went) */
    int cc_switched;
    fa_time able_since; /* sender_idle: data waits, the window has room */
};

struct run {
    uint64_t seed;
    int verbose;
    struct params pr;
    fa_time lag; /* sim_timer_lag_max: the limits grow with it */
    struct fa_sim *sim;
    struct fa_prng prng; /* the attacker's and the applications' dice */
    struct fa_prng icmp_prng; /* the attacker's ICMP errors: a die of their
                                 own, the rest of a world as before */
    struct fa_prng router_prng; /* the apps router's, likewise */
    fa_time next_router;
    struct fa_tcp *listener;
    struct fa_tcp *extra[4];
    struct end e[2];
    fa_time last_progress, next_attack, start, client_closed_at;
    fa_time simopen_due; /* the second end's connect; FA_TIME_NEVER done */
    /* When an application did what may cut a stream: an abort, or a
     * lingering close (whose timeout sends an RST). Before it, every
     * error is a failure. */
    fa_time broke_at;
    uint16_t client_port;
    uint32_t client_iss;   /* tally_cookie_misses */
    uint64_t cookie_misses;
    uint64_t forged, forged_tw, flooded, reused;
    uint64_t flooded_seen; /* flood_bounded: SYNs flooded at its last look */
    int arp_had;           /* ...and whether the server knew the client */
    /* Each side's TCP_SYNCOOKIES_FAILED when its application closed or
     * aborted (gone_behind_cookies). */
    uint64_t cookie_failed_at_close[2];
    uint64_t timeouts_at_close[2]; /* ...and its TCP_TIMEOUTS */
    uint64_t aborts_at_close[2];   /* ...and its TCP_ABORT_ON_TIMEOUT */
    uint64_t cookie_ok_at_close[2]; /* ...and its TCP_SYNCOOKIES_OK */
    char hs_fail[128]; /* check_handshake's first failure; "" none */
    int agreed;        /* check_agreement looked */
    char *why;
    size_t why_len;
};


/* What the memory budgets did over a sweep (family_budget_summary). */
static struct {
    uint64_t worlds, refused, dropped;
    /* the attack family: SYNs flooded, answered by cookie; 4-tuples
     * reused (by a cookie handshake, reopening a TIME-WAIT entry) */
    uint64_t flooded, cookies, reused, reused_cookie, reused_tw, skipped;
} budget_tally;

/* What the RTT oracle judged over a sweep (family_rtt_summary). */
static struct fa_sim_rtt_stats rtt_tally;

void family_tally_rtt(const struct fa_sim *sim)
{
    struct fa_sim_rtt_stats t;
    fa_sim_check_rtt_stats(sim, &t);
    rtt_tally.samples += t.samples;
    rtt_tally.judged += t.judged;
    rtt_tally.arp_excused += t.arp_excused;
    rtt_tally.unknown += t.unknown;
}

void family_rtt_summary(char *out, size_t len)
{
    snprintf(out, len, "RTT samples: %llu, %llu judged by the oracle (%llu of them timing a wait "
             "for ARP), %llu let pass unjudged (older than the record, or its record evicted)",
             (unsigned long long)rtt_tally.samples, (unsigned long long)rtt_tally.judged,
             (unsigned long long)rtt_tally.arp_excused, (unsigned long long)rtt_tally.unknown);
}

void family_budget_summary(char *out, size_t len)
{
    int n = snprintf(out, len, "%llu worlds had memory budgets: %llu sends refused (ENOBUFS), "
                     "%llu segments dropped for memory",
                     (unsigned long long)budget_tally.worlds,
                     (unsigned long long)budget_tally.refused,
                     (unsigned long long)budget_tally.dropped);
    if (budget_tally.flooded && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n,
                 "\n%llu spoofed SYNs flooded, %llu SYN-ACKs by cookie; 4-tuples reused "
                 "under a flood: %llu (%llu by cookie, %llu reopening the server's TIME-WAIT; "
                 "%llu skipped: the client held the TIME-WAIT)",
                 (unsigned long long)budget_tally.flooded,
                 (unsigned long long)budget_tally.cookies,
                 (unsigned long long)budget_tally.reused,
                 (unsigned long long)budget_tally.reused_cookie,
                 (unsigned long long)budget_tally.reused_tw,
                 (unsigned long long)budget_tally.skipped);
}

static double pick(struct fa_prng *p, double lo, double hi)
{
    return lo + (hi - lo) * (double)(fa_prng_next(p) >> 11) * 0x1p-53;
}

static uint32_t one_of(struct fa_prng *p, const uint32_t *v, size_t n)
{
    return v[fa_prng_below(p, n)];
}

static int fail(struct run *r, const char *what)
{
    snprintf(r->why, r->why_len, "%s", what);
    return -1;
}

/* ---- drawing a seed's world ------------------------------------------ */
static void draw_link(struct fa_prng *p, struct params *pr)
{
    struct fa_sim_link *l = &pr->link;
    fa_sim_link_init(l);
    /* A network that delivers: modest loss, so a stall or a timeout is
     * the stack's fault, not the dice's. */
    l->loss = fa_prng_chance(p, 0.4) ? 0 : pick(p, 0, 0.03);
    l->reorder = fa_prng_chance(p, 0.3) ? pick(p, 0, 0.05) : 0;
    l->duplicate = fa_prng_chance(p, 0.3) ? pick(p, 0, 0.03) : 0;
    static const uint64_t rates[] = { 0, 10000000, 100000000, 1000000000 };
    l->rate_bps = rates[fa_prng_below(p, 4)];
    l->delay = (fa_time)pick(p, 10e3, 30e6);
    l->reorder_delay = l->delay / 2 + MS;
    l->queue_frames = 64 + (uint32_t)fa_prng_below(p, 400);
    fa_sim_link_init(&pr->down);
    pr->down.rate_bps = l->rate_bps;
    pr->down.delay = l->delay;
    pr->down.queue_frames = l->queue_frames;
}

static fa_time draw_pause(struct fa_prng *p)
{
    static const fa_time pauses[] = { 500 * MS, 5 * S, 60 * S, 600 * S, 1800 * S };
    return pauses[fa_prng_below(p, 5)];
}

static void draw_side(struct fa_prng *p, struct side *sd, int attack)
{
    static const uint32_t bufs[] = { 64, 257, 4097, 65537, 200003, 1000003, 16u << 20 };
    static const uint32_t wchunks[] = { 7, 100, 1460, 65536 };
    static const uint32_t rchunks[] = { 1, 7, 100, 1460, 65536 };
    sd->sndbuf = one_of(p, bufs, 7);
    sd->rcvbuf = one_of(p, bufs, 7);
    sd->write_chunk = one_of(p, wchunks, 4);
    sd->read_chunk = one_of(p, rchunks, 5);
    sd->bytes = fa_prng_chance(p, 0.1) ? 0 : (uint32_t)fa_prng_below(p, 400001);
    /* Byte-at-a-time applications and 64-byte buffers make runs long,
     * not more interesting. */
    if (sd->write_chunk < 100 || sd->read_chunk < 100 || sd->sndbuf < 4096 ||
        sd->rcvbuf < 4096)
        sd->bytes /= 20;
    sd->read_pause_at = sd->write_pause_at = sd->shut_rd_at = UINT64_MAX;
    sd->no_wscale = fa_prng_chance(p, 0.2); /* a peer that does not scale */
    sd->tcp_opts = sim_draw_tcp_options(p);
    if (!attack && fa_prng_chance(p, 0.5)) {
        sd->read_pause_at = sd->bytes ? fa_prng_below(p, sd->bytes) : 0;
        sd->read_pause = draw_pause(p);
    }
    if (!attack && fa_prng_chance(p, 0.3)) {
        sd->write_pause_at = sd->bytes ? fa_prng_below(p, sd->bytes) : 0;
        sd->write_pause = draw_pause(p);
    }
}

static void draw(uint64_t seed, int attack, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ (attack ? 0xa77ac4ull : 0xa995ull));
    memset(pr, 0, sizeof *pr);
    draw_link(&p, pr);
    for (int i = 0; i < 2; i++)
        draw_side(&p, &pr->sd[i], attack);
    /* A server answering by SYN cookie never learns of a client whose
     * handshake ACK was lost until the client sends (RFC 4987 §3.6's
     * price): a client with nothing to say would wait for ever. */
    if (!pr->sd[0].bytes)
        pr->sd[1].tcp_opts &= ~(unsigned)SIM_COOKIES;
    pr->attack = attack;
    if (attack) {
        pr->ending = CLOSE_BOTH;
        /* From a flood to a trickle. */
        static const fa_time gaps[] = { 200 * 1000, MS, 5 * MS, 20 * MS, 100 * MS, 500 * MS };
        pr->attack_gap = gaps[fa_prng_below(&p, 6)];
        pr->aborter = (int)fa_prng_below(&p, 2); /* who closes first */
        return;
    }
    pr->ending = (enum ending)fa_prng_below(&p, ENDINGS);
    pr->aborter = (int)fa_prng_below(&p, 2);
    uint32_t peer_bytes = pr->sd[!pr->aborter].bytes;
    pr->abort_at = peer_bytes ? fa_prng_below(&p, peer_bytes) : 0;
    int who = (int)fa_prng_below(&p, 2);
    if (fa_prng_chance(&p, 0.1))
        pr->sd[who].shut_rd_at = pr->sd[!who].bytes ? fa_prng_below(&p, pr->sd[!who].bytes) : 0;
    pr->extra_conns = fa_prng_chance(&p, 0.2) ? 1 + (int)fa_prng_below(&p, 3) : 0;
}

/* A third of the worlds give each host a memory budget (tcp_mem_max) of
 * two to six times its largest buffer: sends may hold half, so the two
 * rings of its connection fit together and a send held by a peer's
 * zero window never keeps out what arrives. (A budget for fewer rings
 * than the connections' starves some, by design; the unit tests drive
 * that edge. This family found the deadlock that the half rule ends:
 * both ends' sends filling their budgets, seed 2867.) Drawn from a die
 * of its own: the rest of a seed's world is what it was before. */
/* A third of the attack family's worlds give each host a scoreboard of 4
 * to 16 entries (tcp_sb_max), so the table fills with a few segments in
 * flight: the forged fragmentation-needed errors then lower the MSS
 * under a full table, and a resend must split an entry with no room for
 * it (it sent nothing until the connection timed out). A die of its own:
 * the rest of the world is what it was. */
static void draw_scoreboards(uint64_t seed, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x5cb0a7dull);
    if (!pr->attack || !fa_prng_chance(&p, 1.0 / 3))
        return;
    static const uint32_t sizes[] = { 4, 6, 8, 16 };
    for (int i = 0; i < 2; i++)
        pr->sd[i].sb_max = sizes[fa_prng_below(&p, 4)];
}

/* A quarter of the apps family's worlds switch a side's congestion
 * control (TCP_CONGESTION, CUBIC to NewReno or back) once, at a drawn
 * point of its stream: in slow start, in recovery, in an epoch — the
 * state must start afresh and the flow go on. A die of its own. */
/* A quarter of the apps family's worlds have a router that reports soft
 * ICMP errors (draw_router, router_error): a die of its own, the rest of
 * the world is what it was. */
static void draw_router(uint64_t seed, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x2047e5ull);
    static const fa_time gaps[] = { 50 * MS, 500 * MS, 5 * S };
    pr->router_gap = !pr->attack && fa_prng_chance(&p, 0.25) ? gaps[fa_prng_below(&p, 3)] : 0;
}

/* A sixth of the apps family's worlds lose the path for a while (a
 * partition: nothing either way) at a drawn moment — in the handshake,
 * in the stream, in the close — for 10 ms to 8 s: shorter than any
 * retry budget, so every byte must still arrive and no error come but
 * those the ending allows. A die of its own. */
static void draw_outage(uint64_t seed, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x0a7a6eull);
    if (pr->attack || !fa_prng_chance(&p, 1.0 / 6))
        return;
    pr->outage_at = (fa_time)(pick(&p, 0, 3) * S);
    pr->outage_len = (fa_time)(pick(&p, 0.01, 8) * S);
}

/* An eighth of the apps family's worlds open the connection by a
 * simultaneous open (RFC 9293 §3.5, figure 8): both ends bound to fixed
 * ports, each connects to the other, the second within two link delays
 * of the first — before the first's SYN can reach it (the hosts are two
 * links apart; the margin shrinks to 0 at the draw's end), so the SYNs
 * cross or meet a SYN-SENT end, never a closed port. Each end then passes SYN-RECEIVED, resends
 * SYN-ACKs, not SYNs; the options each SYN offered (window scale, SACK,
 * timestamps, MSS) must agree on both sides. A review found the crossed
 * SYN's SYN-ACK counted as a resend (a 3 s RTO, a cwnd of one segment):
 * no sweep did simultaneous opens. A die of its own. */
static void draw_simopen(uint64_t seed, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x5170e7ull);
    if (pr->attack || !fa_prng_chance(&p, 1.0 / 8))
        return;
    pr->simopen = 1;
    pr->simopen_first = (int)fa_prng_below(&p, 2);
    pr->simopen_at = fa_prng_chance(&p, 0.3) ? 0 : (fa_time)pick(&p, 0, 2.0 * (double)pr->link.delay);
}

static void draw_cc_switches(uint64_t seed, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0xcc5e7ull);
    int drawn = !pr->attack && fa_prng_chance(&p, 0.25);
    for (int i = 0; i < 2; i++) {
        struct side *sd = &pr->sd[i];
        sd->cc_switch_at = UINT64_MAX;
        if (drawn && fa_prng_chance(&p, 0.7))
            sd->cc_switch_at = sd->bytes ? fa_prng_below(&p, sd->bytes) : 0;
    }
}

static void draw_budgets(uint64_t seed, struct params *pr)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0xb0d6e7ull);
    if (!fa_prng_chance(&p, 1.0 / 3))
        return;
    for (int i = 0; i < 2; i++) {
        const struct side *sd = &pr->sd[i];
        uint64_t most = sd->sndbuf > sd->rcvbuf ? sd->sndbuf : sd->rcvbuf;
        if (most < 64 * 1024)
            most = 64 * 1024; /* the extra connections' default buffers */
        pr->sd[i].mem_max = 2 * most * (1 + fa_prng_below(&p, 3));
    }
}

unsigned sim_draw_tcp_options(struct fa_prng *p)
{
    unsigned o = 0;
    o |= fa_prng_chance(p, 0.25) ? SIM_NO_SACK : 0;
    o |= fa_prng_chance(p, 0.25) ? SIM_NO_TS : 0;
    o |= fa_prng_chance(p, 1.0 / 3) ? SIM_NEWRENO : 0;
    o |= fa_prng_chance(p, 0.2) ? SIM_COOKIES : 0;
    return o;
}

void sim_apply_tcp_options(struct fa_config *cfg, unsigned o)
{
    cfg->tcp_sack = !(o & SIM_NO_SACK);
    cfg->tcp_timestamps = !(o & SIM_NO_TS);
    cfg->tcp_congestion = (o & SIM_NEWRENO) ? FA_TCP_CC_NEWRENO : FA_TCP_CC_CUBIC;
    cfg->tcp_syncookies = (o & SIM_COOKIES) ? 2 : 1;
}

fa_time sim_draw_batching(uint64_t seed, int host)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0xba7c4ull);
    if (!fa_prng_chance(&p, 0.5))
        return 0;
    static const fa_time windows[] = { 20 * 1000, 200 * 1000, MS };
    fa_time w[2];
    for (int i = 0; i < 2; i++)
        w[i] = windows[fa_prng_below(&p, 3)];
    return w[host & 1];
}

int sim_draw_gro(uint64_t seed, int host)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x6e0c0a1ull);
    int on[2] = { fa_prng_chance(&p, 0.5), fa_prng_chance(&p, 0.5) };
    return sim_draw_batching(seed, host) && on[host & 1];
}

int sim_apply_batching(struct fa_sim *sim, uint64_t seed, int host)
{
    int rc = fa_sim_set_batching(sim, host, sim_draw_batching(seed, host));
    if (!rc && sim_draw_gro(seed, host))
        rc = fa_sim_set_gro(sim, host, 1);
    return rc;
}

fa_time sim_draw_timer_lag(uint64_t seed, int host)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x1a6e7ull);
    if (!fa_prng_chance(&p, 0.25))
        return 0;
    static const fa_time lags[] = { 0, MS, 20 * MS, 250 * MS, 2 * S, 30 * S, 120 * S };
    fa_time l[2];
    for (int i = 0; i < 2; i++)
        l[i] = lags[fa_prng_below(&p, 7)];
    return l[host & 1];
}

int sim_apply_timer_lag(struct fa_sim *sim, uint64_t seed, int host)
{
    return fa_sim_set_timer_lag(sim, host, sim_draw_timer_lag(seed, host));
}

void sim_keepalive(struct fa_tcp *sock, fa_time lag, int probes)
{
    fa_tcp_setopt(sock, FA_SO_KEEPALIVE, 1);
    fa_tcp_setopt(sock, FA_TCP_KEEPIDLE, (long)((120 * S + 4 * lag) / FA_NS_PER_MS));
    fa_tcp_setopt(sock, FA_TCP_KEEPINTVL, 10000);
    fa_tcp_setopt(sock, FA_TCP_KEEPCNT, probes);
}

int sim_cookie_outlived(struct fa_sim *sim, uint64_t seed, int accepted, uint64_t client_bytes,
                        uint64_t misses)
{
    /* Every cookie the listener refused came back past its life, or
     * could pass no check: a broken check (or a forgery) refuses one
     * that is not. */
    struct fa_stack *st = fa_sim_stack(sim, 1);
    uint64_t expired = fa_stack_counter(st, FA_CNT_TCP_SYNCOOKIES_EXPIRED);
    return !accepted && (!client_bytes || sim_draw_timer_lag(seed, 0) >= 30 * S) &&
           fa_stack_counter(st, FA_CNT_TCP_SYNCOOKIES_SENT) > 0 && expired > 0 &&
           fa_stack_counter(st, FA_CNT_TCP_SYNCOOKIES_FAILED) <= expired + misses;
}

void sim_print_drops(struct fa_sim *sim)
{
    for (int h = 0; h < 2; h++) {
        struct fa_stack *st = fa_sim_stack(sim, h);
        printf("  %s drops:", h ? "server" : "client");
        for (unsigned i = 0; i < FA_CNT_COUNT; i++)
            if (fa_counter_is_drop(i) && fa_stack_counter(st, i))
                printf(" %s=%llu", fa_counter_name(i), (unsigned long long)fa_stack_counter(st, i));
        printf("\n");
    }
}

fa_time sim_timer_lag_max(uint64_t seed)
{
    fa_time a = sim_draw_timer_lag(seed, 0), b = sim_draw_timer_lag(seed, 1);
    return a > b ? a : b;
}

int sim_draw_long_path(uint64_t seed, struct fa_sim_link *up, struct fa_sim_link *down)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x1096a7bull);
    if (!fa_prng_chance(&p, 1.0 / 16))
        return 0;
    fa_time d = (fa_time)pick(&p, 0.25e9, 1.5e9); /* a link: host to host crosses two */
    struct fa_sim_link *l[2] = { up, down };
    for (int i = 0; i < 2; i++) {
        l[i]->jitter = l[i]->jitter ? d / 10 : 0;
        l[i]->delay = d;
        l[i]->reorder_delay = d / 2 + MS;
        l[i]->loss = l[i]->loss < 0.05 ? l[i]->loss : 0.05;
        l[i]->ge_loss_bad = l[i]->ge_loss_bad < 0.2 ? l[i]->ge_loss_bad : 0.2;
    }
    return 1;
}

void sim_draw_middlebox(uint64_t seed, struct fa_sim_link *down)
{
    struct fa_prng p;
    fa_prng_seed(&p, seed ^ 0x5e6e7ull);
    if (fa_prng_chance(&p, 1.0 / 8))
        down->resegment = pick(&p, 0.05, 0.5);
    if (fa_prng_chance(&p, 1.0 / 8))
        down->ack_divide = pick(&p, 0.1, 1.0);
}

uint32_t sim_long_path_bytes(uint32_t bytes, uint32_t sndbuf, uint32_t peer_rcvbuf)
{
    uint64_t window = sndbuf < peer_rcvbuf ? sndbuf : peer_rcvbuf;
    return bytes < 100 * window ? bytes : (uint32_t)(100 * window);
}

const char *sim_tcp_options_name(unsigned o, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s %s%s", o & SIM_NO_SACK ? "no-sack" : "sack",
             o & SIM_NO_TS ? "no-ts" : "ts", o & SIM_NEWRENO ? "newreno" : "cubic",
             o & SIM_COOKIES ? " cookies" : "");
    return buf;
}

static void describe(const struct params *pr, uint64_t seed)
{
    static const char *const endings[] = { "both close", "half-close then close",
                                           "one side aborts", "lingering close" };
    const struct fa_sim_link *l = &pr->link;
    printf("link: loss %.2f%%, reorder %.1f%%, dup %.1f%%, delay %.3f ms, rate %llu\n",
           100 * l->loss, 100 * l->reorder, 100 * l->duplicate, (double)l->delay / 1e6,
           (unsigned long long)l->rate_bps);
    if (pr->down.resegment > 0)
        printf("a middlebox resegments %.0f%% of the data segments\n", 100 * pr->down.resegment);
    if (pr->down.ack_divide > 0)
        printf("a middlebox divides %.0f%% of the ACKs\n", 100 * pr->down.ack_divide);
    for (int i = 0; i < 2; i++) {
        const struct side *sd = &pr->sd[i];
        char o[32];
        printf("%s: sndbuf %u rcvbuf %u bytes %u write %u read %u, %s%s", i ? "server" : "client",
               sd->sndbuf, sd->rcvbuf, sd->bytes, sd->write_chunk, sd->read_chunk,
               sim_tcp_options_name(sd->tcp_opts, o, sizeof o),
               sd->no_wscale ? " no-wscale" : "");
        if (sd->read_pause_at != UINT64_MAX)
            printf(", reader pauses %.1f s at %llu", (double)sd->read_pause / 1e9,
                   (unsigned long long)sd->read_pause_at);
        if (sd->write_pause_at != UINT64_MAX)
            printf(", writer pauses %.1f s at %llu", (double)sd->write_pause / 1e9,
                   (unsigned long long)sd->write_pause_at);
        if (sd->mem_max)
            printf(", memory budget %llu", (unsigned long long)sd->mem_max);
        if (sd->sb_max)
            printf(", scoreboard of %u", sd->sb_max);
        if (sd->cc_switch_at != UINT64_MAX)
            printf(", switches congestion control at %llu",
                   (unsigned long long)sd->cc_switch_at);
        if (sd->shut_rd_at != UINT64_MAX)
            printf(", SHUT_RD at %llu", (unsigned long long)sd->shut_rd_at);
        if (sim_draw_batching(seed, i))
            printf(", reads in batches of %.0f us%s", (double)sim_draw_batching(seed, i) / 1e3,
                   sim_draw_gro(seed, i) ? " with GRO" : "");
        if (sim_draw_timer_lag(seed, i))
            printf(", timers up to %.0f ms late", (double)sim_draw_timer_lag(seed, i) / 1e6);
        printf("\n");
    }
    if (pr->simopen)
        printf("simultaneous open: the %s connects first, the other %.3f ms later\n",
               pr->simopen_first ? "server" : "client", (double)pr->simopen_at / 1e6);
    if (pr->outage_len)
        printf("the path is cut from %.3f s for %.3f s\n", (double)pr->outage_at / 1e9,
               (double)pr->outage_len / 1e9);
    if (pr->attack)
        printf("attacker: a forged segment every %.1f ms on average\n",
               (double)pr->attack_gap / 1e6);
    else
        printf("ending: %s (side %d); %d connections overflow the backlog\n",
               endings[pr->ending], pr->aborter, pr->extra_conns);
}

/* With --verbose twice: one line per TCP segment a host sends. */
/* Segments that reach the server's listener on the client's 4-tuple and
 * must fail a cookie check whatever the check: an ACK whose sequence
 * number is not IRS + 1 (the cookie's hash is over the SYN's, as
 * Linux's) nor a keepalive probe's IRS — data behind a cookie's ACK that
 * was dropped for a full accept queue (apps seed 17209: eleven segments,
 * each sent twice by the duplicating link, then the resend past the
 * cookie's life). (It also counts those that reach a connection not yet
 * accepted rather than the listener: the excuse is looser by them.) */
static void tally_cookie_misses(struct run *r, int host, int dir, const struct fa_sim_segment *g)
{
    if (g->src != ADDR(0) || g->sport != r->client_port || g->dport != 80)
        return;
    if (!host && !dir && (g->flags & 0x02)) /* the client's SYN: its ISS */
        r->client_iss = g->seq;
    if (host && dir && !r->e[1].sock && (g->flags & 0x10) && !(g->flags & 0x06) &&
        g->seq != r->client_iss + 1 && g->seq != r->client_iss /* a keepalive probe's */)
        r->cookie_misses++;
}

static void on_frame(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    struct run *r = ctx;
    struct fa_sim_segment g;
    char flags[32];
    if (!fa_sim_segment_parse(f, len, &g))
        return;
    if (!r->pr.simopen)
        tally_cookie_misses(r, host, dir, &g);
    if (dir || r->verbose < 2)
        return;
    printf("%12.6f  %s >  %-9s :%u>:%u seq %10u ack %10u win %5u len %u", (double)t / 1e9,
           host ? "server" : "client", scenario_flags(g.flags, flags), g.sport, g.dport, g.seq,
           g.ack, g.win, g.len);
    for (int b = 0; b < g.sack_blocks; b++)
        printf("%s%u-%u", b ? " " : " sack ", g.sack[b][0], g.sack[b][1]);
    printf("\n");
}

/* A handshake's longest round trip in a clean world: hosts are two
 * links apart (four link delays a round trip), the SYN may wait for an
 * ARP exchange first (four more: Linux times it from before that too),
 * batches of up to 1 ms at each end, a cookie's TSval rounded down by up
 * to 63 ms. */
static fa_time handshake_rtt_max(const struct run *r)
{
    return 8 * r->pr.link.delay + 100 * MS;
}

/* Whether the world so far lost, duplicated, reordered or corrupted no
 * frame, dropped no SYN or ACK at a listener, and a handshake's round
 * trip is inside the SYN's 1 s RTO: then a handshake needs no resend. */
static int handshake_world_clean(const struct run *r)
{
    if (r->pr.attack || handshake_rtt_max(r) >= S)
        return 0;
    for (int h = 0; h < 2; h++) {
        for (int d = 0; d < 2; d++) {
            const struct fa_sim_stats *st = fa_sim_link_stats(r->sim, h, d);
            if (st->lost || st->queue_drops || st->outage_drops || st->duplicated ||
                st->reordered || st->corrupted)
                return 0;
        }
        static const unsigned dropped[] = { FA_CNT_TCP_BACKLOG_FULL,
                                            FA_CNT_TCP_HALF_OPEN_FULL,
                                            FA_CNT_TCP_NO_MEMORY,
                                            FA_CNT_TCP_SYNCOOKIES_FAILED };
        for (size_t k = 0; k < sizeof dropped / sizeof dropped[0]; k++)
            if (fa_stack_counter(fa_sim_stack(r->sim, h), dropped[k]))
                return 0;
    }
    return 1;
}

/* A connection that reaches ESTABLISHED in a clean world
 * (handshake_world_clean) resent nothing and has its RTT measured, no
 * longer than the world's path allows (but
 * for a SYN cookie's without timestamps, which keeps no SYN time; with
 * them, the echo times it, as in Linux): a
 * SYN-ACK counted as a resend costs it a 3 s RTO and a cwnd of one
 * segment (RFC 6298 §5.7, RFC 5681 §3.1). The review that found a
 * simultaneous open's crossed SYN so counted had no machine; this one
 * fails it (with draw_simopen). The first such failure is kept. */
static void check_handshake(struct run *r, const struct fa_tcp_info *i)
{
    if (r->hs_fail[0] || !handshake_world_clean(r))
        return;
    int host = i->local_addr != ADDR(0);
    /* (Cookies answer a SYN in cookie mode and when the listen queue is
     * full: which connection came so is not told, any without
     * timestamps on a host that took a cookie is excused.) */
    int by_cookie = !i->timestamps &&
                    fa_stack_counter(fa_sim_stack(r->sim, host), FA_CNT_TCP_SYNCOOKIES_OK);
    if (i->retransmits || (!i->srtt && !by_cookie) || i->srtt > handshake_rtt_max(r))
        snprintf(r->hs_fail, sizeof r->hs_fail,
                 "%s :%u reached ESTABLISHED with %llu resends and srtt %.1f ms, "
                 "nothing lost", host ? "server" : "client", i->local_port,
                 (unsigned long long)i->retransmits, (double)i->srtt / 1e6);
}

static void trace(void *ctx, const struct fa_tcp *sock, int from, int to, fa_time now)
{
    struct run *r = ctx;
    struct fa_tcp_info i;
    fa_tcp_get_info(sock, &i);
    if (to == FA_TCP_ESTABLISHED && (from == FA_TCP_SYN_SENT || from == FA_TCP_SYN_RECEIVED))
        check_handshake(r, &i);
    if (r->verbose > 1)
        printf("%12.6f  %s:%u (peer :%u)  %s\n", (double)now / 1e9,
               i.local_addr == ADDR(0) ? "client" : "server", i.local_port, i.remote_port,
               fa_tcp_state_name((enum fa_tcp_state)to));
}

/* ---- the applications ------------------------------------------------ */
static uint16_t local_port(const struct fa_tcp *sock)
{
    struct fa_tcp_info i;
    fa_tcp_get_info(sock, &i);
    return i.local_port;
}

/* Buffers and keepalive on side i's end, before it connects. */
static int open_end(struct run *r, int i)
{
    if (fa_tcp_setopt(r->e[i].sock, FA_SO_SNDBUF, r->pr.sd[i].sndbuf) < 0 ||
        fa_tcp_setopt(r->e[i].sock, FA_SO_RCVBUF, r->pr.sd[i].rcvbuf) < 0)
        return -1;
    sim_keepalive(r->e[i].sock, r->lag, 9);
    return 0;
}

static const uint16_t simopen_ports[2] = { 40000, 8080 }; /* client, server */

static int connect_end(struct run *r, int i, fa_time now)
{
    int rc = fa_tcp_connect(r->e[i].sock, ADDR(!i), simopen_ports[!i], now);
    return rc == -EINPROGRESS || rc == 0 ? 0 : -1;
}

/* Whether side i's end is there to use: accepted, or connected (the
 * second end of a simultaneous open waits for its moment). */
static int end_open(const struct run *r, int i)
{
    return r->e[i].sock &&
           (r->simopen_due == FA_TIME_NEVER || i == r->pr.simopen_first);
}

/* The second end of a simultaneous open connects once its moment came. */
static int connect_second(struct run *r, fa_time now)
{
    if (now < r->simopen_due)
        return 0;
    r->simopen_due = FA_TIME_NEVER;
    if (connect_end(r, !r->pr.simopen_first, now) < 0)
        return fail(r, "the simultaneous open's second connect failed");
    return 0;
}

/* A simultaneous open (draw_simopen): each end bound to its port, the
 * first connects now, the other at simopen_due (connect_second). */
static int setup_simopen(struct run *r)
{
    for (int i = 0; i < 2; i++) {
        fa_tcp_open(fa_sim_stack(r->sim, i), &r->e[i].sock);
        if (fa_tcp_bind(r->e[i].sock, 0, simopen_ports[i]) < 0 || open_end(r, i) < 0)
            return -1;
    }
    r->client_port = simopen_ports[0];
    r->simopen_due = r->pr.simopen_at;
    /* (The second at once too when its delay is 0: the same instant.) */
    return connect_end(r, r->pr.simopen_first, 0) < 0 ? -1 : connect_second(r, 0);
}

static int setup(struct run *r)
{
    if (fa_sim_create(r->seed, &r->sim) < 0 || fa_sim_check_enable(r->sim) < 0)
        return -1;
    fa_sim_on_frame(r->sim, on_frame, r);
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = ADDR(i);
        cfg.tcp_window_scaling = !r->pr.sd[i].no_wscale;
        cfg.tcp_mem_max = r->pr.sd[i].mem_max;
        if (r->pr.sd[i].sb_max)
            cfg.tcp_sb_max = r->pr.sd[i].sb_max;
        sim_apply_tcp_options(&cfg, r->pr.sd[i].tcp_opts);
        /* Under the attacker's flood of spoofed sources, a link whose
         * round trip is seconds is set up as one (as Linux's retrans_time
         * is per interface): ARP retries after the answer could have
         * come. Else a pending entry is taken after arp_retry_interval,
         * before its answer comes, and a neighbour whose entry went idle
         * — an RTO backed off to 120 s — is never resolved again (attack
         * seed 22: R2 after 16 minutes without a frame out). Only there:
         * the apps worlds keep the 1 s they were drawn with. */
        if (r->pr.attack && 4 * r->pr.link.delay >= cfg.arp_retry_interval)
            cfg.arp_retry_interval = 4 * r->pr.link.delay + S;
        cfg.tcp_trace = trace;
        cfg.tcp_trace_ctx = r;
        if (fa_sim_add_host(r->sim, &cfg, &r->pr.link, &r->pr.down) != i ||
            sim_apply_batching(r->sim, r->seed, i) < 0 ||
            sim_apply_timer_lag(r->sim, r->seed, i) < 0)
            return -1;
    }
    if (r->pr.outage_len &&
        fa_sim_partition(r->sim, 1, r->pr.outage_at, r->pr.outage_at + r->pr.outage_len) < 0)
        return -1;
    struct fa_stack *cs = fa_sim_stack(r->sim, 0), *ss = fa_sim_stack(r->sim, 1);
    fa_tcp_open(ss, &r->listener);
    fa_tcp_bind(r->listener, 0, 80);
    /* Before listen: accepted sockets inherit them. */
    if (fa_tcp_setopt(r->listener, FA_SO_SNDBUF, r->pr.sd[1].sndbuf) < 0 ||
        fa_tcp_setopt(r->listener, FA_SO_RCVBUF, r->pr.sd[1].rcvbuf) < 0)
        return -1;
    fa_tcp_listen(r->listener, r->pr.extra_conns ? 1 : 8, 0);
    for (int i = 0; i < r->pr.extra_conns; i++) {
        fa_tcp_open(cs, &r->extra[i]);
        fa_tcp_connect(r->extra[i], ADDR(1), 80, 0);
    }
    r->client_closed_at = r->broke_at = FA_TIME_NEVER;
    for (int i = 0; i < 2; i++)
        r->e[i].read_resume = r->e[i].write_resume = r->e[i].able_since = FA_TIME_NEVER;
    r->simopen_due = FA_TIME_NEVER;
    if (r->pr.simopen)
        return setup_simopen(r);
    fa_tcp_open(cs, &r->e[0].sock);
    if (open_end(r, 0) < 0)
        return -1;
    fa_tcp_connect(r->e[0].sock, ADDR(1), 80, 0);
    r->client_port = local_port(r->e[0].sock);
    return 0;
}

struct port_seen {
    uint16_t port;
    int sending;
};

static void find_sending(void *ctx, const struct fa_tcp_info *i)
{
    struct port_seen *p = ctx;
    if (i->local_port != p->port)
        return;
    switch (i->state) {
    case FA_TCP_SYN_SENT: case FA_TCP_SYN_RECEIVED: case FA_TCP_ESTABLISHED:
    case FA_TCP_CLOSE_WAIT: case FA_TCP_FIN_WAIT_1: case FA_TCP_CLOSING:
    case FA_TCP_LAST_ACK:
        p->sending = 1; /* it may still send a SYN, data or its FIN */
        break;
    default:
        break;
    }
}

/* Whether the client's stack still holds the measured connection in a
 * state that sends. */
static int client_still_sending(const struct run *r)
{
    struct port_seen p = { .port = r->client_port };
    fa_stack_tcp_walk(fa_sim_stack(r->sim, 0), find_sending, &p);
    return p.sending;
}

/* The server accepts (after 2 s when the backlog is to overflow), and
 * the extra connections are closed once through. */
static void accept_all(struct run *r, fa_time now)
{
    if (r->pr.extra_conns && now < r->start + 2 * S)
        return;
    struct fa_tcp *c;
    while (fa_tcp_accept(r->listener, &c) == 0) {
        struct fa_tcp_info i;
        fa_tcp_get_info(c, &i);
        if (!r->e[1].sock && !r->e[1].closed && i.remote_port == r->client_port) {
            r->e[1].sock = c;
            sim_keepalive(c, r->lag, 9);
        }
        else
            fa_tcp_close(c, now);
    }
    for (int i = 0; i < r->pr.extra_conns; i++)
        if (r->extra[i] && (fa_tcp_state(r->extra[i]) == FA_TCP_ESTABLISHED ||
                            fa_tcp_state(r->extra[i]) == FA_TCP_CLOSED)) {
            fa_tcp_close(r->extra[i], now);
            r->extra[i] = NULL;
        }
}

static int paused(fa_time now, uint64_t at, uint64_t offset, fa_time len,
                  fa_time *resume, int *done)
{
    if (*done || offset < at)
        return 0;
    if (*resume == FA_TIME_NEVER)
        *resume = now + len;
    if (now < *resume)
        return 1;
    *done = 1;
    return 0;
}

static int write_some(struct run *r, int i, fa_time now)
{
    struct end *e = &r->e[i];
    const struct side *sd = &r->pr.sd[i];
    static uint8_t buf[65536];
    while (e->sent < sd->bytes && !e->shut_wr &&
           !paused(now, sd->write_pause_at, e->sent, sd->write_pause, &e->write_resume,
                   &e->write_paused_done)) {
        size_t n = sd->bytes - e->sent < sd->write_chunk ? sd->bytes - e->sent : sd->write_chunk;
        /* Make no more bytes than the send buffer can take now (none
         * before the connection is up): the pattern costs more than the
         * stack when the buffer is full. */
        if (!(fa_tcp_events(e->sock) & FA_TCP_EV_WRITABLE))
            break;
        struct fa_tcp_info info;
        long size;
        fa_tcp_get_info(e->sock, &info);
        if (fa_tcp_getopt(e->sock, FA_SO_SNDBUF, &size) == 0 && size > (long)info.send_queued &&
            n > (size_t)size - info.send_queued)
            n = (size_t)size - info.send_queued;
        pattern_fill(buf, n, r->seed, i, e->sent);
        long w = fa_tcp_send(e->sock, buf, n, now);
        budget_tally.refused += w == -ENOBUFS;
        if (w == -EAGAIN || w == -ENOBUFS) /* ENOBUFS: the budget; told when */
            break;
        if (w <= 0)
            return w == 0 ? 0 : (e->err = (int)-w, 0);
        e->sent += (uint64_t)w;
        r->last_progress = now;
        if (!e->cc_switched && e->sent > sd->cc_switch_at) {
            long cc;
            e->cc_switched = 1;
            if (fa_tcp_getopt(e->sock, FA_TCP_CONGESTION, &cc) < 0 ||
                fa_tcp_setopt(e->sock, FA_TCP_CONGESTION,
                              cc == FA_TCP_CC_CUBIC ? FA_TCP_CC_NEWRENO : FA_TCP_CC_CUBIC) < 0)
                return fail(r, "TCP_CONGESTION refused mid-connection");
        }
    }
    return 0;
}

static void maybe_shut_rd(struct run *r, int i, fa_time now)
{
    struct end *e = &r->e[i];
    /* Only once it took (not before the connection exists: -ENOTCONN),
     * else the side would neither read nor have the stack drop what
     * comes, and its close would reset unread data (apps seed 88302). */
    if (!e->shut_rd && e->got >= r->pr.sd[i].shut_rd_at &&
        fa_tcp_shutdown(e->sock, FA_SHUT_RD, now) == 0)
        e->shut_rd = 1;
}

static int read_some(struct run *r, int i, fa_time now)
{
    struct end *e = &r->e[i];
    const struct side *sd = &r->pr.sd[i];
    static uint8_t buf[65536];
    maybe_shut_rd(r, i, now);
    while (!e->eof && !e->shut_rd &&
           !paused(now, sd->read_pause_at, e->got, sd->read_pause, &e->read_resume,
                   &e->read_paused_done)) {
        long got = fa_tcp_recv(e->sock, buf, sd->read_chunk, now);
        if (got == -EAGAIN)
            break;
        if (got <= 0) {
            e->eof = 1;
            e->err = got < 0 ? (int)-got : 0;
            break;
        }
        long bad = pattern_mismatch(buf, (size_t)got, r->seed, !i, e->got);
        if (bad >= 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s received a wrong byte at offset %llu",
                     i ? "server" : "client", (unsigned long long)(e->got + (uint64_t)bad));
            return fail(r, msg);
        }
        e->got += (uint64_t)got;
        r->last_progress = now;
    }
    maybe_shut_rd(r, i, now);
    return 0;
}

/* Either side's work left: bytes it has not written, or bytes its peer
 * has not read (unless the peer shut its reading down). */
static int work_left(const struct run *r)
{
    for (int i = 0; i < 2; i++) {
        const struct end *e = &r->e[i], *o = &r->e[!i];
        if (e->sent < r->pr.sd[i].bytes && !e->shut_wr)
            return 1;
        if (o->got < r->pr.sd[i].bytes && !o->shut_rd && !o->eof)
            return 1;
    }
    return 0;
}

static int anyone_paused(const struct run *r, fa_time now)
{
    for (int i = 0; i < 2; i++)
        if ((r->e[i].read_resume != FA_TIME_NEVER && now < r->e[i].read_resume) ||
            (r->e[i].write_resume != FA_TIME_NEVER && now < r->e[i].write_resume))
            return 1;
    return 0;
}

static void note_close(struct run *r, int i)
{
    r->cookie_failed_at_close[i] =
        fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TCP_SYNCOOKIES_FAILED);
    r->timeouts_at_close[i] = fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TCP_TIMEOUTS);
    r->aborts_at_close[i] = fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TCP_ABORT_ON_TIMEOUT);
    r->cookie_ok_at_close[i] =
        fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TCP_SYNCOOKIES_OK);
}

/* The ending, once its moment comes; marks sides closed. -1: a check
 * failed. */
static int end_moves(struct run *r, fa_time now)
{
    const struct params *pr = &r->pr;
    for (int i = 0; i < 2; i++) {
        struct end *e = &r->e[i];
        if (e->closed || !end_open(r, i))
            continue;
        if (e->shut_rd && !e->err && !e->closing && fa_tcp_state(e->sock) == FA_TCP_CLOSED &&
            (fa_tcp_events(e->sock) & FA_TCP_EV_ERROR))
            e->err = -fa_tcp_error(e->sock); /* an application that no longer reads */
        if (e->closing) { /* a lingering close: call again until it ends */
            struct fa_tcp_info before;
            fa_tcp_get_info(e->sock, &before);
            int rc = fa_tcp_close(e->sock, now);
            e->closed = rc != -EINPROGRESS;
            e->linger_reset = rc == -ETIMEDOUT; /* it ran out: an RST went */
            /* Done (0) means all it sent was acknowledged, its FIN too
             * (review: after a soft ICMP error a linger that ran out
             * said 0). */
            if (rc == 0 && before.snd_una != before.snd_nxt) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s's lingering close said done with %u bytes "
                         "unacknowledged", i ? "server" : "client",
                         before.snd_nxt - before.snd_una);
                return fail(r, msg);
            }
            continue;
        }
        if (e->err) { /* reset or failed: nothing more to do but close */
            fa_tcp_close(e->sock, now);
            e->closed = 1;
            continue;
        }
        int done_writing = e->sent == pr->sd[i].bytes;
        if (pr->ending == ABORT_ONE && i == pr->aborter &&
            (e->got >= pr->abort_at || e->eof)) {
            note_close(r, i);
            fa_tcp_abort(e->sock, now);
            e->closed = 1;
            r->broke_at = now;
            continue;
        }
        /* A side that stopped reading half-closes when done, so its peer
         * sees the end and closes; it closes itself at the peer's FIN
         * (closing earlier would reset data still on its way). */
        /* (Not in SYN-SENT, -ENOTCONN: again later. A simultaneous
         * open's two ends with nothing to say both ask there, apps seed
         * 3874.) */
        if ((pr->ending == HALF_CLOSE || e->shut_rd) && done_writing && !e->shut_wr)
            e->shut_wr = fa_tcp_shutdown(e->sock, FA_SHUT_WR, now) == 0;
        /* Close once written and the peer's bytes are in (after its FIN
         * for a half-close, or for a side that stopped reading). */
        int peer_done = e->eof || (e->shut_rd && (fa_tcp_events(e->sock) & FA_TCP_EV_HUP)) ||
                        (pr->ending != HALF_CLOSE && !e->shut_rd && e->got == pr->sd[!i].bytes);
        /* Under attack, one side closes first (it keeps the TIME-WAIT
         * whose 4-tuple reuse_tuple takes again); the other waits for
         * its FIN. */
        if (pr->attack && i != pr->aborter && !e->eof)
            peer_done = 0;
        if (done_writing && peer_done) {
            if (pr->ending == LINGER_CLOSE && i == pr->aborter) {
                fa_tcp_setopt(e->sock, FA_SO_LINGER, 100);
                r->broke_at = now;
            }
            note_close(r, i);
            e->closing = fa_tcp_close(e->sock, now) == -EINPROGRESS;
            e->closed = !e->closing;
        }
    }
    return 0;
}

/* Runs to the next event, at most 10 ms away while applications act,
 * at most 1 s while they sit in a pause. */
static void step(struct run *r)
{
    fa_time now = fa_sim_now(r->sim), next = fa_sim_next(r->sim);
    fa_time cap = now + (anyone_paused(r, now) ? S : 10 * MS);
    if (r->pr.attack && r->next_attack > now && r->next_attack < cap)
        cap = r->next_attack;
    if (r->simopen_due > now && r->simopen_due < cap)
        cap = r->simopen_due;
    fa_sim_run_until(r->sim, next < cap ? next : cap);
}

/* ---- the attacker ---------------------------------------------------- */
static uint32_t near(struct fa_prng *p, uint32_t at)
{
    static const int32_t d[] = { 1, -1, 2, -2, 1000, -1000, 65535 };
    return at + (uint32_t)d[fa_prng_below(p, 7)];
}

/* An ACK of data never sent: beyond the highest sequence number sent,
 * which can lie past SND.NXT after a go-back by up to a window. */
static uint32_t unsent_ack(struct fa_prng *p, const struct fa_tcp_info *i)
{
    return i->snd_una + (16u << 20) + 1 + (uint32_t)fa_prng_below(p, 100000);
}

/* n SYNs at the server's listener from spoofed sources of the link's
 * own range that no host has (198.18.0.128 to .227): its SYN-ACKs go
 * nowhere (ARP bounds what waits). The backlog fills with half-open
 * connections, then SYN cookies answer (tcp_syncookies 1; 2 answers all
 * by cookie): the half-open ones stay within the backlog and hold no
 * buffers, and the connection under way must not notice. */
static void syn_flood(struct run *r, unsigned n)
{
    struct fa_prng *p = &r->prng;
    const struct fa_config *cv = fa_stack_config(fa_sim_stack(r->sim, 1));
    const struct fa_config *cp = fa_stack_config(fa_sim_stack(r->sim, 0));
    struct forged g = { .dst_mac = cv->mac, .src_mac = cp->mac, .dst = ADDR(1), .dport = 80,
                        .flags = TCP_SYN, .wnd = 65535 };
    uint8_t f[FORGE_FRAME_MAX];
    for (unsigned k = 0; k < n; k++) {
        g.src = FA_IPV4(198, 18, 0, 128 + (unsigned)fa_prng_below(p, 100));
        g.sport = (uint16_t)(1024 + fa_prng_below(p, 60000));
        g.seq = (uint32_t)fa_prng_below(p, 1ull << 32);
        fa_sim_inject(r->sim, 1, f, forge_tcp(f, &g));
    }
    r->flooded += n;
}

/* The bound a flood must leave in place: the listener's backlog (8)
 * holds every half-open connection (the memory budget is checked on
 * every event by the simulator). */
static int flood_bounded(struct run *r)
{
    /* ...and the client keeps its ARP entry there: the flood's
     * resolutions must not push it out (arp.c). Only a loss across a
     * step that delivered flooded SYNs counts: the entry may expire on
     * its own when the server has been silent (a long persist backoff). */
    uint8_t mac[6];
    int has = fa_stack_arp_lookup(fa_sim_stack(r->sim, 1), ADDR(0), mac) == 0;
    int lost = r->arp_had && !has && r->flooded != r->flooded_seen;
    r->arp_had = has;
    r->flooded_seen = r->flooded;
    if (lost)
        return fail(r, "a SYN flood pushed the client's ARP entry out of the server's cache");
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(fa_sim_stack(r->sim, 1), &u);
    if (u.half_open > 8) {
        char msg[96];
        snprintf(msg, sizeof msg, "a SYN flood left %u half-open connections (backlog 8)",
                 u.half_open);
        return fail(r, msg);
    }
    return 0;
}

/* One forged segment at side v's connection, as if from its peer. Never
 * exactly what the peer itself could send: no RST at RCV.NXT, no data at
 * RCV.NXT with an acceptable ACK (blind injection RFC 5961 cannot stop). */
/* An ICMP error from a host on the path about side v's synchronized
 * connection, one time in five: in a synchronized state every error is
 * soft (RFC 5927 §5.2) and a quote outside SND.UNA..SND.NXT is ignored
 * (§4.1); fragmentation needed lowers the MSS, no lower than 552 bytes
 * of IP. The oracles must still see every byte, and no error. */
static void forge_icmp_error(struct run *r, int v, const struct fa_tcp_info *i,
                             const struct forged *g)
{
    struct fa_prng *p = &r->icmp_prng;
    if (!fa_prng_chance(p, 0.2) || i->state < FA_TCP_ESTABLISHED ||
        i->state == FA_TCP_TIME_WAIT)
        return;
    static const struct { uint8_t type, code; } kinds[] = {
        { 3, 3 }, { 3, 2 }, { 3, 1 }, { 3, 13 }, { 3, 4 }, { 11, 0 }, { 12, 0 },
    };
    static const uint16_t mtus[] = { 0, 50, 300, 576, 1000, 1400, 9000 };
    unsigned k = (unsigned)fa_prng_below(p, 7);
    struct forged q = *g;
    q.seq = fa_prng_chance(p, 0.5) && i->snd_nxt != i->snd_una
                ? i->snd_una + (uint32_t)fa_prng_below(p, i->snd_nxt - i->snd_una)
                : (uint32_t)fa_prng_next(p);
    uint8_t f[FORGE_FRAME_MAX];
    size_t n = forge_icmp(f, &q, FA_IPV4(198, 18, 0, 250), kinds[k].type, kinds[k].code,
                          mtus[fa_prng_below(p, 7)]);
    fa_sim_inject(r->sim, v, f, n);
    r->forged++;
}

/* The apps family's router: a soft ICMP error (time exceeded, host or
 * net unreachable: soft in a synchronized state, RFC 5927 §5.2) about a
 * segment side v has in flight, lingering closes included. */
static void router_error(struct run *r)
{
    struct fa_prng *p = &r->router_prng;
    int v = (int)fa_prng_below(p, 2);
    struct fa_tcp *sock = r->e[v].sock;
    if (!sock || (r->e[v].closed && !r->e[v].closing))
        return;
    struct fa_tcp_info i;
    fa_tcp_get_info(sock, &i);
    if (i.state < FA_TCP_ESTABLISHED || i.state == FA_TCP_TIME_WAIT ||
        i.snd_nxt == i.snd_una)
        return;
    static const struct { uint8_t type, code; } kinds[] = { { 11, 0 }, { 3, 1 }, { 3, 0 } };
    unsigned k = (unsigned)fa_prng_below(p, 3);
    const struct fa_config *cv = fa_stack_config(fa_sim_stack(r->sim, v));
    const struct fa_config *cp = fa_stack_config(fa_sim_stack(r->sim, !v));
    struct forged q = { .dst_mac = cv->mac, .src_mac = cp->mac, .src = i.remote_addr,
                        .dst = i.local_addr, .sport = i.remote_port, .dport = i.local_port,
                        .seq = i.snd_una + (uint32_t)fa_prng_below(p, i.snd_nxt - i.snd_una) };
    uint8_t f[FORGE_FRAME_MAX];
    size_t n = forge_icmp(f, &q, FA_IPV4(198, 18, 0, 254), kinds[k].type, kinds[k].code, 0);
    fa_sim_inject(r->sim, v, f, n);
}

/* A burst of SYNs at a synchronized connection, in and out of the window;
 * where timestamps are on, each with a random TSval, so about half fail
 * PAWS (RFC 7323 §5.3). Whatever the path, a SYN there draws only a
 * challenge ACK (RFC 5961 §4) under §7's limit: the burst, delivered in
 * one instant, may draw one segment, no more (review: a SYN failing PAWS
 * was answered every time). */
static int syn_burst(struct run *r, int v, const struct fa_tcp_info *i, struct forged *g)
{
    struct fa_prng *p = &r->prng;
    if (i->state < FA_TCP_ESTABLISHED || i->state == FA_TCP_TIME_WAIT)
        return 0;
    struct fa_stack *st = fa_sim_stack(r->sim, v);
    /* Timers due now (a late host's SYN-ACK resends) run first, as the
     * first injected frame would run them: only answers are counted. */
    fa_stack_poll(st, fa_sim_now(r->sim));
    uint64_t before = fa_stack_counter(st, FA_CNT_TCP_SEGS_OUT);
    unsigned n = 5 + (unsigned)fa_prng_below(p, 26);
    uint8_t f[FORGE_FRAME_MAX];
    g->flags = TCP_SYN;
    g->ts = i->timestamps;
    for (unsigned k = 0; k < n; k++) {
        g->seq = i->rcv_nxt + (uint32_t)fa_prng_below(p, 200000) - 100000;
        g->ts_val = (uint32_t)fa_prng_next(p);
        fa_sim_inject(r->sim, v, f, forge_tcp(f, g));
    }
    r->forged += n;
    uint64_t answers = fa_stack_counter(st, FA_CNT_TCP_SEGS_OUT) - before;
    if (answers <= 1)
        return 0;
    char msg[96];
    snprintf(msg, sizeof msg, "a burst of %u forged SYNs drew %llu segments", n,
             (unsigned long long)answers);
    return fail(r, msg);
}

static int forge_one(struct run *r, fa_time now)
{
    struct fa_prng *p = &r->prng;
    int v = (int)fa_prng_below(p, 2);
    struct fa_tcp *sock = r->e[v].sock;
    if (!sock || r->e[v].closed || fa_tcp_state(sock) == FA_TCP_CLOSED)
        return 0;
    /* The numbers as the forged segment will find them: what GRO holds
     * goes in before it (attack seed 4668: a held segment moved RCV.NXT
     * onto a burst's RST). */
    fa_sim_flush_held(r->sim, v);
    if (fa_tcp_state(sock) == FA_TCP_CLOSED)
        return 0;
    struct fa_tcp_info i;
    fa_tcp_get_info(sock, &i);
    const struct fa_config *cv = fa_stack_config(fa_sim_stack(r->sim, v));
    const struct fa_config *cp = fa_stack_config(fa_sim_stack(r->sim, !v));
    static uint8_t junk[FORGE_MAX_DATA];
    struct forged g = { .dst_mac = cv->mac, .src_mac = cp->mac, .src = i.remote_addr,
                        .dst = i.local_addr, .sport = i.remote_port, .dport = i.local_port,
                        .wnd = 65535, .data = junk };
    uint32_t wnd_end = i.rcv_nxt + (i.rcv_wnd ? i.rcv_wnd : 1);
    if (fa_prng_chance(p, 0.05)) {
        if (r->flooded < MAX_FLOODED) /* (a bounded flood: a short run) */
            syn_flood(r, 16 + (unsigned)fa_prng_below(p, 241));
        return 0;
    }
    switch (fa_prng_below(p, 10)) {
    case 0: /* RST near RCV.NXT or the window's edge, never exactly at it */
        g.flags = TCP_RST;
        g.seq = fa_prng_chance(p, 0.5) ? near(p, i.rcv_nxt) : near(p, wnd_end);
        if (g.seq == i.rcv_nxt) /* a small window: the edge is RCV.NXT + 1 */
            g.seq++;
        break;
    case 1: /* RST|ACK straddling RCV.NXT with data */
        g.flags = TCP_RST | TCP_ACK;
        g.seq = i.rcv_nxt - 1 - (uint32_t)fa_prng_below(p, 1000);
        g.ack = i.snd_una;
        g.len = (i.rcv_nxt - g.seq) + 1 + fa_prng_below(p, 400);
        break;
    case 2: /* SYN or SYN|ACK near RCV.NXT, maybe with data */
        g.flags = TCP_SYN | (fa_prng_chance(p, 0.5) ? TCP_ACK : 0);
        g.seq = fa_prng_chance(p, 0.3) ? i.rcv_nxt : near(p, i.rcv_nxt);
        g.ack = i.snd_una;
        g.len = fa_prng_chance(p, 0.5) ? 8 : 0;
        break;
    case 3: /* an ACK of data never sent, or one too old */
        g.flags = TCP_ACK;
        g.seq = i.rcv_nxt;
        g.ack = fa_prng_chance(p, 0.5) ? unsent_ack(p, &i) : i.snd_una - 0x40000000u;
        g.wnd = (uint16_t)fa_prng_below(p, 65536);
        break;
    case 4: /* data beyond the window */
        g.flags = TCP_ACK | TCP_PSH;
        g.seq = wnd_end + (uint32_t)fa_prng_below(p, 3);
        g.ack = i.snd_una;
        g.len = 1 + fa_prng_below(p, 1000);
        break;
    case 5: /* in-window data or FIN whose ACK is unacceptable */
        g.flags = TCP_ACK | (fa_prng_chance(p, 0.3) ? TCP_FIN : 0);
        g.seq = i.rcv_nxt + (uint32_t)fa_prng_below(p, 3);
        g.ack = unsent_ack(p, &i);
        g.len = fa_prng_below(p, 100);
        break;
    case 6: { /* a burst of RSTs in the window: challenge ACKs stay in budget */
        unsigned n = 5 + (unsigned)fa_prng_below(p, 26);
        uint8_t f[FORGE_FRAME_MAX];
        g.flags = TCP_RST;
        for (unsigned k = 0; k < n; k++) {
            g.seq = i.rcv_nxt + 1 + k;
            fa_sim_inject(r->sim, v, f, forge_tcp(f, &g));
        }
        r->forged += n;
        return 0;
    }
    case 7: /* an old ACK (within RFC 5961's MAX.SND.WND below SND.UNA) at
             * RCV.NXT with a wide window: stale, it must not move the
             * window (RFC 9293 §3.10.7.4; the checker holds the sender to
             * the edges the peer itself offered) */
        g.flags = TCP_ACK;
        g.seq = i.rcv_nxt;
        g.ack = i.snd_una - 1 - (uint32_t)fa_prng_below(p, 64);
        break;
    case 8:
        return syn_burst(r, v, &i, &g);
    default: /* old data, entirely below RCV.NXT, and a bare old ACK */
        g.flags = TCP_ACK;
        g.len = 1 + fa_prng_below(p, 500);
        /* (ending 1 to 2000 below RCV.NXT: a segment ending exactly there
         * has its ACK field used, as in Linux — hitting that end is as
         * hard as an exact RST) */
        g.seq = i.rcv_nxt - (uint32_t)g.len - 1 - (uint32_t)fa_prng_below(p, 2000);
        g.ack = i.snd_una;
        break;
    }
    uint8_t f[FORGE_FRAME_MAX];
    fa_sim_inject(r->sim, v, f, forge_tcp(f, &g));
    r->forged++;
    /* After the segment, whose numbers were drawn from i: an ICMP error
     * makes the victim send, and what it advertises moves its window. */
    forge_icmp_error(r, v, &i, &g);
    (void)now;
    return 0;
}

struct tw_seen {
    int found;
    struct fa_tcp_info info;
};

static void find_tw(void *ctx, const struct fa_tcp_info *i)
{
    struct tw_seen *t = ctx;
    if (i->state == FA_TCP_TIME_WAIT && !t->found) {
        t->found = 1;
        t->info = *i;
    }
}

/* A forged segment at a TIME-WAIT entry: only an RST exactly at its
 * RCV.NXT may end it; check it survives anything else. */
static int forge_at_time_wait(struct run *r)
{
    struct fa_prng *p = &r->prng;
    for (int v = 0; v < 2; v++) {
        struct fa_stack *st = fa_sim_stack(r->sim, v);
        struct tw_seen t = { 0 };
        fa_sim_flush_held(r->sim, v); /* (as forge_one) */
        fa_stack_tcp_walk(st, find_tw, &t);
        if (!t.found)
            continue;
        const struct fa_config *cv = fa_stack_config(st);
        const struct fa_config *cp = fa_stack_config(fa_sim_stack(r->sim, !v));
        struct forged g = { .dst_mac = cv->mac, .src_mac = cp->mac, .src = t.info.remote_addr,
                            .dst = t.info.local_addr, .sport = t.info.remote_port,
                            .dport = t.info.local_port, .wnd = 1000 };
        switch (fa_prng_below(p, 3)) {
        case 0: g.flags = TCP_RST; g.seq = near(p, t.info.rcv_nxt); break;
        case 1: g.flags = TCP_SYN; g.seq = t.info.rcv_nxt - (uint32_t)fa_prng_below(p, 5); break;
        default: g.flags = TCP_ACK; g.seq = near(p, t.info.rcv_nxt); g.ack = t.info.snd_nxt; break;
        }
        struct fa_tcp_usage before, after;
        fa_stack_tcp_usage(st, &before);
        uint8_t f[FORGE_FRAME_MAX];
        fa_sim_inject(r->sim, v, f, forge_tcp(f, &g));
        r->forged_tw++;
        fa_sim_run_until(r->sim, fa_sim_now(r->sim) + 1); /* delivered at once */
        fa_stack_tcp_usage(st, &after);
        if (after.time_wait < before.time_wait)
            return fail(r, "a forged segment ended a TIME-WAIT");
    }
    return 0;
}

/* RFC 5961 §7 as finack keeps it: per connection (and TIME-WAIT entry)
 * one challenge ACK per tcp_invalid_ratelimit. */
static int challenge_budget_kept(struct run *r)
{
    fa_time span = fa_sim_now(r->sim) - r->start;
    for (int v = 0; v < 2; v++) {
        struct fa_stack *st = fa_sim_stack(r->sim, v);
        fa_time gap = fa_stack_config(st)->tcp_invalid_ratelimit;
        uint64_t budget = 2 * (span / gap + 1); /* the connection, then its TIME-WAIT */
        uint64_t sent = fa_stack_counter(st, FA_CNT_TCP_CHALLENGE_ACKS);
        if (sent > budget) {
            char msg[128];
            snprintf(msg, sizeof msg, "host %d sent %llu challenge ACKs, budget %llu", v,
                     (unsigned long long)sent, (unsigned long long)budget);
            return fail(r, msg);
        }
    }
    return 0;
}

/* The client's 4-tuple again, at once, while a SYN flood keeps the
 * server's listener answering by cookie: the server's TIME-WAIT entry
 * (if it closed first) is reopened by the SYN (RFC 6191, no cookie for
 * it), or the handshake goes by cookie; either way the new connection
 * must open and carry its bytes, and nothing of the old one may get in.
 * (A client that holds the TIME-WAIT itself cannot take the port:
 * EADDRINUSE, as Linux without SO_REUSEADDR; skipped.) */
static int reuse_tuple(struct run *r)
{
    struct fa_stack *cs = fa_sim_stack(r->sim, 0);
    struct fa_tcp *c, *sv = NULL;
    struct fa_stack *ss = fa_sim_stack(r->sim, 1);
    syn_flood(r, 64);
    fa_tcp_open(cs, &c);
    /* The old connection's last steps (LAST-ACK) first: at most 5 s. */
    int bound = -EADDRINUSE;
    for (int k = 0; k < 50 && (bound = fa_tcp_bind(c, 0, r->client_port)) == -EADDRINUSE; k++)
        fa_sim_run_until(r->sim, fa_sim_now(r->sim) + 100 * MS);
    fa_time now = fa_sim_now(r->sim);
    if (bound < 0 || fa_tcp_connect(c, ADDR(1), 80, now) != -EINPROGRESS) {
        fa_tcp_close(c, now);
        budget_tally.skipped++;
        return 0;
    }
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(ss, &u);
    budget_tally.reused_tw += u.time_wait > 0;
    uint64_t by_cookie = fa_stack_counter(ss, FA_CNT_TCP_SYNCOOKIES_OK);
    static uint8_t out[3000], in[3000];
    pattern_fill(out, sizeof out, r->seed, 2, 0);
    size_t sent = 0, got = 0;
    fa_time limit = now + 600 * S;
    while (got < sizeof in && fa_sim_now(r->sim) < limit) {
        fa_sim_run_until(r->sim, fa_sim_now(r->sim) + 10 * MS);
        now = fa_sim_now(r->sim);
        struct fa_tcp *a;
        while (fa_tcp_accept(r->listener, &a) == 0) {
            struct fa_tcp_info ai;
            fa_tcp_get_info(a, &ai);
            if (!sv && ai.remote_port == r->client_port && fa_tcp_state(a) != FA_TCP_CLOSED)
                sv = a;
            else
                fa_tcp_close(a, now);
        }
        if (fa_tcp_state(c) == FA_TCP_ESTABLISHED && sent < sizeof out) {
            long n = fa_tcp_send(c, out + sent, sizeof out - sent, now);
            sent += n > 0 ? (size_t)n : 0;
        }
        long n = sv ? fa_tcp_recv(sv, in + got, sizeof in - got, now) : 0;
        if (n < 0 && n != -EAGAIN)
            break;
        got += n > 0 ? (size_t)n : 0;
    }
    int ok = got == sizeof in && !memcmp(in, out, sizeof in);
    fa_tcp_close(c, now);
    if (sv)
        fa_tcp_close(sv, now);
    r->reused++;
    budget_tally.reused++;
    budget_tally.reused_cookie += fa_stack_counter(ss, FA_CNT_TCP_SYNCOOKIES_OK) > by_cookie;
    return ok ? 0 : fail(r, "the 4-tuple reused under a SYN flood did not carry its bytes");
}

/* ---- one run --------------------------------------------------------- */
static int errors_allowed(const struct run *r)
{
    return r->broke_at != FA_TIME_NEVER;
}

/* Side i closed while its peer's reader sat in a long pause behind a
 * shut window: its orphan gave up on the window (config
 * tcp_orphan_retries, as Linux's orphans do) and what it held is lost;
 * the peer hears its RST (or, that lost, a reset when it next sends). */
static int orphan_gave_up(const struct run *r, int i)
{
    /* (A fresh count gives up about 100 s after the window shut: nine
     * probes backing off from the 200 ms least RTO. But the count runs
     * from the close across every shut spell until a segment's worth is
     * taken: seed 38544's orphan probed once at 0.4 s, eight times from
     * 3.5 s, and gave up at 54.5 s, inside a 60 s pause. The pauses drawn
     * jump from 5 s to 60 s.) */
    return r->pr.sd[!i].read_pause >= 60 * S &&
           fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TCP_ORPHAN_WINDOW_SHUT) > 0;
}

/* Side i's orphan gave up its resends (R2, in time as Linux's) while
 * its timers ran 30 s or more late: tcp_orphan_retries' 102.2 s then
 * hold a resend or two, and those may be lost (attack seed 7454: timers
 * two minutes late, two resends lost on a 2 % link, gone at 204 s) —
 * what it held is lost, as with Linux's. */
static int orphan_timed_out_late(const struct run *r, int i)
{
    return r->e[i].closed && sim_draw_timer_lag(r->seed, i) >= 30 * S &&
           fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TCP_ABORT_ON_TIMEOUT) >
               r->aborts_at_close[i];
}

/* Side i's connection went without a reset reaching the peer (it
 * aborted, its lingering close ran out or its orphan gave up, and the RST
 * was lost or, not exactly at the peer's RCV.NXT, drew a challenge ACK
 * (RFC 5961 §3.2) that reached only the listener; or its orphan ended
 * silently by a timeout: FIN-WAIT-2's limit, seed 48545), and its listener
 * was in cookie mode: an ACK that fails the cookie check is dropped
 * there, not reset (tcp_in.c, the price README names), so the peer's
 * retransmissions go unanswered and it times out — which the failed
 * checks counted after side i's close must show. */
static int gone_behind_cookies(const struct run *r, int i)
{
    int timed_out = r->e[i].closed && fa_stack_counter(fa_sim_stack(r->sim, i),
                                                       FA_CNT_TCP_TIMEOUTS) > r->timeouts_at_close[i];
    int gone = orphan_gave_up(r, i) || r->e[i].linger_reset || timed_out ||
               (r->pr.ending == ABORT_ONE && r->pr.aborter == i && r->broke_at != FA_TIME_NEVER);
    struct fa_stack *st = fa_sim_stack(r->sim, i);
    /* ...or the ACK passed the check: a late ACK bearing the handshake's
     * numbers (a challenge ACK to an RST that overtook the data, a
     * duplicate ACK) reopened the 4-tuple by cookie after the close, and
     * the peer, its stream ahead of that ghost's, finds every answer
     * unacceptable (RFC 9293 §3.10.7.4) and times out. */
    return gone && (fa_stack_counter(st, FA_CNT_TCP_SYNCOOKIES_FAILED) >
                        r->cookie_failed_at_close[i] ||
                    fa_stack_counter(st, FA_CNT_TCP_SYNCOOKIES_OK) > r->cookie_ok_at_close[i]);
}

/* The client's connection was answered by a SYN cookie and its ACK
 * dropped — for a full accept queue (as Linux does), or by the network —
 * so the server never learnt of it (RFC 4987 §3.6's price, tcp_in.c
 * cookie_ack), and the client's next word came past the cookie's life
 * (128 to 192 s): it had nothing to say (apps seed 12865, a keepalive
 * probe run late), or its resends run minutes late (seed 88009: one
 * dropped for the queue again at 129 s, the next at 226 s; attack seed
 * 8639: the ACK lost, the resend 159 s later). The listener then
 * resets it (sim_cookie_outlived). */
static int lost_behind_dropped_cookie(const struct run *r)
{
    return sim_cookie_outlived(r->sim, r->seed, r->e[1].sock != NULL, r->pr.sd[0].bytes,
                               r->cookie_misses);
}

/* A sender with data waiting, nothing in flight and room in the window
 * the peer offered (from SND.UNA) sends within a few RTOs: the override
 * timeout of RFC 9293 §3.8.6.2.1 is 0.1-1.0 s (RFC 1122 §4.2.3.4). A
 * review found it ran on the zero-window probes' backed-off timer, up
 * to a minute; the liveness check (10 minutes) could not see that. */
static int sender_idle(struct run *r, fa_time now)
{
    for (int k = 0; k < 2; k++) {
        struct end *e = &r->e[k];
        struct fa_tcp_info i;
        int able = 0;
        if (e->sock && !e->closed) {
            fa_tcp_get_info(e->sock, &i);
            uint32_t out = i.snd_nxt - i.snd_una;
            able = (i.state == FA_TCP_ESTABLISHED || i.state == FA_TCP_CLOSE_WAIT) &&
                   out == 0 && i.send_queued > out && i.snd_wnd > 0;
        }
        if (!able) {
            e->able_since = FA_TIME_NEVER;
            continue;
        }
        if (e->able_since == FA_TIME_NEVER)
            e->able_since = now;
        if (now - e->able_since > 2 * i.rto + 2 * S + r->lag) {
            char msg[128];
            snprintf(msg, sizeof msg, "side %d waited %.1f s to send into a window of %u bytes", k,
                     (double)(now - e->able_since) / S, i.snd_wnd);
            return fail(r, msg);
        }
    }
    return 0;
}

static int synchronized(const struct fa_tcp_info *i)
{
    switch (i->state) {
    case FA_TCP_ESTABLISHED: case FA_TCP_FIN_WAIT_1: case FA_TCP_FIN_WAIT_2:
    case FA_TCP_CLOSE_WAIT: case FA_TCP_CLOSING: case FA_TCP_LAST_ACK:
        return 1;
    default:
        return 0;
    }
}

/* Once both ends are synchronized: the options the SYNs offered were
 * agreed the same way at both (RFC 7323 §1.3 and §3.2, RFC 2018 §2):
 * each end's send shift is the other's receive shift, SACK and
 * timestamps on at both or neither. (Review: a crossed SYN that kept our
 * window scale when the peer's SYN had none passed every other check.) */
static int check_agreement(struct run *r)
{
    if (r->agreed || !end_open(r, 0) || !end_open(r, 1) || r->e[0].closed || r->e[1].closed)
        return 0;
    struct fa_tcp_info a, b;
    fa_tcp_get_info(r->e[0].sock, &a);
    fa_tcp_get_info(r->e[1].sock, &b);
    if (!synchronized(&a) || !synchronized(&b))
        return 0;
    r->agreed = 1;
    if (a.snd_wscale == b.rcv_wscale && b.snd_wscale == a.rcv_wscale && a.sack == b.sack &&
        a.timestamps == b.timestamps)
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "the ends disagree: client wscale %u/%u sack %u ts %u, server "
             "wscale %u/%u sack %u ts %u (send/receive)", a.snd_wscale, a.rcv_wscale, a.sack,
             a.timestamps, b.snd_wscale, b.rcv_wscale, b.sack, b.timestamps);
    return fail(r, msg);
}

static int check_errors(struct run *r)
{
    for (int i = 0; i < 2; i++) {
        int err = r->e[i].err;
        if (!err)
            continue;
        char msg[128];
        snprintf(msg, sizeof msg, "%s saw error %d", i ? "server" : "client", err);
        /* A timeout while the peer answers is never right; a reset only
         * once an application did what may cause one, or after the peer
         * closed (its orphan's FIN-WAIT-2 reclaimed, data after its
         * close) — the bytes of a clean ending must all have arrived even
         * so. (A lingering close's own ETIMEDOUT comes from close(), not
         * here.) */
        /* A reset is ECONNRESET, or EPIPE where the peer's FIN (or a
         * forged one) came first: a reset in CLOSE-WAIT (Linux's). */
        /* (In a simultaneous open an RST in SYN-RECEIVED, which came
         * from SYN-SENT, is "connection refused": RFC 9293 §3.10.7.4.) */
        int reset = err == ECONNRESET || err == EPIPE || (r->pr.simopen && err == ECONNREFUSED);
        if (reset && r->e[!i].closed)
            continue;
        if (reset && orphan_gave_up(r, !i))
            continue;
        /* (Where the router reported soft errors, a timeout may say the
         * last one: RFC 1122 §4.2.3.9.) */
        int timeout = err == ETIMEDOUT || (r->pr.router_gap && err == EHOSTUNREACH) ||
                      (r->pr.router_gap && err == ENETUNREACH);
        if (timeout && gone_behind_cookies(r, !i))
            continue;
        if (reset && i == 0 && lost_behind_dropped_cookie(r)) {
            if (r->broke_at == FA_TIME_NEVER) /* the server's bytes never go */
                r->broke_at = fa_sim_now(r->sim);
            continue;
        }
        if (timeout || !errors_allowed(r) || !reset)
            return fail(r, msg);
    }
    return 0;
}

static int all_delivered(const struct run *r)
{
    for (int i = 0; i < 2; i++)
        if (!r->e[!i].shut_rd && r->e[!i].got != r->pr.sd[i].bytes && !orphan_gave_up(r, i) &&
            !orphan_timed_out_late(r, i))
            return 0;
    return 1;
}

static int drive(struct run *r)
{
    const fa_time limit = r->start + 4 * 3600 * S + 100 * r->lag;
    while (!(r->e[0].closed && r->e[1].closed) && fa_sim_now(r->sim) < limit) {
        step(r);
        fa_time now = fa_sim_now(r->sim);
        /* (What the last turn injected, this step delivered.) */
        if (r->flooded && flood_bounded(r) < 0)
            return -1;
        accept_all(r, now);
        if (connect_second(r, now) < 0)
            return -1;
        if (now >= r->next_router) {
            router_error(r);
            r->next_router = now + (fa_time)(fa_prng_below(&r->router_prng,
                                                           2 * r->pr.router_gap) + 1);
        }
        if (r->pr.attack && now >= r->next_attack) {
            /* A flood is bounded, so a slow transfer stays a short run. */
            if (r->e[1].sock && r->forged < MAX_FORGED && forge_one(r, now) < 0)
                return -1;
            r->next_attack = now + (fa_time)(fa_prng_below(&r->prng, 2 * r->pr.attack_gap) + 1);
        }
        for (int i = 0; i < 2; i++) {
            if (!end_open(r, i) || r->e[i].closed || r->e[i].closing)
                continue;
            if (write_some(r, i, now) < 0 || read_some(r, i, now) < 0)
                return -1;
        }
        if (check_errors(r) < 0 || sender_idle(r, now) < 0)
            return -1;
        if (r->hs_fail[0])
            return fail(r, r->hs_fail);
        if (check_agreement(r) < 0)
            return -1;
        if (end_moves(r, now) < 0)
            return -1;
        /* A client that closed before the server accepted (it may not
         * even have connected): the server has nothing to wait for once
         * the client's stack stops sending. While it still may — its
         * handshake's ACK dropped at a full accept queue, and its resend
         * run two minutes late (apps seed 3532) — the server waits. */
        if (r->e[0].closed && r->client_closed_at == FA_TIME_NEVER)
            r->client_closed_at = now;
        if (!r->e[1].sock && r->client_closed_at != FA_TIME_NEVER &&
            now > r->client_closed_at + 10 * S && !client_still_sending(r))
            r->e[1].closed = 1;
        if (work_left(r) && !anyone_paused(r, now) && r->e[1].sock &&
            now - r->last_progress > STALL_LIMIT + 4 * r->lag && !errors_allowed(r))
            return fail(r, "stalled: 10 minutes without a byte moving, work left");
    }
    if (!(r->e[0].closed && r->e[1].closed))
        return fail(r, r->lag ? "the applications did not finish in 4 hours and 100 timer lags"
                              : "the applications did not finish in 4 hours");
    if (!errors_allowed(r) && !all_delivered(r))
        return fail(r, "a clean run ended with bytes missing");
    return 0;
}

static int run_one(struct run *r)
{
    if (setup(r) < 0)
        return fail(r, "cannot set up the simulator");
    r->start = r->last_progress = fa_sim_now(r->sim);
    r->next_attack = r->pr.attack ? r->pr.attack_gap : FA_TIME_NEVER;
    r->next_router = r->pr.router_gap ? r->pr.router_gap : FA_TIME_NEVER;
    int rc = drive(r);
    if (!rc && r->pr.attack)
        rc = reuse_tuple(r);
    fa_tcp_close(r->listener, fa_sim_now(r->sim));
    for (int i = 0; i < r->pr.extra_conns; i++)
        if (r->extra[i])
            fa_tcp_close(r->extra[i], fa_sim_now(r->sim));
    if (!rc && r->pr.attack) {
        /* TIME-WAIT under attack, then the budget. */
        for (int k = 0; k < 20 && !rc; k++) {
            fa_sim_run_until(r->sim, fa_sim_now(r->sim) + S);
            rc = forge_at_time_wait(r);
        }
        if (!rc)
            rc = challenge_budget_kept(r);
    }
    if (!rc) {
        fa_sim_run_until(r->sim, fa_sim_now(r->sim) + 3600 * S);
        fa_sim_check_idle(r->sim, 2);
    }
    if (!rc && fa_sim_check_violations(r->sim))
        rc = fail(r, fa_sim_check_first(r->sim));
    if (rc && r->verbose) {
        for (int i = 0; i < 2; i++)
            printf("  %s: sent %llu got %llu eof %d err %d closed %d\n", i ? "server" : "client",
                   (unsigned long long)r->e[i].sent, (unsigned long long)r->e[i].got,
                   r->e[i].eof, r->e[i].err, r->e[i].closed);
        sim_print_drops(r->sim);
    }
    for (int i = 0; i < 2; i++)
        budget_tally.dropped += fa_stack_counter(fa_sim_stack(r->sim, i), FA_CNT_TCP_NO_BUFFER);
    budget_tally.worlds += r->pr.sd[0].mem_max || r->pr.sd[1].mem_max;
    budget_tally.flooded += r->flooded;
    budget_tally.cookies += fa_stack_counter(fa_sim_stack(r->sim, 1), FA_CNT_TCP_SYNCOOKIES_SENT);
    family_tally_rtt(r->sim);
    fa_sim_destroy(r->sim);
    return rc;
}

int family_run(const char *family, uint64_t seed, int verbose, char *why, size_t why_len)
{
    static struct run r;
    memset(&r, 0, sizeof r);
    int attack = !strcmp(family, "attack");
    if (!attack && strcmp(family, "apps"))
        return -ENOENT;
    r.seed = seed;
    r.verbose = verbose;
    r.why = why;
    r.why_len = why_len;
    draw(seed, attack, &r.pr);
    sim_draw_middlebox(seed, &r.pr.down);
    r.lag = sim_timer_lag_max(seed);
    if (sim_draw_long_path(seed, &r.pr.link, &r.pr.down) || r.lag >= 30 * S)
        for (int i = 0; i < 2; i++) /* a run of hours says no more */
            r.pr.sd[i].bytes = sim_long_path_bytes(r.pr.sd[i].bytes, r.pr.sd[i].sndbuf,
                                                   r.pr.sd[!i].rcvbuf);
    draw_budgets(seed, &r.pr);
    draw_scoreboards(seed, &r.pr);
    draw_cc_switches(seed, &r.pr);
    draw_router(seed, &r.pr);
    draw_outage(seed, &r.pr);
    draw_simopen(seed, &r.pr);
    fa_prng_seed(&r.prng, seed ^ 0xd1ceull);
    fa_prng_seed(&r.icmp_prng, seed ^ 0x1c3e77ull);
    fa_prng_seed(&r.router_prng, seed ^ 0x7e5e7ull);
    if (verbose)
        describe(&r.pr, seed);
    return run_one(&r) < 0 ? -1 : 0;
}

int family_known(const char *family)
{
    return !strcmp(family, "apps") || !strcmp(family, "attack");
}
