/* finackd — one finack stack on a TAP device, shared by unmodified
 * programs: they attach over a Unix socket (through libfinack-preload.so,
 * see finack-run) and every AF_INET stream socket they open lives here.
 * Because the sockets belong to the daemon, not to the programs, they are
 * closed properly when a program exits or is killed (spec L22), and
 * programs sharing the address share one port space (EADDRINUSE).
 *
 *   finackd --tap fa0 --addr 198.18.0.2/24 [--control PATH] [--stat PATH]
 *
 * This file: options, the control socket, attachments and their
 * requests (proto.h). The sockets themselves are dsock.c. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include "../host.h"
#include "dsock.h"

struct attach {
    enum dwatch_kind kind; /* DW_ATTACH */
    struct attach *prev, *next;
    int fd;
    pid_t pid;
};

struct daemon {
    struct host *h;
    int epfd, lfd;
    int spare; /* held for accepting, then refusing, an attachment at EMFILE */
    const char *path;
    uint64_t instance;
    struct dsock_table *socks;
    struct attach *attached;
    enum dwatch_kind listen_tag; /* the control socket's epoll entry */
};

static int control_open(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "finackd: control path too long: %s\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct stat st;
    /* A socket left by a finackd that died; a live one would answer. */
    if (fd >= 0 && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
            fprintf(stderr, "finackd: another finackd serves %s\n", path);
            close(probe);
            close(fd);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0666) < 0 ||
        listen(fd, 128) < 0) {
        fprintf(stderr, "finackd: control socket %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void attach_end(struct daemon *d, struct attach *a)
{
    *(a->prev ? &a->prev->next : &d->attached) = a->next;
    if (a->next)
        a->next->prev = a->prev;
    close(a->fd);
    free(a);
}

/* Out of descriptors, a program that attaches would wait forever for an
 * answer (and the control socket would stay readable, spinning the
 * loop): the spare descriptor makes room to accept it and hang up. */
static void refuse_one(struct daemon *d)
{
    if (d->spare < 0)
        return;
    close(d->spare);
    int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    d->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fprintf(stderr, "finackd: out of descriptors: a program was refused\n");
}

static void attach_new(struct daemon *d)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE))
            refuse_one(d);
        if (fd < 0)
            return;
        struct ucred cred = { 0 };
        socklen_t len = sizeof cred;
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
        struct attach *a = calloc(1, sizeof *a);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = a };
        if (!a || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            free(a);
            close(fd);
            continue;
        }
        *a = (struct attach){ .kind = DW_ATTACH, .next = d->attached, .fd = fd,
                              .pid = cred.pid };
        if (d->attached)
            d->attached->prev = a;
        d->attached = a;
    }
}

/* One answer, with a descriptor when fd >= 0. */
static int reply(int to, const struct fad_rep *rep, int fd)
{
    struct iovec iov = { .iov_base = (void *)rep, .iov_len = sizeof *rep };
    union fad_fd_space c;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    fad_put_fd(&m, &c, fd);
    return sendmsg(to, &m, MSG_NOSIGNAL) == (ssize_t)sizeof *rep ? 0 : -1;
}

/* A request about a socket finackd has let go of (its connection ended
 * both ways, or failed) while the program still holds the descriptor:
 * answered as the kernel answers for a closed socket. */
static void gone(struct daemon *d, const struct fad_req *q, struct fad_rep *r)
{
    int v6 = 0;
    int known = dsock_tomb(d->socks, q->id, &r->addr, &r->port, &v6) == 0;
    r->ret = -ENOTCONN;
    if (q->op == FAD_NAME && q->a == 0 && known) {
        r->ret = 0;
    } else if (q->op == FAD_GETOPT && q->a == SOL_SOCKET && q->b == SO_DOMAIN) {
        r->ret = 0;
        r->val = v6 ? AF_INET6 : AF_INET;
    } else if (q->op == FAD_GETOPT && q->a == SOL_SOCKET && q->b == SO_ERROR) {
        r->ret = 0;
    } else if (q->op == FAD_INFO) {
        r->ret = 0;
        r->info.state = 7; /* TCP_CLOSE */
    } else if (q->op == FAD_STATE) {
        r->ret = 0;
        r->val = FAD_ST_CONNECTED; /* it was: connect() says EISCONN */
    }
}

