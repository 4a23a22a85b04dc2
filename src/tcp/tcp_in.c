/* tcp_in.c — SEGMENT ARRIVES (RFC 9293 §3.10.7), in the RFC's order:
 *
 *   fa_tcp_input        demultiplex: connection, TIME-WAIT, listener, none
 *   closed_input        §3.10.7.1 CLOSED
 *   listen_input        §3.10.7.2 LISTEN (passive_open; cookie_ack: an ACK
 *                       that returns a SYN cookie, tcp_syncookie.c)
 *   syn_sent_input      §3.10.7.3 SYN-SENT
 *   sync_input          §3.10.7.4 all other states, steps one to eight:
 *     crossed_synack    simultaneous open: the peer's SYN-ACK
 *     check_sequence    first: acceptability, trimming to the window
 *     check_rst         second: RST, with RFC 5961 §3.2
 *     check_syn         fourth: SYN, with RFC 5961 §4
 *     check_ack         fifth: ACK, with RFC 5961 §5.2
 *     process_text      seventh: segment text
 *     process_fin       eighth: FIN
 *
 * (Step three, security, does not apply; step six, URG, is ignored: the
 * urgent pointer is not supported, RFC 6093 advises against its use.)
 * RST and SYN are judged on the segment as it arrived, not as trimmed
 * (RFC 5961 §3.2, §4). Functions that may free the connection return 1
 * when they did. */
#include <errno.h>

#include "tcp.h"

/* RFC 5961 §7: challenge ACKs are rate-limited (tcp_ratelimit.c). */
static void challenge_ack(struct fa_tcp *c, fa_time now)
{
    if (fa_tcp_challenge_allowed(fa_tcp_stack_of(c), &c->keep.invalid_stamp, now))
        fa_tcp_send_ack(c, now);
}

/* RFC 9293 §3.10.7.4 "first": an unacceptable segment is answered with
 * an ACK. A bare one only once per interval: two ends that each find the
 * other's ACKs unacceptable would otherwise answer each other forever
 * (segments with data or FIN cannot loop: nobody answers with those). */
static void unacceptable_ack(struct fa_tcp *c, const struct fa_tcp_view *seg,
                             fa_time now)
{
    if (fa_tcp_seg_len(seg) == 0 &&
        !fa_tcp_invalid_allowed(fa_tcp_stack_of(c), &c->keep.invalid_stamp, now))
        return;
    fa_tcp_send_ack(c, now);
}

/* Options of the peer's SYN (tcp_opts.c); the initial window depends on
 * the MSS they leave. */
static void take_syn_options(struct fa_tcp *c, const struct fa_tcp_view *seg,
                             fa_time now)
{
    fa_tcp_opts_take_syn(c, seg, now);
    fa_tcp_cc(c)->init(c);
    fa_tcp_rec_start(c);
}

/* ---- §3.10.7.1 CLOSED ------------------------------------------------ */
static void closed_input(struct fa_stack *s, uint32_t laddr, uint32_t raddr,
                         const struct fa_tcp_view *seg, fa_time now)
{
    fa_count(s, FA_CNT_TCP_NO_LISTENER);
    fa_tcp_reset_for(s, laddr, raddr, seg, now);
}

/* ---- §3.10.7.2 LISTEN ------------------------------------------------ */
static void inherit_options(struct fa_tcp *c, const struct fa_tcp *l)
{
    fa_tcp_so_drop(c);
    fa_tcp_so_take(c, l->so);
    c->flags |= l->flags & (TF_NODELAY | TF_KEEPALIVE);
}

/* A connection replacing a TIME-WAIT entry starts above its sequence
 * space (RFC 1122 §4.2.2.13), as Linux does: old duplicates of the old
 * connection can then never look like new data. */
static void isn_above(struct fa_tcp *c, uint32_t floor)
{
    if (seq_gt(fa_tcp_iss(c), floor))
        return;
    c->snd_una = c->snd_nxt = floor + 65536; /* the ISS */
}

/* Connections waiting in l's accept queue (established, not accepted). */
static uint32_t accept_queued(const struct fa_tcp *l)
{
    return l->lst.queued;
}

static void sync_input(struct fa_tcp *c, struct fa_tcp_view *seg, fa_time now);
static struct fa_tcp *passive_open(struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                                   const struct fa_tcp_view *seg, fa_time now);

/* The connection's numbers and options become what the cookie's SYN-ACK
 * said: ISS and IRS, the MSS, window scale, SACK and timestamps. */
static void cookie_adopt(struct fa_tcp *c, const struct fa_tcp_cookie *k,
                         const struct fa_tcp_view *seg, fa_time now)
{
    c->snd_una = seg->ack - 1; /* the ISS */
    c->snd_nxt = c->snd_wl2 = seg->ack;
    c->rcv_nxt = k->irs + 1;
    /* The window the SYN-ACK offered (unscaled, as a SYN's is). */
    c->rcv_adv = c->rcv_nxt + (fa_tcp_so(c)->rcvbuf > 65535 ? 65535 : fa_tcp_so(c)->rcvbuf);
    c->snd_wl1 = k->irs;
    c->mss = fa_tcp_so(c)->user_mss ? fa_tcp_so(c)->user_mss : fa_tcp_mss_for_mtu(fa_tcp_stack_of(c));
    if (k->mss < c->mss)
        c->mss = k->mss;
    c->flags &= ~(TF_WSCALE | TF_SACK | TF_TS);
    c->rcv_wscale = fa_tcp_rcv_wscale_for(fa_tcp_stack_of(c), fa_tcp_so(c)->rcvbuf);
    if (k->wscale >= 0) {
        c->flags |= TF_WSCALE;
        c->snd_wscale = (uint8_t)k->wscale;
    } else {
        c->snd_wscale = c->rcv_wscale = 0;
    }
    if (k->sack)
        c->flags |= TF_SACK;
    c->last_ack_sent = c->rcv_nxt; /* what the SYN-ACK acknowledged */
    if (k->ts) {
        c->flags |= TF_TS;
        c->ts_recent = seg->opts.ts_val; /* RFC 7323 §4.3: as the SYN's would be */
        c->keep.ts_recent_sec = (uint32_t)(now / FA_NS_PER_S);
        c->mss = (uint16_t)(c->mss - 12); /* RFC 6691: options take room */
    }
    c->flags &= ~TF_SYN_TIMED; /* Karn: which SYN-ACK it answers is not known */
    /* ...but the echo of the SYN-ACK's TSval says (RFC 7323 §4.1, as
     * Linux's tcp_synack_rtt_meas for a cookie's child; without it the
     * RTO stayed 1 s until data was timed, found by finack-sim's
     * handshake check). Long by up to 63 ms — the TSval was rounded down
     * to carry the options — which errs the safe way. The echo was
     * checked (fa_tcp_cookie_check) to be no later than our clock. Not
     * from a keepalive probe (at the IRS), whose echo times the peer's
     * silence (review: srtt 60 s, RTO 120 s; Linux opens nothing by a
     * probe). */
    if (k->ts && seg->seq != k->irs) {
        uint32_t ago = fa_tcp_ts_val(c, now) - seg->opts.ts_ecr;
        fa_tcp_rtt_sample(c, (fa_time)(ago ? ago : 1) * FA_NS_PER_MS, FA_RTT_COOKIE, now);
    }
    fa_tcp_cc(c)->init(c);
    fa_tcp_rec_start(c);
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_SYNCOOKIES_OK);
}

