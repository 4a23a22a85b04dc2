/* scenarios.c — finack-sim's named scenarios: TCP as a textbook draws
 * it. Two hosts, A (198.18.0.1, the client) and B (198.18.0.2, the
 * server), 10 ms apart, on a clean link; each scenario scripts the
 * applications and, where it is the point, loses one chosen segment or
 * injects one. The timeline shows every segment as its sender sends it
 * (sequence numbers relative to each side's ISN, as in RFC 9293's
 * figures; lost ones marked) and every state change, in time order; or
 * one JSON object per line; and optionally a pcap. */
#include "scenarios.h"
#include "forge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ADDR_A FA_IPV4(198, 18, 0, 1)
#define ADDR_B FA_IPV4(198, 18, 0, 2)

/* Lose the nth (from 1) segment `host` sends whose flags, masked, equal
 * want; data: -1 any, 0 without data, 1 with data. */
struct loss_rule {
    int host, nth, seen, data;
    uint8_t mask, want;
};

struct scen {
    struct fa_sim *sim;
    struct fa_stack *st[2];
    int json, printing;
    fa_time t0;
    uint32_t isn[2];
    int have_isn[2];
    struct fa_pcap *pcap;
    /* The loss rule: drop the nth (from 1) segment host sends whose
     * flags, masked, equal want. */
    int drop_host, drop_nth, drop_seen;
    uint8_t drop_mask, drop_want;
    struct loss_rule rules[8]; /* from scenario files */
    int nrules;
    int outage_host;
    fa_time outage_from;
};

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A TCP segment in an Ethernet frame, or 0. */
int scenario_parse(const uint8_t *f, size_t len, struct seg *g)
{
    if (len < 54 || g16(f + 12) != 0x0800 || f[23] != 6)
        return 0;
    const uint8_t *ip = f + 14, *t = ip + (ip[0] & 15) * 4;
    size_t hl = (size_t)(t[12] >> 4) * 4;
    if (t + hl > f + len)
        return 0;
    memset(g, 0, sizeof *g);
    g->ws = -1;
    g->flags = t[13] & 0x3f;
    g->seq = g32(t + 4);
    g->ack = g32(t + 8);
    g->win = g16(t + 14);
    g->len = (uint16_t)(g16(ip + 2) - (ip[0] & 15) * 4 - hl);
    for (size_t i = 20; i + 1 < hl;) {
        uint8_t k = t[i];
        if (k == 0)
            break;
        if (k == 1) {
            i++;
            continue;
        }
        uint8_t l = t[i + 1];
        if (l < 2)
            break;
        if (k == 2 && l == 4)
            g->mss = g16(t + i + 2);
        if (k == 3 && l == 3)
            g->ws = t[i + 2];
        i += l;
    }
    return 1;
}

const char *scenario_flags(uint8_t f, char *buf)
{
    static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
    static const int order[] = { 1, 0, 2, 3, 4, 5 }; /* SYN first, as figures do */
    buf[0] = 0;
    for (int i = 0; i < 6; i++)
        if (f & (1 << order[i])) {
            if (buf[0])
                strcat(buf, ",");
            strcat(buf, names[order[i]]);
        }
    return buf;
}

static double ms(const struct scen *s, fa_time t)
{
    return (double)(t - s->t0) / 1e6;
}

static void print_segment(struct scen *s, int host, const struct seg *g, fa_time t, int lost)
{
    char flags[32], opts[48] = "";
    uint32_t seq = s->have_isn[host] ? g->seq - s->isn[host] : g->seq;
    uint32_t ack = s->have_isn[!host] ? g->ack - s->isn[!host] : g->ack;
    if (g->mss && g->ws >= 0)
        snprintf(opts, sizeof opts, " <mss %u, wscale %d>", g->mss, g->ws);
    else if (g->mss)
        snprintf(opts, sizeof opts, " <mss %u>", g->mss);
    scenario_flags(g->flags, flags);
    if (s->json) {
        printf("{\"t_ms\":%.3f,\"event\":\"segment\",\"from\":\"%c\",\"to\":\"%c\","
               "\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,\"win\":%u,\"len\":%u,\"mss\":%u,"
               "\"wscale\":%d,\"lost\":%s}\n",
               ms(s, t), host ? 'B' : 'A', host ? 'A' : 'B', flags, seq,
               (g->flags & 0x10) ? ack : 0, g->win, g->len, g->mss, g->ws,
               lost ? "true" : "false");
        return;
    }
    /* Numbers from another connection's space (an old duplicate, the RST
     * that answers it) make no sense relative: show them absolute. */
    char seqs[24], acks[24] = "";
    if (seq < (1u << 30))
        snprintf(seqs, sizeof seqs, "seq=%u", seq);
    else
        snprintf(seqs, sizeof seqs, "seq=%u(abs)", g->seq);
    if ((g->flags & 0x10) && ack < (1u << 30))
        snprintf(acks, sizeof acks, " ack=%u", ack);
    else if (g->flags & 0x10)
        snprintf(acks, sizeof acks, " ack=%u(abs)", g->ack);
    printf("%9.3f ms   %s  %-9s %s%s win=%u%s%s\n", ms(s, t),
           host ? "A <--- B" : "A ---> B", flags, seqs, acks, g->win, opts,
           lost ? "   (LOST)" : "");
    if (g->len)
        printf("%9s      %8s  %-9s %u bytes of data\n", "", "", "", g->len);
}

