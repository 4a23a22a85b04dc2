/* tcp_out.c — building and sending TCP segments, and the output
 * decision: how much of the send buffer may go now given the peer's
 * window, the congestion window (against the pipe, RFC 6675), Nagle and
 * sender-side silly-window avoidance; lost segments before new data; when
 * the FIN goes; and ACKs, window updates and resets.
 * Segments are built in place in the stack's transmit buffer. */
#include "tcp.h"

static uint16_t syn_mss(const struct fa_tcp *c)
{
    /* RFC 9293 §3.7.1: what we can receive, from our MTU. */
    uint16_t mtu_mss = (uint16_t)(fa_tcp_stack_of(c)->cfg.mtu - FA_IPV4_HLEN - FA_TCP_HLEN);
    return fa_tcp_so(c)->user_mss && fa_tcp_so(c)->user_mss < mtu_mss ? fa_tcp_so(c)->user_mss : mtu_mss;
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

/* The checksum, or (a device that offloads it) the request for it; a
 * super-frame (gso: its segments' data size) is cut by the device. */
static void segment_checksum(struct fa_tcp *c, uint8_t *seg, size_t len, size_t hlen,
                             uint16_t gso)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    if (!(s->cfg.device.offloads & FA_OFFLOAD_TX_CSUM)) {
        fa_tcp_hdr_checksum(seg, len, c->laddr, c->raddr);
        return;
    }
    fa_tcp_hdr_checksum_partial(seg, len, c->laddr, c->raddr);
    s->tx_meta = (struct fa_frame_meta){
        .flags = FA_META_CSUM_PARTIAL,
        .gso_type = gso ? FA_GSO_TCPV4 : FA_GSO_NONE,
        .gso_size = gso,
        .csum_start = FA_ETH_HLEN + FA_IPV4_HLEN,
        .csum_offset = 16,
    };
    s->tx_segs = gso ? (uint16_t)((len - hlen + gso - 1) / gso) : 1;
}

/* Writes and sends one segment whose data is len bytes at offset off of
 * the send ring, with the options it should carry (tcp_opts.c). gso
 * nonzero: a super-frame of len / gso full segments for the device to
 * cut (TSO); each carries the same header, as Linux's TSO does. */
static void send_segment_gso(struct fa_tcp *c, uint32_t seq, uint8_t flags,
                             uint32_t off, uint32_t len, uint16_t gso, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    uint8_t *seg = fa_ip_payload(s);
    struct fa_tcp_opts opts = { 0 };
    uint16_t wnd;
    if (flags & FA_TCP_SYN) {
        opts.mss = syn_mss(c);
        fa_tcp_opts_for_syn(c, &opts, now);
        /* RFC 7323 §2.2: the SYN's own window is never scaled. */
        uint32_t space = fa_tcp_rcv_space(c);
        wnd = space > 65535 ? 65535 : (uint16_t)space;
        c->rcv_adv = c->rcv_nxt + wnd;
    } else {
        fa_tcp_opts_for(c, &opts, gso ? gso : len, now);
        wnd = fa_tcp_window_field(c);
    }
    uint32_t ack = (flags & FA_TCP_ACK) ? c->rcv_nxt : 0;
    size_t hlen = fa_tcp_hdr_emit(seg, c->lport, c->rport, seq, ack, flags,
                                  wnd, &opts);
    if (len)
        fa_ring_copy_out(c->snd, off, seg + hlen, len);
    segment_checksum(c, seg, hlen + len, hlen, gso);
    s->counters[FA_CNT_TCP_SEGS_OUT] += gso ? len / gso : 1;
    /* What acknowledges: a segment the peer takes. A probe below SND.UNA
     * (persist, keepalive) is outside its window, so RFC 9293 §3.10.7.4
     * has it drop the segment unread but for an ACK of its own: an ACK
     * owed still goes (at the batch's end, or by the delayed-ACK timer). */
    /* A data segment with no room for the SACK blocks owed (a full one
     * carries none) leaves an ACK owed for them: RFC 2018 §4, blocks in
     * every ACK while data is out of order (review: while we sent, the
     * peer heard of no hole and waited for its RTO). */
    int blocks_owed = len && !opts.sack_blocks && (c->flags & TF_SACK) &&
                      (c->ooo_count || (c->flags & TF_DSACK));
    /* A reply — new data within a delayed ACK's time of the last segment
     * in — makes the exchange interactive: its ACKs ride on replies, and
     * quick-ACK mode ends (Linux's pingpong mode; review: 15 bare ACKs in
     * 20 requests answered a turn later, as finackd's programs answer). */
    if (len && seq == c->snd_nxt && now - c->last_rcv < s->cfg.tcp_delack)
        c->quick_acks = 0;
    if ((flags & FA_TCP_ACK) && seq_ge(seq, c->snd_una) && !blocks_owed) {
        /* An ACK of new data spends one of quick-ACK mode's (Linux's
         * tcp_dec_quickack_mode): one ACK for a batch's segments is one. */
        if (c->quick_acks && c->last_ack_sent != c->rcv_nxt)
            c->quick_acks--;
        c->flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED | TF_ACK_AT_ONCE);
        c->t_delack = FA_TIME_NEVER;
        c->last_ack_sent = c->rcv_nxt; /* RFC 7323 §4.3 Last.ACK.sent */
        c->segs_unacked = 0;
    }
    fa_ip_send(s, c->raddr, FA_IPPROTO_TCP, hlen + len, now);
}

