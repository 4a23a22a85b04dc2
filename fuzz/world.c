/* world.c — the fuzz targets' simulated world (world.h): two hosts,
 * connections in deep states, the input played as operations, the
 * simulator's invariants checked. Public API only. */
#include "world.h"

#include <finack/finack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS FA_NS_PER_MS
#define A_ADDR FA_IPV4(198, 18, 0, 1)
#define B_ADDR FA_IPV4(198, 18, 0, 2)
#define NCONN 12
#define FRAME_MAX 2048

struct world {
    struct fa_sim *sim;
    struct fa_stack *st[2];
    struct fa_sim_link link[2];
    struct fa_tcp *listener[2];
    struct fa_tcp *conn[NCONN]; /* live sockets, either side */
    int nconn;
};

/* ---- reading the input ---------------------------------------------- */
struct input {
    const uint8_t *p;
    size_t left;
};

static uint32_t take(struct input *in, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = v << 8 | (in->left ? *in->p : 0);
        if (in->left) {
            in->p++;
            in->left--;
        }
    }
    return v;
}

/* ---- frames --------------------------------------------------------- */
static uint16_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Makes an Ethernet/IPv4/TCP frame's checksums right (it may be any
 * bytes: only what the headers say fits inside is summed). */
static void fix_checksums(uint8_t *f, size_t len)
{
    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return;
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = (size_t)(ip[2] << 8 | ip[3]);
    if (ihl < 20 || 14 + ihl > len)
        return;
    ip[10] = ip[11] = 0;
    uint16_t s = csum_add(0, ip, ihl);
    ip[10] = (uint8_t)(~s >> 8);
    ip[11] = (uint8_t)~s;
    if (ip[9] != 6 || total < ihl + 20 || 14 + total > len)
        return;
    uint8_t *t = ip + ihl;
    size_t tl = total - ihl;
    t[16] = t[17] = 0;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)(tl >> 8);
    pseudo[11] = (uint8_t)tl;
    s = csum_add(csum_add(0, pseudo, 12), t, tl);
    t[16] = (uint8_t)(~s >> 8);
    t[17] = (uint8_t)~s;
}

/* The TCP segment for host to, from its peer, on conn's 4-tuple. */
struct seg {
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t wnd;
    const uint8_t *opts;
    size_t olen; /* a multiple of 4, at most 40 */
    size_t dlen;
};

static size_t build(struct world *w, int to, const struct fa_tcp_info *i, const struct seg *s,
                    uint8_t *f)
{
    const uint8_t *dmac = fa_stack_config(w->st[to])->mac;
    const uint8_t *smac = fa_stack_config(w->st[!to])->mac;
    size_t thl = 20 + s->olen, total = 20 + thl + s->dlen;
    memset(f, 0, 14 + total);
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14, *t = ip + 20;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 6;
    for (int k = 0; k < 4; k++) {
        ip[12 + k] = (uint8_t)(i->remote_addr >> (24 - 8 * k));
        ip[16 + k] = (uint8_t)(i->local_addr >> (24 - 8 * k));
        t[4 + k] = (uint8_t)(s->seq >> (24 - 8 * k));
        t[8 + k] = (uint8_t)(s->ack >> (24 - 8 * k));
    }
    t[0] = (uint8_t)(i->remote_port >> 8);
    t[1] = (uint8_t)i->remote_port;
    t[2] = (uint8_t)(i->local_port >> 8);
    t[3] = (uint8_t)i->local_port;
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = s->flags;
    t[14] = (uint8_t)(s->wnd >> 8);
    t[15] = (uint8_t)s->wnd;
    if (s->olen)
        memcpy(t + 20, s->opts, s->olen);
    for (size_t k = 0; k < s->dlen; k++)
        t[thl + k] = (uint8_t)('a' + k % 26);
    fix_checksums(f, 14 + total);
    return 14 + total;
}

/* ---- the world ------------------------------------------------------ */
static struct fa_tcp *open_to(struct world *w, int from, uint16_t port)
{
    struct fa_tcp *c;
    if (fa_tcp_open(w->st[from], &c) < 0)
        return NULL;
    if (fa_tcp_connect(c, from ? A_ADDR : B_ADDR, port, fa_sim_now(w->sim)) < 0) {
        fa_tcp_close(c, fa_sim_now(w->sim));
        return NULL;
    }
    return c;
}

static void run_for(struct world *w, fa_time span)
{
    fa_sim_run_until(w->sim, fa_sim_now(w->sim) + span);
}

static void keep(struct world *w, struct fa_tcp *c)
{
    if (c && w->nconn < NCONN)
        w->conn[w->nconn++] = c;
}