/* A request about a UDP socket. */
static void serve_udp(struct daemon *d, struct dsock *s, const struct fad_req *q,
                      struct fad_rep *r, fa_time now)
{
    dsock_udp_flush(d->socks, s, now); /* datagrams sent before the request */
    switch (q->op) {
    case FAD_BIND:
        r->ret = dsock_udp_bind(s, q->addr, q->port);
        return;
    case FAD_CONNECT:
        r->ret = dsock_udp_connect(s, q->addr, q->port);
        return;
    case FAD_NAME:
        r->ret = dsock_udp_name(s, q->a, &r->addr, &r->port);
        return;
    case FAD_SETOPT:
    case FAD_GETOPT:
        /* Linux's UDP takes no IPPROTO_TCP options: ENOPROTOOPT. */
        if (q->a == IPPROTO_TCP)
            r->ret = -ENOPROTOOPT;
        else if (q->op == FAD_SETOPT)
            r->ret = dsock_setopt(s, q->a, q->b, q->val);
        else
            r->ret = dsock_getopt(s, q->a, q->b, &r->val);
        return;
    case FAD_STATE:
        r->val = s->st;
        r->a = s->err;
        return;
    case FAD_SHUTDOWN: /* the kernel does it on the descriptor, if connected */
        r->ret = s->peer_addr ? 0 : -ENOTCONN;
        return;
    case FAD_CLOSE:
        dsock_closed(d->socks, s, now);
        return;
    case FAD_INFO:
        r->ret = -EOPNOTSUPP;
        return;
    }
    r->ret = -EOPNOTSUPP; /* listen, accept on a datagram socket */
}

/* Carries out one request; *fd is set when the answer carries one.
 * proof is the descriptor the request came with (-1: none). */
static void serve(struct daemon *d, struct attach *a, const struct fad_req *q, int proof,
                  struct fad_rep *r, int *fd, fa_time now)
{
    struct dsock *s = NULL, *n;
    if (q->op != FAD_HELLO && q->op != FAD_SOCKET && !(s = dsock_find(d->socks, q->id))) {
        gone(d, q, r);
        return;
    }
    /* Whoever holds the descriptor may use the socket (proto.h). A
     * close is only a hint to look: it needs none (it is gone). */
    if (s && q->op != FAD_CLOSE && !dsock_held(s, proof)) {
        r->ret = -EPERM;
        return;
    }
    if (s && s->udp) {
        serve_udp(d, s, q, r, now);
        return;
    }
    switch (q->op) {
    case FAD_HELLO:
        r->ret = FAD_VERSION;
        r->val = (int64_t)d->instance;
        /* The largest UDP payload: finack neither fragments nor reassembles. */
        r->a = fa_stack_config(d->h->stack)->mtu - 20 - 8; /* IPv4, UDP headers */
        return;
    case FAD_SOCKET:
        if (q->a & FAD_SOCK_UDP)
            r->ret = dsock_udp_new(d->socks, a->pid, q->a & FAD_SOCK_V6, &n, fd);
        else
            r->ret = dsock_new(d->socks, a->pid, q->a & FAD_SOCK_V6, &n, fd);
        if (!r->ret)
            r->id = n->id;
        return;
    case FAD_BIND:
        r->ret = dsock_bind(d->socks, s, q->addr, q->port);
        return;
    case FAD_LISTEN:
        r->ret = dsock_listen(d->socks, s, q->a, now);
        return;
    case FAD_CONNECT:
        r->ret = dsock_connect(d->socks, s, q->addr, q->port, (long)q->val, now);
        return;
    case FAD_ACCEPT:
        r->ret = dsock_accept(d->socks, s, a->pid, &n, fd, now);
        if (!r->ret) {
            r->id = n->id;
            dsock_name(n, 1, &r->addr, &r->port);
        }
        return;
    case FAD_NAME:
        r->ret = dsock_name(s, q->a, &r->addr, &r->port);
        return;
    case FAD_SETOPT:
        r->ret = dsock_setopt(s, q->a, q->b, q->val);
        return;
    case FAD_GETOPT:
        r->ret = dsock_getopt(s, q->a, q->b, &r->val);
        return;
    case FAD_INFO:
        dsock_info(s, &r->info);
        return;
    case FAD_STATE:
        r->val = s->st;
        r->a = s->err;
        return;
    case FAD_SHUTDOWN:
        r->ret = dsock_shutdown(d->socks, s, q->a, now);
        return;
    case FAD_UNFILL:
        dsock_unfill(s, (long)q->val);
        return;
    case FAD_CLOSE:
        dsock_closed(d->socks, s, now);
        return;
    case FAD_RECV_END:
        r->val = dsock_recv_end(s);
        return;
    }
    r->ret = -EINVAL;
}

/* One request and the descriptor it carries (-1: none). */
static ssize_t receive(int from, struct fad_req *q, int *proof)
{
    union fad_fd_space c;
    struct iovec iov = { .iov_base = q, .iov_len = sizeof *q };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
                        .msg_controllen = sizeof c.buf };
    ssize_t n = recvmsg(from, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    *proof = n > 0 ? fad_get_fd(&m) : -1;
    return n;
}

