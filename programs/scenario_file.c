/* scenario_file.c — finack-sim runs scenario files: a link, buffers,
 * losses of chosen segments and timed application actions, one command a
 * line (the format below). */
#include "scenario_core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- scenario files ---------------------------------------------------
 * One command a line; '#' starts a comment; hosts are A and B; times take
 * ns, us, ms or s. Before the first "at":
 *   delay T | rate BPS | loss P | reorder P | duplicate P | corrupt P
 *       (the path A-B; faults apply once per direction)
 *   rcvbuf H N | sndbuf H N | msl T | listen B PORT
 *   lose H SYN|SYNACK|ACK|DATA|FIN|RST N     (the Nth such segment H sends)
 * Then, in time order:
 *   at T connect H PEER PORT | send H N | read H | close H | shutdown H
 *   at T abort H | linger H MS | keepalive H IDLE_MS INTVL_MS COUNT
 *   at T cut H            (nothing H sends gets through from then on)
 *   run T                 (the total length; default 10 s) */

enum { MAX_ACTIONS = 128 };

struct action {
    fa_time at;
    char verb[16];
    int host, peer;
    long n[3];
};

struct file_run {
    struct action acts[MAX_ACTIONS];
    int nacts;
    fa_time length;
    int listen_port;
    struct fa_tcp *listener, *sock[2];
    long to_send[2], sent[2];
    int reading[2];
};

static int parse_time(const char *t, fa_time *out)
{
    char *end;
    double v = strtod(t, &end);
    double scale = !strcmp(end, "ns") ? 1 : !strcmp(end, "us") ? 1e3
                 : !strcmp(end, "ms") ? 1e6 : !strcmp(end, "s") || !*end ? 1e9 : -1;
    /* Any double may be written; not every one fits in 64-bit ns (and
     * converting one that does not is undefined): a century at most. */
    if (end == t || scale < 0 || !(v >= 0) || v * scale > 100 * 365.25 * 86400 * 1e9)
        return -1;
    *out = (fa_time)(v * scale);
    return 0;
}

static int parse_host(const char *h)
{
    return !strcmp(h, "A") ? 0 : !strcmp(h, "B") ? 1 : -1;
}

static int parse_rule(struct scen *s, char **w, int nw)
{
    static const struct { const char *name; uint8_t mask, want; int data; } kinds[] = {
        { "SYN", 0x12, 0x02, -1 }, { "SYNACK", 0x12, 0x12, -1 }, { "FIN", 0x01, 0x01, -1 },
        { "RST", 0x04, 0x04, -1 }, { "ACK", 0x17, 0x10, 0 }, { "DATA", 0x06, 0x00, 1 },
    };
    if (nw != 4 || s->nrules == 8)
        return -1;
    struct loss_rule *r = &s->rules[s->nrules];
    r->host = parse_host(w[1]);
    r->nth = atoi(w[3]);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(w[2], kinds[i].name)) {
            r->mask = kinds[i].mask, r->want = kinds[i].want, r->data = kinds[i].data;
            if (r->host < 0 || r->nth < 1)
                return -1;
            s->nrules++;
            return 0;
        }
    return -1;
}

/* Setup lines (before the scenario starts). 1 = handled, -1 = bad. */
static int setup_line(struct setup *u, struct file_run *f, char **w, int nw)
{
    fa_time t;
    double p = nw == 2 ? atof(w[1]) : -1;
    if (!strcmp(w[0], "delay") && nw == 2 && !parse_time(w[1], &t)) {
        u->up.delay = u->down.delay = t / 2;
    } else if (!strcmp(w[0], "rate") && nw == 2) {
        u->up.rate_bps = u->down.rate_bps = strtoull(w[1], NULL, 10);
    } else if (!strcmp(w[0], "loss") && p >= 0 && p <= 1) {
        u->up.loss = p;
    } else if (!strcmp(w[0], "reorder") && p >= 0 && p <= 1) {
        u->up.reorder = p;
    } else if (!strcmp(w[0], "duplicate") && p >= 0 && p <= 1) {
        u->up.duplicate = p;
    } else if (!strcmp(w[0], "corrupt") && p >= 0 && p <= 1) {
        u->up.corrupt = p;
    } else if ((!strcmp(w[0], "rcvbuf") || !strcmp(w[0], "sndbuf")) && nw == 3 &&
               parse_host(w[1]) >= 0) {
        uint32_t *b = w[0][0] == 'r' ? u->rcvbuf : u->sndbuf;
        b[parse_host(w[1])] = (uint32_t)atol(w[2]);
    } else if (!strcmp(w[0], "msl") && nw == 2 && !parse_time(w[1], &t)) {
        u->msl = t;
    } else if (!strcmp(w[0], "listen") && nw == 3 && parse_host(w[1]) == 1) {
        f->listen_port = atoi(w[2]);
    } else if (!strcmp(w[0], "run") && nw == 2 && !parse_time(w[1], &t)) {
        f->length = t;
    } else {
        return 0;
    }
    return 1;
}

