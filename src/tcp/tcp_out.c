/* tcp_out.c — building and sending TCP segments, and the output
 * decision: how much of the send buffer may go now given the peer's
 * window, the congestion window, Nagle and sender-side silly-window
 * avoidance; when the FIN goes; and ACKs, window updates and resets.
 * Segments are built in place in the stack's transmit buffer. */
#include "tcp.h"

static uint16_t syn_mss(const struct fa_tcp *c)
{
    /* RFC 9293 §3.7.1: what we can receive, from our MTU. */
    uint16_t mtu_mss = (uint16_t)(c->stack->cfg.mtu - FA_IPV4_HLEN - FA_TCP_HLEN);
    return c->user_mss && c->user_mss < mtu_mss ? c->user_mss : mtu_mss;
}

/* What the window field can offer now: the buffer's free space, no more
 * than the largest field times the scale, in whole scale units (what a
 * field can say exactly). */
static uint32_t offerable(const struct fa_tcp *c)
{
    uint32_t space = fa_tcp_rcv_space(c);
    uint32_t most = 65535u << c->rcv_wscale;
    uint32_t o = space < most ? space : most;
    return o >> c->rcv_wscale << c->rcv_wscale;
}

int fa_tcp_window_update_due(const struct fa_tcp *c)
{
    /* RFC 9293 §3.8.6.2.2: the right edge moves by at least
     * min(buffer / 2, MSS). Counted against what the field can say: with
     * no scaling and a buffer beyond 65535 the edge cannot move past
     * RCV.NXT + 65535, and an "update" that moves nothing is a duplicate
     * ACK to the sender. */
    uint32_t edge = c->rcv_nxt + offerable(c);
    return seq_gt(edge, c->rcv_adv) && edge - c->rcv_adv >= fa_tcp_rcv_sws_step(c);
}

uint16_t fa_tcp_window_field(struct fa_tcp *c)
{
    uint32_t space = fa_tcp_rcv_space(c);
    uint32_t held = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    /* Never move the right edge left (§3.8.6); move it only by the SWS
     * step (fa_tcp_window_update_due). */
    uint32_t wnd = fa_tcp_window_update_due(c) ? space : held;
    /* Never offer space the buffer lacks: a right edge beyond it invites
     * bytes we would have to drop. The scaled field may not express the
     * held edge exactly; round up only where the buffer has the room,
     * else down — the edge then looks less than a scale unit shorter, and
     * what the peer sends up to the old edge is still taken (check_sequence
     * accepts up to the farthest edge ever offered, rcv_adv). */
    uint32_t ws = c->rcv_wscale;
    uint32_t field = wnd >> ws;
    if ((field << ws) < wnd && ((field + 1) << ws) <= space)
        field++;
    if (field > 65535)
        field = 65535;
    uint32_t adv = c->rcv_nxt + (field << ws);
    if (seq_gt(adv, c->rcv_adv))
        c->rcv_adv = adv;
    return (uint16_t)field;
}

/* Writes and sends one segment whose data is len bytes at offset off of
 * the send ring. */
static void send_segment(struct fa_tcp *c, uint32_t seq, uint8_t flags,
                         uint32_t off, uint32_t len, fa_time now)
{
    struct fa_stack *s = c->stack;
    uint8_t *seg = fa_ip_payload(s);
    struct fa_tcp_opts opts = { 0 };
    uint16_t wnd;
    if (flags & FA_TCP_SYN) {
        opts.mss = syn_mss(c);
        /* RFC 7323 §1.3: offer a scale in a SYN; in a SYN-ACK only if
         * the peer offered one. The SYN's own window is never scaled. */
        if (c->stack->cfg.tcp_window_scaling &&
            (!(flags & FA_TCP_ACK) || (c->flags & TF_WSCALE))) {
            opts.has_wscale = 1;
            opts.wscale = c->rcv_wscale;
        }
        uint32_t space = fa_tcp_rcv_space(c);
        wnd = space > 65535 ? 65535 : (uint16_t)space;
        c->rcv_adv = c->rcv_nxt + wnd;
    } else {
        wnd = fa_tcp_window_field(c);
    }
    uint32_t ack = (flags & FA_TCP_ACK) ? c->rcv_nxt : 0;
    size_t hlen = fa_tcp_hdr_emit(seg, c->lport, c->rport, seq, ack, flags,
                                  wnd, &opts);
    if (len)
        fa_ring_copy_out(&c->snd, off, seg + hlen, len);
    fa_tcp_hdr_checksum(seg, hlen + len, c->laddr, c->raddr);
    fa_count(s, FA_CNT_TCP_SEGS_OUT);
    if (flags & FA_TCP_ACK) {
        c->flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED | TF_ACK_AT_ONCE);
        c->t_delack = FA_TIME_NEVER;
    }
    fa_ip_send(s, c->raddr, FA_IPPROTO_TCP, hlen + len, now);
}

