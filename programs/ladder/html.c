/* html.c — finack-ladder's page (ladder.h): one self-contained HTML
 * file, inline SVG and CSS, no script, nothing fetched. Per connection:
 *   - the ladder diagram: A's and B's lifelines, each segment an arrow
 *     from its sending to its arrival time (a simulation knows both; a
 *     capture only the capture time: a fixed slope), labelled with its
 *     flags, relative numbers, length, window and options; lost ones end
 *     in a cross, retransmissions are coloured; the states beside each
 *     side (inferred ones in italics with a "?"), TIME-WAIT's 2 MSL as a
 *     bracket; long idle gaps compressed and labelled; beyond
 *     max_arrows segments the plain data segments between the ones that
 *     matter are summarised in a row (never a retransmission, a lost
 *     segment, a SYN, FIN or RST, or one beside a state change);
 *   - for each direction that carries data, the time-sequence graph of
 *     tcptrace: data segments as bars from seq to seq + len (resent ones
 *     red), the ACK line, the advertised window's edge, SACK blocks;
 *     beyond max_points data segments the bars are merged per pixel
 *     column (retransmissions always drawn one by one).
 * Hovering a segment shows its full decoded header (an SVG <title>).
 * Every arrow carries data- attributes (side, flags, relative seq/ack,
 * length, lost, retransmission) for tests that read the DOM. */
#include "ladder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 1000.0
#define XA 190.0
#define XB 810.0
#define TOP 70.0
#define ROW 22.0   /* least room for a segment's or a state's label */
#define STEP_MAX 140.0
#define GAP_ROW 34.0
/* Connections drawn on one page without --conn: a capture of a scan or
 * a flood holds thousands (the list names them all). */
#define MAX_SECTIONS 200
#define MAX_LISTED 5000

void lad_html_defaults(struct lad_html_opts *o)
{
    *o = (struct lad_html_opts){ .title = "TCP connections", .conn = -1, .max_arrows = 600,
                                 .max_points = 4000 };
}

