/* tap_uring.c — a TAP's frames through io_uring (Debian's liburing):
 * frames sent are queued and go out with the wait for the next ones, so
 * one system call a turn moves every frame each way (finack/tap.h,
 * fa_tap_uring_*). Built only with liburing; without it, creating one
 * says -ENOSYS.
 *
 * Receiving is a chain armed when the last one is done: a poll for
 * POLLIN hard-linked to RX_DEPTH reads of the non-blocking descriptor,
 * into buffers registered once. The poll completes when a frame comes;
 * the reads then run at once, each taking a frame or -EAGAIN. Reads kept
 * waiting on the descriptor instead (the first design) were all woken by
 * each frame; those that found nothing went to io_uring's worker threads,
 * which took the CPU the stack needs.
 *
 * A frame is handed to the loop in place; its buffer is read into again
 * only by the next chain, armed once the loop has taken every frame of
 * this one. Each frame sent is copied into a free send buffer and
 * queued; completions free the buffers. At destroy every request is
 * finished or cancelled before the buffers go. */
#include <errno.h>
#include <finack/tap.h>
#include <stdlib.h>
#include <string.h>

#include "tap_vnet.h"

#ifdef FA_HAVE_LIBURING
#include <liburing.h>
#include <linux/virtio_net.h>
#include <poll.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008 /* linux/fs.h */
#endif

enum { RX_DEPTH = 16, TX_DEPTH = 64 };
#define SLOT (68u * 1024) /* a virtio-net header and a super-frame, in whole pages */
#define TX_TAG (1ull << 32)
#define POLL_TAG (1ull << 33)
#define CANCEL_TAG (1ull << 34)

struct fa_tap_uring {
    struct io_uring ring;
    struct fa_tap *tap;
    int fd, vnet;
    int rw_flags; /* RWF_NOWAIT, or 0 where the TAP refuses it */
    uint8_t *rx, *tx; /* RX_DEPTH and TX_DEPTH slots, registered */
    uint16_t tx_free[TX_DEPTH];
    unsigned ntx_free;
    unsigned writes;   /* writes queued, not yet submitted */
    unsigned inflight; /* reads and writes queued or submitted, not yet
                          reaped (a poll reports only if it fails) */
    unsigned chain;    /* reads of the armed chain not yet reaped */
    int events_due;    /* completions may wait to be run (DEFER_TASKRUN
                          runs them only when asked): after a flush or a
                          wait of 0 the loop may have slept in poll(2) */
    /* Frames that completed while a send waited for a buffer: handed to
     * the loop before anything newer. */
    struct early_frame { uint16_t slot; int res; } early[RX_DEPTH];
    unsigned nearly;
    uint64_t tx_errors;
};

