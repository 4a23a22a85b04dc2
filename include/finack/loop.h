/* finack/loop.h — an event loop for one stack (outside the core): it reads
 * frames from a descriptor (a TAP), runs the stack's timers, and calls
 * back the application for the sockets it watches, the way poll(2) wakes
 * an ordinary non-blocking socket program.
 *
 *   fa_loop_create(&(struct fa_loop_config){ .stack = s, .clock = clk,
 *                  .fd = fa_tap_fd(tap), .read = ..., }, &loop);
 *   fa_loop_watch_tcp(loop, listener, FA_TCP_EV_ACCEPT, on_listener, ctx);
 *   fa_loop_run(loop, FA_TIME_NEVER);   // until fa_loop_stop()
 *
 *   static void on_listener(void *ctx, struct fa_tcp *l, unsigned ev,
 *                           fa_time now) {
 *       struct fa_tcp *c;
 *       while (fa_tcp_accept(l, &c) == 0)
 *           fa_loop_watch_tcp(loop, c, FA_TCP_EV_READABLE, on_conn, ...);
 *   }
 *
 * Readiness is level-triggered against an interest mask, as with poll: a
 * socket's callback runs while (fa_tcp_events() & interest) is nonzero,
 * once per turn; FA_TCP_EV_ERROR is always reported. Ask for WRITABLE only
 * while there is something to write. The loop learns of changes through
 * the stack's tcp_notify hook, which it installs: it never scans sockets
 * that have nothing new (UDP sockets, few by design, are checked each
 * turn).
 *
 * A watched socket's user pointer (fa_tcp_set_user) belongs to the loop;
 * keep per-socket state in the callback's ctx. Close a watched socket with
 * fa_loop_close_tcp(), or unwatch it before fa_tcp_close().
 *
 * Embedding in a program's own poll/epoll loop: watch fa_loop_fd() for
 * input, and whenever it is readable or fa_loop_next() has come, call
 * fa_loop_process(). Descriptors added with fa_loop_watch_fd() are only
 * polled by fa_loop_run(). */
#ifndef FINACK_LOOP_H
#define FINACK_LOOP_H

#include <finack/stack.h>
#include <finack/tcp.h>
#include <finack/udp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_loop;

typedef void (*fa_loop_tcp_fn)(void *ctx, struct fa_tcp *sock, unsigned events,
                               fa_time now);
typedef void (*fa_loop_udp_fn)(void *ctx, struct fa_udp *sock, unsigned events,
                               fa_time now);
typedef void (*fa_loop_fd_fn)(void *ctx, int fd, fa_time now);
/* Runs once per turn; returns when it next wants to run (FA_TIME_NEVER). */
typedef fa_time (*fa_loop_turn_fn)(void *ctx, fa_time now);

struct fa_loop_config {
    struct fa_stack *stack;
    struct fa_clock clock;
    /* The frame source: fd polls readable when frames wait; read takes
     * one frame without blocking and returns its length, -EAGAIN when
     * none waits, or another -errno (the loop then fails with it). */
    int fd;
    long (*read)(void *ctx, uint8_t *buf, size_t cap);
    /* Or, for a source with offload metadata (a TAP with FA_TAP_OFFLOAD):
     * the same with the frame's fa_frame_meta. Used instead of read when
     * set; frames may be up to FA_GSO_FRAME_MAX bytes. */
    long (*read_meta)(void *ctx, uint8_t *buf, size_t cap, struct fa_frame_meta *meta);
    /* Or a source that lends its frames in place (fa_tap_uring_next):
     * *frame stays valid until the next call. */
    long (*next_frame)(void *ctx, const uint8_t **frame, struct fa_frame_meta *meta);
    void *read_ctx;
    /* Sends what was queued (fa_tap_uring_flush: in one system call):
     * called with read_ctx at the end of every turn, or, with wait set,
     * only when queued frames would otherwise wait (a turn that left
     * them to the wait is followed by poll(2), or the run ends); may be
     * NULL. */
    void (*flush)(void *ctx);
    /* And, for a source that waits itself (fa_tap_uring_wait; flush must
     * be set too): sends what the turn queued and sleeps up to timeout
     * ns for frames, in one system call; returns 1 if a frame came, 0 if
     * not, or -errno. fa_loop_run uses it instead of flush and poll(2)
     * while no other descriptor is watched; otherwise, and in
     * fa_loop_process(), a turn ends with it called with 0 (it sends
     * then, instead of flush; 1 must also say it took frames off fd) and
     * fa_loop_run sleeps in poll(2) on fd. A -errno from it fails the
     * run or fa_loop_process. May be NULL. */
    int (*wait)(void *ctx, fa_time timeout);
    /* Where frames read go. Default (transmit NULL): fa_stack_input_meta.
     * Otherwise a pipeline (pcap tee, fault wrapper) that must end in the
     * stack (fa_stack_sink_device); a frame with metadata goes to its
     * transmit_meta, or, if it has none, to transmit as bare bytes (a
     * checksum left partial then fails: open the TAP without offloads
     * for such a pipeline). */
    struct fa_device rx;
    /* Busy polling (as the kernel's SO_BUSY_POLL): before sleeping in
     * poll(2), fa_loop_run keeps looking for this long (ns), so a frame
     * that arrives meanwhile costs no wake-up. 0 (the default) never
     * spins; a loop with a core of its own may spin for ever. */
    fa_time busy_poll;
};

