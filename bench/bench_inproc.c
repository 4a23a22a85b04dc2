/* bench_inproc — two finack stacks in one process on an unimpaired
 * in-memory link, one core, virtual time (the clock jumps; wall time is
 * what is measured):
 *   bulk     bytes/s one way, MSS 1460, 1 MiB buffers
 *            (cycles use the default 64 KiB buffers)
 *   cycles   connect, 64-byte request and reply, close, TIME-WAIT expiry
 *   memory   bytes per control block (no buffers), its hot part, the loss
 *            state, the scoreboard and out-of-order ranges that come with
 *            64 KiB buffers' storage, and per TIME-WAIT entry
 * Prints figures and the ratio to the aims of ../shared/spec/targets.md
 * (25 Gbit/s, 500,000 cycles/s, 256 B, 64 B). Never fails on timing.
 *
 *   bench_inproc [megabytes] [cycles] */
#include <finack/finack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcp/tcp.h"
#include "twostacks.h"

static double bench_bulk(size_t megabytes)
{
    struct net n;
    net_init(&n, &(struct net_opts){ .max_conns = 16, .max_timewait = 16, .bufsize = 1 << 20, .queue_frames = 1024 });
    struct fa_tcp *l;
    fa_tcp_open(n.s[1], &l);
    fa_tcp_bind(l, 0, 5001);
    fa_tcp_listen(l, 1, 0);
    double gbit = net_bulk(&n, l, 5001, megabytes);
    net_free(&n);
    return gbit;
}

static double bench_cycles(unsigned cycles)
{
    struct net n;
    /* Request/response: the default buffers. */
    net_init(&n, &(struct net_opts){ .max_conns = 64, .max_timewait = 64, .bufsize = 64 * 1024, .queue_frames = 1024 });
    struct fa_tcp *l;
    fa_tcp_open(n.s[1], &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 16, 0);
    char msg[64];
    memset(msg, 'r', sizeof msg);
    unsigned done = 0;
    double t0 = wall();
    for (unsigned i = 0; i < cycles; i++) {
        struct fa_tcp *c, *s = NULL;
        if (fa_tcp_open(n.s[0], &c) < 0)
            break;
        fa_tcp_connect(c, FA_IPV4(198, 18, 0, 2), 80, n.now);
        for (int k = 0; k < 100 && fa_tcp_accept(l, &s) < 0; k++)
            net_run(&n, n.now + 10 * FA_NS_PER_US);
        if (!s)
            break;
        fa_tcp_send(c, msg, sizeof msg, n.now);
        net_run(&n, n.now + 20 * FA_NS_PER_US);
        char in[64];
        if (fa_tcp_recv(s, in, sizeof in, n.now) != 64)
            break;
        fa_tcp_send(s, in, sizeof in, n.now);
        net_run(&n, n.now + 20 * FA_NS_PER_US);
        if (fa_tcp_recv(c, in, sizeof in, n.now) != 64)
            break;
        fa_tcp_close(c, n.now);
        net_run(&n, n.now + 20 * FA_NS_PER_US);
        fa_tcp_close(s, n.now);
        /* Past TIME-WAIT (60 s virtual): the client's entry expires. */
        net_run(&n, n.now + 61 * FA_NS_PER_S);
        done++;
    }
    double dt = wall() - t0;
    net_free(&n);
    if (done != cycles)
        fprintf(stderr, "bench_inproc: only %u of %u cycles completed\n", done, cycles);
    return done / dt;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 2048;
    unsigned cycles = argc > 2 ? (unsigned)atol(argv[2]) : 100000;
    double gbit = bench_bulk(mb);
    double cps = bench_cycles(cycles);
    printf("two finack stacks, one process, in-memory link, one core\n");
    printf("  bulk, MSS 1460, %zu MiB          %8.2f Gbit/s   (aim 25: %.2f)\n", mb, gbit, gbit / 25);
    printf("  connection cycles (%u)        %8.0f /s       (aim 500000: %.2f)\n", cycles, cps, cps / 500000);
    printf("  control block, no buffers        %8zu bytes    (aim 256: %.2f)\n",
           sizeof(struct fa_tcp), sizeof(struct fa_tcp) / 256.0);
    printf("  its hot part (per segment)       %8zu bytes    (aim 256: %.2f)\n",
           (size_t)FA_TCP_HOT_BYTES, FA_TCP_HOT_BYTES / 256.0);
    printf("  loss state                       %8zu bytes    (held only while the send side is busy)\n",
           sizeof(struct fa_tcp_loss));
    printf("  with 64 KiB buffers' storage     %8zu bytes    (scoreboard, out-of-order ranges:\n"
           "                                                  held only while data is)\n",
           (65536 / 256 + 32) * sizeof(struct fa_tcp_sent) +
               (FA_TCP_OOO_MIN + 65536 / FA_TCP_OOO_PER_BYTES) * sizeof(struct fa_tcp_range));
    printf("  TIME-WAIT entry                  %8zu bytes    (aim 64: %.2f)\n",
           sizeof(struct fa_tcp_tw), sizeof(struct fa_tcp_tw) / 64.0);
    return 0;
}
