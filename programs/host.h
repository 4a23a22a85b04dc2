/* host.h — what finack's programs share: running a stack on a TAP device
 * with an optional pcap and fault wrappers on both directions, common
 * command-line options, and printing counters. Programs use only the
 * public API. */
#ifndef FA_PROG_HOST_H
#define FA_PROG_HOST_H

#include <finack/finack.h>
#include <signal.h>
#include <stdio.h>

struct host_options {
    FILE *log;        /* the "up" banner; default stdout */
    const char *tap;
    const char *stat; /* Unix socket for finack-stat, or NULL */
    const char *pcap;
    const char *fault;
    int offload; /* --offload: 1 (default) asks the TAP for its offloads */
    double busy_poll_us; /* --busy-poll */
    int uring;           /* --io uring (1), rw (0), or either (-1, the
                            default: io_uring where it can be had) */
    uint64_t seed;
    double seconds;
    double exit_wait; /* --exit-wait: seconds closed connections may take
                         to deliver what they hold; default 60 */
    struct fa_config cfg;
};

/* TAP -> [pcap] -> [fault] -> stack and back. */
struct host {
    struct fa_tap *tap;
    struct fa_tap_uring *uring; /* --io uring: the TAP's frames through it */
    struct fa_pcap *pcap;
    struct fa_pcap_tee tee_in, tee_out;
    struct fa_fault *fault_in, *fault_out;
    struct fa_stack_sink sink;
    struct fa_stack *stack;
    struct fa_clock clock;
    struct fa_device rx;
    struct fa_loop *loop; /* watch sockets here (finack/loop.h) */
    int stat_fd;
    const char *stat_path;
    const char *prog;
    double exit_wait;
    /* When the wait for closed connections began and must end (0: not
     * begun). A program that waits before host_run returns (finack-tcp)
     * starts it, so the two waits are one. */
    fa_time exit_from, exit_until;
};

/* Set (by a signal, or by the program) to end host_run(). */
extern volatile sig_atomic_t host_stop;

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
    "  --offload on|off  virtio-net offloads on the TAP: checksums, TSO and\n"  \
    "                    GRO super-frames (default on; --pcap records and\n"   \
    "                    --fault hits the segments a wire would carry)\n"      \
    "  --io rw|uring     the TAP's frames by io_uring, every frame of a turn\n" \
    "                    in one system call (default where the kernel\n"   \
    "                    allows it, unless busy polling), or by\n"          \
    "                    read/write, one per call\n"                        \
    "  --busy-poll US    before sleeping, keep looking for frames for US\n"    \
    "                    microseconds (default 0): lower latency, more CPU\n"  \
    "  --seconds S       stop after S seconds (default: until signalled)\n"     \
    "  --exit-wait S     at exit, let closed connections deliver queued data\n" \
    "                    and their FIN for up to S seconds (default 60)\n"     \
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
    { "offload", required_argument, 0, 0 },                                   \
    { "busy-poll", required_argument, 0, 0 }, { "io", required_argument, 0, 0 }, \
    { "seconds", required_argument, 0, 0 },                                   \
    { "exit-wait", required_argument, 0, 0 },                                 \
    { "syn-retries", required_argument, 0, 0 },                               \
    { "rto-initial", required_argument, 0, 0 },                               \
    { "rto-min", required_argument, 0, 0 }, { "msl", required_argument, 0, 0 }, \
    { "stat", required_argument, 0, 0 }

/* Opens the TAP and wrappers and creates the stack; prints why not. */
int host_start(struct host *h, struct host_options *o, const char *prog);
/* Runs the loop until signalled, the time limit, or the program sets
 * host_stop; on_turn (may be NULL) runs every turn. Then closes every
 * socket still open, as an OS does for a process that exits (FIN, or RST
 * where data is unread), and keeps running — as the kernel keeps an
 * orphaned socket — until every closed connection has delivered its data
 * and FIN, or failed, for up to --exit-wait seconds in all; a second
 * signal cuts that short. Returns 0, -1 (TAP failure), or
 * HOST_UNDELIVERED when it gave up on data still queued (and says so on
 * stderr). A connection the peer resets meanwhile has failed: its queued
 * data is gone, as the kernel's would be, and is not reported. */
#define HOST_UNDELIVERED (-2)
int host_run(struct host *h, const struct host_options *o,
             fa_time (*on_turn)(void *ctx, fa_time now), void *ctx);
/* Starts the --exit-wait clock now, if not started: returns its end. */
fa_time host_exit_deadline(struct host *h, fa_time now);
/* The exit status for host_run's result: 0, 1 (failure), or
 * HOST_EXIT_UNDELIVERED. */
#define HOST_EXIT_UNDELIVERED 4
int host_exit_status(int run_result);
/* Connections that still owe or await a segment: not LISTEN, TIME-WAIT,
 * CLOSED, nor (unless fin_wait_2) FIN-WAIT-2. */
int host_open_connections(const struct host *h, int fin_wait_2);
/* For a socket just accepted: allocates size bytes of per-connection
 * state, the first zeroed of them zeroed (not a buffer the program fills
 * before it reads: zeroing 16 KiB per connection was half of
 * finack-echo's instructions in a connection cycle), and watches the
 * socket for READABLE with fn and that state as ctx. Out of memory, it
 * resets the connection, says so and returns NULL. */
void *host_watch_accepted(struct host *h, struct fa_tcp *sock, size_t size, size_t zeroed,
                          fa_loop_tcp_fn fn, fa_time now);
void host_print_counters(const struct host *h, FILE *out);
void host_close(struct host *h);

#endif