/* Allocates the loop (watch entries for every socket the stack can hold)
 * and installs itself as the stack's tcp_notify. -EINVAL, -ENOMEM. */
int fa_loop_create(const struct fa_loop_config *cfg, struct fa_loop **out);
/* Detaches from the stack (tcp_notify NULL); sockets are left as they are. */
void fa_loop_destroy(struct fa_loop *loop);

/* Watches sock: fn(ctx, sock, events, now) runs in a turn where
 * events & (interest | FA_TCP_EV_ERROR) is nonzero. Watching again
 * replaces fn, ctx and interest. -ENOMEM if the loop is full. */
int fa_loop_watch_tcp(struct fa_loop *loop, struct fa_tcp *sock, unsigned interest,
                      fa_loop_tcp_fn fn, void *ctx);
/* Changes what a watched socket's callback waits for. */
void fa_loop_tcp_interest(struct fa_loop *loop, struct fa_tcp *sock,
                          unsigned interest);
void fa_loop_unwatch_tcp(struct fa_loop *loop, struct fa_tcp *sock);
/* fa_tcp_close() that also unwatches. With SO_LINGER t > 0 it returns
 * -EINPROGRESS and keeps watching for FA_TCP_EV_CLOSED (call it again). */
int fa_loop_close_tcp(struct fa_loop *loop, struct fa_tcp *sock, fa_time now);
/* Forgets every watched socket (before fa_stack_close_owner, say). */
void fa_loop_unwatch_all(struct fa_loop *loop);

/* UDP: level-triggered on fa_udp_events() & (interest | ERROR). */
int fa_loop_watch_udp(struct fa_loop *loop, struct fa_udp *sock, unsigned interest,
                      fa_loop_udp_fn fn, void *ctx);
void fa_loop_unwatch_udp(struct fa_loop *loop, struct fa_udp *sock);

/* More descriptors for fa_loop_run() to poll (stdin, a control socket):
 * fn runs while fd is readable or at its end. At most FA_LOOP_MAX_FDS.
 * While a source read by call keeps bringing frames that are answered,
 * they are polled once every 5 turns (see fa_loop_run). */
#define FA_LOOP_MAX_FDS 8
int fa_loop_watch_fd(struct fa_loop *loop, int fd, fa_loop_fd_fn fn, void *ctx);
void fa_loop_unwatch_fd(struct fa_loop *loop, int fd);

/* Work of the application's own (timers, retries, fault wrappers' held
 * frames): fn runs every turn. At most FA_LOOP_MAX_TURN_FNS. */
#define FA_LOOP_MAX_TURN_FNS 8
int fa_loop_on_turn(struct fa_loop *loop, fa_loop_turn_fn fn, void *ctx);

/* One turn: reads the frames waiting (up to 64), runs every timer due,
 * runs the turn functions and the callbacks of ready sockets (then of
 * sockets those callbacks watched, such as connections just accepted),
 * all as one fa_stack_batch_begin/end batch: an ACK owed for what came
 * rides on what the callbacks send, or goes at the turn's end. Returns 0
 * or the frame source's -errno. Call it when fa_loop_fd() is readable or
 * at fa_loop_next(). */
int fa_loop_process(struct fa_loop *loop, fa_time now);
/* The descriptor to poll for input. */
int fa_loop_fd(const struct fa_loop *loop);
/* When fa_loop_process() must run next even without input: the earliest
 * timer, or now-ish when work is left over from the last turn. */
fa_time fa_loop_next(const struct fa_loop *loop);

/* Runs turns, sleeping in poll(2), until fa_loop_stop() or the clock
 * passes until. Returns 0, or -errno when the frame source fails. With a
 * source read by call (no wait), a turn that took frames and sent frames
 * is followed by a turn that reads before poll(2), at most 4 in a row: a
 * TAP's answer to what we wrote is there before the write returns. */
int fa_loop_run(struct fa_loop *loop, fa_time until);
/* Makes fa_loop_run() return after the current turn (a later run starts
 * afresh). Safe in a signal handler. */
void fa_loop_stop(struct fa_loop *loop);

/* The frame source of a TAP (fa_tap_fd / fa_tap_read), for the config;
 * the second for config.read_meta (a TAP with offloads). */
long fa_loop_tap_read(void *tap, uint8_t *buf, size_t cap);
long fa_loop_tap_read_meta(void *tap, uint8_t *buf, size_t cap, struct fa_frame_meta *meta);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
