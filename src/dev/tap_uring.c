/* tap_uring.c — a TAP's frames through io_uring (Debian's liburing):
 * reads kept in flight into buffers registered once, writes queued and
 * submitted together at the end of a loop's turn, so one system call
 * moves many frames each way (finack/tap.h, fa_tap_uring_*). Built only
 * with liburing; without it, creating one says -ENOSYS.
 *
 * Each receive buffer is a read in flight; a completed one is handed to
 * the loop in place (no copy) and read into again when the loop asks for
 * the next frame (frames that complete while a send waits for a buffer
 * are kept, in order, for the loop). Each frame sent is copied into a
 * free send buffer and queued; completions free the buffers. At destroy
 * every request is finished or cancelled before the buffers go. */
#include <errno.h>
#include <finack/tap.h>
#include <stdlib.h>
#include <string.h>

#include "tap_vnet.h"

#ifdef FA_HAVE_LIBURING
#include <fcntl.h>
#include <liburing.h>
#include <linux/virtio_net.h>

enum { RX_DEPTH = 32, TX_DEPTH = 64 };
#define SLOT (68u * 1024) /* a virtio-net header and a super-frame, in whole pages */
#define TX_TAG (1ull << 32)
#define CANCEL_TAG (1ull << 33)

struct fa_tap_uring {
    struct io_uring ring;
    struct fa_tap *tap;
    int fd, vnet, fd_flags;
    uint8_t *rx, *tx; /* RX_DEPTH and TX_DEPTH slots, registered */
    int handed;       /* the rx slot the loop holds, or -1 */
    uint16_t tx_free[TX_DEPTH];
    unsigned ntx_free, queued, inflight;
    /* Frames that completed while a send waited for a buffer: handed to
     * the loop before anything newer. */
    struct early_frame { uint16_t slot; int res; } early[RX_DEPTH];
    unsigned nearly;
    uint32_t unread; /* rx slots whose read could not be queued: retried */
    uint64_t tx_errors;
};

static int read_into(struct fa_tap_uring *u, unsigned i)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        u->unread |= 1u << i; /* the ring is full: the next flush retries */
        return -EBUSY;
    }
    io_uring_prep_read_fixed(sqe, u->fd, u->rx + (size_t)i * SLOT, SLOT, (uint64_t)-1, 0);
    io_uring_sqe_set_data64(sqe, i);
    u->queued++;
    u->inflight++;
    return 0;
}

int fa_tap_uring_create(struct fa_tap *tap, struct fa_tap_uring **out)
{
    struct fa_tap_uring *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    u->tap = tap;
    u->fd = fa_tap_fd(tap);
    u->vnet = fa_tap_offloads(tap) != 0;
    u->handed = -1;
    u->fd_flags = fcntl(u->fd, F_GETFL);
    u->rx = aligned_alloc(4096, (size_t)RX_DEPTH * SLOT);
    u->tx = aligned_alloc(4096, (size_t)TX_DEPTH * SLOT);
    int err = u->rx && u->tx ? io_uring_queue_init(RX_DEPTH + 2 * TX_DEPTH, &u->ring, 0) : -ENOMEM;
    if (err < 0) {
        free(u->rx);
        free(u->tx);
        free(u);
        return err;
    }
    struct iovec iov[2] = { { u->rx, (size_t)RX_DEPTH * SLOT }, { u->tx, (size_t)TX_DEPTH * SLOT } };
    err = io_uring_register_buffers(&u->ring, iov, 2);
    /* Reads wait in the ring: the descriptor itself blocks. */
    if (!err && (u->fd_flags < 0 || fcntl(u->fd, F_SETFL, u->fd_flags & ~O_NONBLOCK) < 0))
        err = -errno;
    for (unsigned i = 0; !err && i < RX_DEPTH; i++)
        err = read_into(u, i);
    for (unsigned i = 0; i < TX_DEPTH; i++)
        u->tx_free[u->ntx_free++] = (uint16_t)(TX_DEPTH - 1 - i);
    if (!err && io_uring_submit(&u->ring) < 0)
        err = -EIO;
    if (err < 0) {
        fa_tap_uring_destroy(u);
        return err;
    }
    u->queued = 0;
    *out = u;
    return 0;
}

