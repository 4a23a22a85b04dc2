/* finack-cat — a netcat on finack: connect (or listen and accept one
 * connection), copy standard input to the connection and the connection
 * to standard output. At end of input it shuts down its sending side —
 * the peer sees end of stream and may still answer — and it exits once
 * the peer's end of stream has been written out. Built on the public API.
 *
 *   finack-cat --tap fa0 --addr 198.18.0.2/24 198.18.0.1 9000
 *   finack-cat --tap fa0 --addr 198.18.0.2/24 --listen 9000
 *
 * Exit status: 0 after a clean exchange; 1 setup failure; 2 bad
 * arguments; 3 refused, reset or timed out (the message says which); 4
 * data still undelivered when --exit-wait ran out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

struct cat {
    struct host *h;
    struct fa_tcp *listener, *conn;
    int connected, in_eof, out_eof, failed;
    uint8_t pending[65536]; /* read from stdin, not yet taken by TCP */
    size_t pending_len;
};

static void fail(struct cat *c, const char *what, int err)
{
    const char *why = err == -ECONNREFUSED ? "connection refused"
                    : err == -ECONNRESET  ? "connection reset by peer"
                    : err == -ETIMEDOUT   ? "connection timed out"
                    : err == -EPIPE       ? "broken pipe" : strerror(-err);
    fprintf(stderr, "finack-cat: %s: %s\n", what, why);
    c->failed = 1;
    host_stop = 1;
}

/* stdin is readable (the run loop watches it): take what fits. */
static void on_stdin(void *ctx, int fd, fa_time now)
{
    struct cat *c = ctx;
    (void)fd;
    (void)now;
    if (c->in_eof || c->pending_len == sizeof c->pending)
        return;
    ssize_t n = read(0, c->pending + c->pending_len, sizeof c->pending - c->pending_len);
    if (n > 0)
        c->pending_len += (size_t)n;
    else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        c->in_eof = 1;
}

static void to_connection(struct cat *c, fa_time now)
{
    while (c->pending_len) {
        long n = fa_tcp_send(c->conn, c->pending, c->pending_len, now);
        if (n == -EAGAIN)
            return;
        if (n < 0) {
            fail(c, "send", (int)n);
            return;
        }
        memmove(c->pending, c->pending + n, c->pending_len - (size_t)n);
        c->pending_len -= (size_t)n;
    }
    if (c->in_eof && !c->pending_len) {
        fa_tcp_shutdown(c->conn, FA_SHUT_WR, now); /* half-close: the peer may answer */
        c->in_eof = 2;
    }
}

static void to_stdout(struct cat *c, fa_time now)
{
    uint8_t buf[16384];
    long n;
    while ((n = fa_tcp_recv(c->conn, buf, sizeof buf, now)) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
            fprintf(stderr, "finack-cat: writing standard output failed\n");
            c->failed = 1;
            host_stop = 1;
            return;
        }
    fflush(stdout);
    if (n == 0)
        c->out_eof = 1;
    else if (n != -EAGAIN)
        fail(c, "receive", (int)n);
}

static fa_time cat_turn(void *ctx, fa_time now)
{
    struct cat *c = ctx;
    /* Watch stdin only while its bytes have somewhere to go: at its end
     * (or with the buffer full) poll would report it ready forever. */
    if (c->in_eof || c->pending_len == sizeof c->pending)
        fa_loop_unwatch_fd(c->h->loop, 0);
    else
        fa_loop_watch_fd(c->h->loop, 0, on_stdin, c);
    if (!c->conn && c->listener && fa_tcp_accept(c->listener, &c->conn) < 0)
        return FA_TIME_NEVER;
    if (!c->conn || host_stop)
        return FA_TIME_NEVER;
    if (!c->connected) {
        int err = fa_tcp_error(c->conn);
        if (err) {
            fail(c, "connect", err);
            return now;
        }
        if (!(fa_tcp_events(c->conn) & FA_TCP_EV_WRITABLE))
            return now + FA_NS_PER_MS;
        c->connected = 1;
    }
    to_stdout(c, now);
    if (c->in_eof < 2)
        to_connection(c, now);
    if (c->out_eof && c->in_eof == 2 && !c->failed) {
        fa_tcp_close(c->conn, now);
        c->conn = NULL;
        host_stop = 1;
    }
    /* Wake now and then to pick up stdin data that did not fit before. */
    return now + 10 * FA_NS_PER_MS;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-cat --tap NAME --addr A/P [options] HOST PORT\n"
                 "       finack-cat --tap NAME --addr A/P [options] --listen PORT\n"
                 "Copies standard input to a TCP connection over finack and the\n"
                 "connection to standard output; half-closes at end of input.\n\n"
                 HOST_OPTIONS_HELP
                 "  --listen PORT     accept one connection on PORT instead\n"
                 "  --help            this text\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        HOST_LONGOPTS, { "listen", required_argument, 0, 'l' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct host_options o;
    host_options_init(&o);
    long listen_port = 0;
    int ch, idx;
    while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        char *end;
        if (ch == 'h') {
            usage(stdout);
            return 0;
        } else if (ch == 'l') {
            listen_port = strtol(optarg, &end, 10);
            if (*end || listen_port < 1 || listen_port > 65535) {
                fprintf(stderr, "finack-cat: bad --listen '%s'\n", optarg);
                return 2;
            }
        } else if (ch != 0 || host_option(&o, longopts[idx].name, optarg) <= 0) {
            usage(stderr);
            return 2;
        }
    }
    uint32_t peer = 0;
    long port = 0;
    if (!listen_port) {
        char *end = NULL;
        if (argc - optind != 2 || fa_ipv4_parse(argv[optind], &peer) < 0 ||
            (port = strtol(argv[optind + 1], &end, 10)) < 1 || port > 65535 || *end) {
            fprintf(stderr, "finack-cat: want HOST PORT, or --listen PORT (see --help)\n");
            return 2;
        }
    } else if (optind != argc) {
        usage(stderr);
        return 2;
    }
    /* The banner goes to stderr: stdout carries only the peer's bytes. */
    o.log = stderr;
    static struct host h;
    static struct cat c;
    c.h = &h;
    int started = host_start(&h, &o, "finack-cat");
    int status = 1;
    if (started == 0) {
        struct fa_tcp *s;
        int err = fa_tcp_open(h.stack, &s);
        if (!err && listen_port) {
            c.listener = s;
            err = fa_tcp_bind(s, 0, (uint16_t)listen_port);
            if (!err)
                err = fa_tcp_listen(s, 1, h.clock.now(h.clock.ctx));
        } else if (!err) {
            c.conn = s;
            err = fa_tcp_connect(s, peer, (uint16_t)port, h.clock.now(h.clock.ctx));
            err = err == -EINPROGRESS ? 0 : err;
        }
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
        if (err) {
            fprintf(stderr, "finack-cat: %s\n", strerror(-err));
        } else {
            status = host_exit_status(host_run(&h, &o, cat_turn, &c));
            if (!status && c.failed)
                status = 3;
        }
    }
    host_close(&h);
    return status;
}
