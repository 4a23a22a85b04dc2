/* world.h — the fuzz targets' simulated world (world.c): two finack
 * hosts on the simulator, A (198.18.0.1) and B (198.18.0.2), with the
 * simulator's invariants on, brought into deep states before the input
 * is played: a listener on each side, an established connection whose
 * reader stopped (a zero window, data queued, the persist timer), one
 * idle with data each way, one B closed (A in CLOSE-WAIT), one A closed
 * whose end sits in compact TIME-WAIT, and one half-open attempt. The
 * input is then read as operations (world_play):
 *
 *   0 host len16 bytes       a raw frame, as it is
 *   1 host conn len16 bytes  a raw frame re-addressed to a live
 *                            connection's 4-tuple, checksums made right
 *   2 host conn flags seq32 ack32 wnd16 olen opts.. dlen16
 *                            a TCP segment to a live connection, seq and
 *                            ack relative to what the receiver expects
 *   3 ms16                   time passes
 *   4 conn what n16          the application: send, read, shutdown,
 *                            close, abort, set an option
 *   5 host n                 host's link goes dark for n x 50 ms
 *
 * Everything finishes with a minute of virtual time, the invariants
 * checked (a violation aborts: a finding), and every socket closed and
 * freed (leaks show under ASan). */
#ifndef FA_FUZZ_WORLD_H
#define FA_FUZZ_WORLD_H

#include <stddef.h>
#include <stdint.h>

/* Which operations the input may use (a bit per opcode). */
#define WORLD_OPS_ALL 0x3f
#define WORLD_OPS_STRUCTURED 0x3c /* segments, time, applications, link */

/* Plays data on a fresh world; returns 0 (aborts on a finding). */
int world_play(const uint8_t *data, size_t size, unsigned ops);

#endif
