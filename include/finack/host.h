/* finack/host.h — glue between a stack and a real host (outside the
 * core): the monotonic clock, OS randomness, a device that feeds frames
 * into a stack, and a run loop for a stack on a TAP device. */
#ifndef FINACK_HOST_H
#define FINACK_HOST_H

#include <finack/stack.h>
#include <finack/tap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC in nanoseconds. */
struct fa_clock fa_clock_monotonic(void);
/* A virtual clock: reads *now, which the caller advances. */
struct fa_clock fa_clock_virtual(const fa_time *now);
/* getrandom(2). */
struct fa_rng fa_rng_os(void);

/* A device whose "transmit" is fa_stack_input(stack, ..., clock now):
 * the end of a receive pipeline (TAP -> pcap tee -> fault -> stack). */
struct fa_stack_sink {
    struct fa_stack *stack;
    struct fa_clock clock;
};
struct fa_device fa_stack_sink_device(struct fa_stack_sink *sink);

#define FA_LOOP_MAX_FDS 4

struct fa_loop_fd {
    int fd;
    void (*on_ready)(void *ctx, fa_time now);
    void *ctx;
};

/* Drives one stack on one TAP: waits in poll(2) on the TAP fd (and the
 * extra fds) until a frame arrives or the next timer is due, reads up to
 * 64 frames into rx as one batch (fa_stack_batch_begin/end: one ACK per
 * connection per batch), runs timers, and calls on_turn once per turn. */
struct fa_tap_loop {
    struct fa_tap *tap;
    struct fa_stack *stack;
    struct fa_device rx;   /* receive pipeline; must end in the stack */
    struct fa_clock clock;
    /* Optional: more timers (fault wrappers' held frames). */
    fa_time (*poll_extra)(void *ctx, fa_time now);
    void *poll_extra_ctx;
    /* Optional: the application's work; returns its next deadline. */
    fa_time (*on_turn)(void *ctx, fa_time now);
    void *on_turn_ctx;
    volatile int *stop; /* the loop returns when *stop becomes nonzero */
    /* Optional: more descriptors to watch (a control socket, stdin);
     * on_ready runs when one is readable (or at its end). The loop reads
     * the array every turn: set an fd to -1 to stop watching it. */
    struct fa_loop_fd *fds;
    int nfds; /* at most FA_LOOP_MAX_FDS */
};
/* Runs until *stop or the clock passes until. Returns 0, or -errno when
 * the TAP fails. */
int fa_tap_loop_run(struct fa_tap_loop *loop, fa_time until);

#ifdef __cplusplus
}
#endif
#endif
