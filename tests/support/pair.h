/* pair.h — two stacks joined by an in-memory link on a virtual clock,
 * optionally with a fault wrapper on each direction: the smallest
 * simulation, used by tests until the full simulator (issue 4). Every
 * TCP segment each stack sends is logged (header fields, not data), and
 * every TCP state change of each stack is recorded. */
#ifndef FA_TEST_PAIR_H
#define FA_TEST_PAIR_H

#include <finack/finack.h>

enum { SEG_LOG_MAX = 8192, TRACE_MAX = 256 };

struct seg_rec {
    fa_time t;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint32_t len; /* payload bytes */
};

struct state_rec {
    fa_time t;
    uint16_t lport, rport;
    int from, to;
};

struct pair;
struct pair_end {
    struct pair *pair;
    int side;
    struct fa_device next; /* the link (or fault wrapper) */
    size_t nsegs;
    struct seg_rec segs[SEG_LOG_MAX];
    size_t nstates;
    struct state_rec states[TRACE_MAX];
};

struct pair {
    fa_time now;
    struct fa_prng prng[2];
    struct fa_memlink *link;
    struct fa_fault *fault[2]; /* fault[i] sits on stack i's send path */
    struct fa_stack_sink sink[2];
    struct fa_stack *stack[2];
    uint32_t addr[2];
    uint64_t steps;
    struct pair_end end[2];
};

/* Stack 0 is 198.18.0.1, stack 1 is 198.18.0.2, both /24. fault may be
 * NULL (no faults); link may be NULL (defaults). tweak, if not NULL, may
 * change each stack's config before it is created. */
void pair_init_ex(struct pair *p, const struct fa_memlink_config *link,
                  const struct fa_fault_config *fault, uint64_t seed,
                  void (*tweak)(int side, struct fa_config *cfg));
void pair_init(struct pair *p, const struct fa_memlink_config *link,
               const struct fa_fault_config *fault, uint64_t seed);
void pair_destroy(struct pair *p);
/* Advances virtual time to until, running every event due on the way. */
void pair_run_until(struct pair *p, fa_time until);
void pair_run_for(struct pair *p, fa_time span);

/* Listens on stack 1 port, connects from stack 0, runs until both ends
 * are ESTABLISHED and the server side is accepted. Options set on the
 * sockets by setup(side, sock) before connect/listen, if given. */
void pair_connect(struct pair *p, uint16_t port, struct fa_tcp **client,
                  struct fa_tcp **server, struct fa_tcp **listener,
                  void (*setup)(int side, struct fa_tcp *sock));

/* Moves len bytes from src to dst through the stacks, reading as it goes,
 * until all arrived or the time limit passed; returns bytes received. */
size_t pair_transfer(struct pair *p, struct fa_tcp *src, struct fa_tcp *dst,
                     const uint8_t *data, size_t len, uint8_t *out,
                     fa_time limit);
/* Reads everything dst has; returns bytes read (stops at EOF/-EAGAIN). */
size_t pair_drain(struct pair *p, struct fa_tcp *dst, uint8_t *out, size_t cap);

/* The states of side's connection lport:rport (rport 0: a listener), in
 * order, as "A>B>C" in out; returns out. */
const char *pair_states(const struct pair *p, int side, uint16_t lport,
                        uint16_t rport, char *out, size_t cap);
/* Connections side's stack holds: all (live + TIME-WAIT), and how many of
 * them are compact TIME-WAIT entries. */
int pair_conns(const struct pair *p, int side, int *time_wait);
/* The local port of a socket. */
uint16_t sock_port(const struct fa_tcp *sock);
/* Number of logged segments from side with all bits of flags set. */
size_t pair_count_segs(const struct pair *p, int side, uint8_t flags);
/* The last logged segment from side with all bits of flags set. */
const struct seg_rec *pair_last_seg(const struct pair *p, int side, uint8_t flags);

#endif
