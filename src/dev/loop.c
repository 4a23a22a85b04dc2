/* loop.c — the event loop of finack/loop.h: frames in from a descriptor,
 * timers, and level-triggered callbacks for watched sockets.
 *
 * The stack's tcp_notify puts a watched socket on the ready list (once);
 * a turn dispatches the list and keeps a socket on it for the next turn
 * while it is still ready for what its owner asked. So a turn costs what
 * happened, not how many sockets are open. */
#include <errno.h>
#include <finack/host.h>
#include <finack/loop.h>
#include <finack/tap.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum { READ_BATCH = 64, FRAME_BUF = FA_GSO_FRAME_MAX, MAX_SLEEP_MS = 1000, SKIP_MAX = 4 };

struct tcp_watch {
    struct fa_tcp *sock; /* NULL: free */
    fa_loop_tcp_fn fn;
    void *ctx;
    unsigned interest;
    uint32_t next_free;
    uint8_t queued; /* on the ready list */
    uint8_t fresh;  /* watched since its last dispatch (accepted in this
                       turn, say): dispatched in the turn it was watched */
};

struct udp_watch {
    struct fa_udp *sock;
    fa_loop_udp_fn fn;
    void *ctx;
    unsigned interest;
};

struct fd_watch {
    int fd;
    fa_loop_fd_fn fn;
    void *ctx;
};

struct turn_fn {
    fa_loop_turn_fn fn;
    void *ctx;
};

struct fa_loop {
    struct fa_loop_config cfg;
    struct tcp_watch *tcp;
    uint32_t ntcp, free_head, tcp_used;
    uint32_t *ready, *dispatching; /* ready lists, ntcp entries each */
    uint32_t nready;
    const struct fa_tcp *running; /* whose callback runs now */
    struct udp_watch *udp;
    uint32_t nudp;
    struct fd_watch fds[FA_LOOP_MAX_FDS];
    int nfds;
    struct turn_fn turn[FA_LOOP_MAX_TURN_FNS];
    int nturn;
    fa_time next;
    uint8_t unflushed; /* frames queued (by a turn that left them to
                          cfg.wait, or a descriptor's callback) unsent */
    uint8_t looked;    /* the turn just sent and looked (cfg.wait, 0) */
    uint8_t answered;  /* the turn just took frames and sent frames */
    uint8_t skips;     /* polls skipped in a row for that, SKIP_MAX at most */
    volatile sig_atomic_t stop;
    uint8_t frame[FRAME_BUF];
};

#define NO_WATCH UINT32_MAX

static fa_time min_time(fa_time a, fa_time b)
{
    return a < b ? a : b;
}

static void enqueue(struct fa_loop *l, struct tcp_watch *w)
{
    if (w->queued)
        return;
    w->queued = 1;
    l->ready[l->nready++] = (uint32_t)(w - l->tcp);
}

/* The watch entry of sock, or NULL: the loop's entries are the only user
 * pointers it trusts (a socket reborn in a freed slot starts at NULL). */
static struct tcp_watch *watch_of(struct fa_loop *l, const struct fa_tcp *sock)
{
    struct tcp_watch *w = fa_tcp_user(sock);
    if (w < l->tcp || w >= l->tcp + l->ntcp || w->sock != sock)
        return NULL;
    return w;
}

/* tcp_notify: record and return; callbacks run in the dispatch step. */
static void on_notify(void *ctx, struct fa_tcp *sock)
{
    struct fa_loop *l = ctx;
    struct tcp_watch *w = watch_of(l, sock);
    if (w)
        enqueue(l, w);
}

int fa_loop_create(const struct fa_loop_config *cfg, struct fa_loop **out)
{
    if (!cfg->stack || !cfg->clock.now ||
        ((cfg->read || cfg->read_meta || cfg->next_frame) && cfg->fd < 0) ||
        (cfg->wait && !cfg->flush))
        return -EINVAL;
    const struct fa_config *sc = fa_stack_config(cfg->stack);
    struct fa_loop *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->cfg = *cfg;
    l->ntcp = sc->tcp_max_conns;
    l->nudp = sc->udp_max_sockets;
    l->tcp = calloc(l->ntcp, sizeof *l->tcp);
    l->ready = calloc(l->ntcp, sizeof *l->ready);
    l->dispatching = calloc(l->ntcp, sizeof *l->dispatching);
    l->udp = calloc(l->nudp ? l->nudp : 1, sizeof *l->udp);
    if (!l->tcp || !l->ready || !l->dispatching || !l->udp) {
        fa_loop_destroy(l);
        return -ENOMEM;
    }
    /* Entries are handed out from the start, then recycled: those never
     * used are never touched (a stack sized for a million). */
    l->free_head = NO_WATCH;
    l->next = FA_TIME_NEVER;
    fa_stack_set_tcp_notify(cfg->stack, on_notify, l);
    *out = l;
    return 0;
}

