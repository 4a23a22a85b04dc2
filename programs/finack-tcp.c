/* finack-tcp — a scriptable TCP end on a finack stack over a TAP device,
 * for tests and demos against ordinary programs: listen or connect, send
 * a number of bytes, read to end of stream, echo in upper case, close in
 * one of several ways, and report what happened as plain lines:
 *
 *   state 0.000123 SYN-SENT          each state change of the connection
 *   connected / accepted A:P
 *   sent N            received N sha256 HEX
 *   error ECONNRESET  (from recv, connect or SO_ERROR)
 *   send_error EPIPE
 *
 * Exit status: 0 done, 1 setup failure, 2 bad arguments, 3 the connection
 * failed (refused, reset, timed out), 4 data still undelivered when
 * --exit-wait ran out. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "sha256.h"

enum then { THEN_CLOSE, THEN_SHUTDOWN, THEN_ABORT, THEN_NONE };

struct app {
    struct host h;
    int listen_port;
    uint32_t peer_addr;
    uint16_t peer_port;
    uint64_t to_send, sent;
    long chunk;
    fa_time interval, next_send;
    int recv, upper, no_read, trace, wait_eof, no_hash;
    enum then then;
    long sndbuf, rcvbuf, linger, mss;
    int nodelay;
    double hold;
    fa_time hold_until;
    int accepts;

    struct fa_tcp *listener, *conn;
    fa_time t0;
    int connected, eof, done_sending, finished, failed, closing;
    fa_time stay_until;
    double stay;
    uint64_t received;
    struct sha256 hash, sent_hash;
    uint8_t pending[65536];
    size_t pending_len;
};

static struct app *tracing_app;

static const char *errno_name(int e)
{
    switch (e) {
    case ECONNRESET: return "ECONNRESET";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPIPE: return "EPIPE";
    case ENOTCONN: return "ENOTCONN";
    case EAGAIN: return "EAGAIN";
    default: return strerror(e);
    }
}

static void trace(void *ctx, const struct fa_tcp *sock, int from, int to, fa_time now)
{
    (void)ctx;
    (void)sock;
    struct app *a = tracing_app;
    if (!a || !a->trace)
        return;
    if (!a->t0)
        a->t0 = now;
    /* The listener's own changes on lines of their own. */
    printf("%s %.6f %s\n", to == FA_TCP_LISTEN || (from == FA_TCP_LISTEN && to == FA_TCP_CLOSED)
                                ? "listener" : "state",
           (double)(now - a->t0) / 1e9, fa_tcp_state_name(to));
    fflush(stdout);
}

static void pattern(uint8_t *buf, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)((off + i) * 2654435761u >> 13);
}

static int set_options(struct app *a, struct fa_tcp *s)
{
    int err = 0;
    if (a->sndbuf && (err = fa_tcp_setopt(s, FA_SO_SNDBUF, a->sndbuf)) < 0)
        fprintf(stderr, "finack-tcp: --sndbuf %ld: %s\n", a->sndbuf, strerror(-err));
    else if (a->rcvbuf && (err = fa_tcp_setopt(s, FA_SO_RCVBUF, a->rcvbuf)) < 0)
        fprintf(stderr, "finack-tcp: --rcvbuf %ld: %s\n", a->rcvbuf, strerror(-err));
    else if (a->linger >= 0 && (err = fa_tcp_setopt(s, FA_SO_LINGER, a->linger)) < 0)
        fprintf(stderr, "finack-tcp: --linger %ld: %s\n", a->linger, strerror(-err));
    else if (a->mss && (err = fa_tcp_setopt(s, FA_TCP_MAXSEG, a->mss)) < 0)
        fprintf(stderr, "finack-tcp: --mss %ld: %s\n", a->mss, strerror(-err));
    else if (a->nodelay)
        err = fa_tcp_setopt(s, FA_TCP_NODELAY, 1);
    return err;
}

static void fail_with(struct app *a, const char *what, int err)
{
    printf("%s %s\n", what, errno_name(-err));
    a->failed = 1;
}

static void finish(struct app *a, fa_time now)
{
    if (a->recv || a->upper) {
        char hex[65];
        sha256_hex(&a->hash, hex);
        printf("received %llu sha256 %s\n", (unsigned long long)a->received, hex);
    }
    if (a->to_send) {
        char hex[65];
        sha256_hex(&a->sent_hash, hex);
        printf("sent %llu sha256 %s\n", (unsigned long long)a->sent, hex);
    }
    fflush(stdout);
    if (a->conn) {
        int r = fa_tcp_close(a->conn, now);
        if (r == -EINPROGRESS) {
            a->closing = 1; /* lingering close: wait for it */
            return;
        }
        if (r < 0)
            fail_with(a, "close_error", r);
        a->conn = NULL;
    }
    if (--a->accepts <= 0 || !a->listener)
        a->finished = 1;
    sha256_init(&a->hash);
    sha256_init(&a->sent_hash);
    a->received = a->sent = 0;
    a->eof = a->done_sending = a->connected = 0;
}

