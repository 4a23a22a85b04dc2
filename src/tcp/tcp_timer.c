/* tcp_timer.c — TCP timers without a per-tick scan: each connection keeps
 * absolute deadlines for its timers (retransmission, persist, delayed
 * ACK, keepalive, close: TIME-WAIT, FIN-WAIT-2, linger) and sits in a
 * binary min-heap keyed by the earliest of them. fa_tcp_poll() pops only
 * the connections that are due. Compact TIME-WAIT entries expire in FIFO
 * order (tcp_tw.c). */
#include <errno.h>

#include "tcp.h"

static fa_time conn_key(const struct fa_tcp *c)
{
    fa_time k = c->t_rexmit;
    if (c->t_persist < k) k = c->t_persist;
    if (c->t_delack < k) k = c->t_delack;
    fa_time tk = fa_tcp_t_keep(c);
    if (tk < k) k = tk;
    if (c->t_close < k) k = c->t_close;
    fa_time tl = fa_tcp_t_loss(c);
    if (tl < k) k = tl;
    return k;
}

/* The heap holds each entry's key beside it, so sifting compares within
 * the array and never touches the control blocks it passes. */
static void heap_set(struct fa_tcp_stack *t, uint32_t i, struct fa_tcp_timer_slot e)
{
    t->heap[i] = e;
    e.c->heap_idx = i;
}

static void sift_up(struct fa_tcp_stack *t, uint32_t i)
{
    struct fa_tcp_timer_slot e = t->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (t->heap[parent].key <= e.key)
            break;
        heap_set(t, i, t->heap[parent]);
        i = parent;
    }
    heap_set(t, i, e);
}

static void sift_down(struct fa_tcp_stack *t, uint32_t i)
{
    struct fa_tcp_timer_slot e = t->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        fa_time mk = e.key;
        if (l < t->heap_len && t->heap[l].key < mk) {
            m = l;
            mk = t->heap[l].key;
        }
        if (r < t->heap_len && t->heap[r].key < mk)
            m = r;
        if (m == i)
            break;
        heap_set(t, i, t->heap[m]);
        i = m;
    }
    heap_set(t, i, e);
}

void fa_tcp_timer_remove(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    uint32_t i = c->heap_idx;
    if (i == UINT32_MAX)
        return;
    c->heap_idx = UINT32_MAX;
    struct fa_tcp_timer_slot last = t->heap[--t->heap_len];
    if (i == t->heap_len)
        return;
    heap_set(t, i, last);
    sift_up(t, i);
    sift_down(t, last.c->heap_idx);
}

void fa_tcp_timer_update(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    fa_time k = conn_key(c);
    if (k == FA_TIME_NEVER) {
        fa_tcp_timer_remove(c);
        return;
    }
    if (c->heap_idx == UINT32_MAX) {
        heap_set(t, t->heap_len++, (struct fa_tcp_timer_slot){ k, c });
        sift_up(t, c->heap_idx);
    } else {
        t->heap[c->heap_idx].key = k;
        sift_up(t, c->heap_idx);
        sift_down(t, c->heap_idx);
    }
}

fa_time fa_tcp_next_timer(const struct fa_tcp *c)
{
    return c->heap_idx == UINT32_MAX ? FA_TIME_NEVER : fa_tcp_stack_of(c)->tcp->heap[c->heap_idx].key;
}

void fa_tcp_arm_rexmit(struct fa_tcp *c, fa_time now)
{
    c->t_rexmit = now + fa_tcp_rto(c);
}

/* In a synchronized state, the peer's window ends at or before SND.UNA. */
static int window_closed(const struct fa_tcp *c)
{
    return c->state != FA_TCP_SYN_SENT && c->state != FA_TCP_SYN_RECEIVED &&
           !seq_gt(c->snd_wl2 + c->snd_wnd, c->snd_una);
}

static uint8_t retry_limit(const struct fa_tcp *c)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    if (c->state == FA_TCP_SYN_SENT)
        return cfg->tcp_syn_retries;
    if (c->state == FA_TCP_SYN_RECEIVED)
        return cfg->tcp_synack_retries;
    /* An orphan (nobody waits for it) gives up sooner, as Linux's
     * tcp_orphan_retries (review: a dead peer held one 11 minutes). */
    if (fa_tcp_orphan(c) && cfg->tcp_orphan_retries &&
        cfg->tcp_orphan_retries < cfg->tcp_data_retries)
        return cfg->tcp_orphan_retries;
    return cfg->tcp_data_retries;
}

