/* check.c — invariants the simulator checks on every run, from outside
 * the code under test (finack/sim.h: fa_sim_check_*):
 *
 *  window    no host sends a data byte beyond the right edge its peer
 *            last advertised to it (SEG.ACK + SEG.WND << scale, the scale
 *            taken from both SYNs as RFC 7323 §2.2 says);
 *  sequence  SND.UNA <= SND.NXT, and SND.UNA and RCV.NXT never move back
 *            once synchronized (a half-open's ISS may become a cookie's);
 *  states    every state change is an edge of RFC 9293's diagram (§3.3.2,
 *            figure 5), plus the aborts (RST, timeouts) that end in
 *            CLOSED — a table here, not in the TCP code;
 *  repeats   no bare ACK repeats the host's last segment on the flow
 *            (same SEQ, ACK and window) with nothing arrived since: a
 *            "window update" that updates nothing is a duplicate ACK to
 *            the sender (probes, below the highest SEQ sent, excepted);
 *  time-wait every TIME-WAIT ends on time: never past its expiry, never
 *            set to last beyond 2 MSL from now;
 *  acks      data and FIN a host took in sequence (RCV.NXT) are covered by
 *            an ACK it sent the peer can take (SEQ not below its SND.UNA:
 *            a persist or keepalive probe's ACK field is not read, RFC
 *            9293 §3.10.7.4), or an ACK is still owed (fa_tcp_info's
 *            ack_owed) — never neither: an ACK lost before the wire. Not
 *            while the peer's address is unresolved or an ARP drop was
 *            counted (the ACK waits there, or went as if on the wire);
 *  resends   no byte marked lost and waiting to be resent lies below where
 *            loss recovery looks for the next resend (fa_tcp_info's
 *            lost_hidden; a tail probe's copy once hid them till the RTO);
 *  storms    no chain of STORM bare ACKs each sent the instant the one
 *            before it arrived, repeating it, with nothing new: two ends
 *            answering each other's ACKs, whatever the round trip (a
 *            timer's probe starts no chain);
 *  backlog   no listener's accept queue holds more than its backlog (a
 *            handshake completing into a full queue once did);
 *  at once   a host that took a segment (or a FIN) out of order, or one
 *            that filled all or part of a hole in what it held
 *            (fa_tcp_info's rcv_ooo: ranges, and a FIN that came
 *            early), sends an ACK on the flow within ACK_AT_ONCE (a
 *            batch's end): RFC 5681 §4.2 — not a delayed ACK (a filled
 *            hole once waited tcp_delack when the segment swallowed every
 *            range held). Checked when the ACK leaves and by the walk.
 *            Not while the peer's address was in doubt (an ARP frame
 *            sent, or the walk saw it unresolved), nor for text dropped
 *            for want of memory (as if lost); a probe below SND.UNA pays
 *            nothing (its ACK field is not read);
 *  probe     RFC 8985 §7.2: a synchronized connection with data in
 *            flight, an RTT measured, not in recovery, nothing SACKed or
 *            marked lost (a window that shut on data marks it), no
 *            probe out, no reordering timer and a window open has a tail loss probe
 *            armed to fire no later than its RTO (fa_tcp_info's probe_at,
 *            rexmit_at): a lost tail costs a probe, not the timeout (a
 *            lone segment's PTO, past its RTO, was once not armed);
 *  cwnd      a congestion window grows no more than the bytes delivered
 *            pay for (SND.UNA's advance plus the SACKed bytes' growth):
 *            all of them in slow start up to ssthresh; beyond, MSS/cwnd
 *            of each for NewReno (RFC 5681 §3.1), half for CUBIC (RFC
 *            9438 §4.4's target is at most 1.5 cwnd); what is paid and
 *            not used carries over: under a byte for NewReno (its
 *            remainder is under one), two MSS for CUBIC; fast recovery is
 *            PRR's and ends at ssthresh; an undo the host counted may only
 *            restore cwnd to before the last cut (ACK division once grew
 *            a whole MSS for 1448 one-byte ACKs — a middlebox divides
 *            ACKs in some worlds, fa_sim_link.ack_divide; slow start once
 *            jumped past ssthresh; NewReno's remainder of a larger window
 *            grew the cut one faster). Linux's rules, stricter than
 *            RFC 5681's letter (slow start may overshoot ssthresh by an
 *            SMSS there; counting packets, eq. 3, is a MAY): a stack
 *            that follows the letter would need them relaxed;
 *  rtt       every RTT sample times a frame the host sent then (within
 *            the sample's resolution) that reached the peer before it
 *            sent the ACK the sample came on (rtt_oracle.c; a frame that
 *            waited for ARP left as the ARP frame that released it came);
 *  cleanup   fa_sim_check_idle(): once a scenario's sockets are closed
 *            and its timers run out, no connection and no buffer is left.
 *
 * Frames reach it through the simulator's frame hook, state changes
 * and RTT samples through each stack's trace hooks (the simulator chains
 * the user's). */
#include <finack/sim.h>
#include <finack/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../iface/iface.h"
#include "../wire/wire.h"
#include "sim_internal.h"

enum { FLOWS = 256 };