static void do_then(struct app *a, fa_time now)
{
    if (a->done_sending)
        return;
    a->done_sending = 1;
    if (a->then == THEN_SHUTDOWN)
        fa_tcp_shutdown(a->conn, FA_SHUT_WR, now);
    else if (a->then == THEN_ABORT) {
        fa_tcp_abort(a->conn, now);
        a->conn = NULL;
        a->finished = !a->listener;
    }
}

/* Reads what is there; in upper mode queues it back in upper case. */
static void read_some(struct app *a, fa_time now)
{
    uint8_t buf[16384];
    while (!a->eof && a->pending_len < sizeof a->pending - sizeof buf) {
        long n = fa_tcp_recv(a->conn, buf, sizeof buf, now);
        if (n == -EAGAIN)
            return;
        if (n < 0) {
            fail_with(a, "error", (int)n);
            a->eof = 1;
            return;
        }
        if (n == 0) {
            a->eof = 1;
            return;
        }
        if (!a->no_hash)
            sha256_update(&a->hash, buf, (size_t)n);
        a->received += (uint64_t)n;
        if (a->upper) {
            for (long i = 0; i < n; i++)
                buf[i] = (uint8_t)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
            memcpy(a->pending + a->pending_len, buf, (size_t)n);
            a->pending_len += (size_t)n;
        }
    }
}

static void write_some(struct app *a, fa_time now)
{
    while (a->pending_len) {
        long n = fa_tcp_send(a->conn, a->pending, a->pending_len, now);
        if (n <= 0) {
            if (n != -EAGAIN)
                fail_with(a, "send_error", (int)n), a->pending_len = 0;
            return;
        }
        memmove(a->pending, a->pending + n, a->pending_len - (size_t)n);
        a->pending_len -= (size_t)n;
    }
    while (a->sent < a->to_send && now >= a->next_send) {
        static uint8_t buf[65536];
        uint64_t left = a->to_send - a->sent;
        size_t n = (size_t)(left < (uint64_t)a->chunk ? left : (uint64_t)a->chunk);
        if (!a->no_hash)
            pattern(buf, a->sent, n);
        else if (a->sent == 0)
            memset(buf, 'x', sizeof buf);
        long r = fa_tcp_send(a->conn, buf, n, now);
        if (r == -EAGAIN)
            return;
        if (r < 0) {
            fail_with(a, "send_error", (int)r);
            a->to_send = a->sent;
            return;
        }
        if (!a->no_hash)
            sha256_update(&a->sent_hash, buf, (size_t)r);
        a->sent += (uint64_t)r;
        if (a->interval)
            a->next_send = now + a->interval;
    }
}

static void on_established(struct app *a, fa_time now)
{
    a->connected = 1;
    a->hold_until = now + (fa_time)(a->hold * 1e9);
    a->next_send = now;
}

static int poll_connect(struct app *a, fa_time now)
{
    unsigned ev = fa_tcp_events(a->conn);
    int err = fa_tcp_error(a->conn);
    if (err) {
        fail_with(a, "error", err);
        a->finished = 1;
        return 0;
    }
    if (ev & FA_TCP_EV_WRITABLE) {
        printf("connected\n");
        fflush(stdout);
        on_established(a, now);
    }
    return a->connected;
}

static void count_open(void *ctx, const struct fa_tcp_info *i)
{
    int *n = ctx;
    *n += i->state != FA_TCP_TIME_WAIT && i->state != FA_TCP_CLOSED &&
          i->state != FA_TCP_LISTEN;
}

/* The process is the stack: before it exits, let closing connections
 * finish (data and FIN acknowledged, the peer's FIN too), as a kernel
 * would after close(). TIME-WAIT is not waited for. The wait is
 * --exit-wait's, one deadline shared with host_run's. */
static int connections_settled(struct app *a, fa_time now)
{
    fa_time until = host_exit_deadline(&a->h, now);
    int open = 0;
    fa_stack_tcp_walk(a->h.stack, count_open, &open);
    return open == 0 || now >= until;
}

