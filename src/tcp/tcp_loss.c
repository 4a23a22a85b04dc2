/* tcp_loss.c — loss detection beyond RFC 5681 and RFC 6582, after RFC
 * 8985 (RACK-TLP) as far as it goes without SACK. One timer, t_loss:
 *
 *  - In recovery, a retransmission is itself lost when duplicate ACKs
 *    still arrive an RTT (plus a reordering allowance) after it went —
 *    on an in-order path they come from segments sent after it — or when
 *    that long passes with no ACK covering it (the reordering timer,
 *    §6.3). NewReno alone waits an RTO (200 ms at least) for each.
 *  - Outside recovery, the tail loss probe (§7): when the last segments
 *    of a flight or the ACKs for them are lost, no duplicate ACK will
 *    ever come. After two SRTTs a probe segment draws an ACK that either
 *    acknowledges everything or starts fast recovery.
 *
 * Called from tcp_cc.c (retransmissions, duplicate ACKs), tcp_in.c (new
 * ACKs), tcp_out.c (new data sent) and tcp_timer.c (t_loss due). */
#include "tcp.h"

/* RFC 8985 §7.2: a single outstanding segment may wait for the peer's
 * delayed-ACK timer, up to 200 ms (RFC 5681 §4.2's bound)... */
#define WORST_CASE_DELACK (200 * FA_NS_PER_MS)
/* ...and no probe fires sooner than the timer granularity Linux uses. */
#define PTO_MIN (2 * FA_NS_PER_MS)

static fa_time reorder_wait(const struct fa_tcp *c)
{
    fa_time reo = c->srtt / 4 > FA_TCP_REO_WND_MIN ? c->srtt / 4 : FA_TCP_REO_WND_MIN;
    return c->srtt + reo;
}

/* Each repeat without progress doubles the wait. */
static void arm_reorder(struct fa_tcp *c, fa_time now)
{
    c->rexmit_at = now;
    c->t_loss = c->srtt ? now + (reorder_wait(c) << c->loss_shift) : FA_TIME_NEVER;
}

void fa_tcp_loss_retransmitted(struct fa_tcp *c, fa_time now)
{
    c->loss_shift = 0;
    arm_reorder(c, now);
}

void fa_tcp_loss_dupack_in_recovery(struct fa_tcp *c, fa_time now)
{
    if (c->srtt && now - c->rexmit_at > reorder_wait(c)) {
        fa_tcp_retransmit_first(c, now);
        arm_reorder(c, now);
    }
}

/* RFC 8985 §7.2: armed whenever new data goes and on each new ACK, while
 * data is outstanding, at most one probe per episode, and only if it
 * would fire before the RTO. */
void fa_tcp_loss_arm_probe(struct fa_tcp *c, fa_time now)
{
    if (c->flags & TF_RECOVERY)
        return;
    int synced = c->state != FA_TCP_SYN_SENT && c->state != FA_TCP_SYN_RECEIVED;
    if (!synced || !c->srtt || c->snd_una == c->snd_max || (c->flags & TF_PROBED)) {
        c->t_loss = FA_TIME_NEVER;
        return;
    }
    fa_time pto = 2 * c->srtt > PTO_MIN ? 2 * c->srtt : PTO_MIN;
    if (c->snd_max - c->snd_una <= c->mss)
        pto += WORST_CASE_DELACK;
    fa_time at = now + pto;
    c->t_loss = at < c->t_rexmit ? at : FA_TIME_NEVER;
}

void fa_tcp_loss_timeout(struct fa_tcp *c, fa_time now)
{
    if (c->snd_una == c->snd_max)
        return;
    if (c->flags & TF_RECOVERY) {
        /* §6.3: the retransmission's ACK is overdue: it was lost. */
        fa_tcp_retransmit_first(c, now);
        if (c->loss_shift < 6)
            c->loss_shift++;
        arm_reorder(c, now);
        return;
    }
    c->flags |= TF_PROBED;
    fa_count(c->stack, FA_CNT_TCP_LOSS_PROBES);
    fa_tcp_send_probe(c, now);
}