void fa_tap_uring_destroy(struct fa_tap_uring *u)
{
    if (!u)
        return;
    /* Every request done before the buffers go: what is queued is sent,
     * the reads in flight are cancelled, and each completion reaped
     * (a bounded wait: a cancelled read completes at once). */
    fa_tap_uring_flush(u);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (sqe) {
        io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data64(sqe, CANCEL_TAG);
        io_uring_submit(&u->ring);
    }
    for (int i = 0; u->inflight && i < 4 * (RX_DEPTH + TX_DEPTH); i++) {
        struct io_uring_cqe *cqe;
        struct __kernel_timespec ts = { .tv_sec = 1 };
        if (io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) != 0)
            break;
        if (io_uring_cqe_get_data64(cqe) != CANCEL_TAG)
            u->inflight--;
        io_uring_cqe_seen(&u->ring, cqe);
    }
    io_uring_queue_exit(&u->ring);
    if (u->fd_flags >= 0)
        fcntl(u->fd, F_SETFL, u->fd_flags);
    if (!u->inflight) { /* else a late write could land in them: keep them */
        free(u->rx);
        free(u->tx);
    }
    free(u);
}

int fa_tap_uring_fd(const struct fa_tap_uring *u)
{
    return u->ring.ring_fd;
}

uint64_t fa_tap_uring_tx_errors(const struct fa_tap_uring *u)
{
    return u->tx_errors;
}

void fa_tap_uring_flush(void *ctx)
{
    struct fa_tap_uring *u = ctx;
    for (unsigned i = 0; u->unread && i < RX_DEPTH; i++)
        if (u->unread & (1u << i)) {
            u->unread &= ~(1u << i);
            read_into(u, i);
        }
    if (u->queued) {
        int n = io_uring_submit(&u->ring);
        if (n > 0)
            u->queued = (unsigned)n >= u->queued ? 0 : u->queued - (unsigned)n;
    }
}

/* Takes one completion: a send buffer back, or a frame (returns 1 and
 * its slot). */
static int reap(struct fa_tap_uring *u, struct io_uring_cqe *cqe, unsigned *slot, int *res)
{
    uint64_t tag = io_uring_cqe_get_data64(cqe);
    *res = cqe->res;
    io_uring_cqe_seen(&u->ring, cqe);
    u->inflight--;
    if (tag & TX_TAG) {
        u->tx_free[u->ntx_free++] = (uint16_t)(tag & 0xffff);
        if (*res < 0)
            u->tx_errors++;
        return 0;
    }
    *slot = (unsigned)tag;
    return 1;
}

long fa_tap_uring_next(void *ctx, const uint8_t **frame, struct fa_frame_meta *meta)
{
    struct fa_tap_uring *u = ctx;
    if (u->handed >= 0) { /* the loop is done with it: read into it again */
        read_into(u, (unsigned)u->handed);
        u->handed = -1;
    }
    for (int tries = 0; tries < 2 * (RX_DEPTH + TX_DEPTH); tries++) {
        struct io_uring_cqe *cqe;
        unsigned slot;
        int res;
        if (u->nearly) { /* frames reaped while a send waited: first */
            slot = u->early[0].slot;
            res = u->early[0].res;
            memmove(&u->early[0], &u->early[1], --u->nearly * sizeof u->early[0]);
        } else if (io_uring_peek_cqe(&u->ring, &cqe) != 0) {
            fa_tap_uring_flush(u); /* resubmitted reads go in */
            return -EAGAIN;
        } else if (!reap(u, cqe, &slot, &res)) {
            continue;
        }
        uint8_t *b = u->rx + (size_t)slot * SLOT;
        size_t hdr = u->vnet ? sizeof(struct virtio_net_hdr) : 0;
        if (res <= (int)hdr || (size_t)res > SLOT) { /* an error or a cut frame */
            read_into(u, slot);
            if (res < 0 && res != -EAGAIN && res != -EINTR)
                return res;
            continue;
        }
        *meta = (struct fa_frame_meta){ 0 };
        if (u->vnet)
            fa_tap_meta_from_vnet(b, meta);
        u->handed = (int)slot;
        *frame = b + hdr;
        return res - (long)hdr;
    }
    return -EAGAIN;
}