/* One direction of one connection, as seen by the host that sends it. */
struct flow {
    int used, host;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    int8_t my_ws, peer_ws; /* -1: not seen yet */
    int scaled;            /* both SYNs carried window scale */
    int have_edge;
    uint32_t edge;         /* right edge the peer last advertised to us */
    /* storms: when this host last received a bare ACK that repeated the
     * one before it (nothing new), and anything new; that ACK's place in
     * a chain of answers, and the place of the last one it sent */
    fa_time rx_repeat_at, rx_new_at;
    uint32_t rx_seq, rx_ack, rx_chain, tx_chain;
    uint16_t rx_win;
    /* repeats: segments arrived and not yet answered (an answer may wait
     * in the ARP queue and go out with others), the last segment sent */
    uint32_t rx_owed;
    int tx_valid, tx_bare;
    uint32_t tx_seq, tx_ack, tx_high, tx_sack_s, tx_sack_e;
    uint16_t tx_win;
    uint8_t tx_nsack;
    /* SACK: the farthest edge this host offered; the blocks of the last
     * ACK it received (not to be resent) */
    int have_my_edge;
    uint32_t my_edge;
    /* acks: the ACK field of the last segment sent the peer can take, and
     * the host's SND.UNA when the checks last looked */
    int acked_valid, una_valid;
    uint32_t acked_to, una_seen;
    uint8_t rx_nsack;
    uint32_t rx_sack[4][2];
    /* at once: an ACK is owed at once since ack_due_at (why: what came);
     * ack_arp: the host's ARP was in doubt while it was owed */
    int ack_due, ack_arp;
    fa_time ack_due_at;
    const char *ack_due_why;
};

enum { ACK_AT_ONCE = 1000000 + 1 }; /* ns: the longest batch the sim draws, and a tick */

enum { STORM = 50 };

struct seqs {
    int used, host;
    uint16_t lport, rport;
    uint32_t raddr;
    uint32_t snd_una, rcv_nxt;
    uint8_t rcv_ooo;
    /* cwnd: what the walk saw last, the growth the bytes delivered since
     * have paid for and not yet used, and the most an undo may restore */
    uint8_t recovery;
    uint32_t cwnd, ssthresh, sacked, ceiling;
    double credit;
};

struct fa_sim_check {
    /* SACK blocks of the frame arriving now, committed to its flow only
     * once the host's TCP took the frame (fa_sim_check_taken). */
    struct flow *pend_flow;
    uint8_t pend_nsack;
    uint32_t pend_sack[4][2];
    /* at once: the flow of the frame arriving now, if it asks for an ACK
     * at once — owed from its arrival (the ACK may go while the host
     * takes it), kept only once taken; what the flow owed before */
    struct flow *pend_ack;
    int pend_was_due;
    fa_time pend_was_at;
    const char *pend_was_why;
    struct flow flows[FLOWS];
    struct seqs seqs[FLOWS];
    uint64_t violations;
    char first[256];
    uint8_t sacks_given_up[64]; /* per host (fa_sim_check_sacks_given_up) */
    uint64_t undos[64];         /* per host: its TCP_UNDOS when last walked */
    fa_time arp_sent_at[64];    /* per host: when it last sent an ARP frame */
    struct fa_sim_rtt *rtt; /* the RTT oracle, made at the first frame */
    uint64_t rtt_samples, rtt_arp; /* samples seen; passed as held for ARP */
};

size_t fa_sim_check_size(void)
{
    return sizeof(struct fa_sim_check);
}

static int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

static void violation(struct fa_sim_check *k, fa_time t, const char *what)
{
    if (!k->violations++)
        snprintf(k->first, sizeof k->first, "at %.6f s: %s", (double)t / 1e9, what);
}

static struct flow *flow_get(struct fa_sim_check *k, int host, uint32_t la,
                             uint16_t lp, uint32_t ra, uint16_t rp)
{
    struct flow *free_slot = NULL;
    for (int i = 0; i < FLOWS; i++) {
        struct flow *f = &k->flows[i];
        if (!f->used) {
            if (!free_slot)
                free_slot = f;
            continue;
        }
        if (f->host == host && f->lport == lp && f->rport == rp &&
            f->laddr == la && f->raddr == ra)
            return f;
    }
    if (free_slot) {
        *free_slot = (struct flow){ .used = 1, .host = host, .laddr = la, .raddr = ra,
                                    .lport = lp, .rport = rp, .my_ws = -1, .peer_ws = -1,
                                    .rx_repeat_at = FA_TIME_NEVER,
                                    .rx_new_at = FA_TIME_NEVER };
    }
    return free_slot;
}

/* ---- storms ---------------------------------------------------------- */
/* The flow of the host that sent seg (its own point of view), if seen. */
static struct flow *sender_flow(struct fa_sim_check *k, const struct fa_sim_segment *seg)
{
    for (int i = 0; i < FLOWS; i++) {
        struct flow *f = &k->flows[i];
        if (f->used && f->laddr == seg->src && f->lport == seg->sport &&
            f->raddr == seg->dst && f->rport == seg->dport)
            return f;
    }
    return NULL;
}

static void check_storm(struct fa_sim_check *k, struct flow *f, int host, int dir,
                        const struct fa_sim_segment *seg, fa_time t)
{
    int carries = seg->len || (seg->flags & (FA_TCP_SYN | FA_TCP_FIN | FA_TCP_RST));
    int bare = !carries && (seg->flags & FA_TCP_ACK);
    if (dir == 1) {
        int repeat = bare && seg->seq == f->rx_seq && seg->ack == f->rx_ack &&
                     seg->win == f->rx_win;
        if (repeat) {
            struct flow *from = sender_flow(k, seg);
            f->rx_repeat_at = t;
            f->rx_chain = from ? from->tx_chain : 0;
        } else {
            f->rx_new_at = t; /* data, a flag, or an ACK that moved */
        }
        f->rx_seq = seg->seq;
        f->rx_ack = seg->ack;
        f->rx_win = seg->win;
        return;
    }
    if (!bare) {
        f->tx_chain = 0;
        return;
    }
    /* Sent the instant a repeated bare ACK arrived, and nothing new came
     * with it: an answer to that ACK alone. */
    f->tx_chain = f->rx_repeat_at == t && f->rx_new_at != t ? f->rx_chain + 1 : 0;
    if (f->tx_chain == STORM) {
        char msg[160];
        snprintf(msg, sizeof msg, "host %d port %u: ACK storm, %d bare ACKs each answering "
                 "the one before", host, seg->sport, STORM);
        violation(k, t, msg);
    }
}

