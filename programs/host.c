/* host.c — shared plumbing of finack's programs (see host.h). */
#include "host.h"

#include "stat_server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t host_stop;

static void on_signal(int sig)
{
    (void)sig;
    host_stop = 1;
}

void host_options_init(struct host_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->log = stdout;
    o->exit_wait = 60;
    o->offload = 1;
    o->uring = -1;
    fa_config_init(&o->cfg);
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

int host_option(struct host_options *o, const char *name, const char *v)
{
    char *end;
    int bad = 0;
    if (!strcmp(name, "tap")) {
        o->tap = v;
    } else if (!strcmp(name, "addr")) {
        bad = parse_addr(v, &o->cfg) < 0;
    } else if (!strcmp(name, "mac")) {
        bad = fa_mac_parse(v, o->cfg.mac) < 0;
    } else if (!strcmp(name, "gateway")) {
        bad = fa_ipv4_parse(v, &o->cfg.gateway) < 0;
    } else if (!strcmp(name, "mtu")) {
        long mtu = strtol(v, &end, 10);
        bad = *end || mtu < 68 || mtu > 9000;
        o->cfg.mtu = (uint16_t)mtu;
    } else if (!strcmp(name, "stat")) {
        o->stat = v;
    } else if (!strcmp(name, "pcap")) {
        o->pcap = v;
    } else if (!strcmp(name, "fault")) {
        struct fa_fault_config fc;
        fa_fault_config_init(&fc);
        bad = fa_fault_parse(v, &fc) < 0;
        o->fault = v;
    } else if (!strcmp(name, "offload")) {
        bad = strcmp(v, "on") && strcmp(v, "off");
        o->offload = !strcmp(v, "on");
    } else if (!strcmp(name, "io")) {
        bad = strcmp(v, "rw") && strcmp(v, "uring");
        o->uring = !strcmp(v, "uring");
    } else if (!strcmp(name, "busy-poll")) {
        o->busy_poll_us = strtod(v, &end);
        bad = *end || !(o->busy_poll_us >= 0 && o->busy_poll_us <= 1e9);
    } else if (!strcmp(name, "seed")) {
        o->seed = strtoull(v, &end, 0);
        bad = *end != 0;
    } else if (!strcmp(name, "syn-retries")) {
        long n = strtol(v, &end, 10);
        bad = *end || n < 0 || n > 255;
        o->cfg.tcp_syn_retries = (uint8_t)n;
    } else if (!strcmp(name, "rto-initial") || !strcmp(name, "rto-min") ||
               !strcmp(name, "msl")) {
        double ms = strtod(v, &end);
        bad = *end || ms <= 0;
        fa_time t = (fa_time)(ms * 1e6);
        if (name[0] == 'm')
            o->cfg.tcp_msl = t;
        else if (name[4] == 'i')
            o->cfg.tcp_rto_initial = t;
        else
            o->cfg.tcp_rto_min = t;
    } else if (!strcmp(name, "seconds")) {
        o->seconds = strtod(v, &end);
        bad = *end || o->seconds <= 0;
    } else if (!strcmp(name, "exit-wait")) {
        o->exit_wait = strtod(v, &end);
        bad = *end || !(o->exit_wait >= 0 && o->exit_wait <= 1e6); /* NaN, inf */
    } else {
        return 0;
    }
    if (bad) {
        fprintf(stderr, "bad --%s '%s' (see --help)\n", name, v);
        return -1;
    }
    return 1;
}

static fa_time poll_faults(void *ctx, fa_time now)
{
    struct host *h = ctx;
    fa_time a = h->fault_in ? fa_fault_poll(h->fault_in, now) : FA_TIME_NEVER;
    fa_time b = h->fault_out ? fa_fault_poll(h->fault_out, now) : FA_TIME_NEVER;
    return a < b ? a : b;
}

/* tx: stack -> [fault] -> [pcap] -> TAP; rx: TAP -> [pcap] -> [fault] ->
 * stack. The pcap sits next to the TAP: it records what is on the wire
 * (a frame the fault wrapper drops on the way out is not in it). */
static int host_pipeline(struct host *h, struct host_options *o, const char *prog)
{
    struct fa_device tx = h->uring ? fa_tap_uring_device(h->uring) : fa_tap_device(h->tap);
    h->rx = fa_stack_sink_device(&h->sink);
    if (o->pcap) {
        int err = fa_pcap_open(o->pcap, h->clock, &h->pcap);
        if (err < 0) {
            fprintf(stderr, "%s: cannot write '%s': %s\n", prog, o->pcap, strerror(-err));
            return -1;
        }
        h->tee_out = (struct fa_pcap_tee){ h->pcap, tx };
        tx = fa_pcap_tee_device(&h->tee_out);
    }
    if (o->fault) {
        struct fa_fault_config fc;
        fa_fault_config_init(&fc);
        fa_fault_parse(o->fault, &fc);
        if (fa_fault_create(&fc, o->seed, tx, h->clock, &h->fault_out) < 0 ||
            fa_fault_create(&fc, o->seed ^ 0x5eed, h->rx, h->clock, &h->fault_in) < 0) {
            fprintf(stderr, "%s: cannot create the fault wrapper\n", prog);
            return -1;
        }
        tx = fa_fault_device(h->fault_out);
        h->rx = fa_fault_device(h->fault_in);
    }
    if (o->pcap) {
        h->tee_in = (struct fa_pcap_tee){ h->pcap, h->rx };
        h->rx = fa_pcap_tee_device(&h->tee_in);
    }
    o->cfg.device = tx;
    return 0;
}

static void serve_stat(void *ctx, int fd, fa_time now)
{
    struct host *h = ctx;
    stat_server_serve(fd, h->stack, now);
}

/* Frames read from the TAP go down h->rx; the fault wrappers hold frames
 * of their own, with their own deadlines. */
static int host_loop(struct host *h, const struct host_options *o)
{
    struct fa_loop_config lc = {
        .stack = h->stack, .clock = h->clock, .fd = fa_tap_fd(h->tap),
        .read = fa_loop_tap_read, .read_ctx = h->tap, .rx = h->rx,
        .busy_poll = (fa_time)(o->busy_poll_us * 1e3),
    };
    if (fa_tap_offloads(h->tap)) {
        lc.read = NULL;
        lc.read_meta = fa_loop_tap_read_meta;
    }
    if (h->uring) {
        lc.read = NULL;
        lc.read_meta = NULL;
        lc.next_frame = fa_tap_uring_next;
        lc.flush = fa_tap_uring_flush;
        lc.wait = fa_tap_uring_wait;
        lc.read_ctx = h->uring;
        lc.fd = fa_tap_uring_fd(h->uring);
    }
    if (fa_loop_create(&lc, &h->loop) < 0)
        return -1;
    if (h->fault_in)
        fa_loop_on_turn(h->loop, poll_faults, h);
    return 0;
}

int host_start(struct host *h, struct host_options *o, const char *prog)
{
    memset(h, 0, sizeof *h);
    h->stat_fd = -1;
    h->prog = prog;
    h->exit_wait = o->exit_wait;
    h->clock = fa_clock_monotonic();
    if (!o->tap || !o->cfg.addr) {
        fprintf(stderr, "%s: --tap and --addr are required (see --help)\n", prog);
        return -1;
    }
    int err = fa_tap_open_flags(o->tap, o->offload ? FA_TAP_OFFLOAD : 0, &h->tap);
    if (err < 0) {
        fprintf(stderr, "%s: cannot open TAP '%s': %s%s\n", prog, o->tap,
                strerror(-err), err == -EPERM ? " (run as root)" : "");
        return -1;
    }
    /* io_uring unless read/write was asked for; by default a kernel or
     * sandbox without it (seccomp, io_uring_disabled, a small
     * RLIMIT_MEMLOCK for the registered buffers) gets read/write, and so
     * does busy polling, whose spin is quicker by poll(2) (3 December,
     * one connection at a time: 18,400 cycles a second against 14,500). */
    if (o->uring < 0 && o->busy_poll_us > 0)
        o->uring = 0;
    if (o->uring && (err = fa_tap_uring_create(h->tap, &h->uring)) < 0 && o->uring > 0) {
        fprintf(stderr, "%s: --io uring: %s\n", prog,
                err == -ENOSYS ? "this build has no io_uring (liburing-dev)" : strerror(-err));
        return -1;
    }
    if (host_pipeline(h, o, prog) < 0)
        return -1;
    o->cfg.rng = fa_rng_os();
    err = fa_stack_create(&o->cfg, h->clock.now(h->clock.ctx), &h->stack);
    if (err < 0) {
        const char *why = fa_config_check(&o->cfg);
        fprintf(stderr, "%s: %s\n", prog, why ? why : strerror(-err));
        return -1;
    }
    h->sink = (struct fa_stack_sink){ h->stack, h->clock };
    if (host_loop(h, o) < 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    if (o->stat) {
        h->stat_fd = stat_server_open(o->stat);
        if (h->stat_fd < 0) {
            fprintf(stderr, "%s: cannot serve --stat %s: %s\n", prog, o->stat,
                    strerror(-h->stat_fd));
            return -1;
        }
        h->stat_path = o->stat;
        fa_loop_watch_fd(h->loop, h->stat_fd, serve_stat, h);
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    char addr[16];
    const uint8_t *mac = fa_stack_config(h->stack)->mac;
    fprintf(o->log, "%s: up on %s as %s/%u mac %02x:%02x:%02x:%02x:%02x:%02x (%s)\n", prog,
            fa_tap_name(h->tap), fa_ipv4_format(o->cfg.addr, addr), o->cfg.prefix_len,
            mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], h->uring ? "io_uring" : "read/write");
    fflush(o->log);
    return 0;
}

struct turn {
    struct host *h;
    fa_time (*fn)(void *ctx, fa_time now);
    void *ctx;
};

static fa_time host_turn(void *ctx, fa_time now)
{
    struct turn *t = ctx;
    fa_time next = t->fn ? t->fn(t->ctx, now) : FA_TIME_NEVER;
    if (host_stop)
        fa_loop_stop(t->h->loop);
    return next;
}

static void count_open(void *ctx, const struct fa_tcp_info *i)
{
    int *n = ctx;
    int fw2 = n[1];
    n[0] += i->state != FA_TCP_TIME_WAIT && i->state != FA_TCP_CLOSED &&
            i->state != FA_TCP_LISTEN && (fw2 || i->state != FA_TCP_FIN_WAIT_2);
}

int host_open_connections(const struct host *h, int fin_wait_2)
{
    int n[2] = { 0, fin_wait_2 };
    fa_stack_tcp_walk(h->stack, count_open, n);
    return n[0];
}

static fa_time drain_turn(void *ctx, fa_time now)
{
    struct host *h = ctx;
    (void)now;
    if (host_stop || !host_open_connections(h, 0))
        fa_loop_stop(h->loop);
    return FA_TIME_NEVER;
}

struct undelivered {
    unsigned conns;
    unsigned long long bytes;
};

/* A connection that still holds data or a FIN the peer has not
 * acknowledged (FIN-WAIT-2 and TIME-WAIT hold none). */
static void count_undelivered(void *ctx, const struct fa_tcp_info *i)
{
    struct undelivered *u = ctx;
    if (i->send_queued || i->state == FA_TCP_FIN_WAIT_1 || i->state == FA_TCP_CLOSING ||
        i->state == FA_TCP_LAST_ACK) {
        u->conns++;
        u->bytes += i->send_queued;
    }
}

fa_time host_exit_deadline(struct host *h, fa_time now)
{
    if (!h->exit_from) {
        h->exit_from = now;
        h->exit_until = now + (fa_time)(h->exit_wait * 1e9);
    }
    return h->exit_until;
}

/* Closes what the program left open and lets the closes complete: data
 * queued before close() is delivered, as the kernel does for an orphaned
 * socket, until the --exit-wait deadline. */
static int host_drain(struct host *h)
{
    fa_time now = h->clock.now(h->clock.ctx);
    fa_loop_unwatch_all(h->loop);
    fa_stack_close_owner(h->stack, 0, now);
    fa_time until = host_exit_deadline(h, now);
    if (host_open_connections(h, 0) && now < until) {
        host_stop = 0;
        fa_loop_on_turn(h->loop, drain_turn, h);
        int err = fa_loop_run(h->loop, until);
        if (err < 0)
            return err;
    }
    struct undelivered u = { 0, 0 };
    fa_stack_tcp_walk(h->stack, count_undelivered, &u);
    if (!u.conns)
        return 0;
    double waited = (double)(h->clock.now(h->clock.ctx) - h->exit_from) / 1e9;
    fprintf(stderr, "%s: gave up at exit after %.1f s: %u connection%s still held %llu "
            "byte%s and a FIN the peer had not acknowledged (--exit-wait)\n", h->prog,
            waited, u.conns, u.conns == 1 ? "" : "s", u.bytes, u.bytes == 1 ? "" : "s");
    return HOST_UNDELIVERED;
}

int host_exit_status(int run_result)
{
    return run_result == 0 ? 0 : run_result == HOST_UNDELIVERED ? HOST_EXIT_UNDELIVERED : 1;
}

int host_run(struct host *h, const struct host_options *o,
             fa_time (*on_turn)(void *ctx, fa_time now), void *ctx)
{
    struct turn t = { h, on_turn, ctx };
    fa_loop_on_turn(h->loop, host_turn, &t);
    fa_time until = o->seconds > 0
                        ? h->clock.now(h->clock.ctx) + (fa_time)(o->seconds * 1e9)
                        : FA_TIME_NEVER;
    int err = fa_loop_run(h->loop, until);
    t.fn = NULL; /* the program is done: only the stop check stays */
    if (!err)
        err = host_drain(h);
    if (err == HOST_UNDELIVERED)
        return err;
    if (err < 0) {
        fprintf(stderr, "TAP failed: %s\n", strerror(-err));
        return -1;
    }
    return 0;
}

void *host_watch_accepted(struct host *h, struct fa_tcp *sock, size_t size, size_t zeroed,
                          fa_loop_tcp_fn fn, fa_time now)
{
    void *state = malloc(size);
    if (state)
        memset(state, 0, zeroed < size ? zeroed : size);
    if (!state || fa_loop_watch_tcp(h->loop, sock, FA_TCP_EV_READABLE, fn, state) < 0) {
        fprintf(stderr, "%s: out of memory: connection reset\n", h->prog);
        free(state);
        fa_tcp_abort(sock, now);
        return NULL;
    }
    return state;
}

void host_print_counters(const struct host *h, FILE *out)
{
    fprintf(out, "finack counters (nonzero):\n");
    for (unsigned i = 0; i < FA_CNT_COUNT; i++) {
        uint64_t v = fa_stack_counter(h->stack, i);
        if (v)
            fprintf(out, "  %-22s %12llu  %s%s\n", fa_counter_name(i),
                    (unsigned long long)v, fa_counter_is_drop(i) ? "drop: " : "",
                    fa_counter_description(i));
    }
    if (h->fault_out) {
        const struct fa_fault_stats *a = fa_fault_stats(h->fault_out);
        const struct fa_fault_stats *b = fa_fault_stats(h->fault_in);
        fprintf(out, "faults: out %llu frames %llu dropped %llu dup %llu reordered; "
                     "in %llu frames %llu dropped %llu dup %llu reordered\n",
                (unsigned long long)a->frames, (unsigned long long)a->dropped,
                (unsigned long long)a->duplicated, (unsigned long long)a->reordered,
                (unsigned long long)b->frames, (unsigned long long)b->dropped,
                (unsigned long long)b->duplicated, (unsigned long long)b->reordered);
    }
}

void host_close(struct host *h)
{
    stat_server_close(h->stat_fd, h->stat_path);
    fa_loop_destroy(h->loop);
    fa_stack_destroy(h->stack);
    fa_fault_destroy(h->fault_in);
    fa_fault_destroy(h->fault_out);
    if (h->pcap && fa_pcap_close(h->pcap) < 0)
        fprintf(stderr, "writing the pcap failed\n");
    if (h->uring)
        fa_tap_uring_flush(h->uring);
    fa_tap_uring_destroy(h->uring);
    fa_tap_close(h->tap);
}
