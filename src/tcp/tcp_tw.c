/* tcp_tw.c — TIME-WAIT in compact form (RFC 9293 §3.6.1): once nobody
 * holds a handle, a connection in TIME-WAIT keeps only its 4-tuple, the
 * sequence numbers needed to re-ACK a retransmitted FIN, its rate-limit
 * stamp and its expiry: 48 bytes instead of a control block (struct
 * fa_tcp) and its buffers. Entries all last 2 x MSL, so they expire in
 * the order they were made (or last restarted): a FIFO list, no scan. When the table is full the oldest
 * entry makes room (counted as a timeout). */
#include "tcp.h"

#define NONE UINT32_MAX

static uint32_t tw_bucket(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                          uint32_t raddr, uint16_t rport)
{
    return (uint32_t)fa_tcp_tuple_hash(s, laddr, lport, raddr, rport) &
           s->tcp->tw_hash_mask;
}

static void fifo_unlink(struct fa_tcp_stack *t, uint32_t i)
{
    struct fa_tcp_tw *e = &t->tw[i];
    if (e->prev != NONE) t->tw[e->prev].next = e->next; else t->tw_oldest = e->next;
    if (e->next != NONE) t->tw[e->next].prev = e->prev; else t->tw_newest = e->prev;
}

static void fifo_append(struct fa_tcp_stack *t, uint32_t i)
{
    struct fa_tcp_tw *e = &t->tw[i];
    e->prev = t->tw_newest;
    e->next = NONE;
    if (t->tw_newest != NONE) t->tw[t->tw_newest].next = i; else t->tw_oldest = i;
    t->tw_newest = i;
}

void fa_tcp_tw_remove(struct fa_stack *s, struct fa_tcp_tw *tw)
{
    struct fa_tcp_stack *t = s->tcp;
    uint32_t i = (uint32_t)(tw - t->tw);
    uint32_t *pp = &t->tw_hash[tw_bucket(s, tw->laddr, tw->lport, tw->raddr, tw->rport)];
    while (*pp != NONE && *pp != i)
        pp = &t->tw[*pp].hash_next;
    if (*pp == i)
        *pp = tw->hash_next;
    fifo_unlink(t, i);
    tw->next = t->tw_free;
    t->tw_free = i;
    t->tw_count--;
}

void fa_tcp_tw_enter(struct fa_tcp *c, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    struct fa_tcp_stack *t = s->tcp;
    if (t->tw_free == NONE) { /* config.tcp_max_timewait: the oldest goes early */
        fa_count(s, FA_CNT_TCP_TIMEWAIT_FULL);
        fa_tcp_tw_remove(s, &t->tw[t->tw_oldest]);
    }
    uint32_t i = t->tw_free;
    struct fa_tcp_tw *tw = &t->tw[i];
    t->tw_free = tw->next;
    t->tw_count++;
    /* A connection its application held in TIME-WAIT keeps its expiry —
     * but the list must stay in expiry order (fa_tcp_tw_poll looks at
     * the oldest only), so it lasts at least as long as the newest entry
     * (never past 2 MSL from now; longer than 2 MSL is safe: RFC 9293
     * §3.6.1 asks for at least): an entry behind a later one expired late
     * (sim apps seed 61864). */
    fa_time expires = c->t_close != FA_TIME_NEVER ? c->t_close : now + 2 * s->cfg.tcp_msl;
    if (t->tw_newest != NONE && t->tw[t->tw_newest].expires > expires)
        expires = t->tw[t->tw_newest].expires;
    *tw = (struct fa_tcp_tw){
        .laddr = c->laddr, .raddr = c->raddr, .lport = c->lport, .rport = c->rport,
        .snd_nxt = c->snd_nxt, .rcv_nxt = c->rcv_nxt,
        .expires = expires,
        .ts_offset = c->ts_offset, .ts_recent = c->ts_recent,
        .has_ts = (c->flags & TF_TS) != 0,
    };
    uint32_t b = tw_bucket(s, tw->laddr, tw->lport, tw->raddr, tw->rport);
    tw->hash_next = t->tw_hash[b];
    t->tw_hash[b] = i;
    fifo_append(t, i);
    c->flags &= ~TF_HANDLE;
    fa_tcp_free(c);
}

struct fa_tcp_tw *fa_tcp_tw_lookup(struct fa_stack *s, uint32_t laddr,
                                   uint16_t lport, uint32_t raddr,
                                   uint16_t rport)
{
    struct fa_tcp_stack *t = s->tcp;
    for (uint32_t i = t->tw_hash[tw_bucket(s, laddr, lport, raddr, rport)];
         i != NONE; i = t->tw[i].hash_next) {
        struct fa_tcp_tw *e = &t->tw[i];
        if (e->lport == lport && e->rport == rport && e->raddr == raddr &&
            e->laddr == laddr)
            return e;
    }
    return NULL;
}