/* An ACK to a listener that returns a SYN cookie (tcp_syncookie.c): the
 * connection is made as the SYN-ACK promised (cookie_adopt) and then
 * takes the ACK (and any data or FIN on it) in SYN-RECEIVED, as a
 * connection with state would. 1 if it was a cookie's. */
static int cookie_ack(struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                      struct fa_tcp_view *seg, fa_time now)
{
    struct fa_tcp_cookie k;
    if (fa_tcp_cookie_check(l, laddr, raddr, seg, now, &k) < 0)
        return 0;
    /* As Linux: a full accept queue drops it; a peer that sends brings
     * the cookie back with its retransmission (one that waits for us to
     * speak is not found: the price RFC 4987 §3.6 names). */
    if (accept_queued(l) >= l->lst.backlog) {
        fa_count(fa_tcp_stack_of(l), FA_CNT_TCP_BACKLOG_FULL);
        return 1;
    }
    struct fa_tcp *c = passive_open(l, laddr, raddr, seg, now);
    if (!c)
        return 1;
    cookie_adopt(c, &k, seg, now);
    fa_tcp_set_state(c, FA_TCP_SYN_RECEIVED, now);
    if (seg->seq != c->rcv_nxt) {
        /* A keepalive probe brought the cookie (the handshake's ACK was
         * lost): the handshake ends as that ACK would have ended it,
         * then the probe is answered as any probe. */
        struct fa_tcp_view ack = *seg;
        ack.seq = c->rcv_nxt;
        ack.data_len = 0;
        ack.flags = FA_TCP_ACK;
        sync_input(c, &ack, now);
        if (c->state == FA_TCP_CLOSED)
            return 1;
    }
    sync_input(c, seg, now);
    return 1;
}

/* floor: the old SND.NXT of a TIME-WAIT entry this SYN reopens, or NULL.
 * Returns 1 if a connection was born. */
static int listen_input(struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                         struct fa_tcp_view *seg, const uint32_t *floor,
                         fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(l);
    if (seg->flags & FA_TCP_RST) { /* first: an RST is ignored */
        fa_count(s, FA_CNT_TCP_STRAY);
        return 0;
    }
    if (seg->flags & FA_TCP_ACK) { /* second: any ACK is bad here... */
        /* ...but one that returns our cookie. While cookies are in use
         * (one went in the last three minutes), an ACK that fails the
         * check is dropped, not reset — unlike Linux, which resets it:
         * it may be data behind a cookie ACK dropped for a full accept
         * queue (its SEQ past the ISN the cookie holds), and the peer's
         * retransmission of the first will bring the cookie again. The
         * price (README): a peer whose connection is gone hears nothing
         * and times out. */
        int cookies = s->cfg.tcp_syncookies && !(seg->flags & FA_TCP_SYN);
        if (cookies && cookie_ack(l, laddr, raddr, seg, now))
            return 1;
        if (cookies && fa_tcp_cookie_expired(l, laddr, raddr, seg, now))
            fa_count(s, FA_CNT_TCP_SYNCOOKIES_EXPIRED);
        if (cookies && l->lst.cookie_sent && now + 1 - l->lst.cookie_sent < 192 * FA_NS_PER_S) {
            fa_count(s, FA_CNT_TCP_SYNCOOKIES_FAILED);
            return 0;
        }
        fa_count(s, FA_CNT_TCP_STRAY);
        fa_tcp_reset_for(s, laddr, raddr, seg, now);
        return 0;
    }
    if (!(seg->flags & FA_TCP_SYN)) { /* fourth: anything else, drop */
        fa_count(s, FA_CNT_TCP_STRAY);
        return 0;
    }
    /* third: a SYN. The backlog bounds half-open plus unaccepted (L2),
     * tcp_max_half_open the stack's half-open ones. Past them a SYN
     * cookie answers without state (RFC 4987 §3.6) — not past the accept
     * queue: the application is behind. A SYN that reopens a TIME-WAIT
     * entry (RFC 6191: floor) gets no cookie (the entry stays until a
     * connection replaces it, and would take the cookie's ACK), so it
     * passes the listener's half-open share instead, as Linux's
     * tcp_conn_request lets it: a flood filling the backlog would keep
     * that 4-tuple out until the entry ended. Not the stack's bound: one
     * host could make tcp_max_timewait entries and reopen them all. */
    int stack_full = s->tcp->half_open >= s->cfg.tcp_max_half_open;
    int queue_full = accept_queued(l) >= l->lst.backlog;
    int full = stack_full || (floor ? queue_full : l->lst.pending >= l->lst.backlog);
    if (!floor && !queue_full && s->cfg.tcp_syncookies &&
        (full || s->cfg.tcp_syncookies == 2)) {
        fa_tcp_cookie_synack(l, laddr, raddr, seg, now);
        return 0;
    }
    if (full) {
        /* (A full accept queue is why, whenever it is: no cookie past it.) */
        fa_count(s, stack_full && !queue_full ? FA_CNT_TCP_HALF_OPEN_FULL
                                              : FA_CNT_TCP_BACKLOG_FULL);
        return 0;
    }
    struct fa_tcp *c = passive_open(l, laddr, raddr, seg, now);
    if (!c)
        return 0;
    if (floor)
        isn_above(c, *floor);
    /* "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS should be
     * selected and a SYN segment sent of the form
     * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>." Data in the SYN is not
     * queued; the peer sends it again once the connection exists. */
    c->rcv_nxt = c->rcv_adv = seg->seq + 1;
    take_syn_options(c, seg, now);
    c->snd_wnd = c->max_snd_wnd = seg->wnd; /* a SYN's window is unscaled */
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = fa_tcp_iss(c);
    fa_tcp_set_state(c, FA_TCP_SYN_RECEIVED, now);
    fa_tcp_send_syn(c, 0, now);
    return 1;
}

/* A connection born of listener l for seg's 4-tuple, in the hash, on
 * l's pending count; NULL (counted) without memory. */