static void send_segment(struct fa_tcp *c, uint32_t seq, uint8_t flags,
                         uint32_t off, uint32_t len, fa_time now)
{
    send_segment_gso(c, seq, flags, off, len, 0, now);
}

void fa_tcp_count_retransmit(struct fa_tcp *c)
{
    c->retransmits++;
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_RETRANSMITS);
}

/* again: this SYN (or SYN-ACK) is sent again because the last one may
 * be lost (a timeout, the peer's SYN again): a retransmission, and its
 * ACK no RTT sample (Karn). A crossed SYN's answer (RFC 9293 §3.5 figure
 * 8) is not one: our SYN was not lost (review: it was counted, so a
 * simultaneous open without a loss took RFC 6298 §5.7's 3 s RTO and a
 * one-segment window, RFC 5681 §3.1's for a lost SYN); it stays timed as
 * the first SYN was, from SYN-SENT's start, which SYN-RECEIVED keeps
 * (tcp_in.c): whichever of the two the peer's ACK answers, the sample
 * errs long, the safe way. */
void fa_tcp_send_syn(struct fa_tcp *c, int again, fa_time now)
{
    uint32_t iss = fa_tcp_iss(c);
    int first = c->snd_nxt == iss;
    uint8_t flags = FA_TCP_SYN;
    if (c->state == FA_TCP_SYN_RECEIVED)
        flags |= FA_TCP_ACK;
    send_segment(c, iss, flags, 0, 0, now);
    c->snd_nxt = iss + 1;
    /* Timed from state_since: a first SYN goes as its state is entered. */
    if (again) {
        fa_tcp_count_retransmit(c);
        c->flags &= ~TF_SYN_TIMED;
    } else if (first) {
        c->flags |= TF_SYN_TIMED;
    }
    fa_tcp_arm_rexmit(c, now);
    fa_tcp_timer_update(c);
}

void fa_tcp_send_ack(struct fa_tcp *c, fa_time now)
{
    send_segment(c, c->snd_nxt, FA_TCP_ACK, 0, 0, now);
    fa_tcp_timer_update(c);
}