/* ---- repeats --------------------------------------------------------- */
static void check_repeat(struct fa_sim_check *k, struct flow *f, int host, int dir,
                         const struct fa_sim_segment *seg, fa_time t)
{
    if (dir == 1) {
        f->rx_owed++;
        return;
    }
    int bare = !seg->len && !(seg->flags & (FA_TCP_SYN | FA_TCP_FIN | FA_TCP_RST)) &&
               (seg->flags & FA_TCP_ACK);
    /* Other SACK blocks (a D-SACK, RFC 2883) are news: no repeat. */
    uint32_t s0 = seg->sack_blocks ? seg->sack[0][0] : 0;
    uint32_t e0 = seg->sack_blocks ? seg->sack[0][1] : 0;
    int repeat = bare && f->tx_valid && f->tx_bare && !seq_lt(seg->seq, f->tx_high) &&
                 seg->seq == f->tx_seq && seg->ack == f->tx_ack && seg->win == f->tx_win &&
                 seg->sack_blocks == f->tx_nsack && s0 == f->tx_sack_s && e0 == f->tx_sack_e;
    if (repeat && !f->rx_owed) {
        char msg[160];
        snprintf(msg, sizeof msg, "host %d port %u: a bare ACK repeating the last, "
                 "with nothing arrived to answer", host, seg->sport);
        violation(k, t, msg);
    }
    /* A bare ACK answers one arrival — but a window update (only the
     * window moved) answers none: it must not use up the credit of an
     * arrival whose own answer may wait behind it in the ARP queue (seen
     * in 3 of 100,000 transfer seeds once SACK blocks went into ACKs). */
    int update = bare && f->tx_valid && seg->seq == f->tx_seq && seg->ack == f->tx_ack &&
                 seg->win != f->tx_win;
    /* Nor does a probe (keepalive, zero window: numbered below what was
     * sent) — it asks, it does not answer. */
    int probe = bare && f->tx_valid && seq_lt(seg->seq, f->tx_high);
    if (bare && f->rx_owed && !update && !probe)
        f->rx_owed--;
    uint32_t end = seg->seq + seg->len + !!(seg->flags & (FA_TCP_SYN | FA_TCP_FIN));
    if (!f->tx_valid || seq_lt(f->tx_high, end))
        f->tx_high = end;
    if (seg->flags & FA_TCP_SYN) /* a new connection on these ports */
        f->tx_high = end;
    f->tx_valid = 1;
    f->tx_bare = bare;
    f->tx_seq = seg->seq;
    f->tx_ack = seg->ack;
    f->tx_win = seg->win;
    f->tx_nsack = seg->sack_blocks;
    f->tx_sack_s = s0;
    f->tx_sack_e = e0;
}

void fa_sim_check_injected(struct fa_sim_check *k, int host, const uint8_t *frame,
                           size_t len, fa_time t)
{
    struct fa_sim_segment seg;
    if (!fa_sim_segment_parse(frame, len, &seg))
        return;
    struct flow *f = flow_get(k, host, seg.dst, seg.dport, seg.src, seg.sport);
    (void)t;
    if (f)
        f->rx_owed++;
}

/* ---- SACK ------------------------------------------------------------ */
static int dsack_first(const struct fa_sim_segment *g)
{
    return g->sack_blocks && (seq_lt(g->sack[0][0], g->ack) ||
                              (g->sack_blocks > 1 && !seq_lt(g->sack[0][0], g->sack[1][0]) &&
                               !seq_lt(g->sack[1][1], g->sack[0][1])));
}

/* RFC 2018 §3-4 for blocks this host sends: above the cumulative ACK,
 * within the window it offered, disjoint. */
static void check_sack_sent(struct fa_sim_check *k, struct flow *f, int host,
                            const struct fa_sim_segment *g, fa_time t)
{
    if (!(g->flags & FA_TCP_ACK) || (g->flags & FA_TCP_RST))
        return;
    uint32_t scale = (f->scaled && !(g->flags & FA_TCP_SYN)) ? (uint32_t)f->my_ws : 0;
    uint32_t edge = g->ack + ((uint32_t)g->win << scale);
    if (!f->have_my_edge || seq_lt(f->my_edge, edge))
        f->my_edge = edge;
    f->have_my_edge = 1;
    char msg[200];
    for (unsigned b = dsack_first(g) ? 1 : 0; b < g->sack_blocks; b++) {
        uint32_t s = g->sack[b][0], e = g->sack[b][1];
        int bad = !seq_lt(g->ack, s) || !seq_lt(s, e) || seq_lt(f->my_edge, e);
        for (unsigned o = dsack_first(g) ? 1 : 0; o < b && !bad; o++)
            bad = seq_lt(s, g->sack[o][1]) && seq_lt(g->sack[o][0], e);
        if (bad) {
            snprintf(msg, sizeof msg, "host %d port %u SACK block %u..%u (ack %u, edge %u): "
                     "not above the ACK, past the window or overlapping",
                     host, g->sport, s, e, g->ack, f->my_edge);
            violation(k, t, msg);
            return;
        }
    }
}

void fa_sim_check_sacks_given_up(struct fa_sim_check *k, int host, uint64_t n)
{
    k->sacks_given_up[host & 63] = n > 0;
}

/* Data this host sends must not lie inside a block the peer's last ACK
 * SACKed: the peer holds it (RFC 6675 NextSeg never picks it) — unless
 * the host gave up a SACK to make room in a full scoreboard. */