static struct fa_tcp *passive_open(struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                                   const struct fa_tcp_view *seg, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(l);
    struct fa_tcp *c = fa_tcp_alloc(s);
    if (!c) {
        fa_count(s, FA_CNT_TCP_NO_MEMORY);
        return NULL;
    }
    inherit_options(c, l);
    c->laddr = laddr;
    c->lport = seg->dport;
    c->raddr = raddr;
    c->rport = seg->sport;
    c->flags |= TF_PASSIVE | TF_BOUND;
    if (fa_tcp_conn_setup(c, now) < 0) {
        fa_count(s, FA_CNT_TCP_NO_MEMORY);
        fa_tcp_free(c);
        return NULL;
    }
    c->parent = fa_tcp_ref(fa_tcp_stack_of(l)->tcp, l);
    l->lst.pending++;
    c->last_rcv = now;
    fa_tcp_hash_insert(c);
    return c;
}

/* ---- §3.10.7.3 SYN-SENT ---------------------------------------------- */
/* The SYN's round trip (data is timed from the scoreboard). Called with
 * the ACK that makes the connection ESTABLISHED: both callers checked
 * that it acknowledges our SYN. A SYN (or SYN-ACK) sent again is timed by
 * the echo of its timestamp, which says which one was answered (RFC 7323
 * §4.1, as Linux's tcp_ack_update_rtt; review: RFC 6298 §5.7's 3 s RTO
 * was taken instead), at least the clock's tick of 1 ms; an echo older
 * than the state's start is not one of ours. */
static void rtt_on_syn_acked(struct fa_tcp *c, const struct fa_tcp_view *seg, fa_time now)
{
    /* A simultaneous open's bare ACK answers our SYN-ACK, sent when the
     * peer's SYN came, not our SYN (its SYN-ACK, crossed, answers that):
     * timed from the SYN it says the SYN-ACK's wait too (review: our SYN
     * lost, the peer's 900 ms on, srtt 910 ms on a 10 ms path). Karn
     * (RFC 6298 §3): only the echo tells. */
    int synack_answered = c->state == FA_TCP_SYN_RECEIVED && !(c->flags & TF_PASSIVE) &&
                          !seg->crossed;
    if ((c->flags & TF_SYN_TIMED) && !synack_answered) {
        fa_tcp_rtt_sample(c, now - c->state_since, FA_RTT_CLOCK, now);
        c->flags &= ~TF_SYN_TIMED;
        return;
    }
    c->flags &= ~TF_SYN_TIMED;
    if ((!c->retransmits && !synack_answered) || !(c->flags & TF_TS) || !seg->opts.has_ts ||
        !seg->opts.ts_ecr)
        return;
    uint32_t ago = fa_tcp_ts_val(c, now) - seg->opts.ts_ecr;
    if (ago <= fa_tcp_ts_val(c, now) - fa_tcp_ts_val(c, c->state_since))
        fa_tcp_rtt_sample(c, (fa_time)(ago ? ago : 1) * FA_NS_PER_MS, FA_RTT_ECHO, now);
}

/* RFC 6298 §5.7: after a SYN (or SYN-ACK) timed out, data starts with
 * an RTO of 3 s ("MUST be re-initialized"), unless an RTT was measured. */
#define RTO_AFTER_SYN_TIMEOUT (3 * FA_NS_PER_S)

/* Quick-ACK mode, as Linux's (tcp_incr_quickack at the first data): the
 * connection's first in-order data segments are ACKed at once — for half
 * a buffer's worth of segments, at least 2, at most 15 ACKs (Linux's 16;
 * tcp_out.c spends one per ACK of new data) — so the sender's initial
 * window is not held a delayed ACK's time, nor a Nagle sender's second
 * write (write, write, read: RFC 9293 §3.8.6.3 allows the delay; the
 * kernel's users do not see it at the start). In an event loop the ACK
 * still waits for the batch's end, and rides on a reply given there; a
 * reply ends the mode (tcp_out.c, Linux's pingpong). */
#define QUICK_ACKS_MAX 15
void fa_tcp_quick_ack_mode(struct fa_tcp *c)
{
    uint32_t n = fa_tcp_so(c)->rcvbuf / (2u * c->mss);
    c->quick_acks = n < 2 ? 2 : n > QUICK_ACKS_MAX ? QUICK_ACKS_MAX : (uint8_t)n;
}

/* unscaled: the segment carried SYN, whose window is never scaled (RFC
 * 7323 §2.2). */
static void established(struct fa_tcp *c, const struct fa_tcp_view *seg,
                        int unscaled, fa_time now)
{
    c->snd_wnd = (uint32_t)seg->wnd << (unscaled ? 0 : c->snd_wscale);
    c->max_snd_wnd = c->snd_wnd > c->max_snd_wnd ? c->snd_wnd : c->max_snd_wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    rtt_on_syn_acked(c, seg, now);
    /* §5.7 asks it after "the timer expires": a SYN-ACK resent at once
     * for the peer's SYN again (syn_again) is no timeout (review: a
     * duplicated SYN gave a 3 s RTO), though it is a resend for Karn and
     * below. A timeout shows in the count of them, or, after a
     * simultaneous open (SYN-RECEIVED counts afresh), in the RTO backed
     * off (review: our SYN timed out, then the peer's came: 2 s). */
    if ((c->retries || fa_tcp_rto(c) > fa_tcp_stack_of(c)->cfg.tcp_rto_initial) &&
        !fa_tcp_srtt(c))
        fa_tcp_set_rto(c, RTO_AFTER_SYN_TIMEOUT);
    /* RFC 5681 §3.1: "If the SYN or SYN/ACK is lost, the initial window
     * used by a sender after a correctly transmitted SYN MUST be one
     * segment" (review: it was 10). */
    if (c->retransmits)
        c->cwnd = c->mss;
    c->retries = 0;
    c->soft_err = 0; /* the SYN was answered: the path works (as Linux's tcp_ack) */
    c->t_rexmit = FA_TIME_NEVER;
    fa_tcp_set_state(c, FA_TCP_ESTABLISHED, now);
    c->last_rcv = now; /* keepalive counts from here */
    if (c->flags & TF_SHUT_WR) /* closed in SYN-RECEIVED: the FIN may go now */
        fa_tcp_set_state(c, FA_TCP_FIN_WAIT_1, now);
}

/* A SYN-ACK whose TSecr is not one of our SYNs' TSvals — between the
 * first SYN's and now — answers no SYN of ours: Linux's
 * tcp_rcv_synsent_state_process resets it and stays in SYN-SENT
 * (PAWSActiveRejected; review: finack took any echo). A zero echo is a
 * peer that does not echo (RFC 7323 §3.2 allows it on a SYN-ACK only if
 * it sends no TSopt at all; Linux takes it). */