void fa_tcp_send_rst(struct fa_tcp *c, fa_time now)
{
    /* RFC 9293 §3.10.5 (ABORT): <SEQ=SND.NXT><CTL=RST>, with SND.NXT
     * the highest sent (retransmissions never move it back) — unless the
     * peer shrank its window below it, where RFC 5961 §3.2 drops it
     * (RCV.NXT <= SEG.SEQ < RCV.NXT+RCV.WND). Then, as Linux's
     * tcp_acceptable_seq: SND.NXT still if it is past the edge by less
     * than a window-scale unit (the peer rounded the window down); at the
     * edge if the window is zero (it is RCV.NXT); else just inside it,
     * where the peer answers with a challenge ACK that our stray-segment
     * reset then answers exactly. */
    uint32_t edge = c->snd_wl2 + c->snd_wnd, seq = c->snd_nxt;
    if (c->state != FA_TCP_SYN_SENT && c->state != FA_TCP_SYN_RECEIVED &&
        seq_ge(edge, c->snd_una) && seq_gt(seq, edge) && seq - edge >= 1u << c->snd_wscale)
        seq = c->snd_wnd ? edge - 1 : edge;
    fa_count(fa_tcp_stack_of(c), FA_CNT_TCP_RST_OUT);
    /* RFC 7323 §3.2: TSopt "SHOULD be sent in an <RST> segment", as
     * Linux's active reset does. */
    struct fa_tcp_opts o = { .has_ts = 1, .ts_val = fa_tcp_ts_val(c, now), .ts_ecr = c->ts_recent };
    fa_tcp_send_bare(fa_tcp_stack_of(c), c->laddr, c->lport, c->raddr, c->rport,
                     seq, c->rcv_nxt, FA_TCP_RST | FA_TCP_ACK, 0,
                     (c->flags & TF_TS) ? &o : NULL, now);
}

void fa_tcp_send_bare(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport, uint32_t seq,
                      uint32_t ack, uint8_t flags, uint16_t wnd,
                      const struct fa_tcp_opts *opts, fa_time now)
{
    uint8_t *seg = fa_ip_payload(s);
    size_t hlen = fa_tcp_hdr_emit(seg, lport, rport, seq, ack, flags, wnd, opts);
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
                         FA_TCP_RST, 0, NULL, now);
    } else {
        fa_tcp_send_bare(s, laddr, seg->dport, raddr, seg->sport, 0,
                         seg->seq + fa_tcp_seg_len(seg), FA_TCP_RST | FA_TCP_ACK,
                         0, NULL, now);
    }
}

/* Bytes in the send ring not yet sent (the FIN is not in the ring). */
static uint32_t unsent(const struct fa_tcp *c)
{
    uint32_t sent = c->snd_nxt - c->snd_una;
    uint32_t queued = fa_tcp_snd_len(c);
    return sent >= queued ? 0 : queued - sent;
}

/* Is a sub-MSS segment of ours unacknowledged? Minshall's form of Nagle
 * (draft-minshall-nagle, as Linux's tcp_minshall_check): a short tail
 * waits for the ACK of an earlier short segment, not of full ones — the
 * tail of a write of MSS + 100 goes with it (RFC 1122 §4.2.3.4's form
 * held it a delayed ACK's time: review, 40 ms a request). */
static int small_in_flight(const struct fa_tcp *c)
{
    return c->loss && seq_gt(c->loss->snd_sml, c->snd_una);
}

/* RFC 1122 §4.2.3.4 (Nagle) and RFC 9293 §3.8.6.2.1 (sender SWS): may a
 * segment of len bytes go now? */
