/* finack/host.h — glue between a stack and a real host (outside the
 * core): the monotonic clock, OS randomness, and a device that feeds
 * frames into a stack. The run loop is in finack/loop.h. */
#ifndef FINACK_HOST_H
#define FINACK_HOST_H

#include <finack/stack.h>
#include <finack/tap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

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

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
