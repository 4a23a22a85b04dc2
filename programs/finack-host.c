/* finack-host — runs one finack stack on a TAP device: it answers ARP and
 * ping, optionally records a pcap and injects faults, and prints its
 * counters when it stops (SIGINT/SIGTERM or --seconds). Built on the
 * public API only.
 *
 *   finack-host --tap fa0 --addr 198.18.0.2/24 [--pcap run.pcap]
 *               [--fault drop=5%,dup=2%] [--seed N] [--seconds S] */
#include <errno.h>
#include <finack/finack.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct options {
    const char *tap;
    struct fa_config cfg;
    const char *pcap;
    const char *fault;
    uint64_t seed;
    double seconds;
    int quiet;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finack-host --tap NAME --addr A.B.C.D/PREFIX [options]\n"
            "Runs a finack stack on a TAP device (answers ARP and ping).\n\n"
            "  --tap NAME        TAP device to open or create (required)\n"
            "  --addr A/P        finack's IPv4 address and prefix (required)\n"
            "  --mac MAC         finack's MAC (default: random, locally administered)\n"
            "  --gateway A       default gateway (default: none)\n"
            "  --mtu N           IP MTU (default 1500)\n"
            "  --pcap FILE       record every frame in and out to FILE\n"
            "  --fault SPEC      inject faults both ways, e.g. drop=5%%,dup=2%%,reorder=5%%\n"
            "  --seed N          seed for --fault (default 1)\n"
            "  --seconds S       stop after S seconds (default: run until signalled)\n"
            "  --quiet           print only the final counters\n"
            "  --help            this text\n");
}

static int parse_addr(const char *arg, struct fa_config *cfg)
{
    char buf[32];
    const char *slash = strchr(arg, '/');
    size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
    if (n >= sizeof buf)
        return -EINVAL;
    memcpy(buf, arg, n);
    buf[n] = 0;
    if (fa_ipv4_parse(buf, &cfg->addr) < 0)
        return -EINVAL;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (*end || p < 1 || p > 32)
            return -EINVAL;
        cfg->prefix_len = (uint8_t)p;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "tap", required_argument, 0, 't' },
        { "addr", required_argument, 0, 'a' },
        { "mac", required_argument, 0, 'm' },
        { "gateway", required_argument, 0, 'g' },
        { "mtu", required_argument, 0, 'M' },
        { "pcap", required_argument, 0, 'p' },
        { "fault", required_argument, 0, 'f' },
        { "seed", required_argument, 0, 's' },
        { "seconds", required_argument, 0, 'S' },
        { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 't': o->tap = optarg; break;
        case 'a':
            if (parse_addr(optarg, &o->cfg) < 0) {
                fprintf(stderr, "finack-host: bad --addr '%s' (want A.B.C.D/PREFIX)\n", optarg);
                return -1;
            }
            break;
        case 'm':
            if (fa_mac_parse(optarg, o->cfg.mac) < 0) {
                fprintf(stderr, "finack-host: bad --mac '%s'\n", optarg);
                return -1;
            }
            break;
        case 'g':
            if (fa_ipv4_parse(optarg, &o->cfg.gateway) < 0) {
                fprintf(stderr, "finack-host: bad --gateway '%s'\n", optarg);
                return -1;
            }
            break;
        case 'M': {
            long mtu = strtol(optarg, &end, 10);
            if (*end || mtu < 68 || mtu > 9000) {
                fprintf(stderr, "finack-host: bad --mtu '%s' (68..9000)\n", optarg);
                return -1;
            }
            o->cfg.mtu = (uint16_t)mtu;
            break;
        }
        case 'p': o->pcap = optarg; break;
        case 'f': o->fault = optarg; break;
        case 's': o->seed = strtoull(optarg, &end, 0);
            if (*end) {
                fprintf(stderr, "finack-host: bad --seed '%s'\n", optarg);
                return -1;
            }
            break;
        case 'S': o->seconds = strtod(optarg, &end);
            if (*end || o->seconds <= 0) {
                fprintf(stderr, "finack-host: bad --seconds '%s'\n", optarg);
                return -1;
            }
            break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "finack-host: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->tap || !o->cfg.addr) {
        fprintf(stderr, "finack-host: --tap and --addr are required (see --help)\n");
        return -1;
    }
    return 0;
}

static void print_counters(const struct fa_stack *stack)
{
    printf("finack counters (nonzero):\n");
    for (unsigned i = 0; i < FA_CNT_COUNT; i++) {
        uint64_t v = fa_stack_counter(stack, i);
        if (v)
            printf("  %-20s %12llu  %s%s\n", fa_counter_name(i),
                   (unsigned long long)v, fa_counter_is_drop(i) ? "drop: " : "",
                   fa_counter_description(i));
    }
}

/* The pieces of one host: TAP, optional pcap tees and fault wrappers. */
struct host {
    struct fa_tap *tap;
    struct fa_pcap *pcap;
    struct fa_pcap_tee tee_in, tee_out;
    struct fa_fault *fault_in, *fault_out;
    struct fa_stack_sink sink;
    struct fa_stack *stack;
};

