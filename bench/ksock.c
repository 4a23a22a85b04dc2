/* ksock — a plain socket program for the benchmarks: the kernel's side
 * of them, and (under finack-run, bench/preload.sh) a program on finackd.
 * Bulk modes print Gbit/s, timed from the connection's start to the
 * peer's end of stream; ping prints the median round trip.
 *
 *   ksock recv ADDR PORT          listen, receive to EOF, close
 *   ksock send ADDR PORT BYTES    connect, send, shut down, wait for EOF
 *   ksock echo ADDR PORT          listen, echo one connection to EOF
 *   ksock echod ADDR PORT         listen, echo each connection in turn to
 *                                 EOF and close it (crr's reference server)
 *   ksock ping ADDR PORT COUNT    connect, COUNT 64-byte round trips
 *   ksock uping ADDR PORT COUNT   the same in UDP datagrams (to a reflector)
 *   ksock crr ADDR PORT SECONDS [N]
 *                                 for SECONDS: connect, 64 bytes each way,
 *                                 close (the server's echo closes too);
 *                                 prints cycles per second, each second's
 *                                 rate, the median and p99 cycle, and the
 *                                 median time in each call (connect: the
 *                                 SYN's round trip; read: the echo's;
 *                                 close: sending the FIN, which wakes the
 *                                 server). With N > 1, N cycles run at once (one
 *                                 thread, epoll): the server's capacity
 *                                 rather than one cycle's latency */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sock_addr(const char *addr, const char *port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)atoi(port));
    return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -1;
}

static int listen_on(const struct sockaddr_in *sa)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (const struct sockaddr *)sa, sizeof *sa) < 0 || listen(l, 128) < 0) {
        perror("ksock: listen");
        exit(1);
    }
    printf("listening\n");
    fflush(stdout);
    return l;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads exactly n bytes; 0 at a short end. */
static int read_full(int fd, char *p, size_t n)
{
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return 0;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

static int echo(const struct sockaddr_in *sa, char *buf, size_t cap)
{
    int l = listen_on(sa), one = 1;
    int c = accept(l, NULL, NULL);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssize_t r;
    while ((r = recv(c, buf, cap, 0)) > 0)
        if (send(c, buf, (size_t)r, 0) != r)
            return 1;
    close(c);
    return r < 0;
}

static int echod(const struct sockaddr_in *sa, char *buf, size_t cap)
{
    int l = listen_on(sa), one = 1;
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            return 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ssize_t r;
        while ((r = recv(c, buf, cap, 0)) > 0)
            if (send(c, buf, (size_t)r, 0) != r)
                break;
        close(c);
    }
}

static int ping(const struct sockaddr_in *sa, long count, int udp)
{
    int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;
    struct timeval tv = { 1, 0 };
    if (udp)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        perror("ksock: connect");
        return 1;
    }
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    double *rtt = calloc((size_t)count, sizeof *rtt);
    char msg[64];
    memset(msg, 'p', sizeof msg);
    for (long i = 0; i < count; i++) {
        double t0 = now_s();
        if (send(s, msg, sizeof msg, 0) != (ssize_t)sizeof msg || !read_full(s, msg, sizeof msg)) {
            fprintf(stderr, "ksock: ping: connection ended\n");
            return 1;
        }
        rtt[i] = (now_s() - t0) * 1e6;
    }
    close(s);
    qsort(rtt, (size_t)count, sizeof *rtt, cmp_double);
    printf("%s %ld round trips: median %.1f us p99 %.1f us\n", udp ? "uping" : "ping", count,
           rtt[count / 2],
           rtt[count * 99 / 100]);
    free(rtt);
    return 0;
}

/* Connection cycles against an echo server for a number of seconds. The
 * client closes first and so holds the TIME-WAIT: SO_LINGER 0 would
 * reset instead, so the namespace's tcp_tw_reuse lets ports come back. */
