/* sim_internal.h — between the simulator (sim.c), its invariant checker
 * (check.c) and the checker's RTT oracle (rtt_oracle.c). */
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
void fa_sim_check_forget(struct fa_sim_check *k, int host, uint32_t raddr, uint16_t lport,
                         uint16_t rport);
void fa_sim_check_free(struct fa_sim_check *k);
/* The RTT oracle (rtt_oracle.c), through the checker: host sent a frame
 * now (arp: as it took in an ARP frame, which released it; returns the
 * tag its copies carry, 0 for none); a copy of the frame tagged reached
 * the host whose address is `to`; an RTT sample host took on sock, on an
 * ACK the peer sent at answer_sent (-1: on none a host sent). */
uint64_t fa_sim_check_sent(struct fa_sim_check *k, int host, const uint8_t *frame,
                           size_t len, fa_time now, int arp);
void fa_sim_check_delivered(struct fa_sim_check *k, uint64_t tag, uint32_t to,
                            const uint8_t *frame, size_t len, fa_time now);
void fa_sim_check_rtt(struct fa_sim_check *k, int host, const struct fa_tcp *sock,
                      fa_time rtt, int source, int64_t answer_sent, fa_time now);

struct fa_sim_rtt;
struct fa_sim_rtt_sample {
    int host;
    uint32_t raddr;
    uint16_t lport, rport;
    fa_time rtt;
    int source;          /* enum fa_rtt_source */
    fa_time answer_sent; /* when the peer sent the ACK it was taken on */
    fa_time now;
};
struct fa_sim_rtt_verdict {
    fa_time at; /* now - rtt: when the timed frame left */
    /* When the first frame sent since (about) then left, and whether an
     * ARP frame released it; if it did, when the first of those released
     * with it arrived: FA_TIME_NEVER for none, or lost */
    fa_time first_sent, first_arrived;
    int first_arp;
};
struct fa_sim_rtt *fa_sim_rtt_create(void);
void fa_sim_rtt_destroy(struct fa_sim_rtt *o);
uint64_t fa_sim_rtt_sent(struct fa_sim_rtt *o, int from, const uint8_t *frame, size_t len,
                         fa_time now, int arp);
void fa_sim_rtt_delivered(struct fa_sim_rtt *o, uint64_t tag, uint32_t to, const uint8_t *frame,
                          size_t len, fa_time now);
void fa_sim_rtt_forget(struct fa_sim_rtt *o, int host, uint32_t raddr, uint16_t lport,
                       uint16_t rport);
/* Samples judged, and let pass as not known (their frame older than the
 * ring, or their record given to a newer connection). */
void fa_sim_rtt_counts(const struct fa_sim_rtt *o, uint64_t *judged, uint64_t *unknown);
/* 1 if a frame host sent on the connection when the sample says, and
 * the peer had when it answered, explains the sample (or the frame is
 * older than what is kept), else 0; *v says what was found. */
int fa_sim_rtt_judge(struct fa_sim_rtt *o, const struct fa_sim_rtt_sample *q,
                     struct fa_sim_rtt_verdict *v);

#endif