static void check_sack_resend(struct fa_sim_check *k, const struct flow *f, int host,
                              const struct fa_sim_segment *g, fa_time t)
{
    if (k->sacks_given_up[host & 63])
        return;
    for (unsigned b = 0; b < f->rx_nsack && g->len; b++)
        if (!seq_lt(g->seq, f->rx_sack[b][0]) && !seq_lt(f->rx_sack[b][1], g->seq + g->len)) {
            char msg[160];
            snprintf(msg, sizeof msg, "host %d port %u resent %u..%u, SACKed by the peer",
                     host, g->sport, g->seq, g->seq + g->len);
            violation(k, t, msg);
            return;
        }
}

static void note_sack_received(struct fa_sim_check *k, struct flow *f,
                               const struct fa_sim_segment *g)
{
    /* Only from a segment the host can accept (RFC 9293 §3.10.7.4): in
     * the window it offered; another is dropped, ACK field and all. */
    if (!f->tx_valid || !f->have_my_edge ||
        (g->seq != f->tx_ack && (seq_lt(g->seq, f->tx_ack) || !seq_lt(g->seq, f->my_edge))))
        return;
    k->pend_flow = f;
    k->pend_nsack = 0;
    for (unsigned b = dsack_first(g) ? 1 : 0; b < g->sack_blocks; b++)
        if (seq_lt(g->ack, g->sack[b][0])) {
            k->pend_sack[k->pend_nsack][0] = g->sack[b][0];
            k->pend_sack[k->pend_nsack][1] = g->sack[b][1];
            k->pend_nsack++;
        }
}

void fa_sim_check_taken(struct fa_sim_check *k, int taken, int stored)
{
    struct flow *a = k->pend_ack;
    k->pend_ack = NULL;
    if (a && !(taken && stored) && a->ack_due) { /* as if it never came */
        a->ack_due = k->pend_was_due;
        a->ack_due_at = k->pend_was_at;
        a->ack_due_why = k->pend_was_why;
    }
    struct flow *f = k->pend_flow;
    k->pend_flow = NULL;
    if (!f || !taken)
        return;
    f->rx_nsack = k->pend_nsack;
    memcpy(f->rx_sack, k->pend_sack, sizeof f->rx_sack);
}

/* ---- at once ---------------------------------------------------------- */
static const struct seqs *seqs_find(const struct fa_sim_check *k, int host, uint16_t lport,
                                    uint16_t rport, uint32_t raddr)
{
    for (int n = 0; n < FLOWS; n++) {
        const struct seqs *x = &k->seqs[n];
        if (x->used && x->host == host && x->lport == lport && x->rport == rport &&
            x->raddr == raddr)
            return x;
    }
    return NULL;
}

/* A segment with text arriving at host, whose RCV.NXT and ranges held
 * are as the checks last looked (after the host's last event): does it
 * ask for an ACK at once? (RFC 5681 §4.2.) */
static void note_ack_at_once(struct fa_sim_check *k, struct flow *f, int host,
                             const struct fa_sim_segment *g, fa_time t)
{
    k->pend_ack = NULL;
    if (!(g->len || (g->flags & FA_TCP_FIN)) || (g->flags & (FA_TCP_SYN | FA_TCP_RST)))
        return;
    const struct seqs *s = seqs_find(k, host, g->dport, g->sport, g->src);
    if (!s)
        return;
    const char *why = seq_lt(s->rcv_nxt, g->seq) ? "a segment out of order"
                      : s->rcv_ooo && seq_lt(s->rcv_nxt, g->seq + g->len)
                          ? "a segment filling a hole"
                          : NULL;
    if (!why)
        return;
    k->pend_ack = f;
    k->pend_was_due = f->ack_due;
    k->pend_was_at = f->ack_due_at;
    k->pend_was_why = f->ack_due_why;
    if (!f->ack_due) {
        f->ack_due = 1;
        f->ack_arp = 0;
        f->ack_due_at = t;
        f->ack_due_why = why;
    }
}

/* An ACK the peer can take leaves on flow f: was one owed, and for how
 * long? Late — past ACK_AT_ONCE — unless the host's ARP was in doubt
 * meanwhile (the ACK waited there: it sent ARP, or the walk saw it
 * unresolved). Checked when it leaves: the walk alone missed an ACK that
 * went late by the delayed-ACK timer (review of this check). */
static void ack_late(struct fa_sim_check *k, const struct flow *f, int host, uint16_t port,
                     fa_time t, const char *what)
{
    char msg[200];
    snprintf(msg, sizeof msg, "host %d port %u: took %s at %.6f s, and %s (RFC 5681 §4.2: "
             "at once)", host, port, f->ack_due_why, (double)f->ack_due_at / 1e9, what);
    violation(k, t, msg);
}

static void ack_sent(struct fa_sim_check *k, struct flow *f, int host,
                     const struct fa_sim_segment *g, fa_time t)
{
    if (!f->ack_due)
        return;
    f->ack_due = 0;
    if (t > f->ack_due_at + ACK_AT_ONCE && !f->ack_arp &&
        k->arp_sent_at[host & 63] < f->ack_due_at)
        ack_late(k, f, host, g->sport, t, "its ACK went only now");
}

