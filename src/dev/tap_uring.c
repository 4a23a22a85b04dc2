/* tap_uring.c — a TAP's frames through io_uring (Debian's liburing):
 * frames sent are queued and go out with the wait for the next ones, so
 * one system call a turn moves every frame each way (finack/tap.h,
 * fa_tap_uring_*). Built only with liburing; without it, creating one
 * says -ENOSYS. Needs Linux 6.1 (DEFER_TASKRUN); older, -EOPNOTSUPP.
 *
 * Receiving is a chain armed when the last one is done: a poll for
 * POLLIN hard-linked to RX_DEPTH reads with RWF_NOWAIT, into buffers
 * registered once. The poll completes when a frame comes; the reads
 * then run at once, each taking a frame or -EAGAIN. Reads kept waiting
 * on the descriptor instead (the first design) were all woken by each
 * frame; those that found nothing went to io_uring's worker threads,
 * which took the CPU the stack needs.
 *
 * Completions run only when asked (DEFER_TASKRUN), and each read of the
 * chain is queued only when the one before it completes: whoever asks
 * (fa_tap_uring_wait, or next when the loop slept in poll(2)) asks for
 * the whole chain, or a frame would come a system call at a time. A
 * look (a wait of 0) never asks the kernel to wait: it asks for the
 * chain only once the chain's poll has reported (look, below). Every
 * completion taken is sorted at once (drain): a send buffer freed, a
 * frame put on the ready list. A frame is handed to the loop in place;
 * its buffer is read into again only by the next chain, armed once the
 * loop has taken every frame of this one. At destroy every request is
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
    int enabled;  /* created disabled: it belongs to the thread that first uses it */
    int flagged;  /* the kernel flags pending completions (TASKRUN_FLAG) */
    uint8_t *rx, *tx; /* RX_DEPTH and TX_DEPTH slots, registered */
    uint16_t tx_free[TX_DEPTH];
    unsigned ntx_free;
    unsigned writes;   /* writes queued, not yet submitted */
    unsigned inflight; /* reads and writes queued or submitted, not yet
                          taken (the chain's poll is not counted) */
    unsigned chain;    /* reads of the armed chain not yet taken */
    unsigned polling;  /* 1 until the chain's poll reports */
    unsigned depth;    /* reads in the next chain: twice the frames the
                          last one took, 2 to RX_DEPTH */
    unsigned got;      /* frames the armed chain took */
    int events_due;    /* completions may wait to be run: the loop may
                          have slept in poll(2), which does not run them */
    int error;         /* a failed poll or read: the loop's error */
    /* Frames taken from the ring, in order, for the loop: at most one
     * chain's. */
    struct ready_frame { uint16_t slot; int len; } ready[RX_DEPTH];
    unsigned rhead, nready;
    uint64_t tx_errors;
    uint64_t waits; /* system calls that could sleep (fa_tap_uring_waits) */
};

/* The ring starts disabled (SINGLE_ISSUER's thread is the one that
 * enables it): the first submission, from the loop's thread, enables it. */
static int enable(struct fa_tap_uring *u)
{
    if (u->enabled)
        return 0;
    /* (liburing 2.3 declares io_uring_enable_rings but does not export it) */
    int err = io_uring_register(u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    u->enabled = err == 0;
    return err < 0 ? err : 0; /* -errno (liburing calls the kernel itself) */
}

static int submit(struct fa_tap_uring *u)
{
    int err = enable(u);
    if (err < 0)
        return err;
    u->writes = 0;
    return io_uring_submit(&u->ring);
}

static struct io_uring_sqe *get_sqe(struct fa_tap_uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) { /* the queue is full: what is in it goes now */
        submit(u);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

/* Sorts one completion: a send buffer back, a frame onto the ready list,
 * a read that found nothing counted off the chain. */
static void sort(struct fa_tap_uring *u, uint64_t tag, int res)
{
    if (tag & (POLL_TAG | CANCEL_TAG)) {
        /* The chain's poll: a frame came, and its reads are running. A
         * failure (at submission, when its reads report nothing, or on
         * the device) fails the loop. */
        if (tag & POLL_TAG)
            u->polling = 0;
        if ((tag & POLL_TAG) && res < 0 && res != -ECANCELED && !u->error)
            u->error = res;
        return;
    }
    u->inflight--;
    if (tag & TX_TAG) {
        u->tx_free[u->ntx_free++] = (uint16_t)(tag & 0xffff);
        if (res < 0)
            u->tx_errors++;
        return;
    }
    u->chain--;
    size_t hdr = u->vnet ? sizeof(struct virtio_net_hdr) : 0;
    if (res > (int)hdr && (size_t)res <= SLOT && u->rhead + u->nready < RX_DEPTH) {
        u->ready[u->rhead + u->nready++] = (struct ready_frame){ (uint16_t)tag, res };
        u->got++;
    } else if (res == -EOPNOTSUPP) { /* an older TAP: no RWF_NOWAIT */
        u->rw_flags = 0;             /* O_NONBLOCK does it (in io_uring's workers) */
    } else if (res < 0 && res != -EAGAIN && res != -ECANCELED && res != -EINTR && !u->error) {
        u->error = res;
    } /* else nothing there, or a cut frame: dropped */
    if (!u->chain) /* the next chain: twice what this one took */
        u->depth = u->got >= RX_DEPTH / 2 ? RX_DEPTH : u->got > 1 ? 2 * u->got : 2;
}

/* Sorts every completion waiting in the ring. */
static void drain(struct fa_tap_uring *u)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        sort(u, io_uring_cqe_get_data64(cqe), cqe->res);
        n++;
    }
    io_uring_cq_advance(&u->ring, n);
}

