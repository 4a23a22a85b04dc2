/* tcp_buf.c — the receive side's reassembly: in-window data is stored
 * straight into the receive ring at its offset from rcv_nxt (its storage
 * attached first, tcp_mem.c); a list of ranges (fa_tcp_ooo_cap(), sized with the
 * buffer, kept in the ring's storage) says what lies beyond the hole. When rcv_nxt reaches
 * a range, the range joins the readable bytes. Duplicates overwrite the
 * same bytes with the same bytes and add nothing (RFC 9293 §3.10.7.4,
 * "seventh"). */
#include <errno.h>
#include <string.h>

#include "tcp.h"

/* Removes range i, keeping the others' order. */
static void ooo_remove(struct fa_tcp *c, int i)
{
    struct fa_tcp_range *ooo = fa_tcp_ooo(c);
    memmove(&ooo[i], &ooo[i + 1], (size_t)(c->ooo_count - i - 1) * sizeof *ooo);
    c->ooo_count--;
}

/* Adds [start, end) to the out-of-order ranges, absorbing every range
 * it touches, and puts the result first: SACK blocks report the most
 * recent first (RFC 2018 §4). Bytes held already are a duplicate to
 * report (RFC 2883). -1 (nothing changed) when a new range finds no
 * slot. */
static int ooo_add(struct fa_tcp *c, uint32_t start, uint32_t end)
{
    int merged = 0;
    struct fa_tcp_range dup = { 0, 0 };
    for (int i = 0; i < c->ooo_count;) {
        const struct fa_tcp_range r = fa_tcp_ooo(c)[i];
        if (seq_le(start, r.end) && seq_ge(end, r.start)) {
            uint32_t lo = seq_max(start, r.start);
            uint32_t hi = seq_lt(end, r.end) ? end : r.end;
            if (seq_lt(lo, hi) && dup.start == dup.end)
                dup = (struct fa_tcp_range){ lo, hi };
            start = seq_lt(r.start, start) ? r.start : start;
            end = seq_max(r.end, end);
            ooo_remove(c, i);
            merged = 1;
        } else {
            i++;
        }
    }
    if (!merged && c->ooo_count == fa_tcp_ooo_cap(c))
        return -1;
    struct fa_tcp_range *ooo = fa_tcp_ooo(c);
    memmove(&ooo[1], &ooo[0], (size_t)c->ooo_count * sizeof *ooo);
    ooo[0] = (struct fa_tcp_range){ start, end };
    c->ooo_count++;
    fa_tcp_dsack_note(c, dup.start, dup.end);
    return 0;
}

/* An in-order segment ending at end covers bytes held beyond the hole:
 * a duplicate to report, the first such (RFC 2883 §4; review of the
 * receive side: a resend that filled the hole and covered a held range
 * went unreported, so the sender could not tell it was needless). */
static void ooo_dup_note(struct fa_tcp *c, uint32_t start, uint32_t end)
{
    for (int i = 0; i < c->ooo_count; i++) {
        const struct fa_tcp_range r = fa_tcp_ooo(c)[i];
        if (seq_lt(r.start, end) && seq_lt(start, r.end)) {
            fa_tcp_dsack_note(c, seq_max(r.start, start), seq_lt(r.end, end) ? r.end : end);
            return;
        }
    }
}

/* rcv_nxt moved: pull in every range it now reaches. */
static uint32_t ooo_advance(struct fa_tcp *c)
{
    uint32_t gained = 0;
    for (int i = 0; i < c->ooo_count; i++) {
        struct fa_tcp_range *r = &fa_tcp_ooo(c)[i];
        if (seq_gt(r->start, c->rcv_nxt))
            continue;
        if (seq_gt(r->end, c->rcv_nxt)) {
            gained += r->end - c->rcv_nxt;
            c->rcv_nxt = r->end;
        }
        ooo_remove(c, i);
        i = -1; /* start over: another range may follow on */
    }
    return gained;
}

long fa_tcp_rcv_data(struct fa_tcp *c, uint32_t seq, const uint8_t *data,
                     uint32_t len)
{
    /* The caller trimmed the segment to [rcv_nxt, rcv_nxt + window). */
    if (fa_tcp_rcv_attach(c) < 0)
        return -ENOBUFS;
    uint32_t off = c->rcv->len + (seq - c->rcv_nxt);
    if (seq != c->rcv_nxt) {
        if (ooo_add(c, seq, seq + len) < 0)
            return -1;
        fa_ring_store(c->rcv, off, data, len);
        return 0;
    }
    fa_ring_store(c->rcv, off, data, len);
    ooo_dup_note(c, seq, seq + len);
    c->rcv_nxt += len;
    uint32_t gained = len + ooo_advance(c);
    c->rcv->len += gained;
    return (long)gained;
}

void fa_tcp_ooo_clear(struct fa_tcp *c)
{
    c->ooo_count = 0;
}