static void esc(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void ip_str(uint32_t a, char *buf, size_t n)
{
    snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static const char *flag_names(uint8_t f, char *buf)
{
    if (!lad_flags(f, buf)[0])
        strcpy(buf, "none");
    return buf;
}

/* The window scale each side announced in its SYN (-1: none or unseen);
 * RFC 7323 §2.3: more than 14 counts as 14. */
static void wscales(const struct lad_conn *c, int ws[2])
{
    ws[0] = ws[1] = -1;
    for (size_t i = 0; i < c->nseg; i++)
        if ((c->seg[i].g.flags & 0x02) && ws[c->seg[i].from] < 0)
            ws[c->seg[i].from] = c->seg[i].g.ws > 14 ? 14 : c->seg[i].g.ws;
    if (ws[0] < 0 || ws[1] < 0)
        ws[0] = ws[1] = -1; /* RFC 7323 §2.2: only if both offered it */
}

/* The short label on an arrow: flags and numbers... */
static void label(FILE *out, const struct lad_conn *c, const struct lad_seg *s)
{
    char f[40];
    fprintf(out, "%s%s seq=%u", s->retrans ? "\xe2\x86\xbb " : "", flag_names(s->g.flags, f),
            lad_rel_seq(c, s));
    if (s->g.flags & 0x10)
        fprintf(out, " ack=%u", lad_rel_ack(c, s));
    if (s->g.len)
        fprintf(out, " len=%u", s->g.len);
    fprintf(out, " win=%u", s->g.win);
}

/* ...and, under the arrow, its options (1 if there are any). */
static int option_label(FILE *out, const struct lad_conn *c, const struct lad_seg *s)
{
    const char *sep = "&lt;";
    if (!s->g.mss && s->g.ws < 0 && !s->g.sack_ok && !s->g.sack_blocks && !s->g.has_ts)
        return 0;
    if (s->g.mss) { fprintf(out, "%smss %u", sep, s->g.mss); sep = ", "; }
    if (s->g.ws >= 0) { fprintf(out, "%sws %d", sep, s->g.ws); sep = ", "; }
    if (s->g.sack_ok) { fprintf(out, "%ssackOK", sep); sep = ", "; }
    if (s->g.has_ts) { /* TSval/TSecr, as tcpdump shows them */
        fprintf(out, "%sTS %u/%u", sep, s->g.ts_val, s->g.ts_ecr);
        sep = ", ";
    }
    uint32_t base = c->have_isn[!s->from] ? c->isn[!s->from] : 0;
    for (unsigned b = 0; b < s->g.sack_blocks; b++) {
        fprintf(out, "%ssack %u-%u", sep, s->g.sack[b][0] - base, s->g.sack[b][1] - base);
        sep = ", ";
    }
    fputs("&gt;", out);
    return 1;
}

/* The full decoded header, for hovering. */
static void title(FILE *out, const struct lad_conn *c, const struct lad_seg *s, const int ws[2])
{
    char f[40], a[16], b[16];
    ip_str(s->g.src, a, sizeof a);
    ip_str(s->g.dst, b, sizeof b);
    fprintf(out, "<title>%s %s:%u \xe2\x86\x92 %s:%u\nsent %.3f ms", s->from ? "B" : "A", a,
            s->g.sport, b, s->g.dport, s->t_ms);
    if (s->arrive_ms >= 0)
        fprintf(out, ", arrived %.3f ms (one way %.3f ms)", s->arrive_ms, s->arrive_ms - s->t_ms);
    fprintf(out, "\nflags %s (0x%02x)\nseq %u (relative %u)", flag_names(s->g.flags, f),
            s->g.flags, s->g.seq, lad_rel_seq(c, s));
    if (s->g.flags & 0x10)
        fprintf(out, "\nack %u (relative %u)", s->g.ack, lad_rel_ack(c, s));
    fprintf(out, "\nwindow %u", s->g.win);
    if (ws[s->from] >= 0 && !(s->g.flags & 0x02))
        fprintf(out, " (scaled: %llu bytes)", (unsigned long long)s->g.win << ws[s->from]);
    fprintf(out, "\ndata %u bytes%s", s->g.len, s->cut ? " (the capture cut it short)" : "");
    if (s->g.mss)
        fprintf(out, "\noption MSS %u", s->g.mss);
    if (s->g.ws >= 0)
        fprintf(out, "\noption window scale %d", s->g.ws);
    if (s->g.sack_ok)
        fprintf(out, "\noption SACK permitted");
    if (s->g.has_ts)
        fprintf(out, "\noption timestamps TSval %u TSecr %u", s->g.ts_val, s->g.ts_ecr);
    uint32_t base = c->have_isn[!s->from] ? c->isn[!s->from] : 0;
    for (unsigned k = 0; k < s->g.sack_blocks; k++)
        fprintf(out, "\noption SACK block %u-%u (relative)", s->g.sack[k][0] - base,
                s->g.sack[k][1] - base);
    if (s->retrans)
        fprintf(out, "\nretransmission (sequence space sent before)");
    if (s->lost)
        fprintf(out, "\nLOST on the way");
    fputs("</title>", out);
}

/* ---- which segments the ladder draws -------------------------------- */
static int matters(const struct lad_conn *c, size_t i, const uint8_t *near_state)
{
    const struct lad_seg *s = &c->seg[i];
    return (s->g.flags & 0x07) || s->retrans || s->lost || near_state[i];
}

/* The segments beside a state change, to draw: the one that moved it
 * (known for inferred states) and its neighbours; for a traced state,
 * every segment sent or arriving at its time (several share one time). */
static void mark_cause(const struct lad_conn *c, const struct lad_state *st, uint8_t *near)
{
    if (st->seg >= 0) {
        size_t k = (size_t)st->seg;
        for (size_t d = k >= 1 ? k - 1 : 0; d < c->nseg && d <= k + 1; d++)
            near[d] = 1;
        return;
    }
    for (size_t i = 0; i < c->nseg; i++) {
        const struct lad_seg *s = &c->seg[i];
        if (fabs(s->t_ms - st->t_ms) < 1e-6 || fabs(s->arrive_ms - st->t_ms) < 1e-6)
            for (size_t d = i >= 1 ? i - 1 : 0; d < c->nseg && d <= i + 1; d++)
                near[d] = 1;
    }
}

/* draw[i]: 1 to draw segment i. */
static void choose(const struct lad_conn *c, size_t max, uint8_t *draw)
{
    if (c->nseg <= max) {
        memset(draw, 1, c->nseg);
        return;
    }
    uint8_t *near = calloc(c->nseg, 1);
    for (size_t j = 0; near && j < c->nst; j++)
        mark_cause(c, &c->st[j], near);
    size_t edge = max / 8;
    for (size_t i = 0; i < c->nseg; i++)
        draw[i] = i < edge || i + edge >= c->nseg || (near && matters(c, i, near));
    free(near);
}

/* ---- the time axis: time to y, idle gaps compressed ----------------- */
struct anchor {
    double t, y;
    int row;  /* needs ROW of room above it (a label) */
};

struct axis {
    struct anchor *a;
    size_t n, cap;
    double scale; /* px per ms */
    double bottom;
};

static int add_anchor(struct axis *x, double t, int row)
{
    if (x->n == x->cap) {
        size_t nc = x->cap ? 2 * x->cap : 256;
        struct anchor *p = realloc(x->a, nc * sizeof *p);
        if (!p)
            return -1;
        x->a = p;
        x->cap = nc;
    }
    x->a[x->n++] = (struct anchor){ t, 0, row };
    return 0;
}

static int by_time(const void *p, const void *q)
{
    const struct anchor *a = p, *b = q;
    return a->t < b->t ? -1 : a->t > b->t ? 1 : b->row - a->row;
}

static int by_double(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return a < b ? -1 : a > b;
}

/* px per ms: the median step between labelled events gets 1.5 rows. */
static double pick_scale(const struct axis *x)
{
    double *d = malloc((x->n + 1) * sizeof *d);
    size_t m = 0;
    for (size_t i = 1; d && i < x->n; i++)
        if (x->a[i].t > x->a[i - 1].t)
            d[m++] = x->a[i].t - x->a[i - 1].t;
    double med = 1;
    if (m) {
        qsort(d, m, sizeof *d, by_double);
        med = d[m / 2];
    }
    free(d);
    return 1.5 * ROW / (med > 1e-6 ? med : 1e-6);
}

/* Lays the anchors out; a step longer than STEP_MAX is a compressed gap
 * (its_gap(i): the step before anchor i was compressed). */
static void layout(struct axis *x)
{
    qsort(x->a, x->n, sizeof *x->a, by_time);
    x->scale = pick_scale(x);
    double y = TOP;
    for (size_t i = 0; i < x->n; i++) {
        if (i) {
            double step = (x->a[i].t - x->a[i - 1].t) * x->scale;
            if (step > STEP_MAX)
                step = GAP_ROW + ROW;
            if (x->a[i].row && step < ROW)
                step = ROW;
            y += step;
        }
        x->a[i].y = y;
    }
    x->bottom = y + 2 * ROW;
}

static int is_gap(const struct axis *x, size_t i)
{
    return i && (x->a[i].t - x->a[i - 1].t) * x->scale > STEP_MAX;
}

static double y_at(const struct axis *x, double t)
{
    if (!x->n)
        return TOP;
    if (t <= x->a[0].t)
        return x->a[0].y;
    size_t lo = 0, hi = x->n - 1;
    if (t >= x->a[hi].t)
        return x->a[hi].y;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (x->a[mid].t <= t)
            lo = mid;
        else
            hi = mid;
    }
    const struct anchor *a = &x->a[lo], *b = &x->a[hi];
    if (b->t <= a->t)
        return b->y;
    if (is_gap(x, hi)) /* inside a compressed gap: across it evenly */
        return a->y + (b->y - a->y) * (t - a->t) / (b->t - a->t);
    return a->y + (t - a->t) * x->scale < b->y ? a->y + (t - a->t) * x->scale : b->y;
}

/* ---- the ladder ----------------------------------------------------- */
static double median_delay(const struct lad_conn *c)
{
    double *d = malloc((c->nseg + 1) * sizeof *d);
    size_t m = 0;
    for (size_t i = 0; d && i < c->nseg; i++)
        if (c->seg[i].arrive_ms >= 0)
            d[m++] = c->seg[i].arrive_ms - c->seg[i].t_ms;
    double med = -1;
    if (m) {
        qsort(d, m, sizeof *d, by_double);
        med = d[m / 2];
    }
    free(d);
    return med;
}

static void arrow(FILE *out, const struct lad_conn *c, size_t i, const struct axis *x,
                  double delay, const int ws[2])
{
    const struct lad_seg *s = &c->seg[i];
    char f[40];
    double x0 = s->from ? XB : XA, x1 = s->from ? XA : XB;
    double y0 = y_at(x, s->t_ms), y1;
    if (s->arrive_ms >= 0)
        y1 = y_at(x, s->arrive_ms);
    else if (delay >= 0) /* lost: where it would have been */
        y1 = y0 + (delay * x->scale < STEP_MAX ? delay * x->scale : STEP_MAX);
    else
        y1 = y0 + 14; /* a capture: the time it was captured, no more */
    if (y1 < y0 + 4)
        y1 = y0 + 4;
    const char *cls = s->lost ? "seg lost" : s->retrans ? "seg retrans" : "seg";
    fprintf(out, "<g class=\"%s\" data-i=\"%zu\" data-from=\"%c\" data-flags=\"%s\" "
                 "data-flagbits=\"%u\" data-seq=\"%u\" data-ack=\"%u\" data-len=\"%u\" "
                 "data-win=\"%u\" data-lost=\"%d\" data-retrans=\"%d\" data-t=\"%.6f\">",
            cls, i, s->from ? 'B' : 'A', flag_names(s->g.flags, f), s->g.flags,
            lad_rel_seq(c, s), lad_rel_ack(c, s), s->g.len, s->g.win, s->lost, s->retrans,
            s->t_ms);
    title(out, c, s, ws);
    double xe = x1, ye = y1;
    if (s->lost) { /* it ends where it was lost: 60 % of the way */
        xe = x0 + (x1 - x0) * 0.6;
        ye = y0 + (y1 - y0) * 0.6;
    }
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>", x0, y0, xe, ye,
            s->lost ? "" : " marker-end=\"url(#head)\"");
    if (s->lost)
        fprintf(out, "<path class=\"cross\" d=\"M%.1f %.1fl10 10m0 -10l-10 10\"/>", xe - 5,
                ye - 5);
    /* The label runs along the arrow from its sender's end: two arrows
     * that cross (a simultaneous close) keep their labels on either
     * half of the ladder. */
    double mx = x0 + (xe - x0) * 0.03, my = y0 + (ye - y0) * 0.03;
    double ang = atan2(ye - y0, xe - x0) * 180 / M_PI;
    if (ang > 90) ang -= 180;
    if (ang < -90) ang += 180;
    const char *anchor = s->from ? "end" : "start";
    fprintf(out, "<text class=\"lbl\" text-anchor=\"%s\" x=\"%.1f\" y=\"%.1f\" "
                 "transform=\"rotate(%.2f %.1f %.1f)\">",
            anchor, mx, my - 4, ang, mx, my);
    label(out, c, s);
    fprintf(out, "</text><text class=\"opt\" text-anchor=\"%s\" x=\"%.1f\" y=\"%.1f\" "
                 "transform=\"rotate(%.2f %.1f %.1f)\">",
            anchor, mx, my + 11, ang, mx, my);
    option_label(out, c, s);
    fputs("</text></g>\n", out);
}

