/* finack-httpd — a static file server on finack: HTTP/1.1 with keep-alive
 * and Content-Length, GET and HEAD, files of any size (mapped and sent
 * straight from the mapping as send space opens), many connections at
 * once, each a callback on the run loop (finack/loop.h).
 *
 *   finack-httpd --tap fa0 --addr 198.18.0.2/24 --root DIR [--port 80]
 *
 * "/" and directories serve their index.html; no listings. A request head
 * is at most 8 KiB; pipelined requests are answered in order. Idle
 * connections are closed after --idle-timeout. On SIGINT/SIGTERM every
 * connection is closed properly before exit. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "http.h"

struct httpd {
    struct host *h;
    struct fa_loop *loop;
    int root;
    fa_time idle_timeout;
    int access_log;
    struct hconn *conns; /* every open connection (idle scan, exit) */
    unsigned open;
    uint64_t requests, responses[6]; /* by class: 1xx..5xx */
};

struct hconn {
    struct httpd *srv;
    struct hconn *prev, *next;
    struct fa_tcp *sock;
    fa_time last_active;
    uint64_t discard;        /* request body bytes still to skip */
    int keep_alive, close_after, sending, peer_done;
    char head[2048];         /* the response head (and a small body) */
    char text[64];           /* the body of an error response */
    size_t head_len, head_off;
    const uint8_t *body;     /* the file's mapping, or a static text */
    size_t body_len, body_off;
    int body_mapped;
    size_t req_len;
    char req[HTTP_MAX_HEAD]; /* request bytes not yet answered */
};

static void body_release(struct hconn *c)
{
    if (c->body_mapped)
        munmap((void *)c->body, c->body_len);
    c->body = NULL;
    c->body_len = c->body_off = 0;
    c->body_mapped = 0;
}

static void conn_free(struct hconn *c, fa_time now)
{
    struct httpd *s = c->srv;
    body_release(c);
    if (c->sock)
        fa_loop_close_tcp(s->loop, c->sock, now);
    *(c->prev ? &c->prev->next : &s->conns) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->open--;
    free(c);
}

/* Starts a response: its head, then the body (unless HEAD); a mapped
 * body is unmapped once sent. */
static void respond(struct hconn *c, int status, const uint8_t *body, size_t len,
                    int mapped, const char *type, const char *allow, int head_only)
{
    struct httpd *s = c->srv;
    c->head_len = http_response_head(c->head, sizeof c->head, status, len, type,
                                     c->keep_alive, allow, time(NULL));
    c->head_off = 0;
    c->body = body;
    c->body_len = len;
    c->body_mapped = mapped;
    /* A small body rides in the head's segment: a response is then one
     * segment, not a head the peer must ACK before the body may go. */
    if (!head_only && c->head_len && len <= sizeof c->head - c->head_len) {
        if (len)
            memcpy(c->head + c->head_len, body, len);
        c->head_len += len;
        head_only = 1;
    }
    if (head_only)
        body_release(c);
    c->sending = 1;
    c->close_after = !c->keep_alive;
    s->responses[status / 100]++;
}

/* A short text body saying what the status means. */
static void respond_status(struct hconn *c, int status, const char *allow, int head_only)
{
    size_t n = (size_t)snprintf(c->text, sizeof c->text, "%d %s\n", status, http_reason(status));
    respond(c, status, (const uint8_t *)c->text, n, 0, "text/plain; charset=utf-8", allow,
            head_only);
}

static void respond_error(struct hconn *c, int status)
{
    c->keep_alive = 0; /* after a refusal the stream may be out of step */
    respond_status(c, status, NULL, 0);
}

/* Opens the file a path names (an index.html for a directory) and maps
 * it. Returns 0, or the status to answer. */
static int open_file(struct httpd *s, const char *path, const uint8_t **map, size_t *len,
                     const char **type)
{
    char rel[HTTP_MAX_PATH + 16];
    const char *p = path + strspn(path, "/"); /* relative to the root */
    snprintf(rel, sizeof rel, "%s", *p ? p : ".");
    int fd = openat(s->root, rel, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(rel);
        snprintf(rel + n, sizeof rel - n, "%sindex.html", rel[n - 1] == '/' ? "" : "/");
        close(fd);
        fd = openat(s->root, rel, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) < 0)
            st.st_mode = 0;
    } else if (fd >= 0 && fstat(fd, &st) < 0) {
        st.st_mode = 0;
    }
    if (fd < 0)
        return errno == EACCES ? 403 : 404;
    int status = 0;
    *map = NULL;
    *len = 0;
    if (!S_ISREG(st.st_mode)) {
        status = 404;
    } else if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            status = 500;
        else {
            *map = m;
            *len = (size_t)st.st_size;
            madvise(m, *len, MADV_SEQUENTIAL);
        }
    }
    close(fd);
    *type = http_content_type(rel);
    return status;
}