/* Arms the next receive chain, once the loop holds no frame of the last
 * (their buffers are read into again). */
static void arm(struct fa_tap_uring *u)
{
    if (u->chain || u->nready || u->error)
        return;
    u->rhead = 0;
    if (io_uring_sq_space_left(&u->ring) < RX_DEPTH + 1)
        submit(u);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return;
    io_uring_prep_poll_add(sqe, u->fd, POLLIN);
    io_uring_sqe_set_data64(sqe, POLL_TAG);
    /* Hard links: a read that finds nothing (-EAGAIN) must not cancel
     * the rest; each reports for itself. The poll reports too: a look
     * learns from it that the reads are running. */
    sqe->flags |= IOSQE_IO_HARDLINK;
    u->polling = 1;
    for (unsigned i = 0; i < u->depth; i++) {
        sqe = io_uring_get_sqe(&u->ring); /* room was made above */
        io_uring_prep_read_fixed(sqe, u->fd, u->rx + (size_t)i * SLOT, SLOT, (uint64_t)-1, 0);
        /* A descriptor that can wait without blocking (the TAP since
         * Linux 6.x) is polled by io_uring, O_NONBLOCK or not: only
         * RWF_NOWAIT makes a read that finds nothing end there. */
        sqe->rw_flags = u->rw_flags;
        io_uring_sqe_set_data64(sqe, i);
        if (i + 1 < u->depth)
            sqe->flags |= IOSQE_IO_HARDLINK;
    }
    u->inflight += u->depth;
    u->chain = u->depth;
    u->got = 0;
}

/* Submits what is queued and waits for want completions, up to timeout
 * ns, then sorts what came. */
static int wait_for(struct fa_tap_uring *u, unsigned want, fa_time timeout)
{
    u->writes = 0;
    struct __kernel_timespec ts = { .tv_sec = (long long)(timeout / FA_NS_PER_S),
                                    .tv_nsec = (long long)(timeout % FA_NS_PER_S) };
    struct io_uring_cqe *cqe;
    if (io_uring_cq_ready(&u->ring) < (want ? want : 1))
        u->waits++; /* (else liburing does not wait) */
    int err = io_uring_submit_and_wait_timeout(&u->ring, &cqe, want ? want : 1, &ts, NULL);
    drain(u);
    if (err < 0 && err != -ETIME && err != -EINTR && err != -EAGAIN && err != -EBUSY)
        return err;
    return 0;
}

/* A look without sleeping. A wait with a timeout of 0 costs dear when
 * what it asks for is not there: io_uring arms a timer that has already
 * expired and sleeps until it fires (13 us on the test machine, against
 * 1.2 us for a system call that only runs what is pending). So a look
 * submits and runs what is pending without waiting, then waits for the
 * chain only if its poll has reported: its reads, queued one by one as
 * task work, then complete at once (LOOK_BOUND only guards against one
 * that does not). (io_uring's TASKRUN flag cannot say it: a wait that
 * ran a chain may leave it set with nothing pending.) */
#define LOOK_BOUND FA_NS_PER_MS
static int look(struct fa_tap_uring *u)
{
    u->writes = 0;
    int err = io_uring_submit_and_get_events(&u->ring);
    drain(u);
    if (err < 0 && err != -EINTR && err != -EAGAIN && err != -EBUSY)
        return err;
    if (!u->chain || u->polling)
        return 0; /* nothing came */
    return wait_for(u, u->chain, LOOK_BOUND);
}

/* Submits what is queued and waits up to timeout ns for the writes and
 * the whole chain, then sorts what came; with 0, a look. */
static int enter(struct fa_tap_uring *u, fa_time timeout)
{
    int err = enable(u);
    if (err < 0)
        return err;
    if (!timeout)
        return look(u);
    return wait_for(u, u->writes + u->polling + u->chain, timeout);
}