static struct io_uring_sqe *get_sqe(struct fa_tap_uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) { /* the queue is full: what is in it goes now */
        io_uring_submit(&u->ring);
        u->writes = 0;
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

/* Arms the next receive chain, once the loop holds no frame of the last
 * (their buffers are read into again). */
static void arm(struct fa_tap_uring *u)
{
    if (u->chain || u->nearly)
        return;
    if (io_uring_sq_space_left(&u->ring) < RX_DEPTH + 1) {
        io_uring_submit(&u->ring);
        u->writes = 0;
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return;
    io_uring_prep_poll_add(sqe, u->fd, POLLIN);
    io_uring_sqe_set_data64(sqe, POLL_TAG);
    /* Hard links: a read that finds nothing (-EAGAIN) must not cancel
     * the rest; each reports for itself. */
    sqe->flags |= IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS;
    for (unsigned i = 0; i < RX_DEPTH; i++) {
        sqe = io_uring_get_sqe(&u->ring); /* room was made above */
        io_uring_prep_read_fixed(sqe, u->fd, u->rx + (size_t)i * SLOT, SLOT, (uint64_t)-1, 0);
        /* A descriptor that can wait without blocking (the TAP since
         * Linux 6.x) is polled by io_uring, O_NONBLOCK or not: only
         * RWF_NOWAIT makes a read that finds nothing end there. */
        sqe->rw_flags = u->rw_flags;
        io_uring_sqe_set_data64(sqe, i);
        if (i + 1 < RX_DEPTH)
            sqe->flags |= IOSQE_IO_HARDLINK;
    }
    u->inflight += RX_DEPTH;
    u->chain = RX_DEPTH;
}

/* Completions are run only when the loop waits or asks (Linux 6.1's
 * DEFER_TASKRUN): a frame wakes the loop once, with the chain's reads
 * done; an older kernel takes the default. */
static int ring_init(struct fa_tap_uring *u)
{
    struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN };
    unsigned entries = 2 * (RX_DEPTH + 1 + TX_DEPTH);
    int err = io_uring_queue_init_params(entries, &u->ring, &p);
    if (err == -EINVAL)
        err = io_uring_queue_init(entries, &u->ring, 0);
    return err;
}

int fa_tap_uring_create(struct fa_tap *tap, struct fa_tap_uring **out)
{
    struct fa_tap_uring *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    u->tap = tap;
    u->fd = fa_tap_fd(tap); /* non-blocking: a read finds a frame or -EAGAIN */
    u->vnet = fa_tap_offloads(tap) != 0;
    u->rw_flags = RWF_NOWAIT;
    u->rx = aligned_alloc(4096, (size_t)RX_DEPTH * SLOT);
    u->tx = aligned_alloc(4096, (size_t)TX_DEPTH * SLOT);
    int err = u->rx && u->tx ? ring_init(u) : -ENOMEM;
    if (err < 0) {
        free(u->rx);
        free(u->tx);
        free(u);
        return err;
    }
    struct iovec iov[2] = { { u->rx, (size_t)RX_DEPTH * SLOT }, { u->tx, (size_t)TX_DEPTH * SLOT } };
    err = io_uring_register_buffers(&u->ring, iov, 2);
    for (unsigned i = 0; i < TX_DEPTH; i++)
        u->tx_free[u->ntx_free++] = (uint16_t)(TX_DEPTH - 1 - i);
    if (!err) {
        arm(u);
        if (io_uring_submit(&u->ring) < 0)
            err = -EIO;
    }
    if (err < 0) {
        fa_tap_uring_destroy(u);
        return err;
    }
    *out = u;
    return 0;
}

void fa_tap_uring_destroy(struct fa_tap_uring *u)
{
    if (!u)
        return;
    /* Every request done before the buffers go: what is queued is sent,
     * the chain in flight is cancelled, and each completion reaped (a
     * bounded wait: a cancelled request completes at once). */
    io_uring_submit(&u->ring);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (sqe) {
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data64(sqe, CANCEL_TAG);
        io_uring_submit(&u->ring);
    }
    for (int i = 0; u->inflight && i < 4 * (RX_DEPTH + 1 + TX_DEPTH); i++) {
        struct io_uring_cqe *cqe;
        struct __kernel_timespec ts = { .tv_sec = 1 };
        if (io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) != 0)
            break;
        if (!(io_uring_cqe_get_data64(cqe) & (CANCEL_TAG | POLL_TAG)))
            u->inflight--;
        io_uring_cqe_seen(&u->ring, cqe);
    }
    io_uring_queue_exit(&u->ring);
    if (!u->inflight) { /* else a late read could land in them: keep them */
        free(u->rx);
        free(u->tx);
    }
    free(u);
}

int fa_tap_uring_fd(const struct fa_tap_uring *u)
{
    /* Not the ring's: completions deferred to the waiter do not wake a
     * poll(2) of it. The chain takes a frame only when asked, so the
     * TAP's descriptor polls readable until then. */
    return u->fd;
}

uint64_t fa_tap_uring_tx_errors(const struct fa_tap_uring *u)
{
    return u->tx_errors;
}

void fa_tap_uring_flush(void *ctx)
{
    struct fa_tap_uring *u = ctx;
    arm(u);
    if (io_uring_sq_ready(&u->ring))
        io_uring_submit(&u->ring);
    u->writes = 0;
    u->events_due = 1;
}

int fa_tap_uring_wait(void *ctx, fa_time timeout)
{
    struct fa_tap_uring *u = ctx;
    arm(u);
    u->events_due = 0; /* waiting runs them */
    if (io_uring_cq_ready(&u->ring) || u->nearly)
        timeout = 0; /* something to take already */
    if (!timeout) {
        io_uring_submit_and_get_events(&u->ring);
        u->writes = 0;
        u->events_due = 1; /* the caller may sleep in poll(2) next */
        return io_uring_cq_ready(&u->ring) > 0 || u->nearly;
    }
    /* The writes complete as they are submitted: wait for one more, the
     * chain's first read (the poll's completion is skipped). */
    unsigned want = io_uring_cq_ready(&u->ring) + u->writes + 1;
    u->writes = 0;
    struct __kernel_timespec ts = { .tv_sec = (long long)(timeout / FA_NS_PER_S),
                                    .tv_nsec = (long long)(timeout % FA_NS_PER_S) };
    struct io_uring_cqe *cqe;
    int err = io_uring_submit_and_wait_timeout(&u->ring, &cqe, want, &ts, NULL);
    if (err < 0 && err != -ETIME && err != -EINTR && err != -EAGAIN)
        return err;
    return io_uring_cq_ready(&u->ring) > 0;
}