void fa_loop_destroy(struct fa_loop *l)
{
    if (!l)
        return;
    if (l->tcp) {
        fa_loop_unwatch_all(l);
        fa_stack_set_tcp_notify(l->cfg.stack, NULL, NULL);
    }
    free(l->tcp);
    free(l->ready);
    free(l->dispatching);
    free(l->udp);
    free(l);
}

/* ---- TCP watches ------------------------------------------------------ */

int fa_loop_watch_tcp(struct fa_loop *l, struct fa_tcp *sock, unsigned interest,
                      fa_loop_tcp_fn fn, void *ctx)
{
    struct tcp_watch *w = watch_of(l, sock);
    if (!w) {
        if (l->free_head != NO_WATCH) {
            w = &l->tcp[l->free_head];
            l->free_head = w->next_free;
        } else if (l->tcp_used < l->ntcp) {
            w = &l->tcp[l->tcp_used++];
        } else {
            return -ENOMEM;
        }
        w->sock = sock;
        /* Not a socket handing itself to a new watch in its callback:
         * that one ran this turn. */
        w->fresh = sock != l->running;
        fa_tcp_set_user(sock, w);
    }
    w->fn = fn;
    w->ctx = ctx;
    w->interest = interest;
    enqueue(l, w); /* it may be ready already (accepted with data) */
    return 0;
}

void fa_loop_tcp_interest(struct fa_loop *l, struct fa_tcp *sock, unsigned interest)
{
    struct tcp_watch *w = watch_of(l, sock);
    if (!w)
        return;
    w->interest = interest;
    if (fa_tcp_events(sock) & interest)
        enqueue(l, w);
}

static void release(struct fa_loop *l, struct tcp_watch *w)
{
    fa_tcp_set_user(w->sock, NULL);
    w->sock = NULL;
    w->fn = NULL;
    w->next_free = l->free_head;
    l->free_head = (uint32_t)(w - l->tcp);
    /* A queued entry stays on the ready list; dispatch skips it. */
}

void fa_loop_unwatch_tcp(struct fa_loop *l, struct fa_tcp *sock)
{
    struct tcp_watch *w = watch_of(l, sock);
    if (w)
        release(l, w);
}

int fa_loop_close_tcp(struct fa_loop *l, struct fa_tcp *sock, fa_time now)
{
    struct tcp_watch *w = watch_of(l, sock);
    int err = fa_tcp_close(sock, now);
    if (w && err == -EINPROGRESS) {
        w->interest = FA_TCP_EV_CLOSED; /* the linger's outcome */
        return err;
    }
    if (w)
        release(l, w);
    return err;
}

void fa_loop_unwatch_all(struct fa_loop *l)
{
    for (uint32_t i = 0; i < l->tcp_used; i++)
        if (l->tcp[i].sock)
            release(l, &l->tcp[i]);
}

/* ---- UDP, descriptors, turn functions ---------------------------------- */

int fa_loop_watch_udp(struct fa_loop *l, struct fa_udp *sock, unsigned interest,
                      fa_loop_udp_fn fn, void *ctx)
{
    struct udp_watch *freew = NULL;
    for (uint32_t i = 0; i < l->nudp; i++) {
        if (l->udp[i].sock == sock) {
            freew = &l->udp[i];
            break;
        }
        if (!l->udp[i].sock && !freew)
            freew = &l->udp[i];
    }
    if (!freew)
        return -ENOMEM;
    *freew = (struct udp_watch){ sock, fn, ctx, interest };
    return 0;
}

void fa_loop_unwatch_udp(struct fa_loop *l, struct fa_udp *sock)
{
    for (uint32_t i = 0; i < l->nudp; i++)
        if (l->udp[i].sock == sock)
            l->udp[i] = (struct udp_watch){ 0 };
}

int fa_loop_watch_fd(struct fa_loop *l, int fd, fa_loop_fd_fn fn, void *ctx)
{
    for (int i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd) {
            l->fds[i] = (struct fd_watch){ fd, fn, ctx };
            return 0;
        }
    if (fd < 0 || l->nfds == FA_LOOP_MAX_FDS)
        return fd < 0 ? -EBADF : -ENOMEM;
    l->fds[l->nfds++] = (struct fd_watch){ fd, fn, ctx };
    return 0;
}