static int filter(void *ctx, int host, const uint8_t *f, size_t len, fa_time t)
{
    struct scen *s = ctx;
    struct seg g;
    if (!scenario_parse(f, len, &g))
        return 0; /* ARP and the like pass, unprinted */
    if ((g.flags & 0x02) && !(g.flags & 0x10) && !s->have_isn[host]) {
        s->isn[host] = g.seq;
        s->have_isn[host] = 1;
    }
    if ((g.flags & 0x12) == 0x12 && !s->have_isn[host]) {
        s->isn[host] = g.seq;
        s->have_isn[host] = 1;
    }
    int lost = 0;
    if (host == s->drop_host && (g.flags & s->drop_mask) == s->drop_want &&
        ++s->drop_seen == s->drop_nth)
        lost = 1;
    for (int i = 0; i < s->nrules; i++) {
        struct loss_rule *r = &s->rules[i];
        if (r->host == host && (g.flags & r->mask) == r->want &&
            (r->data < 0 || (r->data > 0) == (g.len > 0)) && ++r->seen == r->nth)
            lost = 1;
    }
    if (host == s->outage_host && t >= s->outage_from)
        lost = 1;
    if (s->pcap)
        fa_pcap_record(s->pcap, f, len);
    if (s->printing)
        print_segment(s, host, &g, t, lost);
    return lost;
}

static void trace(void *ctx, const struct fa_tcp *sock, int from, int to, fa_time now)
{
    struct scen *s = ctx;
    (void)from;
    if (!s->printing)
        return;
    struct fa_tcp_info i;
    fa_tcp_get_info(sock, &i);
    char host = i.local_addr == ADDR_A ? 'A' : 'B';
    const char *name = fa_tcp_state_name((enum fa_tcp_state)to);
    if (s->json)
        printf("{\"t_ms\":%.3f,\"event\":\"state\",\"host\":\"%c\",\"port\":%u,"
               "\"state\":\"%s\"}\n", ms(s, now), host, i.local_port, name);
    else
        printf("%9.3f ms   %s%s\n", ms(s, now), host == 'A' ? "A: " : "                 B: ",
               name);
}

static void note(struct scen *s, const char *text)
{
    if (s->json)
        printf("{\"t_ms\":%.3f,\"event\":\"note\",\"text\":\"%s\"}\n",
               ms(s, fa_sim_now(s->sim)), text);
    else
        printf("%9.3f ms   -- %s\n", ms(s, fa_sim_now(s->sim)), text);
}

static void run_for(struct scen *s, fa_time span)
{
    fa_sim_run_until(s->sim, fa_sim_now(s->sim) + span);
}

static fa_time now_of(struct scen *s)
{
    return fa_sim_now(s->sim);
}

static struct fa_tcp *listen_b(struct scen *s, uint16_t port)
{
    struct fa_tcp *l;
    fa_tcp_open(s->st[1], &l);
    fa_tcp_bind(l, 0, port);
    fa_tcp_listen(l, 4, now_of(s));
    return l;
}

static struct fa_tcp *connect_a(struct scen *s, uint16_t port)
{
    struct fa_tcp *c;
    fa_tcp_open(s->st[0], &c);
    fa_tcp_bind(c, 0, 40000);
    fa_tcp_connect(c, ADDR_B, port, now_of(s));
    return c;
}

static struct fa_tcp *accept_b(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *c = NULL;
    for (int i = 0; i < 1000 && fa_tcp_accept(l, &c) < 0; i++)
        run_for(s, MS);
    return c;
}