static int action_line(struct file_run *f, char **w, int nw)
{
    static const struct { const char *verb; int args; } verbs[] = {
        { "connect", 3 }, { "send", 2 }, { "read", 1 }, { "close", 1 }, { "shutdown", 1 },
        { "abort", 1 }, { "linger", 2 }, { "keepalive", 4 }, { "cut", 1 },
    };
    if (nw < 4 || f->nacts == MAX_ACTIONS)
        return -1;
    struct action *a = &f->acts[f->nacts];
    if (parse_time(w[1], &a->at) < 0 || (a->host = parse_host(w[3])) < 0)
        return -1;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strcmp(w[2], verbs[i].verb) || nw != 3 + verbs[i].args)
            continue;
        snprintf(a->verb, sizeof a->verb, "%s", w[2]);
        if (!strcmp(a->verb, "connect")) {
            a->peer = parse_host(w[4]);
            a->n[0] = atol(w[5]);
            if (a->peer < 0 || a->peer == a->host)
                return -1;
        } else {
            for (int k = 4; k < nw; k++)
                a->n[k - 4] = atol(w[k]);
        }
        if (f->nacts && a->at < f->acts[f->nacts - 1].at)
            return -1; /* keep them in time order */
        f->nacts++;
        return 0;
    }
    return -1;
}

static void do_action(struct scen *s, struct file_run *f, const struct action *a)
{
    fa_time now = scen_now(s);
    struct fa_tcp *sock = f->sock[a->host];
    char text[96];
    snprintf(text, sizeof text, "%s: %s", a->host ? "B" : "A", a->verb);
    scen_note(s, text);
    if (!strcmp(a->verb, "connect")) {
        fa_tcp_open(s->st[a->host], &f->sock[a->host]);
        fa_tcp_connect(f->sock[a->host], a->peer ? ADDR_B : ADDR_A, (uint16_t)a->n[0], now);
    } else if (!strcmp(a->verb, "send")) {
        f->to_send[a->host] += a->n[0];
    } else if (!strcmp(a->verb, "read")) {
        f->reading[a->host] = 1;
    } else if (!strcmp(a->verb, "cut")) {
        s->outage_host = a->host;
        s->outage_from = now;
    } else if (!sock) {
        scen_note(s, "(no connection on that host yet: ignored)");
    } else if (!strcmp(a->verb, "close")) {
        int r = fa_tcp_close(sock, now);
        if (r != -EINPROGRESS)
            f->sock[a->host] = NULL;
    } else if (!strcmp(a->verb, "shutdown")) {
        fa_tcp_shutdown(sock, FA_SHUT_WR, now);
    } else if (!strcmp(a->verb, "abort")) {
        fa_tcp_abort(sock, now);
        f->sock[a->host] = NULL;
    } else if (!strcmp(a->verb, "linger")) {
        fa_tcp_setopt(sock, FA_SO_LINGER, a->n[0]);
    } else if (!strcmp(a->verb, "keepalive")) {
        fa_tcp_setopt(sock, FA_SO_KEEPALIVE, 1);
        fa_tcp_setopt(sock, FA_TCP_KEEPIDLE, a->n[0]);
        fa_tcp_setopt(sock, FA_TCP_KEEPINTVL, a->n[1]);
        fa_tcp_setopt(sock, FA_TCP_KEEPCNT, a->n[2]);
    }
}