static void accept_all(struct world *w)
{
    for (int h = 0; h < 2; h++) {
        struct fa_tcp *c;
        while (fa_tcp_accept(w->listener[h], &c) == 0) {
            if (w->nconn < NCONN)
                w->conn[w->nconn++] = c;
            else
                fa_tcp_close(c, fa_sim_now(w->sim));
        }
    }
}

static int build_world(struct world *w)
{
    memset(w, 0, sizeof *w);
    if (fa_sim_create(1, &w->sim) < 0 || fa_sim_check_enable(w->sim) < 0)
        return -1;
    for (int h = 0; h < 2; h++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = h ? B_ADDR : A_ADDR;
        cfg.tcp_rcvbuf = 16384; /* small: windows close soon */
        cfg.tcp_max_conns = 64;
        fa_sim_link_init(&w->link[h]);
        w->link[h].delay = MS;
        if (fa_sim_add_host(w->sim, &cfg, &w->link[h], &w->link[h]) != h)
            return -1;
        w->st[h] = fa_sim_stack(w->sim, h);
        if (fa_tcp_open(w->st[h], &w->listener[h]) < 0 ||
            fa_tcp_bind(w->listener[h], 0, (uint16_t)(80 + h)) < 0 ||
            fa_tcp_listen(w->listener[h], 8, 0) < 0)
            return -1;
    }
    fa_stack_ping(w->st[0], B_ADDR, 1, 1, NULL, 0, 0); /* ARP, unseen */
    run_for(w, 10 * MS);
    static const uint8_t data[30000];
    /* 0/1: A's sender facing B's reader that never reads. */
    struct fa_tcp *s0 = open_to(w, 0, 80);
    /* 2/3: idle, data both ways. 4/5: B will close. 6: A will close. */
    struct fa_tcp *s1 = open_to(w, 0, 80), *s2 = open_to(w, 0, 80), *s3 = open_to(w, 0, 80);
    struct fa_tcp *s4 = open_to(w, 1, 81);
    run_for(w, 20 * MS);
    keep(w, s0);
    keep(w, s1);
    keep(w, s2);
    keep(w, s4);
    accept_all(w);
    fa_time now = fa_sim_now(w->sim);
    if (s0)
        fa_tcp_send(s0, data, sizeof data, now);
    if (s1)
        fa_tcp_send(s1, data, 3000, now);
    if (s4)
        fa_tcp_send(s4, data, 5000, now);
    run_for(w, 30 * MS);
    if (s3)
        fa_tcp_close(s3, fa_sim_now(w->sim)); /* toward TIME-WAIT, handle gone */
    if (s2)
        fa_tcp_shutdown(s2, FA_SHUT_WR, fa_sim_now(w->sim));
    /* A half-open attempt: a SYN toward a port nobody listens on. */
    struct fa_tcp *s5 = open_to(w, 0, 9);
    keep(w, s5);
    run_for(w, 50 * MS);
    accept_all(w);
    return 0;
}

static void end_world(struct world *w)
{
    fa_time now = fa_sim_now(w->sim);
    for (int i = 0; i < w->nconn; i++)
        fa_tcp_close(w->conn[i], now);
    for (int h = 0; h < 2; h++)
        if (w->listener[h])
            fa_tcp_close(w->listener[h], now);
    run_for(w, 60000 * MS);
    const char *bad = fa_sim_check_first(w->sim);
    if (bad) {
        fprintf(stderr, "invariant broken: %s\n", bad);
        abort();
    }
    fa_sim_destroy(w->sim);
}

/* ---- operations ----------------------------------------------------- */
static struct fa_tcp *pick(struct world *w, uint32_t k)
{
    return w->nconn ? w->conn[k % (uint32_t)w->nconn] : NULL;
}

static int host_of(struct world *w, struct fa_tcp *c)
{
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    (void)w;
    return i.local_addr == B_ADDR;
}

static void op_raw(struct world *w, struct input *in, int readdress)
{
    int to = (int)(take(in, 1) & 1);
    struct fa_tcp *c = readdress ? pick(w, take(in, 1)) : NULL;
    size_t len = take(in, 2) % FRAME_MAX;
    uint8_t f[FRAME_MAX];
    if (len > in->left)
        len = in->left;
    memcpy(f, in->p, len);
    in->p += len;
    in->left -= len;
    if (c && len >= 14 + 20 + 20) {
        struct fa_tcp_info i;
        fa_tcp_get_info(c, &i);
        to = host_of(w, c);
        memcpy(f, fa_stack_config(w->st[to])->mac, 6);
        f[12] = 0x08;
        f[13] = 0x00;
        uint8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        for (int k = 0; k < 4; k++) {
            ip[12 + k] = (uint8_t)(i.remote_addr >> (24 - 8 * k));
            ip[16 + k] = (uint8_t)(i.local_addr >> (24 - 8 * k));
        }
        ip[9] = 6;
        if (ihl >= 20 && 14 + ihl + 4 <= len) {
            uint8_t *t = ip + ihl;
            t[0] = (uint8_t)(i.remote_port >> 8);
            t[1] = (uint8_t)i.remote_port;
            t[2] = (uint8_t)(i.local_port >> 8);
            t[3] = (uint8_t)i.local_port;
        }
        fix_checksums(f, len);
    }
    fa_sim_inject(w->sim, to, f, len);
}