/* ---- the scenarios --------------------------------------------------- */
static void open_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    fa_tcp_send(a, "hello", 5, now_of(s));
    run_for(s, 30 * MS);
    char buf[16];
    fa_tcp_recv(b, buf, sizeof buf, now_of(s));
    fa_tcp_send(b, "HELLO", 5, now_of(s));
    run_for(s, 30 * MS);
    fa_tcp_recv(a, buf, sizeof buf, now_of(s)); /* unread data would mean RST */
    note(s, "A closes");
    fa_tcp_close(a, now_of(s));
    run_for(s, 30 * MS);
    note(s, "B sees end of stream and closes");
    fa_tcp_close(b, now_of(s));
    run_for(s, 30 * MS);
    note(s, "A waits in TIME-WAIT for 2 MSL (MSL is 5 s here)");
    run_for(s, 11 * S);
}

static void lost_syn(struct scen *s, struct fa_tcp *l)
{
    s->drop_host = 0, s->drop_mask = 0x12, s->drop_want = 0x02, s->drop_nth = 1;
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    (void)a;
    (void)b;
    note(s, "the retransmitted SYN (RTO 1 s) got through");
}

static void lost_synack(struct scen *s, struct fa_tcp *l)
{
    s->drop_host = 1, s->drop_mask = 0x12, s->drop_want = 0x12, s->drop_nth = 1;
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    (void)a;
    (void)b;
    note(s, "A's SYN retransmission made B resend its SYN-ACK at once");
}

static void lost_last_ack(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    run_for(s, 30 * MS);
    note(s, "A closes; B closes; A's final ACK is lost");
    fa_tcp_close(a, now_of(s));
    run_for(s, 30 * MS);
    /* A's segments so far: SYN, ACK, FIN; the next pure ACK is the last. */
    /* Counted from here: the first pure ACK A sends is the last one. */
    s->drop_host = 0, s->drop_mask = 0xff, s->drop_want = 0x10, s->drop_nth = 1;
    s->drop_seen = 0;
    fa_tcp_close(b, now_of(s));
    run_for(s, 3 * S);
    note(s, "B's FIN came again: A, in TIME-WAIT, ACKed it again and restarted 2 MSL");
    run_for(s, 11 * S);
}

static void simultaneous_open(struct scen *s, struct fa_tcp *l)
{
    (void)l;
    struct fa_tcp *a, *b;
    fa_tcp_open(s->st[0], &a);
    fa_tcp_bind(a, 0, 6000);
    fa_tcp_open(s->st[1], &b);
    fa_tcp_bind(b, 0, 7000);
    note(s, "A and B each connect to the other at the same moment");
    fa_tcp_connect(a, ADDR_B, 7000, now_of(s));
    fa_tcp_connect(b, ADDR_A, 6000, now_of(s));
    run_for(s, 100 * MS);
}

static void simultaneous_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    run_for(s, 30 * MS);
    note(s, "A and B close at the same moment");
    fa_tcp_close(a, now_of(s));
    fa_tcp_close(b, now_of(s));
    run_for(s, 100 * MS);
}

static void half_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    fa_tcp_send(a, "GET /", 5, now_of(s));
    note(s, "A sends a request and shuts down its sending side");
    fa_tcp_shutdown(a, FA_SHUT_WR, now_of(s));
    run_for(s, 30 * MS);
    static char reply[3000];
    memset(reply, 'r', sizeof reply);
    char req[8];
    fa_tcp_recv(b, req, sizeof req, now_of(s)); /* unread, a close would reset */
    note(s, "B, in CLOSE-WAIT, still sends its 3000-byte reply");
    fa_tcp_send(b, reply, sizeof reply, now_of(s));
    run_for(s, 100 * MS);
    fa_tcp_close(b, now_of(s));
    run_for(s, 50 * MS);
    char buf[4096];
    while (fa_tcp_recv(a, buf, sizeof buf, now_of(s)) > 0)
        ;
    fa_tcp_close(a, now_of(s));
}

static void abort_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    run_for(s, 30 * MS);
    note(s, "A closes with SO_LINGER 0: a reset, no FIN, no TIME-WAIT");
    fa_tcp_setopt(a, FA_SO_LINGER, 0);
    fa_tcp_close(a, now_of(s));
    run_for(s, 30 * MS);
    char buf[8];
    long r = fa_tcp_recv(b, buf, sizeof buf, now_of(s));
    note(s, r == -ECONNRESET ? "B's recv() fails with ECONNRESET" : "B saw no reset?");
    fa_tcp_close(b, now_of(s));
}

