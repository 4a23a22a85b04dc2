/* tcp_rtt.c — round-trip time estimation and the retransmission timeout
 * (RFC 6298). Samples come from the scoreboard (tcp_recovery.c: every ACK
 * of a segment sent once, Karn's rule) or the timestamps that resolve a
 * retransmission's ambiguity (RFC 7323 §4), and from the SYN's timing
 * (tcp_in.c). */
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
    if (r <= 0)
        r = 1;
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