/* ---- window ---------------------------------------------------------- */
void fa_sim_check_frame(struct fa_sim_check *k, int host, int dir,
                        const uint8_t *frame, size_t len, fa_time t)
{
    struct fa_sim_segment seg;
    if (dir == 0 && len >= FA_ETH_HLEN && fa_get16(frame + 12) == FA_ETHERTYPE_ARP)
        k->arp_sent_at[host & 63] = t; /* at once: an ACK may wait for it */
    if (!fa_sim_segment_parse(frame, len, &seg))
        return; /* corrupted frames are the receiver's business */
    /* The flow from this host's point of view. */
    struct flow *f = dir == 0
        ? flow_get(k, host, seg.src, seg.sport, seg.dst, seg.dport)
        : flow_get(k, host, seg.dst, seg.dport, seg.src, seg.sport);
    if (!f)
        return;
    if (seg.flags & FA_TCP_SYN) {
        int8_t ws = seg.ws >= 0 ? (int8_t)seg.ws : -2;
        if (dir == 0)
            f->my_ws = ws;
        else
            f->peer_ws = ws;
        /* A new connection on the same ports starts afresh. */
        if (!(seg.flags & FA_TCP_ACK) && dir == 0)
            f->have_edge = 0;
        if (!(seg.flags & FA_TCP_ACK))
            f->acked_valid = f->una_valid = 0;
    }
    if (dir == 0 && (seg.flags & FA_TCP_ACK) && !(seg.flags & FA_TCP_RST) &&
        (!f->una_valid || !seq_lt(seg.seq, f->una_seen))) {
        f->acked_to = seg.ack;
        f->acked_valid = 1;
    }
    f->scaled = f->my_ws >= 0 && f->peer_ws >= 0;
    check_storm(k, f, host, dir, &seg, t);
    check_repeat(k, f, host, dir, &seg, t);
    if (dir == 0 && (seg.flags & (FA_TCP_ACK | FA_TCP_RST | FA_TCP_SYN)) &&
        (!f->una_valid || !seq_lt(seg.seq, f->una_seen))) /* (a probe's ACK is not read) */
        ack_sent(k, f, host, &seg, t); /* answered (or a new connection on these ports) */
    if (dir == 1)
        note_ack_at_once(k, f, host, &seg, t);
    if (dir == 0) {
        check_sack_sent(k, f, host, &seg, t);
        check_sack_resend(k, f, host, &seg, t);
    }
    if (dir == 1) {
        if (!(seg.flags & FA_TCP_ACK) || (seg.flags & FA_TCP_RST))
            return;
        note_sack_received(k, f, &seg);
        uint32_t scale = (f->scaled && !(seg.flags & FA_TCP_SYN)) ? (uint32_t)f->peer_ws : 0;
        uint32_t edge = seg.ack + ((uint32_t)seg.win << scale);
        /* The peer's window may lag behind an edge it offered earlier in
         * a reordered segment: keep the farthest (senders may use it). */
        if (!f->have_edge || seq_lt(f->edge, edge))
            f->edge = edge;
        f->have_edge = 1;
        return;
    }
    if (seg.len && f->have_edge && !(seg.flags & FA_TCP_SYN) &&
        seq_lt(f->edge, seg.seq + seg.len)) {
        char msg[160];
        snprintf(msg, sizeof msg, "host %d port %u sent %u..%u beyond the window edge %u",
                 host, seg.sport, seg.seq, seg.seq + seg.len, f->edge);
        violation(k, t, msg);
    }
}

/* ---- states ---------------------------------------------------------- */
static int edge_allowed(int from, int to)
{
    enum { C = FA_TCP_CLOSED, L = FA_TCP_LISTEN, SS = FA_TCP_SYN_SENT,
           SR = FA_TCP_SYN_RECEIVED, E = FA_TCP_ESTABLISHED, F1 = FA_TCP_FIN_WAIT_1,
           F2 = FA_TCP_FIN_WAIT_2, CW = FA_TCP_CLOSE_WAIT, CG = FA_TCP_CLOSING,
           LA = FA_TCP_LAST_ACK, TW = FA_TCP_TIME_WAIT };
    static const unsigned char ok[][2] = {
        { C, L }, { C, SS }, { L, C }, { L, SS },
        /* A passive open clones the listener into a new TCB in SYN-RCVD. */
        { C, SR }, { L, SR },
        { SS, SR }, { SS, E }, { SS, C },
        { SR, E }, { SR, F1 }, { SR, C }, { SR, L },
        { E, F1 }, { E, CW }, { E, C },
        { F1, F2 }, { F1, CG }, { F1, TW }, { F1, C },
        { F2, TW }, { F2, C },
        { CW, LA }, { CW, C },
        { CG, TW }, { CG, C },
        { LA, C }, { TW, C },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i][0] == from && ok[i][1] == to)
            return 1;
    return 0;
}

void fa_sim_check_state(struct fa_sim_check *k, int host, int from, int to,
                        fa_time t)
{
    if (edge_allowed(from, to))
        return;
    char msg[128];
    snprintf(msg, sizeof msg, "host %d: %s -> %s is no edge of RFC 9293's diagram",
             host, fa_tcp_state_name((enum fa_tcp_state)from),
             fa_tcp_state_name((enum fa_tcp_state)to));
    violation(k, t, msg);
}

/* ---- sequence numbers ------------------------------------------------ */
struct walk_ctx {
    struct fa_sim_check *k;
    int host;
    fa_time t, msl;
    const struct fa_stack *stack;
    int undid; /* the host counted an undo since its last walk */
};

/* acks (above). */
static int arp_in_doubt(const struct walk_ctx *w, uint32_t peer)
{
    static const unsigned drops[] = { FA_CNT_ARP_CACHE_FULL, FA_CNT_ARP_QUEUE_FULL,
                                      FA_CNT_ARP_UNRESOLVED, FA_CNT_TX_OFFLOAD_UNSENT };
    for (unsigned d = 0; d < sizeof drops / sizeof drops[0]; d++)
        if (fa_stack_counter(w->stack, drops[d]))
            return 1;
    return !fa_arp_resolved((struct fa_stack *)w->stack, peer);
}

static void check_ack_at_once(struct walk_ctx *w, struct flow *f, const struct fa_tcp_info *i)
{
    if (!f->ack_due)
        return;
    if (arp_in_doubt(w, i->remote_addr))
        f->ack_arp = 1;
    if (w->t <= f->ack_due_at + ACK_AT_ONCE)
        return;
    f->ack_due = 0;
    if (!f->ack_arp)
        ack_late(w->k, f, w->host, i->local_port, w->t, "has sent no ACK since");
}