static void keepalive(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    (void)b;
    fa_tcp_setopt(a, FA_SO_KEEPALIVE, 1);
    fa_tcp_setopt(a, FA_TCP_KEEPIDLE, 10000);
    fa_tcp_setopt(a, FA_TCP_KEEPINTVL, 2000);
    fa_tcp_setopt(a, FA_TCP_KEEPCNT, 3);
    run_for(s, 30 * MS);
    note(s, "A keeps alive (idle 10 s, every 2 s, 3 probes); B is cut off");
    s->outage_host = 1;
    s->outage_from = now_of(s);
    run_for(s, 20 * S);
    note(s, fa_tcp_error(a) == -ETIMEDOUT ? "A's connection died with ETIMEDOUT"
                                         : "A's connection is still there?");
}

static void zero_window(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    static char data[4000];
    note(s, "B (1000-byte buffer) does not read; A sends 4000 bytes");
    fa_tcp_send(a, data, sizeof data, now_of(s));
    run_for(s, 5 * S);
    note(s, "B reads: the window opens and the transfer resumes");
    char buf[4096];
    for (int i = 0; i < 100; i++) {
        while (fa_tcp_recv(b, buf, sizeof buf, now_of(s)) > 0)
            ;
        run_for(s, 20 * MS);
    }
}

/* A SYN from A's address and port with an old ISN, as from a previous
 * incarnation of the connection (RFC 9293 §3.5, figure 9). */
static void inject_old_syn(struct scen *s, uint32_t isn)
{
    uint8_t f[FORGE_FRAME_MAX];
    const struct fa_config *ca = fa_stack_config(s->st[0]), *cb = fa_stack_config(s->st[1]);
    struct forged g = { .dst_mac = cb->mac, .src_mac = ca->mac, .src = ADDR_A,
                        .dst = ADDR_B, .sport = 40000, .dport = 80, .seq = isn,
                        .flags = TCP_SYN, .wnd = 1000 };
    fa_sim_inject(s->sim, 1, f, forge_tcp(f, &g));
}

static void old_duplicate_syn(struct scen *s, struct fa_tcp *l)
{
    note(s, "an old duplicate SYN (ISN 90 of a past connection) reaches B");
    inject_old_syn(s, 90);
    note(s, "A's own SYN is slow (delayed here by losing its first copy)");
    s->drop_host = 0, s->drop_mask = 0x12, s->drop_want = 0x02, s->drop_nth = 1;
    struct fa_tcp *a = connect_a(s, 80), *b = accept_b(s, l);
    (void)a;
    (void)b;
    note(s, "B's SYN-ACK to the old SYN drew A's RST; B went back to LISTEN; the new SYN won");
}

static const struct {
    const char *name, *what;
    void (*run)(struct scen *, struct fa_tcp *);
} scenarios[] = {
    { "open-close", "three-way handshake, data each way, close, TIME-WAIT", open_close },
    { "lost-syn", "the first SYN is lost and retransmitted", lost_syn },
    { "lost-synack", "the first SYN-ACK is lost", lost_synack },
    { "lost-last-ack", "the last ACK of the close is lost: TIME-WAIT ACKs again", lost_last_ack },
    { "simultaneous-open", "both ends send SYN at once", simultaneous_open },
    { "simultaneous-close", "both ends send FIN at once: CLOSING", simultaneous_close },
    { "half-close", "data keeps flowing in CLOSE-WAIT after one side shut down", half_close },
    { "abort", "SO_LINGER 0: the close is a reset", abort_close },
    { "keepalive", "the peer is cut off; keepalive probes, then ETIMEDOUT", keepalive },
    { "zero-window", "the reader stops: zero window, persist probes, resume", zero_window },
    { "old-duplicate-syn", "RFC 9293 figure 9: an old SYN is refused", old_duplicate_syn },
};

void scenario_list(FILE *out)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        fprintf(out, "  %-20s %s\n", scenarios[i].name, scenarios[i].what);
}

static fa_time pcap_now(void *ctx)
{
    return fa_sim_now(ctx);
}

/* The two hosts: link (faults on each uplink only, so a path's loss is
 * what was asked) and configs. */
struct setup {
    struct fa_sim_link up, down;
    uint32_t rcvbuf[2], sndbuf[2];
    fa_time msl;
};

static void setup_defaults(struct setup *u)
{
    memset(u, 0, sizeof *u);
    fa_sim_link_init(&u->up);
    u->up.delay = 5 * MS; /* host to host: 10 ms */
    u->down = u->up;
    u->msl = 5 * S;
}

