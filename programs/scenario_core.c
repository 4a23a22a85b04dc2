/* scenario_core.c — the parts of finack-sim's scenarios that named
 * scenarios and scenario files share (scenario_core.h): the timeline of
 * segments (sequence numbers relative to each side's ISN, as in RFC
 * 9293's figures; lost ones marked) and state changes, as text or one
 * JSON object per line; loss rules; a pcap; starting and ending a run. */
#include "scenario_core.h"

#include <errno.h>

#include "ladder/sim_record.h"
#include <stdlib.h>
#include <string.h>

const char *scenario_flags(uint8_t f, char *buf)
{
    return lad_flags(f, buf); /* one spelling for the timeline and the page */
}

static double ms(const struct scen *s, fa_time t)
{
    return (double)(t - s->t0) / 1e6;
}

/* The relative numbers a segment was printed with when sent, for its
 * arrival's line (an ISN learned in between must not change them). */
static int sent_numbers(struct scen *s, const struct fa_sim_segment *g, int arrival,
                        uint32_t *seq, uint32_t *ack)
{
    for (unsigned k = 0; k < SCEN_SENT_MEMORY; k++) {
        struct sent_rel *r = &s->sent[k];
        if (r->used && r->src == g->src && r->seq_abs == g->seq && r->ack_abs == g->ack &&
            r->flags == g->flags && r->len == g->len) {
            if (arrival) {
                *seq = r->seq;
                *ack = r->ack;
            }
            return 1;
        }
    }
    if (!arrival) {
        s->sent[s->next_sent++ % SCEN_SENT_MEMORY] = (struct sent_rel){
            1, g->src, g->seq, g->ack, g->flags, g->len, *seq, *ack };
    }
    return 0;
}

static void print_segment(struct scen *s, int host, const struct fa_sim_segment *g,
                          fa_time t, int lost)
{
    char flags[32], opts[160] = "";
    uint32_t seq = s->have_isn[host] ? g->seq - s->isn[host] : g->seq;
    uint32_t ack = s->have_isn[!host] ? g->ack - s->isn[!host] : g->ack;
    if (s->json)
        sent_numbers(s, g, lost < 0, &seq, &ack);
    /* The options worth seeing: the SYN's offers, and SACK blocks (in
     * the receiver's relative numbers, like ack=). */
    size_t n = 0;
    const char *sep = " <";
#define OPT(...) do { n += (size_t)snprintf(opts + n, sizeof opts - n, "%s", sep); \
                      n += (size_t)snprintf(opts + n, sizeof opts - n, __VA_ARGS__); \
                      sep = ", "; } while (0)
    if (g->mss)
        OPT("mss %u", g->mss);
    if (g->ws >= 0)
        OPT("wscale %d", g->ws);
    if (g->sack_ok)
        OPT("sackOK");
    if ((g->flags & 0x02) && g->has_ts)
        OPT("TS");
    uint32_t base = s->have_isn[!host] ? s->isn[!host] : 0;
    for (unsigned b = 0; b < g->sack_blocks && n < sizeof opts - 32; b++)
        OPT("sack %u-%u", g->sack[b][0] - base, g->sack[b][1] - base);