static void check_acks(struct walk_ctx *w, const struct fa_tcp_info *i)
{
    struct flow *f = flow_get(w->k, w->host, i->local_addr, i->local_port, i->remote_addr,
                              i->remote_port);
    if (!f)
        return;
    check_ack_at_once(w, f, i);
    f->una_seen = i->snd_una;
    f->una_valid = 1;
    if (!f->acked_valid || !seq_lt(f->acked_to, i->rcv_nxt) || i->ack_owed ||
        arp_in_doubt(w, i->remote_addr))
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "host %d port %u: RCV.NXT %u, its last ACK the peer can take "
             "%u, and no ACK owed", w->host, i->local_port, i->rcv_nxt, f->acked_to);
    violation(w->k, w->t, msg);
}

static void check_time_wait(struct walk_ctx *w, const struct fa_tcp_info *i)
{
    char msg[160];
    if (i->next_timer < w->t || i->next_timer > w->t + 2 * w->msl) {
        snprintf(msg, sizeof msg, "host %d port %u: TIME-WAIT due at %.6f s, not within 2 MSL",
                 w->host, i->local_port, (double)i->next_timer / 1e9);
        violation(w->k, w->t, msg);
    }
}

/* Loss state only while the send side is busy (tcp_recovery.c): an idle
 * connection (a FIN waiting on a shut window included), one whose FIN
 * was acknowledged, or one that ended, holds no block for nothing. */
static void check_loss_state(struct walk_ctx *w, const struct fa_tcp_info *i)
{
    int idle = (i->state == FA_TCP_ESTABLISHED || i->state == FA_TCP_CLOSE_WAIT ||
                i->state == FA_TCP_FIN_WAIT_1 || i->state == FA_TCP_LAST_ACK) &&
               i->snd_nxt == i->snd_una && !i->send_queued; /* (a FIN not yet sent) */
    int done = i->state == FA_TCP_FIN_WAIT_2 || i->state == FA_TCP_TIME_WAIT ||
               i->state == FA_TCP_CLOSED;
    if ((idle || done) && i->loss_state) {
        char msg[160];
        snprintf(msg, sizeof msg, "host %d port %u: %s, and still holds loss state", w->host,
                 i->local_port, fa_tcp_state_name(i->state));
        violation(w->k, w->t, msg);
    }
}

static void check_probe(struct walk_ctx *w, const struct fa_tcp_info *i)
{
    int synced = i->state == FA_TCP_ESTABLISHED || i->state == FA_TCP_CLOSE_WAIT ||
                 i->state == FA_TCP_FIN_WAIT_1 || i->state == FA_TCP_CLOSING ||
                 i->state == FA_TCP_LAST_ACK;
    if (!synced || !i->loss_state || !i->srtt || i->snd_una == i->snd_nxt || !i->snd_wnd ||
        i->recovery != 0 || i->sacked || i->lost || i->probe_out || i->reorder_wait ||
        i->rexmit_at == FA_TIME_NEVER || i->rexmit_at <= w->t || i->probe_at <= i->rexmit_at)
        return;
    char msg[200];
    snprintf(msg, sizeof msg, "host %d port %u: %u bytes in flight, RTO at %.6f s and no tail "
             "loss probe before it (RFC 8985 §7.2)", w->host, i->local_port,
             i->snd_nxt - i->snd_una, (double)i->rexmit_at / 1e9);
    violation(w->k, w->t, msg);
}

/* cwnd (above). Growth is paid for by bytes delivered since the last
 * look (SND.UNA's advance and the SACKed bytes' growth): in slow start
 * all of them up to ssthresh, and beyond it what congestion avoidance
 * allows — NewReno MSS / cwnd of a byte for each (RFC 5681 §3.1, eq. 3),
 * CUBIC half (its target is at most 1.5 cwnd a round trip, RFC 9438
 * §4.4, a Reno-friendly W_est less). What is paid and unused carries
 * over, capped (below) — no more, or the many ACKs of a bulk flow would
 * pay for a burst later. Fast recovery is PRR's (RFC 6937: cwnd follows
 * the pipe); leaving it, cwnd is at most ssthresh. An undo (the host
 * counted one) may restore cwnd to what it was before the last cut, no
 * further. */