static fa_time app_turn(void *ctx, fa_time now)
{
    struct app *a = ctx;
    if (a->finished) {
        if (connections_settled(a, now)) {
            if (!a->stay_until)
                a->stay_until = now + (fa_time)(a->stay * 1e9);
            if (now >= a->stay_until)
                host_stop = 1;
        }
        return now + FA_NS_PER_MS;
    }
    if (a->closing) {
        int r = fa_tcp_close(a->conn, now);
        if (r == -EINPROGRESS)
            return now + FA_NS_PER_MS;
        printf("close %s\n", r ? errno_name(-r) : "ok");
        a->closing = 0;
        a->conn = NULL;
        a->finished = 1;
        return now;
    }
    if (!a->conn && a->listener) {
        if (fa_tcp_accept(a->listener, &a->conn) < 0)
            return FA_TIME_NEVER;
        struct fa_tcp_info i;
        fa_tcp_get_info(a->conn, &i);
        char addr[16];
        printf("accepted %s:%u\n", fa_ipv4_format(i.remote_addr, addr), i.remote_port);
        fflush(stdout);
        on_established(a, now);
    }
    if (!a->conn)
        return FA_TIME_NEVER;
    if (!a->connected && !poll_connect(a, now))
        return now + FA_NS_PER_MS;
    if (now < a->hold_until)
        return a->hold_until;
    if ((a->recv || a->upper) && !a->no_read)
        read_some(a, now);
    write_some(a, now);
    if (!a->conn)
        return now;
    int sending_done = a->sent >= a->to_send && !a->pending_len;
    if (sending_done && (!a->upper || a->eof) && (!a->wait_eof || a->eof))
        do_then(a, now);
    if (!a->conn)
        return now;
    int read_done = a->no_read || !(a->recv || a->upper) || a->eof;
    if (a->failed || (a->done_sending && read_done && a->then != THEN_NONE)) {
        finish(a, now);
        return now;
    }
    if (a->then == THEN_NONE && a->done_sending && read_done && !a->failed)
        return now + 10 * FA_NS_PER_MS; /* hold it open until --seconds */
    return a->sent < a->to_send && a->interval ? a->next_send : now + 50 * FA_NS_PER_MS;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finack-tcp --tap NAME --addr A/P (--listen PORT | --connect A:PORT) [options]\n"
            "A scriptable TCP end on finack: listen or connect, send, read, close.\n\n"
            HOST_OPTIONS_HELP
            "  --listen PORT     accept connections on PORT\n"
            "  --accept N        serve N connections, then exit (default 1)\n"
            "  --connect A:PORT  connect to A:PORT\n"
            "  --send N          send N bytes of a fixed pattern\n"
            "  --chunk N         at most N bytes per send() (default 65536)\n"
            "  --interval MS     wait MS between sends\n"
            "  --recv            read to end of stream; print bytes and SHA-256\n"
            "  --upper           echo what is read, in upper case, until end of stream\n"
            "  --no-read         never read (close with unread data resets)\n"
            "  --hold S          wait S seconds after connecting before anything\n"
            "  --wait-eof        close only after the peer's end of stream\n"
            "  --then ACTION     after sending: close (default), shutdown, abort, none\n"
            "  --stay S          keep the stack running S s after the work (TIME-WAIT)\n"
            "  --sndbuf N --rcvbuf N --mss N --linger MS --nodelay\n"
            "  --trace           print each state change with its time\n"
            "  --no-hash         benchmarks: constant data, no SHA-256\n"
            "  --help            this text\n");
}

static int parse_connect(struct app *a, const char *v)
{
    char buf[32];
    const char *colon = strrchr(v, ':');
    if (!colon || (size_t)(colon - v) >= sizeof buf)
        return -1;
    memcpy(buf, v, (size_t)(colon - v));
    buf[colon - v] = 0;
    long port = strtol(colon + 1, NULL, 10);
    if (fa_ipv4_parse(buf, &a->peer_addr) < 0 || port < 1 || port > 65535)
        return -1;
    a->peer_port = (uint16_t)port;
    return 0;
}