static int synack_echo_wrong(const struct fa_tcp *c, const struct fa_tcp_view *seg, fa_time now)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    if (!cfg->tcp_timestamps || !seg->opts.has_ts || !seg->opts.ts_ecr)
        return 0;
    uint32_t first = fa_tcp_ts_val(c, c->state_since);
    return seq_gt(first, seg->opts.ts_ecr) || seq_gt(seg->opts.ts_ecr, fa_tcp_ts_val(c, now));
}

static void syn_sent_input(struct fa_tcp *c, const struct fa_tcp_view *seg,
                           fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    int ack = (seg->flags & FA_TCP_ACK) != 0;
    /* first: an ACK that does not acknowledge our SYN (an old duplicate,
     * L4) is answered <SEQ=SEG.ACK><CTL=RST>; we stay in SYN-SENT. */
    if (ack && (seq_le(seg->ack, fa_tcp_iss(c)) || seq_gt(seg->ack, c->snd_nxt))) {
        fa_count(s, FA_CNT_TCP_BAD_ACK);
        fa_tcp_reset_for(s, c->laddr, c->raddr, seg, now);
        return;
    }
    /* second: RST. Acceptable only with an acceptable ACK (RFC 5961
     * §3.2 for SYN-SENT): the connection is refused (L6). */
    if (seg->flags & FA_TCP_RST) {
        if (!ack) {
            fa_count(s, FA_CNT_TCP_STRAY);
            return;
        }
        fa_count(s, FA_CNT_TCP_RST_IN);
        fa_tcp_terminate(c, -ECONNREFUSED, now);
        return;
    }
    if (!(seg->flags & FA_TCP_SYN)) { /* fifth: neither SYN nor RST */
        fa_count(s, FA_CNT_TCP_STRAY);
        return;
    }
    if (ack && synack_echo_wrong(c, seg, now)) {
        fa_count(s, FA_CNT_TCP_PAWS_DROPPED);
        fa_tcp_reset_for(s, c->laddr, c->raddr, seg, now);
        return;
    }
    /* fourth: SYN. */
    c->rcv_nxt = c->rcv_adv = seg->seq + 1; /* IRS + 1 */
    take_syn_options(c, seg, now);
    c->last_rcv = now;
    if (ack) {
        c->snd_una = seg->ack;
        /* "If SND.UNA > ISS (our SYN has been ACKed), change the
         * connection state to ESTABLISHED, form an ACK segment
         * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it." (L1) */
        established(c, seg, 1, now);
        c->flags |= TF_ACK_NOW;
        fa_tcp_output(c, now);
        fa_tcp_quick_ack_mode(c); /* after the handshake's own ACK */
        return;
    }
    /* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
     * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." (L5) */
    c->snd_wnd = c->max_snd_wnd = seg->wnd;
    c->snd_wl1 = seg->seq;
    fa_time began = c->state_since; /* our SYN's: its timing holds (tcp_out.c) */
    fa_tcp_set_state(c, FA_TCP_SYN_RECEIVED, now);
    c->state_since = began;
    c->retries = 0;
    fa_tcp_send_syn(c, 0, now);
}

/* ---- §3.10.7.4 other states ------------------------------------------ */

/* Simultaneous open (RFC 9293 §3.5 figure 8): in SYN-RECEIVED the peer's
 * SYN-ACK repeats the SYN we have; what is new is its ACK of ours. Drop
 * the SYN and go on, as if it were the ACK alone. */
static void crossed_synack(struct fa_tcp *c, struct fa_tcp_view *seg)
{
    if (c->state == FA_TCP_SYN_RECEIVED && (seg->flags & FA_TCP_SYN) &&
        (seg->flags & FA_TCP_ACK) && seg->seq == fa_tcp_irs(c) &&
        seq_lt(c->snd_una, seg->ack) && seq_le(seg->ack, c->snd_nxt)) {
        seg->flags &= (uint8_t)~FA_TCP_SYN;
        seg->seq++;
        seg->crossed = 1;
    }
}

/* In SYN-RECEIVED, the peer's SYN again (bare, or with data): our
 * SYN-ACK was lost. Resend it now rather than wait for our timer (as
 * Linux does). Returns 1 if it was that. */
static int syn_again(struct fa_tcp *c, const struct fa_tcp_view *seg, fa_time now)
{
    if (c->state != FA_TCP_SYN_RECEIVED || !(seg->flags & FA_TCP_SYN) || seg->seq != fa_tcp_irs(c))
        return 0;
    fa_tcp_send_syn(c, 1, now);
    return 1;
}

/* An old segment that ends exactly at RCV.NXT, with an ACK to use. */
static int ends_at_rcv_nxt(const struct fa_tcp *c, const struct fa_tcp_view *seg)
{
    uint32_t len = fa_tcp_seg_len(seg);
    return len && (seg->flags & FA_TCP_ACK) && !(seg->flags & FA_TCP_RST) &&
           seg->seq + len == c->rcv_nxt;
}

/* first: is the segment acceptable? Trims it to the window. Returns 0 to
 * go on, 1 to stop (handled or dropped). RCV.WND is the farthest right
 * edge ever advertised (rcv_adv): never beyond the buffer's space
 * (fa_tcp_window_field), and no further — a byte beyond what we offered
 * is one more place for a blind attacker to aim at. */