static int worth_sending(const struct fa_tcp *c, uint32_t len, uint32_t left,
                         int fin)
{
    if (len == c->mss)
        return 1;
    if (len == left && (fin || (c->flags & TF_NODELAY) || !small_in_flight(c)))
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

/* The peer's window ends here (from the ACK that carried it, SND.WL2). */
static uint32_t window_edge(const struct fa_tcp *c)
{
    return c->snd_wl2 + c->snd_wnd;
}

/* Resends scoreboard entry i (RFC 6675 NextSeg rule 1), no further than
 * the peer's window and one MSS: the entry is split there. Returns the
 * sequence space sent (0: the window or the table does not allow it). */
/* The length in sequence space resend(c, i) would send: the entry, up to
 * an MSS of data (its FIN besides). */
static uint32_t resend_len(const struct fa_tcp *c, uint32_t i)
{
    const struct fa_tcp_sb *sb = &c->loss->sb;
    uint32_t start = fa_tcp_sb_start(sb, i);
    const struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
    uint32_t len = e->end - start;
    return len > c->mss ? c->mss : len;
}

static uint32_t resend(struct fa_tcp *c, uint32_t i, fa_time now)
{
    struct fa_tcp_sb *sb = &c->loss->sb;
    uint32_t start = fa_tcp_sb_start(sb, i);
    uint32_t edge = window_edge(c);
    if (!seq_lt(start, edge))
        return 0;
    struct fa_tcp_sent *e = fa_tcp_sb_at(sb, i);
    uint32_t cut = seq_gt(e->end, edge) ? edge : e->end;
    /* More data than an MSS (it fell since: ICMP, RFC 1191): split. The
     * FIN is no data: a full last segment and its FIN go together. */
    uint32_t fin_in = (e->flags & SB_FIN) && cut == e->end;
    if (cut - start - fin_in > c->mss)
        cut = start + c->mss;
    if (cut != e->end) {
        int at = fa_tcp_rec_split(c, i, cut);
        if (at < 0)
            return 0;
        i = (uint32_t)at;
    }
    e = fa_tcp_sb_at(sb, i);
    int fin = (e->flags & SB_FIN) != 0;
    uint32_t len = e->end - start - (uint32_t)fin;
    uint8_t flags = FA_TCP_ACK | (fin ? FA_TCP_FIN : 0);
    if (len && e->end - (uint32_t)fin == c->snd_una + fa_tcp_snd_len(c))
        flags |= FA_TCP_PSH;
    send_segment(c, start, flags, start - c->snd_una, len, now);
    fa_tcp_count_retransmit(c);
    fa_tcp_rec_resent(c, i, e->end - start, now);
    if (c->t_rexmit == FA_TIME_NEVER) /* RFC 6298 §5.1 */
        fa_tcp_arm_rexmit(c, now);
    return e->end - start;
}

/* With a device that cuts super-frames (TSO): how many full segments of
 * new data may go as one frame now — what the windows allow, what the
 * frame holds, what the scoreboard has entries for; and not the last
 * bytes before a FIN due, which go with the FIN as usual. Only when the
 * frame leaves at once: not to our own address (the loopback queue holds
 * MTU-sized packets), not while ARP resolves the next hop (its queue
 * cannot hold a super-frame; single segments wait there). */
static uint32_t tso_segments(const struct fa_tcp *c, uint32_t usable, uint32_t left)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    if (!(s->cfg.device.offloads & FA_OFFLOAD_TSO) || !fa_ip_can_send_whole(fa_tcp_stack_of(c), c->raddr))
        return 1;
    if ((c->flags & TF_SHUT_WR) && !(c->flags & TF_FIN_SENT))
        left--;
    uint32_t room = usable < left ? usable : left;
    uint32_t n = room / c->mss;
    uint32_t most = (uint32_t)(s->tx_cap - FA_ETH_HLEN - FA_IPV4_HLEN - FA_TCP_HLEN -
                               FA_TCP_OPT_MAX) / c->mss;
    uint32_t entries = c->loss->sb.cap - c->loss->sb.count;
    if (n > most)
        n = most;
    if (n > entries)
        n = entries;
    return n;
}

/* Sends n full segments of new data as one super-frame: one scoreboard
 * entry per segment, as if each had gone alone (what is lost is resent
 * segment by segment). Returns the sequence space sent. */
static uint32_t send_tso(struct fa_tcp *c, uint32_t n, uint32_t left, fa_time now)
{
    uint32_t len = n * c->mss;
    uint8_t flags = FA_TCP_ACK | (len == left ? FA_TCP_PSH : 0);
    send_segment_gso(c, c->snd_nxt, flags, c->snd_nxt - c->snd_una, len, c->mss, now);
    for (uint32_t i = 0; i < n; i++) {
        fa_tcp_rec_sent_new(c, c->snd_nxt + c->mss, 0, now);
        c->snd_nxt += c->mss;
    }
    if (c->t_rexmit == FA_TIME_NEVER)
        fa_tcp_arm_rexmit(c, now);
    fa_tcp_rec_arm_probe(c, now);
    return len;
}

/* Sends one segment if the rules allow (force: even if SWS avoidance or
 * the congestion window would wait): a lost one first, else new data from
 * snd_nxt. Returns its length in sequence space (0 when nothing went). */