static int crr(const struct sockaddr_in *sa, double seconds)
{
    enum { MAX_SECONDS = 60, MAX_CYCLES = 1 << 22 };
    enum { SOCKET, CONNECT, SEND, READ, CLOSE, NCALLS };
    static const char *const call_name[NCALLS] = { "socket", "connect", "send", "read", "close" };
    static double cyc[MAX_CYCLES], call[NCALLS][MAX_CYCLES];
    long n = 0, per_s[MAX_SECONDS] = { 0 };
    char msg[64];
    memset(msg, 'c', sizeof msg);
    double start = now_s(), end = start + (seconds < MAX_SECONDS ? seconds : MAX_SECONDS);
    for (double t0 = start; t0 < end && n < MAX_CYCLES; t0 = now_s()) {
        double t[NCALLS + 1];
        t[0] = t0;
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        t[1] = now_s();
        if (connect(s, (const struct sockaddr *)sa, sizeof *sa) < 0) {
            perror("ksock: crr: connect");
            return 1;
        }
        t[2] = now_s();
        int sent = send(s, msg, sizeof msg, 0) == (ssize_t)sizeof msg;
        t[3] = now_s();
        if (!sent || !read_full(s, msg, sizeof msg)) {
            fprintf(stderr, "ksock: crr: connection ended early\n");
            return 1;
        }
        t[4] = now_s();
        close(s);
        t[5] = now_s();
        for (int c = 0; c < NCALLS; c++)
            call[c][n] = (t[c + 1] - t[c]) * 1e6;
        cyc[n++] = (t[NCALLS] - t0) * 1e6;
        per_s[(int)(t0 - start)]++;
    }
    double dt = now_s() - start;
    printf("crr %ld cycles in %.2f s: %.0f per s; per second:", n, dt, n / dt);
    for (int i = 0; i < (int)dt && i < MAX_SECONDS; i++)
        printf(" %ld", per_s[i]);
    qsort(cyc, (size_t)n, sizeof *cyc, cmp_double);
    printf("; cycle median %.1f us p99 %.1f us; call medians us:", cyc[n / 2], cyc[n * 99 / 100]);
    for (int c = 0; c < NCALLS; c++) {
        qsort(call[c], (size_t)n, sizeof call[c][0], cmp_double);
        printf(" %s %.1f", call_name[c], call[c][n / 2]);
    }
    printf("\n");
    return 0;
}

/* One of pcrr's cycles: its socket and where it is. */
struct cycle {
    int fd;
    int sent;
    size_t got;
    double t0;
};

static int cycle_start(int ep, const struct sockaddr_in *sa, struct cycle *c)
{
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->sent = 0;
    c->got = 0;
    c->t0 = now_s();
    if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS)
        return -1;
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
    return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Moves cycle c on after an event: 1 when it is done, 0 to wait, -1 on
 * an error. */
static int cycle_step(int ep, struct cycle *c)
{
    char msg[64];
    if (!c->sent) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err)
            return -1;
        memset(msg, 'c', sizeof msg);
        if (send(c->fd, msg, sizeof msg, 0) != (ssize_t)sizeof msg)
            return -1;
        c->sent = 1;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        return 0;
    }
    ssize_t r = recv(c->fd, msg, sizeof msg - c->got, 0);
    if (r < 0 && errno == EAGAIN)
        return 0;
    if (r <= 0)
        return -1;
    c->got += (size_t)r;
    return c->got == sizeof msg;
}