/* Takes one completion: a send buffer back, or a frame (returns 1 and
 * its slot; a read that found nothing is no frame). */
static int reap(struct fa_tap_uring *u, struct io_uring_cqe *cqe, unsigned *slot, int *res)
{
    uint64_t tag = io_uring_cqe_get_data64(cqe);
    *res = cqe->res;
    io_uring_cqe_seen(&u->ring, cqe);
    if (tag & POLL_TAG) /* failed or cancelled: its reads still run */
        return 0;
    u->inflight--;
    if (tag & TX_TAG) {
        u->tx_free[u->ntx_free++] = (uint16_t)(tag & 0xffff);
        if (*res < 0)
            u->tx_errors++;
        return 0;
    }
    u->chain--;
    if (*res == -EOPNOTSUPP) { /* an older TAP: no RWF_NOWAIT */
        u->rw_flags = 0; /* O_NONBLOCK does it (in io_uring's workers) */
        return 0;
    }
    if (*res == -EAGAIN || *res == -ECANCELED)
        return 0;
    *slot = (unsigned)tag;
    return 1;
}

long fa_tap_uring_next(void *ctx, const uint8_t **frame, struct fa_frame_meta *meta)
{
    struct fa_tap_uring *u = ctx;
    for (int tries = 0; tries < 2 * (RX_DEPTH + 1 + TX_DEPTH); tries++) {
        struct io_uring_cqe *cqe;
        unsigned slot;
        int res;
        if (u->nearly) { /* frames reaped while a send waited: first */
            slot = u->early[0].slot;
            res = u->early[0].res;
            memmove(&u->early[0], &u->early[1], --u->nearly * sizeof u->early[0]);
        } else if (io_uring_peek_cqe(&u->ring, &cqe) != 0) {
            if (!u->events_due)
                return -EAGAIN;
            u->events_due = 0;
            io_uring_get_events(&u->ring);
            continue;
        } else if (!reap(u, cqe, &slot, &res)) {
            continue;
        }
        uint8_t *b = u->rx + (size_t)slot * SLOT;
        size_t hdr = u->vnet ? sizeof(struct virtio_net_hdr) : 0;
        if (res <= (int)hdr || (size_t)res > SLOT) { /* an error or a cut frame */
            if (res < 0 && res != -EINTR)
                return res;
            continue;
        }
        *meta = (struct fa_frame_meta){ 0 };
        if (u->vnet)
            fa_tap_meta_from_vnet(b, meta);
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
        io_uring_submit(&u->ring);
        u->writes = 0;
        if (io_uring_wait_cqe(&u->ring, &cqe) != 0)
            return -1;
        unsigned slot;
        int res;
        if (reap(u, cqe, &slot, &res) && u->nearly < RX_DEPTH) /* a frame: kept for the loop */
            u->early[u->nearly++] = (struct early_frame){ (uint16_t)slot, res };
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
    struct io_uring_sqe *sqe = get_sqe(u);
    if (!sqe) {
        u->tx_free[u->ntx_free++] = (uint16_t)slot;
        return -ENOBUFS;
    }
    io_uring_prep_write_fixed(sqe, u->fd, b, (unsigned)(hdr + len), (uint64_t)-1, 1);
    io_uring_sqe_set_data64(sqe, TX_TAG | (unsigned)slot);
    u->writes++;
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

/* Completions are run only when the loop waits or asks (Linux 6.1's
 * DEFER_TASKRUN): a frame wakes the loop once, with the chain's reads
 * done; an older kernel takes the default. */
static int ring_init(struct fa_tap_uring *u)
{
    struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN };
    unsigned entries = 2 * (RX_DEPTH + 1 + TX_DEPTH);
    int err = io_uring_queue_init_params(entries, &u->ring, &p);
    if (err == -EINVAL)
        err = io_uring_queue_init(entries, &u->ring, 0);
    return err;
}

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
int fa_tap_uring_wait(void *ctx, fa_time timeout)
{
    (void)ctx;
    (void)timeout;
    return -ENOSYS;
}
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