static void check_cwnd(struct walk_ctx *w, struct seqs *s, const struct fa_tcp_info *i)
{
    /* A byte SACKed and later acknowledged may pay twice: finack grows
     * cwnd on the cumulative ACK (SACKs in loss recovery do not), and a
     * stack may grow on both (Linux counts it once, when SACKed). */
    int64_t delivered = (int64_t)(uint32_t)(i->snd_una - s->snd_una);
    if (i->sacked > s->sacked)
        delivered += i->sacked - s->sacked;
    if ((i->cwnd < s->cwnd || i->ssthresh < s->ssthresh) && s->cwnd > s->ceiling)
        s->ceiling = s->cwnd;
    /* Where growth starts from: an undo first restores cwnd (to before
     * the last cut at most) and ssthresh. In fast recovery PRR sets cwnd
     * (RFC 6937: the pipe and what the ACK lets go, a send allowance whose
     * pipe, resends counted, may exceed the old cwnd; test_tcp_modern.c
     * holds PRR), not growth; at its end cwnd is ssthresh. */
    uint32_t from = s->cwnd, ssthresh = s->ssthresh;
    if (w->undid) {
        from = s->ceiling > from ? s->ceiling : from;
        ssthresh = i->ssthresh > ssthresh ? i->ssthresh : ssthresh;
    }
    if (i->recovery == 1)
        from = UINT32_MAX;
    else if (s->recovery == 1 && i->ssthresh > from)
        from = i->ssthresh;
    else if (!w->undid && i->ssthresh < s->ssthresh && i->ssthresh < from)
        /* A cut between two looks — a tail loss probe's repair that the
         * ACK reported — grows on that ACK from the cut window, as Linux's
         * tcp_end_cwnd_reduction then tcp_cong_avoid do (transfer seed
         * 580: cut to 2 MSS, then 7 MSS of the ACK's bytes at MSS/cwnd). */
        from = i->ssthresh;
    double per = i->congestion == FA_TCP_CC_NEWRENO ? (double)i->mss / from : 0.5;
    double allow = (double)delivered * per;
    if (from < ssthresh) { /* slow start to ssthresh, then the rest */
        int64_t room = (int64_t)ssthresh - from;
        allow = delivered <= room ? (double)delivered : room + (double)(delivered - room) * per;
    }
    s->credit += allow;
    if (i->cwnd > from) {
        s->credit -= i->cwnd - from;
        if (s->credit < -0.5) {
            char msg[232];
            snprintf(msg, sizeof msg, "host %d port %u: cwnd grew %u -> %u (ssthresh %u) for %lld "
                     "bytes delivered: more than %s allows", w->host, i->local_port, from, i->cwnd,
                     ssthresh, (long long)delivered,
                     from < ssthresh ? "slow start (RFC 5681 §3.1, never past ssthresh as Linux's)"
                                     : "congestion avoidance (RFC 5681 §3.1, RFC 9438 §4.4)");
            violation(w->k, w->t, msg);
            s->credit = 0;
        }
    }
    /* What carries to the next look: NewReno's remainder is under a
     * byte of growth; CUBIC's target moves in steps. */
    double cap = i->congestion == FA_TCP_CC_NEWRENO ? 1.0 : 2.0 * i->mss;
    if (s->credit > cap)
        s->credit = cap;
    if (i->cwnd >= s->ceiling)
        s->ceiling = 0; /* back where it was cut: undone, or grown back */
    s->recovery = i->recovery;
    s->cwnd = i->cwnd;
    s->ssthresh = i->ssthresh;
    s->sacked = i->sacked;
}

static void check_conn(void *ctx, const struct fa_tcp_info *i)
{
    struct walk_ctx *w = ctx;
    struct fa_sim_check *k = w->k;
    if (i->state == FA_TCP_LISTEN && i->accept_queued > i->backlog) {
        char msg[160];
        snprintf(msg, sizeof msg, "host %d port %u: %u connections wait for accept, past the "
                 "backlog of %u", w->host, i->local_port, i->accept_queued, i->backlog);
        violation(k, w->t, msg);
    }
    check_loss_state(w, i);
    check_probe(w, i);
    if (i->state == FA_TCP_TIME_WAIT)
        check_time_wait(w, i);
    if (i->state == FA_TCP_LISTEN || i->state == FA_TCP_CLOSED ||
        i->state == FA_TCP_TIME_WAIT || i->state == FA_TCP_SYN_SENT)
        return;
    if (i->state != FA_TCP_SYN_RECEIVED)
        check_acks(w, i);
    char msg[160];
    if (seq_lt(i->snd_nxt, i->snd_una)) {
        snprintf(msg, sizeof msg, "host %d port %u: SND.NXT %u below SND.UNA %u",
                 w->host, i->local_port, i->snd_nxt, i->snd_una);
        violation(k, w->t, msg);
    }
    if (i->snd_nxt != i->snd_una && i->next_timer == FA_TIME_NEVER) {
        snprintf(msg, sizeof msg, "host %d port %u: %u bytes in flight and no timer armed "
                 "(RFC 6298 §5.1)", w->host, i->local_port, i->snd_nxt - i->snd_una);
        violation(k, w->t, msg);
    }
    if (i->lost_hidden) {
        snprintf(msg, sizeof msg, "host %d port %u: %u bytes lost and waiting below where "
                 "the next resend is looked for (NextSeg, RFC 6675)", w->host, i->local_port,
                 i->lost_hidden);
        violation(k, w->t, msg);
    }
    if ((uint64_t)i->sacked + i->lost > i->snd_nxt - i->snd_una) {
        snprintf(msg, sizeof msg, "host %d port %u: scoreboard SACKed %u + lost %u beyond "
                 "the %u bytes in flight", w->host, i->local_port, i->sacked, i->lost,
                 i->snd_nxt - i->snd_una);
        violation(k, w->t, msg);
    }
    /* A half-open connection's numbers may yet become a SYN cookie's
     * (tcp_in.c check_ack: the peer took the cookie's SYN-ACK): its
     * sequence is tracked from ESTABLISHED on (apps seed 999, a SYN
     * resent late over a path of seconds). */
    if (i->state == FA_TCP_SYN_RECEIVED)
        return;
    struct seqs *free_slot = NULL, *s = NULL;
    for (int n = 0; n < FLOWS && !s; n++) {
        struct seqs *x = &k->seqs[n];
        if (!x->used) {
            free_slot = free_slot ? free_slot : x;
        } else if (x->host == w->host && x->lport == i->local_port &&
                   x->rport == i->remote_port && x->raddr == i->remote_addr) {
            s = x;
        }
    }
    if (!s) {
        if (free_slot)
            *free_slot = (struct seqs){ 1,           w->host,     i->local_port, i->remote_port,
                                        i->remote_addr, i->snd_una, i->rcv_nxt, i->rcv_ooo,
                                        i->recovery, i->cwnd,   i->ssthresh, i->sacked, 0, 0 };
        return;
    }
    check_cwnd(w, s, i);
    if (seq_lt(i->snd_una, s->snd_una) || seq_lt(i->rcv_nxt, s->rcv_nxt)) {
        snprintf(msg, sizeof msg, "host %d port %u: SND.UNA or RCV.NXT went backwards",
                 w->host, i->local_port);
        violation(k, w->t, msg);
    }
    s->snd_una = i->snd_una;
    s->rcv_nxt = i->rcv_nxt;
    s->rcv_ooo = i->rcv_ooo;
}

