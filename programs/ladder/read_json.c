/* read_json.c — finack-sim's --json lines into finack-ladder's model
 * (ladder.h): one flat object per line, "event" saying which —
 * "segment" (sent, relative numbers, lost or not), "arrive" (the same
 * segment delivered: its one-way delay), "state" (a stack's trace) and
 * "note". A = 198.18.0.1 and B = 198.18.0.2, as finack-sim's scenarios
 * use. A line that does not parse is counted as malformed and skipped. */
#include "ladder.h"

#include <stdlib.h>
#include <string.h>

#define A_ADDR 0xc6120001u
#define B_ADDR 0xc6120002u

/* The text right after "key": in line, or NULL. */
static const char *field(const char *line, const char *key)
{
    char pat[40];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    return p ? p + strlen(pat) : NULL;
}

/* A number in [lo, hi] (finite): 1, else 0 (absent or out of range). */
static int num_in(const char *line, const char *key, double lo, double hi, double *v)
{
    const char *p = field(line, key);
    char *end;
    if (!p)
        return 0;
    *v = strtod(p, &end);
    return end != p && *v >= lo && *v <= hi; /* NaN fails both */
}

#define U32 4294967295.0
static int num(const char *line, const char *key, double *v)
{
    return num_in(line, key, 0, U32, v);
}

/* Times in ms: finite, within a few centuries either way. */
static int time_ms(const char *line, double *v)
{
    return num_in(line, "t_ms", -1e13, 1e13, v);
}

/* The states RFC 9293 names: nothing else reaches the page. */
static int known_state(const char *s)
{
    static const char *const names[] = { "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED",
                                         "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
                                         "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i]))
            return 1;
    return 0;
}

static int str(const char *line, const char *key, char *out, size_t n)
{
    const char *p = field(line, key);
    if (!p || *p != '"')
        return 0;
    p++;
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < n) {
        if (*p == '\\' && p[1])
            p++;
        out[i++] = *p++;
    }
    out[i] = 0;
    return *p == '"';
}

static uint8_t flag_bits(const char *s)
{
    static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
    uint8_t f = 0;
    for (int i = 0; i < 6; i++)
        if (strstr(s, names[i]))
            f |= (uint8_t)(1 << i);
    return f;
}

/* "s-e s-e": SACK blocks. */
static void sack_blocks(const char *s, struct fa_sim_segment *g)
{
    while (*s && g->sack_blocks < 4) {
        char *end;
        unsigned long a = strtoul(s, &end, 10);
        if (end == s || *end != '-')
            return;
        unsigned long b = strtoul(end + 1, &end, 10);
        g->sack[g->sack_blocks][0] = (uint32_t)a;
        g->sack[g->sack_blocks][1] = (uint32_t)b;
        g->sack_blocks++;
        s = end;
        while (*s == ' ')
            s++;
    }
}

static int segment(const char *line, struct fa_sim_segment *g, double *t, int *lost)
{
    char from[4], flags[32], sack[160] = "";
    double seq, ack, win, len, v;
    if (!time_ms(line, t) || !str(line, "from", from, sizeof from) ||
        !str(line, "flags", flags, sizeof flags) || !num(line, "seq", &seq) ||
        !num(line, "ack", &ack) || !num_in(line, "win", 0, 65535, &win) ||
        !num_in(line, "len", 0, 1 << 30, &len))
        return -1;
    memset(g, 0, sizeof *g);
    int b = from[0] == 'B';
    g->src = b ? B_ADDR : A_ADDR;
    g->dst = b ? A_ADDR : B_ADDR;
    g->sport = (uint16_t)(num_in(line, "sport", 0, 65535, &v) ? v : 0);
    g->dport = (uint16_t)(num_in(line, "dport", 0, 65535, &v) ? v : 0);
    g->flags = flag_bits(flags);
    g->seq = (uint32_t)seq;
    g->ack = (uint32_t)ack;
    g->win = (uint16_t)win;
    g->len = (uint32_t)len;
    g->mss = (uint16_t)(num_in(line, "mss", 0, 65535, &v) ? v : 0);
    g->ws = num_in(line, "wscale", 0, 255, &v) ? (int)v : -1;
    g->sack_ok = num(line, "sackok", &v) && v != 0;
    if (num(line, "tsval", &v)) {
        g->has_ts = 1;
        g->ts_val = (uint32_t)v;
        g->ts_ecr = (uint32_t)(num(line, "tsecr", &v) ? v : 0);
    }
    if (str(line, "sack", sack, sizeof sack))
        sack_blocks(sack, g);
    *lost = strstr(line, "\"lost\":true") != NULL;
    return 0;
}