static void log_request(struct hconn *c, const struct http_request *r, int status)
{
    struct fa_tcp_info i;
    char a[16];
    fa_tcp_get_info(c->sock, &i);
    printf("%s:%u %s %s %d %zu\n", fa_ipv4_format(i.remote_addr, a), i.remote_port,
           r->method, r->path, status, c->body_len);
    fflush(stdout);
}

/* Answers one parsed request (or a parse refusal). */
static void handle(struct hconn *c, long parsed, const struct http_request *r)
{
    struct httpd *s = c->srv;
    s->requests++;
    if (parsed < 0) {
        respond_error(c, (int)-parsed);
        return;
    }
    c->keep_alive = r->keep_alive;
    c->discard = r->content_length;
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        respond_status(c, 405, "GET, HEAD", 0);
    } else {
        const uint8_t *map;
        const char *type;
        size_t len;
        int status = open_file(s, r->path, &map, &len, &type);
        if (status)
            respond_status(c, status, NULL, r->head_only);
        else
            respond(c, 200, map, len, map != NULL, type, NULL, r->head_only);
        if (s->access_log)
            log_request(c, r, status ? status : 200);
    }
}

/* Sends what fits of the current response; -errno if the peer is gone. */
static int send_response(struct hconn *c, fa_time now)
{
    while (c->head_off < c->head_len) {
        long n = fa_tcp_send(c->sock, c->head + c->head_off, c->head_len - c->head_off, now);
        if (n < 0)
            return n == -EAGAIN ? 0 : (int)n;
        c->head_off += (size_t)n;
    }
    while (c->body_off < c->body_len) {
        long n = fa_tcp_send(c->sock, c->body + c->body_off, c->body_len - c->body_off, now);
        if (n < 0)
            return n == -EAGAIN ? 0 : (int)n;
        c->body_off += (size_t)n;
    }
    body_release(c);
    c->sending = 0;
    return 0;
}

/* Reads request bytes (skipping a body being discarded); -errno, or 1 at
 * the peer's end of stream. */
static int read_requests(struct hconn *c, fa_time now)
{
    while (c->req_len < sizeof c->req) {
        long n = fa_tcp_recv(c->sock, c->req + c->req_len, sizeof c->req - c->req_len, now);
        if (n == -EAGAIN)
            return 0;
        if (n <= 0)
            return n == 0 ? 1 : (int)n;
        c->req_len += (size_t)n;
        c->last_active = now;
        size_t skip = c->discard < c->req_len ? (size_t)c->discard : c->req_len;
        memmove(c->req, c->req + skip, c->req_len - skip);
        c->req_len -= skip;
        c->discard -= skip;
    }
    return 0;
}

/* Answers the next complete request in the buffer, if any. */
static void next_request(struct hconn *c)
{
    struct http_request r;
    long n = http_parse_request(c->req, c->req_len, &r);
    if (n == 0)
        return;
    handle(c, n, &r);
    size_t used = n > 0 ? (size_t)n : c->req_len;
    memmove(c->req, c->req + used, c->req_len - used);
    c->req_len -= used;
    size_t skip = c->discard < c->req_len ? (size_t)c->discard : c->req_len;
    memmove(c->req, c->req + skip, c->req_len - skip);
    c->req_len -= skip;
    c->discard -= skip;
}

/* One callback turn of a connection: finish the response in progress,
 * then read and answer requests until one must wait for send space, the
 * peer has nothing more, or the connection ends. */
static void on_conn(void *ctx, struct fa_tcp *sock, unsigned ev, fa_time now)
{
    struct hconn *c = ctx;
    int err = 0;
    (void)ev;
    for (int round = 0; round < 16 && !err; round++) {
        if (c->sending && ((err = send_response(c, now)) < 0 || c->sending))
            break; /* gone, or waiting for send space */
        if (c->close_after) {
            conn_free(c, now); /* Connection: close, and all of it queued */
            return;
        }
        if (!c->peer_done && (err = read_requests(c, now)) == 1) {
            c->peer_done = 1;
            err = 0;
        }
        if (!err)
            next_request(c);
        if (!c->sending) {
            /* Nothing more to answer now; at the peer's end, no more ever. */
            if (c->peer_done)
                err = -EPIPE;
            break;
        }
    }
    if (err) {
        conn_free(c, now);
        return;
    }
    fa_loop_tcp_interest(c->srv->loop, sock,
                         c->sending ? FA_TCP_EV_WRITABLE : FA_TCP_EV_READABLE);
}

static void on_listener(void *ctx, struct fa_tcp *l, unsigned ev, fa_time now)
{
    struct httpd *s = ctx;
    struct fa_tcp *sock;
    (void)ev;
    while (fa_tcp_accept(l, &sock) == 0) {
        struct hconn *c = host_watch_accepted(s->h, sock, sizeof *c,
                                                offsetof(struct hconn, req), on_conn, now);
        if (!c)
            continue;
        /* Responses end in a partial segment; with keep-alive, Nagle would
         * hold it for the ACK of the previous one (RFC 1122 §4.2.3.4
         * allows turning it off; web servers do). */
        fa_tcp_setopt(sock, FA_TCP_NODELAY, 1);
        c->srv = s;
        c->sock = sock;
        c->last_active = now;
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->open++;
    }
}

