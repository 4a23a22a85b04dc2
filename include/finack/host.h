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

/* Drives one stack on one TAP: waits in poll(2) on the TAP fd until a
 * frame arrives or the stack's next timer is due, reads frames in
 * batches into rx, runs timers, and calls on_turn once per turn. */
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
    /* Optional: one more descriptor to watch (a control socket); on_fd
     * runs when it is readable. extra_fd < 0 (or 0 fields) = none. */
    int extra_fd;
    void (*on_fd)(void *ctx, fa_time now);
    void *on_fd_ctx;
};
/* Runs until *stop or the clock passes until. Returns 0, or -errno when
 * the TAP fails. */
int fa_tap_loop_run(struct fa_tap_loop *loop, fa_time until);

#ifdef __cplusplus
}
#endif
#endif