/* The stack-wide budget (config.tcp_mem_max) bounds the ring bytes held
 * at once, whatever the connections do (a FIN never takes a ring). */
static void check_budget(struct fa_sim_check *k, int host, const struct fa_stack *stack,
                         fa_time t)
{
    uint64_t max = fa_stack_config(stack)->tcp_mem_max;
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(stack, &u);
    if (max && u.buffer_bytes > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "host %d holds %llu buffer bytes, past its budget of %llu",
                 host, (unsigned long long)u.buffer_bytes, (unsigned long long)max);
        violation(k, t, msg);
    }
}

void fa_sim_check_seqs(struct fa_sim_check *k, int host,
                       const struct fa_stack *stack, fa_time t)
{
    uint64_t undos = fa_stack_counter(stack, FA_CNT_TCP_UNDOS);
    struct walk_ctx w = { k, host, t, fa_stack_config(stack)->tcp_msl, stack,
                          host < 64 && undos != k->undos[host] };
    if (host < 64)
        k->undos[host] = undos;
    fa_stack_tcp_walk(stack, check_conn, &w);
    check_budget(k, host, stack, t);
}

/* A connection that ended frees its slot, so a new one on the same ports
 * starts afresh. */
/* ---- rtt ------------------------------------------------------------- */
uint64_t fa_sim_check_sent(struct fa_sim_check *k, int host, const uint8_t *frame,
                           size_t len, fa_time now, int arp)
{
    if (!k->rtt && !(k->rtt = fa_sim_rtt_create()))
        return 0;
    return fa_sim_rtt_sent(k->rtt, host, frame, len, now, arp);
}

void fa_sim_check_delivered(struct fa_sim_check *k, uint64_t tag, uint32_t to,
                            const uint8_t *frame, size_t len, fa_time now)
{
    if (k->rtt && tag)
        fa_sim_rtt_delivered(k->rtt, tag, to, frame, len, now);
}

void fa_sim_check_rtt(struct fa_sim_check *k, int host, const struct fa_tcp *sock,
                      fa_time rtt, int source, int64_t answer_sent, fa_time now)
{
    struct fa_tcp_info i;
    struct fa_sim_rtt_verdict v;
    k->rtt_samples++;
    if (!k->rtt || answer_sent < 0)
        return; /* (a loopback connection's, or on a forged frame) */
    fa_tcp_get_info(sock, &i);
    struct fa_sim_rtt_sample q = { host, i.remote_addr, i.local_port, i.remote_port,
                                   rtt, source, (fa_time)answer_sent, now };
    if (fa_sim_rtt_judge(k->rtt, &q, &v))
        return;
    /* A frame that waited for ARP left when the answer came, later than
     * the stack stamped it: its round trip rightly counts the wait (as
     * Linux's, stamped above the neighbour layer). The first frame sent
     * since the stamp is the one held, if an ARP frame released it. */
    if (v.first_arp && v.first_arrived <= (fa_time)answer_sent) {
        k->rtt_arp++;
        return;
    }
    char why[224];
    snprintf(why, sizeof why,
             "rtt: host %d port %u took an RTT sample of %.3f ms (%s): no frame it sent at "
             "%.6f s reached the peer before it answered at %.6f s",
             host, i.local_port, (double)rtt / 1e6,
             source == FA_RTT_CLOCK ? "clock" : source == FA_RTT_ECHO ? "echo" : "cookie echo",
             (double)v.at / 1e9, (double)answer_sent / 1e9);
    violation(k, now, why);
}

void fa_sim_check_rtt_stats(const struct fa_sim *sim, struct fa_sim_rtt_stats *out)
{
    const struct fa_sim_check *k = fa_sim_checker(sim);
    *out = (struct fa_sim_rtt_stats){ 0 };
    if (!k)
        return;
    fa_sim_rtt_counts(k->rtt, &out->judged, &out->unknown);
    out->samples = k->rtt_samples;
    out->arp_excused = k->rtt_arp;
}

void fa_sim_check_free(struct fa_sim_check *k)
{
    if (k)
        fa_sim_rtt_destroy(k->rtt);
    free(k);
}

void fa_sim_check_forget(struct fa_sim_check *k, int host, uint32_t raddr, uint16_t lport,
                         uint16_t rport)
{
    /* (By the whole 4-tuple: two clients may pick one port — review.) */
    if (k->rtt)
        fa_sim_rtt_forget(k->rtt, host, raddr, lport, rport);
    for (int n = 0; n < FLOWS; n++) {
        struct seqs *x = &k->seqs[n];
        if (x->used && x->host == host && x->raddr == raddr && x->lport == lport &&
            x->rport == rport)
            x->used = 0;
    }
}

/* ---- public ---------------------------------------------------------- */
uint64_t fa_sim_check_violations(const struct fa_sim *sim)
{
    const struct fa_sim_check *k = fa_sim_checker(sim);
    return k ? k->violations : 0;
}

const char *fa_sim_check_first(const struct fa_sim *sim)
{
    const struct fa_sim_check *k = fa_sim_checker(sim);
    return k && k->violations ? k->first : NULL;
}

int fa_sim_check_idle(struct fa_sim *sim, int hosts)
{
    struct fa_sim_check *k = fa_sim_checker(sim);
    int clean = 1;
    for (int h = 0; h < hosts; h++) {
        struct fa_tcp_usage u;
        fa_stack_tcp_usage(fa_sim_stack(sim, h), &u);
        if (u.sockets || u.time_wait || u.buffer_bytes || u.half_open || u.loss_states) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "host %d left %u sockets, %u TIME-WAIT, %llu buffer bytes, %u half-open, "
                     "%u loss states", h, u.sockets, u.time_wait,
                     (unsigned long long)u.buffer_bytes, u.half_open, u.loss_states);
            if (k)
                violation(k, fa_sim_now(sim), msg);
            clean = 0;
        }
    }
    return clean;
}
