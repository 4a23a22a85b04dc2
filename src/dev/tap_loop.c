/* tap_loop.c — the run loop for one stack on a TAP device: sleep in
 * poll(2) until a frame or the earliest deadline, read frames in a batch,
 * run timers. Used by the programs; embeddable loops can copy its shape
 * with fa_tap_fd() and fa_stack_poll(). */
#include <errno.h>
#include <finack/host.h>
#include <poll.h>

enum { READ_BATCH = 64, FRAME_BUF = 65536 };

static fa_time min_time(fa_time a, fa_time b)
{
    return a < b ? a : b;
}

/* Runs every timer source due by now; returns the earliest deadline. */
static fa_time loop_timers(struct fa_tap_loop *l, fa_time now)
{
    fa_time next = fa_stack_poll(l->stack, now);
    if (l->poll_extra)
        next = min_time(next, l->poll_extra(l->poll_extra_ctx, now));
    if (l->on_turn)
        next = min_time(next, l->on_turn(l->on_turn_ctx, now));
    return next;
}

/* Reads what the TAP holds, up to READ_BATCH frames, as one batch. */
static int loop_read_batch(struct fa_tap_loop *l, uint8_t *buf)
{
    int err = 0;
    fa_stack_batch_begin(l->stack);
    for (int i = 0; i < READ_BATCH; i++) {
        long n = fa_tap_read(l->tap, buf, FRAME_BUF);
        if (n == -EAGAIN || n == -EINTR)
            break;
        if (n < 0) {
            err = (int)n;
            break;
        }
        l->rx.transmit(l->rx.ctx, buf, (size_t)n);
    }
    fa_stack_batch_end(l->stack, l->clock.now(l->clock.ctx));
    return err;
}

int fa_tap_loop_run(struct fa_tap_loop *l, fa_time until)
{
    uint8_t buf[FRAME_BUF];
    for (;;) {
        fa_time now = l->clock.now(l->clock.ctx);
        if ((l->stop && *l->stop) || now >= until)
            return 0;
        fa_time next = min_time(loop_timers(l, now), until);
        now = l->clock.now(l->clock.ctx);
        int timeout_ms = 0;
        if (next > now) {
            fa_time wait = (next - now + FA_NS_PER_MS - 1) / FA_NS_PER_MS;
            timeout_ms = wait > 1000 ? 1000 : (int)wait;
        }
        struct pollfd pfd[1 + FA_LOOP_MAX_FDS] = {
            { .fd = fa_tap_fd(l->tap), .events = POLLIN },
        };
        int n = l->nfds < FA_LOOP_MAX_FDS ? l->nfds : FA_LOOP_MAX_FDS;
        for (int i = 0; i < n; i++)
            pfd[1 + i] = (struct pollfd){ .fd = l->fds[i].fd, .events = POLLIN };
        int r = poll(pfd, (nfds_t)(1 + n), timeout_ms);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r > 0 && (pfd[0].revents & (POLLERR | POLLNVAL)))
            return -EIO;
        if (r > 0 && (pfd[0].revents & POLLIN)) {
            int err = loop_read_batch(l, buf);
            if (err < 0)
                return err;
        }
        for (int i = 0; r > 0 && i < n; i++)
            if (pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR))
                l->fds[i].on_ready(l->fds[i].ctx, l->clock.now(l->clock.ctx));
    }
}