/* Once a second: close connections idle (no request, nothing to send)
 * for longer than the idle timeout. */
static fa_time idle_turn(void *ctx, fa_time now)
{
    struct httpd *s = ctx;
    for (struct hconn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (!c->sending && now - c->last_active > s->idle_timeout)
            conn_free(c, now);
    }
    return now + FA_NS_PER_S;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-httpd --tap NAME --addr A/P --root DIR [options]\n"
                 "A static HTTP/1.1 file server on finack.\n\n"
                 HOST_OPTIONS_HELP
                 "  --root DIR        the directory to serve (required)\n"
                 "  --port N          TCP port (default 80)\n"
                 "  --backlog N       connections waiting for accept (default 128)\n"
                 "  --idle-timeout S  close idle keep-alive connections (default 30)\n"
                 "  --access-log      print a line per request\n"
                 "  --help            this text\n");
}

struct httpd_args {
    const char *root;
    long port, backlog;
    double idle;
    int log;
};

static int parse_args(int argc, char **argv, struct httpd_args *a, struct host_options *o)
{
    static const struct option longopts[] = {
        HOST_LONGOPTS, { "root", required_argument, 0, 'r' },
        { "port", required_argument, 0, 'p' }, { "backlog", required_argument, 0, 'b' },
        { "idle-timeout", required_argument, 0, 'i' },
        { "access-log", no_argument, 0, 'l' }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int ch, idx;
    while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        char *end = NULL;
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        } else if (ch == 'r') {
            a->root = optarg;
        } else if (ch == 'p' || ch == 'b') {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 65535) {
                fprintf(stderr, "finack-httpd: bad --%s '%s'\n", ch == 'p' ? "port" : "backlog", optarg);
                return -1;
            }
            *(ch == 'p' ? &a->port : &a->backlog) = v;
        } else if (ch == 'i') {
            a->idle = strtod(optarg, &end);
            if (*end || a->idle <= 0) {
                fprintf(stderr, "finack-httpd: bad --idle-timeout '%s'\n", optarg);
                return -1;
            }
        } else if (ch == 'l') {
            a->log = 1;
        } else if (ch != 0 || host_option(o, longopts[idx].name, optarg) <= 0) {
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc || !a->root) {
        fprintf(stderr, "finack-httpd: %s (see --help)\n",
                optind != argc ? "unexpected argument" : "--root is required");
        return -1;
    }
    return 0;
}

static int serve(struct host *h, struct httpd *s, const struct httpd_args *a)
{
    struct fa_tcp *l;
    fa_time now = h->clock.now(h->clock.ctx);
    int err = fa_tcp_open(h->stack, &l);
    if (!err)
        err = fa_tcp_bind(l, 0, (uint16_t)a->port);
    if (!err)
        err = fa_tcp_listen(l, (int)a->backlog, now);
    if (!err)
        err = fa_loop_watch_tcp(h->loop, l, FA_TCP_EV_ACCEPT, on_listener, s);
    if (!err)
        err = fa_loop_on_turn(h->loop, idle_turn, s);
    if (err) {
        fprintf(stderr, "finack-httpd: port %ld: %s\n", a->port, strerror(-err));
        return -1;
    }
    printf("httpd serving %s on port %ld\n", a->root, a->port);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct host_options o;
    host_options_init(&o);
    struct httpd_args a = { .port = 80, .backlog = 128, .idle = 30 };
    if (parse_args(argc, argv, &a, &o) < 0)
        return 2;
    static struct httpd s;
    s.root = open(a.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s.root < 0) {
        fprintf(stderr, "finack-httpd: cannot open --root %s: %s\n", a.root, strerror(errno));
        return 2;
    }
    s.idle_timeout = (fa_time)(a.idle * 1e9);
    s.access_log = a.log;
    static struct host h;
    int status = 1;
    if (host_start(&h, &o, "finack-httpd") == 0) {
        s.h = &h;
        s.loop = h.loop;
        if (serve(&h, &s, &a) == 0)
            status = host_exit_status(host_run(&h, &o, NULL, NULL));
        printf("finack-httpd: %llu requests: %llu 2xx, %llu 4xx, %llu 5xx; "
               "%u connection%s closed at exit\n",
               (unsigned long long)s.requests, (unsigned long long)s.responses[2],
               (unsigned long long)s.responses[4], (unsigned long long)s.responses[5],
               s.open, s.open == 1 ? " was" : "s were");
        host_print_counters(&h, stdout);
    }
    while (s.conns) {
        struct hconn *next = s.conns->next;
        body_release(s.conns); /* the socket was closed by host_run */
        free(s.conns);
        s.conns = next;
    }
    host_close(&h);
    close(s.root);
    return status;
}
