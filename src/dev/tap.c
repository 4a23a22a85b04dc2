/* tap.c — the Linux TAP device: open/create by name through
 * /dev/net/tun, IFF_TAP | IFF_NO_PI, non-blocking. Plain, every offload
 * is switched off; with FA_TAP_OFFLOAD, each frame travels behind a
 * virtio-net header (IFF_VNET_HDR), through which the kernel completes
 * our checksums, cuts our TSO super-frames, and hands us its own
 * checksum-partial and GRO frames (finack/tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <finack/tap.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tap_vnet.h"

struct fa_tap {
    int fd;
    int vnet; /* frames carry a struct virtio_net_hdr */
    uint64_t dropped; /* frames read that did not fit or lacked a header */
    char name[IFNAMSIZ];
};

/* TUNSETIFF, and the offloads asked for. A TAP keeps its offload setting
 * after its fd closes: a plain open clears it, or a stale one would hand
 * us 64 KB frames. */
static int tap_attach(int fd, const char *name, int vnet, struct ifreq *ifr)
{
    memset(ifr, 0, sizeof *ifr);
    ifr->ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, ifr) < 0)
        return -errno;
    int hdr = sizeof(struct virtio_net_hdr);
    unsigned long offloads = vnet ? TUN_F_CSUM | TUN_F_TSO4 : 0;
    if ((vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) ||
        ioctl(fd, TUNSETOFFLOAD, offloads) < 0)
        return -errno;
    return 0;
}

int fa_tap_open_flags(const char *name, unsigned flags, struct fa_tap **out)
{
    if (!name || strlen(name) >= IFNAMSIZ || !*name || (flags & ~FA_TAP_OFFLOAD))
        return -EINVAL;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    int vnet = (flags & FA_TAP_OFFLOAD) != 0;
    int err = tap_attach(fd, name, vnet, &ifr);
    if (err < 0 && vnet) {
        /* A kernel without the offloads: the plain device still works. */
        close(fd);
        fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        vnet = 0;
        err = tap_attach(fd, name, 0, &ifr);
    }
    struct fa_tap *t = err < 0 ? NULL : calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        return err < 0 ? err : -ENOMEM;
    }
    t->fd = fd;
    t->vnet = vnet;
    memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
    *out = t;
    return 0;
}

int fa_tap_open(const char *name, struct fa_tap **out)
{
    return fa_tap_open_flags(name, 0, out);
}

void fa_tap_close(struct fa_tap *t)
{
    if (!t)
        return;
    /* The TAP outlives us with its offloads on: leave them off, or the
     * next plain reader gets 64 KB frames with no header to say so. */
    if (t->vnet)
        ioctl(t->fd, TUNSETOFFLOAD, 0);
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

unsigned fa_tap_offloads(const struct fa_tap *t)
{
    return t->vnet ? FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO : 0;
}

static int tap_write(struct fa_tap *t, const struct virtio_net_hdr *h,
                     const uint8_t *frame, size_t len)
{
    struct iovec iov[2] = { { (void *)h, sizeof *h }, { (void *)frame, len } };
    ssize_t want = (ssize_t)(sizeof *h + len);
    ssize_t n = t->vnet ? writev(t->fd, iov, 2) : write(t->fd, frame, len);
    if (n < 0)
        return -errno;
    return n == (t->vnet ? want : (ssize_t)len) ? 0 : -EIO;
}

void fa_tap_vnet_from_meta(const uint8_t *frame, size_t len,
                           const struct fa_frame_meta *m, uint8_t *out)
{
    struct virtio_net_hdr h = { 0 }; /* no metadata: nothing asked */
    if (m && (m->flags & FA_META_CSUM_PARTIAL)) {
        h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.csum_start = m->csum_start;
        h.csum_offset = m->csum_offset;
    }
    if (m && m->gso_type == FA_GSO_TCPV4) {
        /* hdr_len: Ethernet, IPv4 and TCP headers, copied to each segment. */
        size_t tcp_hlen = len > m->csum_start + 12u ? (size_t)(frame[m->csum_start + 12] >> 4) * 4 : 0;
        h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h.gso_size = m->gso_size;
        h.hdr_len = (uint16_t)(m->csum_start + tcp_hlen);
    }
    memcpy(out, &h, sizeof h);
}

static int tap_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    static const struct virtio_net_hdr plain; /* nothing asked of the kernel */
    return tap_write(ctx, &plain, frame, len);
}

static int tap_transmit_meta(void *ctx, const uint8_t *frame, size_t len,
                             const struct fa_frame_meta *m)
{
    struct virtio_net_hdr h;
    fa_tap_vnet_from_meta(frame, len, m, (uint8_t *)&h);
    return tap_write(ctx, &h, frame, len);
}

struct fa_device fa_tap_device(struct fa_tap *t)
{
    return (struct fa_device){ .ctx = t, .transmit = tap_transmit,
                               .offloads = fa_tap_offloads(t),
                               .transmit_meta = t->vnet ? tap_transmit_meta : NULL };
}

/* The virtio-net header's words as the stack's metadata (tap_vnet.h). */
void fa_tap_meta_from_vnet(const uint8_t *hdr, struct fa_frame_meta *m)
{
    struct virtio_net_hdr hv;
    memcpy(&hv, hdr, sizeof hv);
    const struct virtio_net_hdr *h = &hv;
    *m = (struct fa_frame_meta){ 0 };
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        m->flags |= FA_META_CSUM_PARTIAL;
    if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        m->flags |= FA_META_CSUM_VALID;
    if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
        m->flags |= 0x80;
    uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    m->gso_type = gso == VIRTIO_NET_HDR_GSO_NONE ? FA_GSO_NONE
                : gso == VIRTIO_NET_HDR_GSO_TCPV4 ? FA_GSO_TCPV4 : 0xff;
    m->gso_size = h->gso_size;
    m->csum_start = h->csum_start;
    m->csum_offset = h->csum_offset;
}

uint64_t fa_tap_dropped(const struct fa_tap *t)
{
    return t->dropped;
}

/* One read: the frame's length, 0 when it was dropped (counted), or
 * -errno. tun reports a frame's whole length even when it copied less
 * (a frame beyond cap): such a frame is cut, and dropped. */
static long read_one(struct fa_tap *t, uint8_t *buf, size_t cap, struct fa_frame_meta *meta)
{
    struct virtio_net_hdr h;
    struct iovec iov[2] = { { &h, sizeof h }, { buf, cap } };
    size_t hdr = t->vnet ? sizeof h : 0;
    ssize_t n = t->vnet ? readv(t->fd, iov, 2) : read(t->fd, buf, cap);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if ((size_t)n < hdr + 1 || (size_t)n - hdr > cap) {
        t->dropped++;
        return 0;
    }
    if (t->vnet)
        fa_tap_meta_from_vnet((const uint8_t *)&h, meta);
    else
        *meta = (struct fa_frame_meta){ 0 };
    return (long)((size_t)n - hdr);
}

long fa_tap_read_meta(struct fa_tap *t, uint8_t *buf, size_t cap,
                      struct fa_frame_meta *meta)
{
    /* Bounded: a run of bad frames ends as "nothing waiting". */
    for (int i = 0; i < 64; i++) {
        long n = read_one(t, buf, cap, meta);
        if (n != 0)
            return n;
    }
    return -EAGAIN;
}

long fa_tap_read(struct fa_tap *t, uint8_t *buf, size_t cap)
{
    struct fa_frame_meta m;
    return fa_tap_read_meta(t, buf, cap, &m);
}
