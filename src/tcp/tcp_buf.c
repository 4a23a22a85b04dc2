/* tcp_buf.c — the receive side's reassembly: in-window data is stored
 * straight into the receive ring at its offset from rcv_nxt; a short list of ranges
 * (FA_TCP_OOO_MAX) says what lies beyond the hole. When rcv_nxt reaches
 * a range, the range joins the readable bytes. Duplicates overwrite the
 * same bytes with the same bytes and add nothing (RFC 9293 §3.10.7.4,
 * "seventh"). */
#include "tcp.h"

/* Adds [start, end) to the out-of-order ranges, absorbing every range
 * it touches; -1 (nothing changed) when a new range finds no slot. */
static int ooo_add(struct fa_tcp *c, uint32_t start, uint32_t end)
{
    int merged = 0;
    for (int i = 0; i < c->ooo_count;) {
        const struct fa_tcp_range r = c->ooo[i];
        if (seq_le(start, r.end) && seq_ge(end, r.start)) {
            start = seq_lt(r.start, start) ? r.start : start;
            end = seq_max(r.end, end);
            c->ooo[i] = c->ooo[--c->ooo_count];
            merged = 1;
        } else {
            i++;
        }
    }
    if (!merged && c->ooo_count == FA_TCP_OOO_MAX)
        return -1;
    c->ooo[c->ooo_count++] = (struct fa_tcp_range){ start, end };
    return 0;
}

/* rcv_nxt moved: pull in every range it now reaches. */
static uint32_t ooo_advance(struct fa_tcp *c)
{
    uint32_t gained = 0;
    for (int i = 0; i < c->ooo_count; i++) {
        struct fa_tcp_range *r = &c->ooo[i];
        if (seq_gt(r->start, c->rcv_nxt))
            continue;
        if (seq_gt(r->end, c->rcv_nxt)) {
            gained += r->end - c->rcv_nxt;
            c->rcv_nxt = r->end;
        }
        c->ooo[i] = c->ooo[--c->ooo_count];
        i = -1; /* start over: another range may follow on */
    }
    return gained;
}

long fa_tcp_rcv_data(struct fa_tcp *c, uint32_t seq, const uint8_t *data,
                     uint32_t len)
{
    /* The caller trimmed the segment to [rcv_nxt, rcv_nxt + window). */
    uint32_t off = c->rcv.len + (seq - c->rcv_nxt);
    if (seq != c->rcv_nxt) {
        if (ooo_add(c, seq, seq + len) < 0)
            return -1;
        fa_ring_store(&c->rcv, off, data, len);
        return 0;
    }
    fa_ring_store(&c->rcv, off, data, len);
    c->rcv_nxt += len;
    uint32_t gained = len + ooo_advance(c);
    c->rcv.len += gained;
    return (long)gained;
}
