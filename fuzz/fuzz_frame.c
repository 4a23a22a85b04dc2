/* fuzz_frame.c — libFuzzer target: frames into a stack that holds
 * listeners, established connections with data in flight and a closed
 * window, a close in progress and TIME-WAIT entries (world.h): raw
 * frames, frames re-addressed to a live connection with their checksums
 * made right (so mutations reach TCP, not only the checksum test), and
 * crafted segments near the receiver's window; the simulator's
 * invariants checked to the end. */
#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return world_play(data, size, WORLD_OPS_ALL);
}
