/* idle_conns — memory and cost of many idle connections: two finack stacks
 * in one process on an in-memory link (virtual time), N established
 * connections between them (the server listening on enough ports for
 * the 4-tuples), nothing moving on them. Prints:
 *   - the resident memory of it all (VmRSS before the stacks and after
 *     the connections: the stacks sized for N, the connections, the
 *     program's handles), per connection (two ends) and per end, with
 *     what a connection's end is made of;
 *   - the wall time per connection set up in the first and the last
 *     tenth (setup, lookup and timers O(1): the two should be alike);
 *   - a bulk flow's throughput alone, then with the N idle connections
 *     open beside it, and the ratio (the aim: 0.9 or more).
 * Against the aim of issue 12: 1,000,000 connections in 512 MB. Never
 * fails on timing.
 *
 *   idle_conns [connections] [bulk-megabytes] */
#include <errno.h>
#include <finack/finack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcp/tcp.h"

#define BATCH 512
#define PORTS_PER_LISTENER 60000

struct net {
    fa_time now;
    struct fa_prng prng[2];
    struct fa_memlink *link;
    struct fa_stack_sink sink[2];
    struct fa_stack *s[2];
};

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident memory of this process, in bytes. */
static long long rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

static void net_init(struct net *n, uint32_t max_conns)
{
    memset(n, 0, sizeof *n);
    struct fa_clock clock = fa_clock_virtual(&n->now);
    struct fa_memlink_config lc;
    fa_memlink_config_init(&lc);
    lc.delay = 10 * FA_NS_PER_US;
    lc.queue_frames = 4 * BATCH;
    lc.frame_max = 1514;
    fa_memlink_create(&lc, clock, &n->link);
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        cfg.device = fa_memlink_tx(n->link, i);
        fa_prng_seed(&n->prng[i], (uint64_t)i + 1);
        cfg.rng = fa_prng_rng(&n->prng[i]);
        cfg.tcp_max_conns = max_conns;
        cfg.tcp_port_min = 1024;
        cfg.tcp_port_max = 65535;
        cfg.tcp_sndbuf = cfg.tcp_rcvbuf = 1 << 20; /* the bulk flow's */
        if (fa_stack_create(&cfg, 0, &n->s[i]) < 0) {
            fprintf(stderr, "idle_conns: cannot create a stack of %u connections\n", max_conns);
            exit(1);
        }
        n->sink[i] = (struct fa_stack_sink){ n->s[i], clock };
        fa_memlink_set_rx(n->link, i, fa_stack_sink_device(&n->sink[i]));
    }
}

static void net_run(struct net *n, fa_time until)
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

static struct fa_tcp *listener(struct net *n, uint16_t port)
{
    struct fa_tcp *l;
    if (fa_tcp_open(n->s[1], &l) < 0 || fa_tcp_bind(l, 0, port) < 0 ||
        fa_tcp_listen(l, 4 * BATCH, n->now) < 0) {
        fprintf(stderr, "idle_conns: cannot listen on %u\n", port);
        exit(1);
    }
    return l;
}