/* A free send buffer, reaping completions (and, if all are in flight,
 * waiting for one) as needed; -1 if none comes. */
static int tx_slot(struct fa_tap_uring *u)
{
    for (int tries = 0; !u->ntx_free && tries < TX_DEPTH; tries++) {
        struct io_uring_cqe *cqe;
        fa_tap_uring_flush(u);
        if (io_uring_wait_cqe(&u->ring, &cqe) != 0)
            return -1;
        unsigned slot;
        int res;
        if (!reap(u, cqe, &slot, &res))
            continue;
        if (u->nearly < RX_DEPTH) /* a frame: kept for the loop */
            u->early[u->nearly++] = (struct early_frame){ (uint16_t)slot, res };
        else
            read_into(u, slot); /* cannot be (one entry per slot): drop */
    }
    return u->ntx_free ? u->tx_free[--u->ntx_free] : -1;
}

static int uring_send(struct fa_tap_uring *u, const uint8_t *frame, size_t len,
                      const struct fa_frame_meta *meta)
{
    size_t hdr = u->vnet ? sizeof(struct virtio_net_hdr) : 0;
    if (hdr + len > SLOT)
        return -EMSGSIZE;
    int slot = tx_slot(u);
    if (slot < 0)
        return -ENOBUFS;
    uint8_t *b = u->tx + (size_t)slot * SLOT;
    if (u->vnet)
        fa_tap_vnet_from_meta(frame, len, meta, b);
    memcpy(b + hdr, frame, len);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        fa_tap_uring_flush(u);
        sqe = io_uring_get_sqe(&u->ring);
    }
    if (!sqe) {
        u->tx_free[u->ntx_free++] = (uint16_t)slot;
        return -ENOBUFS;
    }
    io_uring_prep_write_fixed(sqe, u->fd, b, (unsigned)(hdr + len), (uint64_t)-1, 1);
    io_uring_sqe_set_data64(sqe, TX_TAG | (unsigned)slot);
    u->queued++;
    u->inflight++;
    return 0;
}

static int uring_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    return uring_send(ctx, frame, len, NULL);
}

static int uring_transmit_meta(void *ctx, const uint8_t *frame, size_t len,
                               const struct fa_frame_meta *meta)
{
    return uring_send(ctx, frame, len, meta);
}

struct fa_device fa_tap_uring_device(struct fa_tap_uring *u)
{
    return (struct fa_device){ .ctx = u, .transmit = uring_transmit,
                               .offloads = fa_tap_offloads(u->tap),
                               .transmit_meta = u->vnet ? uring_transmit_meta : NULL };
}

#else /* no liburing */

int fa_tap_uring_create(struct fa_tap *tap, struct fa_tap_uring **out)
{
    (void)tap;
    *out = NULL;
    return -ENOSYS;
}
void fa_tap_uring_destroy(struct fa_tap_uring *u) { (void)u; }
int fa_tap_uring_fd(const struct fa_tap_uring *u) { (void)u; return -1; }
uint64_t fa_tap_uring_tx_errors(const struct fa_tap_uring *u) { (void)u; return 0; }
void fa_tap_uring_flush(void *ctx) { (void)ctx; }
long fa_tap_uring_next(void *ctx, const uint8_t **frame, struct fa_frame_meta *meta)
{
    (void)ctx;
    (void)frame;
    (void)meta;
    return -ENOSYS;
}
struct fa_device fa_tap_uring_device(struct fa_tap_uring *u)
{
    (void)u;
    return (struct fa_device){ 0 };
}
#endif