static int ring_init(struct fa_tap_uring *u)
{
    unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                     IORING_SETUP_R_DISABLED;
    /* TASKRUN_FLAG: the ring says when completions wait to be run, so
     * a look can spare its system call (until the first frame: see
     * work_waits). */
    struct io_uring_params p = { .flags = flags | IORING_SETUP_TASKRUN_FLAG };
    int err = io_uring_queue_init_params(2 * (RX_DEPTH + 1 + TX_DEPTH), &u->ring, &p);
    u->flagged = err == 0;
    if (err == -EINVAL) {
        p = (struct io_uring_params){ .flags = flags };
        err = io_uring_queue_init_params(2 * (RX_DEPTH + 1 + TX_DEPTH), &u->ring, &p);
    }
    /* Without DEFER_TASKRUN (before 6.1) completions run whenever the
     * kernel is entered, and a frame could sit in the ring unseen while
     * the loop sleeps in poll(2) on the TAP. */
    return err == -EINVAL ? -EOPNOTSUPP : err;
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
    u->depth = RX_DEPTH;
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
    if (err < 0) {
        fa_tap_uring_destroy(u);
        return err;
    }
    for (unsigned i = 0; i < TX_DEPTH; i++)
        u->tx_free[u->ntx_free++] = (uint16_t)(TX_DEPTH - 1 - i);
    *out = u;
    return 0;
}

void fa_tap_uring_destroy(struct fa_tap_uring *u)
{
    if (!u)
        return;
    /* Every request done before the buffers go: what is queued is sent,
     * the chain in flight is cancelled, and each completion taken (a
     * bounded wait: a cancelled request completes at once). */
    if (u->enabled) {
        submit(u);
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
            drain(u);
        }
    } else {
        u->inflight = 0; /* nothing was ever submitted */
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

uint64_t fa_tap_uring_waits(const struct fa_tap_uring *u)
{
    return u->waits;
}

void fa_tap_uring_flush(void *ctx)
{
    struct fa_tap_uring *u = ctx;
    arm(u);
    if (io_uring_sq_ready(&u->ring))
        submit(u);
    u->events_due = 1; /* the caller sleeps in poll(2) next */
}

/* Whether entering the kernel could bring or send anything: something
 * queued, or completions waiting to be run (without the flag, maybe).
 * The flag errs only one way: once a chain with a reporting poll has
 * run, it stays set with nothing pending, so from the first frame on
 * each look costs a system call (1.2 us; never a wait). */
static int work_waits(struct fa_tap_uring *u)
{
    return io_uring_sq_ready(&u->ring) || !u->flagged ||
           (IO_URING_READ_ONCE(*u->ring.sq.kflags) & IORING_SQ_TASKRUN);
}

int fa_tap_uring_wait(void *ctx, fa_time timeout)
{
    struct fa_tap_uring *u = ctx;
    drain(u);
    arm(u);
    if (u->nready || u->error)
        timeout = 0; /* something to take already */
    if (!timeout && !u->nready && !u->error && !work_waits(u)) {
        u->events_due = 1;
        return 0; /* nothing came: known without a system call */
    }
    int err = enter(u, timeout);
    /* After a wait of 0 the caller may sleep in poll(2). */
    u->events_due = !timeout;
    if (err < 0)
        return err;
    return u->nready > 0 || u->error;
}

long fa_tap_uring_next(void *ctx, const uint8_t **frame, struct fa_frame_meta *meta)
{
    struct fa_tap_uring *u = ctx;
    if (!u->nready) {
        drain(u);
        if (!u->nready && u->events_due && work_waits(u)) { /* the loop slept in poll(2) */
            u->events_due = 0;
            int err = enter(u, 0);
            if (err < 0)
                return err;
        }
    }
    if (!u->nready)
        return u->error ? u->error : -EAGAIN;
    struct ready_frame f = u->ready[u->rhead++];
    u->nready--;
    uint8_t *b = u->rx + (size_t)f.slot * SLOT;
    size_t hdr = u->vnet ? sizeof(struct virtio_net_hdr) : 0;
    *meta = (struct fa_frame_meta){ 0 };
    if (u->vnet)
        fa_tap_meta_from_vnet(b, meta);
    *frame = b + hdr;
    return f.len - (long)hdr;
}

/* A free send buffer, taking completions (and, if all are in flight,
 * waiting for one) as needed; -1 if none comes. */
static int tx_slot(struct fa_tap_uring *u)
{
    for (int tries = 0; !u->ntx_free && tries < TX_DEPTH; tries++) {
        if (submit(u) < 0)
            return -1;
        struct io_uring_cqe *cqe;
        u->waits++;
        if (io_uring_wait_cqe(&u->ring, &cqe) != 0)
            return -1;
        drain(u); /* frames among them wait on the ready list */
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

int fa_tap_uring_create(struct fa_tap *tap, struct fa_tap_uring **out)
{
    (void)tap;
    *out = NULL;
    return -ENOSYS;
}
void fa_tap_uring_destroy(struct fa_tap_uring *u) { (void)u; }
int fa_tap_uring_fd(const struct fa_tap_uring *u) { (void)u; return -1; }
uint64_t fa_tap_uring_tx_errors(const struct fa_tap_uring *u) { (void)u; return 0; }
uint64_t fa_tap_uring_waits(const struct fa_tap_uring *u) { (void)u; return 0; }
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
