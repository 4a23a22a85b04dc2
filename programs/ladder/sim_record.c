/* sim_record.c — a simulation in the same process fills finack-ladder's
 * model (ladder.h) as it runs: every TCP segment a host sends (the
 * simulator's fa_sim_on_frame, direction 0), matched with its delivery
 * (direction 1) for its one-way delay; what is never delivered was lost
 * (a scenario's rule, the link's loss, a corrupted copy). State changes
 * come from the stacks' trace hook (lad_rec_state). Used by finack-sim
 * --html.
 *
 *   struct lad_rec *rec = lad_rec_new(msl_ms, t0);
 *   fa_sim_on_frame(sim, lad_rec_frame, rec);
 *   ... in config.tcp_trace: lad_rec_state(rec, sock, to, now);
 *   lad_rec_write(rec, "page.html", title); lad_rec_free(rec); */
#include "sim_record.h"

#include <stdlib.h>
#include <string.h>

struct pend {
    uint32_t conn, seg, next, hash;
};

static uint32_t key(const struct fa_sim_segment *g)
{
    uint32_t v[6] = { g->src, (uint32_t)g->sport << 16 | g->dport, g->seq, g->ack,
                      (uint32_t)g->flags << 16 | g->win, g->len };
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof v; i++) {
        h ^= ((const uint8_t *)v)[i];
        h *= 16777619u;
    }
    return h;
}

static double ms(const struct lad_rec *r, fa_time t)
{
    return (double)(t - r->t0) / 1e6;
}

/* The same segment: its header fields (not the struct's padding). */
static int same(const struct fa_sim_segment *a, const struct fa_sim_segment *b)
{
    return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
           a->dport == b->dport && a->flags == b->flags && a->seq == b->seq &&
           a->ack == b->ack && a->win == b->win && a->len == b->len &&
           a->has_ts == b->has_ts && a->ts_val == b->ts_val;
}

static void sent(struct lad_rec *r, const struct fa_sim_segment *g, fa_time t)
{
    struct lad_capture *cap = &r->cap;
    int conn = lad_add_segment(cap, g, ms(r, t), -1, 0, 0);
    if (conn < 0) {
        r->failed = 1;
        return;
    }
    if (r->npend == r->pendcap) {
        uint32_t nc = r->pendcap ? 2 * r->pendcap : 1024;
        struct pend *p = realloc(r->pend, nc * sizeof *p);
        if (!p) {
            r->failed = 1;
            return;
        }
        r->pend = p;
        r->pendcap = nc;
    }
    uint32_t h = key(g);
    struct pend *p = &r->pend[r->npend];
    *p = (struct pend){ (uint32_t)conn, (uint32_t)(cap->conn[conn].nseg - 1),
                        r->bucket[h & LAD_REC_MASK], h };
    r->bucket[h & LAD_REC_MASK] = ++r->npend;
}

static void delivered(struct lad_rec *r, const struct fa_sim_segment *g, fa_time t)
{
    uint32_t h = key(g);
    uint32_t *link = &r->bucket[h & LAD_REC_MASK];
    /* The oldest copy sent: the chain holds the newest first. */
    uint32_t *match = NULL;
    for (uint32_t *l = link; *l; l = &r->pend[*l - 1].next) {
        struct pend *p = &r->pend[*l - 1];
        struct lad_seg *s = &r->cap.conn[p->conn].seg[p->seg];
        if (p->hash == h && s->arrive_ms < 0 && same(&s->g, g))
            match = l;
    }
    if (!match)
        return; /* a duplicate the link made: the first copy counted */
    struct pend *p = &r->pend[*match - 1];
    r->cap.conn[p->conn].seg[p->seg].arrive_ms = ms(r, t);
    *match = p->next; /* unlinked; its slot is not reused */
}

void lad_rec_frame(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    struct lad_rec *r = ctx;
    struct fa_sim_segment g;
    (void)host;
    if (t < r->t0 || r->failed || !fa_sim_segment_parse(f, len, &g))
        return;
    if (dir == 0)
        sent(r, &g, t);
    else
        delivered(r, &g, t);
}

void lad_rec_state(struct lad_rec *r, const struct fa_tcp *sock, int to, fa_time now)
{
    struct fa_tcp_info i;
    if (now < r->t0 || r->failed)
        return;
    fa_tcp_get_info(sock, &i);
    struct lad_end e = { .addr = i.local_addr, .raddr = i.remote_addr, .port = i.local_port,
                         .rport = i.remote_port, .snd_una = i.snd_una, .have_una = 1 };
    if (lad_add_state(&r->cap, &e, ms(r, now), fa_tcp_state_name((enum fa_tcp_state)to)) < 0)
        r->failed = 1;
}

struct lad_rec *lad_rec_new(double msl_ms, fa_time t0)
{
    struct lad_rec *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    lad_init(&r->cap);
    r->cap.msl_ms = msl_ms;
    r->cap.timing_known = 1;
    r->t0 = t0;
    return r;
}

/* What never arrived was lost. */
static int mark_lost(struct lad_rec *r)
{
    for (size_t i = 0; i < r->cap.nconn; i++)
        for (size_t k = 0; k < r->cap.conn[i].nseg; k++)
            if (r->cap.conn[i].seg[k].arrive_ms < 0)
                r->cap.conn[i].seg[k].lost = 1;
    return r->failed ? -1 : 0;
}

int lad_rec_write(struct lad_rec *r, const char *path, const char *title)
{
    int rc = mark_lost(r);
    lad_finish(&r->cap);
    struct lad_html_opts o;
    lad_html_defaults(&o);
    o.title = title;
    FILE *f = rc < 0 ? NULL : fopen(path, "w");
    if (f && lad_write_html(&r->cap, f, &o) < 0)
        rc = -1;
    if (!f || fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "finack-sim: cannot write %s\n", path);
    return rc;
}

void lad_rec_free(struct lad_rec *r)
{
    if (!r)
        return;
    free(r->pend);
    lad_free(&r->cap);
    free(r);
}