static int pcrr(const struct sockaddr_in *sa, double seconds, int n_par)
{
    enum { MAX_SECONDS = 60, MAX_PAR = 256 };
    static double cyc[1 << 22];
    static struct cycle cs[MAX_PAR];
    long n = 0, per_s[MAX_SECONDS] = { 0 };
    if (n_par > MAX_PAR)
        n_par = MAX_PAR;
    int ep = epoll_create1(0);
    double start = now_s(), end = start + (seconds < MAX_SECONDS ? seconds : MAX_SECONDS);
    for (int i = 0; i < n_par; i++)
        if (cycle_start(ep, sa, &cs[i]) < 0) {
            perror("ksock: crr: connect");
            return 1;
        }
    int live = n_par;
    while (live > 0) {
        struct epoll_event evs[MAX_PAR];
        int k = epoll_wait(ep, evs, MAX_PAR, 2000);
        if (k <= 0) {
            fprintf(stderr, "ksock: crr: no progress in 2 s\n");
            return 1;
        }
        double t = now_s();
        for (int i = 0; i < k; i++) {
            struct cycle *c = evs[i].data.ptr;
            int rc = cycle_step(ep, c);
            if (rc < 0) {
                fprintf(stderr, "ksock: crr: connection ended early\n");
                return 1;
            }
            if (!rc)
                continue;
            close(c->fd); /* (closing takes it out of the epoll set) */
            if (n < (long)(sizeof cyc / sizeof cyc[0]))
                cyc[n++] = (t - c->t0) * 1e6;
            if (c->t0 - start < MAX_SECONDS)
                per_s[(int)(c->t0 - start)]++;
            if (t >= end || n == (long)(sizeof cyc / sizeof cyc[0]))
                live--;
            else if (cycle_start(ep, sa, c) < 0) {
                perror("ksock: crr: connect");
                return 1;
            }
        }
    }
    double dt = now_s() - start;
    printf("crr %ld cycles (%d at once) in %.2f s: %.0f per s; per second:", n, n_par, dt, n / dt);
    for (int i = 0; i < (int)dt && i < MAX_SECONDS; i++)
        printf(" %ld", per_s[i]);
    qsort(cyc, (size_t)n, sizeof *cyc, cmp_double);
    printf("; cycle median %.1f us p99 %.1f us\n", cyc[n / 2], cyc[n * 99 / 100]);
    close(ep);
    return 0;
}

int main(int argc, char **argv)
{
    static char buf[1 << 20];
    struct sockaddr_in sa;
    if (argc < 4 || sock_addr(argv[2], argv[3], &sa) < 0) {
        fprintf(stderr, "usage: ksock recv|send|echo|echod|ping|uping|crr ADDR PORT [BYTES|COUNT|SECONDS]\n");
        return 2;
    }
    if (!strcmp(argv[1], "echo"))
        return echo(&sa, buf, sizeof buf);
    if (!strcmp(argv[1], "echod"))
        return echod(&sa, buf, sizeof buf);
    if (!strcmp(argv[1], "crr")) {
        double secs = argc > 4 && atof(argv[4]) > 0 ? atof(argv[4]) : 5;
        int par = argc > 5 ? atoi(argv[5]) : 1;
        return par > 1 ? pcrr(&sa, secs, par) : crr(&sa, secs);
    }
    if (!strcmp(argv[1], "ping"))
        return ping(&sa, argc > 4 && atol(argv[4]) > 0 ? atol(argv[4]) : 10000, 0);
    if (!strcmp(argv[1], "uping"))
        return ping(&sa, argc > 4 && atol(argv[4]) > 0 ? atol(argv[4]) : 10000, 1);
    if (!strcmp(argv[1], "recv")) {
        int l = listen_on(&sa);
        int c = accept(l, NULL, NULL);
        double t0 = now_s();
        long long n = 0;
        ssize_t r;
        while ((r = recv(c, buf, sizeof buf, 0)) > 0)
            n += r;
        double dt = now_s() - t0;
        close(c);
        printf("received %lld bytes in %.3f s: %.2f Gbit/s\n", n, dt, n * 8 / dt / 1e9);
        return r < 0;
    }
    long long total = argc > 4 ? atoll(argv[4]) : 0, sent = 0;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    memset(buf, 'x', sizeof buf);
    double t0 = now_s();
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("ksock: connect");
        return 1;
    }
    while (sent < total) {
        size_t want = total - sent < (long long)sizeof buf ? (size_t)(total - sent) : sizeof buf;
        ssize_t r = send(s, buf, want, 0);
        if (r < 0) {
            perror("ksock: send");
            return 1;
        }
        sent += r;
    }
    shutdown(s, SHUT_WR);
    while (recv(s, buf, sizeof buf, 0) > 0)
        ;
    double dt = now_s() - t0;
    printf("sent %lld bytes in %.3f s: %.2f Gbit/s\n", sent, dt, sent * 8 / dt / 1e9);
    return 0;
}
