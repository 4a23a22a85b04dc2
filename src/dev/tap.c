/* tap.c — the Linux TAP device: open/create by name through
 * /dev/net/tun, IFF_TAP | IFF_NO_PI, non-blocking, offloads cleared. */
#include <errno.h>
#include <fcntl.h>
#include <finack/tap.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct fa_tap {
    int fd;
    char name[IFNAMSIZ];
};

int fa_tap_open(const char *name, struct fa_tap **out)
{
    if (!name || strlen(name) >= IFNAMSIZ || !*name)
        return -EINVAL;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    /* A stale offload setting would hand us 64 KB GSO frames. */
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct fa_tap *t = calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        return -ENOMEM;
    }
    t->fd = fd;
    memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
    *out = t;
    return 0;
}

void fa_tap_close(struct fa_tap *t)
{
    if (!t)
        return;
    close(t->fd);
    free(t);
}

int fa_tap_fd(const struct fa_tap *t)
{
    return t->fd;
}

const char *fa_tap_name(const struct fa_tap *t)
{
    return t->name;
}

static int tap_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct fa_tap *t = ctx;
    ssize_t n = write(t->fd, frame, len);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

struct fa_device fa_tap_device(struct fa_tap *t)
{
    return (struct fa_device){ .ctx = t, .transmit = tap_transmit };
}

long fa_tap_read(struct fa_tap *t, uint8_t *buf, size_t cap)
{
    ssize_t n = read(t->fd, buf, cap);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return (long)n;
}
