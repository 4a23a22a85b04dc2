/* tcp_hystart.c — slow start with HyStart++ (RFC 9406), for every
 * congestion control: slow start grows by the bytes acknowledged (RFC
 * 5681 eq. (2), at most L = 8 segments per ACK) while the round's least
 * RTT stays near the last round's; when it rises by eta, Conservative
 * Slow Start grows a quarter as fast for CSS_ROUNDS rounds, then
 * congestion avoidance begins (ssthresh = cwnd). A round ends when the
 * data sent at its start is acknowledged. */
#include "tcp.h"

#define MIN_RTT_THRESH (4 * FA_NS_PER_MS)
#define MAX_RTT_THRESH (16 * FA_NS_PER_MS)
#define MIN_RTT_DIVISOR 8
#define N_RTT_SAMPLE 8
#define CSS_GROWTH_DIVISOR 4
#define CSS_ROUNDS 5
#define L_SEGMENTS 8 /* not paced */

/* RTTs as kept across rounds: 2^16 ns units, up to 4.29 s. */
#define HS_SHIFT 16
#define HS_NONE UINT16_MAX
static uint16_t hs_units(fa_time rtt)
{
    fa_time u = rtt >> HS_SHIFT;
    return u >= HS_NONE ? HS_NONE - 1 : (uint16_t)u;
}

void fa_tcp_hystart_rounds(struct fa_tcp *c)
{
    c->loss->hs = (struct fa_tcp_hystart){ .window_end = c->snd_nxt };
}

void fa_tcp_hystart_reset(struct fa_tcp *c)
{
    c->flags &= ~TF_HS_DONE;
    c->keep.hs_css_rounds = 0;
    c->keep.hs_last_round_min = c->keep.hs_cur_round_min = HS_NONE;
    c->keep.hs_css_baseline = 0;
    if (c->loss)
        fa_tcp_hystart_rounds(c);
}

static void round_start(struct fa_tcp *c, struct fa_tcp_hystart *h)
{
    h->window_end = c->snd_nxt;
    c->keep.hs_last_round_min = c->keep.hs_cur_round_min;
    c->keep.hs_cur_round_min = HS_NONE;
    h->samples = 0;
    if (c->keep.hs_css_rounds && ++c->keep.hs_css_rounds > CSS_ROUNDS) {
        c->ssthresh = c->cwnd; /* §4.3: into congestion avoidance */
        c->flags |= TF_HS_DONE;
    }
}

/* Slow start grows cwnd by inc, never past ssthresh (Linux's
 * tcp_slow_start; review: one ACK of a whole flight after an RTO took
 * cwnd from 1 MSS to 9, over an ssthresh of 7); congestion avoidance
 * takes it from there. */
static void slow_start_by(struct fa_tcp *c, uint32_t inc)
{
    uint32_t room = c->ssthresh > c->cwnd ? c->ssthresh - c->cwnd : 0;
    c->cwnd += inc < room ? inc : room;
}

void fa_tcp_hystart_ack(struct fa_tcp *c, uint32_t acked, fa_time rtt)
{
    struct fa_tcp_hystart *h = &c->loss->hs;
    uint32_t most = L_SEGMENTS * c->mss;
    uint32_t inc = acked < most ? acked : most;
    if (c->flags & TF_HS_DONE) {
        slow_start_by(c, inc); /* plain slow start (after an RTO) */
        return;
    }
    if (seq_ge(c->snd_una + acked, h->window_end))
        round_start(c, h);
    if (c->flags & TF_HS_DONE)
        return;
    if (rtt > 0) {
        if (hs_units(rtt) < c->keep.hs_cur_round_min)
            c->keep.hs_cur_round_min = hs_units(rtt);
        h->samples++;
    }
    if (c->keep.hs_css_rounds) {
        /* §4.2 in CSS: back to slow start if the RTT fell again. */
        if (c->keep.hs_cur_round_min < c->keep.hs_css_baseline)
            c->keep.hs_css_rounds = 0;
        else
            inc /= CSS_GROWTH_DIVISOR;
    } else if (h->samples >= N_RTT_SAMPLE && c->keep.hs_cur_round_min != HS_NONE &&
               c->keep.hs_last_round_min != HS_NONE) {
        fa_time last = (fa_time)c->keep.hs_last_round_min << HS_SHIFT;
        fa_time cur = (fa_time)c->keep.hs_cur_round_min << HS_SHIFT;
        fa_time eta = last / MIN_RTT_DIVISOR;
        if (eta < MIN_RTT_THRESH) eta = MIN_RTT_THRESH;
        if (eta > MAX_RTT_THRESH) eta = MAX_RTT_THRESH;
        if (cur >= last + eta) {
            c->keep.hs_css_baseline = c->keep.hs_cur_round_min;
            c->keep.hs_css_rounds = 1;
            fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_HYSTART_CSS);
            inc /= CSS_GROWTH_DIVISOR;
        }
    }
    slow_start_by(c, inc ? inc : 1);
}