#undef OPT
    if (n && n < sizeof opts - 1)
        snprintf(opts + n, sizeof opts - n, ">");
    scenario_flags(g->flags, flags);
    if (s->json) {
        printf("{\"t_ms\":%.3f,\"event\":\"%s\",\"from\":\"%c\",\"to\":\"%c\","
               "\"sport\":%u,\"dport\":%u,"
               "\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,\"win\":%u,\"len\":%u,\"mss\":%u,"
               "\"wscale\":%d,\"sackok\":%d",
               ms(s, t), lost < 0 ? "arrive" : "segment", host ? 'B' : 'A', host ? 'A' : 'B',
               g->sport, g->dport, flags, seq,
               (g->flags & 0x10) ? ack : 0, g->win, g->len, g->mss, g->ws, g->sack_ok);
        if (g->has_ts)
            printf(",\"tsval\":%u,\"tsecr\":%u", g->ts_val, g->ts_ecr);
        if (g->sack_blocks) {
            printf(",\"sack\":\"");
            for (unsigned b = 0; b < g->sack_blocks; b++)
                printf("%s%u-%u", b ? " " : "", g->sack[b][0] - base, g->sack[b][1] - base);
            printf("\"");
        }
        if (lost >= 0)
            printf(",\"lost\":%s", lost ? "true" : "false");
        printf("}\n");
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
    struct fa_sim_segment g;
    if (!fa_sim_segment_parse(f, len, &g))
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

/* Deliveries: in JSON an "arrive" line per segment (its one-way delay);
 * both ways to the page's recorder. */
static void on_frame(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t)
{
    struct scen *s = ctx;
    struct fa_sim_segment g;
    if (!s->printing)
        return;
    if (s->rec)
        lad_rec_frame(s->rec, host, dir, f, len, t);
    if (s->json && dir == 1 && fa_sim_segment_parse(f, len, &g))
        print_segment(s, !host, &g, t, -1);
}

static void trace(void *ctx, const struct fa_tcp *sock, int from, int to, fa_time now)
{
    struct scen *s = ctx;
    (void)from;
    if (!s->printing)
        return;
    if (s->rec)
        lad_rec_state(s->rec, sock, to, now);
    struct fa_tcp_info i;
    fa_tcp_get_info(sock, &i);
    char host = i.local_addr == ADDR_A ? 'A' : 'B';
    const char *name = fa_tcp_state_name((enum fa_tcp_state)to);
    int h = host == 'B';
    if (s->json && i.remote_port) /* the peer and SND.UNA: which incarnation */
        printf("{\"t_ms\":%.3f,\"event\":\"state\",\"host\":\"%c\",\"port\":%u,"
               "\"rport\":%u,\"una\":%u,\"state\":\"%s\"}\n", ms(s, now), host,
               i.local_port, i.remote_port,
               s->have_isn[h] ? i.snd_una - s->isn[h] : i.snd_una, name);
    else if (s->json)
        printf("{\"t_ms\":%.3f,\"event\":\"state\",\"host\":\"%c\",\"port\":%u,"
               "\"state\":\"%s\"}\n", ms(s, now), host, i.local_port, name);
    else
        printf("%9.3f ms   %s%s\n", ms(s, now), host == 'A' ? "A: " : "                 B: ",
               name);
}

void scen_note(struct scen *s, const char *text)
{
    if (s->rec && lad_add_note(&s->rec->cap, (double)(fa_sim_now(s->sim) - s->t0) / 1e6,
                               text) < 0)
        s->rec->failed = 1;
    if (s->json)
        printf("{\"t_ms\":%.3f,\"event\":\"note\",\"text\":\"%s\"}\n",
               ms(s, fa_sim_now(s->sim)), text);
    else
        printf("%9.3f ms   -- %s\n", ms(s, fa_sim_now(s->sim)), text);
}

void scen_run_for(struct scen *s, fa_time span)
{
    fa_sim_run_until(s->sim, fa_sim_now(s->sim) + span);
}

fa_time scen_now(struct scen *s)
{
    return fa_sim_now(s->sim);
}

struct fa_tcp *scen_listen_b(struct scen *s, uint16_t port)
{
    struct fa_tcp *l;
    fa_tcp_open(s->st[1], &l);
    fa_tcp_bind(l, 0, port);
    fa_tcp_listen(l, 4, scen_now(s));
    return l;
}

struct fa_tcp *scen_connect_a(struct scen *s, uint16_t port)
{
    struct fa_tcp *c;
    fa_tcp_open(s->st[0], &c);
    fa_tcp_bind(c, 0, 40000);
    fa_tcp_connect(c, ADDR_B, port, scen_now(s));
    return c;
}

struct fa_tcp *scen_accept_b(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *c = NULL;
    for (int i = 0; i < 1000 && fa_tcp_accept(l, &c) < 0; i++)
        scen_run_for(s, MS);
    return c;
}

static fa_time pcap_now(void *ctx)
{
    return fa_sim_now(ctx);
}


void scen_setup_defaults(struct setup *u)
{
    memset(u, 0, sizeof *u);
    fa_sim_link_init(&u->up);
    u->up.delay = 5 * MS; /* host to host: 10 ms */
    u->down = u->up;
    u->msl = 5 * S;
}

/* --html: a recorder fills the page's model from here on. */
static int html_start(struct scen *s, const struct setup *u, const struct scen_out *out)
{
    s->rec = lad_rec_new((double)u->msl / 1e6, s->t0);
    s->html = out->html;
    s->title = out->title ? out->title : "finack-sim";
    return s->rec ? 0 : -ENOMEM;
}

static int html_end(struct scen *s)
{
    if (!s->rec)
        return 0;
    int rc = lad_rec_write(s->rec, s->html, s->title);
    if (rc == 0 && !s->json)
        printf("page: %s\n", s->html);
    lad_rec_free(s->rec);
    s->rec = NULL;
    return rc < 0 ? -EIO : 0;
}

int scen_start(struct scen *s, const struct setup *u, uint64_t seed,
               const struct scen_out *out)
{
    memset(s, 0, sizeof *s);
    s->json = out->json;
    const char *pcap_path = out->pcap;
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
    fa_sim_on_frame(s->sim, on_frame, s);
    if (pcap_path &&
        fa_pcap_open(pcap_path, (struct fa_clock){ s->sim, pcap_now }, &s->pcap) < 0) {
        fprintf(stderr, "finack-sim: cannot write %s\n", pcap_path);
        return -EIO;
    }
    /* Let ARP settle unseen: the figures are about TCP. */
    fa_stack_ping(s->st[0], ADDR_B, 1, 1, NULL, 0, 0);
    fa_sim_run_until(s->sim, 100 * MS);
    s->t0 = scen_now(s);
    if (out->html && html_start(s, u, out) < 0)
        return -ENOMEM;
    return 0;
}

int scen_end(struct scen *s)
{
    scen_run_for(s, 100 * MS);
    s->printing = 0;
    const char *bad = fa_sim_check_first(s->sim);
    if (!s->json)
        printf("\ninvariants: %s\n", bad ? bad : "all held");
    fa_pcap_close(s->pcap);
    int page = html_end(s);
    fa_sim_destroy(s->sim);
    return bad ? -EPROTO : page;
}