/* The applications between actions: accept, send what is owed, read. */
static void file_pump(struct scen *s, struct file_run *f)
{
    fa_time now = scen_now(s);
    if (f->listener && !f->sock[1])
        if (fa_tcp_accept(f->listener, &f->sock[1]) < 0)
            f->sock[1] = NULL;
    for (int h = 0; h < 2; h++) {
        struct fa_tcp *sock = f->sock[h];
        if (!sock)
            continue;
        static char zeros[4096];
        while (f->sent[h] < f->to_send[h]) {
            long want = f->to_send[h] - f->sent[h];
            long n = fa_tcp_send(sock, zeros, (size_t)(want < 4096 ? want : 4096), now);
            if (n <= 0)
                break;
            f->sent[h] += n;
        }
        char buf[4096];
        while (f->reading[h] && fa_tcp_recv(sock, buf, sizeof buf, now) > 0)
            ;
    }
}

/* Reads a scenario from in (name for messages): 0, or -EINVAL with the
 * line that could not be read said on stderr. */
static int read_stream(FILE *in, const char *path, struct scen *s, struct setup *u,
                       struct file_run *f)
{
    char line[256];
    int lineno = 0, err = 0;
    while (!err && fgets(line, sizeof line, in)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *w[8];
        int nw = 0;
        for (char *tok = strtok(line, " \t\r\n"); tok && nw < 8; tok = strtok(NULL, " \t\r\n"))
            w[nw++] = tok;
        if (!nw)
            continue;
        int r = !strcmp(w[0], "at") ? action_line(f, w, nw)
              : !strcmp(w[0], "lose") ? parse_rule(s, w, nw)
              : setup_line(u, f, w, nw) == 1 ? 0 : -1;
        if (r < 0) {
            fprintf(stderr, "finack-sim: %s:%d: cannot read this line\n", path, lineno);
            err = -EINVAL;
        }
    }
    return err;
}

static int read_file(const char *path, struct scen *s, struct setup *u, struct file_run *f)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return -errno;
    int err = read_stream(in, path, s, u, f);
    fclose(in);
    return err;
}

int scenario_file_check(FILE *in, const char *name)
{
    static struct scen sc;
    static struct file_run f;
    struct setup u;
    scen_setup_defaults(&u);
    memset(&sc, 0, sizeof sc);
    memset(&f, 0, sizeof f);
    return read_stream(in, name, &sc, &u, &f);
}

int scenario_file(const char *path, uint64_t seed, const struct scen_out *out)
{
    static struct scen sc;
    static struct file_run f;
    struct setup u;
    scen_setup_defaults(&u);
    memset(&f, 0, sizeof f);
    f.length = 10 * S;
    struct loss_rule rules[8];
    int nrules;
    memset(&sc, 0, sizeof sc);
    int err = read_file(path, &sc, &u, &f);
    if (err)
        return err;
    memcpy(rules, sc.rules, sizeof rules); /* scen_start clears sc */
    nrules = sc.nrules;
    if ((err = scen_start(&sc, &u, seed, out)) < 0)
        return err;
    memcpy(sc.rules, rules, sizeof rules);
    sc.nrules = nrules;
    if (f.listen_port)
        f.listener = scen_listen_b(&sc, (uint16_t)f.listen_port);
    sc.printing = 1;
    if (!out->json)
        printf("scenario file %s\n  A = 198.18.0.1, B = 198.18.0.2\n\n", path);
    fa_time end = sc.t0 + f.length;
    int next = 0;
    while (scen_now(&sc) < end) {
        fa_time until = next < f.nacts ? sc.t0 + f.acts[next].at : end;
        if (until > scen_now(&sc) + MS)
            until = scen_now(&sc) + MS;
        fa_sim_run_until(sc.sim, until);
        while (next < f.nacts && scen_now(&sc) >= sc.t0 + f.acts[next].at)
            do_action(&sc, &f, &f.acts[next++]);
        file_pump(&sc, &f);
    }
    return scen_end(&sc);
}