/* Segments looked at past the first not yet arrived: arrivals come
 * nearly in order, so the search stays short (and bounded). */
#define ARRIVE_WINDOW 4096

/* An arrival: the earliest segment of its connection with these
 * numbers, sent and not yet arrived. */
static void arrive(struct lad_capture *cap, const struct fa_sim_segment *g, double t)
{
    int from;
    struct lad_conn *c = lad_find(cap, g, &from);
    if (!c)
        return;
    while (c->arrive_from < c->nseg &&
           (c->seg[c->arrive_from].arrive_ms >= 0 || c->seg[c->arrive_from].lost))
        c->arrive_from++;
    size_t end = c->nseg - c->arrive_from > ARRIVE_WINDOW ? c->arrive_from + ARRIVE_WINDOW
                                                           : c->nseg;
    for (size_t k = c->arrive_from; k < end; k++) {
        struct lad_seg *s = &c->seg[k];
        if (s->arrive_ms < 0 && !s->lost && s->t_ms <= t && s->from == from &&
            s->g.seq == g->seq && s->g.ack == g->ack && s->g.flags == g->flags &&
            s->g.len == g->len) {
            s->arrive_ms = t;
            return;
        }
    }
}

int lad_read_json(struct lad_capture *cap, FILE *in, char *err, size_t errlen)
{
    char line[1024], ev[16], text[160], host[4], state[20];
    double t, port;
    cap->timing_known = 1;
    while (fgets(line, sizeof line, in)) {
        if (!strchr(line, '\n') && !feof(in)) { /* too long: skip the rest */
            int ch;
            while ((ch = fgetc(in)) != EOF && ch != '\n')
                ;
            cap->malformed++;
            continue;
        }
        cap->frames++;
        if (!str(line, "event", ev, sizeof ev) || !time_ms(line, &t)) {
            cap->malformed++;
            continue;
        }
        struct fa_sim_segment g;
        int lost;
        int rc = 0;
        if (!strcmp(ev, "segment")) {
            if (segment(line, &g, &t, &lost) < 0)
                cap->malformed++;
            else
                rc = lad_add_segment(cap, &g, t, -1, lost, 0);
        } else if (!strcmp(ev, "arrive")) {
            if (segment(line, &g, &t, &lost) < 0)
                cap->malformed++;
            else
                arrive(cap, &g, t);
        } else if (!strcmp(ev, "state")) {
            if (!str(line, "host", host, sizeof host) ||
                !num_in(line, "port", 0, 65535, &port) ||
                !str(line, "state", state, sizeof state) || !known_state(state))
                cap->malformed++;
            else {
                /* The peer (rport) where the line gives it: the right
                 * incarnation of a 4-tuple used twice. */
                int b = host[0] == 'B';
                struct lad_end e = { .addr = b ? B_ADDR : A_ADDR, .raddr = b ? A_ADDR : B_ADDR,
                                     .port = (uint16_t)port };
                double rport, una;
                if (num_in(line, "rport", 1, 65535, &rport))
                    e.rport = (uint16_t)rport;
                if (num(line, "una", &una)) {
                    e.snd_una = (uint32_t)una;
                    e.have_una = 1;
                }
                rc = lad_add_state(cap, &e, t, state);
            }
        } else if (!strcmp(ev, "note")) {
            if (str(line, "text", text, sizeof text))
                rc = lad_add_note(cap, t, text);
        } else {
            cap->malformed++;
        }
        if (rc < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}