static void op_segment(struct world *w, struct input *in)
{
    struct fa_tcp *c = pick(w, take(in, 1));
    struct seg s = { .flags = (uint8_t)take(in, 1) };
    int32_t dseq = (int32_t)take(in, 4), dack = (int32_t)take(in, 4);
    s.wnd = (uint16_t)take(in, 2);
    size_t olen = (take(in, 1) % 11) * 4;
    uint8_t opts[40];
    for (size_t k = 0; k < olen; k++)
        opts[k] = (uint8_t)take(in, 1);
    s.opts = opts;
    s.olen = olen;
    s.dlen = take(in, 2) % 1461;
    if (!c)
        return;
    struct fa_tcp_info i;
    fa_tcp_get_info(c, &i);
    /* Near what the receiver expects: small deltas mostly, any value
     * sometimes (the input decides). */
    s.seq = i.rcv_nxt + (uint32_t)((dseq & 0x40000000) ? dseq : dseq % 70000);
    s.ack = i.snd_una + (uint32_t)((dack & 0x40000000) ? dack : dack % 70000);
    uint8_t f[FRAME_MAX];
    size_t len = build(w, host_of(w, c), &i, &s, f);
    fa_sim_inject(w->sim, host_of(w, c), f, len);
}

static void op_app(struct world *w, struct input *in)
{
    struct fa_tcp *c = pick(w, take(in, 1));
    uint32_t what = take(in, 1), n = take(in, 2);
    if (!c)
        return;
    fa_time now = fa_sim_now(w->sim);
    static uint8_t buf[65536];
    switch (what % 8) {
    case 0: fa_tcp_send(c, buf, n, now); break;
    case 1: fa_tcp_recv(c, buf, n, now); break;
    case 2: fa_tcp_shutdown(c, (int)(n % 3), now); break;
    case 3: fa_tcp_setopt(c, FA_TCP_NODELAY, n & 1); break;
    case 4: fa_tcp_setopt(c, FA_SO_LINGER, n % 3 == 0 ? -1 : (long)(n % 2000)); break;
    case 5: fa_tcp_setopt(c, FA_SO_KEEPALIVE, 1);
            fa_tcp_setopt(c, FA_TCP_KEEPIDLE, 1 + n % 5000); break;
    case 6:
    case 7: {
        /* close or abort: the socket leaves the list */
        for (int k = 0; k < w->nconn; k++)
            if (w->conn[k] == c) {
                w->conn[k] = w->conn[--w->nconn];
                break;
            }
        if (what % 8 == 6)
            fa_tcp_close(c, now);
        else
            fa_tcp_abort(c, now);
    }
    }
}

/* The link of host h goes dark for a while: what is sent meanwhile is
 * lost (the simulator's links are fixed once made). */
static void op_link(struct world *w, struct input *in)
{
    int h = (int)(take(in, 1) & 1);
    fa_time span = (fa_time)(take(in, 1) % 64) * 50 * MS;
    fa_sim_outage(w->sim, h, fa_sim_now(w->sim), fa_sim_now(w->sim) + span);
}

int world_play(const uint8_t *data, size_t size, unsigned ops)
{
    static struct world w;
    if (build_world(&w) < 0) {
        fprintf(stderr, "fuzz: cannot build the world\n");
        abort();
    }
    struct input in = { data, size };
    for (int steps = 0; in.left && steps < 256; steps++) {
        unsigned op = take(&in, 1) % 6;
        if (!(ops & (1u << op)))
            continue;
        switch (op) {
        case 0: op_raw(&w, &in, 0); break;
        case 1: op_raw(&w, &in, 1); break;
        case 2: op_segment(&w, &in); break;
        case 3: run_for(&w, (fa_time)(take(&in, 2) % 10000) * MS); break;
        case 4: op_app(&w, &in); break;
        default: op_link(&w, &in); break;
        }
        run_for(&w, MS);
        accept_all(&w);
    }
    end_world(&w);
    return 0;
}