static int check_sequence(struct fa_tcp *c, struct fa_tcp_view *seg,
                          fa_time now)
{
    uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t len = fa_tcp_seg_len(seg);
    uint32_t seq = seg->seq;
    int in_wnd_start = seq_ge(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd);
    int in_wnd_end = seq_ge(seq + len - 1, c->rcv_nxt) &&
                     seq_lt(seq + len - 1, c->rcv_nxt + wnd);
    int ok = len == 0 ? (wnd == 0 ? seq == c->rcv_nxt
                                  : seq_ge(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd))
                      : wnd > 0 && (in_wnd_start || in_wnd_end);
    if (!ok && wnd == 0 && seq == c->rcv_nxt) {
        /* "special allowance should be made to accept valid ACKs, URGs,
         * and RSTs": keep the control part. The text and FIN cannot be
         * taken; like any unacceptable segment they are answered with an
         * ACK, which is what a zero-window probe asks for (§3.8.6.1). */
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_UNACCEPTABLE);
        seg->data_len = 0;
        seg->flags &= (uint8_t)~FA_TCP_FIN;
        c->flags |= TF_ACK_NOW;
        return 0;
    }
    if (!ok) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_UNACCEPTABLE);
        if (seg->flags & FA_TCP_RST)
            return 1;
        /* RFC 2883: a duplicate, its FIN too once we have it (Linux's
         * tcp_data_queue reports a FIN sent again: review). */
        uint32_t dup = seg->data_len +
                       ((seg->flags & FA_TCP_FIN) && (c->flags & TF_FIN_RCVD) ? 1u : 0u);
        if (dup && seq_lt(seq, c->rcv_nxt)) {
            uint32_t end = seq + dup;
            fa_tcp_dsack_note(c, seq, seq_lt(end, c->rcv_nxt) ? end : c->rcv_nxt);
        }
        if (syn_again(c, seg, now))
            return 1;
        if (c->state == FA_TCP_TIME_WAIT && (seg->flags & FA_TCP_FIN))
            c->t_close = now + 2 * fa_tcp_stack_of(c)->cfg.tcp_msl; /* L14 restart */
        if (seg->flags & FA_TCP_SYN) {
            challenge_ack(c, now); /* RFC 5961 §4: whatever its number */
            return 1;
        }
        if (ends_at_rcv_nxt(c, seg) && c->state != FA_TCP_TIME_WAIT) {
            /* A retransmission ending exactly at RCV.NXT — typically the
             * peer's FIN again, now carrying the ACK of ours. RFC 9293
             * drops it whole; like Linux (whose test takes a segment
             * ending at RCV.WUP) and BSD, its ACK field is still used,
             * else LAST-ACK waits a retransmission timeout for an ACK it
             * was given. Only this exact end: an attacker gains nothing
             * over an exact RST. */
            seg->data_len = 0;
            seg->flags &= (uint8_t)~FA_TCP_FIN;
            c->flags |= TF_ACK_NOW;
            return 0;
        }
        unacceptable_ack(c, seg, now);
        return 1;
    }
    /* Trim what lies before RCV.NXT (a retransmission overlapping what
     * we have) and what lies beyond the window. */
    if (seq_lt(seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - seq;
        if (seg->flags & FA_TCP_SYN) {
            seg->flags &= (uint8_t)~FA_TCP_SYN;
            skip--;
            seg->seq++;
        }
        if (skip > seg->data_len)
            skip = seg->data_len;
        fa_tcp_dsack_note(c, seg->seq, seg->seq + skip); /* RFC 2883 */
        seg->data += skip;
        seg->data_len -= skip;
        seg->seq += skip;
    }
    /* A FIN right after data that fills the window lies at its edge; it
     * is taken, as Linux does: it needs no room, and the peer would wait
     * a retransmission timeout to close (a bare FIN at a zero window is
     * refused above). */
    uint32_t room = c->rcv_nxt + wnd - seg->seq;
    if (seg->data_len > room) {
        seg->data_len = room;
        seg->flags &= (uint8_t)~FA_TCP_FIN; /* the FIN lies beyond too */
        c->flags |= TF_ACK_NOW;             /* say where the window ends */
    }
    return 0;
}

/* second: RST. RFC 5961 §3.2: only an RST exactly at RCV.NXT resets; one
 * elsewhere in the window is answered with a challenge ACK (L21). */
static int check_rst(struct fa_tcp *c, const struct fa_tcp_view *seg,
                     fa_time now)
{
    if (!(seg->flags & FA_TCP_RST))
        return 0;
    if (seg->seq != c->rcv_nxt) {
        challenge_ack(c, now);
        return 1;
    }
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_RST_IN);
    switch (c->state) {
    case FA_TCP_SYN_RECEIVED:
        /* From a passive open: back to LISTEN, i.e. this half-open entry
         * goes and the listener is untouched (L4). From an active open:
         * "connection refused". */
        fa_tcp_terminate(c, (c->flags & TF_PASSIVE) ? 0 : -ECONNREFUSED, now);
        break;
    case FA_TCP_ESTABLISHED:
    case FA_TCP_FIN_WAIT_1:
    case FA_TCP_FIN_WAIT_2:
        fa_tcp_terminate(c, -ECONNRESET, now);
        break;
    case FA_TCP_CLOSE_WAIT:
        /* The peer had closed and resets what we still sent: "broken
         * pipe", as Linux's tcp_reset (L20); recv() says end of stream. */
        fa_tcp_terminate(c, -EPIPE, now);
        break;
    default: /* CLOSING, LAST-ACK, TIME-WAIT */
        fa_tcp_terminate(c, 0, now);
    }
    return 1;
}

/* fourth: SYN in a synchronized state (RFC 5961 §4: challenge ACK). */
static int check_syn(struct fa_tcp *c, const struct fa_tcp_view *seg,
                     fa_time now)
{
    if (!(seg->flags & FA_TCP_SYN))
        return 0;
    if (syn_again(c, seg, now)) /* with data, it passed the first check */
        return 1;
    if (c->state == FA_TCP_SYN_RECEIVED && (c->flags & TF_PASSIVE)) {
        /* "return this connection to the LISTEN state and return" */
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_STRAY);
        fa_tcp_terminate(c, 0, now);
        return 1;
    }
    challenge_ack(c, now);
    return 1;
}

static int our_fin_acked(const struct fa_tcp *c)
{
    return (c->flags & TF_FIN_SENT) && c->snd_una == c->snd_nxt;
}

static void queue_for_accept(struct fa_tcp *c)
{
    struct fa_tcp *l = fa_tcp_parent(c);
    c->flags |= TF_QUEUED;
    l->lst.queued++;
    c->queue_next = 0;
    if (l->lst.accept_tail)
        l->lst.accept_tail->queue_next = fa_tcp_ref(fa_tcp_stack_of(l)->tcp, c);
    else
        l->lst.accept_head = c;
    l->lst.accept_tail = c;
    fa_tcp_notify(l);
}

/* An ACK that moves SND.UNA (after tcp_recovery.c took its meaning):
 * free acknowledged bytes, restart or stop the retransmission timer (RFC
 * 6298 §5.2, §5.3) and the tail loss probe's. */
