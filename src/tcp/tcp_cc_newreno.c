/* tcp_cc_newreno.c — NewReno's window arithmetic (RFC 5681 §3.1, RFC
 * 6582): slow start (with HyStart++, tcp_hystart.c), congestion avoidance
 * of about one MSS per round trip, half the flight on a loss. The fast
 * recovery around it (which segment to resend, how much may go) is
 * tcp_recovery.c's; only the numbers are here. */
#include "tcp.h"

static void nr_init(struct fa_tcp *c)
{
    c->cwnd = fa_tcp_initial_window(c);
    c->ssthresh = UINT32_MAX; /* RFC 5681 §3.1: arbitrarily high */
    fa_tcp_hystart_reset(c);
    if (c->loss) /* a switch while busy: CUBIC's time left it stale (review) */
        c->loss->ca_frac = 0;
}

static void nr_on_ack(struct fa_tcp *c, uint32_t acked, fa_time rtt, fa_time now)
{
    (void)now;
    if (c->cwnd < c->ssthresh) {
        fa_tcp_hystart_ack(c, acked, rtt); /* eq. (2), paced by HyStart++ */
        return;
    }
    /* Congestion avoidance, eq. (3), counted in bytes (RFC 3465): one
     * MSS per cwnd of data acknowledged, the remainder carried to the
     * next ACK — never rounded up (review: 1448 ACKs of a byte each, ACK
     * division, grew cwnd a whole MSS; RFC 5681 §3.1). */
    c->cwnd += fa_tcp_ca_growth((uint64_t)c->mss * acked, &c->loss->ca_frac, c->cwnd);
}

/* RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 * SMSS) — of the
 * flight no larger than cwnd, as CUBIC takes it: with SACK, SND.NXT -
 * SND.UNA also holds what was SACKed beyond a hole that lasts, and half
 * of that (megabytes, 4 MiB buffers at 10 % loss) let cwnd run to 1.3 MB
 * (sim_goodput: NewReno 8.0 Mbit/s against Mathis's 0.9). */
static void nr_on_loss(struct fa_tcp *c, fa_time now)
{
    (void)now;
    uint32_t flight = c->snd_nxt - c->snd_una;
    uint32_t half = (flight < c->cwnd ? flight : c->cwnd) / 2;
    c->ssthresh = half > fa_tcp_cwnd_floor(c) ? half : fa_tcp_cwnd_floor(c);
    /* The remainder was of the old, larger window: counted against the
     * smaller one it would grow it faster (as Linux clears snd_cwnd_cnt
     * in tcp_init_cwnd_reduction; the simulator's cwnd invariant saw a
     * byte's ACK grow cwnd by two). */
    c->loss->ca_frac = 0;
}

static void nr_on_rto(struct fa_tcp *c, int reduce, fa_time now)
{
    if (reduce)
        nr_on_loss(c, now);
    c->cwnd = c->mss; /* the loss window */
    c->loss->ca_frac = 0;
}

static void nr_nothing(struct fa_tcp *c)
{
    (void)c;
}

static void nr_on_idle(struct fa_tcp *c, fa_time now)
{
    (void)c;
    (void)now;
}

const struct fa_tcp_cc_ops fa_tcp_cc_newreno = {
    .name = "newreno",
    .init = nr_init,
    .on_ack = nr_on_ack,
    .on_loss = nr_on_loss,
    .on_rto = nr_on_rto,
    .on_undo = nr_nothing,
    .on_idle = nr_on_idle,
};