void fa_loop_unwatch_fd(struct fa_loop *l, int fd)
{
    for (int i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd) {
            l->fds[i] = l->fds[--l->nfds];
            return;
        }
}

int fa_loop_on_turn(struct fa_loop *l, fa_loop_turn_fn fn, void *ctx)
{
    if (l->nturn == FA_LOOP_MAX_TURN_FNS)
        return -ENOMEM;
    l->turn[l->nturn++] = (struct turn_fn){ fn, ctx };
    return 0;
}

/* ---- a turn ------------------------------------------------------------ */

static int has_source(const struct fa_loop *l)
{
    return l->cfg.read || l->cfg.read_meta || l->cfg.next_frame;
}

/* Reads what the source holds, up to READ_BATCH frames, into the turn's
 * batch. Returns the frame count, or -errno. */
static int read_batch(struct fa_loop *l, fa_time now)
{
    int count = 0, err = 0;
    for (; count < READ_BATCH; count++) {
        struct fa_frame_meta m = { 0 };
        const uint8_t *frame = l->frame;
        long n = l->cfg.next_frame ? l->cfg.next_frame(l->cfg.read_ctx, &frame, &m)
                 : l->cfg.read_meta
                     ? l->cfg.read_meta(l->cfg.read_ctx, l->frame, sizeof l->frame, &m)
                     : l->cfg.read(l->cfg.read_ctx, l->frame, sizeof l->frame);
        if (n == -EAGAIN || n == -EINTR)
            break;
        if (n < 0) {
            err = (int)n;
            break;
        }
        const struct fa_device *rx = &l->cfg.rx;
        if (rx->transmit_meta && (m.flags || m.gso_type))
            rx->transmit_meta(rx->ctx, frame, (size_t)n, &m);
        else if (rx->transmit) /* a pipeline without offloads */
            rx->transmit(rx->ctx, frame, (size_t)n);
        else
            fa_stack_input_meta(l->cfg.stack, frame, (size_t)n, &m, now);
    }
    return err < 0 ? err : count;
}

/* Runs the callbacks of the n sockets in list. One still ready for its
 * interest afterwards goes back on the ready list for the next turn. */
static void run_watches(struct fa_loop *l, const uint32_t *list, uint32_t n, fa_time now)
{
    for (uint32_t i = 0; i < n; i++) {
        struct tcp_watch *w = &l->tcp[list[i]];
        w->queued = 0;
        w->fresh = 0;
        if (!w->sock)
            continue;
        unsigned ev = fa_tcp_events(w->sock);
        if (ev & (w->interest | FA_TCP_EV_ERROR)) {
            l->running = w->sock;
            w->fn(w->ctx, w->sock, ev, now);
            l->running = NULL;
        }
        if (w->sock && (fa_tcp_events(w->sock) & w->interest))
            enqueue(l, w);
    }
}

/* Takes the sockets watched during this dispatch (an accept callback's)
 * off the ready list into l->dispatching; returns how many. */
static uint32_t take_fresh(struct fa_loop *l)
{
    uint32_t n = 0, keep = 0;
    for (uint32_t i = 0; i < l->nready; i++) {
        uint32_t k = l->ready[i];
        if (l->tcp[k].fresh && l->tcp[k].sock)
            l->dispatching[n++] = k;
        else
            l->ready[keep++] = k;
    }
    l->nready = keep;
    return n;
}

/* Runs this turn's ready sockets, then those the callbacks watched (a
 * connection accepted with its request in this batch is answered in it,
 * the answer carrying the ACK), for FRESH_PASSES rounds at most: sockets
 * that keep watching each other anew wait for the next turn. */
enum { FRESH_PASSES = 4 };
static void dispatch_tcp(struct fa_loop *l, fa_time now)
{
    uint32_t n = l->nready;
    uint32_t *list = l->ready;
    l->ready = l->dispatching;
    l->dispatching = list;
    l->nready = 0;
    run_watches(l, list, n, now);
    for (int pass = 0; pass < FRESH_PASSES && (n = take_fresh(l)) > 0; pass++)
        run_watches(l, l->dispatching, n, now);
}

static int dispatch_udp(struct fa_loop *l, fa_time now)
{
    int still_ready = 0;
    for (uint32_t i = 0; i < l->nudp; i++) {
        struct udp_watch *w = &l->udp[i];
        if (!w->sock)
            continue;
        unsigned ev = fa_udp_events(w->sock);
        if (ev & (w->interest | FA_TCP_EV_ERROR))
            w->fn(w->ctx, w->sock, ev, now);
        if (w->sock && (fa_udp_events(w->sock) & w->interest))
            still_ready = 1;
    }
    return still_ready;
}