/* How long n timeouts take from an RTO of 200 ms, doubling up to
 * tcp_rto_max (Linux's tcp_model_timeout): 924.6 s for 15 with Linux's
 * 120 s, 102.2 s for an orphan's 8. From 200 ms whatever tcp_rto_min
 * is, as Linux's TCP_RTO_MIN there (review: a tcp_rto_min of 1 ms made
 * an orphan give up in 3 s, under RFC 9293 §3.8.3's 100 s). */
#define R2_RTO_BASE (200 * FA_NS_PER_MS)
static fa_time model_timeout(const struct fa_config *cfg, unsigned n)
{
    fa_time t = 0, rto = R2_RTO_BASE;
    for (unsigned k = 0; k <= n; k++) {
        t += rto;
        rto = rto * 2 < cfg->tcp_rto_max ? rto * 2 : cfg->tcp_rto_max;
    }
    return t;
}

/* RFC 9293 §3.8.3 R2, in time as Linux's retransmits_timed_out: a
 * synchronized connection gives up once its unacknowledged data has
 * waited as long as its retries would take from an RTO of 200 ms — so a
 * long RTO (no sample yet: 1 s; a slow path) retries fewer times, not
 * for longer (counted, an orphan's 8 from a 1 s RTO took 367 s with a
 * 120 s ceiling; Linux's 127 s). Called at a timeout that is not the
 * run's first. */
static int r2_timed_out(const struct fa_tcp *c, fa_time now)
{
    if (!c->loss || !c->loss->rexmit_since)
        return 0;
    return now - c->loss->rexmit_since >= model_timeout(&fa_tcp_stack_of(c)->cfg, retry_limit(c));
}

/* RFC 9293 §3.8.3 R2, after the timeout just counted. A handshake
 * counts its resends (tcp_syn_retries, tcp_synack_retries); a
 * synchronized connection gives up by time alone once its run of
 * timeouts is stamped, as Linux's retransmits_timed_out: the retries
 * are how long from 200 ms (model_timeout), not how many — with an RTO
 * under 200 ms (tcp_rto_min lowered, a short path) the count ran out
 * first: an orphan with a 30 ms RTO went after 15 s, under R2's 100 s
 * (found when the unit tests' handshakes began to be timed). */
static int give_up(const struct fa_tcp *c, int synced, fa_time now)
{
    if (!synced)
        return c->retries > retry_limit(c);
    /* The first timeout of a run always resends, as Linux's (its
     * retransmits_timed_out is false before one): tcp_data_retries 0
     * gave up with nothing resent (review). The run's stamp is set then. */
    if (c->retries == 1)
        return 0;
    if (c->loss && c->loss->rexmit_since)
        return r2_timed_out(c, now);
    return c->retries > retry_limit(c);
}

/* RFC 6298 §5.4–5.7: retransmit the earliest unacknowledged segment,
 * back the timer off, start over from it (RFC 5681 §3.1 loss window,
 * RFC 6675 §5.1: what is not SACKed is resent, tcp_recovery.c).
 * Returns 1 if the connection was aborted. */
static int on_rexmit(struct fa_tcp *c, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    c->t_rexmit = FA_TIME_NEVER;
    if (window_closed(c)) {
        /* The peer closed its window on data we had sent (it took part,
         * or shrank the window): no loss, and no retry to count. All of
         * it is to go again once the window opens; probe the window
         * (on_persist) for as long as it answers. The peer answers: R2's
         * run starts again (review: a resend lost after 1,000 s of
         * answered probes found the run's stamp that old and gave up). */
        c->retries = 0;
        if (c->loss)
            c->loss->rexmit_since = 0;
        fa_tcp_rec_window_closed(c);
        fa_tcp_output(c, now);
        return 0;
    }
    /* What is out (data or a FIN alone, tcp_mem.c) has its loss state. */
    int synced = c->state != FA_TCP_SYN_SENT && c->state != FA_TCP_SYN_RECEIVED;
    if (c->retries < UINT8_MAX)
        c->retries++;
    if (give_up(c, synced, now)) {
        fa_count(s, FA_CNT_TCP_TIMEOUTS);
        if (synced)
            fa_count(s, FA_CNT_TCP_ABORT_ON_TIMEOUT);
        /* RFC 9293 §3.8.3 R2: give up. A half-open passive entry just
         * goes (L3); the application hears ETIMEDOUT. */
        fa_tcp_terminate(c, (c->flags & TF_PASSIVE) && c->state == FA_TCP_SYN_RECEIVED
                                ? 0 : -ETIMEDOUT, now);
        return 1;
    }
    if (synced && c->retries == 1 && c->loss) /* sent an RTO ago, at least a ns */
        c->loss->rexmit_since = now > fa_tcp_rto(c) ? now - fa_tcp_rto(c) : 1;
    fa_tcp_set_rto(c, fa_tcp_rto(c) * 2 < s->cfg.tcp_rto_max ? fa_tcp_rto(c) * 2 : s->cfg.tcp_rto_max);
    c->flags &= ~TF_SYN_TIMED; /* Karn: no sample from a retransmitted segment */
    if (c->state == FA_TCP_SYN_SENT || c->state == FA_TCP_SYN_RECEIVED) {
        fa_tcp_send_syn(c, 1, now);
        return 0;
    }
    fa_tcp_rec_rto(c, now); /* all not SACKed is lost; cwnd one segment */
    fa_tcp_output(c, now);
    if (c->t_rexmit == FA_TIME_NEVER && c->snd_una != c->snd_nxt)
        fa_tcp_arm_rexmit(c, now);
    return 0;
}