static void states(FILE *out, const struct lad_conn *c, const struct axis *x)
{
    for (size_t j = 0; j < c->nst; j++) {
        const struct lad_state *st = &c->st[j];
        double y = y_at(x, st->t_ms);
        /* Names come from the input (JSON): escaped like all its text. */
        fprintf(out, "<text class=\"state%s\" data-side=\"%c\" data-state=\"",
                st->inferred ? " inferred" : "", st->side ? 'B' : 'A');
        esc(out, st->name);
        fprintf(out, "\" data-t=\"%.6f\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
                st->t_ms, st->side ? XB + 12 : XA - 12, y + 4, st->side ? "start" : "end");
        esc(out, st->name);
        fprintf(out, "%s<title>%s ", st->inferred ? "?" : "", st->side ? "B" : "A");
        esc(out, st->name);
        fprintf(out, " at %.3f ms%s</title></text>\n", st->t_ms,
                st->inferred ? " (inferred from the segments)" : "");
        if (!strcmp(st->name, "TIME-WAIT")) {
            double end = c->msl_ms > 0 ? st->t_ms + 2 * c->msl_ms : -1;
            double y2 = end >= 0 ? y_at(x, end) : x->bottom - ROW;
            double bx = st->side ? XB + 6 : XA - 6, dx = st->side ? 6 : -6;
            fprintf(out, "<path class=\"bracket\" d=\"M%.1f %.1fh%.1fV%.1fh%.1f\"/>", bx, y,
                    dx, y2, -dx);
            char span[48];
            if (c->msl_ms > 0)
                snprintf(span, sizeof span, "2 MSL = %.3f s", 2 * c->msl_ms / 1e3);
            else
                snprintf(span, sizeof span, "2 MSL");
            double ly = (y + y2) / 2 > y + 18 ? (y + y2) / 2 : y + 18; /* below the name */
            fprintf(out, "<text class=\"note\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
                    bx + 3 * dx, ly, st->side ? "start" : "end", span);
        }
    }
}

