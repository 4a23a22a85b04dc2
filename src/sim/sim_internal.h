/* sim_internal.h — between the simulator (sim.c) and its invariant
 * checker (check.c). */
#ifndef FA_SIM_INTERNAL_H
#define FA_SIM_INTERNAL_H

#include <finack/sim.h>

struct fa_sim_check;
struct fa_sim_check *fa_sim_checker(const struct fa_sim *sim);
size_t fa_sim_check_size(void);
/* Before a frame host sends: how many SACKs its TCP gave up merging a
 * full scoreboard (TCP_SB_MERGED_SACKED): resending SACKed bytes is then
 * wasteful, not wrong. */
void fa_sim_check_sacks_given_up(struct fa_sim_check *k, int host, uint64_t n);
void fa_sim_check_frame(struct fa_sim_check *k, int host, int dir,
                        const uint8_t *frame, size_t len, fa_time t);
/* After a frame fa_sim_check_frame saw arriving went into the host:
 * taken, 1 if the host's TCP got it (a frame corrupted in its Ethernet
 * header is dropped before: what it says counts for nothing); stored, 1
 * unless its text was dropped for want of memory (as if lost: no ACK). */
void fa_sim_check_taken(struct fa_sim_check *k, int taken, int stored);
void fa_sim_check_state(struct fa_sim_check *k, int host, int from, int to,
                        fa_time t);
void fa_sim_check_seqs(struct fa_sim_check *k, int host,
                       const struct fa_stack *stack, fa_time t);
/* A frame fa_sim_inject() handed to host: something arrived to answer
 * (no window or sequence tracking: it is no stack's word). */
void fa_sim_check_injected(struct fa_sim_check *k, int host, const uint8_t *frame,
                           size_t len, fa_time t);
void fa_sim_check_forget(struct fa_sim_check *k, int host, uint16_t lport,
                         uint16_t rport);

#endif