/* No application will read what the peer says or send more: a peer
 * that answers every probe with a zero window would hold the orphan and
 * its send buffer for ever. Once it has sent tcp_orphan_retries probes
 * since it became an orphan (answered or not; the count starts again
 * when a segment's worth is acknowledged: tcp_in.c), one more goes, and if
 * the answer — an RTO later, not a backed-off wait — still finds the
 * window shut, the orphan resets the connection (the peer is alive: it
 * answers) and ends. Returns 1 if it did. */
static int orphan_gives_up(struct fa_tcp *c, fa_time now)
{
    uint8_t limit = fa_tcp_stack_of(c)->cfg.tcp_orphan_retries;
    if (!limit || !fa_tcp_orphan(c) || c->orphan_probes <= limit)
        return 0;
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_ORPHAN_WINDOW_SHUT);
    fa_tcp_send_rst(c, now);
    fa_tcp_terminate(c, -ETIMEDOUT, now);
    return 1;
}

/* RFC 9293 §3.8.6.1: probe a zero window with a segment the receiver
 * must answer with its window; backs off, and never gives up while
 * answered (RFC 1122 §4.2.2.17): only tcp_data_retries probes in a row
 * with no ACK at all end the connection (check_ack resets the count, as
 * Linux's probes_out). The probe is SEQ = SND.UNA - 1, outside the
 * window, so it never sends a byte the window does not allow. Returns 1
 * if the connection was aborted. */
static int on_persist(struct fa_tcp *c, fa_time now)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    c->t_persist = FA_TIME_NEVER;
    if (fa_tcp_window_room(c) > 0) {
        /* A small window SWS avoidance would wait on: send into it. If
         * nothing could go (a FIN with no memory), wait on: the output
         * arms this timer again. */
        uint32_t nxt = c->snd_nxt;
        fa_tcp_send_small(c, now);
        if (c->snd_nxt == nxt && c->t_persist == FA_TIME_NEVER)
            fa_tcp_output(c, now);
        return 0;
    }
    if (fa_tcp_rec_next_lost(c) >= 0 && seq_gt(c->snd_wl2 + c->snd_wnd, c->snd_una)) {
        /* The window opened on what is to go again — if it reaches the
         * first of it; else probe on, with backoff. */
        uint64_t before = c->retransmits;
        fa_tcp_output(c, now);
        if (c->retransmits != before)
            return 0;
        c->t_persist = FA_TIME_NEVER;
    }
    if (c->persist_probes >= cfg->tcp_data_retries) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_TIMEOUTS);
        fa_tcp_terminate(c, -ETIMEDOUT, now);
        return 1;
    }
    if (orphan_gives_up(c, now))
        return 1;
    c->persist_probes++;
    fa_tcp_send_keep_probe(c, c->snd_una - 1, now);
    if (c->persist_shift < 10)
        c->persist_shift++;
    fa_time wait = fa_tcp_rto(c) << c->persist_shift;
    c->t_persist = now + (wait < cfg->tcp_rto_max ? wait : cfg->tcp_rto_max);
    if (cfg->tcp_orphan_retries && fa_tcp_orphan(c) &&
        ++c->orphan_probes > cfg->tcp_orphan_retries)
        c->t_persist = now + fa_tcp_rto(c); /* the last: its answer decides */
    return 0;
}