/* One flow of mb megabytes from stack 0 to stack 1 on port: Gbit/s. */
static double bulk(struct net *n, struct fa_tcp *l, uint16_t port, size_t mb)
{
    struct fa_tcp *c, *s = NULL;
    fa_tcp_open(n->s[0], &c);
    fa_tcp_connect(c, FA_IPV4(198, 18, 0, 2), port, n->now);
    for (int k = 0; k < 100 && fa_tcp_accept(l, &s) < 0; k++)
        net_run(n, n->now + 10 * FA_NS_PER_US);
    if (!s) {
        fprintf(stderr, "idle_conns: the bulk flow did not connect\n");
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

int main(int argc, char **argv)
{
    uint32_t conns = argc > 1 ? (uint32_t)atol(argv[1]) : 1000000;
    size_t mb = argc > 2 ? (size_t)atol(argv[2]) : 500;
    uint32_t nlisten = (conns + PORTS_PER_LISTENER - 1) / PORTS_PER_LISTENER;
    long long rss0 = rss();
    struct net n;
    net_init(&n, conns + nlisten + 4);
    struct fa_tcp *bulk_l = listener(&n, 4999);
    double alone = bulk(&n, bulk_l, 4999, mb);
    long long rss1 = rss();

    struct fa_tcp **l = calloc(nlisten, sizeof *l);
    struct fa_tcp **ends = calloc((size_t)conns * 2, sizeof *ends);
    for (uint32_t i = 0; i < nlisten; i++)
        l[i] = listener(&n, (uint16_t)(5000 + i));
    uint32_t opened = 0, accepted = 0;
    double tenth[2] = { 0, 0 }, t0 = wall();
    while (opened < conns) {
        double tb = wall();
        uint32_t batch_end = opened + BATCH < conns ? opened + BATCH : conns;
        for (; opened < batch_end; opened++) {
            struct fa_tcp *c;
            uint16_t port = (uint16_t)(5000 + opened / PORTS_PER_LISTENER);
            if (fa_tcp_open(n.s[0], &c) < 0 ||
                fa_tcp_connect(c, FA_IPV4(198, 18, 0, 2), port, n.now) != -EINPROGRESS) {
                fprintf(stderr, "idle_conns: connect %u failed\n", opened);
                return 1;
            }
            ends[2 * (size_t)opened] = c;
        }
        net_run(&n, n.now + 200 * FA_NS_PER_US);
        for (uint32_t i = 0; i < nlisten; i++) {
            struct fa_tcp *s;
            while (fa_tcp_accept(l[i], &s) == 0)
                ends[2 * (size_t)accepted++ + 1] = s;
        }
        double dt = wall() - tb;
        if (opened <= conns / 10)
            tenth[0] += dt;
        else if (opened > conns - conns / 10)
            tenth[1] += dt;
    }
    double setup = wall() - t0;
    for (int k = 0; k < 100 && accepted < conns; k++) {
        net_run(&n, n.now + FA_NS_PER_MS);
        for (uint32_t i = 0; i < nlisten; i++) {
            struct fa_tcp *s;
            while (fa_tcp_accept(l[i], &s) == 0)
                ends[2 * (size_t)accepted++ + 1] = s;
        }
    }
    uint32_t established = 0;
    for (uint32_t i = 0; i < conns; i++)
        established += fa_tcp_state(ends[2 * (size_t)i]) == FA_TCP_ESTABLISHED;
    struct fa_tcp_usage u0, u1;
    fa_stack_tcp_usage(n.s[0], &u0);
    fa_stack_tcp_usage(n.s[1], &u1);
    long long rss2 = rss();
    double beside = bulk(&n, bulk_l, 4999, mb);
    double per_conn = (double)(rss2 - rss0) / conns;
    printf("%u idle connections between two finack stacks in one process\n", conns);
    printf("  established (client ends)        %10u of %u; accepted %u\n", established, conns,
           accepted);
    printf("  buffer bytes held while idle     %10llu\n",
           (unsigned long long)(u0.buffer_bytes + u1.buffer_bytes));
    printf("  resident memory in all           %10.1f MB (stacks alone, before: %.1f MB)\n",
           (rss2 - rss0) / 1e6, (rss1 - rss0) / 1e6);
    printf("  per connection (two ends)        %10.0f bytes (aim 512 MB / 1M: 537: %.2f)\n",
           per_conn, per_conn / 536.9);
    printf("  per end                          %10.0f bytes: control block %zu, loss state %zu\n"
           "                                   (+ allocator), hash and timer-heap slots %zu,\n"
           "                                   the program's handle %zu\n",
           per_conn / 2, sizeof(struct fa_tcp), sizeof(struct fa_tcp_loss),
           2 * sizeof(void *), sizeof(void *));
    printf("  set-up                           %10.2f s, %.2f us per connection;\n", setup,
           setup / conns * 1e6);
    printf("                                   first tenth %.2f us, last tenth %.2f us each\n",
           tenth[0] / (conns / 10) * 1e6, tenth[1] / (conns / 10) * 1e6);
    printf("  bulk flow alone                  %10.2f Gbit/s\n", alone);
    printf("  bulk flow beside them            %10.2f Gbit/s (ratio %.2f, aim 0.9)\n", beside,
           beside / alone);
    free(ends);
    free(l);
    return established == conns ? 0 : 1;
}
