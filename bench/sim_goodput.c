/* sim_goodput — TCP goodput over a simulated path (finack's simulator,
 * virtual time): 100 Mbit/s, 50 ms round trip, random loss of 0.1 %, 1 %,
 * 3 % and 10 % of the frames each way, and bursty (Gilbert–Elliott) loss;
 * one bulk transfer of 60 virtual seconds per row, 4 MiB buffers. Beside
 * each figure, the Mathis bound MSS / RTT * sqrt(3/2) / sqrt(p) (Reno's
 * steady state, p the average loss). Prints a table; never fails.
 *
 *   sim_goodput [seconds]
 *
 * Built against any finack with the simulator; where the stack has a
 * choice of congestion control (FA_TCP_HAVE_CC), a second column runs
 * NewReno (with SACK and timestamps) beside the default, CUBIC. */
#include <finack/finack.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S

struct row {
    const char *name;
    double loss;                 /* independent */
    double to_bad, to_good, bad; /* Gilbert–Elliott */
};

/* Average loss of a row (the Gilbert–Elliott chain's stationary share). */
static double avg_loss(const struct row *r)
{
    if (r->to_bad > 0)
        return r->to_bad / (r->to_bad + r->to_good) * r->bad + r->loss;
    return r->loss;
}

/* Mbit/s received over `seconds` of a bulk transfer; cc < 0: default. */
static double run(const struct row *r, double seconds, int cc)
{
    struct fa_sim *sim;
    if (fa_sim_create(42, &sim) < 0)
        return -1;
    struct fa_sim_link up, down;
    fa_sim_link_init(&up);
    fa_sim_link_init(&down);
    up.rate_bps = down.rate_bps = 100000000;
    up.delay = down.delay = 12500 * FA_NS_PER_US; /* 4 x 12.5 ms = 50 ms RTT */
    up.queue_frames = down.queue_frames = 1000;
    up.loss = r->loss;
    up.ge_to_bad = r->to_bad;
    up.ge_to_good = r->to_good;
    up.ge_loss_bad = r->bad;
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        cfg.tcp_sndbuf = cfg.tcp_rcvbuf = 4u << 20;
#ifdef FA_TCP_HAVE_CC
        if (cc >= 0)
            cfg.tcp_congestion = (uint8_t)cc;
#else
        (void)cc;
#endif
        if (fa_sim_add_host(sim, &cfg, &up, &down) != i)
            return -1;
    }
    struct fa_stack *cs = fa_sim_stack(sim, 0), *ss = fa_sim_stack(sim, 1);
    struct fa_tcp *l, *c, *s = NULL;
    fa_tcp_open(ss, &l);
    fa_tcp_bind(l, 0, 80);
    fa_tcp_listen(l, 4, fa_sim_now(sim));
    fa_tcp_open(cs, &c);
    fa_tcp_connect(c, FA_IPV4(198, 18, 0, 2), 80, fa_sim_now(sim));
    static uint8_t buf[1 << 16];
    uint64_t got = 0;
    fa_time end = (fa_time)(seconds * S);
    for (fa_time t = 0; t < end; t += MS) {
        fa_sim_run_until(sim, t);
        if (!s && fa_tcp_accept(l, &s) != 0)
            s = NULL;
        while (fa_tcp_send(c, buf, sizeof buf, t) > 0)
            ;
        long n;
        while (s && (n = fa_tcp_recv(s, buf, sizeof buf, t)) > 0)
            got += (uint64_t)n;
    }
    fa_sim_destroy(sim);
    return (double)got * 8 / seconds / 1e6;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 60;
    static const struct row rows[] = {
        { "0.1 %", 0.001, 0, 0, 0 },
        { "1 %", 0.01, 0, 0, 0 },
        { "3 %", 0.03, 0, 0, 0 },
        { "10 %", 0.10, 0, 0, 0 },
        /* Bursts: 1 % of frames start a bad spell of ~4 frames losing 50 %. */
        { "bursty 2 %", 0, 0.01, 0.25, 0.5 },
    };
    const double mss_bits = 1448 * 8, rtt = 0.05;
    printf("goodput, 100 Mbit/s, 50 ms RTT, loss each way, %.0f s per run (Mbit/s)\n", seconds);
#ifdef FA_TCP_HAVE_CC
    printf("%-12s %10s %10s %10s\n", "loss", "default", "NewReno", "Mathis");
#else
    printf("%-12s %10s %10s\n", "loss", "finack", "Mathis");
#endif
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double p = avg_loss(&rows[i]);
        double mathis = mss_bits / rtt * sqrt(1.5) / sqrt(p) / 1e6;
        double d = run(&rows[i], seconds, -1);
#ifdef FA_TCP_HAVE_CC
        double nr = run(&rows[i], seconds, FA_TCP_CC_NEWRENO);
        printf("%-12s %10.2f %10.2f %10.2f\n", rows[i].name, d, nr, mathis);
#else
        printf("%-12s %10.2f %10.2f\n", rows[i].name, d, mathis);
#endif
        fflush(stdout);
    }
    return 0;
}