/* The whole turn is one fa_stack_batch_begin/end batch: the frames, the
 * timers and the callbacks. So the ACKs owed for what came wait for the
 * callbacks' answers and ride on them — the reply to a request, the FIN
 * of a close after the peer's — as a kernel's delayed ACK would; the
 * rest go at the batch's end. With defer, the source's flush is left to
 * the wait that follows (cfg.wait sends and sleeps in one call). */
static int turn(struct fa_loop *l, fa_time now, int defer)
{
    int more_input = 0, took = 0;
    l->looked = 0;
    l->answered = 0;
    uint64_t sent = fa_stack_counter(l->cfg.stack, FA_CNT_TX_FRAMES);
    fa_stack_batch_begin(l->cfg.stack);
    if (has_source(l)) {
        int got = read_batch(l, now);
        if (got < 0) {
            fa_stack_batch_end(l->cfg.stack, now);
            if (l->cfg.flush)
                l->cfg.flush(l->cfg.read_ctx);
            return got;
        }
        more_input = got == READ_BATCH;
        took = got > 0;
        /* A receive pipeline ending in fa_stack_sink_device stamps frames
         * with the clock as they pass: the turn must not run behind. */
        now = l->cfg.clock.now(l->cfg.clock.ctx);
    }
    fa_time next = fa_stack_poll(l->cfg.stack, now);
    for (int i = 0; i < l->nturn; i++)
        next = min_time(next, l->turn[i].fn(l->turn[i].ctx, now));
    dispatch_tcp(l, now);
    int udp_ready = dispatch_udp(l, now);
    fa_stack_batch_end(l->cfg.stack, now);
    l->answered = took && fa_stack_counter(l->cfg.stack, FA_CNT_TX_FRAMES) != sent;
    /* Callbacks may have sent: that arms timers. */
    next = min_time(next, fa_stack_poll(l->cfg.stack, now));
    if (more_input || udp_ready || l->nready)
        next = now;
    l->next = next;
    if (defer) {
        l->unflushed = 1;
    } else if (l->cfg.wait) {
        /* A source that waits itself sends with a look (a wait of 0),
         * which also takes in frames that came while sending (io_uring
         * runs what completed): they are not in the descriptor any more,
         * so the next turn must not wait. One system call, not a flush
         * and a look. A failed look fails the loop (the frames it should
         * have sent would wait for ever). */
        l->unflushed = 0;
        int got = l->cfg.wait(l->cfg.read_ctx, 0);
        if (got < 0 && got != -EINTR)
            return got;
        if (got > 0)
            l->next = now;
        l->looked = got >= 0;
    } else if (l->cfg.flush) {
        l->unflushed = 0;
        l->cfg.flush(l->cfg.read_ctx);
    }
    return 0;
}

int fa_loop_process(struct fa_loop *l, fa_time now)
{
    return turn(l, now, 0);
}

static void flush_deferred(struct fa_loop *l)
{
    if (l->unflushed && l->cfg.flush)
        l->cfg.flush(l->cfg.read_ctx);
    l->unflushed = 0;
}

/* A source that waits itself (cfg.wait) and nothing else to watch: no
 * poll(2). */
static int source_waits(const struct fa_loop *l)
{
    return l->cfg.wait && l->nfds == 0;
}

int fa_loop_fd(const struct fa_loop *l)
{
    return has_source(l) ? l->cfg.fd : -1;
}

fa_time fa_loop_next(const struct fa_loop *l)
{
    return l->next;
}

void fa_loop_stop(struct fa_loop *l)
{
    l->stop = 1;
}

static int timeout_ms(fa_time next, fa_time now)
{
    if (next <= now)
        return 0;
    fa_time wait = (next - now + FA_NS_PER_MS - 1) / FA_NS_PER_MS;
    return wait > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)wait;
}

/* Sleeps in the source's own wait until input or the deadline, as
 * wait_turn below (the same busy polling). */
static int source_wait(struct fa_loop *l, fa_time until)
{
    l->unflushed = 0; /* the wait sends them */
    fa_time now = l->cfg.clock.now(l->cfg.clock.ctx);
    fa_time deadline = min_time(l->next, until);
    fa_time spin_end = l->cfg.busy_poll ? now + l->cfg.busy_poll : now;
    for (;;) {
        int spin = now < spin_end && now < deadline;
        fa_time sleep = spin || deadline <= now ? 0 : deadline - now;
        if (sleep > (fa_time)MAX_SLEEP_MS * FA_NS_PER_MS)
            sleep = (fa_time)MAX_SLEEP_MS * FA_NS_PER_MS;
        int r = l->cfg.wait(l->cfg.read_ctx, sleep);
        if (r < 0)
            return r == -EINTR ? 0 : r;
        if (r > 0 || !spin)
            return 0;
        now = l->cfg.clock.now(l->cfg.clock.ctx);
    }
}

