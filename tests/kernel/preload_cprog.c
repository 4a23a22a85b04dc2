/* preload_cprog.c — an ordinary C socket program for tests/kernel/preload.sh,
 * run unmodified under finack-run (it knows nothing of finack).
 *
 *   preload_cprog small ADDR PORT   SO_SNDBUF/SO_RCVBUF set small and read
 *                                   back; 9000 bytes written 3 at a time
 *   preload_cprog bytes ADDR PORT   1000 single-byte writes, then close
 *   preload_cprog noread ADDR PORT  serve one connection, close it unread
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
    } else {
        return 2;
    }
    return 0;
}