void fa_tcp_count_retransmit(struct fa_tcp *c)
{
    c->retransmits++;
    fa_count(c->stack, FA_CNT_TCP_RETRANSMITS);
}

void fa_tcp_send_syn(struct fa_tcp *c, fa_time now)
{
    /* Our SYN went before (a timeout, the peer's SYN again, or a crossed
     * SYN answered with a SYN-ACK): this one is a retransmission, and its
     * ACK no RTT sample (Karn). */
    int again = c->snd_max != c->iss;
    uint8_t flags = FA_TCP_SYN;
    if (c->state == FA_TCP_SYN_RECEIVED)
        flags |= FA_TCP_ACK;
    send_segment(c, c->iss, flags, 0, 0, now);
    c->snd_nxt = c->iss + 1;
    c->snd_max = seq_max(c->snd_max, c->snd_nxt);
    if (again) {
        fa_tcp_count_retransmit(c);
        c->rtt_start = 0;
    } else {
        c->rtt_start = now;
        c->rtt_seq = c->iss;
    }
    fa_tcp_arm_rexmit(c, now);
    fa_tcp_timer_update(c);
}

/* The sequence number of a segment without data or SYN/FIN: SND.MAX,
 * the highest sent, not SND.NXT. After a go-back SND.NXT lies below what
 * the peer has received; an ACK numbered there fails the peer's
 * acceptability test (RFC 9293 §3.10.7.4 "first") before its ACK field
 * is read, and two ends in that state ping-pong ACKs without progress
 * (as BSD does, tcp_output sends pure ACKs at snd_max). */
static uint32_t bare_seq(const struct fa_tcp *c)
{
    return c->snd_max;
}

void fa_tcp_send_ack(struct fa_tcp *c, fa_time now)
{
    send_segment(c, bare_seq(c), FA_TCP_ACK, 0, 0, now);
    fa_tcp_timer_update(c);
}

void fa_tcp_send_rst(struct fa_tcp *c, fa_time now)
{
    /* RFC 9293 §3.10.5 (ABORT): <SEQ=SND.NXT><CTL=RST>, with SND.NXT
     * meaning the highest sent (see bare_seq). */
    fa_count(c->stack, FA_CNT_TCP_RST_OUT);
    fa_tcp_send_bare(c->stack, c->laddr, c->lport, c->raddr, c->rport,
                     bare_seq(c), c->rcv_nxt, FA_TCP_RST | FA_TCP_ACK, 0, now);
}

void fa_tcp_send_bare(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport, uint32_t seq,
                      uint32_t ack, uint8_t flags, uint16_t wnd, fa_time now)
{
    uint8_t *seg = fa_ip_payload(s);
    size_t hlen = fa_tcp_hdr_emit(seg, lport, rport, seq, ack, flags, wnd, NULL);
    fa_tcp_hdr_checksum(seg, hlen, laddr, raddr);
    fa_count(s, FA_CNT_TCP_SEGS_OUT);
    fa_ip_send(s, raddr, FA_IPPROTO_TCP, hlen, now);
}

void fa_tcp_reset_for(struct fa_stack *s, uint32_t laddr, uint32_t raddr,
                      const struct fa_tcp_view *seg, fa_time now)
{
    /* RFC 9293 §3.10.7.1: never answer a reset; otherwise make the RST
     * acceptable to the sender of the offending segment. */
    if (seg->flags & FA_TCP_RST)
        return;
    fa_count(s, FA_CNT_TCP_RST_OUT);
    if (seg->flags & FA_TCP_ACK) {
        fa_tcp_send_bare(s, laddr, seg->dport, raddr, seg->sport, seg->ack, 0,
                         FA_TCP_RST, 0, now);
    } else {
        fa_tcp_send_bare(s, laddr, seg->dport, raddr, seg->sport, 0,
                         seg->seq + fa_tcp_seg_len(seg), FA_TCP_RST | FA_TCP_ACK,
                         0, now);
    }
}

/* Bytes in the send ring not yet sent (the FIN is not in the ring). */
static uint32_t unsent(const struct fa_tcp *c)
{
    uint32_t sent = c->snd_nxt - c->snd_una;
    return sent >= c->snd.len ? 0 : c->snd.len - sent;
}

/* RFC 1122 §4.2.3.4 (Nagle) and RFC 9293 §3.8.6.2.1 (sender SWS): may a
 * segment of len bytes go now? */
static int worth_sending(const struct fa_tcp *c, uint32_t len, uint32_t left,
                         int fin)
{
    if (len == c->mss)
        return 1;
    if (len == left && (fin || (c->flags & TF_NODELAY) || c->snd_nxt == c->snd_una))
        return 1;
    return c->max_snd_wnd && len >= c->max_snd_wnd / 2;
}