static int app_option(struct app *a, const char *name, const char *v)
{
    char *end = NULL;
    if (!strcmp(name, "listen")) a->listen_port = (int)strtol(v, &end, 10);
    else if (!strcmp(name, "accept")) a->accepts = (int)strtol(v, &end, 10);
    else if (!strcmp(name, "connect")) return parse_connect(a, v);
    else if (!strcmp(name, "send")) a->to_send = strtoull(v, &end, 10);
    else if (!strcmp(name, "chunk")) a->chunk = strtol(v, &end, 10);
    else if (!strcmp(name, "interval")) a->interval = (fa_time)(strtod(v, &end) * 1e6);
    else if (!strcmp(name, "hold")) a->hold = strtod(v, &end);
    else if (!strcmp(name, "stay")) a->stay = strtod(v, &end);
    else if (!strcmp(name, "sndbuf")) a->sndbuf = strtol(v, &end, 10);
    else if (!strcmp(name, "rcvbuf")) a->rcvbuf = strtol(v, &end, 10);
    else if (!strcmp(name, "mss")) a->mss = strtol(v, &end, 10);
    else if (!strcmp(name, "linger")) a->linger = strtol(v, &end, 10);
    else if (!strcmp(name, "then")) {
        static const char *const names[] = { "close", "shutdown", "abort", "none" };
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, names[i])) {
                a->then = (enum then)i;
                return 0;
            }
        return -1;
    } else return -1;
    return *end ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct app *a, struct host_options *o)
{
    static const struct option longopts[] = {
        HOST_LONGOPTS,
        { "listen", required_argument, 0, 0 }, { "accept", required_argument, 0, 0 },
        { "connect", required_argument, 0, 0 }, { "send", required_argument, 0, 0 },
        { "chunk", required_argument, 0, 0 }, { "interval", required_argument, 0, 0 },
        { "hold", required_argument, 0, 0 }, { "then", required_argument, 0, 0 },
        { "stay", required_argument, 0, 0 },
        { "sndbuf", required_argument, 0, 0 }, { "rcvbuf", required_argument, 0, 0 },
        { "mss", required_argument, 0, 0 }, { "linger", required_argument, 0, 0 },
        { "recv", no_argument, 0, 'r' }, { "upper", no_argument, 0, 'u' },
        { "no-read", no_argument, 0, 'n' }, { "wait-eof", no_argument, 0, 'w' },
        { "nodelay", no_argument, 0, 'd' }, { "trace", no_argument, 0, 't' },
        { "no-hash", no_argument, 0, 'H' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    int c, idx;
    while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        switch (c) {
        case 'r': a->recv = 1; break;
        case 'u': a->upper = 1; break;
        case 'n': a->no_read = 1; break;
        case 'w': a->wait_eof = 1; break;
        case 'd': a->nodelay = 1; break;
        case 't': a->trace = 1; break;
        case 'H': a->no_hash = 1; break;
        case 'h': usage(stdout); exit(0);
        case 0: {
            int r = host_option(o, longopts[idx].name, optarg);
            if (r < 0)
                return -1;
            if (r == 0 && app_option(a, longopts[idx].name, optarg) < 0) {
                fprintf(stderr, "finack-tcp: bad --%s '%s'\n", longopts[idx].name, optarg);
                return -1;
            }
            break;
        }
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc || (!a->listen_port == !a->peer_port) || a->chunk < 1 ||
        a->chunk > 65536) {
        fprintf(stderr, "finack-tcp: need exactly one of --listen and --connect (see --help)\n");
        return -1;
    }
    return 0;
}

static void print_conn(void *ctx, const struct fa_tcp_info *i)
{
    (void)ctx;
    char l[16], r[16];
    printf("conn %s %s:%u %s:%u\n", fa_tcp_state_name(i->state),
           fa_ipv4_format(i->local_addr, l), i->local_port,
           fa_ipv4_format(i->remote_addr, r), i->remote_port);
}

static int app_open(struct app *a, fa_time now)
{
    struct fa_tcp *s;
    int err = fa_tcp_open(a->h.stack, &s);
    if (err < 0)
        return err;
    err = set_options(a, s);
    if (err < 0)
        return err;
    if (a->listen_port) {
        a->listener = s;
        err = fa_tcp_bind(s, 0, (uint16_t)a->listen_port);
        if (!err)
            err = fa_tcp_listen(s, 16, now);
        return err;
    }
    a->conn = s;
    err = fa_tcp_connect(s, a->peer_addr, a->peer_port, now);
    return err == -EINPROGRESS ? 0 : err;
}

int main(int argc, char **argv)
{
    static struct app a;
    struct host_options o;
    host_options_init(&o);
    a.chunk = 65536;
    a.linger = -1; /* off unless --linger */
    a.accepts = 1;
    sha256_init(&a.hash);
    sha256_init(&a.sent_hash);
    if (parse_args(argc, argv, &a, &o) < 0)
        return 2;
    o.cfg.tcp_trace = trace;
    tracing_app = &a;
    if (host_start(&a.h, &o, "finack-tcp") < 0) {
        host_close(&a.h);
        return 1;
    }
    int err = app_open(&a, a.h.clock.now(a.h.clock.ctx));
    if (err < 0) {
        fprintf(stderr, "finack-tcp: %s\n", strerror(-err));
        host_close(&a.h);
        return 1;
    }
    int status = host_exit_status(host_run(&a.h, &o, app_turn, &a));
    if (!a.finished && status != 1) {
        /* What the application handed to the stack before it stopped: the
         * stack delivers it after close() (--exit-wait). */
        char hex[65];
        sha256_hex(&a.sent_hash, hex);
        printf("stopped before done; queued %llu sha256 %s\n", (unsigned long long)a.sent, hex);
    }
    if (a.failed && !status)
        status = 3;
    fa_stack_tcp_walk(a.h.stack, print_conn, NULL);
    host_print_counters(&a.h, stdout);
    host_close(&a.h);
    return status;
}
