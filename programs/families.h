/* families.h — finack-sim's "apps" and "attack" sweep families
 * (families.c). */
#ifndef FA_PROG_FAMILIES_H
#define FA_PROG_FAMILIES_H

#include <stddef.h>
#include <stdint.h>

#include <finack/types.h>

struct fa_config;
struct fa_prng;

/* TCP options a simulated host runs with, drawn per seed (every family):
 * SACK or timestamps off on one host in four each, NewReno instead of
 * CUBIC on one in three; so the sweeps meet peers that lack them, on one
 * side or both. */
enum { SIM_NO_SACK = 1, SIM_NO_TS = 2, SIM_NEWRENO = 4,
       SIM_COOKIES = 8 /* every SYN a listener takes is answered by a SYN cookie */ };
unsigned sim_draw_tcp_options(struct fa_prng *p);
void sim_apply_tcp_options(struct fa_config *cfg, unsigned opts);
/* Half the worlds (every family) read each host's frames in batches, as
 * finack's event loop does (fa_sim_set_batching): a batch of 20 us,
 * 200 us or 1 ms, drawn per host from a die of its own (the rest of a
 * seed's world is what it was before); 0 for none. */
fa_time sim_draw_batching(uint64_t seed, int host);
/* Half the hosts that read in batches coalesce what a batch reads (GRO,
 * fa_sim_set_gro): a segment that swallows every range a receiver held
 * comes so — a go-back-N resend merged (review of the receive side). A
 * die of its own. */
int sim_draw_gro(uint64_t seed, int host);
/* Sets the drawn batching (and GRO) on host (a host of sim): 0 or
 * -errno. */
struct fa_sim;
int sim_apply_batching(struct fa_sim *sim, uint64_t seed, int host);
/* A quarter of the worlds (every family) run a host's timers late while
 * it sleeps (fa_sim_set_timer_lag): up to 1 ms (a loop that sleeps in
 * whole milliseconds), 20 ms, 250 ms (a coarse tick), 2 s (a process the
 * system starves), 30 s or 2 min (one stopped, a virtual machine paused:
 * longer than keepalive's interval, and than all its probes), drawn per
 * host from a die of its own; 0 for none. */
fa_time sim_draw_timer_lag(uint64_t seed, int host);
int sim_apply_timer_lag(struct fa_sim *sim, uint64_t seed, int host);
/* The larger of the two hosts' lags: a world whose timers run 30 s or
 * more late is slow (each loss, each delayed ACK may wait that long), so
 * a side sends at most 100 windows (sim_long_path_bytes), and a run's
 * time limits grow by 100 lags, its stall limit by 4 — still a limit. */
fa_time sim_timer_lag_max(uint64_t seed);
/* One world in 16 (every family) is a path of seconds, a satellite hop
 * or a cellular bearer with a deep queue: each link 0.25 to 1.5 s (a
 * round trip of 1 to 6 s), its loss held to 5 %. A die of its own; 1 if
 * this seed drew it. On such a path a side sends at most 100 windows
 * (sim_long_path_bytes): a run of hours says no more than one of
 * minutes. */
struct fa_sim_link;
int sim_draw_long_path(uint64_t seed, struct fa_sim_link *up, struct fa_sim_link *down);
uint32_t sim_long_path_bytes(uint32_t bytes, uint32_t sndbuf, uint32_t peer_rcvbuf);
/* One world in 8 (every family) has a middlebox that resegments TCP
 * (fa_sim_link.resegment) before the hosts' down links: 5 % to 50 % of
 * the data segments are cut into pieces; one in 8, one that divides
 * ACKs (fa_sim_link.ack_divide): 10 % to 100 % of them. A die of its own. */
void sim_draw_middlebox(uint64_t seed, struct fa_sim_link *down);
/* Keepalive on sock, so a half-open connection (a lost RST, a half-open
 * entry dropped after its SYN-ACK retries while the final ACK was lost)
 * is found out by sending and no run waits in silence: idle 2 minutes,
 * probes every 10 s. The idle time grows by 4 of the world's timer lags
 * (sim_timer_lag_max): a peer whose timers run 2 minutes late is silent
 * that long while it is alive, and needs a second late timer when an
 * ARP reply is lost — with a fixed 2 minutes, transfer seed 10816's
 * server gave up on a client that was answering. The apps and attack
 * families send nine probes (the default): with five, a few percent of
 * loss each way lost every probe or its answer once in 20,000 seeds
 * (apps seed 12048) — a timeout the network earned, which the checks
 * would call a failure. The transfer family, whose oracle excuses heavy
 * loss, sends five. */
struct fa_tcp;
void sim_keepalive(struct fa_tcp *sock, fa_time lag, int probes);
/* Whether the client (host 0) may rightly be reset by the server's
 * (host 1) listener: the server answered with SYN cookies and never
 * accepted the connection, and the client's next word after its
 * handshake's ACK — lost, or dropped for a full accept queue — could come
 * past the cookie's life (128 to 192 s): it had no bytes to send (a
 * keepalive probe brings the cookie back) or its timers run 30 s or more
 * late — and every cookie the listener refused was one of its own past
 * its life (TCP_SYNCOOKIES_EXPIRED; a review showed that without this a
 * broken cookie check passed 1,131 of 30,000 apps seeds) or could pass
 * no check (misses: ACKs not at IRS + 1, families.c tally_cookie_misses;
 * 0 if not counted). RFC 4987 §3.6's price; Linux pays it too. */
int sim_cookie_outlived(struct fa_sim *sim, uint64_t seed, int accepted, uint64_t client_bytes,
                        uint64_t misses);
/* Prints each host's nonzero drop counters, one line a host ("client",
 * "server"): what a failing run's report shows. */
void sim_print_drops(struct fa_sim *sim);
/* "sack ts cubic" or what is off, for the description of a seed. */
const char *sim_tcp_options_name(unsigned opts, char *buf, size_t len);

/* 1 if family is "apps" or "attack". */
int family_known(const char *family);
/* One line on what tcp_mem_max budgets did in the runs so far. */
void family_budget_summary(char *out, size_t len);
/* The RTT oracle's counts (finack/sim.h fa_sim_check_rtt_stats): a
 * world's added before it is destroyed; the sweep's, as a line. */
void family_tally_rtt(const struct fa_sim *sim);
void family_rtt_summary(char *out, size_t len);
/* Runs one seed; prints what the seed drew if verbose. Returns 0, -1
 * with why filled in, or -ENOENT for an unknown family. */
int family_run(const char *family, uint64_t seed, int verbose, char *why, size_t why_len);

#endif