static uint32_t output_one(struct fa_tcp *c, fa_time now, int force)
{
    /* The pipe (RFC 6675) counts out what duplicate ACKs and SACK blocks
     * say has left the network: that is Limited Transmit (RFC 3042), one
     * new segment for each of the first duplicate ACKs. */
    uint32_t pipe = fa_tcp_pipe(c);
    uint32_t cwnd_room = c->cwnd > pipe ? c->cwnd - pipe : 0;
    long lost = fa_tcp_rec_next_lost(c);
    /* A resend goes when the window holds it whole (RFC 6675 §5: cwnd -
     * pipe >= 1 SMSS), or nothing is in flight: after an RTO, one segment
     * (RFC 5681 §3.1; review: two went, 1,000 bytes with cwnd 536). */
    if (lost >= 0)
        return force || (cwnd_room && (pipe == 0 || cwnd_room >= resend_len(c, (uint32_t)lost)))
                   ? resend(c, (uint32_t)lost, now)
                   : 0;
    if (c->loss && c->loss->sb.count == c->loss->sb.cap)
        return 0; /* the scoreboard is full: wait for ACKs */
    uint32_t wnd_room = fa_tcp_window_room(c);
    uint32_t usable = wnd_room < cwnd_room ? wnd_room : cwnd_room;
    uint32_t left = unsent(c);
    uint32_t len = left < c->mss ? left : c->mss;
    if (len > usable)
        len = usable;
    /* The FIN follows the last byte, needs one unit of window, and goes
     * once (a lost FIN is resent from the scoreboard). */
    int fin = (c->flags & TF_SHUT_WR) && !(c->flags & TF_FIN_SENT) && len == left &&
              usable > len;
    if (len == 0 && !fin)
        return 0;
    /* A lone FIN needs a scoreboard entry, and so the send side's
     * storage and c->loss (tcp_mem.c: one entry inside c->loss, no ring
     * bytes), budget or not, once it can go; only if malloc fails does
     * it wait, the persist timer trying again. (Data waiting has both
     * already.) */
    if ((fin || !c->loss) && fa_tcp_snd_attach(c, 0) < 0)
        return 0;
    /* Nagle and SWS avoidance size new data. */
    if (len && !force && !worth_sending(c, len, left, fin))
        return 0;
    if (len == c->mss && !fin) {
        uint32_t n = tso_segments(c, usable, left);
        if (n >= 2)
            return send_tso(c, n, left, now);
    }
    uint8_t flags = FA_TCP_ACK;
    if (fin)
        flags |= FA_TCP_FIN;
    if (len && len == left)
        flags |= FA_TCP_PSH;
    send_segment(c, c->snd_nxt, flags, c->snd_nxt - c->snd_una, len, now);
    fa_tcp_rec_sent_new(c, c->snd_nxt + len + (uint32_t)fin, fin, now);
    c->snd_nxt += len + (uint32_t)fin;
    if (len && len < c->mss && c->loss)
        c->loss->snd_sml = c->snd_nxt;
    if (fin)
        c->flags |= TF_FIN_SENT;
    if (c->t_rexmit == FA_TIME_NEVER)
        fa_tcp_arm_rexmit(c, now);
    fa_tcp_rec_arm_probe(c, now);
    return len + (uint32_t)fin;
}

static int owe_in_batch(struct fa_tcp *c);

