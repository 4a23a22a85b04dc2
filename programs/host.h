/* host.h — what finack's programs share: running a stack on a TAP device
 * with an optional pcap and fault wrappers on both directions, common
 * command-line options, and printing counters. Programs use only the
 * public API. */
#ifndef FA_PROG_HOST_H
#define FA_PROG_HOST_H

#include <finack/finack.h>
#include <stdio.h>

struct host_options {
    FILE *log;        /* the "up" banner; default stdout */
    const char *tap;
    const char *stat; /* Unix socket for finack-stat, or NULL */
    const char *pcap;
    const char *fault;
    uint64_t seed;
    double seconds;
    struct fa_config cfg;
};

/* TAP -> [pcap] -> [fault] -> stack and back. */
struct host {
    struct fa_tap *tap;
    struct fa_pcap *pcap;
    struct fa_pcap_tee tee_in, tee_out;
    struct fa_fault *fault_in, *fault_out;
    struct fa_stack_sink sink;
    struct fa_stack *stack;
    struct fa_clock clock;
    struct fa_device rx;
    int stat_fd;
    const char *stat_path;
    struct fa_loop_fd fds[FA_LOOP_MAX_FDS];
    int nfds;
};

extern volatile int host_stop;

void host_options_init(struct host_options *o);
/* Handles one of the common options (see HOST_OPTIONS_HELP); returns 1 if
 * it was one, 0 if not, -1 (message printed) if its value is bad. */
int host_option(struct host_options *o, const char *name, const char *value);
#define HOST_OPTIONS_HELP                                                       \
    "  --tap NAME        TAP device to open or create (required)\n"            \
    "  --addr A/P        finack's IPv4 address and prefix (required)\n"        \
    "  --mac MAC         finack's MAC (default: random, locally administered)\n" \
    "  --gateway A       default gateway (default: none)\n"                    \
    "  --mtu N           IP MTU (default 1500)\n"                              \
    "  --pcap FILE       record every frame in and out to FILE\n"              \
    "  --fault SPEC      inject faults both ways, e.g. drop=5%%,dup=2%%,reorder=5%%\n" \
    "  --seed N          seed for --fault (default 1)\n"                       \
    "  --seconds S       stop after S seconds (default: until signalled)\n"     \
    "  --syn-retries N   SYN retransmissions before ETIMEDOUT (default 6)\n"   \
    "  --rto-initial MS  initial retransmission timeout (default 1000)\n"      \
    "  --rto-min MS      lowest retransmission timeout (default 200)\n"       \
    "  --msl MS          maximum segment lifetime; TIME-WAIT is 2 MSL (30000)\n"   \
    "  --stat PATH       serve the connection table on this Unix socket\n"     \
    "                    (read it with finack-stat --socket PATH)\n"
/* The long options table entries for the common options. */
#define HOST_LONGOPTS                                                           \
    { "tap", required_argument, 0, 0 }, { "addr", required_argument, 0, 0 },  \
    { "mac", required_argument, 0, 0 }, { "gateway", required_argument, 0, 0 }, \
    { "mtu", required_argument, 0, 0 }, { "pcap", required_argument, 0, 0 },  \
    { "fault", required_argument, 0, 0 }, { "seed", required_argument, 0, 0 }, \
    { "seconds", required_argument, 0, 0 },                                   \
    { "syn-retries", required_argument, 0, 0 },                               \
    { "rto-initial", required_argument, 0, 0 },                               \
    { "rto-min", required_argument, 0, 0 }, { "msl", required_argument, 0, 0 }, \
    { "stat", required_argument, 0, 0 }

/* Opens the TAP and wrappers and creates the stack; prints why not. */
int host_start(struct host *h, struct host_options *o, const char *prog);
/* Runs the loop until signalled, the time limit, or on_turn asks to stop
 * (by setting host_stop). Returns 0 or -1 (TAP failure). */
int host_run(struct host *h, const struct host_options *o,
             fa_time (*on_turn)(void *ctx, fa_time now), void *ctx);
/* Has the run loop watch fd too (before host_run); -1 when full. */
int host_watch_fd(struct host *h, int fd, void (*on_ready)(void *ctx, fa_time now),
                  void *ctx);
void host_print_counters(const struct host *h, FILE *out);
void host_close(struct host *h);

#endif