/* Lifelines, broken at compressed gaps, each gap labelled with its
 * length and whether anything went in it (summarised segments). */
static void lifelines(FILE *out, const struct axis *x, const struct lad_conn *c)
{
    double from = TOP - 20;
    size_t next = 0; /* the first segment after the gap's start */
    for (size_t i = 1; i < x->n; i++) {
        if (!is_gap(x, i))
            continue;
        double g0 = x->a[i - 1].y + ROW / 2, g1 = x->a[i].y - ROW / 2;
        for (int k = 0; k < 2; k++)
            fprintf(out, "<line class=\"life\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>",
                    k ? XB : XA, from, k ? XB : XA, g0);
        double dt = x->a[i].t - x->a[i - 1].t;
        size_t inside = 0;
        while (next < c->nseg && c->seg[next].t_ms <= x->a[i - 1].t)
            next++;
        for (size_t j = next; j < c->nseg && c->seg[j].t_ms < x->a[i].t; j++)
            inside++;
        char span[32];
        if (dt < 1)
            snprintf(span, sizeof span, "%.0f \xc2\xb5s", dt * 1e3);
        else if (dt < 1e3)
            snprintf(span, sizeof span, "%.1f ms", dt);
        else
            snprintf(span, sizeof span, "%.3f s", dt / 1e3);
        fprintf(out, "<text class=\"gap\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"middle\">"
                     "\xe2\x8b\xaf %s, %s \xe2\x8b\xaf</text>\n",
                (XA + XB) / 2, (g0 + g1) / 2 + 4, span,
                inside ? "segments summarised" : "nothing sent");
        from = g1;
    }
    for (int k = 0; k < 2; k++)
        fprintf(out, "<line class=\"life\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>",
                k ? XB : XA, from, k ? XB : XA, x->bottom);
}