static int scen_start(struct scen *s, const struct setup *u, uint64_t seed, int json,
                      const char *pcap_path)
{
    memset(s, 0, sizeof *s);
    s->json = json;
    s->drop_host = s->outage_host = -1;
    if (fa_sim_create(seed, &s->sim) < 0 || fa_sim_check_enable(s->sim) < 0)
        return -ENOMEM;
    for (int h = 0; h < 2; h++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = h ? ADDR_B : ADDR_A;
        cfg.tcp_msl = u->msl;
        if (u->rcvbuf[h])
            cfg.tcp_rcvbuf = u->rcvbuf[h];
        if (u->sndbuf[h])
            cfg.tcp_sndbuf = u->sndbuf[h];
        cfg.tcp_trace = trace;
        cfg.tcp_trace_ctx = s;
        if (fa_sim_add_host(s->sim, &cfg, &u->up, &u->down) != h)
            return -EINVAL;
        s->st[h] = fa_sim_stack(s->sim, h);
    }
    fa_sim_set_filter(s->sim, filter, s);
    if (pcap_path &&
        fa_pcap_open(pcap_path, (struct fa_clock){ s->sim, pcap_now }, &s->pcap) < 0) {
        fprintf(stderr, "finack-sim: cannot write %s\n", pcap_path);
        return -EIO;
    }
    /* Let ARP settle unseen: the figures are about TCP. */
    fa_stack_ping(s->st[0], ADDR_B, 1, 1, NULL, 0, 0);
    fa_sim_run_until(s->sim, 100 * MS);
    s->t0 = now_of(s);
    return 0;
}

static int scen_end(struct scen *s)
{
    run_for(s, 100 * MS);
    s->printing = 0;
    const char *bad = fa_sim_check_first(s->sim);
    if (!s->json)
        printf("\ninvariants: %s\n", bad ? bad : "all held");
    fa_pcap_close(s->pcap);
    fa_sim_destroy(s->sim);
    return bad ? -EPROTO : 0;
}

int scenario_run(const char *name, uint64_t seed, int json, const char *pcap_path)
{
    size_t n = sizeof scenarios / sizeof scenarios[0], i;
    for (i = 0; i < n && strcmp(scenarios[i].name, name); i++)
        ;
    if (i == n)
        return -ENOENT;
    static struct scen sc;
    struct scen *s = &sc;
    struct setup u;
    setup_defaults(&u);
    if (!strcmp(name, "zero-window"))
        u.rcvbuf[1] = 1000;
    int err = scen_start(s, &u, seed, json, pcap_path);
    if (err)
        return err;
    struct fa_tcp *l = listen_b(s, 80);
    s->printing = 1;
    if (!json)
        printf("scenario %s: %s\n  A = %s (client), B = %s (server), 10 ms apart\n\n", name,
               scenarios[i].what, "198.18.0.1", "198.18.0.2");
    scenarios[i].run(s, l);
    return scen_end(s);
}

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
    if (end == t || scale < 0 || v < 0)
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
    fa_time now = now_of(s);
    struct fa_tcp *sock = f->sock[a->host];
    char text[96];
    snprintf(text, sizeof text, "%s: %s", a->host ? "B" : "A", a->verb);
    note(s, text);
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
        note(s, "(no connection on that host yet: ignored)");
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
    fa_time now = now_of(s);
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

static int read_file(const char *path, struct scen *s, struct setup *u, struct file_run *f)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return -errno;
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
    fclose(in);
    return err;
}

int scenario_file(const char *path, uint64_t seed, int json, const char *pcap_path)
{
    static struct scen sc;
    static struct file_run f;
    struct setup u;
    setup_defaults(&u);
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
    if ((err = scen_start(&sc, &u, seed, json, pcap_path)) < 0)
        return err;
    memcpy(sc.rules, rules, sizeof rules);
    sc.nrules = nrules;
    if (f.listen_port)
        f.listener = listen_b(&sc, (uint16_t)f.listen_port);
    sc.printing = 1;
    if (!json)
        printf("scenario file %s\n  A = 198.18.0.1, B = 198.18.0.2\n\n", path);
    fa_time end = sc.t0 + f.length;
    int next = 0;
    while (now_of(&sc) < end) {
        fa_time until = next < f.nacts ? sc.t0 + f.acts[next].at : end;
        if (until > now_of(&sc) + MS)
            until = now_of(&sc) + MS;
        fa_sim_run_until(sc.sim, until);
        while (next < f.nacts && now_of(&sc) >= sc.t0 + f.acts[next].at)
            do_action(&sc, &f, &f.acts[next++]);
        file_pump(&sc, &f);
    }
    return scen_end(&sc);
}