static int may_send_data(const struct fa_tcp *c)
{
    return c->state == FA_TCP_ESTABLISHED || c->state == FA_TCP_CLOSE_WAIT ||
           c->state == FA_TCP_FIN_WAIT_1 || c->state == FA_TCP_LAST_ACK ||
           c->state == FA_TCP_CLOSING;
}

/* Sequence space the peer's window still allows past snd_nxt. The
 * window counts from the ACK that carried it (SND.WL2), not from SND.UNA:
 * an ACK may move SND.UNA on while RFC 9293's update rule keeps the older
 * window (a retransmitted segment of the peer), and SND.UNA + SND.WND
 * would then lie beyond the edge the peer offered. */
uint32_t fa_tcp_window_room(const struct fa_tcp *c)
{
    uint32_t edge = c->snd_wl2 + c->snd_wnd;
    return seq_gt(edge, c->snd_nxt) ? edge - c->snd_nxt : 0;
}

/* RFC 3042 (Limited Transmit): each of the first two duplicate ACKs lets
 * one new segment go beyond cwnd (outstanding data stays within cwnd + 2
 * segments), so a small window still brings the third duplicate. */
static uint32_t limited_transmit(const struct fa_tcp *c)
{
    if ((c->flags & TF_RECOVERY) || c->dupacks == 0 || c->dupacks > 2 ||
        seq_lt(c->snd_nxt, c->snd_max))
        return 0;
    return c->dupacks * c->mss;
}

/* Sends one segment from snd_nxt if the rules allow (force: even if
 * SWS avoidance would wait); returns its length in sequence space (0 when
 * nothing went). */
static uint32_t output_one(struct fa_tcp *c, fa_time now, int force)
{
    uint32_t in_flight = c->snd_nxt - c->snd_una;
    uint32_t cwnd = c->cwnd + limited_transmit(c);
    uint32_t cwnd_room = cwnd > in_flight ? cwnd - in_flight : 0;
    uint32_t wnd_room = fa_tcp_window_room(c);
    uint32_t usable = wnd_room < cwnd_room ? wnd_room : cwnd_room;
    uint32_t left = unsent(c);
    uint32_t len = left < c->mss ? left : c->mss;
    if (len > usable)
        len = usable;
    /* The FIN follows the last byte, needs one unit of window, and goes
     * again only after a go-back (snd_nxt pulled back below it). */
    int fin = (c->flags & TF_SHUT_WR) && len == left && usable > len &&
              !((c->flags & TF_FIN_SENT) && c->snd_nxt == c->snd_max);
    if (len == 0 && !fin)
        return 0;
    int resend = seq_lt(c->snd_nxt, c->snd_max);
    /* Nagle and SWS avoidance size new data; a retransmission resends
     * what was sent already and always goes (RFC 6298 §5.4), else an RTO
     * against a stale small window would send nothing, forever. */
    if (len && !resend && !force && !worth_sending(c, len, left, fin))
        return 0;
    uint8_t flags = FA_TCP_ACK;
    if (fin)
        flags |= FA_TCP_FIN;
    if (len && len == left)
        flags |= FA_TCP_PSH;
    send_segment(c, c->snd_nxt, flags, c->snd_nxt - c->snd_una, len, now);
    if (resend) {
        fa_tcp_count_retransmit(c);
    } else if (c->rtt_start == 0 && len) {
        c->rtt_start = now; /* time new data only (Karn) */
        c->rtt_seq = c->snd_nxt;
    }
    c->snd_nxt += len + (uint32_t)fin;
    c->snd_max = seq_max(c->snd_max, c->snd_nxt);
    if (fin)
        c->flags |= TF_FIN_SENT;
    if (c->t_rexmit == FA_TIME_NEVER)
        fa_tcp_arm_rexmit(c, now);
    if (!resend)
        fa_tcp_loss_arm_probe(c, now);
    return len + (uint32_t)fin;
}

static int owe_in_batch(struct fa_tcp *c);

void fa_tcp_output(struct fa_tcp *c, fa_time now)
{
    if (may_send_data(c)) {
        /* Bounded: each turn sends at least one sequence number. */
        for (uint32_t n = 0; n < c->snd.size + 2 && output_one(c, now, 0); n++)
            ;
        /* Data waits with nothing in flight: on a zero window, probe it
         * (RFC 9293 §3.8.6.1); on a small one that SWS avoidance will not
         * fill, the "override timeout" of §3.8.6.2.1 sends it anyway.
         * One timer serves both: nothing else would ever wake us. */
        /* The FIN waits too when it has not gone, or must go again (a
         * go-back pulled SND.NXT below it). */
        int fin_due = (c->flags & TF_SHUT_WR) &&
                      (!(c->flags & TF_FIN_SENT) || seq_lt(c->snd_nxt, c->snd_max));
        int waiting = unsent(c) || fin_due;
        if (waiting && c->snd_nxt == c->snd_una) {
            if (c->t_persist == FA_TIME_NEVER)
                c->t_persist = now + c->rto;
        } else {
            c->t_persist = FA_TIME_NEVER;
            c->persist_shift = 0;
        }
    }
    if ((c->flags & TF_ACK_NOW) && !owe_in_batch(c))
        send_segment(c, bare_seq(c), FA_TCP_ACK, 0, 0, now);
    fa_tcp_timer_update(c);
}