static void attach_input(struct daemon *d, struct attach *a, fa_time now)
{
    for (int i = 0; i < 64; i++) {
        struct fad_req q;
        int proof;
        ssize_t n = receive(a->fd, &q, &proof);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n != (ssize_t)sizeof q) { /* gone, or not speaking proto.h */
            if (proof >= 0)
                close(proof);
            attach_end(d, a);
            return;
        }
        struct fad_rep r = { .id = q.id };
        int fd = -1;
        serve(d, a, &q, proof, &r, &fd, now);
        if (proof >= 0)
            close(proof);
        int sent = reply(a->fd, &r, fd);
        if (fd >= 0)
            close(fd);
        if (sent < 0) {
            attach_end(d, a);
            return;
        }
    }
}

static void on_epoll(void *ctx, int fd, fa_time now)
{
    struct daemon *d = ctx;
    struct epoll_event ev[64];
    int n = epoll_wait(fd, ev, 64, 0);
    for (int i = 0; i < n; i++) {
        enum dwatch_kind *kind = ev[i].data.ptr;
        if (kind == &d->listen_tag)
            attach_new(d);
        else if (*kind == DW_ATTACH)
            attach_input(d, (struct attach *)kind, now);
        else
            dsock_on_epoll(d->socks, (struct dsock *)kind, ev[i].events, now);
    }
    dsock_reap(d->socks);
}

/* At exit: every socket is closed as for a process that exits. */
static fa_time on_turn(void *ctx, fa_time now)
{
    struct daemon *d = ctx;
    fa_time next = FA_TIME_NEVER;
    if (d->socks) {
        next = dsock_udp_turn(d->socks, now);
        dsock_reap(d->socks); /* let go of in TCP callbacks */
    }
    if (host_stop && d->socks) {
        fa_loop_unwatch_fd(d->h->loop, d->epfd);
        dsock_table_destroy(d->socks, now);
        d->socks = NULL;
        while (d->attached)
            attach_end(d, d->attached);
        next = FA_TIME_NEVER;
    }
    return next;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: finackd --tap NAME --addr A/P [options]\n"
                 "The finack stack as a service for unmodified programs (run them\n"
                 "with finack-run).\n\n" HOST_OPTIONS_HELP
                 "  --control PATH    where programs attach (default $FINACK_CONTROL,\n"
                 "                    else " FAD_DEFAULT_CONTROL ")\n"
                 "  --max-conns N     TCP sockets and connections of all programs\n"
                 "                    together (default 16384; UDP sockets: 1024)\n"
                 "  --help            this text\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        HOST_LONGOPTS, { "control", required_argument, 0, 'c' },
        { "max-conns", required_argument, 0, 'm' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct host_options o;
    host_options_init(&o);
    struct daemon d = { .path = getenv("FINACK_CONTROL"), .epfd = -1, .lfd = -1, .spare = -1 };
    if (!d.path || !*d.path)
        d.path = FAD_DEFAULT_CONTROL;
    int ch, idx;
    uint32_t max_conns = 16384;
    while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 0;
        } else if (ch == 'c') {
            d.path = optarg;
        } else if (ch == 'm') {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 16 || n > 65536) {
                fprintf(stderr, "finackd: bad --max-conns '%s' (16..65536)\n", optarg);
                return 2;
            }
            max_conns = (uint32_t)n;
        } else if (ch != 0 || host_option(&o, longopts[idx].name, optarg) <= 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "finackd: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    /* Each socket is two descriptors here, each program one more: the
     * soft limit (often 1024) would cut tcp_max_conns short. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    d.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* Programs share the stack: more UDP sockets than one program would
     * need, and room for their bursts to each other (loopback). */
    o.cfg.udp_max_sockets = 1024;
    o.cfg.loopback_queue = 1024;
    o.cfg.tcp_max_conns = max_conns;
    /* Bound before "up" is printed: whoever waits for it can attach. */
    d.lfd = control_open(d.path);
    if (d.lfd < 0)
        return 1;
    if (getrandom(&d.instance, sizeof d.instance, 0) != sizeof d.instance)
        d.instance = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
    static struct host h;
    int status = 1;
    d.h = &h;
    d.epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d.listen_tag };
    if (d.epfd < 0 || epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.lfd, &ev) < 0) {
        fprintf(stderr, "finackd: epoll: %s\n", strerror(errno));
    } else if (host_start(&h, &o, "finackd") == 0) {
        const struct fa_config *cfg = fa_stack_config(h.stack);
        d.socks = dsock_table_create(h.stack, h.loop, d.epfd, d.instance,
                                     cfg->tcp_max_conns + cfg->udp_max_sockets);
        if (!d.socks || fa_loop_watch_fd(h.loop, d.epfd, on_epoll, &d) < 0) {
            fprintf(stderr, "finackd: out of memory\n");
        } else {
            printf("finackd: programs attach at %s\n", d.path);
            fflush(stdout);
            status = host_exit_status(host_run(&h, &o, on_turn, &d));
        }
        host_stop = 1; /* if the loop failed first */
        on_turn(&d, h.clock.now(h.clock.ctx));
        host_close(&h);
    }
    close(d.lfd);
    unlink(d.path);
    if (d.epfd >= 0)
        close(d.epfd);
    return status;
}
