/* finack-echo — the uppercase echo server over TCP and UDP, written as an
 * ordinary non-blocking socket program on the run loop's callbacks
 * (finack/loop.h). Each TCP connection gets back what it sends, in upper
 * case, and is closed after the client's end of stream; each UDP datagram
 * goes back to its sender in upper case.
 *
 *   finack-echo --tap fa0 --addr 198.18.0.2/24 [--port 7] [--no-udp] [--quiet]
 *
 * Prints a line per connection (open and close, with byte counts). On
 * SIGINT/SIGTERM it closes every connection and waits for the closes. */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

struct echo_conn {
    struct echo *echo;
    struct echo_conn *prev, *next;
    struct fa_tcp *sock;
    char peer[24];
    uint64_t bytes;
    size_t len;
    uint8_t pending[16384]; /* upper-cased, not yet taken by send */
};

struct echo {
    struct host *h;
    struct fa_loop *loop;
    struct echo_conn *conns; /* open ones, freed at exit */
    unsigned open;
    int quiet; /* no line per connection (benchmarks: bench/tap_rate.sh) */
};

static void upper(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            p[i] = (uint8_t)(p[i] - 'a' + 'A');
}

static void conn_end(struct echo_conn *c, const char *how, fa_time now)
{
    if (!c->echo->quiet) {
        printf("close %s after %llu bytes: %s\n", c->peer, (unsigned long long)c->bytes, how);
        fflush(stdout);
    }
    fa_loop_close_tcp(c->echo->loop, c->sock, now);
    c->echo->open--;
    *(c->prev ? &c->prev->next : &c->echo->conns) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

/* Moves pending bytes into the send buffer; -errno if the peer is gone. */
static int flush_pending(struct echo_conn *c, fa_time now)
{
    while (c->len) {
        long n = fa_tcp_send(c->sock, c->pending, c->len, now);
        if (n == -EAGAIN)
            return 0;
        if (n < 0)
            return (int)n;
        memmove(c->pending, c->pending + n, c->len - (size_t)n);
        c->len -= (size_t)n;
    }
    return 0;
}

static void on_conn(void *ctx, struct fa_tcp *sock, unsigned ev, fa_time now)
{
    struct echo_conn *c = ctx;
    (void)ev;
    int err = flush_pending(c, now);
    while (!err && c->len < sizeof c->pending) {
        long n = fa_tcp_recv(sock, c->pending + c->len, sizeof c->pending - c->len, now);
        if (n == -EAGAIN)
            break;
        if (n == 0 && !c->len) {
            conn_end(c, "end of stream", now);
            return;
        }
        if (n <= 0) {
            err = n < 0 ? (int)n : 0;
            break;
        }
        upper(c->pending + c->len, (size_t)n);
        c->len += (size_t)n;
        c->bytes += (uint64_t)n;
        err = flush_pending(c, now);
    }
    if (err) {
        conn_end(c, strerror(-err), now);
        return;
    }
    /* Read only while there is room to keep what is read; wait for send
     * room only while holding bytes. */
    fa_loop_tcp_interest(c->echo->loop, sock,
                         (c->len < sizeof c->pending ? FA_TCP_EV_READABLE : 0) |
                             (c->len ? FA_TCP_EV_WRITABLE : 0));
}

static void on_listener(void *ctx, struct fa_tcp *l, unsigned ev, fa_time now)
{
    struct echo *e = ctx;
    struct fa_tcp *sock;
    (void)ev;
    while (fa_tcp_accept(l, &sock) == 0) {
        struct echo_conn *c = host_watch_accepted(e->h, sock, sizeof *c,
                                                    offsetof(struct echo_conn, pending),
                                                    on_conn, now);
        if (!c)
            continue;
        /* Zeroed but for the pending bytes: only the links. */
        c->echo = e;
        c->sock = sock;
        c->next = e->conns;
        if (e->conns)
            e->conns->prev = c;
        e->conns = c;
        e->open++;
        if (e->quiet)
            continue;
        struct fa_tcp_info i;
        fa_tcp_get_info(sock, &i);
        char a[16];
        snprintf(c->peer, sizeof c->peer, "%s:%u", fa_ipv4_format(i.remote_addr, a),
                 i.remote_port);
        printf("open %s\n", c->peer);
        fflush(stdout);
    }
}

static void on_datagram(void *ctx, struct fa_udp *u, unsigned ev, fa_time now)
{
    uint8_t buf[2048];
    uint32_t from;
    uint16_t port;
    long n;
    (void)ctx;
    (void)ev;
    for (int i = 0; i < 64 && (n = fa_udp_recvfrom(u, buf, sizeof buf, &from, &port, now)) >= 0; i++) {
        upper(buf, (size_t)n);
        fa_udp_sendto(u, buf, (size_t)n, from, port, now);
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-echo --tap NAME --addr A/P [options]\n"
                 "The uppercase echo server over TCP and UDP on finack.\n\n"
                 HOST_OPTIONS_HELP
                 "  --port N          TCP and UDP port (default 7)\n"
                 "  --no-udp          TCP only\n"
                 "  --no-tcp          UDP only\n"
                 "  --quiet           no line per connection opened and closed\n"
                 "  --help            this text\n");
}

static int serve(struct host *h, struct echo *e, long port, int tcp, int udp)
{
    fa_time now = h->clock.now(h->clock.ctx);
    int err = 0;
    if (tcp) {
        struct fa_tcp *l;
        err = fa_tcp_open(h->stack, &l);
        if (!err)
            err = fa_tcp_bind(l, 0, (uint16_t)port);
        if (!err)
            err = fa_tcp_listen(l, 64, now);
        if (!err)
            err = fa_loop_watch_tcp(h->loop, l, FA_TCP_EV_ACCEPT, on_listener, e);
    }
    if (!err && udp) {
        struct fa_udp *u;
        err = fa_udp_open(h->stack, &u);
        if (!err)
            err = fa_udp_bind(u, 0, (uint16_t)port);
        if (!err)
            err = fa_loop_watch_udp(h->loop, u, FA_TCP_EV_READABLE, on_datagram, e);
    }
    if (err) {
        fprintf(stderr, "finack-echo: port %ld: %s\n", port, strerror(-err));
        return -1;
    }
    printf("echo on %s%s%s port %ld\n", tcp ? "TCP" : "", tcp && udp ? " and " : "",
           udp ? "UDP" : "", port);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        HOST_LONGOPTS, { "port", required_argument, 0, 'p' },
        { "no-udp", no_argument, 0, 'U' }, { "no-tcp", no_argument, 0, 'T' },
        { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct host_options o;
    host_options_init(&o);
    long port = 7;
    int tcp = 1, udp = 1, quiet = 0, ch, idx;
    while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        char *end;
        if (ch == 'h') {
            usage(stdout);
            return 0;
        } else if (ch == 'p') {
            port = strtol(optarg, &end, 10);
            if (*end || port < 1 || port > 65535) {
                fprintf(stderr, "finack-echo: bad --port '%s'\n", optarg);
                return 2;
            }
        } else if (ch == 'q') {
            quiet = 1;
        } else if (ch == 'U' || ch == 'T') {
            *(ch == 'U' ? &udp : &tcp) = 0;
        } else if (ch != 0 || host_option(&o, longopts[idx].name, optarg) <= 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (!tcp && !udp)) {
        fprintf(stderr, "finack-echo: %s (see --help)\n",
                optind != argc ? "unexpected argument" : "--no-tcp and --no-udp leave nothing");
        return 2;
    }
    static struct host h;
    struct echo e = { .quiet = quiet };
    int status = 1;
    if (host_start(&h, &o, "finack-echo") == 0) {
        e.h = &h;
        e.loop = h.loop;
        if (serve(&h, &e, port, tcp, udp) == 0)
            status = host_exit_status(host_run(&h, &o, NULL, NULL));
        printf("finack-echo: stopped; %u connection%s closed at exit\n", e.open,
               e.open == 1 ? " was" : "s were");
        host_print_counters(&h, stdout); /* as finack-host and finack-httpd */
    }
    while (e.conns) {
        struct echo_conn *next = e.conns->next;
        free(e.conns);
        e.conns = next;
    }
    host_close(&h);
    return status;
}
