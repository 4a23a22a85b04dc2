/* tcp_rtt.c — round-trip time estimation and the retransmission timeout
 * (RFC 6298). Samples come from the scoreboard (tcp_recovery.c: every ACK
 * of a segment sent once, Karn's rule) or the timestamps that resolve a
 * retransmission's ambiguity (RFC 7323 §4), and from the SYN's timing
 * (tcp_in.c). */
#include "tcp.h"

#define CLOCK_G FA_NS_PER_MS /* RFC 6298 §2: the clock granularity G */
#define EIGHTH_US (FA_NS_PER_US / 8)

void fa_tcp_set_rto(struct fa_tcp *c, fa_time rto)
{
    uint64_t us = (rto + FA_NS_PER_US - 1) / FA_NS_PER_US;
    c->rto_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* RTO = SRTT + max(G, 4 RTTVAR), clamped (RFC 6298 §2.3-2.5). */
static void rto_from_estimate(struct fa_tcp *c)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    /* §2.3's max(G, K*RTTVAR) with tcp_rto_min as its floor, as Linux
     * floors the variance term (tcp_set_rto): the RTO is at least SRTT +
     * 200 ms. Flooring the sum (§2.4 read literally) let a steady path of
     * 300 ms time out at 301 ms on a delayed ACK (review). */
    fa_time k = 4 * (fa_time)c->rttvar8 * EIGHTH_US;
    if (k < CLOCK_G)
        k = CLOCK_G;
    if (k < cfg->tcp_rto_min)
        k = cfg->tcp_rto_min;
    fa_time rto = fa_tcp_srtt(c) + k;
    if (rto > cfg->tcp_rto_max) /* §2.5 */
        rto = cfg->tcp_rto_max;
    fa_tcp_set_rto(c, rto);
}

void fa_tcp_rto_progress(struct fa_tcp *c)
{
    /* An ACK of new data proves the path works: drop the backoff and
     * use the estimate again, rather than keep a backed-off RTO until a
     * clean sample (RFC 6298 §5.7 with Karn's rule). With small windows
     * and lossy ACKs clean samples are rare, and each lost ACK would cost
     * the whole backed-off RTO, up to two minutes, again. Linux keeps the
     * backoff until a valid sample ("only reset backoff on valid RTT
     * measurement"), but takes samples from timestamps' echoes of
     * retransmissions too; a review pointed out this differs. */
    if (c->srtt8)
        rto_from_estimate(c);
}

void fa_tcp_min_rtt_take(struct fa_tcp *c, fa_time rtt)
{
    if (fa_tcp_rtt32(rtt) < c->keep.min_rtt)
        c->keep.min_rtt = fa_tcp_rtt32(rtt);
}

/* source: enum fa_rtt_source, for the trace hook. */
void fa_tcp_rtt_sample(struct fa_tcp *c, fa_time rtt, int source, fa_time now)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    if (cfg->tcp_rtt_trace)
        cfg->tcp_rtt_trace(cfg->tcp_trace_ctx, c, rtt, source, now);
    /* RACK's least RTT (RFC 8985 §6.2: the connection's) takes the
     * handshake's too, as Linux's tcp_update_rtt_min (review: it began
     * at the first data; tcp_recovery.c adds RACK's own). */
    fa_tcp_min_rtt_take(c, rtt);
    /* In eighths of a µs, at least one, at most 536 s. */
    uint64_t r = (rtt + EIGHTH_US - 1) / EIGHTH_US;
    if (r < 1)
        r = 1;
    if (r > UINT32_MAX)
        r = UINT32_MAX;
    if (c->srtt8 == 0) {
        /* §2.2: the first measurement. */
        c->srtt8 = (uint32_t)r;
        c->rttvar8 = (uint32_t)(r / 2);
    } else {
        /* §2.3: RTTVAR first, with the old SRTT; beta 1/4, alpha 1/8.
         * Rounded up: truncating in 125 ns units would hold SRTT up to
         * 875 ns below a steady RTT and the RTO short; up, it errs long,
         * by less than a µs, the safe way. */
        uint64_t srtt = c->srtt8, diff = srtt > r ? srtt - r : r - srtt;
        c->rttvar8 = (uint32_t)((3 * (uint64_t)c->rttvar8 + diff + 3) / 4);
        c->srtt8 = (uint32_t)((7 * srtt + r + 7) / 8);
    }
    rto_from_estimate(c);
}