static void summary_row(FILE *out, const struct lad_conn *c, size_t from, size_t to,
                        const struct axis *x)
{
    uint64_t bytes[2] = { 0, 0 };
    for (size_t i = from; i < to; i++)
        bytes[c->seg[i].from] += c->seg[i].g.len;
    double y = y_at(x, c->seg[from].t_ms) + 4;
    fprintf(out, "<text class=\"summary\" data-count=\"%zu\" x=\"%.0f\" y=\"%.1f\" "
                 "text-anchor=\"middle\">\xe2\x8b\xae %zu segments not drawn (%llu bytes "
                 "A\xe2\x86\x92" "B, %llu B\xe2\x86\x92" "A): see the time-sequence graph</text>\n",
            to - from, (XA + XB) / 2, y, to - from, (unsigned long long)bytes[0],
            (unsigned long long)bytes[1]);
}

static int ladder(FILE *out, const struct lad_capture *cap, const struct lad_conn *c,
                  const struct lad_html_opts *o)
{
    uint8_t *draw = malloc(c->nseg + 1);
    struct axis x = { 0 };
    if (!draw)
        return -1;
    choose(c, o->max_arrows, draw);
    double delay = median_delay(c);
    int rc = 0;
    for (size_t i = 0; i < c->nseg && rc == 0; i++)
        if (draw[i]) {
            rc |= add_anchor(&x, c->seg[i].t_ms, 1);
            if (c->seg[i].arrive_ms >= 0)
                rc |= add_anchor(&x, c->seg[i].arrive_ms, 0);
        } else if (i == 0 || draw[i - 1]) {
            rc |= add_anchor(&x, c->seg[i].t_ms, 1); /* a summary row */
        }
    for (size_t j = 0; j < c->nst && rc == 0; j++)
        rc |= add_anchor(&x, c->st[j].t_ms, 1);
    double t_first = c->nseg ? c->seg[0].t_ms : 0;
    double t_last = c->nseg ? c->seg[c->nseg - 1].t_ms : 0;
    for (size_t j = 0; j < cap->nnote && rc == 0; j++)
        if (cap->note[j].t_ms >= t_first - 1 && cap->note[j].t_ms <= t_last + 1e4)
            rc |= add_anchor(&x, cap->note[j].t_ms, 1);
    if (rc) {
        free(draw);
        free(x.a);
        return -1;
    }
    layout(&x);
    int ws[2];
    wscales(c, ws);
    char a[16], b[16];
    ip_str(c->addr[0], a, sizeof a);
    ip_str(c->addr[1], b, sizeof b);
    fprintf(out, "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                 "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n"
                 "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
                 "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
                 "<path d=\"M0 0L10 5L0 10z\"/></marker></defs>\n",
            W, x.bottom, W, x.bottom);
    fprintf(out, "<text class=\"end\" x=\"%.0f\" y=\"24\" text-anchor=\"middle\">A %s:%u</text>"
                 "<text class=\"end\" x=\"%.0f\" y=\"24\" text-anchor=\"middle\">B %s:%u</text>\n",
            XA, a, c->port[0], XB, b, c->port[1]);
    lifelines(out, &x, c);
    size_t skipped_from = 0;
    int skipping = 0;
    for (size_t i = 0; i < c->nseg; i++) {
        if (!draw[i]) {
            if (!skipping)
                skipped_from = i;
            skipping = 1;
            continue;
        }
        if (skipping)
            summary_row(out, c, skipped_from, i, &x);
        skipping = 0;
        arrow(out, c, i, &x, delay, ws);
    }
    if (skipping)
        summary_row(out, c, skipped_from, c->nseg, &x);
    states(out, c, &x);
    for (size_t j = 0; j < cap->nnote; j++)
        if (cap->note[j].t_ms >= t_first - 1 && cap->note[j].t_ms <= t_last + 1e4) {
            fprintf(out, "<text class=\"note\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"middle\">",
                    (XA + XB) / 2, y_at(&x, cap->note[j].t_ms) + 4);
            esc(out, cap->note[j].text);
            fputs("</text>\n", out);
        }
    fputs("</svg>\n", out);
    free(draw);
    free(x.a);
    return 0;
}

