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
 * Against the aim of issue 12: 1,000,000 connections in 512 MiB. Never
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
#include "twostacks.h"

#define BATCH 512
#define PORTS_PER_LISTENER 60000

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

int main(int argc, char **argv)
{
    uint32_t conns = argc > 1 ? (uint32_t)atol(argv[1]) : 1000000;
    size_t mb = argc > 2 ? (size_t)atol(argv[2]) : 500;
    uint32_t nlisten = (conns + PORTS_PER_LISTENER - 1) / PORTS_PER_LISTENER;
    long long rss0 = rss();
    struct net n;
    /* 1 MiB buffers for the bulk flow (the idle ones hold none). */
    net_init(&n, &(struct net_opts){ .max_conns = conns + nlisten + 4, .bufsize = 1 << 20,
                                     .queue_frames = 4 * BATCH, .port_min = 1024 });
    struct fa_tcp *bulk_l = listener(&n, 4999);
    double alone = net_bulk(&n, bulk_l, 4999, mb);
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
    double beside = net_bulk(&n, bulk_l, 4999, mb);
    double per_conn = (double)(rss2 - rss0) / conns;
    printf("%u idle connections between two finack stacks in one process\n", conns);
    printf("  established (client ends)        %10u of %u; accepted %u\n", established, conns,
           accepted);
    printf("  buffer bytes held while idle     %10llu\n",
           (unsigned long long)(u0.buffer_bytes + u1.buffer_bytes));
    printf("  resident memory in all           %10.1f MiB (%.1f MB; stacks alone, before: %.1f MiB)\n",
           (rss2 - rss0) / 1048576.0, (rss2 - rss0) / 1e6, (rss1 - rss0) / 1048576.0);
    printf("  per connection (two ends)        %10.0f bytes (aim 512 MiB / 1M: 537: %.2f)\n",
           per_conn, per_conn / 536.9);
    /* A stack's hash buckets, spread over the ends it holds. */
    double hash_per_end = (double)(n.s[0]->tcp->hash_mask + 1) * sizeof *n.s[0]->tcp->hash /
                          (conns + nlisten);
    printf("  per end                          %10.0f bytes: control block %zu, hash\n"
           "                                   buckets %.1f, the program's handle %zu; timer-heap\n"
           "                                   slot (%zu) only while a timer runs: %u ends;\n"
           "                                   loss state (%zu) held by %u ends (only while busy)\n",
           per_conn / 2, sizeof(struct fa_tcp), hash_per_end, sizeof(void *),
           sizeof(struct fa_tcp_timer_slot), n.s[0]->tcp->heap_len + n.s[1]->tcp->heap_len,
           sizeof(struct fa_tcp_loss), u0.loss_states + u1.loss_states);
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
