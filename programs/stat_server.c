/* stat_server.c — serves the connection table (stat_server.h). */
#include "stat_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int stat_server_open(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

struct table {
    FILE *out;
    fa_time now;
};

static void line(void *ctx, const struct fa_tcp_info *i)
{
    struct table *t = ctx;
    char l[16], r[16], age[32] = "-";
    if (i->state_since && t->now >= i->state_since)
        snprintf(age, sizeof age, "%.3f", (double)(t->now - i->state_since) / 1e9);
    fprintf(t->out, "%s %s:%u %s:%u %u %u %s %llu", fa_tcp_state_name(i->state),
            fa_ipv4_format(i->local_addr, l), i->local_port,
            fa_ipv4_format(i->remote_addr, r), i->remote_port, i->send_queued,
            i->recv_queued, age, (unsigned long long)i->retransmits);
    if (i->owner) /* finackd: the process whose socket it is */
        fprintf(t->out, " %u", i->owner);
    fputc('\n', t->out);
}

void stat_server_serve(int fd, const struct fa_stack *stack, fa_time now)
{
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            return; /* EAGAIN: nobody else waits */
        FILE *out = fdopen(c, "w");
        if (!out) {
            close(c);
            continue;
        }
        struct table t = { out, now };
        fa_stack_tcp_walk(stack, line, &t);
        fclose(out);
    }
}

void stat_server_close(int fd, const char *path)
{
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
}