static void ack_advances(struct fa_tcp *c, uint32_t ack, fa_time now)
{
    uint32_t acked = ack - c->snd_una;
    uint32_t queued = fa_tcp_snd_len(c), data = acked < queued ? acked : queued;
    if (data)
        fa_ring_consume(c->snd, data);
    if (data)
        fa_tcp_notify(c); /* send space freed */
    c->snd_una = ack;
    fa_tcp_rto_progress(c);
    c->retries = 0;
    /* The peer took a segment's worth since the count last restarted, at
     * once or a little at a time (a peer whose buffer is under an MSS never
     * acknowledges one at once): its window is not kept shut. A byte per
     * probe takes more probes than the limit: it would keep an orphan for
     * ever (tcp_timer.c). */
    uint32_t progress = (uint32_t)c->orphan_acked + acked;
    if (progress >= c->mss) {
        c->orphan_probes = 0;
        c->orphan_acked = 0;
    } else {
        c->orphan_acked = (uint16_t)progress;
    }
    c->soft_err = 0; /* the path works: an old ICMP soft error is stale */
    if (c->snd_una == c->snd_nxt)
        c->t_rexmit = FA_TIME_NEVER;
    else
        fa_tcp_arm_rexmit(c, now);
    /* All acknowledged and nothing waits (no data, no FIN due): no window
     * to probe either — a persist timer left from a closed window would
     * fire in FIN-WAIT-2 and find nothing to send. */
    if (c->snd_una == c->snd_nxt && !fa_tcp_snd_len(c) &&
        (!(c->flags & TF_SHUT_WR) || (c->flags & TF_FIN_SENT))) {
        c->t_persist = FA_TIME_NEVER;
        c->persist_shift = 0;
    }
    fa_tcp_rec_arm_probe(c, now);
    fa_tcp_snd_detach_idle(c); /* all acknowledged: give the storage back */
}

/* An acceptable segment shows the peer alive (RFC 1122 §4.2.3.6): the
 * keepalive idle time starts over. Junk that fails the first check, or
 * RFC 5961's RST, SYN and ACK checks, proves nothing. */
static void peer_alive(struct fa_tcp *c, fa_time now)
{
    c->last_rcv = now;
    c->keep_probes = 0;
}

/* fifth: the ACK field. unscaled: the segment arrived with SYN; carried:
 * it arrived with data or FIN (a zero-window probe stripped of its byte
 * is no duplicate ACK, RFC 5681 §2 (b)). Returns 1 when processing stops
 * here. */
