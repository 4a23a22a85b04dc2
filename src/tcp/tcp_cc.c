/* tcp_cc.c — round-trip time estimation and the retransmission timeout
 * (RFC 6298), and congestion control: slow start and congestion
 * avoidance (RFC 5681 §3.1), fast retransmit and NewReno fast recovery
 * (RFC 5681 §3.2, RFC 6582 §3.2). Called from tcp_in.c on ACKs and from
 * tcp_timer.c on a retransmission timeout. */
#include "tcp.h"

#define CLOCK_G FA_NS_PER_MS /* RFC 6298 §2: the clock granularity G */

/* RTO = SRTT + max(G, 4 RTTVAR), clamped (RFC 6298 §2.3-2.5). */
static void rto_from_estimate(struct fa_tcp *c)
{
    const struct fa_config *cfg = &c->stack->cfg;
    fa_time k = 4 * c->rttvar;
    c->rto = c->srtt + (k > CLOCK_G ? k : CLOCK_G);
    if (c->rto < cfg->tcp_rto_min) /* §2.4 */
        c->rto = cfg->tcp_rto_min;
    if (c->rto > cfg->tcp_rto_max) /* §2.5 */
        c->rto = cfg->tcp_rto_max;
}

void fa_tcp_rto_progress(struct fa_tcp *c)
{
    /* An ACK of new data proves the path works: drop the backoff and
     * use the estimate again, as Linux does, rather than keep a backed-off
     * RTO until a clean sample (RFC 6298 §5.7 with Karn's rule). With
     * small windows and lossy ACKs clean samples are rare, and each lost
     * ACK would cost the whole backed-off RTO, up to a minute, again. */
    if (c->srtt)
        rto_from_estimate(c);
}

void fa_tcp_rtt_sample(struct fa_tcp *c, fa_time r)
{
    if (c->srtt == 0) {
        /* §2.2: the first measurement. */
        c->srtt = r;
        c->rttvar = r / 2;
    } else {
        /* §2.3: RTTVAR first, with the old SRTT; beta 1/4, alpha 1/8. */
        fa_time diff = c->srtt > r ? c->srtt - r : r - c->srtt;
        c->rttvar = (3 * c->rttvar + diff) / 4;
        c->srtt = (7 * c->srtt + r) / 8;
    }
    rto_from_estimate(c);
}

static uint32_t flight_size(const struct fa_tcp *c)
{
    return c->snd_max - c->snd_una;
}

static uint32_t half_flight(const struct fa_tcp *c)
{
    /* RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
    uint32_t half = flight_size(c) / 2;
    return half > 2u * c->mss ? half : 2u * c->mss;
}

void fa_tcp_cc_init(struct fa_tcp *c)
{
    /* RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)). */
    uint32_t iw = 14600 > 2u * c->mss ? 14600 : 2u * c->mss;
    c->cwnd = iw < 10u * c->mss ? iw : 10u * c->mss;
    c->ssthresh = UINT32_MAX; /* RFC 5681 §3.1: arbitrarily high */
    c->recover = c->iss;
    c->dupacks = 0;
}

void fa_tcp_cc_ack(struct fa_tcp *c, uint32_t acked, fa_time now)
{
    if (c->flags & TF_RECOVERY) {
        if (seq_gt(c->snd_una, c->recover)) {
            /* RFC 6582 §3.2 step 3, full ACK: deflate the window. */
            uint32_t f = flight_size(c);
            uint32_t w = (f > c->mss ? f : c->mss) + c->mss;
            c->cwnd = w < c->ssthresh ? w : c->ssthresh;
            c->flags &= ~TF_RECOVERY;
            c->dupacks = 0;
            c->t_loss = FA_TIME_NEVER;
        } else {
            /* Step 5, partial ACK: the next hole is lost too. Resend it,
             * deflate by what was acked, add back one MSS. */
            fa_tcp_retransmit_first(c, now);
            fa_tcp_loss_retransmitted(c, now);
            c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
            if (acked >= c->mss)
                c->cwnd += c->mss;
            if (c->cwnd < c->mss)
                c->cwnd = c->mss;
        }
        return;
    }
    c->dupacks = 0;
    if (c->cwnd < c->ssthresh) {
        /* Slow start, RFC 5681 eq. (2). */
        c->cwnd += acked < c->mss ? acked : c->mss;
    } else {
        /* Congestion avoidance, eq. (3): about one MSS per RTT. */
        uint32_t inc = (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd);
        c->cwnd += inc ? inc : 1;
    }
}

/* RFC 5827 §3.1 (Early Retransmit): with fewer than four segments out
 * and no new segment allowed to go (nothing unsent, or no window), three
 * duplicates can never come; the threshold drops to one less than the
 * segments outstanding. Otherwise RFC 5681's three. */
static unsigned dupthresh(const struct fa_tcp *c)
{
    uint32_t flight = flight_size(c);
    uint32_t oseg = (flight + c->mss - 1) / c->mss;
    int can_send_new = c->snd.len > flight && fa_tcp_window_room(c) > 0;
    return oseg >= 2 && oseg < 4 && !can_send_new ? oseg - 1 : 3;
}

void fa_tcp_cc_dupack(struct fa_tcp *c, fa_time now)
{
    if (c->flags & TF_RECOVERY) {
        c->cwnd += c->mss; /* RFC 6582 step 4: inflate */
        fa_tcp_loss_dupack_in_recovery(c, now);
        return;
    }
    if (c->dupacks < UINT8_MAX)
        c->dupacks++;
    if (c->dupacks < dupthresh(c))
        return; /* RFC 3042: tcp_out may send a new segment meanwhile */
    /* RFC 6582 §3.2 step 2: only if this loss is past the last recovery. */
    if (!seq_gt(c->snd_una, c->recover))
        return;
    c->ssthresh = half_flight(c);
    c->recover = c->snd_max - 1;
    fa_tcp_retransmit_first(c, now);
    fa_tcp_loss_retransmitted(c, now);
    c->cwnd = c->ssthresh + 3u * c->mss;
    c->flags |= TF_RECOVERY;
}

void fa_tcp_cc_timeout(struct fa_tcp *c)
{
    /* RFC 5681 §3.1 eq. (4) and the loss window of one segment;
     * RFC 6582 §3.2 step 4 on a timeout: recover = highest sent. */
    c->ssthresh = half_flight(c);
    c->cwnd = c->mss;
    c->recover = c->snd_max - 1;
    c->flags &= ~TF_RECOVERY;
    c->dupacks = 0;
    c->t_loss = FA_TIME_NEVER;
}