static void tw_ack(struct fa_stack *s, const struct fa_tcp_tw *tw, fa_time now)
{
    /* RFC 7323 §3.2: with timestamps agreed, every segment carries them. */
    struct fa_tcp_opts o = { 0 };
    if (tw->has_ts) {
        o.has_ts = 1;
        o.ts_val = (uint32_t)(now / FA_NS_PER_MS) + tw->ts_offset;
        o.ts_ecr = tw->ts_recent;
    }
    fa_tcp_send_bare(s, tw->laddr, tw->lport, tw->raddr, tw->rport, tw->snd_nxt,
                     tw->rcv_nxt, FA_TCP_ACK, 0, &o, now);
}

int fa_tcp_tw_reopens(const struct fa_tcp_tw *tw, const struct fa_tcp_view *seg)
{
    /* RFC 6191 §2: with timestamps on both incarnations, a SYN whose
     * TSval is newer than the old TS.Recent may reopen, whatever its
     * sequence number; else (RFC 1122 §4.2.2.13) only a SYN above the
     * old RCV.NXT. */
    if (tw->has_ts && seg->opts.has_ts) {
        int32_t d = (int32_t)(seg->opts.ts_val - tw->ts_recent);
        return d > 0 || (d == 0 && seq_gt(seg->seq, tw->rcv_nxt));
    }
    return seq_gt(seg->seq, tw->rcv_nxt);
}

/* RFC 9293 §3.10.7.4 in TIME-WAIT, with a receive window of zero: only
 * RCV.NXT itself is in the window. Only what needs an answer gets one:
 * an acceptable bare ACK is dropped silently, as Linux does — answering
 * it would let two TIME-WAITs (a simultaneous close) ACK each other's
 * ACKs for 2 MSL. */
void fa_tcp_tw_input(struct fa_stack *s, struct fa_tcp_tw *tw,
                     const struct fa_tcp_view *seg, fa_time now)
{
    struct fa_tcp_stack *t = s->tcp;
    if (seg->flags & FA_TCP_RST) {
        /* RFC 5961 §3.2: an RST exactly at RCV.NXT ends it. With a zero
         * window no other sequence number is in the window, so there is
         * nothing to challenge: any other RST is dropped. */
        if (seg->seq == tw->rcv_nxt) {
            fa_count(s, FA_CNT_TCP_RST_IN);
            fa_tcp_tw_remove(s, tw);
            return;
        }
        fa_count(s, FA_CNT_TCP_STRAY);
        return;
    }
    if (seg->flags & FA_TCP_SYN) {
        /* RFC 5961 §4 (a SYN that may reopen the 4-tuple never gets here:
         * fa_tcp_input takes it): a challenge ACK. */
        if (fa_tcp_challenge_allowed(s, &tw->invalid_stamp, now))
            tw_ack(s, tw, now);
        return;
    }
    if ((seg->flags & FA_TCP_FIN) && seg->seq + seg->data_len + 1 == tw->rcv_nxt) {
        /* The remote FIN again (our ACK of it was lost): acknowledge it
         * and restart the 2 MSL timeout (L14). */
        uint32_t i = (uint32_t)(tw - t->tw);
        tw->expires = now + 2 * s->cfg.tcp_msl;
        fifo_unlink(t, i);
        fifo_append(t, i);
        tw_ack(s, tw, now);
        return;
    }
    if (seg->seq == tw->rcv_nxt && fa_tcp_seg_len(seg) == 0)
        return; /* acceptable, and nothing to acknowledge */
    /* Unacceptable: answered with an ACK, a bare one at most once per
     * interval (tcp_ratelimit.c). */
    fa_count(s, FA_CNT_TCP_UNACCEPTABLE);
    if (fa_tcp_seg_len(seg) || fa_tcp_invalid_allowed(s, &tw->invalid_stamp, now))
        tw_ack(s, tw, now);
}

void fa_tcp_tw_poll(struct fa_stack *s, fa_time now)
{
    struct fa_tcp_stack *t = s->tcp;
    while (t->tw_oldest != NONE && t->tw[t->tw_oldest].expires <= now)
        fa_tcp_tw_remove(s, &t->tw[t->tw_oldest]);
}

fa_time fa_tcp_tw_next(const struct fa_stack *s)
{
    const struct fa_tcp_stack *t = s->tcp;
    return t->tw_oldest != NONE ? t->tw[t->tw_oldest].expires : FA_TIME_NEVER;
}