static int check_ack(struct fa_tcp *c, const struct fa_tcp_view *seg,
                     int unscaled, int carried, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    if (!(seg->flags & FA_TCP_ACK)) {
        fa_count(s, FA_CNT_TCP_STRAY);
        return 1;
    }
    if (c->state == FA_TCP_SYN_RECEIVED) {
        struct fa_tcp_cookie k;
        if (!(seq_lt(c->snd_una, seg->ack) && seq_le(seg->ack, c->snd_nxt)) &&
            (c->flags & TF_PASSIVE) && c->parent && s->cfg.tcp_syncookies &&
            fa_tcp_cookie_check(fa_tcp_parent(c), c->laddr, c->raddr, seg, now, &k) == 0 &&
            k.irs == fa_tcp_irs(c)) {
            /* The peer took our cookie's SYN-ACK, not this connection's
             * (its SYN came again and found room): it becomes what the
             * cookie said, rather than reset a peer that is right. */
            cookie_adopt(c, &k, seg, now);
        }
        if (!(seq_lt(c->snd_una, seg->ack) && seq_le(seg->ack, c->snd_nxt))) {
            fa_count(s, FA_CNT_TCP_BAD_ACK);
            fa_tcp_reset_for(s, c->laddr, c->raddr, seg, now);
            return 1;
        }
        if ((c->flags & TF_PASSIVE) && c->parent &&
            accept_queued(fa_tcp_parent(c)) >= fa_tcp_parent(c)->lst.backlog) {
            /* As Linux: the ACK is dropped; the SYN-ACK's timer asks again. */
            fa_count(s, FA_CNT_TCP_BACKLOG_FULL);
            return 1;
        }
        established(c, seg, unscaled, now); /* L2, L5 */
        fa_tcp_quick_ack_mode(c);
        if ((c->flags & TF_PASSIVE) && c->parent)
            queue_for_accept(c);
    }
    /* RFC 5961 §5.2: acceptable only within [SND.UNA - MAX.SND.WND,
     * SND.NXT]; RFC 9293: an ACK of data not yet sent is answered with an
     * ACK and dropped — a challenge ACK, rate-limited as such. */
    if (seq_gt(seg->ack, c->snd_nxt) ||
        seq_lt(seg->ack, c->snd_una - c->max_snd_wnd)) {
        fa_count(s, FA_CNT_TCP_BAD_ACK);
        challenge_ack(c, now);
        return 1;
    }
    c->persist_probes = 0; /* the peer answers: zero-window probing goes on */
    peer_alive(c, now);    /* it passed RFC 5961's checks too */
    uint32_t wnd = (uint32_t)seg->wnd << (unscaled ? 0 : c->snd_wscale);
    /* RFC 9293 §3.10.7.4: only an ACK in [SND.UNA, SND.NXT] may update
     * the window; one below SND.UNA (RFC 5961 §5.2's duplicate range) is
     * stale, however new its sequence number (attack seed 3725: a forged
     * old ACK at RCV.NXT opened a closed window). */
    int old_ack = seq_lt(seg->ack, c->snd_una);
    int new_ack = seq_gt(seg->ack, c->snd_una);
    /* RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT */
    int dup = seg->ack == c->snd_una && !carried && wnd == c->snd_wnd && wnd != 0 &&
              c->snd_una != c->snd_nxt;
    if (seq_gt(seg->ack, c->snd_una) || dup || seg->opts.sack_blocks)
        fa_tcp_rec_ack(c, seg, dup, now); /* tcp_recovery.c: what it means */
    if (seq_gt(seg->ack, c->snd_una))
        ack_advances(c, seg->ack, now);
    /* Window update, if the segment is newer than the last one used —
     * or its ACK moves SND.UNA on, as Linux's tcp_may_update_window: a
     * resent segment of the peer's (older SEG.SEQ) that acknowledges new
     * data carries the window as of now (review: a zero window from a
     * bare ACK before it stuck, and data waited for the persist timer). */
    if (new_ack || (!old_ack && (seq_lt(c->snd_wl1, seg->seq) ||
                                 (c->snd_wl1 == seg->seq && seq_le(c->snd_wl2, seg->ack))))) {
        uint32_t was = c->snd_wnd;
        c->snd_wnd = wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        if (wnd > c->max_snd_wnd)
            c->max_snd_wnd = wnd;
        /* A window that opens on a tail in flight: the tail loss probe
         * that the shut window kept from going is armed again (RFC 8985
         * §7.2; transfer seed 29: a probe run late into a zero window
         * sent nothing, the update that opened it armed none, and the
         * RTO 4 s on would have been the resend). Not one still armed. */
        if (!was && wnd && !new_ack)
            fa_tcp_rec_window_opened(c, now);
    }
    switch (c->state) {
    case FA_TCP_FIN_WAIT_1:
        if (our_fin_acked(c)) {
            fa_tcp_set_state(c, FA_TCP_FIN_WAIT_2, now);
            if (c->flags & TF_LINGERING)
                c->flags |= TF_CLOSE_DONE;
            if (fa_tcp_orphan(c) || (c->flags & TF_LINGERING))
                c->t_close = now + s->cfg.tcp_fin_wait2_timeout; /* L16 */
        }
        break;
    case FA_TCP_CLOSING:
        if (our_fin_acked(c))
            return 0; /* TIME-WAIT is entered by process_fin's caller */
        break;
    case FA_TCP_LAST_ACK:
        if (our_fin_acked(c)) {
            if (c->flags & TF_LINGERING)
                c->flags |= TF_CLOSE_DONE;
            fa_tcp_terminate(c, 0, now); /* L11: CLOSED, all freed */
            return 1;
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Enters TIME-WAIT for 2 x MSL (L14); a connection nobody holds moves to
 * the compact table. Returns 1 if c was freed. */
static int enter_time_wait(struct fa_tcp *c, fa_time now)
{
    fa_tcp_set_state(c, FA_TCP_TIME_WAIT, now);
    c->t_rexmit = c->t_persist = FA_TIME_NEVER;
    fa_tcp_rec_stop(c);
    c->t_close = now + 2 * fa_tcp_stack_of(c)->cfg.tcp_msl;
    if (c->flags & TF_LINGERING)
        c->flags |= TF_CLOSE_DONE;
    if (c->flags & TF_ACK_NOW)
        fa_tcp_send_ack(c, now);
    if (fa_tcp_orphan(c)) {
        fa_tcp_tw_enter(c, now);
        return 1;
    }
    fa_tcp_timer_update(c);
    return 0;
}

/* seventh: segment text. Returns 1 if c was freed. */
static int process_text(struct fa_tcp *c, const struct fa_tcp_view *seg,
                        fa_time now)
{
    if (seg->data_len == 0)
        return 0;
    if (c->state != FA_TCP_ESTABLISHED && c->state != FA_TCP_FIN_WAIT_1 &&
        c->state != FA_TCP_FIN_WAIT_2) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_STRAY); /* after the peer's FIN */
        return 0;
    }
    if (fa_tcp_orphan(c) || (c->flags & TF_LINGERING)) {
        /* Nobody will ever read it: the application closed (a lingering
         * close too: review, it was ACKed and lost). Like Linux (and RFC
         * 9293 §3.10.4's spirit), reset, so the writer learns (L20: its
         * next send fails with EPIPE). */
        fa_tcp_send_rst(c, now);
        fa_tcp_terminate(c, 0, now);
        return 1;
    }
    uint32_t before = c->rcv_nxt;
    /* (A segment may swallow every range. A FIN that came early is a
     * hole too, though no range holds it: a segment filling part of the
     * gap before it is ACKed at once, RFC 5681 §4.2 — third review.) */
    int had_hole = c->ooo_count != 0 || (c->flags & TF_FIN_SEEN);
    long gained;
    if ((c->flags & TF_SHUT_RD) && seg->seq == c->rcv_nxt && !c->ooo_count && !fa_tcp_rcv_len(c)) {
        /* In order after shutdown(SHUT_RD): acknowledged and dropped
         * without a place to stand in (so no memory, tcp_mem.c). */
        c->rcv_nxt += seg->data_len;
        gained = (long)seg->data_len;
    } else {
        gained = fa_tcp_rcv_data(c, seg->seq, seg->data, seg->data_len);
    }
    uint32_t unacked = c->segs_unacked + seg->segs;
    c->segs_unacked = (uint8_t)(unacked < UINT8_MAX ? unacked : UINT8_MAX);
    if (gained > 0 && (c->flags & TF_SHUT_RD)) {
        /* After shutdown(SHUT_RD) the application reads no more: data is
         * acknowledged and dropped, as BSD does, so the window stays open
         * and the writer is not reset (finack/tcp.h, fa_tcp_shutdown). */
        if (c->rcv)
            fa_ring_consume(c->rcv, c->rcv->len);
        fa_tcp_rcv_detach_idle(c);
    } else if (gained > 0) {
        fa_tcp_notify(c); /* readable */
    }
    if (gained == -ENOBUFS) {
        /* No memory to hold it (config.tcp_mem_max): as if lost; the
         * peer sends it again. */
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_NO_BUFFER);
        return 0;
    }
    if (gained < 0) {
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_OOO_FULL);
        c->flags |= TF_ACK_NOW | TF_ACK_AT_ONCE;
    } else if (seg->seq != before || had_hole) {
        /* RFC 5681 §4.2: ACK at once an out-of-order segment (a duplicate
         * ACK), one that arrives while a hole is open and one that fills
         * a hole (swallowing what was held beyond it too: review of the
         * receive side) — each its own ACK, even inside a batch, for a sender
         * that counts duplicates. With SACK the sender reads the blocks,
         * not the count: inside a batch, one ACK at the batch's end (as
         * Linux ACKs a GRO aggregate) — or sooner once a quarter of the
         * buffer came unanswered, so a lost ACK still leaves a clock. */
        c->flags |= TF_ACK_NOW;
        if (!(c->flags & TF_SACK) || (uint32_t)c->segs_unacked * c->mss >= fa_tcp_so(c)->rcvbuf / 4)
            c->flags |= TF_ACK_AT_ONCE;
    } else if ((c->flags & TF_ACK_DELAYED) || seg->segs >= 2) {
        c->flags |= TF_ACK_NOW; /* RFC 9293 §3.8.6.3: every second segment */
    } else if (c->quick_acks) {
        c->flags |= TF_ACK_NOW; /* fa_tcp_quick_ack_mode (tcp_out.c spends it) */
    } else {
        c->flags |= TF_ACK_DELAYED;
        c->t_delack = now + fa_tcp_stack_of(c)->cfg.tcp_delack;
    }
    return 0;
}

/* eighth: FIN, once it is in sequence (it may have come ahead of data
 * still missing). Returns 1 if c was freed. */
