/* preload_cprog.c — an ordinary C socket program for tests/kernel/preload.sh,
 * run unmodified under finack-run (it knows nothing of finack).
 *
 *   preload_cprog small ADDR PORT   SO_SNDBUF/SO_RCVBUF set small and read
 *                                   back; 9000 bytes written 3 at a time
 *   preload_cprog bytes ADDR PORT   1000 single-byte writes, then close
 *   preload_cprog noread ADDR PORT  serve one connection, close it unread
 *   preload_cprog eintr ADDR PORT   a blocking accept() interrupted by a
 *                                   signal: EINTR without SA_RESTART; with
 *                                   it, accept() goes on and takes the
 *                                   connection that comes; a blocking
 *                                   connect() to nobody with SO_SNDTIMEO
 *                                   1 s: EINTR at the first SA_RESTART
 *                                   signal (Linux restarts no call with
 *                                   a timeout), EINPROGRESS after 1 s
 *                                   without signals
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int die(const char *what)
{
    perror(what);
    exit(1);
}

static int dial(const char *addr, int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, addr, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    return fd;
}

static void go(int fd, const char *addr, int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, addr, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            die("write");
        p += w;
        n -= (size_t)w;
    }
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* SIGALRM every ms milliseconds (0: off), restarting calls or not. */
static void ticker(int ms, int restart)
{
    struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, ms * 1000 }, { 0, ms * 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int eintr(const char *addr, int port)
{
    int l = dial(addr, port);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0)
        die("listen");
    ticker(100, 0);
    int c = accept(l, NULL, NULL);
    printf("accept without SA_RESTART: %s\n", c < 0 && errno == EINTR ? "EINTR" : "not EINTR");
    ticker(50, 1);
    printf("listening\n");
    fflush(stdout);
    c = accept(l, NULL, NULL); /* the test's client comes after some alarms */
    printf("accept with SA_RESTART: %s after %s alarms\n", c >= 0 ? "accepted" : strerror(errno),
           alarms > 3 ? "several" : "few");
    fflush(stdout);
    /* A socket with a send timeout: Linux does not restart its connect
     * after a handler (signal(7)), SA_RESTART or not; without signals,
     * the timeout ends it with EINPROGRESS. */
    struct sockaddr_in nobody = { .sin_family = AF_INET, .sin_port = htons(80) };
    inet_pton(AF_INET, "198.18.0.77", &nobody.sin_addr);
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            ticker(0, 1);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = { 1, 0 };
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        double t0 = now_s();
        int r = connect(s, (struct sockaddr *)&nobody, sizeof nobody);
        double dt = now_s() - t0;
        printf("connect with SO_SNDTIMEO 1 s, %s: %s after %s\n",
               round ? "no signals" : "SA_RESTART signals", r < 0 ? strerror(errno) : "connected",
               dt < 0.5 ? "less than 0.5 s" : dt < 3 ? "about 1 s" : "too long");
        close(s);
    }
    ticker(0, 1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    int port = atoi(argv[3]);
    if (!strcmp(argv[1], "small")) {
        int fd = dial(argv[2], port), v = 1000, snd, rcv;
        socklen_t len = sizeof snd;
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 2048 }, sizeof v) < 0)
            die("setsockopt");
        getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &len);
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len);
        go(fd, argv[2], port);
        for (int i = 0; i < 3000; i++)
            write_all(fd, "abcdefghi" + (i % 3) * 3, 3);
        close(fd);
        printf("sndbuf %d rcvbuf %d 3\n", snd, rcv);
    } else if (!strcmp(argv[1], "bytes")) {
        int fd = dial(argv[2], port);
        go(fd, argv[2], port);
        for (int i = 0; i < 1000; i++) {
            char c = (char)(i % 251);
            write_all(fd, &c, 1);
        }
        close(fd);
    } else if (!strcmp(argv[1], "noread")) {
        int l = dial(argv[2], port);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
        if (bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0)
            die("listen");
        printf("listening\n");
        fflush(stdout);
        int c = accept(l, NULL, NULL);
        if (c < 0)
            die("accept");
        char b;
        /* Wait until the client's bytes are here, without reading them. */
        if (recv(c, &b, 1, MSG_PEEK) != 1)
            die("peek");
        close(c);
        close(l);
    } else if (!strcmp(argv[1], "eintr")) {
        return eintr(argv[2], port);
    } else {
        return 2;
    }
    return 0;
}