void fa_tcp_output(struct fa_tcp *c, fa_time now)
{
    int fin_due = (c->flags & TF_SHUT_WR) && !(c->flags & TF_FIN_SENT);
    if (may_send_data(c)) {
        if (c->snd_una == c->snd_nxt && unsent(c))
            fa_tcp_rec_before_send(c, now); /* new data after idle? */
        /* Bounded: each turn sends at least one sequence number. Without
         * c->loss nothing is in flight or lost: only what waits may go. */
        uint32_t most = c->loss || unsent(c) || fin_due ? fa_tcp_so(c)->sndbuf + fa_tcp_sb_cap(c) + 2 : 0;
        for (uint32_t n = 0; n < most && output_one(c, now, 0); n++)
            ;
        /* Data waits with nothing in flight: on a zero window, probe it
         * (RFC 9293 §3.8.6.1); on a small one that SWS avoidance will not
         * fill, the "override timeout" of §3.8.6.2.1 sends it anyway.
         * One timer serves both: nothing else would ever wake us. */
        /* The FIN waits too when it has not gone; so does what is lost
         * and not resent (the window closed on it). */
        int waiting = unsent(c) || fin_due || fa_tcp_rec_next_lost(c) >= 0;
        if (waiting && fa_tcp_pipe(c) == 0) {
            if (c->t_persist == FA_TIME_NEVER)
                c->t_persist = now + fa_tcp_rto(c);
            if (c->persist_shift && fa_tcp_window_room(c) > 0) {
                /* The window opened, short of what SWS avoidance waits
                 * for: the override timeout is RFC 1122 §4.2.3.4's
                 * 0.1-1.0 s, not the zero-window probes' backed-off wait
                 * (review: up to a minute); as Linux, the backoff ends. */
                c->persist_shift = 0;
                if (c->t_persist > now + fa_tcp_rto(c))
                    c->t_persist = now + fa_tcp_rto(c);
            }
        } else {
            c->t_persist = FA_TIME_NEVER;
            c->persist_shift = 0;
        }
        /* Data out, and neither timer runs (the window closed on it, all
         * of it SACKed or beyond the edge): RFC 6298 §5.1 — a timer must
         * run while data is outstanding; with the window shut, the
         * persist timer's probes (RFC 9293 §3.8.6.1). */
        if (c->snd_una != c->snd_nxt && c->t_rexmit == FA_TIME_NEVER &&
            c->t_persist == FA_TIME_NEVER) {
            if (seq_gt(c->snd_wl2 + c->snd_wnd, c->snd_una))
                fa_tcp_arm_rexmit(c, now);
            else
                c->t_persist = now + fa_tcp_rto(c);
        }
    }
    if ((c->flags & TF_ACK_NOW) && !owe_in_batch(c))
        send_segment(c, c->snd_nxt, FA_TCP_ACK, 0, 0, now);
    fa_tcp_timer_update(c);
}

/* In a batch, a pure ACK waits for the batch's end: one ACK then covers
 * every segment the batch brought (the frames arrived together) — but
 * not a duplicate ACK, which must go per segment (RFC 5681 §4.2). */
static int owe_in_batch(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
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
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
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

void fa_tcp_send_keep_probe(struct fa_tcp *c, uint32_t seq, fa_time now)
{
    /* A bare ACK at an old sequence number: the peer must answer it with
     * its window and ACK (RFC 9293 §3.8.6.1, RFC 1122 §4.2.3.6). With the
     * options agreed (timestamps, RFC 7323 §3.2). */
    send_segment(c, seq, FA_TCP_ACK, 0, 0, now);
}

int fa_tcp_send_probe(struct fa_tcp *c, fa_time now, int resend_only)
{
    /* RFC 8985 §7.3: a new segment if the peer's window allows one (it
     * does not count against cwnd) — but not with more than one segment
     * out (the ACK clock stopped: their ACKs lost, cwnd full) to a peer
     * that reports duplicates: a new segment lands alone at a receiver
     * that has all before it, and Linux delays the ACK of a lone segment
     * 40 ms — the probe would cost that much each time (seen on the TAP
     * at 2 % loss). The last segment again draws an ACK at once (a
     * duplicate, RFC 5681 §4.2), and its D-SACK tells that nothing was
     * lost (§7.4). A peer never seen to send D-SACKs gets new data, as
     * §7.3 says: its ACK of a resent segment would look like a repaired
     * loss and cut the window for nothing. */
    int one_out = c->snd_nxt - c->snd_una <= c->mss || !(c->flags & TF_DSACK_SEEN);
    if (!resend_only && one_out && unsent(c) && fa_tcp_window_room(c) > 0 &&
        c->loss->sb.count < c->loss->sb.cap) {
        c->cwnd += c->mss;
        uint32_t sent = output_one(c, now, 1);
        c->cwnd -= c->mss;
        if (sent)
            return 0;
    }
    /* ...else the most recent segment again (not one the peer SACKed),
     * or, when the peer's window has shrunk below it, the most recent
     * the window still holds: any copy draws the ACK the probe is for
     * (review: the probe sent nothing, and the lost ACKs of a flight
     * that outran a shrinking window waited for the RTO; Linux's probe
     * gives up there). */
    struct fa_tcp_sb *sb = &c->loss->sb;
    uint32_t edge = window_edge(c);
    uint32_t i = sb->count;
    while (i > 0 && ((fa_tcp_sb_at(sb, i - 1)->flags & SB_SACKED) ||
                     !seq_lt(fa_tcp_sb_start(sb, i - 1), edge)))
        i--;
    return i > 0 && resend(c, i - 1, now) ? 1 : 0;
}