/* RFC 1122 §4.2.3.6: after idle, probe (SEQ = SND.NXT - 1, SND.NXT being
 * the highest sent, so the peer must ACK); after keep_cnt unanswered
 * probes, abort with ETIMEDOUT. */
static int on_keepalive(struct fa_tcp *c, fa_time now)
{
    if (c->keep_probes >= fa_tcp_so(c)->keep_cnt) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_TIMEOUTS);
        fa_tcp_terminate(c, -ETIMEDOUT, now);
        return 1;
    }
    c->keep_probes++;
    fa_tcp_send_keep_probe(c, c->snd_nxt - 1, now);
    /* The next probe an interval from this one, even if this one went
     * late (the timers were run late): the peer gets its time to answer. */
    fa_time next = now + (fa_time)fa_tcp_so(c)->keep_intvl_ms * FA_NS_PER_MS;
    fa_time due = fa_tcp_t_keep(c);
    if (due < next)
        c->last_rcv += next - due;
    return 0;
}

/* Keepalive's idle time counts from t at the earliest (fa_tcp_t_keep
 * follows from last_rcv): keepalive turned on at t. */
void fa_tcp_keepalive_from(struct fa_tcp *c, fa_time t)
{
    if (c->last_rcv < t)
        c->last_rcv = t;
    c->keep_probes = 0;
}

/* TIME-WAIT's 2 x MSL, an orphan's FIN-WAIT-2 limit, or SO_LINGER's. */
static int on_close_timer(struct fa_tcp *c, fa_time now)
{
    c->t_close = FA_TIME_NEVER;
    if (c->state == FA_TCP_TIME_WAIT) {
        fa_tcp_terminate(c, 0, now);
        return 1;
    }
    if ((c->flags & TF_LINGERING) && !(c->flags & TF_CLOSE_DONE)) {
        if (fa_tcp_rst_on_abort(c))
            fa_tcp_send_rst(c, now);
        /* The linger ran out, not the connection (RFC 1122 §4.2.3.9's
         * soft error is for that): close() says -ETIMEDOUT (review: a
         * soft ICMP error made it say 0, all acknowledged). */
        c->soft_err = 0;
        fa_tcp_terminate(c, -ETIMEDOUT, now);
        return 1;
    }
    if (c->state == FA_TCP_FIN_WAIT_2 && !(c->flags & TF_HANDLE)) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_TIMEOUTS);
        fa_tcp_terminate(c, 0, now);
        return 1;
    }
    return 0;
}

static void run_due(struct fa_tcp *c, fa_time now)
{
    if (c->t_delack <= now) {
        c->t_delack = FA_TIME_NEVER;
        if (fa_tcp_snd_len(c))
            fa_tcp_output(c, now); /* TCP_NODELAY turned on (tcp_api.c) */
        if (c->flags & TF_ACK_DELAYED)
            fa_tcp_send_ack(c, now);
    }
    if (fa_tcp_rec_probe_first(c, now))
        fa_tcp_rec_timeout(c, now); /* the probe re-arms the RTO */
    if (c->t_rexmit <= now && on_rexmit(c, now))
        return;
    if (fa_tcp_t_loss(c) <= now)
        fa_tcp_rec_timeout(c, now); /* tcp_recovery.c owns t_loss */
    if (c->t_persist <= now && on_persist(c, now))
        return;
    if (fa_tcp_t_keep(c) <= now && on_keepalive(c, now))
        return;
    if (c->t_close <= now && on_close_timer(c, now))
        return;
    fa_tcp_timer_update(c);
}

fa_time fa_tcp_next_due(const struct fa_stack *s)
{
    const struct fa_tcp_stack *t = s->tcp;
    fa_time next = t->heap_len ? t->heap[0].key : FA_TIME_NEVER;
    fa_time tw = fa_tcp_tw_next(s);
    return tw < next ? tw : next;
}

fa_time fa_tcp_poll(struct fa_stack *s, fa_time now)
{
    struct fa_tcp_stack *t = s->tcp;
    /* Every handler moves its deadline past now, so each connection is
     * run once; the bound only guards the loop against a future bug. */
    for (uint32_t n = 0; n < 4 * t->live + 16 && t->heap_len &&
                         t->heap[0].key <= now; n++)
        run_due(t->heap[0].c, now);
    fa_tcp_tw_poll(s, now);
    return fa_tcp_next_due(s);
}
