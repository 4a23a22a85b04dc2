/* fuzz_sim.c — libFuzzer target, structure-aware: the input is a
 * sequence of segments (seq and ack relative to what the receiver
 * expects, flags, window, any options, data), time steps, application
 * calls and link outages, played on two simulated stacks (world.h) with
 * the simulator's invariants on; no raw bytes, so every input is a
 * well-formed conversation and mutations explore TCP's decisions. */
#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return world_play(data, size, WORLD_OPS_STRUCTURED);
}