/* ---- the time-sequence graph (tcptrace, Stevens) -------------------- */
#define GW 960.0
#define GH 420.0
#define GL 80.0
#define GT 20.0

struct plot {
    double t0, t1;
    double s0, s1; /* relative sequence range */
};

static double px(const struct plot *p, double t)
{
    return GL + (p->t1 > p->t0 ? (t - p->t0) / (p->t1 - p->t0) : 0) * (GW - GL - 20);
}

static double py(const struct plot *p, double s)
{
    return GT + GH - (p->s1 > p->s0 ? (s - p->s0) / (p->s1 - p->s0) : 0) * GH;
}

static void axes(FILE *out, const struct plot *p)
{
    fprintf(out, "<path class=\"axis\" d=\"M%.0f %.0fV%.0fH%.0f\"/>\n", GL, GT, GT + GH, GW - 20);
    for (int k = 0; k <= 4; k++) {
        double t = p->t0 + (p->t1 - p->t0) * k / 4, s = p->s0 + (p->s1 - p->s0) * k / 4;
        fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.3f s"
                     "</text><text class=\"tick\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.0f"
                     "</text>\n",
                px(p, t), GT + GH + 16, t / 1e3, GL - 6, py(p, s) + 4, s);
    }
}

/* The ACK line and the window's edge: the receiver's ACK field and ACK
 * + scaled window over time, one point per column at most. */
static void ack_lines(FILE *out, const struct lad_conn *c, int dir, const struct plot *p,
                      const int ws[2])
{
    for (int which = 0; which < 2; which++) {
        fprintf(out, "<polyline class=\"%s\" points=\"", which ? "wnd" : "ack");
        double last_x = -1, last_y = -1;
        for (size_t i = 0; i < c->nseg; i++) {
            const struct lad_seg *s = &c->seg[i];
            if (s->from == dir || !(s->g.flags & 0x10) || (s->g.flags & 0x04))
                continue;
            double v = lad_rel_ack(c, s);
            if (which)
                v += (double)s->g.win * (ws[s->from] >= 0 && !(s->g.flags & 0x02)
                                             ? (double)(1u << ws[s->from]) : 1.0);
            double xx = px(p, s->t_ms), yy = py(p, v);
            if (last_y >= 0 && xx - last_x < 0.5 && fabs(yy - last_y) < 0.5)
                continue;
            if (last_y >= 0)
                fprintf(out, "%.1f,%.1f ", xx, last_y); /* a step */
            fprintf(out, "%.1f,%.1f ", xx, yy);
            last_x = xx;
            last_y = yy;
        }
        fputs("\"/>\n", out);
    }
}

static void data_bars(FILE *out, const struct lad_conn *c, int dir, const struct plot *p,
                      size_t ndata, const struct lad_html_opts *o)
{
    int merge = ndata > o->max_points;
    double col_x = -1, lo = 0, hi = 0;
    size_t in_col = 0;
    for (size_t i = 0; i <= c->nseg; i++) {
        const struct lad_seg *s = i < c->nseg ? &c->seg[i] : NULL;
        int is_data = s && s->from == dir && s->g.len;
        if (s && !is_data)
            continue;
        double xx = s ? px(p, s->t_ms) : -2;
        double a = s ? lad_rel_seq(c, s) : 0, b = s ? a + s->g.len : 0;
        if (s && (s->retrans || !merge)) {
            fprintf(out, "<line class=\"%s\" data-seq=\"%.0f\" x1=\"%.1f\" y1=\"%.1f\" "
                         "x2=\"%.1f\" y2=\"%.1f\"><title>%s seq %.0f-%.0f at %.3f ms</title>"
                         "</line>\n",
                    s->retrans ? "rexmit" : "data", a, xx, py(p, a), xx, py(p, b),
                    s->retrans ? "retransmission" : "data", a, b, s->t_ms);
            continue;
        }
        if (in_col && (!s || xx - col_x >= 1.0)) {
            fprintf(out, "<line class=\"data merged\" data-count=\"%zu\" x1=\"%.1f\" y1=\"%.1f\" "
                         "x2=\"%.1f\" y2=\"%.1f\"/>\n",
                    in_col, col_x, py(p, lo), col_x, py(p, hi));
            in_col = 0;
        }
        if (!s)
            break;
        if (!in_col) {
            col_x = xx;
            lo = a;
            hi = b;
        }
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        in_col++;
    }
}

