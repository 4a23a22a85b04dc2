/* twostacks.c — two stacks on an in-memory link (twostacks.h). */
#include "twostacks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void net_init(struct net *n, const struct net_opts *o)
{
    memset(n, 0, sizeof *n);
    struct fa_clock clock = fa_clock_virtual(&n->now);
    struct fa_memlink_config lc;
    fa_memlink_config_init(&lc);
    lc.delay = 10 * FA_NS_PER_US;
    lc.queue_frames = o->queue_frames; /* 1024: 1.5 MB of slots, in cache */
    lc.frame_max = 1514;
    fa_memlink_create(&lc, clock, &n->link);
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        cfg.device = fa_memlink_tx(n->link, i);
        fa_prng_seed(&n->prng[i], (uint64_t)i + 1);
        cfg.rng = fa_prng_rng(&n->prng[i]);
        cfg.tcp_max_conns = o->max_conns;
        if (o->max_timewait)
            cfg.tcp_max_timewait = o->max_timewait;
        cfg.tcp_sndbuf = cfg.tcp_rcvbuf = o->bufsize;
        if (o->port_min)
            cfg.tcp_port_min = o->port_min;
        /* Virtual time may leap a minute per cycle: keep ARP out of it. */
        cfg.arp_reachable_time = 1000000000ull * FA_NS_PER_S;
        cfg.arp_revalidate_time = cfg.arp_reachable_time / 2;
        if (fa_stack_create(&cfg, 0, &n->s[i]) < 0) {
            fprintf(stderr, "bench: cannot create a stack of %u connections\n", o->max_conns);
            exit(1);
        }
        n->sink[i] = (struct fa_stack_sink){ n->s[i], clock };
        fa_memlink_set_rx(n->link, i, fa_stack_sink_device(&n->sink[i]));
    }
}

void net_free(struct net *n)
{
    fa_stack_destroy(n->s[0]);
    fa_stack_destroy(n->s[1]);
    fa_memlink_destroy(n->link);
}

void net_run(struct net *n, fa_time until)
{
    for (;;) {
        fa_time next = fa_memlink_deliver(n->link, n->now);
        for (int i = 0; i < 2; i++) {
            fa_time t = fa_stack_poll(n->s[i], n->now);
            next = t < next ? t : next;
        }
        fa_time t = fa_memlink_deliver(n->link, n->now);
        next = t < next ? t : next;
        if (next > until) {
            n->now = until;
            return;
        }
        n->now = next;
    }
}

double net_bulk(struct net *n, struct fa_tcp *l, uint16_t port, size_t mb)
{
    struct fa_tcp *c, *s = NULL;
    fa_tcp_open(n->s[0], &c);
    fa_tcp_connect(c, FA_IPV4(198, 18, 0, 2), port, n->now);
    for (int k = 0; k < 100 && fa_tcp_accept(l, &s) < 0; k++)
        net_run(n, n->now + 10 * FA_NS_PER_US);
    if (!s) {
        fprintf(stderr, "bench: the bulk flow did not connect\n");
        exit(1);
    }
    static uint8_t buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    uint64_t total = (uint64_t)mb << 20, sent = 0, got = 0;
    double t0 = wall();
    while (got < total) {
        if (sent < total) {
            uint64_t want = total - sent < sizeof buf ? total - sent : sizeof buf;
            long r = fa_tcp_send(c, buf, (size_t)want, n->now);
            sent += r > 0 ? (uint64_t)r : 0;
        }
        long r;
        while ((r = fa_tcp_recv(s, buf, sizeof buf, n->now)) > 0)
            got += (uint64_t)r;
        net_run(n, n->now + 20 * FA_NS_PER_US);
    }
    double dt = wall() - t0;
    fa_tcp_close(c, n->now);
    fa_tcp_close(s, n->now);
    net_run(n, n->now + FA_NS_PER_MS);
    return (double)total * 8 / dt / 1e9;
}