static fa_time host_poll_faults(void *ctx, fa_time now)
{
    struct host *h = ctx;
    fa_time a = h->fault_in ? fa_fault_poll(h->fault_in, now) : FA_TIME_NEVER;
    fa_time b = h->fault_out ? fa_fault_poll(h->fault_out, now) : FA_TIME_NEVER;
    return a < b ? a : b;
}

/* Builds tx: stack -> [fault] -> [pcap] -> TAP, and
 *        rx: TAP -> [pcap] -> [fault] -> stack. */
static int host_setup(struct host *h, struct options *o, struct fa_clock clock,
                      struct fa_device *rx)
{
    int err = fa_tap_open(o->tap, &h->tap);
    if (err < 0) {
        fprintf(stderr, "finack-host: cannot open TAP '%s': %s%s\n", o->tap,
                strerror(-err), err == -EPERM ? " (run as root)" : "");
        return -1;
    }
    struct fa_device tx = fa_tap_device(h->tap);
    *rx = fa_stack_sink_device(&h->sink);
    if (o->fault) {
        struct fa_fault_config fc;
        fa_fault_config_init(&fc);
        if (fa_fault_parse(o->fault, &fc) < 0) {
            fprintf(stderr, "finack-host: bad --fault '%s'\n", o->fault);
            return -1;
        }
        if (fa_fault_create(&fc, o->seed, tx, clock, &h->fault_out) < 0 ||
            fa_fault_create(&fc, o->seed ^ 0x5eed, *rx, clock, &h->fault_in) < 0) {
            fprintf(stderr, "finack-host: cannot create fault wrapper\n");
            return -1;
        }
        tx = fa_fault_device(h->fault_out);
        *rx = fa_fault_device(h->fault_in);
    }
    if (o->pcap) {
        err = fa_pcap_open(o->pcap, clock, &h->pcap);
        if (err < 0) {
            fprintf(stderr, "finack-host: cannot write '%s': %s\n", o->pcap, strerror(-err));
            return -1;
        }
        /* The pcap sits next to the TAP: it records what is on the wire. */
        h->tee_out = (struct fa_pcap_tee){ h->pcap, tx };
        h->tee_in = (struct fa_pcap_tee){ h->pcap, *rx };
        tx = fa_pcap_tee_device(&h->tee_out);
        *rx = fa_pcap_tee_device(&h->tee_in);
    }
    o->cfg.device = tx;
    return 0;
}

static void host_teardown(struct host *h)
{
    fa_stack_destroy(h->stack);
    fa_fault_destroy(h->fault_in);
    fa_fault_destroy(h->fault_out);
    if (h->pcap && fa_pcap_close(h->pcap) < 0)
        fprintf(stderr, "finack-host: writing the pcap failed\n");
    fa_tap_close(h->tap);
}

int main(int argc, char **argv)
{
    struct options o = { .seed = 1 };
    fa_config_init(&o.cfg);
    if (parse_args(argc, argv, &o) < 0)
        return 2;

    struct fa_clock clock = fa_clock_monotonic();
    struct host h = { 0 };
    struct fa_device rx;
    int status = 1;
    if (host_setup(&h, &o, clock, &rx) < 0)
        goto out;
    o.cfg.rng = fa_rng_os();
    int err = fa_stack_create(&o.cfg, clock.now(clock.ctx), &h.stack);
    if (err < 0) {
        const char *why = fa_config_check(&o.cfg);
        fprintf(stderr, "finack-host: %s\n", why ? why : strerror(-err));
        goto out;
    }
    h.sink = (struct fa_stack_sink){ h.stack, clock };

    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char addr[16];
    const uint8_t *mac = fa_stack_config(h.stack)->mac;
    printf("finack-host: up on %s as %s/%u mac %02x:%02x:%02x:%02x:%02x:%02x\n",
           fa_tap_name(h.tap), fa_ipv4_format(o.cfg.addr, addr), o.cfg.prefix_len,
           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    fflush(stdout);

    struct fa_tap_loop loop = {
        .tap = h.tap, .stack = h.stack, .rx = rx, .clock = clock,
        .poll_extra = h.fault_in ? host_poll_faults : NULL, .poll_extra_ctx = &h,
        .stop = &stop_requested,
    };
    fa_time until = o.seconds > 0
                        ? clock.now(clock.ctx) + (fa_time)(o.seconds * 1e9)
                        : FA_TIME_NEVER;
    err = fa_tap_loop_run(&loop, until);
    if (err < 0) {
        fprintf(stderr, "finack-host: TAP failed: %s\n", strerror(-err));
    } else {
        status = 0;
    }
    print_counters(h.stack);
    if (h.fault_out) {
        const struct fa_fault_stats *a = fa_fault_stats(h.fault_out);
        const struct fa_fault_stats *b = fa_fault_stats(h.fault_in);
        printf("faults: out %llu frames %llu dropped; in %llu frames %llu dropped\n",
               (unsigned long long)a->frames, (unsigned long long)a->dropped,
               (unsigned long long)b->frames, (unsigned long long)b->dropped);
    }
out:
    host_teardown(&h);
    return status;
}