/* In a batch, a pure ACK waits for the batch's end: one ACK then covers
 * every segment the batch brought (the frames arrived together) — but
 * not a duplicate ACK, which must go per segment (RFC 5681 §4.2). */
static int owe_in_batch(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = c->stack->tcp;
    if (!t->batching || (c->flags & TF_ACK_AT_ONCE))
        return 0;
    if (c->flags & TF_ACK_QUEUED)
        return 1;
    if (t->owed_count == FA_TCP_BATCH_ACKS)
        return 0;
    t->owed[t->owed_count++] = c;
    c->flags |= TF_ACK_QUEUED;
    return 1;
}

void fa_tcp_batch_forget(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = c->stack->tcp;
    if (!(c->flags & TF_ACK_QUEUED))
        return;
    c->flags &= ~TF_ACK_QUEUED;
    for (uint32_t i = 0; i < t->owed_count; i++)
        if (t->owed[i] == c) {
            t->owed[i] = t->owed[--t->owed_count];
            return;
        }
}

void fa_tcp_batch_end(struct fa_stack *s, fa_time now)
{
    struct fa_tcp_stack *t = s->tcp;
    t->batching = 0;
    for (uint32_t i = 0; i < t->owed_count; i++) {
        struct fa_tcp *c = t->owed[i];
        c->flags &= ~TF_ACK_QUEUED;
        if (c->flags & TF_ACK_NOW)
            fa_tcp_send_ack(c, now);
    }
    t->owed_count = 0;
}

void fa_tcp_send_small(struct fa_tcp *c, fa_time now)
{
    output_one(c, now, 1);
    fa_tcp_timer_update(c);
}

void fa_tcp_retransmit_first(struct fa_tcp *c, fa_time now)
{
    /* Fast retransmit / partial ACK: the segment at SND.UNA, without
     * moving SND.NXT (RFC 5681 §3.2 step 3, RFC 6582 step 5) — no
     * further than the peer's window reaches from SND.UNA, and only what
     * was sent: bytes queued since (held by Nagle) are new data, and an
     * ACK of them would be an ACK of data never sent (RFC 5961 §5.2),
     * dropped — the connection would stall for good. */
    uint32_t sent = c->snd_max - c->snd_una - ((c->flags & TF_FIN_SENT) ? 1 : 0);
    uint32_t len = c->snd.len < c->mss ? c->snd.len : c->mss;
    if (len > sent)
        len = sent;
    uint32_t edge = c->snd_wl2 + c->snd_wnd;
    uint32_t room = seq_gt(edge, c->snd_una) ? edge - c->snd_una : 0;
    if (len > room)
        len = room;
    uint8_t flags = FA_TCP_ACK;
    if ((c->flags & TF_FIN_SENT) && len == c->snd.len && seq_lt(c->snd_una, c->snd_max))
        flags |= FA_TCP_FIN;
    if (len == 0 && !(flags & FA_TCP_FIN))
        return;
    send_segment(c, c->snd_una, flags, 0, len, now);
    fa_tcp_count_retransmit(c);
    c->rtt_start = 0;
    fa_tcp_arm_rexmit(c, now);
}

void fa_tcp_send_probe(struct fa_tcp *c, fa_time now)
{
    /* RFC 8985 §7.3: a new segment if the peer's window allows one; it
     * does not count against cwnd... */
    if (unsent(c) && c->snd_nxt == c->snd_max && fa_tcp_window_room(c) > 0) {
        c->cwnd += c->mss;
        uint32_t sent = output_one(c, now, 1);
        c->cwnd -= c->mss;
        if (sent)
            return;
    }
    /* ...else the most recent segment again (with the FIN if sent). */
    uint32_t fin = (c->flags & TF_FIN_SENT) ? 1 : 0;
    uint32_t data = c->snd_max - c->snd_una - fin;
    uint32_t len = data < c->mss ? data : c->mss;
    uint8_t flags = FA_TCP_ACK | (fin ? FA_TCP_FIN : 0) | (len ? FA_TCP_PSH : 0);
    send_segment(c, c->snd_una + data - len, flags, data - len, len, now);
    fa_tcp_count_retransmit(c);
    c->rtt_start = 0; /* Karn */
}