static void sack_bars(FILE *out, const struct lad_conn *c, int dir, const struct plot *p)
{
    uint32_t base = c->have_isn[dir] ? c->isn[dir] : 0;
    for (size_t i = 0; i < c->nseg; i++) {
        const struct lad_seg *s = &c->seg[i];
        if (s->from == dir)
            continue;
        for (unsigned k = 0; k < s->g.sack_blocks; k++) {
            double xx = px(p, s->t_ms);
            fprintf(out, "<line class=\"sack\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    xx, py(p, s->g.sack[k][0] - base), xx, py(p, s->g.sack[k][1] - base));
        }
    }
}

static void graph(FILE *out, const struct lad_conn *c, int dir, const struct lad_html_opts *o)
{
    struct plot p = { .t0 = c->seg[0].t_ms, .t1 = c->seg[c->nseg - 1].t_ms, .s0 = 0, .s1 = 1 };
    size_t ndata = 0;
    for (size_t i = 0; i < c->nseg; i++) {
        const struct lad_seg *s = &c->seg[i];
        if (s->from == dir && s->g.len) {
            ndata++;
            double end = (double)lad_rel_seq(c, s) + s->g.len;
            if (end > p.s1 && end < 4e9)
                p.s1 = end;
        }
    }
    if (!ndata)
        return;
    p.s1 *= 1.05;
    int ws[2];
    wscales(c, ws);
    fprintf(out, "<h3>Time-sequence graph, %s \xe2\x86\x92 %s: %zu data segments</h3>\n"
                 "<svg class=\"tsg\" data-dir=\"%c\" xmlns=\"http://www.w3.org/2000/svg\" "
                 "width=\"%.0f\" height=\"%.0f\">\n",
            dir ? "B" : "A", dir ? "A" : "B", ndata, dir ? 'B' : 'A', GW, GT + GH + 30);
    axes(out, &p);
    ack_lines(out, c, dir, &p, ws);
    sack_bars(out, c, dir, &p);
    data_bars(out, c, dir, &p, ndata, o);
    fputs("</svg>\n<p class=\"legend\"><span class=\"k data\">\xe2\x96\xae</span> data "
          "<span class=\"k rexmit\">\xe2\x96\xae</span> retransmission "
          "<span class=\"k ack\">\xe2\x80\x94</span> ACK "
          "<span class=\"k wnd\">\xe2\x80\x94</span> advertised window's edge "
          "<span class=\"k sack\">\xe2\x96\xae</span> SACK block</p>\n",
          out);
}

/* ---- the page ------------------------------------------------------- */
static const char *const css =
    "body{font:14px system-ui,sans-serif;margin:20px;color:#222}"
    "h1{font-size:20px}h2{font-size:16px}h3{font-size:14px}"
    "nav li{margin:2px 0}.conn{display:none}.conn:target{display:block}"
    "body:not(:has(.conn:target)) .conn.first{display:block}"
    "svg text{font:11px ui-monospace,monospace}"
    ".life{stroke:#444;stroke-width:2}.end{font-weight:bold;font-size:13px}"
    ".seg line{stroke:#1f5fa8;stroke-width:1.4}.seg .lbl{fill:#1f3f68}"
    ".seg .opt{fill:#5a6f8a;font-size:10px}"
    ".seg:hover line{stroke-width:3}.seg:hover .lbl{font-weight:bold}"
    ".retrans line{stroke:#d2691e}.retrans .lbl{fill:#a0480e}"
    ".lost line{stroke:#c0392b;stroke-dasharray:5 3}.lost .lbl{fill:#c0392b}"
    ".cross{stroke:#c0392b;stroke-width:2.5;fill:none}"
    ".state{fill:#0b6b3a;font-weight:bold}.state.inferred{font-style:italic;fill:#4f8b6a}"
    ".bracket{stroke:#0b6b3a;fill:none;stroke-width:1.5}.note{fill:#666;font-style:italic}"
    ".gap{fill:#888}.summary{fill:#555}marker path{fill:#1f5fa8}"
    ".axis{stroke:#333;fill:none}.tick{fill:#333}"
    ".tsg .data{stroke:#1f3f68;stroke-width:1.5}.tsg .rexmit{stroke:#c0392b;stroke-width:2.5}"
    ".ack{stroke:#2e8b57;fill:none}.wnd{stroke:#d4a017;fill:none}"
    ".sack{stroke:#8e44ad;stroke-width:3}.k.data{color:#1f3f68}.k.rexmit{color:#c0392b}"
    ".k.ack{color:#2e8b57}.k.wnd{color:#d4a017}.k.sack{color:#8e44ad}"
    ".meta{color:#555}";

static void conn_name(const struct lad_conn *c, char *buf, size_t n)
{
    char a[16], b[16];
    ip_str(c->addr[0], a, sizeof a);
    ip_str(c->addr[1], b, sizeof b);
    snprintf(buf, n, "%s:%u \xe2\x87\x84 %s:%u", a, c->port[0], b, c->port[1]);
}

static int section(FILE *out, const struct lad_capture *cap, size_t k, int first,
                   const struct lad_html_opts *o)
{
    const struct lad_conn *c = &cap->conn[k];
    char name[80];
    conn_name(c, name, sizeof name);
    size_t drawn = c->nseg <= o->max_arrows ? c->nseg : 0;
    if (!drawn) {
        uint8_t *d = malloc(c->nseg);
        if (!d)
            return -1;
        choose(c, o->max_arrows, d);
        for (size_t i = 0; i < c->nseg; i++)
            drawn += d[i];
        free(d);
    }
    fprintf(out, "<section class=\"conn%s\" id=\"c%zu\" data-segments=\"%zu\" data-drawn=\"%zu\">"
                 "\n<h2>Connection %zu: %s</h2>\n<p class=\"meta\">%zu segments%s; states %s."
                 " Hover a segment for its full header.</p>\n",
            first ? " first" : "", k, c->nseg, drawn, k, name, c->nseg,
            drawn < c->nseg ? " (the ladder summarises the plain data segments)" : "",
            c->traced ? "traced by the stacks" : "inferred from the segments (marked ?)");
    if (ladder(out, cap, c, o) < 0)
        return -1;
    for (int dir = 0; dir < 2 && c->nseg; dir++)
        graph(out, c, dir, o);
    fputs("</section>\n", out);
    return 0;
}

int lad_write_html(const struct lad_capture *cap, FILE *out, const struct lad_html_opts *o)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", out);
    esc(out, o->title);
    fprintf(out, "</title><style>%s</style></head><body>\n<h1>", css);
    esc(out, o->title);
    fprintf(out, "</h1>\n<p class=\"meta\">%zu connection%s", cap->nconn,
            cap->nconn == 1 ? "" : "s");
    if (cap->frames)
        fprintf(out, " from %llu records (%llu not IPv4 TCP, %llu malformed, %llu cut short "
                     "by the capture)",
                (unsigned long long)cap->frames, (unsigned long long)cap->not_tcp,
                (unsigned long long)cap->malformed, (unsigned long long)cap->cut_short);
    fputs(cap->timing_known ? ". Arrows slope by their one-way delay (simulation).</p>\n"
                            : ". Arrows start at their capture time (one-way delay unknown)."
                              "</p>\n",
          out);
    if (o->conn < 0 && cap->nconn > 1) {
        fputs("<nav><ul>\n", out);
        for (size_t k = 0; k < cap->nconn && k < MAX_LISTED; k++) {
            char name[80];
            conn_name(&cap->conn[k], name, sizeof name);
            fprintf(out, "<li><a href=\"#c%zu\">%zu: %s, %zu segments</a></li>\n", k, k, name,
                    cap->conn[k].nseg);
        }
        if (cap->nconn > MAX_LISTED)
            fprintf(out, "<li>and %zu more (--conn N)</li>\n", cap->nconn - MAX_LISTED);
        fputs("</ul></nav>\n", out);
    }
    size_t drawn = 0;
    for (size_t k = 0; k < cap->nconn; k++) {
        if (o->conn >= 0 && (size_t)o->conn != k)
            continue;
        if (o->conn < 0 && drawn == MAX_SECTIONS) {
            fprintf(out, "<p class=\"meta\">%zu more connections are listed but not drawn: "
                         "finack-ladder --conn N draws connection N.</p>\n",
                    cap->nconn - k);
            break;
        }
        if (section(out, cap, k, o->conn >= 0 || k == 0, o) < 0)
            return -1;
        drawn++;
    }
    fputs("</body></html>\n", out);
    return ferror(out) ? -1 : 0;
}
