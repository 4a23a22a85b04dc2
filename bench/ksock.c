/* ksock — the kernel's side of the bulk benchmarks: a plain socket
 * program that sends or receives N bytes and prints Gbit/s, timed from
 * the connection's start to the peer's end of stream.
 *
 *   ksock recv ADDR PORT          listen, receive to EOF, close
 *   ksock send ADDR PORT BYTES    connect, send, shut down, wait for EOF */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int main(int argc, char **argv)
{
    static char buf[1 << 20];
    struct sockaddr_in sa;
    if (argc < 4 || sock_addr(argv[2], argv[3], &sa) < 0) {
        fprintf(stderr, "usage: ksock recv|send ADDR PORT [BYTES]\n");
        return 2;
    }
    if (!strcmp(argv[1], "recv")) {
        int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0) {
            perror("ksock: listen");
            return 1;
        }
        printf("listening\n");
        fflush(stdout);
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