static int process_fin(struct fa_tcp *c, const struct fa_tcp_view *seg,
                       fa_time now)
{
    int now_in_order = 0;
    if (seg->flags & FA_TCP_FIN)
        c->flags |= TF_ACK_NOW;
    /* Out of order, and without SACK: a duplicate ACK of its own, as
     * process_text gives a data segment (else a batch merged it with the
     * next segment's: third review). */
    if ((seg->flags & FA_TCP_FIN) && !(c->flags & TF_SACK) &&
        seg->seq + seg->data_len != c->rcv_nxt)
        c->flags |= TF_ACK_AT_ONCE;
    if ((seg->flags & FA_TCP_FIN) && !(c->flags & TF_FIN_RCVD)) {
        uint32_t at = seg->seq + seg->data_len;
        if (at == c->rcv_nxt) {
            now_in_order = 1;
        } else if (fa_tcp_orphan(c)) {
            /* Nobody reads: the missing bytes will draw a reset, not
             * fill the hole; no storage is taken to hold the FIN. */
        } else if (fa_tcp_rcv_attach(c) == 0) {
            /* Ahead of data still missing: its place waits with the
             * receive ring (the missing bytes will need it anyway). */
            c->flags |= TF_FIN_SEEN;
            *fa_tcp_rcv_fin(c) = at;
        } else {
            /* No memory to keep it: as if it were lost; the peer
             * sends it again. */
            fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_NO_BUFFER);
        }
    }
    if (!now_in_order &&
        (!(c->flags & TF_FIN_SEEN) || *fa_tcp_rcv_fin(c) != c->rcv_nxt ||
         (c->flags & TF_FIN_RCVD)))
        return 0;
    /* "advance RCV.NXT over the FIN, and send an acknowledgment" */
    c->flags = (c->flags & ~TF_FIN_SEEN) | TF_FIN_RCVD | TF_ACK_NOW;
    c->rcv_nxt++;
    /* Bytes held past the FIN can never be read, nor SACKed truthfully
     * (review of the receive side: one byte past a FIN pinned a block). */
    fa_tcp_ooo_clear(c);
    fa_tcp_rcv_detach_idle(c); /* if all was read, the FIN's place goes */
    switch (c->state) {
    case FA_TCP_SYN_RECEIVED:
    case FA_TCP_ESTABLISHED:
        fa_tcp_set_state(c, FA_TCP_CLOSE_WAIT, now); /* L11 */
        break;
    case FA_TCP_FIN_WAIT_1:
        /* Our FIN acked by this very segment: straight to TIME-WAIT
         * (L12); otherwise a simultaneous close: CLOSING (L13). */
        if (our_fin_acked(c))
            return enter_time_wait(c, now);
        fa_tcp_set_state(c, FA_TCP_CLOSING, now);
        break;
    case FA_TCP_FIN_WAIT_2:
        return enter_time_wait(c, now); /* L10 */
    default:
        break;
    }
    return 0;
}

static void sync_input(struct fa_tcp *c, struct fa_tcp_view *seg, fa_time now)
{
    int unscaled = (seg->flags & FA_TCP_SYN) != 0;
    crossed_synack(c, seg);
    const struct fa_tcp_view arrived = *seg; /* before trimming */
    if (fa_tcp_paws_reject(c, seg, now)) {
        /* RFC 7323 §5.3 R1: an old timestamp — an old duplicate, or a
         * wrapped sequence number: unacceptable, answered with an ACK.
         * A SYN is still a SYN: RFC 5961 §4's challenge ACK, under its
         * limit (its length of 1 escapes the limit for bare segments:
         * review, 205 old-TSval SYNs drew 205 ACKs). */
        fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_PAWS_DROPPED);
        if (seg->flags & FA_TCP_SYN)
            challenge_ack(c, now);
        else
            unacceptable_ack(c, seg, now);
        return;
    }
    if (check_sequence(c, seg, now))
        return;
    int carried = arrived.data_len || (arrived.flags & FA_TCP_FIN);
    if (check_rst(c, &arrived, now) || check_syn(c, &arrived, now) ||
        check_ack(c, seg, unscaled, carried, now))
        return;
    fa_tcp_ts_update(c, &arrived, now); /* RFC 7323 §4.3 R3 */
    if (c->state == FA_TCP_CLOSING && our_fin_acked(c)) {
        enter_time_wait(c, now); /* L13 */
        return;
    }
    if (process_text(c, seg, now) || process_fin(c, seg, now))
        return;
    fa_tcp_output(c, now);
}

void fa_tcp_input(struct fa_stack *s, const struct fa_rx_ctx *rx, fa_time now)
{
    struct fa_tcp_view seg;
    int drop = fa_tcp_hdr_parse(rx->ip.payload, rx->ip.payload_len, rx->ip.src,
                                rx->ip.dst, rx->hints.csum_ok, &seg);
    /* RFC 1122 §4.2.3.10: never a connection to a broadcast address,
     * nor from an invalid one — 0.0.0.0, which IP lets through for a
     * DHCP client's sake (review: a SYN from it made a half-open). */
    if (!drop && rx->to_broadcast)
        drop = FA_CNT_TCP_TO_BROADCAST;
    if (!drop && rx->ip.src == 0)
        drop = FA_CNT_IP_BAD_SRC;
    /* SYN with FIN or RST makes no sense in any state; drop it, as
     * Linux does, rather than let either half act. */
    if (!drop && (seg.flags & FA_TCP_SYN) && (seg.flags & (FA_TCP_FIN | FA_TCP_RST)))
        drop = FA_CNT_TCP_BAD_FLAGS;
    if (drop) {
        fa_count(s, (unsigned)drop);
        return;
    }
    /* A GRO super-frame: the segments it stands for, for ACK pacing. */
    uint32_t gso = rx->hints.gso_size;
    if (gso && seg.data_len > gso) {
        uint32_t n = (seg.data_len + gso - 1) / gso;
        seg.segs = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    }
    s->counters[FA_CNT_TCP_SEGS_IN] += seg.segs;
    uint32_t laddr = rx->ip.dst, raddr = rx->ip.src;
    struct fa_tcp *c = fa_tcp_lookup(s, laddr, seg.dport, raddr, seg.sport);
    if (c) {
        if (c->state == FA_TCP_SYN_SENT)
            syn_sent_input(c, &seg, now);
        else
            sync_input(c, &seg, now);
        return;
    }
    struct fa_tcp_tw *tw = fa_tcp_tw_lookup(s, laddr, seg.dport, raddr, seg.sport);
    struct fa_tcp *l = fa_tcp_find_listener(s, laddr, seg.dport);
    if (tw) {
        /* RFC 9293 §3.10.7.4 / RFC 1122 §4.2.2.13: a new SYN above the
         * old sequence space — or, with timestamps, newer than the old
         * TS.Recent (RFC 6191) — may reopen a TIME-WAIT connection; the
         * new one starts above the old one's sequence space too. */
        if (l && (seg.flags & FA_TCP_SYN) && !(seg.flags & FA_TCP_ACK) &&
            fa_tcp_tw_reopens(tw, &seg)) {
            uint32_t floor = tw->snd_nxt;
            if (listen_input(l, laddr, raddr, &seg, &floor, now))
                fa_tcp_tw_remove(s, tw); /* only once the SYN was taken */
        } else {
            fa_tcp_tw_input(s, tw, &seg, now);
        }
        return;
    }
    if (l)
        listen_input(l, laddr, raddr, &seg, NULL, now);
    else
        closed_input(s, laddr, raddr, &seg, now);
}