/* Sleeps in poll(2) until input, a watched descriptor or the deadline;
 * runs the descriptors' callbacks. Or returns at once, for a turn that
 * reads first (below). */
static int wait_turn(struct fa_loop *l, fa_time until)
{
    if (source_waits(l))
        return source_wait(l, until);
    flush_deferred(l);
    /* A turn that took frames and answered them is followed by one that
     * reads before poll(2): the answers bring answers back at once (a
     * TAP's write runs the kernel's receive of the frame, and the
     * kernel's ACK is queued before the write returns), and a read that
     * finds them costs less than a poll(2) that says they are there and
     * the read after it. (After a turn that sent nothing, that read
     * would mostly find nothing.) A source that waits itself looked
     * already. At most SKIP_MAX in a row, so that watched descriptors
     * are polled. */
    if (l->answered && !l->cfg.wait && l->skips < SKIP_MAX) {
        l->skips++;
        return 0;
    }
    l->skips = 0;
    struct pollfd pfd[1 + FA_LOOP_MAX_FDS];
    pfd[0] = (struct pollfd){ .fd = fa_loop_fd(l), .events = POLLIN };
    int n = l->nfds;
    for (int i = 0; i < n; i++)
        pfd[1 + i] = (struct pollfd){ .fd = l->fds[i].fd, .events = POLLIN };
    fa_time now = l->cfg.clock.now(l->cfg.clock.ctx);
    fa_time deadline = min_time(l->next, until);
    /* A source that waits itself sends and collects what is done now,
     * so that poll(2) of its descriptor covers the rest (the turn just
     * before did, unless it left its frames to the wait). */
    int looked = l->looked;
    l->looked = 0;
    if (l->cfg.wait && !looked) {
        int got = l->cfg.wait(l->cfg.read_ctx, 0);
        if (got < 0)
            return got;
        if (got > 0)
            deadline = now;
    }
    /* Busy polling: look without sleeping until something comes, a
     * timer is due or the spin is over; then sleep as usual. A frame
     * that finds us spinning skips the wake-up (tens of microseconds). */
    fa_time spin_end = l->cfg.busy_poll ? now + l->cfg.busy_poll : now;
    int r;
    for (;;) {
        int spin = now < spin_end && now < deadline;
        r = poll(pfd, (nfds_t)(1 + n), spin ? 0 : timeout_ms(deadline, now));
        if (r != 0 || !spin)
            break;
        now = l->cfg.clock.now(l->cfg.clock.ctx);
    }
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    if (r > 0 && (pfd[0].revents & (POLLERR | POLLNVAL)))
        return -EIO;
    now = l->cfg.clock.now(l->cfg.clock.ctx);
    /* A callback may unwatch: walk the copy taken for poll. */
    for (int i = 0; r > 0 && i < n; i++) {
        if (!(pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        for (int j = 0; j < l->nfds; j++)
            if (l->fds[j].fd == pfd[1 + i].fd) {
                l->fds[j].fn(l->fds[j].ctx, l->fds[j].fd, now);
                /* What it sent goes with the next turn, or is flushed
                 * if the run ends first. */
                l->unflushed = 1;
                break;
            }
    }
    return 0;
}

int fa_loop_run(struct fa_loop *l, fa_time until)
{
    for (;;) {
        fa_time now = l->cfg.clock.now(l->cfg.clock.ctx);
        int err = 0;
        if (!l->stop && now < until)
            err = turn(l, now, source_waits(l));
        if (!err && !l->stop && now < until)
            err = wait_turn(l, until);
        if (err < 0 || l->stop || now >= until) {
            flush_deferred(l);
            l->stop = 0; /* a later run starts afresh */
            l->skips = 0;
            return err < 0 ? err : 0;
        }
    }
}

long fa_loop_tap_read(void *tap, uint8_t *buf, size_t cap)
{
    return fa_tap_read(tap, buf, cap);
}

long fa_loop_tap_read_meta(void *tap, uint8_t *buf, size_t cap, struct fa_frame_meta *meta)
{
    return fa_tap_read_meta(tap, buf, cap, meta);
}
